//! Meetings on record: every booked meeting the user hosts (everyone's with View all
//! meetings), filtered by host, status and dates, exportable as CSV; hosts and admins
//! reschedule (with the shared slot picker) or cancel from here.

use crate::auth::{urlencode, Session};
use crate::error::{Surface, WebError};
use crate::extract::{parse_id, HtmlForm, HtmlPath, HtmlQuery};
use crate::html::booking_pages::{refuse_unchangeable, reschedule_body, PickQuery};
use crate::html::layout::{csrf, page};
use crate::html::pairs::sentence;
use crate::html::slot_picker::{self, parse_date, parse_start, Picker};
use crate::html::{page_err, redirect_with_notice};
use crate::AppState;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use convene_app::scheduling::ManagedBooking;
use convene_app::AppError;
use convene_domain::{BookingId, BookingStatus, Permission, UserFilter, UserId};
use convene_store::{BookingQuery, BookingRow, UserQuery};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use maud::{html, Markup};
use serde::Deserialize;
use std::collections::BTreeMap;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/meetings", get(list))
        .route("/meetings.csv", get(csv))
        .route(
            "/meetings/{id}/reschedule",
            get(reschedule_page).post(reschedule),
        )
        .route("/meetings/{id}/cancel", post(cancel))
}

const PAGE_SIZE: i64 = 50;

#[derive(Deserialize, Default)]
struct MeetingsQuery {
    host: Option<String>,
    status: Option<String>,
    from: Option<String>,
    to: Option<String>,
    cursor: Option<String>,
    notice: Option<String>,
}

fn given(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn bad(code: &'static str, message: String) -> WebError {
    WebError::bad_request(code, message).html()
}

impl MeetingsQuery {
    /// The filters as a store query; dates are whole days in the viewer's zone.
    fn parse(&self, tz: &TimeZone) -> Result<BookingQuery, WebError> {
        let host = given(&self.host)
            .map(|h| parse_id::<UserId>(h, "user", Surface::Html))
            .transpose()?;
        let status = given(&self.status)
            .map(|s| {
                s.parse::<BookingStatus>()
                    .map_err(|e| bad("invalid_status", e.to_string()))
            })
            .transpose()?;
        let day_start = |raw: &str, next: bool| -> Result<Timestamp, WebError> {
            let mut d = parse_date(raw)?;
            if next {
                d = d
                    .checked_add(1.day())
                    .map_err(|_| bad("invalid_date", "that date is out of range".into()))?;
            }
            d.to_zoned(tz.clone())
                .map(|z| z.timestamp())
                .map_err(|_| bad("invalid_date", "that date is out of range".into()))
        };
        let from = given(&self.from).map(|d| day_start(d, false)).transpose()?;
        let to = given(&self.to).map(|d| day_start(d, true)).transpose()?;
        Ok(BookingQuery {
            host,
            status,
            from,
            to,
            after: None,
            limit: PAGE_SIZE,
        })
    }

    /// `host=…&status=…&from=…&to=…` for links that keep the filters.
    fn filters(&self) -> String {
        [
            ("host", &self.host),
            ("status", &self.status),
            ("from", &self.from),
            ("to", &self.to),
        ]
        .iter()
        .filter_map(|(k, v)| given(v).map(|v| format!("{k}={}", urlencode(v))))
        .collect::<Vec<_>>()
        .join("&")
    }
}

fn viewer_tz(s: &Session) -> TimeZone {
    TimeZone::get(&s.user.time_zone).unwrap_or(TimeZone::UTC)
}

/// Names of the people whose meetings the viewer may see, for the host column and filter.
async fn host_names(st: &AppState, s: &Session) -> BTreeMap<UserId, String> {
    let mut names = BTreeMap::new();
    names.insert(s.user.id, s.user.display_name().to_string());
    if !s.actor.can(Permission::ViewAllMeetings) {
        return names;
    }
    if s.actor.can(Permission::ManageUsers) || s.actor.can(Permission::ManageGroups) {
        let q = UserQuery {
            filter: UserFilter::All,
            action_required: false,
            search: None,
            after: None,
            limit: 500,
        };
        if let Ok(p) = st.app.users_page(&s.actor, q).await {
            for u in &p.users {
                names.insert(u.id, u.display_name().to_string());
            }
        }
    }
    if let Ok(all) = st.app.event_types(&s.actor).await {
        for h in all.iter().flat_map(|v| &v.hosts) {
            names.insert(h.user.id, h.user.display_name().to_string());
        }
    }
    names
}

fn row(
    s: &Session,
    b: &BookingRow,
    names: &BTreeMap<UserId, String>,
    tz: &TimeZone,
    now: Timestamp,
) -> Markup {
    let changeable = b.status == BookingStatus::Confirmed && b.start_at > now;
    html! {
        tr data-booking-id=(b.id) data-status=(b.status.as_str()) {
            td data-start=(b.start_at) style="white-space:nowrap" { (b.start_at.to_zoned(tz.clone()).strftime("%a %-d %b %Y, %H:%M")) }
            td { (b.title) }
            td.host { (names.get(&b.host_user_id).map(String::as_str).unwrap_or("—")) }
            td.invitee { (b.invitee_name) br; span.muted { (b.invitee_email) } }
            td {
                @match b.status {
                    BookingStatus::Confirmed => span.pill.active { "Confirmed" },
                    BookingStatus::Cancelled => span.pill.deactivated { "Cancelled" },
                }
            }
            td {
                @if let Some(url) = &b.join_url {
                    a.meeting-link href=(url) rel="noopener noreferrer" { "Join link" }
                } @else if let Some(text) = &b.location_text {
                    span style="white-space:pre-line" { (text) }
                } @else { span.muted { "—" } }
            }
            td.meeting-state data-meeting-state=(b.meeting_state.as_str()) title=[b.meeting_error.as_deref()] { (b.meeting_state.as_str()) }
            td style="white-space:nowrap" {
                @if changeable {
                    a.reschedule-meeting href=(format!("/meetings/{}/reschedule", b.id)) { "Reschedule" }
                    form.cancel-meeting method="post" action=(format!("/meetings/{}/cancel", b.id)) style="margin-top:6px" {
                        (csrf(s))
                        input type="text" name="reason" placeholder="Reason (optional)" aria-label="Reason for cancelling" maxlength="1000";
                        button.danger type="submit" { "Cancel" }
                    }
                }
            }
        }
    }
}

async fn list(
    State(st): State<AppState>,
    s: Session,
    HtmlQuery(q): HtmlQuery<MeetingsQuery>,
) -> Result<Response, WebError> {
    let tz = viewer_tz(&s);
    let query = q.parse(&tz)?;
    let found = st
        .app
        .bookings(&s.actor, query, given(&q.cursor))
        .await
        .map_err(page_err)?;
    let names = host_names(&st, &s).await;
    let now = st.app.now();
    let filters = q.filters();
    let all = s.actor.can(Permission::ViewAllMeetings);
    let mut hosts: Vec<(&UserId, &String)> = names.iter().collect();
    hosts.sort_by_key(|a| a.1.to_lowercase());
    let chosen_host = given(&q.host).unwrap_or("");
    let chosen_status = given(&q.status).unwrap_or("");
    let body = html! {
        h1 { "Meetings" }
        div.card {
            form #meetings-filter method="get" action="/meetings" class="row" style="align-items:end" {
                @if all {
                    div {
                        label for="host" { "Host" }
                        select #host name="host" {
                            option value="" { "Everyone" }
                            @for (id, name) in &hosts {
                                @let id = id.to_string();
                                option value=(id) selected[chosen_host == id] { (name) }
                            }
                        }
                    }
                }
                div {
                    label for="status" { "Status" }
                    select #status name="status" {
                        option value="" { "Any" }
                        @for st in BookingStatus::ALL {
                            option value=(st.as_str()) selected[chosen_status == st.as_str()] { (st.as_str()) }
                        }
                    }
                }
                div { label for="from" { "From" } input type="date" #from name="from" value=(given(&q.from).unwrap_or("")); }
                div { label for="to" { "To" } input type="date" #to name="to" value=(given(&q.to).unwrap_or("")); }
                div style="flex:0 0 auto" { button.secondary type="submit" { "Filter" } }
            }
            p.muted style="margin-bottom:0" {
                "Times are in your time zone (" (s.user.time_zone) "). "
                a #export-csv href=(format!("/meetings.csv?{filters}")) { "Export CSV" }
            }
        }
        table #meetings {
            thead { tr { th { "Start" } th { "Title" } th { "Host" } th { "Invitee" } th { "Status" } th { "Meeting link" } th { "Meeting" } th {} } }
            tbody {
                @for b in &found.bookings { (row(&s, b, &names, &tz, now)) }
                @if found.bookings.is_empty() { tr { td colspan="8" .muted { "No meetings match." } } }
            }
        }
        @if let Some(next) = &found.next_cursor {
            p { a #next-page href=(format!("/meetings?{filters}&cursor={}", urlencode(next))) { "Next page →" } }
        }
    };
    Ok(Html(page("Meetings", Some(&s), q.notice.as_deref(), body).into_string()).into_response())
}

async fn csv(
    State(st): State<AppState>,
    s: Session,
    HtmlQuery(q): HtmlQuery<MeetingsQuery>,
) -> Result<Response, WebError> {
    let query = q.parse(&viewer_tz(&s))?;
    let body = st
        .app
        .bookings_csv(&s.actor, query)
        .await
        .map_err(page_err)?;
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"meetings.csv\"",
            ),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response())
}

async fn managed(st: &AppState, s: &Session, raw: &str) -> Result<ManagedBooking, WebError> {
    let id: BookingId = parse_id(raw, "booking", Surface::Html)?;
    st.app.booking_for(&s.actor, id).await.map_err(page_err)
}

fn respond(s: &Session, status: StatusCode, body: Markup) -> Response {
    (
        status,
        Html(page("Reschedule", Some(s), None, body).into_string()),
    )
        .into_response()
}

async fn reschedule_page(
    State(st): State<AppState>,
    s: Session,
    HtmlPath(raw): HtmlPath<String>,
    HtmlQuery(q): HtmlQuery<PickQuery>,
) -> Result<Response, WebError> {
    let m = managed(&st, &s, &raw).await?;
    let now = st.app.now();
    refuse_unchangeable(&m.booking, now)?;
    let picker = q.picker(Some(&s.user.time_zone), now)?;
    let base = format!("/meetings/{}/reschedule", m.booking.id);
    let body = match q.start() {
        Some(raw) => {
            let start = parse_start(raw)?;
            let back = format!("{base}{}", picker.query(picker.month, picker.date));
            slot_picker::confirm_reschedule(&base, &s.csrf, &picker, start, &back)
        }
        None => reschedule_body(&st, &m, &base, &s.csrf, &picker, None).await?,
    };
    Ok(respond(&s, StatusCode::OK, body))
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
    s: Session,
    HtmlPath(raw): HtmlPath<String>,
    HtmlForm(f): HtmlForm<RescheduleForm>,
) -> Result<Response, WebError> {
    s.check_csrf(&f._csrf)?;
    let id: BookingId = parse_id(&raw, "booking", Surface::Html)?;
    let start = parse_start(&f.start)?;
    let (status, message) = match st.app.reschedule(&s.actor, id, start).await {
        Ok(b) => {
            let when = b
                .start_at
                .to_zoned(viewer_tz(&s))
                .strftime("%A, %-d %B %Y at %H:%M")
                .to_string();
            return Ok(redirect_with_notice(
                "/meetings",
                &format!("“{}” with {} was moved to {when}.", b.title, b.invitee_name),
            )
            .into_response());
        }
        Err(AppError::Conflict {
            code: "slot_taken",
            message,
        }) => (StatusCode::CONFLICT, message),
        Err(AppError::Invalid { message, .. }) => {
            (StatusCode::UNPROCESSABLE_ENTITY, sentence(&message))
        }
        Err(e) => return Err(page_err(e)),
    };
    let m = managed(&st, &s, &raw).await?;
    let picker = Picker::parse(
        None,
        None,
        Some(&f.tz),
        Some(&s.user.time_zone),
        st.app.now(),
    )?
    .at(start);
    let base = format!("/meetings/{id}/reschedule");
    let body = reschedule_body(&st, &m, &base, &s.csrf, &picker, Some(&message)).await?;
    Ok(respond(&s, status, body))
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
    s: Session,
    HtmlPath(raw): HtmlPath<String>,
    HtmlForm(f): HtmlForm<CancelForm>,
) -> Result<Response, WebError> {
    s.check_csrf(&f._csrf)?;
    let id: BookingId = parse_id(&raw, "booking", Surface::Html)?;
    let b = st
        .app
        .cancel(&s.actor, id, Some(&f.reason))
        .await
        .map_err(page_err)?;
    Ok(redirect_with_notice(
        "/meetings",
        &format!(
            "“{}” with {} was cancelled; everyone was told.",
            b.title, b.invitee_name
        ),
    )
    .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_parse_in_the_viewer_zone_and_round_trip() {
        let q = MeetingsQuery {
            status: Some("confirmed".into()),
            from: Some("2026-12-01".into()),
            to: Some("2026-12-31".into()),
            host: Some(String::new()),
            ..MeetingsQuery::default()
        };
        let tz = TimeZone::get("Europe/Berlin").unwrap();
        let b = q.parse(&tz).unwrap();
        assert_eq!(b.status, Some(BookingStatus::Confirmed));
        assert_eq!(b.host, None);
        assert_eq!(b.from, Some("2026-11-30T23:00:00Z".parse().unwrap()));
        assert_eq!(b.to, Some("2026-12-31T23:00:00Z".parse().unwrap()));
        assert_eq!(
            q.filters(),
            "status=confirmed&from=2026-12-01&to=2026-12-31"
        );
    }

    #[test]
    fn junk_filters_are_400s() {
        let tz = TimeZone::UTC;
        for q in [
            MeetingsQuery {
                status: Some("maybe".into()),
                ..Default::default()
            },
            MeetingsQuery {
                from: Some("yesterday".into()),
                ..Default::default()
            },
            MeetingsQuery {
                host: Some("nobody".into()),
                ..Default::default()
            },
        ] {
            assert_eq!(q.parse(&tz).unwrap_err().status, StatusCode::BAD_REQUEST);
        }
    }
}
