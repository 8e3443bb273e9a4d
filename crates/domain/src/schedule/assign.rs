//! Which host gets a Round Robin booking, among the hosts free for the chosen slot.
//!
//! The rule is deterministic (no randomness) so that the outcome can be explained to an
//! admin and reproduced in tests: priority first, then the host furthest below its
//! weighted share of recent bookings, then whoever waited longest, then the lowest id.

use crate::ids::UserId;
use jiff::Timestamp;
use std::cmp::Ordering;

/// A host free for the slot being booked, with what the fairness rule needs to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate {
    pub host: UserId,
    /// Higher wins outright.
    pub priority: i32,
    /// Relative share of bookings, at least 1 (0 counts as 1).
    pub weight: u32,
    /// Bookings of this event type in the fairness period.
    pub recent_bookings: u32,
    pub last_booked_at: Option<Timestamp>,
}

/// The host to assign, or `None` if nobody is free.
///
/// Order: highest priority; then lowest `recent_bookings / weight` (compared exactly by
/// cross-multiplying, since float ratios could tie or flip on rounding); then least
/// recently booked, never-booked first; then lowest id.
pub fn pick_round_robin_host(candidates: &[Candidate]) -> Option<UserId> {
    candidates
        .iter()
        .min_by(|a, b| preference(a, b))
        .map(|c| c.host)
}

/// `Less` when `a` should be picked before `b`.
fn preference(a: &Candidate, b: &Candidate) -> Ordering {
    let share = |c: &Candidate, other: &Candidate| {
        u64::from(c.recent_bookings) * u64::from(other.weight.max(1))
    };
    b.priority
        .cmp(&a.priority)
        .then_with(|| share(a, b).cmp(&share(b, a)))
        // `None < Some(_)` puts never-booked hosts first.
        .then_with(|| a.last_booked_at.cmp(&b.last_booked_at))
        .then_with(|| a.host.cmp(&b.host))
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::SignedDuration;

    fn candidate(priority: i32, weight: u32) -> Candidate {
        Candidate {
            host: UserId::new(),
            priority,
            weight,
            recent_bookings: 0,
            last_booked_at: None,
        }
    }

    /// Books `n` times among `hosts` (all free every time); returns each host's count.
    fn simulate(hosts: &mut [Candidate], n: u32) -> Vec<u32> {
        let start = Timestamp::from_second(1_770_000_000).unwrap();
        for i in 0..n {
            let chosen = pick_round_robin_host(hosts).unwrap();
            let host = hosts.iter_mut().find(|c| c.host == chosen).unwrap();
            host.recent_bookings += 1;
            host.last_booked_at = Some(start + SignedDuration::from_mins(i64::from(i)));
        }
        hosts.iter().map(|c| c.recent_bookings).collect()
    }

    #[test]
    fn nobody_free_means_no_host() {
        assert_eq!(pick_round_robin_host(&[]), None);
    }

    #[test]
    fn weights_share_bookings_proportionally() {
        let mut hosts = [candidate(0, 2), candidate(0, 1), candidate(0, 1)];
        let counts = simulate(&mut hosts, 300);
        for (count, expected) in counts.iter().zip([150, 75, 75]) {
            assert!(count.abs_diff(expected) <= 1, "{counts:?}");
        }
    }

    #[test]
    fn equal_weights_stay_within_one_at_every_step() {
        let mut hosts = [
            candidate(0, 1),
            candidate(0, 1),
            candidate(0, 1),
            candidate(0, 1),
        ];
        for _ in 0..50 {
            let counts = simulate(&mut hosts, 3);
            let (min, max) = (counts.iter().min(), counts.iter().max());
            assert!(max.unwrap() - min.unwrap() <= 1, "{counts:?}");
        }
    }

    #[test]
    fn zero_weight_counts_as_one() {
        let mut hosts = [candidate(0, 0), candidate(0, 1)];
        assert_eq!(simulate(&mut hosts, 10), [5, 5]);
    }

    #[test]
    fn higher_priority_always_wins_when_free() {
        let mut hosts = [candidate(0, 1), candidate(5, 1), candidate(0, 10)];
        let counts = simulate(&mut hosts, 20);
        assert_eq!(counts, [0, 20, 0]);
        // When the priority host is not free, the others share.
        let counts = simulate(&mut [hosts[0], hosts[2]], 11);
        assert_eq!(counts, [1, 10]);
    }

    #[test]
    fn ties_go_to_the_least_recently_booked_then_lowest_id() {
        let t = |s: i64| Some(Timestamp::from_second(s).unwrap());
        let mut a = candidate(0, 1);
        let mut b = candidate(0, 1);
        let c = candidate(0, 1);
        a.recent_bookings = 1;
        b.recent_bookings = 1;
        a.last_booked_at = t(200);
        b.last_booked_at = t(100);
        assert_eq!(pick_round_robin_host(&[a, b]), Some(b.host));
        // Never booked beats booked long ago at equal share…
        let mut d = c;
        d.recent_bookings = 1;
        d.last_booked_at = None;
        assert_eq!(pick_round_robin_host(&[a, b, d]), Some(d.host));
        // …and among identical records the lowest id wins, whatever the input order.
        let (lo, hi) = (candidate(0, 1), candidate(0, 1));
        assert!(lo.host < hi.host);
        assert_eq!(pick_round_robin_host(&[hi, lo]), Some(lo.host));
        assert_eq!(pick_round_robin_host(&[lo, hi]), Some(lo.host));
    }
}
