//! Google's OAuth endpoints as the sandbox serves them: the consent page and form
//! (`/o/oauth2/v2/auth`), the token endpoint (`/token`: code exchange with PKCE,
//! refresh without rotation) and revocation (`/revoke`).
//!
//! **Driving the consent form from a test.** `POST /o/oauth2/v2/auth` takes the
//! authorize parameters (`response_type=code`, `client_id`, `redirect_uri`, `scope`,
//! `state`, `code_challenge`, `code_challenge_method=S256`, and optionally
//! `access_type`, `prompt`, `login_hint`) from its query string, its form body, or
//! both (the body wins), plus the account as `account` (aliases `login_hint`, `email`).
//! So a test can take the authorize URL Convene redirects to and POST it with the body
//! `account=gina@google.sandbox`; the answer is the `302` to
//! `redirect_uri?state=…&code=…&scope=…` (or `?error=access_denied&state=…`) the
//! browser would get.
//!
//! Parameters are read liberally but checked strictly: the sandbox requires `state` and
//! PKCE S256, which Google merely allows, because Convene must always send them. The
//! token endpoint takes the client credentials from the form body (as Google documents)
//! or HTTP Basic. `id_token` is a JWT whose signature is random: the sandbox publishes
//! no keys, and Convene reads the account from userinfo instead.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{OriginalUri, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use serde_json::json;
use url::Url;

use super::accounts::{self, Consent};
use super::pages;
use super::state::{OAuthFailure, BAD_CLIENT_SECRET, UNKNOWN_CLIENT};
use super::wire::{OAuthErrorBody, TokenResponse};
use super::{scopes, GoogleSandboxConfig, Inner};
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
    /// As sent (for the form's hidden field).
    pub scope: String,
    /// Normalized: `email` → `…/auth/userinfo.email`, and so on.
    pub scopes: Vec<String>,
    pub state: String,
    pub code_challenge: String,
    pub access_type: String,
    pub prompt: String,
}

impl AuthorizeRequest {
    fn offline(&self) -> bool {
        self.access_type == "offline"
    }

    fn forced_consent(&self) -> bool {
        self.prompt.split_whitespace().any(|p| p == "consent")
    }
}

/// Why an authorize request is refused: Google's error code and its explanation.
pub(crate) struct AuthorizeError {
    pub status: StatusCode,
    pub error: &'static str,
    pub message: String,
}

fn bad(error: &'static str, message: impl Into<String>) -> AuthorizeError {
    AuthorizeError {
        status: StatusCode::BAD_REQUEST,
        error,
        message: message.into(),
    }
}

fn validate(
    config: &GoogleSandboxConfig,
    params: &HashMap<String, String>,
) -> Result<AuthorizeRequest, AuthorizeError> {
    let missing = |name: &str| {
        bad(
            "invalid_request",
            format!("Missing required parameter: {name}"),
        )
    };
    let client_id = non_empty(params, "client_id").ok_or_else(|| missing("client_id"))?;
    if client_id != config.client_id {
        return Err(AuthorizeError {
            status: StatusCode::UNAUTHORIZED,
            error: "invalid_client",
            message: "The OAuth client was not found.".into(),
        });
    }
    let redirect = non_empty(params, "redirect_uri").ok_or_else(|| missing("redirect_uri"))?;
    let redirect_uri = Url::parse(redirect)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.fragment().is_none())
        .ok_or_else(|| {
            bad(
                "invalid_request",
                format!("Invalid parameter value for redirect_uri: {redirect}"),
            )
        })?;
    match non_empty(params, "response_type") {
        Some("code") => {}
        Some(other) => {
            return Err(bad(
                "unsupported_response_type",
                format!("Unsupported response type: {other}. The sandbox supports \"code\"."),
            ))
        }
        None => return Err(missing("response_type")),
    }
    let scope = non_empty(params, "scope").ok_or_else(|| missing("scope"))?;
    let scopes = scopes::normalize(scope).map_err(|invalid| {
        bad(
            "invalid_scope",
            format!("Some requested scopes were invalid. {{invalid=[{invalid}]}}"),
        )
    })?;
    let access_type = non_empty(params, "access_type").unwrap_or("online");
    if !matches!(access_type, "online" | "offline") {
        return Err(bad(
            "invalid_request",
            format!("Invalid access_type: {access_type}"),
        ));
    }
    let prompt = non_empty(params, "prompt").unwrap_or_default();
    if let Some(p) = prompt
        .split_whitespace()
        .find(|p| !matches!(*p, "none" | "consent" | "select_account"))
    {
        return Err(bad("invalid_request", format!("Invalid prompt: {p}")));
    }
    let state = non_empty(params, "state").ok_or_else(|| {
        bad(
            "invalid_request",
            "Missing state: the sandbox requires a state parameter (CSRF protection).",
        )
    })?;
    let code_challenge = non_empty(params, "code_challenge").ok_or_else(|| {
        bad(
            "invalid_request",
            "Missing code_challenge: the sandbox requires PKCE with S256.",
        )
    })?;
    match non_empty(params, "code_challenge_method") {
        Some("S256") => {}
        other => {
            return Err(bad(
                "invalid_request",
                format!(
                    "Unsupported code_challenge_method: {}. Use S256.",
                    other.unwrap_or("(missing)")
                ),
            ))
        }
    }
    let well_formed = code_challenge.len() == 43
        && code_challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !well_formed {
        return Err(bad(
            "invalid_request",
            "Invalid code_challenge: expected BASE64URL(SHA256(code_verifier)), 43 characters.",
        ));
    }
    Ok(AuthorizeRequest {
        client_id: client_id.to_string(),
        redirect_uri,
        scope: scope.to_string(),
        scopes,
        state: state.to_string(),
        code_challenge: code_challenge.to_string(),
        access_type: access_type.to_string(),
        prompt: prompt.to_string(),
    })
}

fn error_page(e: &AuthorizeError) -> Response {
    (e.status, pages::error(e.error, &e.message)).into_response()
}

/// `GET /o/oauth2/v2/auth`: the consent page, or Google's error page.
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
        Err(e) => error_page(&e),
    }
}

/// `POST /o/oauth2/v2/auth`: sign in as the chosen account and answer (one click).
pub(crate) async fn authorize_submit(
    State(inner): State<Arc<Inner>>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let params = params(query.as_deref(), &body);
    let request = match validate(&inner.config, &params) {
        Ok(request) => request,
        Err(e) => return error_page(&e),
    };
    let Some(account) = ["account", "login_hint", "email"]
        .iter()
        .find_map(|name| non_empty(&params, name))
    else {
        return error_page(&bad(
            "invalid_request",
            "Choose a test account or enter an email to sign in.",
        ));
    };
    let email = match accounts::parse_email(account) {
        Ok(email) => email,
        Err(message) => return error_page(&bad("invalid_request", message)),
    };
    let mut target = request.redirect_uri.clone();
    {
        let mut state = inner.lock();
        let consent = state.user_for_login(&email).user.consent;
        let mut query = target.query_pairs_mut();
        query.append_pair("state", &request.state);
        match consent {
            Consent::Approve => {
                let code = state.issue_code(
                    &request.client_id,
                    request.redirect_uri.as_str(),
                    &request.code_challenge,
                    &email,
                    request.scopes.clone(),
                    request.offline(),
                    request.forced_consent(),
                );
                query
                    .append_pair("code", &code)
                    .append_pair("scope", &request.scopes.join(" "))
                    .append_pair("authuser", "0")
                    .append_pair("prompt", "consent");
            }
            Consent::Deny => {
                query.append_pair("error", "access_denied");
            }
        }
    }
    match HeaderValue::from_str(target.as_str()) {
        Ok(location) => (StatusCode::FOUND, [(header::LOCATION, location)]).into_response(),
        Err(_) => error_page(&bad("invalid_request", "Invalid redirect_uri.")),
    }
}

pub(crate) fn oauth_error(failure: &OAuthFailure) -> Response {
    let status = StatusCode::from_u16(failure.status).unwrap_or(StatusCode::BAD_REQUEST);
    let body = OAuthErrorBody {
        error: failure.error,
        error_description: failure.description,
    };
    (status, Json(body)).into_response()
}

/// The client's credentials, from the form body or `Authorization: Basic`.
fn client_credentials(
    params: &HashMap<String, String>,
    headers: &HeaderMap,
) -> Option<(String, String)> {
    if let Some(id) = non_empty(params, "client_id") {
        let secret = params.get("client_secret").cloned().unwrap_or_default();
        return Some((id.to_string(), secret));
    }
    let encoded = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Basic ")
                .or_else(|| v.strip_prefix("basic "))
        })?;
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    Some((id.to_string(), secret.to_string()))
}

fn authenticate_client(
    config: &GoogleSandboxConfig,
    params: &HashMap<String, String>,
    headers: &HeaderMap,
) -> Result<(), OAuthFailure> {
    let (id, secret) = client_credentials(params, headers).ok_or(UNKNOWN_CLIENT)?;
    if id != config.client_id {
        return Err(UNKNOWN_CLIENT);
    }
    if !util::constant_time_eq(secret.as_bytes(), config.client_secret.as_bytes()) {
        return Err(BAD_CLIENT_SECRET);
    }
    Ok(())
}

/// An OpenID id token for `email`. Its signature is random (see the module header).
fn id_token(config: &GoogleSandboxConfig, email: &str, ttl_secs: u64) -> String {
    let now = jiff::Timestamp::now().as_second();
    let header = json!({"alg": "RS256", "kid": "convene-sandbox", "typ": "JWT"});
    let claims = json!({
        "iss": "https://accounts.google.com",
        "azp": config.client_id,
        "aud": config.client_id,
        "sub": accounts::sub_for(email),
        "email": email,
        "email_verified": true,
        "iat": now,
        "exp": now + i64::try_from(ttl_secs).unwrap_or(3599),
    });
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        util::random_token(256)
    )
}

/// `POST /token`.
pub(crate) async fn token(
    State(inner): State<Arc<Inner>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let config = &inner.config;
    let params = params(query.as_deref(), &body);
    if let Err(failure) = authenticate_client(config, &params, &headers) {
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
        other => {
            let description = format!("Invalid grant_type: {}", other.unwrap_or_default());
            return (
                StatusCode::BAD_REQUEST,
                Json(OAuthErrorBody {
                    error: "unsupported_grant_type",
                    error_description: &description,
                }),
            )
                .into_response();
        }
    };
    match issued {
        Ok(issued) => {
            let with_openid = issued.scopes.iter().any(|s| s == scopes::OPENID);
            let body = TokenResponse {
                access_token: issued.access_token,
                expires_in: ttl.as_secs(),
                refresh_token: issued.refresh_token,
                scope: issued.scopes.join(" "),
                token_type: "Bearer",
                id_token: with_openid.then(|| id_token(config, &issued.email, ttl.as_secs())),
            };
            (
                [
                    (
                        header::CACHE_CONTROL,
                        "no-cache, no-store, max-age=0, must-revalidate",
                    ),
                    (header::PRAGMA, "no-cache"),
                ],
                Json(body),
            )
                .into_response()
        }
        Err(failure) => oauth_error(&failure),
    }
}

/// `POST /revoke?token=…` (or `token` in the form body). No client authentication, as
/// at Google. A token that is unknown or whose grant already ended is `400
/// invalid_token`, as Google answers (unlike RFC 7009's blanket 200).
pub(crate) async fn revoke(
    State(inner): State<Arc<Inner>>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let params = params(query.as_deref(), &body);
    let Some(token) = non_empty(&params, "token") else {
        return oauth_error(&OAuthFailure {
            status: 400,
            error: "invalid_request",
            description: "Missing required parameter: token",
        });
    };
    if inner.lock().revoke_token(token) {
        StatusCode::OK.into_response()
    } else {
        oauth_error(&OAuthFailure {
            status: 400,
            error: "invalid_token",
            description: "Token expired or revoked",
        })
    }
}
