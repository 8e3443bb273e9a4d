//! The REST API under `/api/v1`: JSON, API-key auth, cursor pagination, errors as
//! `{"error":{"code","message","details"}}`, described at `/api/v1/openapi.json`.

pub mod calendars;
mod handlers;
pub mod scheduling;
pub mod types;

use crate::error::WebError;
use crate::AppState;
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

pub fn routes() -> Router<AppState> {
    use handlers::*;
    Router::new()
        .route("/openapi.json", get(|| async { Json(ApiDoc::openapi()) }))
        .route("/me", get(me))
        .route("/users", get(list_users))
        .route("/users/{id}", get(get_user).patch(change_role))
        .route("/users/{id}/deactivate", post(deactivate))
        .route("/users/{id}/reactivate", post(reactivate))
        .route("/users/{id}/resend-invitation", post(resend_invitation))
        .route(
            "/users/{id}/photo",
            get(get_photo).put(put_photo).delete(delete_photo),
        )
        .route("/users/{id}/connections", get(list_connections))
        .route(
            "/users/{id}/connections/{provider}",
            axum::routing::delete(disconnect),
        )
        .route(
            "/users/{id}/connections/{provider}/check",
            post(check_connection),
        )
        .route(
            "/users/{id}/connections/{provider}/release",
            post(release_connection),
        )
        .route("/invitations", post(invite))
        .route("/groups", get(list_groups).post(create_group))
        .route(
            "/groups/{id}",
            get(get_group).patch(rename_group).delete(delete_group),
        )
        .route(
            "/groups/{id}/members/{user_id}",
            put(add_member).delete(remove_member),
        )
        .route("/org", get(get_org).patch(update_org))
        .route("/locks/{resource}", get(get_lock).post(acquire_lock))
        .route("/locks/{resource}/release", post(release_lock))
        .route("/audit-log", get(audit_log))
        .route("/jobs", get(list_jobs))
        .route("/jobs/{id}/retry", post(retry_job))
        .route("/outbox", get(list_outbox))
        .route("/outbox/{id}", get(get_outbox))
        .route("/api-keys", get(list_api_keys).post(create_api_key))
        .route(
            "/event-types",
            get(scheduling::list_event_types).post(scheduling::create_event_type),
        )
        .route(
            "/event-types/{id}",
            get(scheduling::get_event_type).put(scheduling::update_event_type),
        )
        .route("/event-types/{id}/slots", get(scheduling::slots))
        .route(
            "/bookings",
            get(scheduling::list_bookings).post(scheduling::create_booking),
        )
        .route("/bookings.csv", get(scheduling::bookings_csv))
        .route("/bookings/{id}", get(scheduling::get_booking))
        .route(
            "/bookings/{id}/reschedule",
            post(scheduling::reschedule_booking),
        )
        .route("/bookings/{id}/cancel", post(scheduling::cancel_booking))
        .route("/bookings/manage/{token}", get(scheduling::get_managed))
        .route(
            "/bookings/manage/{token}/reschedule",
            post(scheduling::reschedule_managed),
        )
        .route(
            "/bookings/manage/{token}/cancel",
            post(scheduling::cancel_managed),
        )
        .route(
            "/users/{id}/availability",
            get(scheduling::get_availability).put(scheduling::put_availability),
        )
        .route(
            "/users/{id}/meeting-location",
            put(scheduling::put_meeting_location),
        )
        .route(
            "/users/{id}/calendars",
            get(calendars::list_calendars).patch(calendars::choose_calendar),
        )
        .route("/me/calendars/caldav", post(calendars::connect_caldav))
        .route(
            "/users/{id}/calendars/{provider}",
            axum::routing::delete(calendars::disconnect_calendar),
        )
        .route("/users/{id}/busy", get(calendars::busy))
        .route("/api-keys/{id}", axum::routing::delete(revoke_api_key))
        .fallback(|| async {
            WebError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                "no such API route; see /api/v1/openapi.json",
            )
        })
        .method_not_allowed_fallback(|| async {
            WebError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this API route does not take that method; see /api/v1/openapi.json",
            )
        })
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("cnv_…")
                    .build(),
            ),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Convene API", version = "1", description = "Manage users, groups and settings of a Convene organization. Authenticate with `Authorization: Bearer <API key>`."),
    servers((url = "/api/v1")),
    security(("api_key" = [])),
    modifiers(&BearerAuth),
    paths(
        handlers::me, handlers::list_users, handlers::get_user, handlers::change_role, handlers::deactivate,
        handlers::reactivate, handlers::resend_invitation, handlers::get_photo, handlers::put_photo, handlers::delete_photo,
        handlers::invite, handlers::list_groups, handlers::create_group, handlers::get_group, handlers::rename_group,
        handlers::delete_group, handlers::add_member, handlers::remove_member, handlers::get_org, handlers::update_org,
        handlers::get_lock, handlers::acquire_lock, handlers::release_lock, handlers::audit_log, handlers::list_jobs,
        handlers::retry_job, handlers::list_outbox, handlers::get_outbox, handlers::list_api_keys, handlers::create_api_key,
        handlers::revoke_api_key, handlers::list_connections, handlers::check_connection, handlers::disconnect,
        handlers::release_connection,
        scheduling::list_event_types, scheduling::create_event_type, scheduling::get_event_type,
        scheduling::update_event_type, scheduling::slots, scheduling::create_booking,
        scheduling::list_bookings, scheduling::bookings_csv, scheduling::get_booking,
        scheduling::reschedule_booking, scheduling::cancel_booking, scheduling::get_managed,
        scheduling::reschedule_managed, scheduling::cancel_managed, scheduling::get_availability,
        scheduling::put_availability, scheduling::put_meeting_location,
        calendars::list_calendars, calendars::connect_caldav, calendars::choose_calendar,
        calendars::disconnect_calendar, calendars::busy,
    )
)]
pub struct ApiDoc;
