//! Google's APIs as the sandbox serves them: OpenID userinfo (`/oauth2/v3/userinfo`)
//! and the Calendar API v3 (`/calendar/v3/...`: calendar list, free/busy, events),
//! with bearer authentication, scope checks, Google's status codes and
//! `{"error":{"errors":[{"domain","reason","message"}],"code","message"}}` bodies; and
//! the fault-injection layer shared with `/token`.
//!
//! Choices where Google's behaviour varies or is not documented:
//! - A caller sees the calendars of its own calendar list (`primary` names the primary
//!   one). Any other calendar id is `404 notFound` for events, and an entry with
//!   `"errors":[{"domain":"global","reason":"notFound"}]` (and no busy times) in a
//!   free/busy answer. Writing to a `reader` calendar is `403 requiredAccessLevel`.
//! - Scopes are enforced: userinfo needs `openid`, `email` or `profile`; the calendar
//!   list `calendar` or `calendar.readonly`; free/busy `calendar`, `calendar.readonly`,
//!   `calendar.freebusy` or `calendar.events.freebusy`; reading an event any calendar
//!   scope; writing one `calendar` or `calendar.events`. Otherwise `403
//!   insufficientPermissions`.
//! - A client-chosen event id must be base32hex (`0-9a-v`), 5 to 1024 characters
//!   (`400 invalid`, "Invalid resource id value."); an id already used in the calendar,
//!   even by a deleted event, is `409 duplicate`.
//! - A deleted event stays `cancelled`: `GET` still returns it (200, `"status":
//!   "cancelled"`), as Google does; `PATCH`, `PUT` and `DELETE` get `410 deleted`. An
//!   unknown event is `404 notFound`.
//! - Event times are `{"dateTime"}` with an offset, `{"dateTime","timeZone"}` for a local
//!   time, or `{"date"}` for an all-day event (midnight to midnight in the calendar's
//!   time zone). `end` before `start` is `400 timeRangeEmpty`. Returned `dateTime`s are
//!   in the event's `timeZone` if it has one, else in the calendar's, with an offset.
//! - Free/busy merges overlapping busy events (cancelled and `transparent` ones do not
//!   count), clips them to `[timeMin, timeMax)`, and writes times in the request's
//!   `timeZone` (UTC by default: `…Z`). At most 50 calendars per query.
//! - `sendUpdates` must be `all`, `externalOnly` or `none` when given; the sandbox sends
//!   no email either way.
//! - An expired, revoked or unknown access token is `401` with reason `authError`
//!   (userinfo answers in the OAuth shape: `{"error":"invalid_request",
//!   "error_description":"Invalid Credentials"}`). An unknown path is a `404` HTML page,
//!   as Google's front end serves it.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use jiff::Timestamp;
use serde_json::{Map, Value};

use super::accounts::{AccessRole, Calendar};
use super::state::{Attendee, Caller as CallerInfo, Event, State as SandboxState, TokenProblem};
use super::wire;
use super::{scopes, Inner};
use crate::faults::Injected;

/// Most calendars one free/busy query may name (Google's `calendarExpansionMax` cap).
const FREEBUSY_MAX_ITEMS: usize = 50;
const LIST_DEFAULT_PAGE: usize = 100;
const LIST_MAX_PAGE: usize = 250;

/// A Google API error: HTTP status and one `errors[]` entry.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    domain: &'static str,
    reason: &'static str,
    message: String,
    /// The gRPC-style status Google adds to some errors.
    grpc_status: Option<&'static str>,
}

impl ApiError {
    pub(crate) fn new(
        status: StatusCode,
        reason: &'static str,
        message: impl Into<String>,
    ) -> Self {
        Self {
            status,
            domain: "global",
            reason,
            message: message.into(),
            grpc_status: None,
        }
    }

    fn bad_request(reason: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, reason, message)
    }

    fn invalid(message: impl Into<String>) -> Self {
        Self::bad_request("invalid", message)
    }

    fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "notFound", "Not Found")
    }

    fn deleted() -> Self {
        Self::new(StatusCode::GONE, "deleted", "Resource has been deleted")
    }

    fn unauthenticated() -> Self {
        Self {
            grpc_status: Some("UNAUTHENTICATED"),
            ..Self::new(
                StatusCode::UNAUTHORIZED,
                "authError",
                "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.",
            )
        }
    }

    fn insufficient_scopes() -> Self {
        Self {
            grpc_status: Some("PERMISSION_DENIED"),
            ..Self::new(
                StatusCode::FORBIDDEN,
                "insufficientPermissions",
                "Request had insufficient authentication scopes.",
            )
        }
    }

    pub(crate) fn rate_limited() -> Self {
        Self {
            domain: "usageLimits",
            grpc_status: Some("RESOURCE_EXHAUSTED"),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rateLimitExceeded",
                "Rate Limit Exceeded",
            )
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        // The entry's own message is terser for a few errors, as at Google.
        let item_message = match self.reason {
            "authError" => "Invalid Credentials",
            "insufficientPermissions" => "Insufficient Permission",
            _ => self.message.as_str(),
        };
        let location = (self.reason == "authError").then_some("Authorization");
        let body = wire::ApiErrorBody {
            error: wire::ApiError {
                errors: vec![wire::ApiErrorItem {
                    domain: self.domain,
                    reason: self.reason,
                    message: item_message,
                    location,
                    location_type: location.map(|_| "header"),
                }],
                code: self.status.as_u16(),
                message: &self.message,
                status: self.grpc_status,
            },
        };
        let mut response = (self.status, Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(
                    r#"Bearer realm="https://accounts.google.com/", error="invalid_token""#,
                ),
            );
        }
        response
    }
}

/// Adds the configured latency, then maybe answers with an injected 429 (with
/// `Retry-After`) or 5xx, in Google's API error format.
pub(crate) async fn inject_faults(
    State(inner): State<Arc<Inner>>,
    request: Request,
    next: Next,
) -> Response {
    let faults = inner.lock().faults.clone();
    if !faults.latency.is_zero() {
        tokio::time::sleep(faults.latency).await;
    }
    match faults.roll() {
        None => next.run(request).await,
        Some(Injected::RateLimited) => {
            inner.lock().counters.injected_rate_limits += 1;
            let mut response = ApiError::rate_limited().into_response();
            if let Ok(value) = HeaderValue::from_str(&faults.retry_after_secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            response
        }
        Some(Injected::ServerError(status)) => {
            inner.lock().counters.injected_errors += 1;
            if status == 503 {
                ApiError {
                    grpc_status: Some("UNAVAILABLE"),
                    ..ApiError::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "backendError",
                        "The service is currently unavailable.",
                    )
                }
                .into_response()
            } else {
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "backendError",
                    "Backend Error",
                )
                .into_response()
            }
        }
    }
}

/// The bearer token of a request, if it has one.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// The user (and granted scopes) whose bearer token a Calendar API request carries.
pub(crate) struct Caller(CallerInfo);

impl FromRequestParts<Arc<Inner>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        inner: &Arc<Inner>,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer(&parts.headers).ok_or_else(ApiError::unauthenticated)?;
        inner
            .lock()
            .authenticate(token)
            .map(Caller)
            .map_err(|_| ApiError::unauthenticated())
    }
}

impl Caller {
    fn require(&self, any_of: &[&str]) -> Result<(), ApiError> {
        if any_of.iter().any(|s| self.0.scopes.iter().any(|g| g == s)) {
            Ok(())
        } else {
            Err(ApiError::insufficient_scopes())
        }
    }

    fn calendar(&self, id: &str) -> Result<&Calendar, ApiError> {
        self.0.user.calendar(id).ok_or_else(ApiError::not_found)
    }

    fn writable_calendar(&self, id: &str) -> Result<&Calendar, ApiError> {
        let calendar = self.calendar(id)?;
        if calendar.access_role.can_write() {
            Ok(calendar)
        } else {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "requiredAccessLevel",
                "You need to have writer access to this calendar.",
            ))
        }
    }
}

/// `GET /oauth2/v3/userinfo`.
pub(crate) async fn userinfo(State(inner): State<Arc<Inner>>, headers: HeaderMap) -> Response {
    let unauthorized = || {
        let mut response = (
            StatusCode::UNAUTHORIZED,
            Json(wire::OAuthErrorBody {
                error: "invalid_request",
                error_description: "Invalid Credentials",
            }),
        )
            .into_response();
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(
                r#"Bearer realm="https://accounts.google.com/", error="invalid_token""#,
            ),
        );
        response
    };
    let Some(token) = bearer(&headers) else {
        return unauthorized();
    };
    let caller = match inner.lock().authenticate(token) {
        Ok(caller) => Caller(caller),
        Err(TokenProblem::Invalid | TokenProblem::Expired) => return unauthorized(),
    };
    if let Err(e) = caller.require(&[scopes::OPENID, scopes::EMAIL, scopes::PROFILE]) {
        return e.into_response();
    }
    let user = &caller.0.user;
    Json(wire::UserInfo {
        sub: &user.sub,
        name: user.name(),
        given_name: &user.given_name,
        family_name: &user.family_name,
        picture: format!(
            "https://lh3.googleusercontent.sandbox/a/{}=s96-c",
            &user.sub
        ),
        email: &user.email,
        email_verified: true,
    })
    .into_response()
}

/// `GET /calendar/v3/users/me/calendarList?maxResults=…&pageToken=…&minAccessRole=…`.
pub(crate) async fn calendar_list(
    caller: Caller,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    caller.require(&[scopes::CALENDAR, scopes::CALENDAR_READONLY])?;
    let page_size = match query.get("maxResults") {
        Some(raw) => raw
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| {
                ApiError::invalid(format!(
                    "Invalid value '{raw}'. Values must be within the range: [1, 250]"
                ))
            })?
            .min(LIST_MAX_PAGE),
        None => LIST_DEFAULT_PAGE,
    };
    let offset = match query.get("pageToken").filter(|t| !t.is_empty()) {
        Some(token) => {
            parse_page_token(token).ok_or_else(|| ApiError::invalid("Invalid page token value."))?
        }
        None => 0,
    };
    let min_role = match query.get("minAccessRole") {
        Some(raw) => AccessRole::parse(raw)
            .ok_or_else(|| ApiError::invalid(format!("Invalid value for minAccessRole: {raw}")))?,
        None => AccessRole::FreeBusyReader,
    };
    let matching: Vec<&Calendar> = caller
        .0
        .user
        .calendars
        .iter()
        .filter(|c| c.access_role >= min_role)
        .collect();
    let page: Vec<&Calendar> = matching
        .iter()
        .skip(offset)
        .take(page_size)
        .copied()
        .collect();
    let end = offset + page.len();
    let more = end < matching.len();
    let body = wire::CalendarList {
        kind: "calendar#calendarList",
        etag: format!(
            "\"p3{}\"",
            crate::util::stable_number(&caller.0.user.email, 12)
        ),
        next_page_token: more.then(|| page_token(end)),
        next_sync_token: (!more).then(|| format!("CP{}=", crate::util::random_token(12))),
        items: page
            .into_iter()
            .map(|c| wire::CalendarListEntry {
                kind: "calendar#calendarListEntry",
                etag: format!("\"{}\"", crate::util::stable_number(&c.id, 16)),
                id: &c.id,
                summary: &c.summary,
                time_zone: &c.time_zone,
                color_id: if c.primary { "14" } else { "8" },
                background_color: if c.primary { "#9fe1e7" } else { "#16a765" },
                foreground_color: "#000000",
                selected: true,
                access_role: c.access_role.name(),
                default_reminders: if c.access_role.can_write() {
                    vec![wire::Reminder {
                        method: "popup",
                        minutes: 10,
                    }]
                } else {
                    Vec::new()
                },
                primary: c.primary.then_some(true),
            })
            .collect(),
    };
    Ok(Json(body).into_response())
}

/// Calendar-list page tokens are opaque to clients; here, the offset in base64url.
fn page_token(offset: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("calendarList:{offset}"))
}

fn parse_page_token(raw: &str) -> Option<usize> {
    let bytes = URL_SAFE_NO_PAD.decode(raw.trim()).ok()?;
    String::from_utf8(bytes)
        .ok()?
        .strip_prefix("calendarList:")?
        .parse()
        .ok()
}

/// The JSON object of a request body, or Google's `400 parseError`.
fn json_object(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(ApiError::bad_request("parseError", "Parse Error")),
    }
}

/// `timeZone` as a zone, `UTC` when absent.
fn time_zone(raw: Option<&str>) -> Result<(String, TimeZone), ApiError> {
    let name = raw.unwrap_or("UTC");
    TimeZone::get(name)
        .map(|tz| (name.to_string(), tz))
        .map_err(|_| ApiError::invalid(format!("Invalid time zone: {name}")))
}

/// RFC 3339 in `tz`: `…Z` for UTC, else with the zone's offset at that instant.
fn rfc3339_in(t: Timestamp, tz_name: &str, tz: &TimeZone) -> String {
    if tz_name == "UTC" {
        t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
    } else {
        t.to_zoned(tz.clone())
            .strftime("%Y-%m-%dT%H:%M:%S%:z")
            .to_string()
    }
}

/// `POST /calendar/v3/freeBusy`.
pub(crate) async fn free_busy(
    State(inner): State<Arc<Inner>>,
    caller: Caller,
    body: Bytes,
) -> Result<Response, ApiError> {
    caller.require(&[
        scopes::CALENDAR,
        scopes::CALENDAR_READONLY,
        scopes::CALENDAR_FREEBUSY,
        scopes::CALENDAR_EVENTS_FREEBUSY,
    ])?;
    let request = json_object(&body)?;
    let instant = |name: &str| -> Result<Timestamp, ApiError> {
        match request.get(name) {
            None | Some(Value::Null) => Err(ApiError::bad_request("required", "Required")),
            Some(Value::String(s)) => s
                .trim()
                .parse::<Timestamp>()
                .map_err(|_| ApiError::invalid(format!("Invalid value for: {name}"))),
            Some(_) => Err(ApiError::invalid(format!("Invalid value for: {name}"))),
        }
    };
    let time_min = instant("timeMin")?;
    let time_max = instant("timeMax")?;
    if time_max <= time_min {
        return Err(ApiError::bad_request(
            "timeRangeEmpty",
            "The specified time range is empty.",
        ));
    }
    let (tz_name, tz) = time_zone(request.get("timeZone").and_then(Value::as_str))?;
    let items = match request.get("items") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| {
                item.get("id")
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .ok_or_else(|| ApiError::invalid("Invalid value for: items"))
            })
            .collect::<Result<Vec<_>, _>>()?,
        Some(_) => return Err(ApiError::invalid("Invalid value for: items")),
    };
    if items.len() > FREEBUSY_MAX_ITEMS {
        return Err(ApiError::bad_request(
            "tooManyCalendarsRequested",
            "The number of calendars requested is too large.",
        ));
    }
    let mut state = inner.lock();
    state.counters.freebusy_queries += 1;
    let mut calendars = std::collections::BTreeMap::new();
    for id in items {
        let entry = match caller.0.user.calendar(&id) {
            None => wire::FreeBusyCalendar {
                errors: vec![wire::FreeBusyError {
                    domain: "global",
                    reason: "notFound",
                }],
                busy: Vec::new(),
            },
            Some(calendar) => wire::FreeBusyCalendar {
                errors: Vec::new(),
                busy: busy_periods(&state, &calendar.id, time_min, time_max)
                    .into_iter()
                    .map(|(start, end)| wire::TimePeriod {
                        start: rfc3339_in(start, &tz_name, &tz),
                        end: rfc3339_in(end, &tz_name, &tz),
                    })
                    .collect(),
            },
        };
        calendars.insert(id, entry);
    }
    Ok(Json(wire::FreeBusyResponse {
        kind: "calendar#freeBusy",
        time_min: rfc3339_in(time_min, &tz_name, &tz),
        time_max: rfc3339_in(time_max, &tz_name, &tz),
        calendars,
    })
    .into_response())
}

/// The merged busy spans of a calendar within `[from, to)`, clipped to it.
pub(crate) fn busy_periods(
    state: &SandboxState,
    calendar_id: &str,
    from: Timestamp,
    to: Timestamp,
) -> Vec<(Timestamp, Timestamp)> {
    let mut spans: Vec<(Timestamp, Timestamp)> = state
        .events
        .iter()
        .filter(|e| e.calendar_id == calendar_id && !e.cancelled && !e.transparent)
        .filter(|e| e.start < to && e.end > from)
        .map(|e| (e.start.max(from), e.end.min(to)))
        .filter(|(s, e)| s < e)
        .collect();
    spans.sort();
    let mut merged: Vec<(Timestamp, Timestamp)> = Vec::new();
    for (start, end) in spans {
        match merged.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => merged.push((start, end)),
        }
    }
    merged
}

/// Google's rule for client-chosen event ids.
fn valid_event_id(id: &str) -> bool {
    (5..=1024).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'v').contains(&b))
}

fn check_send_updates(query: &HashMap<String, String>) -> Result<(), ApiError> {
    match query.get("sendUpdates").map(String::as_str) {
        None | Some("all" | "externalOnly" | "none") => Ok(()),
        Some(other) => Err(ApiError::invalid(format!(
            "Invalid value for sendUpdates: {other}"
        ))),
    }
}

/// One end of an event: the instant, whether it is a `date`, and its `timeZone`.
#[derive(Clone, Debug)]
struct When {
    at: Timestamp,
    all_day: bool,
    time_zone: Option<String>,
}

/// The writable fields of an event while a request is applied to it.
#[derive(Clone, Debug, Default)]
struct Fields {
    summary: Option<String>,
    description: Option<String>,
    location: Option<String>,
    start: Option<When>,
    end: Option<When>,
    attendees: Vec<Attendee>,
    transparent: bool,
    tentative: bool,
}

impl Fields {
    fn of(e: &Event) -> Self {
        let when = |at| When {
            at,
            all_day: e.all_day,
            time_zone: e.time_zone.clone(),
        };
        Self {
            summary: e.summary.clone(),
            description: e.description.clone(),
            location: e.location.clone(),
            start: Some(when(e.start)),
            end: Some(when(e.end)),
            attendees: e.attendees.clone(),
            transparent: e.transparent,
            tentative: e.tentative,
        }
    }

    /// Applies the fields present in `body` (`null` clears one), then checks the result.
    fn apply(
        mut self,
        body: &Map<String, Value>,
        calendar_tz: &str,
    ) -> Result<(Self, When, When), ApiError> {
        for (name, slot) in [
            ("summary", &mut self.summary),
            ("description", &mut self.description),
            ("location", &mut self.location),
        ] {
            match body.get(name) {
                None => {}
                Some(Value::Null) => *slot = None,
                Some(Value::String(s)) => *slot = Some(s.clone()),
                Some(_) => return Err(ApiError::invalid(format!("Invalid value for: {name}"))),
            }
        }
        for (name, slot) in [("start", &mut self.start), ("end", &mut self.end)] {
            match body.get(name) {
                None => {}
                Some(Value::Null) => *slot = None,
                Some(value) => *slot = Some(parse_when(value, name, calendar_tz)?),
            }
        }
        match body.get("attendees") {
            None => {}
            Some(Value::Null) => self.attendees.clear(),
            Some(Value::Array(list)) => {
                self.attendees = list
                    .iter()
                    .map(parse_attendee)
                    .collect::<Result<Vec<_>, _>>()?;
            }
            Some(_) => return Err(ApiError::invalid("Invalid value for: attendees")),
        }
        match body.get("transparency").and_then(Value::as_str) {
            None => {}
            Some("opaque") => self.transparent = false,
            Some("transparent") => self.transparent = true,
            Some(other) => {
                return Err(ApiError::invalid(format!(
                    "Invalid value for transparency: {other}"
                )))
            }
        }
        match body.get("status").and_then(Value::as_str) {
            None => {}
            Some("confirmed") => self.tentative = false,
            Some("tentative") => self.tentative = true,
            Some(other) => {
                return Err(ApiError::invalid(format!(
                    "Invalid value for status: {other}"
                )))
            }
        }
        let start = self
            .start
            .clone()
            .ok_or_else(|| ApiError::bad_request("required", "Missing start time."))?;
        let end = self
            .end
            .clone()
            .ok_or_else(|| ApiError::bad_request("required", "Missing end time."))?;
        if start.all_day != end.all_day {
            return Err(ApiError::invalid(
                "Start and end times must either both be date or both be dateTime.",
            ));
        }
        if end.at < start.at {
            return Err(ApiError::bad_request(
                "timeRangeEmpty",
                "The specified time range is empty.",
            ));
        }
        Ok((self, start, end))
    }
}

fn parse_when(value: &Value, name: &str, calendar_tz: &str) -> Result<When, ApiError> {
    let invalid = || ApiError::invalid(format!("Invalid value for: {name}"));
    let object = value.as_object().ok_or_else(invalid)?;
    let time_zone = match object.get("timeZone") {
        None | Some(Value::Null) => None,
        Some(Value::String(tz)) => {
            TimeZone::get(tz).map_err(|_| {
                ApiError::invalid(format!("Invalid time zone definition for {name} time."))
            })?;
            Some(tz.clone())
        }
        Some(_) => return Err(invalid()),
    };
    if let Some(raw) = object.get("dateTime").and_then(Value::as_str) {
        let raw = raw.trim();
        let at = match raw.parse::<Timestamp>() {
            Ok(at) => at,
            Err(_) => {
                let local = raw.parse::<DateTime>().map_err(|_| invalid())?;
                let tz_name = time_zone.as_deref().ok_or_else(|| {
                    ApiError::bad_request(
                        "required",
                        format!("Missing time zone definition for {name} time."),
                    )
                })?;
                let tz = TimeZone::get(tz_name).map_err(|_| invalid())?;
                local.to_zoned(tz).map_err(|_| invalid())?.timestamp()
            }
        };
        return Ok(When {
            at,
            all_day: false,
            time_zone,
        });
    }
    if let Some(raw) = object.get("date").and_then(Value::as_str) {
        let date = raw.trim().parse::<Date>().map_err(|_| invalid())?;
        let tz_name = time_zone.clone().unwrap_or_else(|| calendar_tz.to_string());
        let tz = TimeZone::get(&tz_name).map_err(|_| invalid())?;
        let at = date.to_zoned(tz).map_err(|_| invalid())?.timestamp();
        return Ok(When {
            at,
            all_day: true,
            time_zone: Some(tz_name),
        });
    }
    Err(ApiError::bad_request(
        "required",
        format!("Missing {name} time."),
    ))
}

fn parse_attendee(value: &Value) -> Result<Attendee, ApiError> {
    let email = value
        .get("email")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .ok_or_else(|| ApiError::bad_request("required", "Missing attendee email."))?;
    if super::accounts::parse_email(email).is_err() {
        return Err(ApiError::invalid("Invalid attendee email."));
    }
    let display_name = match value.get("displayName") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => {
            return Err(ApiError::invalid(
                "Invalid value for: attendees.displayName",
            ))
        }
    };
    Ok(Attendee {
        email: email.to_string(),
        display_name,
    })
}

/// An event as Google returns it, with times in its own or its calendar's time zone.
fn event_json<'a>(e: &'a Event, calendar: &'a Calendar) -> wire::EventResource<'a> {
    let time = |at: Timestamp| -> wire::EventTime {
        let zone_name = e.time_zone.as_deref().unwrap_or(&calendar.time_zone);
        let zone = TimeZone::get(zone_name).unwrap_or(TimeZone::UTC);
        if e.all_day {
            wire::EventTime {
                date: Some(at.to_zoned(zone).date().to_string()),
                date_time: None,
                time_zone: None,
            }
        } else {
            wire::EventTime {
                date: None,
                date_time: Some(rfc3339_in(at, zone_name, &zone)),
                time_zone: e.time_zone.clone(),
            }
        }
    };
    let google_time = |t: Timestamp| t.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string();
    let status = if e.cancelled {
        "cancelled"
    } else if e.tentative {
        "tentative"
    } else {
        "confirmed"
    };
    wire::EventResource {
        kind: "calendar#event",
        etag: e.etag(),
        id: &e.id,
        status,
        html_link: format!(
            "https://calendar.google.sandbox/calendar/event?eid={}",
            URL_SAFE_NO_PAD.encode(format!("{} {}", e.id, e.calendar_id))
        ),
        created: google_time(e.created),
        updated: google_time(e.updated),
        summary: e.summary.as_deref(),
        description: e.description.as_deref(),
        location: e.location.as_deref(),
        creator: wire::Person {
            email: &e.creator,
            is_self: true,
        },
        organizer: wire::Person {
            email: &e.calendar_id,
            is_self: true,
        },
        start: time(e.start),
        end: time(e.end),
        transparency: e.transparent.then_some("transparent"),
        ical_uid: format!("{}@google.com", e.id),
        sequence: e.sequence,
        attendees: e
            .attendees
            .iter()
            .map(|a| wire::AttendeeResource {
                email: &a.email,
                display_name: a.display_name.as_deref(),
                response_status: "needsAction",
            })
            .collect(),
        reminders: wire::Reminders { use_default: true },
        event_type: "default",
    }
}

/// A new event from fields already checked.
fn new_event(
    calendar_id: &str,
    id: String,
    creator: &str,
    fields: Fields,
    start: When,
    end: When,
) -> Event {
    let now = Timestamp::now();
    Event {
        calendar_id: calendar_id.to_string(),
        id,
        summary: fields.summary,
        description: fields.description,
        location: fields.location,
        start: start.at,
        end: end.at,
        all_day: start.all_day,
        time_zone: start.time_zone,
        attendees: fields.attendees,
        transparent: fields.transparent,
        tentative: fields.tentative,
        cancelled: false,
        creator: creator.to_string(),
        created: now,
        updated: now,
        sequence: 0,
        updates: 0,
    }
}

/// `POST /calendar/v3/calendars/{calendarId}/events`.
pub(crate) async fn insert_event(
    State(inner): State<Arc<Inner>>,
    caller: Caller,
    Path(calendar_id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    caller.require(&[scopes::CALENDAR, scopes::CALENDAR_EVENTS])?;
    let calendar = caller.writable_calendar(&calendar_id)?;
    check_send_updates(&query)?;
    let body = json_object(&body)?;
    let (fields, start, end) = Fields::default().apply(&body, &calendar.time_zone)?;
    let mut state = inner.lock();
    let id = match body.get("id") {
        None | Some(Value::Null) => state.new_event_id(&calendar.id),
        Some(Value::String(id)) if valid_event_id(id) => {
            if state.event(&calendar.id, id).is_some() {
                state.counters.duplicate_creates += 1;
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "duplicate",
                    "The requested identifier already exists.",
                ));
            }
            id.clone()
        }
        Some(_) => return Err(ApiError::invalid("Invalid resource id value.")),
    };
    let event = new_event(&calendar.id, id, &caller.0.user.email, fields, start, end);
    let response = Json(event_json(&event, calendar)).into_response();
    state.counters.events_created += 1;
    state.events.push(event);
    Ok(response)
}

/// `GET /calendar/v3/calendars/{calendarId}/events/{eventId}`: a deleted event comes
/// back `cancelled`.
pub(crate) async fn get_event(
    State(inner): State<Arc<Inner>>,
    caller: Caller,
    Path((calendar_id, event_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    caller.require(&[
        scopes::CALENDAR,
        scopes::CALENDAR_READONLY,
        scopes::CALENDAR_EVENTS,
        scopes::CALENDAR_EVENTS_READONLY,
    ])?;
    let calendar = caller.calendar(&calendar_id)?;
    let state = inner.lock();
    let event = state
        .event(&calendar.id, &event_id)
        .ok_or_else(ApiError::not_found)?;
    Ok(Json(event_json(event, calendar)).into_response())
}

/// `PATCH` (`replace` false: only the fields sent change) or `PUT` (`replace` true:
/// the body is the whole event) of `/calendar/v3/calendars/{calendarId}/events/{eventId}`.
fn change_event(
    inner: &Inner,
    caller: &Caller,
    calendar_id: &str,
    event_id: &str,
    query: &HashMap<String, String>,
    body: &[u8],
    replace: bool,
) -> Result<Response, ApiError> {
    caller.require(&[scopes::CALENDAR, scopes::CALENDAR_EVENTS])?;
    let calendar = caller.writable_calendar(calendar_id)?;
    check_send_updates(query)?;
    let body = json_object(body)?;
    let mut state = inner.lock();
    let event = state
        .event_mut(&calendar.id, event_id)
        .ok_or_else(ApiError::not_found)?;
    if event.cancelled {
        return Err(ApiError::deleted());
    }
    if let Some(id) = body.get("id").and_then(Value::as_str) {
        if id != event.id {
            return Err(ApiError::invalid("Invalid resource id value."));
        }
    }
    let base = if replace {
        Fields::default()
    } else {
        Fields::of(event)
    };
    let (fields, start, end) = base.apply(&body, &calendar.time_zone)?;
    let moved = start.at != event.start || end.at != event.end;
    event.summary = fields.summary;
    event.description = fields.description;
    event.location = fields.location;
    event.start = start.at;
    event.end = end.at;
    event.all_day = start.all_day;
    event.time_zone = start.time_zone;
    event.attendees = fields.attendees;
    event.transparent = fields.transparent;
    event.tentative = fields.tentative;
    // Google bumps the sequence when the time changes (attendees' clients re-read it).
    if moved {
        event.sequence += 1;
    }
    event.updates += 1;
    // Two updates within one microsecond must still change the etag.
    let now = Timestamp::now();
    event.updated = if now > event.updated {
        now
    } else {
        event
            .updated
            .checked_add(jiff::SignedDuration::from_micros(1))
            .unwrap_or(now)
    };
    let response = Json(event_json(event, calendar)).into_response();
    state.counters.events_updated += 1;
    Ok(response)
}

/// `PATCH /calendar/v3/calendars/{calendarId}/events/{eventId}`.
pub(crate) async fn patch_event(
    State(inner): State<Arc<Inner>>,
    caller: Caller,
    Path((calendar_id, event_id)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    change_event(
        &inner,
        &caller,
        &calendar_id,
        &event_id,
        &query,
        &body,
        false,
    )
}

/// `PUT /calendar/v3/calendars/{calendarId}/events/{eventId}`.
pub(crate) async fn put_event(
    State(inner): State<Arc<Inner>>,
    caller: Caller,
    Path((calendar_id, event_id)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    change_event(
        &inner,
        &caller,
        &calendar_id,
        &event_id,
        &query,
        &body,
        true,
    )
}

/// `DELETE /calendar/v3/calendars/{calendarId}/events/{eventId}` → 204; again → 410.
pub(crate) async fn delete_event(
    State(inner): State<Arc<Inner>>,
    caller: Caller,
    Path((calendar_id, event_id)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    caller.require(&[scopes::CALENDAR, scopes::CALENDAR_EVENTS])?;
    let calendar = caller.writable_calendar(&calendar_id)?;
    check_send_updates(&query)?;
    let mut state = inner.lock();
    let event = state
        .event_mut(&calendar.id, &event_id)
        .ok_or_else(ApiError::not_found)?;
    if event.cancelled {
        return Err(ApiError::deleted());
    }
    event.cancelled = true;
    event.updated = Timestamp::now();
    state.counters.events_deleted += 1;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Any other path under the API: Google's front end answers with an HTML 404.
pub(crate) async fn unknown_endpoint() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/html; charset=UTF-8")],
        "<!DOCTYPE html><html lang=en><meta charset=utf-8><title>Error 404 (Not Found)!!1</title><p><b>404.</b> <ins>That’s an error.</ins><p>The requested URL was not found on this server. <ins>That’s all we know.</ins>",
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_ids_follow_googles_rule() {
        assert!(valid_event_id("abcde"));
        assert!(valid_event_id(&"0v".repeat(512)));
        for bad in ["abcd", "ABCDE", "abcdw", "abc-de", "", &"a".repeat(1025)] {
            assert!(!valid_event_id(bad), "{bad}");
        }
    }

    #[test]
    fn page_tokens_round_trip() {
        assert_eq!(parse_page_token(&page_token(7)), Some(7));
        assert_eq!(parse_page_token("nonsense!"), None);
        assert_eq!(parse_page_token(&URL_SAFE_NO_PAD.encode("other:1")), None);
    }

    #[test]
    fn event_times_in_every_form() {
        let utc = |s: &str| s.parse::<Timestamp>().unwrap();
        let v = |s: &str| serde_json::from_str::<Value>(s).unwrap();
        let w = parse_when(&v(r#"{"dateTime":"2026-12-01T15:00:00Z"}"#), "start", "UTC").unwrap();
        assert_eq!(w.at, utc("2026-12-01T15:00:00Z"));
        assert!(!w.all_day && w.time_zone.is_none());
        let w = parse_when(
            &v(r#"{"dateTime":"2026-12-01T10:00:00","timeZone":"America/New_York"}"#),
            "start",
            "UTC",
        )
        .unwrap();
        assert_eq!(w.at, utc("2026-12-01T15:00:00Z"));
        let w = parse_when(&v(r#"{"date":"2026-12-01"}"#), "start", "Europe/Berlin").unwrap();
        assert_eq!(w.at, utc("2026-11-30T23:00:00Z"));
        assert!(w.all_day);
        let missing_zone =
            parse_when(&v(r#"{"dateTime":"2026-12-01T10:00:00"}"#), "end", "UTC").unwrap_err();
        assert_eq!(
            missing_zone.message,
            "Missing time zone definition for end time."
        );
        assert!(parse_when(&v(r#"{}"#), "end", "UTC").is_err());
        assert!(parse_when(&v(r#""2026-12-01""#), "end", "UTC").is_err());
        assert!(parse_when(&v(r#"{"dateTime":"soon"}"#), "end", "UTC").is_err());

        let tz = TimeZone::get("America/New_York").unwrap();
        assert_eq!(
            rfc3339_in(utc("2026-12-01T15:00:00Z"), "America/New_York", &tz),
            "2026-12-01T10:00:00-05:00"
        );
        assert_eq!(
            rfc3339_in(utc("2026-12-01T15:00:00Z"), "UTC", &TimeZone::UTC),
            "2026-12-01T15:00:00Z"
        );
    }
}
