//! The server-rendered web UI: plain HTML forms (no JavaScript build step), one module
//! per settings area named as in the seeds (Settings → Organization → Users, Groups,
//! My Profile, …).

mod account;
mod admin;
mod booking_pages;
mod calendars;
mod connections;
mod groups;
pub mod layout;
mod org;
mod pairs;
mod profile;
mod scheduling;
mod slot_picker;
mod users;

use crate::error::WebError;
use crate::AppState;
use axum::http::StatusCode;
use axum::Router;

pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(account::routes())
        .merge(users::routes())
        .merge(groups::routes())
        .merge(org::routes())
        .merge(admin::routes())
        .merge(profile::routes())
        .merge(connections::routes())
        .merge(calendars::routes())
        .merge(booking_pages::routes())
        .merge(scheduling::routes())
        .fallback(|| async {
            WebError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                "There is no page at this address.",
            )
            .html()
        })
}

/// A form whose only field is its CSRF token (buttons such as Deactivate or Sign out).
#[derive(serde::Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    pub _csrf: String,
}

/// `?notice=…` shown once after a form redirects back.
#[derive(serde::Deserialize, Default)]
pub struct Notice {
    pub notice: Option<String>,
}

pub fn redirect_with_notice(path: &str, notice: &str) -> axum::response::Redirect {
    let sep = if path.contains('?') { '&' } else { '?' };
    axum::response::Redirect::to(&format!(
        "{path}{sep}notice={}",
        crate::auth::urlencode(notice)
    ))
}

/// Turns a use-case error into an HTML error page.
pub fn page_err(e: convene_app::AppError) -> WebError {
    WebError::from(e).html()
}
