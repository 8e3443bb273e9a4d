//! What every calendar adapter (Google, Microsoft Graph, CalDAV) speaks in: Convene's
//! own terms for calendars, busy times and the events Convene writes. Each adapter
//! converts its provider's wire format to and from these, inside its module.

use jiff::Timestamp;

/// The account behind a token (or CalDAV credentials). Bind connections to `id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarAccount {
    /// The provider's stable user id (Google `sub`, Graph `id`, CalDAV principal URL).
    pub id: String,
    pub email: String,
    pub display_name: String,
}

/// One calendar of an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarInfo {
    /// The provider's id (Google calendar id, Graph calendar id, CalDAV collection URL).
    pub id: String,
    pub name: String,
    /// The account's main calendar (where new meetings go by default).
    pub primary: bool,
    /// Whether Convene may write events to it.
    pub writable: bool,
}

/// A busy span `[start, end)` in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct BusyTime {
    pub start: Timestamp,
    pub end: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attendee {
    pub name: Option<String>,
    pub email: String,
}

/// The event Convene writes for a booked meeting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventDraft {
    /// Stable for the booking and its host across retries: the adapter uses it as its
    /// provider's idempotency guard (Google's client-chosen event id, Graph's
    /// `transactionId`, the CalDAV resource name and `UID`), so a retried create never
    /// makes a second event.
    pub key: String,
    pub summary: String,
    /// Plain text; carries the meeting link.
    pub description: String,
    /// The meeting link (or address).
    pub location: Option<String>,
    pub start: Timestamp,
    pub end: Timestamp,
    pub attendees: Vec<Attendee>,
}

/// A written event: its provider id, and the version tag where the provider needs one
/// for updates (CalDAV `ETag`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRef {
    pub id: String,
    pub etag: Option<String>,
}
