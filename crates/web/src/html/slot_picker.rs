//! The month → day → time picker shared by the public booking page, the invitee's
//! reschedule page and a host's reschedule page: which days of a month have free
//! times, and the free times of the chosen day, all in the viewer's time zone.
//!
//! The month is read in the viewer's zone, so its slots are asked for from local
//! midnight on the 1st to local midnight on the 1st of the next month (at most 31 days,
//! well under the 62-day limit of `App::slots`).

use crate::error::WebError;
use convene_domain::schedule::TeamSlot;
use convene_domain::TimeZoneName;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use maud::{html, Markup, PreEscaped};
use std::collections::BTreeMap;

/// What the viewer is looking at: a month, maybe a day of it, in a time zone.
#[derive(Debug, Clone)]
pub struct Picker {
    pub tz_name: String,
    pub tz: TimeZone,
    /// False when the zone was a fallback: the page then asks the browser for its zone.
    pub tz_known: bool,
    /// The 1st of the month shown.
    pub month: Date,
    pub date: Option<Date>,
    /// The 1st of the current month in the viewer's zone (no going back before it).
    pub this_month: Date,
}

fn bad(code: &'static str, message: String) -> WebError {
    WebError::bad_request(code, message).html()
}

fn clip(s: &str) -> String {
    s.chars().take(40).collect()
}

/// `YYYY-MM-DD`, refusing anything else.
pub fn parse_date(raw: &str) -> Result<Date, WebError> {
    let s = raw.trim();
    let shape = s.len() == 10
        && s.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    match s.parse::<Date>() {
        Ok(d) if shape && (1900..=2200).contains(&d.year()) => Ok(d),
        _ => Err(bad(
            "invalid_date",
            format!("'{}' is not a date (expected YYYY-MM-DD)", clip(s)),
        )),
    }
}

fn parse_month(raw: &str) -> Result<Date, WebError> {
    let s = raw.trim();
    if s.len() != 7 {
        return Err(bad(
            "invalid_month",
            format!("'{}' is not a month (expected YYYY-MM)", clip(s)),
        ));
    }
    parse_date(&format!("{s}-01")).map_err(|_| {
        bad(
            "invalid_month",
            format!("'{}' is not a month (expected YYYY-MM)", clip(s)),
        )
    })
}

/// A meeting start as sent back by a slot link or form: RFC 3339.
pub fn parse_start(raw: &str) -> Result<Timestamp, WebError> {
    raw.trim().parse::<Timestamp>().map_err(|_| {
        bad(
            "invalid_start",
            format!(
                "'{}' is not a meeting time (expected an RFC 3339 time such as 2026-12-01T15:00:00Z)",
                clip(raw)
            ),
        )
    })
}

/// A zone name from the query; unknown names are a 400.
pub fn parse_tz(raw: &str) -> Result<(String, TimeZone), WebError> {
    let name = TimeZoneName::parse(raw)
        .map_err(|e| bad("invalid_time_zone", e.to_string()))?
        .as_str()
        .to_string();
    let tz = TimeZone::get(&name).map_err(|_| {
        bad(
            "invalid_time_zone",
            format!("unknown time zone '{}'", clip(&name)),
        )
    })?;
    Ok((name, tz))
}

fn non_empty(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

impl Picker {
    /// Reads `?month=YYYY-MM&date=YYYY-MM-DD&tz=Zone`. Without a zone, `default_tz` is
    /// used (UTC when there is none, and the page asks the browser for its zone).
    pub fn parse(
        month: Option<&str>,
        date: Option<&str>,
        tz: Option<&str>,
        default_tz: Option<&str>,
        now: Timestamp,
    ) -> Result<Self, WebError> {
        let (tz_name, tz, tz_known) = match (non_empty(tz), non_empty(default_tz)) {
            (Some(t), _) => {
                let (n, z) = parse_tz(t)?;
                (n, z, true)
            }
            (None, Some(d)) => match parse_tz(d) {
                Ok((n, z)) => (n, z, true),
                Err(_) => ("UTC".to_string(), TimeZone::UTC, false),
            },
            (None, None) => ("UTC".to_string(), TimeZone::UTC, false),
        };
        let date = non_empty(date).map(parse_date).transpose()?;
        let this_month = now.to_zoned(tz.clone()).date().first_of_month();
        let month = match (non_empty(month), date) {
            (Some(m), _) => parse_month(m)?,
            (None, Some(d)) => d.first_of_month(),
            (None, None) => this_month,
        };
        // A day outside the month shown is not shown.
        let date = date.filter(|d| d.first_of_month() == month);
        Ok(Self {
            tz_name,
            tz,
            tz_known,
            month,
            date,
            this_month,
        })
    }

    /// The month in absolute time: [local midnight of the 1st, of the next 1st).
    pub fn range(&self) -> Result<(Timestamp, Timestamp), WebError> {
        let out_of_range = || bad("invalid_month", "that month is out of range".into());
        let next = self
            .month
            .checked_add(1.month())
            .map_err(|_| out_of_range())?;
        let from = self
            .month
            .to_zoned(self.tz.clone())
            .map_err(|_| out_of_range())?;
        let to = next.to_zoned(self.tz.clone()).map_err(|_| out_of_range())?;
        Ok((from.timestamp(), to.timestamp()))
    }

    /// Shows the day of `start` (after a refused booking, for instance).
    pub fn at(mut self, start: Timestamp) -> Self {
        let d = start.to_zoned(self.tz.clone()).date();
        self.month = d.first_of_month();
        self.date = Some(d);
        self
    }

    /// The query string for a month and day in this zone.
    pub fn query(&self, month: Date, date: Option<Date>) -> String {
        let mut q = format!("?month={}", month.strftime("%Y-%m"));
        if let Some(d) = date {
            q.push_str(&format!("&date={d}"));
        }
        q.push_str(&format!("&tz={}", crate::auth::urlencode(&self.tz_name)));
        q
    }

    /// "Tuesday, 1 December 2026 at 15:00" in the viewer's zone.
    pub fn describe(&self, start: Timestamp) -> String {
        start
            .to_zoned(self.tz.clone())
            .strftime("%A, %-d %B %Y at %H:%M")
            .to_string()
    }
}

/// What choosing a time does.
pub enum SlotAction<'a> {
    /// Each time links to the booking form: `{form_path}?start=…&tz=…`.
    Form { form_path: &'a str },
    /// Choosing a time posts `start` to `action` (with the page's CSRF token). Without
    /// JavaScript each time links to a confirmation page (`{base}?…&start=…`).
    Post { action: &'a str, csrf: &'a str },
}

const PICKER_STYLE: &str = "#days,#slots{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:8px}\
#days a,#slots a{display:inline-block;padding:6px 12px;border:1px solid #c7d2fe;border-radius:6px;text-decoration:none;background:#fff}\
#days a.selected{background:#2563eb;color:#fff;border-color:#2563eb}#slots a{min-width:76px;text-align:center;font-weight:600}\
.month-nav{display:flex;gap:14px;align-items:center;margin:14px 0}.month-nav h2{margin:0}\
#tz-form{display:flex;gap:8px;align-items:end;max-width:520px}#tz-form select{flex:1}";

/// On a first visit (no zone in the address), reload once with the browser's zone.
const DETECT_TZ: &str = "(function(){try{var z=Intl.DateTimeFormat().resolvedOptions().timeZone;var u=new URL(location.href);if(z&&!u.searchParams.get('tz')){u.searchParams.set('tz',z);location.replace(u.toString());}}catch(e){}})();";

/// Choosing a time posts it right away.
const POST_ON_CLICK: &str = "(function(){var f=document.getElementById('slot-post');if(!f)return;var as=document.querySelectorAll('#slots a.slot');for(var i=0;i<as.length;i++){as[i].addEventListener('click',function(e){e.preventDefault();f.elements['start'].value=this.getAttribute('data-start');f.submit();});}})();";

/// A `<select id="tz-select" name="tz">` of every zone, preselecting `current`.
pub fn tz_select(current: &str) -> Markup {
    let mut zones: Vec<String> = jiff::tz::db().available().map(|z| z.to_string()).collect();
    if !zones.iter().any(|z| z == current) {
        zones.push(current.to_string());
    }
    zones.sort();
    html! {
        select #tz-select name="tz" onchange="this.form.submit()" {
            @for z in &zones { option value=(z) selected[z == current] { (z) } }
        }
    }
}

/// The picker: time-zone choice, month navigation, `#days`, and `#slots` of the chosen
/// day. `base` is the page's own path; `error` is shown above the days.
pub fn render(
    base: &str,
    p: &Picker,
    slots: &[TeamSlot],
    action: SlotAction<'_>,
    error: Option<&str>,
) -> Markup {
    let mut days: BTreeMap<Date, Vec<Timestamp>> = BTreeMap::new();
    for s in slots {
        let d = s.start.to_zoned(p.tz.clone()).date();
        if d.first_of_month() == p.month {
            days.entry(d).or_default().push(s.start);
        }
    }
    let prev = p
        .month
        .checked_sub(1.month())
        .ok()
        .filter(|m| *m >= p.this_month);
    let next = p.month.checked_add(1.month()).ok();
    let chosen: Vec<Timestamp> = p
        .date
        .and_then(|d| days.get(&d).cloned())
        .unwrap_or_default();
    html! {
        div #picker {
            style { (PreEscaped(PICKER_STYLE)) }
            @if !p.tz_known { script { (PreEscaped(DETECT_TZ)) } }
            form #tz-form method="get" action=(base) {
                input type="hidden" name="month" value=(p.month.strftime("%Y-%m"));
                @if let Some(d) = p.date { input type="hidden" name="date" value=(d); }
                div {
                    label for="tz-select" { "Times are shown in" }
                    (tz_select(&p.tz_name))
                }
                noscript { button.secondary type="submit" { "Change" } }
            }
            @if let Some(e) = error { p.alert role="alert" #slot-error { (e) } }
            div.month-nav {
                @if let Some(m) = prev { a #prev-month href=(format!("{base}{}", p.query(m, None))) { "← Previous month" } }
                h2 #month data-month=(p.month.strftime("%Y-%m")) { (p.month.strftime("%B %Y")) }
                @if let Some(m) = next { a #next-month href=(format!("{base}{}", p.query(m, None))) { "Next month →" } }
            }
            @if days.is_empty() {
                p.muted #no-days { "No free times in " (p.month.strftime("%B %Y")) ". Try the next month." }
            }
            ul #days {
                @for (d, times) in &days {
                    li {
                        a.day.selected[p.date == Some(*d)] href=(format!("{base}{}", p.query(p.month, Some(*d)))) data-date=(d) {
                            (d.strftime("%a %-d %b")) " " span.muted { "(" (times.len()) ")" }
                        }
                    }
                }
            }
            @if let Some(d) = p.date {
                h2 #day data-date=(d) { (d.strftime("%A, %-d %B %Y")) }
                @if chosen.is_empty() { p.muted #no-slots { "No free times on this day. Please pick another day." } }
                ul #slots {
                    @for t in &chosen {
                        li { a.slot href=(slot_href(base, p, &action, *t)) data-start=(t) { (t.to_zoned(p.tz.clone()).strftime("%H:%M")) } }
                    }
                }
            } @else if !days.is_empty() {
                p.muted { "Choose a day to see its times." }
            }
            @if let SlotAction::Post { action, csrf } = &action {
                form #slot-post method="post" action=(action) hidden {
                    input type="hidden" name="_csrf" value=(csrf);
                    input type="hidden" name="start" value="";
                    input type="hidden" name="tz" value=(p.tz_name);
                }
                script { (PreEscaped(POST_ON_CLICK)) }
            }
        }
    }
}

fn slot_href(base: &str, p: &Picker, action: &SlotAction<'_>, t: Timestamp) -> String {
    let start = crate::auth::urlencode(&t.to_string());
    let tz = crate::auth::urlencode(&p.tz_name);
    match action {
        SlotAction::Form { form_path } => format!("{form_path}?start={start}&tz={tz}"),
        SlotAction::Post { .. } => format!("{base}{}&start={start}", p.query(p.month, p.date)),
    }
}

/// "Move the meeting to …?" for a time chosen without JavaScript.
pub fn confirm_reschedule(
    action: &str,
    csrf: &str,
    p: &Picker,
    start: Timestamp,
    back: &str,
) -> Markup {
    html! {
        div.card #confirm-reschedule-card {
            h2 { "Move the meeting to " (p.describe(start)) " (" (p.tz_name) ")?" }
            form #reschedule-form method="post" action=(action) {
                input type="hidden" name="_csrf" value=(csrf);
                input type="hidden" name="start" value=(start);
                input type="hidden" name="tz" value=(p.tz_name);
                button #confirm-reschedule type="submit" { "Reschedule" }
                " " a href=(back) { "Pick another time" }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn month_range_is_local_midnights() {
        let now = ts("2026-11-20T12:00:00Z");
        let p = Picker::parse(Some("2026-12"), None, Some("Europe/Berlin"), None, now).unwrap();
        let (from, to) = p.range().unwrap();
        assert_eq!(from, ts("2026-11-30T23:00:00Z"));
        assert_eq!(to, ts("2026-12-31T23:00:00Z"));
        assert!(p.tz_known);
    }

    #[test]
    fn defaults_and_fallbacks() {
        let now = ts("2026-11-30T23:30:00Z");
        let p = Picker::parse(None, None, None, None, now).unwrap();
        assert_eq!(p.tz_name, "UTC");
        assert!(!p.tz_known);
        assert_eq!(p.month, "2026-11-01".parse::<Date>().unwrap());
        // Already December in Berlin.
        let p = Picker::parse(None, Some(""), None, Some("Europe/Berlin"), now).unwrap();
        assert_eq!(p.month, "2026-12-01".parse::<Date>().unwrap());
        let p = Picker::parse(None, Some("2027-01-05"), Some("UTC"), None, now).unwrap();
        assert_eq!(p.month, "2027-01-01".parse::<Date>().unwrap());
        assert_eq!(
            p.query(p.month, p.date),
            "?month=2027-01&date=2027-01-05&tz=UTC"
        );
    }

    #[test]
    fn junk_is_a_400() {
        let now = ts("2026-11-20T12:00:00Z");
        for (m, d, tz) in [
            (Some("2026-13"), None, None),
            (Some("december"), None, None),
            (None, Some("2026-02-30"), None),
            (None, Some("20261201"), None),
            (None, None, Some("Mars/Olympus")),
        ] {
            let e = Picker::parse(m, d, tz, None, now).unwrap_err();
            assert_eq!(e.status, axum::http::StatusCode::BAD_REQUEST);
        }
        assert!(parse_start("tomorrow").is_err());
        assert_eq!(
            parse_start("2026-12-01T16:00:00+01:00").unwrap(),
            ts("2026-12-01T15:00:00Z")
        );
    }

    #[test]
    fn days_and_slots_are_local() {
        let now = ts("2026-11-20T12:00:00Z");
        let p = Picker::parse(
            Some("2026-12"),
            Some("2026-12-02"),
            Some("America/New_York"),
            None,
            now,
        )
        .unwrap();
        let slot = |s: &str| TeamSlot {
            start: ts(s),
            end: ts(s),
            hosts: vec![],
        };
        // 02:00Z on the 3rd is still the 2nd in New York.
        let html = render(
            "/book/acme/intro",
            &p,
            &[slot("2026-12-03T02:00:00Z"), slot("2026-12-03T15:00:00Z")],
            SlotAction::Form {
                form_path: "/book/acme/intro/form",
            },
            None,
        )
        .into_string();
        assert!(html.contains(r#"data-date="2026-12-02""#));
        assert!(html.contains(r#"data-date="2026-12-03""#));
        assert!(html.contains(r#"data-start="2026-12-03T02:00:00Z""#));
        assert!(html.contains(">21:00<"));
        assert!(!html.contains(r#"data-start="2026-12-03T15:00:00Z""#));
        assert!(html.contains(
            "/book/acme/intro/form?start=2026-12-03T02%3A00%3A00Z&amp;tz=America%2FNew_York"
        ));
    }
}
