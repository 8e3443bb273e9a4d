//! The `sync_meeting` job: makes a booking's provider meeting match the booking.
//!
//! It is a reconciler, not a list of steps: each run reads the booking and does what
//! is missing — create, update in place, replace on a host change or when Zoom lost
//! the meeting, delete on cancel — so running it twice, or after a crash at any point,
//! converges on exactly one meeting.
//!
//! Crash safety of "create": right before calling Zoom the job commits
//! `meeting_attempted_at`. A run that finds it set without a meeting id lists the
//! host's Zoom meetings and adopts the one whose agenda carries this booking's
//! reference, instead of creating a second one. Extra copies are deleted.
//! The meeting id and `join_url` are committed as soon as Zoom answers.

use super::notices::{self, Notice};
use crate::connections::tokens::TokenError;
use crate::connections::{CONFERENCING, ZOOM};
use crate::error::{AppError, AppResult};
use crate::jobs::{enqueue, Job, RetryAfter};
use crate::App;
use anyhow::Context;
use convene_domain::booking::PROVIDER_ZOOM;
use convene_domain::{BookingId, BookingStatus, MeetingState, UserId};
use convene_providers::zoom::{MeetingRequest, ZoomMeeting};
use convene_providers::ProviderError;
use convene_store::{BookingRow, MeetingUpdate, OrphanMeeting, Tx};
use jiff::{SignedDuration, Timestamp};
use std::time::Duration;

/// After this many failed attempts the invitee gets their confirmation without the
/// link ("it will follow") and hosts and admins are alerted; the job keeps trying.
pub const ATTEMPTS_BEFORE_NOTICE: i64 = 3;

/// The line in a Zoom meeting's agenda that ties it to its booking.
pub fn booking_ref(id: BookingId) -> String {
    format!("Convene booking {id}")
}

/// Queues a sync for the booking's current sequence, in the caller's transaction.
pub async fn enqueue_sync(tx: &mut Tx, b: &BookingRow, now: Timestamp) -> AppResult<()> {
    enqueue(
        tx,
        &Job::SyncMeeting { booking_id: b.id },
        Some(format!("sync_meeting:{}:{}", b.id, b.sequence)),
        now,
    )
    .await
}

/// Why a provider step failed, and whether waiting can help.
#[derive(Debug)]
enum SyncError {
    /// Worth retrying soon (timeouts, 5xx, 429, another worker holds the booking).
    Transient(String, Option<Duration>),
    /// Will not work until someone acts (no connection, reauthorization, refusal).
    Blocked(String),
    Internal(anyhow::Error),
}

impl From<TokenError> for SyncError {
    fn from(e: TokenError) -> Self {
        match e {
            TokenError::Provider(p) => p.into(),
            TokenError::Unexpected(e) => SyncError::Internal(e),
            other => SyncError::Blocked(format!("Zoom: {other}")),
        }
    }
}

impl From<ProviderError> for SyncError {
    fn from(e: ProviderError) -> Self {
        match e {
            ProviderError::RateLimited { retry_after } => {
                SyncError::Transient("Zoom rate limit (429)".into(), retry_after)
            }
            ProviderError::Transient(m) => SyncError::Transient(format!("Zoom: {m}"), None),
            other => SyncError::Blocked(format!("Zoom: {other}")),
        }
    }
}

impl From<AppError> for SyncError {
    fn from(e: AppError) -> Self {
        SyncError::Internal(anyhow::Error::new(e))
    }
}

impl From<convene_store::StoreError> for SyncError {
    fn from(e: convene_store::StoreError) -> Self {
        SyncError::Internal(e.into())
    }
}

/// Kills the process at a named point when `CONVENE_FAILPOINT` names it: the crash
/// tests use it to stop the server between two steps of a booking, the way a power
/// cut would (SIGKILL: no destructors, no graceful shutdown).
fn failpoint(name: &str) {
    if std::env::var("CONVENE_FAILPOINT").is_ok_and(|f| f == name) {
        tracing::warn!(failpoint = name, "failpoint reached: killing the process");
        let _ = std::process::Command::new("kill")
            .args(["-9", &std::process::id().to_string()])
            .status();
        std::process::abort();
    }
}

impl App {
    /// The `sync_meeting` job. `attempt` counts from 1.
    pub async fn sync_meeting(&self, booking: BookingId, attempt: i64) -> anyhow::Result<()> {
        let now = self.now();
        let lease = SignedDuration::try_from(self.settings.job_lease)?;
        let mut tx = self.store.write().await?;
        if !tx
            .take_sync_lease(booking, now, now.saturating_add(lease)?)
            .await?
        {
            // Another worker is on it; its run will see this sequence too, or this
            // job runs again shortly.
            return Err(RetryAfter(Duration::from_secs(2)).into());
        }
        tx.commit().await?;
        let outcome = self.reconcile(booking).await;
        let mut tx = self.store.write().await?;
        tx.release_sync_lease(booking).await?;
        tx.commit().await?;
        match outcome {
            Ok(()) => Ok(()),
            Err(SyncError::Internal(e)) => Err(e),
            Err(SyncError::Transient(msg, retry_after)) => {
                self.record_failure(booking, &msg, attempt >= ATTEMPTS_BEFORE_NOTICE)
                    .await?;
                match retry_after {
                    Some(d) => Err(anyhow::Error::new(RetryAfter(d)).context(msg)),
                    None => Err(anyhow::anyhow!(msg)),
                }
            }
            Err(SyncError::Blocked(msg)) => {
                self.record_failure(booking, &msg, true).await?;
                Err(anyhow::anyhow!(msg))
            }
        }
    }

    /// Records why the link is missing; once it is clearly not coming soon, sends the
    /// confirmation without it and alerts hosts and admins (once per sequence).
    async fn record_failure(
        &self,
        id: BookingId,
        error: &str,
        give_notice: bool,
    ) -> anyhow::Result<()> {
        let now = self.now();
        let mut tx = self.store.write().await?;
        let b = tx.booking_by_id(id).await?;
        if b.status != BookingStatus::Confirmed {
            tx.record_meeting_failure(id, MeetingState::Pending, error, now)
                .await?;
            tx.commit().await?;
            return Ok(());
        }
        let state = if give_notice {
            MeetingState::Failed
        } else {
            MeetingState::Pending
        };
        tx.record_meeting_failure(id, state, error, now).await?;
        if give_notice && b.notified_seq < b.sequence {
            let b = tx.booking_by_id(id).await?;
            let notice = if b.sequence == 0 {
                Notice::Booked
            } else {
                Notice::Rescheduled
            };
            notices::enqueue(self, &mut tx, &b, notice, now).await?;
            notices::enqueue_link_failure(self, &mut tx, &b, error, now).await?;
            tracing::warn!(booking = %id, %error, "meeting link missing; invitee told it will follow");
        }
        tx.commit().await?;
        self.job_signal.notify_waiters();
        Ok(())
    }

    async fn zoom_connection(&self, user: UserId) -> Result<String, SyncError> {
        let mut tx = self.store.read().await?;
        match tx.connection(user, ZOOM, CONFERENCING).await? {
            Some(c) if c.status == "active" => Ok(c.id),
            Some(_) => Err(SyncError::Blocked(
                "the host's Zoom connection needs to be reauthorized".into(),
            )),
            None => Err(SyncError::Blocked("the host has no Zoom connection".into())),
        }
    }

    fn meeting_request(&self, b: &BookingRow, host_tz: &str) -> MeetingRequest {
        MeetingRequest {
            topic: format!("{} ({})", b.title, b.invitee_name),
            start: b.start_at,
            duration_minutes: (b.end_at.duration_since(b.start_at).as_secs() / 60).max(1) as u32,
            timezone: host_tz.to_string(),
            agenda: Some(format!(
                "{} with {} <{}>.\n{}",
                b.title,
                b.invitee_name,
                b.invitee_email,
                booking_ref(b.id)
            )),
        }
    }

    async fn reconcile(&self, id: BookingId) -> Result<(), SyncError> {
        // Each pass settles one thing; a few passes settle a host change
        // (forget the old meeting, then create the new one).
        for _ in 0..4 {
            let b = self.store.read().await?.booking_by_id(id).await?;
            let done = match b.status {
                BookingStatus::Cancelled => self.remove_meeting(&b).await?,
                BookingStatus::Confirmed if b.location_kind == PROVIDER_ZOOM => {
                    self.ensure_meeting(&b).await?
                }
                BookingStatus::Confirmed => true,
            };
            if done {
                self.delete_orphans(id).await?;
                // The hosts' calendars get (or lose) the event once the link is known.
                let b = self.store.read().await?.booking_by_id(id).await?;
                self.sync_calendar_events(&b).await?;
                return self.announce(id).await;
            }
        }
        Err(SyncError::Internal(anyhow::anyhow!(
            "booking {id}: the meeting did not settle"
        )))
    }

    /// Makes sure a confirmed booking has its meeting on the right account at the
    /// right time. `true` when settled.
    async fn ensure_meeting(&self, b: &BookingRow) -> Result<bool, SyncError> {
        let now = self.now();
        let host = b.host_user_id;
        if let (Some(meeting_id), Some(meeting_host)) = (&b.meeting_id, b.meeting_host_user_id) {
            if meeting_host != host {
                // Round Robin re-assignment: the meeting must be on the new host's
                // account. Forget the old one (deleted as an orphan) and create anew.
                let mut tx = self.store.write().await?;
                tx.add_orphan_meeting(
                    &OrphanMeeting {
                        provider: PROVIDER_ZOOM.into(),
                        meeting_id: meeting_id.clone(),
                        host_user_id: meeting_host,
                        booking_id: b.id,
                    },
                    now,
                )
                .await?;
                self.forget_meeting(&mut tx, b, MeetingState::Pending)
                    .await?;
                tx.commit().await?;
                return Ok(false);
            }
            if b.meeting_synced_seq >= b.sequence {
                return Ok(true);
            }
            let conn = self.zoom_connection(host).await?;
            let tz = self.host_time_zone(b).await?;
            let request = self.meeting_request(b, &tz);
            let zoom = &self.providers.zoom;
            let updated = self
                .with_access_token(&conn, |t| {
                    let request = request.clone();
                    let meeting_id = meeting_id.clone();
                    async move { zoom.update_meeting(&t, &meeting_id, &request).await }
                })
                .await;
            let mut tx = self.store.write().await?;
            match updated {
                Ok(()) => {
                    tx.record_meeting(
                        b.id,
                        &MeetingUpdate {
                            state: MeetingState::Ready,
                            provider: Some(PROVIDER_ZOOM.into()),
                            host_user_id: Some(host),
                            meeting_id: Some(meeting_id.clone()),
                            join_url: b.join_url.clone(),
                            synced_seq: b.sequence,
                            error: None,
                        },
                        now,
                    )
                    .await?;
                    tx.commit().await?;
                    Ok(true)
                }
                // Zoom no longer has it (3001: deleted in Zoom, or expired): a new
                // meeting replaces it.
                Err(TokenError::Provider(ProviderError::NotFound { .. })) => {
                    self.forget_meeting(&mut tx, b, MeetingState::Pending)
                        .await?;
                    tx.commit().await?;
                    Ok(false)
                }
                Err(e) => Err(e.into()),
            }
        } else {
            let conn = self.zoom_connection(host).await?;
            let zoom = &self.providers.zoom;
            // A previous run may have created it and died before storing the answer.
            let mut adopted: Option<ZoomMeeting> = None;
            if b.meeting_attempted_at.is_some() {
                let mut mine = self.meetings_of_booking(&conn, b.id).await?;
                mine.sort_by(|a, b| a.id.cmp(&b.id));
                if !mine.is_empty() {
                    let keep = mine.remove(0);
                    let mut tx = self.store.write().await?;
                    for extra in mine {
                        tx.add_orphan_meeting(
                            &OrphanMeeting {
                                provider: PROVIDER_ZOOM.into(),
                                meeting_id: extra.id,
                                host_user_id: host,
                                booking_id: b.id,
                            },
                            now,
                        )
                        .await?;
                    }
                    tx.commit().await?;
                    adopted = Some(keep);
                }
            }
            let meeting = match adopted {
                Some(m) => {
                    tracing::info!(booking = %b.id, meeting = %m.id, "adopted a meeting created before a crash");
                    m
                }
                None => {
                    let tz = self.host_time_zone(b).await?;
                    let request = self.meeting_request(b, &tz);
                    let mut tx = self.store.write().await?;
                    tx.mark_meeting_attempted(b.id, now).await?;
                    tx.commit().await?;
                    failpoint("sync.before_create");
                    let created = self
                        .with_access_token(&conn, |t| {
                            let request = request.clone();
                            async move { zoom.create_meeting(&t, "me", &request).await }
                        })
                        .await?;
                    failpoint("sync.after_create");
                    created
                }
            };
            let mut tx = self.store.write().await?;
            // The time may have moved while the meeting was being made: if so the
            // next pass updates it in place.
            let current = tx.booking_by_id(b.id).await?;
            tx.record_meeting(
                b.id,
                &MeetingUpdate {
                    state: MeetingState::Ready,
                    provider: Some(PROVIDER_ZOOM.into()),
                    host_user_id: Some(host),
                    meeting_id: Some(meeting.id.clone()),
                    join_url: Some(meeting.join_url.clone()),
                    synced_seq: b.sequence,
                    error: None,
                },
                now,
            )
            .await?;
            tx.commit().await?;
            Ok(current.sequence == b.sequence
                && current.status == BookingStatus::Confirmed
                && current.host_user_id == host)
        }
    }

    /// Cancelled: deletes the meeting (and any a crash may have left). `true` when done.
    async fn remove_meeting(&self, b: &BookingRow) -> Result<bool, SyncError> {
        let now = self.now();
        let mut tx = self.store.write().await?;
        if let (Some(meeting_id), Some(meeting_host)) = (&b.meeting_id, b.meeting_host_user_id) {
            tx.add_orphan_meeting(
                &OrphanMeeting {
                    provider: PROVIDER_ZOOM.into(),
                    meeting_id: meeting_id.clone(),
                    host_user_id: meeting_host,
                    booking_id: b.id,
                },
                now,
            )
            .await?;
        }
        tx.commit().await?;
        if b.meeting_id.is_none() && b.meeting_attempted_at.is_some() {
            // A create may have happened without its answer being stored.
            if let Ok(conn) = self.zoom_connection(b.host_user_id).await {
                let found = self.meetings_of_booking(&conn, b.id).await?;
                let mut tx = self.store.write().await?;
                for m in found {
                    tx.add_orphan_meeting(
                        &OrphanMeeting {
                            provider: PROVIDER_ZOOM.into(),
                            meeting_id: m.id,
                            host_user_id: b.host_user_id,
                            booking_id: b.id,
                        },
                        now,
                    )
                    .await?;
                }
                tx.commit().await?;
            }
        }
        self.delete_orphans(b.id).await?;
        let mut tx = self.store.write().await?;
        self.forget_meeting(&mut tx, b, MeetingState::Removed)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// The host's Zoom meetings whose agenda carries this booking's reference: the
    /// ones a create may have made without its answer being stored.
    async fn meetings_of_booking(
        &self,
        conn: &str,
        booking: BookingId,
    ) -> Result<Vec<ZoomMeeting>, SyncError> {
        let zoom = &self.providers.zoom;
        let reference = booking_ref(booking);
        let found = self
            .with_access_token(conn, |t| async move { zoom.list_meetings(&t, "me").await })
            .await?;
        Ok(found
            .into_iter()
            .filter(|m| m.agenda.as_deref().is_some_and(|a| a.contains(&reference)))
            .collect())
    }

    async fn forget_meeting(
        &self,
        tx: &mut Tx,
        b: &BookingRow,
        state: MeetingState,
    ) -> Result<(), SyncError> {
        tx.record_meeting(
            b.id,
            &MeetingUpdate {
                state,
                provider: None,
                host_user_id: None,
                meeting_id: None,
                join_url: None,
                synced_seq: -1,
                error: None,
            },
            self.now(),
        )
        .await?;
        Ok(())
    }

    /// Deletes meetings recorded as orphans; one already gone counts as deleted.
    async fn delete_orphans(&self, id: BookingId) -> Result<(), SyncError> {
        let orphans = self.store.read().await?.orphan_meetings(id).await?;
        for o in orphans {
            let result = match self.zoom_connection(o.host_user_id).await {
                Ok(conn) => {
                    let zoom = &self.providers.zoom;
                    let meeting_id = o.meeting_id.clone();
                    self.with_access_token(&conn, |t| {
                        let meeting_id = meeting_id.clone();
                        async move { zoom.delete_meeting(&t, &meeting_id).await }
                    })
                    .await
                }
                // Without a connection the meeting cannot be reached; its account's
                // owner removed the app, which removes its meetings' management too.
                Err(SyncError::Blocked(_)) => Ok(()),
                Err(e) => return Err(e),
            };
            match result {
                Ok(()) | Err(TokenError::Provider(ProviderError::NotFound { .. })) => {}
                Err(e) => return Err(e.into()),
            }
            let mut tx = self.store.write().await?;
            tx.remove_orphan_meeting(&o.provider, &o.meeting_id).await?;
            tx.commit().await?;
        }
        Ok(())
    }

    /// Sends the emails the current state owes: the confirmation or reschedule notice
    /// (with the link), or the link that was promised to follow.
    async fn announce(&self, id: BookingId) -> Result<(), SyncError> {
        let now = self.now();
        let mut tx = self.store.write().await?;
        let b = tx.booking_by_id(id).await?;
        if b.status == BookingStatus::Confirmed {
            if b.notified_seq < b.sequence {
                let notice = if b.sequence == 0 {
                    Notice::Booked
                } else {
                    Notice::Rescheduled
                };
                notices::enqueue(self, &mut tx, &b, notice, now).await?;
            } else if b.link_owed && b.join_url.is_some() {
                notices::enqueue(self, &mut tx, &b, Notice::LinkReady, now).await?;
            }
        }
        tx.commit().await?;
        self.job_signal.notify_waiters();
        Ok(())
    }

    async fn host_time_zone(&self, b: &BookingRow) -> Result<String, SyncError> {
        let mut tx = self.store.read().await?;
        let host = tx
            .user(b.org_id, b.host_user_id)
            .await
            .context("loading the host")
            .map_err(SyncError::Internal)?;
        Ok(host.time_zone)
    }

    /// Queues a sync for every booking of `host` still waiting for its meeting (after
    /// the host's Zoom connection was fixed).
    pub async fn resync_waiting_bookings(
        &self,
        tx: &mut Tx,
        host: UserId,
        now: Timestamp,
    ) -> AppResult<usize> {
        let waiting = tx.bookings_awaiting_meeting(host).await?;
        for id in &waiting {
            let b = tx.booking_by_id(*id).await?;
            enqueue(
                tx,
                &Job::SyncMeeting { booking_id: b.id },
                Some(format!("sync_meeting:{}:{}:resync", b.id, b.sequence)),
                now,
            )
            .await?;
        }
        Ok(waiting.len())
    }
}
