//! The one place Google's error responses become [`ProviderError`].
//!
//! | response | endpoint | `ProviderError` |
//! |---|---|---|
//! | 429 | any | `RateLimited { retry_after }` (`Retry-After`, seconds or date) |
//! | 403 with reason `rateLimitExceeded` / `userRateLimitExceeded` | any | `RateLimited { retry_after }` |
//! | 5xx | any | `Transient` |
//! | `"error": "invalid_grant"` (4xx) | token | `NeedsReauth { reason }` |
//! | other 4xx (`invalid_client`, `invalid_request`, `redirect_uri_mismatch`, …) | token | `Rejected` |
//! | 401 | API | `Unauthorized` |
//! | 404 or 410 with Google's JSON error body | API | `NotFound { code: Some(404 or 410), message }` |
//! | 404 whose body is not Google's JSON (wrong base URL, proxy page) | API | `Rejected` |
//! | any other status | any | `Rejected { status, code, message }` |
//!
//! `Rejected.code` is the first `errors[].reason` (`duplicate`, `insufficientPermissions`,
//! `requiredAccessLevel`…), else the OAuth `error`, else `http_<status>`.
//! Connection errors and timeouts never reach here: the HTTP client reports them as
//! `Transient`. A body that is not JSON is described by its first characters.

use super::wire::{GoogleApiError, GoogleErrorBody, GoogleErrorField};
use crate::error::ProviderError;
use crate::http::{retry_after, HttpResponse};
use jiff::Timestamp;
use reqwest::StatusCode;

/// Which kind of Google endpoint answered: they use different error bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Endpoint {
    /// `{token_base}/token` and `/revoke`: `{"error","error_description"}`.
    Token,
    /// The Calendar API and userinfo.
    Api,
}

/// The 403 reasons that mean "slow down" rather than "not allowed". Google answers
/// per-user and per-project rate limits with 403 as often as with 429.
const RATE_LIMIT_REASONS: [&str; 2] = ["rateLimitExceeded", "userRateLimitExceeded"];
/// How much of a non-JSON body goes into an error message.
const SNIPPET_CHARS: usize = 200;

/// What an error body says, whichever of Google's two shapes it has.
struct Parsed {
    /// The body is one of Google's error shapes (not a proxy page).
    is_google_json: bool,
    /// The OAuth `error` (`invalid_grant`, …).
    oauth_error: Option<String>,
    /// `errors[].reason` of an API error, in order.
    reasons: Vec<String>,
    message: Option<String>,
}

fn parse(body: &[u8]) -> Parsed {
    let Ok(parsed) = serde_json::from_slice::<GoogleErrorBody>(body) else {
        return Parsed {
            is_google_json: false,
            oauth_error: None,
            reasons: Vec::new(),
            message: None,
        };
    };
    match parsed.error {
        GoogleErrorField::OAuth(error) => Parsed {
            is_google_json: true,
            message: parsed
                .error_description
                .filter(|d| !d.trim().is_empty())
                .or_else(|| Some(error.clone()).filter(|e| !e.trim().is_empty())),
            oauth_error: Some(error),
            reasons: Vec::new(),
        },
        GoogleErrorField::Api(api) => {
            let GoogleApiError {
                message,
                errors,
                status,
            } = api;
            let item_message = errors.iter().find_map(|e| e.message.clone());
            Parsed {
                is_google_json: true,
                oauth_error: None,
                reasons: errors.into_iter().filter_map(|e| e.reason).collect(),
                message: [message, item_message, status]
                    .into_iter()
                    .flatten()
                    .find(|m| !m.trim().is_empty()),
            }
        }
    }
}

/// Turns a non-2xx response from Google into a [`ProviderError`].
pub(super) fn error_from_response(
    endpoint: Endpoint,
    response: &HttpResponse,
    now: Timestamp,
) -> ProviderError {
    let status = response.status;
    let parsed = parse(&response.body);
    let message = parsed.message.clone().unwrap_or_else(|| snippet(response));

    let rate_limited_403 = status == StatusCode::FORBIDDEN
        && parsed
            .reasons
            .iter()
            .any(|r| RATE_LIMIT_REASONS.contains(&r.as_str()));
    if status == StatusCode::TOO_MANY_REQUESTS || rate_limited_403 {
        return ProviderError::RateLimited {
            retry_after: retry_after(&response.headers, now),
        };
    }
    if status.is_server_error() {
        return ProviderError::Transient(format!(
            "Google answered HTTP {}: {message}",
            status.as_u16()
        ));
    }

    match endpoint {
        Endpoint::Token => {
            if status.is_client_error() && parsed.oauth_error.as_deref() == Some("invalid_grant") {
                return ProviderError::NeedsReauth { reason: message };
            }
        }
        Endpoint::Api => {
            if status == StatusCode::UNAUTHORIZED {
                return ProviderError::Unauthorized;
            }
            if matches!(status, StatusCode::NOT_FOUND | StatusCode::GONE) && parsed.is_google_json {
                return ProviderError::NotFound {
                    code: Some(i64::from(status.as_u16())),
                    message,
                };
            }
        }
    }

    let code = parsed
        .reasons
        .first()
        .or(parsed.oauth_error.as_ref())
        .filter(|c| !c.is_empty())
        .cloned()
        .unwrap_or_else(|| format!("http_{}", status.as_u16()));
    ProviderError::Rejected {
        status: status.as_u16(),
        code,
        message,
    }
}

/// The start of a body that is not Google's JSON, else the status' reason phrase.
fn snippet(response: &HttpResponse) -> String {
    let text = String::from_utf8_lossy(&response.body);
    let cut: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(SNIPPET_CHARS)
        .collect();
    let cut = cut.split_whitespace().collect::<Vec<_>>().join(" ");
    if cut.is_empty() {
        response
            .status
            .canonical_reason()
            .unwrap_or("no error message")
            .to_owned()
    } else {
        cut
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

    const UNAUTHENTICATED: &str = r#"{"error":{"code":401,"message":"Request had invalid authentication credentials.","errors":[{"message":"Invalid Credentials","domain":"global","reason":"authError","location":"Authorization","locationType":"header"}],"status":"UNAUTHENTICATED"}}"#;

    #[test]
    fn api_errors() {
        assert!(matches!(
            map(Endpoint::Api, 401, UNAUTHENTICATED),
            ProviderError::Unauthorized
        ));
        // userinfo answers 401 in the OAuth shape.
        assert!(matches!(
            map(
                Endpoint::Api,
                401,
                r#"{"error":"invalid_request","error_description":"Invalid Credentials"}"#
            ),
            ProviderError::Unauthorized
        ));
        match map(
            Endpoint::Api,
            410,
            r#"{"error":{"errors":[{"domain":"global","reason":"deleted","message":"Resource has been deleted"}],"code":410,"message":"Resource has been deleted"}}"#,
        ) {
            ProviderError::NotFound { code, message } => {
                assert_eq!(code, Some(410));
                assert_eq!(message, "Resource has been deleted");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            map(
                Endpoint::Api,
                404,
                r#"{"error":{"errors":[{"domain":"global","reason":"notFound","message":"Not Found"}],"code":404,"message":"Not Found"}}"#
            ),
            ProviderError::NotFound {
                code: Some(404),
                ..
            }
        ));
        match map(
            Endpoint::Api,
            403,
            r#"{"error":{"code":403,"message":"Request had insufficient authentication scopes.","errors":[{"message":"Insufficient Permission","domain":"global","reason":"insufficientPermissions"}],"status":"PERMISSION_DENIED"}}"#,
        ) {
            ProviderError::Rejected {
                status,
                code,
                message,
            } => {
                assert_eq!((status, code.as_str()), (403, "insufficientPermissions"));
                assert_eq!(message, "Request had insufficient authentication scopes.");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            map(Endpoint::Api, 409, r#"{"error":{"errors":[{"domain":"global","reason":"duplicate","message":"The requested identifier already exists."}],"code":409,"message":"The requested identifier already exists."}}"#),
            ProviderError::Rejected { status: 409, ref code, .. } if code == "duplicate"
        ));
        assert!(matches!(
            map(Endpoint::Api, 503, ""),
            ProviderError::Transient(_)
        ));
        assert!(matches!(
            map(Endpoint::Api, 500, r#"{"error":{"code":500,"message":"Backend Error","errors":[{"reason":"backendError"}]}}"#),
            ProviderError::Transient(m) if m.contains("Backend Error")
        ));
    }

    #[test]
    fn rate_limits_come_as_429_or_403() {
        let mut r = response(
            403,
            r#"{"error":{"errors":[{"domain":"usageLimits","reason":"userRateLimitExceeded","message":"User Rate Limit Exceeded"}],"code":403,"message":"User Rate Limit Exceeded"}}"#,
        );
        r.headers.insert(RETRY_AFTER, HeaderValue::from_static("4"));
        assert!(matches!(
            error_from_response(Endpoint::Api, &r, Timestamp::UNIX_EPOCH),
            ProviderError::RateLimited { retry_after: Some(d) } if d == Duration::from_secs(4)
        ));
        assert!(matches!(
            map(
                Endpoint::Api,
                403,
                r#"{"error":{"errors":[{"domain":"usageLimits","reason":"rateLimitExceeded"}],"code":403,"message":"Rate Limit Exceeded"}}"#
            ),
            ProviderError::RateLimited { retry_after: None }
        ));
        assert!(matches!(
            map(Endpoint::Token, 429, "slow down"),
            ProviderError::RateLimited { retry_after: None }
        ));
        // A 403 for another reason is a refusal.
        assert!(matches!(
            map(
                Endpoint::Api,
                403,
                r#"{"error":{"errors":[{"domain":"calendar","reason":"requiredAccessLevel","message":"You need to have writer access to this calendar."}],"code":403,"message":"You need to have writer access to this calendar."}}"#
            ),
            ProviderError::Rejected { status: 403, ref code, .. } if code == "requiredAccessLevel"
        ));
    }

    #[test]
    fn token_endpoint_errors() {
        match map(
            Endpoint::Token,
            400,
            r#"{"error":"invalid_grant","error_description":"Token has been expired or revoked."}"#,
        ) {
            ProviderError::NeedsReauth { reason } => {
                assert_eq!(reason, "Token has been expired or revoked.")
            }
            other => panic!("{other:?}"),
        }
        match map(
            Endpoint::Token,
            401,
            r#"{"error":"invalid_client","error_description":"Unauthorized"}"#,
        ) {
            ProviderError::Rejected {
                status,
                code,
                message,
            } => {
                assert_eq!(
                    (status, code.as_str(), message.as_str()),
                    (401, "invalid_client", "Unauthorized")
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            map(Endpoint::Token, 400, r#"{"error":"redirect_uri_mismatch"}"#),
            ProviderError::Rejected { status: 400, ref code, ref message } if code == "redirect_uri_mismatch" && message == "redirect_uri_mismatch"
        ));
        // invalid_grant is about the user's grant only on the token endpoint.
        assert!(matches!(
            map(Endpoint::Api, 400, r#"{"error":"invalid_grant"}"#),
            ProviderError::Rejected { status: 400, .. }
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
        match map(Endpoint::Token, 400, &long) {
            ProviderError::Rejected { message, .. } => assert_eq!(message.len(), SNIPPET_CHARS),
            other => panic!("{other:?}"),
        }
        for odd in ["[1,2]", "null", r#"{"error":5}"#, r#"{"nope":1}"#] {
            assert!(
                matches!(map(Endpoint::Api, 404, odd), ProviderError::Rejected { .. }),
                "{odd}"
            );
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
    }
}
