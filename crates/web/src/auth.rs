//! Who is calling: an API key (REST API) or a session cookie (web UI), and CSRF
//! protection for every form.
//!
//! Forms of signed-in users carry the session's CSRF token (synchronizer pattern).
//! Forms shown before sign-in (login, setup, join) use a double-submit cookie.

use crate::error::WebError;
use crate::AppState;
use axum::extract::{FromRef, FromRequestParts, OptionalFromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use convene_app::{tokens, Actor, AppError};
use convene_store::UserRow;

pub const SESSION_COOKIE: &str = "convene_session";
pub const CSRF_COOKIE: &str = "convene_csrf";

/// The caller of `/api/v1`, from `Authorization: Bearer <key>`.
pub struct ApiActor(pub Actor);

impl<S: Send + Sync> FromRequestParts<S> for ApiActor
where
    AppState: FromRef<S>,
{
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        let Some(key) = header.and_then(|h| h.strip_prefix("Bearer ")) else {
            return Err(WebError::new(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "send an API key as 'Authorization: Bearer <key>' (create one with `convene api-key create` or in Settings → API keys)",
            ));
        };
        match state.app.authenticate_api_key(key.trim()).await {
            Ok(actor) => Ok(ApiActor(actor)),
            Err(AppError::Unauthenticated) => Err(WebError::new(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "the API key is not valid, or was revoked",
            )),
            Err(e) => Err(e.into()),
        }
    }
}

/// A signed-in browser. Without a live session, GET pages redirect to the sign-in page.
#[derive(Clone)]
pub struct Session {
    pub actor: Actor,
    pub user: UserRow,
    pub csrf: String,
    /// The cookie's token: what OAuth states are bound to.
    pub token: String,
}

/// Rejection for pages that need a session.
pub enum NoSession {
    Redirect(String),
    Error(WebError),
}

impl IntoResponse for NoSession {
    fn into_response(self) -> Response {
        match self {
            NoSession::Redirect(to) => Redirect::to(&to).into_response(),
            NoSession::Error(e) => e.into_response(),
        }
    }
}

async fn load_session(parts: &Parts, state: &AppState) -> Result<Option<Session>, WebError> {
    let jar = CookieJar::from_headers(&parts.headers);
    let Some(token) = jar.get(SESSION_COOKIE).map(|c| c.value().to_string()) else {
        return Ok(None);
    };
    match state.app.session(&token).await {
        Ok(s) => Ok(Some(Session {
            actor: Actor::from_user(&s.user),
            user: s.user,
            csrf: s.csrf_token,
            token,
        })),
        Err(AppError::NotFound(_) | AppError::Unauthenticated) => Ok(None),
        Err(e) => Err(WebError::from(e).html()),
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Session
where
    AppState: FromRef<S>,
{
    type Rejection = NoSession;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        match load_session(parts, &state).await {
            Ok(Some(s)) => Ok(s),
            Ok(None) => {
                let had_cookie = CookieJar::from_headers(&parts.headers)
                    .get(SESSION_COOKIE)
                    .is_some();
                let next = parts
                    .uri
                    .path_and_query()
                    .map(|p| p.as_str())
                    .unwrap_or("/");
                let mut to = format!("/login?next={}", urlencode(next));
                if had_cookie {
                    to.push_str("&ended=1");
                }
                Err(NoSession::Redirect(to))
            }
            Err(e) => Err(NoSession::Error(e)),
        }
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for Session
where
    AppState: FromRef<S>,
{
    type Rejection = WebError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        load_session(parts, &AppState::from_ref(state)).await
    }
}

impl Session {
    /// Refuses a form whose CSRF token is not this session's.
    pub fn check_csrf(&self, submitted: &str) -> Result<(), WebError> {
        if tokens::constant_time_eq(&self.csrf, submitted) {
            Ok(())
        } else {
            Err(csrf_error())
        }
    }
}

pub fn csrf_error() -> WebError {
    WebError::new(
        StatusCode::FORBIDDEN,
        "csrf",
        "this form has expired or did not come from Convene; go back, reload the page and try again",
    )
    .html()
}

/// The double-submit token for anonymous forms: reuses the cookie's or makes one.
pub fn anon_csrf(jar: CookieJar, secure: bool) -> (CookieJar, String) {
    if let Some(c) = jar.get(CSRF_COOKIE) {
        let v = c.value().to_string();
        if v.len() == 43 {
            return (jar, v);
        }
    }
    let token = tokens::new_token();
    let cookie = Cookie::build((CSRF_COOKIE, token.clone()))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .build();
    (jar.add(cookie), token)
}

pub fn check_anon_csrf(jar: &CookieJar, submitted: &str) -> Result<(), WebError> {
    match jar.get(CSRF_COOKIE) {
        Some(c) if !submitted.is_empty() && tokens::constant_time_eq(c.value(), submitted) => {
            Ok(())
        }
        _ => Err(csrf_error()),
    }
}

pub fn session_cookie(token: String, secure: bool) -> Cookie<'static> {
    Cookie::build((SESSION_COOKIE, token))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .build()
}

pub fn removal_cookie() -> Cookie<'static> {
    Cookie::build((SESSION_COOKIE, "")).path("/").build()
}

pub fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Only local paths are followed after sign-in (no open redirect).
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => "/".to_string(),
    }
}
