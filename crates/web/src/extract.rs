//! Extractors whose rejections speak our error format, so a malformed body, query or
//! path is a 4xx that says what was wrong instead of axum's plain-text default.

use crate::error::{Surface, WebError};
use axum::body::Bytes;
use axum::extract::rejection::{
    BytesRejection, FormRejection, JsonRejection, PathRejection, QueryRejection,
};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use serde::de::DeserializeOwned;

pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = WebError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Self(v)),
            Err(e) => Err(json_rejection(e)),
        }
    }
}

fn not_json() -> WebError {
    WebError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        "send the body as JSON with 'Content-Type: application/json'",
    )
}

fn json_rejection(e: JsonRejection) -> WebError {
    match e {
        JsonRejection::MissingJsonContentType(_) => not_json(),
        JsonRejection::JsonSyntaxError(e) => WebError::bad_request(
            "malformed_json",
            format!("the body is not valid JSON: {}", e.body_text()),
        ),
        JsonRejection::JsonDataError(e) => WebError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            e.body_text(),
        ),
        JsonRejection::BytesRejection(e) => bytes_rejection(e),
        other => WebError::bad_request("bad_body", other.body_text()),
    }
}

fn bytes_rejection(e: BytesRejection) -> WebError {
    WebError::new(e.status(), "bad_body", e.body_text())
}

/// `application/json` or `application/*+json`, as [`axum::Json`] accepts.
fn is_json(headers: &HeaderMap) -> bool {
    let Some(ct) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let mime = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
}

/// A JSON body that may be left out: an empty body is `None`; anything else must be
/// JSON, as for [`ApiJson`].
pub struct OptionalApiJson<T>(pub Option<T>);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for OptionalApiJson<T> {
    type Rejection = WebError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let json = is_json(req.headers());
        let body = Bytes::from_request(req, state)
            .await
            .map_err(bytes_rejection)?;
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self(None));
        }
        if !json {
            return Err(not_json());
        }
        axum::Json::<T>::from_bytes(&body)
            .map(|j| Self(Some(j.0)))
            .map_err(json_rejection)
    }
}

/// A raw body (e.g. an uploaded photo); one over the size limit is a JSON error too.
pub struct ApiBytes(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for ApiBytes {
    type Rejection = WebError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        Bytes::from_request(req, state)
            .await
            .map(Self)
            .map_err(bytes_rejection)
    }
}

/// Path parameters of the API. A parameter that cannot even be decoded (e.g. invalid
/// UTF-8) is a 400 `invalid_id`, like one that decodes but does not parse.
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| Self(p.0))
            .map_err(|e: PathRejection| {
                WebError::bad_request(
                    "invalid_id",
                    format!("the path is not a valid API path: {}", e.body_text()),
                )
            })
    }
}

pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Self(q.0))
            .map_err(|e: QueryRejection| WebError::bad_request("invalid_query", e.body_text()))
    }
}

/// A form post for the HTML pages; rejections render as an error page.
pub struct HtmlForm<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for HtmlForm<T> {
    type Rejection = WebError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        axum::Form::<T>::from_request(req, state)
            .await
            .map(|f| Self(f.0))
            .map_err(|e: FormRejection| {
                WebError::bad_request(
                    "invalid_form",
                    format!("the form could not be read: {}", e.body_text()),
                )
                .html()
            })
    }
}

/// An id from the path; a malformed one is a 400 naming the parameter.
pub fn parse_id<T: std::str::FromStr>(
    raw: &str,
    what: &'static str,
    surface: Surface,
) -> Result<T, WebError> {
    raw.parse().map_err(|_| {
        let mut e = WebError::bad_request(
            "invalid_id",
            format!(
                "'{}' is not a valid {what} id",
                raw.chars().take(60).collect::<String>()
            ),
        );
        e.surface = surface;
        e
    })
}
