//! The Microsoft adapter against the built-in Microsoft sandbox (convene-sandbox),
//! over real HTTP: two independent implementations of the same wire format checking
//! each other, as Convene runs them when pointed at `/sandbox/microsoft`.

#![allow(clippy::unwrap_used)] // helpers outside #[test] fns unwrap too; a panic is a test failure

use axum::Router;
use convene_providers::calendar::{Attendee, BusyTime, EventDraft};
use convene_providers::http::{HttpClient, HttpConfig};
use convene_providers::microsoft::{
    parse_consent_error, ConsentError, MicrosoftClient, MicrosoftConfig,
};
use convene_providers::{Pkce, ProviderError, Secret, TokenSet};
use convene_sandbox::{Faults, MicrosoftSandbox, MicrosoftSandboxConfig};
use jiff::{SignedDuration, Timestamp};
use std::collections::HashMap;
use std::time::Duration;

const REDIRECT_URI: &str = "https://convene.test/connections/microsoft/callback";
const MEGAN: &str = "megan@microsoft.sandbox";

struct Setup {
    sandbox: MicrosoftSandbox,
    client: MicrosoftClient,
    http: reqwest::Client,
}

async fn setup() -> Setup {
    let sandbox = MicrosoftSandbox::new(MicrosoftSandboxConfig {
        client_id: "convene".into(),
        client_secret: "convene-secret".into(),
        access_token_ttl: Duration::from_secs(3599),
    });
    let router = Router::new().nest("/sandbox/microsoft", sandbox.router());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let base = format!("http://{addr}/sandbox/microsoft");
    let client = MicrosoftClient::new(
        MicrosoftConfig {
            client_id: "convene".into(),
            client_secret: Secret::from("convene-secret"),
            tenant: "common".into(),
            login_base_url: base.clone(),
            graph_base_url: base,
            redirect_uri: REDIRECT_URI.into(),
        },
        HttpClient::new(HttpConfig::default()).unwrap(),
    );
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    Setup {
        sandbox,
        client,
        http,
    }
}

impl Setup {
    /// The browser's part: Convene's authorize URL, the consent form posted as
    /// `account`, and the callback's query parameters.
    async fn consent(&self, account: &str, pkce: &Pkce) -> HashMap<String, String> {
        let url = self.client.authorize_url("state-1", pkce);
        let response = self
            .http
            .post(url)
            .form(&[("account", account)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 302);
        let location = response.headers()["location"].to_str().unwrap();
        assert!(location.starts_with(REDIRECT_URI), "{location}");
        let query: HashMap<String, String> = url::Url::parse(location)
            .unwrap()
            .query_pairs()
            .into_owned()
            .collect();
        assert_eq!(query["state"], "state-1");
        query
    }

    async fn connect(&self, account: &str) -> TokenSet {
        let pkce = Pkce::generate();
        let callback = self.consent(account, &pkce).await;
        self.client
            .exchange_code(&callback["code"], &pkce)
            .await
            .unwrap()
    }
}

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn draft(key: &str) -> EventDraft {
    EventDraft {
        key: key.into(),
        summary: "Intro call with Ada".into(),
        description: "Join: https://teams.example/l/1".into(),
        location: Some("https://teams.example/l/1".into()),
        start: ts("2026-12-01T15:00:00Z"),
        end: ts("2026-12-01T15:30:00Z"),
        attendees: vec![Attendee {
            name: Some("Ada Lovelace".into()),
            email: "ada@example.com".into(),
        }],
    }
}

#[tokio::test]
async fn connecting_reads_the_account_and_its_calendars() {
    let s = setup().await;
    let tokens = s.connect(MEGAN).await;
    assert!(tokens.refresh_token.is_some());
    assert!(tokens.expires_at > Timestamp::now());
    let account = s.client.account(&tokens.access_token).await.unwrap();
    assert_eq!(account.email, MEGAN);
    assert_eq!(account.display_name, "Megan Bowen");
    assert_eq!(account.id, s.sandbox.stats().user(MEGAN).unwrap().id);
    let calendars = s.client.calendars(&tokens.access_token).await.unwrap();
    let summary: Vec<_> = calendars
        .iter()
        .map(|c| (c.name.as_str(), c.primary, c.writable))
        .collect();
    assert_eq!(
        summary,
        [("Calendar", true, true), ("Team Events", false, true)]
    );
}

#[tokio::test]
async fn the_sandbox_accounts_refusals_parse_to_consent_errors() {
    let s = setup().await;
    for (account, expected) in [
        ("nora@microsoft.sandbox", ConsentError::AdminConsentRequired),
        (
            "otto@microsoft.sandbox",
            ConsentError::AdminApprovalRequired,
        ),
        ("dan@microsoft.sandbox", ConsentError::Denied),
    ] {
        let callback = s.consent(account, &Pkce::generate()).await;
        assert!(!callback.contains_key("code"), "{account}");
        assert_eq!(
            parse_consent_error(
                &callback["error"],
                callback.get("error_description").map(String::as_str)
            ),
            expected,
            "{account}"
        );
    }
}

#[tokio::test]
async fn refresh_rotates_and_dead_grants_need_reauth() {
    let s = setup().await;
    let first = s.connect(MEGAN).await;
    let old_refresh = first.refresh_token.clone().unwrap();
    let second = s.client.refresh(&old_refresh).await.unwrap();
    let new_refresh = second.refresh_token.clone().unwrap();
    assert_ne!(new_refresh, old_refresh);
    match s.client.refresh(&old_refresh).await {
        Err(ProviderError::NeedsReauth { reason }) => {
            assert!(reason.starts_with("AADSTS70008:"), "{reason}");
            assert!(!reason.contains("Trace ID"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    assert!(s.sandbox.expire_access_tokens(MEGAN));
    assert!(matches!(
        s.client.account(&second.access_token).await,
        Err(ProviderError::Unauthorized)
    ));
    assert!(s.sandbox.revoke_grants(MEGAN));
    assert!(matches!(
        s.client.refresh(&new_refresh).await,
        Err(ProviderError::NeedsReauth { reason }) if reason.starts_with("AADSTS50173:")
    ));
    let stats = s.sandbox.stats();
    assert_eq!((stats.token_refreshes, stats.refresh_failures), (1, 2));
}

#[tokio::test]
async fn busy_reads_every_page_and_skips_free_and_deleted_events() {
    let s = setup().await;
    let tokens = s.connect(MEGAN).await;
    let access = &tokens.access_token;
    let calendars = s.client.calendars(access).await.unwrap();
    let ids: Vec<String> = calendars.iter().map(|c| c.id.clone()).collect();
    // More than one page of the adapter's $top (250).
    let day = ts("2026-12-01T00:00:00Z");
    for i in 0..260 {
        let start = day + SignedDuration::from_mins(5 * i);
        s.sandbox
            .add_busy(MEGAN, start, start + SignedDuration::from_mins(5), None)
            .unwrap();
    }
    // A free event (made through Graph as Outlook would) and one in the second calendar.
    let response = s
        .http
        .post(format!(
            "{}/v1.0/me/events",
            s.client.config().graph_base_url
        ))
        .bearer_auth(access.expose())
        .json(&serde_json::json!({
            "subject": "Focus time",
            "showAs": "free",
            "start": {"dateTime": "2026-12-02T09:00:00", "timeZone": "UTC"},
            "end": {"dateTime": "2026-12-02T10:00:00", "timeZone": "UTC"},
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let team = s
        .client
        .create_event(access, &ids[1], &draft("team"))
        .await
        .unwrap();
    let deleted = s
        .client
        .create_event(access, &ids[1], &draft("deleted"))
        .await
        .unwrap();
    assert_ne!(team.id, deleted.id);
    s.client.delete_event(access, &deleted.id).await.unwrap();

    let busy = s
        .client
        .busy(access, &ids, day, ts("2026-12-03T00:00:00Z"))
        .await
        .unwrap();
    assert_eq!(busy.len(), 261);
    assert_eq!(
        busy[0],
        BusyTime {
            start: day,
            end: ts("2026-12-01T00:05:00Z")
        }
    );
    assert!(busy.contains(&BusyTime {
        start: ts("2026-12-01T15:00:00Z"),
        end: ts("2026-12-01T15:30:00Z")
    }));
    assert!(busy.iter().all(|b| b.start < ts("2026-12-02T00:00:00Z")));
    assert!(busy.windows(2).all(|w| w[0] <= w[1]));
}

#[tokio::test]
async fn events_are_created_once_moved_in_place_and_deleted() {
    let s = setup().await;
    let tokens = s.connect(MEGAN).await;
    let access = &tokens.access_token;
    let calendar = s.client.calendars(access).await.unwrap()[0].id.clone();
    let first = s
        .client
        .create_event(access, &calendar, &draft("booking-1/host-1"))
        .await
        .unwrap();
    // The job runs again (its first answer was lost): same transactionId, same event.
    let again = s
        .client
        .create_event(access, &calendar, &draft("booking-1/host-1"))
        .await
        .unwrap();
    assert_eq!(again.id, first.id);
    let events = s.sandbox.events();
    assert_eq!(events.len(), 1);
    let event = &events[0];
    assert_eq!(event.subject, "Intro call with Ada");
    assert_eq!(event.body, "Join: https://teams.example/l/1");
    assert_eq!(event.location, "https://teams.example/l/1");
    assert_eq!(event.attendees[0].email, "ada@example.com");
    assert_eq!(event.start, ts("2026-12-01T15:00:00Z"));

    let mut moved = draft("booking-1/host-1");
    moved.start = ts("2026-12-02T09:00:00Z");
    moved.end = ts("2026-12-02T09:30:00Z");
    moved.location = None;
    let updated = s
        .client
        .update_event(access, &first.id, &moved)
        .await
        .unwrap();
    assert_eq!(updated.id, first.id);
    assert_ne!(updated.etag, first.etag);
    let event = &s.sandbox.events()[0];
    assert_eq!((event.start, event.end), (moved.start, moved.end));
    assert_eq!(event.location, "");
    assert_eq!(event.updates, 1);

    s.client.delete_event(access, &first.id).await.unwrap();
    // Deleting again (a retried job) is fine.
    s.client.delete_event(access, &first.id).await.unwrap();
    assert!(matches!(
        s.client.update_event(access, &first.id, &moved).await,
        Err(ProviderError::NotFound { .. })
    ));
    assert!(s.sandbox.events()[0].deleted);
    let stats = s.sandbox.stats();
    assert_eq!(
        (
            stats.events_created,
            stats.events_deduplicated,
            stats.events_deleted
        ),
        (1, 1, 1)
    );
}

#[tokio::test]
async fn teams_meetings_are_created_moved_in_place_and_deleted() {
    let s = setup().await;
    let tokens = s.connect(MEGAN).await;
    let access = &tokens.access_token;
    let meeting = s
        .client
        .create_online_meeting(
            access,
            "Intro call",
            ts("2026-12-01T15:00:00Z"),
            ts("2026-12-01T15:30:00Z"),
        )
        .await
        .unwrap();
    assert!(meeting
        .join_url
        .starts_with("https://teams.microsoft.sandbox/l/meetup-join/"));
    assert!(meeting.join_meeting_id.is_some() && meeting.passcode.is_some());
    let moved = s
        .client
        .update_online_meeting(
            access,
            &meeting.id,
            "Intro call",
            ts("2026-12-02T09:00:00Z"),
            ts("2026-12-02T09:30:00Z"),
        )
        .await
        .unwrap();
    assert_eq!(moved, meeting);
    assert_eq!(
        s.sandbox.online_meetings()[0].start,
        ts("2026-12-02T09:00:00Z")
    );
    s.client
        .delete_online_meeting(access, &meeting.id)
        .await
        .unwrap();
    s.client
        .delete_online_meeting(access, &meeting.id)
        .await
        .unwrap();
    assert!(matches!(
        s.client.get_online_meeting(access, &meeting.id).await,
        Err(ProviderError::NotFound { .. })
    ));
    let meetings = s.sandbox.online_meetings();
    assert_eq!(meetings.len(), 1);
    assert!(meetings[0].deleted);
}

#[tokio::test]
async fn the_sandboxs_rate_limits_reach_the_caller_with_retry_after() {
    let s = setup().await;
    let tokens = s.connect(MEGAN).await;
    s.sandbox.set_faults(Faults {
        rate_limit_rate: 1.0,
        retry_after_secs: 60,
        ..Faults::default()
    });
    assert!(matches!(
        s.client.account(&tokens.access_token).await,
        Err(ProviderError::RateLimited { retry_after: Some(d) }) if d == Duration::from_secs(60)
    ));
    // The refresh is sent once and not spent by the refusal.
    let refresh = tokens.refresh_token.clone().unwrap();
    assert!(matches!(
        s.client.refresh(&refresh).await,
        Err(ProviderError::RateLimited { .. })
    ));
    s.sandbox.set_faults(Faults::default());
    s.client.refresh(&refresh).await.unwrap();
    let stats = s.sandbox.stats();
    assert_eq!(stats.injected_rate_limits, 2);
}
