//! Calendars end to end over HTTP against the built-in Google and Microsoft sandboxes:
//! connecting through OAuth, busy times that hide slots, a calendar that cannot be read
//! (never shown as free), booked meetings written, moved and deleted, consent errors,
//! CalDAV input errors, and disconnecting.

use convene_app::Actor;
use convene_test_support::{Member, TestApp, TestOrg};
use reqwest::StatusCode;
use serde_json::{json, Value};

async fn put_json(t: &TestApp, key: &str, path: &str, body: Value) -> (StatusCode, Value) {
    let r = t
        .client
        .put(t.api(path))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn actor_of(t: &TestApp, org: &TestOrg, m: &Member) -> Actor {
    let mut tx = t.app.store.read().await.unwrap();
    let org_id = tx.org_by_slug(&org.slug).await.unwrap().id;
    Actor::from_user(&tx.user(org_id, m.id.parse().unwrap()).await.unwrap())
}

/// Connects a calendar provider the way the browser does: start, consent, callback.
async fn connect(
    t: &TestApp,
    org: &TestOrg,
    m: &Member,
    provider: &str,
    account: &str,
) -> (StatusCode, Option<String>, String) {
    let actor = actor_of(t, org, m).await;
    let authorize = t
        .app
        .start_connect(&actor, &m.session, provider)
        .await
        .unwrap();
    let callback = t.consent(&authorize, account).await;
    let path = callback
        .strip_prefix(&t.url)
        .unwrap_or(&callback)
        .to_string();
    t.page(&m.session, &path).await
}

async fn host_with_hours(t: &TestApp, org: &TestOrg, email: &str) -> Member {
    let m = t.member(org, email, "meetings").await;
    let days: serde_json::Map<String, Value> = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        .iter()
        .map(|d| (d.to_string(), json!(["08:00-20:00"])))
        .collect();
    let (status, body) = put_json(
        t,
        &org.key,
        &format!("/users/{}/availability", m.id),
        json!({"weekly": days}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = put_json(
        t,
        &org.key,
        &format!("/users/{}/meeting-location", m.id),
        json!({"kind": "manual", "url": "https://meet.example.com/room"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    m
}

async fn personal_event(t: &TestApp, org: &TestOrg, host: &Member) -> Value {
    let (status, et) = t
        .post(&org.key, "/event-types", json!({"kind": "personal", "title": "Chat", "duration_min": 30, "hosts": [{"user_id": host.id}]}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{et}");
    et
}

async fn slots(t: &TestApp, et: &Value) -> Value {
    let r = t
        .client
        .get(t.api(&format!(
            "/event-types/{}/slots",
            et["id"].as_str().unwrap()
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

fn starts(s: &Value) -> Vec<String> {
    s["slots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["start"].as_str().unwrap().to_string())
        .collect()
}

async fn book(t: &TestApp, et: &Value, start: &str) -> Value {
    let r = t
        .client
        .post(t.api("/bookings"))
        .json(&json!({"event_type_id": et["id"], "start": start, "name": "Ivy", "email": "ivy@client.example", "time_zone": "UTC"}))
        .send()
        .await
        .unwrap();
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

#[tokio::test]
async fn google_busy_times_hide_slots_and_booked_meetings_are_written_moved_and_deleted() {
    let t = TestApp::spawn().await;
    let org = t.create_org("Acme").await;
    let host = host_with_hours(&t, &org, "host@acme.example").await;
    let (status, location, body) = connect(&t, &org, &host, "google", "gina@google.sandbox").await;
    assert!(status.is_redirection(), "{status} {body}");
    assert!(location.unwrap().starts_with("/settings/calendars"));
    let (status, cals) = t
        .get(&org.key, &format!("/users/{}/calendars", host.id))
        .await;
    assert_eq!(status, StatusCode::OK, "{cals}");
    assert_eq!(cals[0]["provider"], "google");
    assert_eq!(cals[0]["account"], "gina@google.sandbox");
    let primary = cals[0]["calendars"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["primary"] == true)
        .unwrap()
        .clone();
    assert_eq!(
        primary["write_target"], true,
        "the primary calendar receives meetings"
    );
    assert_eq!(primary["check_conflicts"], true);

    let et = personal_event(&t, &org, &host).await;
    let before = starts(&slots(&t, &et).await);
    let taken: jiff::Timestamp = before[2].parse().unwrap();
    let google = t.google.clone().unwrap();
    google
        .add_busy(
            "gina@google.sandbox",
            taken,
            taken
                .checked_add(jiff::SignedDuration::from_mins(30))
                .unwrap(),
            "Dentist",
        )
        .unwrap();
    // Cached busy times are fresh for a minute; after that the new event counts.
    t.clock.advance(jiff::SignedDuration::from_mins(16));
    let after = starts(&slots(&t, &et).await);
    assert!(!after.contains(&before[2]), "the busy slot is gone");
    assert!(after.contains(&before[5]));
    let (status, busy) = t
        .get(
            &org.key,
            &format!(
                "/users/{}/busy?from={}&to={}",
                host.id,
                before[0],
                before.last().unwrap()
            ),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{busy}");
    assert_eq!(busy.as_array().unwrap().len(), 1);

    // Booking: the event is written to the primary calendar with the meeting link.
    let start = after[5].clone();
    let booked = book(&t, &et, &start).await;
    let token = booked["manage_token"].as_str().unwrap().to_string();
    t.run_jobs().await;
    let written: Vec<_> = google
        .events()
        .into_iter()
        .filter(|e| !e.deleted && e.summary.contains("Chat"))
        .collect();
    assert_eq!(written.len(), 1, "{written:?}");
    assert_eq!(written[0].start.to_string(), start);
    assert!(written[0]
        .location
        .as_deref()
        .unwrap_or_default()
        .contains("https://meet.example.com/room"));
    assert!(written[0]
        .attendees
        .iter()
        .any(|a| a.email == "ivy@client.example"));

    // Reschedule moves the same event; a retried job does not create another.
    let new_start = after[8].clone();
    let r = t
        .client
        .post(t.api(&format!("/bookings/manage/{token}/reschedule")))
        .json(&json!({"start": new_start}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    t.run_jobs().await;
    let live: Vec<_> = google
        .events()
        .into_iter()
        .filter(|e| !e.deleted && e.summary.contains("Chat"))
        .collect();
    assert_eq!(live.len(), 1);
    assert_eq!(live[0].id, written[0].id, "moved, not re-created");
    assert_eq!(live[0].start.to_string(), new_start);

    // Cancel deletes it.
    let r = t
        .client
        .post(t.api(&format!("/bookings/manage/{token}/cancel")))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    t.run_jobs().await;
    assert!(google
        .events()
        .into_iter()
        .filter(|e| e.summary.contains("Chat"))
        .all(|e| e.deleted));
}

#[tokio::test]
async fn a_calendar_that_cannot_be_read_takes_its_host_off_the_booking_page_and_needs_action() {
    let t = TestApp::spawn().await;
    let org = t.create_org("Acme").await;
    let host = host_with_hours(&t, &org, "host@acme.example").await;
    connect(&t, &org, &host, "google", "gina@google.sandbox").await;
    let et = personal_event(&t, &org, &host).await;
    assert!(!starts(&slots(&t, &et).await).is_empty());
    let google = t.google.clone().unwrap();
    google.set_faults(convene_sandbox::Faults {
        error_rate: 1.0,
        ..Default::default()
    });
    t.clock.advance(jiff::SignedDuration::from_mins(16));
    let s = slots(&t, &et).await;
    assert!(starts(&s).is_empty(), "unknown is never free");
    assert_eq!(s["unavailable_hosts"][0]["reason"], "calendar_unreadable");
    let (_, users) = t.get(&org.key, "/users?filter=all").await;
    let me = users["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == "host@acme.example")
        .unwrap()
        .clone();
    assert!(
        me["action_reasons"]
            .to_string()
            .contains("calendar_unreadable"),
        "{me}"
    );
    let (_, cals) = t
        .get(&org.key, &format!("/users/{}/calendars", host.id))
        .await;
    assert!(cals[0]["read_error"].is_string(), "{cals}");
    // Booking straight through the API is refused too.
    let tomorrow = t
        .app
        .now()
        .checked_add(jiff::SignedDuration::from_hours(30))
        .unwrap()
        .round(jiff::Unit::Hour)
        .unwrap();
    let r = t.client.post(t.api("/bookings")).json(&json!({"event_type_id": et["id"], "start": tomorrow.to_string(), "name": "Ivy", "email": "ivy@client.example", "time_zone": "UTC"})).send().await.unwrap();
    assert!(r.status().is_client_error());

    // Once the calendar reads again, the host is back and needs no action.
    google.set_faults(convene_sandbox::Faults::default());
    t.clock.advance(jiff::SignedDuration::from_mins(16));
    assert!(!starts(&slots(&t, &et).await).is_empty());
    let (_, users) = t.get(&org.key, "/users?filter=all").await;
    let me = users["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == "host@acme.example")
        .unwrap()
        .clone();
    assert!(
        !me["action_reasons"]
            .to_string()
            .contains("calendar_unreadable"),
        "{me}"
    );
}

#[tokio::test]
async fn microsoft_consent_errors_explain_that_the_tenant_admin_must_consent() {
    let t = TestApp::spawn().await;
    let org = t.create_org("Acme").await;
    let host = host_with_hours(&t, &org, "host@acme.example").await;
    for account in ["nora@microsoft.sandbox", "otto@microsoft.sandbox"] {
        let (status, _, body) = connect(&t, &org, &host, "microsoft", account).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{account}: {body}");
        assert!(
            body.contains("admin must consent") || body.contains("admin must approve"),
            "{body}"
        );
    }
    let (status, _, body) = connect(&t, &org, &host, "microsoft", "dan@microsoft.sandbox").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (_, cals) = t
        .get(&org.key, &format!("/users/{}/calendars", host.id))
        .await;
    assert!(cals.as_array().unwrap().is_empty(), "nothing stored");
    // Megan connects; both of her calendars are listed, the default receives meetings.
    let (status, _, body) = connect(&t, &org, &host, "microsoft", "megan@microsoft.sandbox").await;
    assert!(status.is_redirection(), "{body}");
    let (_, cals) = t
        .get(&org.key, &format!("/users/{}/calendars", host.id))
        .await;
    assert_eq!(cals[0]["provider"], "microsoft");
    assert!(cals[0]["calendars"].as_array().unwrap().len() >= 2);
}

#[tokio::test]
async fn choosing_calendars_and_disconnecting_revokes_and_deletes() {
    let t = TestApp::spawn().await;
    let org = t.create_org("Acme").await;
    let host = host_with_hours(&t, &org, "host@acme.example").await;
    connect(&t, &org, &host, "google", "gina@google.sandbox").await;
    let (_, cals) = t.get(&host.key, "/users/me/calendars").await;
    let conn = cals[0]["connection_id"].as_str().unwrap().to_string();
    let list = cals[0]["calendars"].as_array().unwrap().clone();
    let team = list
        .iter()
        .find(|c| c["primary"] == false && c["writable"] == true)
        .unwrap();
    let read_only = list.iter().find(|c| c["writable"] == false).unwrap();
    let choose = |cal: &Value, check: bool, write: bool| json!({"connection_id": conn, "calendar_id": cal["calendar_id"], "check_conflicts": check, "write_target": write});
    let r = t
        .client
        .patch(t.api("/users/me/calendars"))
        .bearer_auth(&host.key)
        .json(&choose(team, true, true))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let after: Value = r.json().await.unwrap();
    let targets: Vec<_> = after[0]["calendars"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["write_target"] == true)
        .collect();
    assert_eq!(targets.len(), 1);
    assert_eq!(targets[0]["calendar_id"], team["calendar_id"]);
    let r = t
        .client
        .patch(t.api("/users/me/calendars"))
        .bearer_auth(&host.key)
        .json(&choose(read_only, false, true))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "a read-only calendar cannot receive meetings"
    );
    let r = t.client.patch(t.api("/users/me/calendars")).bearer_auth(&host.key).json(&json!({"connection_id": conn, "calendar_id": "nope", "check_conflicts": true, "write_target": false})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // Another member cannot touch them.
    let other = t.member(&org, "other@acme.example", "meetings").await;
    let (status, _) = t
        .get(&other.key, &format!("/users/{}/calendars", host.id))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let google = t.google.clone().unwrap();
    let before = google.stats().revocations;
    let (status, _) = t.delete(&host.key, "/users/me/calendars/google").await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(google.stats().revocations, before + 1, "revoked at Google");
    let (_, cals) = t.get(&host.key, "/users/me/calendars").await;
    assert!(cals.as_array().unwrap().is_empty());
    let (status, _) = t.delete(&host.key, "/users/me/calendars/google").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = t.delete(&host.key, "/users/me/calendars/outlook").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn caldav_input_that_is_not_a_calendar_server_is_refused_clearly() {
    let t = TestApp::spawn().await;
    let org = t.create_org("Acme").await;
    let host = host_with_hours(&t, &org, "host@acme.example").await;
    let cases = [
        (
            json!({"server_url": "not a url", "username": "u", "password": "p"}),
            "http(s) URL",
        ),
        (
            json!({"server_url": "ftp://example.com/", "username": "u", "password": "p"}),
            "http(s) URL",
        ),
        (
            json!({"server_url": "https://example.com/", "username": "", "password": "p"}),
            "user name",
        ),
        // This server answers HTML: it is not a CalDAV server.
        (
            json!({"server_url": format!("{}/login", t.url), "username": "u", "password": "p"}),
            "CalDAV",
        ),
        // Nothing listens here.
        (
            json!({"server_url": "http://127.0.0.1:9/", "username": "u", "password": "p"}),
            "CalDAV",
        ),
    ];
    for (body, needle) in cases {
        let r = t
            .client
            .post(t.api("/me/calendars/caldav"))
            .bearer_auth(&host.key)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let err: Value = r.json().await.unwrap();
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {err}");
        assert!(
            err["error"]["message"].as_str().unwrap().contains(needle),
            "{body}: {err}"
        );
    }
    let (_, cals) = t.get(&host.key, "/users/me/calendars").await;
    assert!(cals.as_array().unwrap().is_empty());
}

#[tokio::test]
async fn deactivating_a_user_revokes_and_deletes_their_calendar_credentials() {
    let t = TestApp::spawn().await;
    let org = t.create_org("Acme").await;
    let host = host_with_hours(&t, &org, "host@acme.example").await;
    connect(&t, &org, &host, "google", "gina@google.sandbox").await;
    connect(&t, &org, &host, "microsoft", "megan@microsoft.sandbox").await;
    let (_, cals) = t
        .get(&org.key, &format!("/users/{}/calendars", host.id))
        .await;
    assert_eq!(cals.as_array().unwrap().len(), 2);
    let google = t.google.clone().unwrap();
    let before = google.stats().revocations;
    let (status, body) = t
        .post(
            &org.key,
            &format!("/users/{}/deactivate", host.id),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    t.run_jobs().await;
    assert_eq!(google.stats().revocations, before + 1, "revoked at Google");
    let mut tx = t.app.store.read().await.unwrap();
    let left = tx
        .connections_of_user(host.id.parse().unwrap())
        .await
        .unwrap();
    assert!(left.is_empty(), "credentials deleted");
}
