//! The test harness: a sandbox served on 127.0.0.1:0 under `/sandbox/zoom`, a client
//! that does not follow redirects, PKCE, and helpers for the OAuth steps; and a webhook
//! receiver standing in for Convene's `/webhooks/zoom`.

use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use convene_sandbox::{ZoomSandbox, ZoomSandboxConfig};
use hmac::{Hmac, Mac};
use rand::Rng;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;
use url::Url;

pub const CLIENT_ID: &str = "convene-client-id";
pub const CLIENT_SECRET: &str = "convene-client-secret";
pub const WEBHOOK_SECRET: &str = "zoom-secret-token";
pub const REDIRECT_URI: &str = "https://convene.test/connections/zoom/callback";

#[derive(Clone)]
pub struct Sandbox {
    /// `http://127.0.0.1:<port>/sandbox/zoom`
    pub base: String,
    pub zoom: ZoomSandbox,
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

pub async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    format!("http://{addr}")
}

pub async fn start() -> Sandbox {
    start_with(Duration::from_secs(3599), String::new()).await
}

pub async fn start_with(ttl: Duration, webhook_url: String) -> Sandbox {
    let zoom = ZoomSandbox::new(ZoomSandboxConfig {
        client_id: CLIENT_ID.into(),
        client_secret: CLIENT_SECRET.into(),
        webhook_url,
        webhook_secret: WEBHOOK_SECRET.into(),
        access_token_ttl: ttl,
    });
    let origin = serve(Router::new().nest("/sandbox/zoom", zoom.router())).await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    Sandbox {
        base: format!("{origin}/sandbox/zoom"),
        zoom,
        http,
    }
}

pub fn authorize_params(challenge: &str) -> Vec<(&'static str, String)> {
    vec![
        ("response_type", "code".into()),
        ("client_id", CLIENT_ID.into()),
        ("redirect_uri", REDIRECT_URI.into()),
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

    /// Posts the consent form as `account`.
    pub async fn authorize(&self, account: &str, challenge: &str) -> reqwest::Response {
        let mut form = authorize_params(challenge);
        form.push(("account", account.into()));
        self.http
            .post(self.url("/oauth/authorize"))
            .form(&form)
            .send()
            .await
            .unwrap()
    }

    /// A code for `account`, who must approve.
    pub async fn code_for(&self, account: &str, challenge: &str) -> String {
        let response = self.authorize(account, challenge).await;
        assert_eq!(response.status(), StatusCode::FOUND);
        let query = location_query(&response);
        assert_eq!(param(&query, "state").as_deref(), Some("state-123"));
        param(&query, "code").expect("a code")
    }

    pub async fn token(&self, form: &[(&str, &str)]) -> reqwest::Response {
        self.http
            .post(self.url("/oauth/token"))
            .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
            .form(form)
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

    pub async fn api(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> reqwest::Response {
        let mut request = self
            .http
            .request(method, self.url(&format!("/v2{path}")))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.unwrap()
    }

    pub async fn me(&self, token: &str) -> reqwest::Response {
        self.api(reqwest::Method::GET, "/users/me", token, None)
            .await
    }

    pub async fn create_meeting(&self, token: &str, user: &str, topic: &str) -> reqwest::Response {
        self.api(
            reqwest::Method::POST,
            &format!("/users/{user}/meetings"),
            token,
            Some(json!({
                "topic": topic,
                "type": 2,
                "start_time": "2026-12-01T15:00:00Z",
                "duration": 30,
                "timezone": "Europe/Paris",
                "agenda": "Demo of Convene",
                "settings": {"join_before_host": true}
            })),
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

/// A request the webhook receiver got.
pub struct Received {
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// A stand-in for Convene's `/webhooks/zoom`: records each request, answers the URL
/// validation challenge, and answers 200 (or `status`) otherwise. Returns its URL.
pub async fn webhook_receiver(status: StatusCode) -> (String, mpsc::UnboundedReceiver<Received>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let router = Router::new().route(
        "/webhooks/zoom",
        post(move |headers: HeaderMap, body: Bytes| {
            let tx = tx.clone();
            async move {
                let event: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                tx.send(Received {
                    headers,
                    body: body.clone(),
                })
                .unwrap();
                if event["event"] == "endpoint.url_validation" {
                    let plain = event["payload"]["plainToken"].as_str().unwrap_or_default();
                    let encrypted = hmac_hex(WEBHOOK_SECRET, plain.as_bytes());
                    return (
                        StatusCode::OK,
                        axum::Json(json!({"plainToken": plain, "encryptedToken": encrypted})),
                    );
                }
                (status, axum::Json(json!({})))
            }
        }),
    );
    let origin = serve(router).await;
    (format!("{origin}/webhooks/zoom"), rx)
}

pub fn hmac_hex(secret: &str, message: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(message);
    hex::encode(mac.finalize().into_bytes())
}
