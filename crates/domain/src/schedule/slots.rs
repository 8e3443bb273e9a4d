//! Turning hosts' hours, calendars and bookings into bookable meeting starts.
//!
//! Hours are civil times, so each local date is converted on its own in the host's
//! zone (jiff's "compatible" disambiguation: a time in a spring-forward gap moves
//! later, an ambiguous fall-back time takes the earlier offset). From there on all
//! arithmetic is on absolute instants, in `i128` nanoseconds so that it is exact and
//! cannot overflow. Busy times are sorted and merged once per host and then searched,
//! so the cost grows with slots + busy times, not their product.

use super::hours::{hours_on, DateOverrides, TimeRange, WeeklyHours};
use super::Interval;
use crate::ids::UserId;
use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

/// One host's inputs to the slot computation.
#[derive(Debug, Clone)]
pub struct HostSchedule {
    pub host: UserId,
    pub time_zone: TimeZone,
    pub weekly: WeeklyHours,
    pub overrides: DateOverrides,
    /// Calendar busy times (any order, may overlap).
    pub busy: Vec<Interval>,
    /// The host's existing Convene bookings (any event type), any order.
    pub bookings: Vec<Interval>,
}

impl HostSchedule {
    /// A host with no hours, no calendar and no bookings yet.
    pub fn new(host: UserId, time_zone: TimeZone) -> Self {
        Self {
            host,
            time_zone,
            weekly: WeeklyHours::default(),
            overrides: DateOverrides::default(),
            busy: Vec::new(),
            bookings: Vec::new(),
        }
    }

    /// The working hours on a local date: its override if any, else its weekday's.
    pub fn hours_on(&self, date: Date) -> &[TimeRange] {
        hours_on(&self.weekly, &self.overrides, date)
    }
}

/// An event type's rules. A non-positive `duration` or `interval` offers nothing;
/// negative buffers and notice count as zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotRules {
    pub duration: SignedDuration,
    /// Step between slot starts within a working-hours window.
    pub interval: SignedDuration,
    pub buffer_before: SignedDuration,
    pub buffer_after: SignedDuration,
    pub min_notice: SignedDuration,
    /// Slots start before `now + window_days × 24h`.
    pub window_days: i64,
    /// Most Convene bookings (of any event type) per host per host-local day.
    pub daily_limit: Option<u32>,
}

impl SlotRules {
    /// Back-to-back meetings of `duration`, no buffers or notice, 60 days ahead.
    pub fn new(duration: SignedDuration) -> Self {
        Self {
            duration,
            interval: duration,
            buffer_before: SignedDuration::ZERO,
            buffer_after: SignedDuration::ZERO,
            min_notice: SignedDuration::ZERO,
            window_days: 60,
            daily_limit: None,
        }
    }
}

/// A start offered by a team event, with the hosts free for it (sorted by id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamSlot {
    pub start: Timestamp,
    pub end: Timestamp,
    pub hosts: Vec<UserId>,
}

/// Free slot starts for one host within `range` (UTC), ascending and unique.
pub fn host_slots(
    host: &HostSchedule,
    rules: &SlotRules,
    now: Timestamp,
    range: Interval,
) -> Vec<Timestamp> {
    host_slot_nanos(host, rules, now, range)
        .into_iter()
        .filter_map(timestamp)
        .collect()
}

/// Whether this exact start is one [`host_slots`] offers, whatever range it was asked
/// for: the check to repeat right before a booking commits. For a Collective event use
/// [`collective_can_take`], whose starts are aligned to the shared hours instead.
pub fn host_can_take(
    host: &HostSchedule,
    rules: &SlotRules,
    now: Timestamp,
    start: Timestamp,
) -> bool {
    let s = nanos(start);
    let Some(limits) = Limits::new(rules, now).filter(|l| l.in_time(s)) else {
        return false;
    };
    let host = Prepared::new(host, rules.daily_limit, s, s + 1);
    limits.on_grid(&host.windows, s) && limits.free(&host, s)
}

/// The host's own conditions for a meeting at `start`, without the grid of starts: it
/// fits inside one working-hours window, respects notice and booking window, and
/// nothing (after buffers) or the daily limit is in the way. A Collective slot passes
/// this for every host.
pub fn host_is_free(
    host: &HostSchedule,
    rules: &SlotRules,
    now: Timestamp,
    start: Timestamp,
) -> bool {
    let s = nanos(start);
    let Some(limits) = Limits::new(rules, now).filter(|l| l.in_time(s)) else {
        return false;
    };
    let host = Prepared::new(host, rules.daily_limit, s, s + 1);
    limits.fits(&host.windows, s) && limits.free(&host, s)
}

/// Round Robin: every start at which at least one host is free; `hosts` lists who.
pub fn round_robin_slots(
    hosts: &[HostSchedule],
    rules: &SlotRules,
    now: Timestamp,
    range: Interval,
) -> Vec<TeamSlot> {
    let Some(limits) = Limits::new(rules, now) else {
        return Vec::new();
    };
    let mut offers: Vec<(Ns, UserId)> = hosts
        .iter()
        .flat_map(|h| {
            host_slot_nanos(h, rules, now, range)
                .into_iter()
                .map(move |s| (s, h.host))
        })
        .collect();
    // Sorting by (start, host) groups each start and leaves its hosts in id order.
    offers.sort_unstable();
    offers.dedup();
    let mut slots: Vec<TeamSlot> = Vec::new();
    for (s, host) in offers {
        match slots.last_mut() {
            Some(last) if nanos(last.start) == s => last.hosts.push(host),
            _ => {
                if let Some(slot) = team_slot(s, limits.duration, Vec::from([host])) {
                    slots.push(slot);
                }
            }
        }
    }
    slots
}

/// Collective: only starts at which all hosts are free, aligned to the windows in
/// which all of them work. Empty when there are no hosts.
pub fn collective_slots(
    hosts: &[HostSchedule],
    rules: &SlotRules,
    now: Timestamp,
    range: Interval,
) -> Vec<TeamSlot> {
    let Some(limits) = Limits::new(rules, now) else {
        return Vec::new();
    };
    let Some((lo, hi)) = limits.clamp(range) else {
        return Vec::new();
    };
    let Some(team) = Team::new(hosts, rules, lo, hi) else {
        return Vec::new();
    };
    let ids = sorted_ids(hosts);
    let mut slots = Vec::new();
    limits.each_start(&team.windows, lo, hi, |s| {
        if team.free(&limits, s) {
            slots.extend(team_slot(s, limits.duration, ids.clone()));
        }
    });
    slots
}

/// Whether this exact start is one [`collective_slots`] offers for these hosts.
pub fn collective_can_take(
    hosts: &[HostSchedule],
    rules: &SlotRules,
    now: Timestamp,
    start: Timestamp,
) -> bool {
    let s = nanos(start);
    let Some(limits) = Limits::new(rules, now).filter(|l| l.in_time(s)) else {
        return false;
    };
    let Some(team) = Team::new(hosts, rules, s, s + 1) else {
        return false;
    };
    limits.on_grid(&team.windows, s) && team.free(&limits, s)
}

/// The host's working-hours windows in UTC, for every local date touching `range`
/// (and the dates either side), ascending. Slots are aligned to these windows' starts.
/// Windows only merge where a DST gap makes two of them overlap.
pub fn host_windows(host: &HostSchedule, range: Interval) -> Vec<Interval> {
    let days = local_days(&host.time_zone, nanos(range.start), nanos(range.end));
    working_windows(host, &days)
        .into_iter()
        .filter_map(|(s, e)| Interval::new(timestamp(s)?, timestamp(e)?))
        .collect()
}

/// Nanoseconds since the Unix epoch; every `Timestamp` fits, and so do sums of a few
/// of them with durations, which keeps the arithmetic below free of overflow checks.
type Ns = i128;

const NANOS_PER_DAY: Ns = 86_400 * 1_000_000_000;

fn nanos(t: Timestamp) -> Ns {
    t.as_nanosecond()
}

fn timestamp(n: Ns) -> Option<Timestamp> {
    Timestamp::from_nanosecond(n).ok()
}

fn team_slot(s: Ns, duration: Ns, hosts: Vec<UserId>) -> Option<TeamSlot> {
    Some(TeamSlot {
        start: timestamp(s)?,
        end: timestamp(s + duration)?,
        hosts,
    })
}

fn sorted_ids(hosts: &[HostSchedule]) -> Vec<UserId> {
    let mut ids: Vec<UserId> = hosts.iter().map(|h| h.host).collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

fn host_slot_nanos(
    host: &HostSchedule,
    rules: &SlotRules,
    now: Timestamp,
    range: Interval,
) -> Vec<Ns> {
    let Some(limits) = Limits::new(rules, now) else {
        return Vec::new();
    };
    let Some((lo, hi)) = limits.clamp(range) else {
        return Vec::new();
    };
    let host = Prepared::new(host, rules.daily_limit, lo, hi);
    let mut starts = Vec::new();
    limits.each_start(&host.windows, lo, hi, |s| {
        if limits.free(&host, s) {
            starts.push(s);
        }
    });
    starts
}

/// Every host of a Collective event prepared for `[lo, hi)`.
struct Team {
    hosts: Vec<Prepared>,
    /// The windows in which all of them work.
    windows: Vec<(Ns, Ns)>,
}

impl Team {
    /// `None` without hosts: nobody to meet means nothing to offer.
    fn new(hosts: &[HostSchedule], rules: &SlotRules, lo: Ns, hi: Ns) -> Option<Self> {
        let prepared: Vec<Prepared> = hosts
            .iter()
            .map(|h| Prepared::new(h, rules.daily_limit, lo, hi))
            .collect();
        let (first, rest) = prepared.split_first()?;
        let windows = rest
            .iter()
            .fold(first.windows.clone(), |acc, h| intersect(&acc, &h.windows));
        Some(Self {
            hosts: prepared,
            windows,
        })
    }

    fn free(&self, limits: &Limits, s: Ns) -> bool {
        self.hosts.iter().all(|h| limits.free(h, s))
    }
}

/// The rules made absolute for one `now`.
struct Limits {
    duration: Ns,
    step: Ns,
    before: Ns,
    after: Ns,
    earliest: Ns,
    latest: Ns,
}

impl Limits {
    fn new(rules: &SlotRules, now: Timestamp) -> Option<Self> {
        let duration = rules.duration.as_nanos();
        let step = rules.interval.as_nanos();
        if duration <= 0 || step <= 0 {
            return None;
        }
        let now = nanos(now);
        Some(Self {
            duration,
            step,
            before: rules.buffer_before.as_nanos().max(0),
            after: rules.buffer_after.as_nanos().max(0),
            earliest: now + rules.min_notice.as_nanos().max(0),
            latest: now + Ns::from(rules.window_days) * NANOS_PER_DAY,
        })
    }

    fn in_time(&self, s: Ns) -> bool {
        self.earliest <= s && s < self.latest
    }

    /// The part of `range` in which starts may fall, if any.
    fn clamp(&self, range: Interval) -> Option<(Ns, Ns)> {
        let lo = nanos(range.start).max(self.earliest);
        let hi = nanos(range.end).min(self.latest);
        (lo < hi).then_some((lo, hi))
    }

    /// Calls `f` with every grid start in `[lo, hi)` whose meeting fits its window, in
    /// ascending order (the windows are sorted and disjoint).
    fn each_start(&self, windows: &[(Ns, Ns)], lo: Ns, hi: Ns, mut f: impl FnMut(Ns)) {
        let first = windows.partition_point(|&(_, we)| we <= lo);
        for &(ws, we) in windows[first..].iter().take_while(|&&(ws, _)| ws < hi) {
            // Jump straight to the first grid point at or after `lo`.
            let skip = if lo > ws {
                (lo - ws + self.step - 1) / self.step
            } else {
                0
            };
            let mut s = ws + skip * self.step;
            while s < hi && s + self.duration <= we {
                f(s);
                s += self.step;
            }
        }
    }

    /// The window containing `s`, if the meeting starting there fits inside it.
    fn window_for(&self, windows: &[(Ns, Ns)], s: Ns) -> Option<(Ns, Ns)> {
        let i = windows.partition_point(|&(ws, _)| ws <= s);
        let &(ws, we) = windows.get(i.checked_sub(1)?)?;
        (s + self.duration <= we).then_some((ws, we))
    }

    fn fits(&self, windows: &[(Ns, Ns)], s: Ns) -> bool {
        self.window_for(windows, s).is_some()
    }

    fn on_grid(&self, windows: &[(Ns, Ns)], s: Ns) -> bool {
        self.window_for(windows, s)
            .is_some_and(|(ws, _)| (s - ws) % self.step == 0)
    }

    /// Nothing in the way of a meeting at `s`, buffers included, and its day not full.
    fn free(&self, host: &Prepared, s: Ns) -> bool {
        let from = s - self.before;
        let to = s + self.duration + self.after;
        !overlaps_any(&host.blocked, from, to) && !overlaps_any(&host.full_days, s, s + 1)
    }
}

/// One host's inputs reduced to sorted, disjoint lists of instants.
struct Prepared {
    /// Working-hours windows.
    windows: Vec<(Ns, Ns)>,
    /// Busy times and bookings, merged.
    blocked: Vec<(Ns, Ns)>,
    /// Local days that already hold `daily_limit` bookings.
    full_days: Vec<(Ns, Ns)>,
}

impl Prepared {
    fn new(host: &HostSchedule, daily_limit: Option<u32>, lo: Ns, hi: Ns) -> Self {
        let days = local_days(&host.time_zone, lo, hi);
        let blocked = merge(
            host.busy
                .iter()
                .chain(&host.bookings)
                .map(|i| (nanos(i.start), nanos(i.end)))
                .collect(),
        );
        let full_days = match daily_limit {
            Some(limit) => full_days(&host.bookings, &days, limit),
            None => Vec::new(),
        };
        Self {
            windows: working_windows(host, &days),
            blocked,
            full_days,
        }
    }
}

/// Consecutive local dates around `[lo, hi)` with the instant each one starts; the last
/// entry only marks where the day before it ends. One extra date on each side because
/// a date's hours can begin before `lo` in UTC terms and still reach into it.
fn local_days(tz: &TimeZone, lo: Ns, hi: Ns) -> Vec<(Date, Ns)> {
    let local_date = |n: Ns| timestamp(n).map(|t| tz.to_datetime(t).date());
    let (Some(first), Some(last)) = (local_date(lo), local_date(hi)) else {
        return Vec::new();
    };
    let first = first.yesterday().unwrap_or(first);
    // Two dates past `hi`'s: the one after it, and the end marker for that one.
    let end = last.tomorrow().and_then(|d| d.tomorrow()).unwrap_or(last);
    let mut days = Vec::new();
    let mut date = first;
    loop {
        match tz.to_timestamp(date.to_datetime(Time::midnight())) {
            Ok(start) => days.push((date, nanos(start))),
            Err(_) => break,
        }
        match date.tomorrow() {
            Ok(next) if date < end => date = next,
            _ => break,
        }
    }
    days
}

fn working_windows(host: &HostSchedule, days: &[(Date, Ns)]) -> Vec<(Ns, Ns)> {
    let tz = &host.time_zone;
    let at = |date: Date, time: Time| tz.to_timestamp(date.to_datetime(time)).ok().map(nanos);
    let mut windows = Vec::new();
    for pair in days.windows(2) {
        let ((date, _), (_, next_day)) = (pair[0], pair[1]);
        for range in host.hours_on(date) {
            let start = at(date, range.start());
            // 24:00 is the moment the next local day starts, whatever the clock does.
            let end = match range.end() {
                Some(time) => at(date, time),
                None => Some(next_day),
            };
            if let (Some(start), Some(end)) = (start, end) {
                // A range inside a spring-forward gap can collapse to nothing.
                if start < end {
                    windows.push((start, end));
                }
            }
        }
    }
    windows.sort_unstable();
    // Overlaps only arise when a gap pushes a start past a later range's start; merging
    // keeps the windows disjoint, so slots stay unique without a final sort.
    let mut merged: Vec<(Ns, Ns)> = Vec::with_capacity(windows.len());
    for (s, e) in windows {
        match merged.last_mut() {
            Some(last) if s < last.1 => last.1 = last.1.max(e),
            _ => merged.push((s, e)),
        }
    }
    merged
}

/// Sorts and merges intervals (touching ones too); empty ones are dropped.
fn merge(mut intervals: Vec<(Ns, Ns)>) -> Vec<(Ns, Ns)> {
    intervals.retain(|(s, e)| s < e);
    intervals.sort_unstable();
    let mut merged: Vec<(Ns, Ns)> = Vec::with_capacity(intervals.len());
    for (s, e) in intervals {
        match merged.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => merged.push((s, e)),
        }
    }
    merged
}

/// The local days (as instants) on which `limit` or more bookings start.
fn full_days(bookings: &[Interval], days: &[(Date, Ns)], limit: u32) -> Vec<(Ns, Ns)> {
    let Some(&(_, end)) = days.last() else {
        return Vec::new();
    };
    let Some(&(_, begin)) = days.first() else {
        return Vec::new();
    };
    let mut counts = vec![0u32; days.len()];
    for booking in bookings {
        let b = nanos(booking.start);
        if begin <= b && b < end {
            let day = days
                .partition_point(|&(_, start)| start <= b)
                .checked_sub(1);
            if let Some(count) = day.and_then(|i| counts.get_mut(i)) {
                *count = count.saturating_add(1);
            }
        }
    }
    days.windows(2)
        .zip(counts)
        .filter(|&(pair, count)| count >= limit && pair[0].1 < pair[1].1)
        .map(|(pair, _)| (pair[0].1, pair[1].1))
        .collect()
}

/// Whether `[from, to)` overlaps any interval of a sorted, disjoint list.
fn overlaps_any(list: &[(Ns, Ns)], from: Ns, to: Ns) -> bool {
    let i = list.partition_point(|&(_, end)| end <= from);
    list.get(i).is_some_and(|&(start, _)| start < to)
}

/// Intersection of two sorted, disjoint lists.
fn intersect(a: &[(Ns, Ns)], b: &[(Ns, Ns)]) -> Vec<(Ns, Ns)> {
    let mut out = Vec::new();
    let (mut i, mut j) = (0, 0);
    while let (Some(&(a0, a1)), Some(&(b0, b1))) = (a.get(i), b.get(j)) {
        let (s, e) = (a0.max(b0), a1.min(b1));
        if s < e {
            out.push((s, e));
        }
        if a1 < b1 {
            i += 1;
        } else {
            j += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::{date, time};

    fn mins(n: i64) -> SignedDuration {
        SignedDuration::from_mins(n)
    }

    fn utc(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn host(zone: &str, hours: &str) -> HostSchedule {
        HostSchedule {
            weekly: hours.parse().unwrap(),
            ..HostSchedule::new(UserId::new(), TimeZone::get(zone).unwrap())
        }
    }

    /// Far enough before every test date that notice and window never get in the way.
    fn early() -> Timestamp {
        utc("2026-01-01T00:00:00Z")
    }

    fn rules(duration: i64) -> SlotRules {
        SlotRules {
            window_days: 400,
            ..SlotRules::new(mins(duration))
        }
    }

    fn iv(start: &str, end: &str) -> Interval {
        Interval::new(utc(start), utc(end)).unwrap()
    }

    /// Local midnight of `first` to local midnight `days` later, in the host's zone.
    fn local_days(host: &HostSchedule, first: Date, days: i64) -> Interval {
        let start = first.to_zoned(host.time_zone.clone()).unwrap();
        let end = start.checked_add(jiff::Span::new().days(days)).unwrap();
        Interval::new(start.timestamp(), end.timestamp()).unwrap()
    }

    fn slots_on(host: &HostSchedule, rules: &SlotRules, day: Date) -> Vec<Timestamp> {
        host_slots(host, rules, early(), local_days(host, day, 1))
    }

    fn local(host: &HostSchedule, t: Timestamp) -> Time {
        t.to_zoned(host.time_zone.clone()).time()
    }

    #[test]
    fn a_basic_day() {
        let h = host("UTC", "mon-fri 09:00-17:00");
        let slots = slots_on(&h, &rules(30), date(2026, 3, 9));
        assert_eq!(slots.len(), 16);
        assert_eq!(slots[0], utc("2026-03-09T09:00:00Z"));
        assert_eq!(slots[15], utc("2026-03-09T16:30:00Z"));
        assert!(slots
            .windows(2)
            .all(|w| w[1].duration_since(w[0]) == mins(30)));
        assert!(slots_on(&h, &rules(30), date(2026, 3, 14)).is_empty());
    }

    #[test]
    fn starts_align_to_the_window_not_the_range() {
        let h = host("UTC", "mon 09:00-17:00");
        let range = iv("2026-03-09T09:10:00Z", "2026-03-09T10:30:00Z");
        assert_eq!(
            host_slots(&h, &rules(30), early(), range),
            [utc("2026-03-09T09:30:00Z"), utc("2026-03-09T10:00:00Z")]
        );
    }

    #[test]
    fn buffers_keep_distance_from_busy_times_and_bookings() {
        let day = date(2026, 3, 9);
        let busy = iv("2026-03-09T10:00:00Z", "2026-03-09T11:00:00Z");
        let expect = |h: &HostSchedule, r: &SlotRules, present: &[&str], absent: &[&str]| {
            let slots = slots_on(h, r, day);
            for p in present {
                assert!(slots.contains(&utc(p)), "{p} missing from {slots:?}");
            }
            for a in absent {
                assert!(!slots.contains(&utc(a)), "{a} offered: {slots:?}");
            }
        };
        let mut h = host("UTC", "mon 09:00-17:00");
        h.busy.push(busy);
        let plain = rules(30);
        let buffered = SlotRules {
            buffer_before: mins(15),
            buffer_after: mins(15),
            ..plain
        };
        expect(
            &h,
            &plain,
            &["2026-03-09T09:30:00Z", "2026-03-09T11:00:00Z"],
            &["2026-03-09T10:00:00Z", "2026-03-09T10:30:00Z"],
        );
        expect(
            &h,
            &buffered,
            &["2026-03-09T09:00:00Z", "2026-03-09T11:30:00Z"],
            &[
                "2026-03-09T09:30:00Z",
                "2026-03-09T10:30:00Z",
                "2026-03-09T11:00:00Z",
            ],
        );
        // A booking blocks exactly like a calendar busy time.
        h.bookings = std::mem::take(&mut h.busy);
        expect(
            &h,
            &buffered,
            &["2026-03-09T09:00:00Z", "2026-03-09T11:30:00Z"],
            &["2026-03-09T09:30:00Z", "2026-03-09T11:00:00Z"],
        );
    }

    #[test]
    fn min_notice() {
        let h = host("UTC", "mon 09:00-17:00");
        let r = SlotRules {
            min_notice: mins(120),
            ..rules(30)
        };
        let now = utc("2026-03-09T10:10:00Z");
        let range = local_days(&h, date(2026, 3, 9), 1);
        let slots = host_slots(&h, &r, now, range);
        assert_eq!(slots[0], utc("2026-03-09T12:30:00Z"));
        assert_eq!(slots.len(), 9);
        assert!(!host_can_take(&h, &r, now, utc("2026-03-09T12:00:00Z")));
        assert!(host_can_take(&h, &r, now, utc("2026-03-09T12:30:00Z")));
    }

    #[test]
    fn booking_window() {
        let h = host("UTC", "mon-sun 09:00-17:00");
        let r = SlotRules {
            window_days: 2,
            ..rules(30)
        };
        let now = utc("2026-03-09T00:00:00Z");
        let slots = host_slots(&h, &r, now, local_days(&h, date(2026, 3, 8), 7));
        assert_eq!(slots.len(), 32);
        assert_eq!(slots.last(), Some(&utc("2026-03-10T16:30:00Z")));
        let none = SlotRules {
            window_days: 0,
            ..r
        };
        assert!(host_slots(&h, &none, now, local_days(&h, date(2026, 3, 8), 7)).is_empty());
    }

    #[test]
    fn daily_limit_counts_bookings_by_the_hosts_local_date() {
        let mut h = host("America/New_York", "mon-fri 09:00-17:00");
        // Monday 22:00 in New York, already Tuesday in UTC.
        h.bookings
            .push(iv("2026-03-10T02:00:00Z", "2026-03-10T02:30:00Z"));
        let r = SlotRules {
            daily_limit: Some(1),
            ..rules(30)
        };
        assert!(slots_on(&h, &r, date(2026, 3, 9)).is_empty());
        assert_eq!(slots_on(&h, &r, date(2026, 3, 10)).len(), 16);
        let two = SlotRules {
            daily_limit: Some(2),
            ..r
        };
        // The booking is outside working hours, so nothing else is blocked.
        assert_eq!(slots_on(&h, &two, date(2026, 3, 9)).len(), 16);
        let zero = SlotRules {
            daily_limit: Some(0),
            ..r
        };
        assert!(slots_on(&h, &zero, date(2026, 3, 10)).is_empty());
    }

    #[test]
    fn overrides_take_a_day_off_or_change_its_hours() {
        let mut h = host("UTC", "mon-fri 09:00-17:00");
        h.overrides.set(date(2026, 3, 9), vec![]).unwrap();
        h.overrides
            .set(date(2026, 3, 10), vec!["10:00-12:00".parse().unwrap()])
            .unwrap();
        h.overrides
            .set(date(2026, 3, 14), vec!["10:00-11:00".parse().unwrap()])
            .unwrap();
        let r = rules(30);
        assert!(slots_on(&h, &r, date(2026, 3, 9)).is_empty());
        let tuesday = slots_on(&h, &r, date(2026, 3, 10));
        assert_eq!(tuesday.len(), 4);
        assert_eq!(tuesday[0], utc("2026-03-10T10:00:00Z"));
        assert_eq!(slots_on(&h, &r, date(2026, 3, 11)).len(), 16);
        // A Saturday override adds hours to a day that normally has none.
        assert_eq!(slots_on(&h, &r, date(2026, 3, 14)).len(), 2);
    }

    #[test]
    fn interval_smaller_or_larger_than_duration() {
        let h = host("UTC", "mon 09:00-17:00");
        let overlapping = SlotRules {
            interval: mins(15),
            ..rules(60)
        };
        let slots = slots_on(&h, &overlapping, date(2026, 3, 9));
        assert_eq!(slots.len(), 29);
        assert_eq!(slots.last(), Some(&utc("2026-03-09T16:00:00Z")));
        let sparse = SlotRules {
            interval: mins(60),
            ..rules(30)
        };
        assert_eq!(slots_on(&h, &sparse, date(2026, 3, 9)).len(), 8);
        let nothing = SlotRules {
            interval: SignedDuration::ZERO,
            ..rules(30)
        };
        assert!(slots_on(&h, &nothing, date(2026, 3, 9)).is_empty());
    }

    #[test]
    fn ranges_ending_at_midnight() {
        let h = host("UTC", "mon 22:00-24:00; tue 00:00-01:00");
        let slots = host_slots(
            &h,
            &rules(60),
            early(),
            iv("2026-03-09T00:00:00Z", "2026-03-11T00:00:00Z"),
        );
        assert_eq!(
            slots,
            [
                utc("2026-03-09T22:00:00Z"),
                utc("2026-03-09T23:00:00Z"),
                utc("2026-03-10T00:00:00Z")
            ]
        );
        // Saturday before the spring-forward night in New York: 24:00 is 05:00Z.
        let ny = host("America/New_York", "sat 22:00-24:00");
        let slots = slots_on(&ny, &rules(60), date(2026, 3, 7));
        assert_eq!(
            slots,
            [utc("2026-03-08T03:00:00Z"), utc("2026-03-08T04:00:00Z")]
        );
    }

    #[test]
    fn touching_ranges_stay_separate_windows() {
        // Someone who writes two ranges means two blocks; a meeting may not straddle them.
        let h = host("UTC", "mon 09:00-10:00,10:00-11:00");
        assert_eq!(
            slots_on(&h, &rules(45), date(2026, 3, 9)),
            [utc("2026-03-09T09:00:00Z"), utc("2026-03-09T10:00:00Z")]
        );
        assert!(slots_on(&h, &rules(90), date(2026, 3, 9)).is_empty());
        assert_eq!(
            host_windows(&h, local_days(&h, date(2026, 3, 9), 1)).len(),
            2
        );
    }

    /// Each day's slots run 09:00–16:30 local; returns each day's first slot.
    fn nine_to_five_days(zone: &str, first: Date, days: usize) -> Vec<Timestamp> {
        let h = host(zone, "mon-sun 09:00-17:00");
        let slots = host_slots(&h, &rules(30), early(), local_days(&h, first, days as i64));
        assert_eq!(slots.len(), 16 * days, "{zone} from {first}");
        for day in slots.chunks(16) {
            for (i, slot) in day.iter().enumerate() {
                let expected = time(9, 0, 0, 0).wrapping_add(mins(30 * i as i64));
                assert_eq!(local(&h, *slot), expected, "{zone} {slot}");
            }
        }
        slots.chunks(16).map(|day| day[0]).collect()
    }

    #[test]
    fn new_york_spring_forward() {
        assert_eq!(
            nine_to_five_days("America/New_York", date(2026, 3, 7), 3),
            [
                utc("2026-03-07T14:00:00Z"),
                utc("2026-03-08T13:00:00Z"),
                utc("2026-03-09T13:00:00Z")
            ]
        );
        // 01:00–03:00 on the change day is one real hour; 02:xx never exists.
        let h = host("America/New_York", "sun 01:00-03:00");
        let slots = slots_on(&h, &rules(30), date(2026, 3, 8));
        assert_eq!(
            slots,
            [utc("2026-03-08T06:00:00Z"), utc("2026-03-08T06:30:00Z")]
        );
        assert!(slots.iter().all(|s| local(&h, *s).hour() == 1));
        // Hours lying wholly inside the gap move later, as a clock would.
        let h = host("America/New_York", "sun 02:00-02:30");
        assert_eq!(
            slots_on(&h, &rules(30), date(2026, 3, 8)),
            [utc("2026-03-08T07:00:00Z")]
        );
    }

    #[test]
    fn new_york_fall_back() {
        assert_eq!(
            nine_to_five_days("America/New_York", date(2026, 10, 31), 3),
            [
                utc("2026-10-31T13:00:00Z"),
                utc("2026-11-01T14:00:00Z"),
                utc("2026-11-02T14:00:00Z")
            ]
        );
        // 01:00–02:00 on the change day lasts two real hours, stepped in absolute time.
        let h = host("America/New_York", "sun 01:00-02:00");
        assert_eq!(
            slots_on(&h, &rules(30), date(2026, 11, 1)),
            [
                utc("2026-11-01T05:00:00Z"),
                utc("2026-11-01T05:30:00Z"),
                utc("2026-11-01T06:00:00Z"),
                utc("2026-11-01T06:30:00Z")
            ]
        );
    }

    #[test]
    fn sydney_southern_hemisphere() {
        assert_eq!(
            nine_to_five_days("Australia/Sydney", date(2026, 4, 4), 2),
            [utc("2026-04-03T22:00:00Z"), utc("2026-04-04T23:00:00Z")]
        );
        assert_eq!(
            nine_to_five_days("Australia/Sydney", date(2026, 10, 3), 2),
            [utc("2026-10-02T23:00:00Z"), utc("2026-10-03T22:00:00Z")]
        );
    }

    #[test]
    fn half_hour_zones() {
        assert_eq!(
            nine_to_five_days("Asia/Kolkata", date(2026, 3, 8), 2),
            [utc("2026-03-08T03:30:00Z"), utc("2026-03-09T03:30:00Z")]
        );
        assert_eq!(
            nine_to_five_days("Australia/Adelaide", date(2026, 4, 4), 2),
            [utc("2026-04-03T22:30:00Z"), utc("2026-04-04T23:30:00Z")]
        );
        assert_eq!(
            nine_to_five_days("Australia/Adelaide", date(2026, 10, 3), 2),
            [utc("2026-10-02T23:30:00Z"), utc("2026-10-03T22:30:00Z")]
        );
    }

    #[test]
    fn host_can_take_rechecks_one_start() {
        let mut h = host("UTC", "mon 09:00-17:00");
        let r = rules(30);
        assert!(host_can_take(&h, &r, early(), utc("2026-03-09T09:00:00Z")));
        assert!(!host_can_take(&h, &r, early(), utc("2026-03-09T09:10:00Z")));
        assert!(host_is_free(&h, &r, early(), utc("2026-03-09T09:10:00Z")));
        assert!(!host_can_take(&h, &r, early(), utc("2026-03-09T16:45:00Z")));
        assert!(!host_is_free(&h, &r, early(), utc("2026-03-09T16:45:00Z")));
        h.bookings
            .push(iv("2026-03-09T09:00:00Z", "2026-03-09T09:30:00Z"));
        assert!(!host_can_take(&h, &r, early(), utc("2026-03-09T09:00:00Z")));
        assert!(host_can_take(&h, &r, early(), utc("2026-03-09T09:30:00Z")));
    }

    #[test]
    fn round_robin_lists_who_is_free() {
        let a = host("UTC", "mon 09:00-11:00");
        let mut b = host("UTC", "mon 10:00-12:00");
        b.busy
            .push(iv("2026-03-09T10:00:00Z", "2026-03-09T10:30:00Z"));
        let slots = round_robin_slots(
            &[b.clone(), a.clone()],
            &rules(30),
            early(),
            local_days(&a, date(2026, 3, 9), 1),
        );
        let summary: Vec<(String, Vec<UserId>)> = slots
            .iter()
            .map(|s| {
                assert_eq!(s.end.duration_since(s.start), mins(30));
                (local(&a, s.start).to_string(), s.hosts.clone())
            })
            .collect();
        let t = |s: &str| s.to_string();
        assert_eq!(
            summary,
            [
                (t("09:00:00"), vec![a.host]),
                (t("09:30:00"), vec![a.host]),
                (t("10:00:00"), vec![a.host]),
                (t("10:30:00"), vec![a.host, b.host]),
                (t("11:00:00"), vec![b.host]),
                (t("11:30:00"), vec![b.host]),
            ]
        );
    }

    #[test]
    fn collective_aligns_to_shared_hours() {
        let a = host("UTC", "mon 09:00-17:00");
        let b = host("Europe/London", "mon 09:10-12:00");
        let hosts = [a.clone(), b.clone()];
        let r = rules(30);
        let slots = collective_slots(&hosts, &r, early(), local_days(&a, date(2026, 3, 9), 1));
        let starts: Vec<Timestamp> = slots.iter().map(|s| s.start).collect();
        assert_eq!(
            starts,
            ["09:10", "09:40", "10:10", "10:40", "11:10"]
                .map(|t| utc(&format!("2026-03-09T{t}:00Z")))
        );
        let mut ids = vec![a.host, b.host];
        ids.sort();
        assert!(slots.iter().all(|s| s.hosts == ids));
        for s in &starts {
            assert!(collective_can_take(&hosts, &r, early(), *s));
            assert!(host_is_free(&a, &r, early(), *s) && host_is_free(&b, &r, early(), *s));
        }
        assert!(!collective_can_take(
            &hosts,
            &r,
            early(),
            utc("2026-03-09T09:00:00Z")
        ));
        assert!(collective_slots(&[], &r, early(), local_days(&a, date(2026, 3, 9), 1)).is_empty());
        // One host busy removes the start for everyone.
        let mut busy_b = b;
        busy_b
            .busy
            .push(iv("2026-03-09T09:40:00Z", "2026-03-09T10:00:00Z"));
        let slots = collective_slots(
            &[a.clone(), busy_b],
            &r,
            early(),
            local_days(&a, date(2026, 3, 9), 1),
        );
        assert_eq!(slots.len(), 4);
    }
}
