//! The identity platform: consent page, the test accounts' answers, authorize errors,
//! code exchange with PKCE, client authentication, refresh-token rotation (also under
//! 50 concurrent refreshes), expiry and revocation.

use std::time::Duration;

use axum::http::StatusCode;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::Value;

use crate::harness::*;

#[tokio::test]
async fn the_consent_page_offers_the_test_accounts() {
    let sandbox = start().await;
    let pkce = pkce();
    let response = sandbox
        .http
        .get(sandbox.url("/organizations/oauth2/v2.0/authorize"))
        .query(&authorize_params(&pkce.challenge))
        .query(&[("login_hint", "ada@example.com")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.unwrap();
    assert!(html.contains("Permissions requested"));
    assert!(html.contains("Calendars.ReadWrite") && html.contains("OnlineMeetings.ReadWrite"));
    for account in convene_sandbox::MICROSOFT_TEST_ACCOUNTS {
        assert!(
            html.contains(&format!(r#"name="account" value="{account}""#)),
            "{account}"
        );
    }
    for id in [
        "account-megan",
        "account-nora",
        "account-otto",
        "account-dan",
        "email",
        "sign-in",
    ] {
        assert!(html.contains(&format!(r#"id="{id}""#)), "{id}");
    }
    assert!(html.contains(r#"value="ada@example.com""#));
    assert!(html.contains(r#"action="/sandbox/microsoft/organizations/oauth2/v2.0/authorize""#));
    assert!(html.contains(&pkce.challenge));
}

#[tokio::test]
async fn bad_authorize_requests_get_a_400_page() {
    let sandbox = start().await;
    let pkce = pkce();
    let cases: [(&str, Option<&str>, &str); 7] = [
        ("client_id", Some("someone-else"), "AADSTS700016"),
        ("state", None, "Missing state"),
        (
            "code_challenge_method",
            Some("plain"),
            "code_challenge_method",
        ),
        ("code_challenge", None, "Missing code_challenge"),
        ("response_type", Some("token"), "response_type"),
        ("response_mode", Some("form_post"), "response_mode"),
        ("scope", None, "'scope'"),
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
            .get(sandbox.url("/common/oauth2/v2.0/authorize"))
            .query(&params)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{name}");
        assert!(response.text().await.unwrap().contains(expected), "{name}");
    }
    let response = sandbox.authorize("not-an-email", &pkce.challenge).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_test_accounts_answer_consent_as_documented() {
    let sandbox = start().await;
    let pkce = pkce();
    let expectations = [
        ("nora@microsoft.sandbox", "consent_required", "AADSTS65001:"),
        ("otto@microsoft.sandbox", "access_denied", "AADSTS90094:"),
        ("dan@microsoft.sandbox", "access_denied", "AADSTS65004:"),
    ];
    for (account, error, code) in expectations {
        let response = sandbox.authorize(account, &pkce.challenge).await;
        assert_eq!(response.status(), StatusCode::FOUND, "{account}");
        assert!(response.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with(REDIRECT_URI));
        let query = location_query(&response);
        assert_eq!(param(&query, "error").as_deref(), Some(error), "{account}");
        assert!(
            param(&query, "error_description")
                .unwrap()
                .starts_with(code),
            "{account}"
        );
        assert_eq!(param(&query, "state").as_deref(), Some("state-123"));
        assert_eq!(param(&query, "code"), None);
    }
    // Megan and any other email approve, each with a stable user of their own.
    sandbox.connect(MEGAN).await;
    let ada = sandbox.connect("Ada@Example.com").await;
    let (status, me) = sandbox.get("/me", &ada.access).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["mail"], "ada@example.com");
    assert_eq!(me["userPrincipalName"], "ada@example.com");
    let stats = sandbox.ms.stats();
    assert_eq!(
        stats.user("ada@example.com").unwrap().id,
        me["id"].as_str().unwrap()
    );
    assert!(stats.user(MEGAN).unwrap().connected);
    assert!(!stats.user("nora@microsoft.sandbox").unwrap().connected);
}

#[tokio::test]
async fn the_code_flow_with_pkce() {
    let sandbox = start().await;
    let pkce = pkce();

    // A wrong verifier fails, and spends the code.
    let code = sandbox.code_for(MEGAN, &pkce.challenge).await;
    let (status, body) = json_of(
        sandbox
            .exchange(&code, "a-wrong-verifier-a-wrong-verifier-a-wrong")
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_grant");
    assert_eq!(body["error_codes"], serde_json::json!([501481]));
    let (status, body) = json_of(sandbox.exchange(&code, &pkce.verifier).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_grant");
    let description = body["error_description"].as_str().unwrap();
    assert!(description.starts_with("AADSTS70008: "), "{description}");
    assert!(description.contains("\r\nTrace ID: "), "{description}");
    assert!(body["trace_id"].is_string() && body["correlation_id"].is_string());

    // The right verifier works, once.
    let code = sandbox.code_for(MEGAN, &pkce.challenge).await;
    let response = sandbox.exchange(&code, &pkce.verifier).await;
    assert_eq!(response.headers()["cache-control"], "no-store, no-cache");
    let (status, body) = json_of(response).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3599);
    assert_eq!(
        body["scope"],
        "openid profile email User.Read OnlineMeetings.ReadWrite Calendars.ReadWrite"
    );
    assert!(body["refresh_token"].as_str().is_some_and(|t| t.len() > 40));
    let id_token = body["id_token"].as_str().unwrap();
    let claims: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(id_token.split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(claims["aud"], CLIENT_ID);
    assert_eq!(claims["preferred_username"], MEGAN);
    let access = body["access_token"].as_str().unwrap();
    let (status, me) = sandbox.get("/me", access).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["displayName"], "Megan Bowen");
    assert_eq!(me["id"], claims["oid"]);
    let (status, again) = json_of(sandbox.exchange(&code, &pkce.verifier).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(again["error"], "invalid_grant");

    let stats = sandbox.ms.stats();
    assert_eq!(stats.token_exchanges, 1);
    assert_eq!(stats.token_exchange_failures, 3);
}

#[tokio::test]
async fn the_token_endpoint_checks_the_client_and_the_redirect() {
    let sandbox = start().await;
    let pkce = pkce();
    let code = sandbox.code_for(MEGAN, &pkce.challenge).await;
    let token_url = sandbox.url("/common/oauth2/v2.0/token");
    let response = sandbox
        .http
        .post(&token_url)
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", CLIENT_ID),
            ("client_secret", "wrong"),
        ])
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(response).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"], "invalid_client");
    assert_eq!(body["error_codes"], serde_json::json!([7000215]));

    // HTTP Basic works too; a wrong redirect URI is refused.
    let response = sandbox
        .http
        .post(&token_url)
        .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", "https://elsewhere.test/cb"),
            ("code_verifier", pkce.verifier.as_str()),
        ])
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(response).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error_codes"], serde_json::json!([500112]));

    let (status, body) = json_of(sandbox.token(&[("grant_type", "password")]).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "unsupported_grant_type");
}

#[tokio::test]
async fn without_offline_access_there_is_no_refresh_token() {
    let sandbox = start().await;
    let pkce = pkce();
    let response = sandbox
        .authorize_with_scope(
            MEGAN,
            &pkce.challenge,
            "openid User.Read Calendars.ReadWrite",
        )
        .await;
    let code = param(&location_query(&response), "code").unwrap();
    let (status, body) = json_of(sandbox.exchange(&code, &pkce.verifier).await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.get("refresh_token").is_none(), "{body}");
}

#[tokio::test]
async fn refresh_tokens_rotate_and_the_old_one_is_refused() {
    let sandbox = start().await;
    let first = sandbox.connect(MEGAN).await;
    let response = sandbox.refresh(&first.refresh).await;
    assert_eq!(response.status(), StatusCode::OK);
    let second = tokens(response).await;
    assert_ne!(second.refresh, first.refresh);
    assert_ne!(second.access, first.access);

    let (status, body) = json_of(sandbox.refresh(&first.refresh).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_grant");
    assert_eq!(body["error_codes"], serde_json::json!([70008]));
    assert!(body["error_description"]
        .as_str()
        .unwrap()
        .starts_with("AADSTS70008: "));

    let third = tokens(sandbox.refresh(&second.refresh).await).await;
    assert_eq!(sandbox.get("/me", &third.access).await.0, StatusCode::OK);
    let stats = sandbox.ms.stats();
    assert_eq!(stats.token_refreshes, 2);
    assert_eq!(stats.refresh_failures, 1);
    assert_eq!(stats.refreshes_of(MEGAN), 2);
}

#[tokio::test]
async fn fifty_concurrent_refreshes_with_one_token_yield_one_success() {
    let sandbox = start().await;
    let tokens = sandbox.connect(MEGAN).await;
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
    assert_eq!(sandbox.ms.stats().refreshes_of(MEGAN), 1);
}

#[tokio::test]
async fn access_tokens_expire_after_their_ttl() {
    let sandbox = start_with(Duration::from_secs(1)).await;
    let pkce = pkce();
    let code = sandbox.code_for(MEGAN, &pkce.challenge).await;
    let (_, body) = json_of(sandbox.exchange(&code, &pkce.verifier).await).await;
    assert_eq!(body["expires_in"], 1);
    let access = body["access_token"].as_str().unwrap();
    let refresh = body["refresh_token"].as_str().unwrap();
    assert_eq!(sandbox.get("/me", access).await.0, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let response = sandbox
        .graph(reqwest::Method::GET, "/me", access, None)
        .await;
    assert!(response.headers().contains_key("www-authenticate"));
    let (status, body) = json_of(response).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "InvalidAuthenticationToken");
    assert_eq!(
        body["error"]["message"],
        "Access token has expired or is not yet valid."
    );
    let fresh = tokens(sandbox.refresh(refresh).await).await;
    assert_eq!(sandbox.get("/me", &fresh.access).await.0, StatusCode::OK);
}

#[tokio::test]
async fn expiring_and_revoking_from_the_sandbox() {
    let sandbox = start().await;
    let tokens = sandbox.connect(MEGAN).await;
    assert!(sandbox.ms.expire_access_tokens(MEGAN));
    let (status, body) = sandbox.get("/me", &tokens.access).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "InvalidAuthenticationToken");
    let fresh = crate::harness::tokens(sandbox.refresh(&tokens.refresh).await).await;
    assert_eq!(sandbox.get("/me", &fresh.access).await.0, StatusCode::OK);

    assert!(sandbox.ms.revoke_grants(MEGAN));
    let (status, body) = json_of(sandbox.refresh(&fresh.refresh).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_grant");
    assert_eq!(body["error_codes"], serde_json::json!([50173]));
    let (status, body) = sandbox.get("/me", &fresh.access).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["message"], "Access token validation failure.");
    assert!(!sandbox.ms.stats().user(MEGAN).unwrap().connected);
    assert!(!sandbox.ms.revoke_grants("nobody"));
}

#[tokio::test]
async fn injected_faults_hit_the_token_endpoint_in_its_own_shape() {
    let sandbox = start().await;
    let tokens = sandbox.connect(MEGAN).await;
    sandbox.ms.set_faults(convene_sandbox::Faults {
        rate_limit_rate: 1.0,
        retry_after_secs: 7,
        ..Default::default()
    });
    let response = sandbox.refresh(&tokens.refresh).await;
    assert_eq!(response.headers()["retry-after"], "7");
    let (status, body) = json_of(response).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(body["error"], "temporarily_unavailable");
    sandbox.ms.set_faults(convene_sandbox::Faults::default());
    // The refresh token was not spent by the refused attempt.
    assert_eq!(
        sandbox.refresh(&tokens.refresh).await.status(),
        StatusCode::OK
    );
}
