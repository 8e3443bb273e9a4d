use convene_test_support::TestApp;
use reqwest::StatusCode;
use serde_json::json;

fn count(body: &serde_json::Value, filter: &str) -> (i64, i64) {
    let c = body["counts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["filter"] == filter)
        .unwrap();
    (
        c["count"].as_i64().unwrap(),
        c["action_required"].as_i64().unwrap(),
    )
}

#[tokio::test]
async fn invite_judges_each_address_and_join_activates() {
    let t = TestApp::spawn().await;
    let org = t.create_org("Acme").await;
    let body = t.invite(&org.key, "bob@acme.example, not-an-email;carol@acme.example\nBOB@acme.example admin@acme.example", "meetings").await;
    let invited: Vec<_> = body["invited"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["email"].as_str().unwrap())
        .collect();
    assert_eq!(invited, ["bob@acme.example", "carol@acme.example"]);
    let reasons: Vec<_> = body["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["input"].as_str().unwrap(), r["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(
        reasons,
        [
            ("not-an-email", "malformed"),
            ("BOB@acme.example", "duplicate"),
            ("admin@acme.example", "already_member")
        ]
    );

    let (_, list) = t.get(&org.key, "/users?filter=pending").await;
    assert_eq!(count(&list, "pending"), (2, 2));
    assert_eq!(count(&list, "all").0, 3);

    // The invitation email carries a single-use Join Now link.
    let link = t.join_link(&org.key, "bob@acme.example").await;
    let session = t.join(&link, "Bob").await;
    let (status, _, html) = t.page(&session, "/onboarding/calendar").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Connect your calendar"));
    let r = t.client.get(&link).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::GONE);

    let (_, list) = t.get(&org.key, "/users").await;
    assert_eq!(count(&list, "pending").0, 1);
    assert_eq!(count(&list, "active").0, 2);
    let bob = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == "bob@acme.example")
        .unwrap();
    assert_eq!(bob["status"], "active");
    assert_eq!(bob["time_zone"], "America/New_York");
    assert_eq!(
        bob["action_reasons"],
        json!(["no_calendar", "no_conferencing", "no_profile_photo"])
    );
}

#[tokio::test]
async fn resend_invalidates_the_old_link_and_expiry_is_enforced() {
    let t = TestApp::spawn().await;
    let org = t.create_org("Acme").await;
    let body = t.invite(&org.key, "dan@acme.example", "chat").await;
    let id = body["invited"][0]["user_id"].as_str().unwrap().to_string();
    let old = t.join_link(&org.key, "dan@acme.example").await;
    assert_eq!(
        t.post(
            &org.key,
            &format!("/users/{id}/resend-invitation"),
            json!({})
        )
        .await
        .0,
        StatusCode::NO_CONTENT
    );
    let new = t.join_link(&org.key, "dan@acme.example").await;
    assert_ne!(old, new);
    assert_eq!(
        t.client.get(&old).send().await.unwrap().status(),
        StatusCode::GONE
    );
    assert_eq!(
        t.client.get(&new).send().await.unwrap().status(),
        StatusCode::OK
    );
    t.clock
        .advance(jiff::SignedDuration::from_hours(24 * 7 + 1));
    let r = t.client.get(&new).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::GONE);
    assert!(r.text().await.unwrap().contains("expired"));
}

#[tokio::test]
async fn deactivation_ends_sessions_and_keys_and_reactivation_reinvites() {
    let t = TestApp::spawn().await;
    let org = t.create_org("Acme").await;
    let eve = t.member(&org, "eve@acme.example", "meetings").await;
    assert_eq!(
        t.page(&eve.session, "/settings/profile").await.0,
        StatusCode::OK
    );
    assert_eq!(t.get(&eve.key, "/me").await.0, StatusCode::OK);

    let (status, user) = t
        .post(
            &org.key,
            &format!("/users/{}/deactivate", eve.id),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{user}");
    assert_eq!(user["status"], "deactivated");
    let (status, loc, _) = t.page(&eve.session, "/settings/profile").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(loc.unwrap().contains("ended=1"));
    assert_eq!(t.get(&eve.key, "/me").await.0, StatusCode::UNAUTHORIZED);
    assert!(t
        .login(&eve.email, convene_test_support::PASSWORD)
        .await
        .is_none());

    let (_, list) = t.get(&org.key, "/users").await;
    assert_eq!(count(&list, "deactivated"), (1, 0));
    assert_eq!(count(&list, "all").0, 1);

    let (status, user) = t
        .post(
            &org.key,
            &format!("/users/{}/reactivate", eve.id),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(user["status"], "pending");
    let link = t.join_link(&org.key, &eve.email).await;
    t.join(&link, "Eve Again").await;

    let (_, audit) = t.get(&org.key, "/audit-log?action=user.").await;
    let actions: Vec<_> = audit["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect();
    for a in [
        "user.invited",
        "user.joined",
        "user.deactivated",
        "user.reactivated",
    ] {
        assert!(
            actions.iter().any(|x| x == a),
            "{a} missing from {actions:?}"
        );
    }
}

/// The filter tabs' counts (grouped by the domain's rule) and the filtered lists (SQL)
/// agree for every filter, across roles and statuses.
#[tokio::test]
async fn every_filter_count_matches_its_list() {
    let t = TestApp::spawn().await;
    let org = t.create_org("Acme").await;
    for (email, role) in [
        ("c@acme.example", "chat"),
        ("m@acme.example", "meetings"),
        ("ca@acme.example", "custom_admin"),
        ("a2@acme.example", "admin"),
    ] {
        t.member(&org, email, role).await;
    }
    t.invite(&org.key, "p1@acme.example p2@acme.example", "meetings")
        .await;
    t.invite(&org.key, "p3@acme.example", "admin").await;
    let (_, list) = t.get(&org.key, "/users?q=m@acme").await;
    let m = list["data"][0]["id"].as_str().unwrap().to_string();
    t.post(&org.key, &format!("/users/{m}/deactivate"), json!({}))
        .await;
    let (_, all) = t.get(&org.key, "/users").await;
    for c in all["counts"].as_array().unwrap() {
        let filter = c["filter"].as_str().unwrap();
        let (_, page) = t
            .get(&org.key, &format!("/users?filter={filter}&limit=500"))
            .await;
        assert_eq!(
            c["count"].as_u64().unwrap() as usize,
            page["data"].as_array().unwrap().len(),
            "filter {filter}"
        );
        let (_, flagged) = t
            .get(
                &org.key,
                &format!("/users?filter={filter}&limit=500&action_required=true"),
            )
            .await;
        assert_eq!(
            c["action_required"].as_u64().unwrap() as usize,
            flagged["data"].as_array().unwrap().len(),
            "filter {filter}"
        );
    }
    assert_eq!(count(&all, "all"), (7, 7));
    assert_eq!(count(&all, "admin"), (4, 4));
    assert_eq!(count(&all, "pending"), (3, 3));
    assert_eq!(count(&all, "deactivated"), (1, 0));
}
