//! The Zoom adapter against a small scripted HTTP server (axum on 127.0.0.1:0) that
//! answers with canned Zoom responses and records what it was sent. The server knows
//! nothing of the adapter; the expectations come from providers.md.

#![allow(clippy::unwrap_used)] // helpers outside #[test] fns unwrap too; a panic is a test failure

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Router;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use convene_providers::http::{HttpClient, HttpConfig};
use convene_providers::zoom::{MeetingRequest, ZoomClient, ZoomConfig};
use convene_providers::{Pkce, ProviderError, Secret};
use jiff::Timestamp;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

// ---------------------------------------------------------------- test server

#[derive(Clone)]
struct Canned {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: String,
    delay: Duration,
}

fn reply(status: u16, body: &str) -> Canned {
    Canned {
        status,
        headers: vec![("content-type", "application/json".into())],
        body: body.into(),
        delay: Duration::ZERO,
    }
}

impl Canned {
    fn header(mut self, name: &'static str, value: &str) -> Self {
        self.headers.push((name, value.into()));
        self
    }
    fn after(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

#[derive(Debug, Clone)]
struct Recorded {
    method: String,
    path: String,
    query: Option<String>,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Recorded {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
    fn form(&self) -> HashMap<String, String> {
        url::form_urlencoded::parse(&self.body)
            .into_owned()
            .collect()
    }
    fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

#[derive(Default)]
struct Script {
    /// "METHOD /path" → responses in order; the last one repeats.
    replies: Mutex<HashMap<String, VecDeque<Canned>>>,
    seen: Mutex<Vec<Recorded>>,
}

struct TestServer {
    base: String,
    script: Arc<Script>,
}

/// The base URL has a path prefix, as a real deployment's might.
const PREFIX: &str = "/zoomish";

impl TestServer {
    async fn start() -> Self {
        let script = Arc::new(Script::default());
        let app = Router::new().fallback(answer).with_state(script.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self {
            base: format!("http://{addr}{PREFIX}"),
            script,
        }
    }

    fn on(&self, method: &str, path: &str, replies: Vec<Canned>) {
        let key = format!("{method} {PREFIX}{path}");
        self.script
            .replies
            .lock()
            .unwrap()
            .insert(key, replies.into());
    }

    fn seen(&self, method: &str, path: &str) -> Vec<Recorded> {
        let full = format!("{PREFIX}{path}");
        self.script
            .seen
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.method == method && r.path == full)
            .cloned()
            .collect()
    }

    fn client(&self) -> ZoomClient {
        self.client_with(HttpConfig::default())
    }

    fn client_with(&self, http: HttpConfig) -> ZoomClient {
        let http = HttpClient::new(http)
            .unwrap()
            .with_clock(|| Timestamp::from_second(1_800_000_000).unwrap());
        ZoomClient::new(
            ZoomConfig {
                client_id: "client-id".into(),
                client_secret: Secret::from("client-secret"),
                oauth_base_url: self.base.clone(),
                api_base_url: format!("{}/", self.base),
                redirect_uri: "https://convene.example/connections/zoom/callback".into(),
                webhook_secret: Secret::from("whsec"),
            },
            http,
        )
    }
}

async fn answer(State(script): State<Arc<Script>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = to_bytes(body, usize::MAX).await.unwrap().to_vec();
    let key = format!("{} {}", parts.method, parts.uri.path());
    script.seen.lock().unwrap().push(Recorded {
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        headers: parts.headers,
        body,
    });
    let canned = {
        let mut replies = script.replies.lock().unwrap();
        match replies.get_mut(&key) {
            Some(queue) if queue.len() > 1 => queue.pop_front(),
            Some(queue) => queue.front().cloned(),
            None => None,
        }
    };
    let Some(canned) = canned else {
        return Response::builder()
            .status(418)
            .body(Body::from(format!("nothing scripted for {key}")))
            .unwrap();
    };
    tokio::time::sleep(canned.delay).await;
    let mut response = Response::builder().status(StatusCode::from_u16(canned.status).unwrap());
    for (name, value) in &canned.headers {
        response = response.header(*name, value);
    }
    response.body(Body::from(canned.body)).unwrap()
}

const NOW: i64 = 1_800_000_000;

fn meeting_request() -> MeetingRequest {
    MeetingRequest {
        topic: "Intro call with Ada".into(),
        start: "2026-12-01T15:00:00Z".parse().unwrap(),
        duration_minutes: 30,
        timezone: "Europe/Berlin".into(),
        agenda: Some("Say hello".into()),
    }
}

const MEETING_JSON: &str = r#"{"uuid":"iHrbB3XKR1eVxPqFNAJ0vQ==","id":85746065432,"host_id":"KdYKjnimT4KPd8FFgQt9FQ","topic":"Intro call with Ada","type":2,"start_time":"2026-12-01T15:00:00Z","duration":30,"timezone":"Europe/Berlin","agenda":"Say hello","created_at":"2026-11-01T10:00:00Z","start_url":"https://zoom.us/s/85746065432?zak=eyJ0","join_url":"https://zoom.us/j/85746065432?pwd=abc","password":"8xR2Qe"}"#;
const TOKEN_124: &str = r#"{"code":124,"message":"Invalid access token."}"#;
const MEETING_3001: &str =
    r#"{"code":3001,"message":"Meeting 85746065432 is not found or has expired."}"#;

fn access() -> Secret {
    Secret::from("access-1")
}

// ---------------------------------------------------------------- OAuth

#[tokio::test]
async fn authorize_url_carries_everything_encoded() {
    let server = TestServer::start().await;
    let pkce = Pkce::generate();
    let state = "s t&a=te/é?";
    let url = url::Url::parse(&server.client().authorize_url(state, &pkce)).unwrap();
    assert_eq!(url.path(), format!("{PREFIX}/oauth/authorize"));
    let q: HashMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(q.len(), 6, "{q:?}");
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["client_id"], "client-id");
    assert_eq!(
        q["redirect_uri"],
        "https://convene.example/connections/zoom/callback"
    );
    assert_eq!(q["state"], state);
    assert_eq!(q["code_challenge"], pkce.challenge);
    assert_eq!(q["code_challenge_method"], "S256");
    // The verifier never goes to the browser.
    assert!(!url.as_str().contains(pkce.verifier.expose()));
}

#[tokio::test]
async fn code_exchange_sends_basic_auth_and_the_verifier() {
    let server = TestServer::start().await;
    server.on(
        "POST",
        "/oauth/token",
        vec![reply(200, r#"{"access_token":"at-1","token_type":"bearer","refresh_token":"rt-1","expires_in":3599,"scope":"meeting:write user:read"}"#)],
    );
    let tokens = server
        .client()
        .exchange_code("the-code", &Secret::from("the-verifier"))
        .await
        .unwrap();
    assert_eq!(tokens.access_token.expose(), "at-1");
    assert_eq!(
        tokens.refresh_token.as_ref().map(Secret::expose),
        Some("rt-1")
    );
    assert_eq!(
        tokens.expires_at,
        Timestamp::from_second(NOW + 3599).unwrap()
    );
    assert_eq!(tokens.scope.as_deref(), Some("meeting:write user:read"));
    // The token set never prints its tokens.
    let printed = format!("{tokens:?}");
    assert!(
        !printed.contains("at-1") && !printed.contains("rt-1"),
        "{printed}"
    );

    let seen = server.seen("POST", "/oauth/token");
    assert_eq!(seen.len(), 1);
    let r = &seen[0];
    assert_eq!(
        r.header("authorization"),
        format!("Basic {}", STANDARD.encode("client-id:client-secret"))
    );
    assert_eq!(
        r.header("content-type"),
        "application/x-www-form-urlencoded"
    );
    assert!(r.header("user-agent").starts_with("convene/"));
    let form = r.form();
    assert_eq!(form["grant_type"], "authorization_code");
    assert_eq!(form["code"], "the-code");
    assert_eq!(
        form["redirect_uri"],
        "https://convene.example/connections/zoom/callback"
    );
    assert_eq!(form["code_verifier"], "the-verifier");
    assert_eq!(form.len(), 4);
}

#[tokio::test]
async fn refresh_returns_the_rotated_refresh_token() {
    let server = TestServer::start().await;
    server.on(
        "POST",
        "/oauth/token",
        vec![reply(200, r#"{"access_token":"at-2","token_type":"bearer","refresh_token":"rt-2","expires_in":3599,"scope":"meeting:write"}"#)],
    );
    let tokens = server
        .client()
        .refresh(&Secret::from("rt-1"))
        .await
        .unwrap();
    assert_eq!(tokens.access_token.expose(), "at-2");
    assert_eq!(tokens.refresh_token.unwrap().expose(), "rt-2");
    let seen = server.seen("POST", "/oauth/token");
    assert_eq!(seen.len(), 1);
    let form = seen[0].form();
    assert_eq!(form["grant_type"], "refresh_token");
    assert_eq!(form["refresh_token"], "rt-1");
    assert!(seen[0].header("authorization").starts_with("Basic "));
}

#[tokio::test]
async fn refresh_with_a_dead_token_needs_reauth_and_is_sent_once() {
    let server = TestServer::start().await;
    server.on(
        "POST",
        "/oauth/token",
        vec![reply(
            400,
            r#"{"reason":"Invalid Token!","error":"invalid_grant"}"#,
        )],
    );
    match server.client().refresh(&Secret::from("rt-old")).await {
        Err(ProviderError::NeedsReauth { reason }) => assert_eq!(reason, "Invalid Token!"),
        other => panic!("{other:?}"),
    }
    assert_eq!(server.seen("POST", "/oauth/token").len(), 1);
}

#[tokio::test]
async fn a_failing_refresh_is_never_repeated() {
    let server = TestServer::start().await;
    server.on(
        "POST",
        "/oauth/token",
        vec![reply(503, "").header("retry-after", "0")],
    );
    assert!(matches!(
        server.client().refresh(&Secret::from("rt-1")).await,
        Err(ProviderError::Transient(_))
    ));
    assert_eq!(server.seen("POST", "/oauth/token").len(), 1);

    server.on(
        "POST",
        "/oauth/token",
        vec![reply(429, "").header("retry-after", "0")],
    );
    assert!(matches!(
        server.client().refresh(&Secret::from("rt-1")).await,
        Err(ProviderError::RateLimited { retry_after: Some(d) }) if d.is_zero()
    ));
    assert_eq!(server.seen("POST", "/oauth/token").len(), 2);
}

#[tokio::test]
async fn bad_client_credentials_are_rejected() {
    let server = TestServer::start().await;
    server.on(
        "POST",
        "/oauth/token",
        vec![reply(
            401,
            r#"{"reason":"Invalid client_id or client_secret","error":"invalid_client"}"#,
        )],
    );
    match server.client().exchange_code("c", &Secret::from("v")).await {
        Err(ProviderError::Rejected {
            status,
            code,
            message,
        }) => {
            assert_eq!((status, code.as_str()), (401, "invalid_client"));
            assert_eq!(message, "Invalid client_id or client_secret");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn revoke_puts_the_token_in_the_query_with_basic_auth() {
    let server = TestServer::start().await;
    server.on(
        "POST",
        "/oauth/revoke",
        vec![reply(200, r#"{"status":"success"}"#)],
    );
    server
        .client()
        .revoke(&Secret::from("rt/1+="))
        .await
        .unwrap();
    let seen = server.seen("POST", "/oauth/revoke");
    assert_eq!(seen.len(), 1);
    let q: HashMap<String, String> =
        url::form_urlencoded::parse(seen[0].query.as_deref().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    assert_eq!(q["token"], "rt/1+=");
    assert_eq!(
        seen[0].header("authorization"),
        format!("Basic {}", STANDARD.encode("client-id:client-secret"))
    );
}

#[tokio::test]
async fn errors_never_quote_the_token() {
    let server = TestServer::start().await;
    server.on(
        "POST",
        "/oauth/revoke",
        vec![reply(200, "{}").after(Duration::from_secs(2))],
    );
    let client = server.client_with(HttpConfig {
        request_timeout: Duration::from_millis(200),
        ..HttpConfig::default()
    });
    let err = client
        .revoke(&Secret::from("SUPER-SECRET-TOKEN"))
        .await
        .unwrap_err();
    assert!(matches!(err, ProviderError::Transient(_)), "{err:?}");
    let text = format!("{err} {err:?}");
    assert!(!text.contains("SUPER-SECRET-TOKEN"), "{text}");
    assert!(text.contains("timed out"), "{text}");
}

// ---------------------------------------------------------------- API

#[tokio::test]
async fn me_reads_the_user() {
    let server = TestServer::start().await;
    server.on(
        "GET",
        "/v2/users/me",
        vec![reply(200, r#"{"id":"KdYKjnimT4KPd8FFgQt9FQ","first_name":"Ada","last_name":"Lovelace","email":"ada@example.com","type":2,"role_name":"Owner","pmi":1234567890,"timezone":"Europe/London","account_id":"Q6ar9GNiQ9yK4gQzh7GZqA","status":"active"}"#)],
    );
    let user = server.client().me(&access()).await.unwrap();
    assert_eq!(user.id, "KdYKjnimT4KPd8FFgQt9FQ");
    assert_eq!(user.account_id, "Q6ar9GNiQ9yK4gQzh7GZqA");
    assert_eq!(user.email, "ada@example.com");
    assert_eq!(
        (user.first_name.as_str(), user.last_name.as_str()),
        ("Ada", "Lovelace")
    );
    assert_eq!(user.role_name.as_deref(), Some("Owner"));
    assert_eq!(user.timezone.as_deref(), Some("Europe/London"));
    assert_eq!(
        server.seen("GET", "/v2/users/me")[0].header("authorization"),
        "Bearer access-1"
    );
}

#[tokio::test]
async fn an_expired_access_token_is_unauthorized() {
    let server = TestServer::start().await;
    server.on("GET", "/v2/users/me", vec![reply(401, TOKEN_124)]);
    assert!(matches!(
        server.client().me(&access()).await,
        Err(ProviderError::Unauthorized)
    ));
    // Not retried: it needs a refresh first.
    assert_eq!(server.seen("GET", "/v2/users/me").len(), 1);
}

#[tokio::test]
async fn create_meeting_sends_a_scheduled_meeting_and_reads_a_numeric_id() {
    let server = TestServer::start().await;
    server.on(
        "POST",
        "/v2/users/me/meetings",
        vec![reply(201, MEETING_JSON)],
    );
    let meeting = server
        .client()
        .create_meeting(&access(), "me", &meeting_request())
        .await
        .unwrap();
    assert_eq!(meeting.id, "85746065432");
    assert_eq!(meeting.join_url, "https://zoom.us/j/85746065432?pwd=abc");
    assert_eq!(
        meeting.start_url.as_deref(),
        Some("https://zoom.us/s/85746065432?zak=eyJ0")
    );
    assert_eq!(meeting.password.as_deref(), Some("8xR2Qe"));
    assert_eq!(meeting.start, Some("2026-12-01T15:00:00Z".parse().unwrap()));
    assert_eq!(meeting.duration_minutes, Some(30));
    assert_eq!(meeting.topic.as_deref(), Some("Intro call with Ada"));
    assert_eq!(meeting.agenda.as_deref(), Some("Say hello"));

    let seen = server.seen("POST", "/v2/users/me/meetings");
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].header("authorization"), "Bearer access-1");
    assert_eq!(seen[0].header("content-type"), "application/json");
    assert_eq!(
        seen[0].json(),
        serde_json::json!({"topic":"Intro call with Ada","type":2,"start_time":"2026-12-01T15:00:00Z","duration":30,"timezone":"Europe/Berlin","agenda":"Say hello"})
    );
}

#[tokio::test]
async fn create_meeting_for_another_user_encodes_the_id() {
    let server = TestServer::start().await;
    server.on(
        "POST",
        "/v2/users/ada@example.com/meetings",
        vec![reply(201, MEETING_JSON)],
    );
    server
        .client()
        .create_meeting(&access(), "ada@example.com", &meeting_request())
        .await
        .unwrap();
    server.on(
        "POST",
        "/v2/users/1001-user/meetings",
        vec![reply(
            404,
            r#"{"code":1001,"message":"User does not exist: x"}"#,
        )],
    );
    assert!(matches!(
        server
            .client()
            .create_meeting(&access(), "1001-user", &meeting_request())
            .await,
        Err(ProviderError::NotFound {
            code: Some(1001),
            ..
        })
    ));
}

#[tokio::test]
async fn a_string_meeting_id_is_accepted_too() {
    let server = TestServer::start().await;
    server.on(
        "GET",
        "/v2/meetings/123",
        vec![reply(
            200,
            r#"{"id":"123","join_url":"https://zoom.us/j/123"}"#,
        )],
    );
    let m = server.client().get_meeting(&access(), "123").await.unwrap();
    assert_eq!(m.id, "123");
    assert_eq!((m.start, m.password, m.start_url), (None, None, None));
    assert_eq!(m.agenda, None);
}

#[tokio::test]
async fn update_and_delete_expect_no_content() {
    let server = TestServer::start().await;
    server.on("PATCH", "/v2/meetings/85746065432", vec![reply(204, "")]);
    server.on("DELETE", "/v2/meetings/85746065432", vec![reply(204, "")]);
    let client = server.client();
    client
        .update_meeting(&access(), "85746065432", &meeting_request())
        .await
        .unwrap();
    client
        .delete_meeting(&access(), "85746065432")
        .await
        .unwrap();
    let patch = &server.seen("PATCH", "/v2/meetings/85746065432")[0];
    assert_eq!(patch.json()["start_time"], "2026-12-01T15:00:00Z");
    assert_eq!(patch.json()["type"], 2);
    assert_eq!(server.seen("DELETE", "/v2/meetings/85746065432").len(), 1);
}

#[tokio::test]
async fn a_meeting_that_is_gone_is_not_found() {
    let server = TestServer::start().await;
    server.on(
        "DELETE",
        "/v2/meetings/85746065432",
        vec![reply(404, MEETING_3001)],
    );
    server.on(
        "PATCH",
        "/v2/meetings/85746065432",
        vec![reply(404, MEETING_3001)],
    );
    let client = server.client();
    match client.delete_meeting(&access(), "85746065432").await {
        Err(ProviderError::NotFound { code, message }) => {
            assert_eq!(code, Some(3001));
            assert_eq!(message, "Meeting 85746065432 is not found or has expired.");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        client
            .update_meeting(&access(), "85746065432", &meeting_request())
            .await,
        Err(ProviderError::NotFound {
            code: Some(3001),
            ..
        })
    ));
    // A 404 is an answer, not a failure: not retried.
    assert_eq!(server.seen("DELETE", "/v2/meetings/85746065432").len(), 1);
}

#[tokio::test]
async fn other_client_errors_are_rejected() {
    let server = TestServer::start().await;
    server.on("DELETE", "/v2/meetings/1", vec![reply(400, r#"{"code":3002,"message":"Sorry, you cannot delete this meeting since it is in progress."}"#)]);
    match server.client().delete_meeting(&access(), "1").await {
        Err(ProviderError::Rejected { status, code, .. }) => {
            assert_eq!((status, code.as_str()), (400, "3002"))
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(server.seen("DELETE", "/v2/meetings/1").len(), 1);
}

// ---------------------------------------------------------------- listing meetings

/// One entry of `GET /v2/users/{userId}/meetings`, in Zoom's list shape (no start_url
/// or password).
fn listed(id: u64, topic: &str, agenda: &str) -> serde_json::Value {
    serde_json::json!({
        "uuid": format!("uuid-{id}=="),
        "id": id,
        "host_id": "KdYKjnimT4KPd8FFgQt9FQ",
        "topic": topic,
        "type": 2,
        "start_time": "2026-12-01T15:00:00Z",
        "duration": 30,
        "timezone": "Europe/Berlin",
        "agenda": agenda,
        "created_at": "2026-11-01T10:00:00Z",
        "join_url": format!("https://zoom.us/j/{id}"),
    })
}

fn page(token: &str, total: usize, meetings: Vec<serde_json::Value>) -> Canned {
    let body = serde_json::json!({
        "page_size": 300,
        "total_records": total,
        "next_page_token": token,
        "meetings": meetings,
    });
    reply(200, &body.to_string())
}

fn query_of(r: &Recorded) -> HashMap<String, String> {
    url::form_urlencoded::parse(r.query.as_deref().unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

#[tokio::test]
async fn list_meetings_follows_next_page_token_to_the_end() {
    let server = TestServer::start().await;
    server.on(
        "GET",
        "/v2/users/me/meetings",
        vec![
            page(
                "tok-2",
                4,
                vec![listed(1, "One", "Agenda 1"), listed(2, "Two", "")],
            ),
            // A token with characters that must be encoded in the query.
            page("tok 3/+=&", 4, vec![listed(3, "Three", "Agenda 3")]),
            page("", 4, vec![listed(4, "Four", "Agenda 4")]),
        ],
    );
    let meetings = server
        .client()
        .list_meetings(&access(), "me")
        .await
        .unwrap();
    let ids: Vec<&str> = meetings.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, ["1", "2", "3", "4"]);
    assert_eq!(meetings[0].agenda.as_deref(), Some("Agenda 1"));
    assert_eq!(meetings[1].agenda, None, "an empty agenda is none");
    assert_eq!(meetings[2].topic.as_deref(), Some("Three"));
    assert_eq!(meetings[3].join_url, "https://zoom.us/j/4");
    assert_eq!(
        meetings[3].start,
        Some("2026-12-01T15:00:00Z".parse().unwrap())
    );
    assert_eq!(meetings[3].duration_minutes, Some(30));
    assert_eq!(
        (&meetings[3].start_url, &meetings[3].password),
        (&None, &None)
    );

    let seen = server.seen("GET", "/v2/users/me/meetings");
    assert_eq!(seen.len(), 3);
    let queries: Vec<_> = seen.iter().map(query_of).collect();
    for q in &queries {
        assert_eq!(q["type"], "upcoming");
        assert_eq!(q["page_size"], "300");
    }
    assert!(!queries[0].contains_key("next_page_token"));
    assert_eq!(queries[1]["next_page_token"], "tok-2");
    assert_eq!(queries[2]["next_page_token"], "tok 3/+=&");
    assert!(seen
        .iter()
        .all(|r| r.header("authorization") == "Bearer access-1"));
}

#[tokio::test]
async fn list_meetings_with_an_absent_token_is_one_page() {
    let server = TestServer::start().await;
    server.on(
        "GET",
        "/v2/users/ada@example.com/meetings",
        vec![reply(
            200,
            r#"{"page_size":300,"total_records":0,"meetings":[]}"#,
        )],
    );
    let meetings = server
        .client()
        .list_meetings(&access(), "ada@example.com")
        .await
        .unwrap();
    assert!(meetings.is_empty());
    assert_eq!(
        server
            .seen("GET", "/v2/users/ada@example.com/meetings")
            .len(),
        1
    );
}

#[tokio::test]
async fn list_meetings_retries_a_failing_page() {
    let server = TestServer::start().await;
    server.on(
        "GET",
        "/v2/users/me/meetings",
        vec![
            page("tok-2", 2, vec![listed(1, "One", "")]),
            reply(503, "upstream down"),
            page("", 2, vec![listed(2, "Two", "")]),
        ],
    );
    let meetings = server
        .client()
        .list_meetings(&access(), "me")
        .await
        .unwrap();
    assert_eq!(meetings.len(), 2);
    let seen = server.seen("GET", "/v2/users/me/meetings");
    assert_eq!(seen.len(), 3);
    // The retry asks for the same page again.
    assert_eq!(query_of(&seen[1])["next_page_token"], "tok-2");
    assert_eq!(query_of(&seen[2])["next_page_token"], "tok-2");
}

#[tokio::test]
async fn list_meetings_stops_after_twenty_pages_or_a_repeated_token() {
    let server = TestServer::start().await;
    let pages = (1..=25)
        .map(|n| page(&format!("tok-{n}"), 25, vec![listed(n, "M", "")]))
        .collect();
    server.on("GET", "/v2/users/me/meetings", pages);
    match server.client().list_meetings(&access(), "me").await {
        Err(ProviderError::Rejected { status, code, .. }) => {
            assert_eq!((status, code.as_str()), (0, "too_many_pages"))
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(server.seen("GET", "/v2/users/me/meetings").len(), 20);

    let server = TestServer::start().await;
    server.on(
        "GET",
        "/v2/users/me/meetings",
        vec![page("same", 1, vec![listed(1, "M", "")])],
    );
    assert!(matches!(
        server.client().list_meetings(&access(), "me").await,
        Err(ProviderError::Rejected { ref code, .. }) if code == "too_many_pages"
    ));
    assert_eq!(server.seen("GET", "/v2/users/me/meetings").len(), 2);
}

#[tokio::test]
async fn list_meetings_maps_errors() {
    let server = TestServer::start().await;
    server.on(
        "GET",
        "/v2/users/nobody/meetings",
        vec![reply(
            404,
            r#"{"code":1001,"message":"User does not exist: nobody."}"#,
        )],
    );
    server.on("GET", "/v2/users/me/meetings", vec![reply(401, TOKEN_124)]);
    let client = server.client();
    assert!(matches!(
        client.list_meetings(&access(), "nobody").await,
        Err(ProviderError::NotFound {
            code: Some(1001),
            ..
        })
    ));
    assert!(matches!(
        client.list_meetings(&access(), "me").await,
        Err(ProviderError::Unauthorized)
    ));
    assert_eq!(server.seen("GET", "/v2/users/me/meetings").len(), 1);
    assert!(matches!(
        client.list_meetings(&access(), "..").await,
        Err(ProviderError::Rejected { status: 0, .. })
    ));
}

// ---------------------------------------------------------------- retries

#[tokio::test]
async fn a_rate_limited_get_waits_for_retry_after_then_succeeds() {
    let server = TestServer::start().await;
    server.on(
        "GET",
        "/v2/meetings/85746065432",
        vec![
            reply(429, r#"{"code":429,"message":"You have reached the maximum per-second rate limit for this API. Try again later."}"#)
                .header("retry-after", "1"),
            reply(200, MEETING_JSON),
        ],
    );
    let started = Instant::now();
    let m = server
        .client()
        .get_meeting(&access(), "85746065432")
        .await
        .unwrap();
    assert_eq!(m.id, "85746065432");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited only {:?}",
        started.elapsed()
    );
    assert_eq!(server.seen("GET", "/v2/meetings/85746065432").len(), 2);
}

#[tokio::test]
async fn a_retry_after_given_as_a_date_is_honoured() {
    let server = TestServer::start().await;
    server.on(
        "GET",
        "/v2/users/me",
        vec![
            reply(429, "")
                .header("date", "Wed, 21 Oct 2015 07:28:00 GMT")
                .header("retry-after", "Wed, 21 Oct 2015 07:28:01 GMT"),
            reply(200, r#"{"id":"u","account_id":"a","email":"e@x"}"#),
        ],
    );
    let started = Instant::now();
    server.client().me(&access()).await.unwrap();
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(server.seen("GET", "/v2/users/me").len(), 2);
}

#[tokio::test]
async fn a_long_retry_after_is_left_to_the_caller() {
    let server = TestServer::start().await;
    server.on(
        "GET",
        "/v2/users/me",
        vec![reply(429, "").header("retry-after", "60")],
    );
    let started = Instant::now();
    assert!(matches!(
        server.client().me(&access()).await,
        Err(ProviderError::RateLimited { retry_after: Some(d) }) if d == Duration::from_secs(60)
    ));
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(server.seen("GET", "/v2/users/me").len(), 1);
}

#[tokio::test]
async fn a_rate_limited_create_is_not_retried() {
    let server = TestServer::start().await;
    server.on(
        "POST",
        "/v2/users/me/meetings",
        vec![
            reply(
                429,
                r#"{"code":429,"message":"You have exceeded the daily rate limit"}"#,
            )
            .header("retry-after", "1"),
            reply(201, MEETING_JSON),
        ],
    );
    match server
        .client()
        .create_meeting(&access(), "me", &meeting_request())
        .await
    {
        Err(ProviderError::RateLimited { retry_after }) => {
            assert_eq!(retry_after, Some(Duration::from_secs(1)))
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(server.seen("POST", "/v2/users/me/meetings").len(), 1);
}

#[tokio::test]
async fn a_get_survives_two_503s() {
    let server = TestServer::start().await;
    server.on(
        "GET",
        "/v2/meetings/85746065432",
        vec![
            reply(503, "upstream down"),
            reply(503, "upstream down"),
            reply(200, MEETING_JSON),
        ],
    );
    let m = server
        .client()
        .get_meeting(&access(), "85746065432")
        .await
        .unwrap();
    assert_eq!(m.id, "85746065432");
    assert_eq!(server.seen("GET", "/v2/meetings/85746065432").len(), 3);
}

#[tokio::test]
async fn a_get_gives_up_after_three_attempts() {
    let server = TestServer::start().await;
    server.on(
        "DELETE",
        "/v2/meetings/9",
        vec![
            reply(502, "<html><h1>502 Bad Gateway</h1></html>").header("content-type", "text/html")
        ],
    );
    match server.client().delete_meeting(&access(), "9").await {
        Err(ProviderError::Transient(message)) => {
            assert!(message.contains("502 Bad Gateway"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(server.seen("DELETE", "/v2/meetings/9").len(), 3);
}

#[tokio::test]
async fn a_failing_create_is_sent_once() {
    let server = TestServer::start().await;
    server.on(
        "POST",
        "/v2/users/me/meetings",
        vec![reply(503, ""), reply(201, MEETING_JSON)],
    );
    assert!(matches!(
        server
            .client()
            .create_meeting(&access(), "me", &meeting_request())
            .await,
        Err(ProviderError::Transient(_))
    ));
    assert_eq!(server.seen("POST", "/v2/users/me/meetings").len(), 1);
}

#[tokio::test]
async fn timeouts_are_transient() {
    let server = TestServer::start().await;
    let slow = reply(200, MEETING_JSON).after(Duration::from_secs(3));
    server.on("POST", "/v2/users/me/meetings", vec![slow.clone()]);
    server.on("GET", "/v2/meetings/1", vec![slow]);
    let client = server.client_with(HttpConfig {
        request_timeout: Duration::from_millis(150),
        ..HttpConfig::default()
    });

    let started = Instant::now();
    match client
        .create_meeting(&access(), "me", &meeting_request())
        .await
    {
        Err(ProviderError::Transient(message)) => {
            assert!(message.contains("timed out"), "{message}");
            assert!(message.contains("/v2/users/me/meetings"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(server.seen("POST", "/v2/users/me/meetings").len(), 1);

    let started = Instant::now();
    assert!(matches!(
        client.get_meeting(&access(), "1").await,
        Err(ProviderError::Transient(_))
    ));
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(server.seen("GET", "/v2/meetings/1").len(), 3);
}

#[tokio::test]
async fn an_unreachable_server_is_transient() {
    // Bind then drop a listener: nothing listens on that port any more.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let server = TestServer {
        base: format!("http://127.0.0.1:{port}"),
        script: Arc::default(),
    };
    match server.client().me(&access()).await {
        Err(ProviderError::Transient(message)) => {
            assert!(message.contains("could not connect"), "{message}")
        }
        other => panic!("{other:?}"),
    }
}

// ---------------------------------------------------------------- odd bodies

#[tokio::test]
async fn non_json_error_bodies_are_described_not_panicked_on() {
    let server = TestServer::start().await;
    server.on(
        "GET",
        "/v2/users/me",
        vec![reply(400, "Bad things happened\n\n").header("content-type", "text/plain")],
    );
    server.on(
        "POST",
        "/oauth/token",
        vec![reply(400, "<html>oops</html>").header("content-type", "text/html")],
    );
    server.on(
        "DELETE",
        "/v2/meetings/1",
        vec![reply(404, "<html><body>Not Found</body></html>")],
    );
    let client = server.client();
    match client.me(&access()).await {
        Err(ProviderError::Rejected {
            status,
            code,
            message,
        }) => {
            assert_eq!(
                (status, code.as_str(), message.as_str()),
                (400, "http_400", "Bad things happened")
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        client.refresh(&Secret::from("rt")).await,
        Err(ProviderError::Rejected { status: 400, .. })
    ));
    // A 404 that is not Zoom's JSON (wrong base URL?) must not look like "already deleted".
    assert!(matches!(
        client.delete_meeting(&access(), "1").await,
        Err(ProviderError::Rejected { status: 404, .. })
    ));
}

#[tokio::test]
async fn unreadable_success_bodies_are_rejected() {
    let server = TestServer::start().await;
    server.on(
        "GET",
        "/v2/meetings/1",
        vec![reply(200, "<html>captive portal</html>")],
    );
    server.on(
        "POST",
        "/oauth/token",
        vec![reply(200, r#"{"token_type":"bearer"}"#)],
    );
    let client = server.client();
    assert!(matches!(
        client.get_meeting(&access(), "1").await,
        Err(ProviderError::Rejected { status: 200, ref code, .. }) if code == "unexpected_response"
    ));
    assert!(matches!(
        client.exchange_code("c", &Secret::from("v")).await,
        Err(ProviderError::Rejected { status: 200, ref code, .. }) if code == "unexpected_response"
    ));
}
