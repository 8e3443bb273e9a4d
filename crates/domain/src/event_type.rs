//! Event types: what an invitee can book, and the settings an admin gives it.
//!
//! Every setting is parsed into a bounded value here, so the booking code never meets a
//! zero-minute meeting, a negative buffer or a question without a label.

use crate::role::UnknownVariant;
use jiff::SignedDuration;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EventTypeError {
    #[error("{what} must be between {min} and {max}")]
    OutOfRange {
        what: &'static str,
        min: i64,
        max: i64,
    },
    #[error("the slug must be 1–60 characters of lowercase letters, digits and '-', not starting or ending with '-'")]
    BadSlug,
    #[error("the title must be 1–120 characters without control characters")]
    BadTitle,
    #[error("the description must be at most 2000 characters")]
    DescriptionTooLong,
    #[error("the description must not contain control characters")]
    DescriptionControl,
    #[error("question {0}: {1}")]
    BadQuestion(usize, &'static str),
    #[error("at most {0} questions")]
    TooManyQuestions(usize),
    #[error("{0}")]
    Location(#[from] LocationError),
}

/// Who hosts an event type's meetings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventTypeKind {
    /// One host.
    Personal,
    /// One host out of several, chosen among those free at that time.
    RoundRobin,
    /// Every host attends; all must be free.
    Collective,
}

impl EventTypeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Personal => "personal",
            Self::RoundRobin => "round_robin",
            Self::Collective => "collective",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Personal => "Personal",
            Self::RoundRobin => "Round Robin",
            Self::Collective => "Collective",
        }
    }
}

impl FromStr for EventTypeKind {
    type Err = UnknownVariant;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [Self::Personal, Self::RoundRobin, Self::Collective]
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| UnknownVariant {
                what: "event type kind",
                value: s.chars().take(40).collect(),
                expected: "personal, round_robin, collective".into(),
            })
    }
}

impl fmt::Display for EventTypeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The last part of a booking page's address: `/book/{org}/{slug}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct EventSlug(String);

impl EventSlug {
    pub fn parse(input: &str) -> Result<Self, EventTypeError> {
        let s = input.trim();
        let ok = (1..=60).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !s.starts_with('-')
            && !s.ends_with('-');
        if ok {
            Ok(Self(s.to_string()))
        } else {
            Err(EventTypeError::BadSlug)
        }
    }

    /// A slug made from a title: "Intro call (30 min)" → "intro-call-30-min".
    pub fn from_title(title: &str) -> Result<Self, EventTypeError> {
        let mut out = String::new();
        for c in title.chars().flat_map(char::to_lowercase) {
            if c.is_ascii_alphanumeric() {
                out.push(c);
            } else if !out.ends_with('-') && !out.is_empty() {
                out.push('-');
            }
        }
        let out: String = out.trim_end_matches('-').chars().take(60).collect();
        Self::parse(out.trim_end_matches('-'))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EventSlug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An event type's title, shown on the booking page, in emails and as the meeting topic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct EventTitle(String);

impl EventTitle {
    pub fn parse(input: &str) -> Result<Self, EventTypeError> {
        let s = input.trim();
        if s.is_empty() || s.chars().count() > 120 || s.chars().any(char::is_control) {
            return Err(EventTypeError::BadTitle);
        }
        Ok(Self(s.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EventTitle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether `s` holds a control character (NUL included) other than those `allowed`.
fn has_control(s: &str, allowed: &[char]) -> bool {
    s.chars().any(|c| c.is_control() && !allowed.contains(&c))
}

/// The longest description an event type can have, in characters.
pub const MAX_DESCRIPTION: usize = 2000;

/// An event type's description as typed: trimmed, with `\r\n` line breaks as `\n`. It
/// may span lines and hold tabs, but no other control character (a NUL byte cannot even
/// be stored in PostgreSQL).
pub fn parse_description(input: &str) -> Result<String, EventTypeError> {
    let s = input.trim().replace('\r', "");
    if s.chars().count() > MAX_DESCRIPTION {
        return Err(EventTypeError::DescriptionTooLong);
    }
    if has_control(&s, &['\n', '\t']) {
        return Err(EventTypeError::DescriptionControl);
    }
    Ok(s)
}

fn bounded(what: &'static str, value: i64, min: i64, max: i64) -> Result<i64, EventTypeError> {
    if (min..=max).contains(&value) {
        Ok(value)
    } else {
        Err(EventTypeError::OutOfRange { what, min, max })
    }
}

/// The timing rules of an event type, in whole minutes and days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    duration_min: i64,
    interval_min: i64,
    buffer_before_min: i64,
    buffer_after_min: i64,
    min_notice_min: i64,
    window_days: i64,
    daily_limit: Option<i64>,
}

/// Unchecked timing as typed in a form or sent to the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimingInput {
    pub duration_min: i64,
    /// Defaults to the duration.
    pub interval_min: Option<i64>,
    pub buffer_before_min: i64,
    pub buffer_after_min: i64,
    pub min_notice_min: i64,
    pub window_days: i64,
    pub daily_limit: Option<i64>,
}

impl Timing {
    pub fn parse(t: TimingInput) -> Result<Self, EventTypeError> {
        let duration_min = bounded("duration (minutes)", t.duration_min, 5, 720)?;
        Ok(Self {
            duration_min,
            interval_min: bounded(
                "slot interval (minutes)",
                t.interval_min.unwrap_or(duration_min),
                5,
                720,
            )?,
            buffer_before_min: bounded("buffer before (minutes)", t.buffer_before_min, 0, 240)?,
            buffer_after_min: bounded("buffer after (minutes)", t.buffer_after_min, 0, 240)?,
            min_notice_min: bounded(
                "minimum notice (minutes)",
                t.min_notice_min,
                0,
                60 * 24 * 30,
            )?,
            window_days: bounded("booking window (days)", t.window_days, 1, 365)?,
            daily_limit: t
                .daily_limit
                .map(|l| bounded("daily limit", l, 1, 100))
                .transpose()?,
        })
    }

    pub fn input(&self) -> TimingInput {
        TimingInput {
            duration_min: self.duration_min,
            interval_min: Some(self.interval_min),
            buffer_before_min: self.buffer_before_min,
            buffer_after_min: self.buffer_after_min,
            min_notice_min: self.min_notice_min,
            window_days: self.window_days,
            daily_limit: self.daily_limit,
        }
    }

    pub fn duration_min(&self) -> i64 {
        self.duration_min
    }
    pub fn duration(&self) -> SignedDuration {
        SignedDuration::from_mins(self.duration_min)
    }
    pub fn interval(&self) -> SignedDuration {
        SignedDuration::from_mins(self.interval_min)
    }
    pub fn buffer_before(&self) -> SignedDuration {
        SignedDuration::from_mins(self.buffer_before_min)
    }
    pub fn buffer_after(&self) -> SignedDuration {
        SignedDuration::from_mins(self.buffer_after_min)
    }
    pub fn min_notice(&self) -> SignedDuration {
        SignedDuration::from_mins(self.min_notice_min)
    }
    pub fn window_days(&self) -> i64 {
        self.window_days
    }
    pub fn daily_limit(&self) -> Option<i64> {
        self.daily_limit
    }
}

/// What kind of answer a question takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuestionKind {
    ShortText,
    LongText,
    Phone,
}

impl QuestionKind {
    fn max_chars(self) -> usize {
        match self {
            Self::ShortText => 300,
            Self::LongText => 2000,
            Self::Phone => 40,
        }
    }
}

/// A question the invitee answers when booking.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    /// Stable key the answers are stored under; made from the position when empty.
    #[serde(default)]
    pub key: String,
    pub label: String,
    pub kind: QuestionKind,
    #[serde(default)]
    pub required: bool,
}

pub const MAX_QUESTIONS: usize = 10;

/// Checks a list of questions; keys are made from the labels when missing.
pub fn parse_questions(input: Vec<Question>) -> Result<Vec<Question>, EventTypeError> {
    if input.len() > MAX_QUESTIONS {
        return Err(EventTypeError::TooManyQuestions(MAX_QUESTIONS));
    }
    let mut out: Vec<Question> = Vec::with_capacity(input.len());
    for (i, mut q) in input.into_iter().enumerate() {
        let n = i + 1;
        q.label = q.label.trim().to_string();
        if q.label.is_empty() || q.label.chars().count() > 200 {
            return Err(EventTypeError::BadQuestion(
                n,
                "the label must be 1–200 characters",
            ));
        }
        if has_control(&q.label, &[]) {
            return Err(EventTypeError::BadQuestion(
                n,
                "the label must not contain control characters",
            ));
        }
        if q.key.trim().is_empty() {
            q.key = format!("q{n}");
        }
        q.key = q.key.trim().to_string();
        let key_ok = q.key.len() <= 40
            && q.key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !key_ok {
            return Err(EventTypeError::BadQuestion(
                n,
                "the key must be at most 40 letters, digits, '_' or '-'",
            ));
        }
        if out.iter().any(|o| o.key == q.key) {
            return Err(EventTypeError::BadQuestion(n, "two questions share a key"));
        }
        out.push(q);
    }
    Ok(out)
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AnswerError {
    #[error("'{0}' is required")]
    Missing(String),
    #[error("the answer to '{0}' is longer than {1} characters")]
    TooLong(String, usize),
    #[error("there is no question '{0}'")]
    Unknown(String),
    #[error("the answer to '{0}' must not contain control characters")]
    Control(String),
    #[error("the answer to '{0}' is not a phone number")]
    NotAPhone(String),
}

/// An invitee's answers, checked against the event type's questions.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Answers(BTreeMap<String, String>);

impl Answers {
    pub fn parse(
        questions: &[Question],
        input: &BTreeMap<String, String>,
    ) -> Result<Self, AnswerError> {
        if let Some(unknown) = input
            .keys()
            .find(|k| !questions.iter().any(|q| &q.key == *k))
        {
            return Err(AnswerError::Unknown(unknown.chars().take(40).collect()));
        }
        let mut out = BTreeMap::new();
        for q in questions {
            let answer = input.get(&q.key).map(|a| a.trim()).unwrap_or_default();
            if answer.is_empty() {
                if q.required {
                    return Err(AnswerError::Missing(q.label.clone()));
                }
                continue;
            }
            if answer.chars().count() > q.kind.max_chars() {
                return Err(AnswerError::TooLong(q.label.clone(), q.kind.max_chars()));
            }
            let allowed_control = |c: char| q.kind == QuestionKind::LongText && c == '\n';
            if answer
                .chars()
                .any(|c| c.is_control() && !allowed_control(c) && c != '\r')
            {
                return Err(AnswerError::Control(q.label.clone()));
            }
            if q.kind == QuestionKind::Phone && PhoneNumber::parse(answer).is_err() {
                return Err(AnswerError::NotAPhone(q.label.clone()));
            }
            out.insert(q.key.clone(), answer.replace('\r', ""));
        }
        Ok(Self(out))
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LocationError {
    #[error("the meeting link must be a valid https:// URL")]
    NotHttps,
    #[error("'{0}' is not a phone number (digits, spaces, + - ( ) . only, 5–20 digits)")]
    BadPhone(String),
    #[error("{0} must be at most {1} characters")]
    TooLong(&'static str, usize),
    #[error("{0} must not contain control characters")]
    Control(&'static str),
    #[error("enter at least one of: meeting link, dial-in details, phone number, address")]
    Empty,
    #[error("an in-person event type needs an address")]
    NoAddress,
}

/// A phone number as people type it; only its shape is checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PhoneNumber(String);

impl PhoneNumber {
    pub fn parse(input: &str) -> Result<Self, LocationError> {
        let s = input.trim();
        let digits = s.chars().filter(char::is_ascii_digit).count();
        let shape_ok = s
            .chars()
            .all(|c| c.is_ascii_digit() || " +-().".contains(c));
        if shape_ok && (5..=20).contains(&digits) && s.len() <= 40 {
            Ok(Self(s.to_string()))
        } else {
            Err(LocationError::BadPhone(s.chars().take(40).collect()))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for PhoneNumber {
    type Error = LocationError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}
impl From<PhoneNumber> for String {
    fn from(p: PhoneNumber) -> String {
        p.0
    }
}

/// An `https` URL, such as a personal meeting room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct HttpsUrl(String);

impl HttpsUrl {
    pub fn parse(input: &str) -> Result<Self, LocationError> {
        let s = input.trim();
        if s.len() > 500 {
            return Err(LocationError::TooLong("the meeting link", 500));
        }
        match url::Url::parse(s) {
            Ok(u) if u.scheme() == "https" && u.host_str().is_some_and(|h| !h.is_empty()) => {
                Ok(Self(u.to_string()))
            }
            _ => Err(LocationError::NotHttps),
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for HttpsUrl {
    type Error = LocationError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}
impl From<HttpsUrl> for String {
    fn from(u: HttpsUrl) -> String {
        u.0
    }
}

/// Meeting details a user typed in, used as they are for every meeting (SPEC §3.3).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ManualDetails {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<HttpsUrl>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dial_in: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<PhoneNumber>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
}

/// Text that may span lines (dial-in details, an address): trimmed, `\r\n` as `\n`, no
/// other control character; empty is absent.
fn optional_text(
    what: &'static str,
    input: Option<&str>,
    max: usize,
) -> Result<Option<String>, LocationError> {
    let Some(s) = input.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    if s.chars().count() > max {
        return Err(LocationError::TooLong(what, max));
    }
    if has_control(s, &['\n', '\r']) {
        return Err(LocationError::Control(what));
    }
    Ok(Some(s.replace('\r', "")))
}

impl ManualDetails {
    /// Parses form fields; empty fields are absent, and at least one must be given.
    pub fn parse(
        url: Option<&str>,
        dial_in: Option<&str>,
        phone: Option<&str>,
        address: Option<&str>,
    ) -> Result<Self, LocationError> {
        let details = Self {
            url: url
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(HttpsUrl::parse)
                .transpose()?,
            dial_in: optional_text("dial-in details", dial_in, 1000)?,
            phone: phone
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(PhoneNumber::parse)
                .transpose()?,
            address: optional_text("the address", address, 500)?,
        };
        if details.is_empty() {
            return Err(LocationError::Empty);
        }
        Ok(details)
    }

    pub fn is_empty(&self) -> bool {
        self.url.is_none()
            && self.dial_in.is_none()
            && self.phone.is_none()
            && self.address.is_none()
    }

    /// The one line that goes into a calendar event's LOCATION.
    pub fn headline(&self) -> String {
        if let Some(u) = &self.url {
            return u.as_str().to_string();
        }
        if let Some(p) = &self.phone {
            return format!("Phone: {}", p.as_str());
        }
        if let Some(a) = &self.address {
            return a.lines().collect::<Vec<_>>().join(", ");
        }
        self.dial_in
            .as_deref()
            .map(|d| d.lines().next().unwrap_or_default().to_string())
            .unwrap_or_default()
    }

    /// Everything, one item per line, for emails and event descriptions.
    pub fn describe(&self) -> String {
        let mut lines = Vec::new();
        if let Some(u) = &self.url {
            lines.push(format!("Join: {}", u.as_str()));
        }
        if let Some(p) = &self.phone {
            lines.push(format!("Phone: {}", p.as_str()));
        }
        if let Some(d) = &self.dial_in {
            lines.push(format!("Dial-in: {d}"));
        }
        if let Some(a) = &self.address {
            lines.push(format!("Address: {a}"));
        }
        lines.join("\n")
    }
}

/// Where an event type's meetings happen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventLocation {
    /// Each host's own meeting location setting (the usual choice).
    HostDefault,
    /// A Zoom meeting on the host's connection, whatever the host's setting.
    Zoom,
    /// The same details for every meeting.
    Manual {
        details: ManualDetails,
    },
    InPerson {
        address: String,
    },
}

impl EventLocation {
    pub fn in_person(address: &str) -> Result<Self, LocationError> {
        match optional_text("the address", Some(address), 500)? {
            Some(address) => Ok(Self::InPerson { address }),
            None => Err(LocationError::NoAddress),
        }
    }

    /// The same location with its text checked as [`ManualDetails::parse`] and
    /// [`EventLocation::in_person`] check it, for a location that was deserialized
    /// (e.g. from a JSON request) rather than parsed from its fields.
    pub fn checked(self) -> Result<Self, LocationError> {
        match self {
            Self::HostDefault | Self::Zoom => Ok(self),
            Self::Manual { details } => Ok(Self::Manual {
                details: ManualDetails::parse(
                    details.url.as_ref().map(HttpsUrl::as_str),
                    details.dial_in.as_deref(),
                    details.phone.as_ref().map(PhoneNumber::as_str),
                    details.address.as_deref(),
                )?,
            }),
            Self::InPerson { address } => Self::in_person(&address),
        }
    }

    pub fn label(&self) -> &'static str {
        match self {
            Self::HostDefault => "Host's meeting location",
            Self::Zoom => "Zoom",
            Self::Manual { .. } => "Manual details",
            Self::InPerson { .. } => "In person",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn timing(duration: i64) -> TimingInput {
        TimingInput {
            duration_min: duration,
            interval_min: None,
            buffer_before_min: 0,
            buffer_after_min: 0,
            min_notice_min: 0,
            window_days: 30,
            daily_limit: None,
        }
    }

    #[test]
    fn timing_bounds_name_the_field() {
        assert!(Timing::parse(timing(30)).is_ok());
        let err = Timing::parse(timing(0)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "duration (minutes) must be between 5 and 720"
        );
        let err = Timing::parse(TimingInput {
            buffer_after_min: -5,
            ..timing(30)
        })
        .unwrap_err();
        assert!(err.to_string().starts_with("buffer after"));
        assert_eq!(
            Timing::parse(timing(45)).unwrap().interval(),
            SignedDuration::from_mins(45)
        );
    }

    #[test]
    fn slugs() {
        assert_eq!(
            EventSlug::from_title("Intro call (30 min)")
                .unwrap()
                .as_str(),
            "intro-call-30-min"
        );
        assert!(EventSlug::parse("-a").is_err());
        assert!(EventSlug::parse("Demo").is_err());
        assert!(EventSlug::parse("").is_err());
        assert!(EventSlug::from_title("!!!").is_err());
    }

    #[test]
    fn answers_are_checked_against_questions() {
        let qs = parse_questions(vec![
            Question {
                key: String::new(),
                label: "Company".into(),
                kind: QuestionKind::ShortText,
                required: true,
            },
            Question {
                key: "phone".into(),
                label: "Phone".into(),
                kind: QuestionKind::Phone,
                required: false,
            },
        ])
        .unwrap();
        assert_eq!(qs[0].key, "q1");
        let mut input = BTreeMap::new();
        assert_eq!(
            Answers::parse(&qs, &input),
            Err(AnswerError::Missing("Company".into()))
        );
        input.insert("q1".into(), "Acme".into());
        assert!(Answers::parse(&qs, &input).is_ok());
        input.insert("phone".into(), "call me".into());
        assert_eq!(
            Answers::parse(&qs, &input),
            Err(AnswerError::NotAPhone("Phone".into()))
        );
        input.insert("phone".into(), "+1 (555) 010-0000".into());
        input.insert("q1".into(), "x".repeat(301));
        assert!(matches!(
            Answers::parse(&qs, &input),
            Err(AnswerError::TooLong(_, 300))
        ));
        input.insert("q1".into(), "Acme".into());
        input.insert("evil".into(), "x".into());
        assert_eq!(
            Answers::parse(&qs, &input),
            Err(AnswerError::Unknown("evil".into()))
        );
    }

    #[test]
    fn manual_details_need_https_and_something() {
        assert_eq!(
            ManualDetails::parse(None, Some(" "), None, None),
            Err(LocationError::Empty)
        );
        assert_eq!(
            ManualDetails::parse(Some("http://meet.example.com/x"), None, None, None),
            Err(LocationError::NotHttps)
        );
        assert_eq!(
            ManualDetails::parse(Some("javascript:alert(1)"), None, None, None),
            Err(LocationError::NotHttps)
        );
        let d = ManualDetails::parse(
            Some("https://meet.example.com/room"),
            None,
            Some("+44 20 7946 0000"),
            None,
        )
        .unwrap();
        assert_eq!(d.headline(), "https://meet.example.com/room");
        assert!(d.describe().contains("Phone: +44 20 7946 0000"));
        let json = serde_json::to_string(&d).unwrap();
        assert_eq!(serde_json::from_str::<ManualDetails>(&json).unwrap(), d);
        assert!(serde_json::from_str::<ManualDetails>(r#"{"url":"http://x"}"#).is_err());
    }

    #[test]
    fn slugs_from_an_address_refuse_control_characters() {
        for bad in ["chat\u{0}", "\u{0}", "ch\u{0}at", "chat\u{1b}"] {
            assert_eq!(
                EventSlug::parse(bad),
                Err(EventTypeError::BadSlug),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn descriptions_may_span_lines_but_hold_no_other_control_character() {
        assert_eq!(
            parse_description("  Line one\r\n\tLine two  ").unwrap(),
            "Line one\n\tLine two"
        );
        assert_eq!(parse_description("   ").unwrap(), "");
        for bad in [
            "a\u{0}b",
            "\u{0}",
            "a\u{7}b",
            "a\u{1b}[31mb",
            "a\u{7f}b",
            "a\u{85}b",
        ] {
            assert_eq!(
                parse_description(bad),
                Err(EventTypeError::DescriptionControl),
                "{bad:?}"
            );
        }
        assert_eq!(
            parse_description("a\u{0}b").unwrap_err().to_string(),
            "the description must not contain control characters"
        );
        assert!(parse_description(&"x".repeat(MAX_DESCRIPTION)).is_ok());
        assert_eq!(
            parse_description(&"x".repeat(MAX_DESCRIPTION + 1)),
            Err(EventTypeError::DescriptionTooLong)
        );
    }

    fn question(label: &str) -> Question {
        Question {
            key: String::new(),
            label: label.into(),
            kind: QuestionKind::ShortText,
            required: false,
        }
    }

    #[test]
    fn question_labels_refuse_control_characters() {
        assert!(parse_questions(vec![question("Topic")]).is_ok());
        for bad in [
            "To\u{0}pic",
            "Topic\u{0}",
            "To\npic",
            "To\tpic",
            "To\u{1b}pic",
        ] {
            let err = parse_questions(vec![question("Company"), question(bad)]).unwrap_err();
            assert_eq!(
                err,
                EventTypeError::BadQuestion(2, "the label must not contain control characters"),
                "{bad:?}"
            );
        }
        // Only the label's ends are trimmed; a NUL at the end is not whitespace.
        assert_eq!(
            parse_questions(vec![question("  Topic \n")]).unwrap()[0].label,
            "Topic"
        );
    }

    #[test]
    fn manual_details_may_span_lines_but_hold_no_other_control_character() {
        let d = ManualDetails::parse(
            None,
            Some("Dial +1 555 0100\r\nPIN 1234"),
            None,
            Some("1 Main St\nSpringfield"),
        )
        .unwrap();
        assert_eq!(d.dial_in.as_deref(), Some("Dial +1 555 0100\nPIN 1234"));
        assert_eq!(d.address.as_deref(), Some("1 Main St\nSpringfield"));
        for bad in ["a\u{0}b", "\u{0}", "a\tb", "a\u{7}b", "a\u{1b}b"] {
            assert_eq!(
                ManualDetails::parse(None, Some(bad), None, None),
                Err(LocationError::Control("dial-in details")),
                "{bad:?}"
            );
            assert_eq!(
                ManualDetails::parse(Some("https://meet.example.com/x"), None, None, Some(bad)),
                Err(LocationError::Control("the address")),
                "{bad:?}"
            );
            assert_eq!(
                EventLocation::in_person(bad),
                Err(LocationError::Control("the address")),
                "{bad:?}"
            );
        }
        assert_eq!(
            LocationError::Control("the address").to_string(),
            "the address must not contain control characters"
        );
        // A phone number or a link with a NUL is not one.
        assert!(ManualDetails::parse(None, None, Some("+1 555\u{0} 0100"), None).is_err());
        assert!(
            ManualDetails::parse(Some("https://meet.example.com/\u{0}"), None, None, None)
                .is_ok_and(|d| !d.url.unwrap().as_str().contains('\u{0}'))
        );
    }

    #[test]
    fn a_deserialized_location_is_checked_like_a_parsed_one() {
        let parse = |json: &str| {
            serde_json::from_str::<EventLocation>(json)
                .unwrap()
                .checked()
        };
        assert_eq!(
            parse(r#"{"kind":"manual","details":{"dial_in":"a\u0000b"}}"#),
            Err(LocationError::Control("dial-in details"))
        );
        assert_eq!(
            parse(r#"{"kind":"manual","details":{"address":"x"}}"#).unwrap(),
            EventLocation::Manual {
                details: ManualDetails::parse(None, None, None, Some("x")).unwrap()
            }
        );
        assert_eq!(
            parse(r#"{"kind":"manual","details":{}}"#),
            Err(LocationError::Empty)
        );
        assert_eq!(
            parse(r#"{"kind":"manual","details":{"dial_in":"x"}}"#).unwrap(),
            EventLocation::Manual {
                details: ManualDetails::parse(None, Some("x"), None, None).unwrap()
            }
        );
        assert_eq!(
            parse(&format!(
                r#"{{"kind":"manual","details":{{"dial_in":"{}"}}}}"#,
                "x".repeat(1001)
            )),
            Err(LocationError::TooLong("dial-in details", 1000))
        );
        assert_eq!(
            parse(r#"{"kind":"in_person","address":"  1 Main St\r\nSpringfield "}"#).unwrap(),
            EventLocation::InPerson {
                address: "1 Main St\nSpringfield".into()
            }
        );
        assert_eq!(
            parse(r#"{"kind":"in_person","address":"a\u0000"}"#),
            Err(LocationError::Control("the address"))
        );
        assert_eq!(parse(r#"{"kind":"zoom"}"#).unwrap(), EventLocation::Zoom);
    }

    proptest! {
        #[test]
        fn any_description_with_a_control_character_is_refused(
            before in "\\PC{0,40}",
            // C0 and C1 controls and DEL, but the line breaks and tab a text may hold.
            c in (0u32..0x41)
                .prop_map(|i| if i < 0x20 { i } else { 0x7f + (i - 0x20) })
                .prop_filter_map("a line break or tab", |i| {
                    char::from_u32(i).filter(|c| !['\n', '\r', '\t'].contains(c))
                }),
            after in "\\PC{0,40}",
        ) {
            // Between letters, as trimming would take a space-like control at either end.
            let text = format!("{before}x{c}x{after}");
            prop_assert_eq!(parse_description(&text), Err(EventTypeError::DescriptionControl));
            prop_assert!(ManualDetails::parse(None, Some(&text), None, None).is_err());
            prop_assert!(EventLocation::in_person(&text).is_err());
        }

        #[test]
        fn slug_from_any_title_is_valid_or_refused(title in "\\PC{0,80}") {
            if let Ok(slug) = EventSlug::from_title(&title) {
                prop_assert!(EventSlug::parse(slug.as_str()).is_ok());
            }
        }

        #[test]
        fn timing_accepts_exactly_the_bounds(d in -10i64..800, b in -10i64..300) {
            let r = Timing::parse(TimingInput { buffer_before_min: b, ..timing(d) });
            prop_assert_eq!(r.is_ok(), (5..=720).contains(&d) && (0..=240).contains(&b));
        }
    }
}
