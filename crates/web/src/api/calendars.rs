//! `/api/v1` for calendars: list a user's calendar connections and calendars, add a
//! CalDAV account, choose conflict and write calendars, disconnect, and read a host's
//! busy times. Google and Microsoft are connected in the browser (OAuth).

use super::types::ErrorBody;
use crate::auth::ApiActor;
use crate::error::{ApiResult, Surface, WebError};
use crate::extract::{parse_id, ApiJson, ApiPath, ApiQuery};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use convene_app::calendars::CalendarConnectionView;
use convene_domain::UserId;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

fn user_or_me(raw: &str, actor: &convene_app::Actor) -> ApiResult<UserId> {
    if raw == "me" {
        Ok(actor.user_id)
    } else {
        parse_id(raw, "user", Surface::Api)
    }
}

fn invalid(field: &'static str, message: impl ToString) -> WebError {
    WebError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
        message.to_string(),
    )
    .with_details(serde_json::json!({ "field": field }))
}

#[derive(Serialize, ToSchema)]
pub struct CalendarDto {
    pub calendar_id: String,
    pub name: String,
    pub primary: bool,
    pub writable: bool,
    /// Its busy times count against availability.
    pub check_conflicts: bool,
    /// Booked meetings are written to it.
    pub write_target: bool,
}

#[derive(Serialize, ToSchema)]
pub struct CalendarConnectionDto {
    pub connection_id: String,
    /// `google`, `microsoft` or `caldav`.
    pub provider: String,
    /// `active`, `needs_reauth` or `revoked`.
    pub status: String,
    pub account: Option<String>,
    pub server_url: Option<String>,
    /// Why the last read of busy times failed; the user is not offered meanwhile.
    pub read_error: Option<String>,
    pub calendars: Vec<CalendarDto>,
}

fn dto(v: &CalendarConnectionView) -> CalendarConnectionDto {
    CalendarConnectionDto {
        connection_id: v.connection_id.clone(),
        provider: v.provider.clone(),
        status: v.status.clone(),
        account: v.account.clone(),
        server_url: v.server_url.clone(),
        read_error: v.read_error.clone(),
        calendars: v
            .calendars
            .iter()
            .map(|c| CalendarDto {
                calendar_id: c.calendar_id.clone(),
                name: c.name.clone(),
                primary: c.is_primary,
                writable: c.writable,
                check_conflicts: c.check_conflicts,
                write_target: c.write_target,
            })
            .collect(),
    }
}

#[utoipa::path(get, path = "/users/{id}/calendars", tag = "calendars", responses((status = 200, body = Vec<CalendarConnectionDto>), (status = 404, body = ErrorBody)))]
pub async fn list_calendars(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(raw): ApiPath<String>,
) -> ApiResult<Json<Vec<CalendarConnectionDto>>> {
    let user = user_or_me(&raw, &actor)?;
    let list = s.app.calendar_connections(&actor, user).await?;
    Ok(Json(list.iter().map(dto).collect()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CalDavInput {
    /// The server (or account) URL, e.g. `https://caldav.example.com/`.
    pub server_url: String,
    pub username: String,
    /// An app password; stored encrypted, never shown again.
    pub password: String,
}

/// Adds a CalDAV account for the caller (its calendars are discovered first).
#[utoipa::path(post, path = "/me/calendars/caldav", tag = "calendars", request_body = CalDavInput, responses((status = 201, body = CalendarConnectionDto), (status = 422, body = ErrorBody)))]
pub async fn connect_caldav(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(body): ApiJson<CalDavInput>,
) -> ApiResult<(StatusCode, Json<CalendarConnectionDto>)> {
    let v = s
        .app
        .connect_caldav(&actor, &body.server_url, &body.username, &body.password)
        .await?;
    Ok((StatusCode::CREATED, Json(dto(&v))))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CalendarChoice {
    pub connection_id: String,
    pub calendar_id: String,
    pub check_conflicts: bool,
    pub write_target: bool,
}

/// Chooses whether a calendar counts for conflicts and whether it receives meetings.
#[utoipa::path(patch, path = "/users/{id}/calendars", tag = "calendars", request_body = CalendarChoice, responses((status = 200, body = Vec<CalendarConnectionDto>), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn choose_calendar(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(raw): ApiPath<String>,
    ApiJson(body): ApiJson<CalendarChoice>,
) -> ApiResult<Json<Vec<CalendarConnectionDto>>> {
    let user = user_or_me(&raw, &actor)?;
    if body.connection_id.len() > 100 || body.calendar_id.len() > 2000 {
        return Err(invalid("calendar_id", "no such calendar"));
    }
    s.app
        .choose_calendar(
            &actor,
            user,
            &body.connection_id,
            &body.calendar_id,
            body.check_conflicts,
            body.write_target,
        )
        .await?;
    let list = s.app.calendar_connections(&actor, user).await?;
    Ok(Json(list.iter().map(dto).collect()))
}

/// Disconnects a calendar account (`google`, `microsoft` or `caldav`): revoked where
/// the provider allows, and its credentials deleted.
#[utoipa::path(delete, path = "/users/{id}/calendars/{provider}", tag = "calendars", responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn disconnect_calendar(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath((raw, provider)): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    let user = user_or_me(&raw, &actor)?;
    if !matches!(provider.as_str(), "google" | "microsoft" | "caldav") {
        return Err(WebError::not_found("calendar provider"));
    }
    s.app.disconnect_calendar(&actor, user, &provider).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct BusyQuery {
    pub from: String,
    pub to: String,
}

#[derive(Serialize, ToSchema)]
pub struct BusyDto {
    pub start: String,
    pub end: String,
}

/// A host's busy times from their conflict calendars (admins, or the host).
#[utoipa::path(get, path = "/users/{id}/busy", tag = "calendars", params(BusyQuery), responses((status = 200, body = Vec<BusyDto>), (status = 409, body = ErrorBody, description = "calendar_unreadable")))]
pub async fn busy(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(raw): ApiPath<String>,
    ApiQuery(q): ApiQuery<BusyQuery>,
) -> ApiResult<Json<Vec<BusyDto>>> {
    let user = user_or_me(&raw, &actor)?;
    let parse = |v: &str, field: &'static str| {
        v.parse::<jiff::Timestamp>()
            .map_err(|_| invalid(field, format!("'{field}' must be an RFC 3339 instant")))
    };
    let list = s
        .app
        .host_busy(&actor, user, parse(&q.from, "from")?, parse(&q.to, "to")?)
        .await?;
    Ok(Json(
        list.iter()
            .map(|b| BusyDto {
                start: b.start.to_string(),
                end: b.end.to_string(),
            })
            .collect(),
    ))
}
