//! Microsoft Graph (`/v1.0/...`) as the sandbox serves it: bearer authentication, the
//! user, calendars, `calendarView`, `getSchedule`, events and Teams online meetings,
//! with Graph's status codes and `{"error":{"code","message"}}` bodies; and the
//! fault-injection layer of `/v1.0`.
//!
//! Choices where Graph's behaviour varies or is not documented:
//! - Every resource is the caller's own (`/me`): another user's event or meeting id
//!   is `404 ErrorItemNotFound`, as a foreign mailbox's item would be.
//! - Collections page with `$top` (default 10, at most 1000) and `$skip`;
//!   `@odata.nextLink` is an absolute URL on the host the request came to
//!   (`X-Forwarded-Host`/`-Proto` when a proxy sets them), with every other query
//!   parameter kept.
//! - `calendarView` needs `startDateTime` and `endDateTime` (RFC 3339; without an
//!   offset, UTC). It lists the events overlapping the window, cancelled ones
//!   included (with `isCancelled`), by start time. Times come back in the zone of
//!   `Prefer: outlook.timezone="…"` when it is UTC or an IANA name, else in UTC;
//!   `Preference-Applied` says which.
//! - Event bodies are checked as Graph does: an unknown property is `400
//!   RequestBodyRead`; a `dateTimeTimeZone` needs `dateTime` and `timeZone` (`UTC` or
//!   an IANA name; others are `400 TimeZoneNotSupportedException`).
//! - `POST …/events` with a `transactionId` the caller already used on a live event
//!   answers `201` with that event and creates nothing (Graph's guard against
//!   retried POSTs). `transactionId` cannot be changed by a `PATCH`.
//! - An event created with `isOnlineMeeting: true` gets a Teams link in
//!   `onlineMeeting.joinUrl`.
//! - `getSchedule` reads each user's default calendar; an unknown email gets an entry
//!   with `error.responseCode` `ErrorMailRecipientNotFound`. The window is at most 62
//!   days.
//! - An expired access token gets `401 InvalidAuthenticationToken` "Access token has
//!   expired or is not yet valid."; a missing one "Access token is empty."; an
//!   unknown or revoked one "Access token validation failure.".

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequestParts, OriginalUri, Path, RawQuery, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use serde_json::{json, Map, Value};

use super::accounts::GraphUser;
use super::oauth::guid;
use super::state::{self, new_item_id, Attendee, State as SandboxState, TokenProblem};
use super::wire;
use super::Inner;
use crate::faults::Injected;
use crate::util;

/// Entries per page when the client does not ask (`$top`), as Graph's calendarView.
const DEFAULT_PAGE_SIZE: usize = 10;
const MAX_PAGE_SIZE: usize = 1000;
/// `getSchedule`'s longest window.
const MAX_SCHEDULE_DAYS: i64 = 62;

/// A Graph error: HTTP status and `{"error":{"code","message","innerError"}}`.
#[derive(Debug)]
pub(crate) struct GraphError {
    status: StatusCode,
    code: String,
    message: String,
}

impl GraphError {
    pub(crate) fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.to_string(),
            message: message.into(),
        }
    }

    fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "ErrorItemNotFound",
            "The specified object was not found in the store.",
        )
    }

    fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "ErrorInvalidRequest", message)
    }

    fn invalid_parameter(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "ErrorInvalidParameter", message)
    }

    fn unauthorized(message: &str) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationToken",
            message,
        )
    }
}

impl IntoResponse for GraphError {
    fn into_response(self) -> Response {
        let request_id = guid();
        let body = wire::GraphErrorBody {
            error: wire::GraphErrorDetail {
                code: &self.code,
                message: &self.message,
                inner_error: wire::InnerError {
                    date: Timestamp::now().strftime("%Y-%m-%dT%H:%M:%S").to_string(),
                    request_id: request_id.clone(),
                    client_request_id: request_id.clone(),
                },
            },
        };
        let mut response = (self.status, Json(body)).into_response();
        let headers = response.headers_mut();
        if let Ok(value) = request_id.parse() {
            headers.insert("request-id", value);
        }
        if self.status == StatusCode::UNAUTHORIZED {
            if let Ok(value) = r#"Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000""#.parse() {
                headers.insert(header::WWW_AUTHENTICATE, value);
            }
        }
        response
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
    match faults.roll() {
        None => next.run(request).await,
        Some(Injected::RateLimited) => {
            inner.lock().counters.injected_rate_limits += 1;
            let mut response = GraphError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "TooManyRequests",
                "Too many requests. Please retry after the time given in Retry-After.",
            )
            .into_response();
            if let Ok(value) = faults.retry_after_secs.to_string().parse() {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            response
        }
        Some(Injected::ServerError(status)) => {
            inner.lock().counters.injected_errors += 1;
            if status == 503 {
                GraphError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "serviceNotAvailable",
                    "The service is temporarily unavailable. Please try again later.",
                )
                .into_response()
            } else {
                GraphError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "generalException",
                    "An unexpected error occurred. Please try again later.",
                )
                .into_response()
            }
        }
    }
}

/// The user whose bearer token the request carries.
pub(crate) struct Caller(GraphUser);

impl FromRequestParts<Arc<Inner>> for Caller {
    type Rejection = GraphError;

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
            .ok_or_else(|| GraphError::unauthorized("Access token is empty."))?;
        let state = inner.lock();
        match state.authenticate(token) {
            Ok(user) => Ok(Caller(user.clone())),
            Err(TokenProblem::Expired) => Err(GraphError::unauthorized(
                "Access token has expired or is not yet valid.",
            )),
            Err(TokenProblem::Invalid) => {
                Err(GraphError::unauthorized("Access token validation failure."))
            }
        }
    }
}

// ---------------------------------------------------------------- times

/// The zone `Prefer: outlook.timezone="…"` asks for, when the sandbox knows it.
fn preferred_zone(headers: &HeaderMap) -> (TimeZone, String) {
    let wanted = headers
        .get_all("prefer")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .find_map(|p| {
            let (name, value) = p.trim().split_once('=')?;
            name.trim()
                .eq_ignore_ascii_case("outlook.timezone")
                .then(|| value.trim().trim_matches('"').to_string())
        });
    match wanted.as_deref().and_then(zone_named) {
        Some(zone) => (zone, wanted.unwrap_or_default()),
        None => (TimeZone::UTC, "UTC".into()),
    }
}

/// `UTC` or an IANA zone.
fn zone_named(name: &str) -> Option<TimeZone> {
    match name.trim() {
        "UTC" | "Etc/UTC" | "utc" => Some(TimeZone::UTC),
        other => TimeZone::get(other).ok(),
    }
}

/// A Graph `dateTimeTimeZone` for `t` in `zone`: `2026-12-01T15:00:00.0000000`.
fn graph_time(t: Timestamp, zone: &TimeZone, zone_name: &str) -> wire::DateTimeZone {
    let local = t.to_zoned(zone.clone()).datetime();
    wire::DateTimeZone {
        date_time: format!(
            "{}.{:07}",
            local.strftime("%Y-%m-%dT%H:%M:%S"),
            local.subsec_nanosecond() / 100
        ),
        time_zone: zone_name.to_string(),
    }
}

/// RFC 3339 in UTC with Graph's seven fractional digits.
fn graph_instant(t: Timestamp) -> String {
    let local = t.to_zoned(TimeZone::UTC).datetime();
    format!(
        "{}.{:07}Z",
        local.strftime("%Y-%m-%dT%H:%M:%S"),
        local.subsec_nanosecond() / 100
    )
}

/// A query-string instant: RFC 3339, or a date-time without offset read as UTC.
fn parse_instant(raw: &str) -> Option<Timestamp> {
    let raw = raw.trim();
    raw.parse::<Timestamp>().ok().or_else(|| {
        raw.parse::<DateTime>()
            .ok()
            .and_then(|d| d.to_zoned(TimeZone::UTC).ok())
            .map(|z| z.timestamp())
    })
}

/// A request body's `dateTimeTimeZone`.
fn parse_date_time_zone(field: &str, value: &Value) -> Result<Timestamp, GraphError> {
    let object = value.as_object().ok_or_else(|| {
        GraphError::invalid_request(format!(
            "'{field}' must be an object with 'dateTime' and 'timeZone'."
        ))
    })?;
    let raw = object
        .get("dateTime")
        .and_then(Value::as_str)
        .ok_or_else(|| GraphError::invalid_request(format!("'{field}.dateTime' is required.")))?;
    let zone_name = object
        .get("timeZone")
        .and_then(Value::as_str)
        .ok_or_else(|| GraphError::invalid_request(format!("'{field}.timeZone' is required.")))?;
    let zone = zone_named(zone_name).ok_or_else(|| {
        GraphError::new(
            StatusCode::BAD_REQUEST,
            "TimeZoneNotSupportedException",
            format!("A valid TimeZone value must be specified. The following TimeZone value is not supported: '{zone_name}'."),
        )
    })?;
    let bad = || {
        GraphError::new(
            StatusCode::BAD_REQUEST,
            "UnableToDeserializePostBody",
            format!("Cannot convert the literal '{raw}' to the expected type 'Edm.DateTime' ('{field}.dateTime')."),
        )
    };
    if let Ok(t) = raw.trim().parse::<Timestamp>() {
        return Ok(t);
    }
    raw.trim()
        .parse::<DateTime>()
        .map_err(|_| bad())?
        .to_zoned(zone)
        .map(|z| z.timestamp())
        .map_err(|_| bad())
}

// ---------------------------------------------------------------- paging

fn query_pairs(raw: Option<&str>) -> Vec<(String, String)> {
    url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .into_owned()
        .collect()
}

/// A query parameter by name, case-insensitively (Graph's are).
fn query_value<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// `$top` and `$skip`.
fn page_window(pairs: &[(String, String)]) -> Result<(usize, usize), GraphError> {
    let top = match query_value(pairs, "$top") {
        Some(raw) => raw
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_PAGE_SIZE).contains(n))
            .ok_or_else(|| {
                GraphError::new(
                    StatusCode::BAD_REQUEST,
                    "BadRequest",
                    format!(
                        "Invalid value '{raw}' for query option $top: use 1 to {MAX_PAGE_SIZE}."
                    ),
                )
            })?,
        None => DEFAULT_PAGE_SIZE,
    };
    let skip = match query_value(pairs, "$skip") {
        Some(raw) => raw.trim().parse::<usize>().map_err(|_| {
            GraphError::new(
                StatusCode::BAD_REQUEST,
                "BadRequest",
                format!("Invalid value '{raw}' for query option $skip."),
            )
        })?,
        None => 0,
    };
    Ok((top, skip))
}

/// Where this request came to, as an absolute URL without query: the public host
/// and scheme when a proxy says so.
fn request_url(headers: &HeaderMap, uri: &axum::http::Uri) -> String {
    let header_text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let scheme = header_text("x-forwarded-proto").unwrap_or_else(|| "http".into());
    let host = header_text("x-forwarded-host")
        .or_else(|| header_text("host"))
        .or_else(|| uri.authority().map(|a| a.to_string()))
        .unwrap_or_else(|| "localhost".into());
    format!("{scheme}://{host}{}", uri.path())
}

/// One page of `items` and the link to the next, if any.
fn paginate<T>(
    items: Vec<T>,
    pairs: &[(String, String)],
    headers: &HeaderMap,
    uri: &axum::http::Uri,
) -> Result<(Vec<T>, Option<String>), GraphError> {
    let (top, skip) = page_window(pairs)?;
    let total = items.len();
    let page: Vec<T> = items.into_iter().skip(skip).take(top).collect();
    let next_skip = skip.saturating_add(top);
    let next = (next_skip < total).then(|| {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in pairs {
            if !k.eq_ignore_ascii_case("$skip") {
                query.append_pair(k, v);
            }
        }
        query.append_pair("$skip", &next_skip.to_string());
        format!("{}?{}", request_url(headers, uri), query.finish())
    });
    Ok((page, next))
}

fn page_response<T: Serialize>(
    context: &'static str,
    value: Vec<T>,
    next_link: Option<String>,
) -> Response {
    Json(wire::Page {
        context,
        value,
        next_link,
    })
    .into_response()
}

// ---------------------------------------------------------------- the user and calendars

/// `GET /v1.0/me`.
pub(crate) async fn me(Caller(user): Caller) -> Response {
    Json(wire::User {
        context: "https://graph.microsoft.com/v1.0/$metadata#users/$entity",
        business_phones: Vec::new(),
        display_name: user.display_name(),
        given_name: user.given_name.clone(),
        job_title: None,
        mail: user.email.clone(),
        mobile_phone: None,
        office_location: None,
        preferred_language: "en-US",
        surname: user.surname.clone(),
        user_principal_name: user.email.clone(),
        id: user.id.clone(),
    })
    .into_response()
}

fn email_address(user: &GraphUser) -> wire::EmailAddress {
    wire::EmailAddress {
        name: user.display_name(),
        address: user.email.clone(),
    }
}

/// `GET /v1.0/me/calendars`.
pub(crate) async fn list_calendars(
    State(inner): State<Arc<Inner>>,
    Caller(caller): Caller,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, GraphError> {
    let pairs = query_pairs(query.as_deref());
    let calendars: Vec<wire::Calendar> = inner
        .lock()
        .calendars_of(&caller.id)
        .map(|c| wire::Calendar {
            id: c.id.clone(),
            name: c.name.clone(),
            color: c.color,
            hex_color: "",
            is_default_calendar: c.is_default,
            change_key: c.change_key.clone(),
            can_share: true,
            can_view_private_items: true,
            can_edit: c.can_edit,
            allowed_online_meeting_providers: ["teamsForBusiness"],
            default_online_meeting_provider: "teamsForBusiness",
            is_tallying_responses: true,
            is_removable: !c.is_default,
            owner: email_address(&caller),
        })
        .collect();
    let (page, next) = paginate(calendars, &pairs, &headers, &uri)?;
    Ok(page_response(
        "https://graph.microsoft.com/v1.0/$metadata#users('me')/calendars",
        page,
        next,
    ))
}

// ---------------------------------------------------------------- events out

fn event_json(
    e: &state::Event,
    owner: &GraphUser,
    zone: &TimeZone,
    zone_name: &str,
) -> wire::Event {
    let location = || wire::Location {
        display_name: e.location.clone(),
        location_type: "default",
    };
    wire::Event {
        etag: format!("W/\"{}\"", e.change_key),
        id: e.id.clone(),
        created_date_time: graph_instant(e.created),
        last_modified_date_time: graph_instant(e.modified),
        change_key: e.change_key.clone(),
        categories: Vec::new(),
        transaction_id: e.transaction_id.clone(),
        original_start_time_zone: "UTC",
        original_end_time_zone: "UTC",
        ical_uid: e.ical_uid.clone(),
        reminder_minutes_before_start: 15,
        is_reminder_on: true,
        has_attachments: false,
        subject: e.subject.clone(),
        body_preview: e.body.chars().take(255).collect(),
        importance: "normal",
        sensitivity: "normal",
        is_all_day: false,
        is_cancelled: e.is_cancelled,
        is_organizer: true,
        response_requested: true,
        show_as: e.show_as.clone(),
        kind: "singleInstance",
        web_link: format!(
            "https://outlook.office365.com/owa/?itemid={}&exvsurl=1&path=/calendar/item",
            e.id
        ),
        online_meeting_url: None,
        is_online_meeting: e.online_meeting_url.is_some(),
        online_meeting_provider: if e.online_meeting_url.is_some() {
            "teamsForBusiness"
        } else {
            "unknown"
        },
        body: wire::ItemBody {
            content_type: e.body_type.clone(),
            content: e.body.clone(),
        },
        start: graph_time(e.start, zone, zone_name),
        end: graph_time(e.end, zone, zone_name),
        location: location(),
        locations: if e.location.is_empty() {
            Vec::new()
        } else {
            vec![location()]
        },
        attendees: e
            .attendees
            .iter()
            .map(|a| wire::Attendee {
                kind: a.kind.clone(),
                status: wire::ResponseStatus {
                    response: "none",
                    time: "0001-01-01T00:00:00Z",
                },
                email_address: wire::EmailAddress {
                    name: if a.name.is_empty() {
                        a.address.clone()
                    } else {
                        a.name.clone()
                    },
                    address: a.address.clone(),
                },
            })
            .collect(),
        organizer: wire::Recipient {
            email_address: email_address(owner),
        },
        online_meeting: e
            .online_meeting_url
            .as_ref()
            .map(|u| wire::OnlineMeetingInfo {
                join_url: u.clone(),
            }),
    }
}

/// An event response with the time zone the client preferred.
fn event_response(
    status: StatusCode,
    e: &state::Event,
    owner: &GraphUser,
    headers: &HeaderMap,
) -> Response {
    let (zone, zone_name) = preferred_zone(headers);
    let mut response = (status, Json(event_json(e, owner, &zone, &zone_name))).into_response();
    applied(&mut response, &zone_name);
    response
}

fn applied(response: &mut Response, zone_name: &str) {
    if let Ok(value) = format!("outlook.timezone=\"{zone_name}\"").parse() {
        response.headers_mut().insert("preference-applied", value);
    }
}

// ---------------------------------------------------------------- calendarView

/// `GET /v1.0/me/calendarView` (the default calendar).
pub(crate) async fn default_calendar_view(
    State(inner): State<Arc<Inner>>,
    caller: Caller,
    uri: OriginalUri,
    headers: HeaderMap,
    query: RawQuery,
) -> Result<Response, GraphError> {
    let calendar_id = inner
        .lock()
        .default_calendar(&caller.0.id)
        .map(|c| c.id.clone())
        .ok_or_else(GraphError::not_found)?;
    calendar_view_of(
        &inner,
        &caller.0,
        &calendar_id,
        &uri.0,
        &headers,
        query.0.as_deref(),
    )
}

/// `GET /v1.0/me/calendars/{id}/calendarView`.
pub(crate) async fn calendar_view(
    State(inner): State<Arc<Inner>>,
    Caller(caller): Caller,
    Path(calendar_id): Path<String>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, GraphError> {
    calendar_view_of(
        &inner,
        &caller,
        &calendar_id,
        &uri,
        &headers,
        query.as_deref(),
    )
}

fn calendar_view_of(
    inner: &Inner,
    caller: &GraphUser,
    calendar_id: &str,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
    query: Option<&str>,
) -> Result<Response, GraphError> {
    let pairs = query_pairs(query);
    let window_error = || {
        GraphError::invalid_parameter(
            "This request requires a time window specified by the query string parameters StartDateTime and EndDateTime.",
        )
    };
    let from = query_value(&pairs, "startDateTime").ok_or_else(window_error)?;
    let to = query_value(&pairs, "endDateTime").ok_or_else(window_error)?;
    let from = parse_instant(from).ok_or_else(|| {
        GraphError::invalid_parameter(format!(
            "The value '{from}' of parameter 'StartDateTime' is invalid."
        ))
    })?;
    let to = parse_instant(to).ok_or_else(|| {
        GraphError::invalid_parameter(format!(
            "The value '{to}' of parameter 'EndDateTime' is invalid."
        ))
    })?;
    if to < from {
        return Err(GraphError::invalid_parameter(
            "The parameter 'EndDateTime' must be later than 'StartDateTime'.",
        ));
    }
    let (zone, zone_name) = preferred_zone(headers);
    let events: Vec<wire::Event> = {
        let state = inner.lock();
        if !state.calendars_of(&caller.id).any(|c| c.id == calendar_id) {
            return Err(GraphError::not_found());
        }
        let mut matching: Vec<(usize, &state::Event)> = state
            .events
            .iter()
            .enumerate()
            .filter(|(_, e)| {
                e.calendar_id == calendar_id && !e.deleted && e.start < to && e.end > from
            })
            .collect();
        matching.sort_by_key(|(i, e)| (e.start, *i));
        matching
            .into_iter()
            .map(|(_, e)| event_json(e, caller, &zone, &zone_name))
            .collect()
    };
    let (page, next) = paginate(events, &pairs, headers, uri)?;
    let mut response = page_response(
        "https://graph.microsoft.com/v1.0/$metadata#users('me')/calendars('id')/calendarView",
        page,
        next,
    );
    applied(&mut response, &zone_name);
    Ok(response)
}

// ---------------------------------------------------------------- getSchedule

/// `showAs` values by how much they block, for `availabilityView`.
fn availability_digit(show_as: &str) -> (u8, char) {
    match show_as {
        "oof" => (4, '3'),
        "busy" => (3, '2'),
        "tentative" => (2, '1'),
        "workingElsewhere" => (1, '4'),
        _ => (0, '0'),
    }
}

/// `POST /v1.0/me/calendar/getSchedule`.
pub(crate) async fn get_schedule(
    State(inner): State<Arc<Inner>>,
    Caller(_caller): Caller,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, GraphError> {
    let body = json_object(&body)?;
    let schedules: Vec<String> = body
        .get("schedules")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .filter(|s: &Vec<String>| !s.is_empty() && s.len() <= 100)
        .ok_or_else(|| {
            GraphError::invalid_request("'schedules' must be a list of 1 to 100 email addresses.")
        })?;
    let start = parse_date_time_zone("startTime", body.get("startTime").unwrap_or(&Value::Null))?;
    let end = parse_date_time_zone("endTime", body.get("endTime").unwrap_or(&Value::Null))?;
    if end <= start {
        return Err(GraphError::invalid_request(
            "'endTime' must be later than 'startTime'.",
        ));
    }
    if end.duration_since(start) > SignedDuration::from_hours(24 * MAX_SCHEDULE_DAYS) {
        return Err(GraphError::invalid_request(format!(
            "The requested time window must be at most {MAX_SCHEDULE_DAYS} days."
        )));
    }
    let interval = match body.get("availabilityViewInterval") {
        None | Some(Value::Null) => 30,
        Some(v) => v
            .as_i64()
            .filter(|n| (5..=1440).contains(n))
            .ok_or_else(|| {
                GraphError::invalid_request("'availabilityViewInterval' must be 5 to 1440 minutes.")
            })?,
    };
    let (zone, zone_name) = preferred_zone(&headers);
    let step = SignedDuration::from_mins(interval);
    let state = inner.lock();
    let value: Vec<wire::ScheduleInformation> = schedules
        .iter()
        .map(|schedule_id| {
            let Some(user) = state.find_user(schedule_id).map(|r| r.user.clone()) else {
                return wire::ScheduleInformation {
                    schedule_id: schedule_id.clone(),
                    availability_view: String::new(),
                    schedule_items: Vec::new(),
                    working_hours: None,
                    error: Some(wire::ScheduleError {
                        message: format!("The mailbox {schedule_id} was not found."),
                        response_code: "ErrorMailRecipientNotFound",
                    }),
                };
            };
            let calendar = state.default_calendar(&user.id).map(|c| c.id.clone());
            let mut items: Vec<&state::Event> = state
                .events
                .iter()
                .filter(|e| Some(&e.calendar_id) == calendar.as_ref())
                .filter(|e| !e.deleted && !e.is_cancelled && e.start < end && e.end > start)
                .collect();
            items.sort_by_key(|e| e.start);
            let mut view = String::new();
            let mut slot = start;
            while slot < end {
                let slot_end = slot.checked_add(step).unwrap_or(end).min(end);
                let digit = items
                    .iter()
                    .filter(|e| e.start < slot_end && e.end > slot)
                    .map(|e| availability_digit(&e.show_as))
                    .max()
                    .map_or('0', |(_, d)| d);
                view.push(digit);
                slot = slot_end;
            }
            wire::ScheduleInformation {
                schedule_id: schedule_id.clone(),
                availability_view: view,
                schedule_items: items
                    .iter()
                    .map(|e| wire::ScheduleItem {
                        is_private: false,
                        status: e.show_as.clone(),
                        subject: e.subject.clone(),
                        location: e.location.clone(),
                        start: graph_time(e.start, &zone, &zone_name),
                        end: graph_time(e.end, &zone, &zone_name),
                    })
                    .collect(),
                working_hours: Some(json!({
                    "daysOfWeek": ["monday", "tuesday", "wednesday", "thursday", "friday"],
                    "startTime": "08:00:00.0000000",
                    "endTime": "17:00:00.0000000",
                    "timeZone": {"name": "UTC"},
                })),
                error: None,
            }
        })
        .collect();
    let mut response = Json(json!({
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#Collection(microsoft.graph.scheduleInformation)",
        "value": value,
    }))
    .into_response();
    applied(&mut response, &zone_name);
    Ok(response)
}

// ---------------------------------------------------------------- events in

/// Event properties Graph knows that the sandbox accepts without modelling them.
const IGNORED_EVENT_PROPERTIES: &[&str] = &[
    "@odata.type",
    "importance",
    "sensitivity",
    "categories",
    "isReminderOn",
    "reminderMinutesBeforeStart",
    "responseRequested",
    "allowNewTimeProposals",
    "hideAttendees",
    "locations",
    "isAllDay",
    "originalStartTimeZone",
    "originalEndTimeZone",
];

/// The fields of an event body, each checked if present.
#[derive(Debug, Default)]
struct EventFields {
    subject: Option<String>,
    body: Option<(String, String)>,
    start: Option<Timestamp>,
    end: Option<Timestamp>,
    location: Option<String>,
    attendees: Option<Vec<Attendee>>,
    transaction_id: Option<String>,
    show_as: Option<String>,
    online: Option<bool>,
}

fn json_object(body: &[u8]) -> Result<Map<String, Value>, GraphError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(GraphError::new(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.",
        )),
    }
}

fn unknown_property(name: &str, kind: &str) -> GraphError {
    GraphError::new(
        StatusCode::BAD_REQUEST,
        "RequestBodyRead",
        format!("The property '{name}' does not exist on type 'microsoft.graph.{kind}'. Make sure to only use property names that are defined by the type."),
    )
}

fn text_field(map: &Map<String, Value>, name: &str) -> Result<Option<String>, GraphError> {
    match map.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(GraphError::invalid_request(format!(
            "'{name}' must be a string."
        ))),
    }
}

fn parse_event(body: &[u8]) -> Result<EventFields, GraphError> {
    let map = json_object(body)?;
    let mut fields = EventFields::default();
    for (name, value) in &map {
        match name.as_str() {
            "subject" => fields.subject = text_field(&map, name)?,
            "body" => {
                let object = value.as_object().ok_or_else(|| {
                    GraphError::invalid_request("'body' must be an object with 'contentType' and 'content'.")
                })?;
                let kind = match object.get("contentType").and_then(Value::as_str) {
                    None => "text".to_string(),
                    Some(k) if k.eq_ignore_ascii_case("text") => "text".into(),
                    Some(k) if k.eq_ignore_ascii_case("html") => "html".into(),
                    Some(k) => {
                        return Err(GraphError::invalid_request(format!(
                            "'body.contentType' must be text or html, not '{k}'."
                        )))
                    }
                };
                let content = object
                    .get("content")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                fields.body = Some((kind, content));
            }
            "start" => fields.start = Some(parse_date_time_zone("start", value)?),
            "end" => fields.end = Some(parse_date_time_zone("end", value)?),
            "location" => {
                let name = value
                    .as_object()
                    .map(|o| o.get("displayName").and_then(Value::as_str).unwrap_or_default())
                    .ok_or_else(|| {
                        GraphError::invalid_request("'location' must be an object with 'displayName'.")
                    })?;
                fields.location = Some(name.to_string());
            }
            "attendees" => fields.attendees = Some(parse_attendees(value)?),
            "transactionId" => fields.transaction_id = text_field(&map, name)?,
            "showAs" => {
                let show_as = text_field(&map, name)?.unwrap_or_else(|| "busy".into());
                const VALUES: [&str; 6] =
                    ["free", "tentative", "busy", "oof", "workingElsewhere", "unknown"];
                if !VALUES.contains(&show_as.as_str()) {
                    return Err(GraphError::invalid_request(format!(
                        "'showAs' must be one of {}, not '{show_as}'.",
                        VALUES.join(", ")
                    )));
                }
                fields.show_as = Some(show_as);
            }
            "isOnlineMeeting" => {
                fields.online = Some(value.as_bool().ok_or_else(|| {
                    GraphError::invalid_request("'isOnlineMeeting' must be true or false.")
                })?)
            }
            "onlineMeetingProvider" => match value.as_str() {
                Some("teamsForBusiness" | "unknown") | None => {}
                Some(other) => {
                    return Err(GraphError::invalid_request(format!(
                        "The sandbox supports onlineMeetingProvider teamsForBusiness only, not '{other}'."
                    )))
                }
            },
            other if IGNORED_EVENT_PROPERTIES.contains(&other) => {}
            other => return Err(unknown_property(other, "event")),
        }
    }
    Ok(fields)
}

fn parse_attendees(value: &Value) -> Result<Vec<Attendee>, GraphError> {
    let list = value
        .as_array()
        .ok_or_else(|| GraphError::invalid_request("'attendees' must be a list."))?;
    list.iter()
        .map(|a| {
            let email = a.get("emailAddress");
            let address = email
                .and_then(|e| e.get("address"))
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|s| s.contains('@') && !s.chars().any(char::is_whitespace))
                .ok_or_else(|| {
                    GraphError::invalid_request(
                        "Each attendee needs 'emailAddress.address', an email address.",
                    )
                })?;
            let name = email
                .and_then(|e| e.get("name"))
                .and_then(Value::as_str)
                .unwrap_or_default();
            let kind = match a.get("type").and_then(Value::as_str) {
                None => "required",
                Some(k @ ("required" | "optional" | "resource")) => k,
                Some(other) => {
                    return Err(GraphError::invalid_request(format!(
                    "An attendee's 'type' must be required, optional or resource, not '{other}'."
                )))
                }
            };
            Ok(Attendee {
                name: name.to_string(),
                address: address.to_string(),
                kind: kind.to_string(),
            })
        })
        .collect()
}

/// A Teams join link, shaped like Microsoft's.
fn teams_join_url(user: &GraphUser) -> (String, String) {
    let thread = util::random_token(36);
    let url = format!(
        "https://teams.microsoft.sandbox/l/meetup-join/19%3ameeting_{thread}%40thread.v2/0?context=%7b%22Tid%22%3a%22{}%22%2c%22Oid%22%3a%22{}%22%7d",
        user.tenant_id, user.id
    );
    (url, format!("19:meeting_{thread}@thread.v2"))
}

/// `POST /v1.0/me/events` (the default calendar).
pub(crate) async fn create_default_event(
    State(inner): State<Arc<Inner>>,
    Caller(caller): Caller,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, GraphError> {
    let calendar_id = inner
        .lock()
        .default_calendar(&caller.id)
        .map(|c| c.id.clone())
        .ok_or_else(GraphError::not_found)?;
    create_event_in(&inner, &caller, &calendar_id, &headers, &body)
}

/// `POST /v1.0/me/calendars/{id}/events`.
pub(crate) async fn create_event(
    State(inner): State<Arc<Inner>>,
    Caller(caller): Caller,
    Path(calendar_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, GraphError> {
    create_event_in(&inner, &caller, &calendar_id, &headers, &body)
}

fn create_event_in(
    inner: &Inner,
    caller: &GraphUser,
    calendar_id: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, GraphError> {
    let fields = parse_event(body)?;
    let (Some(start), Some(end)) = (fields.start, fields.end) else {
        return Err(GraphError::invalid_request(
            "An event needs 'start' and 'end'.",
        ));
    };
    if end < start {
        return Err(GraphError::invalid_request(
            "The event's end must not be before its start.",
        ));
    }
    let mut state = inner.lock();
    let calendar = state
        .calendars_of(&caller.id)
        .find(|c| c.id == calendar_id)
        .cloned()
        .ok_or_else(GraphError::not_found)?;
    if !calendar.can_edit {
        return Err(GraphError::new(
            StatusCode::FORBIDDEN,
            "ErrorAccessDenied",
            "Access is denied. Check credentials and try again.",
        ));
    }
    if let Some(transaction_id) = fields.transaction_id.as_deref().filter(|t| !t.is_empty()) {
        let existing = state.events.iter().find(|e| {
            e.owner_id == caller.id
                && !e.deleted
                && e.transaction_id.as_deref() == Some(transaction_id)
        });
        if let Some(existing) = existing.cloned() {
            state.counters.events_deduplicated += 1;
            return Ok(event_response(
                StatusCode::CREATED,
                &existing,
                caller,
                headers,
            ));
        }
    }
    let now = Timestamp::now();
    let (body_type, body) = fields
        .body
        .unwrap_or_else(|| ("text".into(), String::new()));
    let event = state::Event {
        id: new_item_id("AAMkAGI"),
        calendar_id: calendar.id.clone(),
        owner_id: caller.id.clone(),
        subject: fields.subject.unwrap_or_default(),
        body_type,
        body,
        location: fields.location.unwrap_or_default(),
        start,
        end,
        attendees: fields.attendees.unwrap_or_default(),
        show_as: fields.show_as.unwrap_or_else(|| "busy".into()),
        is_cancelled: false,
        transaction_id: fields.transaction_id.filter(|t| !t.is_empty()),
        ical_uid: format!("040000008200E00074C5B7101A82E008{}", util::random_token(24)),
        change_key: util::random_token(12),
        online_meeting_url: fields
            .online
            .unwrap_or(false)
            .then(|| teams_join_url(caller).0),
        created: now,
        modified: now,
        updates: 0,
        deleted: false,
    };
    let response = event_response(StatusCode::CREATED, &event, caller, headers);
    state.events.push(event);
    state.counters.events_created += 1;
    Ok(response)
}

/// The index of the caller's live event `id`, else 404.
fn own_event(state: &SandboxState, caller: &GraphUser, id: &str) -> Result<usize, GraphError> {
    state
        .events
        .iter()
        .position(|e| e.id == id && e.owner_id == caller.id && !e.deleted)
        .ok_or_else(GraphError::not_found)
}

/// `GET /v1.0/me/events/{id}`.
pub(crate) async fn get_event(
    State(inner): State<Arc<Inner>>,
    Caller(caller): Caller,
    Path(event_id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, GraphError> {
    let state = inner.lock();
    let index = own_event(&state, &caller, &event_id)?;
    Ok(event_response(
        StatusCode::OK,
        &state.events[index],
        &caller,
        &headers,
    ))
}

/// `PATCH /v1.0/me/events/{id}` → 200 with the event.
pub(crate) async fn update_event(
    State(inner): State<Arc<Inner>>,
    Caller(caller): Caller,
    Path(event_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, GraphError> {
    let fields = parse_event(&body)?;
    let mut state = inner.lock();
    let index = own_event(&state, &caller, &event_id)?;
    let event = &mut state.events[index];
    if let Some(t) = &fields.transaction_id {
        if event.transaction_id.as_ref() != Some(t) {
            return Err(GraphError::invalid_request(
                "The transactionId of an event cannot be changed.",
            ));
        }
    }
    let start = fields.start.unwrap_or(event.start);
    let end = fields.end.unwrap_or(event.end);
    if end < start {
        return Err(GraphError::invalid_request(
            "The event's end must not be before its start.",
        ));
    }
    event.start = start;
    event.end = end;
    if let Some(subject) = fields.subject {
        event.subject = subject;
    }
    if let Some((kind, content)) = fields.body {
        event.body_type = kind;
        event.body = content;
    }
    if let Some(location) = fields.location {
        event.location = location;
    }
    if let Some(attendees) = fields.attendees {
        event.attendees = attendees;
    }
    if let Some(show_as) = fields.show_as {
        event.show_as = show_as;
    }
    match fields.online {
        Some(true) if event.online_meeting_url.is_none() => {
            event.online_meeting_url = Some(teams_join_url(&caller).0)
        }
        Some(false) => event.online_meeting_url = None,
        _ => {}
    }
    event.updates += 1;
    event.modified = Timestamp::now();
    event.change_key = util::random_token(12);
    let response = event_response(StatusCode::OK, event, &caller, &headers);
    state.counters.events_updated += 1;
    Ok(response)
}

/// `DELETE /v1.0/me/events/{id}` → 204; later calls get 404 `ErrorItemNotFound`.
pub(crate) async fn delete_event(
    State(inner): State<Arc<Inner>>,
    Caller(caller): Caller,
    Path(event_id): Path<String>,
) -> Result<Response, GraphError> {
    let mut state = inner.lock();
    let index = own_event(&state, &caller, &event_id)?;
    state.events[index].deleted = true;
    state.counters.events_deleted += 1;
    Ok(StatusCode::NO_CONTENT.into_response())
}

// ---------------------------------------------------------------- online meetings

/// Online-meeting properties Graph knows that the sandbox accepts without modelling.
const IGNORED_MEETING_PROPERTIES: &[&str] = &[
    "@odata.type",
    "participants",
    "lobbyBypassSettings",
    "allowedPresenters",
    "isEntryExitAnnounced",
    "allowAttendeeToEnableCamera",
    "allowAttendeeToEnableMic",
    "allowMeetingChat",
    "allowTeamworkReactions",
    "recordAutomatically",
    "chatInfo",
    "audioConferencing",
    "joinMeetingIdSettings",
];

#[derive(Debug, Default)]
struct MeetingFields {
    subject: Option<String>,
    start: Option<Timestamp>,
    end: Option<Timestamp>,
    external_id: Option<String>,
}

fn parse_meeting(body: &[u8]) -> Result<MeetingFields, GraphError> {
    let map = json_object(body)?;
    let mut fields = MeetingFields::default();
    let instant = |name: &str| -> Result<Option<Timestamp>, GraphError> {
        match text_field(&map, name)? {
            None => Ok(None),
            Some(raw) => parse_instant(&raw).map(Some).ok_or_else(|| {
                GraphError::new(
                    StatusCode::BAD_REQUEST,
                    "UnableToDeserializePostBody",
                    format!("Cannot convert the literal '{raw}' to the expected type 'Edm.DateTimeOffset' ('{name}')."),
                )
            }),
        }
    };
    for name in map.keys() {
        match name.as_str() {
            "subject" => fields.subject = text_field(&map, name)?,
            "startDateTime" => fields.start = instant(name)?,
            "endDateTime" => fields.end = instant(name)?,
            "externalId" => fields.external_id = text_field(&map, name)?,
            other if IGNORED_MEETING_PROPERTIES.contains(&other) => {}
            other => return Err(unknown_property(other, "onlineMeeting")),
        }
    }
    Ok(fields)
}

fn meeting_json(m: &state::OnlineMeeting, organizer: &GraphUser) -> wire::OnlineMeeting {
    wire::OnlineMeeting {
        context: "https://graph.microsoft.com/v1.0/$metadata#users('me')/onlineMeetings/$entity",
        id: m.id.clone(),
        creation_date_time: graph_instant(m.created),
        start_date_time: graph_instant(m.start),
        end_date_time: graph_instant(m.end),
        join_url: m.join_url.clone(),
        join_web_url: m.join_url.clone(),
        subject: m.subject.clone(),
        is_broadcast: false,
        auto_admitted_users: "everyoneInCompany",
        external_id: m.external_id.clone(),
        video_teleconference_id: m.join_meeting_id.chars().take(10).collect(),
        participants: json!({
            "organizer": {
                "upn": organizer.email,
                "role": "presenter",
                "identity": {"user": {
                    "id": organizer.id,
                    "displayName": organizer.display_name(),
                    "tenantId": organizer.tenant_id,
                    "identityProvider": "AAD",
                }},
            },
            "attendees": [],
        }),
        lobby_bypass_settings: wire::LobbyBypassSettings {
            scope: "organization",
            is_dial_in_bypass_enabled: false,
        },
        join_meeting_id_settings: wire::JoinMeetingIdSettings {
            is_passcode_required: true,
            join_meeting_id: m.join_meeting_id.clone(),
            passcode: m.passcode.clone(),
        },
        chat_info: wire::ChatInfo {
            thread_id: m.thread_id.clone(),
            message_id: "0",
            reply_chain_message_id: None,
        },
        audio_conferencing: None,
    }
}

fn meeting_not_found() -> GraphError {
    GraphError::new(
        StatusCode::NOT_FOUND,
        "NotFound",
        "The onlineMeeting was not found. It may have been deleted.",
    )
}

/// `POST /v1.0/me/onlineMeetings` → 201. Without times, the meeting starts now and
/// lasts an hour, as at Graph.
pub(crate) async fn create_online_meeting(
    State(inner): State<Arc<Inner>>,
    Caller(caller): Caller,
    body: Bytes,
) -> Result<Response, GraphError> {
    let fields = parse_meeting(&body)?;
    let now = Timestamp::now();
    let start = fields.start.unwrap_or(now);
    let end = fields.end.unwrap_or_else(|| {
        start
            .checked_add(SignedDuration::from_hours(1))
            .unwrap_or(start)
    });
    if end < start {
        return Err(GraphError::invalid_request(
            "'endDateTime' must not be before 'startDateTime'.",
        ));
    }
    let (join_url, thread_id) = teams_join_url(&caller);
    let meeting = state::OnlineMeeting {
        id: format!("MSp{}", util::random_token(48)),
        owner_id: caller.id.clone(),
        subject: fields.subject.unwrap_or_default(),
        start,
        end,
        join_url,
        join_meeting_id: util::random_in(100_000_000_000..999_999_999_999).to_string(),
        passcode: util::random_alphanumeric(6),
        thread_id,
        external_id: fields.external_id,
        created: now,
        updates: 0,
        deleted: false,
    };
    let response = (StatusCode::CREATED, Json(meeting_json(&meeting, &caller))).into_response();
    let mut state = inner.lock();
    state.online_meetings.push(meeting);
    state.counters.online_meetings_created += 1;
    Ok(response)
}

/// `GET /v1.0/me/onlineMeetings?$filter=JoinWebUrl eq '…'`: Graph lists online
/// meetings only through such a filter.
pub(crate) async fn find_online_meetings(
    State(inner): State<Arc<Inner>>,
    Caller(caller): Caller,
    RawQuery(query): RawQuery,
) -> Result<Response, GraphError> {
    let pairs = query_pairs(query.as_deref());
    let filter = query_value(&pairs, "$filter").unwrap_or_default().trim();
    let wanted = filter
        .split_once(' ')
        .filter(|(name, _)| name.eq_ignore_ascii_case("JoinWebUrl"))
        .and_then(|(_, rest)| rest.trim().strip_prefix("eq"))
        .map(str::trim)
        .and_then(|v| v.strip_prefix('\'')?.strip_suffix('\''))
        .ok_or_else(|| {
            GraphError::new(
                StatusCode::BAD_REQUEST,
                "BadRequest",
                "Filter expression expected: /onlineMeetings?$filter=JoinWebUrl eq '{joinWebUrl}'.",
            )
        })?;
    let state = inner.lock();
    let value: Vec<wire::OnlineMeeting> = state
        .online_meetings
        .iter()
        .filter(|m| m.owner_id == caller.id && !m.deleted && m.join_url == wanted)
        .map(|m| meeting_json(m, &caller))
        .collect();
    Ok(page_response(
        "https://graph.microsoft.com/v1.0/$metadata#users('me')/onlineMeetings",
        value,
        None,
    ))
}

fn own_meeting(state: &SandboxState, caller: &GraphUser, id: &str) -> Result<usize, GraphError> {
    state
        .online_meetings
        .iter()
        .position(|m| m.id == id && m.owner_id == caller.id && !m.deleted)
        .ok_or_else(meeting_not_found)
}

/// `GET /v1.0/me/onlineMeetings/{id}`.
pub(crate) async fn get_online_meeting(
    State(inner): State<Arc<Inner>>,
    Caller(caller): Caller,
    Path(meeting_id): Path<String>,
) -> Result<Response, GraphError> {
    let state = inner.lock();
    let index = own_meeting(&state, &caller, &meeting_id)?;
    Ok(Json(meeting_json(&state.online_meetings[index], &caller)).into_response())
}

/// `PATCH /v1.0/me/onlineMeetings/{id}` → 200 with the meeting (same id and link).
pub(crate) async fn update_online_meeting(
    State(inner): State<Arc<Inner>>,
    Caller(caller): Caller,
    Path(meeting_id): Path<String>,
    body: Bytes,
) -> Result<Response, GraphError> {
    let fields = parse_meeting(&body)?;
    let mut state = inner.lock();
    let index = own_meeting(&state, &caller, &meeting_id)?;
    let meeting = &mut state.online_meetings[index];
    let start = fields.start.unwrap_or(meeting.start);
    let end = fields.end.unwrap_or(meeting.end);
    if end < start {
        return Err(GraphError::invalid_request(
            "'endDateTime' must not be before 'startDateTime'.",
        ));
    }
    meeting.start = start;
    meeting.end = end;
    if let Some(subject) = fields.subject {
        meeting.subject = subject;
    }
    if fields.external_id.is_some() {
        meeting.external_id = fields.external_id;
    }
    meeting.updates += 1;
    let response = Json(meeting_json(meeting, &caller)).into_response();
    state.counters.online_meetings_updated += 1;
    Ok(response)
}

/// `DELETE /v1.0/me/onlineMeetings/{id}` → 204; later calls get 404.
pub(crate) async fn delete_online_meeting(
    State(inner): State<Arc<Inner>>,
    Caller(caller): Caller,
    Path(meeting_id): Path<String>,
) -> Result<Response, GraphError> {
    let mut state = inner.lock();
    let index = own_meeting(&state, &caller, &meeting_id)?;
    state.online_meetings[index].deleted = true;
    state.counters.online_meetings_deleted += 1;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Any other `/v1.0` path: Graph answers 400 for a segment it does not know.
pub(crate) async fn unknown_segment(Path(rest): Path<String>) -> Response {
    let segment = rest.rsplit('/').find(|s| !s.is_empty()).unwrap_or_default();
    GraphError::new(
        StatusCode::BAD_REQUEST,
        "BadRequest",
        format!("Resource not found for the segment '{segment}'."),
    )
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn map_of(pairs: &[(String, String)]) -> HashMap<String, String> {
        pairs.iter().cloned().collect()
    }

    #[test]
    fn times_in_graphs_format() {
        let t: Timestamp = "2026-12-01T15:00:00.25Z".parse().unwrap();
        let utc = graph_time(t, &TimeZone::UTC, "UTC");
        assert_eq!(utc.date_time, "2026-12-01T15:00:00.2500000");
        let ny = graph_time(
            t,
            &TimeZone::get("America/New_York").unwrap(),
            "America/New_York",
        );
        assert_eq!(ny.date_time, "2026-12-01T10:00:00.2500000");
        assert_eq!(graph_instant(t), "2026-12-01T15:00:00.2500000Z");
        assert_eq!(
            parse_instant("2026-12-01T15:00:00"),
            Some("2026-12-01T15:00:00Z".parse().unwrap())
        );
        assert_eq!(
            parse_instant("2026-12-01T16:00:00+01:00"),
            Some("2026-12-01T15:00:00Z".parse().unwrap())
        );
        assert_eq!(parse_instant("soon"), None);
        let parsed = parse_date_time_zone(
            "start",
            &json!({"dateTime": "2026-12-01T10:00:00.0000000", "timeZone": "America/New_York"}),
        )
        .unwrap();
        assert_eq!(parsed, "2026-12-01T15:00:00Z".parse().unwrap());
        let err = parse_date_time_zone(
            "start",
            &json!({"dateTime": "2026-12-01T10:00:00", "timeZone": "Eastern Standard Time"}),
        )
        .unwrap_err();
        assert_eq!(err.code, "TimeZoneNotSupportedException");
        assert!(
            parse_date_time_zone("start", &json!({"dateTime": "2026-12-01T10:00:00"})).is_err()
        );
    }

    #[test]
    fn the_preferred_zone() {
        let mut headers = HeaderMap::new();
        assert_eq!(preferred_zone(&headers).1, "UTC");
        headers.insert(
            "prefer",
            "odata.maxpagesize=5, outlook.timezone=\"Europe/Berlin\""
                .parse()
                .unwrap(),
        );
        assert_eq!(preferred_zone(&headers).1, "Europe/Berlin");
        headers.insert(
            "prefer",
            "outlook.timezone=\"Pacific Standard Time\""
                .parse()
                .unwrap(),
        );
        assert_eq!(preferred_zone(&headers).1, "UTC");
    }

    #[test]
    fn paging_keeps_the_query_and_moves_skip() {
        let uri: axum::http::Uri = "/sandbox/microsoft/v1.0/me/calendarView?x".parse().unwrap();
        let mut headers = HeaderMap::new();
        headers.insert("host", "127.0.0.1:9".parse().unwrap());
        let pairs = query_pairs(Some("startDateTime=2026-12-01T00:00:00Z&%24top=2&$skip=1"));
        let (page, next) = paginate((0..6).collect::<Vec<_>>(), &pairs, &headers, &uri).unwrap();
        assert_eq!(page, [1, 2]);
        let next = next.unwrap();
        assert!(
            next.starts_with("http://127.0.0.1:9/sandbox/microsoft/v1.0/me/calendarView?"),
            "{next}"
        );
        let next_pairs = query_pairs(next.split_once('?').map(|(_, q)| q));
        let map = map_of(&next_pairs);
        assert_eq!(map["$skip"], "3");
        assert_eq!(map["$top"], "2");
        assert_eq!(map["startDateTime"], "2026-12-01T00:00:00Z");
        let (third, more) =
            paginate((0..6).collect::<Vec<_>>(), &next_pairs, &headers, &uri).unwrap();
        assert_eq!(third, [3, 4]);
        assert!(more.is_some());
        let last = query_pairs(Some("$top=2&$skip=4"));
        assert_eq!(
            paginate((0..6).collect::<Vec<_>>(), &last, &headers, &uri).unwrap(),
            (vec![4, 5], None)
        );
        headers.insert("x-forwarded-proto", "https".parse().unwrap());
        headers.insert("x-forwarded-host", "convene.example".parse().unwrap());
        assert_eq!(
            request_url(&headers, &uri),
            "https://convene.example/sandbox/microsoft/v1.0/me/calendarView"
        );
        assert!(page_window(&query_pairs(Some("$top=0"))).is_err());
        assert!(page_window(&query_pairs(Some("$skip=-1"))).is_err());
    }

    #[test]
    fn event_bodies_are_checked() {
        assert!(parse_event(b"[1]").is_err());
        let err = parse_event(br#"{"subject":"x","transactionID":"t"}"#).unwrap_err();
        assert_eq!(err.code, "RequestBodyRead");
        let err = parse_event(br#"{"showAs":"away"}"#).unwrap_err();
        assert_eq!(err.status, StatusCode::BAD_REQUEST);
        let err =
            parse_event(br#"{"attendees":[{"emailAddress":{"address":"nope"}}]}"#).unwrap_err();
        assert!(err.message.contains("emailAddress.address"));
        let ok = parse_event(
            br#"{"subject":"Demo","importance":"high","body":{"contentType":"HTML","content":"<p>x</p>"},"attendees":[{"emailAddress":{"address":"a@x.com"}}]}"#,
        )
        .unwrap();
        assert_eq!(ok.body, Some(("html".into(), "<p>x</p>".into())));
        assert_eq!(ok.attendees.unwrap()[0].kind, "required");
        assert_eq!(availability_digit("oof").1, '3');
        assert!(availability_digit("busy") > availability_digit("tentative"));
    }
}
