//! Gathering the scheduling core's inputs from the store and asking it for slots.

use super::availability::parse_hours;
use super::event_types::{view, EventTypeView};
use super::location::Unbookable;
use crate::calendars::busy::BusyResult;
use crate::error::{AppError, AppResult, NotFoundAs};
use crate::App;
use convene_domain::schedule::{
    self, DateOverrides, HostSchedule, Interval, SlotRules, TeamSlot, WeeklyHours,
};
use convene_domain::{BookingId, EventTypeKind, Timing, UserId};
use convene_store::{OrgRow, Tx};
use jiff::{SignedDuration, Timestamp};
use std::collections::HashMap;

/// The longest span one slots request may cover.
pub const MAX_RANGE_DAYS: i64 = 62;

#[derive(Debug, Clone)]
pub struct SlotsAnswer {
    pub event: EventTypeView,
    pub slots: Vec<TeamSlot>,
    /// Hosts left out because their meetings could not get a link, and why.
    pub unavailable: Vec<(UserId, String, Unbookable)>,
}

pub(crate) fn rules(t: &Timing) -> SlotRules {
    SlotRules {
        duration: t.duration(),
        interval: t.interval(),
        buffer_before: t.buffer_before(),
        buffer_after: t.buffer_after(),
        min_notice: t.min_notice(),
        window_days: t.window_days(),
        daily_limit: t.daily_limit().and_then(|l| u32::try_from(l).ok()),
    }
}

/// Each host's schedule around [from, to): hours, and bookings (other than `except`)
/// widened by a day on each side so buffers and daily limits at the edges are seen.
pub(crate) async fn host_schedules(
    tx: &mut Tx,
    event: &EventTypeView,
    hosts: &[UserId],
    from: Timestamp,
    to: Timestamp,
    except: Option<BookingId>,
) -> AppResult<Vec<HostSchedule>> {
    let (lo, hi) = widened(from, to)?;
    let mut by_host: HashMap<UserId, Vec<Interval>> = HashMap::new();
    for (host, booking, start, end) in tx.host_bookings(hosts, lo, hi).await? {
        if Some(booking) == except {
            continue;
        }
        if let Some(i) = Interval::new(start, end) {
            by_host.entry(host).or_default().push(i);
        }
    }
    schedules_with(tx, event, hosts, by_host).await
}

/// [from, to) widened by a day on each side, so buffers and daily limits at the edges
/// see the bookings just outside.
fn widened(from: Timestamp, to: Timestamp) -> AppResult<(Timestamp, Timestamp)> {
    let day = SignedDuration::from_hours(24);
    Ok((
        from.saturating_sub(day)
            .map_err(|e| AppError::Unexpected(e.into()))?,
        to.saturating_add(day)
            .map_err(|e| AppError::Unexpected(e.into()))?,
    ))
}

/// The hosts' schedules from their stored hours and the given bookings.
async fn schedules_with(
    tx: &mut Tx,
    event: &EventTypeView,
    hosts: &[UserId],
    mut by_host: HashMap<UserId, Vec<Interval>>,
) -> AppResult<Vec<HostSchedule>> {
    let stored = tx.availabilities(hosts).await?;
    let mut out = Vec::with_capacity(hosts.len());
    for host in hosts {
        let Some(h) = event.hosts.iter().find(|h| h.user.id == *host) else {
            continue;
        };
        let tz = jiff::tz::TimeZone::get(&h.user.time_zone).unwrap_or(jiff::tz::TimeZone::UTC);
        let (weekly, overrides) = match stored.iter().find(|(u, _, _)| u == host) {
            Some((_, weekly, overrides)) => parse_hours(*host, weekly, overrides)?,
            None => (WeeklyHours::business_hours(), DateOverrides::default()),
        };
        out.push(HostSchedule {
            host: *host,
            time_zone: tz,
            weekly,
            overrides,
            busy: Vec::new(),
            bookings: by_host.remove(host).unwrap_or_default(),
        });
    }
    Ok(out)
}

/// How long the booking page may reuse a host's bookings. Booking itself never uses
/// the cache (it re-checks under the hosts' lock), and this instance forgets a host's
/// entry when it books them, so the cost of a stale entry is a slot shown for a few
/// seconds that answers "just taken".
pub const BOOKINGS_TTL: SignedDuration = SignedDuration::from_secs(5);

struct CachedBookings {
    at: Timestamp,
    lo: Timestamp,
    hi: Timestamp,
    intervals: Vec<Interval>,
}

/// Per-instance cache of hosts' standing bookings, for the slot pages of large teams.
#[derive(Default)]
pub struct BookingsCache {
    entries: std::sync::Mutex<HashMap<UserId, CachedBookings>>,
}

impl BookingsCache {
    /// Forgets hosts whose bookings changed.
    pub fn invalidate(&self, hosts: &[UserId]) {
        if let Ok(mut m) = self.entries.lock() {
            for h in hosts {
                m.remove(h);
            }
        }
    }

    fn lookup(
        &self,
        hosts: &[UserId],
        lo: Timestamp,
        hi: Timestamp,
        now: Timestamp,
    ) -> (HashMap<UserId, Vec<Interval>>, Vec<UserId>) {
        let mut found = HashMap::new();
        let mut missing = Vec::new();
        let Ok(m) = self.entries.lock() else {
            return (found, hosts.to_vec());
        };
        for h in hosts {
            match m.get(h) {
                Some(e) if e.lo <= lo && e.hi >= hi && now.duration_since(e.at) <= BOOKINGS_TTL => {
                    found.insert(*h, e.intervals.clone());
                }
                _ => missing.push(*h),
            }
        }
        (found, missing)
    }

    fn store(
        &self,
        fetched: &HashMap<UserId, Vec<Interval>>,
        hosts: &[UserId],
        lo: Timestamp,
        hi: Timestamp,
        now: Timestamp,
    ) {
        if let Ok(mut m) = self.entries.lock() {
            for h in hosts {
                m.insert(
                    *h,
                    CachedBookings {
                        at: now,
                        lo,
                        hi,
                        intervals: fetched.get(h).cloned().unwrap_or_default(),
                    },
                );
            }
        }
    }
}

/// Puts calendar busy times into the schedules, and drops (returning them) the hosts
/// whose calendars cannot be read: unknown is never free.
pub(crate) fn apply_busy(
    schedules: &mut Vec<HostSchedule>,
    busy: &HashMap<UserId, BusyResult>,
) -> Vec<UserId> {
    let mut unreadable = Vec::new();
    schedules.retain_mut(|s| match busy.get(&s.host) {
        Some(Ok(b)) => {
            s.busy = b.clone();
            true
        }
        Some(Err(_)) => {
            unreadable.push(s.host);
            false
        }
        None => true,
    });
    unreadable
}

/// The hosts that can be offered (their meetings can get a link).
pub(crate) fn bookable_hosts(event: &EventTypeView) -> Vec<UserId> {
    event
        .hosts
        .iter()
        .filter(|h| h.location.is_ok())
        .map(|h| h.user.id)
        .collect()
}

pub(crate) fn compute(
    event: &EventTypeView,
    schedules: &[HostSchedule],
    now: Timestamp,
    range: Interval,
) -> Vec<TeamSlot> {
    let rules = rules(&event.timing);
    match event.row.kind {
        EventTypeKind::Personal | EventTypeKind::RoundRobin => {
            schedule::round_robin_slots(schedules, &rules, now, range)
        }
        // Every host must attend, so one host who cannot be booked closes the event.
        EventTypeKind::Collective if schedules.len() == event.hosts.len() => {
            schedule::collective_slots(schedules, &rules, now, range)
        }
        EventTypeKind::Collective => Vec::new(),
    }
}

pub(crate) fn parse_range(from: Timestamp, to: Timestamp) -> AppResult<Interval> {
    let range = Interval::new(from, to)
        .ok_or_else(|| AppError::invalid("to", "'to' must be after 'from'"))?;
    if range.duration() > SignedDuration::from_hours(24 * MAX_RANGE_DAYS) {
        return Err(AppError::invalid(
            "to",
            format!("ask for at most {MAX_RANGE_DAYS} days of slots at a time"),
        ));
    }
    Ok(range)
}

impl App {
    /// An active event type by its public address.
    pub async fn public_event_type(
        &self,
        org_slug: &str,
        slug: &str,
    ) -> AppResult<(OrgRow, EventTypeView)> {
        let mut tx = self.store.read().await?;
        let org = tx
            .org_by_slug(org_slug)
            .await
            .or_not_found("booking page")?;
        let row = tx
            .event_type_by_slug(org.id, slug)
            .await
            .or_not_found("booking page")?;
        if !row.active {
            return Err(AppError::NotFound("booking page"));
        }
        let v = view(&mut tx, row).await?;
        Ok((org, v))
    }

    /// An active event type by id, for the public slots API.
    pub async fn public_event_type_by_id(
        &self,
        id: convene_domain::EventTypeId,
    ) -> AppResult<EventTypeView> {
        let mut tx = self.store.read().await?;
        let row = tx
            .event_type_by_id_any_org(id)
            .await
            .or_not_found("event type")?;
        if !row.active {
            return Err(AppError::NotFound("event type"));
        }
        view(&mut tx, row).await
    }

    /// Free slots of an event type in [from, to).
    pub async fn slots(
        &self,
        event: EventTypeView,
        from: Timestamp,
        to: Timestamp,
    ) -> AppResult<SlotsAnswer> {
        let range = parse_range(from, to)?;
        let hosts = bookable_hosts(&event);
        let busy = self.busy_of(&hosts, from, to).await;
        let now = self.now();
        let (lo, hi) = widened(from, to)?;
        let (mut by_host, missing) = self.bookings_cache.lookup(&hosts, lo, hi, now);
        let mut tx = self.store.read().await?;
        if !missing.is_empty() {
            let mut fetched: HashMap<UserId, Vec<Interval>> = HashMap::new();
            for (host, spans) in tx.host_busy_spans(&missing, lo, hi).await? {
                let intervals = spans
                    .into_iter()
                    .filter_map(|(s, e)| {
                        let s = Timestamp::from_millisecond(s).ok()?;
                        let e = Timestamp::from_millisecond(e).ok()?;
                        Interval::new(s, e)
                    })
                    .collect();
                fetched.insert(host, intervals);
            }
            self.bookings_cache.store(&fetched, &missing, lo, hi, now);
            by_host.extend(fetched);
        }
        let mut schedules = schedules_with(&mut tx, &event, &hosts, by_host).await?;
        drop(tx);
        let unreadable = apply_busy(&mut schedules, &busy);
        let slots = compute(&event, &schedules, self.now(), range);
        let unavailable = event
            .hosts
            .iter()
            .filter_map(|h| match h.location {
                Err(why) => Some((h.user.id, h.user.display_name().to_string(), why)),
                Ok(_) if unreadable.contains(&h.user.id) => Some((
                    h.user.id,
                    h.user.display_name().to_string(),
                    Unbookable::CalendarUnreadable,
                )),
                Ok(_) => None,
            })
            .collect();
        Ok(SlotsAnswer {
            event,
            slots,
            unavailable,
        })
    }
}
