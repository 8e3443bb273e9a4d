//! User availability: weekly working hours (one line per weekday), date overrides, and
//! Meeting location (Zoom, manual details, in person; Teams shown as coming soon).
//! Users edit their own at `/settings/availability`; those who manage users or event
//! types edit anyone's at `/users/{id}/availability`.

use crate::auth::Session;
use crate::error::{Surface, WebError};
use crate::extract::{parse_id, HtmlForm, HtmlPath, HtmlQuery};
use crate::html::layout::{csrf, page};
use crate::html::pairs::{sentence, Pairs};
use crate::html::slot_picker::parse_date;
use crate::html::{page_err, redirect_with_notice, Notice};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use convene_app::scheduling::AvailabilityView;
use convene_app::AppError;
use convene_domain::schedule::{DateOverrides, HoursError, TimeRange, WeeklyHours};
use convene_domain::{ManualDetails, MeetingLocationKind, UserId};
use jiff::civil::Weekday;
use maud::{html, Markup};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/settings/availability", get(show_mine).post(save_mine))
        .route("/settings/availability/location", post(location_mine))
        .route("/users/{id}/availability", get(show_user).post(save_user))
        .route("/users/{id}/availability/location", post(location_user))
}

const DAYS: [(Weekday, &str, &str); 7] = [
    (Weekday::Monday, "hours_mon", "Monday"),
    (Weekday::Tuesday, "hours_tue", "Tuesday"),
    (Weekday::Wednesday, "hours_wed", "Wednesday"),
    (Weekday::Thursday, "hours_thu", "Thursday"),
    (Weekday::Friday, "hours_fri", "Friday"),
    (Weekday::Saturday, "hours_sat", "Saturday"),
    (Weekday::Sunday, "hours_sun", "Sunday"),
];

/// At most this many override lines are read.
const MAX_OVERRIDES: usize = 400;

/// Whose availability a page is about, and where its forms post.
struct Target {
    user: UserId,
    base: String,
}

fn mine(s: &Session) -> Target {
    Target {
        user: s.actor.user_id,
        base: "/settings/availability".into(),
    }
}

fn theirs(raw: &str) -> Result<Target, WebError> {
    let user: UserId = parse_id(raw, "user", Surface::Html)?;
    Ok(Target {
        user,
        base: format!("/users/{user}/availability"),
    })
}

/// The hours form as typed.
struct HoursValues {
    days: [String; 7],
    overrides: String,
}

impl HoursValues {
    fn from_view(v: &AvailabilityView) -> Self {
        let days = DAYS.map(|(d, _, _)| {
            v.weekly
                .ranges(d)
                .iter()
                .map(TimeRange::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        });
        let overrides = v
            .overrides
            .iter()
            .map(|(d, r)| {
                if r.is_empty() {
                    format!("{d} off")
                } else {
                    let r: Vec<String> = r.iter().map(TimeRange::to_string).collect();
                    format!("{d} {}", r.join(", "))
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        Self { days, overrides }
    }

    fn from_form(f: &Pairs) -> Self {
        Self {
            days: DAYS.map(|(_, field, _)| f.get(field).to_string()),
            overrides: f.get("overrides").to_string(),
        }
    }

    fn parse(&self) -> Result<(WeeklyHours, DateOverrides), String> {
        let mut weekly = WeeklyHours::default();
        for ((day, _, label), text) in DAYS.iter().zip(&self.days) {
            let ranges = parse_ranges(text).map_err(|e| format!("{label}: {e}"))?;
            weekly.set(*day, ranges).map_err(|e| e.to_string())?;
        }
        Ok((weekly, parse_overrides(&self.overrides)?))
    }
}

/// "09:00-12:00, 13:00-17:00"; empty or "off" is a day off.
fn parse_ranges(text: &str) -> Result<Vec<TimeRange>, HoursError> {
    let t = text.trim();
    if t.is_empty() || t.eq_ignore_ascii_case("off") {
        return Ok(Vec::new());
    }
    t.split([',', ';'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::parse)
        .collect()
}

/// One override per line: "2026-12-24 off" or "2026-12-31 09:00-12:00".
fn parse_overrides(text: &str) -> Result<DateOverrides, String> {
    let mut out = DateOverrides::default();
    let lines: Vec<(usize, &str)> = text
        .lines()
        .map(str::trim)
        .enumerate()
        .filter(|(_, l)| !l.is_empty())
        .collect();
    if lines.len() > MAX_OVERRIDES {
        return Err(format!("Date overrides: at most {MAX_OVERRIDES} lines"));
    }
    for (i, line) in lines {
        let n = i + 1;
        let (date, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        let d = parse_date(date).map_err(|e| format!("Date overrides, line {n}: {}", e.message))?;
        let rest = rest.trim();
        if rest.is_empty() {
            return Err(format!(
                "Date overrides, line {n}: after the date write 'off' or hours such as 09:00-12:00"
            ));
        }
        if out.get(d).is_some() {
            return Err(format!("Date overrides, line {n}: {d} is given twice"));
        }
        let ranges = parse_ranges(rest).map_err(|e| format!("Date overrides, line {n}: {e}"))?;
        out.set(d, ranges)
            .map_err(|e| format!("Date overrides, line {n}: {e}"))?;
    }
    Ok(out)
}

/// The meeting location form as typed.
struct LocationValues {
    kind: String,
    url: String,
    dial_in: String,
    phone: String,
    address: String,
}

impl LocationValues {
    fn from_view(v: &AvailabilityView) -> Self {
        let d = v.manual_details.clone().unwrap_or_default();
        Self {
            kind: v.user.meeting_location.as_str().to_string(),
            url: d.url.map(|u| u.as_str().to_string()).unwrap_or_default(),
            dial_in: d.dial_in.unwrap_or_default(),
            phone: d.phone.map(|p| p.as_str().to_string()).unwrap_or_default(),
            address: d.address.unwrap_or_default(),
        }
    }

    fn from_form(f: &Pairs) -> Self {
        Self {
            kind: f.get("location").to_string(),
            url: f.get("manual_url").to_string(),
            dial_in: f.get("manual_dial_in").to_string(),
            phone: f.get("manual_phone").to_string(),
            address: f.get("manual_address").to_string(),
        }
    }

    fn parse(&self) -> Result<(MeetingLocationKind, Option<ManualDetails>), String> {
        let kind = match self.kind.as_str() {
            "zoom" => MeetingLocationKind::Zoom,
            "manual" => MeetingLocationKind::Manual,
            "in_person" => MeetingLocationKind::InPerson,
            "teams" => return Err(
                "Microsoft Teams meetings cannot be created yet; choose another meeting location."
                    .into(),
            ),
            _ => return Err("Choose where your meetings take place.".into()),
        };
        let fields = [&self.url, &self.dial_in, &self.phone, &self.address];
        let details = if fields.iter().any(|f| !f.trim().is_empty()) {
            Some(
                ManualDetails::parse(
                    Some(&self.url),
                    Some(&self.dial_in),
                    Some(&self.phone),
                    Some(&self.address),
                )
                .map_err(|e| format!("Meeting details: {e}"))?,
            )
        } else {
            None
        };
        Ok((kind, details))
    }
}

/// What the page shows besides the forms' values.
struct PageCtx<'a> {
    s: &'a Session,
    view: &'a AvailabilityView,
    target: &'a Target,
    zoom: Option<String>,
}

fn radio(current: &str, value: &str, label: &str) -> Markup {
    html! {
        label { input type="radio" name="location" value=(value) checked[current == value]; (label) }
    }
}

fn body(
    c: &PageCtx<'_>,
    hours: &HoursValues,
    loc: &LocationValues,
    hours_error: Option<&str>,
    location_error: Option<&str>,
) -> Markup {
    let u = &c.view.user;
    let own = u.id == c.s.actor.user_id;
    html! {
        h1 { @if own { "User availability" } @else { "User availability: " (u.display_name()) } }
        div.card #weekly-hours {
            h2 { "Working hours" }
            p.muted #availability-time-zone data-time-zone=(u.time_zone) {
                "Times are in " @if own { "your" } @else { (u.display_name()) "'s" } " time zone: " strong { (u.time_zone) }
                @if own { " (change it in " a href="/settings/profile" { "My Profile" } ")" }
                ". Write ranges such as 09:00-17:00, several separated by commas (09:00-12:00, 13:00-17:00); leave a day empty for a day off."
            }
            @if let Some(e) = hours_error { p.alert role="alert" #availability-error { (e) } }
            form #availability-form method="post" action=(c.target.base) {
                (csrf(c.s))
                table {
                    @for ((_, field, label), value) in DAYS.iter().zip(&hours.days) {
                        tr {
                            th style="width:140px" { label for=(field) style="margin:0" { (label) } }
                            td { input type="text" id=(field) name=(field) value=(value) placeholder="off"; }
                        }
                    }
                }
                label for="overrides" { "Date overrides" }
                p.muted { "One date per line: " code { "2026-12-24 off" } " for a day off, or " code { "2026-12-31 09:00-12:00" } " for other hours that day." }
                textarea #overrides name="overrides" { (hours.overrides) }
                p { button #save-availability type="submit" { "Save working hours" } }
            }
        }
        div.card #meeting-location {
            h2 { "Meeting location" }
            p.muted { "Where meetings booked with " @if own { "you" } @else { (u.display_name()) } " take place, for event types that use the host's meeting location." }
            @if let Some(e) = location_error { p.alert role="alert" #location-error { (e) } }
            @if u.meeting_location == MeetingLocationKind::Teams {
                p.alert { "Microsoft Teams meetings cannot be created yet, so meetings cannot be booked with this setting. Choose another meeting location." }
            }
            form #location-form method="post" action=(format!("{}/location", c.target.base)) {
                (csrf(c.s))
                div.checks {
                    (radio(&loc.kind, "zoom", "Zoom — every meeting gets its own Zoom link"))
                    @if let Some(z) = &c.zoom { p.muted #zoom-status style="margin:0 0 6px 26px" { (z) } }
                    label.muted { input type="radio" name="location" value="teams" disabled; "Microsoft Teams (coming soon)" }
                    (radio(&loc.kind, "manual", "Manual details — a personal meeting link, dial-in, phone number or address"))
                    (radio(&loc.kind, "in_person", "In person"))
                }
                h2 style="margin-top:14px" { "Meeting details" }
                p.muted { "Used as they are for every meeting with manual details; the address is also used for in-person meetings." }
                div.row {
                    div { label for="manual_url" { "Meeting link (https://…)" } input type="text" inputmode="url" id="manual_url" name="manual_url" value=(loc.url); }
                    div { label for="manual_phone" { "Phone number" } input type="text" inputmode="tel" id="manual_phone" name="manual_phone" value=(loc.phone); }
                }
                label for="manual_dial_in" { "Dial-in details" }
                textarea #manual_dial_in name="manual_dial_in" style="min-height:60px" { (loc.dial_in) }
                label for="manual_address" { "Address" }
                textarea #manual_address name="manual_address" style="min-height:60px" { (loc.address) }
                p { button #save-location type="submit" { "Save meeting location" } }
            }
        }
    }
}

/// One line about the user's Zoom connection, if it can be read.
async fn zoom_status(st: &AppState, s: &Session, user: UserId) -> Option<String> {
    let d = st.app.user_detail(&s.actor, user).await.ok()?;
    let own = user == s.actor.user_id;
    let connect_hint = if own {
        "connect it in My Profile → Video conferencing"
    } else {
        "they can connect it in My Profile → Video conferencing"
    };
    Some(
        match d
            .connections
            .iter()
            .find(|c| c.provider == "zoom")
            .map(|c| c.status.as_str())
        {
            Some("active") => "Zoom is connected.".to_string(),
            Some("needs_reauth") => format!("Zoom must be reconnected: {connect_hint}."),
            _ => format!("Zoom is not connected: {connect_hint}."),
        },
    )
}

fn respond(s: &Session, status: StatusCode, notice: Option<&str>, markup: Markup) -> Response {
    (
        status,
        Html(page("User availability", Some(s), notice, markup).into_string()),
    )
        .into_response()
}

async fn show(
    st: AppState,
    s: Session,
    target: Target,
    notice: Option<String>,
) -> Result<Response, WebError> {
    let view = st
        .app
        .availability(&s.actor, target.user)
        .await
        .map_err(page_err)?;
    let c = PageCtx {
        s: &s,
        view: &view,
        target: &target,
        zoom: zoom_status(&st, &s, target.user).await,
    };
    let markup = body(
        &c,
        &HoursValues::from_view(&view),
        &LocationValues::from_view(&view),
        None,
        None,
    );
    Ok(respond(&s, StatusCode::OK, notice.as_deref(), markup))
}

async fn show_mine(
    State(st): State<AppState>,
    s: Session,
    HtmlQuery(n): HtmlQuery<Notice>,
) -> Result<Response, WebError> {
    let t = mine(&s);
    show(st, s, t, n.notice).await
}

async fn show_user(
    State(st): State<AppState>,
    s: Session,
    HtmlPath(raw): HtmlPath<String>,
    HtmlQuery(n): HtmlQuery<Notice>,
) -> Result<Response, WebError> {
    let t = theirs(&raw)?;
    show(st, s, t, n.notice).await
}

/// The page again with what was typed and what is wrong with it.
async fn refuse(
    st: &AppState,
    s: &Session,
    target: &Target,
    hours: Option<(&HoursValues, &str)>,
    location: Option<(&LocationValues, &str)>,
) -> Result<Response, WebError> {
    let view = st
        .app
        .availability(&s.actor, target.user)
        .await
        .map_err(page_err)?;
    let c = PageCtx {
        s,
        view: &view,
        target,
        zoom: zoom_status(st, s, target.user).await,
    };
    let stored_hours = HoursValues::from_view(&view);
    let stored_location = LocationValues::from_view(&view);
    let markup = body(
        &c,
        hours.map(|h| h.0).unwrap_or(&stored_hours),
        location.map(|l| l.0).unwrap_or(&stored_location),
        hours.map(|h| h.1),
        location.map(|l| l.1),
    );
    Ok(respond(s, StatusCode::UNPROCESSABLE_ENTITY, None, markup))
}

async fn save_hours(
    st: AppState,
    s: Session,
    target: Target,
    f: Pairs,
) -> Result<Response, WebError> {
    s.check_csrf(f.get("_csrf"))?;
    let values = HoursValues::from_form(&f);
    let (weekly, overrides) = match values.parse() {
        Ok(p) => p,
        Err(e) => return refuse(&st, &s, &target, Some((&values, &e)), None).await,
    };
    match st
        .app
        .set_availability(&s.actor, target.user, weekly, overrides)
        .await
    {
        Ok(_) => Ok(redirect_with_notice(&target.base, "Working hours saved.").into_response()),
        Err(AppError::Invalid { message, .. }) => {
            refuse(&st, &s, &target, Some((&values, &sentence(&message))), None).await
        }
        Err(e) => Err(page_err(e)),
    }
}

async fn save_location(
    st: AppState,
    s: Session,
    target: Target,
    f: Pairs,
) -> Result<Response, WebError> {
    s.check_csrf(f.get("_csrf"))?;
    let values = LocationValues::from_form(&f);
    let (kind, details) = match values.parse() {
        Ok(p) => p,
        Err(e) => return refuse(&st, &s, &target, None, Some((&values, &e))).await,
    };
    match st
        .app
        .set_meeting_location(&s.actor, target.user, kind, details)
        .await
    {
        Ok(_) => Ok(redirect_with_notice(&target.base, "Meeting location saved.").into_response()),
        Err(AppError::Invalid { message, .. }) => {
            refuse(&st, &s, &target, None, Some((&values, &sentence(&message)))).await
        }
        Err(e) => Err(page_err(e)),
    }
}

async fn save_mine(
    State(st): State<AppState>,
    s: Session,
    HtmlForm(f): HtmlForm<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let t = mine(&s);
    save_hours(st, s, t, Pairs(f)).await
}

async fn save_user(
    State(st): State<AppState>,
    s: Session,
    HtmlPath(raw): HtmlPath<String>,
    HtmlForm(f): HtmlForm<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let t = theirs(&raw)?;
    save_hours(st, s, t, Pairs(f)).await
}

async fn location_mine(
    State(st): State<AppState>,
    s: Session,
    HtmlForm(f): HtmlForm<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let t = mine(&s);
    save_location(st, s, t, Pairs(f)).await
}

async fn location_user(
    State(st): State<AppState>,
    s: Session,
    HtmlPath(raw): HtmlPath<String>,
    HtmlForm(f): HtmlForm<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let t = theirs(&raw)?;
    save_location(st, s, t, Pairs(f)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(days: [&str; 7], overrides: &str) -> HoursValues {
        HoursValues {
            days: days.map(str::to_string),
            overrides: overrides.into(),
        }
    }

    #[test]
    fn hours_parse_per_day() {
        let v = values(
            [
                "09:00-17:00",
                "09:00-12:00, 13:00-17:00",
                "",
                "off",
                "9:00-10:00",
                "",
                "",
            ],
            "2026-12-24 off\n\n2026-12-31 09:00-12:00",
        );
        let (w, o) = v.parse().unwrap();
        assert_eq!(
            w.to_string(),
            "mon 09:00-17:00; tue 09:00-12:00,13:00-17:00; fri 09:00-10:00"
        );
        assert_eq!(o.len(), 2);
        assert_eq!(o.get("2026-12-24".parse().unwrap()), Some(&[][..]));
    }

    #[test]
    fn hour_mistakes_name_the_day_or_line() {
        let e = values(["09:00-17:00", "nine to five", "", "", "", "", ""], "")
            .parse()
            .unwrap_err();
        assert!(e.starts_with("Tuesday:"), "{e}");
        let e = values(["", "", "", "", "", "", "10:00-12:00,11:00-13:00"], "")
            .parse()
            .unwrap_err();
        assert!(e.contains("overlapping"), "{e}");
        let e = values(
            ["", "", "", "", "", "", ""],
            "2026-12-24 off\nchristmas off",
        )
        .parse()
        .unwrap_err();
        assert!(e.starts_with("Date overrides, line 2:"), "{e}");
        let e = values(["", "", "", "", "", "", ""], "2026-12-24")
            .parse()
            .unwrap_err();
        assert!(e.contains("'off'"), "{e}");
        let e = values(
            ["", "", "", "", "", "", ""],
            "2026-12-24 off\n2026-12-24 09:00-10:00",
        )
        .parse()
        .unwrap_err();
        assert!(e.contains("twice"), "{e}");
    }

    #[test]
    fn location_needs_a_kind_and_valid_details() {
        let loc = |kind: &str, url: &str| LocationValues {
            kind: kind.into(),
            url: url.into(),
            dial_in: String::new(),
            phone: String::new(),
            address: String::new(),
        };
        assert!(loc("", "").parse().is_err());
        assert!(loc("teams", "").parse().is_err());
        assert_eq!(
            loc("zoom", "").parse().unwrap(),
            (MeetingLocationKind::Zoom, None)
        );
        assert!(loc("manual", "http://insecure.example").parse().is_err());
        let (k, d) = loc("manual", "https://meet.example.com/me")
            .parse()
            .unwrap();
        assert_eq!(k, MeetingLocationKind::Manual);
        assert!(d.is_some());
    }
}
