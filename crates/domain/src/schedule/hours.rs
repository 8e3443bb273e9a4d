//! Working hours as people state them: wall-clock ranges per weekday, plus dated
//! exceptions. They stay in civil terms (minutes after local midnight) because that is
//! what remains true across DST changes; turning them into instants is done per date,
//! in the host's zone, by the slot computation.

use jiff::civil::{Date, Time, Weekday};
use jiff::SignedDuration;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// Minutes in a civil day; also the encoding of "24:00" (end of day).
pub(crate) const DAY_MINUTES: u16 = 24 * 60;

/// Why working hours were refused. Messages are shown to the person who typed them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HoursError {
    #[error("{0}: the end must be after the start")]
    EndNotAfterStart(String),
    #[error("overlapping ranges on {on}: {first} and {second}")]
    Overlap {
        on: String,
        first: TimeRange,
        second: TimeRange,
    },
    #[error("unknown day '{0}' (use mon, tue, wed, thu, fri, sat or sun)")]
    UnknownDay(String),
    #[error("'{0}' is not a time of day (expected HH:MM between 00:00 and 24:00)")]
    BadTime(String),
    #[error("'{0}' is not a time range (expected HH:MM-HH:MM, e.g. 09:00-17:00)")]
    BadRange(String),
    #[error("{0}: working hours are in whole minutes")]
    NotWholeMinutes(String),
    #[error("{0} is given more than once")]
    DuplicateDay(String),
    #[error("'{0}': expected a day followed by hours such as 09:00-17:00, or 'off'")]
    MissingHours(String),
}

/// A wall-clock range within one day, `start < end`; the end may be 24:00.
///
/// Stored as minutes after midnight: whole minutes are all anyone schedules in, and
/// integers make "24:00" representable, which `jiff::civil::Time` cannot express.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TimeRange {
    start: u16,
    end: u16,
}

impl TimeRange {
    /// `end: None` means the end of the day (24:00). An end of 00:00 means the same,
    /// since a range cannot end at the midnight it starts after.
    pub fn new(start: Time, end: Option<Time>) -> Result<Self, HoursError> {
        let start = whole_minutes(start)?;
        let end = match end {
            None => DAY_MINUTES,
            Some(t) => match whole_minutes(t)? {
                0 => DAY_MINUTES,
                m => m,
            },
        };
        Self::from_minutes(start, end)
    }

    /// Minutes after local midnight; `end` may be 1440 (24:00).
    pub fn from_minutes(start: u16, end: u16) -> Result<Self, HoursError> {
        if end > DAY_MINUTES {
            return Err(HoursError::BadTime(minutes_text(end)));
        }
        if end <= start {
            return Err(HoursError::EndNotAfterStart(format!(
                "{}-{}",
                minutes_text(start),
                minutes_text(end)
            )));
        }
        Ok(Self { start, end })
    }

    pub fn start(&self) -> Time {
        minutes_time(self.start)
    }

    /// `None` when the range runs to the end of the day (24:00).
    pub fn end(&self) -> Option<Time> {
        (self.end < DAY_MINUTES).then(|| minutes_time(self.end))
    }

    pub fn start_minute(&self) -> u16 {
        self.start
    }

    /// 1440 for a range ending at 24:00.
    pub fn end_minute(&self) -> u16 {
        self.end
    }

    pub fn ends_at_midnight(&self) -> bool {
        self.end == DAY_MINUTES
    }

    /// Touching ranges (09:00-12:00 and 12:00-13:00) do not overlap.
    pub fn overlaps(&self, other: &TimeRange) -> bool {
        self.start < other.end && other.start < self.end
    }
}

fn whole_minutes(t: Time) -> Result<u16, HoursError> {
    if t.second() != 0 || t.subsec_nanosecond() != 0 {
        return Err(HoursError::NotWholeMinutes(t.to_string()));
    }
    // Hours and minutes of a valid `Time` are small and non-negative.
    Ok(u16::try_from(i32::from(t.hour()) * 60 + i32::from(t.minute())).unwrap_or(0))
}

fn minutes_time(m: u16) -> Time {
    // Wrapping keeps this total; callers only pass minutes below 1440, which are exact.
    Time::midnight().wrapping_add(SignedDuration::from_mins(i64::from(m)))
}

fn minutes_text(m: u16) -> String {
    format!("{:02}:{:02}", m / 60, m % 60)
}

fn parse_minutes(text: &str) -> Result<u16, HoursError> {
    let bad = || HoursError::BadTime(text.to_string());
    let (h, m) = text.split_once(':').ok_or_else(bad)?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(h) || h.len() > 2 || !digits(m) || m.len() != 2 {
        return Err(bad());
    }
    let h: u16 = h.parse().map_err(|_| bad())?;
    let m: u16 = m.parse().map_err(|_| bad())?;
    if m >= 60 || h * 60 + m > DAY_MINUTES {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

impl fmt::Display for TimeRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", minutes_text(self.start), minutes_text(self.end))
    }
}

impl fmt::Debug for TimeRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TimeRange({self})")
    }
}

impl FromStr for TimeRange {
    type Err = HoursError;

    /// `HH:MM-HH:MM`; an end of 00:00 or 24:00 means the end of the day.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let (a, b) = s
            .split_once('-')
            .ok_or_else(|| HoursError::BadRange(s.to_string()))?;
        let start = parse_minutes(a.trim())?;
        let end = match parse_minutes(b.trim())? {
            0 => DAY_MINUTES,
            m => m,
        };
        Self::from_minutes(start, end)
    }
}

impl TryFrom<String> for TimeRange {
    type Error = HoursError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<TimeRange> for String {
    fn from(r: TimeRange) -> String {
        r.to_string()
    }
}

/// Sorts and checks one day's ranges; `on` names the day in the error message.
fn normalize(
    on: impl Fn() -> String,
    mut ranges: Vec<TimeRange>,
) -> Result<Vec<TimeRange>, HoursError> {
    ranges.sort_unstable();
    if let Some(pair) = ranges.windows(2).find(|w| w[0].overlaps(&w[1])) {
        return Err(HoursError::Overlap {
            on: on(),
            first: pair[0],
            second: pair[1],
        });
    }
    Ok(ranges)
}

const WEEK: [Weekday; 7] = [
    Weekday::Monday,
    Weekday::Tuesday,
    Weekday::Wednesday,
    Weekday::Thursday,
    Weekday::Friday,
    Weekday::Saturday,
    Weekday::Sunday,
];

fn day_index(day: Weekday) -> usize {
    usize::try_from(day.to_monday_zero_offset()).unwrap_or(0)
}

fn day_name(day: Weekday) -> &'static str {
    match day {
        Weekday::Monday => "Monday",
        Weekday::Tuesday => "Tuesday",
        Weekday::Wednesday => "Wednesday",
        Weekday::Thursday => "Thursday",
        Weekday::Friday => "Friday",
        Weekday::Saturday => "Saturday",
        Weekday::Sunday => "Sunday",
    }
}

fn day_abbrev(day: Weekday) -> &'static str {
    match day {
        Weekday::Monday => "mon",
        Weekday::Tuesday => "tue",
        Weekday::Wednesday => "wed",
        Weekday::Thursday => "thu",
        Weekday::Friday => "fri",
        Weekday::Saturday => "sat",
        Weekday::Sunday => "sun",
    }
}

fn parse_day(text: &str) -> Result<Weekday, HoursError> {
    let lower = text.to_ascii_lowercase();
    WEEK.into_iter()
        .find(|d| lower == day_abbrev(*d) || lower == day_name(*d).to_ascii_lowercase())
        .ok_or_else(|| HoursError::UnknownDay(text.to_string()))
}

/// `mon` or a forward span such as `mon-fri`.
fn parse_days(text: &str) -> Result<Vec<Weekday>, HoursError> {
    match text.split_once('-') {
        None => Ok(vec![parse_day(text)?]),
        Some((a, b)) => {
            let (a, b) = (day_index(parse_day(a)?), day_index(parse_day(b)?));
            if a > b {
                return Err(HoursError::UnknownDay(text.to_string()));
            }
            Ok(WEEK[a..=b].to_vec())
        }
    }
}

/// Weekly working hours: per weekday, a sorted list of non-overlapping ranges.
///
/// Text form (also what `Display` writes): `mon 09:00-17:00; tue 09:00-12:00,13:00-17:00`.
/// Days left out are off; `wed off` says so explicitly and `mon-fri 09:00-17:00` covers
/// several days. Serialized as `{"mon": ["09:00-17:00"], ...}`, validated on the way in.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(try_from = "WeeklyRepr", into = "WeeklyRepr")]
pub struct WeeklyHours {
    days: [Vec<TimeRange>; 7],
}

impl WeeklyHours {
    /// Monday to Friday, 09:00–17:00.
    pub fn business_hours() -> Self {
        let nine_to_five = TimeRange {
            start: 9 * 60,
            end: 17 * 60,
        };
        let mut hours = Self::default();
        for day in &mut hours.days[..5] {
            day.push(nine_to_five);
        }
        hours
    }

    pub fn ranges(&self, day: Weekday) -> &[TimeRange] {
        &self.days[day_index(day)]
    }

    /// Replaces the day's hours; an empty list makes it a day off.
    pub fn set(&mut self, day: Weekday, ranges: Vec<TimeRange>) -> Result<(), HoursError> {
        self.days[day_index(day)] = normalize(|| day_name(day).to_string(), ranges)?;
        Ok(())
    }

    /// True when no day has any hours.
    pub fn is_empty(&self) -> bool {
        self.days.iter().all(Vec::is_empty)
    }

    /// Days that have hours, Monday first.
    pub fn iter(&self) -> impl Iterator<Item = (Weekday, &[TimeRange])> {
        WEEK.into_iter()
            .zip(self.days.iter())
            .filter(|(_, r)| !r.is_empty())
            .map(|(d, r)| (d, r.as_slice()))
    }
}

impl fmt::Display for WeeklyHours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (day, ranges)) in self.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{} ", day_abbrev(day))?;
            for (j, r) in ranges.iter().enumerate() {
                if j > 0 {
                    f.write_str(",")?;
                }
                write!(f, "{r}")?;
            }
        }
        Ok(())
    }
}

impl FromStr for WeeklyHours {
    type Err = HoursError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut hours = Self::default();
        let mut seen = [false; 7];
        for entry in s
            .split([';', '\n'])
            .map(str::trim)
            .filter(|e| !e.is_empty())
        {
            let (days, rest) = entry
                .split_once(char::is_whitespace)
                .ok_or_else(|| HoursError::MissingHours(entry.to_string()))?;
            let rest = rest.trim();
            let ranges = if rest.eq_ignore_ascii_case("off") {
                Vec::new()
            } else {
                rest.split(',')
                    .map(str::parse)
                    .collect::<Result<Vec<TimeRange>, _>>()?
            };
            for day in parse_days(days)? {
                let i = day_index(day);
                if std::mem::replace(&mut seen[i], true) {
                    return Err(HoursError::DuplicateDay(day_name(day).to_string()));
                }
                hours.set(day, ranges.clone())?;
            }
        }
        Ok(hours)
    }
}

/// The serialized shape of [`WeeklyHours`]: named days read better in stored JSON than
/// a positional array, and leaving off days without hours keeps it short.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WeeklyRepr {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    mon: Vec<TimeRange>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    tue: Vec<TimeRange>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    wed: Vec<TimeRange>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    thu: Vec<TimeRange>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    fri: Vec<TimeRange>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    sat: Vec<TimeRange>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    sun: Vec<TimeRange>,
}

impl TryFrom<WeeklyRepr> for WeeklyHours {
    type Error = HoursError;
    fn try_from(r: WeeklyRepr) -> Result<Self, Self::Error> {
        let mut hours = Self::default();
        let days = [r.mon, r.tue, r.wed, r.thu, r.fri, r.sat, r.sun];
        for (day, ranges) in WEEK.into_iter().zip(days) {
            hours.set(day, ranges)?;
        }
        Ok(hours)
    }
}

impl From<WeeklyHours> for WeeklyRepr {
    fn from(h: WeeklyHours) -> Self {
        let [mon, tue, wed, thu, fri, sat, sun] = h.days;
        Self {
            mon,
            tue,
            wed,
            thu,
            fri,
            sat,
            sun,
        }
    }
}

/// Dated exceptions to the weekly hours: a date is either off (no ranges) or has its
/// own hours, which replace that weekday's hours entirely.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(
    try_from = "BTreeMap<Date, Vec<TimeRange>>",
    into = "BTreeMap<Date, Vec<TimeRange>>"
)]
pub struct DateOverrides {
    dates: BTreeMap<Date, Vec<TimeRange>>,
}

impl DateOverrides {
    /// An empty list makes the date a day off.
    pub fn set(&mut self, date: Date, ranges: Vec<TimeRange>) -> Result<(), HoursError> {
        let ranges = normalize(|| date.to_string(), ranges)?;
        self.dates.insert(date, ranges);
        Ok(())
    }

    /// Back to the weekly hours on that date; returns the override that was there.
    pub fn remove(&mut self, date: Date) -> Option<Vec<TimeRange>> {
        self.dates.remove(&date)
    }

    pub fn get(&self, date: Date) -> Option<&[TimeRange]> {
        self.dates.get(&date).map(Vec::as_slice)
    }

    /// In date order.
    pub fn iter(&self) -> impl Iterator<Item = (Date, &[TimeRange])> {
        self.dates.iter().map(|(d, r)| (*d, r.as_slice()))
    }

    pub fn len(&self) -> usize {
        self.dates.len()
    }

    pub fn is_empty(&self) -> bool {
        self.dates.is_empty()
    }
}

impl TryFrom<BTreeMap<Date, Vec<TimeRange>>> for DateOverrides {
    type Error = HoursError;
    fn try_from(map: BTreeMap<Date, Vec<TimeRange>>) -> Result<Self, Self::Error> {
        let mut overrides = Self::default();
        for (date, ranges) in map {
            overrides.set(date, ranges)?;
        }
        Ok(overrides)
    }
}

impl From<DateOverrides> for BTreeMap<Date, Vec<TimeRange>> {
    fn from(o: DateOverrides) -> Self {
        o.dates
    }
}

/// The hours that apply on `date`: its override if it has one, else its weekday's.
pub fn hours_on<'a>(
    weekly: &'a WeeklyHours,
    overrides: &'a DateOverrides,
    date: Date,
) -> &'a [TimeRange] {
    overrides
        .get(date)
        .unwrap_or_else(|| weekly.ranges(date.weekday()))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use jiff::civil::{date, time};
    use proptest::prelude::*;

    fn r(s: &str) -> TimeRange {
        s.parse().unwrap()
    }

    #[test]
    fn ranges_parse_and_print() {
        assert_eq!(r("09:00-17:00").to_string(), "09:00-17:00");
        assert_eq!(r(" 9:30 - 12:00 ").to_string(), "09:30-12:00");
        assert_eq!(r("22:00-24:00"), r("22:00-00:00"));
        assert_eq!(r("22:00-24:00").end(), None);
        assert!(r("22:00-24:00").ends_at_midnight());
        assert_eq!(r("00:00-24:00").start(), time(0, 0, 0, 0));
        assert_eq!(r("09:15-10:45").end(), Some(time(10, 45, 0, 0)));
        assert_eq!(
            "14:00-13:00".parse::<TimeRange>().unwrap_err().to_string(),
            "14:00-13:00: the end must be after the start"
        );
        for bad in [
            "25:00-26:00",
            "09:60-10:00",
            "9-10",
            "09:00-24:01",
            "ab:cd-10:00",
        ] {
            assert!(matches!(
                bad.parse::<TimeRange>(),
                Err(HoursError::BadTime(_))
            ));
        }
        assert!(matches!(
            "09:00".parse::<TimeRange>(),
            Err(HoursError::BadRange(_))
        ));
        assert!(matches!(
            "24:00-24:00".parse::<TimeRange>(),
            Err(HoursError::EndNotAfterStart(_))
        ));
        assert!(matches!(
            TimeRange::new(time(9, 0, 30, 0), None),
            Err(HoursError::NotWholeMinutes(_))
        ));
        assert_eq!(
            TimeRange::new(time(9, 0, 0, 0), Some(time(17, 0, 0, 0))).unwrap(),
            r("09:00-17:00")
        );
    }

    #[test]
    fn weekly_hours_text() {
        let h: WeeklyHours = "mon 09:00-17:00; tue 13:00-17:00,09:00-12:00; wed off"
            .parse()
            .unwrap();
        assert_eq!(
            h.ranges(Weekday::Tuesday),
            [r("09:00-12:00"), r("13:00-17:00")]
        );
        assert!(h.ranges(Weekday::Wednesday).is_empty());
        assert_eq!(
            h.to_string(),
            "mon 09:00-17:00; tue 09:00-12:00,13:00-17:00"
        );
        let span: WeeklyHours = "Mon-Fri 09:00-17:00".parse().unwrap();
        assert_eq!(span, WeeklyHours::business_hours());
        assert_eq!(span.to_string().parse::<WeeklyHours>().unwrap(), span);
        assert!("".parse::<WeeklyHours>().unwrap().is_empty());

        let err = |s: &str| s.parse::<WeeklyHours>().unwrap_err().to_string();
        assert_eq!(
            err("tue 09:00-12:00,11:00-13:00"),
            "overlapping ranges on Tuesday: 09:00-12:00 and 11:00-13:00"
        );
        assert_eq!(
            err("xyz 09:00-10:00"),
            "unknown day 'xyz' (use mon, tue, wed, thu, fri, sat or sun)"
        );
        assert_eq!(
            err("mon"),
            "'mon': expected a day followed by hours such as 09:00-17:00, or 'off'"
        );
        assert_eq!(
            err("mon off; monday 09:00-10:00"),
            "Monday is given more than once"
        );
        assert_eq!(
            err("mon-fri 09:00-17:00; wed off"),
            "Wednesday is given more than once"
        );
        assert!(err("fri-mon 09:00-10:00").starts_with("unknown day 'fri-mon'"));
    }

    #[test]
    fn touching_ranges_are_not_overlaps() {
        let mut h = WeeklyHours::default();
        h.set(Weekday::Friday, vec![r("12:00-13:00"), r("09:00-12:00")])
            .unwrap();
        assert_eq!(h.ranges(Weekday::Friday).len(), 2);
        assert!(!h.is_empty());
        assert!(h
            .set(Weekday::Friday, vec![r("09:00-12:00"), r("09:00-12:00")])
            .is_err());
    }

    #[test]
    fn overrides_replace_the_weekday() {
        let weekly = WeeklyHours::business_hours();
        let mut o = DateOverrides::default();
        let monday = date(2026, 3, 9);
        let tuesday = date(2026, 3, 10);
        o.set(monday, vec![]).unwrap();
        o.set(tuesday, vec![r("10:00-11:00")]).unwrap();
        assert_eq!(hours_on(&weekly, &o, monday), []);
        assert_eq!(hours_on(&weekly, &o, tuesday), [r("10:00-11:00")]);
        assert_eq!(hours_on(&weekly, &o, date(2026, 3, 11)), [r("09:00-17:00")]);
        assert_eq!(o.iter().count(), 2);
        assert_eq!(o.remove(monday), Some(vec![]));
        assert_eq!(o.get(monday), None);
        assert_eq!(
            o.set(monday, vec![r("10:00-12:00"), r("11:00-13:00")])
                .unwrap_err()
                .to_string(),
            "overlapping ranges on 2026-03-09: 10:00-12:00 and 11:00-13:00"
        );
    }

    /// Random valid weekly hours: per day, distinct sorted quarter-hour points paired
    /// up into ranges, so the result is always a legal input.
    pub(crate) fn weekly_hours() -> impl Strategy<Value = WeeklyHours> {
        proptest::collection::vec(proptest::collection::btree_set(0u16..=96, 0..=6), 7).prop_map(
            |days| {
                let mut hours = WeeklyHours::default();
                for (day, points) in WEEK.into_iter().zip(days) {
                    let points: Vec<u16> = points.into_iter().collect();
                    let ranges = points
                        .chunks_exact(2)
                        .map(|p| TimeRange::from_minutes(p[0] * 15, p[1] * 15).unwrap())
                        .collect();
                    hours.set(day, ranges).unwrap();
                }
                hours
            },
        )
    }

    proptest! {
        #[test]
        fn weekly_hours_text_round_trips(hours in weekly_hours()) {
            let text = hours.to_string();
            let back: WeeklyHours = text.parse().unwrap();
            prop_assert_eq!(&back, &hours);
            prop_assert_eq!(back.to_string(), text);
        }
    }
}
