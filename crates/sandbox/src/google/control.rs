//! The Google sandbox's control surface: the HTML page (`GET /control`) and its actions,
//! which take JSON (tests; answered in JSON) or a form (the page's buttons; answered
//! with a redirect back to the page and a message).
//!
//! - `POST /control/busy {"account","calendar"?,"start","end","summary"?}` → the new
//!   [`crate::google::SandboxEvent`]. `account` is any email (a new one becomes a user);
//!   `calendar` an id or name of one of their calendars (default: primary); `start` and
//!   `end` RFC 3339 (`2026-12-01T15:00:00Z`), or a local `2026-12-01T15:00` read as UTC
//!   (what the page's `datetime-local` inputs send); `summary` defaults to "Busy".
//! - `POST /control/revoke {"account"}` → `{"account","revoked_grants"}`: the user's
//!   refresh tokens now get `invalid_grant`, access tokens 401
//! - `POST /control/expire {"account"}` → `{"account","expired_tokens"}`: access tokens
//!   get 401, refresh tokens still work
//! - `POST /control/faults {"latency_ms","error_rate","rate_limit_rate","retry_after_secs"}`
//!   (missing fields are 0, `retry_after_secs` 1) → the faults in force
//! - `GET /control/events` → a JSON array of every event ever written (deleted ones
//!   too, `"deleted":true`), in creation order
//! - `GET /control/stats` → [`crate::google::GoogleSandboxStats`]
//!
//! An unknown account is `404 {"error"}`; a malformed body or bad value `400 {"error"}`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{FromRequest, OriginalUri, Query, Request, State};
use axum::http::{header, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};

use super::pages::{self, ControlView};
use super::Inner;
use crate::faults::Faults;

/// A control action's input, from JSON or a form.
pub(crate) struct ControlInput<T> {
    value: T,
    from_form: bool,
}

impl<S, T> FromRequest<S> for ControlInput<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let from_form = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        let value = if from_form {
            Form::<T>::from_request(request, state)
                .await
                .map(|Form(v)| v)
                .map_err(|e| e.body_text())
        } else {
            Json::<T>::from_request(request, state)
                .await
                .map(|Json(v)| v)
                .map_err(|e| e.body_text())
        };
        value
            .map(|value| ControlInput { value, from_form })
            .map_err(|message| error(StatusCode::BAD_REQUEST, &message))
    }
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

/// `/sandbox/google` from `/sandbox/google/control/busy` and the route's own suffix.
fn base_of(uri: &Uri, suffix: &str) -> String {
    uri.path()
        .strip_suffix(suffix)
        .unwrap_or_default()
        .to_string()
}

/// Answers a control action: JSON for API callers; for the page's forms a 303 back to
/// the page with a message.
fn answer(
    uri: &Uri,
    suffix: &str,
    from_form: bool,
    outcome: Result<Value, (StatusCode, String)>,
    summary: &str,
) -> Response {
    if from_form {
        let message = match &outcome {
            Ok(_) => summary.to_string(),
            Err((_, message)) => message.clone(),
        };
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("message", &message)
            .finish();
        let location = format!("{}/control?{query}", base_of(uri, suffix));
        return (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response();
    }
    match outcome {
        Ok(value) => Json(value).into_response(),
        Err((status, message)) => error(status, &message),
    }
}

fn unknown(account: &str) -> (StatusCode, String) {
    (
        StatusCode::NOT_FOUND,
        format!("unknown Google account: {account}"),
    )
}

/// An instant from the control API or the page: RFC 3339, or a local date-time read
/// as UTC.
fn parse_instant(name: &str, raw: &str) -> Result<Timestamp, (StatusCode, String)> {
    let raw = raw.trim();
    raw.parse::<Timestamp>()
        .ok()
        .or_else(|| {
            raw.parse::<DateTime>()
                .ok()
                .and_then(|local| local.to_zoned(TimeZone::UTC).ok())
                .map(|zoned| zoned.timestamp())
        })
        .ok_or_else(|| {
            (
                StatusCode::BAD_REQUEST,
                format!("{name} must be a date and time like 2026-12-01T15:00:00Z, not “{raw}”"),
            )
        })
}

/// `GET /control`.
pub(crate) async fn page(
    State(inner): State<Arc<Inner>>,
    OriginalUri(uri): OriginalUri,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let (stats, events, faults) = {
        let state = inner.lock();
        (state.stats(), state.events_view(), state.faults.clone())
    };
    let base = base_of(&uri, "/control");
    pages::control(&ControlView {
        base: &base,
        message: query.get("message").map(String::as_str),
        stats: &stats,
        events: &events,
        faults: &faults,
    })
    .into_response()
}

/// `GET /control/stats`.
pub(crate) async fn stats(State(inner): State<Arc<Inner>>) -> Response {
    Json(inner.lock().stats()).into_response()
}

/// `GET /control/events`.
pub(crate) async fn events(State(inner): State<Arc<Inner>>) -> Response {
    Json(inner.lock().events_view()).into_response()
}

#[derive(Deserialize)]
pub(crate) struct BusyInput {
    account: String,
    calendar: Option<String>,
    start: String,
    end: String,
    summary: Option<String>,
}

/// `POST /control/busy`.
pub(crate) async fn busy(
    State(inner): State<Arc<Inner>>,
    OriginalUri(uri): OriginalUri,
    input: ControlInput<BusyInput>,
) -> Response {
    let b = &input.value;
    let outcome = parse_instant("start", &b.start)
        .and_then(|start| Ok((start, parse_instant("end", &b.end)?)))
        .and_then(|(start, end)| {
            inner
                .lock()
                .add_busy(
                    &b.account,
                    b.calendar.as_deref(),
                    start,
                    end,
                    b.summary.as_deref().unwrap_or_default(),
                )
                .map_err(|message| (StatusCode::BAD_REQUEST, message))
        })
        .and_then(|event| {
            serde_json::to_value(event)
                .map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))
        });
    let summary = match &outcome {
        Ok(event) => format!(
            "Added “{}” to {}'s calendar {}.",
            event["summary"].as_str().unwrap_or_default(),
            b.account.trim(),
            event["calendar_id"].as_str().unwrap_or_default()
        ),
        Err(_) => String::new(),
    };
    answer(&uri, "/control/busy", input.from_form, outcome, &summary)
}

#[derive(Deserialize)]
pub(crate) struct AccountInput {
    account: String,
}

/// `POST /control/revoke`.
pub(crate) async fn revoke(
    State(inner): State<Arc<Inner>>,
    OriginalUri(uri): OriginalUri,
    input: ControlInput<AccountInput>,
) -> Response {
    let account = input.value.account.trim().to_string();
    let outcome = inner
        .lock()
        .revoke_grants_of(&account, "access removed from the sandbox")
        .map(|n| json!({ "account": account, "revoked_grants": n }))
        .ok_or_else(|| unknown(&account));
    let summary = format!(
        "Removed Convene's access for {account}: their refresh tokens now get invalid_grant."
    );
    answer(&uri, "/control/revoke", input.from_form, outcome, &summary)
}

/// `POST /control/expire`.
pub(crate) async fn expire(
    State(inner): State<Arc<Inner>>,
    OriginalUri(uri): OriginalUri,
    input: ControlInput<AccountInput>,
) -> Response {
    let account = input.value.account.trim().to_string();
    let outcome = inner
        .lock()
        .expire_access_tokens_of(&account)
        .map(|n| json!({ "account": account, "expired_tokens": n }))
        .ok_or_else(|| unknown(&account));
    let summary = format!("Expired {account}'s access tokens: their next API call gets 401.");
    answer(&uri, "/control/expire", input.from_form, outcome, &summary)
}

#[derive(Deserialize)]
pub(crate) struct FaultsInput {
    #[serde(default)]
    latency_ms: u64,
    #[serde(default)]
    error_rate: f64,
    #[serde(default)]
    rate_limit_rate: f64,
    retry_after_secs: Option<u64>,
}

/// `POST /control/faults`.
pub(crate) async fn faults(
    State(inner): State<Arc<Inner>>,
    OriginalUri(uri): OriginalUri,
    input: ControlInput<FaultsInput>,
) -> Response {
    let f = input.value;
    let rate_ok = |r: f64| (0.0..=1.0).contains(&r);
    let outcome = if !rate_ok(f.error_rate) || !rate_ok(f.rate_limit_rate) {
        Err((
            StatusCode::BAD_REQUEST,
            "error_rate and rate_limit_rate must be between 0 and 1".to_string(),
        ))
    } else if f.latency_ms > 60_000 {
        Err((
            StatusCode::BAD_REQUEST,
            "latency_ms must be at most 60000".to_string(),
        ))
    } else {
        let faults = Faults {
            latency: Duration::from_millis(f.latency_ms),
            error_rate: f.error_rate,
            rate_limit_rate: f.rate_limit_rate,
            retry_after_secs: f.retry_after_secs.unwrap_or(1),
        };
        inner.lock().faults = faults.clone().sanitized();
        Ok(json!({
            "latency_ms": f.latency_ms,
            "error_rate": faults.error_rate,
            "rate_limit_rate": faults.rate_limit_rate,
            "retry_after_secs": faults.retry_after_secs,
        }))
    };
    let summary = format!(
        "Faults: latency {} ms, 5xx rate {}, 429 rate {}, Retry-After {} s.",
        f.latency_ms,
        f.error_rate,
        f.rate_limit_rate,
        f.retry_after_secs.unwrap_or(1)
    );
    answer(&uri, "/control/faults", input.from_form, outcome, &summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_in_rfc3339_or_local_utc() {
        let utc: Timestamp = "2026-12-01T15:00:00Z".parse().unwrap();
        assert_eq!(parse_instant("start", "2026-12-01T15:00:00Z").unwrap(), utc);
        assert_eq!(
            parse_instant("start", "2026-12-01T16:00:00+01:00").unwrap(),
            utc
        );
        assert_eq!(parse_instant("start", " 2026-12-01T15:00 ").unwrap(), utc);
        assert!(parse_instant("start", "tomorrow").is_err());
    }
}
