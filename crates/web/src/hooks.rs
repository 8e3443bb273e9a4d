//! Incoming webhooks from providers. Each delivery is verified over its raw body before
//! anything is parsed; a bad or stale signature changes nothing.

use crate::error::WebError;
use crate::AppState;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use convene_app::connections::zoom_webhook::{WebhookError, WebhookFailure, WebhookOutcome};

pub fn routes() -> Router<AppState> {
    Router::new().route("/webhooks/zoom", post(zoom))
}

async fn zoom(State(s): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    match s
        .app
        .zoom_webhook(
            header("x-zm-request-timestamp"),
            header("x-zm-signature"),
            &body,
        )
        .await
    {
        Ok(WebhookOutcome::Respond(json)) => (StatusCode::OK, Json(json)).into_response(),
        Ok(WebhookOutcome::Accepted) => StatusCode::NO_CONTENT.into_response(),
        Err(WebhookFailure::Internal(e)) => {
            tracing::error!(error = %format!("{e:#}"), "zoom webhook processing failed");
            // A 5xx makes Zoom deliver again; the receipt was not recorded.
            WebError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the event could not be processed now; it will be accepted on redelivery",
            )
            .into_response()
        }
        Err(WebhookFailure::Refused(e)) => {
            let (status, code) = match &e {
                WebhookError::MissingSignature => (StatusCode::UNAUTHORIZED, "missing_signature"),
                WebhookError::BadSignature => (StatusCode::UNAUTHORIZED, "bad_signature"),
                WebhookError::Stale => (StatusCode::UNAUTHORIZED, "stale_timestamp"),
                WebhookError::Malformed(_) => (StatusCode::BAD_REQUEST, "malformed"),
            };
            tracing::warn!(%code, "zoom webhook refused");
            WebError::new(status, code, e.to_string()).into_response()
        }
    }
}
