//! The "invite by email" box: many addresses, any common separator, each judged alone.

use crate::email::{Email, EmailError};
use std::collections::HashSet;

/// Why one address of an invitation box was not invited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InviteRejection {
    Malformed(EmailError),
    /// The same address (case-insensitively) appears earlier in the same box.
    DuplicateInList,
    /// A user with this address already exists in the org (any status).
    AlreadyMember,
}

impl InviteRejection {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Malformed(_) => "malformed",
            Self::DuplicateInList => "duplicate",
            Self::AlreadyMember => "already_member",
        }
    }

    pub fn message(&self) -> String {
        match self {
            Self::Malformed(e) => format!("not a valid email address: {e}"),
            Self::DuplicateInList => "listed more than once in this invitation".into(),
            Self::AlreadyMember => "already a member of this organization".into(),
        }
    }
}

/// One address from the box, in the order it was typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InviteCandidate {
    pub raw: String,
    pub result: Result<Email, InviteRejection>,
}

/// Splits an invitation box on spaces, commas, semicolons and line breaks, parses each
/// address, and marks repeats. Membership ("already a member") needs the database and
/// is judged by the caller.
pub fn parse_invite_list(input: &str) -> Vec<InviteCandidate> {
    let mut seen = HashSet::new();
    input
        .split(|c: char| c.is_whitespace() || c == ',' || c == ';')
        .filter(|s| !s.is_empty())
        .map(|raw| {
            let result = Email::parse(raw)
                .map_err(InviteRejection::Malformed)
                .and_then(|email| {
                    if seen.insert(email.normalized().to_string()) {
                        Ok(email)
                    } else {
                        Err(InviteRejection::DuplicateInList)
                    }
                });
            InviteCandidate {
                raw: raw.to_string(),
                result,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn splits_on_every_separator_and_judges_each_address() {
        let list =
            parse_invite_list("a@x.com, b@x.com;c@x.com\nd@x.com\r\ne@x.com  f@x.com\tbad A@X.COM");
        let ok: Vec<_> = list
            .iter()
            .filter(|c| c.result.is_ok())
            .map(|c| c.raw.as_str())
            .collect();
        assert_eq!(
            ok,
            ["a@x.com", "b@x.com", "c@x.com", "d@x.com", "e@x.com", "f@x.com"]
        );
        assert!(matches!(list[6].result, Err(InviteRejection::Malformed(_))));
        assert_eq!(list[7].result, Err(InviteRejection::DuplicateInList));
    }

    #[test]
    fn empty_box_gives_nothing() {
        assert!(parse_invite_list(" ,;\n ").is_empty());
    }

    proptest! {
        #[test]
        fn every_token_is_reported_exactly_once(parts in proptest::collection::vec("[a-z]{1,5}(@[a-z]{1,5}\\.com)?", 0..30)) {
            let input = parts.join(", ");
            let list = parse_invite_list(&input);
            prop_assert_eq!(list.len(), parts.len());
            let accepted: HashSet<_> = list.iter().filter_map(|c| c.result.as_ref().ok()).map(|e| e.normalized().to_string()).collect();
            let accepted_count = list.iter().filter(|c| c.result.is_ok()).count();
            prop_assert_eq!(accepted.len(), accepted_count);
        }
    }
}
