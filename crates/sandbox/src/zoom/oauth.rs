//! Zoom's OAuth endpoints as the sandbox serves them: the consent page and form
//! (`/oauth/authorize`), the token endpoint (`/oauth/token`: code exchange with PKCE,
//! refresh with rotation) and revocation (`/oauth/revoke`).
//!
//! **Driving the consent form from a test.** `POST /oauth/authorize` takes the
//! authorize parameters (`response_type=code`, `client_id`, `redirect_uri`, `state`,
//! `code_challenge`, `code_challenge_method=S256`) from its query string, its
//! form body, or both (the body wins), plus the account as `account` (aliases
//! `login_hint`, `email`): any email, the test accounts included. So a test can take
//! the authorize URL Convene redirects to and POST it with the body
//! `account=alice@zoom.sandbox`; the answer is the same `302` to
//! `redirect_uri?code=…&state=…` (or `?error=access_denied&error_description=…&state=…`)
//! the browser would get.
//!
//! Parameters are read liberally (query string or form body, whatever the
//! content type) but checked strictly: the sandbox requires `state` and PKCE S256,
//! which Zoom merely allows, because Convene must always send them.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{OriginalUri, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use url::Url;

use super::accounts::{self, Decision};
use super::pages;
use super::state::{OAuthFailure, INVALID_CLIENT};
use super::wire::{OAuthErrorBody, RevokeResponse, TokenResponse};
use super::{Inner, ZoomSandboxConfig, SCOPES};
use crate::util;

/// The `error_description` when the account admin has not pre-approved the app.
pub(crate) const PRE_APPROVAL_DESCRIPTION: &str = "This app must be pre-approved by your Zoom account admin before you can authorize it. Ask your Zoom admin to pre-approve the app in the Zoom App Marketplace (Manage > Permissions), then try again.";
/// The `error_description` when the user denies consent.
pub(crate) const DENIED_DESCRIPTION: &str = "The user denied the request to authorize the app.";

/// Request parameters from the query string and a form body (the body wins).
fn params(query: Option<&str>, body: &[u8]) -> HashMap<String, String> {
    let mut out: HashMap<String, String> = HashMap::new();
    if let Some(query) = query {
        out.extend(url::form_urlencoded::parse(query.as_bytes()).into_owned());
    }
    out.extend(url::form_urlencoded::parse(body).into_owned());
    out
}

fn non_empty<'a>(params: &'a HashMap<String, String>, name: &str) -> Option<&'a str> {
    params.get(name).map(|s| s.trim()).filter(|s| !s.is_empty())
}

/// A checked authorize request.
pub(crate) struct AuthorizeRequest {
    pub client_id: String,
    pub redirect_uri: Url,
    pub state: String,
    pub code_challenge: String,
}

fn validate(
    config: &ZoomSandboxConfig,
    params: &HashMap<String, String>,
) -> Result<AuthorizeRequest, String> {
    let client_id = non_empty(params, "client_id").ok_or("Missing client_id.")?;
    if client_id != config.client_id {
        return Err(format!("Invalid client_id: {client_id}"));
    }
    match non_empty(params, "response_type") {
        Some("code") => {}
        Some(other) => {
            return Err(format!(
                "Unsupported response_type: {other}. Only \"code\" is supported."
            ))
        }
        None => return Err("Missing response_type (must be \"code\").".into()),
    }
    let redirect = non_empty(params, "redirect_uri").ok_or("Missing redirect_uri.")?;
    let redirect_uri = Url::parse(redirect)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.fragment().is_none())
        .ok_or_else(|| format!("Invalid redirect_uri: {redirect}"))?;
    let state = non_empty(params, "state")
        .ok_or("Missing state: the sandbox requires a state parameter (CSRF protection).")?;
    let code_challenge = non_empty(params, "code_challenge")
        .ok_or("Missing code_challenge: the sandbox requires PKCE with S256.")?;
    match non_empty(params, "code_challenge_method") {
        Some("S256") => {}
        other => {
            return Err(format!(
                "Unsupported code_challenge_method: {}. Use S256.",
                other.unwrap_or("(missing)")
            ))
        }
    }
    let well_formed = code_challenge.len() == 43
        && code_challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !well_formed {
        return Err(
            "Invalid code_challenge: expected BASE64URL(SHA256(code_verifier)), 43 characters."
                .into(),
        );
    }
    Ok(AuthorizeRequest {
        client_id: client_id.to_string(),
        redirect_uri,
        state: state.to_string(),
        code_challenge: code_challenge.to_string(),
    })
}

/// `GET /oauth/authorize`: the consent page, or a 400 page for a bad request.
pub(crate) async fn authorize_page(
    State(inner): State<Arc<Inner>>,
    OriginalUri(uri): OriginalUri,
    RawQuery(query): RawQuery,
) -> Response {
    let params = params(query.as_deref(), b"");
    match validate(&inner.config, &params) {
        Ok(request) => {
            let login_hint = non_empty(&params, "login_hint").unwrap_or_default();
            pages::consent(uri.path(), &request, login_hint).into_response()
        }
        Err(message) => error_page(&message),
    }
}

/// `POST /oauth/authorize`: sign in as the chosen account and allow (one click).
pub(crate) async fn authorize_submit(
    State(inner): State<Arc<Inner>>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let params = params(query.as_deref(), &body);
    let request = match validate(&inner.config, &params) {
        Ok(request) => request,
        Err(message) => return error_page(&message),
    };
    let Some(account) = ["account", "login_hint", "email"]
        .iter()
        .find_map(|name| non_empty(&params, name))
    else {
        return error_page("Choose a test account or enter an email to sign in.");
    };
    let email = match accounts::parse_email(account) {
        Ok(email) => email,
        Err(message) => return error_page(&message),
    };
    let mut target = request.redirect_uri.clone();
    {
        let mut state = inner.lock();
        let user_id = state.user_for_login(&email).user.id.clone();
        let mut query = target.query_pairs_mut();
        match state.decide(&user_id) {
            Decision::Approved => {
                let code = state.issue_code(
                    &request.client_id,
                    request.redirect_uri.as_str(),
                    &request.code_challenge,
                    &user_id,
                );
                query.append_pair("code", &code);
            }
            Decision::NeedsPreApproval => {
                query
                    .append_pair("error", "access_denied")
                    .append_pair("error_description", PRE_APPROVAL_DESCRIPTION);
            }
            Decision::Denied => {
                query
                    .append_pair("error", "access_denied")
                    .append_pair("error_description", DENIED_DESCRIPTION);
            }
        }
        query.append_pair("state", &request.state);
    }
    found(target.as_str())
}

fn found(location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(location) => (StatusCode::FOUND, [(header::LOCATION, location)]).into_response(),
        Err(_) => error_page("Invalid redirect_uri."),
    }
}

fn error_page(message: &str) -> Response {
    (StatusCode::BAD_REQUEST, pages::error(message)).into_response()
}

pub(crate) fn oauth_error(failure: &OAuthFailure) -> Response {
    let status = StatusCode::from_u16(failure.status).unwrap_or(StatusCode::BAD_REQUEST);
    let body = OAuthErrorBody {
        reason: failure.reason,
        error: failure.error,
    };
    (status, Json(body)).into_response()
}

/// Checks `Authorization: Basic base64(client_id:client_secret)`.
fn client_authenticated(config: &ZoomSandboxConfig, headers: &HeaderMap) -> bool {
    let Some(encoded) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Basic ")
                .or_else(|| v.strip_prefix("basic "))
        })
    else {
        return false;
    };
    let Some(decoded) = STANDARD
        .decode(encoded.trim())
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
    else {
        return false;
    };
    decoded.split_once(':').is_some_and(|(id, secret)| {
        util::constant_time_eq(id.as_bytes(), config.client_id.as_bytes())
            & util::constant_time_eq(secret.as_bytes(), config.client_secret.as_bytes())
    })
}

/// `POST /oauth/token`.
pub(crate) async fn token(
    State(inner): State<Arc<Inner>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let config = &inner.config;
    if !client_authenticated(config, &headers) {
        return oauth_error(&INVALID_CLIENT);
    }
    let params = params(query.as_deref(), &body);
    let get = |name: &str| non_empty(&params, name);
    let ttl = config.access_token_ttl;
    let issued = match get("grant_type") {
        Some("authorization_code") => inner.lock().exchange_code(
            &config.client_id,
            get("code"),
            get("redirect_uri"),
            get("code_verifier"),
            ttl,
        ),
        Some("refresh_token") => inner
            .lock()
            .refresh(&config.client_id, get("refresh_token"), ttl),
        Some(_) => Err(OAuthFailure {
            status: 400,
            error: "unsupported_grant_type",
            reason: "Unsupported grant type",
        }),
        None => Err(OAuthFailure {
            status: 400,
            error: "invalid_request",
            reason: "Invalid request : Missing grant_type",
        }),
    };
    match issued {
        Ok(issued) => {
            let body = TokenResponse {
                access_token: issued.access_token,
                token_type: "bearer",
                refresh_token: issued.refresh_token,
                expires_in: ttl.as_secs(),
                scope: SCOPES,
            };
            (
                [
                    (header::CACHE_CONTROL, "no-store"),
                    (header::PRAGMA, "no-cache"),
                ],
                Json(body),
            )
                .into_response()
        }
        Err(failure) => oauth_error(&failure),
    }
}

/// `POST /oauth/revoke?token=…`. As RFC 7009 asks, an unknown or already revoked
/// token is still `200 {"status":"success"}`; only a live grant counts as a revocation.
pub(crate) async fn revoke(
    State(inner): State<Arc<Inner>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    if !client_authenticated(&inner.config, &headers) {
        return oauth_error(&INVALID_CLIENT);
    }
    let params = params(query.as_deref(), &body);
    let Some(token) = non_empty(&params, "token") else {
        return oauth_error(&OAuthFailure {
            status: 400,
            error: "invalid_request",
            reason: "Invalid request : Missing token",
        });
    };
    inner.lock().revoke_token(&inner.config.client_id, token);
    Json(RevokeResponse { status: "success" }).into_response()
}
