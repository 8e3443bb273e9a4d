//! Booked meetings as events in the hosts' calendars: written once the meeting has its
//! link, moved on reschedule, deleted on cancel — by the booking's `sync_meeting` job,
//! so the same retry and idempotency rules apply.
//!
//! Every create carries a key made of the booking and the host; each adapter turns it
//! into its provider's idempotency guard, so a retried create finds the event instead
//! of making a second one. The event id is stored as soon as the provider answers.
//! A 404/410 on delete counts as deleted.

use super::{CALDAV, CALENDAR, GOOGLE, MICROSOFT};
use crate::connections::tokens::TokenError;
use crate::App;
use convene_domain::{BookingStatus, UserId};
use convene_providers::calendar::{Attendee, EventDraft, EventRef};
use convene_providers::ProviderError;
use convene_store::{BookingEventRow, BookingRow, CalendarRow, ConnectionRow};

fn draft(b: &BookingRow, host: &UserId, names: &[(UserId, String, String)]) -> EventDraft {
    let host_name = names
        .iter()
        .find(|n| n.0 == *host)
        .map(|n| n.1.clone())
        .unwrap_or_default();
    let place = b
        .join_url
        .clone()
        .or_else(|| b.location_text.clone())
        .unwrap_or_else(|| "Zoom (the link follows)".into());
    let mut attendees = vec![Attendee {
        name: Some(b.invitee_name.clone()),
        email: b.invitee_email.clone(),
    }];
    attendees.extend(names.iter().filter(|n| n.0 != *host).map(|n| Attendee {
        name: Some(n.1.clone()),
        email: n.2.clone(),
    }));
    EventDraft {
        key: format!("convene-{}-{}", b.id, host),
        summary: format!("{} with {}", b.title, b.invitee_name),
        description: format!(
            "{} with {} <{}>, host {host_name}.\n\nWhere: {place}\n\nBooked through Convene.",
            b.title, b.invitee_name, b.invitee_email
        ),
        location: Some(place.lines().next().unwrap_or_default().to_string()),
        start: b.start_at,
        end: b.end_at,
        attendees,
    }
}

impl App {
    /// Makes the hosts' calendar events match the booking.
    pub(crate) async fn sync_calendar_events(&self, b: &BookingRow) -> Result<(), TokenError> {
        let (rows, names, targets) = {
            let mut tx = self.store.read().await?;
            let rows = tx.booking_events(b.id).await?;
            let mut names = Vec::new();
            let mut targets: Vec<(UserId, Option<(ConnectionRow, CalendarRow)>)> = Vec::new();
            for h in &b.hosts {
                let u = tx.user(b.org_id, *h).await?;
                names.push((u.id, u.display_name().to_string(), u.email.clone()));
                let cal = tx
                    .calendars_of_user(*h)
                    .await?
                    .into_iter()
                    .find(|c| c.write_target);
                let target = match cal {
                    Some(c) => tx
                        .connections_of_user(*h)
                        .await?
                        .into_iter()
                        .find(|k| {
                            k.id == c.connection_id && k.purpose == CALENDAR && k.status == "active"
                        })
                        .map(|k| (k, c)),
                    None => None,
                };
                targets.push((*h, target));
            }
            (rows, names, targets)
        };
        // Events of hosts no longer on the booking (or of a cancelled booking) go.
        for row in &rows {
            let keep = b.status == BookingStatus::Confirmed && b.hosts.contains(&row.user_id);
            if !keep {
                self.remove_event(row).await?;
            }
        }
        if b.status != BookingStatus::Confirmed {
            return Ok(());
        }
        for (host, target) in targets {
            let existing = rows.iter().find(|r| r.user_id == host);
            let Some((conn, cal)) = target else {
                // No calendar receives meetings: nothing to write (an old event stays
                // where it is, since its calendar is no longer chosen or connected).
                continue;
            };
            let event = draft(b, &host, &names);
            match existing {
                Some(r)
                    if r.connection_id == conn.id
                        && r.calendar_id == cal.calendar_id
                        && r.event_id.is_some() =>
                {
                    if r.synced_seq >= b.sequence && !self.event_link_changed(r, b) {
                        continue;
                    }
                    let id = r.event_id.clone().unwrap_or_default();
                    match self
                        .update_event(&conn, &cal.calendar_id, &id, r.etag.as_deref(), &event)
                        .await
                    {
                        Ok(er) => self.save_event(b, host, &conn, &cal, Some(er)).await?,
                        // Deleted in the calendar meanwhile: write it again.
                        Err(TokenError::Provider(ProviderError::NotFound { .. })) => {
                            let er = self.create_event(&conn, &cal.calendar_id, &event).await?;
                            self.save_event(b, host, &conn, &cal, Some(er)).await?;
                        }
                        Err(e) => return Err(e),
                    }
                }
                other => {
                    if let Some(old) = other {
                        // The chosen calendar changed: the event moves there.
                        self.remove_event(old).await?;
                    }
                    let er = self.create_event(&conn, &cal.calendar_id, &event).await?;
                    self.save_event(b, host, &conn, &cal, Some(er)).await?;
                }
            }
        }
        Ok(())
    }

    /// The link written into an event was "follows"; now the meeting has one.
    fn event_link_changed(&self, _row: &BookingEventRow, b: &BookingRow) -> bool {
        b.link_owed && b.join_url.is_some()
    }

    async fn save_event(
        &self,
        b: &BookingRow,
        host: UserId,
        conn: &ConnectionRow,
        cal: &CalendarRow,
        er: Option<EventRef>,
    ) -> Result<(), TokenError> {
        let mut tx = self.store.write().await?;
        tx.save_booking_event(&BookingEventRow {
            booking_id: b.id,
            user_id: host,
            connection_id: conn.id.clone(),
            provider: conn.provider.clone(),
            calendar_id: cal.calendar_id.clone(),
            event_id: er.as_ref().map(|e| e.id.clone()),
            etag: er.and_then(|e| e.etag),
            synced_seq: b.sequence,
        })
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn remove_event(&self, row: &BookingEventRow) -> Result<(), TokenError> {
        if let Some(event_id) = &row.event_id {
            let conn = {
                let mut tx = self.store.read().await?;
                tx.connections_of_user(row.user_id)
                    .await?
                    .into_iter()
                    .find(|c| c.id == row.connection_id)
            };
            // A disconnected calendar cannot be reached any more; its events stay.
            if let Some(conn) = conn {
                match self.delete_event(&conn, &row.calendar_id, event_id).await {
                    Ok(()) | Err(TokenError::Provider(ProviderError::NotFound { .. })) => {}
                    Err(
                        TokenError::NeedsReauth | TokenError::Revoked | TokenError::NotConnected,
                    ) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        let mut tx = self.store.write().await?;
        tx.delete_booking_event(row.booking_id, row.user_id).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn create_event(
        &self,
        conn: &ConnectionRow,
        calendar_id: &str,
        event: &EventDraft,
    ) -> Result<EventRef, TokenError> {
        match conn.provider.as_str() {
            GOOGLE => {
                let c = &self.providers.google;
                self.with_access_token(&conn.id, |t| async move {
                    c.create_event(&t, calendar_id, event).await
                })
                .await
            }
            MICROSOFT => {
                let c = &self.providers.microsoft;
                self.with_access_token(&conn.id, |t| async move {
                    c.create_event(&t, calendar_id, event).await
                })
                .await
            }
            CALDAV => {
                let creds = self.caldav_credentials(conn)?;
                Ok(self
                    .providers
                    .caldav
                    .create_event(&creds, calendar_id, event)
                    .await?)
            }
            other => Err(unknown(other)),
        }
    }

    async fn update_event(
        &self,
        conn: &ConnectionRow,
        calendar_id: &str,
        event_id: &str,
        etag: Option<&str>,
        event: &EventDraft,
    ) -> Result<EventRef, TokenError> {
        match conn.provider.as_str() {
            GOOGLE => {
                let c = &self.providers.google;
                self.with_access_token(&conn.id, |t| async move {
                    c.update_event(&t, calendar_id, event_id, event).await
                })
                .await
            }
            MICROSOFT => {
                let c = &self.providers.microsoft;
                self.with_access_token(&conn.id, |t| async move {
                    c.update_event(&t, event_id, event).await
                })
                .await
            }
            CALDAV => {
                let creds = self.caldav_credentials(conn)?;
                Ok(self
                    .providers
                    .caldav
                    .update_event(&creds, event_id, event, etag)
                    .await?)
            }
            other => Err(unknown(other)),
        }
    }

    async fn delete_event(
        &self,
        conn: &ConnectionRow,
        calendar_id: &str,
        event_id: &str,
    ) -> Result<(), TokenError> {
        match conn.provider.as_str() {
            GOOGLE => {
                let c = &self.providers.google;
                self.with_access_token(&conn.id, |t| async move {
                    c.delete_event(&t, calendar_id, event_id).await
                })
                .await
            }
            MICROSOFT => {
                let c = &self.providers.microsoft;
                self.with_access_token(
                    &conn.id,
                    |t| async move { c.delete_event(&t, event_id).await },
                )
                .await
            }
            CALDAV => {
                let creds = self.caldav_credentials(conn)?;
                Ok(self.providers.caldav.delete_event(&creds, event_id).await?)
            }
            other => Err(unknown(other)),
        }
    }
}

fn unknown(provider: &str) -> TokenError {
    TokenError::Provider(ProviderError::Rejected {
        status: 0,
        code: "unknown_provider".into(),
        message: format!("no calendar adapter for {provider}"),
    })
}
