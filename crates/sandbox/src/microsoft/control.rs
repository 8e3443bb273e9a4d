//! The Microsoft sandbox's control surface: the HTML page (`GET /control`) and its
//! actions, which take JSON (tests: answered in JSON) or a form (the page's buttons:
//! answered with a redirect back to the page and a message).
//!
//! - `POST /control/busy {"account","start","end","subject"?}` → `201 {"id",
//!   "calendar_id","account"}`: a busy event in the account's default calendar (an
//!   email not seen before becomes a user). `start`/`end` are RFC 3339, or a
//!   date-time without offset (the page's `datetime-local` fields) read as UTC.
//! - `POST /control/faults {"latency_ms","error_rate","rate_limit_rate","retry_after_secs"}`
//!   (missing fields are 0, `retry_after_secs` 1) → the faults in force
//! - `POST /control/revoke {"account"}` → `{"user_id","revoked_grants"}`
//! - `POST /control/expire {"account"}` → `{"user_id","expired_tokens"}`
//! - `GET /control/events` → a JSON array of [`crate::SandboxEvent`]: every event
//!   ever created (deleted ones too, `"deleted":true`), in creation order
//! - `GET /control/online-meetings` → a JSON array of [`crate::SandboxOnlineMeeting`]
//! - `GET /control/stats` → [`crate::MicrosoftSandboxStats`]
//!
//! An unknown account is `404 {"error"}`; a malformed body `400 {"error"}`.

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

/// `/sandbox/microsoft` from `/sandbox/microsoft/control/busy` and the route's suffix.
fn base_of(uri: &Uri, suffix: &str) -> String {
    uri.path()
        .strip_suffix(suffix)
        .unwrap_or_default()
        .to_string()
}

/// Answers a control action: JSON for API callers (`ok_status` on success); for the
/// page's forms a 303 back to the page with a message.
fn answer(
    uri: &Uri,
    suffix: &str,
    from_form: bool,
    outcome: Result<(StatusCode, Value), (StatusCode, String)>,
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
        Ok((status, value)) => (status, Json(value)).into_response(),
        Err((status, message)) => error(status, &message),
    }
}

fn unknown(account: &str) -> (StatusCode, String) {
    (
        StatusCode::NOT_FOUND,
        format!("unknown Microsoft account: {account}"),
    )
}

/// `GET /control`.
pub(crate) async fn page(
    State(inner): State<Arc<Inner>>,
    OriginalUri(uri): OriginalUri,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let (stats, faults, events, meetings) = {
        let state = inner.lock();
        (
            state.stats(),
            state.faults.clone(),
            state.events_view(),
            state.online_meetings_view(),
        )
    };
    let base = base_of(&uri, "/control");
    pages::control(&ControlView {
        base: &base,
        message: query.get("message").map(String::as_str),
        stats: &stats,
        faults: &faults,
        events: &events,
        meetings: &meetings,
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

/// `GET /control/online-meetings`.
pub(crate) async fn online_meetings(State(inner): State<Arc<Inner>>) -> Response {
    Json(inner.lock().online_meetings_view()).into_response()
}

#[derive(Deserialize)]
pub(crate) struct BusyInput {
    account: String,
    start: String,
    end: String,
    subject: Option<String>,
}

/// An instant from the control API or the page: RFC 3339, or a date-time without
/// offset (`2026-12-01T15:00` from a `datetime-local` field) read as UTC.
fn parse_time(field: &str, raw: &str) -> Result<Timestamp, (StatusCode, String)> {
    let raw = raw.trim();
    raw.parse::<Timestamp>()
        .ok()
        .or_else(|| {
            raw.parse::<DateTime>()
                .ok()
                .and_then(|d| d.to_zoned(TimeZone::UTC).ok())
                .map(|z| z.timestamp())
        })
        .ok_or_else(|| {
            (
                StatusCode::BAD_REQUEST,
                format!("{field} must be a date and time like 2026-12-01T15:00:00Z, not “{raw}”"),
            )
        })
}

/// `POST /control/busy`.
pub(crate) async fn busy(
    State(inner): State<Arc<Inner>>,
    OriginalUri(uri): OriginalUri,
    input: ControlInput<BusyInput>,
) -> Response {
    let b = input.value;
    let outcome = parse_time("start", &b.start).and_then(|start| {
        let end = parse_time("end", &b.end)?;
        let mut state = inner.lock();
        let event = state
            .add_busy(&b.account, start, end, b.subject.as_deref())
            .map_err(|message| {
                let status = if message.starts_with("unknown") {
                    StatusCode::NOT_FOUND
                } else {
                    StatusCode::BAD_REQUEST
                };
                (status, message)
            })?;
        let account = state.email_of(&event.owner_id);
        Ok((
            StatusCode::CREATED,
            json!({"id": event.id, "calendar_id": event.calendar_id, "account": account}),
        ))
    });
    let summary = format!(
        "Added a busy event for {} from {} to {}.",
        b.account, b.start, b.end
    );
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
    let account = input.value.account;
    let outcome = inner
        .lock()
        .revoke_grants_of(&account)
        .map(|(user_id, n)| {
            (
                StatusCode::OK,
                json!({ "user_id": user_id, "revoked_grants": n }),
            )
        })
        .ok_or_else(|| unknown(&account));
    let summary = format!(
        "Revoked {account}'s grant: their refresh tokens now get invalid_grant (AADSTS50173)."
    );
    answer(&uri, "/control/revoke", input.from_form, outcome, &summary)
}

/// `POST /control/expire`.
pub(crate) async fn expire(
    State(inner): State<Arc<Inner>>,
    OriginalUri(uri): OriginalUri,
    input: ControlInput<AccountInput>,
) -> Response {
    let account = input.value.account;
    let outcome = inner
        .lock()
        .expire_access_tokens_of(&account)
        .map(|(user_id, n)| {
            (
                StatusCode::OK,
                json!({ "user_id": user_id, "expired_tokens": n }),
            )
        })
        .ok_or_else(|| unknown(&account));
    let summary = format!(
        "Expired {account}'s access tokens: their next Graph call gets 401 InvalidAuthenticationToken."
    );
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
        Ok((
            StatusCode::OK,
            json!({
                "latency_ms": f.latency_ms,
                "error_rate": faults.error_rate,
                "rate_limit_rate": faults.rate_limit_rate,
                "retry_after_secs": faults.retry_after_secs,
            }),
        ))
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
