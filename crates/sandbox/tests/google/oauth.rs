//! OAuth: consent page and its test accounts, authorize errors, code exchange with
//! PKCE, refresh without rotation, when a refresh token is handed out, revocation and
//! access-token expiry, in Google's token-endpoint format.

use std::time::Duration;

use axum::http::StatusCode;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use convene_sandbox::Faults;
use serde_json::{json, Value};

use crate::harness::*;

#[tokio::test]
async fn the_consent_page_offers_the_test_accounts_and_names_the_scopes() {
    let sandbox = start().await;
    let pkce = pkce();
    let response = sandbox
        .http
        .get(sandbox.url("/o/oauth2/v2/auth"))
        .query(&authorize_params(&pkce.challenge))
        .query(&[("login_hint", "dana@example.com")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.unwrap();
    assert!(html.contains("Convene wants to access your Google Account"));
    for account in convene_sandbox::GOOGLE_TEST_ACCOUNTS {
        assert!(
            html.contains(&format!(r#"name="account" value="{account}""#)),
            "{account}"
        );
    }
    assert!(html.contains(r#"id="account-gina""#) && html.contains(r#"id="account-denise""#));
    assert!(html.contains(r#"id="email""#) && html.contains(r#"id="sign-in""#));
    assert!(html.contains(r#"value="dana@example.com""#));
    assert!(html.contains(r#"action="/sandbox/google/o/oauth2/v2/auth""#));
    assert!(html.contains(r#"data-scope="https://www.googleapis.com/auth/userinfo.email""#));
    assert!(html.contains(r#"data-scope="https://www.googleapis.com/auth/calendar.events""#));
    assert!(html.contains("offline access"));
    assert!(html.contains(&pkce.challenge));
    // The hidden fields carry the request to the form post.
    assert!(html.contains(r#"name="access_type" value="offline""#));
    assert!(html.contains(r#"name="prompt" value="consent""#));
}

#[tokio::test]
async fn bad_authorize_requests_get_googles_error_page() {
    let sandbox = start().await;
    let pkce = pkce();
    let cases: [(&str, Option<&str>, u16, &str); 8] = [
        ("client_id", Some("someone-else"), 401, "invalid_client"),
        (
            "client_id",
            None,
            400,
            "Missing required parameter: client_id",
        ),
        ("scope", None, 400, "Missing required parameter: scope"),
        ("scope", Some("openid calendar"), 400, "invalid_scope"),
        ("state", None, 400, "Missing state"),
        (
            "code_challenge_method",
            Some("plain"),
            400,
            "code_challenge_method",
        ),
        (
            "response_type",
            Some("token"),
            400,
            "unsupported_response_type",
        ),
        ("access_type", Some("forever"), 400, "Invalid access_type"),
    ];
    for (name, value, status, expected) in cases {
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
            .get(sandbox.url("/o/oauth2/v2/auth"))
            .query(&params)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), status, "{name}");
        let html = response.text().await.unwrap();
        assert!(html.contains(expected), "{name}: {html}");
        assert!(html.contains(r#"id="error-code""#), "{name}");
    }
    // The form refuses a malformed email.
    let response = sandbox.authorize("not-an-email", &pkce.challenge).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn gina_approves_denise_denies_anyone_else_approves() {
    let sandbox = start().await;
    let pkce = pkce();
    let response = sandbox
        .authorize("gina@google.sandbox", &pkce.challenge)
        .await;
    assert_eq!(response.status(), StatusCode::FOUND);
    let location = response.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with(REDIRECT_URI), "{location}");
    let query = location_query(&response);
    assert_eq!(param(&query, "state").as_deref(), Some("state-123"));
    assert!(param(&query, "code").unwrap().starts_with("4/"));
    assert_eq!(
        param(&query, "scope").as_deref(),
        Some("openid https://www.googleapis.com/auth/userinfo.email https://www.googleapis.com/auth/calendar.events https://www.googleapis.com/auth/calendar.readonly")
    );

    let response = sandbox
        .authorize("denise@google.sandbox", &pkce.challenge)
        .await;
    assert_eq!(response.status(), StatusCode::FOUND);
    let query = location_query(&response);
    assert_eq!(param(&query, "error").as_deref(), Some("access_denied"));
    assert_eq!(param(&query, "state").as_deref(), Some("state-123"));
    assert_eq!(param(&query, "code"), None);

    let code = sandbox.code_for("Dana@Example.com", &pkce.challenge).await;
    assert!(!code.is_empty());
    assert!(sandbox.google.stats().user("dana@example.com").is_some());
}

#[tokio::test]
async fn the_code_flow_with_pkce() {
    let sandbox = start().await;
    let pkce = pkce();

    // A wrong verifier fails, and spends the code.
    let code = sandbox
        .code_for("gina@google.sandbox", &pkce.challenge)
        .await;
    let (status, body) = json_of(
        sandbox
            .exchange(&code, "a-wrong-verifier-a-wrong-verifier-a-wrong")
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"error": "invalid_grant", "error_description": "Invalid code verifier."})
    );
    let (status, body) = json_of(sandbox.exchange(&code, &pkce.verifier).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"error": "invalid_grant", "error_description": "Bad Request"})
    );

    // No verifier, or another redirect URI.
    let code = sandbox
        .code_for("gina@google.sandbox", &pkce.challenge)
        .await;
    let (status, body) = json_of(
        sandbox
            .token(&[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT_URI),
            ])
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error_description"], "Missing code verifier.");
    let code = sandbox
        .code_for("gina@google.sandbox", &pkce.challenge)
        .await;
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
    assert_eq!(body["error"], "redirect_uri_mismatch");

    // The right verifier works, once.
    let code = sandbox
        .code_for("gina@google.sandbox", &pkce.challenge)
        .await;
    let response = sandbox.exchange(&code, &pkce.verifier).await;
    assert!(response.headers()["cache-control"]
        .to_str()
        .unwrap()
        .contains("no-store"));
    let (status, body) = json_of(response).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3599);
    assert_eq!(
        body["scope"],
        "openid https://www.googleapis.com/auth/userinfo.email https://www.googleapis.com/auth/calendar.events https://www.googleapis.com/auth/calendar.readonly"
    );
    assert!(body["access_token"].as_str().unwrap().starts_with("ya29."));
    assert!(body["refresh_token"].as_str().unwrap().starts_with("1//"));
    // The id token is a JWT naming the user and the client.
    let id_token = body["id_token"].as_str().unwrap();
    let parts: Vec<&str> = id_token.split('.').collect();
    assert_eq!(parts.len(), 3);
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    assert_eq!(claims["email"], "gina@google.sandbox");
    assert_eq!(claims["aud"], CLIENT_ID);
    assert_eq!(claims["iss"], "https://accounts.google.com");
    assert_eq!(
        claims["sub"],
        sandbox
            .google
            .stats()
            .user("gina@google.sandbox")
            .unwrap()
            .sub
    );

    let (status, again) = json_of(sandbox.exchange(&code, &pkce.verifier).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(again["error"], "invalid_grant");

    let stats = sandbox.google.stats();
    assert_eq!(stats.token_exchanges, 1);
    assert_eq!(stats.token_exchange_failures, 5);
    assert!(stats.user("gina@google.sandbox").unwrap().connected);
}

#[tokio::test]
async fn the_client_must_authenticate() {
    let sandbox = start().await;
    let form = [("grant_type", "refresh_token"), ("refresh_token", "1//x")];
    let send = |fields: Vec<(&'static str, &'static str)>| {
        let sandbox = sandbox.clone();
        async move {
            json_of(
                sandbox
                    .http
                    .post(sandbox.url("/token"))
                    .form(&fields)
                    .send()
                    .await
                    .unwrap(),
            )
            .await
        }
    };
    let (status, body) = send(vec![
        ("client_id", CLIENT_ID),
        ("client_secret", "wrong"),
        form[0],
        form[1],
    ])
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body,
        json!({"error": "invalid_client", "error_description": "Unauthorized"})
    );
    let (status, body) = send(vec![
        ("client_id", "nobody"),
        ("client_secret", CLIENT_SECRET),
        form[0],
        form[1],
    ])
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error_description"], "The OAuth client was not found.");
    let (status, _) = send(vec![form[0], form[1]]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // HTTP Basic works too; then the refresh token is what is wrong.
    let (status, body) = json_of(
        sandbox
            .http
            .post(sandbox.url("/token"))
            .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
            .form(&form)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"error": "invalid_grant", "error_description": "Token has been expired or revoked."})
    );

    let (status, body) = json_of(sandbox.token(&[("grant_type", "password")]).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "unsupported_grant_type");
}

#[tokio::test]
async fn refresh_tokens_do_not_rotate() {
    let sandbox = start().await;
    let tokens = sandbox.connect("gina@google.sandbox").await;
    let mut accesses = vec![tokens.access.clone()];
    for _ in 0..3 {
        let (status, body) = json_of(sandbox.refresh(&tokens.refresh).await).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(body.get("refresh_token").is_none(), "{body}");
        assert_eq!(body["expires_in"], 3599);
        assert!(body["scope"].as_str().unwrap().contains("calendar.events"));
        accesses.push(body["access_token"].as_str().unwrap().to_string());
    }
    // Every access token works until it expires.
    for access in &accesses {
        assert_eq!(sandbox.userinfo(access).await.status(), StatusCode::OK);
    }
    let stats = sandbox.google.stats();
    assert_eq!(stats.token_refreshes, 3);
    assert_eq!(stats.refreshes_of("gina@google.sandbox"), 3);
}

#[tokio::test]
async fn a_refresh_token_comes_with_offline_consent_only() {
    let sandbox = start().await;
    let exchange = |params: Vec<(&'static str, String)>, verifier: String| {
        let sandbox = sandbox.clone();
        async move {
            let response = sandbox.authorize_with(params, "gina@google.sandbox").await;
            let code = param(&location_query(&response), "code").unwrap();
            json_of(sandbox.exchange(&code, &verifier).await).await.1
        }
    };
    let with = |challenge: &str, access_type: &str, prompt: Option<&str>| {
        authorize_params(challenge)
            .into_iter()
            .filter(|(k, _)| *k != "prompt")
            .map(|(k, v)| {
                if k == "access_type" {
                    (k, access_type.to_string())
                } else {
                    (k, v)
                }
            })
            .chain(prompt.map(|p| ("prompt", p.to_string())))
            .collect::<Vec<_>>()
    };
    let p = pkce();
    let first = exchange(with(&p.challenge, "offline", None), p.verifier.clone()).await;
    assert!(first["refresh_token"].is_string(), "first consent: {first}");
    let again = exchange(with(&p.challenge, "offline", None), p.verifier.clone()).await;
    assert!(
        again.get("refresh_token").is_none(),
        "second consent: {again}"
    );
    let forced = exchange(
        with(&p.challenge, "offline", Some("consent")),
        p.verifier.clone(),
    )
    .await;
    assert!(
        forced["refresh_token"].is_string(),
        "prompt=consent: {forced}"
    );
    let online = exchange(
        with(&p.challenge, "online", Some("consent")),
        p.verifier.clone(),
    )
    .await;
    assert!(online.get("refresh_token").is_none(), "online: {online}");
    assert!(online["access_token"].is_string());
}

#[tokio::test]
async fn revocation_ends_the_grant() {
    let sandbox = start().await;
    let tokens = sandbox.connect("gina@google.sandbox").await;
    let other = sandbox.connect("dana@example.com").await;
    // The token goes in the query string, as Convene sends it; no client auth.
    let response = sandbox
        .http
        .post(sandbox.url("/revoke"))
        .query(&[("token", tokens.refresh.as_str())])
        .header("content-type", "application/x-www-form-urlencoded")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    let (status, body) = json_of(sandbox.refresh(&tokens.refresh).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_grant");
    assert_eq!(
        sandbox.userinfo(&tokens.access).await.status(),
        StatusCode::UNAUTHORIZED
    );
    // Another user's grant is untouched.
    assert_eq!(
        sandbox.userinfo(&other.access).await.status(),
        StatusCode::OK
    );

    // Revoking again, or an unknown token: 400 invalid_token, as Google answers.
    for token in [tokens.access.as_str(), "ya29.nonsense"] {
        let (status, body) = json_of(
            sandbox
                .http
                .post(sandbox.url("/revoke"))
                .form(&[("token", token)])
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            body,
            json!({"error": "invalid_token", "error_description": "Token expired or revoked"})
        );
    }
    let (status, body) = json_of(
        sandbox
            .http
            .post(sandbox.url("/revoke"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_request");
    let stats = sandbox.google.stats();
    assert_eq!(stats.revocations, 1);
    assert!(!stats.user("gina@google.sandbox").unwrap().connected);
}

#[tokio::test]
async fn access_tokens_expire_and_refresh_gets_a_new_one() {
    let sandbox = start_with(Duration::from_millis(300)).await;
    let tokens = sandbox.connect("gina@google.sandbox").await;
    assert_eq!(
        sandbox.userinfo(&tokens.access).await.status(),
        StatusCode::OK
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    let response = sandbox
        .api(
            reqwest::Method::GET,
            "/calendar/v3/users/me/calendarList",
            &tokens.access,
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let (status, body) = json_of(sandbox.refresh(&tokens.refresh).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["expires_in"], 0, "the TTL is whole seconds");
    let fresh = body["access_token"].as_str().unwrap();
    assert_ne!(fresh, tokens.access);
}

#[tokio::test]
async fn faults_reach_the_token_endpoint_but_not_the_consent_page() {
    let sandbox = start().await;
    let tokens = sandbox.connect("gina@google.sandbox").await;
    sandbox.google.set_faults(Faults {
        rate_limit_rate: 1.0,
        retry_after_secs: 7,
        ..Faults::default()
    });
    let response = sandbox.refresh(&tokens.refresh).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(response.headers()["retry-after"], "7");
    let pkce = pkce();
    assert_eq!(
        sandbox
            .authorize("gina@google.sandbox", &pkce.challenge)
            .await
            .status(),
        StatusCode::FOUND
    );
    sandbox.google.set_faults(Faults::default());
    assert_eq!(
        sandbox.refresh(&tokens.refresh).await.status(),
        StatusCode::OK
    );
    assert_eq!(sandbox.google.stats().injected_rate_limits, 1);
}
