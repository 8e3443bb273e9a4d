use convene_test_support::TestApp;
use reqwest::StatusCode;
use serde_json::json;

/// Emails are jobs enqueued with the change: none is sent before the jobs run, each
/// exactly once after.
#[tokio::test]
async fn invitation_emails_are_queued_with_the_change_and_sent_once() {
    let t = TestApp::spawn().await;
    let org = t.create_org("Acme").await;
    t.invite(&org.key, "a@acme.example b@acme.example", "meetings")
        .await;
    let (_, outbox) = t.get(&org.key, "/outbox").await;
    assert_eq!(outbox, json!([]));
    let (_, queued) = t.get(&org.key, "/jobs?status=queued").await;
    assert_eq!(queued.as_array().unwrap().len(), 2);
    assert_eq!(t.run_jobs().await, 2);
    assert_eq!(t.run_jobs().await, 0);
    let (_, outbox) = t.get(&org.key, "/outbox").await;
    assert_eq!(outbox.as_array().unwrap().len(), 2);
    let metrics = t
        .client
        .get(format!("{}/metrics", t.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("convene_job_queue_depth 0"), "{metrics}");
}

/// An SMTP server that refuses connections: the job backs off, retries, and ends dead
/// and visible; an admin can retry it once the server is back.
#[tokio::test]
async fn failing_email_backs_off_then_dies_and_can_be_retried() {
    // A port with nothing listening.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let t = TestApp::builder().with_smtp(port).spawn().await;
    let org = t.create_org("Acme").await;
    t.invite(&org.key, "a@acme.example", "meetings").await;
    assert_eq!(t.run_jobs().await, 1);
    let (_, queued) = t.get(&org.key, "/jobs?status=queued").await;
    let job = &queued[0];
    assert_eq!(job["attempts"], 1);
    assert!(
        job["last_error"].as_str().unwrap().contains("SMTP"),
        "{job}"
    );
    // Not due again until its backoff has passed.
    assert_eq!(t.run_jobs().await, 0);
    for _ in 0..40 {
        t.clock.advance(jiff::SignedDuration::from_hours(2));
        t.run_jobs().await;
    }
    let (_, dead) = t.get(&org.key, "/jobs?status=dead").await;
    assert_eq!(dead.as_array().unwrap().len(), 1, "{dead}");
    assert_eq!(dead[0]["attempts"], dead[0]["max_attempts"]);
    let id = dead[0]["id"].as_str().unwrap();
    assert_eq!(
        t.post(&org.key, &format!("/jobs/{id}/retry"), json!({}))
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    let (_, queued) = t.get(&org.key, "/jobs?status=queued").await;
    assert_eq!(queued[0]["attempts"], 0);
}
