//! Extractors whose rejections speak our error format, so a malformed body, query or
//! path is a 4xx that says what was wrong instead of axum's plain-text default.

use crate::error::{Surface, WebError};
use axum::extract::rejection::{FormRejection, JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
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

fn json_rejection(e: JsonRejection) -> WebError {
    match e {
        JsonRejection::MissingJsonContentType(_) => WebError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the body as JSON with 'Content-Type: application/json'",
        ),
        JsonRejection::JsonSyntaxError(e) => WebError::bad_request(
            "malformed_json",
            format!("the body is not valid JSON: {}", e.body_text()),
        ),
        JsonRejection::JsonDataError(e) => WebError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            e.body_text(),
        ),
        JsonRejection::BytesRejection(e) => WebError::new(e.status(), "bad_body", e.body_text()),
        other => WebError::bad_request("bad_body", other.body_text()),
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
