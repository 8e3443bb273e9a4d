//! Small parsed values typed by people: names, slugs, passwords, time zones.

use serde::Serialize;
use std::fmt;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum NameError {
    #[error("{0} must not be empty")]
    Empty(&'static str),
    #[error("{0} must be at most {1} characters")]
    TooLong(&'static str, usize),
    #[error("{0} must not contain control characters")]
    Control(&'static str),
    #[error("the organization slug must be 2–50 characters of lowercase letters, digits and '-', not starting or ending with '-'")]
    BadSlug,
    #[error("the password must be at least 10 characters")]
    PasswordTooShort,
    #[error("the password must be at most 256 characters")]
    PasswordTooLong,
    #[error("unknown time zone '{0}' (use an IANA name such as Europe/Paris)")]
    UnknownTimeZone(String),
}

fn parse_text(input: &str, what: &'static str, max: usize) -> Result<String, NameError> {
    let s = input.trim();
    if s.is_empty() {
        return Err(NameError::Empty(what));
    }
    if s.chars().count() > max {
        return Err(NameError::TooLong(what, max));
    }
    if s.chars().any(char::is_control) {
        return Err(NameError::Control(what));
    }
    Ok(s.to_string())
}

macro_rules! text_type {
    ($(#[$doc:meta])* $name:ident, $what:literal, $max:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn parse(input: &str) -> Result<Self, NameError> {
                parse_text(input, $what, $max).map(Self)
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

text_type!(
    /// A person's display name.
    PersonName,
    "the name",
    100
);
text_type!(
    /// An organization's display name.
    OrgName,
    "the organization name",
    100
);
text_type!(
    /// A group's name (unique within an org).
    GroupName,
    "the group name",
    80
);

/// The URL-safe handle of an organization (`/book/{org}/…`, CLI `--org`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct OrgSlug(String);

impl OrgSlug {
    pub fn parse(input: &str) -> Result<Self, NameError> {
        let s = input.trim();
        let ok = (2..=50).contains(&s.len())
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !s.starts_with('-')
            && !s.ends_with('-');
        if ok {
            Ok(Self(s.to_string()))
        } else {
            Err(NameError::BadSlug)
        }
    }

    /// A slug derived from a display name ("Acme, Inc." → "acme-inc").
    pub fn from_name(name: &str) -> Result<Self, NameError> {
        let mut slug = String::new();
        for c in name.trim().chars().flat_map(char::to_lowercase) {
            if c.is_ascii_alphanumeric() {
                slug.push(c);
            } else if !slug.ends_with('-') && !slug.is_empty() {
                slug.push('-');
            }
        }
        let slug: String = slug.trim_end_matches('-').chars().take(50).collect();
        Self::parse(slug.trim_end_matches('-'))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for OrgSlug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A password as typed: length-checked, never printed.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub fn parse(input: &str) -> Result<Self, NameError> {
        let n = input.chars().count();
        if n < 10 {
            Err(NameError::PasswordTooShort)
        } else if n > 256 {
            Err(NameError::PasswordTooLong)
        } else {
            Ok(Self(input.to_string()))
        }
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// An IANA time-zone name known to the time-zone database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct TimeZoneName(String);

impl TimeZoneName {
    pub fn parse(input: &str) -> Result<Self, NameError> {
        let s = input.trim();
        if s.is_empty() || s.len() > 64 {
            return Err(NameError::UnknownTimeZone(s.chars().take(64).collect()));
        }
        match jiff::tz::TimeZone::get(s) {
            Ok(_) => Ok(Self(s.to_string())),
            Err(_) => Err(NameError::UnknownTimeZone(s.to_string())),
        }
    }

    pub fn utc() -> Self {
        Self("UTC".into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TimeZoneName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(PersonName::parse("  Ada ").unwrap().as_str(), "Ada");
        assert_eq!(PersonName::parse("   "), Err(NameError::Empty("the name")));
        assert!(PersonName::parse(&"x".repeat(101)).is_err());
        assert!(GroupName::parse("a\u{7}b").is_err());
    }

    #[test]
    fn slugs() {
        assert_eq!(
            OrgSlug::from_name("Acme, Inc.").unwrap().as_str(),
            "acme-inc"
        );
        assert!(OrgSlug::parse("Acme").is_err());
        assert!(OrgSlug::parse("-acme").is_err());
        assert!(OrgSlug::parse("a").is_err());
        assert!(OrgSlug::parse("acme-2").is_ok());
        // A slug from an address may hold anything: a NUL byte must not reach a query.
        for bad in ["acme\u{0}", "\u{0}acme", "ac\u{1b}me", "acme\u{7f}"] {
            assert_eq!(OrgSlug::parse(bad), Err(NameError::BadSlug), "{bad:?}");
        }
    }

    #[test]
    fn control_characters_are_refused_in_names_and_time_zones() {
        assert_eq!(
            PersonName::parse("Ada\u{0}"),
            Err(NameError::Control("the name"))
        );
        assert!(OrgName::parse("Acme\tInc").is_err());
        assert!(TimeZoneName::parse("UTC\u{0}").is_err());
        assert!(TimeZoneName::parse("Europe/Paris\u{0}").is_err());
    }

    #[test]
    fn passwords_and_time_zones() {
        assert_eq!(
            Password::parse("short").unwrap_err(),
            NameError::PasswordTooShort
        );
        assert!(Password::parse("long enough pw").is_ok());
        assert_eq!(
            format!("{:?}", Password::parse("secret-secret").unwrap()),
            "Password(<redacted>)"
        );
        assert!(TimeZoneName::parse("Europe/Paris").is_ok());
        assert!(TimeZoneName::parse("Asia/Kolkata").is_ok());
        assert!(TimeZoneName::parse("Mars/Olympus").is_err());
    }
}
