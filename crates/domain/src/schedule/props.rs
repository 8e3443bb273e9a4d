//! Property tests for the scheduling core. Random hours, zones (several with DST or
//! half-hour offsets), calendars and rules are checked against brute-force statements
//! of the rules, not against the shortcuts (merging, binary search, day boundaries)
//! the implementation takes.

use super::hours::tests::weekly_hours;
use super::*;
use crate::ids::UserId;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;
use std::collections::BTreeSet;

const ZONES: [&str; 7] = [
    "UTC",
    "America/New_York",
    "Europe/London",
    "Australia/Sydney",
    "Asia/Kolkata",
    "Australia/Adelaide",
    // Changes its clocks at midnight, so whole local days start at odd instants.
    "America/Santiago",
];

/// A few days before DST changes in either hemisphere, so ranges often cross one.
const ANCHORS: [&str; 5] = [
    "2026-03-06T00:00:00Z",
    "2026-03-27T00:00:00Z",
    "2026-04-02T00:00:00Z",
    "2026-09-03T00:00:00Z",
    "2026-10-30T00:00:00Z",
];

const STEP_MINUTES: i64 = 5;

fn mins(n: i64) -> SignedDuration {
    SignedDuration::from_mins(n)
}

fn anchor(i: usize) -> Timestamp {
    ANCHORS[i].parse().unwrap()
}

/// One day's ranges: distinct sorted quarter-hours paired up, so always valid.
fn day_ranges() -> impl Strategy<Value = Vec<TimeRange>> {
    proptest::collection::btree_set(0u16..=96, 0..=4).prop_map(|points| {
        let points: Vec<u16> = points.into_iter().collect();
        points
            .chunks_exact(2)
            .map(|p| TimeRange::from_minutes(p[0] * 15, p[1] * 15).unwrap())
            .collect()
    })
}

/// Intervals at 5-minute granularity, from a day before the anchor to 6 days after.
fn intervals(base: Timestamp, max: usize) -> impl Strategy<Value = Vec<Interval>> {
    proptest::collection::vec((0i64..7 * 288, 1i64..=60), 0..=max).prop_map(move |v| {
        v.into_iter()
            .map(|(at, len)| {
                let start = base + mins((at - 288) * STEP_MINUTES);
                Interval::new(start, start + mins(len * STEP_MINUTES)).unwrap()
            })
            .collect()
    })
}

fn host_schedule(base: Timestamp) -> impl Strategy<Value = HostSchedule> {
    (
        weekly_hours(),
        0..ZONES.len(),
        proptest::collection::vec((0i64..6, day_ranges()), 0..=3),
        intervals(base, 12),
        intervals(base, 12),
    )
        .prop_map(move |(weekly, zone, overrides, busy, bookings)| {
            let time_zone = TimeZone::get(ZONES[zone]).unwrap();
            let first = time_zone.to_datetime(base).date();
            let mut host = HostSchedule {
                weekly,
                busy,
                bookings,
                ..HostSchedule::new(UserId::new(), time_zone)
            };
            for (offset, ranges) in overrides {
                let date = first.checked_add(jiff::Span::new().days(offset)).unwrap();
                host.overrides.set(date, ranges).unwrap();
            }
            host
        })
}

fn slot_rules() -> impl Strategy<Value = SlotRules> {
    (
        prop::sample::select(vec![15i64, 20, 30, 45, 60, 90]),
        prop::sample::select(vec![5i64, 10, 15, 30, 60]),
        0i64..=4,
        0i64..=4,
        0i64..=48,
        0i64..=6,
        prop::option::of(0u32..=3),
    )
        .prop_map(
            |(duration, interval, before, after, notice, window_days, daily_limit)| SlotRules {
                duration: mins(duration),
                interval: mins(interval),
                buffer_before: mins(before * 5),
                buffer_after: mins(after * 5),
                min_notice: mins(notice * 30),
                window_days,
                daily_limit,
            },
        )
}

/// Everything but the hosts: `now`, the asked range and the rules.
#[derive(Debug, Clone)]
struct Ask {
    now: Timestamp,
    range: Interval,
    rules: SlotRules,
}

fn ask(base: Timestamp) -> impl Strategy<Value = Ask> {
    (0i64..3 * 288, 0i64..3 * 288, 12i64..=2 * 288, slot_rules()).prop_map(
        move |(now, from, len, rules)| {
            let start = base + mins(from * STEP_MINUTES);
            Ask {
                now: base + mins(now * STEP_MINUTES),
                range: Interval::new(start, start + mins(len * STEP_MINUTES)).unwrap(),
                rules,
            }
        },
    )
}

fn one_host() -> impl Strategy<Value = (HostSchedule, Ask)> {
    (0..ANCHORS.len()).prop_flat_map(|a| (host_schedule(anchor(a)), ask(anchor(a))))
}

fn team() -> impl Strategy<Value = (Vec<HostSchedule>, Ask)> {
    (0..ANCHORS.len()).prop_flat_map(|a| {
        (
            proptest::collection::vec(host_schedule(anchor(a)), 1..=3),
            ask(anchor(a)),
        )
    })
}

/// 5-minute points across the range: every start any rule here can produce.
fn probes(ask: &Ask) -> impl Iterator<Item = Timestamp> + '_ {
    let steps = ask.range.duration().as_secs() / (STEP_MINUTES * 60);
    (0..steps).map(move |i| ask.range.start + mins(i * STEP_MINUTES))
}

fn local_date(host: &HostSchedule, t: Timestamp) -> Date {
    host.time_zone.to_datetime(t).date()
}

/// The rules, stated directly, for a start already known to fit a window.
fn brute_force_ok(host: &HostSchedule, ask: &Ask, start: Timestamp) -> bool {
    let r = &ask.rules;
    let within = start >= ask.now + r.min_notice
        && start < ask.now + SignedDuration::from_hours(24 * r.window_days)
        && ask.range.contains(start);
    let guarded =
        Interval::new(start - r.buffer_before, start + r.duration + r.buffer_after).unwrap();
    let clear = host
        .busy
        .iter()
        .chain(&host.bookings)
        .all(|b| !b.overlaps(&guarded));
    let under_limit = r.daily_limit.is_none_or(|limit| {
        let day = local_date(host, start);
        let same_day = host
            .bookings
            .iter()
            .filter(|b| local_date(host, b.start) == day)
            .count();
        same_day < limit as usize
    });
    within && clear && under_limit
}

/// Grid starts of every working-hours window (the slot candidates), in the range.
fn grid(host: &HostSchedule, ask: &Ask) -> Vec<Timestamp> {
    let mut out = Vec::new();
    for w in host_windows(host, ask.range) {
        let mut s = w.start;
        while s + ask.rules.duration <= w.end {
            if ask.range.contains(s) {
                out.push(s);
            }
            s += ask.rules.interval;
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn host_slots_follow_the_rules((host, ask) in one_host()) {
        let rules = &ask.rules;
        let slots = host_slots(&host, rules, ask.now, ask.range);
        prop_assert!(slots.windows(2).all(|w| w[0] < w[1]), "not ascending and unique");

        let windows = host_windows(&host, ask.range);
        for &s in &slots {
            let end = s + rules.duration;
            let inside = windows.iter().find(|w| w.start <= s && end <= w.end);
            prop_assert!(inside.is_some(), "{s} outside every window {windows:?}");
            let offset = s.duration_since(inside.unwrap().start).as_secs();
            prop_assert_eq!(offset % rules.interval.as_secs(), 0, "{} off the grid", s);
            prop_assert!(brute_force_ok(&host, &ask, s), "{s} breaks a rule");
            prop_assert!(host_is_free(&host, rules, ask.now, s));
        }

        // Nothing that satisfies every rule is left out.
        let offered: BTreeSet<Timestamp> = slots.iter().copied().collect();
        for g in grid(&host, &ask) {
            prop_assert_eq!(offered.contains(&g), brute_force_ok(&host, &ask, g), "{}", g);
        }

        for p in probes(&ask) {
            prop_assert_eq!(
                host_can_take(&host, rules, ask.now, p),
                offered.contains(&p),
                "host_can_take disagrees at {}", p
            );
        }
    }

    #[test]
    fn team_slots_only_offer_what_hosts_can_take((hosts, ask) in team()) {
        let rules = &ask.rules;
        let mut union = BTreeSet::new();
        for h in &hosts {
            for s in host_slots(h, rules, ask.now, ask.range) {
                union.insert((s, h.host));
            }
        }

        let round_robin = round_robin_slots(&hosts, rules, ask.now, ask.range);
        prop_assert!(round_robin.windows(2).all(|w| w[0].start < w[1].start));
        let mut seen = BTreeSet::new();
        for slot in &round_robin {
            prop_assert!(!slot.hosts.is_empty());
            prop_assert!(slot.hosts.windows(2).all(|w| w[0] < w[1]));
            prop_assert_eq!(slot.end, slot.start + rules.duration);
            for id in &slot.hosts {
                let host = hosts.iter().find(|h| h.host == *id).unwrap();
                prop_assert!(host_can_take(host, rules, ask.now, slot.start));
                seen.insert((slot.start, *id));
            }
        }
        prop_assert_eq!(&seen, &union);

        let collective = collective_slots(&hosts, rules, ask.now, ask.range);
        let mut everyone: Vec<UserId> = hosts.iter().map(|h| h.host).collect();
        everyone.sort();
        prop_assert!(collective.windows(2).all(|w| w[0].start < w[1].start));
        let offered: BTreeSet<Timestamp> = collective.iter().map(|s| s.start).collect();
        for slot in &collective {
            prop_assert_eq!(&slot.hosts, &everyone);
            for h in &hosts {
                prop_assert!(host_is_free(h, rules, ask.now, slot.start));
            }
        }
        for p in probes(&ask) {
            prop_assert_eq!(
                collective_can_take(&hosts, rules, ask.now, p),
                offered.contains(&p),
                "collective_can_take disagrees at {}", p
            );
        }
        if let [only] = hosts.as_slice() {
            let alone: Vec<Timestamp> = host_slots(only, rules, ask.now, ask.range);
            prop_assert_eq!(offered.into_iter().collect::<Vec<_>>(), alone);
        }
    }
}
