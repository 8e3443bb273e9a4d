//! The settings the use cases read (the binary builds them from its configuration).

use std::time::Duration;

#[derive(Debug, Clone)]
pub struct AppSettings {
    /// The public base URL, used in links sent by email (no trailing slash).
    pub base_url: String,
    pub invite_ttl: Duration,
    /// A session ends after this long without a request.
    pub session_idle_ttl: Duration,
    /// An admin lock whose holder has been idle this long may be taken without asking.
    pub lock_idle_ttl: Duration,
    pub mail_from: String,
    pub job_workers: usize,
    pub job_poll_interval: Duration,
    /// The lease of a claimed job; past it another worker may run the job again.
    pub job_lease: Duration,
    /// Argon2 cost; lowered only by tests.
    pub password_hash: crate::passwords::HashCost,
    /// Zoom's webhook secret token, to verify `x-zm-signature`.
    pub zoom_webhook_secret: convene_providers::Secret,
}

impl AppSettings {
    pub fn defaults(base_url: &str) -> Self {
        Self {
            base_url: base_url.trim_end_matches('/').to_string(),
            invite_ttl: Duration::from_secs(7 * 24 * 3600),
            session_idle_ttl: Duration::from_secs(7 * 24 * 3600),
            lock_idle_ttl: Duration::from_secs(10 * 60),
            mail_from: "Convene <no-reply@convene.localhost>".into(),
            job_workers: 2,
            job_poll_interval: Duration::from_millis(500),
            job_lease: Duration::from_secs(5 * 60),
            password_hash: crate::passwords::HashCost::Standard,
            zoom_webhook_secret: convene_providers::Secret::new(String::new()),
        }
    }
}
