//! The emails a booking sends: confirmation, reschedule, cancellation and "your link is
//! ready" to the invitee and every host, each with an `.ics`; and the alert to hosts
//! and admins when a meeting link cannot be created.
//!
//! Each email is its own `send_email` job with a dedupe key and message key made of
//! the booking, its sequence, the notice and the recipient, so a retried or repeated
//! enqueue never sends a second copy. [`enqueue`] also records which sequence was
//! announced (`notified_seq`), in the caller's transaction.

use crate::error::{AppError, AppResult};
use crate::jobs::{enqueue as enqueue_job, Job};
use crate::mail::ics::{self, IcsEvent, IcsMethod, IcsPerson};
use crate::mail::{CalendarPart, OutgoingEmail};
use crate::App;
use convene_domain::{Answers, BookingStatus};
use convene_store::{BookingRow, Tx, UserRow};
use jiff::Timestamp;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    Booked,
    Rescheduled,
    Cancelled,
    /// The link that was owed (Zoom failed at first) now exists.
    LinkReady,
}

impl Notice {
    fn key(self) -> &'static str {
        match self {
            Self::Booked => "booked",
            Self::Rescheduled => "rescheduled",
            Self::Cancelled => "cancelled",
            Self::LinkReady => "link_ready",
        }
    }
}

/// "Tuesday, 1 December 2026, 15:00–15:30 (Europe/Berlin)".
pub fn when(start: Timestamp, end: Timestamp, tz_name: &str) -> String {
    let tz = jiff::tz::TimeZone::get(tz_name).unwrap_or(jiff::tz::TimeZone::UTC);
    let s = start.to_zoned(tz.clone());
    let e = end.to_zoned(tz);
    format!(
        "{}, {}–{} ({tz_name})",
        s.strftime("%A, %-d %B %Y"),
        s.strftime("%H:%M"),
        e.strftime("%H:%M")
    )
}

/// Where the meeting happens, in words, for the email body.
fn place(b: &BookingRow, link_owed: bool) -> String {
    match (&b.join_url, b.location_text.as_deref()) {
        (Some(url), _) => format!("Join Zoom meeting: {url}"),
        (None, Some(text)) => text.to_string(),
        (None, None) if link_owed => {
            "Zoom — the meeting link will follow in a separate email shortly.".into()
        }
        (None, None) => "Zoom".into(),
    }
}

fn ics_location(b: &BookingRow) -> Option<String> {
    b.join_url.clone().or_else(|| {
        b.location_text
            .as_deref()
            .map(|t| t.lines().collect::<Vec<_>>().join(", "))
    })
}

/// What each recipient needs to render their copy.
struct Parts<'a> {
    booking: &'a BookingRow,
    hosts: &'a [UserRow],
    org_name: &'a str,
    manage_url: String,
    notice: Notice,
    link_owed: bool,
    stamp: Timestamp,
}

impl Parts<'_> {
    fn ics(&self) -> CalendarPart {
        let b = self.booking;
        let cancelled = b.status == BookingStatus::Cancelled;
        let host = &self.hosts[0];
        let mut description = format!("{}\n\n{}", b.title, place(b, self.link_owed));
        if !cancelled {
            description.push_str(&format!("\n\nReschedule or cancel: {}", self.manage_url));
        }
        let mut attendees = vec![IcsPerson {
            name: Some(b.invitee_name.clone()),
            email: b.invitee_email.clone(),
        }];
        attendees.extend(self.hosts.iter().skip(1).map(|h| IcsPerson {
            name: Some(h.display_name().to_string()),
            email: h.email.clone(),
        }));
        let method = if cancelled {
            IcsMethod::Cancel
        } else {
            IcsMethod::Request
        };
        let event = IcsEvent {
            uid: format!("{}@convene", b.id),
            // A link sent later is an update of the same sequence: give it the next
            // number so calendars apply it.
            sequence: (b.sequence * 2 + i64::from(self.notice == Notice::LinkReady)) as u32,
            method,
            start: b.start_at,
            end: b.end_at,
            stamp: self.stamp,
            summary: format!(
                "{} ({} and {})",
                b.title,
                host.display_name(),
                b.invitee_name
            ),
            description,
            location: ics_location(b),
            url: b.join_url.clone(),
            organizer: IcsPerson {
                name: Some(host.display_name().to_string()),
                email: host.email.clone(),
            },
            attendees,
        };
        CalendarPart {
            method: method.as_str().to_string(),
            content: ics::render(&event),
        }
    }

    fn subject(&self, tz: &str) -> String {
        let b = self.booking;
        let when = when(b.start_at, b.end_at, tz);
        match self.notice {
            Notice::Booked => format!("Confirmed: {} on {when}", b.title),
            Notice::Rescheduled => format!("Rescheduled: {} is now on {when}", b.title),
            Notice::Cancelled => format!("Cancelled: {} on {when}", b.title),
            Notice::LinkReady => format!("Meeting link for {} on {when}", b.title),
        }
    }

    fn body(&self, tz: &str, for_invitee: bool) -> String {
        let b = self.booking;
        let host_names: Vec<&str> = self.hosts.iter().map(|h| h.display_name()).collect();
        let mut text = match self.notice {
            Notice::Booked if for_invitee => {
                format!("Your meeting with {} is booked.\n", host_names.join(", "))
            }
            Notice::Booked => format!(
                "{} <{}> booked {} with you.\n",
                b.invitee_name, b.invitee_email, b.title
            ),
            Notice::Rescheduled => {
                let was = b
                    .previous_start_at
                    .map(|p| {
                        let len = b.end_at.duration_since(b.start_at);
                        let pe = p.checked_add(len).unwrap_or(p);
                        format!(" (was {})", when(p, pe, tz))
                    })
                    .unwrap_or_default();
                format!("{} was moved to a new time{was}.\n", b.title)
            }
            Notice::Cancelled => {
                let by = match b.cancelled_by.as_deref() {
                    Some("invitee") => b.invitee_name.clone(),
                    Some(other) => other.to_string(),
                    None => "someone".into(),
                };
                format!("{} was cancelled by {by}.\n", b.title)
            }
            Notice::LinkReady => format!("The meeting link for {} is ready.\n", b.title),
        };
        text.push_str(&format!(
            "\nWhat: {}\nWhen: {}\nWho: {} and {}\nWhere: {}\n",
            b.title,
            when(b.start_at, b.end_at, tz),
            host_names.join(", "),
            b.invitee_name,
            place(b, self.link_owed)
        ));
        if let Some(reason) = b.cancel_reason.as_deref() {
            text.push_str(&format!("Reason: {reason}\n"));
        }
        if !for_invitee {
            let answers: Answers = serde_json::from_str(&b.answers).unwrap_or_default();
            for (k, v) in answers.iter() {
                text.push_str(&format!("{k}: {v}\n"));
            }
        }
        if b.status == BookingStatus::Confirmed && for_invitee {
            text.push_str(&format!(
                "\nNeed to change it?\nReschedule: {0}/reschedule\nCancel: {0}/cancel\n",
                self.manage_url
            ));
        }
        text.push_str(&format!("\n— {} via Convene\n", self.org_name));
        text
    }
}

/// Queues the emails of `notice` for `booking` (as it is now) to the invitee and every
/// host, and records the announced sequence.
pub async fn enqueue(
    app: &App,
    tx: &mut Tx,
    booking: &BookingRow,
    notice: Notice,
    now: Timestamp,
) -> AppResult<()> {
    let link_owed = booking.location_kind == "zoom"
        && booking.join_url.is_none()
        && booking.status == BookingStatus::Confirmed;
    let mut hosts = Vec::with_capacity(booking.hosts.len());
    for h in &booking.hosts {
        hosts.push(tx.user(booking.org_id, *h).await?);
    }
    if hosts.is_empty() {
        return Err(AppError::Unexpected(anyhow::anyhow!(
            "booking {} has no hosts",
            booking.id
        )));
    }
    let org = tx.org(booking.org_id).await?;
    let token = app
        .secrets
        .open(&booking.manage_token_sealed)
        .map_err(AppError::Unexpected)?;
    let token = String::from_utf8(token).map_err(|e| AppError::Unexpected(e.into()))?;
    let parts = Parts {
        booking,
        hosts: &hosts,
        org_name: &org.name,
        manage_url: format!("{}/booking/{token}", app.settings.base_url),
        notice,
        link_owed,
        stamp: now,
    };
    let calendar = parts.ics();
    let mut recipients: Vec<(String, String, bool)> = vec![(
        booking.invitee_email.clone(),
        booking.invitee_time_zone.clone(),
        true,
    )];
    recipients.extend(
        hosts
            .iter()
            .map(|h| (h.email.clone(), h.time_zone.clone(), false)),
    );
    for (to, tz, for_invitee) in recipients {
        let key = format!(
            "booking-{}-{}-{}-{}",
            booking.id,
            booking.sequence,
            notice.key(),
            crate::tokens::hash_token(&to.to_lowercase())
                .chars()
                .take(16)
                .collect::<String>()
        );
        let email = OutgoingEmail {
            org_id: Some(booking.org_id),
            to,
            subject: parts.subject(&tz),
            text: parts.body(&tz, for_invitee),
            html: None,
            calendar: Some(calendar.clone()),
            message_key: Some(key.clone()),
        };
        enqueue_job(tx, &Job::SendEmail(email), Some(key), now).await?;
    }
    match notice {
        Notice::LinkReady => {
            tx.mark_notified(booking.id, booking.sequence, false)
                .await?
        }
        _ => {
            tx.mark_notified(booking.id, booking.sequence, link_owed)
                .await?
        }
    }
    Ok(())
}

/// Tells the hosts and the org's admins that a booking's meeting link could not be
/// created, once per booking sequence.
pub async fn enqueue_link_failure(
    app: &App,
    tx: &mut Tx,
    booking: &BookingRow,
    error: &str,
    now: Timestamp,
) -> AppResult<()> {
    let host = tx.user(booking.org_id, booking.host_user_id).await?;
    let mut to: Vec<String> = vec![host.email.clone()];
    for admin in tx.active_admins(booking.org_id).await? {
        if !to.contains(&admin.email) {
            to.push(admin.email);
        }
    }
    let when = when(booking.start_at, booking.end_at, &host.time_zone);
    for addr in to {
        let key = format!(
            "booking-{}-{}-link-failed-{}",
            booking.id,
            booking.sequence,
            crate::tokens::hash_token(&addr.to_lowercase())
                .chars()
                .take(16)
                .collect::<String>()
        );
        let email = OutgoingEmail {
            org_id: Some(booking.org_id),
            to: addr,
            subject: format!("Action needed: no Zoom link yet for {} on {when}", booking.title),
            text: format!(
                "Convene could not create the Zoom meeting for {title} with {invitee} on {when}, \
                 hosted by {host}.\n\nReason: {error}\n\nThe invitee was told the link will follow. \
                 Convene keeps trying; if {host}'s Zoom connection needs attention, reconnect it at \
                 {base}/profile and the link is created and sent automatically.\n",
                title = booking.title,
                invitee = booking.invitee_name,
                host = host.display_name(),
                base = app.settings.base_url,
            ),
            html: None,
            calendar: None,
            message_key: Some(key.clone()),
        };
        enqueue_job(tx, &Job::SendEmail(email), Some(key), now).await?;
    }
    Ok(())
}
