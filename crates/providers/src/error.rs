//! [`ProviderError`]: the one error every adapter returns. Nothing outside an adapter
//! sees a provider's status codes or error JSON; callers decide on these six cases.

use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// The access token is invalid or expired (Zoom: 401, code 124). Refresh the token
    /// and retry once.
    #[error("the provider refused the access token (invalid or expired)")]
    Unauthorized,
    /// The refresh token or grant is dead (`invalid_grant`): the user must connect again.
    #[error("the provider connection must be authorized again: {reason}")]
    NeedsReauth { reason: String },
    /// The object is gone at the provider (Zoom: 404 code 3001 meeting, 1001 user).
    /// For a delete this means the work is already done.
    #[error("not found at the provider{}: {message}", code.map(|c| format!(" (code {c})")).unwrap_or_default())]
    NotFound { code: Option<i64>, message: String },
    /// Too many requests; try again after `retry_after` when the provider said so.
    #[error("rate limited by the provider{}", retry_after.map(|d| format!(", retry after {} s", d.as_secs())).unwrap_or_default())]
    RateLimited { retry_after: Option<Duration> },
    /// A timeout, connection failure or 5xx: worth retrying later.
    #[error("the provider is unavailable: {0}")]
    Transient(String),
    /// Any other refusal (4xx): a bug or bad input. Retrying will not help.
    #[error("the provider rejected the request (HTTP {status}, {code}): {message}")]
    Rejected {
        status: u16,
        code: String,
        message: String,
    },
}

impl ProviderError {
    /// Whether trying the same call again later may succeed (`RateLimited`,
    /// `Transient`). `Unauthorized` is not "retryable" in this sense: it needs a
    /// token refresh first.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::RateLimited { .. } | Self::Transient(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_rate_limits_and_transient_failures_are_retryable() {
        assert!(ProviderError::RateLimited { retry_after: None }.is_retryable());
        assert!(ProviderError::Transient("timeout".into()).is_retryable());
        assert!(!ProviderError::Unauthorized.is_retryable());
        assert!(!ProviderError::NeedsReauth { reason: "x".into() }.is_retryable());
        assert!(!ProviderError::NotFound {
            code: Some(3001),
            message: "gone".into()
        }
        .is_retryable());
        assert!(!ProviderError::Rejected {
            status: 400,
            code: "300".into(),
            message: "bad".into()
        }
        .is_retryable());
    }

    #[test]
    fn messages_read_well() {
        let e = ProviderError::NotFound {
            code: Some(3001),
            message: "Meeting does not exist".into(),
        };
        assert_eq!(
            e.to_string(),
            "not found at the provider (code 3001): Meeting does not exist"
        );
        let e = ProviderError::RateLimited {
            retry_after: Some(Duration::from_secs(7)),
        };
        assert_eq!(
            e.to_string(),
            "rate limited by the provider, retry after 7 s"
        );
    }
}
