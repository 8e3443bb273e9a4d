//! Crash safety of a booking's meeting: a real `convene serve` process is killed with
//! SIGKILL between the booking's commit and the Zoom call, and between the Zoom call
//! and storing its answer; after a restart each booking has exactly one Zoom meeting
//! (counted in the sandbox) and one confirmation email.
//!
//! The test process hosts the database's first instance and the Zoom sandbox (which
//! must outlive the killed server); the server under test is the real binary, sharing
//! the database, key file and sandbox.

use convene_test_support::TestApp;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::os::unix::process::ExitStatusExt;
use std::time::Duration;

fn server(t: &TestApp, failpoint: Option<&str>) -> tokio::process::Child {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_convene"));
    cmd.arg("serve")
        .env("CONVENE_DATA_DIR", t.dir.path())
        .env("CONVENE_LISTEN", "127.0.0.1:0")
        .env("CONVENE_JOB_LEASE_SECS", "2")
        .env("CONVENE_JOBS__WORKERS", "1")
        .env("CONVENE_JOBS__POLL_INTERVAL_MS", "50")
        .env(
            "CONVENE_PROVIDERS__ZOOM__OAUTH_BASE_URL",
            format!("{}/sandbox/zoom", t.url),
        )
        .env(
            "CONVENE_PROVIDERS__ZOOM__API_BASE_URL",
            format!("{}/sandbox/zoom", t.url),
        )
        .env_remove("CONVENE_FAILPOINT")
        .stdout(std::process::Stdio::null())
        .stderr(
            std::fs::File::create(t.dir.path().join("server.log"))
                .map(std::process::Stdio::from)
                .unwrap_or_else(|_| std::process::Stdio::null()),
        )
        .kill_on_drop(true);
    if let Some(url) = &t.database_url {
        cmd.env("CONVENE_DATABASE_URL", url);
    }
    if let Some(f) = failpoint {
        cmd.env("CONVENE_FAILPOINT", f);
    }
    cmd.spawn().expect("start convene serve")
}

async fn booking(t: &TestApp, key: &str, id: &str) -> Value {
    let (status, b) = t.get(key, &format!("/bookings/{id}")).await;
    assert_eq!(status, StatusCode::OK, "{b}");
    b
}

async fn confirmations(t: &TestApp, key: &str, to: &str) -> usize {
    let (_, mail) = t.get(key, &format!("/outbox?to={to}")).await;
    mail.as_array()
        .unwrap()
        .iter()
        .filter(|m| {
            m["subject"]
                .as_str()
                .unwrap_or_default()
                .starts_with("Confirmed")
        })
        .count()
}

async fn crash_at(failpoint: &str, meetings_after_crash: usize) {
    let t = TestApp::spawn().await;
    let org = t.create_org("Acme").await;
    let host = t.member(&org, "host@acme.example", "meetings").await;
    t.connect_zoom(&host.session, "alice@zoom.sandbox").await;
    let week: serde_json::Map<String, Value> = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        .iter()
        .map(|d| (d.to_string(), json!(["08:00-20:00"])))
        .collect();
    let r = t
        .client
        .put(t.api(&format!("/users/{}/availability", host.id)))
        .bearer_auth(&org.key)
        .json(&json!({"weekly": week}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let (_, et) = t
        .post(&org.key, "/event-types", json!({"kind": "personal", "title": "Chat", "duration_min": 30, "hosts": [{"user_id": host.id}]}))
        .await;
    let (_, slots) = t
        .get(
            &org.key,
            &format!("/event-types/{}/slots", et["id"].as_str().unwrap()),
        )
        .await;
    let start = slots["slots"][0]["start"].as_str().unwrap();
    let (status, booked) = t
        .post(&org.key, "/bookings", json!({"event_type_id": et["id"], "start": start, "name": "Ivy", "email": "ivy@client.example", "time_zone": "UTC"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{booked}");
    let id = booked["booking"]["id"].as_str().unwrap().to_string();

    // The server dies at the failpoint, killed with SIGKILL.
    let mut doomed = server(&t, Some(failpoint));
    let status = tokio::time::timeout(Duration::from_secs(60), doomed.wait())
        .await
        .expect("the server reached the failpoint")
        .unwrap();
    let log = std::fs::read_to_string(t.dir.path().join("server.log")).unwrap_or_default();
    assert_eq!(
        status.signal(),
        Some(9),
        "killed by SIGKILL, got {status:?}: {log}"
    );
    assert_eq!(t.sandbox().meetings().len(), meetings_after_crash);
    assert!(booking(&t, &org.key, &id).await["join_url"].is_null());

    // After a restart, the booking converges: one meeting, one confirmation.
    let mut restarted = server(&t, None);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let b = booking(&t, &org.key, &id).await;
        if b["meeting_state"] == "ready"
            && confirmations(&t, &org.key, "ivy@client.example").await == 1
        {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never converged: {b}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Give a stray duplicate time to appear before counting.
    tokio::time::sleep(Duration::from_millis(500)).await;
    restarted.kill().await.unwrap();
    let meetings = t.sandbox().meetings();
    assert_eq!(meetings.len(), 1, "exactly one Zoom meeting: {meetings:?}");
    assert!(!meetings[0].deleted);
    let b = booking(&t, &org.key, &id).await;
    assert_eq!(b["join_url"].as_str().unwrap(), meetings[0].join_url);
    assert_eq!(confirmations(&t, &org.key, "ivy@client.example").await, 1);
}

#[tokio::test]
async fn killed_between_the_booking_commit_and_the_zoom_call() {
    crash_at("sync.before_create", 0).await;
}

#[tokio::test]
async fn killed_between_the_zoom_call_and_storing_its_answer() {
    crash_at("sync.after_create", 1).await;
}
