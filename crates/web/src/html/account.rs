//! Getting in: the one-time setup page, sign-in and sign-out, joining from an
//! invitation, and the onboarding steps after joining.

use super::layout::{page, time};
use super::CsrfOnly;
use super::{page_err, Notice};
use crate::auth::{
    anon_csrf, check_anon_csrf, removal_cookie, safe_next, session_cookie, Session, SESSION_COOKIE,
};
use crate::error::WebError;
use crate::extract::HtmlForm;
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use axum_extra::extract::CookieJar;
use convene_app::accounts::NewAdmin;
use convene_app::AppError;
use convene_domain::{Email, OrgName, Password, Permission, PersonName, TimeZoneName};
use maud::{html, Markup, PreEscaped};
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/setup", get(setup_form).post(setup))
        .route("/login", get(login_form).post(login))
        .route("/logout", post(logout))
        .route("/join/{token}", get(join_form).post(join))
        .route("/onboarding/calendar", get(onboarding_calendar))
        .route("/onboarding/conferencing", get(onboarding_conferencing))
}

async fn home(State(s): State<AppState>, session: Option<Session>) -> Result<Redirect, WebError> {
    if s.app.setup_needed().await.map_err(page_err)? {
        return Ok(Redirect::to("/setup"));
    }
    Ok(match session {
        None => Redirect::to("/login"),
        Some(s) if s.actor.can(Permission::ManageUsers) => {
            Redirect::to("/settings/organization/users")
        }
        Some(_) => Redirect::to("/settings/profile"),
    })
}

/// A `<select>` of every zone in the time-zone database, preselecting `current`, with a
/// one-line script that picks the browser's zone when nothing is chosen yet.
pub fn time_zone_select(current: Option<&str>) -> Markup {
    let mut zones: Vec<String> = jiff::tz::db().available().map(|z| z.to_string()).collect();
    zones.sort();
    let current = current.unwrap_or("");
    html! {
        select name="time_zone" id="time_zone" required {
            @for z in &zones {
                option value=(z) selected[z == current] { (z) }
            }
        }
        @if current.is_empty() {
            script { (PreEscaped(r#"(function(){try{var z=Intl.DateTimeFormat().resolvedOptions().timeZone;var s=document.getElementById('time_zone');for(var i=0;i<s.options.length;i++){if(s.options[i].value===z){s.selectedIndex=i;}}}catch(e){}})();"#)) }
        }
    }
}

fn form_page(status: StatusCode, jar: CookieJar, title: &str, body: Markup) -> Response {
    (
        status,
        jar,
        Html(page(title, None, None, body).into_string()),
    )
        .into_response()
}

#[derive(Deserialize)]
struct SetupForm {
    #[serde(default)]
    _csrf: String,
    org_name: String,
    name: String,
    email: String,
    password: String,
    time_zone: String,
}

fn setup_body(csrf: &str, error: Option<&str>, f: Option<&SetupForm>) -> Markup {
    html! {
        div.card style="max-width:520px;margin:auto" {
            h1 { "Set up Convene" }
            p.muted { "Create your organization and its first admin. This page works once, on a fresh install." }
            @if let Some(e) = error { p.alert role="alert" { (e) } }
            form method="post" action="/setup" {
                input type="hidden" name="_csrf" value=(csrf);
                label for="org_name" { "Organization name" }
                input type="text" id="org_name" name="org_name" required value=[f.map(|f| f.org_name.as_str())];
                label for="name" { "Your name" }
                input type="text" id="name" name="name" required value=[f.map(|f| f.name.as_str())];
                label for="email" { "Your email" }
                input type="email" id="email" name="email" required value=[f.map(|f| f.email.as_str())];
                label for="password" { "Password (at least 10 characters)" }
                input type="password" id="password" name="password" required minlength="10";
                label for="time_zone" { "Time zone" }
                (time_zone_select(f.map(|f| f.time_zone.as_str())))
                p { button type="submit" { "Create organization" } }
            }
        }
    }
}

async fn setup_form(State(s): State<AppState>, jar: CookieJar) -> Result<Response, WebError> {
    if !s.app.setup_needed().await.map_err(page_err)? {
        return Ok(Redirect::to("/login").into_response());
    }
    let (jar, csrf) = anon_csrf(jar, s.secure_cookies);
    Ok(form_page(
        StatusCode::OK,
        jar,
        "Set up",
        setup_body(&csrf, None, None),
    ))
}

fn parse_new_admin(f: &SetupForm) -> Result<NewAdmin, String> {
    Ok(NewAdmin {
        org_name: OrgName::parse(&f.org_name).map_err(|e| e.to_string())?,
        org_slug: None,
        email: Email::parse(&f.email).map_err(|e| e.to_string())?,
        name: PersonName::parse(&f.name).map_err(|e| e.to_string())?,
        password: Password::parse(&f.password).map_err(|e| e.to_string())?,
        time_zone: TimeZoneName::parse(&f.time_zone).map_err(|e| e.to_string())?,
    })
}

async fn setup(
    State(s): State<AppState>,
    jar: CookieJar,
    HtmlForm(f): HtmlForm<SetupForm>,
) -> Result<Response, WebError> {
    check_anon_csrf(&jar, &f._csrf)?;
    limit(&s, "setup".into())?;
    let (jar, csrf) = anon_csrf(jar, s.secure_cookies);
    let admin = match parse_new_admin(&f) {
        Ok(a) => a,
        Err(e) => {
            return Ok(form_page(
                StatusCode::UNPROCESSABLE_ENTITY,
                jar,
                "Set up",
                setup_body(&csrf, Some(&e), Some(&f)),
            ))
        }
    };
    match s.app.setup_first_admin(admin).await {
        Ok(session) => Ok((
            jar.add(session_cookie(session.token, s.secure_cookies)),
            Redirect::to("/settings/organization/users"),
        )
            .into_response()),
        Err(AppError::Conflict { .. }) => Ok(Redirect::to("/login").into_response()),
        Err(e) => Err(page_err(e)),
    }
}

#[derive(Deserialize, Default)]
struct LoginQuery {
    next: Option<String>,
    ended: Option<String>,
    notice: Option<String>,
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    _csrf: String,
    email: String,
    password: String,
    next: Option<String>,
}

fn login_body(
    csrf: &str,
    next: &str,
    email: &str,
    error: Option<&str>,
    info: Option<&str>,
) -> Markup {
    html! {
        div.card style="max-width:420px;margin:auto" {
            h1 { "Sign in" }
            @if let Some(i) = info { p.notice role="status" { (i) } }
            @if let Some(e) = error { p.alert role="alert" { (e) } }
            form method="post" action="/login" {
                input type="hidden" name="_csrf" value=(csrf);
                input type="hidden" name="next" value=(next);
                label for="email" { "Email" }
                input type="email" id="email" name="email" required value=(email) autocomplete="username";
                label for="password" { "Password" }
                input type="password" id="password" name="password" required autocomplete="current-password";
                p { button type="submit" { "Sign in" } }
            }
        }
    }
}

async fn login_form(
    State(s): State<AppState>,
    jar: CookieJar,
    Query(q): Query<LoginQuery>,
) -> Result<Response, WebError> {
    if s.app.setup_needed().await.map_err(page_err)? {
        return Ok(Redirect::to("/setup").into_response());
    }
    let (jar, csrf) = anon_csrf(jar, s.secure_cookies);
    let info = if q.ended.is_some() {
        Some("Your session has ended. Sign in again to continue.")
    } else {
        q.notice.as_deref()
    };
    let jar = if q.ended.is_some() {
        jar.remove(removal_cookie())
    } else {
        jar
    };
    Ok(form_page(
        StatusCode::OK,
        jar,
        "Sign in",
        login_body(&csrf, &safe_next(q.next.as_deref()), "", None, info),
    ))
}

/// Refuses a public form once its key has had too many attempts this minute.
fn limit(s: &AppState, key: String) -> Result<(), WebError> {
    s.form_limiter.check(&key).map_err(|retry| {
        WebError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!(
                "Too many attempts. Wait {} seconds and try again.",
                retry.as_secs().max(1)
            ),
        )
        .html()
    })
}

async fn login(
    State(s): State<AppState>,
    jar: CookieJar,
    HtmlForm(f): HtmlForm<LoginForm>,
) -> Result<Response, WebError> {
    check_anon_csrf(&jar, &f._csrf)?;
    limit(&s, format!("login:{}", f.email.trim().to_lowercase()))?;
    let next = safe_next(f.next.as_deref());
    match s.app.login(&f.email, &f.password).await {
        Ok(session) => Ok((
            jar.add(session_cookie(session.token, s.secure_cookies)),
            Redirect::to(&next),
        )
            .into_response()),
        Err(AppError::Invalid { message, .. }) => {
            let (jar, csrf) = anon_csrf(jar, s.secure_cookies);
            Ok(form_page(
                StatusCode::UNAUTHORIZED,
                jar,
                "Sign in",
                login_body(&csrf, &next, &f.email, Some(&message), None),
            ))
        }
        Err(e) => Err(page_err(e)),
    }
}

async fn logout(
    State(s): State<AppState>,
    jar: CookieJar,
    session: Option<Session>,
    HtmlForm(f): HtmlForm<CsrfOnly>,
) -> Result<Response, WebError> {
    if let Some(session) = &session {
        session.check_csrf(&f._csrf)?;
        if let Some(c) = jar.get(SESSION_COOKIE) {
            s.app.logout(c.value()).await.map_err(page_err)?;
        }
    }
    Ok((
        jar.remove(removal_cookie()),
        Redirect::to("/login?notice=You%20have%20signed%20out."),
    )
        .into_response())
}

#[derive(Deserialize)]
struct JoinForm {
    #[serde(default)]
    _csrf: String,
    name: String,
    password: String,
    time_zone: String,
}

fn join_body(
    csrf: &str,
    token: &str,
    org: &str,
    email: &str,
    expires: &str,
    error: Option<&str>,
    f: Option<&JoinForm>,
) -> Markup {
    html! {
        div.card style="max-width:520px;margin:auto" {
            h1 { "Join " (org) " on Convene" }
            p.muted { "You were invited as " strong { (email) } ". This link works once and expires on " (expires) "." }
            @if let Some(e) = error { p.alert role="alert" { (e) } }
            form method="post" action=(format!("/join/{token}")) {
                input type="hidden" name="_csrf" value=(csrf);
                label for="name" { "Your name" }
                input type="text" id="name" name="name" required value=[f.map(|f| f.name.as_str())];
                label for="password" { "Choose a password (at least 10 characters)" }
                input type="password" id="password" name="password" required minlength="10" autocomplete="new-password";
                label for="time_zone" { "Time zone" }
                (time_zone_select(f.map(|f| f.time_zone.as_str())))
                p { button type="submit" { "Join Now" } }
            }
        }
    }
}

async fn join_form(
    State(s): State<AppState>,
    jar: CookieJar,
    Path(token): Path<String>,
) -> Result<Response, WebError> {
    let pending = s.app.pending_invitation(&token).await.map_err(page_err)?;
    let (jar, csrf) = anon_csrf(jar, s.secure_cookies);
    Ok(form_page(
        StatusCode::OK,
        jar,
        "Join",
        join_body(
            &csrf,
            &token,
            &pending.org.name,
            &pending.user.email,
            &time(pending.invitation.expires_at),
            None,
            None,
        ),
    ))
}

async fn join(
    State(s): State<AppState>,
    jar: CookieJar,
    Path(token): Path<String>,
    HtmlForm(f): HtmlForm<JoinForm>,
) -> Result<Response, WebError> {
    check_anon_csrf(&jar, &f._csrf)?;
    limit(
        &s,
        format!("join:{}", token.chars().take(64).collect::<String>()),
    )?;
    let pending = s.app.pending_invitation(&token).await.map_err(page_err)?;
    let parsed = (|| -> Result<_, String> {
        Ok((
            PersonName::parse(&f.name).map_err(|e| e.to_string())?,
            Password::parse(&f.password).map_err(|e| e.to_string())?,
            TimeZoneName::parse(&f.time_zone).map_err(|e| e.to_string())?,
        ))
    })();
    let (name, password, tz) = match parsed {
        Ok(p) => p,
        Err(e) => {
            let (jar, csrf) = anon_csrf(jar, s.secure_cookies);
            let body = join_body(
                &csrf,
                &token,
                &pending.org.name,
                &pending.user.email,
                &time(pending.invitation.expires_at),
                Some(&e),
                Some(&f),
            );
            return Ok(form_page(
                StatusCode::UNPROCESSABLE_ENTITY,
                jar,
                "Join",
                body,
            ));
        }
    };
    let session = s
        .app
        .accept_invitation(&token, name, password, tz)
        .await
        .map_err(page_err)?;
    Ok((
        jar.add(session_cookie(session.token, s.secure_cookies)),
        Redirect::to("/onboarding/calendar"),
    )
        .into_response())
}

fn steps(current: u8) -> Markup {
    let step = |n: u8, label: &str| {
        html! { li style=(if n == current { "font-weight:700" } else { "" }) { (label) @if n < current { " ✓" } } }
    };
    html! {
        ol.muted {
            (step(1, "Set up your profile"))
            (step(2, "Connect your calendar"))
            (step(3, "Add conferencing details"))
        }
    }
}

async fn onboarding_calendar(session: Session, Query(n): Query<Notice>) -> Html<String> {
    Html(
        page(
            "Connect your calendar",
            Some(&session),
            n.notice.as_deref(),
            html! {
                div.card {
                    h1 { "Welcome, " (session.actor.name) "!" }
                    (steps(2))
                    h2 { "Connect your calendar" }
                    p { "Convene reads your busy times so invitees are only offered times you are free, and writes booked meetings into your calendar." }
                    p.alert { "Calendar connections (Google, Microsoft 365, CalDAV) are not available yet in this version. You can continue and connect one later from My Profile." }
                    p { a.button href="/onboarding/conferencing" { "Continue" } }
                }
            },
        )
        .into_string(),
    )
}

async fn onboarding_conferencing(session: Session) -> Html<String> {
    Html(
        page(
            "Add conferencing details",
            Some(&session),
            None,
            html! {
                div.card {
                    (steps(3))
                    h2 { "Add conferencing details" }
                    p { "Every booked meeting gets its own video link from your Zoom or Microsoft Teams account, or uses meeting details you enter." }
                    p.alert { "Video conferencing connections are not available yet in this version. You can set them up later from My Profile." }
                    p { a.button href="/settings/profile" { "Go to My Profile" } }
                }
            },
        )
        .into_string(),
    )
}
