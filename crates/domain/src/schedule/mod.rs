//! The scheduling core: which meeting starts can be offered, and to which host.
//!
//! It is pure on purpose: the caller passes `now`, the hosts' hours, calendars and
//! bookings, so the same question gets the same answer when the page is rendered and
//! again when a booking commits, and every rule can be property-tested. Hours are kept
//! in civil terms (`hours`) and become UTC instants per date in the host's zone
//! (`slots`); choosing a Round Robin host is a separate, independent rule (`assign`).

mod assign;
mod hours;
#[cfg(test)]
mod props;
mod slots;

pub use assign::{pick_round_robin_host, Candidate};
pub use hours::{hours_on, DateOverrides, HoursError, TimeRange, WeeklyHours};
pub use slots::{
    collective_can_take, collective_slots, host_can_take, host_is_free, host_slots, host_windows,
    round_robin_slots, HostSchedule, SlotRules, TeamSlot,
};

use jiff::{SignedDuration, Timestamp};

/// A half-open span `[start, end)` of absolute time; never empty when built with `new`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Interval {
    pub start: Timestamp,
    pub end: Timestamp,
}

impl Interval {
    /// `None` if `end <= start`.
    pub fn new(start: Timestamp, end: Timestamp) -> Option<Interval> {
        (start < end).then_some(Interval { start, end })
    }

    /// Half-open: an interval ending when another starts does not overlap it.
    pub fn overlaps(&self, other: &Interval) -> bool {
        self.start < other.end && other.start < self.end
    }

    pub fn contains(&self, instant: Timestamp) -> bool {
        self.start <= instant && instant < self.end
    }

    pub fn duration(&self) -> SignedDuration {
        self.end.duration_since(self.start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_are_half_open() {
        let t = |s: i64| Timestamp::from_second(s).unwrap();
        let a = Interval::new(t(0), t(10)).unwrap();
        let b = Interval::new(t(10), t(20)).unwrap();
        let c = Interval::new(t(5), t(15)).unwrap();
        assert!(Interval::new(t(10), t(10)).is_none());
        assert!(Interval::new(t(10), t(0)).is_none());
        assert!(!a.overlaps(&b) && !b.overlaps(&a));
        assert!(a.overlaps(&c) && c.overlaps(&b));
        assert!(a.contains(t(0)) && !a.contains(t(10)));
        assert_eq!(a.duration(), SignedDuration::from_secs(10));
    }
}
