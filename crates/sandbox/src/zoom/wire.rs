//! Zoom's JSON on the wire, as the sandbox writes and reads it: token responses and
//! OAuth errors, API errors, the user, meeting requests and responses, and webhook
//! events. Private to the crate: nothing outside the Zoom emulator sees these shapes.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// `200` from `POST /oauth/token`.
#[derive(Serialize)]
pub(crate) struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub refresh_token: String,
    pub expires_in: u64,
    pub scope: &'static str,
}

/// An OAuth error body: `{"reason":"Invalid Token!","error":"invalid_grant"}`.
#[derive(Serialize)]
pub(crate) struct OAuthErrorBody<'a> {
    pub reason: &'a str,
    pub error: &'a str,
}

/// `200` from `POST /oauth/revoke`.
#[derive(Serialize)]
pub(crate) struct RevokeResponse {
    pub status: &'static str,
}

/// An API error body: `{"code":124,"message":"Invalid access token."}`.
#[derive(Serialize)]
pub(crate) struct ApiErrorBody<'a> {
    pub code: u32,
    pub message: &'a str,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub errors: &'a [FieldError],
}

/// One entry of a validation error's `errors` list.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct FieldError {
    pub field: String,
    pub message: String,
}

/// `GET /v2/users/me` (and each entry of `GET /v2/users`).
#[derive(Serialize)]
pub(crate) struct User<'a> {
    pub id: &'a str,
    pub first_name: &'a str,
    pub last_name: &'a str,
    pub display_name: String,
    pub email: &'a str,
    #[serde(rename = "type")]
    pub kind: u8,
    pub role_name: &'static str,
    pub role_id: &'static str,
    pub pmi: u64,
    pub use_pmi: bool,
    pub personal_meeting_url: String,
    pub timezone: &'a str,
    pub verified: u8,
    pub dept: &'static str,
    pub created_at: String,
    pub language: &'static str,
    pub status: &'static str,
    pub account_id: &'a str,
    pub account_number: u64,
    pub cluster: &'static str,
}

/// `GET /v2/users`.
#[derive(Serialize)]
pub(crate) struct UserList<'a> {
    pub page_size: usize,
    pub total_records: usize,
    pub next_page_token: String,
    pub users: Vec<User<'a>>,
}

/// The body of `POST /v2/users/{userId}/meetings` and `PATCH /v2/meetings/{id}`.
/// Every field is optional here; the handlers decide what each operation requires.
/// Fields the sandbox does not model (recurrence, tracking fields, …) are ignored, as
/// Zoom ignores what it does not know.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct MeetingRequest {
    pub topic: Option<Value>,
    #[serde(rename = "type")]
    pub kind: Option<Value>,
    pub start_time: Option<Value>,
    pub duration: Option<Value>,
    pub timezone: Option<Value>,
    pub agenda: Option<Value>,
    pub password: Option<Value>,
    pub settings: Option<Value>,
}

/// A meeting as `POST` (201) and `GET` (200) return it.
#[derive(Serialize)]
pub(crate) struct Meeting<'a> {
    pub uuid: &'a str,
    pub id: u64,
    pub host_id: &'a str,
    pub host_email: &'a str,
    pub topic: &'a str,
    #[serde(rename = "type")]
    pub kind: u8,
    pub status: &'static str,
    pub start_time: String,
    pub duration: u32,
    pub timezone: &'a str,
    pub agenda: &'a str,
    pub created_at: String,
    pub start_url: String,
    pub join_url: String,
    pub password: &'a str,
    pub h323_password: &'a str,
    pub pre_schedule: bool,
    pub settings: &'a Map<String, Value>,
}

/// One entry of `GET /v2/users/{userId}/meetings`: Zoom lists fewer fields than it
/// returns for one meeting (no start URL, passcode or settings).
#[derive(Serialize)]
pub(crate) struct MeetingListEntry<'a> {
    pub uuid: &'a str,
    pub id: u64,
    pub host_id: &'a str,
    pub topic: &'a str,
    #[serde(rename = "type")]
    pub kind: u8,
    pub start_time: String,
    pub duration: u32,
    pub timezone: &'a str,
    pub agenda: &'a str,
    pub created_at: String,
    pub join_url: String,
}

/// `GET /v2/users/{userId}/meetings`.
#[derive(Serialize)]
pub(crate) struct MeetingList<'a> {
    pub page_size: usize,
    pub total_records: usize,
    /// Empty on the last page.
    pub next_page_token: String,
    pub meetings: Vec<MeetingListEntry<'a>>,
}

/// A webhook request body: `{"event","event_ts","payload"}`.
#[derive(Serialize)]
pub(crate) struct WebhookEvent<P> {
    pub event: &'static str,
    pub event_ts: i64,
    pub payload: P,
}

/// The payload of `app_deauthorized`.
#[derive(Serialize)]
pub(crate) struct DeauthorizationPayload<'a> {
    pub account_id: &'a str,
    pub user_id: &'a str,
    pub signature: String,
    pub deauthorization_time: String,
    pub client_id: &'a str,
    pub user_data_retention: &'static str,
}

/// The payload of `endpoint.url_validation`.
#[derive(Serialize)]
pub(crate) struct UrlValidationPayload<'a> {
    #[serde(rename = "plainToken")]
    pub plain_token: &'a str,
}

/// The answer Zoom expects to `endpoint.url_validation`.
#[derive(Deserialize)]
pub(crate) struct UrlValidationAnswer {
    #[serde(rename = "plainToken")]
    pub plain_token: String,
    #[serde(rename = "encryptedToken")]
    pub encrypted_token: String,
}
