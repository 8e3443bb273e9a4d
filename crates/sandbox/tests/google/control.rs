//! The control surface: busy times added by hand (JSON and the page's form), revoking
//! and expiring a user's tokens, faults, the JSON views and the HTML page.

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::harness::*;

#[tokio::test]
async fn a_busy_time_added_from_the_control_api_shows_in_free_busy() {
    let sandbox = start().await;
    let tokens = sandbox.connect("gina@google.sandbox").await;
    let (status, event) = json_of(
        sandbox
            .control(
                "busy",
                json!({
                    "account": "Gina@Google.Sandbox",
                    "start": "2026-12-01T15:00:00Z",
                    "end": "2026-12-01T16:00:00+00:00",
                    "summary": "Dentist",
                }),
            )
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{event}");
    assert_eq!(event["calendar_id"], "gina@google.sandbox");
    assert_eq!(event["account"], "gina@google.sandbox");
    assert_eq!(event["summary"], "Dentist");
    assert_eq!(event["start"], "2026-12-01T15:00:00Z");
    assert_eq!(event["deleted"], false);
    let (status, team) = json_of(
        sandbox
            .control(
                "busy",
                json!({
                    "account": "gina@google.sandbox", "calendar": "Team events",
                    "start": "2026-12-01T17:00", "end": "2026-12-01T18:00",
                }),
            )
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(team["summary"], "Busy");
    assert_eq!(team["start"], "2026-12-01T17:00:00Z", "a local time is UTC");

    let (_, body) = json_of(
        sandbox
            .free_busy(
                &tokens.access,
                json!({
                    "timeMin": "2026-12-01T00:00:00Z", "timeMax": "2026-12-02T00:00:00Z",
                    "items": [{"id": "primary"}, {"id": team["calendar_id"]}],
                }),
            )
            .await,
    )
    .await;
    assert_eq!(
        body["calendars"]["primary"]["busy"],
        json!([{"start": "2026-12-01T15:00:00Z", "end": "2026-12-01T16:00:00Z"}])
    );
    assert_eq!(
        body["calendars"][team["calendar_id"].as_str().unwrap()]["busy"],
        json!([{"start": "2026-12-01T17:00:00Z", "end": "2026-12-01T18:00:00Z"}])
    );

    // Busy time for someone who has not connected yet: they become a user.
    let (status, _) = json_of(
        sandbox
            .control("busy", json!({"account": "newcomer@example.com", "start": "2026-12-01T15:00:00Z", "end": "2026-12-01T16:00:00Z"}))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(sandbox
        .google
        .stats()
        .user("newcomer@example.com")
        .is_some());

    for bad in [
        json!({"account": "gina@google.sandbox", "start": "soon", "end": "2026-12-01T16:00:00Z"}),
        json!({"account": "gina@google.sandbox", "start": "2026-12-01T16:00:00Z", "end": "2026-12-01T15:00:00Z"}),
        json!({"account": "gina@google.sandbox", "calendar": "Nope", "start": "2026-12-01T15:00:00Z", "end": "2026-12-01T16:00:00Z"}),
        json!({"account": "not an email", "start": "2026-12-01T15:00:00Z", "end": "2026-12-01T16:00:00Z"}),
        json!({"start": "2026-12-01T15:00:00Z", "end": "2026-12-01T16:00:00Z"}),
    ] {
        let (status, body) = json_of(sandbox.control("busy", bad.clone()).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(body["error"].is_string(), "{bad}");
    }
    assert_eq!(sandbox.google.events().len(), 3);
}

#[tokio::test]
async fn revoke_and_expire_from_the_control_api() {
    let sandbox = start().await;
    let tokens = sandbox.connect("gina@google.sandbox").await;

    let (status, body) = json_of(
        sandbox
            .control("expire", json!({"account": "gina@google.sandbox"}))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["expired_tokens"], 1);
    assert_eq!(
        sandbox.userinfo(&tokens.access).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let (status, refreshed) = json_of(sandbox.refresh(&tokens.refresh).await).await;
    assert_eq!(status, StatusCode::OK);
    let access = refreshed["access_token"].as_str().unwrap();
    assert_eq!(sandbox.userinfo(access).await.status(), StatusCode::OK);

    let (status, body) = json_of(
        sandbox
            .control("revoke", json!({"account": "gina@google.sandbox"}))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["revoked_grants"], 1);
    let (status, body) = json_of(sandbox.refresh(&tokens.refresh).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"error": "invalid_grant", "error_description": "Token has been expired or revoked."})
    );
    assert_eq!(
        sandbox.userinfo(access).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let stats = sandbox.google.stats();
    let gina = stats.user("gina@google.sandbox").unwrap();
    assert!(!gina.connected);
    assert_eq!(gina.refresh_failures, 1);
    assert!(gina
        .last_event
        .as_deref()
        .unwrap()
        .starts_with("access removed"));

    let (status, _) = json_of(
        sandbox
            .control("revoke", json!({"account": "nobody@x.test"}))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = json_of(sandbox.control("expire", json!({"user": "gina"})).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(!sandbox.google.revoke_grants("nobody@x.test"));
    assert!(sandbox.google.expire_access_tokens("gina@google.sandbox"));
}

#[tokio::test]
async fn faults_from_the_control_api() {
    let sandbox = start().await;
    let tokens = sandbox.connect("gina@google.sandbox").await;
    let (status, body) = json_of(
        sandbox
            .control(
                "faults",
                json!({"rate_limit_rate": 1.0, "retry_after_secs": 3}),
            )
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["rate_limit_rate"], 1.0);
    assert_eq!(sandbox.google.faults().retry_after_secs, 3);
    let response = sandbox.userinfo(&tokens.access).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(response.headers()["retry-after"], "3");
    let (status, _) = json_of(sandbox.control("faults", json!({"error_rate": 2})).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = json_of(sandbox.control("faults", json!({})).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        sandbox.userinfo(&tokens.access).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn the_json_views() {
    let sandbox = start().await;
    let tokens = sandbox.connect("gina@google.sandbox").await;
    sandbox
        .insert_event(
            &tokens.access,
            "primary",
            event_body("event00001", "2026-12-01T15:00:00Z", "2026-12-01T15:30:00Z"),
        )
        .await;
    let (status, events) = json_of(
        sandbox
            .http
            .get(sandbox.url("/control/events"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        events,
        json!([{
            "calendar_id": "gina@google.sandbox",
            "account": "gina@google.sandbox",
            "id": "event00001",
            "summary": "Intro call with Ada",
            "description": "Join: https://zoom.sandbox/j/1",
            "location": "https://zoom.sandbox/j/1",
            "start": "2026-12-01T15:00:00Z",
            "end": "2026-12-01T15:30:00Z",
            "all_day": false,
            "attendees": [{"email": "ada@example.com", "display_name": "Ada Lovelace"}],
            "transparent": false,
            "updates": 0,
            "deleted": false,
        }])
    );
    let (status, stats) = json_of(
        sandbox
            .http
            .get(sandbox.url("/control/stats"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(stats["token_exchanges"], 1);
    assert_eq!(stats["events_created"], 1);
    // The seeded accounts come first, each with three calendars.
    assert_eq!(stats["users"][0]["email"], "gina@google.sandbox");
    assert_eq!(stats["users"][0]["connected"], true);
    assert_eq!(stats["users"][1]["email"], "denise@google.sandbox");
    assert_eq!(stats["users"][1]["calendars"].as_array().unwrap().len(), 3);
    assert_eq!(stats["users"][1]["calendars"][2]["access_role"], "reader");
}

async fn page(sandbox: &Sandbox, path_and_query: &str) -> String {
    let origin = sandbox.base.trim_end_matches("/sandbox/google");
    sandbox
        .http
        .get(format!("{origin}{path_and_query}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_control_page_lists_users_calendars_and_events() {
    let sandbox = start().await;
    let html = page(&sandbox, "/sandbox/google/control").await;
    // The table is there before any event, so a browser can wait for it.
    assert!(html.contains(r#"id="events""#) && html.contains(r#"id="no-events""#));
    assert!(!html.contains("data-event-id"));
    for expected in [
        r#"data-user="gina@google.sandbox""#,
        r#"data-user="denise@google.sandbox""#,
        r#"data-calendar-id="en.usa#holiday@group.v.calendar.google.com""#,
        "Team events",
        r#"id="busy-form""#,
        r#"action="/sandbox/google/control/busy""#,
        r#"action="/sandbox/google/control/faults""#,
    ] {
        assert!(html.contains(expected), "{expected}");
    }
    let sub = sandbox
        .google
        .stats()
        .user("gina@google.sandbox")
        .unwrap()
        .sub
        .clone();
    assert!(html.contains(&format!(r#"id="revoke-{sub}""#)));

    let tokens = sandbox.connect("gina@google.sandbox").await;
    sandbox
        .insert_event(
            &tokens.access,
            "primary",
            event_body("kept000001", "2026-12-01T15:00:00Z", "2026-12-01T15:30:00Z"),
        )
        .await;
    sandbox
        .insert_event(
            &tokens.access,
            "primary",
            event_body("gone000001", "2026-12-01T16:00:00Z", "2026-12-01T16:30:00Z"),
        )
        .await;
    sandbox
        .event(
            reqwest::Method::DELETE,
            &tokens.access,
            "primary",
            "gone000001",
            None,
        )
        .await;

    // The page's busy form: datetime-local values, read as UTC; a 303 back with a message.
    let response = sandbox
        .http
        .post(sandbox.url("/control/busy"))
        .form(&[
            ("account", "gina@google.sandbox"),
            ("calendar", ""),
            ("start", "2026-12-01T18:00"),
            ("end", "2026-12-01T19:00"),
            ("summary", "Gym <b>"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()["location"].to_str().unwrap().to_string();
    assert!(
        location.starts_with("/sandbox/google/control?message="),
        "{location}"
    );

    let html = page(&sandbox, &location).await;
    assert!(html.contains("Added “Gym &lt;b&gt;”"), "{html}");
    assert!(!html.contains(r#"id="no-events""#));
    assert!(html.contains(r#"<tr data-event-id="kept000001" data-calendar-id="gina@google.sandbox" data-status="confirmed">"#));
    assert!(html.contains(r#"<tr data-event-id="gone000001" data-calendar-id="gina@google.sandbox" data-status="deleted">"#));
    for cell in [
        r#"<td class="summary">Intro call with Ada</td>"#,
        r#"<td class="start">2026-12-01T15:00:00Z</td>"#,
        r#"<td class="end">2026-12-01T15:30:00Z</td>"#,
        r#"<td class="location">https://zoom.sandbox/j/1</td>"#,
        r#"<td class="account">gina@google.sandbox</td>"#,
        r#"<td class="attendees">Ada Lovelace &lt;ada@example.com&gt;</td>"#,
        r#"<td class="summary">Gym &lt;b&gt;</td>"#,
        r#"<td class="start">2026-12-01T18:00:00Z</td>"#,
    ] {
        assert!(html.contains(cell), "{cell}");
    }

    // A form error comes back as the message.
    let response = sandbox
        .http
        .post(sandbox.url("/control/busy"))
        .form(&[
            ("account", "gina@google.sandbox"),
            ("start", "x"),
            ("end", "y"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let html = page(&sandbox, response.headers()["location"].to_str().unwrap()).await;
    assert!(html.contains("start must be a date and time"));

    // The revoke button.
    let response = sandbox
        .http
        .post(sandbox.url("/control/revoke"))
        .form(&[("account", "gina@google.sandbox")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        sandbox.refresh(&tokens.refresh).await.status(),
        StatusCode::BAD_REQUEST
    );
    let events: Value = sandbox.google.events().len().into();
    assert_eq!(events, 3);
}
