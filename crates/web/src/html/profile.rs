//! My Profile: name, time zone, photo, password, and (as later issues land) Calendar
//! settings → Video conferencing and User availability → Meeting location.

use super::account::time_zone_select;
use super::layout::{csrf, page, time};
use super::CsrfOnly;
use super::{page_err, redirect_with_notice, Notice};
use crate::auth::{session_cookie, Session};
use crate::error::{Surface, WebError};
use crate::extract::{parse_id, HtmlForm};
use crate::AppState;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use axum_extra::extract::CookieJar;
use convene_app::connections::ConnectionView;
use convene_app::AppError;
use convene_domain::{Password, PersonName, TimeZoneName, UserId};
use maud::{html, Markup};
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/settings/profile", get(show).post(save))
        .route("/settings/profile/photo", post(upload_photo))
        .route("/settings/profile/photo/delete", post(delete_photo))
        .route("/settings/profile/password", post(change_password))
        .route("/users/{id}/photo", get(photo))
}

async fn show(
    State(st): State<AppState>,
    s: Session,
    Query(n): Query<Notice>,
) -> Result<Html<String>, WebError> {
    let d = st
        .app
        .user_detail(&s.actor, s.actor.user_id)
        .await
        .map_err(page_err)?;
    let u = &d.user;
    let zoom = d
        .connections
        .iter()
        .find(|c| c.provider == "zoom")
        .map(ConnectionView::from);
    let body = html! {
        h1 { "My Profile" }
        @if !u.action_reasons.is_empty() {
            div.alert role="alert" #action-required {
                strong { "Action Required" }
                ul.reasons { @for r in u.action_reasons.iter() { li { (r.message()) } } }
            }
        }
        div.card {
            h2 { "Profile" }
            form method="post" action="/settings/profile" {
                (csrf(&s))
                label for="name" { "Name" }
                input type="text" id="name" name="name" value=(u.name.as_deref().unwrap_or("")) required;
                label for="time_zone" { "Time zone" }
                (time_zone_select(Some(&u.time_zone)))
                p { button type="submit" { "Save profile" } }
            }
        }
        div.card {
            h2 { "Profile photo" }
            @if u.has_photo { img src=(format!("/users/{}/photo", u.id)) alt="Your photo" width="72" height="72" style="border-radius:50%"; }
            form method="post" action="/settings/profile/photo" enctype="multipart/form-data" {
                (csrf(&s))
                input type="file" name="photo" accept="image/png,image/jpeg,image/gif,image/webp" required aria-label="Photo";
                button type="submit" { "Upload" }
            }
            @if u.has_photo {
                form method="post" action="/settings/profile/photo/delete" { (csrf(&s)) button.secondary type="submit" { "Remove photo" } }
            }
        }
        div.card #calendar-settings {
            h2 { "Calendar settings" }
            p { a href="/settings/calendars" #calendar-settings-link { "Calendar settings →" } " Connect Google Calendar, Microsoft 365 or a CalDAV calendar, and choose which calendars count for conflicts." }
            h2 #video-conferencing { "Video conferencing" }
            (zoom_section(&s, zoom.as_ref()))
        }
        div.card {
            h2 { "Password" }
            form method="post" action="/settings/profile/password" {
                (csrf(&s))
                label for="current_password" { "Current password" }
                input type="password" id="current_password" name="current_password" required autocomplete="current-password";
                label for="new_password" { "New password (at least 10 characters)" }
                input type="password" id="new_password" name="new_password" required minlength="10" autocomplete="new-password";
                p { button type="submit" { "Change password" } }
            }
        }
    };
    Ok(Html(
        page("My Profile", Some(&s), n.notice.as_deref(), body).into_string(),
    ))
}

/// Connect with Zoom, or who Zoom is connected as, since when, and what went wrong.
fn zoom_section(s: &Session, zoom: Option<&ConnectionView>) -> Markup {
    let connect = |label: &str| {
        html! {
            form method="post" action="/settings/profile/conferencing/zoom/connect" style="display:inline" {
                (csrf(s)) button type="submit" #connect-zoom { (label) }
            }
        }
    };
    html! {
        div #zoom-connection data-status=(zoom.map(|z| z.status.as_str()).unwrap_or("none")) {
            @match zoom {
                None => {
                    p { "Connect Zoom so every meeting booked with you gets its own Zoom link." }
                    (connect("Connect with Zoom"))
                }
                Some(z) if z.status == "active" => {
                    p #zoom-connected-as {
                        "Connected as " strong { (z.display_name.as_deref().unwrap_or("Zoom user")) }
                        @if let Some(e) = &z.account_email { " (" (e) ")" }
                        @if let Some(t) = z.connected_at { " since " (time(t)) }
                    }
                    @if let (Some(e), Some(t)) = (&z.last_error, z.last_error_at) { p.alert { "Last problem (" (time(t)) "): " (e) } }
                    form method="post" action="/settings/profile/conferencing/zoom/check" style="display:inline" {
                        (csrf(s)) button.secondary type="submit" #check-zoom { "Test connection" }
                    }
                    " "
                    form method="post" action="/settings/profile/conferencing/zoom/disconnect" style="display:inline" {
                        (csrf(s)) button.danger type="submit" #disconnect-zoom { "Disconnect" }
                    }
                }
                Some(z) if z.status == "needs_reauth" => {
                    p.alert role="alert" { strong { "Action Required: " } "Zoom stopped accepting Convene's access"
                        @if let Some(t) = z.last_error_at { " on " (time(t)) } ". Meetings that need a Zoom link cannot be booked with you until you reconnect." }
                    @if let Some(e) = &z.last_error { p.muted { (e) } }
                    (connect("Reconnect with Zoom"))
                }
                Some(z) => {
                    p.alert role="alert" { strong { "Action Required: " } "Convene was removed from your Zoom account"
                        @if let Some(t) = z.last_error_at { " on " (time(t)) } ", so we deleted the Zoom credentials we held." }
                    (connect("Connect with Zoom"))
                }
            }
        }
    }
}

#[derive(Deserialize)]
struct ProfileForm {
    #[serde(default)]
    _csrf: String,
    name: String,
    time_zone: String,
}

async fn save(
    State(st): State<AppState>,
    s: Session,
    HtmlForm(f): HtmlForm<ProfileForm>,
) -> Result<Redirect, WebError> {
    s.check_csrf(&f._csrf)?;
    let name = PersonName::parse(&f.name).map_err(|e| page_err(AppError::invalid("name", e)))?;
    let tz = TimeZoneName::parse(&f.time_zone)
        .map_err(|e| page_err(AppError::invalid("time_zone", e)))?;
    st.app
        .update_profile(&s.actor, name, tz)
        .await
        .map_err(page_err)?;
    Ok(redirect_with_notice("/settings/profile", "Profile saved."))
}

async fn upload_photo(
    State(st): State<AppState>,
    s: Session,
    mut form: Multipart,
) -> Result<Redirect, WebError> {
    let bad = |m: String| WebError::bad_request("invalid_form", m).html();
    let mut csrf_token = String::new();
    let mut bytes = None;
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|e| bad(format!("the upload could not be read: {e}")))?
    {
        match field.name() {
            Some("_csrf") => csrf_token = field.text().await.map_err(|e| bad(e.to_string()))?,
            Some("photo") => bytes = Some(field.bytes().await.map_err(|e| bad(e.to_string()))?),
            _ => {}
        }
    }
    s.check_csrf(&csrf_token)?;
    let bytes = bytes.ok_or_else(|| bad("choose a photo to upload".into()))?;
    st.app
        .set_photo(&s.actor, s.actor.user_id, &bytes)
        .await
        .map_err(page_err)?;
    Ok(redirect_with_notice("/settings/profile", "Photo updated."))
}

async fn delete_photo(
    State(st): State<AppState>,
    s: Session,
    HtmlForm(f): HtmlForm<CsrfOnly>,
) -> Result<Redirect, WebError> {
    s.check_csrf(&f._csrf)?;
    st.app
        .delete_photo(&s.actor, s.actor.user_id)
        .await
        .map_err(page_err)?;
    Ok(redirect_with_notice("/settings/profile", "Photo removed."))
}

#[derive(Deserialize)]
struct PasswordForm {
    #[serde(default)]
    _csrf: String,
    current_password: String,
    new_password: String,
}

async fn change_password(
    State(st): State<AppState>,
    jar: CookieJar,
    s: Session,
    HtmlForm(f): HtmlForm<PasswordForm>,
) -> Result<Response, WebError> {
    s.check_csrf(&f._csrf)?;
    let new = Password::parse(&f.new_password)
        .map_err(|e| page_err(AppError::invalid("new_password", e)))?;
    let session = st
        .app
        .change_password(&s.actor, &f.current_password, &new)
        .await
        .map_err(page_err)?;
    Ok((
        jar.add(session_cookie(session.token, st.secure_cookies)),
        redirect_with_notice(
            "/settings/profile",
            "Password changed; your other sessions were signed out.",
        ),
    )
        .into_response())
}

async fn photo(
    State(st): State<AppState>,
    s: Session,
    Path(raw): Path<String>,
) -> Result<Response, WebError> {
    let id: UserId = parse_id(&raw, "user", Surface::Html)?;
    let (ct, bytes) = st.app.photo(&s.actor, id).await.map_err(page_err)?;
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, ct),
            (header::CACHE_CONTROL, "private, max-age=60".to_string()),
        ],
        bytes,
    )
        .into_response())
}
