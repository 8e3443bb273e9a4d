//! My Profile → Calendar settings (SPEC §4): connect Google Calendar or Microsoft 365
//! (OAuth, through the connection framework; the callback is in `connections.rs`) or a
//! CalDAV account (server URL, user name, app password), choose which calendars count
//! for conflicts and which one receives booked meetings, and disconnect.
//!
//! Element ids for tests: `#connect-google`, `#connect-microsoft`, `#caldav-form`
//! (`server_url`, `username`, `password`, `#add-caldav`; `#caldav-error`), one
//! `section.calendar-connection[data-provider][data-status]` per connection (its read
//! error in `.read-error`), the form `#calendar-choices` with
//! `input[name=conflict][value="<connection>|<calendar>"]` checkboxes and
//! `input[name=write_target]` radios, `#save-calendars` (`#choices-error`), and
//! `#disconnect-<provider>`.

use super::layout::{csrf, page};
use super::pairs::{sentence, Pairs};
use super::{page_err, redirect_with_notice, CsrfOnly, Notice};
use crate::auth::Session;
use crate::error::WebError;
use crate::extract::HtmlForm;
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use convene_app::calendars::{provider_label, CalendarConnectionView, CALDAV, GOOGLE, MICROSOFT};
use convene_app::AppError;
use maud::{html, Markup};
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/settings/calendars", get(show))
        .route("/settings/calendars/caldav", post(add_caldav))
        .route("/settings/calendars/choose", post(choose))
        .route("/settings/calendars/{provider}/connect", post(connect))
        .route(
            "/settings/calendars/{provider}/disconnect",
            post(disconnect),
        )
}

/// The value that names one calendar in the choices form: calendar ids may be URLs
/// or contain `#`, so they travel in form fields, never in the path.
fn key(connection_id: &str, calendar_id: &str) -> String {
    format!("{connection_id}|{calendar_id}")
}

/// The radio value for "add booked meetings to no calendar".
const NO_TARGET: &str = "none";

/// What the CalDAV form held when it is shown again (never the password).
#[derive(Deserialize, Default)]
#[serde(default)]
struct CalDavForm {
    _csrf: String,
    server_url: String,
    username: String,
    password: String,
}

/// Messages shown above the forms when a post is refused.
#[derive(Default)]
struct Errors<'a> {
    caldav: Option<&'a str>,
    choices: Option<&'a str>,
}

async fn show(
    State(st): State<AppState>,
    s: Session,
    Query(n): Query<Notice>,
) -> Result<Response, WebError> {
    render(
        &st,
        &s,
        StatusCode::OK,
        n.notice.as_deref(),
        &CalDavForm::default(),
        Errors::default(),
    )
    .await
}

async fn render(
    st: &AppState,
    s: &Session,
    status: StatusCode,
    notice: Option<&str>,
    caldav: &CalDavForm,
    errors: Errors<'_>,
) -> Result<Response, WebError> {
    let conns = st
        .app
        .calendar_connections(&s.actor, s.actor.user_id)
        .await
        .map_err(page_err)?;
    let body = body(s, &conns, caldav, &errors);
    Ok((
        status,
        Html(page("Calendar settings", Some(s), notice, body).into_string()),
    )
        .into_response())
}

fn body(
    s: &Session,
    conns: &[CalendarConnectionView],
    caldav: &CalDavForm,
    errors: &Errors<'_>,
) -> Markup {
    let connected = |p: &str| conns.iter().any(|c| c.provider == p);
    let any_calendars = conns.iter().any(|c| !c.calendars.is_empty());
    let any_writable = conns.iter().flat_map(|c| &c.calendars).any(|c| c.writable);
    let no_target = !conns
        .iter()
        .flat_map(|c| &c.calendars)
        .any(|c| c.write_target);
    html! {
        h1 { "Calendar settings" }
        p.muted {
            "Convene reads busy times from the calendars you choose, so invitees are only offered times when you are free, and adds booked meetings to one of your calendars. "
            a href="/settings/profile#video-conferencing" { "Video conferencing →" }
        }
        @if conns.is_empty() {
            div.card #no-calendars {
                p { "No calendar is connected yet. Connect one below so meetings are not booked over your other appointments." }
            }
        } @else {
            form method="post" action="/settings/calendars/choose" #calendar-choices {
                (csrf(s))
                @if let Some(e) = errors.choices { p.alert role="alert" #choices-error { (e) } }
                @for c in conns { (connection_card(c)) }
                @if any_calendars {
                    @if any_writable {
                        div.card.checks {
                            label {
                                input type="radio" name="write_target" value=(NO_TARGET) #write-target-none checked[no_target];
                                "Do not add booked meetings to any calendar"
                            }
                        }
                    }
                    p { button type="submit" #save-calendars { "Save calendar choices" } }
                }
            }
        }
        div.card #add-calendar {
            h2 { "Connect a calendar" }
            @if !connected(GOOGLE) || !connected(MICROSOFT) {
                p {
                    @if !connected(GOOGLE) {
                        form method="post" action="/settings/calendars/google/connect" style="display:inline" {
                            (csrf(s)) button type="submit" #connect-google { "Connect Google Calendar" }
                        }
                        " "
                    }
                    @if !connected(MICROSOFT) {
                        form method="post" action="/settings/calendars/microsoft/connect" style="display:inline" {
                            (csrf(s)) button type="submit" #connect-microsoft { "Connect Microsoft 365 / Outlook" }
                        }
                    }
                }
            }
            h2 { @if connected(CALDAV) { "Replace the CalDAV account" } @else { "Add a CalDAV calendar" } }
            p.muted { "For iCloud, Fastmail, Nextcloud and other CalDAV servers. Use an app password, not your account's main password; it is stored encrypted." }
            form method="post" action="/settings/calendars/caldav" #caldav-form {
                (csrf(s))
                @if let Some(e) = errors.caldav { p.alert role="alert" #caldav-error { (e) } }
                label for="server_url" { "Server URL" }
                input type="text" id="server_url" name="server_url" value=(caldav.server_url) placeholder="https://caldav.example.com/" required;
                label for="username" { "User name" }
                input type="text" id="username" name="username" value=(caldav.username) autocomplete="off" required;
                label for="password" { "App password" }
                input type="password" id="password" name="password" autocomplete="new-password" required;
                p { button type="submit" #add-caldav { "Add CalDAV calendar" } }
            }
        }
        // Forms the buttons inside the choices form submit (forms cannot nest).
        @for c in conns {
            form method="post" action=(format!("/settings/calendars/{}/disconnect", c.provider)) id=(format!("disconnect-{}-form", c.provider)) {
                (csrf(s))
            }
            @if c.status != "active" && c.provider != CALDAV {
                form method="post" action=(format!("/settings/calendars/{}/connect", c.provider)) id=(format!("reconnect-{}-form", c.provider)) {
                    (csrf(s))
                }
            }
        }
    }
}

fn status_label(status: &str) -> (&'static str, &'static str) {
    match status {
        "active" => ("Connected", "pill active"),
        "needs_reauth" => ("Needs reconnecting", "pill pending"),
        _ => ("Access removed", "pill deactivated"),
    }
}

/// One connection: who it is, whether it works, its calendars and choices.
fn connection_card(c: &CalendarConnectionView) -> Markup {
    let name = provider_label(&c.provider);
    let (label, pill) = status_label(&c.status);
    html! {
        section.card.calendar-connection data-provider=(c.provider) data-status=(c.status) id=(format!("connection-{}", c.provider)) {
            h2 { (name) }
            p.account {
                @if let Some(a) = &c.account { "Connected as " strong { (a) } }
                @if let Some(u) = &c.server_url { " on " code { (u) } }
                " " span class=(pill) { (label) }
            }
            @if c.status != "active" {
                p.alert role="alert" {
                    strong { "Action Required: " }
                    @if c.provider == CALDAV {
                        "the CalDAV server no longer accepts Convene's credentials. Add the account again below with a new app password."
                    } @else {
                        (name) " stopped accepting Convene's access. Reconnect it so your busy times are read and meetings are added."
                    }
                }
                @if c.provider != CALDAV {
                    p { button type="submit" form=(format!("reconnect-{}-form", c.provider)) id=(format!("connect-{}", c.provider)) { "Reconnect " (name) } }
                }
            }
            @if let Some(e) = &c.read_error {
                p.alert.read-error role="alert" {
                    "This calendar cannot be read: " (e) "; you are not offered to invitees until it works."
                }
            }
            @if c.calendars.is_empty() {
                p.muted { "This account has no calendars." }
            } @else {
                table.calendars {
                    thead { tr { th { "Calendar" } th { "Check for conflicts" } th { "Add booked meetings here" } } }
                    tbody {
                        @for k in &c.calendars {
                            @let value = key(&c.connection_id, &k.calendar_id);
                            tr data-calendar-id=(k.calendar_id) {
                                td {
                                    input type="hidden" name="calendar" value=(value);
                                    (k.name)
                                    @if k.is_primary { " " span.pill { "primary" } }
                                    @if !k.writable { " " span.muted { "read-only" } }
                                }
                                td.checks {
                                    label {
                                        input type="checkbox" name="conflict" value=(value) checked[k.check_conflicts];
                                        "Check for conflicts"
                                    }
                                }
                                td.checks {
                                    @if k.writable {
                                        label {
                                            input type="radio" name="write_target" value=(value) checked[k.write_target];
                                            "Add booked meetings here"
                                        }
                                    } @else {
                                        span.muted { "Convene cannot write here" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            p {
                button.danger type="submit" form=(format!("disconnect-{}-form", c.provider)) id=(format!("disconnect-{}", c.provider)) { "Disconnect" }
            }
        }
    }
}

fn oauth_provider(provider: &str) -> Result<(), WebError> {
    match provider {
        GOOGLE | MICROSOFT => Ok(()),
        _ => Err(WebError::not_found("calendar provider").html()),
    }
}

async fn connect(
    State(st): State<AppState>,
    s: Session,
    Path(provider): Path<String>,
    HtmlForm(f): HtmlForm<CsrfOnly>,
) -> Result<Redirect, WebError> {
    s.check_csrf(&f._csrf)?;
    oauth_provider(&provider)?;
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
    if provider != CALDAV {
        oauth_provider(&provider)?;
    }
    st.app
        .disconnect_calendar(&s.actor, s.actor.user_id, &provider)
        .await
        .map_err(page_err)?;
    Ok(redirect_with_notice(
        "/settings/calendars",
        &format!(
            "{} was disconnected; its credentials were deleted from Convene. Meetings already added stay in the calendar.",
            provider_label(&provider)
        ),
    ))
}

async fn add_caldav(
    State(st): State<AppState>,
    s: Session,
    HtmlForm(f): HtmlForm<CalDavForm>,
) -> Result<Response, WebError> {
    s.check_csrf(&f._csrf)?;
    let (status, message) = match st
        .app
        .connect_caldav(&s.actor, &f.server_url, &f.username, &f.password)
        .await
    {
        Ok(view) => {
            let who = view
                .account
                .unwrap_or_else(|| f.username.trim().to_string());
            return Ok(redirect_with_notice(
                "/settings/calendars",
                &format!("CalDAV is connected as {who}. Choose below which calendars count for conflicts and which one receives booked meetings."),
            )
            .into_response());
        }
        Err(AppError::Invalid { message, .. }) => {
            (StatusCode::UNPROCESSABLE_ENTITY, sentence(&message))
        }
        Err(AppError::Conflict { message, .. }) => (StatusCode::CONFLICT, sentence(&message)),
        Err(e) => return Err(page_err(e)),
    };
    let kept = CalDavForm {
        password: String::new(),
        ..f
    };
    render(
        &st,
        &s,
        status,
        None,
        &kept,
        Errors {
            caldav: Some(&message),
            ..Errors::default()
        },
    )
    .await
}

/// One calendar's choice as the form gives it.
struct Choice<'a> {
    connection_id: &'a str,
    calendar_id: &'a str,
    check_conflicts: bool,
    write_target: bool,
}

/// Reads the choices form against the user's calendars; every calendar it names must
/// be one of theirs and the write target writable, so nothing is saved otherwise.
fn read_choices<'a>(
    f: &'a Pairs,
    conns: &[CalendarConnectionView],
) -> Result<Vec<Choice<'a>>, String> {
    let conflicts = f.all("conflict");
    let target = f.get("write_target");
    let mut named: Vec<&str> = f.all("calendar");
    named.sort_unstable();
    named.dedup();
    let find = |value: &str| {
        let (conn, cal) = value.split_once('|')?;
        conns
            .iter()
            .filter(|c| c.connection_id == conn)
            .flat_map(|c| &c.calendars)
            .find(|k| k.calendar_id == cal)
    };
    for v in conflicts.iter().copied().chain(named.iter().copied()) {
        if find(v).is_none() {
            return Err("One of the calendars on this form is no longer connected; the page was reloaded, please choose again.".into());
        }
    }
    if !target.is_empty() && target != NO_TARGET {
        match find(target) {
            None => return Err("The calendar chosen for booked meetings is no longer connected; please choose again.".into()),
            Some(k) if !k.writable => {
                return Err(format!(
                    "Convene cannot write to '{}'; choose a calendar you can edit for booked meetings.",
                    k.name
                ))
            }
            Some(k) if !named.contains(&target) => {
                return Err(format!(
                    "'{}' is not on this form; please choose again.",
                    k.name
                ))
            }
            Some(_) => {}
        }
    }
    Ok(named
        .into_iter()
        .filter_map(|v| {
            let (connection_id, calendar_id) = v.split_once('|')?;
            Some(Choice {
                connection_id,
                calendar_id,
                check_conflicts: conflicts.contains(&v),
                write_target: target == v,
            })
        })
        .collect())
}

async fn choose(
    State(st): State<AppState>,
    s: Session,
    HtmlForm(pairs): HtmlForm<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let f = Pairs(pairs);
    s.check_csrf(f.get("_csrf"))?;
    let conns = st
        .app
        .calendar_connections(&s.actor, s.actor.user_id)
        .await
        .map_err(page_err)?;
    let refused = match read_choices(&f, &conns) {
        Ok(choices) => {
            let mut refused = None;
            // The write target last: choosing it clears the others.
            let (target, rest): (Vec<_>, Vec<_>) =
                choices.into_iter().partition(|c| c.write_target);
            for c in rest.iter().chain(target.iter()) {
                match st
                    .app
                    .choose_calendar(
                        &s.actor,
                        s.actor.user_id,
                        c.connection_id,
                        c.calendar_id,
                        c.check_conflicts,
                        c.write_target,
                    )
                    .await
                {
                    Ok(()) => {}
                    Err(AppError::Invalid { message, .. }) => {
                        refused = Some(sentence(&message));
                        break;
                    }
                    Err(AppError::NotFound(_)) => {
                        refused = Some("One of the calendars on this form is no longer connected; please choose again.".to_string());
                        break;
                    }
                    Err(e) => return Err(page_err(e)),
                }
            }
            match refused {
                None => {
                    return Ok(redirect_with_notice(
                        "/settings/calendars",
                        "Calendar choices saved.",
                    )
                    .into_response())
                }
                Some(m) => m,
            }
        }
        Err(m) => m,
    };
    render(
        &st,
        &s,
        StatusCode::UNPROCESSABLE_ENTITY,
        None,
        &CalDavForm::default(),
        Errors {
            choices: Some(&refused),
            ..Errors::default()
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use convene_store::CalendarRow;

    fn view() -> Vec<CalendarConnectionView> {
        let cal = |id: &str, writable: bool| CalendarRow {
            connection_id: "c1".into(),
            provider: "google".into(),
            calendar_id: id.into(),
            name: id.into(),
            is_primary: false,
            writable,
            check_conflicts: true,
            write_target: false,
        };
        vec![CalendarConnectionView {
            connection_id: "c1".into(),
            provider: "google".into(),
            status: "active".into(),
            account: Some("gina@google.sandbox".into()),
            server_url: None,
            read_error: None,
            calendars: vec![
                cal("gina@google.sandbox", true),
                cal("en.usa#holiday@group.v.calendar.google.com", false),
            ],
        }]
    }

    fn pairs(p: &[(&str, &str)]) -> Pairs {
        Pairs(
            p.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn choices_are_read_per_calendar_and_checked_against_the_connections() {
        let conns = view();
        let f = pairs(&[
            ("calendar", "c1|gina@google.sandbox"),
            ("calendar", "c1|en.usa#holiday@group.v.calendar.google.com"),
            ("conflict", "c1|en.usa#holiday@group.v.calendar.google.com"),
            ("write_target", "c1|gina@google.sandbox"),
        ]);
        let c = read_choices(&f, &conns).expect("valid");
        assert_eq!(c.len(), 2);
        let gina = c
            .iter()
            .find(|c| c.calendar_id == "gina@google.sandbox")
            .expect("gina");
        assert!(gina.write_target && !gina.check_conflicts);
        let hol = c
            .iter()
            .find(|c| c.calendar_id.starts_with("en.usa"))
            .expect("holidays");
        assert!(hol.check_conflicts && !hol.write_target);

        let read_only = pairs(&[
            ("calendar", "c1|en.usa#holiday@group.v.calendar.google.com"),
            (
                "write_target",
                "c1|en.usa#holiday@group.v.calendar.google.com",
            ),
        ]);
        assert!(read_choices(&read_only, &conns)
            .err()
            .is_some_and(|e| e.contains("cannot write")));
        let unknown = pairs(&[("calendar", "c2|x")]);
        assert!(read_choices(&unknown, &conns).is_err());
        let none = pairs(&[
            ("calendar", "c1|gina@google.sandbox"),
            ("write_target", NO_TARGET),
        ]);
        let c = read_choices(&none, &conns).expect("no target is fine");
        assert!(!c[0].write_target && !c[0].check_conflicts);
    }
}
