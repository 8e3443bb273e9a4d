//! The test harness: a Microsoft sandbox served on 127.0.0.1:0 under
//! `/sandbox/microsoft`, a client that does not follow redirects, PKCE, and helpers
//! for the OAuth steps and Graph calls.

use std::time::Duration;

use axum::http::StatusCode;
use axum::Router;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use convene_sandbox::{MicrosoftSandbox, MicrosoftSandboxConfig};
use rand::Rng;
use serde_json::Value;
use sha2::{Digest, Sha256};
use url::Url;

pub const CLIENT_ID: &str = "convene-client-id";
pub const CLIENT_SECRET: &str = "convene-client-secret";
pub const REDIRECT_URI: &str = "https://convene.test/connections/microsoft/callback";
pub const SCOPE: &str =
    "openid profile email offline_access User.Read OnlineMeetings.ReadWrite Calendars.ReadWrite";
pub const MEGAN: &str = "megan@microsoft.sandbox";

#[derive(Clone)]
pub struct Sandbox {
    /// `http://127.0.0.1:<port>/sandbox/microsoft`
    pub base: String,
    pub ms: MicrosoftSandbox,
    pub http: reqwest::Client,
}

#[derive(Clone, Debug)]
pub struct Tokens {
    pub access: String,
    pub refresh: String,
}

pub struct Pkce {
    pub verifier: String,
    pub challenge: String,
}

pub fn pkce() -> Pkce {
    let bytes: [u8; 32] = rand::thread_rng().gen();
    let verifier = URL_SAFE_NO_PAD.encode(bytes);
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    Pkce {
        verifier,
        challenge,
    }
}

pub async fn start() -> Sandbox {
    start_with(Duration::from_secs(3599)).await
}

pub async fn start_with(ttl: Duration) -> Sandbox {
    let ms = MicrosoftSandbox::new(MicrosoftSandboxConfig {
        client_id: CLIENT_ID.into(),
        client_secret: CLIENT_SECRET.into(),
        access_token_ttl: ttl,
    });
    let router = Router::new().nest("/sandbox/microsoft", ms.router());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    Sandbox {
        base: format!("http://{addr}/sandbox/microsoft"),
        ms,
        http,
    }
}

pub fn authorize_params(challenge: &str) -> Vec<(&'static str, String)> {
    vec![
        ("client_id", CLIENT_ID.into()),
        ("response_type", "code".into()),
        ("redirect_uri", REDIRECT_URI.into()),
        ("response_mode", "query".into()),
        ("scope", SCOPE.into()),
        ("state", "state-123".into()),
        ("code_challenge", challenge.into()),
        ("code_challenge_method", "S256".into()),
    ]
}

/// The query parameters of a `Location` header.
pub fn location_query(response: &reqwest::Response) -> Vec<(String, String)> {
    let location = response.headers()["location"].to_str().unwrap();
    Url::parse(location)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

pub fn param(pairs: &[(String, String)], name: &str) -> Option<String> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
}

impl Sandbox {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Posts the consent form as `account`, with the given scope.
    pub async fn authorize_with_scope(
        &self,
        account: &str,
        challenge: &str,
        scope: &str,
    ) -> reqwest::Response {
        let mut form: Vec<(&str, String)> = authorize_params(challenge)
            .into_iter()
            .filter(|(k, _)| *k != "scope")
            .collect();
        form.push(("scope", scope.into()));
        form.push(("account", account.into()));
        self.http
            .post(self.url("/common/oauth2/v2.0/authorize"))
            .form(&form)
            .send()
            .await
            .unwrap()
    }

    pub async fn authorize(&self, account: &str, challenge: &str) -> reqwest::Response {
        self.authorize_with_scope(account, challenge, SCOPE).await
    }

    /// A code for `account`, who must approve.
    pub async fn code_for(&self, account: &str, challenge: &str) -> String {
        let response = self.authorize(account, challenge).await;
        assert_eq!(response.status(), StatusCode::FOUND);
        let query = location_query(&response);
        assert_eq!(param(&query, "state").as_deref(), Some("state-123"));
        param(&query, "code").expect("a code")
    }

    /// The token endpoint with the client credentials in the form, as Convene sends them.
    pub async fn token(&self, form: &[(&str, &str)]) -> reqwest::Response {
        let mut form = form.to_vec();
        form.extend([
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("scope", SCOPE),
        ]);
        self.http
            .post(self.url("/common/oauth2/v2.0/token"))
            .form(&form)
            .send()
            .await
            .unwrap()
    }

    pub async fn exchange(&self, code: &str, verifier: &str) -> reqwest::Response {
        self.token(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", verifier),
        ])
        .await
    }

    pub async fn refresh(&self, refresh_token: &str) -> reqwest::Response {
        self.token(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ])
        .await
    }

    /// Authorizes `account` and exchanges the code.
    pub async fn connect(&self, account: &str) -> Tokens {
        let pkce = pkce();
        let code = self.code_for(account, &pkce.challenge).await;
        let response = self.exchange(&code, &pkce.verifier).await;
        assert_eq!(response.status(), StatusCode::OK);
        tokens(response).await
    }

    /// A Graph call: `path` relative to `/v1.0`.
    pub async fn graph(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> reqwest::Response {
        let mut request = self
            .http
            .request(method, self.url(&format!("/v1.0{path}")))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.unwrap()
    }

    pub async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        json_of(self.graph(reqwest::Method::GET, path, token, None).await).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        json_of(
            self.graph(reqwest::Method::POST, path, token, Some(body))
                .await,
        )
        .await
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        json_of(
            self.graph(reqwest::Method::PATCH, path, token, Some(body))
                .await,
        )
        .await
    }

    pub async fn delete(&self, path: &str, token: &str) -> (StatusCode, Value) {
        json_of(self.graph(reqwest::Method::DELETE, path, token, None).await).await
    }

    /// The id of the user's default calendar.
    pub async fn default_calendar(&self, token: &str) -> String {
        let (_, calendars) = self.get("/me/calendars", token).await;
        calendars["value"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["isDefaultCalendar"] == true)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    pub async fn control(&self, path: &str, body: Value) -> reqwest::Response {
        self.http
            .post(self.url(&format!("/control/{path}")))
            .json(&body)
            .send()
            .await
            .unwrap()
    }
}

pub async fn tokens(response: reqwest::Response) -> Tokens {
    let body: Value = response.json().await.unwrap();
    Tokens {
        access: body["access_token"].as_str().unwrap().to_string(),
        refresh: body["refresh_token"].as_str().unwrap().to_string(),
    }
}

pub async fn json_of(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

/// A Graph event body as Convene's adapter writes one.
pub fn event_body(subject: &str, start: &str, end: &str, transaction_id: Option<&str>) -> Value {
    let mut body = serde_json::json!({
        "subject": subject,
        "body": {"contentType": "text", "content": "Join: https://teams.example/l/1"},
        "start": {"dateTime": start, "timeZone": "UTC"},
        "end": {"dateTime": end, "timeZone": "UTC"},
        "location": {"displayName": "https://teams.example/l/1"},
        "attendees": [{"emailAddress": {"address": "ada@example.com", "name": "Ada Lovelace"}, "type": "required"}],
    });
    if let Some(t) = transaction_id {
        body["transactionId"] = Value::String(t.into());
    }
    body
}
