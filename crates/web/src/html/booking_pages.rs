//! The public side of booking (no sign-in): the booking page of an event type with its
//! month / day / time picker, the booking form, and the pages behind the emailed
//! manage link (details, reschedule, cancel), which the unguessable token in the path
//! authorizes.
//!
//! Anonymous forms are protected like sign-in and join: a double-submit CSRF cookie.

use super::layout::page;
use super::page_err;
use super::pairs::{sentence, Pairs};
use super::slot_picker::{self, parse_start, Picker, SlotAction};
use crate::auth::{anon_csrf, check_anon_csrf, urlencode};
use crate::error::WebError;
use crate::extract::{is_link_token, HtmlForm, HtmlPath, HtmlQuery};
use crate::AppState;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use axum_extra::extract::CookieJar;
use convene_app::scheduling::notices::when;
use convene_app::scheduling::{
    BookingRequest, EventTypeView, ManagedBooking, ResolvedLocation, SlotsAnswer,
};
use convene_app::{tokens, AppError};
use convene_domain::{
    BookingStatus, Email, EventLocation, EventSlug, EventTypeKind, MeetingState, OrgSlug,
    PersonName, QuestionKind, TimeZoneName,
};
use convene_store::{BookingRow, OrgRow};
use jiff::Timestamp;
use maud::{html, Markup};
use serde::Deserialize;
use std::collections::BTreeMap;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/book/{org}/{slug}", get(booking_page))
        .route("/book/{org}/{slug}/form", get(booking_form).post(book))
        .route("/booking/{token}", get(manage))
        .route(
            "/booking/{token}/reschedule",
            get(reschedule_page).post(reschedule),
        )
        .route("/booking/{token}/cancel", get(cancel_page).post(cancel))
}

/// `?month=…&date=…&tz=…` (and `start` on the reschedule confirmation).
#[derive(Deserialize, Default)]
pub struct PickQuery {
    pub month: Option<String>,
    pub date: Option<String>,
    pub tz: Option<String>,
    pub start: Option<String>,
}

impl PickQuery {
    pub fn picker(&self, default_tz: Option<&str>, now: Timestamp) -> Result<Picker, WebError> {
        Picker::parse(
            self.month.as_deref(),
            self.date.as_deref(),
            self.tz.as_deref(),
            default_tz,
            now,
        )
    }

    pub fn start(&self) -> Option<&str> {
        self.start.as_deref().filter(|s| !s.trim().is_empty())
    }
}

fn page_missing(e: AppError) -> WebError {
    match e {
        AppError::NotFound(_) => WebError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "There is no booking page at this address. Check the link you were given.",
        )
        .html(),
        e => page_err(e),
    }
}

fn link_invalid(e: AppError) -> WebError {
    match e {
        AppError::NotFound(_) => WebError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "This booking link is not valid. Check that you opened the whole link from your email.",
        )
        .html(),
        e => page_err(e),
    }
}

/// The active event type at `/book/{org}/{slug}`. Slugs that cannot be an org's or an
/// event type's (a NUL byte, say) are not looked up: there is no booking page there.
async fn public_event_type(
    st: &AppState,
    org: &str,
    slug: &str,
) -> Result<(OrgRow, EventTypeView), WebError> {
    let (Ok(org), Ok(slug)) = (OrgSlug::parse(org), EventSlug::parse(slug)) else {
        return Err(page_missing(AppError::NotFound("booking page")));
    };
    st.app
        .public_event_type(org.as_str(), slug.as_str())
        .await
        .map_err(page_missing)
}

/// The manage token from the address, if it can be one: what is not URL-safe base64 is
/// refused as an invalid link before any query.
fn manage_token(raw: &str) -> Result<&str, WebError> {
    if is_link_token(raw) {
        Ok(raw)
    } else {
        Err(link_invalid(AppError::NotFound("booking")))
    }
}

/// A public page. The manage token is in the address, so it must not leak to the sites
/// linked from the page (the meeting link) nor stay in shared caches.
fn html_response(
    status: StatusCode,
    jar: Option<CookieJar>,
    title: &str,
    body: Markup,
) -> Response {
    let html = Html(page(title, None, None, body).into_string());
    let headers = [
        (header::REFERRER_POLICY, "no-referrer"),
        (header::CACHE_CONTROL, "no-store"),
    ];
    match jar {
        Some(jar) => (status, headers, jar, html).into_response(),
        None => (status, headers, html).into_response(),
    }
}

/// Whether nobody can be offered: every host (Collective: any host) lacks a link.
pub fn nobody_bookable(a: &SlotsAnswer) -> bool {
    let hosts = a.event.hosts.len();
    hosts == 0
        || match a.event.row.kind {
            EventTypeKind::Collective => !a.unavailable.is_empty(),
            _ => a.unavailable.len() >= hosts,
        }
}

/// Where the meeting happens, as an invitee may see it before booking (personal links
/// and dial-ins are only sent once booked).
fn location_label(ev: &EventTypeView) -> String {
    let resolved: Vec<&ResolvedLocation> = ev
        .hosts
        .iter()
        .filter_map(|h| h.location.as_ref().ok())
        .collect();
    let same_kind = resolved.windows(2).all(|w| w[0].kind() == w[1].kind());
    match (resolved.first(), &ev.location) {
        (_, EventLocation::InPerson { address }) => format!("In person: {address}"),
        (Some(ResolvedLocation::Zoom), _) if same_kind => {
            "Zoom video meeting (your link comes with the confirmation)".into()
        }
        (Some(ResolvedLocation::InPerson(a)), _) if same_kind => format!("In person: {a}"),
        (Some(ResolvedLocation::Manual(_)), _) if same_kind => {
            "Online or by phone (the details come with the confirmation)".into()
        }
        (Some(_), _) => "Depends on the host (the details come with the confirmation)".into(),
        (None, l) => l.label().to_string(),
    }
}

fn host_line(ev: &EventTypeView) -> String {
    let offered: Vec<&str> = ev
        .hosts
        .iter()
        .filter(|h| h.location.is_ok())
        .map(|h| h.user.display_name())
        .collect();
    let names = if offered.is_empty() {
        ev.hosts.iter().map(|h| h.user.display_name()).collect()
    } else {
        offered
    };
    match ev.row.kind {
        EventTypeKind::RoundRobin if names.len() > 1 => {
            format!("With one of: {}", names.join(", "))
        }
        _ => format!("With {}", names.join(", ")),
    }
}

/// Title, duration, hosts, location and description of an event type.
fn event_summary(org_name: &str, ev: &EventTypeView) -> Markup {
    html! {
        p.muted { (org_name) }
        h1 #event-title { (ev.row.title) }
        p #event-facts {
            span #duration { (ev.timing.duration_min()) " min" } " · "
            span #hosts { (host_line(ev)) } " · "
            span #location { (location_label(ev)) }
        }
        @if !ev.row.description.trim().is_empty() {
            p #description style="white-space:pre-line" { (ev.row.description) }
        }
    }
}

/// The booking page body: summary, then the picker (or "not available").
async fn booking_body(
    st: &AppState,
    org: &OrgRow,
    ev: EventTypeView,
    picker: &Picker,
    error: Option<&str>,
) -> Result<Markup, WebError> {
    let base = format!("/book/{}/{}", org.slug, ev.row.slug);
    let form_path = format!("{base}/form");
    let (from, to) = picker.range()?;
    let answer = st.app.slots(ev, from, to).await.map_err(page_err)?;
    Ok(html! {
        div.card {
            (event_summary(&org.name, &answer.event))
            @if nobody_bookable(&answer) {
                p.alert role="alert" #not-available { "This event is not available right now. Please try again later." }
            } @else {
                (slot_picker::render(&base, picker, &answer.slots, SlotAction::Form { form_path: &form_path }, error))
            }
        }
    })
}

async fn booking_page(
    State(st): State<AppState>,
    HtmlPath((org, slug)): HtmlPath<(String, String)>,
    HtmlQuery(q): HtmlQuery<PickQuery>,
) -> Result<Response, WebError> {
    let (org, ev) = public_event_type(&st, &org, &slug).await?;
    let picker = q.picker(None, st.app.now())?;
    let title = ev.row.title.clone();
    let body = booking_body(&st, &org, ev, &picker, None).await?;
    Ok(html_response(StatusCode::OK, None, &title, body))
}

#[derive(Deserialize, Default)]
struct FormQuery {
    start: Option<String>,
    tz: Option<String>,
}

/// What the booking form shows around its fields.
struct FormCtx<'a> {
    org: &'a OrgRow,
    ev: &'a EventTypeView,
    start: Timestamp,
    picker: Picker,
    csrf: &'a str,
}

fn form_body(c: &FormCtx<'_>, values: &Pairs, error: Option<&str>) -> Markup {
    let base = format!("/book/{}/{}", c.org.slug, c.ev.row.slug);
    let back = format!("{base}{}", c.picker.query(c.picker.month, c.picker.date));
    let end = c
        .start
        .checked_add(c.ev.timing.duration())
        .unwrap_or(c.start);
    html! {
        div.card style="max-width:640px" {
            (event_summary(&c.org.name, c.ev))
            p #chosen-time data-start=(c.start) {
                strong { (when(c.start, end, &c.picker.tz_name)) }
                " · " a #change-time href=(back) { "Change time" }
            }
            @if let Some(e) = error { p.alert role="alert" #form-error { (e) } }
            form #booking-form method="post" action=(format!("{base}/form")) {
                input type="hidden" name="_csrf" value=(c.csrf);
                input type="hidden" name="start" value=(c.start);
                input type="hidden" name="tz" value=(c.picker.tz_name);
                input type="hidden" name="idempotency_key" value=(tokens::new_token());
                label for="name" { "Your name *" }
                input #name type="text" name="name" required autocomplete="name" value=(values.get("name"));
                label for="email" { "Email *" }
                input #email type="email" name="email" required autocomplete="email" value=(values.get("email"));
                @for q in &c.ev.questions {
                    @let id = format!("answer_{}", q.key);
                    label for=(id) { (q.label) @if q.required { " *" } }
                    @match q.kind {
                        QuestionKind::ShortText => input id=(id) type="text" name=(id) required[q.required] value=(values.get(&id));
                        QuestionKind::LongText => textarea id=(id) name=(id) required[q.required] { (values.get(&id)) }
                        QuestionKind::Phone => input id=(id) type="tel" name=(id) required[q.required] autocomplete="tel" value=(values.get(&id));
                    }
                }
                p.muted { "* required" }
                p { button #book type="submit" { "Confirm booking" } }
            }
        }
    }
}

async fn booking_form(
    State(st): State<AppState>,
    jar: CookieJar,
    HtmlPath((org, slug)): HtmlPath<(String, String)>,
    HtmlQuery(q): HtmlQuery<FormQuery>,
) -> Result<Response, WebError> {
    let (org, ev) = public_event_type(&st, &org, &slug).await?;
    let Some(raw) = q.start.as_deref().filter(|s| !s.trim().is_empty()) else {
        return Ok(Redirect::to(&format!("/book/{}/{}", org.slug, ev.row.slug)).into_response());
    };
    let start = parse_start(raw)?;
    let picker = Picker::parse(None, None, q.tz.as_deref(), Some("UTC"), st.app.now())?.at(start);
    let (jar, csrf) = anon_csrf(jar, st.secure_cookies);
    let ctx = FormCtx {
        org: &org,
        ev: &ev,
        start,
        picker,
        csrf: &csrf,
    };
    let body = form_body(&ctx, &Pairs(Vec::new()), None);
    Ok(html_response(
        StatusCode::OK,
        Some(jar),
        &ev.row.title,
        body,
    ))
}

/// The form's fields as a booking request; a message for the person otherwise.
fn booking_request(
    ev: &EventTypeView,
    start: Timestamp,
    tz: &str,
    f: &Pairs,
) -> Result<BookingRequest, String> {
    let answers: BTreeMap<String, String> = f
        .prefixed("answer_")
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let key = f.get("idempotency_key").trim();
    Ok(BookingRequest {
        event_type: ev.row.id,
        start,
        name: PersonName::parse(f.get("name")).map_err(|e| format!("Name: {e}"))?,
        email: Email::parse(f.get("email")).map_err(|e| format!("Email: {e}"))?,
        time_zone: TimeZoneName::parse(tz).map_err(|e| e.to_string())?,
        answers,
        idempotency_key: (!key.is_empty()).then(|| key.to_string()),
    })
}

async fn book(
    State(st): State<AppState>,
    jar: CookieJar,
    HtmlPath((org, slug)): HtmlPath<(String, String)>,
    HtmlForm(pairs): HtmlForm<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let f = Pairs(pairs);
    check_anon_csrf(&jar, f.get("_csrf"))?;
    let (org, ev) = public_event_type(&st, &org, &slug).await?;
    let start = parse_start(f.get("start"))?;
    let tz = f.get("tz");
    let picker = Picker::parse(None, None, Some(tz), Some("UTC"), st.app.now())?.at(start);
    let (jar, csrf) = anon_csrf(jar, st.secure_cookies);
    let refuse = |status: StatusCode, message: &str, picker: Picker| {
        let ctx = FormCtx {
            org: &org,
            ev: &ev,
            start,
            picker,
            csrf: &csrf,
        };
        let body = form_body(&ctx, &f, Some(message));
        html_response(status, Some(jar.clone()), &ev.row.title, body)
    };
    let req = match booking_request(&ev, start, &picker.tz_name, &f) {
        Ok(r) => r,
        Err(e) => return Ok(refuse(StatusCode::UNPROCESSABLE_ENTITY, &e, picker)),
    };
    match st.app.book(req).await {
        Ok(b) => Ok(Redirect::to(&format!("/booking/{}?booked=1", b.manage_token)).into_response()),
        Err(AppError::Conflict {
            code: "slot_taken",
            message,
        }) => {
            let title = ev.row.title.clone();
            let body = booking_body(&st, &org, ev.clone(), &picker, Some(&message)).await?;
            Ok(html_response(StatusCode::CONFLICT, Some(jar), &title, body))
        }
        Err(AppError::Invalid { message, .. }) => Ok(refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            &sentence(&message),
            picker,
        )),
        Err(AppError::Conflict { message, .. }) => {
            Ok(refuse(StatusCode::CONFLICT, &sentence(&message), picker))
        }
        Err(e) => Err(page_missing(e)),
    }
}

/// Where the booked meeting happens: its link, the details, or the promise of a link.
pub fn meeting_place(b: &BookingRow) -> Markup {
    let join_line = |line: &str| {
        line.strip_prefix("Join: ")
            .filter(|u| u.starts_with("https://"))
            .map(str::to_string)
    };
    let first_link = b
        .location_text
        .as_deref()
        .and_then(|t| t.lines().position(|l| join_line(l).is_some()));
    html! {
        @if b.status == BookingStatus::Cancelled {
            span.muted { "No meeting (it was cancelled)" }
        } @else if let Some(url) = &b.join_url {
            a #join-url href=(url) rel="noopener noreferrer" { (url) }
        } @else if let Some(text) = &b.location_text {
            div #meeting-details {
                @for (i, line) in text.lines().enumerate() {
                    @match join_line(line) {
                        Some(url) if first_link == Some(i) => div { "Join: " a #join-url href=(url) rel="noopener noreferrer" { (url) } },
                        Some(url) => div { "Join: " a href=(url) rel="noopener noreferrer" { (url) } },
                        None => div { (line) },
                    }
                }
            }
        } @else if matches!(b.meeting_state, MeetingState::Pending | MeetingState::Failed) {
            span #link-pending { "Zoom — the meeting link will follow by email shortly." }
        } @else {
            span.muted { "Zoom" }
        }
    }
}

fn host_names(m: &ManagedBooking) -> String {
    let names: Vec<&str> = m
        .booking
        .hosts
        .iter()
        .filter_map(|id| m.event.hosts.iter().find(|h| h.user.id == *id))
        .map(|h| h.user.display_name())
        .collect();
    if names.is_empty() {
        "—".into()
    } else {
        names.join(", ")
    }
}

#[derive(Deserialize, Default)]
struct ManageQuery {
    booked: Option<String>,
    rescheduled: Option<String>,
    cancelled: Option<String>,
}

fn booking_details(m: &ManagedBooking, token: &str, now: Timestamp) -> Markup {
    let b = &m.booking;
    let changeable = b.status == BookingStatus::Confirmed && b.start_at > now;
    html! {
        div.card #booking data-booking-id=(b.id) {
            p.muted { (m.org_name) }
            h1 { (b.title) }
            p #booking-status data-status=(b.status.as_str()) {
                @match b.status {
                    BookingStatus::Confirmed => span.pill.active { "Confirmed" },
                    BookingStatus::Cancelled => span.pill.deactivated { "Cancelled" },
                }
            }
            table {
                tr { th { "When" } td #booking-when data-start=(b.start_at) { (when(b.start_at, b.end_at, &b.invitee_time_zone)) } }
                tr { th { "Host" } td #booking-host { (host_names(m)) } }
                tr { th { "Where" } td #booking-where { (meeting_place(b)) } }
                tr { th { "Invitee" } td { (b.invitee_name) " (" (b.invitee_email) ")" } }
                @if let Some(r) = &b.cancel_reason { tr { th { "Reason" } td #cancel-reason { (r) } } }
            }
            @if changeable {
                p style="margin-top:14px" {
                    a.button #reschedule-link href=(format!("/booking/{token}/reschedule?tz={}", urlencode(&b.invitee_time_zone))) { "Reschedule" }
                    " "
                    a.button #cancel-link href=(format!("/booking/{token}/cancel")) style="background:#dc2626" { "Cancel" }
                }
            } @else if b.status == BookingStatus::Confirmed {
                p.muted { "This meeting has already started or taken place." }
            }
        }
    }
}

async fn manage(
    State(st): State<AppState>,
    HtmlPath(token): HtmlPath<String>,
    HtmlQuery(q): HtmlQuery<ManageQuery>,
) -> Result<Response, WebError> {
    let token = manage_token(&token)?;
    let m = st.app.booking_by_token(token).await.map_err(link_invalid)?;
    let email = m.booking.invitee_email.clone();
    let banner = if q.booked.is_some() {
        Some(
            html! { div.notice role="status" #booked-banner { strong { "You're booked!" } " A confirmation email is on its way to " (email) "." } },
        )
    } else if q.rescheduled.is_some() {
        Some(
            html! { div.notice role="status" #rescheduled-banner { strong { "Your meeting was rescheduled." } " The new time is below; an updated invitation is on its way." } },
        )
    } else if q.cancelled.is_some() {
        Some(
            html! { div.notice role="status" #cancelled-banner { strong { "Your meeting is cancelled." } " Everyone was told." } },
        )
    } else {
        None
    };
    let body = html! {
        @if let Some(b) = banner { (b) }
        (booking_details(&m, token, st.app.now()))
    };
    Ok(html_response(StatusCode::OK, None, &m.booking.title, body))
}

/// A cancelled or past meeting cannot be moved: a 409 page that says so.
pub fn refuse_unchangeable(b: &BookingRow, now: Timestamp) -> Result<(), WebError> {
    if b.status == BookingStatus::Cancelled {
        return Err(page_err(AppError::Conflict {
            code: "booking_cancelled",
            message: "This meeting was cancelled, so it cannot be changed.".into(),
        }));
    }
    if b.start_at <= now {
        return Err(page_err(AppError::Conflict {
            code: "meeting_in_past",
            message: "This meeting has already started or taken place, so it cannot be changed."
                .into(),
        }));
    }
    Ok(())
}

/// The reschedule picker of a booking; `action` is where a chosen time is posted.
pub async fn reschedule_body(
    st: &AppState,
    m: &ManagedBooking,
    base: &str,
    csrf: &str,
    picker: &Picker,
    error: Option<&str>,
) -> Result<Markup, WebError> {
    let b = &m.booking;
    let (from, to) = picker.range()?;
    let answer = st
        .app
        .slots(m.event.clone(), from, to)
        .await
        .map_err(page_err)?;
    Ok(html! {
        div.card {
            h1 { "Reschedule: " (b.title) }
            p #current-time { "Currently: " strong { (when(b.start_at, b.end_at, &picker.tz_name)) } }
            @if nobody_bookable(&answer) {
                p.alert role="alert" #not-available { "This event is not available right now, so the meeting cannot be moved. Please try again later." }
                @if let Some(e) = error { p.alert role="alert" #slot-error { (e) } }
            } @else {
                p { "Pick a new time:" }
                (slot_picker::render(base, picker, &answer.slots, SlotAction::Post { action: base, csrf }, error))
            }
        }
    })
}

async fn reschedule_page(
    State(st): State<AppState>,
    jar: CookieJar,
    HtmlPath(token): HtmlPath<String>,
    HtmlQuery(q): HtmlQuery<PickQuery>,
) -> Result<Response, WebError> {
    let token = manage_token(&token)?;
    let m = st.app.booking_by_token(token).await.map_err(link_invalid)?;
    let now = st.app.now();
    refuse_unchangeable(&m.booking, now)?;
    let picker = q.picker(Some(&m.booking.invitee_time_zone), now)?;
    let (jar, csrf) = anon_csrf(jar, st.secure_cookies);
    let base = format!("/booking/{token}/reschedule");
    let body = match q.start() {
        Some(raw) => {
            let start = parse_start(raw)?;
            let back = format!("{base}{}", picker.query(picker.month, picker.date));
            slot_picker::confirm_reschedule(&base, &csrf, &picker, start, &back)
        }
        None => reschedule_body(&st, &m, &base, &csrf, &picker, None).await?,
    };
    Ok(html_response(StatusCode::OK, Some(jar), "Reschedule", body))
}

#[derive(Deserialize)]
struct RescheduleForm {
    #[serde(default)]
    _csrf: String,
    #[serde(default)]
    start: String,
    #[serde(default)]
    tz: String,
}

async fn reschedule(
    State(st): State<AppState>,
    jar: CookieJar,
    HtmlPath(token): HtmlPath<String>,
    HtmlForm(f): HtmlForm<RescheduleForm>,
) -> Result<Response, WebError> {
    check_anon_csrf(&jar, &f._csrf)?;
    let token = manage_token(&token)?;
    let start = parse_start(&f.start)?;
    match st.app.reschedule_by_token(token, start).await {
        Ok(_) => Ok(Redirect::to(&format!("/booking/{token}?rescheduled=1")).into_response()),
        Err(AppError::Conflict {
            code: "slot_taken",
            message,
        }) => picker_again(&st, jar, token, &f, start, StatusCode::CONFLICT, &message).await,
        Err(AppError::Invalid { message, .. }) => {
            let message = sentence(&message);
            picker_again(
                &st,
                jar,
                token,
                &f,
                start,
                StatusCode::UNPROCESSABLE_ENTITY,
                &message,
            )
            .await
        }
        Err(e) => Err(link_invalid(e)),
    }
}

/// The invitee's picker again, on the day they tried, with what went wrong.
async fn picker_again(
    st: &AppState,
    jar: CookieJar,
    token: &str,
    f: &RescheduleForm,
    start: Timestamp,
    status: StatusCode,
    message: &str,
) -> Result<Response, WebError> {
    let m = st.app.booking_by_token(token).await.map_err(link_invalid)?;
    let picker = Picker::parse(
        None,
        None,
        Some(&f.tz),
        Some(&m.booking.invitee_time_zone),
        st.app.now(),
    )?
    .at(start);
    let (jar, csrf) = anon_csrf(jar, st.secure_cookies);
    let base = format!("/booking/{token}/reschedule");
    let body = reschedule_body(st, &m, &base, &csrf, &picker, Some(message)).await?;
    Ok(html_response(status, Some(jar), "Reschedule", body))
}

fn cancel_body(
    m: &ManagedBooking,
    token: &str,
    csrf: &str,
    reason: &str,
    error: Option<&str>,
) -> Markup {
    let b = &m.booking;
    html! {
        div.card style="max-width:640px" {
            h1 { "Cancel: " (b.title) }
            p { strong { (when(b.start_at, b.end_at, &b.invitee_time_zone)) } " with " (host_names(m)) }
            @if let Some(e) = error { p.alert role="alert" #form-error { (e) } }
            form #cancel-form method="post" action=(format!("/booking/{token}/cancel")) {
                input type="hidden" name="_csrf" value=(csrf);
                label for="reason" { "Reason (optional, shared with the host)" }
                textarea #reason name="reason" maxlength="1000" { (reason) }
                p {
                    button.danger #confirm-cancel type="submit" { "Cancel meeting" }
                    " " a href=(format!("/booking/{token}")) { "Keep it" }
                }
            }
        }
    }
}

async fn cancel_page(
    State(st): State<AppState>,
    jar: CookieJar,
    HtmlPath(token): HtmlPath<String>,
) -> Result<Response, WebError> {
    let token = manage_token(&token)?;
    let m = st.app.booking_by_token(token).await.map_err(link_invalid)?;
    if m.booking.status == BookingStatus::Cancelled {
        return Ok(Redirect::to(&format!("/booking/{token}")).into_response());
    }
    refuse_unchangeable(&m.booking, st.app.now())?;
    let (jar, csrf) = anon_csrf(jar, st.secure_cookies);
    let body = cancel_body(&m, token, &csrf, "", None);
    Ok(html_response(StatusCode::OK, Some(jar), "Cancel", body))
}

#[derive(Deserialize)]
struct CancelForm {
    #[serde(default)]
    _csrf: String,
    #[serde(default)]
    reason: String,
}

async fn cancel(
    State(st): State<AppState>,
    jar: CookieJar,
    HtmlPath(token): HtmlPath<String>,
    HtmlForm(f): HtmlForm<CancelForm>,
) -> Result<Response, WebError> {
    check_anon_csrf(&jar, &f._csrf)?;
    let token = manage_token(&token)?;
    match st.app.cancel_by_token(token, Some(&f.reason)).await {
        Ok(_) => Ok(Redirect::to(&format!("/booking/{token}?cancelled=1")).into_response()),
        Err(AppError::Invalid { message, .. }) => {
            let m = st.app.booking_by_token(token).await.map_err(link_invalid)?;
            let (jar, csrf) = anon_csrf(jar, st.secure_cookies);
            let body = cancel_body(&m, token, &csrf, &f.reason, Some(&sentence(&message)));
            Ok(html_response(
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(jar),
                "Cancel",
                body,
            ))
        }
        Err(e) => Err(link_invalid(e)),
    }
}
