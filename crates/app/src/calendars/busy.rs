//! Busy times from hosts' calendars, cached so the booking page stays fast.
//!
//! Each host's busy times are fetched for a window (yesterday to about two months
//! ahead) and kept for [`FRESH`]; until [`STALE`] a cached answer is served while one
//! background task refreshes it, and after that the request waits for a fetch. A
//! booking re-reads its hosts first ([`App::fresh_busy`]), so the commit-time check
//! sees what the calendar says now. Fetches for many hosts run in parallel, bounded.
//!
//! **Architecture Invariant:** a calendar that cannot be read yields an error for its
//! host, never an empty list: the host is not offered rather than shown as free.

use crate::App;
use convene_domain::schedule::Interval;
use convene_domain::UserId;
use futures::stream::{self, StreamExt};
use jiff::{SignedDuration, Timestamp};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// A cached answer younger than this is used as it is.
pub const FRESH: SignedDuration = SignedDuration::from_secs(60);
/// Up to this age a cached answer is served while it is refreshed in the background.
pub const STALE: SignedDuration = SignedDuration::from_secs(15 * 60);
/// A booking re-reads calendars older than this before it commits.
pub const AT_BOOKING: SignedDuration = SignedDuration::from_secs(10);
/// How many hosts' calendars are fetched at once.
pub const PARALLEL_FETCHES: usize = 16;

/// A host's busy times, or why they are unknown.
pub type BusyResult = Result<Vec<Interval>, String>;

#[derive(Clone)]
struct Entry {
    fetched_at: Timestamp,
    from: Timestamp,
    to: Timestamp,
    result: BusyResult,
    refreshing: bool,
}

/// Per-instance cache of hosts' busy times.
#[derive(Default)]
pub struct BusyCache {
    entries: Mutex<HashMap<UserId, Entry>>,
}

impl BusyCache {
    fn get(&self, user: UserId) -> Option<Entry> {
        self.entries.lock().ok()?.get(&user).cloned()
    }

    fn put(&self, user: UserId, e: Entry) {
        if let Ok(mut m) = self.entries.lock() {
            m.insert(user, e);
        }
    }

    /// Marks an entry as being refreshed; `false` if another task already is.
    fn claim_refresh(&self, user: UserId) -> bool {
        let Ok(mut m) = self.entries.lock() else {
            return false;
        };
        match m.get_mut(&user) {
            Some(e) if !e.refreshing => {
                e.refreshing = true;
                true
            }
            _ => false,
        }
    }

    /// Forgets a user's busy times (their calendars changed).
    pub fn invalidate(&self, user: UserId) {
        if let Ok(mut m) = self.entries.lock() {
            m.remove(&user);
        }
    }
}

/// The window fetched for a request of [from, to): at least yesterday to 62 days ahead.
fn window(now: Timestamp, from: Timestamp, to: Timestamp) -> (Timestamp, Timestamp) {
    let day = SignedDuration::from_hours(24);
    let lo = now.checked_sub(day).unwrap_or(now).min(from);
    let hi = now
        .checked_add(SignedDuration::from_hours(24 * 62))
        .unwrap_or(now)
        .max(to);
    (lo, hi)
}

impl App {
    /// Busy times of `hosts` over [from, to), from the cache where it is fresh enough.
    pub async fn busy_of(
        &self,
        hosts: &[UserId],
        from: Timestamp,
        to: Timestamp,
    ) -> HashMap<UserId, BusyResult> {
        self.busy_with_max_age(hosts, from, to, FRESH, true).await
    }

    /// Busy times read from the calendars unless read within [`AT_BOOKING`]: for the
    /// check right before a booking commits.
    pub async fn fresh_busy(
        &self,
        hosts: &[UserId],
        from: Timestamp,
        to: Timestamp,
    ) -> HashMap<UserId, BusyResult> {
        self.busy_with_max_age(hosts, from, to, AT_BOOKING, false)
            .await
    }

    async fn busy_with_max_age(
        &self,
        hosts: &[UserId],
        from: Timestamp,
        to: Timestamp,
        max_age: SignedDuration,
        serve_stale: bool,
    ) -> HashMap<UserId, BusyResult> {
        let now = self.now();
        let mut out = HashMap::with_capacity(hosts.len());
        let mut to_fetch = Vec::new();
        for &host in hosts {
            match self.busy_cache.get(host) {
                Some(e) if e.from <= from && e.to >= to => {
                    let age = now.duration_since(e.fetched_at);
                    if age <= max_age {
                        out.insert(host, e.result);
                    } else if serve_stale && age <= STALE {
                        out.insert(host, e.result);
                        if self.busy_cache.claim_refresh(host) {
                            let app = self.clone();
                            tokio::spawn(async move {
                                // The cache holds the outcome; nobody waits for it here.
                                let _ = app.fetch_and_cache(host, from, to).await;
                            });
                        }
                    } else {
                        to_fetch.push(host);
                    }
                }
                _ => to_fetch.push(host),
            }
        }
        let fetched: Vec<(UserId, BusyResult)> = stream::iter(to_fetch)
            .map(|host| {
                let app = self.clone();
                async move { (host, app.fetch_and_cache(host, from, to).await) }
            })
            .buffer_unordered(PARALLEL_FETCHES)
            .collect()
            .await;
        out.extend(fetched);
        out
    }

    async fn fetch_and_cache(&self, host: UserId, from: Timestamp, to: Timestamp) -> BusyResult {
        let now = self.now();
        let (lo, hi) = window(now, from, to);
        let result = self.read_calendars(host, lo, hi).await;
        self.busy_cache.put(
            host,
            Entry {
                fetched_at: now,
                from: lo,
                to: hi,
                result: result.clone(),
                refreshing: false,
            },
        );
        result
    }
}

/// The cache, shared by clones of the App.
pub type SharedBusyCache = Arc<BusyCache>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_covers_the_request_and_two_months() {
        let now: Timestamp = "2026-12-01T12:00:00Z".parse().unwrap();
        let far: Timestamp = "2027-06-01T00:00:00Z".parse().unwrap();
        let (lo, hi) = window(now, now, far);
        assert!(lo < now && hi == far);
        let (_, hi) = window(now, now, now);
        assert_eq!(hi.duration_since(now), SignedDuration::from_hours(24 * 62));
    }
}
