use convene_test_support::TestApp;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn one_admin_edits_at_a_time_and_a_takeover_refuses_the_old_save() {
    let t = TestApp::spawn().await;
    let org = t.create_org("Acme").await;
    let bea = t.member(&org, "bea@acme.example", "admin").await;

    let (status, first) = t.post(&org.key, "/locks/org_settings", json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(first["mine"], true);
    // Asking again keeps the same token (a second tab does not lock out the first).
    let (_, again) = t.post(&org.key, "/locks/org_settings", json!({})).await;
    assert_eq!(again["token"], first["token"]);

    let (status, held) = t.post(&bea.key, "/locks/org_settings", json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(held["error"]["details"]["holder_name"], "Ada Admin");

    let (status, taken) = t
        .post(&bea.key, "/locks/org_settings", json!({"takeover": true}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, refused) = t
        .patch(
            &org.key,
            "/org",
            json!({"lock_token": first["token"], "name": "Ada's name", "uses_salesforce": false}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(refused["error"]["code"], "lock_lost");
    assert!(refused["error"]["message"]
        .as_str()
        .unwrap()
        .contains("took over"));
    let (status, saved) = t
        .patch(
            &bea.key,
            "/org",
            json!({"lock_token": taken["token"], "name": "Bea's name", "uses_salesforce": false}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    let (_, o) = t.get(&org.key, "/org").await;
    assert_eq!(o["name"], "Bea's name");
    let (_, audit) = t.get(&org.key, "/audit-log?action=lock.").await;
    assert_eq!(audit["data"][0]["action"], "lock.taken_over");
}

#[tokio::test]
async fn an_idle_lock_can_be_taken_without_asking_and_event_types_lock_separately() {
    let t = TestApp::spawn().await;
    let org = t.create_org("Acme").await;
    let bea = t.member(&org, "bea@acme.example", "admin").await;
    assert_eq!(
        t.post(&org.key, "/locks/org_settings", json!({})).await.0,
        StatusCode::OK
    );
    assert_eq!(
        t.post(&bea.key, "/locks/org_settings", json!({})).await.0,
        StatusCode::CONFLICT
    );
    // Different event types are locked on their own.
    assert_eq!(
        t.post(&org.key, "/locks/event_type:intro-call", json!({}))
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        t.post(&bea.key, "/locks/event_type:demo", json!({}))
            .await
            .0,
        StatusCode::OK
    );
    t.clock.advance(jiff::SignedDuration::from_mins(11));
    let (status, lock) = t.post(&bea.key, "/locks/org_settings", json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(lock["holder_name"], "Test Member");
    // Releasing frees it for the next admin.
    let r = t
        .post(
            &bea.key,
            "/locks/org_settings/release",
            json!({"token": lock["token"]}),
        )
        .await;
    assert_eq!(r.0, StatusCode::NO_CONTENT);
    assert_eq!(
        t.post(&org.key, "/locks/org_settings", json!({})).await.0,
        StatusCode::OK
    );
}

/// Two server instances on one database behave as one: the lock taken on one is seen
/// by the other.
#[tokio::test]
async fn locks_hold_across_server_instances() {
    let a = TestApp::spawn().await;
    let url = match &a.database_url {
        Some(u) => u.clone(),
        // SQLite: the second instance opens the same file.
        None => format!(
            "sqlite://{}?mode=rwc",
            a.dir.path().join("convene.db").display()
        ),
    };
    let b = TestApp::builder().with_database_url(url).spawn().await;
    let org = a.create_org("Acme").await;
    let bea = a.member(&org, "bea@acme.example", "admin").await;
    assert_eq!(
        a.post(&org.key, "/locks/org_settings", json!({})).await.0,
        StatusCode::OK
    );
    let (status, body) = b.post(&bea.key, "/locks/org_settings", json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"]["details"]["holder_name"], "Ada Admin");
}
