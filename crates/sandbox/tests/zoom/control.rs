//! The control surface: uninstall with a signed deauthorization webhook, the webhook
//! URL validation challenge, the JSON control API and the HTML page.

use std::time::Duration;

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::harness::*;

#[tokio::test]
async fn uninstall_revokes_and_posts_a_signed_deauthorization_webhook() {
    let (webhook_url, mut received) = webhook_receiver(StatusCode::OK).await;
    let sandbox = start_with(Duration::from_secs(3599), webhook_url).await;
    let alice = sandbox.connect("alice@zoom.sandbox").await;
    let (_, me) = json_of(sandbox.me(&alice.access).await).await;

    let status = sandbox.zoom.uninstall("alice@zoom.sandbox").await.unwrap();
    assert_eq!(status, 200);

    let request = received.recv().await.unwrap();
    let timestamp = request.headers["x-zm-request-timestamp"].to_str().unwrap();
    let signature = request.headers["x-zm-signature"].to_str().unwrap();
    let age = jiff::Timestamp::now().as_second() - timestamp.parse::<i64>().unwrap();
    assert!((0..5).contains(&age));
    let mut message = format!("v0:{timestamp}:").into_bytes();
    message.extend_from_slice(&request.body);
    assert_eq!(
        signature,
        format!("v0={}", hmac_hex(WEBHOOK_SECRET, &message))
    );
    assert_ne!(
        signature,
        format!("v0={}", hmac_hex("another secret", &message))
    );

    let event: Value = serde_json::from_slice(&request.body).unwrap();
    assert_eq!(event["event"], "app_deauthorized");
    assert!(event["event_ts"].as_i64().unwrap() > 1_700_000_000_000);
    let payload = &event["payload"];
    assert_eq!(payload["user_id"], me["id"]);
    assert_eq!(payload["account_id"], me["account_id"]);
    assert_eq!(payload["client_id"], CLIENT_ID);
    assert_eq!(payload["user_data_retention"], "false");
    assert!(payload["signature"].is_string());
    assert!(payload["deauthorization_time"]
        .as_str()
        .unwrap()
        .parse::<jiff::Timestamp>()
        .is_ok());

    // The grant is gone.
    assert_eq!(
        sandbox.me(&alice.access).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        sandbox.refresh(&alice.refresh).await.status(),
        StatusCode::BAD_REQUEST
    );
    let stats = sandbox.zoom.stats();
    assert_eq!(stats.uninstalls, 1);
    assert_eq!(stats.webhooks.len(), 1);
    assert_eq!(stats.webhooks[0].status, Some(200));

    // Through the control API, Convene's answer is reported as it is.
    let (webhook_url, _received) = webhook_receiver(StatusCode::UNAUTHORIZED).await;
    let sandbox = start_with(Duration::from_secs(3599), webhook_url).await;
    let (status, body) = json_of(
        sandbox
            .control("uninstall", json!({"user": "carol@zoom.sandbox"}))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["webhook_status"], 401);
    let (status, _) = json_of(
        sandbox
            .control("uninstall", json!({"user": "nobody@zoom.sandbox"}))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(sandbox.zoom.uninstall("nobody@zoom.sandbox").await.is_err());
}

#[tokio::test]
async fn the_webhook_endpoint_validation_challenge() {
    let (webhook_url, mut received) = webhook_receiver(StatusCode::OK).await;
    let sandbox = start_with(Duration::from_secs(3599), webhook_url).await;
    sandbox.zoom.validate_webhook_endpoint().await.unwrap();
    let request = received.recv().await.unwrap();
    let event: Value = serde_json::from_slice(&request.body).unwrap();
    assert_eq!(event["event"], "endpoint.url_validation");
    assert!(request.headers.contains_key("x-zm-signature"));

    // An endpoint that does not answer the challenge fails validation.
    let sandbox = start_with(
        Duration::from_secs(3599),
        "http://127.0.0.1:9/nothing".into(),
    )
    .await;
    let (status, body) = json_of(sandbox.control("validate-webhook", json!({})).await).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert!(body["error"].is_string());
}

#[tokio::test]
async fn the_control_api() {
    let sandbox = start().await;
    let alice = sandbox.connect("alice@zoom.sandbox").await;

    let (status, body) = json_of(
        sandbox
            .control("expire", json!({"user": "alice@zoom.sandbox"}))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["expired_tokens"], 1);
    assert_eq!(
        sandbox.me(&alice.access).await.status(),
        StatusCode::UNAUTHORIZED
    );

    let user_id = body["user_id"].as_str().unwrap().to_string();
    let (status, body) = json_of(sandbox.control("revoke", json!({"user": user_id})).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["revoked_grants"], 1);
    let (status, body) = json_of(sandbox.refresh(&alice.refresh).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_grant");

    let fresh = sandbox.connect("dana@example.com").await;
    let (status, body) = json_of(
        sandbox
            .control(
                "faults",
                json!({"rate_limit_rate": 1.0, "retry_after_secs": 3}),
            )
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["rate_limit_rate"], 1.0);
    let response = sandbox.me(&fresh.access).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(response.headers()["retry-after"], "3");
    assert_eq!(sandbox.zoom.faults().retry_after_secs, 3);
    let (status, _) = json_of(sandbox.control("faults", json!({"error_rate": 2})).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = json_of(sandbox.control("faults", json!({})).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(sandbox.me(&fresh.access).await.status(), StatusCode::OK);

    let (status, body) = json_of(
        sandbox
            .control("pre-approve", json!({"user": "bob@zoom.sandbox"}))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["pre_approved"], true);
    sandbox.connect("bob@zoom.sandbox").await;

    let (status, _) = json_of(
        sandbox
            .control("expire", json!({"user": "nobody@x.test"}))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = json_of(sandbox.control("revoke", json!({"who": "alice"})).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let response = sandbox
        .http
        .get(sandbox.url("/control/stats"))
        .send()
        .await
        .unwrap();
    let (status, stats) = json_of(response).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(stats["token_exchanges"], 3);
    assert_eq!(stats["users"][0]["email"], "alice@zoom.sandbox");
    assert_eq!(stats["users"][0]["connected"], false);
}

#[tokio::test]
async fn the_control_page_and_its_forms() {
    let sandbox = start().await;
    let alice = sandbox.connect("alice@zoom.sandbox").await;
    sandbox
        .create_meeting(&alice.access, "me", "Shown on the page")
        .await;
    let user_id = sandbox
        .zoom
        .stats()
        .user("alice@zoom.sandbox")
        .unwrap()
        .id
        .clone();

    let response = sandbox
        .http
        .get(sandbox.url("/control"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.unwrap();
    for expected in [
        "alice@zoom.sandbox",
        "Connected",
        "Shown on the page",
        "Uninstall the app",
        "Expire access tokens",
        "Revoke grant",
        r#"action="/sandbox/zoom/control/faults""#,
        &format!(r#"id="uninstall-{user_id}""#),
        "Pre-approve the app",
    ] {
        assert!(html.contains(expected), "{expected}");
    }

    // A form post acts and redirects back to the page with a message.
    let response = sandbox
        .http
        .post(sandbox.url("/control/expire"))
        .form(&[("user", "alice@zoom.sandbox")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()["location"].to_str().unwrap().to_string();
    assert!(
        location.starts_with("/sandbox/zoom/control?message="),
        "{location}"
    );
    assert_eq!(
        sandbox.me(&alice.access).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let page = sandbox
        .http
        .get(format!(
            "{}{}",
            sandbox.base.trim_end_matches("/sandbox/zoom"),
            location
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Expired alice@zoom.sandbox"));

    let response = sandbox
        .http
        .post(sandbox.url("/control/faults"))
        .form(&[
            ("latency_ms", "0"),
            ("error_rate", "0.5"),
            ("rate_limit_rate", "0"),
            ("retry_after_secs", "2"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(sandbox.zoom.faults().error_rate, 0.5);
}

#[tokio::test]
async fn meetings_on_the_control_page_and_as_json() {
    let sandbox = start().await;
    let page = sandbox
        .http
        .get(sandbox.url("/control"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // The table is there before any meeting, so a browser can wait for it.
    assert!(page.contains(r#"id="meetings""#));
    assert!(page.contains(r#"id="no-meetings""#));
    assert!(!page.contains("data-meeting-id"));

    let alice = sandbox.connect("alice@zoom.sandbox").await;
    let (_, kept) = json_of(
        sandbox
            .create_meeting(&alice.access, "me", "Kept <b>")
            .await,
    )
    .await;
    let (_, gone) = json_of(sandbox.create_meeting(&alice.access, "me", "Gone").await).await;
    let gone_id = gone["id"].as_u64().unwrap();
    let kept_id = kept["id"].as_u64().unwrap();
    sandbox
        .api(
            reqwest::Method::DELETE,
            &format!("/meetings/{gone_id}"),
            &alice.access,
            None,
        )
        .await;

    let page = sandbox
        .http
        .get(sandbox.url("/control"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!page.contains(r#"id="no-meetings""#));
    assert!(page.contains(&format!(
        r#"<tr data-meeting-id="{kept_id}" data-status="scheduled">"#
    )));
    assert!(page.contains(&format!(
        r#"<tr data-meeting-id="{gone_id}" data-status="deleted">"#
    )));
    for cell in [
        r#"<td class="topic">Kept &lt;b&gt;</td>"#.to_string(),
        r#"<td class="start">2026-12-01T15:00:00Z</td>"#.to_string(),
        r#"<td class="duration">30</td>"#.to_string(),
        r#"<td class="host">alice@zoom.sandbox</td>"#.to_string(),
        r#"<td class="agenda">Demo of Convene</td>"#.to_string(),
        format!(
            r#"<td class="join-url"><code>{}</code></td>"#,
            kept["join_url"].as_str().unwrap()
        ),
    ] {
        assert!(page.contains(&cell), "{cell}");
    }

    let response = sandbox
        .http
        .get(sandbox.url("/control/meetings"))
        .send()
        .await
        .unwrap();
    let (status, listed) = json_of(response).await;
    assert_eq!(status, StatusCode::OK);
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 2);
    let by_id = |id: u64| listed.iter().find(|m| m["id"] == id).unwrap();
    assert_eq!(by_id(gone_id)["deleted"], true);
    assert_eq!(by_id(kept_id)["deleted"], false);
    assert_eq!(by_id(kept_id)["start_time"], "2026-12-01T15:00:00Z");
    assert_eq!(by_id(kept_id)["agenda"], "Demo of Convene");
    assert_eq!(by_id(kept_id)["host_email"], "alice@zoom.sandbox");

    let meetings = sandbox.zoom.meetings();
    assert_eq!(meetings.len(), 2);
    let kept = meetings.iter().find(|m| m.id == kept_id).unwrap();
    assert_eq!(kept.topic, "Kept <b>");
    assert_eq!(kept.agenda, "Demo of Convene");
    assert_eq!(kept.duration, 30);
    assert!(!kept.deleted);
    assert!(meetings.iter().any(|m| m.id == gone_id && m.deleted));
}
