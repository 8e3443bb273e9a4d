//! Zoom's JSON, as serde structs. Private to the `zoom` module: nothing here is part
//! of Convene's API, and every struct is converted to a Convene type in `zoom/mod.rs`
//! or `zoom/webhook.rs` before it leaves. Unknown fields are ignored everywhere.

use serde::{Deserialize, Serialize};

/// `POST /oauth/token` → 200.
#[derive(Deserialize)]
pub(super) struct ZoomTokenResponse {
    pub access_token: String,
    #[serde(default)]
    pub refresh_token: Option<String>,
    #[serde(default)]
    pub expires_in: Option<i64>,
    #[serde(default)]
    pub scope: Option<String>,
}

/// `GET /v2/users/me` → 200.
#[derive(Deserialize)]
pub(super) struct ZoomUserResponse {
    pub id: String,
    pub account_id: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub first_name: String,
    #[serde(default)]
    pub last_name: String,
    #[serde(default)]
    pub role_name: Option<String>,
    #[serde(default)]
    pub timezone: Option<String>,
}

/// Body of `POST /v2/users/{userId}/meetings` and `PATCH /v2/meetings/{meetingId}`.
#[derive(Serialize)]
pub(super) struct ZoomMeetingBody<'a> {
    pub topic: &'a str,
    /// 2 = scheduled meeting.
    #[serde(rename = "type")]
    pub kind: u8,
    /// `yyyy-MM-ddTHH:mm:ssZ` (UTC).
    pub start_time: String,
    pub duration: u32,
    pub timezone: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agenda: Option<&'a str>,
}

/// A meeting as Zoom returns it (201 on create, 200 on get, and each entry of a list).
#[derive(Deserialize)]
pub(super) struct ZoomMeetingResponse {
    pub id: ZoomId,
    pub join_url: String,
    #[serde(default)]
    pub start_url: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default)]
    pub start_time: Option<String>,
    #[serde(default)]
    pub duration: Option<u32>,
    #[serde(default)]
    pub topic: Option<String>,
    #[serde(default)]
    pub agenda: Option<String>,
}

/// `GET /v2/users/{userId}/meetings` → 200: one page of meetings. An empty or absent
/// `next_page_token` means this is the last page.
#[derive(Deserialize)]
pub(super) struct ZoomMeetingList {
    #[serde(default)]
    pub next_page_token: Option<String>,
    #[serde(default)]
    pub meetings: Vec<ZoomMeetingResponse>,
}

/// Zoom sends meeting ids as JSON numbers (`85746065432`); accept a string too.
#[derive(Deserialize)]
#[serde(untagged)]
pub(super) enum ZoomId {
    Unsigned(u64),
    Signed(i64),
    Text(String),
}

impl ZoomId {
    pub fn into_string(self) -> String {
        match self {
            Self::Unsigned(n) => n.to_string(),
            Self::Signed(n) => n.to_string(),
            Self::Text(s) => s,
        }
    }
}

/// Every error body Zoom sends, in one shape: the API's `{"code": <int>, "message"}`
/// and the OAuth endpoints' `{"error", "reason"}` (sometimes `error_description`).
/// `code` is kept as JSON because some endpoints send it as a string.
#[derive(Deserialize, Default)]
pub(super) struct ZoomErrorBody {
    #[serde(default)]
    pub code: Option<serde_json::Value>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub error_description: Option<String>,
}

/// Just the event name of an incoming webhook.
#[derive(Deserialize)]
pub(super) struct ZoomWebhookName {
    pub event: String,
}

/// An incoming webhook, by event name; events Convene does not handle land in
/// `Unknown` instead of failing.
#[derive(Deserialize)]
#[serde(tag = "event")]
pub(super) enum ZoomWebhook {
    #[serde(rename = "endpoint.url_validation")]
    UrlValidation { payload: ZoomUrlValidationPayload },
    #[serde(rename = "app_deauthorized")]
    AppDeauthorized {
        event_ts: i64,
        payload: ZoomDeauthorizationPayload,
    },
    #[serde(other)]
    Unknown,
}

#[derive(Deserialize)]
pub(super) struct ZoomUrlValidationPayload {
    #[serde(rename = "plainToken")]
    pub plain_token: String,
}

#[derive(Deserialize)]
pub(super) struct ZoomDeauthorizationPayload {
    pub account_id: String,
    pub user_id: String,
    #[serde(default)]
    pub client_id: Option<String>,
}
