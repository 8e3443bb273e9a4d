//! The little iCalendar (RFC 5545) the CalDAV adapter needs: reading events into busy
//! times, and writing the one VEVENT Convene stores per booking. Private to `caldav`.
//!
//! Reading is a small content-line parser (unfolding, parameters with quoted values,
//! escaped text) that builds a component tree, then turns each VEVENT into spans:
//! `DTSTART` in UTC (`Z`), in a `TZID` (resolved with jiff's time zone database, so
//! DST is right), floating (read as UTC) or a `DATE` (all-day: whole UTC days);
//! `DTEND`, else `DURATION`, else the RFC's defaults (one day for a date, nothing for
//! a date-time). `TRANSP:TRANSPARENT` and `STATUS:CANCELLED` events are not busy.
//!
//! Recurrence: the adapter asks the server to expand recurring events, and servers
//! that do send plain instances. For a server that does not, a master VEVENT with an
//! `RRULE` is expanded here: `FREQ=DAILY|WEEKLY` with `INTERVAL`, `COUNT`, `UNTIL`,
//! `BYDAY` (plain weekdays) and `WKST`, plus `FREQ=MONTHLY|YEARLY` without `BY*`
//! parts, `RDATE`, `EXDATE` and overridden instances (`RECURRENCE-ID`). Any other rule
//! is an error, never "no busy time": a rule read wrongly would show a busy host as
//! free and let invitees book over their meetings.
//!
//! Every malformed input is an [`IcalError`], never a panic; the number of busy spans
//! and the work spent walking a rule are bounded.

use crate::calendar::{BusyTime, EventDraft};
use jiff::civil::{Date, DateTime, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Span, Timestamp, Zoned};
use std::collections::HashSet;

/// Components nest this deep at most (VCALENDAR > VEVENT > VALARM is 3); deeper input
/// is refused rather than followed.
const MAX_DEPTH: usize = 16;
/// How many periods (days, weeks, months, years) one rule may be walked through; a
/// daily rule from the year 1 to now is about 740,000.
const MAX_RULE_STEPS: u64 = 2_000_000;
/// Content lines are cut at 75 octets when written (RFC 5545 §3.1).
const FOLD_OCTETS: usize = 75;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(super) enum IcalError {
    #[error("the calendar data is not valid iCalendar: {0}")]
    Invalid(String),
    #[error("{0}: Convene cannot read this calendar's busy times safely")]
    Unsupported(String),
    #[error("more than {0} busy events in the requested window")]
    TooManyInstances(usize),
}

fn invalid(why: impl Into<String>) -> IcalError {
    IcalError::Invalid(why.into())
}

// ------------------------------------------------------------------ parsing

/// A component (`VCALENDAR`, `VEVENT`, `VALARM`, …) with its properties and children.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Component {
    /// Upper case.
    pub name: String,
    pub props: Vec<Property>,
    pub children: Vec<Component>,
}

impl Component {
    pub fn prop(&self, name: &str) -> Option<&Property> {
        self.props.iter().find(|p| p.name == name)
    }

    pub fn props_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Property> {
        self.props.iter().filter(move |p| p.name == name)
    }
}

/// One content line: `NAME;PARAM=value:VALUE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Property {
    /// Upper case.
    pub name: String,
    /// Names upper case; values without their quotes, multiple values joined by `,`.
    pub params: Vec<(String, String)>,
    /// As written (still escaped for TEXT values).
    pub value: String,
}

impl Property {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The value as TEXT, with `\\`, `\;`, `\,` and `\n` unescaped.
    pub fn text(&self) -> String {
        unescape_text(&self.value)
    }
}

/// Parses an iCalendar stream into its top-level components.
pub(super) fn parse(text: &str) -> Result<Vec<Component>, IcalError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut roots = Vec::new();
    let mut stack: Vec<Component> = Vec::new();
    for (index, line) in unfold(text).iter().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let prop = parse_line(line)
            .map_err(|why| invalid(format!("content line {}: {why}", index + 1)))?;
        match prop.name.as_str() {
            "BEGIN" => {
                if stack.len() >= MAX_DEPTH {
                    return Err(invalid("components nest too deeply"));
                }
                stack.push(Component {
                    name: prop.value.trim().to_ascii_uppercase(),
                    ..Component::default()
                });
            }
            "END" => {
                let name = prop.value.trim().to_ascii_uppercase();
                let done = stack
                    .pop()
                    .ok_or_else(|| invalid(format!("END:{name} without a BEGIN")))?;
                if done.name != name {
                    return Err(invalid(format!(
                        "BEGIN:{} is closed by END:{name}",
                        done.name
                    )));
                }
                match stack.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None => roots.push(done),
                }
            }
            _ => stack
                .last_mut()
                .ok_or_else(|| invalid(format!("{} outside any component", prop.name)))?
                .props
                .push(prop),
        }
    }
    if let Some(open) = stack.last() {
        return Err(invalid(format!("BEGIN:{} is never closed", open.name)));
    }
    Ok(roots)
}

/// Joins folded lines: a line starting with a space or tab continues the previous one
/// (RFC 5545 §3.1). Accepts CRLF and bare LF.
fn unfold(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for raw in text.split('\n') {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        match (raw.strip_prefix([' ', '\t']), lines.last_mut()) {
            (Some(rest), Some(previous)) => previous.push_str(rest),
            _ => lines.push(raw.to_owned()),
        }
    }
    lines
}

fn parse_line(line: &str) -> Result<Property, String> {
    let bytes = line.as_bytes();
    let name_end = line
        .find([';', ':'])
        .ok_or_else(|| "no ':' between name and value".to_owned())?;
    let name = &line[..name_end];
    if !is_name(name) {
        return Err(format!("{name:?} is not a property name"));
    }
    let mut params = Vec::new();
    let mut pos = name_end;
    // Every delimiter is ASCII, so `pos` always sits on a char boundary.
    while bytes.get(pos) == Some(&b';') {
        pos += 1;
        let eq = line[pos..]
            .find('=')
            .map(|i| pos + i)
            .ok_or_else(|| format!("a parameter of {name} has no '='"))?;
        let param_name = &line[pos..eq];
        if !is_name(param_name) {
            return Err(format!("{param_name:?} is not a parameter name"));
        }
        pos = eq + 1;
        let mut value = String::new();
        loop {
            if bytes.get(pos) == Some(&b'"') {
                let close = line[pos + 1..]
                    .find('"')
                    .map(|i| pos + 1 + i)
                    .ok_or_else(|| format!("an unclosed quote in {name}"))?;
                value.push_str(&line[pos + 1..close]);
                pos = close + 1;
            } else {
                let end = line[pos..]
                    .find([',', ';', ':'])
                    .map_or(line.len(), |i| pos + i);
                value.push_str(&line[pos..end]);
                pos = end;
            }
            if bytes.get(pos) == Some(&b',') {
                value.push(',');
                pos += 1;
            } else {
                break;
            }
        }
        params.push((param_name.to_ascii_uppercase(), value));
    }
    if bytes.get(pos) != Some(&b':') {
        return Err(format!("no ':' after the parameters of {name}"));
    }
    Ok(Property {
        name: name.to_ascii_uppercase(),
        params,
        value: line[pos + 1..].to_owned(),
    })
}

fn is_name(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

fn unescape_text(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n' | 'N') => out.push('\n'),
            Some(other @ ('\\' | ';' | ',' | ':' | '"')) => out.push(other),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

// ------------------------------------------------------------------ time values

/// A DATE or DATE-TIME value (DTSTART, DTEND, EXDATE, RDATE, RECURRENCE-ID, UNTIL).
#[derive(Debug, Clone)]
enum Moment {
    Date(Date),
    Utc(Timestamp),
    Local(DateTime, TimeZone),
    /// No zone: read as UTC, since Convene has no better guess for the calendar's
    /// owner than the server's answer.
    Floating(DateTime),
}

impl Moment {
    /// The zone instances of a rule are computed in.
    fn frame(&self) -> TimeZone {
        match self {
            Self::Local(_, tz) => tz.clone(),
            _ => TimeZone::UTC,
        }
    }

    fn civil(&self) -> DateTime {
        match self {
            Self::Date(d) => d.to_datetime(Time::midnight()),
            Self::Utc(ts) => ts.to_zoned(TimeZone::UTC).datetime(),
            Self::Local(dt, _) | Self::Floating(dt) => *dt,
        }
    }

    fn zoned(&self) -> Result<Zoned, IcalError> {
        resolve(&self.frame(), self.civil())
    }

    fn instant(&self) -> Result<Timestamp, IcalError> {
        Ok(self.zoned()?.timestamp())
    }
}

/// A civil time in `tz`; a time skipped by DST moves forward by the gap and a repeated
/// one takes its first occurrence, as RFC 5545 §3.3.5 asks.
fn resolve(tz: &TimeZone, dt: DateTime) -> Result<Zoned, IcalError> {
    tz.to_ambiguous_zoned(dt)
        .compatible()
        .map_err(|e| invalid(format!("{dt} cannot be placed in its time zone: {e}")))
}

/// The values of a date/date-time property (`EXDATE` may list several).
fn moments(
    prop: &Property,
    frame_for_floating: Option<&TimeZone>,
) -> Result<Vec<Moment>, IcalError> {
    if prop
        .param("VALUE")
        .is_some_and(|v| v.eq_ignore_ascii_case("PERIOD"))
    {
        return Err(IcalError::Unsupported(format!(
            "an event uses {} with periods",
            prop.name
        )));
    }
    let tz = match prop.param("TZID") {
        Some(id) => Some(time_zone(id)?),
        None => None,
    };
    let date_only = prop
        .param("VALUE")
        .is_some_and(|v| v.eq_ignore_ascii_case("DATE"));
    prop.value
        .split(',')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(|v| {
            if date_only || v.len() == 8 {
                return parse_date(v).map(Moment::Date);
            }
            if let Some(utc) = v.strip_suffix(['Z', 'z']) {
                let dt = parse_datetime(utc)?;
                return Ok(Moment::Utc(resolve(&TimeZone::UTC, dt)?.timestamp()));
            }
            let dt = parse_datetime(v)?;
            Ok(match (&tz, frame_for_floating) {
                (Some(tz), _) => Moment::Local(dt, tz.clone()),
                (None, Some(frame)) => Moment::Local(dt, frame.clone()),
                (None, None) => Moment::Floating(dt),
            })
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| match e {
            IcalError::Invalid(why) => invalid(format!("{}: {why}", prop.name)),
            other => other,
        })
}

fn one_moment(prop: &Property) -> Result<Moment, IcalError> {
    moments(prop, None)?
        .into_iter()
        .next()
        .ok_or_else(|| invalid(format!("{} has no value", prop.name)))
}

/// A `TZID` as an IANA name. Old Mozilla clients prefix it
/// (`/mozilla.org/20050126_1/Europe/Berlin`); the name is then its tail.
fn time_zone(id: &str) -> Result<TimeZone, IcalError> {
    let id = id.trim();
    if let Ok(tz) = TimeZone::get(id) {
        return Ok(tz);
    }
    let mut rest = id;
    while let Some(i) = rest.find('/') {
        rest = &rest[i + 1..];
        if let Ok(tz) = TimeZone::get(rest) {
            return Ok(tz);
        }
    }
    Err(IcalError::Unsupported(format!(
        "an event uses the time zone {id:?}, which is not an IANA time zone name"
    )))
}

fn digits(s: &str) -> Result<i64, IcalError> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid(format!("{s:?} is not a number")));
    }
    s.parse()
        .map_err(|_| invalid(format!("{s:?} is not a number")))
}

/// `YYYYMMDD`.
fn parse_date(v: &str) -> Result<Date, IcalError> {
    if v.len() != 8 || !v.is_ascii() {
        return Err(invalid(format!("{v:?} is not a date")));
    }
    let (y, m, d) = (digits(&v[..4])?, digits(&v[4..6])?, digits(&v[6..8])?);
    let (Ok(y), Ok(m), Ok(d)) = (i16::try_from(y), i8::try_from(m), i8::try_from(d)) else {
        return Err(invalid(format!("{v:?} is not a date")));
    };
    Date::new(y, m, d).map_err(|_| invalid(format!("{v:?} is not a date")))
}

/// `YYYYMMDDTHHMMSS` (no zone suffix).
fn parse_datetime(v: &str) -> Result<DateTime, IcalError> {
    let bad = || invalid(format!("{v:?} is not a date-time"));
    if v.len() != 15 || !v.is_ascii() || !v[8..9].eq_ignore_ascii_case("T") {
        return Err(bad());
    }
    let date = parse_date(&v[..8])?;
    let (h, m, s) = (digits(&v[9..11])?, digits(&v[11..13])?, digits(&v[13..15])?);
    // A leap second (:60) is read as :59.
    let s = s.min(59);
    let (Ok(h), Ok(m), Ok(s)) = (i8::try_from(h), i8::try_from(m), i8::try_from(s)) else {
        return Err(bad());
    };
    let time = Time::new(h, m, s, 0).map_err(|_| bad())?;
    Ok(date.to_datetime(time))
}

// ------------------------------------------------------------------ events

/// How long each instance lasts.
#[derive(Debug, Clone, Copy)]
enum Length {
    /// From `DTEND - DTSTART` of date-times: the same elapsed time for every instance.
    Exact(SignedDuration),
    /// From `DURATION` or all-day `DTEND`: days are calendar days (23 or 25 hours
    /// across a DST change).
    Nominal(Span),
}

impl Length {
    fn end_from(&self, start: &Zoned) -> Result<Timestamp, IcalError> {
        let end = match self {
            Self::Exact(d) => start.timestamp().checked_add(*d).ok(),
            Self::Nominal(span) => start.checked_add(*span).ok().map(|z| z.timestamp()),
        };
        end.ok_or_else(|| invalid("an event ends out of range"))
    }
}

struct Event {
    uid: Option<String>,
    start: Moment,
    length: Length,
    recurrence_id: Option<Moment>,
    /// `TRANSP:TRANSPARENT` or `STATUS:CANCELLED`.
    free: bool,
    rule: Option<Rule>,
    rdates: Vec<Moment>,
    exdates: Vec<Moment>,
}

impl Event {
    fn read(c: &Component) -> Result<Self, IcalError> {
        // UID is TEXT: `a\,b` and `a,b` are the same event.
        let uid = c.prop("UID").map(|p| p.text().trim().to_owned());
        let which = || uid.as_deref().unwrap_or("(no UID)").to_owned();
        let start = one_moment(
            c.prop("DTSTART")
                .ok_or_else(|| invalid(format!("the event {} has no DTSTART", which())))?,
        )?;
        let length = match (c.prop("DTEND"), c.prop("DURATION")) {
            (Some(end), _) => length_until(&start, &one_moment(end)?)
                .map_err(|why| invalid(format!("the event {}: {why}", which())))?,
            (None, Some(duration)) => {
                let span: Span = duration.value.trim().parse().map_err(|_| {
                    invalid(format!(
                        "the event {} has the DURATION {:?}",
                        which(),
                        duration.value
                    ))
                })?;
                if span.is_negative() {
                    return Err(invalid(format!(
                        "the event {} lasts less than nothing",
                        which()
                    )));
                }
                Length::Nominal(span)
            }
            (None, None) => match start {
                Moment::Date(_) => Length::Nominal(Span::new().days(1)),
                _ => Length::Exact(SignedDuration::ZERO),
            },
        };
        let is = |name: &str, value: &str| {
            c.prop(name)
                .is_some_and(|p| p.value.trim().eq_ignore_ascii_case(value))
        };
        let free = is("TRANSP", "TRANSPARENT") || is("STATUS", "CANCELLED");
        let mut rules = c.props_named("RRULE");
        let rule = match (rules.next(), rules.next()) {
            (None, _) => None,
            (Some(r), None) => Some(Rule::parse(&r.value, &start)?),
            (Some(_), Some(_)) => {
                return Err(IcalError::Unsupported("an event has several RRULEs".into()))
            }
        };
        let frame = start.frame();
        let floating_frame = matches!(start, Moment::Local(..)).then_some(&frame);
        let mut rdates = Vec::new();
        for p in c.props_named("RDATE") {
            rdates.extend(moments(p, floating_frame)?);
        }
        let mut exdates = Vec::new();
        for p in c.props_named("EXDATE") {
            exdates.extend(moments(p, floating_frame)?);
        }
        let recurrence_id = c.prop("RECURRENCE-ID").map(one_moment).transpose()?;
        Ok(Self {
            uid,
            start,
            length,
            recurrence_id,
            free,
            rule,
            rdates,
            exdates,
        })
    }

    fn is_recurring(&self) -> bool {
        self.rule.is_some() || !self.rdates.is_empty()
    }
}

fn length_until(start: &Moment, end: &Moment) -> Result<Length, String> {
    if let (Moment::Date(s), Moment::Date(e)) = (start, end) {
        let days = s
            .until(*e)
            .map_err(|e| format!("its dates cannot be compared: {e}"))?
            .get_days();
        // DTEND on the start date is wrong (it is exclusive), but reading it as "no
        // time" would make the day look free: take the day.
        return Ok(Length::Nominal(Span::new().days(days.max(1))));
    }
    let (s, e) = (
        start.instant().map_err(|e| e.to_string())?,
        end.instant().map_err(|e| e.to_string())?,
    );
    if e < s {
        return Err("it ends before it starts".into());
    }
    Ok(Length::Exact(e.duration_since(s)))
}

// ------------------------------------------------------------------ recurrence rules

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Freq {
    Daily,
    Weekly,
    Monthly,
    Yearly,
}

#[derive(Debug, Clone)]
struct Rule {
    freq: Freq,
    interval: i64,
    count: Option<u64>,
    until: Option<Moment>,
    byday: Vec<Weekday>,
    wkst: Weekday,
}

impl Rule {
    fn parse(value: &str, start: &Moment) -> Result<Self, IcalError> {
        let unsupported = |what: &str| {
            IcalError::Unsupported(format!(
                "a recurring event uses {what} (RRULE:{value}), which Convene cannot expand"
            ))
        };
        let mut freq = None;
        let mut rule = Rule {
            freq: Freq::Daily,
            interval: 1,
            count: None,
            until: None,
            byday: Vec::new(),
            wkst: Weekday::Monday,
        };
        for part in value.trim().split(';').filter(|p| !p.is_empty()) {
            let (key, val) = part
                .split_once('=')
                .ok_or_else(|| invalid(format!("RRULE:{value} has the part {part:?}")))?;
            let val = val.trim();
            match key.trim().to_ascii_uppercase().as_str() {
                "FREQ" => {
                    freq = Some(match val.to_ascii_uppercase().as_str() {
                        "DAILY" => Freq::Daily,
                        "WEEKLY" => Freq::Weekly,
                        "MONTHLY" => Freq::Monthly,
                        "YEARLY" => Freq::Yearly,
                        other => return Err(unsupported(&format!("FREQ={other}"))),
                    })
                }
                "INTERVAL" => {
                    rule.interval = digits(val)?;
                    if rule.interval < 1 {
                        return Err(invalid(format!("RRULE:{value} has INTERVAL=0")));
                    }
                }
                "COUNT" => {
                    rule.count = Some(
                        u64::try_from(digits(val)?)
                            .map_err(|_| invalid(format!("RRULE:{value}: bad COUNT")))?,
                    )
                }
                "UNTIL" => {
                    let frame = start.frame();
                    let floating = matches!(start, Moment::Local(..)).then_some(&frame);
                    let p = Property {
                        name: "UNTIL".into(),
                        params: Vec::new(),
                        value: val.to_owned(),
                    };
                    rule.until = moments(&p, floating)?.into_iter().next();
                }
                "BYDAY" => {
                    for day in val.split(',') {
                        rule.byday.push(
                            weekday(day).ok_or_else(|| unsupported(&format!("BYDAY={day}")))?,
                        );
                    }
                }
                "WKST" => rule.wkst = weekday(val).ok_or_else(|| invalid(format!("WKST={val}")))?,
                other => return Err(unsupported(other)),
            }
        }
        rule.freq = freq.ok_or_else(|| invalid(format!("RRULE:{value} has no FREQ")))?;
        if !rule.byday.is_empty() && matches!(rule.freq, Freq::Monthly | Freq::Yearly) {
            return Err(unsupported("BYDAY"));
        }
        Ok(rule)
    }

    /// The dates of period `k` (0 = the one holding DTSTART), in order, and the first
    /// day of the period; `None` past the end of the calendar.
    fn period(&self, first: Date, k: i64) -> Option<(Date, Vec<Date>)> {
        let step = k.checked_mul(self.interval)?;
        match self.freq {
            Freq::Daily => {
                let day = add_days(first, step)?;
                let keep = self.byday.is_empty() || self.byday.contains(&day.weekday());
                Some((day, if keep { vec![day] } else { Vec::new() }))
            }
            Freq::Weekly => {
                let week = add_days(week_start(first, self.wkst), step.checked_mul(7)?)?;
                let mut offsets: Vec<i64> = if self.byday.is_empty() {
                    vec![days_after(first.weekday(), self.wkst)]
                } else {
                    self.byday
                        .iter()
                        .map(|d| days_after(*d, self.wkst))
                        .collect()
                };
                offsets.sort_unstable();
                offsets.dedup();
                let dates = offsets
                    .into_iter()
                    .filter_map(|o| add_days(week, o))
                    .collect();
                Some((week, dates))
            }
            Freq::Monthly => {
                let months = i64::from(first.year()) * 12 + i64::from(first.month() - 1) + step;
                let (y, m) = (
                    i16::try_from(months.div_euclid(12)).ok()?,
                    i8::try_from(months.rem_euclid(12) + 1).ok()?,
                );
                let period_start = Date::new(y, m, 1).ok()?;
                // The 31st of a 30-day month does not exist: no instance (RFC 5545).
                Some((
                    period_start,
                    Date::new(y, m, first.day()).ok().into_iter().collect(),
                ))
            }
            Freq::Yearly => {
                let y = i16::try_from(i64::from(first.year()).checked_add(step)?).ok()?;
                let period_start = Date::new(y, 1, 1).ok()?;
                Some((
                    period_start,
                    Date::new(y, first.month(), first.day())
                        .ok()
                        .into_iter()
                        .collect(),
                ))
            }
        }
    }

    /// A period index safely before `lower` (never past it), so a rule started years
    /// ago need not be walked from its first day.
    fn periods_before(&self, first: Date, lower: Date) -> i64 {
        if lower <= first {
            return 0;
        }
        let elapsed = match self.freq {
            Freq::Daily => days_between(first, lower),
            Freq::Weekly => days_between(week_start(first, self.wkst), lower) / 7,
            Freq::Monthly => {
                (i64::from(lower.year()) - i64::from(first.year())) * 12 + i64::from(lower.month())
                    - i64::from(first.month())
            }
            Freq::Yearly => i64::from(lower.year()) - i64::from(first.year()),
        };
        (elapsed / self.interval - 1).max(0)
    }
}

fn weekday(s: &str) -> Option<Weekday> {
    Some(match s.trim().to_ascii_uppercase().as_str() {
        "MO" => Weekday::Monday,
        "TU" => Weekday::Tuesday,
        "WE" => Weekday::Wednesday,
        "TH" => Weekday::Thursday,
        "FR" => Weekday::Friday,
        "SA" => Weekday::Saturday,
        "SU" => Weekday::Sunday,
        // Ordinals (`2TU`, `-1FR`) only make sense with monthly/yearly rules.
        _ => return None,
    })
}

fn add_days(d: Date, days: i64) -> Option<Date> {
    d.checked_add(Span::new().try_days(days).ok()?).ok()
}

fn days_between(a: Date, b: Date) -> i64 {
    a.until(b).map_or(0, |s| i64::from(s.get_days()))
}

/// Days from `wkst` forward to `day` (0..=6).
fn days_after(day: Weekday, wkst: Weekday) -> i64 {
    i64::from(day.to_monday_zero_offset() - wkst.to_monday_zero_offset()).rem_euclid(7)
}

fn week_start(d: Date, wkst: Weekday) -> Date {
    add_days(d, -days_after(d.weekday(), wkst)).unwrap_or(d)
}

// ------------------------------------------------------------------ busy times

/// Instances already replaced or removed: by `EXDATE`, or by an overriding VEVENT
/// with a `RECURRENCE-ID`.
#[derive(Default)]
struct Exclusions {
    instants: HashSet<Timestamp>,
    /// From `VALUE=DATE` values: every instance starting on that day (in the rule's
    /// zone).
    dates: HashSet<Date>,
}

impl Exclusions {
    fn add(&mut self, m: &Moment) -> Result<(), IcalError> {
        match m {
            Moment::Date(d) => {
                self.dates.insert(*d);
            }
            other => {
                self.instants.insert(other.instant()?);
            }
        }
        Ok(())
    }

    fn contains(&self, start: &Zoned) -> bool {
        self.instants.contains(&start.timestamp()) || self.dates.contains(&start.date())
    }
}

struct Collector<'a> {
    from: Timestamp,
    to: Timestamp,
    max: usize,
    out: &'a mut Vec<BusyTime>,
}

/// Appends the busy spans of one calendar object (`calendar-data`) that overlap
/// `[from, to)` to `out`; fails once `out` would hold more than `max`.
pub(super) fn collect_busy(
    data: &str,
    from: Timestamp,
    to: Timestamp,
    max: usize,
    out: &mut Vec<BusyTime>,
) -> Result<(), IcalError> {
    let roots = parse(data)?;
    if roots.is_empty() {
        return Err(invalid("the calendar data is empty"));
    }
    let mut c = Collector { from, to, max, out };
    for root in &roots {
        if root.name != "VCALENDAR" {
            return Err(invalid(format!(
                "a {} where a VCALENDAR was expected",
                root.name
            )));
        }
        let events = root
            .children
            .iter()
            .filter(|child| child.name == "VEVENT")
            .map(Event::read)
            .collect::<Result<Vec<_>, _>>()?;
        for e in events
            .iter()
            .filter(|e| e.recurrence_id.is_none() && e.is_recurring())
        {
            let mut excluded = Exclusions::default();
            for m in &e.exdates {
                excluded.add(m)?;
            }
            for o in events
                .iter()
                .filter(|o| o.recurrence_id.is_some() && o.uid == e.uid)
            {
                if let Some(rid) = &o.recurrence_id {
                    excluded.add(rid)?;
                }
            }
            c.recurring(e, &excluded)?;
        }
        // Single events, server-expanded instances and overridden instances each
        // stand alone.
        for e in events
            .iter()
            .filter(|e| e.recurrence_id.is_some() || !e.is_recurring())
        {
            if !e.free {
                let start = e.start.zoned()?;
                c.instance(e, &start, &Exclusions::default())?;
            }
        }
    }
    Ok(())
}

impl Collector<'_> {
    fn instance(
        &mut self,
        e: &Event,
        start: &Zoned,
        excluded: &Exclusions,
    ) -> Result<(), IcalError> {
        if excluded.contains(start) {
            return Ok(());
        }
        let begin = start.timestamp();
        let end = e.length.end_from(start)?;
        if end <= begin || begin >= self.to || end <= self.from {
            return Ok(());
        }
        if self.out.len() >= self.max {
            return Err(IcalError::TooManyInstances(self.max));
        }
        self.out.push(BusyTime { start: begin, end });
        Ok(())
    }

    fn recurring(&mut self, e: &Event, excluded: &Exclusions) -> Result<(), IcalError> {
        if e.free {
            return Ok(());
        }
        // DTSTART is always the first instance, and RDATEs add their own.
        let first = e.start.zoned()?;
        self.instance(e, &first, excluded)?;
        for r in &e.rdates {
            let at = match r {
                // A date RDATE on a timed event starts at DTSTART's time that day.
                Moment::Date(d) => {
                    resolve(&e.start.frame(), d.to_datetime(e.start.civil().time()))?
                }
                other => other.zoned()?,
            };
            if at.timestamp() != first.timestamp() {
                self.instance(e, &at, excluded)?;
            }
        }
        match &e.rule {
            Some(rule) => self.follow(e, rule, &first, excluded),
            None => Ok(()),
        }
    }

    fn follow(
        &mut self,
        e: &Event,
        rule: &Rule,
        first: &Zoned,
        excluded: &Exclusions,
    ) -> Result<(), IcalError> {
        let frame = e.start.frame();
        let dtstart = e.start.civil();
        let first_date = dtstart.date();
        // Instances starting before this cannot reach the window: the longest
        // instance plus a week for nominal lengths (months, DST days).
        let reach = e
            .length
            .end_from(first)?
            .duration_since(first.timestamp())
            .checked_add(SignedDuration::from_hours(24 * 7))
            .unwrap_or(SignedDuration::MAX);
        let lower = self
            .from
            .checked_sub(reach)
            .unwrap_or(Timestamp::MIN)
            .to_zoned(frame.clone())
            .date();
        // COUNT counts from DTSTART, so a counted rule is walked from its start.
        let mut k = match rule.count {
            Some(_) => 0,
            None => rule.periods_before(first_date, lower),
        };
        let until_date = self.to.to_zoned(frame.clone()).date();
        let mut counted: u64 = 1;
        let mut steps: u64 = 0;
        loop {
            steps += 1;
            if steps > MAX_RULE_STEPS {
                return Err(IcalError::Unsupported(format!(
                    "a recurring event has more than {MAX_RULE_STEPS} periods to walk"
                )));
            }
            let Some((period_start, dates)) = rule.period(first_date, k) else {
                return Ok(());
            };
            // Well past the window (a period can start a week before its dates).
            if period_start > add_days(until_date, 7).unwrap_or(Date::MAX) {
                return Ok(());
            }
            for day in dates.into_iter().filter(|d| *d >= first_date) {
                let dt = day.to_datetime(dtstart.time());
                if dt == dtstart {
                    continue;
                }
                let start = resolve(&frame, dt)?;
                if let Some(until) = &rule.until {
                    let past = match until {
                        Moment::Date(u) => day > *u,
                        other => start.timestamp() > other.instant()?,
                    };
                    if past {
                        return Ok(());
                    }
                }
                if rule.count.is_some_and(|count| counted >= count) {
                    return Ok(());
                }
                counted += 1;
                if start.timestamp() >= self.to {
                    return Ok(());
                }
                self.instance(e, &start, excluded)?;
            }
            k += 1;
        }
    }
}

// ------------------------------------------------------------------ writing

/// The calendar object Convene stores for a booking: one VEVENT in UTC, CRLF lines
/// folded at 75 octets, TEXT values escaped.
///
/// Attendees carry `SCHEDULE-AGENT=CLIENT` (RFC 6638 §7.1): Convene sends the
/// invitations itself, so a server that does scheduling must not mail them again.
pub(super) fn event_ics(uid: &str, stamp: Timestamp, draft: &EventDraft) -> String {
    let mut out = String::new();
    let mut line = |l: String| {
        fold_into(&mut out, &l);
    };
    line("BEGIN:VCALENDAR".into());
    line("VERSION:2.0".into());
    line("PRODID:-//Convene//Convene//EN".into());
    line("CALSCALE:GREGORIAN".into());
    line("BEGIN:VEVENT".into());
    line(format!("UID:{}", escape_text(uid)));
    line(format!("DTSTAMP:{}", utc(stamp)));
    line(format!("DTSTART:{}", utc(draft.start)));
    line(format!("DTEND:{}", utc(draft.end)));
    line(format!("SUMMARY:{}", escape_text(&draft.summary)));
    if !draft.description.is_empty() {
        line(format!("DESCRIPTION:{}", escape_text(&draft.description)));
    }
    if let Some(location) = draft.location.as_deref().filter(|l| !l.is_empty()) {
        line(format!("LOCATION:{}", escape_text(location)));
    }
    for a in &draft.attendees {
        let email: String = a
            .email
            .chars()
            .filter(|c| !c.is_control() && !c.is_whitespace())
            .collect();
        let cn = a
            .name
            .as_deref()
            .map(param_text)
            .filter(|n| !n.is_empty())
            .map(|n| format!(";CN=\"{n}\""))
            .unwrap_or_default();
        line(format!(
            "ATTENDEE{cn};ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=FALSE;SCHEDULE-AGENT=CLIENT:mailto:{email}"
        ));
    }
    line("STATUS:CONFIRMED".into());
    line("TRANSP:OPAQUE".into());
    line("END:VEVENT".into());
    line("END:VCALENDAR".into());
    out
}

fn utc(ts: Timestamp) -> String {
    ts.strftime("%Y%m%dT%H%M%SZ").to_string()
}

/// TEXT escaping (RFC 5545 §3.3.11); other control characters are dropped, since
/// TEXT may not hold them.
fn escape_text(s: &str) -> String {
    let s = s.replace("\r\n", "\n").replace('\r', "\n");
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

/// A parameter value for inside double quotes: no quotes, no control characters.
fn param_text(s: &str) -> String {
    s.chars()
        .filter(|c| *c != '"' && !c.is_control())
        .collect::<String>()
        .trim()
        .to_owned()
}

/// Appends `line` cut into pieces of at most 75 octets (continuations start with a
/// space, which counts), never inside a UTF-8 character, each ended by CRLF.
fn fold_into(out: &mut String, line: &str) {
    let mut budget = FOLD_OCTETS;
    let mut piece_len = 0;
    for c in line.chars() {
        if piece_len + c.len_utf8() > budget {
            out.push_str("\r\n ");
            budget = FOLD_OCTETS - 1;
            piece_len = 0;
        }
        out.push(c);
        piece_len += c.len_utf8();
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::Attendee;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn busy(data: &str, from: &str, to: &str) -> Result<Vec<(String, String)>, IcalError> {
        let mut out = Vec::new();
        collect_busy(data, ts(from), ts(to), 10_000, &mut out)?;
        out.sort();
        Ok(out
            .into_iter()
            .map(|b| (b.start.to_string(), b.end.to_string()))
            .collect())
    }

    fn cal(events: &str) -> String {
        format!("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:test\r\n{events}END:VCALENDAR\r\n")
    }

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect()
    }

    #[test]
    fn utc_events_and_the_window() {
        let data = cal("BEGIN:VEVENT\r\nUID:a\r\nDTSTART:20261201T150000Z\r\nDTEND:20261201T153000Z\r\nEND:VEVENT\r\n\
             BEGIN:VEVENT\r\nUID:b\r\nDTSTART:20261203T150000Z\r\nDTEND:20261203T160000Z\r\nEND:VEVENT\r\n");
        assert_eq!(
            busy(&data, "2026-12-01T00:00:00Z", "2026-12-02T00:00:00Z").unwrap(),
            pairs(&[("2026-12-01T15:00:00Z", "2026-12-01T15:30:00Z")])
        );
        // Touching the window's edge is not overlapping it.
        assert!(busy(&data, "2026-12-01T15:30:00Z", "2026-12-01T16:00:00Z")
            .unwrap()
            .is_empty());
    }

    #[test]
    fn tzid_times_follow_dst() {
        // Berlin switches to summer time on 2026-03-29: 10:00 is 09:00Z before, 08:00Z after.
        let data = cal("BEGIN:VEVENT\r\nUID:a\r\nDTSTART;TZID=Europe/Berlin:20260327T100000\r\nDTEND;TZID=Europe/Berlin:20260327T110000\r\nEND:VEVENT\r\n\
             BEGIN:VEVENT\r\nUID:b\r\nDTSTART;TZID=\"Europe/Berlin\":20260330T100000\r\nDTEND;TZID=Europe/Berlin:20260330T110000\r\nEND:VEVENT\r\n\
             BEGIN:VEVENT\r\nUID:c\r\nDTSTART;TZID=/mozilla.org/20050126_1/America/New_York:20260330T100000\r\nDURATION:PT45M\r\nEND:VEVENT\r\n");
        assert_eq!(
            busy(&data, "2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z").unwrap(),
            pairs(&[
                ("2026-03-27T09:00:00Z", "2026-03-27T10:00:00Z"),
                ("2026-03-30T08:00:00Z", "2026-03-30T09:00:00Z"),
                ("2026-03-30T14:00:00Z", "2026-03-30T14:45:00Z"),
            ])
        );
        // A time inside the spring-forward gap moves forward by the gap.
        let gap = cal("BEGIN:VEVENT\r\nUID:g\r\nDTSTART;TZID=Europe/Berlin:20260329T023000\r\nDURATION:PT30M\r\nEND:VEVENT\r\n");
        assert_eq!(
            busy(&gap, "2026-03-29T00:00:00Z", "2026-03-30T00:00:00Z").unwrap(),
            pairs(&[("2026-03-29T01:30:00Z", "2026-03-29T02:00:00Z")])
        );
    }

    #[test]
    fn unknown_time_zones_are_an_error_not_a_guess() {
        let data = cal("BEGIN:VEVENT\r\nUID:a\r\nDTSTART;TZID=W. Europe Standard Time:20260327T100000\r\nDURATION:PT1H\r\nEND:VEVENT\r\n");
        assert!(matches!(
            busy(&data, "2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z"),
            Err(IcalError::Unsupported(_))
        ));
    }

    #[test]
    fn all_day_events_take_whole_utc_days() {
        let data = cal("BEGIN:VEVENT\r\nUID:a\r\nDTSTART;VALUE=DATE:20260325\r\nDTEND;VALUE=DATE:20260327\r\nEND:VEVENT\r\n\
             BEGIN:VEVENT\r\nUID:b\r\nDTSTART;VALUE=DATE:20260330\r\nEND:VEVENT\r\n\
             BEGIN:VEVENT\r\nUID:c\r\nDTSTART:20260401\r\nDURATION:P1D\r\nEND:VEVENT\r\n");
        assert_eq!(
            busy(&data, "2026-03-01T00:00:00Z", "2026-04-30T00:00:00Z").unwrap(),
            pairs(&[
                ("2026-03-25T00:00:00Z", "2026-03-27T00:00:00Z"),
                ("2026-03-30T00:00:00Z", "2026-03-31T00:00:00Z"),
                ("2026-04-01T00:00:00Z", "2026-04-02T00:00:00Z"),
            ])
        );
    }

    #[test]
    fn durations_floating_times_and_point_events() {
        let data = cal("BEGIN:VEVENT\r\nUID:a\r\nDTSTART:20261201T150000Z\r\nDURATION:PT1H30M\r\nEND:VEVENT\r\n\
             BEGIN:VEVENT\r\nUID:b\r\nDTSTART:20261202T090000\r\nDTEND:20261202T091500\r\nEND:VEVENT\r\n\
             BEGIN:VEVENT\r\nUID:c\r\nDTSTART;TZID=Europe/Berlin:20261028T120000\r\nDURATION:P1D\r\nEND:VEVENT\r\n\
             BEGIN:VEVENT\r\nUID:reminder\r\nDTSTART:20261203T090000Z\r\nEND:VEVENT\r\n");
        assert_eq!(
            busy(&data, "2026-10-01T00:00:00Z", "2026-12-31T00:00:00Z").unwrap(),
            pairs(&[
                ("2026-10-28T11:00:00Z", "2026-10-29T11:00:00Z"),
                ("2026-12-01T15:00:00Z", "2026-12-01T16:30:00Z"),
                ("2026-12-02T09:00:00Z", "2026-12-02T09:15:00Z"),
            ])
        );
        // A nominal day across a DST change lasts 25 hours.
        let dst = cal("BEGIN:VEVENT\r\nUID:c\r\nDTSTART;TZID=Europe/Berlin:20261024T120000\r\nDURATION:P1D\r\nEND:VEVENT\r\n");
        assert_eq!(
            busy(&dst, "2026-10-01T00:00:00Z", "2026-12-31T00:00:00Z").unwrap(),
            pairs(&[("2026-10-24T10:00:00Z", "2026-10-25T11:00:00Z")])
        );
    }

    #[test]
    fn transparent_and_cancelled_events_are_free() {
        let data = cal("BEGIN:VEVENT\r\nUID:a\r\nDTSTART:20261201T150000Z\r\nDTEND:20261201T160000Z\r\nTRANSP:TRANSPARENT\r\nEND:VEVENT\r\n\
             BEGIN:VEVENT\r\nUID:b\r\nDTSTART:20261201T170000Z\r\nDTEND:20261201T180000Z\r\nSTATUS:cancelled\r\nEND:VEVENT\r\n\
             BEGIN:VEVENT\r\nUID:c\r\nDTSTART:20261201T190000Z\r\nDTEND:20261201T200000Z\r\nTRANSP:OPAQUE\r\nSTATUS:CONFIRMED\r\n\
             BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT15M\r\nDURATION:PT5M\r\nREPEAT:2\r\nEND:VALARM\r\nEND:VEVENT\r\n");
        assert_eq!(
            busy(&data, "2026-12-01T00:00:00Z", "2026-12-02T00:00:00Z").unwrap(),
            pairs(&[("2026-12-01T19:00:00Z", "2026-12-01T20:00:00Z")])
        );
    }

    #[test]
    fn folded_lines_and_escaped_text() {
        let data = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:a\r\nSUMMARY:Plan\\, review\\; ship\\nand \\\\ rest\r\nDESCRIPTION:Join at https://zoom.us/j/12\r\n 345?pwd=abc and\r\n\tthen\r\nDTSTART:2026120\r\n 1T150000Z\r\nDTEND:20261201T160000Z\r\nATTENDEE;CN=\"Doe, Jane: CEO\";ROLE=REQ-PARTICIPANT:mailto:jane@example.org\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        let roots = parse(data).unwrap();
        let event = &roots[0].children[0];
        assert_eq!(
            event.prop("SUMMARY").unwrap().text(),
            "Plan, review; ship\nand \\ rest"
        );
        assert_eq!(
            event.prop("DESCRIPTION").unwrap().text(),
            "Join at https://zoom.us/j/12345?pwd=abc andthen"
        );
        let attendee = event.prop("ATTENDEE").unwrap();
        assert_eq!(attendee.param("CN"), Some("Doe, Jane: CEO"));
        assert_eq!(attendee.value, "mailto:jane@example.org");
        assert_eq!(
            busy(data, "2026-12-01T00:00:00Z", "2026-12-02T00:00:00Z").unwrap(),
            pairs(&[("2026-12-01T15:00:00Z", "2026-12-01T16:00:00Z")])
        );
        // Bare LF line ends work too.
        let lf = data.replace("\r\n", "\n");
        assert_eq!(parse(&lf).unwrap(), roots);
    }

    #[test]
    fn weekly_rules_across_dst_with_exdate_and_an_override() {
        // Mondays and Wednesdays 10:00 Berlin from 2026-03-16, EXDATE on the 18th,
        // the 25th moved to 14:00, the 1st of April cancelled.
        let data = cal("BEGIN:VEVENT\r\nUID:w\r\nDTSTART;TZID=Europe/Berlin:20260316T100000\r\nDTEND;TZID=Europe/Berlin:20260316T110000\r\n\
             RRULE:FREQ=WEEKLY;BYDAY=MO,WE;UNTIL=20260405T000000Z\r\nEXDATE;TZID=Europe/Berlin:20260318T100000\r\nEND:VEVENT\r\n\
             BEGIN:VEVENT\r\nUID:w\r\nRECURRENCE-ID;TZID=Europe/Berlin:20260325T100000\r\nDTSTART;TZID=Europe/Berlin:20260325T140000\r\nDTEND;TZID=Europe/Berlin:20260325T150000\r\nEND:VEVENT\r\n\
             BEGIN:VEVENT\r\nUID:w\r\nRECURRENCE-ID:20260401T080000Z\r\nDTSTART:20260401T080000Z\r\nDTEND:20260401T090000Z\r\nSTATUS:CANCELLED\r\nEND:VEVENT\r\n");
        assert_eq!(
            busy(&data, "2026-03-01T00:00:00Z", "2026-05-01T00:00:00Z").unwrap(),
            pairs(&[
                ("2026-03-16T09:00:00Z", "2026-03-16T10:00:00Z"),
                ("2026-03-23T09:00:00Z", "2026-03-23T10:00:00Z"),
                ("2026-03-25T13:00:00Z", "2026-03-25T14:00:00Z"),
                ("2026-03-30T08:00:00Z", "2026-03-30T09:00:00Z"),
            ])
        );
    }

    #[test]
    fn daily_rules_with_interval_count_and_byday() {
        let data = cal("BEGIN:VEVENT\r\nUID:d\r\nDTSTART:20260302T070000Z\r\nDURATION:PT30M\r\nRRULE:FREQ=DAILY;INTERVAL=2;COUNT=4\r\nEND:VEVENT\r\n");
        assert_eq!(
            busy(&data, "2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z").unwrap(),
            pairs(&[
                ("2026-03-02T07:00:00Z", "2026-03-02T07:30:00Z"),
                ("2026-03-04T07:00:00Z", "2026-03-04T07:30:00Z"),
                ("2026-03-06T07:00:00Z", "2026-03-06T07:30:00Z"),
                ("2026-03-08T07:00:00Z", "2026-03-08T07:30:00Z"),
            ])
        );
        // COUNT counts instances before the window too.
        assert_eq!(
            busy(&data, "2026-03-05T00:00:00Z", "2026-04-01T00:00:00Z").unwrap(),
            pairs(&[
                ("2026-03-06T07:00:00Z", "2026-03-06T07:30:00Z"),
                ("2026-03-08T07:00:00Z", "2026-03-08T07:30:00Z"),
            ])
        );
        // Weekdays only, started long ago (walked from near the window).
        let weekdays = cal("BEGIN:VEVENT\r\nUID:d\r\nDTSTART:19900101T070000Z\r\nDTEND:19900101T073000Z\r\nRRULE:FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR\r\nEND:VEVENT\r\n");
        assert_eq!(
            busy(&weekdays, "2026-03-06T00:00:00Z", "2026-03-10T00:00:00Z").unwrap(),
            pairs(&[
                ("2026-03-06T07:00:00Z", "2026-03-06T07:30:00Z"),
                ("2026-03-09T07:00:00Z", "2026-03-09T07:30:00Z"),
            ])
        );
    }

    #[test]
    fn biweekly_rules_respect_the_week_start() {
        // Every other week on Tuesday and Sunday from Tuesday 2026-03-03; with
        // WKST=SU the Sunday belongs to the following week's run (RFC 5545's example).
        let mo = cal("BEGIN:VEVENT\r\nUID:x\r\nDTSTART:20260303T090000Z\r\nDURATION:PT1H\r\nRRULE:FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST=MO\r\nEND:VEVENT\r\n");
        let su = mo.replace("WKST=MO", "WKST=SU");
        let starts = |d: &str| -> Vec<String> {
            busy(d, "2026-03-01T00:00:00Z", "2026-05-01T00:00:00Z")
                .unwrap()
                .into_iter()
                .map(|(s, _)| s[..10].to_owned())
                .collect()
        };
        assert_eq!(
            starts(&mo),
            ["2026-03-03", "2026-03-08", "2026-03-17", "2026-03-22"]
        );
        assert_eq!(
            starts(&su),
            ["2026-03-03", "2026-03-15", "2026-03-17", "2026-03-29"]
        );
    }

    #[test]
    fn monthly_yearly_and_all_day_rules() {
        let data = cal("BEGIN:VEVENT\r\nUID:m\r\nDTSTART:20260131T120000Z\r\nDURATION:PT1H\r\nRRULE:FREQ=MONTHLY;COUNT=3\r\nEND:VEVENT\r\n\
             BEGIN:VEVENT\r\nUID:y\r\nDTSTART;VALUE=DATE:20250310\r\nRRULE:FREQ=YEARLY\r\nEXDATE;VALUE=DATE:20270310\r\nEND:VEVENT\r\n");
        assert_eq!(
            busy(&data, "2026-01-01T00:00:00Z", "2028-01-01T00:00:00Z").unwrap(),
            pairs(&[
                ("2026-01-31T12:00:00Z", "2026-01-31T13:00:00Z"),
                ("2026-03-10T00:00:00Z", "2026-03-11T00:00:00Z"),
                // February has no 31st: the second instance is in March.
                ("2026-03-31T12:00:00Z", "2026-03-31T13:00:00Z"),
                ("2026-05-31T12:00:00Z", "2026-05-31T13:00:00Z"),
            ])
        );
    }

    #[test]
    fn rules_convene_cannot_expand_are_errors() {
        for rule in [
            "FREQ=MONTHLY;BYDAY=2TU",
            "FREQ=WEEKLY;BYDAY=1MO",
            "FREQ=MONTHLY;BYSETPOS=-1;BYDAY=MO,TU,WE,TH,FR",
            "FREQ=HOURLY",
            "FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
        ] {
            let data = cal(&format!("BEGIN:VEVENT\r\nUID:r\r\nDTSTART:20260303T090000Z\r\nDURATION:PT1H\r\nRRULE:{rule}\r\nEND:VEVENT\r\n"));
            assert!(
                matches!(
                    busy(&data, "2026-03-01T00:00:00Z", "2026-05-01T00:00:00Z"),
                    Err(IcalError::Unsupported(_))
                ),
                "{rule}"
            );
        }
        for rule in [
            "INTERVAL=2",
            "FREQ=DAILY;INTERVAL=0",
            "FREQ=DAILY;COUNT=x",
            "FREQ",
        ] {
            let data = cal(&format!("BEGIN:VEVENT\r\nUID:r\r\nDTSTART:20260303T090000Z\r\nDURATION:PT1H\r\nRRULE:{rule}\r\nEND:VEVENT\r\n"));
            assert!(
                matches!(
                    busy(&data, "2026-03-01T00:00:00Z", "2026-05-01T00:00:00Z"),
                    Err(IcalError::Invalid(_))
                ),
                "{rule}"
            );
        }
    }

    #[test]
    fn too_many_instances_are_refused() {
        let data = cal("BEGIN:VEVENT\r\nUID:d\r\nDTSTART:20000101T070000Z\r\nDURATION:PT30M\r\nRRULE:FREQ=DAILY\r\nEND:VEVENT\r\n");
        let mut out = Vec::new();
        let r = collect_busy(
            &data,
            ts("2000-01-01T00:00:00Z"),
            ts("2040-01-01T00:00:00Z"),
            10_000,
            &mut out,
        );
        assert_eq!(r, Err(IcalError::TooManyInstances(10_000)));
        // An unbounded rule long before a short window is cheap.
        assert_eq!(
            busy(&data, "2038-06-01T00:00:00Z", "2038-06-03T00:00:00Z")
                .unwrap()
                .len(),
            2
        );
    }

    #[test]
    fn broken_input_is_an_error_never_a_panic() {
        for data in [
            "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:20261201T150000Z\r\n",
            "END:VCALENDAR\r\n",
            "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nEND:VCALENDAR\r\nEND:VEVENT\r\n",
            "just text",
            "",
            "<html></html>",
            "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:a\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
            "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:20261301T150000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
            "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:2026120T150000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
            "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:20261201T250000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
            "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:20261201T150000Z\r\nDTEND:20261201T140000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
            "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:20261201T150000Z\r\nDURATION:-PT1H\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
            "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:20261201T150000Z\r\nDURATION:soon\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
            "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART;TZID=\"Europe/Berlin:20261201T150000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
            "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART;TZID:20261201T150000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
            "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:२०२६१२०१T150000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
            "BEGIN:VEVENT\r\nDTSTART:20261201T150000Z\r\nEND:VEVENT\r\n",
        ] {
            assert!(
                busy(data, "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z").is_err(),
                "{data:?}"
            );
        }
        let deep = "BEGIN:X\r\n".repeat(100_000);
        assert!(parse(&deep).is_err());
        // Every prefix of a valid calendar either parses or fails cleanly.
        let good = cal("BEGIN:VEVENT\r\nUID:w\r\nDTSTART;TZID=Europe/Berlin:20260316T100000\r\nDTEND;TZID=Europe/Berlin:20260316T110000\r\nRRULE:FREQ=WEEKLY;BYDAY=MO,WE;COUNT=5\r\nEXDATE;VALUE=DATE:20260318\r\nEND:VEVENT\r\n");
        for (i, _) in good.char_indices() {
            let _ = busy(&good[..i], "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z");
        }
    }

    #[test]
    fn written_events_are_escaped_folded_and_read_back() {
        let draft = EventDraft {
            key: "booking-1".into(),
            summary: "Intro call; Jane, Doe\\Co".into(),
            description: format!(
                "Join: https://zoom.us/j/85746065432?pwd={}\r\nSee you there — ünïcödé",
                "x".repeat(80)
            ),
            location: Some("https://zoom.us/j/85746065432".into()),
            start: ts("2026-12-01T15:00:00.250Z"),
            end: ts("2026-12-01T15:30:00Z"),
            attendees: vec![Attendee {
                name: Some("Jane \"JD\" Doe".into()),
                email: "jane@example.org".into(),
            }],
        };
        let ics = event_ics("booking-1", ts("2026-11-01T00:00:00Z"), &draft);
        for line in ics.split("\r\n") {
            assert!(line.len() <= FOLD_OCTETS, "{line:?}");
        }
        assert!(ics.ends_with("END:VCALENDAR\r\n"));
        assert!(ics.contains("DTSTART:20261201T150000Z\r\n"));
        let roots = parse(&ics).unwrap();
        let e = &roots[0].children[0];
        assert_eq!(e.prop("UID").unwrap().value, "booking-1");
        assert_eq!(e.prop("SUMMARY").unwrap().text(), draft.summary);
        assert_eq!(
            e.prop("DESCRIPTION").unwrap().text(),
            draft.description.replace("\r\n", "\n")
        );
        assert_eq!(
            e.prop("LOCATION").unwrap().text(),
            "https://zoom.us/j/85746065432"
        );
        let a = e.prop("ATTENDEE").unwrap();
        assert_eq!(a.param("CN"), Some("Jane JD Doe"));
        assert_eq!(a.param("SCHEDULE-AGENT"), Some("CLIENT"));
        assert_eq!(a.value, "mailto:jane@example.org");
        assert_eq!(
            busy(&ics, "2026-12-01T00:00:00Z", "2026-12-02T00:00:00Z").unwrap(),
            pairs(&[("2026-12-01T15:00:00Z", "2026-12-01T15:30:00Z")])
        );
    }

    #[test]
    fn folding_never_splits_a_character() {
        let mut out = String::new();
        fold_into(&mut out, &format!("SUMMARY:{}", "é".repeat(100)));
        for line in out.split("\r\n") {
            assert!(line.len() <= FOLD_OCTETS);
        }
        assert_eq!(unfold(&out)[0], format!("SUMMARY:{}", "é".repeat(100)));
    }
}
