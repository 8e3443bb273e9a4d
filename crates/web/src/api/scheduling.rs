//! `/api/v1` for scheduling: event types, availability, slots and bookings.
//!
//! Slots and creating a booking are public (they back the public booking page, so an
//! integration may call them without a key); everything else needs an API key.

use super::types::ErrorBody;
use crate::auth::ApiActor;
use crate::error::{ApiResult, Surface, WebError};
use crate::extract::{is_link_token, parse_id, ApiJson, ApiPath, ApiQuery, OptionalApiJson};
use crate::AppState;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use convene_app::scheduling::{
    BookingRequest, EventTypeInput, EventTypeView, HostInput, SlotsAnswer,
};
use convene_domain::schedule::{DateOverrides, TimeRange, WeeklyHours};
use convene_domain::{
    parse_description, parse_questions, BookingId, BookingStatus, Email, EventLocation, EventSlug,
    EventTitle, EventTypeId, EventTypeKind, ManualDetails, MeetingLocationKind, PersonName,
    Question, TimeZoneName, Timing, TimingInput, UserId,
};
use convene_store::{BookingQuery, BookingRow};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};

fn invalid(field: &'static str, message: impl ToString) -> WebError {
    WebError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
        message.to_string(),
    )
    .with_details(serde_json::json!({ "field": field }))
}

fn id<T: std::str::FromStr>(raw: &str, what: &'static str) -> ApiResult<T> {
    parse_id(raw, what, Surface::Api)
}

fn instant(raw: &str, field: &'static str) -> ApiResult<Timestamp> {
    raw.parse::<Timestamp>().map_err(|_| {
        invalid(
            field,
            format!("'{field}' must be an RFC 3339 instant such as 2026-12-01T15:00:00Z"),
        )
    })
}

// ---------- event types ----------

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HostInputDto {
    pub user_id: String,
    #[serde(default)]
    pub priority: i64,
    #[serde(default = "one")]
    pub weight: i64,
    #[serde(default)]
    pub is_primary: bool,
}

fn one() -> i64 {
    1
}

fn yes() -> bool {
    true
}

/// An event type definition. `location` is `{"kind":"host_default"}`, `{"kind":"zoom"}`,
/// `{"kind":"manual","details":{"url":"https://…","dial_in":"…","phone":"…","address":"…"}}`
/// or `{"kind":"in_person","address":"…"}`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventTypeInputDto {
    /// `personal`, `round_robin` or `collective`.
    pub kind: String,
    pub title: String,
    pub slug: Option<String>,
    #[serde(default)]
    pub description: String,
    pub duration_min: i64,
    pub interval_min: Option<i64>,
    #[serde(default)]
    pub buffer_before_min: i64,
    #[serde(default)]
    pub buffer_after_min: i64,
    #[serde(default)]
    pub min_notice_min: i64,
    #[serde(default = "sixty")]
    pub window_days: i64,
    pub daily_limit: Option<i64>,
    #[schema(value_type = Object)]
    pub location: Option<serde_json::Value>,
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub questions: Vec<serde_json::Value>,
    pub hosts: Vec<HostInputDto>,
    #[serde(default = "yes")]
    pub active: bool,
    /// The token of the event type's edit lock (`POST /locks/event_type:{id}`); needed
    /// to change a shared event type.
    pub lock_token: Option<String>,
}

fn sixty() -> i64 {
    60
}

impl EventTypeInputDto {
    fn parse(self) -> ApiResult<(EventTypeInput, Option<String>)> {
        let kind: EventTypeKind = self.kind.parse().map_err(|e| invalid("kind", e))?;
        let title = EventTitle::parse(&self.title).map_err(|e| invalid("title", e))?;
        let slug = match &self.slug {
            Some(s) => EventSlug::parse(s),
            None => EventSlug::from_title(&self.title),
        }
        .map_err(|e| invalid("slug", e))?;
        let timing = Timing::parse(TimingInput {
            duration_min: self.duration_min,
            interval_min: self.interval_min,
            buffer_before_min: self.buffer_before_min,
            buffer_after_min: self.buffer_after_min,
            min_notice_min: self.min_notice_min,
            window_days: self.window_days,
            daily_limit: self.daily_limit,
        })
        .map_err(|e| invalid("timing", e))?;
        let location: EventLocation = match self.location {
            None => EventLocation::HostDefault,
            Some(v) => serde_json::from_value(v).map_err(|e| {
                invalid(
                    "location",
                    format!("location: {e} (kind is host_default, zoom, manual or in_person)"),
                )
            })?,
        };
        if let EventLocation::Manual { details } = &location {
            if details.is_empty() {
                return Err(invalid("location", "manual details must not be empty"));
            }
        }
        // Deserialized, not parsed: its texts are checked (and trimmed) as a form's are.
        let location = location.checked().map_err(|e| invalid("location", e))?;
        let questions: Vec<Question> = self
            .questions
            .into_iter()
            .map(serde_json::from_value)
            .collect::<Result<_, _>>()
            .map_err(|e| {
                invalid(
                    "questions",
                    format!("a question is {{\"label\",\"kind\":\"short_text|long_text|phone\",\"required\",\"key\"}}: {e}"),
                )
            })?;
        let questions = parse_questions(questions).map_err(|e| invalid("questions", e))?;
        let hosts = self
            .hosts
            .into_iter()
            .map(|h| {
                Ok(HostInput {
                    user_id: id::<UserId>(&h.user_id, "user")
                        .map_err(|_| invalid("hosts", "a host's user_id is not a user id"))?,
                    priority: h.priority,
                    weight: h.weight,
                    is_primary: h.is_primary,
                })
            })
            .collect::<ApiResult<Vec<_>>>()?;
        Ok((
            EventTypeInput {
                kind,
                title,
                slug,
                description: parse_description(&self.description)
                    .map_err(|e| invalid("description", e))?,
                timing,
                location,
                questions,
                hosts,
                active: self.active,
            },
            self.lock_token,
        ))
    }
}

#[derive(Serialize, ToSchema)]
pub struct HostDto {
    pub user_id: String,
    pub name: String,
    pub email: String,
    pub priority: i64,
    pub weight: i64,
    pub is_primary: bool,
    /// Whether invitees can be offered this host now.
    pub bookable: bool,
    /// Why not, when not bookable (e.g. `zoom_needs_reauth`).
    pub unbookable_reason: Option<String>,
    pub unbookable_message: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct EventTypeDto {
    pub id: String,
    pub kind: String,
    pub slug: String,
    pub title: String,
    pub description: String,
    pub duration_min: i64,
    pub interval_min: i64,
    pub buffer_before_min: i64,
    pub buffer_after_min: i64,
    pub min_notice_min: i64,
    pub window_days: i64,
    pub daily_limit: Option<i64>,
    #[schema(value_type = Object)]
    pub location: serde_json::Value,
    #[schema(value_type = Vec<Object>)]
    pub questions: serde_json::Value,
    pub hosts: Vec<HostDto>,
    pub active: bool,
    pub booking_path: String,
}

fn event_dto(v: &EventTypeView, org_slug: &str) -> EventTypeDto {
    let t = v.timing.input();
    EventTypeDto {
        id: v.row.id.to_string(),
        kind: v.row.kind.as_str().into(),
        slug: v.row.slug.clone(),
        title: v.row.title.clone(),
        description: v.row.description.clone(),
        duration_min: t.duration_min,
        interval_min: t.interval_min.unwrap_or(t.duration_min),
        buffer_before_min: t.buffer_before_min,
        buffer_after_min: t.buffer_after_min,
        min_notice_min: t.min_notice_min,
        window_days: t.window_days,
        daily_limit: t.daily_limit,
        location: serde_json::to_value(&v.location).unwrap_or_default(),
        questions: serde_json::to_value(&v.questions).unwrap_or_default(),
        hosts: v
            .hosts
            .iter()
            .map(|h| HostDto {
                user_id: h.user.id.to_string(),
                name: h.user.display_name().to_string(),
                email: h.user.email.clone(),
                priority: h.priority,
                weight: h.weight,
                is_primary: h.is_primary,
                bookable: h.location.is_ok(),
                unbookable_reason: h.location.as_ref().err().map(|e| e.code().to_string()),
                unbookable_message: h.location.as_ref().err().map(|e| e.to_string()),
            })
            .collect(),
        active: v.row.active,
        booking_path: format!("/book/{org_slug}/{}", v.row.slug),
    }
}

async fn org_slug(s: &AppState, actor: &convene_app::Actor) -> ApiResult<String> {
    Ok(s.app.org_of(actor.org_id).await?.slug)
}

#[utoipa::path(get, path = "/event-types", tag = "scheduling", responses((status = 200, body = Vec<EventTypeDto>)))]
pub async fn list_event_types(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
) -> ApiResult<Json<Vec<EventTypeDto>>> {
    let slug = org_slug(&s, &actor).await?;
    let list = s.app.event_types(&actor).await?;
    Ok(Json(list.iter().map(|v| event_dto(v, &slug)).collect()))
}

#[utoipa::path(post, path = "/event-types", tag = "scheduling", request_body = EventTypeInputDto, responses((status = 201, body = EventTypeDto), (status = 422, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create_event_type(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(body): ApiJson<EventTypeInputDto>,
) -> ApiResult<(StatusCode, Json<EventTypeDto>)> {
    let (input, _) = body.parse()?;
    let v = s.app.create_event_type(&actor, input).await?;
    let slug = org_slug(&s, &actor).await?;
    Ok((StatusCode::CREATED, Json(event_dto(&v, &slug))))
}

#[utoipa::path(get, path = "/event-types/{id}", tag = "scheduling", responses((status = 200, body = EventTypeDto), (status = 404, body = ErrorBody)))]
pub async fn get_event_type(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(raw): ApiPath<String>,
) -> ApiResult<Json<EventTypeDto>> {
    let v = s
        .app
        .event_type(&actor, id::<EventTypeId>(&raw, "event type")?)
        .await?;
    let slug = org_slug(&s, &actor).await?;
    Ok(Json(event_dto(&v, &slug)))
}

#[utoipa::path(put, path = "/event-types/{id}", tag = "scheduling", request_body = EventTypeInputDto, responses((status = 200, body = EventTypeDto), (status = 409, body = ErrorBody)))]
pub async fn update_event_type(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(raw): ApiPath<String>,
    ApiJson(body): ApiJson<EventTypeInputDto>,
) -> ApiResult<Json<EventTypeDto>> {
    let et = id::<EventTypeId>(&raw, "event type")?;
    let (input, lock) = body.parse()?;
    let v = s
        .app
        .update_event_type(&actor, et, lock.as_deref(), input)
        .await?;
    let slug = org_slug(&s, &actor).await?;
    Ok(Json(event_dto(&v, &slug)))
}

// ---------- slots ----------

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SlotsQuery {
    /// RFC 3339 instant; default now.
    pub from: Option<String>,
    /// RFC 3339 instant; default `from` + 7 days; at most 62 days after `from`.
    pub to: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct SlotDto {
    pub start: String,
    pub end: String,
    /// The hosts free for it (Round Robin picks one at booking).
    pub host_ids: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct UnavailableHostDto {
    pub user_id: String,
    pub name: String,
    pub reason: String,
    pub message: String,
}

#[derive(Serialize, ToSchema)]
pub struct SlotsDto {
    pub event_type_id: String,
    pub duration_min: i64,
    pub slots: Vec<SlotDto>,
    pub unavailable_hosts: Vec<UnavailableHostDto>,
}

pub fn slots_dto(a: &SlotsAnswer) -> SlotsDto {
    SlotsDto {
        event_type_id: a.event.row.id.to_string(),
        duration_min: a.event.timing.duration_min(),
        slots: a
            .slots
            .iter()
            .map(|s| SlotDto {
                start: s.start.to_string(),
                end: s.end.to_string(),
                host_ids: s.hosts.iter().map(ToString::to_string).collect(),
            })
            .collect(),
        unavailable_hosts: a
            .unavailable
            .iter()
            .map(|(id, name, why)| UnavailableHostDto {
                user_id: id.to_string(),
                name: name.clone(),
                reason: why.code().into(),
                message: why.to_string(),
            })
            .collect(),
    }
}

/// Public: the free slots of an active event type.
#[utoipa::path(get, path = "/event-types/{id}/slots", tag = "booking", params(SlotsQuery), security(()), responses((status = 200, body = SlotsDto), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn slots(
    State(s): State<AppState>,
    ApiPath(raw): ApiPath<String>,
    ApiQuery(q): ApiQuery<SlotsQuery>,
) -> ApiResult<Json<SlotsDto>> {
    let et = id::<EventTypeId>(&raw, "event type")?;
    let from = match &q.from {
        Some(f) => instant(f, "from")?,
        None => s.app.now(),
    };
    let to = match &q.to {
        Some(t) => instant(t, "to")?,
        None => from
            .checked_add(jiff::SignedDuration::from_hours(24 * 7))
            .map_err(|_| invalid("from", "'from' is out of range"))?,
    };
    let event = s.app.public_event_type_by_id(et).await?;
    let answer = s.app.slots(event, from, to).await?;
    Ok(Json(slots_dto(&answer)))
}

// ---------- bookings ----------

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BookingInputDto {
    pub event_type_id: String,
    /// RFC 3339 instant of a slot from `/event-types/{id}/slots`.
    pub start: String,
    pub name: String,
    pub email: String,
    /// The invitee's IANA time zone, for their emails.
    pub time_zone: String,
    #[serde(default)]
    pub answers: BTreeMap<String, String>,
}

#[derive(Serialize, ToSchema)]
pub struct BookingDto {
    pub id: String,
    pub event_type_id: String,
    pub status: String,
    pub start: String,
    pub end: String,
    pub title: String,
    pub host_id: String,
    pub host_ids: Vec<String>,
    pub invitee_name: String,
    pub invitee_email: String,
    pub invitee_time_zone: String,
    #[schema(value_type = Object)]
    pub answers: serde_json::Value,
    /// `zoom`, `manual` or `in_person`.
    pub location_kind: String,
    pub location_text: Option<String>,
    /// The meeting link once the provider meeting exists.
    pub join_url: Option<String>,
    /// `pending`, `ready`, `failed`, `not_needed` or `removed`.
    pub meeting_state: String,
    pub sequence: i64,
    pub cancel_reason: Option<String>,
    pub created_at: String,
}

pub fn booking_dto(b: &BookingRow) -> BookingDto {
    BookingDto {
        id: b.id.to_string(),
        event_type_id: b.event_type_id.to_string(),
        status: b.status.as_str().into(),
        start: b.start_at.to_string(),
        end: b.end_at.to_string(),
        title: b.title.clone(),
        host_id: b.host_user_id.to_string(),
        host_ids: b.hosts.iter().map(ToString::to_string).collect(),
        invitee_name: b.invitee_name.clone(),
        invitee_email: b.invitee_email.clone(),
        invitee_time_zone: b.invitee_time_zone.clone(),
        answers: serde_json::from_str(&b.answers).unwrap_or_default(),
        location_kind: b.location_kind.clone(),
        location_text: b.location_text.clone(),
        join_url: b.join_url.clone(),
        meeting_state: b.meeting_state.as_str().into(),
        sequence: b.sequence,
        cancel_reason: b.cancel_reason.clone(),
        created_at: b.created_at.to_string(),
    }
}

#[derive(Serialize, ToSchema)]
pub struct BookedDto {
    pub booking: BookingDto,
    /// The invitee's page to see, reschedule or cancel the booking (carries a secret).
    pub manage_url: String,
    /// The secret of the manage links, for `/bookings/manage/{token}/…`.
    pub manage_token: String,
}

/// Public: books a slot. Send an `Idempotency-Key` header to make retries safe: a repeat
/// returns the first booking (200) instead of booking twice.
#[utoipa::path(post, path = "/bookings", tag = "booking", request_body = BookingInputDto, security(()), params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retried request return the first booking")), responses((status = 201, body = BookedDto), (status = 200, body = BookedDto, description = "a replay of an earlier request with the same Idempotency-Key"), (status = 409, body = ErrorBody, description = "slot_taken: the time was just booked; fetch fresh slots"), (status = 422, body = ErrorBody)))]
pub async fn create_booking(
    State(s): State<AppState>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<BookingInputDto>,
) -> ApiResult<(StatusCode, Json<BookedDto>)> {
    let key = match headers.get("idempotency-key") {
        None => None,
        Some(v) => Some(
            v.to_str()
                .map_err(|_| {
                    invalid(
                        "Idempotency-Key",
                        "the Idempotency-Key must be visible ASCII",
                    )
                })?
                .to_string(),
        ),
    };
    let req = BookingRequest {
        event_type: id::<EventTypeId>(&body.event_type_id, "event type")?,
        start: instant(&body.start, "start")?,
        name: PersonName::parse(&body.name).map_err(|e| invalid("name", e))?,
        email: Email::parse(&body.email).map_err(|e| invalid("email", e))?,
        time_zone: TimeZoneName::parse(&body.time_zone).map_err(|e| invalid("time_zone", e))?,
        answers: body.answers,
        idempotency_key: key,
    };
    let booked = s.app.book(req).await?;
    let status = if booked.replayed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((
        status,
        Json(BookedDto {
            booking: booking_dto(&booked.booking),
            manage_url: format!(
                "{}/booking/{}",
                s.app.settings.base_url, booked.manage_token
            ),
            manage_token: booked.manage_token,
        }),
    ))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct BookingsQuery {
    pub host_id: Option<String>,
    /// `confirmed` or `cancelled`.
    pub status: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}

impl BookingsQuery {
    fn parse(&self) -> ApiResult<BookingQuery> {
        let limit = self.limit.unwrap_or(50);
        if !(1..=500).contains(&limit) {
            return Err(WebError::bad_request(
                "invalid_query",
                "limit must be between 1 and 500",
            ));
        }
        Ok(BookingQuery {
            host: self
                .host_id
                .as_deref()
                .map(|h| id::<UserId>(h, "user"))
                .transpose()?,
            status: self
                .status
                .as_deref()
                .map(|s| s.parse::<BookingStatus>().map_err(|e| invalid("status", e)))
                .transpose()?,
            from: self
                .from
                .as_deref()
                .map(|f| instant(f, "from"))
                .transpose()?,
            to: self.to.as_deref().map(|t| instant(t, "to")).transpose()?,
            after: None,
            limit,
        })
    }
}

#[derive(Serialize, ToSchema)]
pub struct BookingsPageDto {
    pub bookings: Vec<BookingDto>,
    pub next_cursor: Option<String>,
}

#[utoipa::path(get, path = "/bookings", tag = "booking", params(BookingsQuery), responses((status = 200, body = BookingsPageDto)))]
pub async fn list_bookings(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiQuery(q): ApiQuery<BookingsQuery>,
) -> ApiResult<Json<BookingsPageDto>> {
    let page = s
        .app
        .bookings(&actor, q.parse()?, q.cursor.as_deref())
        .await?;
    Ok(Json(BookingsPageDto {
        bookings: page.bookings.iter().map(booking_dto).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// The same filters as `GET /bookings`, every page, as CSV.
#[utoipa::path(get, path = "/bookings.csv", tag = "booking", params(BookingsQuery), responses((status = 200, content_type = "text/csv", body = String)))]
pub async fn bookings_csv(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiQuery(q): ApiQuery<BookingsQuery>,
) -> ApiResult<impl IntoResponse> {
    let csv = s.app.bookings_csv(&actor, q.parse()?).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"meetings.csv\"",
            ),
        ],
        csv,
    ))
}

#[utoipa::path(get, path = "/bookings/{id}", tag = "booking", responses((status = 200, body = BookingDto), (status = 404, body = ErrorBody)))]
pub async fn get_booking(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(raw): ApiPath<String>,
) -> ApiResult<Json<BookingDto>> {
    let m = s
        .app
        .booking_for(&actor, id::<BookingId>(&raw, "booking")?)
        .await?;
    Ok(Json(booking_dto(&m.booking)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RescheduleDto {
    pub start: String,
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct CancelDto {
    pub reason: Option<String>,
}

#[utoipa::path(post, path = "/bookings/{id}/reschedule", tag = "booking", request_body = RescheduleDto, responses((status = 200, body = BookingDto), (status = 409, body = ErrorBody)))]
pub async fn reschedule_booking(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(raw): ApiPath<String>,
    ApiJson(body): ApiJson<RescheduleDto>,
) -> ApiResult<Json<BookingDto>> {
    let b = s
        .app
        .reschedule(
            &actor,
            id::<BookingId>(&raw, "booking")?,
            instant(&body.start, "start")?,
        )
        .await?;
    Ok(Json(booking_dto(&b)))
}

#[utoipa::path(post, path = "/bookings/{id}/cancel", tag = "booking", request_body = CancelDto, responses((status = 200, body = BookingDto), (status = 409, body = ErrorBody)))]
pub async fn cancel_booking(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(raw): ApiPath<String>,
    OptionalApiJson(body): OptionalApiJson<CancelDto>,
) -> ApiResult<Json<BookingDto>> {
    let body = body.unwrap_or_default();
    let b = s
        .app
        .cancel(
            &actor,
            id::<BookingId>(&raw, "booking")?,
            body.reason.as_deref(),
        )
        .await?;
    Ok(Json(booking_dto(&b)))
}

/// The manage token from the path, if it can be one: what is not URL-safe base64 is no
/// booking's, and is refused before any query.
fn manage_token(raw: &str) -> ApiResult<&str> {
    if is_link_token(raw) {
        Ok(raw)
    } else {
        Err(convene_app::AppError::NotFound("booking").into())
    }
}

/// Public, with the manage token from the invitee's email.
#[utoipa::path(get, path = "/bookings/manage/{token}", tag = "booking", security(()), responses((status = 200, body = BookingDto), (status = 404, body = ErrorBody)))]
pub async fn get_managed(
    State(s): State<AppState>,
    ApiPath(token): ApiPath<String>,
) -> ApiResult<Json<BookingDto>> {
    let token = manage_token(&token)?;
    Ok(Json(booking_dto(
        &s.app.booking_by_token(token).await?.booking,
    )))
}

#[utoipa::path(post, path = "/bookings/manage/{token}/reschedule", tag = "booking", security(()), request_body = RescheduleDto, responses((status = 200, body = BookingDto), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn reschedule_managed(
    State(s): State<AppState>,
    ApiPath(token): ApiPath<String>,
    ApiJson(body): ApiJson<RescheduleDto>,
) -> ApiResult<Json<BookingDto>> {
    let token = manage_token(&token)?;
    let b = s
        .app
        .reschedule_by_token(token, instant(&body.start, "start")?)
        .await?;
    Ok(Json(booking_dto(&b)))
}

#[utoipa::path(post, path = "/bookings/manage/{token}/cancel", tag = "booking", security(()), request_body = CancelDto, responses((status = 200, body = BookingDto), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn cancel_managed(
    State(s): State<AppState>,
    ApiPath(token): ApiPath<String>,
    OptionalApiJson(body): OptionalApiJson<CancelDto>,
) -> ApiResult<Json<BookingDto>> {
    let token = manage_token(&token)?;
    let body = body.unwrap_or_default();
    let b = s.app.cancel_by_token(token, body.reason.as_deref()).await?;
    Ok(Json(booking_dto(&b)))
}

// ---------- availability and meeting location ----------

/// Weekly hours as `{"mon":["09:00-17:00"], "tue":["09:00-12:00","13:00-17:00"], …}`
/// (days left out are off) and overrides as `{"2026-12-24":[], "2026-12-31":["09:00-12:00"]}`.
#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AvailabilityDto {
    pub time_zone: Option<String>,
    pub weekly: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub overrides: BTreeMap<String, Vec<String>>,
}

fn ranges(list: &[String], field: &'static str) -> ApiResult<Vec<TimeRange>> {
    list.iter()
        .map(|r| r.parse::<TimeRange>().map_err(|e| invalid(field, e)))
        .collect()
}

fn availability_dto(v: &convene_app::scheduling::AvailabilityView) -> AvailabilityDto {
    let weekly = v
        .weekly
        .iter()
        .filter(|(_, r)| !r.is_empty())
        .map(|(d, r)| {
            (
                day_name(d).to_string(),
                r.iter().map(ToString::to_string).collect(),
            )
        })
        .collect();
    let overrides = v
        .overrides
        .iter()
        .map(|(d, r)| (d.to_string(), r.iter().map(ToString::to_string).collect()))
        .collect();
    AvailabilityDto {
        time_zone: Some(v.user.time_zone.clone()),
        weekly,
        overrides,
    }
}

fn day_name(d: jiff::civil::Weekday) -> &'static str {
    use jiff::civil::Weekday::*;
    match d {
        Monday => "mon",
        Tuesday => "tue",
        Wednesday => "wed",
        Thursday => "thu",
        Friday => "fri",
        Saturday => "sat",
        Sunday => "sun",
    }
}

fn weekday(s: &str) -> ApiResult<jiff::civil::Weekday> {
    use jiff::civil::Weekday::*;
    Ok(match s {
        "mon" => Monday,
        "tue" => Tuesday,
        "wed" => Wednesday,
        "thu" => Thursday,
        "fri" => Friday,
        "sat" => Saturday,
        "sun" => Sunday,
        other => {
            return Err(invalid(
                "weekly",
                format!(
                    "unknown day '{}' (use mon, tue, wed, thu, fri, sat, sun)",
                    other.chars().take(20).collect::<String>()
                ),
            ))
        }
    })
}

#[utoipa::path(get, path = "/users/{id}/availability", tag = "scheduling", responses((status = 200, body = AvailabilityDto)))]
pub async fn get_availability(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(raw): ApiPath<String>,
) -> ApiResult<Json<AvailabilityDto>> {
    let user = user_or_me(&raw, &actor)?;
    Ok(Json(availability_dto(
        &s.app.availability(&actor, user).await?,
    )))
}

fn user_or_me(raw: &str, actor: &convene_app::Actor) -> ApiResult<UserId> {
    if raw == "me" {
        Ok(actor.user_id)
    } else {
        id::<UserId>(raw, "user")
    }
}

#[utoipa::path(put, path = "/users/{id}/availability", tag = "scheduling", request_body = AvailabilityDto, responses((status = 200, body = AvailabilityDto), (status = 422, body = ErrorBody)))]
pub async fn put_availability(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(raw): ApiPath<String>,
    ApiJson(body): ApiJson<AvailabilityDto>,
) -> ApiResult<Json<AvailabilityDto>> {
    let user = user_or_me(&raw, &actor)?;
    if body.time_zone.is_some() {
        return Err(invalid(
            "time_zone",
            "the time zone is part of the user's profile; change it there",
        ));
    }
    let mut weekly = WeeklyHours::default();
    for (day, list) in &body.weekly {
        weekly
            .set(weekday(day)?, ranges(list, "weekly")?)
            .map_err(|e| invalid("weekly", e))?;
    }
    let mut overrides = DateOverrides::default();
    if body.overrides.len() > 366 {
        return Err(invalid("overrides", "at most 366 date overrides"));
    }
    for (date, list) in &body.overrides {
        let d: jiff::civil::Date = date.parse().map_err(|_| {
            invalid(
                "overrides",
                format!(
                    "'{}' is not a date (YYYY-MM-DD)",
                    date.chars().take(20).collect::<String>()
                ),
            )
        })?;
        overrides
            .set(d, ranges(list, "overrides")?)
            .map_err(|e| invalid("overrides", e))?;
    }
    let v = s
        .app
        .set_availability(&actor, user, weekly, overrides)
        .await?;
    Ok(Json(availability_dto(&v)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeetingLocationDto {
    /// `zoom`, `manual` or `in_person`.
    pub kind: String,
    pub url: Option<String>,
    pub dial_in: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct MeetingLocationView {
    pub kind: String,
    #[schema(value_type = Object)]
    pub manual_details: Option<serde_json::Value>,
}

#[utoipa::path(put, path = "/users/{id}/meeting-location", tag = "scheduling", request_body = MeetingLocationDto, responses((status = 200, body = MeetingLocationView), (status = 422, body = ErrorBody)))]
pub async fn put_meeting_location(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(raw): ApiPath<String>,
    ApiJson(body): ApiJson<MeetingLocationDto>,
) -> ApiResult<Json<MeetingLocationView>> {
    let user = user_or_me(&raw, &actor)?;
    let kind: MeetingLocationKind = body.kind.parse().map_err(|e| invalid("kind", e))?;
    if kind == MeetingLocationKind::Unset {
        return Err(invalid("kind", "choose zoom, manual or in_person"));
    }
    let any_detail = [&body.url, &body.dial_in, &body.phone, &body.address]
        .iter()
        .any(|f| f.as_deref().is_some_and(|s| !s.trim().is_empty()));
    let details = if any_detail || kind == MeetingLocationKind::Manual {
        Some(
            ManualDetails::parse(
                body.url.as_deref(),
                body.dial_in.as_deref(),
                body.phone.as_deref(),
                body.address.as_deref(),
            )
            .map_err(|e| invalid("manual_details", e))?,
        )
    } else {
        None
    };
    let u = s
        .app
        .set_meeting_location(&actor, user, kind, details)
        .await?;
    Ok(Json(MeetingLocationView {
        kind: u.meeting_location.as_str().into(),
        manual_details: u
            .manual_details
            .as_deref()
            .and_then(|d| serde_json::from_str(d).ok()),
    }))
}
