//! The iCalendar (RFC 5545) invitation attached to booking emails: one `VEVENT` in a
//! `VCALENDAR` with an iTIP method (RFC 5546) — `REQUEST` for a new or moved booking,
//! `CANCEL` for a cancelled one. Pure: text in, text out, no IO and no clock (the
//! caller passes `DTSTAMP`).
//!
//! Written by hand rather than with a library: the format needed here is a dozen
//! properties, and doing it here keeps the three rules mail clients are strict about
//! in one visible place:
//! - **escaping** by value type: TEXT values (`SUMMARY`, `DESCRIPTION`, `LOCATION`,
//!   `UID`) escape `\`, `;`, `,` and newlines; URI values (`URL`, `mailto:`) are
//!   written as they are, since a join link's `;` or `,` is part of the link;
//!   parameter values (`CN`) are quoted when they hold `;`, `:` or `,`, with RFC 6868
//!   `^` escapes for quotes and newlines;
//! - **folding** at 75 octets (continuation lines start with a space, which counts),
//!   only between characters, so a multi-byte UTF-8 character is never split, and
//!   never inside a `\x` escape pair, which some clients fail to rejoin;
//! - **CRLF** line endings everywhere, the last line included.
//!
//! A client matches a `CANCEL` or a reschedule to the invitation it already has by
//! `UID` and applies it only if `SEQUENCE` is higher, so the UID must stay the same
//! for the life of a booking and the sequence must grow on every change.

use jiff::Timestamp;

/// RFC 5545 §3.1: content lines are at most 75 octets, excluding the CRLF.
const MAX_LINE_OCTETS: usize = 75;

/// The iTIP method of the invitation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IcsMethod {
    /// A new booking, or a changed one (same UID, higher sequence).
    Request,
    /// A cancelled booking (same UID, higher sequence).
    Cancel,
}

impl IcsMethod {
    /// `REQUEST` or `CANCEL`, as in `METHOD:` and the `text/calendar; method=` MIME
    /// parameter, which mail clients expect to agree.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Request => "REQUEST",
            Self::Cancel => "CANCEL",
        }
    }
}

/// The organizer or an attendee.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IcsPerson {
    /// Shown by calendar clients instead of the address (`CN`).
    pub name: Option<String>,
    pub email: String,
}

/// One booking as a calendar event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IcsEvent {
    /// Stable for the life of the booking, e.g. `<booking-id>@convene`.
    pub uid: String,
    /// Grows on each reschedule and on the cancellation.
    pub sequence: u32,
    pub method: IcsMethod,
    /// Written in UTC (`…Z`), so no `VTIMEZONE` is needed.
    pub start: Timestamp,
    pub end: Timestamp,
    /// `DTSTAMP`: when this version of the invitation was made.
    pub stamp: Timestamp,
    pub summary: String,
    pub description: String,
    /// A meeting link or an address.
    pub location: Option<String>,
    pub url: Option<String>,
    pub organizer: IcsPerson,
    pub attendees: Vec<IcsPerson>,
}

/// The `.ics` text of `event`, CRLF line endings, folded at 75 octets.
pub fn render(event: &IcsEvent) -> String {
    let mut out = Lines::default();
    out.line("BEGIN:VCALENDAR");
    out.line("PRODID:-//Convene//Convene//EN");
    out.line("VERSION:2.0");
    out.line("CALSCALE:GREGORIAN");
    out.line(&format!("METHOD:{}", event.method.as_str()));
    out.line("BEGIN:VEVENT");
    out.line(&format!("UID:{}", text(&event.uid)));
    out.line(&format!("SEQUENCE:{}", event.sequence));
    out.line(&format!("DTSTAMP:{}", utc(event.stamp)));
    out.line(&format!("DTSTART:{}", utc(event.start)));
    out.line(&format!("DTEND:{}", utc(event.end)));
    out.line(&format!("SUMMARY:{}", text(&event.summary)));
    out.line(&format!("DESCRIPTION:{}", text(&event.description)));
    if let Some(location) = &event.location {
        out.line(&format!("LOCATION:{}", text(location)));
    }
    if let Some(url) = &event.url {
        out.line(&format!("URL:{}", uri(url)));
    }
    out.line(&format!(
        "ORGANIZER{}:{}",
        common_name(&event.organizer),
        mailto(&event.organizer.email)
    ));
    for attendee in &event.attendees {
        out.line(&format!(
            "ATTENDEE{};ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:{}",
            common_name(attendee),
            mailto(&attendee.email)
        ));
    }
    out.line(match event.method {
        IcsMethod::Request => "STATUS:CONFIRMED",
        IcsMethod::Cancel => "STATUS:CANCELLED",
    });
    out.line("END:VEVENT");
    out.line("END:VCALENDAR");
    out.text
}

/// The output, one folded content line at a time.
#[derive(Default)]
struct Lines {
    text: String,
}

impl Lines {
    /// Appends `line` folded: a CRLF and a space before any character (or escape
    /// pair) that would take the physical line past 75 octets.
    fn line(&mut self, line: &str) {
        let mut width = 0;
        let mut rest = line;
        while let Some(first) = rest.chars().next() {
            // `\` starts a two-character escape (`\n`, `\;`, …): keep the pair together.
            let mut atom = first.len_utf8();
            if first == '\\' {
                atom += rest[atom..].chars().next().map_or(0, char::len_utf8);
            }
            if width > 0 && width + atom > MAX_LINE_OCTETS {
                self.text.push_str("\r\n ");
                width = 1;
            }
            self.text.push_str(&rest[..atom]);
            width += atom;
            rest = &rest[atom..];
        }
        self.text.push_str("\r\n");
    }
}

/// `20261201T150000Z`.
fn utc(t: Timestamp) -> String {
    t.strftime("%Y%m%dT%H%M%SZ").to_string()
}

/// A TEXT value (RFC 5545 §3.3.11): `\` `;` `,` escaped, any newline (CRLF, LF or CR)
/// as `\n`. Other control characters are dropped: TEXT may not hold them, and a client
/// that meets one may refuse the whole invitation.
fn text(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\r' => {
                chars.next_if_eq(&'\n');
                out.push_str("\\n");
            }
            '\n' => out.push_str("\\n"),
            '\t' => out.push('\t'),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// A URI value: written as given (escaping would change the link), without control
/// characters or surrounding whitespace, which cannot be part of a URI and would break
/// the line.
fn uri(value: &str) -> String {
    value.trim().chars().filter(|c| !c.is_control()).collect()
}

fn mailto(email: &str) -> String {
    format!("mailto:{}", uri(email))
}

/// `;CN=…` for a person with a non-blank name, else nothing.
fn common_name(person: &IcsPerson) -> String {
    match person.name.as_deref().map(str::trim) {
        Some(name) if !name.is_empty() => format!(";CN={}", param(name)),
        _ => String::new(),
    }
}

/// A parameter value (RFC 5545 §3.2 with RFC 6868): `^` `"` and newlines as `^^`
/// `^'` `^n`, since a parameter cannot hold a `"` even quoted; other control
/// characters dropped; quoted when it holds `;`, `:` or `,`, which end a bare value.
fn param(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '^' => out.push_str("^^"),
            '"' => out.push_str("^'"),
            '\r' => {
                chars.next_if_eq(&'\n');
                out.push_str("^n");
            }
            '\n' => out.push_str("^n"),
            '\t' => out.push('\t'),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    if out.contains([';', ':', ',']) {
        format!("\"{out}\"")
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(name: Option<&str>, email: &str) -> IcsPerson {
        IcsPerson {
            name: name.map(str::to_string),
            email: email.to_string(),
        }
    }

    fn event() -> IcsEvent {
        IcsEvent {
            uid: "0192e4a1-7c3b-7d4e-9f10-1a2b3c4d5e6f@convene".into(),
            sequence: 0,
            method: IcsMethod::Request,
            start: "2026-12-01T15:00:00Z".parse().unwrap(),
            end: "2026-12-01T15:30:00Z".parse().unwrap(),
            stamp: "2026-11-23T09:15:42.5Z".parse().unwrap(),
            summary: "Intro call".into(),
            description: "Say hello".into(),
            location: Some("https://zoom.us/j/85746065432?pwd=abc".into()),
            url: Some("https://convene.example/bookings/42".into()),
            organizer: person(Some("Grace Hopper"), "grace@convene.example"),
            attendees: vec![person(Some("Ada Lovelace"), "ada@example.com")],
        }
    }

    // ------------------------------------------------------------ a tiny reader

    /// One unfolded content line: name, parameters (values unquoted), raw value.
    #[derive(Debug, PartialEq)]
    struct Prop {
        name: String,
        params: Vec<(String, String)>,
        value: String,
    }

    impl Prop {
        fn param(&self, name: &str) -> Option<&str> {
            self.params
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
        }
    }

    /// The physical lines, checking the framing: CRLF after every line, no bare CR
    /// or LF, nothing longer than 75 octets.
    fn physical_lines(ics: &str) -> Vec<&str> {
        let body = ics.strip_suffix("\r\n").expect("ends with CRLF");
        let lines: Vec<&str> = body.split("\r\n").collect();
        for line in &lines {
            assert!(!line.contains(['\r', '\n']), "bare CR or LF in {line:?}");
            assert!(
                line.len() <= MAX_LINE_OCTETS,
                "{} octets: {line:?}",
                line.len()
            );
        }
        lines
    }

    /// RFC 5545 §3.1 unfolding: a line starting with a space continues the last one.
    fn unfold(ics: &str) -> Vec<String> {
        let mut lines: Vec<String> = Vec::new();
        for line in physical_lines(ics) {
            match (line.strip_prefix(' '), lines.last_mut()) {
                (Some(rest), Some(last)) => last.push_str(rest),
                _ => lines.push(line.to_string()),
            }
        }
        lines
    }

    /// Splits `NAME;P=v;Q="a:b":value`: the value starts at the first `:` outside quotes.
    fn split(line: &str) -> Prop {
        let mut quoted = false;
        let colon = line
            .char_indices()
            .find(|&(_, c)| {
                if c == '"' {
                    quoted = !quoted;
                }
                c == ':' && !quoted
            })
            .map(|(i, _)| i)
            .expect("a colon");
        let (head, value) = (&line[..colon], &line[colon + 1..]);
        let mut parts = Vec::new();
        let (mut start, mut quoted) = (0, false);
        for (i, c) in head.char_indices() {
            match c {
                '"' => quoted = !quoted,
                ';' if !quoted => {
                    parts.push(&head[start..i]);
                    start = i + 1;
                }
                _ => {}
            }
        }
        parts.push(&head[start..]);
        let params = parts[1..]
            .iter()
            .map(|p| {
                let (name, value) = p.split_once('=').expect("NAME=value");
                let value = value
                    .strip_prefix('"')
                    .and_then(|v| v.strip_suffix('"'))
                    .unwrap_or(value);
                (name.to_string(), value.to_string())
            })
            .collect();
        Prop {
            name: parts[0].to_string(),
            params,
            value: value.to_string(),
        }
    }

    fn parse(ics: &str) -> Vec<Prop> {
        unfold(ics).iter().map(|l| split(l)).collect()
    }

    fn prop<'a>(props: &'a [Prop], name: &str) -> &'a Prop {
        props
            .iter()
            .find(|p| p.name == name)
            .unwrap_or_else(|| panic!("no {name}"))
    }

    fn unescape_text(value: &str) -> String {
        let mut out = String::new();
        let mut chars = value.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                match chars.next() {
                    Some('n') | Some('N') => out.push('\n'),
                    Some(other) => out.push(other),
                    None => panic!("dangling backslash in {value:?}"),
                }
            } else {
                assert!(!matches!(c, ';' | ','), "unescaped {c:?} in {value:?}");
                out.push(c);
            }
        }
        out
    }

    fn unescape_param(value: &str) -> String {
        value
            .replace("^n", "\n")
            .replace("^'", "\"")
            .replace("^^", "^")
    }

    // ------------------------------------------------------------ tests

    #[test]
    fn request_is_the_expected_text() {
        let expected = [
            "BEGIN:VCALENDAR",
            "PRODID:-//Convene//Convene//EN",
            "VERSION:2.0",
            "CALSCALE:GREGORIAN",
            "METHOD:REQUEST",
            "BEGIN:VEVENT",
            "UID:0192e4a1-7c3b-7d4e-9f10-1a2b3c4d5e6f@convene",
            "SEQUENCE:0",
            "DTSTAMP:20261123T091542Z",
            "DTSTART:20261201T150000Z",
            "DTEND:20261201T153000Z",
            "SUMMARY:Intro call",
            "DESCRIPTION:Say hello",
            "LOCATION:https://zoom.us/j/85746065432?pwd=abc",
            "URL:https://convene.example/bookings/42",
            "ORGANIZER;CN=Grace Hopper:mailto:grace@convene.example",
            // 75 octets, then the rest on a continuation line.
            "ATTENDEE;CN=Ada Lovelace;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TR",
            " UE:mailto:ada@example.com",
            "STATUS:CONFIRMED",
            "END:VEVENT",
            "END:VCALENDAR",
            "",
        ]
        .join("\r\n");
        assert_eq!(render(&event()), expected);
    }

    #[test]
    fn output_parses_back() {
        let mut e = event();
        e.attendees
            .push(person(Some("Lovelace, Ada \"AL\""), "ada2@example.com"));
        e.attendees.push(person(None, "anon@example.com"));
        let props = parse(&render(&e));
        let names: Vec<&str> = props.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "BEGIN",
                "PRODID",
                "VERSION",
                "CALSCALE",
                "METHOD",
                "BEGIN",
                "UID",
                "SEQUENCE",
                "DTSTAMP",
                "DTSTART",
                "DTEND",
                "SUMMARY",
                "DESCRIPTION",
                "LOCATION",
                "URL",
                "ORGANIZER",
                "ATTENDEE",
                "ATTENDEE",
                "ATTENDEE",
                "STATUS",
                "END",
                "END"
            ]
        );
        assert_eq!(
            (props[0].value.as_str(), props[5].value.as_str()),
            ("VCALENDAR", "VEVENT")
        );
        assert_eq!(
            (props[20].value.as_str(), props[21].value.as_str()),
            ("VEVENT", "VCALENDAR")
        );
        let organizer = prop(&props, "ORGANIZER");
        assert_eq!(organizer.param("CN"), Some("Grace Hopper"));
        assert_eq!(organizer.value, "mailto:grace@convene.example");

        let attendees: Vec<&Prop> = props.iter().filter(|p| p.name == "ATTENDEE").collect();
        for a in &attendees {
            assert_eq!(a.param("ROLE"), Some("REQ-PARTICIPANT"));
            assert_eq!(a.param("PARTSTAT"), Some("NEEDS-ACTION"));
            assert_eq!(a.param("RSVP"), Some("TRUE"));
        }
        assert_eq!(
            attendees[1].param("CN").map(unescape_param).as_deref(),
            Some("Lovelace, Ada \"AL\"")
        );
        assert_eq!(attendees[1].value, "mailto:ada2@example.com");
        // No name, no CN.
        assert_eq!(attendees[2].param("CN"), None);
        assert_eq!(attendees[2].value, "mailto:anon@example.com");
    }

    #[test]
    fn a_long_description_folds_and_unfolds_back() {
        let mut e = event();
        e.description = (1..=60)
            .map(|n| format!("Line {n} of the agenda, with; some \\ punctuation."))
            .collect::<Vec<_>>()
            .join("\n");
        let ics = render(&e);
        let physical = physical_lines(&ics);
        assert!(physical.len() > 60, "folded into many lines");
        assert!(physical.iter().any(|l| l.len() == MAX_LINE_OCTETS));
        let props = parse(&ics);
        assert_eq!(
            unescape_text(&prop(&props, "DESCRIPTION").value),
            e.description
        );
    }

    #[test]
    fn text_is_escaped() {
        let mut e = event();
        e.summary = r"Plan; review, \ decide".into();
        e.description = "one\r\ntwo\nthree\rfour\u{7}\tend".into();
        e.location = Some("Room 1, Floor 2; Building \\A".into());
        let ics = render(&e);
        let props = parse(&ics);
        assert_eq!(prop(&props, "SUMMARY").value, r"Plan\; review\, \\ decide");
        assert_eq!(
            prop(&props, "DESCRIPTION").value,
            "one\\ntwo\\nthree\\nfour\tend"
        );
        assert_eq!(
            unescape_text(&prop(&props, "LOCATION").value),
            "Room 1, Floor 2; Building \\A"
        );
        assert_eq!(unescape_text(&prop(&props, "SUMMARY").value), e.summary);
    }

    #[test]
    fn uris_are_not_text_escaped() {
        let mut e = event();
        e.url = Some(" https://x.example/a;b,c?d=1\r\n".into());
        e.organizer.email = "o'neil+tag@example.com".into();
        let props = parse(&render(&e));
        assert_eq!(prop(&props, "URL").value, "https://x.example/a;b,c?d=1");
        assert_eq!(
            prop(&props, "ORGANIZER").value,
            "mailto:o'neil+tag@example.com"
        );
        e.url = None;
        e.location = None;
        let props = parse(&render(&e));
        assert!(props
            .iter()
            .all(|p| p.name != "URL" && p.name != "LOCATION"));
    }

    #[test]
    fn cancel_has_the_same_uid_and_status_cancelled() {
        let request = event();
        let cancel = IcsEvent {
            method: IcsMethod::Cancel,
            sequence: 2,
            ..request.clone()
        };
        let (req, can) = (parse(&render(&request)), parse(&render(&cancel)));
        assert_eq!(prop(&can, "METHOD").value, "CANCEL");
        assert_eq!(prop(&can, "STATUS").value, "CANCELLED");
        assert_eq!(prop(&can, "SEQUENCE").value, "2");
        assert_eq!(prop(&can, "UID").value, prop(&req, "UID").value);
        assert_eq!(prop(&req, "METHOD").value, "REQUEST");
        assert_eq!(prop(&req, "STATUS").value, "CONFIRMED");
        assert_eq!(IcsMethod::Cancel.as_str(), "CANCEL");
        assert_eq!(IcsMethod::Request.as_str(), "REQUEST");
    }

    #[test]
    fn non_ascii_folds_between_characters() {
        // Every padding puts a fold at a different byte of the 2-, 3- and 4-byte
        // characters; none may be split and every value must come back whole.
        for pad in 0..8 {
            let mut e = event();
            let name = format!(
                "{}Zoë Ødegård 日本語の名前 🎉🎉 Łukasz Müller-Straße",
                "x".repeat(pad)
            );
            e.attendees = vec![person(Some(&name), "zoe@example.com")];
            e.summary = format!("{}{}", "é".repeat(pad), "Café ☕ 会議 🗓️ ".repeat(8));
            let ics = render(&e);
            for line in physical_lines(&ics) {
                // A str cannot hold a split character; check the bytes as sent too.
                assert!(std::str::from_utf8(line.as_bytes()).is_ok());
            }
            let props = parse(&ics);
            assert_eq!(
                prop(&props, "ATTENDEE").param("CN").map(unescape_param),
                Some(name)
            );
            assert_eq!(unescape_text(&prop(&props, "SUMMARY").value), e.summary);
        }
    }

    #[test]
    fn a_fold_never_splits_an_escape_pair() {
        for pad in 0..4 {
            let mut e = event();
            e.description = format!("{}{}", "a".repeat(pad), "\n;,\\".repeat(40));
            let ics = render(&e);
            for line in physical_lines(&ics) {
                let trailing = line.len() - line.trim_end_matches('\\').len();
                assert!(trailing % 2 == 0, "line ends inside an escape: {line:?}");
            }
            assert_eq!(
                unescape_text(&prop(&parse(&ics), "DESCRIPTION").value),
                e.description
            );
        }
    }

    #[test]
    fn parameter_values_are_quoted_only_when_needed() {
        assert_eq!(param("Ada Lovelace"), "Ada Lovelace");
        assert_eq!(param("Lovelace, Ada"), "\"Lovelace, Ada\"");
        assert_eq!(param("a:b"), "\"a:b\"");
        assert_eq!(param("a;b"), "\"a;b\"");
        assert_eq!(param("Say \"hi\" ^_^"), "Say ^'hi^' ^^_^^");
        assert_eq!(param("two\r\nlines\u{0}"), "two^nlines");
        let blank = person(Some("  "), "x@example.com");
        assert_eq!(common_name(&blank), "");
    }
}
