//! Test support: [`TestApp`] spawns a real Convene on a random port with a database of
//! its own — SQLite in a temporary folder by default, or a fresh PostgreSQL database
//! when `CONVENE_TEST_POSTGRES` names a server (`postgres://postgres@127.0.0.1:5432`).
//!
//! Background workers are off: tests run queued jobs explicitly with
//! [`TestApp::run_jobs`], so nothing races and nothing sleeps.

use anyhow::Context;
use convene::config::{Config, JobsConfig, MailConfig, SmtpConfig};
use convene::startup::{Application, Overrides};
use convene_app::accounts::NewAdmin;
use convene_app::clock::ManualClock;
use convene_app::passwords::HashCost;
use convene_app::App;
use convene_domain::{Email, OrgName, Password, PersonName, TimeZoneName};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::sync::Arc;

pub const PASSWORD: &str = "correct horse battery staple";

/// Which database a test runs on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres(String),
}

impl Backend {
    pub fn from_env() -> Self {
        match std::env::var("CONVENE_TEST_POSTGRES") {
            Ok(url) if !url.is_empty() => Backend::Postgres(url.trim_end_matches('/').to_string()),
            _ => Backend::Sqlite,
        }
    }
}

pub struct TestAppBuilder {
    key_file: Option<std::path::PathBuf>,
    zoom_base: Option<String>,
    zoom_token_ttl_secs: u64,
    workers: usize,
    smtp_port: Option<u16>,
    backend: Backend,
    database_url: Option<String>,
}

impl TestAppBuilder {
    /// Run background job workers (for browser tests, which cannot call `run_jobs`).
    pub fn with_workers(mut self, n: usize) -> Self {
        self.workers = n;
        self
    }

    /// Deliver email by plain SMTP to this port on 127.0.0.1.
    pub fn with_smtp(mut self, port: u16) -> Self {
        self.smtp_port = Some(port);
        self
    }

    /// Talk to another instance's Zoom sandbox (two instances, one Zoom).
    pub fn with_zoom_sandbox_of(mut self, other: &TestApp) -> Self {
        self.zoom_base = Some(format!("{}/sandbox/zoom", other.url));
        self
    }

    /// The sandbox's access-token lifetime.
    pub fn with_zoom_token_ttl(mut self, secs: u64) -> Self {
        self.zoom_token_ttl_secs = secs;
        self
    }

    /// Share one database with another TestApp (two server instances).
    pub fn with_database_url(mut self, url: String) -> Self {
        self.database_url = Some(url);
        self
    }

    /// Share another instance's encryption key file, as instances of one deployment must.
    pub fn with_key_file_of(mut self, other: &TestApp) -> Self {
        self.key_file = Some(other.dir.path().join("secret.key"));
        self
    }

    pub async fn spawn(self) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let database_url = match (&self.database_url, &self.backend) {
            (Some(url), _) => Some(url.clone()),
            (None, Backend::Sqlite) => None,
            (None, Backend::Postgres(server)) => Some(
                create_pg_database(server)
                    .await
                    .expect("create test database"),
            ),
        };
        let config = Config {
            listen: "127.0.0.1:0".into(),
            data_dir: dir.path().to_path_buf(),
            database_url: database_url.clone(),
            database_max_connections: 8,
            jobs: JobsConfig {
                workers: self.workers,
                poll_interval_ms: 50,
            },
            mail: MailConfig {
                from: "Convene <no-reply@convene.test>".into(),
                smtp: self.smtp_port.map(|port| SmtpConfig {
                    host: "127.0.0.1".into(),
                    port,
                    security: "none".into(),
                    username: None,
                    password: None,
                }),
            },
            key_file: self.key_file.clone(),
            providers: convene::config::ProvidersConfig {
                zoom: convene::config::ZoomProviderConfig {
                    oauth_base_url: self.zoom_base.clone(),
                    api_base_url: self.zoom_base.clone(),
                    sandbox_token_ttl_secs: self.zoom_token_ttl_secs,
                    ..Default::default()
                },
                ..Default::default()
            },
            ..Config::default()
        };
        let clock = Arc::new(ManualClock::new(jiff::Timestamp::now()));
        let application = Application::build_with(
            &config,
            Overrides {
                clock: clock.clone(),
                password_hash: HashCost::Test,
            },
        )
        .await
        .expect("build application");
        let url = application.url();
        let app = application.app.clone();
        let zoom = application.zoom_sandbox.clone();
        let google = application.google_sandbox.clone();
        let microsoft = application.microsoft_sandbox.clone();
        let handle = application.spawn();
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        TestApp {
            url,
            app,
            client,
            clock,
            dir,
            database_url,
            zoom,
            google,
            microsoft,
            _server: handle,
        }
    }
}

async fn create_pg_database(server: &str) -> anyhow::Result<String> {
    use sqlx::Connection;
    let name = format!("convene_test_{}", uuid::Uuid::now_v7().simple());
    let mut conn = sqlx::PgConnection::connect(&format!("{server}/postgres"))
        .await
        .context("connecting to PostgreSQL")?;
    sqlx::Executor::execute(&mut conn, format!("CREATE DATABASE {name}").as_str()).await?;
    Ok(format!("{server}/{name}"))
}

pub struct TestApp {
    pub url: String,
    pub app: App,
    /// A client that does not follow redirects (tests look at them).
    pub client: reqwest::Client,
    pub clock: Arc<ManualClock>,
    pub dir: tempfile::TempDir,
    pub database_url: Option<String>,
    /// This instance's Zoom sandbox.
    pub zoom: Option<convene_sandbox::ZoomSandbox>,
    /// This instance's Google and Microsoft sandboxes.
    pub google: Option<convene_sandbox::GoogleSandbox>,
    pub microsoft: Option<convene_sandbox::MicrosoftSandbox>,
    _server: tokio::task::JoinHandle<anyhow::Result<()>>,
}

/// An org with its first admin and an API key acting as that admin.
pub struct TestOrg {
    pub slug: String,
    pub admin_email: String,
    pub admin_id: String,
    pub key: String,
}

impl TestApp {
    pub fn builder() -> TestAppBuilder {
        TestAppBuilder {
            key_file: None,
            zoom_base: None,
            zoom_token_ttl_secs: 3599,
            workers: 0,
            smtp_port: None,
            backend: Backend::from_env(),
            database_url: None,
        }
    }

    pub async fn spawn() -> TestApp {
        Self::builder().spawn().await
    }

    /// Creates an org and its admin through the CLI's use case, plus an API key.
    pub async fn create_org(&self, name: &str) -> TestOrg {
        let slug = convene_domain::OrgSlug::from_name(name)
            .expect("slug")
            .as_str()
            .to_string();
        let admin_email = format!("admin@{slug}.example");
        let (_, user) = self
            .app
            .create_admin(NewAdmin {
                org_name: OrgName::parse(name).expect("org name"),
                org_slug: None,
                email: Email::parse(&admin_email).expect("email"),
                name: PersonName::parse("Ada Admin").expect("name"),
                password: Password::parse(PASSWORD).expect("password"),
                time_zone: TimeZoneName::parse("Europe/Paris").expect("tz"),
            })
            .await
            .expect("create admin");
        let key = self
            .app
            .create_api_key_for(&slug, &admin_email, "test")
            .await
            .expect("api key")
            .key;
        TestOrg {
            slug,
            admin_email,
            admin_id: user.id.to_string(),
            key,
        }
    }

    /// Runs every due job now.
    pub async fn run_jobs(&self) -> usize {
        convene_app::jobs::runner::run_pending(&self.app)
            .await
            .expect("run jobs")
    }

    pub fn api(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.url)
    }

    pub async fn get(&self, key: &str, path: &str) -> (StatusCode, Value) {
        let r = self
            .client
            .get(self.api(path))
            .bearer_auth(key)
            .send()
            .await
            .expect("request");
        split(r).await
    }

    pub async fn post(&self, key: &str, path: &str, body: Value) -> (StatusCode, Value) {
        let r = self
            .client
            .post(self.api(path))
            .bearer_auth(key)
            .json(&body)
            .send()
            .await
            .expect("request");
        split(r).await
    }

    pub async fn patch(&self, key: &str, path: &str, body: Value) -> (StatusCode, Value) {
        let r = self
            .client
            .patch(self.api(path))
            .bearer_auth(key)
            .json(&body)
            .send()
            .await
            .expect("request");
        split(r).await
    }

    pub async fn put(&self, key: &str, path: &str) -> (StatusCode, Value) {
        let r = self
            .client
            .put(self.api(path))
            .bearer_auth(key)
            .send()
            .await
            .expect("request");
        split(r).await
    }

    pub async fn delete(&self, key: &str, path: &str) -> (StatusCode, Value) {
        let r = self
            .client
            .delete(self.api(path))
            .bearer_auth(key)
            .send()
            .await
            .expect("request");
        split(r).await
    }

    /// Invites addresses with a role; returns the response body.
    pub async fn invite(&self, key: &str, emails: &str, role: &str) -> Value {
        let (status, body) = self
            .post(key, "/invitations", json!({"emails": emails, "role": role}))
            .await;
        assert_eq!(status, StatusCode::OK, "invite failed: {body}");
        body
    }

    /// The newest outbox message to `to`, after running queued jobs.
    pub async fn last_email_to(&self, key: &str, to: &str) -> Value {
        self.run_jobs().await;
        let (status, body) = self.get(key, &format!("/outbox?to={to}")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body.as_array()
            .and_then(|a| a.first())
            .cloned()
            .unwrap_or_else(|| panic!("no email to {to}"))
    }

    /// Pulls the join link out of the newest invitation email to `to`.
    pub async fn join_link(&self, key: &str, to: &str) -> String {
        let mail = self.last_email_to(key, to).await;
        let text = mail["text"].as_str().expect("text").to_string();
        extract_link(&text, "/join/").unwrap_or_else(|| panic!("no join link in {text}"))
    }

    /// Accepts an invitation through the web form; returns the session cookie value.
    pub async fn join(&self, link: &str, name: &str) -> String {
        let (csrf_cookie, csrf) = self.anon_csrf(link).await;
        let r = self
            .client
            .post(link)
            .header("cookie", format!("convene_csrf={csrf_cookie}"))
            .form(&[
                ("_csrf", csrf.as_str()),
                ("name", name),
                ("password", PASSWORD),
                ("time_zone", "America/New_York"),
            ])
            .send()
            .await
            .expect("join");
        assert_eq!(
            r.status(),
            StatusCode::SEE_OTHER,
            "join failed: {}",
            r.text().await.unwrap_or_default()
        );
        session_from(&r).expect("session cookie")
    }

    /// GETs an anonymous form page; returns its CSRF cookie and field value.
    pub async fn anon_csrf(&self, page: &str) -> (String, String) {
        let r = self.client.get(page).send().await.expect("get form");
        let cookie = r
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|c| {
                c.strip_prefix("convene_csrf=")
                    .map(|v| v.split(';').next().unwrap_or("").to_string())
            })
            .expect("csrf cookie");
        let html = r.text().await.expect("body");
        (cookie, csrf_field(&html).expect("csrf field"))
    }

    /// Signs in through the web form; returns the session cookie value.
    pub async fn login(&self, email: &str, password: &str) -> Option<String> {
        let (cookie, csrf) = self.anon_csrf(&format!("{}/login", self.url)).await;
        let r = self
            .client
            .post(format!("{}/login", self.url))
            .header("cookie", format!("convene_csrf={cookie}"))
            .form(&[
                ("_csrf", csrf.as_str()),
                ("email", email),
                ("password", password),
            ])
            .send()
            .await
            .expect("login");
        session_from(&r)
    }

    /// A GET with a session cookie; returns status, Location and body.
    pub async fn page(&self, session: &str, path: &str) -> (StatusCode, Option<String>, String) {
        let r = self
            .client
            .get(format!("{}{path}", self.url))
            .header("cookie", format!("convene_session={session}"))
            .send()
            .await
            .expect("page");
        let status = r.status();
        let loc = r
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        (status, loc, r.text().await.unwrap_or_default())
    }

    /// A form POST with a session cookie.
    pub async fn form(
        &self,
        session: &str,
        path: &str,
        fields: &[(&str, &str)],
    ) -> (StatusCode, Option<String>, String) {
        let r = self
            .client
            .post(format!("{}{path}", self.url))
            .header("cookie", format!("convene_session={session}"))
            .form(fields)
            .send()
            .await
            .expect("form");
        let status = r.status();
        let loc = r
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        (status, loc, r.text().await.unwrap_or_default())
    }

    /// The CSRF token of a signed-in page.
    pub async fn session_csrf(&self, session: &str) -> String {
        let (_, _, html) = self.page(session, "/settings/profile").await;
        csrf_field(&html).expect("csrf on profile page")
    }

    /// Makes an active user of the org with `role`: invited, joined through the web
    /// form, and given an API key (made the operator's way, so any role can have one).
    pub async fn member(&self, org: &TestOrg, email: &str, role: &str) -> Member {
        let body = self.invite(&org.key, email, role).await;
        let id = body["invited"][0]["user_id"]
            .as_str()
            .expect("invited id")
            .to_string();
        let link = self.join_link(&org.key, email).await;
        let session = self.join(&link, "Test Member").await;
        let key = self
            .app
            .create_api_key_for(&org.slug, email, "test")
            .await
            .expect("member key")
            .key;
        Member {
            id,
            session,
            key,
            email: email.to_string(),
        }
    }
}

/// A joined user of a test org.
pub struct Member {
    pub id: String,
    pub session: String,
    pub key: String,
    pub email: String,
}

impl TestApp {
    pub fn sandbox(&self) -> &convene_sandbox::ZoomSandbox {
        self.zoom
            .as_ref()
            .expect("this instance runs the Zoom sandbox")
    }

    /// Runs "Connect with Zoom" for a signed-in user as the sandbox account `account`,
    /// the way a browser would: Convene's connect form, the sandbox consent, the
    /// callback. Returns the callback's status, Location and body.
    pub async fn connect_zoom(
        &self,
        session: &str,
        account: &str,
    ) -> (StatusCode, Option<String>, String) {
        let csrf = self.session_csrf(session).await;
        let (status, authorize, body) = self
            .form(
                session,
                "/settings/profile/conferencing/zoom/connect",
                &[("_csrf", &csrf)],
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "connect: {body}");
        let authorize = authorize.expect("authorize URL");
        let callback = self.consent(&authorize, account).await;
        let callback_path = callback
            .strip_prefix(&self.url)
            .unwrap_or(&callback)
            .to_string();
        self.page(session, &callback_path).await
    }

    /// Answers the sandbox consent page for `authorize` as `account`; returns the
    /// callback URL the sandbox redirects to.
    pub async fn consent(&self, authorize: &str, account: &str) -> String {
        let r = self
            .client
            .post(authorize)
            .form(&[("account", account)])
            .send()
            .await
            .expect("consent");
        assert!(
            r.status().is_redirection(),
            "consent answered {}: {}",
            r.status(),
            r.text().await.unwrap_or_default()
        );
        r.headers()["location"]
            .to_str()
            .expect("location")
            .to_string()
    }
}

async fn split(r: reqwest::Response) -> (StatusCode, Value) {
    let status = r.status();
    let text = r.text().await.unwrap_or_default();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, body)
}

pub fn session_from(r: &reqwest::Response) -> Option<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| {
            c.strip_prefix("convene_session=")
                .map(|v| v.split(';').next().unwrap_or("").to_string())
        })
        .filter(|v| !v.is_empty())
}

pub fn csrf_field(html: &str) -> Option<String> {
    let at = html.find("name=\"_csrf\" value=\"")?;
    let rest = &html[at + "name=\"_csrf\" value=\"".len()..];
    Some(rest[..rest.find('"')?].to_string())
}

pub fn extract_link(text: &str, marker: &str) -> Option<String> {
    text.split_whitespace()
        .find(|w| w.contains(marker) && w.starts_with("http"))
        .map(|w| w.trim_end_matches(['.', ',']).to_string())
}
