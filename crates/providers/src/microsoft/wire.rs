//! The Microsoft identity platform's and Graph's JSON, as serde structs. Private to
//! the `microsoft` module: every struct is converted to a Convene type in
//! `microsoft/mod.rs` before it leaves. Unknown fields are ignored everywhere.

use serde::{Deserialize, Serialize};

/// `POST /{tenant}/oauth2/v2.0/token` → 200.
#[derive(Deserialize)]
pub(super) struct TokenResponse {
    pub access_token: String,
    #[serde(default)]
    pub refresh_token: Option<String>,
    /// A number in v2.0; the v1.0 endpoint sent a string, so accept both.
    #[serde(default)]
    pub expires_in: Option<NumberOrText>,
    #[serde(default)]
    pub scope: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
pub(super) enum NumberOrText {
    Number(i64),
    Text(String),
}

impl NumberOrText {
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Self::Number(n) => Some(*n),
            Self::Text(s) => s.trim().parse().ok(),
        }
    }
}

/// `GET /v1.0/me` → 200.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct User {
    pub id: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub mail: Option<String>,
    #[serde(default)]
    pub user_principal_name: Option<String>,
}

/// One page of a Graph collection: `value` and, unless it is the last page,
/// `@odata.nextLink` (an absolute URL to GET as it is).
#[derive(Deserialize)]
pub(super) struct Page<T> {
    #[serde(default = "Vec::new")]
    pub value: Vec<T>,
    #[serde(rename = "@odata.nextLink", default)]
    pub next_link: Option<String>,
}

/// An entry of `GET /v1.0/me/calendars`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Calendar {
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub is_default_calendar: Option<bool>,
    #[serde(default)]
    pub can_edit: Option<bool>,
}

/// A Graph `dateTimeTimeZone`: a local date-time without offset and the zone it is in.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct DateTimeZone {
    pub date_time: String,
    #[serde(default)]
    pub time_zone: Option<String>,
}

/// An entry of a `calendarView`: just what busy times need.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ViewEvent {
    #[serde(default)]
    pub show_as: Option<String>,
    #[serde(default)]
    pub is_cancelled: Option<bool>,
    pub start: DateTimeZone,
    pub end: DateTimeZone,
}

/// Body of `POST /v1.0/me/calendars/{id}/events` and `PATCH /v1.0/me/events/{id}`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct EventBody<'a> {
    pub subject: &'a str,
    pub body: ItemBody<'a>,
    pub start: DateTimeZone,
    pub end: DateTimeZone,
    pub location: Location<'a>,
    pub attendees: Vec<Attendee<'a>>,
    /// Only on create: Graph refuses to change it later.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ItemBody<'a> {
    pub content_type: &'static str,
    pub content: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Location<'a> {
    pub display_name: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Attendee<'a> {
    pub email_address: EmailAddress<'a>,
    #[serde(rename = "type")]
    pub kind: &'static str,
}

#[derive(Serialize)]
pub(super) struct EmailAddress<'a> {
    pub address: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<&'a str>,
}

/// An event as create and update return it: its id, and its version tag.
#[derive(Deserialize)]
pub(super) struct EventResponse {
    pub id: String,
    #[serde(rename = "@odata.etag", default)]
    pub etag: Option<String>,
    #[serde(rename = "changeKey", default)]
    pub change_key: Option<String>,
}

/// Body of `POST /v1.0/me/onlineMeetings` and `PATCH /v1.0/me/onlineMeetings/{id}`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct OnlineMeetingBody<'a> {
    pub subject: &'a str,
    /// RFC 3339 in UTC.
    pub start_date_time: String,
    pub end_date_time: String,
}

/// An online meeting as Graph returns it (201 on create, 200 on get and update).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct OnlineMeetingResponse {
    pub id: String,
    #[serde(default)]
    pub join_web_url: Option<String>,
    /// The older name of `joinWebUrl`, still sent.
    #[serde(default)]
    pub join_url: Option<String>,
    #[serde(default)]
    pub join_meeting_id_settings: Option<JoinMeetingIdSettings>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct JoinMeetingIdSettings {
    #[serde(default)]
    pub join_meeting_id: Option<String>,
    #[serde(default)]
    pub passcode: Option<String>,
}

/// Every error body Microsoft sends, in one shape: Graph's
/// `{"error":{"code","message"}}` and the token endpoint's
/// `{"error":"invalid_grant","error_description","error_codes"}`.
#[derive(Deserialize, Default)]
pub(super) struct ErrorBody {
    #[serde(default)]
    pub error: Option<ErrorField>,
    #[serde(default)]
    pub error_description: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
pub(super) enum ErrorField {
    Graph(GraphError),
    OAuth(String),
}

#[derive(Deserialize)]
pub(super) struct GraphError {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub message: String,
}
