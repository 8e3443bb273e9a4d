//! The Microsoft adapter against a small scripted HTTP server (axum on 127.0.0.1:0)
//! that answers with canned identity-platform and Graph responses and records what it
//! was sent. The server knows nothing of the adapter; the expectations come from
//! providers.md.

#![allow(clippy::unwrap_used)] // helpers outside #[test] fns unwrap too; a panic is a test failure

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Router;
use convene_providers::calendar::{Attendee, BusyTime, EventDraft};
use convene_providers::http::{HttpClient, HttpConfig};
use convene_providers::microsoft::{
    parse_consent_error, ConsentError, MicrosoftClient, MicrosoftConfig, SCOPES,
};
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
        headers: vec![("content-type", "application/json".into())],
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
    fn query(&self) -> HashMap<String, String> {
        url::form_urlencoded::parse(self.query.as_deref().unwrap_or("").as_bytes())
            .into_owned()
            .collect()
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
const PREFIX: &str = "/msish";
const TOKEN_PATH: &str = "/common/oauth2/v2.0/token";
const REDIRECT_URI: &str = "https://convene.example/connections/microsoft/callback";

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

    /// An absolute URL on this server, as a nextLink carries it.
    fn url(&self, path_and_query: &str) -> String {
        format!("{}{path_and_query}", self.base)
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

    fn client(&self) -> MicrosoftClient {
        let http = HttpClient::new(HttpConfig::default())
            .unwrap()
            .with_clock(|| Timestamp::from_second(NOW).unwrap());
        MicrosoftClient::new(
            MicrosoftConfig {
                client_id: "client-id".into(),
                client_secret: Secret::from("client-secret"),
                tenant: "common".into(),
                login_base_url: self.base.clone(),
                graph_base_url: format!("{}/", self.base),
                redirect_uri: REDIRECT_URI.into(),
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
    Secret::from("access-1")
}

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn draft() -> EventDraft {
    EventDraft {
        key: "booking-42/host-7".into(),
        summary: "Intro call with Ada".into(),
        description: "Join: https://teams.microsoft.com/l/meetup-join/abc".into(),
        location: Some("https://teams.microsoft.com/l/meetup-join/abc".into()),
        start: ts("2026-12-01T15:00:00Z"),
        end: ts("2026-12-01T15:30:00Z"),
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

const INVALID_TOKEN: &str = r#"{"error":{"code":"InvalidAuthenticationToken","message":"Access token has expired or is not yet valid.","innerError":{"date":"2026-12-01T15:00:00","request-id":"r","client-request-id":"c"}}}"#;
const ITEM_NOT_FOUND: &str = r#"{"error":{"code":"ErrorItemNotFound","message":"The specified object was not found in the store."}}"#;
const EVENT_JSON: &str = r#"{"@odata.etag":"W/\"DwAAABYAAAA\"","id":"AAMkAGI1AAAt9AHjAAA=","changeKey":"DwAAABYAAAA","subject":"Intro call with Ada","transactionId":"x"}"#;
const MEETING_JSON: &str = r#"{"id":"MSpkYzE3Njc0Yy04MWQ5","creationDateTime":"2026-11-01T10:00:00Z","startDateTime":"2026-12-01T15:00:00Z","endDateTime":"2026-12-01T15:30:00Z","joinUrl":"https://teams.microsoft.com/l/meetup-join/old","joinWebUrl":"https://teams.microsoft.com/l/meetup-join/19%3ameeting","subject":"Intro call","joinMeetingIdSettings":{"isPasscodeRequired":true,"joinMeetingId":"1234567890","passcode":"aB3dE"}}"#;

// ---------------------------------------------------------------- OAuth

#[tokio::test]
async fn authorize_url_asks_for_a_code_with_pkce_and_the_scopes() {
    let server = TestServer::start().await;
    let pkce = Pkce::generate();
    let state = "s t&a=te/é?";
    let url = url::Url::parse(&server.client().authorize_url(state, &pkce)).unwrap();
    assert_eq!(url.path(), format!("{PREFIX}/common/oauth2/v2.0/authorize"));
    let q: HashMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(q.len(), 8, "{q:?}");
    assert_eq!(q["client_id"], "client-id");
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["redirect_uri"], REDIRECT_URI);
    assert_eq!(q["response_mode"], "query");
    assert_eq!(
        q["scope"],
        "openid profile email offline_access User.Read OnlineMeetings.ReadWrite Calendars.ReadWrite"
    );
    assert_eq!(q["state"], state);
    assert_eq!(q["code_challenge"], pkce.challenge);
    assert_eq!(q["code_challenge_method"], "S256");
    assert!(!url.as_str().contains(pkce.verifier.expose()));
}

#[tokio::test]
async fn code_exchange_posts_the_secret_verifier_and_scope_in_the_form() {
    let server = TestServer::start().await;
    server.on(
        "POST",
        TOKEN_PATH,
        vec![reply(200, r#"{"token_type":"Bearer","scope":"User.Read Calendars.ReadWrite OnlineMeetings.ReadWrite profile openid email","expires_in":3599,"ext_expires_in":3599,"access_token":"at-1","refresh_token":"rt-1","id_token":"eyJ0.eyJ1.sig"}"#)],
    );
    let pkce = Pkce::from_verifier(Secret::from("the-verifier"));
    let tokens = server
        .client()
        .exchange_code("the-code", &pkce)
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
    assert!(tokens.scope.unwrap().contains("Calendars.ReadWrite"));

    let seen = server.seen("POST", TOKEN_PATH);
    assert_eq!(seen.len(), 1);
    let r = &seen[0];
    assert_eq!(
        r.header("content-type"),
        "application/x-www-form-urlencoded"
    );
    assert_eq!(r.header("authorization"), "");
    let form = r.form();
    assert_eq!(form["grant_type"], "authorization_code");
    assert_eq!(form["code"], "the-code");
    assert_eq!(form["redirect_uri"], REDIRECT_URI);
    assert_eq!(form["code_verifier"], "the-verifier");
    assert_eq!(form["client_id"], "client-id");
    assert_eq!(form["client_secret"], "client-secret");
    assert_eq!(form["scope"], SCOPES);
    assert_eq!(form.len(), 7);
}

#[tokio::test]
async fn refresh_returns_a_rotated_refresh_token_or_keeps_the_old_one() {
    let server = TestServer::start().await;
    server.on(
        "POST",
        TOKEN_PATH,
        vec![
            reply(
                200,
                r#"{"token_type":"Bearer","expires_in":"3599","access_token":"at-2","refresh_token":"rt-2"}"#,
            ),
            reply(200, r#"{"token_type":"Bearer","expires_in":4000,"access_token":"at-3"}"#),
        ],
    );
    let client = server.client();
    let tokens = client.refresh(&Secret::from("rt-1")).await.unwrap();
    assert_eq!(tokens.access_token.expose(), "at-2");
    assert_eq!(tokens.refresh_token.unwrap().expose(), "rt-2");
    assert_eq!(
        tokens.expires_at,
        Timestamp::from_second(NOW + 3599).unwrap()
    );
    // No refresh token in the answer: keep the one you have.
    let tokens = client.refresh(&Secret::from("rt-2")).await.unwrap();
    assert_eq!(tokens.access_token.expose(), "at-3");
    assert!(tokens.refresh_token.is_none());

    let seen = server.seen("POST", TOKEN_PATH);
    assert_eq!(seen.len(), 2);
    let form = seen[0].form();
    assert_eq!(form["grant_type"], "refresh_token");
    assert_eq!(form["refresh_token"], "rt-1");
    assert_eq!(form["client_secret"], "client-secret");
    assert_eq!(form["scope"], SCOPES);
    assert!(!form.contains_key("code_verifier"));
}

#[tokio::test]
async fn invalid_grant_needs_reauth_and_is_sent_once() {
    let server = TestServer::start().await;
    server.on(
        "POST",
        TOKEN_PATH,
        vec![reply(
            400,
            "{\"error\":\"invalid_grant\",\"error_description\":\"AADSTS70008: The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.\\r\\nTrace ID: 0b2a\\r\\nCorrelation ID: 77c1\\r\\nTimestamp: 2026-12-01 15:00:00Z\",\"error_codes\":[70008],\"timestamp\":\"2026-12-01 15:00:00Z\",\"trace_id\":\"0b2a\",\"correlation_id\":\"77c1\"}",
        )],
    );
    match server.client().refresh(&Secret::from("rt-old")).await {
        Err(ProviderError::NeedsReauth { reason }) => assert_eq!(
            reason,
            "AADSTS70008: The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource."
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(server.seen("POST", TOKEN_PATH).len(), 1);
}

#[tokio::test]
async fn a_failing_token_request_is_never_repeated() {
    let server = TestServer::start().await;
    server.on(
        "POST",
        TOKEN_PATH,
        vec![reply(503, "").header("retry-after", "0")],
    );
    assert!(matches!(
        server.client().refresh(&Secret::from("rt-1")).await,
        Err(ProviderError::Transient(_))
    ));
    server.on(
        "POST",
        TOKEN_PATH,
        vec![reply(429, "").header("retry-after", "0")],
    );
    let pkce = Pkce::generate();
    assert!(matches!(
        server.client().exchange_code("c", &pkce).await,
        Err(ProviderError::RateLimited { retry_after: Some(d) }) if d.is_zero()
    ));
    assert_eq!(server.seen("POST", TOKEN_PATH).len(), 2);
}

#[tokio::test]
async fn bad_client_credentials_are_rejected() {
    let server = TestServer::start().await;
    server.on(
        "POST",
        TOKEN_PATH,
        vec![reply(
            401,
            r#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.","error_codes":[7000215]}"#,
        )],
    );
    match server.client().exchange_code("c", &Pkce::generate()).await {
        Err(ProviderError::Rejected {
            status,
            code,
            message,
        }) => {
            assert_eq!((status, code.as_str()), (401, "invalid_client"));
            assert_eq!(message, "AADSTS7000215: Invalid client secret provided.");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn consent_errors_from_the_callback() {
    assert_eq!(
        parse_consent_error(
            "consent_required",
            Some("AADSTS65001: The user or administrator has not consented to use the application with ID 'client-id' named 'Convene'.")
        ),
        ConsentError::AdminConsentRequired
    );
    assert_eq!(
        parse_consent_error(
            "access_denied",
            Some("AADSTS90094: The grant requires admin permission.")
        ),
        ConsentError::AdminApprovalRequired
    );
    assert_eq!(
        parse_consent_error(
            "access_denied",
            Some("AADSTS65004: User declined to consent to access the app.")
        ),
        ConsentError::Denied
    );
    assert_eq!(
        parse_consent_error("access_denied", None),
        ConsentError::Denied
    );
    assert_eq!(
        parse_consent_error(
            "invalid_request",
            Some(
                "AADSTS900144: The request body must contain the following parameter: 'client_id'."
            )
        ),
        ConsentError::Other("AADSTS900144".into())
    );
    assert_eq!(
        parse_consent_error("temporarily_unavailable", None),
        ConsentError::Other("temporarily_unavailable".into())
    );
}

// ---------------------------------------------------------------- account and calendars

#[tokio::test]
async fn account_reads_me_and_falls_back_to_the_sign_in_name() {
    let server = TestServer::start().await;
    server.on(
        "GET",
        "/v1.0/me",
        vec![
            reply(200, r#"{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#users/$entity","businessPhones":[],"displayName":"Megan Bowen","givenName":"Megan","mail":"MeganB@contoso.com","userPrincipalName":"meganb@contoso.onmicrosoft.com","id":"48d31887-5fad-4d73-a9f5-3c356e68a038"}"#),
            reply(200, r#"{"displayName":null,"mail":null,"userPrincipalName":"otto@fabrikam.com","id":"u-2"}"#),
        ],
    );
    let client = server.client();
    let account = client.account(&access()).await.unwrap();
    assert_eq!(account.id, "48d31887-5fad-4d73-a9f5-3c356e68a038");
    assert_eq!(account.email, "MeganB@contoso.com");
    assert_eq!(account.display_name, "Megan Bowen");
    let account = client.account(&access()).await.unwrap();
    assert_eq!(
        (account.email.as_str(), account.display_name.as_str()),
        ("otto@fabrikam.com", "otto@fabrikam.com")
    );
    let seen = server.seen("GET", "/v1.0/me");
    assert_eq!(seen[0].header("authorization"), "Bearer access-1");
}

#[tokio::test]
async fn calendars_follow_next_link_and_map_default_and_can_edit() {
    let server = TestServer::start().await;
    let page1 = json!({
        "value": [
            {"id": "AAMkCal1=", "name": "Calendar", "isDefaultCalendar": true, "canEdit": true},
            {"id": "AAMkCal2=", "name": "United States holidays", "isDefaultCalendar": false, "canEdit": false},
        ],
        "@odata.nextLink": server.url("/v1.0/me/calendars?$skip=2"),
    });
    let page2 = json!({"value": [{"id": "AAMkCal3=", "name": "Team Events", "canEdit": true}]});
    server.on(
        "GET",
        "/v1.0/me/calendars",
        vec![
            reply(200, &page1.to_string()),
            reply(200, &page2.to_string()),
        ],
    );
    let calendars = server.client().calendars(&access()).await.unwrap();
    let summary: Vec<_> = calendars
        .iter()
        .map(|c| (c.id.as_str(), c.name.as_str(), c.primary, c.writable))
        .collect();
    assert_eq!(
        summary,
        [
            ("AAMkCal1=", "Calendar", true, true),
            ("AAMkCal2=", "United States holidays", false, false),
            ("AAMkCal3=", "Team Events", false, true),
        ]
    );
    let seen = server.seen("GET", "/v1.0/me/calendars");
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[1].query()["$skip"], "2");
    assert_eq!(seen[1].header("authorization"), "Bearer access-1");
}

// ---------------------------------------------------------------- busy times

fn view_event(start: &str, end: &str, show_as: &str, cancelled: bool) -> serde_json::Value {
    json!({
        "@odata.etag": "W/\"x\"",
        "id": format!("ev-{start}"),
        "showAs": show_as,
        "isCancelled": cancelled,
        "start": {"dateTime": format!("{start}.0000000"), "timeZone": "UTC"},
        "end": {"dateTime": format!("{end}.0000000"), "timeZone": "UTC"},
    })
}

#[tokio::test]
async fn busy_pages_the_calendar_view_and_skips_free_and_cancelled_events() {
    let server = TestServer::start().await;
    let view = "/v1.0/me/calendars/AAMkCal1=/calendarView";
    let page1 = json!({
        "value": [
            view_event("2026-12-01T15:00:00", "2026-12-01T16:00:00", "busy", false),
            view_event("2026-12-01T09:00:00", "2026-12-01T10:00:00", "free", false),
            view_event("2026-12-01T11:00:00", "2026-12-01T12:00:00", "tentative", false),
        ],
        "@odata.nextLink": server.url(&format!("{view}?startDateTime=2026-12-01T00:00:00Z&endDateTime=2026-12-02T00:00:00Z&$top=250&$skip=3")),
    });
    let page2 = json!({
        "value": [
            view_event("2026-12-01T13:00:00", "2026-12-01T14:00:00", "busy", true),
            view_event("2026-12-01T07:00:00", "2026-12-01T08:00:00", "oof", false),
            view_event("2026-12-01T17:00:00", "2026-12-01T18:00:00", "workingElsewhere", false),
        ],
    });
    server.on(
        "GET",
        view,
        vec![
            reply(200, &page1.to_string()),
            reply(200, &page2.to_string()),
        ],
    );
    server.on(
        "GET",
        "/v1.0/me/calendars/AAMkCal2=/calendarView",
        vec![reply(
            200,
            &json!({"value": [view_event("2026-12-01T15:30:00", "2026-12-01T16:30:00", "busy", false)]})
                .to_string(),
        )],
    );
    let busy = server
        .client()
        .busy(
            &access(),
            &["AAMkCal1=", "AAMkCal2="],
            ts("2026-12-01T00:00:00Z"),
            ts("2026-12-02T00:00:00Z"),
        )
        .await
        .unwrap();
    let span = |s: &str, e: &str| BusyTime {
        start: ts(s),
        end: ts(e),
    };
    assert_eq!(
        busy,
        [
            span("2026-12-01T07:00:00Z", "2026-12-01T08:00:00Z"),
            span("2026-12-01T11:00:00Z", "2026-12-01T12:00:00Z"),
            span("2026-12-01T15:00:00Z", "2026-12-01T16:00:00Z"),
            span("2026-12-01T15:30:00Z", "2026-12-01T16:30:00Z"),
            span("2026-12-01T17:00:00Z", "2026-12-01T18:00:00Z"),
        ]
    );

    let seen = server.seen("GET", view);
    assert_eq!(seen.len(), 2);
    let q = seen[0].query();
    assert_eq!(q["startDateTime"], "2026-12-01T00:00:00Z");
    assert_eq!(q["endDateTime"], "2026-12-02T00:00:00Z");
    assert_eq!(seen[1].query()["$skip"], "3");
    for r in &seen {
        assert_eq!(r.header("prefer"), "outlook.timezone=\"UTC\"");
        assert_eq!(r.header("authorization"), "Bearer access-1");
    }
}

#[tokio::test]
async fn busy_refuses_a_next_link_to_another_origin_or_a_repeated_one() {
    let server = TestServer::start().await;
    let view = "/v1.0/me/calendars/c1/calendarView";
    server.on(
        "GET",
        view,
        vec![reply(
            200,
            r#"{"value":[],"@odata.nextLink":"https://evil.example/v1.0/me/calendars/c1/calendarView?$skip=10"}"#,
        )],
    );
    let client = server.client();
    let window = (ts("2026-12-01T00:00:00Z"), ts("2026-12-02T00:00:00Z"));
    match client.busy(&access(), &["c1"], window.0, window.1).await {
        Err(ProviderError::Rejected { code, message, .. }) => {
            assert_eq!(code, "too_many_pages");
            assert!(message.contains("another origin"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    // The token never went to the other host: only the first page was fetched.
    assert_eq!(server.seen("GET", view).len(), 1);

    let same = json!({"value": [], "@odata.nextLink": server.url(&format!("{view}?$skip=10"))});
    server.on("GET", view, vec![reply(200, &same.to_string())]);
    assert!(matches!(
        client.busy(&access(), &["c1"], window.0, window.1).await,
        Err(ProviderError::Rejected { ref code, .. }) if code == "too_many_pages"
    ));
    assert_eq!(server.seen("GET", view).len(), 3);
}

#[tokio::test]
async fn an_unreadable_calendar_fails_busy_instead_of_looking_free() {
    let server = TestServer::start().await;
    server.on(
        "GET",
        "/v1.0/me/calendars/c1/calendarView",
        vec![reply(200, r#"{"value":[]}"#)],
    );
    server.on(
        "GET",
        "/v1.0/me/calendars/gone/calendarView",
        vec![reply(404, ITEM_NOT_FOUND)],
    );
    let window = (ts("2026-12-01T00:00:00Z"), ts("2026-12-02T00:00:00Z"));
    assert!(matches!(
        server
            .client()
            .busy(&access(), &["c1", "gone"], window.0, window.1)
            .await,
        Err(ProviderError::NotFound { .. })
    ));
    // An empty window asks nothing.
    let empty = server
        .client()
        .busy(&access(), &["c1"], window.1, window.0)
        .await
        .unwrap();
    assert!(empty.is_empty());
    assert_eq!(
        server
            .seen("GET", "/v1.0/me/calendars/c1/calendarView")
            .len(),
        1
    );
}

// ---------------------------------------------------------------- events

#[tokio::test]
async fn create_event_sends_a_stable_transaction_id_and_retries_to_the_same_event() {
    let server = TestServer::start().await;
    let path = "/v1.0/me/calendars/AAMkCal1=/events";
    server.on(
        "POST",
        path,
        vec![
            reply(
                503,
                r#"{"error":{"code":"serviceNotAvailable","message":"Service unavailable"}}"#,
            )
            .header("retry-after", "0"),
            reply(201, EVENT_JSON),
        ],
    );
    let client = server.client();
    let created = client
        .create_event(&access(), "AAMkCal1=", &draft())
        .await
        .unwrap();
    assert_eq!(created.id, "AAMkAGI1AAAt9AHjAAA=");
    assert_eq!(created.etag.as_deref(), Some("W/\"DwAAABYAAAA\""));
    // The job running again sends the same transactionId, and gets the same event.
    let again = client
        .create_event(&access(), "AAMkCal1=", &draft())
        .await
        .unwrap();
    assert_eq!(again, created);

    let seen = server.seen("POST", path);
    assert_eq!(seen.len(), 3);
    let body = seen[0].json();
    let transaction_id = body["transactionId"].as_str().unwrap().to_owned();
    assert!(transaction_id.starts_with("convene-"));
    assert!(seen
        .iter()
        .all(|r| r.json()["transactionId"] == transaction_id));
    let mut other = draft();
    other.key = "booking-43/host-7".into();
    client
        .create_event(&access(), "AAMkCal1=", &other)
        .await
        .unwrap();
    assert_ne!(
        server.seen("POST", path)[3].json()["transactionId"],
        transaction_id
    );

    assert_eq!(seen[0].header("authorization"), "Bearer access-1");
    assert_eq!(
        body,
        json!({
            "subject": "Intro call with Ada",
            "body": {"contentType": "text", "content": "Join: https://teams.microsoft.com/l/meetup-join/abc"},
            "start": {"dateTime": "2026-12-01T15:00:00", "timeZone": "UTC"},
            "end": {"dateTime": "2026-12-01T15:30:00", "timeZone": "UTC"},
            "location": {"displayName": "https://teams.microsoft.com/l/meetup-join/abc"},
            "attendees": [
                {"emailAddress": {"address": "ada@example.com", "name": "Ada Lovelace"}, "type": "required"},
                {"emailAddress": {"address": "bob@example.com"}, "type": "required"},
            ],
            "transactionId": transaction_id,
        })
    );
}

#[tokio::test]
async fn update_event_patches_every_field_but_the_transaction_id() {
    let server = TestServer::start().await;
    let path = "/v1.0/me/events/AAMkAGI1AAAt9AHjAAA=";
    server.on(
        "PATCH",
        path,
        vec![
            reply(
                429,
                r#"{"error":{"code":"TooManyRequests","message":"Please retry."}}"#,
            )
            .header("retry-after", "0"),
            reply(200, EVENT_JSON),
            reply(204, ""),
        ],
    );
    let client = server.client();
    let mut moved = draft();
    moved.start = ts("2026-12-02T09:00:00Z");
    moved.end = ts("2026-12-02T09:30:00Z");
    moved.location = None;
    let updated = client
        .update_event(&access(), "AAMkAGI1AAAt9AHjAAA=", &moved)
        .await
        .unwrap();
    assert_eq!(updated.id, "AAMkAGI1AAAt9AHjAAA=");
    let seen = server.seen("PATCH", path);
    assert_eq!(seen.len(), 2, "a 429 on a PATCH is retried");
    let body = seen[1].json();
    assert_eq!(
        body["start"],
        json!({"dateTime": "2026-12-02T09:00:00", "timeZone": "UTC"})
    );
    assert_eq!(body["location"], json!({"displayName": ""}));
    assert!(body.get("transactionId").is_none());
    // A 204 keeps the id.
    let updated = client
        .update_event(&access(), "AAMkAGI1AAAt9AHjAAA=", &moved)
        .await
        .unwrap();
    assert_eq!(
        (updated.id.as_str(), updated.etag),
        ("AAMkAGI1AAAt9AHjAAA=", None)
    );
}

#[tokio::test]
async fn delete_event_treats_not_found_as_done() {
    let server = TestServer::start().await;
    server.on("DELETE", "/v1.0/me/events/e1", vec![reply(204, "")]);
    server.on(
        "DELETE",
        "/v1.0/me/events/e2",
        vec![reply(404, ITEM_NOT_FOUND)],
    );
    server.on(
        "DELETE",
        "/v1.0/me/events/e3",
        vec![reply(404, "<html>Not Found</html>").header("content-type", "text/html")],
    );
    let client = server.client();
    client.delete_event(&access(), "e1").await.unwrap();
    client.delete_event(&access(), "e2").await.unwrap();
    // A 404 that is not Graph's JSON (wrong base URL?) must not look like "already deleted".
    assert!(matches!(
        client.delete_event(&access(), "e3").await,
        Err(ProviderError::Rejected { status: 404, .. })
    ));
    assert_eq!(server.seen("DELETE", "/v1.0/me/events/e2").len(), 1);
}

#[tokio::test]
async fn an_expired_access_token_is_unauthorized_and_not_retried() {
    let server = TestServer::start().await;
    server.on("GET", "/v1.0/me", vec![reply(401, INVALID_TOKEN)]);
    server.on(
        "POST",
        "/v1.0/me/calendars/c/events",
        vec![reply(401, INVALID_TOKEN)],
    );
    let client = server.client();
    assert!(matches!(
        client.account(&access()).await,
        Err(ProviderError::Unauthorized)
    ));
    assert!(matches!(
        client.create_event(&access(), "c", &draft()).await,
        Err(ProviderError::Unauthorized)
    ));
    assert_eq!(server.seen("GET", "/v1.0/me").len(), 1);
    assert_eq!(server.seen("POST", "/v1.0/me/calendars/c/events").len(), 1);
}

#[tokio::test]
async fn forbidden_is_rejected_with_graphs_code() {
    let server = TestServer::start().await;
    server.on(
        "POST",
        "/v1.0/me/calendars/ro/events",
        vec![reply(
            403,
            r#"{"error":{"code":"ErrorAccessDenied","message":"Access is denied. Check credentials and try again."}}"#,
        )],
    );
    match server
        .client()
        .create_event(&access(), "ro", &draft())
        .await
    {
        Err(ProviderError::Rejected { status, code, .. }) => {
            assert_eq!((status, code.as_str()), (403, "ErrorAccessDenied"))
        }
        other => panic!("{other:?}"),
    }
}

// ---------------------------------------------------------------- rate limits

#[tokio::test]
async fn a_rate_limited_read_waits_for_retry_after_then_succeeds() {
    let server = TestServer::start().await;
    server.on(
        "GET",
        "/v1.0/me",
        vec![
            reply(
                429,
                r#"{"error":{"code":"TooManyRequests","message":"Too many requests."}}"#,
            )
            .header("retry-after", "1"),
            reply(200, r#"{"id":"u","mail":"m@x.com","displayName":"M"}"#),
        ],
    );
    let started = Instant::now();
    let account = server.client().account(&access()).await.unwrap();
    assert_eq!(account.id, "u");
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(server.seen("GET", "/v1.0/me").len(), 2);
}

#[tokio::test]
async fn a_long_retry_after_is_left_to_the_caller() {
    let server = TestServer::start().await;
    server.on(
        "DELETE",
        "/v1.0/me/events/e1",
        vec![reply(429, "").header("retry-after", "60")],
    );
    let started = Instant::now();
    assert!(matches!(
        server.client().delete_event(&access(), "e1").await,
        Err(ProviderError::RateLimited { retry_after: Some(d) }) if d == Duration::from_secs(60)
    ));
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(server.seen("DELETE", "/v1.0/me/events/e1").len(), 1);
}

// ---------------------------------------------------------------- Teams meetings

#[tokio::test]
async fn online_meetings_are_created_once_updated_in_place_and_deleted() {
    let server = TestServer::start().await;
    server.on(
        "POST",
        "/v1.0/me/onlineMeetings",
        vec![
            reply(503, "").header("retry-after", "0"),
            reply(201, MEETING_JSON),
        ],
    );
    let client = server.client();
    let (start, end) = (ts("2026-12-01T15:00:00Z"), ts("2026-12-01T15:30:00Z"));
    // No idempotency guard on this create: a failure is not repeated.
    assert!(matches!(
        client
            .create_online_meeting(&access(), "Intro call", start, end)
            .await,
        Err(ProviderError::Transient(_))
    ));
    assert_eq!(server.seen("POST", "/v1.0/me/onlineMeetings").len(), 1);
    let meeting = client
        .create_online_meeting(&access(), "Intro call", start, end)
        .await
        .unwrap();
    assert_eq!(meeting.id, "MSpkYzE3Njc0Yy04MWQ5");
    assert_eq!(
        meeting.join_url,
        "https://teams.microsoft.com/l/meetup-join/19%3ameeting"
    );
    assert_eq!(meeting.join_meeting_id.as_deref(), Some("1234567890"));
    assert_eq!(meeting.passcode.as_deref(), Some("aB3dE"));
    assert_eq!(
        server.seen("POST", "/v1.0/me/onlineMeetings")[1].json(),
        json!({"subject": "Intro call", "startDateTime": "2026-12-01T15:00:00Z", "endDateTime": "2026-12-01T15:30:00Z"})
    );

    let path = "/v1.0/me/onlineMeetings/MSpkYzE3Njc0Yy04MWQ5";
    server.on("PATCH", path, vec![reply(204, "")]);
    server.on("GET", path, vec![reply(200, MEETING_JSON)]);
    server.on(
        "DELETE",
        path,
        vec![reply(204, ""), reply(404, ITEM_NOT_FOUND)],
    );
    let moved = client
        .update_online_meeting(
            &access(),
            "MSpkYzE3Njc0Yy04MWQ5",
            "Intro call",
            ts("2026-12-02T09:00:00Z"),
            ts("2026-12-02T09:30:00Z"),
        )
        .await
        .unwrap();
    assert_eq!(moved.join_url, meeting.join_url);
    assert_eq!(
        server.seen("PATCH", path)[0].json()["startDateTime"],
        "2026-12-02T09:00:00Z"
    );
    client
        .delete_online_meeting(&access(), "MSpkYzE3Njc0Yy04MWQ5")
        .await
        .unwrap();
    client
        .delete_online_meeting(&access(), "MSpkYzE3Njc0Yy04MWQ5")
        .await
        .unwrap();
    server.on("GET", path, vec![reply(404, ITEM_NOT_FOUND)]);
    assert!(matches!(
        client
            .get_online_meeting(&access(), "MSpkYzE3Njc0Yy04MWQ5")
            .await,
        Err(ProviderError::NotFound { .. })
    ));
}
