//! The Microsoft identity platform's endpoints as the sandbox serves them: the
//! consent page and form (`/{tenant}/oauth2/v2.0/authorize`) and the token endpoint
//! (`/{tenant}/oauth2/v2.0/token`: code exchange with PKCE, refresh with rotation),
//! plus the fault-injection layer of the token endpoint. Any tenant segment is
//! accepted (`common`, `organizations`, a tenant id or domain).
//!
//! **Driving the consent form from a test.** `POST …/authorize` takes the authorize
//! parameters (`client_id`, `response_type=code`, `redirect_uri`, `response_mode`,
//! `scope`, `state`, `code_challenge`, `code_challenge_method=S256`) from its query
//! string, its form body, or both (the body wins), plus the account as `account`
//! (aliases `login_hint`, `email`). So a test can take the authorize URL Convene
//! redirects to and POST it with the body `account=megan@microsoft.sandbox`; the
//! answer is the same `302` to `redirect_uri?code=…&state=…` (or
//! `?error=…&error_description=AADSTS…&state=…`) the browser would get.
//!
//! Parameters are checked strictly where Convene must get them right: `state` and
//! PKCE S256 are required (Microsoft merely allows them for a confidential client),
//! `response_mode` must be `query`, and a refresh token is issued only when the scope
//! includes `offline_access`, as at Microsoft. The client authenticates with
//! `client_secret` in the form body (or HTTP Basic).

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{OriginalUri, RawQuery, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use jiff::Timestamp;
use serde_json::json;
use url::Url;

use super::accounts::{self, GraphUser};
use super::pages;
use super::state::{failure, invalid_client, Issued, OAuthFailure};
use super::wire::{OAuthErrorBody, TokenResponse};
use super::{Inner, MicrosoftSandboxConfig};
use crate::faults::Injected;
use crate::util;

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
    pub scope: String,
    pub state: String,
    pub code_challenge: String,
}

fn validate(
    config: &MicrosoftSandboxConfig,
    params: &HashMap<String, String>,
) -> Result<AuthorizeRequest, String> {
    let client_id = non_empty(params, "client_id").ok_or(
        "AADSTS900144: The request body must contain the following parameter: 'client_id'.",
    )?;
    if client_id != config.client_id {
        return Err(format!("AADSTS700016: Application with identifier '{client_id}' was not found in the directory."));
    }
    match non_empty(params, "response_type") {
        Some("code") => {}
        Some(other) => {
            return Err(format!(
                "AADSTS700054: response_type '{other}' is not enabled for the application. The sandbox supports \"code\" only."
            ))
        }
        None => return Err("AADSTS900144: The request body must contain the following parameter: 'response_type'.".into()),
    }
    let redirect = non_empty(params, "redirect_uri").ok_or(
        "AADSTS900144: The request body must contain the following parameter: 'redirect_uri'.",
    )?;
    let redirect_uri = Url::parse(redirect)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.fragment().is_none())
        .ok_or_else(|| format!("AADSTS50011: The redirect URI '{redirect}' is not valid."))?;
    match non_empty(params, "response_mode") {
        None | Some("query") => {}
        Some(other) => {
            return Err(format!(
                "AADSTS900144: response_mode '{other}' is not supported by the sandbox; use response_mode=query."
            ))
        }
    }
    let scope = non_empty(params, "scope")
        .ok_or("AADSTS900144: The request body must contain the following parameter: 'scope'.")?;
    let state = non_empty(params, "state")
        .ok_or("Missing state: the sandbox requires a state parameter (CSRF protection).")?;
    let code_challenge = non_empty(params, "code_challenge")
        .ok_or("Missing code_challenge: the sandbox requires PKCE with S256.")?;
    match non_empty(params, "code_challenge_method") {
        Some("S256") => {}
        other => {
            return Err(format!(
                "AADSTS501491: Invalid code_challenge_method: {}. Use S256.",
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
            "AADSTS501491: Invalid code_challenge: expected BASE64URL(SHA256(code_verifier)), 43 characters."
                .into(),
        );
    }
    Ok(AuthorizeRequest {
        client_id: client_id.to_string(),
        redirect_uri,
        scope: scope.split_whitespace().collect::<Vec<_>>().join(" "),
        state: state.to_string(),
        code_challenge: code_challenge.to_string(),
    })
}

/// `GET /{tenant}/oauth2/v2.0/authorize`: the consent page, or a 400 page.
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

/// `POST /{tenant}/oauth2/v2.0/authorize`: sign in as the chosen account and answer
/// consent as that account does (one click).
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
        let user = state.user_for_login(&email);
        let mut query = target.query_pairs_mut();
        match state.decide(&user.id).error() {
            None => {
                let code = state.issue_code(
                    &request.client_id,
                    request.redirect_uri.as_str(),
                    &request.code_challenge,
                    &request.scope,
                    &user.id,
                );
                query.append_pair("code", &code);
            }
            Some((error, description)) => {
                query
                    .append_pair("error", error)
                    .append_pair("error_description", description);
            }
        }
        query.append_pair("state", &request.state);
    }
    match HeaderValue::from_str(target.as_str()) {
        Ok(location) => (StatusCode::FOUND, [(header::LOCATION, location)]).into_response(),
        Err(_) => error_page("Invalid redirect_uri."),
    }
}

fn error_page(message: &str) -> Response {
    (StatusCode::BAD_REQUEST, pages::error(message)).into_response()
}

/// A token-endpoint error in Microsoft's shape; the description carries the AADSTS
/// code, then trace lines as Microsoft's do.
pub(crate) fn oauth_error(failure: &OAuthFailure) -> Response {
    let status = StatusCode::from_u16(failure.status).unwrap_or(StatusCode::BAD_REQUEST);
    let now = Timestamp::now().strftime("%Y-%m-%d %H:%M:%SZ").to_string();
    let trace_id = guid();
    let correlation_id = guid();
    let body = OAuthErrorBody {
        error: failure.error,
        error_description: format!(
            "AADSTS{}: {}\r\nTrace ID: {trace_id}\r\nCorrelation ID: {correlation_id}\r\nTimestamp: {now}",
            failure.code, failure.text
        ),
        error_codes: vec![failure.code],
        timestamp: now,
        trace_id,
        correlation_id,
        error_uri: format!(
            "https://login.microsoftonline.com/error?code={}",
            failure.code
        ),
    };
    (status, Json(body)).into_response()
}

/// A random GUID (for trace and correlation ids).
pub(crate) fn guid() -> String {
    let h = hex::encode(rand::random::<[u8; 16]>());
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// The client's credentials: `client_id` + `client_secret` in the form body, or
/// HTTP Basic.
fn client_authenticated(
    config: &MicrosoftSandboxConfig,
    headers: &HeaderMap,
    params: &HashMap<String, String>,
) -> Result<(), OAuthFailure> {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Basic ")
                .or_else(|| v.strip_prefix("basic "))
        })
        .and_then(|encoded| STANDARD.decode(encoded.trim()).ok())
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|decoded| {
            decoded
                .split_once(':')
                .map(|(id, secret)| (id.to_string(), secret.to_string()))
        });
    let (id, secret) = match basic {
        Some(pair) => pair,
        None => (
            non_empty(params, "client_id")
                .unwrap_or_default()
                .to_string(),
            params.get("client_secret").cloned().unwrap_or_default(),
        ),
    };
    if id.is_empty() {
        return Err(failure(
            400,
            "invalid_request",
            900_144,
            "The request body must contain the following parameter: 'client_id'.",
        ));
    }
    if id != config.client_id {
        return Err(failure(
            400,
            "unauthorized_client",
            700_016,
            "Application with the given identifier was not found in the directory.",
        ));
    }
    if secret.is_empty() {
        return Err(failure(
            401,
            "invalid_client",
            7_000_218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        ));
    }
    if !util::constant_time_eq(secret.as_bytes(), config.client_secret.as_bytes()) {
        return Err(invalid_client());
    }
    Ok(())
}

/// `POST /{tenant}/oauth2/v2.0/token`.
pub(crate) async fn token(
    State(inner): State<Arc<Inner>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let config = &inner.config;
    // The token endpoint reads the form body only (a secret in a query string would
    // end up in logs).
    let params = params(None, &body);
    if let Err(failure) = client_authenticated(config, &headers, &params) {
        return oauth_error(&failure);
    }
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
        Some(other) => Err(failure(
            400,
            "unsupported_grant_type",
            70_003,
            &format!("The app requested an unsupported grant type '{other}'."),
        )),
        None => Err(failure(
            400,
            "invalid_request",
            900_144,
            "The request body must contain the following parameter: 'grant_type'.",
        )),
    };
    match issued {
        Ok(issued) => {
            let body = token_response(config, issued, ttl.as_secs());
            (
                [
                    (header::CACHE_CONTROL, "no-store, no-cache"),
                    (header::PRAGMA, "no-cache"),
                ],
                Json(body),
            )
                .into_response()
        }
        Err(failure) => oauth_error(&failure),
    }
}

fn token_response(config: &MicrosoftSandboxConfig, issued: Issued, ttl: u64) -> TokenResponse {
    // The resource scopes granted, as Microsoft lists them: without offline_access.
    let scope = issued
        .scope
        .split_whitespace()
        .filter(|s| *s != "offline_access")
        .collect::<Vec<_>>()
        .join(" ");
    TokenResponse {
        token_type: "Bearer",
        scope,
        expires_in: ttl,
        ext_expires_in: ttl,
        access_token: issued.access_token,
        refresh_token: issued.refresh_token,
        id_token: id_token(config, &issued.user, ttl),
    }
}

/// An ID token with the claims Microsoft puts in one. Its signature is a placeholder:
/// the sandbox publishes no keys, and Convene identifies the user with `GET /me`.
fn id_token(config: &MicrosoftSandboxConfig, user: &GraphUser, ttl: u64) -> String {
    let now = Timestamp::now().as_second();
    let header = json!({"typ": "JWT", "alg": "RS256", "kid": "convene-sandbox"});
    let claims = json!({
        "aud": config.client_id,
        "iss": format!("https://login.microsoftonline.com/{}/v2.0", user.tenant_id),
        "iat": now,
        "nbf": now,
        "exp": now + i64::try_from(ttl).unwrap_or(3600),
        "email": user.email,
        "name": user.display_name(),
        "oid": user.id,
        "preferred_username": user.email,
        "sub": util::stable_id("microsoft-sandbox-sub", &user.id),
        "tid": user.tenant_id,
        "ver": "2.0",
    });
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        URL_SAFE_NO_PAD.encode("sandbox-signature-not-verifiable")
    )
}

/// Adds the configured latency to the token endpoint, then maybe answers with an
/// injected 429 or 5xx in the identity platform's error shape.
pub(crate) async fn inject_faults(
    State(inner): State<Arc<Inner>>,
    request: Request,
    next: Next,
) -> Response {
    let faults = inner.lock().faults.clone();
    if !faults.latency.is_zero() {
        tokio::time::sleep(faults.latency).await;
    }
    match faults.roll() {
        None => next.run(request).await,
        Some(Injected::RateLimited) => {
            inner.lock().counters.injected_rate_limits += 1;
            let mut response = oauth_error(&failure(
                429,
                "temporarily_unavailable",
                90_033,
                "A transient error has occurred. Please try again.",
            ));
            if let Ok(value) = faults.retry_after_secs.to_string().parse() {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            response
        }
        Some(Injected::ServerError(status)) => {
            inner.lock().counters.injected_errors += 1;
            oauth_error(&failure(
                status,
                "temporarily_unavailable",
                90_033,
                "A transient error has occurred. Please try again.",
            ))
        }
    }
}
