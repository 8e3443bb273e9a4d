//! Bookings: the reservation itself, its hosts' busy ranges, and the bookkeeping of its
//! provider meeting.
//!
//! A booking holds its hosts' time through `booking_hosts`, and a booking transaction
//! first bumps each host's `users.booking_seq` ([`Tx::lock_hosts`]). That write takes a
//! row lock on PostgreSQL and the database write lock on SQLite, so the overlap check
//! that follows cannot race another booking of the same host, on any instance.

use crate::users::get_bool;
use crate::{conflict, get_opt_ts, get_parsed, get_ts, ms, Dialect, Result, StoreError, Tx};
use convene_domain::{BookingId, BookingStatus, EventTypeId, MeetingState, OrgId, UserId};
use jiff::Timestamp;
use sqlx::any::AnyRow;
use sqlx::Row;

#[derive(Debug, Clone)]
pub struct BookingRow {
    pub id: BookingId,
    pub org_id: OrgId,
    pub event_type_id: EventTypeId,
    pub host_user_id: UserId,
    pub hosts: Vec<UserId>,
    pub status: BookingStatus,
    pub start_at: Timestamp,
    pub end_at: Timestamp,
    pub title: String,
    pub invitee_name: String,
    pub invitee_email: String,
    pub invitee_time_zone: String,
    pub answers: String,
    pub location_kind: String,
    pub location_text: Option<String>,
    pub sequence: i64,
    pub manage_token_sealed: String,
    pub previous_start_at: Option<Timestamp>,
    pub idempotency_key: Option<String>,
    pub request_hash: Option<String>,
    pub meeting_state: MeetingState,
    pub meeting_provider: Option<String>,
    pub meeting_host_user_id: Option<UserId>,
    pub meeting_id: Option<String>,
    pub join_url: Option<String>,
    pub meeting_synced_seq: i64,
    pub meeting_attempted_at: Option<Timestamp>,
    pub meeting_error: Option<String>,
    pub notified_seq: i64,
    pub link_owed: bool,
    pub cancel_reason: Option<String>,
    pub cancelled_by: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone)]
pub struct NewBooking {
    pub id: BookingId,
    pub org_id: OrgId,
    pub event_type_id: EventTypeId,
    pub host_user_id: UserId,
    /// Every host whose time the booking takes (the assigned host first).
    pub hosts: Vec<UserId>,
    pub start_at: Timestamp,
    pub end_at: Timestamp,
    pub title: String,
    pub invitee_name: String,
    pub invitee_email: String,
    pub invitee_time_zone: String,
    pub answers: String,
    pub location_kind: String,
    pub location_text: Option<String>,
    pub manage_token_hash: String,
    pub manage_token_sealed: String,
    pub idempotency_key: Option<String>,
    pub request_hash: Option<String>,
    pub meeting_state: MeetingState,
    /// `Some(0)` when the booking's emails are queued in the same transaction.
    pub notified_seq: i64,
}

/// Filters for listing bookings; `after` is the cursor (start, id) of the last row seen.
#[derive(Debug, Clone, Default)]
pub struct BookingQuery {
    pub host: Option<UserId>,
    pub status: Option<BookingStatus>,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
    pub after: Option<(Timestamp, BookingId)>,
    pub limit: i64,
}

/// What the meeting sync job learned, written in one statement.
#[derive(Debug, Clone)]
pub struct MeetingUpdate {
    pub state: MeetingState,
    pub provider: Option<String>,
    pub host_user_id: Option<UserId>,
    pub meeting_id: Option<String>,
    pub join_url: Option<String>,
    pub synced_seq: i64,
    pub error: Option<String>,
}

#[derive(Debug, Clone)]
pub struct OrphanMeeting {
    pub provider: String,
    pub meeting_id: String,
    pub host_user_id: UserId,
    pub booking_id: BookingId,
}

const COLS: &str = "b.id, b.org_id, b.event_type_id, b.host_user_id, b.status, b.start_at, \
    b.end_at, b.title, b.invitee_name, b.invitee_email, b.invitee_time_zone, b.answers, \
    b.location_kind, b.location_text, b.sequence, b.manage_token_sealed, b.previous_start_at, \
    b.idempotency_key, b.request_hash, \
    b.meeting_state, b.meeting_provider, b.meeting_host_user_id, b.meeting_id, b.join_url, \
    b.meeting_synced_seq, b.meeting_attempted_at, b.meeting_error, b.notified_seq, \
    b.link_owed, b.cancel_reason, b.cancelled_by, b.created_at, b.updated_at";

fn from_row(r: &AnyRow) -> Result<BookingRow> {
    let meeting_host: Option<String> = r.try_get("meeting_host_user_id")?;
    Ok(BookingRow {
        id: get_parsed(r, "id")?,
        org_id: get_parsed(r, "org_id")?,
        event_type_id: get_parsed(r, "event_type_id")?,
        host_user_id: get_parsed(r, "host_user_id")?,
        hosts: Vec::new(),
        status: get_parsed(r, "status")?,
        start_at: get_ts(r, "start_at")?,
        end_at: get_ts(r, "end_at")?,
        title: r.try_get("title")?,
        invitee_name: r.try_get("invitee_name")?,
        invitee_email: r.try_get("invitee_email")?,
        invitee_time_zone: r.try_get("invitee_time_zone")?,
        answers: r.try_get("answers")?,
        location_kind: r.try_get("location_kind")?,
        location_text: r.try_get("location_text")?,
        sequence: r.try_get("sequence")?,
        manage_token_sealed: r.try_get("manage_token_sealed")?,
        previous_start_at: get_opt_ts(r, "previous_start_at")?,
        idempotency_key: r.try_get("idempotency_key")?,
        request_hash: r.try_get("request_hash")?,
        meeting_state: get_parsed(r, "meeting_state")?,
        meeting_provider: r.try_get("meeting_provider")?,
        meeting_host_user_id: meeting_host
            .map(|s| s.parse())
            .transpose()
            .map_err(|e: uuid::Error| StoreError::Corrupt(e.to_string()))?,
        meeting_id: r.try_get("meeting_id")?,
        join_url: r.try_get("join_url")?,
        meeting_synced_seq: r.try_get("meeting_synced_seq")?,
        meeting_attempted_at: get_opt_ts(r, "meeting_attempted_at")?,
        meeting_error: r.try_get("meeting_error")?,
        notified_seq: r.try_get("notified_seq")?,
        link_owed: get_bool(r, "link_owed")?,
        cancel_reason: r.try_get("cancel_reason")?,
        cancelled_by: r.try_get("cancelled_by")?,
        created_at: get_ts(r, "created_at")?,
        updated_at: get_ts(r, "updated_at")?,
    })
}

impl Tx {
    /// Serializes bookings per host: bumps each host's `booking_seq` in id order (a
    /// fixed order, so two transactions cannot deadlock). Call first in a booking
    /// transaction, before checking overlaps.
    pub async fn lock_hosts(&mut self, hosts: &[UserId]) -> Result<()> {
        let mut ids: Vec<String> = hosts.iter().map(ToString::to_string).collect();
        ids.sort();
        ids.dedup();
        for id in ids {
            sqlx::query("UPDATE users SET booking_seq = booking_seq + 1 WHERE id = $1")
                .bind(id)
                .execute(&mut *self.inner)
                .await?;
        }
        Ok(())
    }

    /// Whether `host` has a standing booking overlapping [from, to), other than `except`.
    pub async fn host_is_booked(
        &mut self,
        host: UserId,
        from: Timestamp,
        to: Timestamp,
        except: Option<BookingId>,
    ) -> Result<bool> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM booking_hosts WHERE user_id = $1 AND active = TRUE \
             AND start_at < $2 AND end_at > $3 AND booking_id <> $4",
        )
        .bind(host.to_string())
        .bind(ms(to))
        .bind(ms(from))
        .bind(except.map(|b| b.to_string()).unwrap_or_default())
        .fetch_one(&mut *self.inner)
        .await?;
        Ok(row.try_get::<i64, _>("n")? > 0)
    }

    /// Standing bookings of `hosts` that overlap [from, to): (host, booking, start, end).
    ///
    /// A 50-host team can have tens of thousands of bookings in a month, so the rows
    /// are folded into one text per host in SQL: decoding one row per booking through
    /// the driver would cost more than computing the slots.
    pub async fn host_bookings(
        &mut self,
        hosts: &[UserId],
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<(UserId, BookingId, Timestamp, Timestamp)>> {
        if hosts.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders: Vec<String> = (0..hosts.len()).map(|i| format!("${}", i + 3)).collect();
        let concat = match self.dialect {
            Dialect::Sqlite => "group_concat(booking_id || ',' || start_at || ',' || end_at, ';')",
            Dialect::Postgres => "string_agg(booking_id || ',' || start_at || ',' || end_at, ';')",
        };
        let sql = format!(
            "SELECT user_id, {concat} AS spans FROM booking_hosts WHERE active = TRUE \
             AND start_at < $1 AND end_at > $2 AND user_id IN ({}) GROUP BY user_id",
            placeholders.join(", ")
        );
        let mut q = sqlx::query(&sql).bind(ms(to)).bind(ms(from));
        for h in hosts {
            q = q.bind(h.to_string());
        }
        let rows = q.fetch_all(&mut *self.inner).await?;
        let mut out = Vec::new();
        for r in &rows {
            let host: UserId = get_parsed(r, "user_id")?;
            let spans: String = r.try_get("spans")?;
            for span in spans.split(';') {
                let bad = || StoreError::Corrupt(format!("booking span '{span}'"));
                let mut parts = span.split(',');
                let (Some(id), Some(start), Some(end)) = (parts.next(), parts.next(), parts.next())
                else {
                    return Err(bad());
                };
                let id: BookingId = id.parse().map_err(|_| bad())?;
                let start = crate::ts(start.parse().map_err(|_| bad())?)?;
                let end = crate::ts(end.parse().map_err(|_| bad())?)?;
                out.push((host, id, start, end));
            }
        }
        Ok(out)
    }

    /// Like [`Tx::host_bookings`] without the booking ids, for slot pages: half the
    /// text to build and parse for a large team.
    pub async fn host_busy_spans(
        &mut self,
        hosts: &[UserId],
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<(UserId, Vec<(i64, i64)>)>> {
        if hosts.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders: Vec<String> = (0..hosts.len()).map(|i| format!("${}", i + 3)).collect();
        let concat = match self.dialect {
            Dialect::Sqlite => "group_concat(start_at || ',' || end_at, ';')",
            Dialect::Postgres => "string_agg(start_at || ',' || end_at, ';')",
        };
        let sql = format!(
            "SELECT user_id, {concat} AS spans FROM booking_hosts WHERE active = TRUE \
             AND start_at < $1 AND end_at > $2 AND user_id IN ({}) GROUP BY user_id",
            placeholders.join(", ")
        );
        let mut q = sqlx::query(&sql).bind(ms(to)).bind(ms(from));
        for h in hosts {
            q = q.bind(h.to_string());
        }
        let rows = q.fetch_all(&mut *self.inner).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let host: UserId = get_parsed(r, "user_id")?;
            let spans: String = r.try_get("spans")?;
            let mut list = Vec::new();
            for span in spans.split(';') {
                let bad = || StoreError::Corrupt(format!("booking span '{span}'"));
                let (start, end) = span.split_once(',').ok_or_else(bad)?;
                list.push((
                    start.parse().map_err(|_| bad())?,
                    end.parse().map_err(|_| bad())?,
                ));
            }
            out.push((host, list));
        }
        Ok(out)
    }

    /// For Round Robin fairness: per host, the bookings of `event_type` created since
    /// `since`, and when each host was last booked for it.
    pub async fn round_robin_stats(
        &mut self,
        event_type: EventTypeId,
        since: Timestamp,
    ) -> Result<Vec<(UserId, i64, Option<Timestamp>)>> {
        let rows = sqlx::query(
            "SELECT host_user_id, \
               SUM(CASE WHEN created_at >= $2 AND status = 'confirmed' THEN 1 ELSE 0 END) AS n, \
               MAX(created_at) AS last_at \
             FROM bookings WHERE event_type_id = $1 GROUP BY host_user_id",
        )
        .bind(event_type.to_string())
        .bind(ms(since))
        .fetch_all(&mut *self.inner)
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    get_parsed(r, "host_user_id")?,
                    r.try_get::<i64, _>("n")?,
                    get_opt_ts(r, "last_at")?,
                ))
            })
            .collect()
    }

    pub async fn insert_booking(&mut self, b: &NewBooking, now: Timestamp) -> Result<()> {
        sqlx::query(
            "INSERT INTO bookings (id, org_id, event_type_id, host_user_id, status, start_at, end_at, \
             title, invitee_name, invitee_email, invitee_time_zone, answers, location_kind, \
             location_text, sequence, manage_token_hash, manage_token_sealed, idempotency_key, \
             request_hash, meeting_state, notified_seq, created_at, updated_at) VALUES \
             ($1, $2, $3, $4, 'confirmed', $5, $6, $7, $8, $9, $10, $11, $12, $13, 0, $14, $15, \
              $16, $17, $18, $19, $20, $20)",
        )
        .bind(b.id.to_string())
        .bind(b.org_id.to_string())
        .bind(b.event_type_id.to_string())
        .bind(b.host_user_id.to_string())
        .bind(ms(b.start_at))
        .bind(ms(b.end_at))
        .bind(&b.title)
        .bind(&b.invitee_name)
        .bind(&b.invitee_email)
        .bind(&b.invitee_time_zone)
        .bind(&b.answers)
        .bind(&b.location_kind)
        .bind(b.location_text.as_deref())
        .bind(&b.manage_token_hash)
        .bind(&b.manage_token_sealed)
        .bind(b.idempotency_key.as_deref())
        .bind(b.request_hash.as_deref())
        .bind(b.meeting_state.as_str())
        .bind(b.notified_seq)
        .bind(ms(now))
        .execute(&mut *self.inner)
        .await
        .map_err(conflict("a booking with this idempotency key"))?;
        self.set_booking_hosts(b.id, &b.hosts, b.start_at, b.end_at)
            .await
    }

    async fn set_booking_hosts(
        &mut self,
        id: BookingId,
        hosts: &[UserId],
        start: Timestamp,
        end: Timestamp,
    ) -> Result<()> {
        sqlx::query("DELETE FROM booking_hosts WHERE booking_id = $1")
            .bind(id.to_string())
            .execute(&mut *self.inner)
            .await?;
        for h in hosts {
            sqlx::query(
                "INSERT INTO booking_hosts (booking_id, user_id, start_at, end_at, active) \
                 VALUES ($1, $2, $3, $4, TRUE)",
            )
            .bind(id.to_string())
            .bind(h.to_string())
            .bind(ms(start))
            .bind(ms(end))
            .execute(&mut *self.inner)
            .await?;
        }
        Ok(())
    }

    async fn with_booking_hosts(&mut self, mut b: BookingRow) -> Result<BookingRow> {
        let rows = sqlx::query("SELECT user_id FROM booking_hosts WHERE booking_id = $1")
            .bind(b.id.to_string())
            .fetch_all(&mut *self.inner)
            .await?;
        let mut hosts: Vec<UserId> = rows
            .iter()
            .map(|r| get_parsed(r, "user_id"))
            .collect::<Result<_>>()?;
        // The assigned (or primary) host first, then the rest in a stable order.
        hosts.sort_by_key(|h| (*h != b.host_user_id, *h));
        b.hosts = hosts;
        Ok(b)
    }

    async fn booking_where(&mut self, cond: &str, value: String) -> Result<BookingRow> {
        let row = sqlx::query(&format!("SELECT {COLS} FROM bookings b WHERE {cond}"))
            .bind(value)
            .fetch_optional(&mut *self.inner)
            .await?
            .ok_or(StoreError::NotFound)?;
        let b = from_row(&row)?;
        self.with_booking_hosts(b).await
    }

    /// A booking by id, in any org: for jobs, which carry only the id.
    pub async fn booking_by_id(&mut self, id: BookingId) -> Result<BookingRow> {
        self.booking_where("b.id = $1", id.to_string()).await
    }

    pub async fn booking(&mut self, org: OrgId, id: BookingId) -> Result<BookingRow> {
        let b = self.booking_by_id(id).await?;
        if b.org_id != org {
            return Err(StoreError::NotFound);
        }
        Ok(b)
    }

    pub async fn booking_by_token_hash(&mut self, hash: &str) -> Result<BookingRow> {
        self.booking_where("b.manage_token_hash = $1", hash.to_string())
            .await
    }

    pub async fn booking_by_idempotency_key(
        &mut self,
        org: OrgId,
        key: &str,
    ) -> Result<Option<BookingRow>> {
        let row = sqlx::query(&format!(
            "SELECT {COLS} FROM bookings b WHERE b.org_id = $1 AND b.idempotency_key = $2"
        ))
        .bind(org.to_string())
        .bind(key)
        .fetch_optional(&mut *self.inner)
        .await?;
        match row {
            Some(r) => Ok(Some(self.with_booking_hosts(from_row(&r)?).await?)),
            None => Ok(None),
        }
    }

    /// Moves a booking (and possibly its host) and bumps its sequence.
    #[allow(clippy::too_many_arguments)]
    pub async fn reschedule_booking(
        &mut self,
        id: BookingId,
        host: UserId,
        hosts: &[UserId],
        start: Timestamp,
        end: Timestamp,
        meeting_state: MeetingState,
        notified_seq_if_now: bool,
        now: Timestamp,
    ) -> Result<i64> {
        let row = sqlx::query(
            "UPDATE bookings SET host_user_id = $2, previous_start_at = start_at, start_at = $3, \
             end_at = $4, sequence = sequence + 1, meeting_state = $5, \
             notified_seq = CASE WHEN $6 THEN sequence + 1 ELSE notified_seq END, updated_at = $7 \
             WHERE id = $1 AND status = 'confirmed' RETURNING sequence",
        )
        .bind(id.to_string())
        .bind(host.to_string())
        .bind(ms(start))
        .bind(ms(end))
        .bind(meeting_state.as_str())
        .bind(notified_seq_if_now)
        .bind(ms(now))
        .fetch_optional(&mut *self.inner)
        .await?
        .ok_or(StoreError::NotFound)?;
        self.set_booking_hosts(id, hosts, start, end).await?;
        Ok(row.try_get("sequence")?)
    }

    /// Cancels a standing booking, frees its hosts' time and bumps its sequence; the
    /// cancellation emails are queued by the caller in the same transaction.
    pub async fn cancel_booking(
        &mut self,
        id: BookingId,
        reason: Option<&str>,
        by: &str,
        meeting_state: MeetingState,
        now: Timestamp,
    ) -> Result<i64> {
        let row = sqlx::query(
            "UPDATE bookings SET status = 'cancelled', sequence = sequence + 1, \
             notified_seq = sequence + 1, cancel_reason = $2, cancelled_by = $3, \
             meeting_state = $4, updated_at = $5 \
             WHERE id = $1 AND status = 'confirmed' RETURNING sequence",
        )
        .bind(id.to_string())
        .bind(reason)
        .bind(by)
        .bind(meeting_state.as_str())
        .bind(ms(now))
        .fetch_optional(&mut *self.inner)
        .await?
        .ok_or(StoreError::NotFound)?;
        sqlx::query("UPDATE booking_hosts SET active = FALSE WHERE booking_id = $1")
            .bind(id.to_string())
            .execute(&mut *self.inner)
            .await?;
        Ok(row.try_get("sequence")?)
    }

    pub async fn list_bookings(&mut self, org: OrgId, q: &BookingQuery) -> Result<Vec<BookingRow>> {
        enum Arg {
            Text(String),
            Int(i64),
        }
        let mut args = vec![Arg::Text(org.to_string())];
        let mut sql = format!("SELECT {COLS} FROM bookings b WHERE b.org_id = $1");
        // Each clause pushes its values; placeholders are numbered in push order.
        let push = |args: &mut Vec<Arg>, a: Arg| {
            args.push(a);
            args.len()
        };
        if let Some(h) = q.host {
            let p = push(&mut args, Arg::Text(h.to_string()));
            sql.push_str(&format!(
                " AND b.id IN (SELECT booking_id FROM booking_hosts WHERE user_id = ${p})"
            ));
        }
        if let Some(s) = q.status {
            let p = push(&mut args, Arg::Text(s.as_str().to_string()));
            sql.push_str(&format!(" AND b.status = ${p}"));
        }
        if let Some(f) = q.from {
            let p = push(&mut args, Arg::Int(ms(f)));
            sql.push_str(&format!(" AND b.end_at > ${p}"));
        }
        if let Some(t) = q.to {
            let p = push(&mut args, Arg::Int(ms(t)));
            sql.push_str(&format!(" AND b.start_at < ${p}"));
        }
        if let Some((at, id)) = q.after {
            let p_at = push(&mut args, Arg::Int(ms(at)));
            let p_id = push(&mut args, Arg::Text(id.to_string()));
            sql.push_str(&format!(
                " AND (b.start_at > ${p_at} OR (b.start_at = ${p_at} AND b.id > ${p_id}))"
            ));
        }
        sql.push_str(&format!(
            " ORDER BY b.start_at, b.id LIMIT {}",
            q.limit.clamp(1, 1000)
        ));
        let mut query = sqlx::query(&sql);
        for a in args {
            query = match a {
                Arg::Text(t) => query.bind(t),
                Arg::Int(i) => query.bind(i),
            };
        }
        let rows = query.fetch_all(&mut *self.inner).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            out.push(self.with_booking_hosts(from_row(r)?).await?);
        }
        Ok(out)
    }

    /// Takes the booking's sync lease unless another worker holds it.
    pub async fn take_sync_lease(
        &mut self,
        id: BookingId,
        now: Timestamp,
        until: Timestamp,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE bookings SET sync_lease_until = $2 WHERE id = $1 \
             AND (sync_lease_until IS NULL OR sync_lease_until < $3)",
        )
        .bind(id.to_string())
        .bind(ms(until))
        .bind(ms(now))
        .execute(&mut *self.inner)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn release_sync_lease(&mut self, id: BookingId) -> Result<()> {
        sqlx::query("UPDATE bookings SET sync_lease_until = NULL WHERE id = $1")
            .bind(id.to_string())
            .execute(&mut *self.inner)
            .await?;
        Ok(())
    }

    /// Written (and committed) right before a provider create call, so a retry after a
    /// crash knows a meeting may exist and looks for it before creating another.
    pub async fn mark_meeting_attempted(&mut self, id: BookingId, now: Timestamp) -> Result<()> {
        sqlx::query("UPDATE bookings SET meeting_attempted_at = $2 WHERE id = $1")
            .bind(id.to_string())
            .bind(ms(now))
            .execute(&mut *self.inner)
            .await?;
        Ok(())
    }

    pub async fn record_meeting(
        &mut self,
        id: BookingId,
        m: &MeetingUpdate,
        now: Timestamp,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE bookings SET meeting_state = $2, meeting_provider = $3, \
             meeting_host_user_id = $4, meeting_id = $5, join_url = $6, meeting_synced_seq = $7, \
             meeting_error = $8, meeting_attempted_at = NULL, updated_at = $9 WHERE id = $1",
        )
        .bind(id.to_string())
        .bind(m.state.as_str())
        .bind(m.provider.as_deref())
        .bind(m.host_user_id.map(|u| u.to_string()))
        .bind(m.meeting_id.as_deref())
        .bind(m.join_url.as_deref())
        .bind(m.synced_seq)
        .bind(m.error.as_deref())
        .bind(ms(now))
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    /// Records a failure without touching what is known of the meeting.
    pub async fn record_meeting_failure(
        &mut self,
        id: BookingId,
        state: MeetingState,
        error: &str,
        now: Timestamp,
    ) -> Result<()> {
        let error: String = error.chars().take(500).collect();
        sqlx::query(
            "UPDATE bookings SET meeting_state = $2, meeting_error = $3, updated_at = $4 WHERE id = $1",
        )
        .bind(id.to_string())
        .bind(state.as_str())
        .bind(error)
        .bind(ms(now))
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    /// The emails of `seq` are queued; `link_owed` says the link was not in them.
    pub async fn mark_notified(&mut self, id: BookingId, seq: i64, link_owed: bool) -> Result<()> {
        sqlx::query("UPDATE bookings SET notified_seq = $2, link_owed = $3 WHERE id = $1")
            .bind(id.to_string())
            .bind(seq)
            .bind(link_owed)
            .execute(&mut *self.inner)
            .await?;
        Ok(())
    }

    /// Bookings waiting for a meeting on `host`'s account (failed or pending), for
    /// re-queueing when the host's connection is fixed.
    pub async fn bookings_awaiting_meeting(&mut self, host: UserId) -> Result<Vec<BookingId>> {
        let rows = sqlx::query(
            "SELECT id FROM bookings WHERE host_user_id = $1 AND status = 'confirmed' \
             AND meeting_state IN ('failed', 'pending')",
        )
        .bind(host.to_string())
        .fetch_all(&mut *self.inner)
        .await?;
        rows.iter().map(|r| get_parsed(r, "id")).collect()
    }

    pub async fn add_orphan_meeting(&mut self, o: &OrphanMeeting, now: Timestamp) -> Result<()> {
        sqlx::query(
            "INSERT INTO orphan_meetings (provider, meeting_id, host_user_id, booking_id, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (provider, meeting_id) DO NOTHING",
        )
        .bind(&o.provider)
        .bind(&o.meeting_id)
        .bind(o.host_user_id.to_string())
        .bind(o.booking_id.to_string())
        .bind(ms(now))
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    pub async fn orphan_meetings(&mut self, booking: BookingId) -> Result<Vec<OrphanMeeting>> {
        let rows = sqlx::query(
            "SELECT provider, meeting_id, host_user_id, booking_id FROM orphan_meetings \
             WHERE booking_id = $1",
        )
        .bind(booking.to_string())
        .fetch_all(&mut *self.inner)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(OrphanMeeting {
                    provider: r.try_get("provider")?,
                    meeting_id: r.try_get("meeting_id")?,
                    host_user_id: get_parsed(r, "host_user_id")?,
                    booking_id: get_parsed(r, "booking_id")?,
                })
            })
            .collect()
    }

    pub async fn remove_orphan_meeting(&mut self, provider: &str, meeting_id: &str) -> Result<()> {
        sqlx::query("DELETE FROM orphan_meetings WHERE provider = $1 AND meeting_id = $2")
            .bind(provider)
            .bind(meeting_id)
            .execute(&mut *self.inner)
            .await?;
        Ok(())
    }
}
