//! My Profile → Calendar settings → Video conferencing: connecting a provider account
//! (the OAuth start and callback), testing and disconnecting it, and the pages that
//! explain a connection that did not complete (seeds 000, 001, 003).

use super::layout::page;
use super::CsrfOnly;
use super::{page_err, redirect_with_notice};
use crate::auth::Session;
use crate::error::WebError;
use crate::extract::HtmlForm;
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use convene_app::connections::oauth::{Callback, ConnectFailure};
use maud::{html, Markup};
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/settings/profile/conferencing/{provider}/connect",
            post(connect),
        )
        .route(
            "/settings/profile/conferencing/{provider}/disconnect",
            post(disconnect),
        )
        .route(
            "/settings/profile/conferencing/{provider}/check",
            post(check),
        )
        .route("/oauth/{provider}/callback", get(callback))
}

fn known(provider: &str) -> Result<(), WebError> {
    if provider == "zoom" {
        Ok(())
    } else {
        Err(WebError::not_found("provider").html())
    }
}

/// OAuth callbacks come back for Zoom and the OAuth calendar providers.
fn known_callback(provider: &str) -> Result<(), WebError> {
    match provider {
        "zoom" | "google" | "microsoft" => Ok(()),
        _ => Err(WebError::not_found("provider").html()),
    }
}

/// Why connecting a calendar did not complete (Google, Microsoft).
fn explain_calendar(f: &ConnectFailure, name: &str) -> (StatusCode, String, Markup) {
    let retry = html! { p { a.button href="/settings/calendars" { "Back to Calendar settings" } } };
    let (status, title, text, detail): (StatusCode, String, String, Option<String>) = match f {
        ConnectFailure::AdminConsentRequired { description } => (
            StatusCode::FORBIDDEN,
            format!("Your {name} admin must consent to Convene"),
            "Your organization's Microsoft Entra (Azure AD) tenant does not let members grant apps access on their own. A tenant administrator must grant admin consent to Convene (Enterprise applications → Convene → Permissions → Grant admin consent), or approve your request if you sent one. Then click Connect again. Nothing was stored.".into(),
            description.clone(),
        ),
        ConnectFailure::ApprovalRequired { description } => (
            StatusCode::FORBIDDEN,
            format!("Your {name} admin must approve Convene"),
            "An administrator must approve Convene before you can connect it. Nothing was stored.".into(),
            description.clone(),
        ),
        ConnectFailure::Denied { description } => (
            StatusCode::FORBIDDEN,
            format!("{name} was not connected"),
            format!("Access was declined on {name}'s consent page, so Convene cannot read your calendar. Nothing was stored. To connect, start again and allow access."),
            description.clone(),
        ),
        ConnectFailure::ProviderRefused { error, description } => (
            StatusCode::BAD_REQUEST,
            format!("{name} refused the connection"),
            format!("{name} answered with the error '{error}'. Nothing was stored."),
            description.clone(),
        ),
        ConnectFailure::MissingState | ConnectFailure::UnknownState | ConnectFailure::MissingCode => (
            StatusCode::BAD_REQUEST,
            "This connection link is not valid".into(),
            format!("This page must be reached from {name} right after you click Connect in Convene. Nothing was stored."),
            None,
        ),
        ConnectFailure::ReusedState => (
            StatusCode::BAD_REQUEST,
            "This connection link was already used".into(),
            "Each connection attempt works once; start again if your calendar is not listed.".into(),
            None,
        ),
        ConnectFailure::ExpiredState => (
            StatusCode::BAD_REQUEST,
            "This connection attempt expired".into(),
            "More than 10 minutes passed; nothing was stored. Please start again.".into(),
            None,
        ),
        ConnectFailure::WrongSession => (
            StatusCode::FORBIDDEN,
            "This connection was started by someone else".into(),
            "The attempt belongs to another signed-in session. Sign in as yourself and start again.".into(),
            None,
        ),
        ConnectFailure::BadCode(reason) => (
            StatusCode::BAD_REQUEST,
            format!("{name} did not accept the authorization"),
            "The authorization code was rejected (expired or already used). Nothing was stored; please try again.".into(),
            Some(reason.clone()),
        ),
        ConnectFailure::AlreadyBound { account, .. } => (
            StatusCode::CONFLICT,
            format!("This {name} account is connected to another Convene user"),
            format!("The account {account} is already connected to another Convene user. One calendar account belongs to one Convene user; have them disconnect it first. Nothing was changed."),
            None,
        ),
        ConnectFailure::ProviderUnavailable(reason) => (
            StatusCode::BAD_GATEWAY,
            format!("{name} could not be reached"),
            format!("{name} did not answer properly, so nothing was stored. Please try again in a moment."),
            Some(reason.clone()),
        ),
    };
    (
        status,
        title,
        html! { p { (text) } @if let Some(d) = detail { p.muted { (d) } } (retry) },
    )
}

async fn connect(
    State(st): State<AppState>,
    s: Session,
    Path(provider): Path<String>,
    HtmlForm(f): HtmlForm<CsrfOnly>,
) -> Result<Redirect, WebError> {
    s.check_csrf(&f._csrf)?;
    known(&provider)?;
    let url = st
        .app
        .start_connect(&s.actor, &s.token, &provider)
        .await
        .map_err(page_err)?;
    Ok(Redirect::to(&url))
}

async fn disconnect(
    State(st): State<AppState>,
    s: Session,
    Path(provider): Path<String>,
    HtmlForm(f): HtmlForm<CsrfOnly>,
) -> Result<Redirect, WebError> {
    s.check_csrf(&f._csrf)?;
    known(&provider)?;
    st.app
        .disconnect(&s.actor, s.actor.user_id, &provider)
        .await
        .map_err(page_err)?;
    Ok(redirect_with_notice(
        "/settings/profile",
        "Zoom was disconnected; its credentials were deleted from Convene.",
    ))
}

async fn check(
    State(st): State<AppState>,
    s: Session,
    Path(provider): Path<String>,
    HtmlForm(f): HtmlForm<CsrfOnly>,
) -> Result<Redirect, WebError> {
    s.check_csrf(&f._csrf)?;
    known(&provider)?;
    let view = st
        .app
        .check_connection(&s.actor, s.actor.user_id)
        .await
        .map_err(page_err)?;
    let notice = match (view.status.as_str(), &view.last_error) {
        ("active", None) => "Zoom connection works.".to_string(),
        ("active", Some(e)) => format!("Zoom did not answer properly: {e}"),
        _ => "Zoom needs to be reconnected.".to_string(),
    };
    Ok(redirect_with_notice("/settings/profile", &notice))
}

#[derive(Deserialize, Default)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

fn explain(f: &ConnectFailure) -> (StatusCode, &'static str, Markup) {
    let retry = html! { p { a.button href="/settings/profile" { "Back to My Profile" } } };
    match f {
        ConnectFailure::AdminConsentRequired { description }
        | ConnectFailure::ApprovalRequired { description } => (
            StatusCode::FORBIDDEN,
            "Your Zoom admin needs to approve Convene",
            html! {
                p { "Your Zoom account belongs to an organization that requires its Zoom admin to pre-approve apps before members can connect them. Nothing was connected." }
                @if let Some(d) = description { p.muted { "Zoom said: " (d) } }
                h2 { "What to do" }
                ul {
                    li { "Ask your Zoom account admin to pre-approve Convene: in the Zoom App Marketplace, open " strong { "Manage → Permissions" } ", find Convene and turn on " strong { "Approve use of this app" } " (it then appears under Apps on Account)." }
                    li { "If you are the Zoom admin: pre-approve the app there yourself, then come back and click " strong { "Connect with Zoom" } " again." }
                }
                (retry)
            },
        ),
        ConnectFailure::Denied { description } => (
            StatusCode::FORBIDDEN,
            "Zoom was not connected",
            html! {
                p { "The request to connect Zoom was declined on Zoom's consent page, so Convene has no access. Nothing was stored." }
                @if let Some(d) = description { p.muted { "Zoom said: " (d) } }
                p { "To connect, click " strong { "Connect with Zoom" } " again and choose " strong { "Allow" } ". If your Zoom organization requires admin approval for apps, ask your Zoom admin to pre-approve Convene first." }
                (retry)
            },
        ),
        ConnectFailure::ProviderRefused { error, description } => (
            StatusCode::BAD_REQUEST,
            "Zoom refused the connection",
            html! {
                p { "Zoom answered with the error " code { (error) } ". Nothing was stored." }
                @if let Some(d) = description { p.muted { "Zoom said: " (d) } }
                p { "Try again; if it keeps happening, ask your Zoom admin whether the Convene app is allowed on your account." }
                (retry)
            },
        ),
        ConnectFailure::MissingState
        | ConnectFailure::UnknownState
        | ConnectFailure::MissingCode => (
            StatusCode::BAD_REQUEST,
            "This connection link is not valid",
            html! {
                p { "This page must be reached from Zoom right after you click " strong { "Connect with Zoom" } " in Convene; the link it was opened with is incomplete or was not issued by this server. Nothing was stored." }
                (retry)
            },
        ),
        ConnectFailure::ReusedState => (
            StatusCode::BAD_REQUEST,
            "This connection link was already used",
            html! { p { "Each Connect with Zoom attempt works once. If your Zoom account shows as connected on My Profile, you are done; otherwise start again." } (retry) },
        ),
        ConnectFailure::ExpiredState => (
            StatusCode::BAD_REQUEST,
            "This connection attempt expired",
            html! { p { "More than 10 minutes passed between clicking Connect with Zoom and coming back. Nothing was stored; please start again." } (retry) },
        ),
        ConnectFailure::WrongSession => (
            StatusCode::FORBIDDEN,
            "This connection was started by someone else",
            html! { p { "The Connect with Zoom attempt belongs to another signed-in session, so it cannot complete here. Sign in as yourself and click Connect with Zoom again." } (retry) },
        ),
        ConnectFailure::BadCode(reason) => (
            StatusCode::BAD_REQUEST,
            "Zoom did not accept the authorization",
            html! { p { "Zoom rejected the authorization code (it may have expired or been used already). Nothing was stored; please try again." } p.muted { (reason) } (retry) },
        ),
        ConnectFailure::AlreadyBound {
            same_org,
            holder,
            account,
        } => (
            StatusCode::CONFLICT,
            "This Zoom account is connected to another Convene user",
            html! {
                p { "The Zoom account " strong { (account) } " is already connected to "
                    @match (same_org, holder) {
                        (true, Some(h)) => { "another user of your organization, " strong { (h) } "." }
                        (true, None) => { "another user of your organization." }
                        _ => { "a Convene user in another organization." }
                    }
                }
                p { "A Zoom account is bound to one Convene user " em { "id" } ", not to an email address: even a user with the same email (for example a profile that was deleted and re-created) counts as a different user. Nothing was changed." }
                h2 { "How to resolve it" }
                ul {
                    li { "Connect a different Zoom account here, or" }
                    li { "have the user who holds it disconnect Zoom on their My Profile page, or" }
                    li { "if that user was deactivated or their connection no longer works, ask an admin of their organization to " strong { "release" } " the Zoom binding from the Users page, then connect again." }
                }
                (retry)
            },
        ),
        ConnectFailure::ProviderUnavailable(reason) => (
            StatusCode::BAD_GATEWAY,
            "Zoom could not be reached",
            html! { p { "Zoom did not answer properly, so the connection was not completed and nothing was stored. Please try again in a moment." } p.muted { (reason) } (retry) },
        ),
    }
}

async fn callback(
    State(st): State<AppState>,
    session: Option<Session>,
    Path(provider): Path<String>,
    Query(q): Query<CallbackQuery>,
) -> Result<Response, WebError> {
    known_callback(&provider)?;
    let cb = Callback {
        code: q.code,
        state: q.state,
        error: q.error,
        error_description: q.error_description,
    };
    let session_ref = session.as_ref().map(|s| (&s.actor, s.token.as_str()));
    let calendar = provider != "zoom";
    let name = convene_app::calendars::provider_label(&provider);
    match st.app.finish_connect(session_ref, cb).await {
        Ok(view) if calendar => {
            let who = view
                .account_email
                .clone()
                .unwrap_or_else(|| name.to_string());
            Ok(redirect_with_notice(
                "/settings/calendars",
                &format!("{name} is connected as {who}. Choose below which calendars count for conflicts and which one receives booked meetings."),
            )
            .into_response())
        }
        Err(failure) if calendar => {
            let (status, title, body) = explain_calendar(&failure, name);
            let body = html! { div.card #connect-error { h1 { (title) } (body) } };
            Ok((
                status,
                Html(page(&title, session.as_ref(), None, body).into_string()),
            )
                .into_response())
        }
        Ok(view) => {
            let who = view
                .account_email
                .clone()
                .or(view.display_name.clone())
                .unwrap_or_else(|| "your Zoom account".into());
            Ok(redirect_with_notice("/settings/profile", &format!("Zoom is connected as {who}. Every meeting booked with you will get its own Zoom link.")).into_response())
        }
        Err(failure) => {
            let (status, title, body) = explain(&failure);
            let body = html! { div.card #connect-error { h1 { (title) } (body) } };
            Ok((
                status,
                Html(page(title, session.as_ref(), None, body).into_string()),
            )
                .into_response())
        }
    }
}
