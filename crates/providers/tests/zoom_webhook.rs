//! Zoom webhooks: signature verification, URL validation and event parsing, against
//! vectors computed outside this crate (Python's `hmac` / `openssl dgst -hmac`).

#![allow(clippy::unwrap_used)] // helpers outside #[test] fns unwrap too; a panic is a test failure

use convene_providers::zoom::webhook::{
    parse_event, url_validation_response, verify, WebhookError, ZoomEvent,
};
use convene_providers::Secret;
use jiff::Timestamp;
use std::time::Duration;

const SECRET: &str = "Zoom-Webhook-Secret";
const TS: &str = "1767225600";
const BODY: &str = r#"{"event":"app_deauthorized","event_ts":1767225600000,"payload":{"account_id":"AcCt1","user_id":"uSeR1","signature":"abc","deauthorization_time":"2026-01-01T00:00:00Z","client_id":"cl1","user_data_retention":"false"}}"#;
/// `hmac.new(b"Zoom-Webhook-Secret", b"v0:1767225600:" + BODY, sha256).hexdigest()`
const SIGNATURE: &str = "v0=20372a1145b9a90f85f509171f2e78e02e924f5064ba7b4fae0fcbdab364ad8e";
const TOLERANCE: Duration = Duration::from_secs(300);

fn secret() -> Secret {
    Secret::from(SECRET)
}

fn at(seconds: i64) -> Timestamp {
    Timestamp::from_second(seconds).unwrap()
}

fn check(
    secret: &Secret,
    ts: Option<&str>,
    sig: Option<&str>,
    body: &str,
    now: i64,
) -> Result<(), WebhookError> {
    verify(secret, ts, sig, body.as_bytes(), at(now), TOLERANCE)
}

#[test]
fn a_good_signature_verifies() {
    assert_eq!(
        check(&secret(), Some(TS), Some(SIGNATURE), BODY, 1_767_225_600),
        Ok(())
    );
    // Within the tolerance on either side.
    assert_eq!(
        check(
            &secret(),
            Some(TS),
            Some(SIGNATURE),
            BODY,
            1_767_225_600 + 300
        ),
        Ok(())
    );
    assert_eq!(
        check(
            &secret(),
            Some(TS),
            Some(SIGNATURE),
            BODY,
            1_767_225_600 - 300
        ),
        Ok(())
    );
    // Hex case does not matter.
    let upper = format!("v0={}", SIGNATURE[3..].to_uppercase());
    assert_eq!(
        check(&secret(), Some(TS), Some(&upper), BODY, 1_767_225_600),
        Ok(())
    );
}

#[test]
fn a_wrong_secret_is_refused() {
    assert_eq!(
        check(
            &Secret::from("another-secret"),
            Some(TS),
            Some(SIGNATURE),
            BODY,
            1_767_225_600
        ),
        Err(WebhookError::BadSignature)
    );
}

#[test]
fn a_changed_body_or_timestamp_is_refused() {
    let changed = BODY.replace("uSeR1", "uSeR2");
    assert_eq!(
        check(
            &secret(),
            Some(TS),
            Some(SIGNATURE),
            &changed,
            1_767_225_600
        ),
        Err(WebhookError::BadSignature)
    );
    // Even one added byte of whitespace: the signature covers the raw body.
    assert_eq!(
        check(
            &secret(),
            Some(TS),
            Some(SIGNATURE),
            &format!("{BODY} "),
            1_767_225_600
        ),
        Err(WebhookError::BadSignature)
    );
    assert_eq!(
        check(
            &secret(),
            Some("1767225601"),
            Some(SIGNATURE),
            BODY,
            1_767_225_600
        ),
        Err(WebhookError::BadSignature)
    );
}

#[test]
fn malformed_signatures_are_refused() {
    for sig in [
        "20372a1145b9",
        "v1=20372a1145b9a90f85f509171f2e78e02e924f5064ba7b4fae0fcbdab364ad8e",
        "v0=zz",
        "v0=",
        "v0=2037",
    ] {
        assert_eq!(
            check(&secret(), Some(TS), Some(sig), BODY, 1_767_225_600),
            Err(WebhookError::BadSignature),
            "{sig}"
        );
    }
}

#[test]
fn stale_or_future_requests_are_refused() {
    assert_eq!(
        check(
            &secret(),
            Some(TS),
            Some(SIGNATURE),
            BODY,
            1_767_225_600 + 301
        ),
        Err(WebhookError::Stale)
    );
    assert_eq!(
        check(
            &secret(),
            Some(TS),
            Some(SIGNATURE),
            BODY,
            1_767_225_600 - 301
        ),
        Err(WebhookError::Stale)
    );
}

#[test]
fn missing_headers_are_refused() {
    assert_eq!(
        check(&secret(), None, Some(SIGNATURE), BODY, 1_767_225_600),
        Err(WebhookError::MissingSignature)
    );
    assert_eq!(
        check(&secret(), Some(TS), None, BODY, 1_767_225_600),
        Err(WebhookError::MissingSignature)
    );
    assert_eq!(
        check(&secret(), None, None, BODY, 1_767_225_600),
        Err(WebhookError::MissingSignature)
    );
    assert_eq!(
        check(&secret(), Some(""), Some(SIGNATURE), BODY, 1_767_225_600),
        Err(WebhookError::MissingSignature)
    );
    assert!(!WebhookError::MissingSignature.to_string().is_empty());
}

#[test]
fn url_validation_matches_an_independent_hmac() {
    // printf qgg8vlvZRS6UYooatFL8Aw | openssl dgst -sha256 -hmac Zoom-Webhook-Secret
    let answer = url_validation_response(&secret(), "qgg8vlvZRS6UYooatFL8Aw");
    assert_eq!(
        answer,
        serde_json::json!({
            "plainToken": "qgg8vlvZRS6UYooatFL8Aw",
            "encryptedToken": "1824fd984d09700991932046478a2f5204e20043b5a0f8c2890791743288bcba",
        })
    );
}

#[test]
fn parses_deauthorization() {
    assert_eq!(
        parse_event(BODY.as_bytes()),
        Ok(ZoomEvent::AppDeauthorized {
            account_id: "AcCt1".into(),
            user_id: "uSeR1".into(),
            event_ts: 1_767_225_600_000,
            client_id: Some("cl1".into()),
        })
    );
    let without_client =
        r#"{"event":"app_deauthorized","event_ts":5,"payload":{"account_id":"a","user_id":"u"}}"#;
    assert!(matches!(
        parse_event(without_client.as_bytes()),
        Ok(ZoomEvent::AppDeauthorized {
            client_id: None,
            event_ts: 5,
            ..
        })
    ));
}

#[test]
fn parses_url_validation() {
    let body = r#"{"payload":{"plainToken":"qgg8vlvZRS6UYooatFL8Aw"},"event_ts":1654503849680,"event":"endpoint.url_validation"}"#;
    assert_eq!(
        parse_event(body.as_bytes()),
        Ok(ZoomEvent::UrlValidation {
            plain_token: "qgg8vlvZRS6UYooatFL8Aw".into()
        })
    );
}

#[test]
fn unknown_events_are_other() {
    let body =
        r#"{"event":"meeting.started","event_ts":1,"payload":{"object":{"id":85746065432}}}"#;
    assert_eq!(
        parse_event(body.as_bytes()),
        Ok(ZoomEvent::Other {
            event: "meeting.started".into()
        })
    );
    // No payload at all is fine for an event we ignore.
    assert_eq!(
        parse_event(br#"{"event":"recording.completed"}"#),
        Ok(ZoomEvent::Other {
            event: "recording.completed".into()
        })
    );
}

#[test]
fn malformed_bodies_are_refused_not_panicked_on() {
    for body in [
        &b"not json"[..],
        b"",
        b"[]",
        b"{}",
        b"{\"event\":42}",
        // Known events with missing fields.
        br#"{"event":"endpoint.url_validation","payload":{}}"#,
        br#"{"event":"app_deauthorized","event_ts":1,"payload":{"account_id":"a"}}"#,
        br#"{"event":"app_deauthorized","payload":{"account_id":"a","user_id":"u"}}"#,
        &[0xff, 0xfe, 0x00],
    ] {
        match parse_event(body) {
            Err(WebhookError::Malformed(why)) => assert!(!why.is_empty()),
            other => panic!("{:?} gave {other:?}", String::from_utf8_lossy(body)),
        }
    }
}
