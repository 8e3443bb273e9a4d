use convene_test_support::{csrf_field, session_from, TestApp, PASSWORD};
use reqwest::StatusCode;

#[tokio::test]
async fn health_ready_and_metrics() {
    let t = TestApp::spawn().await;
    assert_eq!(
        t.client
            .get(format!("{}/healthz", t.url))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        t.client
            .get(format!("{}/readyz", t.url))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    let metrics = t
        .client
        .get(format!("{}/metrics", t.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("convene_http_requests_total"), "{metrics}");
    assert!(metrics.contains("convene_job_queue_depth"), "{metrics}");
}

#[tokio::test]
async fn fresh_install_offers_setup_once_then_signs_in() {
    let t = TestApp::spawn().await;
    let r = t.client.get(format!("{}/", t.url)).send().await.unwrap();
    assert_eq!(r.headers()["location"], "/setup");
    let (cookie, csrf) = t.anon_csrf(&format!("{}/setup", t.url)).await;
    let form = [
        ("_csrf", csrf.as_str()),
        ("org_name", "Acme Inc"),
        ("name", "Ada"),
        ("email", "ada@acme.example"),
        ("password", PASSWORD),
        ("time_zone", "Europe/Paris"),
    ];
    // Without the CSRF cookie the form is refused and nothing is created.
    let r = t
        .client
        .post(format!("{}/setup", t.url))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(t.app.setup_needed().await.unwrap());
    let r = t
        .client
        .post(format!("{}/setup", t.url))
        .header("cookie", format!("convene_csrf={cookie}"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let session = session_from(&r).expect("signed in");
    let (status, _, html) = t.page(&session, "/settings/organization/users").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("ada@acme.example"));
    // The setup page is gone now.
    let r = t
        .client
        .get(format!("{}/setup", t.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["location"], "/login");
    let r = t
        .client
        .post(format!("{}/setup", t.url))
        .header("cookie", format!("convene_csrf={cookie}"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["location"], "/login");
}

#[tokio::test]
async fn login_logout_and_wrong_password() {
    let t = TestApp::spawn().await;
    let org = t.create_org("Acme").await;
    assert!(t.login(&org.admin_email, "wrong password!").await.is_none());
    assert!(t.login("nobody@acme.example", PASSWORD).await.is_none());
    let session = t
        .login(&org.admin_email.to_uppercase(), PASSWORD)
        .await
        .expect("case-insensitive email");
    let (status, _, html) = t.page(&session, "/settings/profile").await;
    assert_eq!(status, StatusCode::OK);
    let csrf = csrf_field(&html).unwrap();
    // Logout without CSRF is refused; with it, the session ends.
    let (status, _, _) = t.form(&session, "/logout", &[]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = t.form(&session, "/logout", &[("_csrf", &csrf)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, loc, _) = t.page(&session, "/settings/profile").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(loc.unwrap().starts_with("/login"));
}

#[tokio::test]
async fn api_requires_a_valid_key() {
    let t = TestApp::spawn().await;
    let org = t.create_org("Acme").await;
    let (status, body) = t.get("", "/me").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "unauthenticated");
    let (status, _) = t
        .get(
            "cnv_000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "/me",
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, me) = t.get(&org.key, "/me").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["email"], org.admin_email);
    assert_eq!(me["role"], "admin");
    // A revoked key stops working.
    let (_, keys) = t.get(&org.key, "/api-keys").await;
    let id = keys[0]["id"].as_str().unwrap().to_string();
    let (status, created) = t
        .post(&org.key, "/api-keys", serde_json::json!({"name": "second"}))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let second = created["key"].as_str().unwrap().to_string();
    assert_eq!(
        t.delete(&second, &format!("/api-keys/{id}")).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(t.get(&org.key, "/me").await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(t.get(&second, "/me").await.0, StatusCode::OK);
}

#[tokio::test]
async fn openapi_document_lists_the_routes() {
    let t = TestApp::spawn().await;
    let doc: serde_json::Value = t
        .client
        .get(t.api("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        doc["openapi"].as_str().map(|v| v.starts_with("3.")),
        Some(true)
    );
    for path in [
        "/users",
        "/invitations",
        "/groups",
        "/org",
        "/locks/{resource}",
        "/audit-log",
        "/jobs",
        "/outbox",
        "/api-keys",
    ] {
        assert!(doc["paths"].get(path).is_some(), "missing {path}");
    }
}

#[tokio::test]
async fn sign_in_attempts_are_rate_limited() {
    let t = TestApp::spawn().await;
    let org = t.create_org("Acme").await;
    let (cookie, csrf) = t.anon_csrf(&format!("{}/login", t.url)).await;
    let attempt = || {
        t.client
            .post(format!("{}/login", t.url))
            .header("cookie", format!("convene_csrf={cookie}"))
            .form(&[
                ("_csrf", csrf.as_str()),
                ("email", org.admin_email.as_str()),
                ("password", "wrong password!"),
            ])
            .send()
    };
    for _ in 0..10 {
        assert_eq!(attempt().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    }
    let r = attempt().await.unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.text().await.unwrap().contains("Too many attempts"));
    // Another account is not affected.
    assert!(t.login("someone@acme.example", PASSWORD).await.is_none());
}
