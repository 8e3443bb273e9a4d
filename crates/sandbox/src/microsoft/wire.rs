//! Microsoft's JSON on the wire, as the sandbox writes it: token responses and OAuth
//! errors, Graph errors, the user, calendars, events, Teams meetings and schedules.
//! Request bodies are read as `serde_json::Value` in `graph.rs`, field by field, so
//! each bad field gets its own message. Private to the crate.

use serde::Serialize;
use serde_json::Value;

/// `200` from `POST /{tenant}/oauth2/v2.0/token`.
#[derive(Serialize)]
pub(crate) struct TokenResponse {
    pub token_type: &'static str,
    pub scope: String,
    pub expires_in: u64,
    pub ext_expires_in: u64,
    pub access_token: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    pub id_token: String,
}

/// A token-endpoint error: `{"error","error_description":"AADSTS…","error_codes":[…],…}`.
#[derive(Serialize)]
pub(crate) struct OAuthErrorBody {
    pub error: &'static str,
    pub error_description: String,
    pub error_codes: Vec<u32>,
    pub timestamp: String,
    pub trace_id: String,
    pub correlation_id: String,
    pub error_uri: String,
}

/// A Graph error: `{"error":{"code","message","innerError":{…}}}`.
#[derive(Serialize)]
pub(crate) struct GraphErrorBody<'a> {
    pub error: GraphErrorDetail<'a>,
}

#[derive(Serialize)]
pub(crate) struct GraphErrorDetail<'a> {
    pub code: &'a str,
    pub message: &'a str,
    #[serde(rename = "innerError")]
    pub inner_error: InnerError,
}

#[derive(Serialize)]
pub(crate) struct InnerError {
    pub date: String,
    #[serde(rename = "request-id")]
    pub request_id: String,
    #[serde(rename = "client-request-id")]
    pub client_request_id: String,
}

/// `GET /v1.0/me`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct User {
    #[serde(rename = "@odata.context")]
    pub context: &'static str,
    pub business_phones: Vec<String>,
    pub display_name: String,
    pub given_name: String,
    pub job_title: Option<String>,
    pub mail: String,
    pub mobile_phone: Option<String>,
    pub office_location: Option<String>,
    pub preferred_language: &'static str,
    pub surname: String,
    pub user_principal_name: String,
    pub id: String,
}

/// One page of a collection.
#[derive(Serialize)]
pub(crate) struct Page<T> {
    #[serde(rename = "@odata.context")]
    pub context: &'static str,
    pub value: Vec<T>,
    #[serde(rename = "@odata.nextLink", skip_serializing_if = "Option::is_none")]
    pub next_link: Option<String>,
}

#[derive(Serialize)]
pub(crate) struct EmailAddress {
    pub name: String,
    pub address: String,
}

/// An entry of `GET /v1.0/me/calendars`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Calendar {
    pub id: String,
    pub name: String,
    pub color: &'static str,
    pub hex_color: &'static str,
    pub is_default_calendar: bool,
    pub change_key: String,
    pub can_share: bool,
    pub can_view_private_items: bool,
    pub can_edit: bool,
    pub allowed_online_meeting_providers: [&'static str; 1],
    pub default_online_meeting_provider: &'static str,
    pub is_tallying_responses: bool,
    pub is_removable: bool,
    pub owner: EmailAddress,
}

/// A Graph `dateTimeTimeZone`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DateTimeZone {
    pub date_time: String,
    pub time_zone: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ItemBody {
    pub content_type: String,
    pub content: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Location {
    pub display_name: String,
    pub location_type: &'static str,
}

#[derive(Serialize)]
pub(crate) struct ResponseStatus {
    pub response: &'static str,
    pub time: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Attendee {
    #[serde(rename = "type")]
    pub kind: String,
    pub status: ResponseStatus,
    pub email_address: EmailAddress,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Recipient {
    pub email_address: EmailAddress,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct OnlineMeetingInfo {
    pub join_url: String,
}

/// An event, as every event endpoint returns it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Event {
    #[serde(rename = "@odata.etag")]
    pub etag: String,
    pub id: String,
    pub created_date_time: String,
    pub last_modified_date_time: String,
    pub change_key: String,
    pub categories: Vec<String>,
    pub transaction_id: Option<String>,
    pub original_start_time_zone: &'static str,
    pub original_end_time_zone: &'static str,
    #[serde(rename = "iCalUId")]
    pub ical_uid: String,
    pub reminder_minutes_before_start: u32,
    pub is_reminder_on: bool,
    pub has_attachments: bool,
    pub subject: String,
    pub body_preview: String,
    pub importance: &'static str,
    pub sensitivity: &'static str,
    pub is_all_day: bool,
    pub is_cancelled: bool,
    pub is_organizer: bool,
    pub response_requested: bool,
    pub show_as: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub web_link: String,
    pub online_meeting_url: Option<String>,
    pub is_online_meeting: bool,
    pub online_meeting_provider: &'static str,
    pub body: ItemBody,
    pub start: DateTimeZone,
    pub end: DateTimeZone,
    pub location: Location,
    pub locations: Vec<Location>,
    pub attendees: Vec<Attendee>,
    pub organizer: Recipient,
    pub online_meeting: Option<OnlineMeetingInfo>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct JoinMeetingIdSettings {
    pub is_passcode_required: bool,
    pub join_meeting_id: String,
    pub passcode: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ChatInfo {
    pub thread_id: String,
    pub message_id: &'static str,
    pub reply_chain_message_id: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LobbyBypassSettings {
    pub scope: &'static str,
    pub is_dial_in_bypass_enabled: bool,
}

/// A Teams meeting, as every online-meeting endpoint returns it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct OnlineMeeting {
    #[serde(rename = "@odata.context")]
    pub context: &'static str,
    pub id: String,
    pub creation_date_time: String,
    pub start_date_time: String,
    pub end_date_time: String,
    /// The older name of `joinWebUrl`; Graph still sends both.
    pub join_url: String,
    pub join_web_url: String,
    pub subject: String,
    pub is_broadcast: bool,
    pub auto_admitted_users: &'static str,
    pub external_id: Option<String>,
    pub video_teleconference_id: String,
    pub participants: Value,
    pub lobby_bypass_settings: LobbyBypassSettings,
    pub join_meeting_id_settings: JoinMeetingIdSettings,
    pub chat_info: ChatInfo,
    pub audio_conferencing: Option<Value>,
}

/// `POST /v1.0/me/calendar/getSchedule` → `{"value":[ScheduleInformation]}`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ScheduleInformation {
    pub schedule_id: String,
    pub availability_view: String,
    pub schedule_items: Vec<ScheduleItem>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub working_hours: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ScheduleError>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ScheduleItem {
    pub is_private: bool,
    pub status: String,
    pub subject: String,
    pub location: String,
    pub start: DateTimeZone,
    pub end: DateTimeZone,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ScheduleError {
    pub message: String,
    pub response_code: &'static str,
}
