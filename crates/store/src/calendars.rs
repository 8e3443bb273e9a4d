//! The calendars of calendar connections (which count for conflicts, which receives
//! booked meetings), read failures, and the events written for bookings.

use crate::users::get_bool;
use crate::{get_parsed, ms, Result, Tx};
use convene_domain::{BookingId, UserId};
use jiff::Timestamp;
use sqlx::any::AnyRow;
use sqlx::Row;

/// One calendar of a connection, with the user's choices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarRow {
    pub connection_id: String,
    pub provider: String,
    pub calendar_id: String,
    pub name: String,
    pub is_primary: bool,
    pub writable: bool,
    pub check_conflicts: bool,
    pub write_target: bool,
}

/// A calendar as the provider lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedCalendar {
    pub calendar_id: String,
    pub name: String,
    pub is_primary: bool,
    pub writable: bool,
}

/// The event written for one host of a booking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookingEventRow {
    pub booking_id: BookingId,
    pub user_id: UserId,
    pub connection_id: String,
    pub provider: String,
    pub calendar_id: String,
    pub event_id: Option<String>,
    pub etag: Option<String>,
    pub synced_seq: i64,
}

fn calendar_from_row(r: &AnyRow) -> Result<CalendarRow> {
    Ok(CalendarRow {
        connection_id: r.try_get("connection_id")?,
        provider: r.try_get("provider")?,
        calendar_id: r.try_get("calendar_id")?,
        name: r.try_get("name")?,
        is_primary: get_bool(r, "is_primary")?,
        writable: get_bool(r, "writable")?,
        check_conflicts: get_bool(r, "check_conflicts")?,
        write_target: get_bool(r, "write_target")?,
    })
}

fn event_from_row(r: &AnyRow) -> Result<BookingEventRow> {
    Ok(BookingEventRow {
        booking_id: get_parsed(r, "booking_id")?,
        user_id: get_parsed(r, "user_id")?,
        connection_id: r.try_get("connection_id")?,
        provider: r.try_get("provider")?,
        calendar_id: r.try_get("calendar_id")?,
        event_id: r.try_get("event_id")?,
        etag: r.try_get("etag")?,
        synced_seq: r.try_get("synced_seq")?,
    })
}

const CAL_COLS: &str = "cc.connection_id, c.provider, cc.calendar_id, cc.name, cc.is_primary, \
    cc.writable, cc.check_conflicts, cc.write_target";

impl Tx {
    /// Replaces a connection's calendars with the provider's list, keeping the user's
    /// choices for calendars that remain. New calendars count for conflicts; the primary
    /// (writable) calendar receives meetings unless the user already chose one.
    pub async fn replace_calendars(
        &mut self,
        user: UserId,
        connection_id: &str,
        listed: &[ListedCalendar],
    ) -> Result<()> {
        let before = self.calendars_of_user(user).await?;
        sqlx::query("DELETE FROM connection_calendars WHERE connection_id = $1")
            .bind(connection_id)
            .execute(&mut *self.inner)
            .await?;
        let has_target = before
            .iter()
            .any(|c| c.write_target && c.connection_id != connection_id)
            || before.iter().any(|c| {
                c.write_target
                    && c.connection_id == connection_id
                    && listed
                        .iter()
                        .any(|l| l.calendar_id == c.calendar_id && l.writable)
            });
        for l in listed {
            let old = before
                .iter()
                .find(|c| c.connection_id == connection_id && c.calendar_id == l.calendar_id);
            let check = old.map(|o| o.check_conflicts).unwrap_or(true);
            let target = match old {
                Some(o) => o.write_target && l.writable,
                None => !has_target && l.is_primary && l.writable,
            };
            sqlx::query(
                "INSERT INTO connection_calendars (connection_id, calendar_id, name, is_primary, \
                 writable, check_conflicts, write_target) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(connection_id)
            .bind(&l.calendar_id)
            .bind(&l.name)
            .bind(l.is_primary)
            .bind(l.writable)
            .bind(check)
            .bind(target)
            .execute(&mut *self.inner)
            .await?;
        }
        Ok(())
    }

    /// Every calendar of the user's calendar connections.
    pub async fn calendars_of_user(&mut self, user: UserId) -> Result<Vec<CalendarRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {CAL_COLS} FROM connection_calendars cc JOIN connections c ON c.id = cc.connection_id \
             WHERE c.user_id = $1 AND c.purpose = 'calendar' ORDER BY c.provider, cc.is_primary DESC, cc.name"
        ))
        .bind(user.to_string())
        .fetch_all(&mut *self.inner)
        .await?;
        rows.iter().map(calendar_from_row).collect()
    }

    /// Sets whether a calendar counts for conflicts and whether it receives meetings
    /// (at most one per user: choosing one clears the others).
    pub async fn set_calendar_choice(
        &mut self,
        user: UserId,
        connection_id: &str,
        calendar_id: &str,
        check_conflicts: bool,
        write_target: bool,
    ) -> Result<bool> {
        if write_target {
            sqlx::query(
                "UPDATE connection_calendars SET write_target = FALSE WHERE connection_id IN \
                 (SELECT id FROM connections WHERE user_id = $1 AND purpose = 'calendar')",
            )
            .bind(user.to_string())
            .execute(&mut *self.inner)
            .await?;
        }
        let done = sqlx::query(
            "UPDATE connection_calendars SET check_conflicts = $1, write_target = $2 \
             WHERE connection_id = $3 AND calendar_id = $4 AND connection_id IN \
             (SELECT id FROM connections WHERE user_id = $5 AND purpose = 'calendar') \
             AND (writable = TRUE OR $2 = FALSE)",
        )
        .bind(check_conflicts)
        .bind(write_target)
        .bind(connection_id)
        .bind(calendar_id)
        .bind(user.to_string())
        .execute(&mut *self.inner)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records the outcome of reading a connection's busy times (`None`: it worked).
    pub async fn record_read(
        &mut self,
        connection_id: &str,
        error: Option<&str>,
        now: Timestamp,
    ) -> Result<Option<UserId>> {
        let error: Option<String> = error.map(|e| e.chars().take(500).collect());
        let row = sqlx::query(
            "UPDATE connections SET read_error = $1, read_error_at = $2, \
             last_used_at = CASE WHEN $1 IS NULL THEN $3 ELSE last_used_at END \
             WHERE id = $4 RETURNING user_id",
        )
        .bind(error.as_deref())
        .bind(error.as_ref().map(|_| ms(now)))
        .bind(ms(now))
        .bind(connection_id)
        .fetch_optional(&mut *self.inner)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let user: UserId = get_parsed(&row, "user_id")?;
        self.recompute_action_reasons(user).await?;
        Ok(Some(user))
    }

    pub async fn booking_events(&mut self, booking: BookingId) -> Result<Vec<BookingEventRow>> {
        let rows = sqlx::query(
            "SELECT booking_id, user_id, connection_id, provider, calendar_id, event_id, etag, \
             synced_seq FROM booking_events WHERE booking_id = $1 ORDER BY user_id",
        )
        .bind(booking.to_string())
        .fetch_all(&mut *self.inner)
        .await?;
        rows.iter().map(event_from_row).collect()
    }

    /// Inserts or replaces the event row of one host of a booking.
    pub async fn save_booking_event(&mut self, e: &BookingEventRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO booking_events (booking_id, user_id, connection_id, provider, calendar_id, \
             event_id, etag, synced_seq) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (booking_id, user_id) DO UPDATE SET connection_id = $3, provider = $4, \
             calendar_id = $5, event_id = $6, etag = $7, synced_seq = $8",
        )
        .bind(e.booking_id.to_string())
        .bind(e.user_id.to_string())
        .bind(&e.connection_id)
        .bind(&e.provider)
        .bind(&e.calendar_id)
        .bind(e.event_id.as_deref())
        .bind(e.etag.as_deref())
        .bind(e.synced_seq)
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    pub async fn delete_booking_event(&mut self, booking: BookingId, user: UserId) -> Result<()> {
        sqlx::query("DELETE FROM booking_events WHERE booking_id = $1 AND user_id = $2")
            .bind(booking.to_string())
            .bind(user.to_string())
            .execute(&mut *self.inner)
            .await?;
        Ok(())
    }
}
