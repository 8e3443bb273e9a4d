//! Zoom's REST API (`/v2/...`) as the sandbox serves it: bearer authentication, the
//! user, meetings (create, list, read, update, delete) and the account's user list,
//! with Zoom's status codes and `{"code","message"}` error bodies; and the
//! fault-injection layer shared with `/oauth/token`.
//!
//! Choices where Zoom's behaviour varies or is not documented:
//! - A token that is not the meeting host's gets `400 {"code":3003,"message":"You are
//!   not the meeting host."}` — except an account admin (role Admin) acting on a
//!   meeting of a user in the same account, which is allowed (org-managed Zoom).
//! - `POST` and `GET /users/{userId}/meetings` accept `me`, the caller's id or email,
//!   and, for an account admin, the id or email of any user of the same account;
//!   anything else is `404 {"code":1001,"message":"User does not exist: …"}`.
//! - `GET /users/{userId}/meetings` lists by `type`, as Zoom documents it: `scheduled`
//!   (the default: every meeting not deleted or expired), `live` (started, not ended),
//!   `upcoming` (not ended yet: live ones included), `previous_meetings` (ended, not
//!   expired), `upcoming_meetings` (= `upcoming`); "now" is the system clock. Ordered
//!   by start time, then id. `page_size` defaults to 30; above 300 it is cut to 300 (as
//!   Zoom does); 0 or not a number is `400 code 300`. `next_page_token` is opaque to
//!   clients; it names the last meeting of the previous page (not an offset), so a
//!   meeting created or deleted between two pages neither repeats nor hides another.
//! - Only scheduled meetings (`type` 2, the default) are modelled. `topic` and
//!   `start_time` are required on create; `duration` defaults to 60 minutes and
//!   `timezone` to the host's. `start_time` is `yyyy-MM-ddTHH:mm:ssZ` (or any RFC 3339
//!   offset), or a local time read in `timezone`.
//! - A meeting whose time ended more than 30 days ago is "not found or has expired"
//!   (`3001`), as at Zoom. A deleted meeting is `3001` too.
//! - An expired access token gets `401 {"code":124,"message":"Access token is
//!   expired."}`; an unknown or revoked one `"Invalid access token."` (both code 124).

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use serde_json::{Map, Value};

use super::accounts::ZoomUser;
use super::state::{Meeting, State as SandboxState, TokenProblem};
use super::wire::{self, ApiErrorBody, FieldError, MeetingRequest};
use super::Inner;
use crate::faults::Injected;
use crate::util;

/// A Zoom API error: HTTP status and `{"code","message","errors"?}`.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    code: u32,
    message: String,
    errors: Vec<FieldError>,
}

impl ApiError {
    fn new(status: StatusCode, code: u32, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            errors: Vec::new(),
        }
    }

    fn invalid_token(message: &str) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, 124, message)
    }

    fn meeting_not_found(id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            3001,
            format!("Meeting {id} is not found or has expired."),
        )
    }

    fn not_host() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            3003,
            "You are not the meeting host.",
        )
    }

    fn validation(errors: Vec<FieldError>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code: 300,
            message: "Validation Failed.".into(),
            errors,
        }
    }

    fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, 300, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ApiErrorBody {
            code: self.code,
            message: &self.message,
            errors: &self.errors,
        };
        (self.status, Json(body)).into_response()
    }
}

/// Adds the configured latency, then maybe answers with an injected 429 or 5xx.
pub(crate) async fn inject_faults(
    State(inner): State<Arc<Inner>>,
    request: Request,
    next: Next,
) -> Response {
    let faults = inner.lock().faults.clone();
    if !faults.latency.is_zero() {
        tokio::time::sleep(faults.latency).await;
    }
    let injected = faults.roll();
    match injected {
        None => next.run(request).await,
        Some(Injected::RateLimited) => {
            inner.lock().counters.injected_rate_limits += 1;
            let retry_after = faults.retry_after_secs.to_string();
            let mut response = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                429,
                "You have reached the maximum per-second rate limit for this API. Try again later.",
            )
            .into_response();
            let headers = response.headers_mut();
            for (name, value) in [
                ("retry-after", retry_after.as_str()),
                ("x-ratelimit-category", "Light"),
                ("x-ratelimit-type", "QPS"),
                ("x-ratelimit-limit", "30"),
                ("x-ratelimit-remaining", "0"),
            ] {
                if let Ok(value) = value.parse() {
                    headers.insert(name, value);
                }
            }
            response
        }
        Some(Injected::ServerError(status)) => {
            inner.lock().counters.injected_errors += 1;
            let (status, message) = if status == 503 {
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "The service is temporarily unavailable. Please try again later.",
                )
            } else {
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Internal server error. Please try again later.",
                )
            };
            ApiError::new(status, u32::from(status.as_u16()), message).into_response()
        }
    }
}

/// The Zoom user whose bearer token the request carries.
pub(crate) struct Caller(ZoomUser);

impl FromRequestParts<Arc<Inner>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        inner: &Arc<Inner>,
    ) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| ApiError::invalid_token("Invalid access token."))?;
        let state = inner.lock();
        match state.authenticate(token) {
            Ok(user) => Ok(Caller(user.clone())),
            Err(TokenProblem::Expired) => Err(ApiError::invalid_token("Access token is expired.")),
            Err(TokenProblem::Invalid) => Err(ApiError::invalid_token("Invalid access token.")),
        }
    }
}

fn zoom_time(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn user_json(user: &ZoomUser) -> wire::User<'_> {
    wire::User {
        id: &user.id,
        first_name: &user.first_name,
        last_name: &user.last_name,
        display_name: format!("{} {}", user.first_name, user.last_name),
        email: &user.email,
        kind: 2,
        role_name: user.role.name(),
        role_id: user.role.id(),
        pmi: user.pmi,
        use_pmi: false,
        personal_meeting_url: format!("https://zoom.sandbox/j/{}", user.pmi),
        timezone: &user.timezone,
        verified: 1,
        dept: "",
        created_at: zoom_time(user.created_at),
        language: "en-US",
        status: "active",
        account_id: &user.account_id,
        account_number: util::stable_number(&user.account_id, 8),
        cluster: "us01",
    }
}

fn meeting_json(m: &Meeting) -> wire::Meeting<'_> {
    wire::Meeting {
        uuid: &m.uuid,
        id: m.id,
        host_id: &m.host_id,
        host_email: &m.host_email,
        topic: &m.topic,
        kind: m.kind,
        status: "waiting",
        start_time: zoom_time(m.start_time),
        duration: m.duration,
        timezone: &m.timezone,
        agenda: &m.agenda,
        created_at: zoom_time(m.created_at),
        start_url: m.start_url(),
        join_url: m.join_url(),
        password: &m.password,
        h323_password: &m.password,
        pre_schedule: false,
        settings: &m.settings,
    }
}

fn meeting_list_entry(m: &Meeting) -> wire::MeetingListEntry<'_> {
    wire::MeetingListEntry {
        uuid: &m.uuid,
        id: m.id,
        host_id: &m.host_id,
        topic: &m.topic,
        kind: m.kind,
        start_time: zoom_time(m.start_time),
        duration: m.duration,
        timezone: &m.timezone,
        agenda: &m.agenda,
        created_at: zoom_time(m.created_at),
        join_url: m.join_url(),
    }
}

/// `GET /v2/users/me`.
pub(crate) async fn me(Caller(user): Caller) -> Response {
    Json(user_json(&user)).into_response()
}

/// `GET /v2/users?status=active&page_size=…&next_page_token=…` — the caller's account's
/// users, for account admins (org-managed Zoom); others get Zoom's missing-scope error.
pub(crate) async fn list_users(
    State(inner): State<Arc<Inner>>,
    Caller(caller): Caller,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    if !caller.is_admin() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            4711,
            "Invalid access token, does not contain scopes:[user:read:admin].",
        ));
    }
    let page_size = match query.get("page_size") {
        Some(raw) => raw
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=2000).contains(n))
            .ok_or_else(|| ApiError::bad_request(format!("Invalid page_size: {raw}")))?
            .min(300),
        None => 30,
    };
    let offset = match query.get("next_page_token").filter(|t| !t.is_empty()) {
        Some(token) => token
            .parse::<usize>()
            .map_err(|_| ApiError::bad_request("Invalid next_page_token."))?,
        None => 0,
    };
    let active = query.get("status").is_none_or(|s| s == "active");
    let state = inner.lock();
    let mut members: Vec<&ZoomUser> = state
        .users
        .values()
        .map(|r| &r.user)
        .filter(|u| active && u.account_id == caller.account_id)
        .collect();
    members.sort_by(|a, b| a.email.cmp(&b.email));
    let total = members.len();
    let end = (offset + page_size).min(total);
    let page = members.get(offset.min(total)..end).unwrap_or_default();
    let body = wire::UserList {
        page_size,
        total_records: total,
        next_page_token: if end < total {
            end.to_string()
        } else {
            String::new()
        },
        users: page.iter().map(|u| user_json(u)).collect(),
    };
    Ok(Json(body).into_response())
}

/// The meeting fields of a request body, each checked if present.
#[derive(Debug, Default)]
struct Fields {
    topic: Option<String>,
    kind: Option<u8>,
    start_time: Option<String>,
    duration: Option<u32>,
    timezone: Option<String>,
    agenda: Option<String>,
    password: Option<String>,
    settings: Option<Map<String, Value>>,
}

fn field_error(field: &str, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.to_string(),
        message: message.into(),
    }
}

fn as_integer(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn as_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

fn parse_fields(body: &[u8]) -> Result<Fields, ApiError> {
    let request: MeetingRequest = if body.iter().all(u8::is_ascii_whitespace) {
        MeetingRequest::default()
    } else {
        serde_json::from_slice::<Value>(body)
            .ok()
            .filter(Value::is_object)
            .and_then(|v| serde_json::from_value(v).ok())
            .ok_or_else(|| ApiError::bad_request("Request Body should be a valid JSON object."))?
    };
    let mut errors = Vec::new();
    let mut fields = Fields::default();
    let present = |v: &Option<Value>| v.as_ref().filter(|v| !v.is_null()).cloned();
    if let Some(v) = present(&request.topic) {
        match as_text(&v).filter(|t| !t.trim().is_empty() && t.chars().count() <= 200) {
            Some(t) => fields.topic = Some(t),
            None => errors.push(field_error("topic", "Topic must be 1 to 200 characters.")),
        }
    }
    if let Some(v) = present(&request.kind) {
        match as_integer(&v) {
            Some(2) => fields.kind = Some(2),
            _ => errors.push(field_error(
                "type",
                format!(
                    "Invalid meeting type: {v}. The sandbox schedules meetings of type 2 only."
                ),
            )),
        }
    }
    if let Some(v) = present(&request.start_time) {
        match as_text(&v) {
            Some(t) => fields.start_time = Some(t),
            None => errors.push(field_error("start_time", "Invalid field.")),
        }
    }
    if let Some(v) = present(&request.duration) {
        match as_integer(&v)
            .and_then(|d| u32::try_from(d).ok())
            .filter(|d| (1..=1440).contains(d))
        {
            Some(d) => fields.duration = Some(d),
            None => errors.push(field_error(
                "duration",
                "Duration must be 1 to 1440 minutes.",
            )),
        }
    }
    if let Some(v) = present(&request.timezone) {
        match as_text(&v).filter(|t| TimeZone::get(t).is_ok()) {
            Some(t) => fields.timezone = Some(t),
            None => errors.push(field_error("timezone", format!("Invalid timezone: {v}"))),
        }
    }
    if let Some(v) = present(&request.agenda) {
        match as_text(&v).filter(|t| t.chars().count() <= 2000) {
            Some(t) => fields.agenda = Some(t),
            None => errors.push(field_error(
                "agenda",
                "Agenda must be at most 2000 characters.",
            )),
        }
    }
    if let Some(v) = present(&request.password) {
        let valid = |p: &String| {
            (1..=10).contains(&p.len())
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "@-_*".contains(c))
        };
        match as_text(&v).filter(valid) {
            Some(p) => fields.password = Some(p),
            None => errors.push(field_error(
                "password",
                "Passcode must be at most 10 characters: letters, digits, @ - _ *.",
            )),
        }
    }
    if let Some(v) = present(&request.settings) {
        match v {
            Value::Object(map) => fields.settings = Some(map),
            _ => errors.push(field_error("settings", "Settings must be an object.")),
        }
    }
    if errors.is_empty() {
        Ok(fields)
    } else {
        Err(ApiError::validation(errors))
    }
}

/// `start_time` as an instant: RFC 3339 with `Z` or an offset, or a local time in `timezone`.
fn parse_start_time(raw: &str, timezone: &str) -> Result<Timestamp, ApiError> {
    let raw = raw.trim();
    if let Ok(t) = raw.parse::<Timestamp>() {
        return Ok(t);
    }
    raw.parse::<DateTime>()
        .ok()
        .and_then(|local| local.to_zoned(TimeZone::get(timezone).ok()?).ok())
        .map(|zoned| zoned.timestamp())
        .ok_or_else(|| {
            ApiError::validation(vec![field_error(
                "start_time",
                format!("Invalid start_time: {raw}. Use yyyy-MM-ddTHH:mm:ssZ."),
            )])
        })
}

fn default_settings() -> Map<String, Value> {
    let mut settings = Map::new();
    for (key, value) in [
        ("host_video", Value::Bool(false)),
        ("participant_video", Value::Bool(false)),
        ("join_before_host", Value::Bool(false)),
        ("mute_upon_entry", Value::Bool(false)),
        ("waiting_room", Value::Bool(true)),
        ("meeting_authentication", Value::Bool(false)),
        ("auto_recording", Value::String("none".into())),
        ("audio", Value::String("voip".into())),
    ] {
        settings.insert(key.to_string(), value);
    }
    settings
}

/// May `caller` act on `host`'s meetings or as `host`? The host, or an admin of the
/// same account.
fn may_act_for(caller: &ZoomUser, host_id: &str, state: &SandboxState) -> bool {
    caller.id == host_id
        || (caller.is_admin()
            && state
                .users
                .get(host_id)
                .is_some_and(|h| h.user.account_id == caller.account_id))
}

/// The host a `/users/{userId}/meetings` request names: `me`, the caller's id or
/// email, or (for an account admin) a user of the same account; else `1001`.
fn host_for(state: &SandboxState, caller: &ZoomUser, user_id: &str) -> Result<ZoomUser, ApiError> {
    if user_id == "me" || user_id == caller.id || user_id.eq_ignore_ascii_case(&caller.email) {
        return Ok(caller.clone());
    }
    state
        .find_user(user_id)
        .map(|r| r.user.clone())
        .filter(|host| caller.is_admin() && may_act_for(caller, &host.id, state))
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                1001,
                format!("User does not exist: {user_id}."),
            )
        })
}

/// `POST /v2/users/{userId}/meetings` → 201 meeting.
pub(crate) async fn create_meeting(
    State(inner): State<Arc<Inner>>,
    Caller(caller): Caller,
    Path(user_id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let fields = parse_fields(&body)?;
    let mut state = inner.lock();
    let host = host_for(&state, &caller, &user_id)?;
    let mut missing = Vec::new();
    if fields.topic.is_none() {
        missing.push(field_error("topic", "Topic is required."));
    }
    if fields.start_time.is_none() {
        missing.push(field_error(
            "start_time",
            "start_time is required for a scheduled meeting.",
        ));
    }
    if !missing.is_empty() {
        return Err(ApiError::validation(missing));
    }
    let timezone = fields.timezone.unwrap_or_else(|| host.timezone.clone());
    let start_time = parse_start_time(fields.start_time.as_deref().unwrap_or_default(), &timezone)?;
    let mut settings = default_settings();
    settings.extend(fields.settings.unwrap_or_default());
    let meeting = Meeting {
        id: state.new_meeting_id(),
        uuid: util::random_uuid_b64(),
        host_id: host.id.clone(),
        host_email: host.email.clone(),
        topic: fields.topic.unwrap_or_default(),
        kind: fields.kind.unwrap_or(2),
        start_time,
        duration: fields.duration.unwrap_or(60),
        timezone,
        agenda: fields.agenda.unwrap_or_default(),
        password: fields
            .password
            .unwrap_or_else(|| util::random_alphanumeric(6)),
        pwd_token: util::random_alphanumeric(32),
        zak: util::random_token(24),
        settings,
        created_at: Timestamp::now(),
        updates: 0,
        deleted: false,
    };
    let response = (StatusCode::CREATED, Json(meeting_json(&meeting))).into_response();
    state.counters.meetings_created += 1;
    state.meetings.insert(meeting.id, meeting);
    Ok(response)
}

/// Which meetings `GET /users/{userId}/meetings?type=…` lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ListType {
    Scheduled,
    Live,
    Upcoming,
    Previous,
}

impl ListType {
    fn parse(raw: Option<&str>) -> Result<Self, ApiError> {
        match raw.map(str::trim) {
            None | Some("") | Some("scheduled") => Ok(Self::Scheduled),
            Some("live") => Ok(Self::Live),
            Some("upcoming") | Some("upcoming_meetings") => Ok(Self::Upcoming),
            Some("previous_meetings") => Ok(Self::Previous),
            Some(other) => Err(ApiError::bad_request(format!(
                "Invalid field: type {other}. Use scheduled, live, upcoming, upcoming_meetings or previous_meetings."
            ))),
        }
    }

    /// Does a meeting that is neither deleted nor expired belong in this list at `now`?
    fn includes(self, m: &Meeting, now: Timestamp) -> bool {
        let started = m.start_time <= now;
        let ended = m.end() <= now;
        match self {
            Self::Scheduled => true,
            Self::Live => started && !ended,
            Self::Upcoming => !ended,
            Self::Previous => ended,
        }
    }
}

/// A list page token: the start time (Unix seconds) and id of the last meeting given.
fn page_token(m: &Meeting) -> String {
    format!("{}_{}", m.start_time.as_second(), m.id)
}

fn parse_page_token(raw: &str) -> Option<(i64, u64)> {
    let (start, id) = raw.split_once('_')?;
    Some((start.parse().ok()?, id.parse().ok()?))
}

/// `GET /v2/users/{userId}/meetings?type=…&page_size=…&next_page_token=…`.
pub(crate) async fn list_meetings(
    State(inner): State<Arc<Inner>>,
    Caller(caller): Caller,
    Path(user_id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let kind = ListType::parse(query.get("type").map(String::as_str))?;
    let page_size = match query.get("page_size") {
        Some(raw) => raw
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| ApiError::bad_request(format!("Invalid field: page_size {raw}.")))?
            .min(300),
        None => 30,
    };
    let after = match query.get("next_page_token").filter(|t| !t.is_empty()) {
        Some(raw) => Some(
            parse_page_token(raw)
                .ok_or_else(|| ApiError::bad_request("Invalid next_page_token."))?,
        ),
        None => None,
    };
    let state = inner.lock();
    let host = host_for(&state, &caller, &user_id)?;
    let now = Timestamp::now();
    let mut matching: Vec<&Meeting> = state
        .meetings
        .values()
        .filter(|m| m.host_id == host.id && !m.deleted && !m.expired(now))
        .filter(|m| kind.includes(m, now))
        .collect();
    matching.sort_by_key(|m| (m.start_time.as_second(), m.id));
    let total = matching.len();
    let rest: Vec<&Meeting> = match after {
        Some(last) => matching
            .into_iter()
            .filter(|m| (m.start_time.as_second(), m.id) > last)
            .collect(),
        None => matching,
    };
    let page = &rest[..rest.len().min(page_size)];
    let next_page_token = match page.last() {
        Some(last) if rest.len() > page.len() => page_token(last),
        _ => String::new(),
    };
    let body = wire::MeetingList {
        page_size,
        total_records: total,
        next_page_token,
        meetings: page.iter().map(|m| meeting_list_entry(m)).collect(),
    };
    Ok(Json(body).into_response())
}

/// The meeting `raw_id` if it exists, is live and `caller` may touch it.
fn meeting_for<'a>(
    state: &'a mut SandboxState,
    caller: &ZoomUser,
    raw_id: &str,
) -> Result<&'a mut Meeting, ApiError> {
    let id: u64 = raw_id
        .trim()
        .parse()
        .map_err(|_| ApiError::meeting_not_found(raw_id))?;
    let now = Timestamp::now();
    let host_id = match state.meetings.get(&id) {
        Some(m) if !m.deleted && !m.expired(now) => m.host_id.clone(),
        _ => return Err(ApiError::meeting_not_found(raw_id)),
    };
    if !may_act_for(caller, &host_id, state) {
        return Err(ApiError::not_host());
    }
    state
        .meetings
        .get_mut(&id)
        .ok_or_else(|| ApiError::meeting_not_found(raw_id))
}

/// `GET /v2/meetings/{meetingId}`.
pub(crate) async fn get_meeting(
    State(inner): State<Arc<Inner>>,
    Caller(caller): Caller,
    Path(meeting_id): Path<String>,
) -> Result<Response, ApiError> {
    let mut state = inner.lock();
    let meeting = meeting_for(&mut state, &caller, &meeting_id)?;
    Ok(Json(meeting_json(meeting)).into_response())
}

/// `PATCH /v2/meetings/{meetingId}` — partial update → 204.
pub(crate) async fn update_meeting(
    State(inner): State<Arc<Inner>>,
    Caller(caller): Caller,
    Path(meeting_id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let fields = parse_fields(&body)?;
    let mut state = inner.lock();
    let meeting = meeting_for(&mut state, &caller, &meeting_id)?;
    let timezone = fields.timezone.unwrap_or_else(|| meeting.timezone.clone());
    let start_time = match &fields.start_time {
        Some(raw) => parse_start_time(raw, &timezone)?,
        None => meeting.start_time,
    };
    meeting.start_time = start_time;
    meeting.timezone = timezone;
    if let Some(topic) = fields.topic {
        meeting.topic = topic;
    }
    if let Some(kind) = fields.kind {
        meeting.kind = kind;
    }
    if let Some(duration) = fields.duration {
        meeting.duration = duration;
    }
    if let Some(agenda) = fields.agenda {
        meeting.agenda = agenda;
    }
    if let Some(password) = fields.password {
        meeting.password = password;
    }
    if let Some(settings) = fields.settings {
        meeting.settings.extend(settings);
    }
    meeting.updates += 1;
    state.counters.meetings_updated += 1;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `DELETE /v2/meetings/{meetingId}` → 204; later calls get 3001.
pub(crate) async fn delete_meeting(
    State(inner): State<Arc<Inner>>,
    Caller(caller): Caller,
    Path(meeting_id): Path<String>,
) -> Result<Response, ApiError> {
    let mut state = inner.lock();
    let meeting = meeting_for(&mut state, &caller, &meeting_id)?;
    meeting.deleted = true;
    state.counters.meetings_deleted += 1;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Any other `/v2` path.
pub(crate) async fn unknown_endpoint() -> Response {
    ApiError::new(
        StatusCode::NOT_FOUND,
        404,
        "This API endpoint is not recognized.",
    )
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_times_in_utc_offsets_and_local_time() {
        let utc = parse_start_time("2026-12-01T15:00:00Z", "UTC").unwrap();
        assert_eq!(zoom_time(utc), "2026-12-01T15:00:00Z");
        let offset = parse_start_time("2026-12-01T16:00:00+01:00", "UTC").unwrap();
        assert_eq!(offset, utc);
        let local = parse_start_time("2026-12-01T10:00:00", "America/New_York").unwrap();
        assert_eq!(local, utc);
        assert!(parse_start_time("tomorrow", "UTC").is_err());
        assert!(parse_start_time("2026-12-01T10:00:00", "Mars/Olympus").is_err());
    }

    #[test]
    fn list_types_and_page_tokens() {
        assert_eq!(ListType::parse(None).unwrap(), ListType::Scheduled);
        assert_eq!(
            ListType::parse(Some("upcoming_meetings")).unwrap(),
            ListType::Upcoming
        );
        assert_eq!(ListType::parse(Some("weekly")).unwrap_err().code, 300);
        assert_eq!(
            parse_page_token("1796137200_85746065432"),
            Some((1_796_137_200, 85_746_065_432))
        );
        assert_eq!(parse_page_token("-5_1"), Some((-5, 1)));
        for bad in ["", "12", "a_1", "1_b", "1_2_3"] {
            assert_eq!(parse_page_token(bad), None, "{bad}");
        }
    }

    #[test]
    fn body_validation_names_the_fields() {
        assert!(parse_fields(b"[1]").is_err());
        assert!(parse_fields(b"{not json").is_err());
        let err = parse_fields(
            br#"{"topic":"","type":3,"duration":-5,"timezone":"Nowhere/X","settings":1}"#,
        )
        .unwrap_err();
        let fields: Vec<_> = err.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["topic", "type", "duration", "timezone", "settings"]
        );
        assert_eq!(err.code, 300);
        let ok =
            parse_fields(br#"{"topic":"Demo","type":2,"duration":"45","agenda":null}"#).unwrap();
        assert_eq!(ok.duration, Some(45));
        assert!(ok.agenda.is_none());
    }
}
