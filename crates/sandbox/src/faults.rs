//! Fault injection shared by the emulators: added latency, a rate of server errors
//! and a rate of 429 rate-limit answers. Each emulator renders the injected failure
//! in its provider's own error format.

use std::time::Duration;

use crate::util;

/// Faults an emulator injects into its API and token calls (not into consent pages or
/// the control surface). Rates are probabilities per request, clamped to `0.0..=1.0`.
#[derive(Clone, Debug, PartialEq)]
pub struct Faults {
    /// Added to every affected request before it is answered.
    pub latency: Duration,
    /// Share of requests answered with a 500 or 503 in the provider's error format.
    pub error_rate: f64,
    /// Share of requests answered with a 429 carrying `Retry-After` and rate-limit headers.
    pub rate_limit_rate: f64,
    /// The `Retry-After` of injected 429s, in seconds.
    pub retry_after_secs: u64,
}

impl Default for Faults {
    fn default() -> Self {
        Self {
            latency: Duration::ZERO,
            error_rate: 0.0,
            rate_limit_rate: 0.0,
            retry_after_secs: 1,
        }
    }
}

/// What an affected request gets instead of its normal answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Injected {
    RateLimited,
    /// 500 or 503.
    ServerError(u16),
}

impl Faults {
    /// The same faults with rates clamped to `0.0..=1.0` (NaN counts as 0).
    pub(crate) fn sanitized(mut self) -> Self {
        self.error_rate = clamp_rate(self.error_rate);
        self.rate_limit_rate = clamp_rate(self.rate_limit_rate);
        self
    }

    /// Decides, at random, whether this request fails and how. Rate limits are
    /// checked first, as a provider's gateway does before its backend.
    pub(crate) fn roll(&self) -> Option<Injected> {
        if util::chance(self.rate_limit_rate) {
            Some(Injected::RateLimited)
        } else if util::chance(self.error_rate) {
            Some(Injected::ServerError(if util::chance(0.5) {
                500
            } else {
                503
            }))
        } else {
            None
        }
    }
}

fn clamp_rate(rate: f64) -> f64 {
    if rate.is_nan() {
        0.0
    } else {
        rate.clamp(0.0, 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certain_and_impossible_rates() {
        let none = Faults::default();
        assert!((0..100).all(|_| none.roll().is_none()));
        let limited = Faults {
            rate_limit_rate: 1.0,
            error_rate: 1.0,
            ..Faults::default()
        };
        assert!((0..100).all(|_| limited.roll() == Some(Injected::RateLimited)));
        let failing = Faults {
            error_rate: 7.0,
            ..Faults::default()
        }
        .sanitized();
        assert_eq!(failing.error_rate, 1.0);
        assert!((0..100).all(|_| matches!(failing.roll(), Some(Injected::ServerError(500 | 503)))));
        let nan = Faults {
            error_rate: f64::NAN,
            ..Faults::default()
        }
        .sanitized();
        assert_eq!(nan.error_rate, 0.0);
    }
}
