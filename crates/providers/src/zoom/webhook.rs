//! Incoming Zoom webhooks: signature check, URL-validation answer, and parsing the
//! events Convene acts on. Pure functions (no IO, time passed in), so the web layer
//! can answer within Zoom's 3 seconds and leave the work to a job.
//!
//! Zoom signs `v0:{x-zm-request-timestamp}:{raw body}` with HMAC-SHA256 under the
//! app's secret token and sends `x-zm-signature: v0=<hex>`. Verify over the raw bytes
//! exactly as received, before parsing anything.

use super::wire::{ZoomWebhook, ZoomWebhookName};
use crate::secret::Secret;
use hmac::{Hmac, Mac};
use jiff::Timestamp;
use sha2::Sha256;
use std::time::Duration;

type HmacSha256 = Hmac<Sha256>;

/// Header names, for the web layer.
pub const TIMESTAMP_HEADER: &str = "x-zm-request-timestamp";
pub const SIGNATURE_HEADER: &str = "x-zm-signature";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    #[error("the request has no Zoom signature (x-zm-signature and x-zm-request-timestamp headers are required)")]
    MissingSignature,
    #[error("the Zoom signature does not match this request (wrong secret token, or the body was changed)")]
    BadSignature,
    #[error("the Zoom request timestamp is too far from now (an old or replayed request)")]
    Stale,
    #[error("the request is not a Zoom event Convene can read: {0}")]
    Malformed(String),
}

/// What Convene needs from an incoming event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ZoomEvent {
    /// `endpoint.url_validation`: answer with [`url_validation_response`].
    UrlValidation { plain_token: String },
    /// `app_deauthorized`: the user or admin removed the app; delete their tokens
    /// and data. Dedupe on (`account_id`, `user_id`, `event_ts`).
    AppDeauthorized {
        account_id: String,
        user_id: String,
        event_ts: i64,
        client_id: Option<String>,
    },
    /// Any other event: acknowledge and ignore.
    Other { event: String },
}

/// Checks a webhook's signature and freshness. Order: headers present, signature
/// matches (constant time), then the timestamp is within `tolerance` of `now`, so
/// `Stale` is only reported for requests that really came from Zoom.
pub fn verify(
    secret: &Secret,
    timestamp_header: Option<&str>,
    signature_header: Option<&str>,
    raw_body: &[u8],
    now: Timestamp,
    tolerance: Duration,
) -> Result<(), WebhookError> {
    let (Some(timestamp), Some(signature)) = (timestamp_header, signature_header) else {
        return Err(WebhookError::MissingSignature);
    };
    let timestamp = timestamp.trim();
    let signature = signature.trim();
    if timestamp.is_empty() || signature.is_empty() {
        return Err(WebhookError::MissingSignature);
    }
    let provided = signature
        .strip_prefix("v0=")
        .and_then(|hex_sig| hex::decode(hex_sig).ok())
        .ok_or(WebhookError::BadSignature)?;

    let mut mac = mac(secret);
    mac.update(b"v0:");
    mac.update(timestamp.as_bytes());
    mac.update(b":");
    mac.update(raw_body);
    mac.verify_slice(&provided)
        .map_err(|_| WebhookError::BadSignature)?;

    let sent: i64 = timestamp.parse().map_err(|_| {
        WebhookError::Malformed(format!("the timestamp {timestamp:?} is not Unix seconds"))
    })?;
    let skew = (i128::from(now.as_second()) - i128::from(sent)).unsigned_abs();
    if skew > u128::from(tolerance.as_secs()) {
        return Err(WebhookError::Stale);
    }
    Ok(())
}

/// The answer to `endpoint.url_validation`:
/// `{"plainToken": …, "encryptedToken": hex(HMAC-SHA256(secret, plainToken))}`.
pub fn url_validation_response(secret: &Secret, plain_token: &str) -> serde_json::Value {
    let mut mac = mac(secret);
    mac.update(plain_token.as_bytes());
    let encrypted = hex::encode(mac.finalize().into_bytes());
    serde_json::json!({ "plainToken": plain_token, "encryptedToken": encrypted })
}

/// Reads an event from the (already verified) raw body. Unknown events are
/// [`ZoomEvent::Other`]; a known event with missing fields is `Malformed`.
pub fn parse_event(raw_body: &[u8]) -> Result<ZoomEvent, WebhookError> {
    let name: ZoomWebhookName = serde_json::from_slice(raw_body)
        .map_err(|e| WebhookError::Malformed(format!("no event name: {e}")))?;
    let event: ZoomWebhook = serde_json::from_slice(raw_body)
        .map_err(|e| WebhookError::Malformed(format!("{}: {e}", name.event)))?;
    Ok(match event {
        ZoomWebhook::UrlValidation { payload } => ZoomEvent::UrlValidation {
            plain_token: payload.plain_token,
        },
        ZoomWebhook::AppDeauthorized { event_ts, payload } => ZoomEvent::AppDeauthorized {
            account_id: payload.account_id,
            user_id: payload.user_id,
            event_ts,
            client_id: payload.client_id,
        },
        ZoomWebhook::Unknown => ZoomEvent::Other { event: name.event },
    })
}

fn mac(secret: &Secret) -> HmacSha256 {
    // HMAC takes keys of any length; `new_from_slice` cannot fail for it.
    match HmacSha256::new_from_slice(secret.expose().as_bytes()) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts keys of any length"),
    }
}
