use convene_test_support::TestApp;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn groups_create_rename_members_delete_and_invite_into_group() {
    let t = TestApp::spawn().await;
    let org = t.create_org("Acme").await;
    let (status, g) = t
        .post(&org.key, "/groups", json!({"name": "Sales EMEA"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{g}");
    let gid = g["id"].as_str().unwrap().to_string();
    // Names are unique per org, case-insensitively.
    let (status, err) = t
        .post(&org.key, "/groups", json!({"name": "sales emea"}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{err}");

    let (status, _) = t.post(&org.key, "/invitations", json!({"emails": ["a@acme.example", "b@acme.example"], "role": "meetings", "group_id": gid})).await;
    assert_eq!(status, StatusCode::OK);
    let (_, detail) = t.get(&org.key, &format!("/groups/{gid}")).await;
    assert_eq!(detail["member_count"], 2);
    let a = detail["members"][0]["id"].as_str().unwrap().to_string();

    assert_eq!(
        t.delete(&org.key, &format!("/groups/{gid}/members/{a}"))
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        t.delete(&org.key, &format!("/groups/{gid}/members/{a}"))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        t.put(&org.key, &format!("/groups/{gid}/members/{a}"))
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    // Adding twice is harmless.
    assert_eq!(
        t.put(&org.key, &format!("/groups/{gid}/members/{a}"))
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    let (_, detail) = t.get(&org.key, &format!("/groups/{gid}")).await;
    assert_eq!(detail["member_count"], 2);

    let (status, renamed) = t
        .patch(
            &org.key,
            &format!("/groups/{gid}"),
            json!({"name": "Sales Europe"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(renamed["name"], "Sales Europe");
    let (_, user) = t.get(&org.key, &format!("/users/{a}")).await;
    assert_eq!(user["groups"][0]["name"], "Sales Europe");

    assert_eq!(
        t.delete(&org.key, &format!("/groups/{gid}")).await.0,
        StatusCode::NO_CONTENT
    );
    let (_, groups) = t.get(&org.key, "/groups").await;
    assert_eq!(groups, json!([]));
    let (_, audit) = t.get(&org.key, "/audit-log?action=group.").await;
    assert!(audit["data"].as_array().unwrap().len() >= 5);
}

#[tokio::test]
async fn custom_admin_reaches_exactly_what_is_granted() {
    let t = TestApp::spawn().await;
    let org = t.create_org("Acme").await;
    let ca = t.member(&org, "ca@acme.example", "chat").await;
    let (status, u) = t
        .patch(
            &org.key,
            &format!("/users/{}", ca.id),
            json!({"role": "custom_admin", "permissions": ["manage_groups"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{u}");
    assert_eq!(u["permissions"], json!(["manage_groups"]));
    assert_eq!(
        t.post(&ca.key, "/groups", json!({"name": "Team"})).await.0,
        StatusCode::CREATED
    );
    assert_eq!(t.get(&ca.key, "/users").await.0, StatusCode::OK);
    assert_eq!(t.get(&ca.key, "/audit-log").await.0, StatusCode::FORBIDDEN);
    assert_eq!(
        t.post(
            &ca.key,
            "/invitations",
            json!({"emails": "x@acme.example", "role": "meetings"})
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    // A custom admin cannot make admins, even with manage_users.
    t.patch(
        &org.key,
        &format!("/users/{}", ca.id),
        json!({"role": "custom_admin", "permissions": ["manage_users"]}),
    )
    .await;
    let (status, body) = t
        .post(
            &ca.key,
            "/invitations",
            json!({"emails": "boss@acme.example", "role": "admin"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, _) = t
        .post(
            &ca.key,
            &format!("/users/{}/deactivate", org.admin_id),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Meetings users see only their own things.
    let m = t.member(&org, "m@acme.example", "meetings").await;
    assert_eq!(t.get(&m.key, "/users").await.0, StatusCode::FORBIDDEN);
    assert_eq!(
        t.get(&m.key, &format!("/users/{}", m.id)).await.0,
        StatusCode::OK
    );
    assert_eq!(
        t.get(&m.key, &format!("/users/{}", ca.id)).await.0,
        StatusCode::FORBIDDEN
    );
    let (status, _, _) = t.page(&m.session, "/settings/organization/users").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_last_admin_stays() {
    let t = TestApp::spawn().await;
    let org = t.create_org("Acme").await;
    let (status, body) = t
        .patch(
            &org.key,
            &format!("/users/{}", org.admin_id),
            json!({"role": "meetings"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"]["code"], "last_admin");
    let second = t.member(&org, "second@acme.example", "admin").await;
    let (status, _) = t
        .patch(
            &org.key,
            &format!("/users/{}", org.admin_id),
            json!({"role": "meetings"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = t
        .post(
            &second.key,
            &format!("/users/{}/deactivate", second.id),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
}

#[tokio::test]
async fn profile_photo_and_action_required_reasons() {
    let t = TestApp::spawn().await;
    let org = t.create_org("Acme").await;
    let m = t.member(&org, "m@acme.example", "meetings").await;
    let png =
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89".to_vec();
    let r = t
        .client
        .put(t.api(&format!("/users/{}/photo", m.id)))
        .bearer_auth(&m.key)
        .body(png.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = t
        .client
        .get(t.api(&format!("/users/{}/photo", m.id)))
        .bearer_auth(&org.key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-type"], "image/png");
    assert_eq!(r.bytes().await.unwrap().to_vec(), png);
    let (_, u) = t.get(&org.key, &format!("/users/{}", m.id)).await;
    assert_eq!(
        u["action_reasons"],
        json!(["no_calendar", "no_conferencing"])
    );

    // The org starts using Salesforce: every user now also needs it.
    let (_, lock) = t.post(&org.key, "/locks/org_settings", json!({})).await;
    let (status, _) = t
        .patch(
            &org.key,
            "/org",
            json!({"lock_token": lock["token"], "name": "Acme", "uses_salesforce": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, u) = t.get(&org.key, &format!("/users/{}", m.id)).await;
    assert_eq!(
        u["action_reasons"],
        json!(["no_calendar", "no_conferencing", "no_salesforce"])
    );
    let (_, list) = t.get(&org.key, "/users?action_required=true").await;
    assert_eq!(list["data"].as_array().unwrap().len(), 2);
}
