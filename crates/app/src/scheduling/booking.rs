//! Booking, rescheduling and cancelling a meeting, and the meetings on record.
//!
//! A booking is reserved atomically: its transaction first locks the host
//! (`Tx::lock_hosts`), then re-checks the slot against the bookings it can now see,
//! then inserts. The meeting link and emails follow through jobs queued in that same
//! transaction ([`super::meeting_sync`], [`super::notices`]).

use super::event_types::{view, EventTypeView};
use super::location::ResolvedLocation;
use super::notices::{self, Notice};
use super::slots::{apply_busy, compute, host_schedules, rules};
use crate::actor::Actor;
use crate::calendars::busy::BusyResult;
use crate::error::{AppError, AppResult, NotFoundAs};
use crate::{audit, tokens, App};
use convene_domain::schedule::{
    collective_can_take, host_can_take, pick_round_robin_host, Candidate, Interval, TeamSlot,
};
use convene_domain::{
    Answers, BookingId, BookingStatus, Email, EventTypeId, EventTypeKind, MeetingState, Permission,
    PersonName, TimeZoneName, UserId,
};
use convene_store::{BookingQuery, BookingRow, NewBooking, StoreError, Tx};
use jiff::{SignedDuration, Timestamp};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};

/// An invitee's booking, parsed at the edge.
#[derive(Debug, Clone)]
pub struct BookingRequest {
    pub event_type: EventTypeId,
    pub start: Timestamp,
    pub name: PersonName,
    pub email: Email,
    pub time_zone: TimeZoneName,
    pub answers: BTreeMap<String, String>,
    /// The `Idempotency-Key` header: a repeat with the same key returns the first booking.
    pub idempotency_key: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Booked {
    pub booking: BookingRow,
    /// The secret behind the Reschedule / Cancel links.
    pub manage_token: String,
    /// This request repeated an earlier one with the same idempotency key.
    pub replayed: bool,
}

/// A booking reached through its manage token (no sign-in).
#[derive(Debug, Clone)]
pub struct ManagedBooking {
    pub booking: BookingRow,
    pub event: EventTypeView,
    pub org_slug: String,
    pub org_name: String,
}

#[derive(Debug, Clone)]
pub struct BookingsPage {
    pub bookings: Vec<BookingRow>,
    pub next_cursor: Option<String>,
}

/// The longest idempotency key accepted.
const MAX_IDEMPOTENCY_KEY: usize = 200;
/// Round Robin fairness counts bookings of this recent period.
const FAIRNESS_DAYS: i64 = 90;

fn slot_taken() -> AppError {
    AppError::Conflict {
        code: "slot_taken",
        message: "That time was just taken. Please pick another time.".into(),
    }
}

fn slot_unavailable() -> AppError {
    AppError::invalid("start", "that time is not available for this event type")
}

fn request_hash(r: &BookingRequest) -> String {
    let mut h = Sha256::new();
    h.update(r.event_type.to_string());
    h.update(r.start.to_string());
    h.update(r.name.as_str());
    h.update(r.email.as_str());
    h.update(r.time_zone.as_str());
    for (k, v) in &r.answers {
        h.update(k);
        h.update([0]);
        h.update(v);
        h.update([0]);
    }
    hex::encode(h.finalize())
}

/// Who may take a slot, in the order to try them.
fn candidates_in_order(
    event: &EventTypeView,
    free: &[UserId],
    stats: &[(UserId, i64, Option<Timestamp>)],
) -> Vec<UserId> {
    let mut pool: Vec<Candidate> = free
        .iter()
        .filter_map(|id| event.hosts.iter().find(|h| h.user.id == *id))
        .map(|h| {
            let s = stats.iter().find(|s| s.0 == h.user.id);
            Candidate {
                host: h.user.id,
                priority: h.priority as i32,
                weight: h.weight.max(1) as u32,
                recent_bookings: s.map(|s| s.1.max(0) as u32).unwrap_or(0),
                last_booked_at: s.and_then(|s| s.2),
            }
        })
        .collect();
    let mut order = Vec::with_capacity(pool.len());
    while let Some(next) = pick_round_robin_host(&pool) {
        order.push(next);
        pool.retain(|c| c.host != next);
    }
    order
}

impl App {
    fn hash_request_and_check_key(r: &BookingRequest) -> AppResult<Option<String>> {
        match &r.idempotency_key {
            Some(k)
                if k.is_empty()
                    || k.len() > MAX_IDEMPOTENCY_KEY
                    || k.chars().any(|c| c.is_control() || c == ' ') =>
            {
                Err(AppError::invalid(
                    "idempotency_key",
                    format!(
                        "the Idempotency-Key must be 1–{MAX_IDEMPOTENCY_KEY} visible characters"
                    ),
                ))
            }
            Some(_) => Ok(Some(request_hash(r))),
            None => Ok(None),
        }
    }

    fn open_token(&self, b: &BookingRow) -> AppResult<String> {
        let bytes = self
            .secrets
            .open(&b.manage_token_sealed)
            .map_err(AppError::Unexpected)?;
        String::from_utf8(bytes).map_err(|e| AppError::Unexpected(e.into()))
    }

    async fn replay(&self, b: BookingRow, hash: Option<&str>) -> AppResult<Booked> {
        if b.request_hash.as_deref() != hash {
            return Err(AppError::Conflict {
                code: "idempotency_key_reused",
                message: "this Idempotency-Key was used for a different booking request".into(),
            });
        }
        Ok(Booked {
            manage_token: self.open_token(&b)?,
            booking: b,
            replayed: true,
        })
    }

    /// Books a slot for an invitee (public: no actor).
    pub async fn book(&self, r: BookingRequest) -> AppResult<Booked> {
        let now = self.now();
        let hash = Self::hash_request_and_check_key(&r)?;
        let mut tx = self.store.read().await?;
        let row = tx
            .event_type_by_id_any_org(r.event_type)
            .await
            .or_not_found("event type")?;
        if !row.active {
            return Err(AppError::NotFound("event type"));
        }
        let org = row.org_id;
        if let Some(key) = &r.idempotency_key {
            if let Some(b) = tx.booking_by_idempotency_key(org, key).await? {
                return self.replay(b, hash.as_deref()).await;
            }
        }
        let event = view(&mut tx, row).await?;
        drop(tx);
        let answers = Answers::parse(&event.questions, &r.answers)
            .map_err(|e| AppError::invalid("answers", e))?;
        if r.start <= now {
            return Err(AppError::invalid("start", "that time is in the past"));
        }
        let end = r
            .start
            .checked_add(event.timing.duration())
            .map_err(|_| slot_unavailable())?;
        let busy = self.calendar_check(&event, r.start, end).await;
        let order = self.assignment_order(&event, r.start, None, &busy).await?;

        let token = tokens::new_token();
        let sealed = self
            .secrets
            .seal(token.as_bytes())
            .map_err(AppError::Unexpected)?;
        for hosts in order {
            let host = hosts[0];
            let location = event
                .hosts
                .iter()
                .find(|h| h.user.id == host)
                .and_then(|h| h.location.clone().ok())
                .ok_or_else(slot_unavailable)?;
            let mut tx = self.store.write().await?;
            tx.lock_hosts(&hosts).await?;
            if !self
                .still_free(&mut tx, &event, &hosts, r.start, None, now, &busy)
                .await?
            {
                continue;
            }
            let id = BookingId::new();
            let needs_meeting = location.needs_meeting();
            let insert = tx
                .insert_booking(
                    &NewBooking {
                        id,
                        org_id: org,
                        event_type_id: event.row.id,
                        host_user_id: host,
                        hosts: hosts.clone(),
                        start_at: r.start,
                        end_at: end,
                        title: event.row.title.clone(),
                        invitee_name: r.name.as_str().to_string(),
                        invitee_email: r.email.as_str().to_string(),
                        invitee_time_zone: r.time_zone.as_str().to_string(),
                        answers: serde_json::to_string(&answers)
                            .map_err(|e| AppError::Unexpected(e.into()))?,
                        location_kind: location.kind().to_string(),
                        location_text: location.text().map(str::to_string),
                        manage_token_hash: tokens::hash_token(&token),
                        manage_token_sealed: sealed.clone(),
                        idempotency_key: r.idempotency_key.clone(),
                        request_hash: hash.clone(),
                        meeting_state: if needs_meeting {
                            MeetingState::Pending
                        } else {
                            MeetingState::NotNeeded
                        },
                        notified_seq: if needs_meeting { -1 } else { 0 },
                    },
                    now,
                )
                .await;
            match insert {
                Ok(()) => {}
                // Two requests with one idempotency key raced: the other one won.
                Err(StoreError::Conflict(_)) if r.idempotency_key.is_some() => {
                    drop(tx);
                    let mut tx = self.store.read().await?;
                    let key = r.idempotency_key.as_deref().unwrap_or_default();
                    let b = tx
                        .booking_by_idempotency_key(org, key)
                        .await?
                        .ok_or(AppError::NotFound("booking"))?;
                    return self.replay(b, hash.as_deref()).await;
                }
                Err(e) => return Err(e.into()),
            }
            let booking = tx.booking_by_id(id).await?;
            // The sync job makes the meeting (if any) and writes the hosts' calendar
            // events; without a meeting to wait for, the emails go out at once.
            super::meeting_sync::enqueue_sync(&mut tx, &booking, now).await?;
            if !needs_meeting {
                notices::enqueue(self, &mut tx, &booking, Notice::Booked, now).await?;
            }
            tx.commit().await?;
            self.bookings_cache.invalidate(&hosts);
            self.job_signal.notify_waiters();
            metrics::counter!("convene_bookings_total", "kind" => event.row.kind.as_str())
                .increment(1);
            return Ok(Booked {
                booking,
                manage_token: token,
                replayed: false,
            });
        }
        Err(slot_taken())
    }

    /// The host sets to try for a start, best first: one set per Round Robin host, the
    /// only host of a personal event type, or all hosts of a Collective one. Refuses a
    /// start that is not a slot at all, and says "taken" when it was one but is booked.
    async fn assignment_order(
        &self,
        event: &EventTypeView,
        start: Timestamp,
        except: Option<&BookingRow>,
        busy: &HashMap<UserId, BusyResult>,
    ) -> AppResult<Vec<Vec<UserId>>> {
        let now = self.now();
        let hosts = super::slots::bookable_hosts(event);
        let end = start
            .checked_add(event.timing.duration())
            .map_err(|_| slot_unavailable())?;
        let mut tx = self.store.read().await?;
        let mut schedules =
            host_schedules(&mut tx, event, &hosts, start, end, except.map(|b| b.id)).await?;
        apply_busy(&mut schedules, busy);
        let stats = if event.row.kind == EventTypeKind::RoundRobin {
            let since = now
                .checked_sub(SignedDuration::from_hours(24 * FAIRNESS_DAYS))
                .map_err(|e| AppError::Unexpected(e.into()))?;
            tx.round_robin_stats(event.row.id, since).await?
        } else {
            Vec::new()
        };
        drop(tx);
        let rules = rules(&event.timing);
        let free: Vec<UserId> = match event.row.kind {
            EventTypeKind::Collective => {
                if schedules.len() == event.hosts.len()
                    && collective_can_take(&schedules, &rules, now, start)
                {
                    schedules.iter().map(|s| s.host).collect()
                } else {
                    Vec::new()
                }
            }
            _ => schedules
                .iter()
                .filter(|s| host_can_take(s, &rules, now, start))
                .map(|s| s.host)
                .collect(),
        };
        if free.is_empty() {
            // Was it a slot at all? Ask again as if nobody had bookings or meetings.
            for s in &mut schedules {
                s.bookings.clear();
                s.busy.clear();
            }
            let range = Interval::new(start, end).ok_or_else(slot_unavailable)?;
            let offered_without_bookings = compute(event, &schedules, now, range)
                .iter()
                .any(|s: &TeamSlot| s.start == start);
            return Err(if offered_without_bookings {
                slot_taken()
            } else {
                slot_unavailable()
            });
        }
        Ok(match event.row.kind {
            EventTypeKind::Collective => {
                // The primary host first: the meeting goes on their account.
                let mut all = free;
                if let Some(p) = event.primary_host() {
                    all.sort_by_key(|h| *h != p.user.id);
                }
                vec![all]
            }
            EventTypeKind::RoundRobin => {
                let mut order = candidates_in_order(event, &free, &stats);
                // On reschedule, keep the current host when they are free.
                if let Some(b) = except {
                    order.sort_by_key(|h| *h != b.host_user_id);
                }
                order.into_iter().map(|h| vec![h]).collect()
            }
            EventTypeKind::Personal => vec![free],
        })
    }

    /// Re-checks, under the hosts' lock, that `hosts` can take `start` (with the busy
    /// times read from their calendars just before the transaction).
    #[allow(clippy::too_many_arguments)]
    async fn still_free(
        &self,
        tx: &mut Tx,
        event: &EventTypeView,
        hosts: &[UserId],
        start: Timestamp,
        except: Option<BookingId>,
        now: Timestamp,
        busy: &HashMap<UserId, BusyResult>,
    ) -> AppResult<bool> {
        let end = start
            .checked_add(event.timing.duration())
            .map_err(|_| slot_unavailable())?;
        let mut schedules = host_schedules(tx, event, hosts, start, end, except).await?;
        apply_busy(&mut schedules, busy);
        let rules = rules(&event.timing);
        Ok(schedules.len() == hosts.len()
            && match event.row.kind {
                EventTypeKind::Collective => collective_can_take(&schedules, &rules, now, start),
                _ => schedules
                    .iter()
                    .all(|s| host_can_take(s, &rules, now, start)),
            })
    }

    /// The hosts' calendars, read again right before a booking commits.
    async fn calendar_check(
        &self,
        event: &EventTypeView,
        start: Timestamp,
        end: Timestamp,
    ) -> HashMap<UserId, BusyResult> {
        let hosts = super::slots::bookable_hosts(event);
        let day = SignedDuration::from_hours(24);
        let from = start.checked_sub(day).unwrap_or(start);
        let to = end.checked_add(day).unwrap_or(end);
        self.fresh_busy(&hosts, from, to).await
    }

    async fn managed(&self, b: BookingRow) -> AppResult<ManagedBooking> {
        let mut tx = self.store.read().await?;
        let org = tx.org(b.org_id).await?;
        let row = tx.event_type(b.org_id, b.event_type_id).await?;
        let event = view(&mut tx, row).await?;
        Ok(ManagedBooking {
            booking: b,
            event,
            org_slug: org.slug,
            org_name: org.name,
        })
    }

    /// The booking behind a Reschedule / Cancel link.
    pub async fn booking_by_token(&self, token: &str) -> AppResult<ManagedBooking> {
        if token.is_empty() || token.len() > 200 {
            return Err(AppError::NotFound("booking"));
        }
        let b = self
            .store
            .read()
            .await?
            .booking_by_token_hash(&tokens::hash_token(token))
            .await
            .or_not_found("booking")?;
        self.managed(b).await
    }

    /// A booking an actor may see: their own as a host, or any with View all meetings.
    pub async fn booking_for(&self, actor: &Actor, id: BookingId) -> AppResult<ManagedBooking> {
        let b = self
            .store
            .read()
            .await?
            .booking(actor.org_id, id)
            .await
            .or_not_found("booking")?;
        if !(b.hosts.contains(&actor.user_id) || actor.can(Permission::ViewAllMeetings)) {
            return Err(AppError::NotFound("booking"));
        }
        self.managed(b).await
    }

    fn may_change(actor: &Actor, b: &BookingRow) -> AppResult<()> {
        if b.hosts.contains(&actor.user_id) || actor.can(Permission::ViewAllMeetings) {
            Ok(())
        } else {
            Err(AppError::NotFound("booking"))
        }
    }

    pub async fn reschedule_by_token(
        &self,
        token: &str,
        start: Timestamp,
    ) -> AppResult<BookingRow> {
        let m = self.booking_by_token(token).await?;
        self.reschedule_booking(m, start, "invitee").await
    }

    pub async fn reschedule(
        &self,
        actor: &Actor,
        id: BookingId,
        start: Timestamp,
    ) -> AppResult<BookingRow> {
        let m = self.booking_for(actor, id).await?;
        Self::may_change(actor, &m.booking)?;
        let b = self.reschedule_booking(m, start, &actor.email).await?;
        let mut tx = self.store.write().await?;
        audit::record(
            &mut tx,
            actor,
            "booking.rescheduled",
            audit::Target {
                kind: "booking",
                id: Some(id.to_string()),
                label: &b.title,
            },
            serde_json::json!({"start": b.start_at.to_string()}),
            self.now(),
        )
        .await?;
        tx.commit().await?;
        Ok(b)
    }

    async fn reschedule_booking(
        &self,
        m: ManagedBooking,
        start: Timestamp,
        by: &str,
    ) -> AppResult<BookingRow> {
        let now = self.now();
        let b = &m.booking;
        if b.status == BookingStatus::Cancelled {
            return Err(AppError::Conflict {
                code: "booking_cancelled",
                message: "this meeting was cancelled and cannot be rescheduled".into(),
            });
        }
        if b.start_at <= now {
            return Err(AppError::Conflict {
                code: "meeting_in_past",
                message: "this meeting has already started or taken place".into(),
            });
        }
        if start == b.start_at {
            // Idempotent: asking for the time it already has changes nothing.
            return Ok(m.booking);
        }
        if start <= now {
            return Err(AppError::invalid("start", "that time is in the past"));
        }
        let event = &m.event;
        let end = start
            .checked_add(event.timing.duration())
            .map_err(|_| slot_unavailable())?;
        let busy = self.calendar_check(event, start, end).await;
        let order = self.assignment_order(event, start, Some(b), &busy).await?;
        for hosts in order {
            let host = hosts[0];
            let mut tx = self.store.write().await?;
            let mut lock: Vec<UserId> = hosts.clone();
            lock.extend(b.hosts.iter().copied());
            tx.lock_hosts(&lock).await?;
            if !self
                .still_free(&mut tx, event, &hosts, start, Some(b.id), now, &busy)
                .await?
            {
                continue;
            }
            let current = tx.booking_by_id(b.id).await?;
            if current.status != BookingStatus::Confirmed || current.sequence != b.sequence {
                return Err(AppError::Conflict {
                    code: "booking_changed",
                    message: "this meeting was changed meanwhile; reload and try again".into(),
                });
            }
            let needs_meeting = b.location_kind == ResolvedLocation::Zoom.kind();
            let state = if needs_meeting {
                MeetingState::Pending
            } else {
                MeetingState::NotNeeded
            };
            tx.reschedule_booking(b.id, host, &hosts, start, end, state, !needs_meeting, now)
                .await?;
            let booking = tx.booking_by_id(b.id).await?;
            super::meeting_sync::enqueue_sync(&mut tx, &booking, now).await?;
            if !needs_meeting {
                notices::enqueue(self, &mut tx, &booking, Notice::Rescheduled, now).await?;
            }
            tx.commit().await?;
            self.bookings_cache.invalidate(&lock);
            self.job_signal.notify_waiters();
            tracing::info!(booking = %b.id, by, "booking rescheduled");
            return Ok(booking);
        }
        Err(slot_taken())
    }

    pub async fn cancel_by_token(
        &self,
        token: &str,
        reason: Option<&str>,
    ) -> AppResult<BookingRow> {
        let m = self.booking_by_token(token).await?;
        self.cancel_booking(m.booking, reason, "invitee").await
    }

    pub async fn cancel(
        &self,
        actor: &Actor,
        id: BookingId,
        reason: Option<&str>,
    ) -> AppResult<BookingRow> {
        let m = self.booking_for(actor, id).await?;
        Self::may_change(actor, &m.booking)?;
        let b = self.cancel_booking(m.booking, reason, &actor.email).await?;
        let mut tx = self.store.write().await?;
        audit::record(
            &mut tx,
            actor,
            "booking.cancelled",
            audit::Target {
                kind: "booking",
                id: Some(id.to_string()),
                label: &b.title,
            },
            serde_json::json!({"reason": reason}),
            self.now(),
        )
        .await?;
        tx.commit().await?;
        Ok(b)
    }

    async fn cancel_booking(
        &self,
        b: BookingRow,
        reason: Option<&str>,
        by: &str,
    ) -> AppResult<BookingRow> {
        let now = self.now();
        if b.status == BookingStatus::Cancelled {
            // Idempotent: cancelling twice is not an error.
            return Ok(b);
        }
        if b.start_at <= now {
            return Err(AppError::Conflict {
                code: "meeting_in_past",
                message: "this meeting has already started or taken place".into(),
            });
        }
        let reason = reason.map(str::trim).filter(|r| !r.is_empty());
        if reason.is_some_and(|r| {
            r.chars().count() > 1000 || r.chars().any(|c| c.is_control() && c != '\n' && c != '\r')
        }) {
            return Err(AppError::invalid(
                "reason",
                "the reason must be at most 1000 characters of text",
            ));
        }
        let mut tx = self.store.write().await?;
        tx.lock_hosts(&b.hosts).await?;
        let may_have_meeting = b.meeting_id.is_some()
            || b.meeting_attempted_at.is_some()
            || b.meeting_state == MeetingState::Pending
            || b.meeting_state == MeetingState::Failed;
        let state = if may_have_meeting {
            MeetingState::Pending
        } else {
            MeetingState::Removed
        };
        match tx.cancel_booking(b.id, reason, by, state, now).await {
            Ok(_) => {}
            // Cancelled meanwhile by someone else: the same outcome.
            Err(StoreError::NotFound) => return Ok(tx.booking_by_id(b.id).await?),
            Err(e) => return Err(e.into()),
        }
        let booking = tx.booking_by_id(b.id).await?;
        // Deletes the meeting (if one may exist) and the hosts' calendar events.
        super::meeting_sync::enqueue_sync(&mut tx, &booking, now).await?;
        notices::enqueue(self, &mut tx, &booking, Notice::Cancelled, now).await?;
        tx.commit().await?;
        self.bookings_cache.invalidate(&b.hosts);
        self.job_signal.notify_waiters();
        Ok(booking)
    }

    /// Meetings on record: the actor's own, or everyone's with View all meetings.
    pub async fn bookings(
        &self,
        actor: &Actor,
        mut q: BookingQuery,
        cursor: Option<&str>,
    ) -> AppResult<BookingsPage> {
        if !actor.can(Permission::ViewAllMeetings) {
            match q.host {
                Some(h) if h != actor.user_id => {
                    return Err(AppError::Forbidden("view other people's meetings".into()))
                }
                _ => q.host = Some(actor.user_id),
            }
        }
        if let Some(c) = cursor {
            q.after = Some(parse_cursor(c)?);
        }
        let limit = q.limit.clamp(1, 500);
        q.limit = limit + 1;
        let mut rows = self
            .store
            .read()
            .await?
            .list_bookings(actor.org_id, &q)
            .await?;
        let next_cursor = if rows.len() as i64 > limit {
            rows.truncate(limit as usize);
            rows.last()
                .map(|b| format!("{}_{}", b.start_at.as_millisecond(), b.id))
        } else {
            None
        };
        Ok(BookingsPage {
            bookings: rows,
            next_cursor,
        })
    }

    /// Every booking matching `q` as CSV (RFC 4180), for export.
    pub async fn bookings_csv(&self, actor: &Actor, q: BookingQuery) -> AppResult<String> {
        let mut out = String::from(
            "id,status,start_utc,end_utc,title,host,host_email,invitee_name,invitee_email,invitee_time_zone,location,meeting_link,meeting_state,created_utc,cancel_reason\n",
        );
        let mut cursor: Option<String> = None;
        let mut names: BTreeMap<UserId, (String, String)> = BTreeMap::new();
        loop {
            let page = self
                .bookings(
                    actor,
                    BookingQuery {
                        limit: 500,
                        ..q.clone()
                    },
                    cursor.as_deref(),
                )
                .await?;
            for b in &page.bookings {
                if let std::collections::btree_map::Entry::Vacant(slot) =
                    names.entry(b.host_user_id)
                {
                    let mut tx = self.store.read().await?;
                    let u = tx.user(actor.org_id, b.host_user_id).await?;
                    slot.insert((u.display_name().to_string(), u.email.clone()));
                }
                let (host, host_email) = names.get(&b.host_user_id).cloned().unwrap_or_default();
                let fields = [
                    b.id.to_string(),
                    b.status.as_str().to_string(),
                    b.start_at.to_string(),
                    b.end_at.to_string(),
                    b.title.clone(),
                    host,
                    host_email,
                    b.invitee_name.clone(),
                    b.invitee_email.clone(),
                    b.invitee_time_zone.clone(),
                    b.location_text
                        .clone()
                        .unwrap_or_else(|| b.location_kind.clone()),
                    b.join_url.clone().unwrap_or_default(),
                    b.meeting_state.as_str().to_string(),
                    b.created_at.to_string(),
                    b.cancel_reason.clone().unwrap_or_default(),
                ];
                let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
                out.push_str(&line.join(","));
                out.push('\n');
            }
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        Ok(out)
    }
}

/// Quotes a CSV field when needed, and defuses spreadsheet formulas (a leading `=`,
/// `+`, `-` or `@` from an invitee's name would otherwise run in Excel).
fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

fn parse_cursor(c: &str) -> AppResult<(Timestamp, BookingId)> {
    let bad = || AppError::invalid("cursor", "the cursor is not one this server gave out");
    let (ms, id) = c.split_once('_').ok_or_else(bad)?;
    let ms: i64 = ms.parse().map_err(|_| bad())?;
    Ok((
        Timestamp::from_millisecond(ms).map_err(|_| bad())?,
        id.parse().map_err(|_| bad())?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_defused() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(1)"), "'=HYPERLINK(1)");
    }

    #[test]
    fn cursors_round_trip_and_reject_junk() {
        let id = BookingId::new();
        let (at, back) = parse_cursor(&format!("1700000000000_{id}")).unwrap();
        assert_eq!(back, id);
        assert_eq!(at.as_millisecond(), 1_700_000_000_000);
        assert!(parse_cursor("nope").is_err());
        assert!(parse_cursor("1_x").is_err());
    }
}
