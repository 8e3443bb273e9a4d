//! The one place Microsoft's error responses become [`ProviderError`].
//!
//! | response | endpoint | `ProviderError` |
//! |---|---|---|
//! | 429 | any | `RateLimited { retry_after }` (`Retry-After`, seconds or date) |
//! | 5xx | any | `Transient` |
//! | 4xx `"error":"invalid_grant"` (AADSTS70008, 700082, 50173, 65001, …) | token | `NeedsReauth { reason }` (the description's first line) |
//! | other 4xx (`invalid_client`, `invalid_request`, …) | token | `Rejected` |
//! | 401 (`InvalidAuthenticationToken` or any) | Graph | `Unauthorized` |
//! | 404 with Graph's error JSON; `ErrorItemNotFound` on any 4xx | Graph | `NotFound { code: None, message: "<code>: <message>" }` |
//! | 404 whose body is not Graph's JSON (wrong base URL, proxy page) | Graph | `Rejected` |
//! | 403 (`Authorization_RequestDenied`, `ErrorAccessDenied`, …) and any other status | any | `Rejected { status, code, message }` |
//!
//! Connection errors and timeouts never reach here: the HTTP client reports them as
//! `Transient`. A body that is not JSON is described by its first characters.

use super::wire::{ErrorBody, ErrorField};
use crate::error::ProviderError;
use crate::http::{retry_after, HttpResponse};
use jiff::Timestamp;
use reqwest::StatusCode;

/// Which kind of endpoint answered: they use different error bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Endpoint {
    /// `{login}/{tenant}/oauth2/v2.0/token`: `{"error","error_description","error_codes"}`.
    Token,
    /// `{graph}/v1.0/...`: `{"error":{"code","message"}}`.
    Graph,
}

/// Graph's "the item is gone" code (events, calendars).
const ITEM_NOT_FOUND: &str = "ErrorItemNotFound";
/// How much of a non-JSON body goes into an error message.
const SNIPPET_CHARS: usize = 200;

/// Turns a non-2xx response from Microsoft into a [`ProviderError`].
pub(super) fn error_from_response(
    endpoint: Endpoint,
    response: &HttpResponse,
    now: Timestamp,
) -> ProviderError {
    let status = response.status;
    let body: ErrorBody = serde_json::from_slice(&response.body).unwrap_or_default();

    if status == StatusCode::TOO_MANY_REQUESTS {
        return ProviderError::RateLimited {
            retry_after: retry_after(&response.headers, now),
        };
    }

    match (endpoint, &body.error) {
        (_, _) if status.is_server_error() => ProviderError::Transient(format!(
            "Microsoft answered HTTP {}: {}",
            status.as_u16(),
            describe(&body, response)
        )),
        (Endpoint::Token, Some(ErrorField::OAuth(error)))
            if status.is_client_error() && error == "invalid_grant" =>
        {
            ProviderError::NeedsReauth {
                reason: describe(&body, response),
            }
        }
        (Endpoint::Graph, _) if status == StatusCode::UNAUTHORIZED => ProviderError::Unauthorized,
        (Endpoint::Graph, Some(ErrorField::Graph(e)))
            if status == StatusCode::NOT_FOUND
                || (status.is_client_error() && e.code == ITEM_NOT_FOUND) =>
        {
            ProviderError::NotFound {
                code: None,
                message: describe(&body, response),
            }
        }
        (_, error) => ProviderError::Rejected {
            status: status.as_u16(),
            code: match error {
                Some(ErrorField::Graph(e)) if !e.code.is_empty() => e.code.clone(),
                Some(ErrorField::OAuth(e)) if !e.is_empty() => e.clone(),
                _ => format!("http_{}", status.as_u16()),
            },
            message: describe(&body, response),
        },
    }
}

/// The human part: Graph's `code: message`, or the first line of the token
/// endpoint's `error_description` (the rest is trace and correlation ids), else the
/// start of the body, else the status' reason phrase.
fn describe(body: &ErrorBody, response: &HttpResponse) -> String {
    let from_json = match &body.error {
        Some(ErrorField::Graph(e)) => match (e.code.trim(), e.message.trim()) {
            ("", "") => None,
            ("", m) => Some(m.to_owned()),
            (c, "") => Some(c.to_owned()),
            (c, m) => Some(format!("{c}: {m}")),
        },
        Some(ErrorField::OAuth(e)) => body
            .error_description
            .as_deref()
            .and_then(|d| d.lines().map(str::trim).find(|l| !l.is_empty()))
            .map(str::to_owned)
            .or_else(|| (!e.trim().is_empty()).then(|| e.trim().to_owned())),
        None => None,
    };
    if let Some(m) = from_json {
        return m;
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
    fn graph_errors() {
        assert!(matches!(
            map(
                Endpoint::Graph,
                401,
                r#"{"error":{"code":"InvalidAuthenticationToken","message":"Access token has expired or is not yet valid."}}"#
            ),
            ProviderError::Unauthorized
        ));
        match map(
            Endpoint::Graph,
            404,
            r#"{"error":{"code":"ErrorItemNotFound","message":"The specified object was not found in the store.","innerError":{"date":"2026-12-01T15:00:00","request-id":"x"}}}"#,
        ) {
            ProviderError::NotFound { code, message } => {
                assert_eq!(code, None);
                assert_eq!(
                    message,
                    "ErrorItemNotFound: The specified object was not found in the store."
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            map(
                Endpoint::Graph,
                400,
                r#"{"error":{"code":"ErrorItemNotFound","message":"gone"}}"#
            ),
            ProviderError::NotFound { .. }
        ));
        match map(
            Endpoint::Graph,
            403,
            r#"{"error":{"code":"Authorization_RequestDenied","message":"Insufficient privileges to complete the operation."}}"#,
        ) {
            ProviderError::Rejected {
                status,
                code,
                message,
            } => {
                assert_eq!(
                    (status, code.as_str()),
                    (403, "Authorization_RequestDenied")
                );
                assert_eq!(
                    message,
                    "Authorization_RequestDenied: Insufficient privileges to complete the operation."
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            map(Endpoint::Graph, 503, r#"{"error":{"code":"serviceNotAvailable","message":"Service unavailable"}}"#),
            ProviderError::Transient(m) if m.contains("serviceNotAvailable")
        ));
        assert!(matches!(
            map(Endpoint::Graph, 500, ""),
            ProviderError::Transient(_)
        ));
    }

    #[test]
    fn token_errors() {
        match map(
            Endpoint::Token,
            400,
            "{\"error\":\"invalid_grant\",\"error_description\":\"AADSTS70008: The provided authorization code or refresh token has expired due to inactivity.\\r\\nTrace ID: 1\\r\\nCorrelation ID: 2\",\"error_codes\":[70008]}",
        ) {
            ProviderError::NeedsReauth { reason } => assert_eq!(
                reason,
                "AADSTS70008: The provided authorization code or refresh token has expired due to inactivity."
            ),
            other => panic!("{other:?}"),
        }
        match map(
            Endpoint::Token,
            401,
            r#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.","error_codes":[7000215]}"#,
        ) {
            ProviderError::Rejected { status, code, .. } => {
                assert_eq!((status, code.as_str()), (401, "invalid_client"))
            }
            other => panic!("{other:?}"),
        }
        // A 401 from the token endpoint is about the client, not the user's token.
        assert!(matches!(
            map(Endpoint::Token, 401, ""),
            ProviderError::Rejected { status: 401, .. }
        ));
        // Graph-shaped JSON at the token endpoint is not a dead grant.
        assert!(matches!(
            map(
                Endpoint::Token,
                400,
                r#"{"error":{"code":"invalid_grant"}}"#
            ),
            ProviderError::Rejected { status: 400, .. }
        ));
    }

    #[test]
    fn non_json_bodies_do_not_panic() {
        match map(
            Endpoint::Graph,
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
        match map(Endpoint::Graph, 400, "") {
            ProviderError::Rejected { message, .. } => assert_eq!(message, "Bad Request"),
            other => panic!("{other:?}"),
        }
        let long = "x".repeat(10_000);
        match map(Endpoint::Token, 400, &long) {
            ProviderError::Rejected { message, .. } => assert_eq!(message.len(), SNIPPET_CHARS),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            map(Endpoint::Graph, 404, "[1,2]"),
            ProviderError::Rejected { .. }
        ));
        assert!(matches!(
            map(Endpoint::Graph, 404, "null"),
            ProviderError::Rejected { .. }
        ));
    }

    #[test]
    fn rate_limits_carry_retry_after() {
        let mut r = response(
            429,
            r#"{"error":{"code":"TooManyRequests","message":"Too many requests"}}"#,
        );
        r.headers.insert(RETRY_AFTER, HeaderValue::from_static("3"));
        assert!(matches!(
            error_from_response(Endpoint::Graph, &r, Timestamp::UNIX_EPOCH),
            ProviderError::RateLimited { retry_after: Some(d) } if d == Duration::from_secs(3)
        ));
        assert!(matches!(
            map(Endpoint::Token, 429, "slow down"),
            ProviderError::RateLimited { retry_after: None }
        ));
    }
}
