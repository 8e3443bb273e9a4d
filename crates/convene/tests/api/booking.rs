//! Scheduling and booking end to end over HTTP: event types, slots, atomic booking,
//! the Zoom meeting each booking gets (against the sandbox), its emails, reschedule,
//! cancel, idempotency, faults, and bad input.

use convene_test_support::{Member, TestApp, TestOrg};
use reqwest::StatusCode;
use serde_json::{json, Value};

const EVERY_DAY: &str = "08:00-20:00";

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

async fn public_post(
    t: &TestApp,
    path: &str,
    body: Value,
    key: Option<&str>,
) -> (StatusCode, Value) {
    let mut r = t.client.post(t.api(path)).json(&body);
    if let Some(k) = key {
        r = r.header("Idempotency-Key", k);
    }
    let r = r.send().await.unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn public_get(t: &TestApp, path: &str) -> (StatusCode, Value) {
    let r = t.client.get(t.api(path)).send().await.unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// Working hours every day, so tests do not depend on the weekday they run on.
async fn open_every_day(t: &TestApp, key: &str, user: &str) {
    let days: serde_json::Map<String, Value> = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        .iter()
        .map(|d| (d.to_string(), json!([EVERY_DAY])))
        .collect();
    let (status, body) = put_json(
        t,
        key,
        &format!("/users/{user}/availability"),
        json!({"weekly": days}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn zoom_host(t: &TestApp, org: &TestOrg, email: &str, zoom_account: &str) -> Member {
    let m = t.member(org, email, "meetings").await;
    let (status, _, body) = t.connect_zoom(&m.session, zoom_account).await;
    assert!(status.is_redirection() || status.is_success(), "{body}");
    open_every_day(t, &org.key, &m.id).await;
    m
}

async fn event_type(t: &TestApp, org: &TestOrg, body: Value) -> Value {
    let (status, et) = t.post(&org.key, "/event-types", body).await;
    assert_eq!(status, StatusCode::CREATED, "{et}");
    et
}

async fn slots(t: &TestApp, et: &Value) -> Vec<Value> {
    let (status, body) = public_get(
        t,
        &format!("/event-types/{}/slots", et["id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["slots"].as_array().unwrap().clone()
}

fn booking_body(et: &Value, start: &str, email: &str) -> Value {
    json!({
        "event_type_id": et["id"],
        "start": start,
        "name": "Ivy Invitee",
        "email": email,
        "time_zone": "America/New_York",
    })
}

async fn booking_count(t: &TestApp, org: &TestOrg) -> usize {
    let (status, body) = t.get(&org.key, "/bookings?limit=500").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["bookings"].as_array().unwrap().len()
}

async fn emails_to(t: &TestApp, key: &str, to: &str) -> Vec<Value> {
    t.run_jobs().await;
    let (status, body) = t.get(key, &format!("/outbox?to={to}")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body.as_array().unwrap().clone()
}

#[tokio::test]
async fn a_round_robin_booking_gets_its_own_zoom_meeting_which_moves_and_is_deleted() {
    let t = TestApp::spawn().await;
    let org = t.create_org("Acme").await;
    let a = zoom_host(&t, &org, "ann@acme.example", "alice@zoom.sandbox").await;
    let b = zoom_host(&t, &org, "bob@acme.example", "bea@zoom.sandbox").await;
    let et = event_type(
        &t,
        &org,
        json!({"kind": "round_robin", "title": "Intro call", "duration_min": 30,
               "questions": [{"label": "Company", "kind": "short_text", "required": true}],
               "hosts": [{"user_id": a.id}, {"user_id": b.id}]}),
    )
    .await;
    assert!(
        et["hosts"]
            .as_array()
            .unwrap()
            .iter()
            .all(|h| h["bookable"] == true),
        "{et}"
    );
    let free = slots(&t, &et).await;
    assert!(!free.is_empty());
    let start = free[3]["start"].as_str().unwrap().to_string();

    let mut body = booking_body(&et, &start, "ivy@client.example");
    body["answers"] = json!({"q1": "Client Co"});
    let (status, booked) = public_post(&t, "/bookings", body, None).await;
    assert_eq!(status, StatusCode::CREATED, "{booked}");
    assert_eq!(booked["booking"]["meeting_state"], "pending");
    let token = booked["manage_token"].as_str().unwrap().to_string();
    let id = booked["booking"]["id"].as_str().unwrap().to_string();
    let host = booked["booking"]["host_id"].as_str().unwrap().to_string();

    // The job creates the meeting on the assigned host's own Zoom account.
    let mail = emails_to(&t, &org.key, "ivy@client.example").await;
    assert_eq!(mail.len(), 1, "one confirmation: {mail:?}");
    let (_, stored) = t.get(&org.key, &format!("/bookings/{id}")).await;
    assert_eq!(stored["meeting_state"], "ready", "{stored}");
    let join_url = stored["join_url"].as_str().unwrap().to_string();
    let meetings = t.sandbox().meetings();
    assert_eq!(meetings.len(), 1);
    let expected_zoom = if host == a.id {
        "alice@zoom.sandbox"
    } else {
        "bea@zoom.sandbox"
    };
    assert_eq!(meetings[0].host_email, expected_zoom);
    assert_eq!(meetings[0].join_url, join_url);
    assert_eq!(meetings[0].start_time.to_string(), start);
    let text = mail[0]["text"].as_str().unwrap();
    assert!(text.contains(&join_url), "{text}");
    assert!(
        text.contains(&format!("/booking/{token}/reschedule")),
        "{text}"
    );
    assert!(text.contains(&format!("/booking/{token}/cancel")), "{text}");
    let ics = mail[0]["calendar"].as_str().unwrap();
    assert!(
        ics.contains("METHOD:REQUEST") && ics.contains(&format!("UID:{id}@convene")),
        "{ics}"
    );
    // The host hears about it too, with the invitee's answers.
    let host_email = if host == a.id { &a.email } else { &b.email };
    let host_mail = emails_to(&t, &org.key, host_email).await;
    assert!(host_mail[0]["text"].as_str().unwrap().contains("Client Co"));

    // Reschedule from the invitee's link: the same meeting moves.
    let new_start = free[6]["start"].as_str().unwrap().to_string();
    let (status, moved) = public_post(
        &t,
        &format!("/bookings/manage/{token}/reschedule"),
        json!({"start": new_start}),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{moved}");
    let mail = emails_to(&t, &org.key, "ivy@client.example").await;
    assert_eq!(mail.len(), 2, "{mail:?}");
    let meetings = t.sandbox().meetings();
    if moved["host_id"] == host {
        assert_eq!(meetings.len(), 1, "updated in place, not re-created");
        assert_eq!(meetings[0].start_time.to_string(), new_start);
        assert_eq!(meetings[0].updates, 1);
        assert!(!meetings[0].deleted);
    } else {
        assert_eq!(meetings.iter().filter(|m| !m.deleted).count(), 1);
    }
    let ics = mail[0]["calendar"].as_str().unwrap();
    assert!(
        ics.contains("SEQUENCE:2")
            && mail[0]["subject"]
                .as_str()
                .unwrap()
                .starts_with("Rescheduled"),
        "{ics}"
    );

    // Cancel: the Zoom meeting is deleted and everyone gets a CANCEL.
    let (status, cancelled) = public_post(
        &t,
        &format!("/bookings/manage/{token}/cancel"),
        json!({"reason": "Something came up"}),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{cancelled}");
    assert_eq!(cancelled["status"], "cancelled");
    let mail = emails_to(&t, &org.key, "ivy@client.example").await;
    assert!(mail[0]["calendar"]
        .as_str()
        .unwrap()
        .contains("METHOD:CANCEL"));
    assert!(mail[0]["text"]
        .as_str()
        .unwrap()
        .contains("Something came up"));
    assert!(t.sandbox().meetings().iter().all(|m| m.deleted));
    let (_, stored) = t.get(&org.key, &format!("/bookings/{id}")).await;
    assert_eq!(stored["meeting_state"], "removed");

    // Cancel again: idempotent, and no more email.
    let (status, _) = public_post(
        &t,
        &format!("/bookings/manage/{token}/cancel"),
        json!({}),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(emails_to(&t, &org.key, "ivy@client.example").await.len(), 3);

    // The slot is free again, and the meeting is on record with a CSV export.
    assert!(slots(&t, &et)
        .await
        .iter()
        .any(|s| s["start"] == new_start.as_str()));
    let r = t
        .client
        .get(t.api("/bookings.csv"))
        .bearer_auth(&org.key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let csv = r.text().await.unwrap();
    assert!(
        csv.lines().count() == 2 && csv.contains("cancelled") && csv.contains("ivy@client.example"),
        "{csv}"
    );
}

#[tokio::test]
async fn racing_invitees_get_exactly_one_booking() {
    let t = TestApp::spawn().await;
    let org = t.create_org("Acme").await;
    let host = t.member(&org, "host@acme.example", "meetings").await;
    open_every_day(&t, &org.key, &host.id).await;
    let (status, _) = put_json(
        &t,
        &org.key,
        &format!("/users/{}/meeting-location", host.id),
        json!({"kind": "manual", "url": "https://meet.example.com/host"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let et = event_type(&t, &org, json!({"kind": "personal", "title": "Chat", "duration_min": 30, "hosts": [{"user_id": host.id}]})).await;
    let start = slots(&t, &et).await[2]["start"]
        .as_str()
        .unwrap()
        .to_string();
    let mut tasks = Vec::new();
    for i in 0..24 {
        let client = t.client.clone();
        let url = t.api("/bookings");
        let body = booking_body(&et, &start, &format!("racer{i}@client.example"));
        tasks.push(tokio::spawn(async move {
            let r = client.post(url).json(&body).send().await.unwrap();
            let status = r.status();
            (status, r.json::<Value>().await.unwrap())
        }));
    }
    let mut won = 0;
    for task in tasks {
        let (status, body) = task.await.unwrap();
        match status {
            StatusCode::CREATED => won += 1,
            StatusCode::CONFLICT => assert_eq!(body["error"]["code"], "slot_taken", "{body}"),
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(won, 1);
    assert_eq!(booking_count(&t, &org).await, 1);
    assert!(!slots(&t, &et)
        .await
        .iter()
        .any(|s| s["start"] == start.as_str()));
}

#[tokio::test]
async fn two_instances_on_one_database_never_double_book() {
    let a = TestApp::spawn().await;
    let url = a.database_url.clone().unwrap_or_else(|| {
        format!(
            "sqlite://{}?mode=rwc",
            a.dir.path().join("convene.db").display()
        )
    });
    let b = TestApp::builder()
        .with_database_url(url)
        .with_key_file_of(&a)
        .spawn()
        .await;
    let org = a.create_org("Acme").await;
    let host = a.member(&org, "host@acme.example", "meetings").await;
    open_every_day(&a, &org.key, &host.id).await;
    put_json(
        &a,
        &org.key,
        &format!("/users/{}/meeting-location", host.id),
        json!({"kind": "in_person", "address": "1 Main St"}),
    )
    .await;
    let et = event_type(&a, &org, json!({"kind": "personal", "title": "Chat", "duration_min": 30, "hosts": [{"user_id": host.id}]})).await;
    let start = slots(&a, &et).await[1]["start"]
        .as_str()
        .unwrap()
        .to_string();
    let mut tasks = Vec::new();
    for i in 0..16 {
        let t = if i % 2 == 0 { &a } else { &b };
        let client = t.client.clone();
        let url = t.api("/bookings");
        let body = booking_body(&et, &start, &format!("racer{i}@client.example"));
        tasks.push(tokio::spawn(async move {
            client.post(url).json(&body).send().await.unwrap().status()
        }));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::CREATED)
            .count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::CREATED || *s == StatusCode::CONFLICT),
        "{statuses:?}"
    );
    assert_eq!(booking_count(&a, &org).await, 1);
}

#[tokio::test]
async fn an_idempotency_key_replays_the_first_booking() {
    let t = TestApp::spawn().await;
    let org = t.create_org("Acme").await;
    let host = t.member(&org, "host@acme.example", "meetings").await;
    open_every_day(&t, &org.key, &host.id).await;
    put_json(
        &t,
        &org.key,
        &format!("/users/{}/meeting-location", host.id),
        json!({"kind": "manual", "phone": "+1 555 010 0000"}),
    )
    .await;
    let et = event_type(&t, &org, json!({"kind": "personal", "title": "Chat", "duration_min": 30, "hosts": [{"user_id": host.id}]})).await;
    let free = slots(&t, &et).await;
    let body = booking_body(
        &et,
        free[0]["start"].as_str().unwrap(),
        "ivy@client.example",
    );
    let (s1, first) = public_post(&t, "/bookings", body.clone(), Some("retry-1")).await;
    let (s2, again) = public_post(&t, "/bookings", body.clone(), Some("retry-1")).await;
    assert_eq!((s1, s2), (StatusCode::CREATED, StatusCode::OK));
    assert_eq!(first["booking"]["id"], again["booking"]["id"]);
    assert_eq!(first["manage_token"], again["manage_token"]);
    let other = booking_body(
        &et,
        free[1]["start"].as_str().unwrap(),
        "ivy@client.example",
    );
    let (s3, err) = public_post(&t, "/bookings", other, Some("retry-1")).await;
    assert_eq!(s3, StatusCode::CONFLICT);
    assert_eq!(err["error"]["code"], "idempotency_key_reused");
    assert_eq!(booking_count(&t, &org).await, 1);
    // Manual details need no meeting: the confirmation goes out at once, once.
    assert_eq!(emails_to(&t, &org.key, "ivy@client.example").await.len(), 1);
}

#[tokio::test]
async fn a_host_whose_zoom_is_missing_is_not_offered() {
    let t = TestApp::spawn().await;
    let org = t.create_org("Acme").await;
    let host = t.member(&org, "host@acme.example", "meetings").await;
    open_every_day(&t, &org.key, &host.id).await;
    put_json(
        &t,
        &org.key,
        &format!("/users/{}/meeting-location", host.id),
        json!({"kind": "zoom"}),
    )
    .await;
    let et = event_type(&t, &org, json!({"kind": "personal", "title": "Chat", "duration_min": 30, "hosts": [{"user_id": host.id}]})).await;
    assert_eq!(et["hosts"][0]["bookable"], false);
    assert_eq!(et["hosts"][0]["unbookable_reason"], "zoom_not_connected");
    let (status, body) = public_get(
        &t,
        &format!("/event-types/{}/slots", et["id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(body["slots"].as_array().unwrap().is_empty());
    assert_eq!(body["unavailable_hosts"][0]["reason"], "zoom_not_connected");
    let tomorrow = t
        .app
        .now()
        .checked_add(jiff::SignedDuration::from_hours(26))
        .unwrap()
        .round(jiff::Unit::Hour)
        .unwrap();
    let (status, _) = public_post(
        &t,
        "/bookings",
        booking_body(&et, &tomorrow.to_string(), "ivy@client.example"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(booking_count(&t, &org).await, 0);
}

#[tokio::test]
async fn zoom_faults_still_end_with_one_meeting_and_one_email_per_booking() {
    let t = TestApp::spawn().await;
    let org = t.create_org("Acme").await;
    let host = zoom_host(&t, &org, "host@acme.example", "alice@zoom.sandbox").await;
    let et = event_type(&t, &org, json!({"kind": "personal", "title": "Chat", "duration_min": 15, "hosts": [{"user_id": host.id}]})).await;
    let free = slots(&t, &et).await;
    t.sandbox().set_faults(convene_sandbox::Faults {
        latency: std::time::Duration::ZERO,
        error_rate: 0.3,
        rate_limit_rate: 0.15,
        retry_after_secs: 1,
    });
    let n = 12;
    for i in 0..n {
        let (status, body) = public_post(
            &t,
            "/bookings",
            booking_body(
                &et,
                free[i * 2]["start"].as_str().unwrap(),
                &format!("i{i}@client.example"),
            ),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    // Let every retry come due: advance the clock past each backoff until the queue is empty.
    for _ in 0..60 {
        t.run_jobs().await;
        t.clock.advance(jiff::SignedDuration::from_mins(10));
    }
    t.sandbox().set_faults(convene_sandbox::Faults::default());
    t.run_jobs().await;
    let live: Vec<_> = t
        .sandbox()
        .meetings()
        .into_iter()
        .filter(|m| !m.deleted)
        .collect();
    assert_eq!(live.len(), n, "one meeting per booking");
    for i in 0..n {
        let to = format!("i{i}@client.example");
        let (_, mail) = t.get(&org.key, &format!("/outbox?to={to}")).await;
        let mail = mail.as_array().unwrap();
        let confirmations = mail
            .iter()
            .filter(|m| m["subject"].as_str().unwrap().starts_with("Confirmed"))
            .count();
        assert_eq!(confirmations, 1, "{to}: {mail:?}");
    }
}

#[tokio::test]
async fn a_meeting_created_before_a_crash_is_adopted_not_duplicated() {
    let t = TestApp::spawn().await;
    let org = t.create_org("Acme").await;
    let host = zoom_host(&t, &org, "host@acme.example", "alice@zoom.sandbox").await;
    let et = event_type(&t, &org, json!({"kind": "personal", "title": "Chat", "duration_min": 30, "hosts": [{"user_id": host.id}]})).await;
    let start = slots(&t, &et).await[0]["start"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, booked) = public_post(
        &t,
        "/bookings",
        booking_body(&et, &start, "ivy@client.example"),
        None,
    )
    .await;
    let id: convene_domain::BookingId = booked["booking"]["id"].as_str().unwrap().parse().unwrap();
    // The state a crash right after Zoom answered leaves: the attempt is recorded, the
    // meeting exists at Zoom (with the booking's reference), its id is not stored.
    {
        let mut tx = t.app.store.write().await.unwrap();
        tx.mark_meeting_attempted(id, t.app.now()).await.unwrap();
        tx.commit().await.unwrap();
    }
    let conn = t
        .app
        .zoom_connection_id(host.id.parse().unwrap())
        .await
        .unwrap();
    let request = convene_providers::zoom::MeetingRequest {
        topic: "Chat".into(),
        start: start.parse().unwrap(),
        duration_minutes: 30,
        timezone: "UTC".into(),
        agenda: Some(convene_app::scheduling::meeting_sync::booking_ref(id)),
    };
    let zoom = t.app.providers.zoom.clone();
    t.app
        .with_access_token(&conn, |tok| {
            let (zoom, request) = (zoom.clone(), request.clone());
            async move { zoom.create_meeting(&tok, "me", &request).await }
        })
        .await
        .unwrap();
    let mail = emails_to(&t, &org.key, "ivy@client.example").await;
    assert_eq!(mail.len(), 1);
    let meetings = t.sandbox().meetings();
    assert_eq!(meetings.len(), 1, "adopted, not created again");
    let (_, stored) = t.get(&org.key, &format!("/bookings/{id}")).await;
    assert_eq!(stored["join_url"].as_str().unwrap(), meetings[0].join_url);
}

#[tokio::test]
async fn bad_booking_input_gets_a_4xx_and_writes_nothing() {
    let t = TestApp::spawn().await;
    let org = t.create_org("Acme").await;
    let host = t.member(&org, "host@acme.example", "meetings").await;
    open_every_day(&t, &org.key, &host.id).await;
    put_json(
        &t,
        &org.key,
        &format!("/users/{}/meeting-location", host.id),
        json!({"kind": "manual", "url": "https://meet.example.com/x"}),
    )
    .await;
    let et = event_type(
        &t,
        &org,
        json!({"kind": "personal", "title": "Chat", "duration_min": 30,
        "questions": [{"label": "Topic", "kind": "short_text", "required": true}],
        "hosts": [{"user_id": host.id}]}),
    )
    .await;
    let good_start = slots(&t, &et).await[0]["start"]
        .as_str()
        .unwrap()
        .to_string();
    let good = || {
        let mut b = booking_body(&et, &good_start, "ivy@client.example");
        b["answers"] = json!({"q1": "Roadmap"});
        b
    };
    let off_grid = good_start
        .parse::<jiff::Timestamp>()
        .unwrap()
        .checked_add(jiff::SignedDuration::from_mins(7))
        .unwrap()
        .to_string();
    let past = t
        .app
        .now()
        .checked_sub(jiff::SignedDuration::from_hours(3))
        .unwrap()
        .to_string();
    let far = t
        .app
        .now()
        .checked_add(jiff::SignedDuration::from_hours(24 * 400))
        .unwrap()
        .to_string();
    let cases: Vec<(&str, Value, StatusCode)> = vec![
        (
            "unknown event type",
            {
                let mut b = good();
                b["event_type_id"] = json!(convene_domain::EventTypeId::new().to_string());
                b
            },
            StatusCode::NOT_FOUND,
        ),
        (
            "malformed event type id",
            {
                let mut b = good();
                b["event_type_id"] = json!("nope");
                b
            },
            StatusCode::BAD_REQUEST,
        ),
        (
            "malformed email",
            {
                let mut b = good();
                b["email"] = json!("not-an-email");
                b
            },
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "empty name",
            {
                let mut b = good();
                b["name"] = json!("  ");
                b
            },
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "unknown time zone",
            {
                let mut b = good();
                b["time_zone"] = json!("Mars/Base");
                b
            },
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "start not a time",
            {
                let mut b = good();
                b["start"] = json!("tomorrow at 3");
                b
            },
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "past slot",
            {
                let mut b = good();
                b["start"] = json!(past);
                b
            },
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "slot off the grid",
            {
                let mut b = good();
                b["start"] = json!(off_grid);
                b
            },
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "beyond the booking window",
            {
                let mut b = good();
                b["start"] = json!(far);
                b
            },
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "missing required answer",
            {
                let mut b = good();
                b["answers"] = json!({});
                b
            },
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "oversized answer",
            {
                let mut b = good();
                b["answers"] = json!({"q1": "x".repeat(5000)});
                b
            },
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "unknown answer key",
            {
                let mut b = good();
                b["answers"] = json!({"q1": "a", "evil": "b"});
                b
            },
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "unknown field",
            {
                let mut b = good();
                b["admin"] = json!(true);
                b
            },
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ];
    for (what, body, expected) in cases {
        let (status, err) = public_post(&t, "/bookings", body, None).await;
        assert_eq!(status, expected, "{what}: {err}");
        assert!(
            err["error"]["code"].is_string() && err["error"]["message"].is_string(),
            "{what}: {err}"
        );
    }
    let r = t
        .client
        .post(t.api("/bookings"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let (status, _) = public_post(&t, "/bookings", good(), Some(&"k".repeat(500))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(booking_count(&t, &org).await, 0, "no partial write");

    // Forged and reused manage tokens.
    for token in ["forged-token", &"x".repeat(300)] {
        let (status, _) = public_get(&t, &format!("/bookings/manage/{token}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = public_post(
            &t,
            &format!("/bookings/manage/{token}/cancel"),
            json!({}),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = public_post(
            &t,
            &format!("/bookings/manage/{token}/reschedule"),
            json!({"start": good_start}),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
    let (status, booked) = public_post(&t, "/bookings", good(), None).await;
    assert_eq!(status, StatusCode::CREATED, "{booked}");
    let token = booked["manage_token"].as_str().unwrap();
    let (status, err) = public_post(
        &t,
        &format!("/bookings/manage/{token}/reschedule"),
        json!({"start": off_grid}),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    let (status, _) = public_post(
        &t,
        &format!("/bookings/manage/{token}/cancel"),
        json!({"reason": "x".repeat(2000)}),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    public_post(
        &t,
        &format!("/bookings/manage/{token}/cancel"),
        json!({}),
        None,
    )
    .await;
    // A cancelled booking's token cannot move it.
    let (status, err) = public_post(
        &t,
        &format!("/bookings/manage/{token}/reschedule"),
        json!({"start": good_start}),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{err}");

    // Slots: bad ranges.
    let id = et["id"].as_str().unwrap();
    for q in [
        "from=yesterday",
        "from=2026-12-01T00:00:00Z&to=2026-11-01T00:00:00Z",
        "from=2026-01-01T00:00:00Z&to=2026-06-01T00:00:00Z",
        "bogus=1",
    ] {
        let (status, err) = public_get(&t, &format!("/event-types/{id}/slots?{q}")).await;
        assert!(status.is_client_error(), "{q}: {status} {err}");
    }
    // Event types: bad definitions.
    for body in [
        json!({"kind": "weekly", "title": "X", "duration_min": 30, "hosts": [{"user_id": host.id}]}),
        json!({"kind": "personal", "title": "X", "duration_min": 0, "hosts": [{"user_id": host.id}]}),
        json!({"kind": "personal", "title": "X", "duration_min": 30, "hosts": []}),
        json!({"kind": "personal", "title": "X", "duration_min": 30, "hosts": [{"user_id": convene_domain::UserId::new().to_string()}]}),
        json!({"kind": "personal", "title": "X", "duration_min": 30, "location": {"kind": "manual", "details": {"url": "http://insecure.example"}}, "hosts": [{"user_id": host.id}]}),
        json!({"kind": "round_robin", "title": "X", "duration_min": 30, "hosts": [{"user_id": host.id, "weight": 0}]}),
        json!({"kind": "personal", "title": "Chat", "duration_min": 30, "hosts": [{"user_id": host.id}]}),
    ] {
        let (status, err) = t.post(&org.key, "/event-types", body.clone()).await;
        assert!(
            status == StatusCode::UNPROCESSABLE_ENTITY || status == StatusCode::CONFLICT,
            "{body}: {status} {err}"
        );
    }
    // Availability: bad hours.
    for body in [
        json!({"weekly": {"mon": ["17:00-09:00"]}}),
        json!({"weekly": {"funday": ["09:00-10:00"]}}),
        json!({"weekly": {"mon": ["09:00-12:00", "11:00-13:00"]}}),
        json!({"weekly": {}, "overrides": {"not-a-date": []}}),
    ] {
        let (status, err) = put_json(
            &t,
            &org.key,
            &format!("/users/{}/availability", host.id),
            body.clone(),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {err}");
    }
    let (status, _) = put_json(
        &t,
        &org.key,
        &format!("/users/{}/meeting-location", host.id),
        json!({"kind": "manual", "url": "javascript:alert(1)"}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn members_see_only_their_own_meetings() {
    let t = TestApp::spawn().await;
    let org = t.create_org("Acme").await;
    let host = t.member(&org, "host@acme.example", "meetings").await;
    let other = t.member(&org, "other@acme.example", "meetings").await;
    open_every_day(&t, &org.key, &host.id).await;
    put_json(
        &t,
        &org.key,
        &format!("/users/{}/meeting-location", host.id),
        json!({"kind": "in_person", "address": "1 Main St"}),
    )
    .await;
    let et = event_type(&t, &org, json!({"kind": "personal", "title": "Chat", "duration_min": 30, "hosts": [{"user_id": host.id}]})).await;
    let free = slots(&t, &et).await;
    for (i, s) in free.iter().take(3).enumerate() {
        let (status, _) = public_post(
            &t,
            "/bookings",
            booking_body(
                &et,
                s["start"].as_str().unwrap(),
                &format!("i{i}@client.example"),
            ),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let (_, mine) = t.get(&host.key, "/bookings?limit=2").await;
    assert_eq!(mine["bookings"].as_array().unwrap().len(), 2);
    let cursor = mine["next_cursor"].as_str().unwrap();
    let (_, rest) = t
        .get(&host.key, &format!("/bookings?limit=2&cursor={cursor}"))
        .await;
    assert_eq!(rest["bookings"].as_array().unwrap().len(), 1);
    assert!(rest["next_cursor"].is_null());
    let (_, theirs) = t.get(&other.key, "/bookings").await;
    assert!(theirs["bookings"].as_array().unwrap().is_empty());
    let (status, _) = t
        .get(&other.key, &format!("/bookings?host_id={}", host.id))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let id = mine["bookings"][0]["id"].as_str().unwrap();
    let (status, _) = t.get(&other.key, &format!("/bookings/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = t
        .post(&other.key, &format!("/bookings/{id}/cancel"), json!({}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, all) = t.get(&org.key, "/bookings?status=confirmed").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(all["bookings"].as_array().unwrap().len(), 3);
    let (status, _) = t.get(&org.key, "/bookings?cursor=garbage").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn when_zoom_refuses_the_invitee_is_told_the_link_follows_and_gets_it_after_reconnecting() {
    let t = TestApp::spawn().await;
    let org = t.create_org("Acme").await;
    let host = zoom_host(&t, &org, "host@acme.example", "alice@zoom.sandbox").await;
    let et = event_type(&t, &org, json!({"kind": "personal", "title": "Chat", "duration_min": 30, "hosts": [{"user_id": host.id}]})).await;
    let start = slots(&t, &et).await[0]["start"]
        .as_str()
        .unwrap()
        .to_string();
    // Zoom drops the grant behind Convene's back; the connection still looks active.
    t.sandbox().revoke_grants("alice@zoom.sandbox");
    t.sandbox().expire_access_tokens("alice@zoom.sandbox");
    let (status, booked) = public_post(
        &t,
        "/bookings",
        booking_body(&et, &start, "ivy@client.example"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{booked}");
    let id = booked["booking"]["id"].as_str().unwrap().to_string();

    let mail = emails_to(&t, &org.key, "ivy@client.example").await;
    assert_eq!(mail.len(), 1, "{mail:?}");
    assert!(
        mail[0]["text"]
            .as_str()
            .unwrap()
            .contains("link will follow"),
        "{}",
        mail[0]["text"]
    );
    let (_, b) = t.get(&org.key, &format!("/bookings/{id}")).await;
    assert_eq!(b["meeting_state"], "failed");
    let alerts = emails_to(&t, &org.key, &org.admin_email).await;
    assert!(
        alerts.iter().any(|m| m["subject"]
            .as_str()
            .unwrap()
            .starts_with("Action needed: no Zoom link")),
        "{alerts:?}"
    );
    let host_mail = emails_to(&t, &org.key, &host.email).await;
    assert!(host_mail
        .iter()
        .any(|m| m["subject"].as_str().unwrap().starts_with("Action needed")));
    assert!(t.sandbox().meetings().is_empty());

    // The host reconnects Zoom: the meeting is created and the link is sent.
    let (status, _, body) = t.connect_zoom(&host.session, "alice@zoom.sandbox").await;
    assert!(status.is_redirection() || status.is_success(), "{body}");
    let mail = emails_to(&t, &org.key, "ivy@client.example").await;
    assert_eq!(mail.len(), 2, "{mail:?}");
    let meetings = t.sandbox().meetings();
    assert_eq!(meetings.len(), 1);
    assert!(
        mail[0]["subject"]
            .as_str()
            .unwrap()
            .starts_with("Meeting link"),
        "{}",
        mail[0]["subject"]
    );
    assert!(mail[0]["text"]
        .as_str()
        .unwrap()
        .contains(&meetings[0].join_url));
    let (_, b) = t.get(&org.key, &format!("/bookings/{id}")).await;
    assert_eq!(b["meeting_state"], "ready");
}

#[tokio::test]
async fn a_collective_meeting_goes_on_the_primary_hosts_zoom_and_invites_every_host() {
    let t = TestApp::spawn().await;
    let org = t.create_org("Acme").await;
    let a = zoom_host(&t, &org, "ann@acme.example", "alice@zoom.sandbox").await;
    let b = t.member(&org, "bob@acme.example", "meetings").await;
    open_every_day(&t, &org.key, &b.id).await;
    put_json(
        &t,
        &org.key,
        &format!("/users/{}/meeting-location", b.id),
        json!({"kind": "in_person", "address": "HQ"}),
    )
    .await;
    // Bob is busy on the first free slot of Ann's: a personal booking of his.
    let solo = event_type(&t, &org, json!({"kind": "personal", "title": "Bob solo", "duration_min": 30, "hosts": [{"user_id": b.id}]})).await;
    let et = event_type(
        &t,
        &org,
        json!({"kind": "collective", "title": "Team demo", "duration_min": 30,
        "hosts": [{"user_id": b.id}, {"user_id": a.id, "is_primary": true}]}),
    )
    .await;
    let together = slots(&t, &et).await;
    let first = together[0]["start"].as_str().unwrap().to_string();
    assert_eq!(together[0]["host_ids"].as_array().unwrap().len(), 2);
    let (status, _) = public_post(
        &t,
        "/bookings",
        booking_body(&solo, &first, "x@client.example"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(
        !slots(&t, &et)
            .await
            .iter()
            .any(|s| s["start"] == first.as_str()),
        "Collective needs every host free"
    );

    let start = together[1]["start"].as_str().unwrap();
    let (status, booked) = public_post(
        &t,
        "/bookings",
        booking_body(&et, start, "ivy@client.example"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{booked}");
    assert_eq!(
        booked["booking"]["host_id"],
        a.id.as_str(),
        "the primary host's account"
    );
    assert_eq!(booked["booking"]["host_ids"].as_array().unwrap().len(), 2);
    t.run_jobs().await;
    let meetings = t.sandbox().meetings();
    assert_eq!(meetings.len(), 1);
    assert_eq!(meetings[0].host_email, "alice@zoom.sandbox");
    for host in [&a.email, &b.email] {
        let mail = emails_to(&t, &org.key, host).await;
        let ics = mail[0]["calendar"].as_str().unwrap();
        assert!(
            ics.contains("ATTENDEE")
                && mail[0]["text"]
                    .as_str()
                    .unwrap()
                    .contains(&meetings[0].join_url),
            "{host}: {ics}"
        );
    }
    // Both hosts' time is taken.
    let (_, bob_slots) = public_get(
        &t,
        &format!("/event-types/{}/slots", solo["id"].as_str().unwrap()),
    )
    .await;
    assert!(!bob_slots["slots"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["start"] == start));
}

#[tokio::test]
async fn a_host_change_or_a_meeting_gone_from_zoom_gets_a_new_meeting_and_the_old_one_deleted() {
    let t = TestApp::spawn().await;
    let org = t.create_org("Acme").await;
    let a = zoom_host(&t, &org, "ann@acme.example", "alice@zoom.sandbox").await;
    let b = zoom_host(&t, &org, "bob@acme.example", "bea@zoom.sandbox").await;
    let et = event_type(
        &t,
        &org,
        json!({"kind": "round_robin", "title": "Intro", "duration_min": 30,
        "hosts": [{"user_id": a.id, "priority": 1}, {"user_id": b.id}]}),
    )
    .await;
    let free = slots(&t, &et).await;
    let (_, booked) = public_post(
        &t,
        "/bookings",
        booking_body(
            &et,
            free[0]["start"].as_str().unwrap(),
            "ivy@client.example",
        ),
        None,
    )
    .await;
    assert_eq!(
        booked["booking"]["host_id"],
        a.id.as_str(),
        "higher priority first"
    );
    let token = booked["manage_token"].as_str().unwrap().to_string();
    t.run_jobs().await;
    let first = t.sandbox().meetings()[0].clone();
    assert_eq!(first.host_email, "alice@zoom.sandbox");

    // Ann is off the day the invitee moves to: Bob takes it, on his own Zoom.
    let later: jiff::Timestamp = free.last().unwrap()["start"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let day = later
        .to_zoned(jiff::tz::TimeZone::get("Europe/Paris").unwrap())
        .date();
    let days: serde_json::Map<String, Value> = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        .iter()
        .map(|d| (d.to_string(), json!([EVERY_DAY])))
        .collect();
    let (status, body) = put_json(
        &t,
        &org.key,
        &format!("/users/{}/availability", a.id),
        json!({"weekly": days, "overrides": {day.to_string(): []}}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, moved) = public_post(
        &t,
        &format!("/bookings/manage/{token}/reschedule"),
        json!({"start": later.to_string()}),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{moved}");
    assert_eq!(moved["host_id"], b.id.as_str());
    t.run_jobs().await;
    let meetings = t.sandbox().meetings();
    assert_eq!(meetings.len(), 2);
    assert!(
        meetings.iter().any(|m| m.id == first.id && m.deleted),
        "the old host's meeting is deleted"
    );
    let new = meetings.iter().find(|m| !m.deleted).unwrap().clone();
    assert_eq!(new.host_email, "bea@zoom.sandbox");
    let mail = emails_to(&t, &org.key, "ivy@client.example").await;
    assert!(
        mail[0]["text"].as_str().unwrap().contains(&new.join_url),
        "the new link is sent"
    );

    // The meeting is deleted in Zoom itself; the next reschedule creates a new one.
    let conn = t
        .app
        .zoom_connection_id(b.id.parse().unwrap())
        .await
        .unwrap();
    let zoom = t.app.providers.zoom.clone();
    let gone = new.id.to_string();
    t.app
        .with_access_token(&conn, |tok| {
            let (zoom, gone) = (zoom.clone(), gone.clone());
            async move { zoom.delete_meeting(&tok, &gone).await }
        })
        .await
        .unwrap();
    let earlier = free
        .iter()
        .rev()
        .map(|s| {
            s["start"]
                .as_str()
                .unwrap()
                .parse::<jiff::Timestamp>()
                .unwrap()
        })
        .find(|s| {
            *s < later
                && s.to_zoned(jiff::tz::TimeZone::get("Europe/Paris").unwrap())
                    .date()
                    == day
        })
        .expect("another slot that day");
    let (status, _) = public_post(
        &t,
        &format!("/bookings/manage/{token}/reschedule"),
        json!({"start": earlier.to_string()}),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    t.run_jobs().await;
    let live: Vec<_> = t
        .sandbox()
        .meetings()
        .into_iter()
        .filter(|m| !m.deleted)
        .collect();
    assert_eq!(live.len(), 1);
    assert_ne!(live[0].id, new.id);
    assert_eq!(live[0].start_time, earlier);
}

#[tokio::test]
async fn shared_event_types_are_edited_under_their_lock() {
    let t = TestApp::spawn().await;
    let org = t.create_org("Acme").await;
    let host = t.member(&org, "host@acme.example", "meetings").await;
    let body = json!({"kind": "round_robin", "title": "Intro", "duration_min": 30, "hosts": [{"user_id": host.id}]});
    let et = event_type(&t, &org, body.clone()).await;
    let id = et["id"].as_str().unwrap();
    let mut change = body.clone();
    change["title"] = json!("Intro (45)");
    change["duration_min"] = json!(45);
    let (status, err) = put_json(&t, &org.key, &format!("/event-types/{id}"), change.clone()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    let (status, lock) = t
        .post(&org.key, &format!("/locks/event_type:{id}"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{lock}");
    change["lock_token"] = lock["token"].clone();
    let (status, saved) =
        put_json(&t, &org.key, &format!("/event-types/{id}"), change.clone()).await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(saved["duration_min"], 45);
    // A member cannot edit a shared event type at all.
    let (status, _) = put_json(&t, &host.key, &format!("/event-types/{id}"), change).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // A member may create their own personal event type, not one for someone else.
    let (status, _) = t.post(&host.key, "/event-types", json!({"kind": "personal", "title": "Mine", "duration_min": 15, "hosts": [{"user_id": host.id}]})).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = t.post(&host.key, "/event-types", json!({"kind": "personal", "title": "Theirs", "duration_min": 15, "hosts": [{"user_id": org.admin_id}]})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}
