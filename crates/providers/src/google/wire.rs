//! Google's JSON (OAuth token endpoint, userinfo, Calendar API v3), as serde structs.
//! Private to the `google` module: every struct is converted to a Convene type in
//! `google/mod.rs` before it leaves. Unknown fields are ignored everywhere.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// `POST {token}/token` → 200. `refresh_token` comes with a code exchange (first
/// consent, or every consent with `prompt=consent`), not with a refresh.
#[derive(Deserialize)]
pub(super) struct GoogleTokenResponse {
    pub access_token: String,
    #[serde(default)]
    pub refresh_token: Option<String>,
    #[serde(default)]
    pub expires_in: Option<i64>,
    #[serde(default)]
    pub scope: Option<String>,
}

/// `GET {api}/oauth2/v3/userinfo` → 200 (OpenID Connect claims).
#[derive(Deserialize)]
pub(super) struct GoogleUserInfo {
    pub sub: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
}

/// `GET /calendar/v3/users/me/calendarList` → 200: one page.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct GoogleCalendarList {
    #[serde(default)]
    pub items: Vec<GoogleCalendarListEntry>,
    #[serde(default)]
    pub next_page_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct GoogleCalendarListEntry {
    pub id: String,
    #[serde(default)]
    pub summary: Option<String>,
    /// The name the user gave a calendar shared with them; wins over `summary`.
    #[serde(default)]
    pub summary_override: Option<String>,
    #[serde(default)]
    pub primary: Option<bool>,
    /// `owner`, `writer`, `reader` or `freeBusyReader`.
    #[serde(default)]
    pub access_role: Option<String>,
}

/// Body of `POST /calendar/v3/freeBusy`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct GoogleFreeBusyRequest<'a> {
    pub time_min: String,
    pub time_max: String,
    pub time_zone: &'static str,
    pub items: Vec<GoogleFreeBusyItem<'a>>,
}

#[derive(Serialize)]
pub(super) struct GoogleFreeBusyItem<'a> {
    pub id: &'a str,
}

/// `POST /calendar/v3/freeBusy` → 200: one entry per calendar asked for, keyed by the
/// id as sent.
#[derive(Deserialize)]
pub(super) struct GoogleFreeBusyResponse {
    #[serde(default)]
    pub calendars: HashMap<String, GoogleFreeBusyCalendar>,
}

#[derive(Deserialize)]
pub(super) struct GoogleFreeBusyCalendar {
    #[serde(default)]
    pub busy: Vec<GoogleTimePeriod>,
    /// Present when Google could not read the calendar (`notFound`, `internalError`…);
    /// `busy` is then empty, which must not be read as "free".
    #[serde(default)]
    pub errors: Vec<GoogleErrorItem>,
}

#[derive(Deserialize)]
pub(super) struct GoogleTimePeriod {
    pub start: String,
    pub end: String,
}

/// Body of `POST .../events` (with `id`) and `PATCH .../events/{eventId}` (without).
/// `location` is sent as `null` when absent so that a PATCH clears an old one.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct GoogleEventBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<&'a str>,
    pub summary: &'a str,
    pub description: &'a str,
    pub location: Option<&'a str>,
    pub start: GoogleEventTime,
    pub end: GoogleEventTime,
    pub attendees: Vec<GoogleAttendee<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct GoogleEventTime {
    /// RFC 3339 in UTC (`2026-12-01T15:00:00Z`).
    pub date_time: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct GoogleAttendee<'a> {
    pub email: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<&'a str>,
}

/// The parts of an event resource Convene reads back.
#[derive(Deserialize)]
pub(super) struct GoogleEvent {
    pub id: String,
    /// `confirmed`, `tentative` or `cancelled` (a deleted event, which `GET` still
    /// returns).
    #[serde(default)]
    pub status: Option<String>,
}

/// Every error body Google sends, in one shape. The Calendar API (and the API's
/// gateway) sends `{"error": {"code", "message", "errors": [{"reason", …}], "status"}}`;
/// the OAuth endpoints and userinfo send `{"error": "invalid_grant",
/// "error_description": "…"}`.
#[derive(Deserialize)]
pub(super) struct GoogleErrorBody {
    pub error: GoogleErrorField,
    #[serde(default)]
    pub error_description: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
pub(super) enum GoogleErrorField {
    Api(GoogleApiError),
    OAuth(String),
}

#[derive(Deserialize, Default)]
pub(super) struct GoogleApiError {
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub errors: Vec<GoogleErrorItem>,
    /// The gRPC-style status (`UNAUTHENTICATED`, `PERMISSION_DENIED`, …).
    #[serde(default)]
    pub status: Option<String>,
}

/// One entry of `errors`: `{"domain":"usageLimits","reason":"rateLimitExceeded",
/// "message":"Rate Limit Exceeded"}`.
#[derive(Deserialize)]
pub(super) struct GoogleErrorItem {
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
}
