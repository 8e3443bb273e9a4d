//! Email addresses, parsed once at the edge.
//!
//! Emails are unique within an org *case-insensitively* (seed 002 and SPEC §2), so every
//! `Email` carries both the address as typed and its normalized (lower-cased) form;
//! storage indexes the normalized form.

use serde::{Serialize, Serializer};
use std::fmt;

#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Email {
    original: String,
    normalized: String,
}

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum EmailError {
    #[error("the email address is empty")]
    Empty,
    #[error("the email address is longer than 254 characters")]
    TooLong,
    #[error("the email address must contain exactly one '@' with text on both sides")]
    MissingAt,
    #[error("the email address contains a space or a control character")]
    Whitespace,
    #[error(
        "the domain of the email address must contain a dot and only letters, digits, '-' and '.'"
    )]
    BadDomain,
    #[error("the part before '@' contains a character that is not allowed")]
    BadLocalPart,
}

impl Email {
    pub fn parse(input: &str) -> Result<Self, EmailError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(EmailError::Empty);
        }
        if s.len() > 254 {
            return Err(EmailError::TooLong);
        }
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(EmailError::Whitespace);
        }
        let mut parts = s.split('@');
        let (local, domain) = match (parts.next(), parts.next(), parts.next()) {
            (Some(l), Some(d), None) if !l.is_empty() && !d.is_empty() => (l, d),
            _ => return Err(EmailError::MissingAt),
        };
        if local.len() > 64
            || local.starts_with('.')
            || local.ends_with('.')
            || local.contains("..")
            || !local
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c))
        {
            return Err(EmailError::BadLocalPart);
        }
        let labels: Vec<&str> = domain.split('.').collect();
        if labels.len() < 2
            || labels.iter().any(|l| {
                l.is_empty()
                    || l.len() > 63
                    || l.starts_with('-')
                    || l.ends_with('-')
                    || !l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            })
        {
            return Err(EmailError::BadDomain);
        }
        Ok(Self {
            original: s.to_string(),
            normalized: s.to_ascii_lowercase(),
        })
    }

    /// The address as the person typed it (used to send mail and to display).
    pub fn as_str(&self) -> &str {
        &self.original
    }

    /// The form compared for uniqueness.
    pub fn normalized(&self) -> &str {
        &self.normalized
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.original)
    }
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Email({})", self.original)
    }
}

impl Serialize for Email {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.original)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_ordinary_addresses_and_normalizes_case() {
        let e = Email::parse("  Ada.Lovelace+x@Example.COM ").unwrap();
        assert_eq!(e.as_str(), "Ada.Lovelace+x@Example.COM");
        assert_eq!(e.normalized(), "ada.lovelace+x@example.com");
        assert_eq!(e, Email::parse("Ada.Lovelace+x@Example.COM").unwrap());
    }

    #[test]
    fn rejects_malformed_addresses_with_a_reason() {
        assert_eq!(Email::parse(""), Err(EmailError::Empty));
        assert_eq!(Email::parse("no-at-sign"), Err(EmailError::MissingAt));
        assert_eq!(Email::parse("a@b@c.com"), Err(EmailError::MissingAt));
        assert_eq!(Email::parse("@x.com"), Err(EmailError::MissingAt));
        assert_eq!(Email::parse("a@localhost"), Err(EmailError::BadDomain));
        assert_eq!(Email::parse("a@-x.com"), Err(EmailError::BadDomain));
        assert_eq!(Email::parse("a..b@x.com"), Err(EmailError::BadLocalPart));
        assert_eq!(Email::parse("a(b)@x.com"), Err(EmailError::BadLocalPart));
        assert_eq!(Email::parse("a b@x.com"), Err(EmailError::Whitespace));
        let long = format!("{}@x.com", "a".repeat(250));
        assert_eq!(Email::parse(&long), Err(EmailError::TooLong));
    }

    proptest! {
        #[test]
        fn parse_never_panics_and_parsed_is_idempotent(s in "\\PC{0,80}") {
            if let Ok(e) = Email::parse(&s) {
                let again = Email::parse(e.as_str()).unwrap();
                prop_assert_eq!(again.normalized(), e.normalized());
                prop_assert!(e.normalized().contains('@'));
            }
        }

        #[test]
        fn simple_addresses_parse(local in "[a-z0-9]{1,20}", domain in "[a-z]{1,10}\\.[a-z]{2,5}") {
            let s = format!("{local}@{domain}");
            prop_assert!(Email::parse(&s).is_ok());
        }
    }
}
