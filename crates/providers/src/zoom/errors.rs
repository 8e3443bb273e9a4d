//! The one place Zoom's error responses become [`ProviderError`].
//!
//! | response | endpoint | `ProviderError` |
//! |---|---|---|
//! | 429 | any | `RateLimited { retry_after }` (`Retry-After`, seconds or date) |
//! | 5xx | any | `Transient` |
//! | `"error": "invalid_grant"` (4xx) | OAuth | `NeedsReauth { reason }` |
//! | other 4xx (`invalid_client`, `invalid_request`, 401 bad credentials) | OAuth | `Rejected` |
//! | 401 (code 124 or any) | API | `Unauthorized` |
//! | 404 with a Zoom code (3001 meeting, 1001 user, …); code 3001/1001 on any 4xx | API | `NotFound { code, message }` |
//! | 404 whose body is not Zoom's JSON (wrong base URL, proxy page) | API | `Rejected` |
//! | any other status | any | `Rejected { status, code, message }` |
//!
//! Connection errors and timeouts never reach here: the HTTP client reports them as
//! `Transient`. A body that is not JSON is described by its first characters.

use super::wire::ZoomErrorBody;
use crate::error::ProviderError;
use crate::http::{retry_after, HttpResponse};
use jiff::Timestamp;
use reqwest::StatusCode;

/// Which kind of Zoom endpoint answered: they use different error bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Endpoint {
    /// `{oauth_base}/oauth/token` and `/oauth/revoke`: `{"error","reason"}`.
    OAuth,
    /// `{api_base}/v2/...`: `{"code","message"}`.
    Api,
}

/// Zoom's "meeting not found or expired" code.
const MEETING_NOT_FOUND: i64 = 3001;
/// Zoom's "user does not exist" code.
const USER_NOT_FOUND: i64 = 1001;
/// How much of a non-JSON body goes into an error message.
const SNIPPET_CHARS: usize = 200;

/// Turns a non-2xx response from Zoom into a [`ProviderError`].
pub(super) fn error_from_response(
    endpoint: Endpoint,
    response: &HttpResponse,
    now: Timestamp,
) -> ProviderError {
    let status = response.status;
    let parsed: Option<ZoomErrorBody> = serde_json::from_slice(&response.body).ok();
    let is_zoom_json = parsed.is_some();
    let body = parsed.unwrap_or_default();
    let code = body.code.as_ref().and_then(numeric_code);
    let message = message_of(&body, response);

    if status == StatusCode::TOO_MANY_REQUESTS {
        return ProviderError::RateLimited {
            retry_after: retry_after(&response.headers, now),
        };
    }
    if status.is_server_error() {
        return ProviderError::Transient(format!(
            "Zoom answered HTTP {}: {message}",
            status.as_u16()
        ));
    }

    match endpoint {
        Endpoint::OAuth => {
            if status.is_client_error() && body.error.as_deref() == Some("invalid_grant") {
                return ProviderError::NeedsReauth { reason: message };
            }
        }
        Endpoint::Api => {
            if status == StatusCode::UNAUTHORIZED {
                return ProviderError::Unauthorized;
            }
            let gone_code = matches!(code, Some(MEETING_NOT_FOUND | USER_NOT_FOUND));
            if (status == StatusCode::NOT_FOUND && is_zoom_json && body.code.is_some())
                || (status.is_client_error() && gone_code)
            {
                return ProviderError::NotFound { code, message };
            }
        }
    }

    ProviderError::Rejected {
        status: status.as_u16(),
        code: code_of(&body, status),
        message,
    }
}

/// Zoom's `code` as a number, whether it came as `3001` or `"3001"`.
fn numeric_code(code: &serde_json::Value) -> Option<i64> {
    match code {
        serde_json::Value::Number(n) => n.as_i64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A stable code for `Rejected`: Zoom's numeric code, else the OAuth `error`, else
/// `http_<status>`.
fn code_of(body: &ZoomErrorBody, status: StatusCode) -> String {
    match (&body.code, &body.error) {
        (Some(serde_json::Value::Number(n)), _) => n.to_string(),
        (Some(serde_json::Value::String(s)), _) if !s.is_empty() => s.clone(),
        (_, Some(e)) if !e.is_empty() => e.clone(),
        _ => format!("http_{}", status.as_u16()),
    }
}

/// The human part: `message`, `reason` or `error_description`, else the start of the
/// body, else the status' reason phrase.
fn message_of(body: &ZoomErrorBody, response: &HttpResponse) -> String {
    let from_json = [
        &body.message,
        &body.reason,
        &body.error_description,
        &body.error,
    ]
    .into_iter()
    .flatten()
    .find(|m| !m.trim().is_empty());
    if let Some(m) = from_json {
        return m.clone();
    }
    let text = String::from_utf8_lossy(&response.body);
    let snippet: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(SNIPPET_CHARS)
        .collect();
    let snippet = snippet.split_whitespace().collect::<Vec<_>>().join(" ");
    if snippet.is_empty() {
        response
            .status
            .canonical_reason()
            .unwrap_or("no error message")
            .to_owned()
    } else {
        snippet
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};
    use std::time::Duration;

    fn response(status: u16, body: &str) -> HttpResponse {
        HttpResponse {
            status: StatusCode::from_u16(status).unwrap(),
            headers: HeaderMap::new(),
            body: body.as_bytes().to_vec(),
        }
    }

    fn map(endpoint: Endpoint, status: u16, body: &str) -> ProviderError {
        error_from_response(endpoint, &response(status, body), Timestamp::UNIX_EPOCH)
    }

    #[test]
    fn api_errors() {
        assert!(matches!(
            map(
                Endpoint::Api,
                401,
                r#"{"code":124,"message":"Invalid access token."}"#
            ),
            ProviderError::Unauthorized
        ));
        match map(
            Endpoint::Api,
            404,
            r#"{"code":3001,"message":"Meeting 1 is not found or has expired."}"#,
        ) {
            ProviderError::NotFound { code, message } => {
                assert_eq!(code, Some(3001));
                assert_eq!(message, "Meeting 1 is not found or has expired.");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            map(
                Endpoint::Api,
                404,
                r#"{"code":1001,"message":"User does not exist"}"#
            ),
            ProviderError::NotFound {
                code: Some(1001),
                ..
            }
        ));
        assert!(matches!(
            map(Endpoint::Api, 400, r#"{"code":"3001","message":"gone"}"#),
            ProviderError::NotFound {
                code: Some(3001),
                ..
            }
        ));
        match map(
            Endpoint::Api,
            400,
            r#"{"code":300,"message":"Invalid start_time"}"#,
        ) {
            ProviderError::Rejected {
                status,
                code,
                message,
            } => {
                assert_eq!(
                    (status, code.as_str(), message.as_str()),
                    (400, "300", "Invalid start_time")
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            map(
                Endpoint::Api,
                400,
                r#"{"code":3003,"message":"You are not the meeting host."}"#
            ),
            ProviderError::Rejected { status: 400, .. }
        ));
        assert!(matches!(
            map(Endpoint::Api, 503, ""),
            ProviderError::Transient(_)
        ));
        assert!(matches!(
            map(Endpoint::Api, 500, "{}"),
            ProviderError::Transient(_)
        ));
    }

    #[test]
    fn oauth_errors() {
        match map(
            Endpoint::OAuth,
            400,
            r#"{"reason":"Invalid Token!","error":"invalid_grant"}"#,
        ) {
            ProviderError::NeedsReauth { reason } => assert_eq!(reason, "Invalid Token!"),
            other => panic!("{other:?}"),
        }
        match map(
            Endpoint::OAuth,
            401,
            r#"{"reason":"Invalid client_id or client_secret","error":"invalid_client"}"#,
        ) {
            ProviderError::Rejected { status, code, .. } => {
                assert_eq!((status, code.as_str()), (401, "invalid_client"))
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            map(
                Endpoint::OAuth,
                400,
                r#"{"error":"invalid_request","reason":"Invalid redirect"}"#
            ),
            ProviderError::Rejected { status: 400, .. }
        ));
        // A 401 from the token endpoint is about the client, not the user's token.
        assert!(matches!(
            map(Endpoint::OAuth, 401, ""),
            ProviderError::Rejected { status: 401, .. }
        ));
    }

    #[test]
    fn non_json_bodies_do_not_panic() {
        match map(
            Endpoint::Api,
            404,
            "<html><body>\n<h1>Not Found</h1></body></html>",
        ) {
            ProviderError::Rejected {
                status,
                code,
                message,
            } => {
                assert_eq!((status, code.as_str()), (404, "http_404"));
                assert_eq!(message, "<html><body> <h1>Not Found</h1></body></html>");
            }
            other => panic!("{other:?}"),
        }
        match map(Endpoint::Api, 400, "") {
            ProviderError::Rejected { message, .. } => assert_eq!(message, "Bad Request"),
            other => panic!("{other:?}"),
        }
        let long = "x".repeat(10_000);
        match map(Endpoint::OAuth, 400, &long) {
            ProviderError::Rejected { message, .. } => assert_eq!(message.len(), SNIPPET_CHARS),
            other => panic!("{other:?}"),
        }
        let binary = HttpResponse {
            status: StatusCode::BAD_GATEWAY,
            headers: HeaderMap::new(),
            body: vec![0xff, 0xfe, 0x00, 0x80],
        };
        assert!(matches!(
            error_from_response(Endpoint::Api, &binary, Timestamp::UNIX_EPOCH),
            ProviderError::Transient(_)
        ));
        // JSON, but not an object.
        assert!(matches!(
            map(Endpoint::Api, 400, "[1,2]"),
            ProviderError::Rejected { .. }
        ));
        assert!(matches!(
            map(Endpoint::Api, 404, "null"),
            ProviderError::Rejected { .. }
        ));
    }

    #[test]
    fn rate_limits_carry_retry_after() {
        let mut r = response(
            429,
            r#"{"code":429,"message":"You have reached the maximum per-second rate limit"}"#,
        );
        r.headers.insert(RETRY_AFTER, HeaderValue::from_static("3"));
        assert!(matches!(
            error_from_response(Endpoint::Api, &r, Timestamp::UNIX_EPOCH),
            ProviderError::RateLimited { retry_after: Some(d) } if d == Duration::from_secs(3)
        ));
        assert!(matches!(
            map(Endpoint::OAuth, 429, "slow down"),
            ProviderError::RateLimited { retry_after: None }
        ));
    }
}
