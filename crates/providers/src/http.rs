//! The one HTTP client every adapter sends through: timeouts, a user agent, retries
//! with backoff that honour `Retry-After`, and logs that never show a token.
//!
//! Retrying is opt-in per call through [`RetryPolicy`]: only calls that are safe to
//! repeat (GET, DELETE, idempotent PATCH/PUT) use [`RetryPolicy::idempotent`]. A
//! create or a token refresh (Zoom rotates refresh tokens) is sent once with
//! [`RetryPolicy::once`]; a failure goes back to the caller, whose job decides. Waits
//! inside a request are short (a few seconds in total); longer ones are left to the
//! job queue, which gets `ProviderError::RateLimited { retry_after }` or `Transient`.
//!
//! The client does not interpret error bodies: it retries on connection errors,
//! timeouts, 429 and 5xx, and hands the final response to the adapter, whose error
//! mapping decides what it means.
//!
//! Logs carry method, host, path, status, attempt and elapsed time: never the query
//! string (Zoom's revoke puts the token there), headers or bodies.

use crate::error::ProviderError;
use jiff::Timestamp;
use rand::Rng;
use reqwest::header::{HeaderMap, DATE, RETRY_AFTER};
use reqwest::StatusCode;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Connect and whole-request timeout unless configured otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Response bodies are read up to this size; anything longer is cut off (and then
/// fails to parse), so a misbehaving server cannot exhaust memory.
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct HttpConfig {
    pub connect_timeout: Duration,
    /// Covers the whole exchange: connecting, sending and reading the body.
    pub request_timeout: Duration,
    pub user_agent: String,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            connect_timeout: DEFAULT_TIMEOUT,
            request_timeout: DEFAULT_TIMEOUT,
            user_agent: concat!("convene/", env!("CARGO_PKG_VERSION")).to_owned(),
        }
    }
}

/// Where adapters read "now" (token expiry, HTTP dates); injected so tests that move
/// the application's clock get token expiries on the same clock.
pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// Which calls may be repeated, and how long a request may spend waiting in total.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, including the first; 1 means "send once".
    pub max_attempts: u32,
    /// Backoff before the first retry when the server gave no `Retry-After`; doubles
    /// per retry, with jitter.
    pub base_delay: Duration,
    /// Cap on a single backoff step.
    pub max_delay: Duration,
    /// Cap on the sum of all waits in this request. A `Retry-After` longer than what
    /// is left is not waited for: the response goes back to the caller instead.
    pub max_total_wait: Duration,
}

impl RetryPolicy {
    /// For calls that are safe to repeat: 3 attempts, at most 5 s of waiting.
    pub const fn idempotent() -> Self {
        Self {
            max_attempts: 3,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(2),
            max_total_wait: Duration::from_secs(5),
        }
    }

    /// For calls that must not be repeated blindly (creates, token requests).
    pub const fn once() -> Self {
        Self {
            max_attempts: 1,
            base_delay: Duration::ZERO,
            max_delay: Duration::ZERO,
            max_total_wait: Duration::ZERO,
        }
    }

    /// Capped exponential backoff before retry number `retry` (1-based), with "equal
    /// jitter": half the step fixed, half random, so a herd spreads out.
    fn backoff(&self, retry: u32) -> Duration {
        let factor = 2u32.saturating_pow(retry.saturating_sub(1));
        let step = self.base_delay.saturating_mul(factor).min(self.max_delay);
        let half = step / 2;
        let jitter_ms = u64::try_from(half.as_millis()).unwrap_or(u64::MAX);
        let jitter = if jitter_ms == 0 {
            Duration::ZERO
        } else {
            Duration::from_millis(rand::thread_rng().gen_range(0..=jitter_ms))
        };
        half + jitter
    }
}

/// A response read in full.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn is_success(&self) -> bool {
        self.status.is_success()
    }
}

/// A `reqwest::Client` with Convene's timeouts, user agent, no redirects, and an
/// injected clock. Cheap to clone.
#[derive(Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    clock: Clock,
}

impl fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClient").finish_non_exhaustive()
    }
}

impl HttpClient {
    /// Fails only if the TLS backend cannot be initialised.
    pub fn new(config: HttpConfig) -> Result<Self, ProviderError> {
        let client = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            .user_agent(config.user_agent)
            // APIs do not redirect; following one could turn a POST into a GET or
            // send credentials somewhere unexpected.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| {
                ProviderError::Transient(format!("cannot build the HTTP client: {}", chain(&e)))
            })?;
        Ok(Self {
            client,
            clock: Arc::new(Timestamp::now),
        })
    }

    /// The same client reading time from `clock` (e.g. the application's clock).
    pub fn with_clock(mut self, clock: impl Fn() -> Timestamp + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    pub fn now(&self) -> Timestamp {
        (self.clock)()
    }

    /// Sends the request `build` describes (called again for every attempt) and reads
    /// the response. Retries per `policy` on connection errors, timeouts, 429 and 5xx,
    /// waiting `Retry-After` when given, else a jittered backoff. Returns the last
    /// response whatever its status; `Err` only when no response arrived
    /// (`Transient`) or the request could not be built (`Rejected`, status 0).
    pub async fn send_with_retry<F>(
        &self,
        build: F,
        policy: RetryPolicy,
    ) -> Result<HttpResponse, ProviderError>
    where
        F: Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    {
        let mut waited = Duration::ZERO;
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            let request = build(&self.client)
                .build()
                .map_err(|e| ProviderError::Rejected {
                    status: 0,
                    code: "invalid_request".into(),
                    message: format!("cannot build the request: {}", chain(&e.without_url())),
                })?;
            let target = Target::of(&request);
            let started = Instant::now();
            let outcome = self.execute(request).await;
            let elapsed_ms = started.elapsed().as_millis();

            let server_delay = match &outcome {
                Ok(response) => {
                    let status = response.status.as_u16();
                    if !retryable_status(response.status) {
                        tracing::debug!(method = %target.method, host = %target.host, path = %target.path, status, attempt, elapsed_ms, "provider call");
                        return outcome.map_err(|e| target.transient(e));
                    }
                    tracing::warn!(method = %target.method, host = %target.host, path = %target.path, status, attempt, elapsed_ms, "provider call failed");
                    retry_after(&response.headers, self.now())
                }
                Err(e) => {
                    tracing::warn!(method = %target.method, host = %target.host, path = %target.path, attempt, elapsed_ms, error = %describe(e), "provider call failed");
                    None
                }
            };

            if attempt >= policy.max_attempts {
                return outcome.map_err(|e| target.transient(e));
            }
            let wait = server_delay.unwrap_or_else(|| policy.backoff(attempt));
            if waited.saturating_add(wait) > policy.max_total_wait {
                tracing::debug!(method = %target.method, host = %target.host, path = %target.path, wait_ms = wait.as_millis(), "not waiting that long in-request; leaving the retry to the caller");
                return outcome.map_err(|e| target.transient(e));
            }
            tokio::time::sleep(wait).await;
            waited += wait;
        }
    }

    async fn execute(&self, request: reqwest::Request) -> Result<HttpResponse, reqwest::Error> {
        let mut response = self.client.execute(request).await?;
        let status = response.status();
        let headers = response.headers().clone();
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await? {
            let room = MAX_BODY_BYTES.saturating_sub(body.len());
            body.extend_from_slice(&chunk[..chunk.len().min(room)]);
            if body.len() >= MAX_BODY_BYTES {
                break;
            }
        }
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
    }
}

fn retryable_status(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()
}

/// What is safe to log about a request: no query string, no credentials.
struct Target {
    method: reqwest::Method,
    host: String,
    path: String,
}

impl Target {
    fn of(request: &reqwest::Request) -> Self {
        let url = request.url();
        let host = match (url.host_str(), url.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_owned(),
            _ => String::new(),
        };
        Self {
            method: request.method().clone(),
            host,
            path: url.path().to_owned(),
        }
    }

    fn transient(&self, e: reqwest::Error) -> ProviderError {
        ProviderError::Transient(format!(
            "{} {}{}: {}",
            self.method,
            self.host,
            self.path,
            describe(&e)
        ))
    }
}

/// A reqwest error in words, without its URL (which may hold a token in the query).
fn describe(e: &reqwest::Error) -> String {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_body() || e.is_decode() {
        "failed while reading the response"
    } else {
        "failed"
    };
    let mut text = what.to_owned();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let part = s.to_string();
        if !text.ends_with(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = s.source();
    }
    text
}

fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// `Retry-After` as a delay: either delta-seconds or an HTTP date. A date is
/// measured against the response's own `Date` header when present (so clock skew
/// between us and the provider does not matter), else against `now`. A date in the
/// past is zero; an unreadable value is `None`.
pub fn retry_after(headers: &HeaderMap, now: Timestamp) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = parse_http_date(value)?;
    let base = headers
        .get(DATE)
        .and_then(|d| d.to_str().ok())
        .and_then(parse_http_date)
        .unwrap_or(now);
    let delta = at.duration_since(base);
    Some(Duration::try_from(delta).unwrap_or(Duration::ZERO))
}

/// An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), which is RFC 2822 syntax.
fn parse_http_date(value: &str) -> Option<Timestamp> {
    jiff::fmt::rfc2822::DateTimeParser::new()
        .parse_timestamp(value.trim())
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(reqwest::header::HeaderName, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(k.clone(), HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn retry_after_in_seconds() {
        let now = Timestamp::from_second(0).unwrap();
        assert_eq!(
            retry_after(&headers(&[(RETRY_AFTER, "7")]), now),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            retry_after(&headers(&[(RETRY_AFTER, " 0 ")]), now),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after(&headers(&[]), now), None);
        assert_eq!(retry_after(&headers(&[(RETRY_AFTER, "soon")]), now), None);
        assert_eq!(retry_after(&headers(&[(RETRY_AFTER, "-3")]), now), None);
    }

    #[test]
    fn retry_after_as_http_date() {
        let now: Timestamp = "2015-10-21T07:28:00Z".parse().unwrap();
        let h = headers(&[(RETRY_AFTER, "Wed, 21 Oct 2015 07:28:30 GMT")]);
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(30)));
        // The server's Date header wins over our clock.
        let h = headers(&[
            (RETRY_AFTER, "Wed, 21 Oct 2015 07:28:30 GMT"),
            (DATE, "Wed, 21 Oct 2015 07:28:20 GMT"),
        ]);
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(10)));
        // In the past: retry now.
        let h = headers(&[(RETRY_AFTER, "Wed, 21 Oct 2015 07:00:00 GMT")]);
        assert_eq!(retry_after(&h, now), Some(Duration::ZERO));
    }

    #[test]
    fn backoff_grows_is_capped_and_jittered() {
        let p = RetryPolicy::idempotent();
        for _ in 0..50 {
            let first = p.backoff(1);
            assert!(
                first >= Duration::from_millis(125) && first <= Duration::from_millis(250),
                "{first:?}"
            );
            let late = p.backoff(10);
            assert!(
                late >= Duration::from_secs(1) && late <= Duration::from_secs(2),
                "{late:?}"
            );
        }
        assert_eq!(RetryPolicy::once().backoff(1), Duration::ZERO);
        assert!(p.backoff(u32::MAX) <= Duration::from_secs(2));
    }
}
