//! The control surface: busy events, faults, revoke and expire through the JSON API,
//! the events list, and the HTML page with its forms.

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::harness::*;

#[tokio::test]
async fn busy_events_through_the_control_api() {
    let sandbox = start().await;
    let (status, body) = json_of(
        sandbox
            .control(
                "busy",
                json!({"account": "MEGAN@microsoft.sandbox", "start": "2026-12-01T15:00:00Z", "end": "2026-12-01T16:00:00+00:00", "subject": "Dentist"}),
            )
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["account"], MEGAN);
    let tokens = sandbox.connect(MEGAN).await;
    assert_eq!(
        body["calendar_id"],
        sandbox.default_calendar(&tokens.access).await.as_str()
    );

    // A new email becomes a user; the subject defaults to "Busy".
    let (status, _) = json_of(
        sandbox
            .control("busy", json!({"account": "ada@example.com", "start": "2026-12-01T09:00", "end": "2026-12-01T10:00"}))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);

    for (body, expected) in [
        (
            json!({"account": "nobody", "start": "2026-12-01T09:00:00Z", "end": "2026-12-01T10:00:00Z"}),
            StatusCode::NOT_FOUND,
        ),
        (
            json!({"account": MEGAN, "start": "2026-12-01T10:00:00Z", "end": "2026-12-01T09:00:00Z"}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"account": MEGAN, "start": "soon", "end": "2026-12-01T09:00:00Z"}),
            StatusCode::BAD_REQUEST,
        ),
        (json!({"account": MEGAN}), StatusCode::BAD_REQUEST),
    ] {
        let (status, answer) = json_of(sandbox.control("busy", body).await).await;
        assert_eq!(status, expected, "{answer}");
        assert!(answer["error"].is_string());
    }

    let events: Value = sandbox
        .http
        .get(sandbox.url("/control/events"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let events = events.as_array().unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0]["subject"], "Dentist");
    assert_eq!(events[0]["start"], "2026-12-01T15:00:00Z");
    assert_eq!(events[0]["deleted"], false);
    assert_eq!(events[1]["subject"], "Busy");
    assert_eq!(events[1]["account"], "ada@example.com");
    // The busy time shows in Graph.
    let (_, view) = sandbox
        .get(
            "/me/calendarView?startDateTime=2026-12-01T00:00:00Z&endDateTime=2026-12-02T00:00:00Z",
            &tokens.access,
        )
        .await;
    assert_eq!(view["value"][0]["subject"], "Dentist");
}

#[tokio::test]
async fn faults_revoke_and_expire_through_the_control_api() {
    let sandbox = start().await;
    let tokens = sandbox.connect(MEGAN).await;

    let (status, body) = json_of(sandbox.control("expire", json!({"account": MEGAN})).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["expired_tokens"], 1);
    assert_eq!(
        sandbox.get("/me", &tokens.access).await.0,
        StatusCode::UNAUTHORIZED
    );
    let fresh = crate::harness::tokens(sandbox.refresh(&tokens.refresh).await).await;

    let (status, body) = json_of(sandbox.control("revoke", json!({"account": MEGAN})).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["revoked_grants"], 1);
    assert_eq!(
        sandbox.refresh(&fresh.refresh).await.status(),
        StatusCode::BAD_REQUEST
    );
    let (status, _) = json_of(
        sandbox
            .control("revoke", json!({"account": "nobody@example.com"}))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let ada = sandbox.connect("ada@example.com").await;
    let (status, body) = json_of(
        sandbox
            .control(
                "faults",
                json!({"rate_limit_rate": 1.0, "retry_after_secs": 2, "latency_ms": 10}),
            )
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["retry_after_secs"], 2);
    assert_eq!(sandbox.ms.faults().rate_limit_rate, 1.0);
    let response = sandbox
        .graph(reqwest::Method::GET, "/me", &ada.access, None)
        .await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(response.headers()["retry-after"], "2");
    let (status, _) = json_of(sandbox.control("faults", json!({"error_rate": 2.0})).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = json_of(sandbox.control("faults", json!({})).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(sandbox.get("/me", &ada.access).await.0, StatusCode::OK);
}

#[tokio::test]
async fn the_control_page_lists_users_events_and_meetings() {
    let sandbox = start().await;
    let tokens = sandbox.connect(MEGAN).await;
    let page = |sandbox: Sandbox| async move {
        let response = sandbox
            .http
            .get(sandbox.url("/control"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        response.text().await.unwrap()
    };
    let html = page(sandbox.clone()).await;
    assert!(html.contains(r#"id="events""#) && html.contains(r#"id="no-events""#));
    assert!(html.contains(r#"data-user="megan@microsoft.sandbox""#));
    for id in [
        "busy-form",
        "busy-account",
        "busy-start",
        "busy-end",
        "busy-subject",
        "add-busy",
        "faults",
        "clear-faults",
    ] {
        assert!(html.contains(&format!(r#"id="{id}""#)), "{id}");
    }
    assert!(html.contains(r#"action="/sandbox/microsoft/control/busy""#));

    let body = event_body(
        "Intro call",
        "2026-12-01T15:00:00",
        "2026-12-01T15:30:00",
        Some("t"),
    );
    let (_, created) = sandbox.post("/me/events", &tokens.access, body).await;
    let id = created["id"].as_str().unwrap();
    sandbox
        .delete(&format!("/me/events/{id}"), &tokens.access)
        .await;
    let (_, meeting) = sandbox
        .post(
            "/me/onlineMeetings",
            &tokens.access,
            json!({"subject": "Teams"}),
        )
        .await;

    // The page's busy form posts a form and comes back with a message.
    let response = sandbox
        .http
        .post(sandbox.url("/control/busy"))
        .form(&[
            ("account", MEGAN),
            ("start", "2026-12-01T09:00"),
            ("end", "2026-12-01T10:00"),
            ("subject", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()["location"].to_str().unwrap();
    assert!(
        location.starts_with("/sandbox/microsoft/control?message="),
        "{location}"
    );

    let html = page(sandbox.clone()).await;
    assert!(!html.contains(r#"id="no-events""#));
    assert!(html.contains(&format!(r#"data-event-id="{id}" data-status="deleted""#)));
    assert_eq!(html.matches(r#"data-status="confirmed""#).count(), 1);
    assert!(html.contains(r#"<td class="start">2026-12-01T09:00:00Z</td>"#));
    assert!(html.contains(&format!(
        r#"data-meeting-id="{}" data-status="scheduled""#,
        meeting["id"].as_str().unwrap()
    )));
    let stats: Value = sandbox
        .http
        .get(sandbox.url("/control/stats"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["events_created"], 1);
    assert_eq!(stats["users"][0]["email"], MEGAN);
    assert_eq!(stats["users"][0]["connected"], true);
    assert_eq!(stats["users"][0]["calendars"].as_array().unwrap().len(), 2);
}
