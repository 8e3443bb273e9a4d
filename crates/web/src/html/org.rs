//! Settings → Organization: org settings, edited under the admin lock. Opening the
//! page takes the lock if it is free; otherwise a banner names the holder and offers
//! to take over. A displaced admin's save is refused with a message.

use super::layout::{csrf, page, time};
use super::CsrfOnly;
use super::{page_err, redirect_with_notice, Notice};
use crate::auth::Session;
use crate::error::WebError;
use crate::extract::HtmlForm;
use crate::AppState;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use convene_app::locks::LockState;
use convene_app::org::OrgSettingsChange;
use convene_app::AppError;
use convene_domain::{LockResource, OrgName};
use maud::{html, Markup};
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/settings/organization", get(show).post(save))
        .route("/settings/organization/takeover", post(takeover))
}

fn settings_page(
    s: &Session,
    org: &convene_store::OrgRow,
    state: &LockState,
    notice: Option<&str>,
    error: Option<&str>,
) -> Markup {
    let (token, editable) = match state {
        LockState::Mine { token, .. } => (token.as_str(), true),
        LockState::Theirs(_) => ("", false),
    };
    let body = html! {
        h1 { "Organization settings" }
        @if let Some(e) = error { p.alert role="alert" #lock-error { (e) } }
        @if let LockState::Theirs(l) = state {
            div.banner role="alert" #lock-banner {
                strong { (l.holder_name) } " is editing the admin settings (since " (time(l.acquired_at)) "). Only one admin can edit them at a time."
                form method="post" action="/settings/organization/takeover" style="display:inline" {
                    (csrf(s)) button type="submit" { "Take over" }
                }
            }
        }
        div.card {
            form method="post" action="/settings/organization" {
                (csrf(s))
                input type="hidden" name="lock_token" value=(token);
                fieldset disabled[!editable] style="border:0;padding:0;margin:0" {
                    label for="name" { "Organization name" }
                    input type="text" id="name" name="name" value=(org.name) required;
                    p.muted { "Booking pages live under /book/" (org.slug) "/…" }
                    label.checks { input type="checkbox" name="uses_salesforce" value="1" checked[org.uses_salesforce]; "This organization uses Salesforce (users without a Salesforce connection then need action)" }
                    p { button type="submit" { "Save settings" } }
                }
            }
        }
    };
    page("Organization", Some(s), notice, body)
}

async fn show(
    State(st): State<AppState>,
    s: Session,
    Query(n): Query<Notice>,
) -> Result<Html<String>, WebError> {
    let state = st
        .app
        .acquire_lock(&s.actor, &LockResource::OrgSettings, false)
        .await
        .map_err(page_err)?;
    let org = st.app.org_of(s.actor.org_id).await.map_err(page_err)?;
    Ok(Html(
        settings_page(&s, &org, &state, n.notice.as_deref(), None).into_string(),
    ))
}

async fn takeover(
    State(st): State<AppState>,
    s: Session,
    HtmlForm(f): HtmlForm<CsrfOnly>,
) -> Result<Redirect, WebError> {
    s.check_csrf(&f._csrf)?;
    st.app
        .acquire_lock(&s.actor, &LockResource::OrgSettings, true)
        .await
        .map_err(page_err)?;
    Ok(redirect_with_notice(
        "/settings/organization",
        "You now hold the admin settings lock.",
    ))
}

#[derive(Deserialize)]
struct SettingsForm {
    #[serde(default)]
    _csrf: String,
    #[serde(default)]
    lock_token: String,
    name: String,
    uses_salesforce: Option<String>,
}

async fn save(
    State(st): State<AppState>,
    s: Session,
    HtmlForm(f): HtmlForm<SettingsForm>,
) -> Result<Response, WebError> {
    s.check_csrf(&f._csrf)?;
    let name = OrgName::parse(&f.name).map_err(|e| page_err(AppError::invalid("name", e)))?;
    let change = OrgSettingsChange {
        name,
        uses_salesforce: f.uses_salesforce.is_some(),
    };
    match st
        .app
        .update_org_settings(&s.actor, &f.lock_token, change)
        .await
    {
        Ok(_) => {
            Ok(redirect_with_notice("/settings/organization", "Settings saved.").into_response())
        }
        Err(AppError::Locked { message, .. }) => {
            let org = st.app.org_of(s.actor.org_id).await.map_err(page_err)?;
            let state = match st
                .app
                .lock_status(&s.actor, &LockResource::OrgSettings)
                .await
                .map_err(page_err)?
            {
                Some(l) if l.holder_user_id != s.actor.user_id => LockState::Theirs(l),
                _ => st
                    .app
                    .acquire_lock(&s.actor, &LockResource::OrgSettings, false)
                    .await
                    .map_err(page_err)?,
            };
            Ok((
                StatusCode::CONFLICT,
                Html(settings_page(&s, &org, &state, None, Some(&message)).into_string()),
            )
                .into_response())
        }
        Err(e) => Err(page_err(e)),
    }
}
