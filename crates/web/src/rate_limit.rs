//! A small fixed-window rate limiter for the public forms (sign-in, setup, join), so a
//! password or invitation token cannot be guessed at speed. Per server instance and in
//! memory: it slows an attacker down; it is not an account lock.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct RateLimiter {
    limit: u32,
    window: Duration,
    hits: Mutex<HashMap<String, (Instant, u32)>>,
}

impl RateLimiter {
    pub fn new(limit: u32, window: Duration) -> Self {
        Self {
            limit,
            window,
            hits: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one attempt for `key`; `Err(retry_after)` once the window's limit is spent.
    pub fn check(&self, key: &str) -> Result<(), Duration> {
        let now = Instant::now();
        let mut hits = self.hits.lock().unwrap_or_else(|p| p.into_inner());
        if hits.len() > 100_000 {
            // Forget finished windows so the map cannot grow without bound.
            hits.retain(|_, (start, _)| now.duration_since(*start) < self.window);
        }
        let entry = hits.entry(key.to_string()).or_insert((now, 0));
        if now.duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        entry.1 += 1;
        if entry.1 > self.limit {
            Err(self.window.saturating_sub(now.duration_since(entry.0)))
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_the_limit_then_refuses_per_key() {
        let r = RateLimiter::new(3, Duration::from_secs(60));
        for _ in 0..3 {
            assert!(r.check("a").is_ok());
        }
        assert!(r.check("a").is_err());
        assert!(r.check("b").is_ok());
        let short = RateLimiter::new(1, Duration::from_millis(1));
        assert!(short.check("a").is_ok());
        std::thread::sleep(Duration::from_millis(5));
        assert!(short.check("a").is_ok());
    }
}
