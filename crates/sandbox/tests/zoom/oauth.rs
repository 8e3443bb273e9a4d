//! OAuth: consent page, authorize errors, code exchange with PKCE, refresh-token
//! rotation (also under 50 concurrent refreshes), expiry and revocation.

use std::time::Duration;

use axum::http::StatusCode;
use serde_json::json;

use crate::harness::*;

#[tokio::test]
async fn the_consent_page_offers_the_test_accounts() {
    let sandbox = start().await;
    let pkce = pkce();
    let response = sandbox
        .http
        .get(sandbox.url("/oauth/authorize"))
        .query(&authorize_params(&pkce.challenge))
        .query(&[("login_hint", "dana@example.com")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.unwrap();
    assert!(html.contains("Convene would like to access your Zoom account"));
    assert!(html.contains("meeting:write"));
    for account in convene_sandbox::TEST_ACCOUNTS {
        assert!(
            html.contains(&format!(r#"name="account" value="{account}""#)),
            "{account}"
        );
    }
    assert!(html.contains(r#"id="account-alice""#));
    assert!(html.contains(r#"id="email""#) && html.contains(r#"id="sign-in""#));
    assert!(html.contains(r#"value="dana@example.com""#));
    assert!(html.contains(r#"action="/sandbox/zoom/oauth/authorize""#));
    assert!(html.contains(&pkce.challenge));
}

#[tokio::test]
async fn bad_authorize_requests_get_a_400_page() {
    let sandbox = start().await;
    let pkce = pkce();
    let cases: [(&str, Option<&str>, &str); 5] = [
        ("client_id", Some("someone-else"), "Invalid client_id"),
        ("state", None, "Missing state"),
        (
            "code_challenge_method",
            Some("plain"),
            "code_challenge_method",
        ),
        ("code_challenge", None, "Missing code_challenge"),
        ("response_type", Some("token"), "response_type"),
    ];
    for (name, value, expected) in cases {
        let params: Vec<_> = authorize_params(&pkce.challenge)
            .into_iter()
            .filter_map(|(k, v)| match (k == name, value) {
                (false, _) => Some((k, v)),
                (true, Some(value)) => Some((k, value.to_string())),
                (true, None) => None,
            })
            .collect();
        let response = sandbox
            .http
            .get(sandbox.url("/oauth/authorize"))
            .query(&params)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{name}");
        assert!(response.text().await.unwrap().contains(expected), "{name}");
    }
    // The form refuses a malformed email.
    let response = sandbox.authorize("not-an-email", &pkce.challenge).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_code_flow_with_pkce() {
    let sandbox = start().await;
    let pkce = pkce();

    // A wrong verifier fails, and spends the code.
    let code = sandbox
        .code_for("alice@zoom.sandbox", &pkce.challenge)
        .await;
    let (status, body) = json_of(
        sandbox
            .exchange(&code, "a-wrong-verifier-a-wrong-verifier-a-wrong")
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_grant");
    let (status, body) = json_of(sandbox.exchange(&code, &pkce.verifier).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"reason": "Invalid authorization code", "error": "invalid_grant"})
    );

    // The right verifier works, once.
    let code = sandbox
        .code_for("alice@zoom.sandbox", &pkce.challenge)
        .await;
    let (status, body) = json_of(sandbox.exchange(&code, &pkce.verifier).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 3599);
    assert_eq!(body["scope"], "meeting:write user:read");
    let access = body["access_token"].as_str().unwrap();
    assert!(body["refresh_token"]
        .as_str()
        .is_some_and(|t| t.len() >= 32));
    let (status, again) = json_of(sandbox.exchange(&code, &pkce.verifier).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(again["error"], "invalid_grant");

    let (status, me) = json_of(sandbox.me(access).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["email"], "alice@zoom.sandbox");
    assert_eq!(me["type"], 2);
    assert_eq!(me["status"], "active");
    assert_eq!(me["role_name"], "Member");
    let id = me["id"].as_str().unwrap();
    assert_eq!(id.len(), 22);
    // Stable: the same in another sandbox.
    let other = start().await;
    let tokens = other.connect("alice@zoom.sandbox").await;
    let (_, me_again) = json_of(other.me(&tokens.access).await).await;
    assert_eq!(me_again["id"], id);
    assert_eq!(me_again["account_id"], me["account_id"]);

    let stats = sandbox.zoom.stats();
    assert_eq!(stats.token_exchanges, 1);
    assert_eq!(stats.token_exchange_failures, 3);
    assert!(stats.user("alice@zoom.sandbox").unwrap().connected);
}

#[tokio::test]
async fn the_token_endpoint_checks_client_and_redirect() {
    let sandbox = start().await;
    let pkce = pkce();
    let code = sandbox
        .code_for("alice@zoom.sandbox", &pkce.challenge)
        .await;
    let response = sandbox
        .http
        .post(sandbox.url("/oauth/token"))
        .basic_auth(CLIENT_ID, Some("wrong"))
        .form(&[("grant_type", "authorization_code"), ("code", &code)])
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(response).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body,
        json!({"reason": "Invalid client_id or client_secret", "error": "invalid_client"})
    );

    let (status, body) = json_of(
        sandbox
            .token(&[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", "https://elsewhere.test/cb"),
                ("code_verifier", &pkce.verifier),
            ])
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_request");

    let (status, body) = json_of(sandbox.token(&[("grant_type", "password")]).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "unsupported_grant_type");
}

#[tokio::test]
async fn pre_approval_denial_admin_and_other_emails() {
    let sandbox = start().await;
    let pkce = pkce();

    let response = sandbox.authorize("bob@zoom.sandbox", &pkce.challenge).await;
    assert_eq!(response.status(), StatusCode::FOUND);
    let query = location_query(&response);
    assert!(response.headers()["location"]
        .to_str()
        .unwrap()
        .starts_with(REDIRECT_URI));
    assert_eq!(param(&query, "error").as_deref(), Some("access_denied"));
    assert!(param(&query, "error_description")
        .unwrap()
        .contains("must be pre-approved by your Zoom account admin"));
    assert_eq!(param(&query, "state").as_deref(), Some("state-123"));
    assert_eq!(param(&query, "code"), None);

    let response = sandbox
        .authorize("carol@zoom.sandbox", &pkce.challenge)
        .await;
    let query = location_query(&response);
    assert_eq!(param(&query, "error").as_deref(), Some("access_denied"));
    assert!(param(&query, "error_description")
        .unwrap()
        .starts_with("The user denied"));
    assert_eq!(param(&query, "state").as_deref(), Some("state-123"));

    // Once the account admin pre-approves the app, bob can authorize.
    assert!(sandbox.zoom.set_pre_approved("bob@zoom.sandbox", true));
    sandbox.connect("bob@zoom.sandbox").await;

    let admin = sandbox.connect("admin@zoom.sandbox").await;
    let (_, me) = json_of(sandbox.me(&admin.access).await).await;
    assert_eq!(me["role_name"], "Admin");

    // Any email signs in as a new approving user with a stable id of its own.
    let dana = sandbox.connect("Dana@Example.com").await;
    let erin = sandbox.connect("erin@example.com").await;
    let (_, dana_me) = json_of(sandbox.me(&dana.access).await).await;
    let (_, erin_me) = json_of(sandbox.me(&erin.access).await).await;
    assert_eq!(dana_me["email"], "dana@example.com");
    assert_ne!(dana_me["id"], erin_me["id"]);
    assert_eq!(dana_me["account_id"], erin_me["account_id"]);
    assert_ne!(dana_me["account_id"], me["account_id"]);
    assert_eq!(
        sandbox.zoom.stats().user("dana@example.com").unwrap().id,
        dana_me["id"].as_str().unwrap()
    );
}

#[tokio::test]
async fn the_consent_form_takes_the_authorize_url_as_is() {
    // A test can POST the authorize URL Convene redirected to, adding only the account.
    let sandbox = start().await;
    let pkce = pkce();
    let response = sandbox
        .http
        .post(sandbox.url("/oauth/authorize"))
        .query(&authorize_params(&pkce.challenge))
        .form(&[("account", "alice@zoom.sandbox")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FOUND);
    let code = param(&location_query(&response), "code").unwrap();
    assert_eq!(
        sandbox.exchange(&code, &pkce.verifier).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn refresh_tokens_rotate() {
    let sandbox = start().await;
    let first = sandbox.connect("alice@zoom.sandbox").await;
    let response = sandbox.refresh(&first.refresh).await;
    assert_eq!(response.status(), StatusCode::OK);
    let second = tokens(response).await;
    assert_ne!(second.refresh, first.refresh);
    assert_ne!(second.access, first.access);

    let (status, body) = json_of(sandbox.refresh(&first.refresh).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"reason": "Invalid Token!", "error": "invalid_grant"})
    );

    let third = tokens(sandbox.refresh(&second.refresh).await).await;
    assert_eq!(sandbox.me(&third.access).await.status(), StatusCode::OK);

    let stats = sandbox.zoom.stats();
    assert_eq!(stats.token_refreshes, 2);
    assert_eq!(stats.refresh_failures, 1);
    assert_eq!(stats.refreshes_of("alice@zoom.sandbox"), 2);
    assert_eq!(
        stats.user("alice@zoom.sandbox").unwrap().refresh_failures,
        1
    );
}

#[tokio::test]
async fn fifty_concurrent_refreshes_with_one_token_yield_one_success() {
    let sandbox = start().await;
    let tokens = sandbox.connect("alice@zoom.sandbox").await;
    let handles: Vec<_> = (0..50)
        .map(|_| {
            let sandbox = sandbox.clone();
            let refresh = tokens.refresh.clone();
            tokio::spawn(async move { sandbox.refresh(&refresh).await.status() })
        })
        .collect();
    let mut statuses = Vec::new();
    for handle in handles {
        statuses.push(handle.await.unwrap());
    }
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::OK).count(), 1);
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::BAD_REQUEST)
            .count(),
        49
    );
    let stats = sandbox.zoom.stats();
    assert_eq!(stats.refreshes_of("alice@zoom.sandbox"), 1);
    assert_eq!(stats.refresh_failures, 49);
}

#[tokio::test]
async fn access_tokens_expire_after_their_ttl() {
    let sandbox = start_with(Duration::from_secs(1), String::new()).await;
    let pkce = pkce();
    let code = sandbox
        .code_for("alice@zoom.sandbox", &pkce.challenge)
        .await;
    let (_, body) = json_of(sandbox.exchange(&code, &pkce.verifier).await).await;
    assert_eq!(body["expires_in"], 1);
    let access = body["access_token"].as_str().unwrap();
    let refresh = body["refresh_token"].as_str().unwrap();
    assert_eq!(sandbox.me(access).await.status(), StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (status, body) = json_of(sandbox.me(access).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], 124);
    // The refresh token still works.
    let fresh = tokens(sandbox.refresh(refresh).await).await;
    assert_eq!(sandbox.me(&fresh.access).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn expiring_and_revoking_from_the_sandbox() {
    let sandbox = start().await;
    let tokens = sandbox.connect("alice@zoom.sandbox").await;
    sandbox.zoom.expire_access_tokens("alice@zoom.sandbox");
    let (status, body) = json_of(sandbox.me(&tokens.access).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], 124);
    let fresh = crate::harness::tokens(sandbox.refresh(&tokens.refresh).await).await;
    assert_eq!(sandbox.me(&fresh.access).await.status(), StatusCode::OK);

    let user_id = sandbox
        .zoom
        .stats()
        .user("alice@zoom.sandbox")
        .unwrap()
        .id
        .clone();
    sandbox.zoom.revoke_grants(&user_id);
    let (status, body) = json_of(sandbox.refresh(&fresh.refresh).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_grant");
    assert_eq!(
        sandbox.me(&fresh.access).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert!(
        !sandbox
            .zoom
            .stats()
            .user("alice@zoom.sandbox")
            .unwrap()
            .connected
    );
}

#[tokio::test]
async fn the_revoke_endpoint_ends_the_grant() {
    let sandbox = start().await;
    let tokens = sandbox.connect("alice@zoom.sandbox").await;
    let response = sandbox
        .http
        .post(sandbox.url("/oauth/revoke"))
        .basic_auth(CLIENT_ID, Some("wrong"))
        .query(&[("token", &tokens.access)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(sandbox.me(&tokens.access).await.status(), StatusCode::OK);

    let response = sandbox
        .http
        .post(sandbox.url("/oauth/revoke"))
        .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
        .query(&[("token", &tokens.access)])
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(response).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"status": "success"}));
    let (status, body) = json_of(sandbox.me(&tokens.access).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], 124);
    let (status, body) = json_of(sandbox.refresh(&tokens.refresh).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_grant");
    let stats = sandbox.zoom.stats();
    assert_eq!(stats.revocations, 1);
    assert!(!stats.user("alice@zoom.sandbox").unwrap().connected);
}
