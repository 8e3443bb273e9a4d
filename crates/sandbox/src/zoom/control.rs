//! The Zoom sandbox's control surface: the HTML page (`GET /control`) and its actions,
//! which take JSON (tests: `{"user": email-or-id}`, answered in JSON) or a form (the
//! page's buttons: answered with a redirect back to the page and a message).
//!
//! - `POST /control/uninstall {"user"}` → `{"user_id","webhook_status"}`; 502 if the
//!   webhook could not be delivered (the grants are revoked anyway)
//! - `POST /control/expire {"user"}` → `{"user_id","expired_tokens"}`
//! - `POST /control/revoke {"user"}` → `{"user_id","revoked_grants"}`
//! - `POST /control/faults {"latency_ms","error_rate","rate_limit_rate","retry_after_secs"}`
//!   (missing fields are 0, `retry_after_secs` 1) → the faults in force
//! - `POST /control/pre-approve {"user","approved":true}` → `{"account","pre_approved"}`
//! - `POST /control/validate-webhook` → `{"ok":true}` or 502 `{"error"}`
//! - `GET /control/stats` → [`crate::ZoomSandboxStats`]
//! - `GET /control/meetings` → a JSON array of [`crate::SandboxMeeting`]: every
//!   meeting ever created (deleted ones too, `"deleted":true`), in id order
//!
//! An unknown user is `404 {"error"}`; a malformed body `400 {"error"}`.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{FromRequest, OriginalUri, Query, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};

use super::pages::{self, AccountView, ControlView};
use super::{webhook, Inner};
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

/// `/sandbox/zoom` from `/sandbox/zoom/control/uninstall` and the route's own suffix.
fn base_of(uri: &axum::http::Uri, suffix: &str) -> String {
    uri.path()
        .strip_suffix(suffix)
        .unwrap_or_default()
        .to_string()
}

/// Answers a control action: JSON for API callers; for the page's forms a 303 back to
/// the page with a message.
fn answer(
    uri: &axum::http::Uri,
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

#[derive(Deserialize)]
pub(crate) struct UserInput {
    user: String,
}

fn unknown(user: &str) -> (StatusCode, String) {
    (StatusCode::NOT_FOUND, format!("unknown Zoom user: {user}"))
}

/// `GET /control`.
pub(crate) async fn page(
    State(inner): State<Arc<Inner>>,
    OriginalUri(uri): OriginalUri,
    Query(query): Query<std::collections::HashMap<String, String>>,
) -> Response {
    let (stats, faults, accounts) = {
        let state = inner.lock();
        let accounts: Vec<AccountView> = state
            .accounts
            .values()
            .map(|a| AccountView {
                id: a.id.clone(),
                name: a.name.clone(),
                requires_pre_approval: a.requires_pre_approval,
                pre_approved: a.pre_approved,
            })
            .collect();
        (state.stats(), state.faults.clone(), accounts)
    };
    let base = base_of(&uri, "/control");
    pages::control(&ControlView {
        base: &base,
        message: query.get("message").map(String::as_str),
        stats: &stats,
        faults: &faults,
        accounts: &accounts,
        webhook_url: &inner.config.webhook_url,
    })
    .into_response()
}

/// `GET /control/stats`.
pub(crate) async fn stats(State(inner): State<Arc<Inner>>) -> Response {
    Json(inner.lock().stats()).into_response()
}

/// `GET /control/meetings`.
pub(crate) async fn meetings(State(inner): State<Arc<Inner>>) -> Response {
    Json(inner.lock().meetings_view()).into_response()
}

/// `POST /control/uninstall`.
pub(crate) async fn uninstall(
    State(inner): State<Arc<Inner>>,
    OriginalUri(uri): OriginalUri,
    input: ControlInput<UserInput>,
) -> Response {
    let user = input.value.user;
    let user_id = inner.lock().find_user(&user).map(|r| r.user.id.clone());
    let outcome = match user_id {
        None => Err(unknown(&user)),
        Some(user_id) => match webhook::uninstall(&inner, &user_id).await {
            Ok(status) => Ok(json!({ "user_id": user_id, "webhook_status": status })),
            Err(message) => Err((
                StatusCode::BAD_GATEWAY,
                format!("{user}'s grants are revoked, but the webhook failed: {message}"),
            )),
        },
    };
    let summary = match &outcome {
        Ok(v) => format!(
            "Uninstalled the app for {user}; Convene answered the webhook with HTTP {}.",
            v["webhook_status"]
        ),
        Err(_) => String::new(),
    };
    answer(
        &uri,
        "/control/uninstall",
        input.from_form,
        outcome,
        &summary,
    )
}

/// `POST /control/expire`.
pub(crate) async fn expire(
    State(inner): State<Arc<Inner>>,
    OriginalUri(uri): OriginalUri,
    input: ControlInput<UserInput>,
) -> Response {
    let user = input.value.user;
    let outcome = {
        let mut state = inner.lock();
        let user_id = state.find_user(&user).map(|r| r.user.id.clone());
        match (user_id, state.expire_access_tokens_of(&user)) {
            (Some(user_id), Some(n)) => Ok(json!({ "user_id": user_id, "expired_tokens": n })),
            _ => Err(unknown(&user)),
        }
    };
    let summary = format!("Expired {user}'s access tokens: their next API call gets 401 code 124.");
    answer(&uri, "/control/expire", input.from_form, outcome, &summary)
}

/// `POST /control/revoke`.
pub(crate) async fn revoke(
    State(inner): State<Arc<Inner>>,
    OriginalUri(uri): OriginalUri,
    input: ControlInput<UserInput>,
) -> Response {
    let user = input.value.user;
    let outcome = {
        let mut state = inner.lock();
        let user_id = state.find_user(&user).map(|r| r.user.id.clone());
        match (
            user_id,
            state.revoke_grants_of(&user, "grant revoked from the sandbox"),
        ) {
            (Some(user_id), Some(n)) => Ok(json!({ "user_id": user_id, "revoked_grants": n })),
            _ => Err(unknown(&user)),
        }
    };
    let summary = format!("Revoked {user}'s grant: their refresh tokens now get invalid_grant.");
    answer(&uri, "/control/revoke", input.from_form, outcome, &summary)
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

#[derive(Deserialize)]
pub(crate) struct PreApproveInput {
    user: String,
    approved: Option<bool>,
}

/// `POST /control/pre-approve`.
pub(crate) async fn pre_approve(
    State(inner): State<Arc<Inner>>,
    OriginalUri(uri): OriginalUri,
    input: ControlInput<PreApproveInput>,
) -> Response {
    let approved = input.value.approved.unwrap_or(true);
    let user = input.value.user;
    let account = inner.lock().pre_approve(&user, approved);
    let summary = match &account {
        Some(name) if approved => {
            format!("{name} pre-approved the app: its members can authorize it.")
        }
        Some(name) => format!("{name} withdrew its pre-approval."),
        None => String::new(),
    };
    let outcome = account
        .map(|name| json!({ "account": name, "pre_approved": approved }))
        .ok_or_else(|| unknown(&user));
    answer(
        &uri,
        "/control/pre-approve",
        input.from_form,
        outcome,
        &summary,
    )
}

/// `POST /control/validate-webhook`.
pub(crate) async fn validate_webhook(
    State(inner): State<Arc<Inner>>,
    OriginalUri(uri): OriginalUri,
    request: Request,
) -> Response {
    let from_form = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let outcome = webhook::validate_endpoint(&inner)
        .await
        .map(|()| json!({ "ok": true }))
        .map_err(|message| (StatusCode::BAD_GATEWAY, message));
    answer(
        &uri,
        "/control/validate-webhook",
        from_form,
        outcome,
        "The webhook endpoint answered the validation challenge correctly.",
    )
}
