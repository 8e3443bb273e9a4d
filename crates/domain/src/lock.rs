//! Admin edit locks (seed 002): one admin edits a given admin resource at a time.

use std::fmt;

/// What an admin lock protects. Each event type gets its own lock, so different admins
/// can edit different event types at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockResource {
    /// Org settings and org-wide integrations.
    OrgSettings,
    EventType(String),
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unknown lock resource '{0}' (expected 'org_settings' or 'event_type:<id>')")]
pub struct BadLockResource(pub String);

impl LockResource {
    pub fn key(&self) -> String {
        match self {
            LockResource::OrgSettings => "org_settings".into(),
            LockResource::EventType(id) => format!("event_type:{id}"),
        }
    }

    pub fn parse(s: &str) -> Result<Self, BadLockResource> {
        if s == "org_settings" {
            return Ok(Self::OrgSettings);
        }
        match s.strip_prefix("event_type:") {
            Some(id)
                if !id.is_empty()
                    && id.len() <= 64
                    && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') =>
            {
                Ok(Self::EventType(id.to_string()))
            }
            _ => Err(BadLockResource(s.chars().take(80).collect())),
        }
    }
}

impl fmt::Display for LockResource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LockResource::OrgSettings => f.write_str("organization settings"),
            LockResource::EventType(id) => write!(f, "event type {id}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip() {
        for r in [
            LockResource::OrgSettings,
            LockResource::EventType("abc-1".into()),
        ] {
            assert_eq!(LockResource::parse(&r.key()).unwrap(), r);
        }
        assert!(LockResource::parse("event_type:").is_err());
        assert!(LockResource::parse("everything").is_err());
    }
}
