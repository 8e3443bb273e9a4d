//! The test harness: a Google sandbox served on 127.0.0.1:0 under `/sandbox/google`, a
//! client that does not follow redirects, PKCE, and helpers for the OAuth steps and
//! the Calendar API.

use std::time::Duration;

use axum::http::StatusCode;
use axum::Router;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use convene_sandbox::{GoogleSandbox, GoogleSandboxConfig};
use rand::Rng;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use url::Url;

pub const CLIENT_ID: &str = "convene-google-client.apps.googleusercontent.com";
pub const CLIENT_SECRET: &str = "GOCSPX-convene-secret";
pub const REDIRECT_URI: &str = "https://convene.test/connections/google/callback";
/// What Convene asks for.
pub const SCOPE: &str = "openid email https://www.googleapis.com/auth/calendar.events https://www.googleapis.com/auth/calendar.readonly";

#[derive(Clone)]
pub struct Sandbox {
    /// `http://127.0.0.1:<port>/sandbox/google`
    pub base: String,
    pub google: GoogleSandbox,
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
    let google = GoogleSandbox::new(GoogleSandboxConfig {
        client_id: CLIENT_ID.into(),
        client_secret: CLIENT_SECRET.into(),
        access_token_ttl: ttl,
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = Router::new().nest("/sandbox/google", google.router());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    Sandbox {
        base: format!("http://{addr}/sandbox/google"),
        google,
        http,
    }
}

pub fn authorize_params(challenge: &str) -> Vec<(&'static str, String)> {
    vec![
        ("response_type", "code".into()),
        ("client_id", CLIENT_ID.into()),
        ("redirect_uri", REDIRECT_URI.into()),
        ("scope", SCOPE.into()),
        ("access_type", "offline".into()),
        ("prompt", "consent".into()),
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

pub async fn json_of(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

/// The `reason` of a Calendar API error body.
pub fn reason(body: &Value) -> &str {
    body["error"]["errors"][0]["reason"].as_str().unwrap_or("")
}

/// A calendar id as one path segment (`#` and `@` encoded).
pub fn segment(id: &str) -> String {
    url::form_urlencoded::byte_serialize(id.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

impl Sandbox {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Posts the consent form as `account`, with `params` as the authorize request.
    pub async fn authorize_with(
        &self,
        params: Vec<(&'static str, String)>,
        account: &str,
    ) -> reqwest::Response {
        let mut form = params;
        form.push(("account", account.into()));
        self.http
            .post(self.url("/o/oauth2/v2/auth"))
            .form(&form)
            .send()
            .await
            .unwrap()
    }

    pub async fn authorize(&self, account: &str, challenge: &str) -> reqwest::Response {
        self.authorize_with(authorize_params(challenge), account)
            .await
    }

    /// A code for `account`, who must approve.
    pub async fn code_for(&self, account: &str, challenge: &str) -> String {
        let response = self.authorize(account, challenge).await;
        assert_eq!(response.status(), StatusCode::FOUND);
        let query = location_query(&response);
        assert_eq!(param(&query, "state").as_deref(), Some("state-123"));
        param(&query, "code").expect("a code")
    }

    /// `POST /token` with the client credentials in the form, as Google documents.
    pub async fn token(&self, form: &[(&str, &str)]) -> reqwest::Response {
        let mut fields = vec![("client_id", CLIENT_ID), ("client_secret", CLIENT_SECRET)];
        fields.extend_from_slice(form);
        self.http
            .post(self.url("/token"))
            .form(&fields)
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
        let (status, body) = json_of(self.exchange(&code, &pkce.verifier).await).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        Tokens {
            access: body["access_token"].as_str().unwrap().to_string(),
            refresh: body["refresh_token"].as_str().unwrap().to_string(),
        }
    }

    /// A request to the API base (`/calendar/v3/...`, `/oauth2/v3/userinfo`).
    pub async fn api(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> reqwest::Response {
        let mut request = self.http.request(method, self.url(path)).bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.unwrap()
    }

    pub async fn userinfo(&self, token: &str) -> reqwest::Response {
        self.api(reqwest::Method::GET, "/oauth2/v3/userinfo", token, None)
            .await
    }

    pub async fn free_busy(&self, token: &str, body: Value) -> reqwest::Response {
        self.api(
            reqwest::Method::POST,
            "/calendar/v3/freeBusy",
            token,
            Some(body),
        )
        .await
    }

    pub async fn insert_event(
        &self,
        token: &str,
        calendar: &str,
        body: Value,
    ) -> reqwest::Response {
        self.api(
            reqwest::Method::POST,
            &format!("/calendar/v3/calendars/{}/events", segment(calendar)),
            token,
            Some(body),
        )
        .await
    }

    pub async fn event(
        &self,
        method: reqwest::Method,
        token: &str,
        calendar: &str,
        id: &str,
        body: Option<Value>,
    ) -> reqwest::Response {
        self.api(
            method,
            &format!("/calendar/v3/calendars/{}/events/{id}", segment(calendar)),
            token,
            body,
        )
        .await
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

/// An event body as Convene sends it.
pub fn event_body(id: &str, start: &str, end: &str) -> Value {
    json!({
        "id": id,
        "summary": "Intro call with Ada",
        "description": "Join: https://zoom.sandbox/j/1",
        "location": "https://zoom.sandbox/j/1",
        "start": {"dateTime": start},
        "end": {"dateTime": end},
        "attendees": [{"email": "ada@example.com", "displayName": "Ada Lovelace"}],
    })
}
