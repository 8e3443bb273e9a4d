//! Google's JSON on the wire, as the sandbox writes it: token responses and OAuth
//! errors, userinfo, Calendar API errors, calendar-list entries, free/busy answers and
//! event resources. Request bodies are read field by field in `api.rs` (a PATCH must
//! tell an absent field from a `null` one), so there are no request structs here.
//! Private to the crate.

use serde::Serialize;
use std::collections::BTreeMap;

/// `200` from `POST /token`.
#[derive(Serialize)]
pub(crate) struct TokenResponse {
    pub access_token: String,
    pub expires_in: u64,
    /// Only on a code exchange with `access_type=offline` (see `state.rs`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    pub scope: String,
    pub token_type: &'static str,
    /// When `openid` was granted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
}

/// An OAuth error body: `{"error":"invalid_grant","error_description":"…"}`.
#[derive(Serialize)]
pub(crate) struct OAuthErrorBody<'a> {
    pub error: &'a str,
    pub error_description: &'a str,
}

/// `GET /oauth2/v3/userinfo`.
#[derive(Serialize)]
pub(crate) struct UserInfo<'a> {
    pub sub: &'a str,
    pub name: String,
    pub given_name: &'a str,
    pub family_name: &'a str,
    pub picture: String,
    pub email: &'a str,
    pub email_verified: bool,
}

/// A Calendar API error: `{"error":{"errors":[…],"code","message","status"?}}`.
#[derive(Serialize)]
pub(crate) struct ApiErrorBody<'a> {
    pub error: ApiError<'a>,
}

#[derive(Serialize)]
pub(crate) struct ApiError<'a> {
    pub errors: Vec<ApiErrorItem<'a>>,
    pub code: u16,
    pub message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ApiErrorItem<'a> {
    pub domain: &'a str,
    pub reason: &'a str,
    pub message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location_type: Option<&'a str>,
}

/// `GET /calendar/v3/users/me/calendarList`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CalendarList<'a> {
    pub kind: &'static str,
    pub etag: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
    /// Only on the last page, as at Google.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_sync_token: Option<String>,
    pub items: Vec<CalendarListEntry<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CalendarListEntry<'a> {
    pub kind: &'static str,
    pub etag: String,
    pub id: &'a str,
    pub summary: &'a str,
    pub time_zone: &'a str,
    pub color_id: &'static str,
    pub background_color: &'static str,
    pub foreground_color: &'static str,
    pub selected: bool,
    pub access_role: &'static str,
    pub default_reminders: Vec<Reminder>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub primary: Option<bool>,
}

#[derive(Serialize)]
pub(crate) struct Reminder {
    pub method: &'static str,
    pub minutes: u32,
}

/// `POST /calendar/v3/freeBusy`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct FreeBusyResponse {
    pub kind: &'static str,
    pub time_min: String,
    pub time_max: String,
    pub calendars: BTreeMap<String, FreeBusyCalendar>,
}

#[derive(Serialize)]
pub(crate) struct FreeBusyCalendar {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FreeBusyError>,
    pub busy: Vec<TimePeriod>,
}

#[derive(Serialize)]
pub(crate) struct FreeBusyError {
    pub domain: &'static str,
    pub reason: &'static str,
}

#[derive(Serialize)]
pub(crate) struct TimePeriod {
    pub start: String,
    pub end: String,
}

/// An event resource, as insert, get, patch and update return it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct EventResource<'a> {
    pub kind: &'static str,
    pub etag: String,
    pub id: &'a str,
    pub status: &'static str,
    pub html_link: String,
    pub created: String,
    pub updated: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<&'a str>,
    pub creator: Person<'a>,
    pub organizer: Person<'a>,
    pub start: EventTime,
    pub end: EventTime,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transparency: Option<&'static str>,
    #[serde(rename = "iCalUID")]
    pub ical_uid: String,
    pub sequence: u32,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attendees: Vec<AttendeeResource<'a>>,
    pub reminders: Reminders,
    pub event_type: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Person<'a> {
    pub email: &'a str,
    #[serde(rename = "self")]
    pub is_self: bool,
}

/// `{"dateTime","timeZone"?}` or, for an all-day event, `{"date"}`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct EventTime {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AttendeeResource<'a> {
    pub email: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<&'a str>,
    pub response_status: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Reminders {
    pub use_default: bool,
}
