//! The Google Calendar adapter, first against a small scripted HTTP server (axum on
//! 127.0.0.1:0) that answers with canned Google responses and records what it was
//! sent — the expectations come from providers.md and Google's documentation, not from
//! the adapter — then end to end against the Google sandbox of `convene-sandbox`, an
//! independent implementation of the same wire format.

#![allow(clippy::unwrap_used)] // helpers outside #[test] fns unwrap too; a panic is a test failure

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Router;
use convene_providers::calendar::{Attendee, BusyTime, EventDraft};
use convene_providers::google::{event_id_for, GoogleClient, GoogleConfig, SCOPES};
use convene_providers::http::{HttpClient, HttpConfig};
use convene_providers::{Pkce, ProviderError, Secret};
use jiff::Timestamp;
use serde_json::json;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

// ---------------------------------------------------------------- test server

#[derive(Clone)]
struct Canned {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: String,
}

fn reply(status: u16, body: &str) -> Canned {
    Canned {
        status,
        headers: vec![("content-type", "application/json; charset=UTF-8".into())],
        body: body.into(),
    }
}

impl Canned {
    fn header(mut self, name: &'static str, value: &str) -> Self {
        self.headers.push((name, value.into()));
        self
    }
}

#[derive(Debug, Clone)]
struct Recorded {
    method: String,
    /// As sent: still percent-encoded.
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
    fn query(&self) -> HashMap<String, String> {
        url::form_urlencoded::parse(self.query.as_deref().unwrap_or("").as_bytes())
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

/// Each base URL has its own path prefix, as if they were three hosts.
const OAUTH: &str = "/accounts";
const TOKEN: &str = "/oauth2";
const API: &str = "/www";

impl TestServer {
    async fn start() -> Self {
        let script = Arc::new(Script::default());
        let app = Router::new().fallback(answer).with_state(script.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self {
            base: format!("http://{addr}"),
            script,
        }
    }

    /// `path` as sent on the wire (percent-encoded), including its base's prefix.
    fn on(&self, method: &str, path: &str, replies: Vec<Canned>) {
        self.script
            .replies
            .lock()
            .unwrap()
            .insert(format!("{method} {path}"), replies.into());
    }

    fn seen(&self, method: &str, path: &str) -> Vec<Recorded> {
        self.script
            .seen
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.method == method && r.path == path)
            .cloned()
            .collect()
    }

    fn all_seen(&self) -> usize {
        self.script.seen.lock().unwrap().len()
    }

    fn client(&self) -> GoogleClient {
        let http = HttpClient::new(HttpConfig::default())
            .unwrap()
            .with_clock(|| Timestamp::from_second(NOW).unwrap());
        GoogleClient::new(
            GoogleConfig {
                client_id: "client-id.apps.googleusercontent.com".into(),
                client_secret: Secret::from("client-secret"),
                oauth_base_url: format!("{}{OAUTH}", self.base),
                token_base_url: format!("{}{TOKEN}/", self.base),
                api_base_url: format!("{}{API}", self.base),
                redirect_uri: "https://convene.example/connections/google/callback".into(),
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
    let mut response = Response::builder().status(StatusCode::from_u16(canned.status).unwrap());
    for (name, value) in &canned.headers {
        response = response.header(*name, value);
    }
    response.body(Body::from(canned.body)).unwrap()
}

const NOW: i64 = 1_800_000_000;

fn access() -> Secret {
    Secret::from("ya29.access-1")
}

fn t(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn draft() -> EventDraft {
    EventDraft {
        key: "booking-42:host-7".into(),
        summary: "Intro call with Ada".into(),
        description: "Join: https://zoom.us/j/1".into(),
        location: Some("https://zoom.us/j/1".into()),
        start: t("2026-12-01T15:00:00Z"),
        end: t("2026-12-01T15:30:00Z"),
        attendees: vec![
            Attendee {
                name: Some("Ada Lovelace".into()),
                email: "ada@example.com".into(),
            },
            Attendee {
                name: None,
                email: "bob@example.com".into(),
            },
        ],
    }
}

fn google_error(code: u16, reason: &str, message: &str) -> String {
    json!({"error": {"errors": [{"domain": "global", "reason": reason, "message": message}], "code": code, "message": message}}).to_string()
}

fn event_json(id: &str, status: &str) -> String {
    json!({
        "kind": "calendar#event", "etag": "\"3181161784712000\"", "id": id, "status": status,
        "htmlLink": "https://www.google.com/calendar/event?eid=x",
        "summary": "Intro call with Ada",
        "start": {"dateTime": "2026-12-01T10:00:00-05:00", "timeZone": "America/New_York"},
        "end": {"dateTime": "2026-12-01T10:30:00-05:00", "timeZone": "America/New_York"},
        "iCalUID": format!("{id}@google.com"), "sequence": 0
    })
    .to_string()
}

const UNAUTHENTICATED: &str = r#"{"error":{"code":401,"message":"Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.","errors":[{"message":"Invalid Credentials","domain":"global","reason":"authError","location":"Authorization","locationType":"header"}],"status":"UNAUTHENTICATED"}}"#;

// ---------------------------------------------------------------- OAuth

#[tokio::test]
async fn authorize_url_asks_for_offline_calendar_access_with_pkce() {
    let server = TestServer::start().await;
    let pkce = Pkce::generate();
    let state = "s t&a=te/é?";
    let url = url::Url::parse(&server.client().authorize_url(state, &pkce)).unwrap();
    assert_eq!(url.path(), format!("{OAUTH}/o/oauth2/v2/auth"));
    let q: HashMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(q.len(), 9, "{q:?}");
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["client_id"], "client-id.apps.googleusercontent.com");
    assert_eq!(
        q["redirect_uri"],
        "https://convene.example/connections/google/callback"
    );
    assert_eq!(q["scope"], "openid email https://www.googleapis.com/auth/calendar.events https://www.googleapis.com/auth/calendar.readonly");
    assert_eq!(q["scope"], SCOPES);
    assert_eq!(q["access_type"], "offline");
    assert_eq!(q["prompt"], "consent");
    assert_eq!(q["state"], state);
    assert_eq!(q["code_challenge"], pkce.challenge);
    assert_eq!(q["code_challenge_method"], "S256");
    assert!(!url.as_str().contains(pkce.verifier.expose()));
}

#[tokio::test]
async fn code_exchange_posts_the_client_credentials_and_the_verifier() {
    let server = TestServer::start().await;
    server.on(
        "POST",
        "/oauth2/token",
        vec![reply(200, r#"{"access_token":"ya29.a0-1","expires_in":3599,"refresh_token":"1//0g-refresh","scope":"https://www.googleapis.com/auth/calendar.events openid https://www.googleapis.com/auth/userinfo.email https://www.googleapis.com/auth/calendar.readonly","token_type":"Bearer","id_token":"eyJhbGciOiJSUzI1NiJ9.e30.sig"}"#)],
    );
    let pkce = Pkce::from_verifier(Secret::from("the-verifier"));
    let tokens = server
        .client()
        .exchange_code("4/0the-code", &pkce)
        .await
        .unwrap();
    assert_eq!(tokens.access_token.expose(), "ya29.a0-1");
    assert_eq!(
        tokens.refresh_token.as_ref().map(Secret::expose),
        Some("1//0g-refresh")
    );
    assert_eq!(
        tokens.expires_at,
        Timestamp::from_second(NOW + 3599).unwrap()
    );
    assert!(convene_providers::google::missing_scopes(tokens.scope.as_deref()).is_empty());
    let printed = format!("{tokens:?}");
    assert!(
        !printed.contains("ya29") && !printed.contains("1//0g"),
        "{printed}"
    );

    let seen = server.seen("POST", "/oauth2/token");
    assert_eq!(seen.len(), 1);
    let r = &seen[0];
    assert_eq!(
        r.header("content-type"),
        "application/x-www-form-urlencoded"
    );
    assert_eq!(r.header("authorization"), "", "credentials go in the form");
    let form = r.form();
    assert_eq!(form.len(), 6, "{form:?}");
    assert_eq!(form["client_id"], "client-id.apps.googleusercontent.com");
    assert_eq!(form["client_secret"], "client-secret");
    assert_eq!(form["grant_type"], "authorization_code");
    assert_eq!(form["code"], "4/0the-code");
    assert_eq!(
        form["redirect_uri"],
        "https://convene.example/connections/google/callback"
    );
    assert_eq!(form["code_verifier"], "the-verifier");
}

#[tokio::test]
async fn refresh_keeps_the_refresh_token_google_does_not_rotate() {
    let server = TestServer::start().await;
    server.on(
        "POST",
        "/oauth2/token",
        vec![reply(200, r#"{"access_token":"ya29.a0-2","expires_in":3599,"scope":"openid","token_type":"Bearer"}"#)],
    );
    let tokens = server
        .client()
        .refresh(&Secret::from("1//0g-refresh"))
        .await
        .unwrap();
    assert_eq!(tokens.access_token.expose(), "ya29.a0-2");
    assert!(tokens.refresh_token.is_none(), "keep the one you have");
    let form = server.seen("POST", "/oauth2/token")[0].form();
    assert_eq!(form["grant_type"], "refresh_token");
    assert_eq!(form["refresh_token"], "1//0g-refresh");
    assert_eq!(form["client_secret"], "client-secret");
}

#[tokio::test]
async fn invalid_grant_needs_reauth_and_token_calls_are_sent_once() {
    let server = TestServer::start().await;
    server.on(
        "POST",
        "/oauth2/token",
        vec![reply(
            400,
            r#"{"error":"invalid_grant","error_description":"Token has been expired or revoked."}"#,
        )],
    );
    match server.client().refresh(&Secret::from("1//0g-old")).await {
        Err(ProviderError::NeedsReauth { reason }) => {
            assert_eq!(reason, "Token has been expired or revoked.")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(server.seen("POST", "/oauth2/token").len(), 1);

    server.on(
        "POST",
        "/oauth2/token",
        vec![reply(503, "").header("retry-after", "0")],
    );
    assert!(matches!(
        server.client().refresh(&Secret::from("1//0g")).await,
        Err(ProviderError::Transient(_))
    ));
    assert_eq!(server.seen("POST", "/oauth2/token").len(), 2);

    server.on(
        "POST",
        "/oauth2/token",
        vec![reply(
            401,
            r#"{"error":"invalid_client","error_description":"Unauthorized"}"#,
        )],
    );
    assert!(matches!(
        server.client().exchange_code("c", &Pkce::generate()).await,
        Err(ProviderError::Rejected { status: 401, ref code, .. }) if code == "invalid_client"
    ));
}

#[tokio::test]
async fn revoke_puts_the_token_in_the_query() {
    let server = TestServer::start().await;
    server.on("POST", "/oauth2/revoke", vec![reply(200, "")]);
    server
        .client()
        .revoke(&Secret::from("1//0g/+="))
        .await
        .unwrap();
    let seen = server.seen("POST", "/oauth2/revoke");
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].query()["token"], "1//0g/+=");
    assert_eq!(
        seen[0].header("content-type"),
        "application/x-www-form-urlencoded"
    );

    // Already revoked or expired: the goal is reached.
    server.on(
        "POST",
        "/oauth2/revoke",
        vec![reply(
            400,
            r#"{"error":"invalid_token","error_description":"Token expired or revoked"}"#,
        )],
    );
    server
        .client()
        .revoke(&Secret::from("1//0g"))
        .await
        .unwrap();

    server.on("POST", "/oauth2/revoke", vec![reply(503, "")]);
    assert!(matches!(
        server.client().revoke(&Secret::from("1//0g")).await,
        Err(ProviderError::Transient(_))
    ));
    assert_eq!(
        server.seen("POST", "/oauth2/revoke").len(),
        3,
        "sent once each"
    );
}

// ---------------------------------------------------------------- account and calendars

#[tokio::test]
async fn the_account_is_the_openid_subject() {
    let server = TestServer::start().await;
    server.on(
        "GET",
        "/www/oauth2/v3/userinfo",
        vec![reply(200, r#"{"sub":"110169484474386276334","name":"Ada Lovelace","given_name":"Ada","family_name":"Lovelace","picture":"https://lh3.googleusercontent.com/a/x","email":"ada@example.com","email_verified":true}"#)],
    );
    let account = server.client().account(&access()).await.unwrap();
    assert_eq!(account.id, "110169484474386276334");
    assert_eq!(account.email, "ada@example.com");
    assert_eq!(account.display_name, "Ada Lovelace");
    assert_eq!(
        server.seen("GET", "/www/oauth2/v3/userinfo")[0].header("authorization"),
        "Bearer ya29.access-1"
    );
}

#[tokio::test]
async fn an_expired_token_is_unauthorized_and_not_retried() {
    let server = TestServer::start().await;
    server.on(
        "GET",
        "/www/oauth2/v3/userinfo",
        vec![reply(
            401,
            r#"{"error":"invalid_request","error_description":"Invalid Credentials"}"#,
        )],
    );
    server.on(
        "GET",
        "/www/calendar/v3/users/me/calendarList",
        vec![reply(401, UNAUTHENTICATED)],
    );
    let client = server.client();
    assert!(matches!(
        client.account(&access()).await,
        Err(ProviderError::Unauthorized)
    ));
    assert!(matches!(
        client.calendars(&access()).await,
        Err(ProviderError::Unauthorized)
    ));
    assert_eq!(server.all_seen(), 2);
}

#[tokio::test]
async fn calendars_follow_next_page_token() {
    let server = TestServer::start().await;
    let entry = |id: &str, summary: &str, role: &str| json!({"kind": "calendar#calendarListEntry", "id": id, "summary": summary, "accessRole": role, "timeZone": "UTC"});
    let page = |token: Option<&str>, items: Vec<serde_json::Value>| {
        let mut body = json!({"kind": "calendar#calendarList", "etag": "\"p1\"", "items": items});
        if let Some(token) = token {
            body["nextPageToken"] = json!(token);
        }
        reply(200, &body.to_string())
    };
    let mut primary = entry("ada@example.com", "ada@example.com", "owner");
    primary["primary"] = json!(true);
    let mut renamed = entry("team@group.calendar.google.com", "Team", "writer");
    renamed["summaryOverride"] = json!("My team");
    server.on(
        "GET",
        "/www/calendar/v3/users/me/calendarList",
        vec![
            page(Some("tok 2/+"), vec![primary]),
            page(
                Some("tok-3"),
                vec![renamed, entry("shared@example.com", "", "reader")],
            ),
            reply(503, ""),
            page(
                None,
                vec![
                    entry(
                        "en.usa#holiday@group.v.calendar.google.com",
                        "Holidays",
                        "reader",
                    ),
                    entry("fb@example.com", "FB", "freeBusyReader"),
                ],
            ),
        ],
    );
    let calendars = server.client().calendars(&access()).await.unwrap();
    let summary: Vec<(&str, &str, bool, bool)> = calendars
        .iter()
        .map(|c| (c.id.as_str(), c.name.as_str(), c.primary, c.writable))
        .collect();
    assert_eq!(
        summary,
        [
            ("ada@example.com", "ada@example.com", true, true),
            ("team@group.calendar.google.com", "My team", false, true),
            ("shared@example.com", "shared@example.com", false, false),
            (
                "en.usa#holiday@group.v.calendar.google.com",
                "Holidays",
                false,
                false
            ),
            ("fb@example.com", "FB", false, false),
        ]
    );
    let seen = server.seen("GET", "/www/calendar/v3/users/me/calendarList");
    assert_eq!(seen.len(), 4, "three pages and one retry");
    let queries: Vec<_> = seen.iter().map(Recorded::query).collect();
    assert!(queries.iter().all(|q| q["maxResults"] == "250"));
    assert!(!queries[0].contains_key("pageToken"));
    assert_eq!(queries[1]["pageToken"], "tok 2/+");
    assert_eq!(queries[2]["pageToken"], "tok-3");
    assert_eq!(
        queries[3]["pageToken"], "tok-3",
        "the retry asks for the same page"
    );

    let server = TestServer::start().await;
    server.on(
        "GET",
        "/www/calendar/v3/users/me/calendarList",
        vec![page(Some("same"), vec![])],
    );
    assert!(matches!(
        server.client().calendars(&access()).await,
        Err(ProviderError::Rejected { ref code, .. }) if code == "too_many_pages"
    ));
}

// ---------------------------------------------------------------- free/busy

#[tokio::test]
async fn busy_asks_free_busy_in_utc_and_reads_offsets() {
    let server = TestServer::start().await;
    server.on(
        "POST",
        "/www/calendar/v3/freeBusy",
        vec![reply(200, r#"{"kind":"calendar#freeBusy","timeMin":"2026-12-01T00:00:00Z","timeMax":"2026-12-02T00:00:00Z","calendars":{"ada@example.com":{"busy":[{"start":"2026-12-01T15:00:00Z","end":"2026-12-01T16:00:00Z"},{"start":"2026-12-01T09:00:00-05:00","end":"2026-12-01T09:30:00-05:00"}]},"team@group.calendar.google.com":{"busy":[]}}}"#)],
    );
    let ids = vec![
        "ada@example.com".to_string(),
        "team@group.calendar.google.com".to_string(),
    ];
    let busy = server
        .client()
        .busy(
            &access(),
            &ids,
            t("2026-12-01T00:00:00Z"),
            t("2026-12-02T00:00:00Z"),
        )
        .await
        .unwrap();
    assert_eq!(
        busy,
        [
            BusyTime {
                start: t("2026-12-01T14:00:00Z"),
                end: t("2026-12-01T14:30:00Z")
            },
            BusyTime {
                start: t("2026-12-01T15:00:00Z"),
                end: t("2026-12-01T16:00:00Z")
            },
        ]
    );
    let seen = server.seen("POST", "/www/calendar/v3/freeBusy");
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].header("content-type"), "application/json");
    assert_eq!(
        seen[0].json(),
        json!({"timeMin": "2026-12-01T00:00:00Z", "timeMax": "2026-12-02T00:00:00Z", "timeZone": "UTC", "items": [{"id": "ada@example.com"}, {"id": "team@group.calendar.google.com"}]})
    );

    // No calendars, or an empty span: nothing to ask.
    let client = server.client();
    assert!(client
        .busy(
            &access(),
            &[],
            t("2026-12-01T00:00:00Z"),
            t("2026-12-02T00:00:00Z")
        )
        .await
        .unwrap()
        .is_empty());
    assert!(client
        .busy(
            &access(),
            &ids,
            t("2026-12-02T00:00:00Z"),
            t("2026-12-01T00:00:00Z")
        )
        .await
        .unwrap()
        .is_empty());
    assert_eq!(server.seen("POST", "/www/calendar/v3/freeBusy").len(), 1);
}

#[tokio::test]
async fn busy_asks_at_most_fifty_calendars_at_a_time() {
    let server = TestServer::start().await;
    let ids: Vec<String> = (0..60).map(|i| format!("c{i}@example.com")).collect();
    let all: serde_json::Map<String, serde_json::Value> = ids
        .iter()
        .map(|id| {
            (
                id.clone(),
                json!({"busy": [{"start": "2026-12-01T15:00:00Z", "end": "2026-12-01T16:00:00Z"}]}),
            )
        })
        .collect();
    server.on(
        "POST",
        "/www/calendar/v3/freeBusy",
        vec![reply(200, &json!({"calendars": all}).to_string())],
    );
    let busy = server
        .client()
        .busy(
            &access(),
            &ids,
            t("2026-12-01T00:00:00Z"),
            t("2026-12-02T00:00:00Z"),
        )
        .await
        .unwrap();
    assert_eq!(busy.len(), 1, "the same span from every calendar, once");
    let seen = server.seen("POST", "/www/calendar/v3/freeBusy");
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].json()["items"].as_array().unwrap().len(), 50);
    assert_eq!(seen[1].json()["items"].as_array().unwrap().len(), 10);
}

#[tokio::test]
async fn a_calendar_free_busy_cannot_read_is_an_error_not_free_time() {
    let server = TestServer::start().await;
    let ids = vec![
        "ada@example.com".to_string(),
        "gone@example.com".to_string(),
    ];
    let window = (t("2026-12-01T00:00:00Z"), t("2026-12-02T00:00:00Z"));
    server.on(
        "POST",
        "/www/calendar/v3/freeBusy",
        vec![reply(200, r#"{"kind":"calendar#freeBusy","calendars":{"ada@example.com":{"busy":[]},"gone@example.com":{"errors":[{"domain":"global","reason":"notFound"}],"busy":[]}}}"#)],
    );
    match server
        .client()
        .busy(&access(), &ids, window.0, window.1)
        .await
    {
        Err(ProviderError::Rejected { code, message, .. }) => {
            assert_eq!(code, "notFound");
            assert!(message.contains("gone@example.com"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    // Google's own trouble with one calendar is worth retrying later.
    server.on(
        "POST",
        "/www/calendar/v3/freeBusy",
        vec![reply(200, r#"{"calendars":{"ada@example.com":{"busy":[]},"gone@example.com":{"errors":[{"domain":"global","reason":"backendError"}],"busy":[]}}}"#)],
    );
    assert!(matches!(
        server
            .client()
            .busy(&access(), &ids, window.0, window.1)
            .await,
        Err(ProviderError::Transient(_))
    ));
    // A calendar missing from the answer is not free either.
    server.on(
        "POST",
        "/www/calendar/v3/freeBusy",
        vec![reply(
            200,
            r#"{"calendars":{"ada@example.com":{"busy":[]}}}"#,
        )],
    );
    assert!(matches!(
        server.client().busy(&access(), &ids, window.0, window.1).await,
        Err(ProviderError::Rejected { ref code, .. }) if code == "missing_calendar"
    ));
    // Nor is an unreadable busy time.
    server.on(
        "POST",
        "/www/calendar/v3/freeBusy",
        vec![reply(200, r#"{"calendars":{"ada@example.com":{"busy":[{"start":"soon","end":"later"}]},"gone@example.com":{"busy":[]}}}"#)],
    );
    assert!(matches!(
        server.client().busy(&access(), &ids, window.0, window.1).await,
        Err(ProviderError::Rejected { ref code, .. }) if code == "unexpected_response"
    ));
}

// ---------------------------------------------------------------- events

/// The path of the events of the Holidays-style calendar id, as sent.
const ODD_CALENDAR: &str = "en.usa#holiday@group.v.calendar.google.com";
const ODD_CALENDAR_PATH: &str =
    "/www/calendar/v3/calendars/en.usa%23holiday@group.v.calendar.google.com/events";

#[tokio::test]
async fn create_event_sends_the_draft_with_an_id_derived_from_its_key() {
    let server = TestServer::start().await;
    let id = event_id_for("booking-42:host-7");
    server.on(
        "POST",
        ODD_CALENDAR_PATH,
        vec![reply(200, &event_json(&id, "confirmed"))],
    );
    let created = server
        .client()
        .create_event(&access(), ODD_CALENDAR, &draft())
        .await
        .unwrap();
    assert_eq!(created.id, id);
    assert_eq!(created.etag, None);
    let seen = server.seen("POST", ODD_CALENDAR_PATH);
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].query()["sendUpdates"], "none");
    assert_eq!(seen[0].header("authorization"), "Bearer ya29.access-1");
    assert_eq!(
        seen[0].json(),
        json!({
            "id": id,
            "summary": "Intro call with Ada",
            "description": "Join: https://zoom.us/j/1",
            "location": "https://zoom.us/j/1",
            "start": {"dateTime": "2026-12-01T15:00:00Z"},
            "end": {"dateTime": "2026-12-01T15:30:00Z"},
            "attendees": [
                {"email": "ada@example.com", "displayName": "Ada Lovelace"},
                {"email": "bob@example.com"},
            ],
        })
    );
}

#[tokio::test]
async fn a_duplicate_create_returns_the_event_that_exists() {
    let server = TestServer::start().await;
    let id = event_id_for("booking-42:host-7");
    let path = "/www/calendar/v3/calendars/ada@example.com/events";
    // The first answer was lost (503); the retry finds the event already there.
    server.on(
        "POST",
        path,
        vec![
            reply(503, &google_error(503, "backendError", "Backend Error")),
            reply(
                409,
                &google_error(409, "duplicate", "The requested identifier already exists."),
            ),
        ],
    );
    server.on(
        "GET",
        &format!("{path}/{id}"),
        vec![reply(200, &event_json(&id, "confirmed"))],
    );
    let created = server
        .client()
        .create_event(&access(), "ada@example.com", &draft())
        .await
        .unwrap();
    assert_eq!(created.id, id);
    let posts = server.seen("POST", path);
    assert_eq!(posts.len(), 2);
    assert_eq!(
        posts[0].json(),
        posts[1].json(),
        "the retry sends the same id"
    );
    assert_eq!(server.seen("GET", &format!("{path}/{id}")).len(), 1);

    // The event with that id was deleted since: Google does not reuse the id.
    server.on(
        "POST",
        path,
        vec![reply(
            409,
            &google_error(409, "duplicate", "The requested identifier already exists."),
        )],
    );
    server.on(
        "GET",
        &format!("{path}/{id}"),
        vec![reply(200, &event_json(&id, "cancelled"))],
    );
    assert!(matches!(
        server.client().create_event(&access(), "ada@example.com", &draft()).await,
        Err(ProviderError::Rejected { status: 409, ref code, .. }) if code == "deleted"
    ));
}

#[tokio::test]
async fn update_patches_the_event_and_a_missing_one_is_not_found() {
    let server = TestServer::start().await;
    let path = "/www/calendar/v3/calendars/ada@example.com/events/abc123def";
    server.on(
        "PATCH",
        path,
        vec![reply(200, &event_json("abc123def", "confirmed"))],
    );
    let mut moved = draft();
    moved.start = t("2026-12-02T15:00:00Z");
    moved.end = t("2026-12-02T15:30:00Z");
    moved.location = None;
    let updated = server
        .client()
        .update_event(&access(), "ada@example.com", "abc123def", &moved)
        .await
        .unwrap();
    assert_eq!(updated.id, "abc123def");
    let sent = &server.seen("PATCH", path)[0];
    assert_eq!(sent.query()["sendUpdates"], "none");
    let body = sent.json();
    assert!(body.get("id").is_none());
    assert_eq!(body["start"], json!({"dateTime": "2026-12-02T15:00:00Z"}));
    assert_eq!(
        body["location"],
        serde_json::Value::Null,
        "a PATCH clears the old location"
    );

    server.on(
        "PATCH",
        path,
        vec![reply(
            410,
            &google_error(410, "deleted", "Resource has been deleted"),
        )],
    );
    assert!(matches!(
        server
            .client()
            .update_event(&access(), "ada@example.com", "abc123def", &moved)
            .await,
        Err(ProviderError::NotFound {
            code: Some(410),
            ..
        })
    ));
    assert_eq!(server.seen("PATCH", path).len(), 2, "not retried");
}

#[tokio::test]
async fn deleting_an_event_already_gone_is_done() {
    let server = TestServer::start().await;
    let base = "/www/calendar/v3/calendars/ada@example.com/events";
    server.on("DELETE", &format!("{base}/e1"), vec![reply(204, "")]);
    server.on(
        "DELETE",
        &format!("{base}/e2"),
        vec![reply(
            410,
            &google_error(410, "deleted", "Resource has been deleted"),
        )],
    );
    server.on(
        "DELETE",
        &format!("{base}/e3"),
        vec![reply(404, &google_error(404, "notFound", "Not Found"))],
    );
    // A 404 that is not Google's JSON (wrong base URL?) must not look like "deleted".
    server.on(
        "DELETE",
        &format!("{base}/e4"),
        vec![reply(404, "<html>Not Found</html>").header("content-type", "text/html")],
    );
    server.on(
        "DELETE",
        &format!("{base}/e5"),
        vec![reply(
            403,
            &google_error(
                403,
                "requiredAccessLevel",
                "You need to have writer access to this calendar.",
            ),
        )],
    );
    let client = server.client();
    for id in ["e1", "e2", "e3"] {
        client
            .delete_event(&access(), "ada@example.com", id)
            .await
            .unwrap();
    }
    assert!(matches!(
        client
            .delete_event(&access(), "ada@example.com", "e4")
            .await,
        Err(ProviderError::Rejected { status: 404, .. })
    ));
    assert!(matches!(
        client.delete_event(&access(), "ada@example.com", "e5").await,
        Err(ProviderError::Rejected { status: 403, ref code, .. }) if code == "requiredAccessLevel"
    ));
    assert_eq!(
        server.seen("DELETE", &format!("{base}/e1"))[0].query()["sendUpdates"],
        "none"
    );
    assert!(matches!(
        client
            .delete_event(&access(), "ada@example.com", "..")
            .await,
        Err(ProviderError::Rejected { status: 0, .. })
    ));
}

// ---------------------------------------------------------------- rate limits

#[tokio::test]
async fn a_429_with_retry_after_is_honoured_on_idempotent_calls() {
    let server = TestServer::start().await;
    let rate_limited = reply(
        429,
        &google_error(429, "rateLimitExceeded", "Rate Limit Exceeded"),
    )
    .header("retry-after", "1");
    server.on(
        "POST",
        "/www/calendar/v3/freeBusy",
        vec![
            rate_limited,
            reply(200, r#"{"calendars":{"a@example.com":{"busy":[]}}}"#),
        ],
    );
    let started = Instant::now();
    let busy = server
        .client()
        .busy(
            &access(),
            &["a@example.com".to_string()],
            t("2026-12-01T00:00:00Z"),
            t("2026-12-02T00:00:00Z"),
        )
        .await
        .unwrap();
    assert!(busy.is_empty());
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited {:?}",
        started.elapsed()
    );
    assert_eq!(server.seen("POST", "/www/calendar/v3/freeBusy").len(), 2);

    // A wait longer than the in-request budget goes back to the caller.
    server.on(
        "GET",
        "/www/calendar/v3/users/me/calendarList",
        vec![reply(
            429,
            &google_error(429, "rateLimitExceeded", "Rate Limit Exceeded"),
        )
        .header("retry-after", "60")],
    );
    let started = Instant::now();
    assert!(matches!(
        server.client().calendars(&access()).await,
        Err(ProviderError::RateLimited { retry_after: Some(d) }) if d == Duration::from_secs(60)
    ));
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn a_403_rate_limit_is_rate_limited_too() {
    let server = TestServer::start().await;
    server.on(
        "GET",
        "/www/calendar/v3/users/me/calendarList",
        vec![reply(403, &json!({"error": {"errors": [{"domain": "usageLimits", "reason": "userRateLimitExceeded", "message": "User Rate Limit Exceeded"}], "code": 403, "message": "User Rate Limit Exceeded"}}).to_string()).header("retry-after", "5")],
    );
    assert!(matches!(
        server.client().calendars(&access()).await,
        Err(ProviderError::RateLimited { retry_after: Some(d) }) if d == Duration::from_secs(5)
    ));
}

// ---------------------------------------------------------------- against the sandbox

mod against_the_sandbox {
    use super::*;
    use convene_sandbox::{Faults, GoogleSandbox, GoogleSandboxConfig};

    const REDIRECT: &str = "https://convene.test/connections/google/callback";

    struct Setup {
        google: GoogleSandbox,
        client: GoogleClient,
        browser: reqwest::Client,
    }

    async fn setup() -> Setup {
        let google = GoogleSandbox::new(GoogleSandboxConfig {
            client_id: "convene.apps.googleusercontent.com".into(),
            client_secret: "sandbox-secret".into(),
            access_token_ttl: Duration::from_secs(3599),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let router = Router::new().nest("/sandbox/google", google.router());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        let base = format!("http://{addr}/sandbox/google");
        let client = GoogleClient::new(
            GoogleConfig {
                client_id: "convene.apps.googleusercontent.com".into(),
                client_secret: Secret::from("sandbox-secret"),
                oauth_base_url: base.clone(),
                token_base_url: base.clone(),
                api_base_url: base,
                redirect_uri: REDIRECT.into(),
            },
            HttpClient::new(HttpConfig::default()).unwrap(),
        );
        let browser = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Setup {
            google,
            client,
            browser,
        }
    }

    impl Setup {
        /// Follows the authorize URL to the consent page's form, answering as `account`;
        /// returns the callback's query.
        async fn consent(&self, account: &str, pkce: &Pkce) -> HashMap<String, String> {
            let url = self.client.authorize_url("st-1", pkce);
            let page = self.browser.get(&url).send().await.unwrap();
            assert_eq!(page.status(), 200);
            let response = self
                .browser
                .post(&url)
                .form(&[("account", account)])
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 302);
            let location = response.headers()["location"].to_str().unwrap();
            assert!(location.starts_with(REDIRECT), "{location}");
            url::Url::parse(location)
                .unwrap()
                .query_pairs()
                .into_owned()
                .collect()
        }

        async fn connect(&self, account: &str) -> convene_providers::TokenSet {
            let pkce = Pkce::generate();
            let callback = self.consent(account, &pkce).await;
            assert_eq!(callback["state"], "st-1");
            self.client
                .exchange_code(&callback["code"], &pkce)
                .await
                .unwrap()
        }
    }

    #[tokio::test]
    async fn connect_read_busy_times_and_write_an_event_end_to_end() {
        let s = setup().await;
        let tokens = s.connect("gina@google.sandbox").await;
        assert!(tokens.refresh_token.is_some());
        assert!(convene_providers::google::missing_scopes(tokens.scope.as_deref()).is_empty());
        let access = tokens.access_token.clone();

        let account = s.client.account(&access).await.unwrap();
        assert_eq!(account.email, "gina@google.sandbox");
        assert_eq!(account.display_name, "Gina Granter");
        assert_eq!(
            account.id,
            s.google.stats().user("gina@google.sandbox").unwrap().sub
        );

        let calendars = s.client.calendars(&access).await.unwrap();
        let shape: Vec<(&str, bool, bool)> = calendars
            .iter()
            .map(|c| (c.name.as_str(), c.primary, c.writable))
            .collect();
        assert_eq!(
            shape,
            [
                ("gina@google.sandbox", true, true),
                ("Team events", false, true),
                ("Holidays", false, false),
            ]
        );

        // Busy times from two calendars; the read-only one (with a `#` in its id) too.
        s.google
            .add_busy(
                "gina@google.sandbox",
                t("2026-12-01T14:00:00Z"),
                t("2026-12-01T15:00:00Z"),
                "Dentist",
            )
            .unwrap();
        s.google
            .add_busy_in(
                "gina@google.sandbox",
                "Team events",
                t("2026-12-01T17:00:00Z"),
                t("2026-12-01T18:00:00Z"),
                "Standup",
            )
            .unwrap();
        let ids: Vec<String> = calendars.iter().map(|c| c.id.clone()).collect();
        let busy = s
            .client
            .busy(
                &access,
                &ids,
                t("2026-12-01T00:00:00Z"),
                t("2026-12-02T00:00:00Z"),
            )
            .await
            .unwrap();
        assert_eq!(
            busy,
            [
                BusyTime {
                    start: t("2026-12-01T14:00:00Z"),
                    end: t("2026-12-01T15:00:00Z")
                },
                BusyTime {
                    start: t("2026-12-01T17:00:00Z"),
                    end: t("2026-12-01T18:00:00Z")
                },
            ]
        );

        // Create, then create again (a retried job): one event.
        let created = s
            .client
            .create_event(&access, &ids[0], &draft())
            .await
            .unwrap();
        assert_eq!(created.id, event_id_for("booking-42:host-7"));
        let again = s
            .client
            .create_event(&access, &ids[0], &draft())
            .await
            .unwrap();
        assert_eq!(again, created);
        let events = s.google.events();
        let written: Vec<_> = events.iter().filter(|e| e.id == created.id).collect();
        assert_eq!(written.len(), 1);
        let event = written[0];
        assert_eq!(event.calendar_id, "gina@google.sandbox");
        assert_eq!(event.summary, "Intro call with Ada");
        assert_eq!(event.location.as_deref(), Some("https://zoom.us/j/1"));
        assert_eq!(
            (event.start, event.end),
            (t("2026-12-01T15:00:00Z"), t("2026-12-01T15:30:00Z"))
        );
        assert_eq!(event.attendees.len(), 2);
        assert_eq!(
            event.attendees[0].display_name.as_deref(),
            Some("Ada Lovelace")
        );
        assert_eq!(s.google.stats().duplicate_creates, 1);
        // The booked meeting now makes the host busy.
        let busy = s
            .client
            .busy(
                &access,
                &ids[..1],
                t("2026-12-01T15:00:00Z"),
                t("2026-12-01T16:00:00Z"),
            )
            .await
            .unwrap();
        assert_eq!(
            busy,
            [BusyTime {
                start: t("2026-12-01T15:00:00Z"),
                end: t("2026-12-01T15:30:00Z")
            }]
        );

        // Reschedule, then cancel (twice: the second is a no-op).
        let mut moved = draft();
        moved.start = t("2026-12-03T15:00:00Z");
        moved.end = t("2026-12-03T16:00:00Z");
        moved.location = None;
        s.client
            .update_event(&access, &ids[0], &created.id, &moved)
            .await
            .unwrap();
        let event = s
            .google
            .events()
            .into_iter()
            .find(|e| e.id == created.id)
            .unwrap();
        assert_eq!(
            (event.start, event.end),
            (t("2026-12-03T15:00:00Z"), t("2026-12-03T16:00:00Z"))
        );
        assert_eq!(event.location, None);
        assert_eq!(event.updates, 1);
        s.client
            .delete_event(&access, &ids[0], &created.id)
            .await
            .unwrap();
        s.client
            .delete_event(&access, &ids[0], &created.id)
            .await
            .unwrap();
        assert!(s
            .google
            .events()
            .iter()
            .any(|e| e.id == created.id && e.deleted));
        assert!(matches!(
            s.client
                .update_event(&access, &ids[0], &created.id, &moved)
                .await,
            Err(ProviderError::NotFound {
                code: Some(410),
                ..
            })
        ));
        assert!(matches!(
            s.client.create_event(&access, &ids[0], &draft()).await,
            Err(ProviderError::Rejected { ref code, .. }) if code == "deleted"
        ));
        // Writing to the read-only calendar is refused.
        assert!(matches!(
            s.client.create_event(&access, &ids[2], &draft()).await,
            Err(ProviderError::Rejected { status: 403, ref code, .. }) if code == "requiredAccessLevel"
        ));
    }

    #[tokio::test]
    async fn tokens_refresh_expire_and_revoke() {
        let s = setup().await;
        let tokens = s.connect("dana@example.com").await;
        let refresh = tokens.refresh_token.clone().unwrap();

        s.google.expire_access_tokens("dana@example.com");
        assert!(matches!(
            s.client.calendars(&tokens.access_token).await,
            Err(ProviderError::Unauthorized)
        ));
        let fresh = s.client.refresh(&refresh).await.unwrap();
        assert!(fresh.refresh_token.is_none(), "Google does not rotate");
        assert!(fresh.expires_at > Timestamp::now());
        assert_eq!(
            s.client.account(&fresh.access_token).await.unwrap().email,
            "dana@example.com"
        );
        // The same refresh token keeps working.
        s.client.refresh(&refresh).await.unwrap();
        assert_eq!(s.google.stats().refreshes_of("dana@example.com"), 2);

        s.client.revoke(&refresh).await.unwrap();
        // Revoking again is fine.
        s.client.revoke(&refresh).await.unwrap();
        assert!(matches!(
            s.client.refresh(&refresh).await,
            Err(ProviderError::NeedsReauth { .. })
        ));
        assert!(matches!(
            s.client.account(&fresh.access_token).await,
            Err(ProviderError::Unauthorized)
        ));

        // Removing the access from the Google account (the control page) does the same.
        let tokens = s.connect("dana@example.com").await;
        assert!(s.google.revoke_grants("dana@example.com"));
        assert!(matches!(
            s.client
                .refresh(tokens.refresh_token.as_ref().unwrap())
                .await,
            Err(ProviderError::NeedsReauth { .. })
        ));
    }

    #[tokio::test]
    async fn denied_consent_and_unreadable_calendars() {
        let s = setup().await;
        let callback = s.consent("denise@google.sandbox", &Pkce::generate()).await;
        assert_eq!(callback["error"], "access_denied");
        assert!(!callback.contains_key("code"));

        let tokens = s.connect("gina@google.sandbox").await;
        let ids = vec![
            "gina@google.sandbox".to_string(),
            "denise@google.sandbox".to_string(),
        ];
        assert!(matches!(
            s.client.busy(&tokens.access_token, &ids, t("2026-12-01T00:00:00Z"), t("2026-12-02T00:00:00Z")).await,
            Err(ProviderError::Rejected { ref code, .. }) if code == "notFound"
        ));
    }

    #[tokio::test]
    async fn injected_rate_limits_and_errors() {
        let s = setup().await;
        let tokens = s.connect("gina@google.sandbox").await;
        s.google.set_faults(Faults {
            rate_limit_rate: 1.0,
            retry_after_secs: 0,
            ..Faults::default()
        });
        assert!(matches!(
            s.client.calendars(&tokens.access_token).await,
            Err(ProviderError::RateLimited { retry_after: Some(d) }) if d.is_zero()
        ));
        assert_eq!(
            s.google.stats().injected_rate_limits,
            3,
            "an idempotent read tries three times"
        );
        // A refresh is sent once.
        assert!(matches!(
            s.client
                .refresh(tokens.refresh_token.as_ref().unwrap())
                .await,
            Err(ProviderError::RateLimited { .. })
        ));
        assert_eq!(s.google.stats().injected_rate_limits, 4);

        s.google.set_faults(Faults {
            error_rate: 1.0,
            ..Faults::default()
        });
        assert!(matches!(
            s.client
                .create_event(&tokens.access_token, "primary", &draft())
                .await,
            Err(ProviderError::Transient(_))
        ));
        s.google.set_faults(Faults::default());
        // The create goes through once the faults stop, under the same id.
        let created = s
            .client
            .create_event(&tokens.access_token, "primary", &draft())
            .await
            .unwrap();
        assert_eq!(created.id, event_id_for("booking-42:host-7"));
        assert_eq!(s.google.events().len(), 1);
    }
}
