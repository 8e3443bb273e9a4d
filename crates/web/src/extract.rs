//! Extractors whose rejections speak our error format, so a malformed body, query or
//! path is a 4xx that says what was wrong instead of axum's plain-text default.

use crate::error::{Surface, WebError};
use axum::body::Bytes;
use axum::extract::path::ErrorKind;
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

/// Why an address's query string could not be read, for a person: a parameter given
/// twice is named.
fn query_message(e: &QueryRejection) -> String {
    let text = e.body_text();
    let detail = text
        .strip_prefix("Failed to deserialize query string: ")
        .unwrap_or(&text);
    match detail
        .split_once("duplicate field `")
        .and_then(|(_, rest)| rest.split_once('`'))
    {
        Some((name, _)) => format!("the address has a parameter twice: '{name}'"),
        None => format!("the address is not valid: {detail}"),
    }
}

/// Why a path could not be read, for a person: a segment that is not UTF-8 is named.
fn path_message(e: &PathRejection) -> String {
    match e {
        PathRejection::FailedToDeserializePathParams(e) => match e.kind() {
            ErrorKind::InvalidUtf8InPathParam { key } => {
                format!("the address is not valid: its '{key}' part is not UTF-8 text")
            }
            _ => format!("the address is not valid: {}", e.body_text()),
        },
        other => format!("the address is not valid: {}", other.body_text()),
    }
}

/// Query parameters of an HTML page; one that cannot be read (given twice, say) is a
/// 400 page rather than axum's plain-text answer.
pub struct HtmlQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for HtmlQuery<T> {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Self(q.0))
            .map_err(|e| WebError::bad_request("invalid_query", query_message(&e)).html())
    }
}

/// Path parameters of an HTML page; one that cannot be decoded (invalid UTF-8) is a 400
/// page rather than axum's plain-text answer.
pub struct HtmlPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for HtmlPath<T> {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| Self(p.0))
            .map_err(|e| {
                if e.status().is_server_error() {
                    // The route and the handler disagree: our bug, not the address's.
                    tracing::error!(error = %e.body_text(), "path parameters do not fit the handler");
                    return WebError::new(
                        e.status(),
                        "internal",
                        "something went wrong on our side; it has been logged",
                    )
                    .html();
                }
                WebError::new(e.status(), "invalid_path", path_message(&e)).html()
            })
    }
}

/// Whether `raw` has the shape of a token Convene hands out in links (URL-safe base64,
/// as [`convene_app::tokens::new_token`] makes): anything else cannot be one, and is
/// refused before it reaches a query.
pub fn is_link_token(raw: &str) -> bool {
    (1..=200).contains(&raw.len())
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
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

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::{to_bytes, Body};
    use axum::routing::get;
    use axum::Router;
    use serde::Deserialize;
    use tower::ServiceExt;

    #[derive(Deserialize)]
    struct Pick {
        #[allow(dead_code)]
        month: Option<String>,
    }

    async fn answer(uri: &str) -> (StatusCode, String, String) {
        let app: Router = Router::new()
            .route(
                "/book/{org}/{slug}",
                get(
                    |HtmlPath((org, _)): HtmlPath<(String, String)>,
                     HtmlQuery(_): HtmlQuery<Pick>| async move { org },
                ),
            )
            .route(
                "/booking/{token}",
                get(|HtmlPath(token): HtmlPath<String>| async move { token }),
            );
        let res = app
            .oneshot(Request::get(uri).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = res.status();
        let ct = res
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let body = to_bytes(res.into_body(), 1 << 20).await.unwrap();
        (status, ct, String::from_utf8_lossy(&body).into_owned())
    }

    #[tokio::test]
    async fn what_axum_cannot_read_is_a_400_page_naming_the_parameter() {
        let (status, _, body) = answer("/book/acme/chat?month=2026-01").await;
        assert_eq!((status, body.as_str()), (StatusCode::OK, "acme"));
        for (uri, says) in [
            (
                "/book/acme/chat?month=2026-01&month=2026-02",
                "the address has a parameter twice: 'month'",
            ),
            (
                "/book/%FF/chat",
                "the address is not valid: its 'org' part is not UTF-8 text",
            ),
            (
                "/booking/%C3%28",
                "the address is not valid: its 'token' part is not UTF-8 text",
            ),
        ] {
            let (status, ct, body) = answer(uri).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {body}");
            assert!(ct.starts_with("text/html"), "{uri}: {ct}");
            assert!(body.contains(says), "{uri}: {body}");
        }
    }

    #[test]
    fn link_tokens_are_url_safe_base64() {
        assert!(is_link_token(&convene_app::tokens::new_token()));
        assert!(is_link_token("abc-DEF_123"));
        for bad in [
            "",
            "abc\0",
            "a b",
            "a%00",
            "a/b",
            "a+b=",
            "é",
            &"a".repeat(201),
        ] {
            assert!(!is_link_token(bad), "{bad:?}");
        }
    }
}
