//! Webhooks the Zoom sandbox sends to Convene: the `app_deauthorized` event of an
//! uninstall and the `endpoint.url_validation` challenge, signed as Zoom signs them:
//! `x-zm-request-timestamp: <unix seconds>` and
//! `x-zm-signature: v0=<hex HMAC-SHA256(secret, "v0:{timestamp}:{raw body}")>`.

use jiff::Timestamp;

use super::state::Delivery;
use super::wire::{
    DeauthorizationPayload, UrlValidationAnswer, UrlValidationPayload, WebhookEvent,
};
use super::Inner;
use crate::util;

/// The `x-zm-signature` of `body` sent at `timestamp` (unix seconds).
pub(crate) fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    let message = format!("v0:{timestamp}:{body}");
    format!(
        "v0={}",
        util::hmac_sha256_hex(secret.as_bytes(), message.as_bytes())
    )
}

/// Revokes the user's grants, then tells Convene with a signed `app_deauthorized`.
pub(crate) async fn uninstall(inner: &Inner, zoom_user: &str) -> Result<u16, String> {
    let (user_id, account_id) = {
        let mut state = inner.lock();
        let Some(record) = state.find_user(zoom_user) else {
            return Err(format!("unknown Zoom user: {zoom_user}"));
        };
        let ids = (record.user.id.clone(), record.user.account_id.clone());
        state.revoke_grants_of(&ids.0, "app uninstalled");
        state.counters.uninstalls += 1;
        ids
    };
    let now = Timestamp::now();
    let deauthorization_time = now.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string();
    let payload = DeauthorizationPayload {
        account_id: &account_id,
        user_id: &user_id,
        // Zoom puts the app's verification token here; the sandbox signs the event.
        signature: util::hmac_sha256_hex(
            inner.config.client_secret.as_bytes(),
            format!("{user_id}:{account_id}:{deauthorization_time}").as_bytes(),
        ),
        deauthorization_time,
        client_id: &inner.config.client_id,
        user_data_retention: "false",
    };
    let event = WebhookEvent {
        event: "app_deauthorized",
        event_ts: now.as_millisecond(),
        payload,
    };
    let body = serde_json::to_string(&event).map_err(|e| e.to_string())?;
    let outcome = post(inner, &body).await.map(|(status, _)| status);
    record(inner, "app_deauthorized", Some(user_id), &outcome);
    outcome
}

/// Sends the URL validation challenge and checks Convene's answer.
pub(crate) async fn validate_endpoint(inner: &Inner) -> Result<(), String> {
    let plain_token = util::random_token(16);
    let event = WebhookEvent {
        event: "endpoint.url_validation",
        event_ts: Timestamp::now().as_millisecond(),
        payload: UrlValidationPayload {
            plain_token: &plain_token,
        },
    };
    let body = serde_json::to_string(&event).map_err(|e| e.to_string())?;
    let posted = post(inner, &body).await;
    record(
        inner,
        "endpoint.url_validation",
        None,
        &posted
            .as_ref()
            .map(|(status, _)| *status)
            .map_err(Clone::clone),
    );
    let (status, answer) = posted?;
    if status != 200 {
        return Err(format!("the endpoint answered {status}, not 200"));
    }
    let answer: UrlValidationAnswer = serde_json::from_str(&answer)
        .map_err(|e| format!("the answer is not {{\"plainToken\",\"encryptedToken\"}}: {e}"))?;
    let expected = util::hmac_sha256_hex(
        inner.config.webhook_secret.as_bytes(),
        plain_token.as_bytes(),
    );
    if answer.plain_token != plain_token {
        Err("the answer's plainToken is not the one sent".into())
    } else if answer.encrypted_token != expected {
        Err("the answer's encryptedToken is not HMAC-SHA256(secret token, plainToken)".into())
    } else {
        Ok(())
    }
}

/// POSTs a signed event to the webhook URL: `(status, body)` or why it failed.
async fn post(inner: &Inner, body: &str) -> Result<(u16, String), String> {
    let url = &inner.config.webhook_url;
    if url.is_empty() {
        return Err("no webhook URL is configured".into());
    }
    let timestamp = Timestamp::now().as_second();
    let response = inner
        .http
        .post(url)
        .header("content-type", "application/json; charset=utf-8")
        .header("x-zm-request-timestamp", timestamp.to_string())
        .header(
            "x-zm-signature",
            signature(&inner.config.webhook_secret, timestamp, body),
        )
        .body(body.to_string())
        .send()
        .await
        .map_err(|e| format!("could not deliver to {url}: {e}"))?;
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    tracing::info!(status, "zoom sandbox: webhook delivered");
    Ok((status, text))
}

fn record(inner: &Inner, event: &str, user_id: Option<String>, outcome: &Result<u16, String>) {
    let mut state = inner.lock();
    state.deliveries.push(Delivery {
        event: event.to_string(),
        user_id,
        at: Timestamp::now(),
        outcome: outcome.clone(),
    });
    // Keep the log short: it is for the control page and tests, not an archive.
    let excess = state.deliveries.len().saturating_sub(200);
    state.deliveries.drain(..excess);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_cover_timestamp_and_raw_body() {
        let sig = signature("secret", 1_700_000_000, r#"{"event":"x"}"#);
        assert_eq!(
            sig,
            format!(
                "v0={}",
                util::hmac_sha256_hex(b"secret", br#"v0:1700000000:{"event":"x"}"#)
            )
        );
        assert_ne!(sig, signature("secret", 1_700_000_001, r#"{"event":"x"}"#));
    }
}
