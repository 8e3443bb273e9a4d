//! The one place a CalDAV server's answers become [`ProviderError`].
//!
//! | answer | step | `ProviderError` |
//! |---|---|---|
//! | 429 | any | `RateLimited { retry_after }` |
//! | 5xx | any | `Transient` |
//! | 401 | any | `Rejected { 401, "bad_credentials" }`: Basic auth has no token to refresh, so `Unauthorized` (which means "refresh and retry") would loop |
//! | 403 | discovery | `Rejected { 401, "bad_credentials" }` (some servers refuse a wrong user this way) |
//! | 403 | reading / writing a calendar | `Rejected { 403, "forbidden" }`: the user is known but may not do this |
//! | 404 | discovery | `Rejected { 404, "no_caldav_service" }` |
//! | 404, 410 | reading / writing | `NotFound` (the calendar or event is gone) |
//! | 412 | writing | `Rejected { 412, "conflict" }` (callers handle the first 412 themselves) |
//! | an HTML page, or any answer that is not WebDAV XML | any | `Rejected { status, "not_caldav" }` |
//! | a body over the size limit | any | `Rejected { status, "response_too_large" }` |
//! | any other status | any | `Rejected { status, "http_<status>" }` |
//!
//! Connection errors and timeouts never reach here: the HTTP client reports them as
//! `Transient`. Messages never contain the password (it travels in a header only).

use crate::error::ProviderError;
use crate::http::{retry_after, HttpResponse};
use jiff::Timestamp;
use reqwest::header::CONTENT_TYPE;
use reqwest::StatusCode;

/// What the adapter was doing: the same status means different things.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Step {
    /// Finding the principal, its calendar home and calendars.
    Discovery,
    /// Reading busy times or an event.
    Read,
    /// Creating, changing or deleting an event.
    Write,
}

/// How much of a body goes into an error message.
const SNIPPET_CHARS: usize = 200;

pub(super) fn bad_credentials() -> ProviderError {
    ProviderError::Rejected {
        status: 401,
        code: "bad_credentials".into(),
        message: "the CalDAV server refused the user name or password".into(),
    }
}

pub(super) fn not_caldav(status: StatusCode) -> ProviderError {
    ProviderError::Rejected {
        status: status.as_u16(),
        code: "not_caldav".into(),
        message: "the server did not answer like a CalDAV server".into(),
    }
}

pub(super) fn too_large(status: StatusCode, limit: usize) -> ProviderError {
    ProviderError::Rejected {
        status: status.as_u16(),
        code: "response_too_large".into(),
        message: format!(
            "the CalDAV server's answer is larger than {} MiB; Convene does not read it",
            limit / (1024 * 1024)
        ),
    }
}

/// Turns a CalDAV server's answer that is not what the step expected into a
/// [`ProviderError`].
pub(super) fn error_from_response(
    step: Step,
    response: &HttpResponse,
    now: Timestamp,
) -> ProviderError {
    let status = response.status;
    if status == StatusCode::TOO_MANY_REQUESTS {
        return ProviderError::RateLimited {
            retry_after: retry_after(&response.headers, now),
        };
    }
    if status.is_server_error() {
        return ProviderError::Transient(format!(
            "the CalDAV server answered HTTP {}: {}",
            status.as_u16(),
            snippet(response)
        ));
    }
    if status == StatusCode::UNAUTHORIZED {
        return bad_credentials();
    }
    match (status, step) {
        (StatusCode::FORBIDDEN, Step::Discovery) => return bad_credentials(),
        (StatusCode::FORBIDDEN, Step::Read) => {
            return forbidden("the CalDAV server does not let this user read this calendar")
        }
        (StatusCode::FORBIDDEN, Step::Write) => {
            return forbidden("the CalDAV server does not let this user change this calendar")
        }
        (StatusCode::NOT_FOUND | StatusCode::GONE, Step::Discovery) => {
            return ProviderError::Rejected {
                status: status.as_u16(),
                code: "no_caldav_service".into(),
                message: "no CalDAV service at this URL".into(),
            }
        }
        (StatusCode::NOT_FOUND | StatusCode::GONE, _) => {
            return ProviderError::NotFound {
                code: None,
                message: "the calendar or event is no longer on the CalDAV server".into(),
            }
        }
        (StatusCode::PRECONDITION_FAILED, _) => {
            return ProviderError::Rejected {
                status: 412,
                code: "conflict".into(),
                message: "the event was changed on the CalDAV server meanwhile".into(),
            }
        }
        _ => {}
    }
    if is_html(response) {
        return not_caldav(status);
    }
    if status.is_redirection() {
        return ProviderError::Rejected {
            status: status.as_u16(),
            code: "redirected".into(),
            message: "the CalDAV server sent Convene elsewhere (too many redirects, or to an insecure address); use the calendar address the provider documents".into(),
        };
    }
    ProviderError::Rejected {
        status: status.as_u16(),
        code: format!("http_{}", status.as_u16()),
        message: snippet(response),
    }
}

fn forbidden(message: &str) -> ProviderError {
    ProviderError::Rejected {
        status: 403,
        code: "forbidden".into(),
        message: message.into(),
    }
}

/// A web page rather than a WebDAV answer: a login page, a proxy's page, a website.
pub(super) fn is_html(response: &HttpResponse) -> bool {
    let declared = response
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().contains("html"));
    let start: String = String::from_utf8_lossy(&response.body[..response.body.len().min(512)])
        .trim_start()
        .chars()
        .take(64)
        .collect::<String>()
        .to_ascii_lowercase();
    declared || start.starts_with("<!doctype html") || start.starts_with("<html")
}

/// The start of the body on one line, else the status' reason phrase.
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

    fn response(status: u16, content_type: &str, body: &str) -> HttpResponse {
        let mut headers = HeaderMap::new();
        if !content_type.is_empty() {
            headers.insert(CONTENT_TYPE, HeaderValue::from_str(content_type).unwrap());
        }
        HttpResponse {
            status: StatusCode::from_u16(status).unwrap(),
            headers,
            body: body.as_bytes().to_vec(),
        }
    }

    fn map(step: Step, status: u16, content_type: &str, body: &str) -> ProviderError {
        error_from_response(
            step,
            &response(status, content_type, body),
            Timestamp::UNIX_EPOCH,
        )
    }

    fn code(e: &ProviderError) -> (u16, &str) {
        match e {
            ProviderError::Rejected { status, code, .. } => (*status, code.as_str()),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn credentials() {
        for step in [Step::Discovery, Step::Read, Step::Write] {
            let e = map(step, 401, "text/html", "<html>Unauthorized</html>");
            assert_eq!(code(&e), (401, "bad_credentials"));
            assert_eq!(
                e.to_string(),
                "the provider rejected the request (HTTP 401, bad_credentials): the CalDAV server refused the user name or password"
            );
        }
        assert_eq!(
            code(&map(Step::Discovery, 403, "", "")),
            (401, "bad_credentials")
        );
        assert_eq!(code(&map(Step::Read, 403, "", "")), (403, "forbidden"));
        assert_eq!(code(&map(Step::Write, 403, "", "")), (403, "forbidden"));
    }

    #[test]
    fn missing_things() {
        let e = map(Step::Discovery, 404, "text/html", "<html>Not Found</html>");
        assert_eq!(code(&e), (404, "no_caldav_service"));
        assert!(e.to_string().ends_with("no CalDAV service at this URL"));
        assert!(matches!(
            map(Step::Write, 404, "", ""),
            ProviderError::NotFound { code: None, .. }
        ));
        assert!(matches!(
            map(Step::Read, 410, "", ""),
            ProviderError::NotFound { .. }
        ));
        assert_eq!(code(&map(Step::Write, 412, "", "")), (412, "conflict"));
    }

    #[test]
    fn web_pages_are_not_caldav() {
        let e = map(
            Step::Discovery,
            405,
            "text/html; charset=utf-8",
            "<p>no</p>",
        );
        assert_eq!(code(&e), (405, "not_caldav"));
        assert!(e
            .to_string()
            .ends_with("the server did not answer like a CalDAV server"));
        assert_eq!(
            code(&map(
                Step::Discovery,
                400,
                "",
                "  <!DOCTYPE html><html></html>"
            )),
            (400, "not_caldav")
        );
        assert_eq!(
            code(&map(Step::Read, 400, "text/plain", "bad")),
            (400, "http_400")
        );
        assert_eq!(
            code(&map(Step::Discovery, 302, "", "")),
            (302, "redirected")
        );
    }

    #[test]
    fn transient_and_rate_limited() {
        assert!(matches!(
            map(Step::Read, 503, "", ""),
            ProviderError::Transient(_)
        ));
        assert!(matches!(
            map(Step::Write, 500, "text/html", "<html>oops</html>"),
            ProviderError::Transient(_)
        ));
        let mut r = response(429, "", "");
        r.headers.insert(RETRY_AFTER, HeaderValue::from_static("4"));
        assert!(matches!(
            error_from_response(Step::Read, &r, Timestamp::UNIX_EPOCH),
            ProviderError::RateLimited { retry_after: Some(d) } if d == Duration::from_secs(4)
        ));
    }

    #[test]
    fn binary_bodies_do_not_panic() {
        let r = HttpResponse {
            status: StatusCode::BAD_REQUEST,
            headers: HeaderMap::new(),
            body: vec![0xff, 0xfe, 0x00, 0x80],
        };
        assert_eq!(
            code(&error_from_response(Step::Read, &r, Timestamp::UNIX_EPOCH)),
            (400, "http_400")
        );
    }
}
