//! The Google sandbox's people and their calendars: the seeded test accounts offered on
//! the consent page, accounts created on the fly from any email, and the three
//! calendars every account has.
//!
//! | email | on consent |
//! |---|---|
//! | `gina@google.sandbox` | approves |
//! | `denise@google.sandbox` | denies: redirect with `error=access_denied` |
//! | any other email | approves |
//!
//! Every account has, in its calendar list:
//!
//! | calendar | id | access role |
//! |---|---|---|
//! | primary (named after the email) | the email | `owner`, `primary: true` |
//! | "Team events" | `<16 hex>@group.calendar.google.com` (stable per email) | `writer` |
//! | "Holidays" | [`HOLIDAYS_CALENDAR_ID`] (one shared public calendar) | `reader` |
//!
//! The OpenID `sub` is 21 digits derived from the email, so it is the same in every
//! run: gina `103101815227707045337`, denise `108398384899333308440` (see
//! [`sub_for`]).

use sha2::{Digest, Sha256};

use crate::util;

/// The seeded accounts, in the order the consent page shows them.
pub const GOOGLE_TEST_ACCOUNTS: [&str; 2] = ["gina@google.sandbox", "denise@google.sandbox"];

/// The public holidays calendar every account subscribes to (read-only). Its `#`
/// must be percent-encoded in a URL path, as with Google's real holiday calendars.
pub(crate) const HOLIDAYS_CALENDAR_ID: &str = "en.usa#holiday@group.v.calendar.google.com";
pub(crate) const TEAM_CALENDAR_NAME: &str = "Team events";
pub(crate) const HOLIDAYS_CALENDAR_NAME: &str = "Holidays";

/// How a user answers the consent page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Consent {
    Approve,
    Deny,
}

/// A calendar's access role, weakest first (so `>=` means "at least").
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum AccessRole {
    FreeBusyReader,
    Reader,
    Writer,
    Owner,
}

impl AccessRole {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::FreeBusyReader => "freeBusyReader",
            Self::Reader => "reader",
            Self::Writer => "writer",
            Self::Owner => "owner",
        }
    }

    pub(crate) fn parse(raw: &str) -> Option<Self> {
        match raw {
            "freeBusyReader" => Some(Self::FreeBusyReader),
            "reader" => Some(Self::Reader),
            "writer" => Some(Self::Writer),
            "owner" => Some(Self::Owner),
            _ => None,
        }
    }

    pub(crate) fn can_write(self) -> bool {
        self >= Self::Writer
    }
}

/// One entry of a user's calendar list.
#[derive(Clone, Debug)]
pub(crate) struct Calendar {
    pub id: String,
    pub summary: String,
    pub access_role: AccessRole,
    pub primary: bool,
    pub time_zone: String,
}

#[derive(Clone, Debug)]
pub(crate) struct GoogleUser {
    /// The OpenID subject: Google's stable account id.
    pub sub: String,
    pub email: String,
    pub given_name: String,
    pub family_name: String,
    pub consent: Consent,
    pub calendars: Vec<Calendar>,
    /// One of the seeded test accounts.
    pub seeded: bool,
}

impl GoogleUser {
    pub(crate) fn name(&self) -> String {
        format!("{} {}", self.given_name, self.family_name)
            .trim()
            .to_string()
    }

    /// The calendar `id` names for this user (`primary` is their primary calendar).
    pub(crate) fn calendar(&self, id: &str) -> Option<&Calendar> {
        if id == "primary" {
            return self.calendars.iter().find(|c| c.primary);
        }
        self.calendars.iter().find(|c| c.id == id)
    }
}

/// The `sub` the sandbox gives `email`: 21 digits starting with `1`, as Google's are.
pub(crate) fn sub_for(email: &str) -> String {
    let email = email.trim().to_ascii_lowercase();
    format!(
        "10{}",
        util::stable_number(&format!("google-sub:{email}"), 19)
    )
}

/// The id of this user's "Team events" calendar.
fn team_calendar_id(email: &str) -> String {
    let digest = Sha256::digest(format!("google-team-calendar:{email}").as_bytes());
    format!("{}@group.calendar.google.com", hex::encode(&digest[..8]))
}

/// Checks a free-form email (consent form, control API) and normalizes it.
pub(crate) fn parse_email(raw: &str) -> Result<String, String> {
    let email = raw.trim().to_ascii_lowercase();
    let valid = email.len() <= 254
        && !email.chars().any(char::is_whitespace)
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.contains('@')
        });
    if valid {
        Ok(email)
    } else {
        Err(format!("“{raw}” is not an email address."))
    }
}

/// The user for `email` (already normalized with [`parse_email`]).
pub(crate) fn make_user(email: &str) -> GoogleUser {
    let local = email.split('@').next().unwrap_or(email);
    let (given_name, family_name, consent) = match email {
        "gina@google.sandbox" => ("Gina".to_string(), "Granter", Consent::Approve),
        "denise@google.sandbox" => ("Denise".to_string(), "Denier", Consent::Deny),
        _ => (capitalize(local), "Sandbox", Consent::Approve),
    };
    let time_zone = match email {
        "gina@google.sandbox" => "America/New_York",
        "denise@google.sandbox" => "Europe/Berlin",
        _ => "UTC",
    };
    let calendars = vec![
        Calendar {
            id: email.to_string(),
            summary: email.to_string(),
            access_role: AccessRole::Owner,
            primary: true,
            time_zone: time_zone.to_string(),
        },
        Calendar {
            id: team_calendar_id(email),
            summary: TEAM_CALENDAR_NAME.to_string(),
            access_role: AccessRole::Writer,
            primary: false,
            time_zone: time_zone.to_string(),
        },
        Calendar {
            id: HOLIDAYS_CALENDAR_ID.to_string(),
            summary: HOLIDAYS_CALENDAR_NAME.to_string(),
            access_role: AccessRole::Reader,
            primary: false,
            time_zone: "UTC".to_string(),
        },
    ];
    GoogleUser {
        sub: sub_for(email),
        email: email.to_string(),
        given_name,
        family_name: family_name.to_string(),
        consent,
        calendars,
        seeded: GOOGLE_TEST_ACCOUNTS.contains(&email),
    }
}

/// What each seeded account does, for the consent page.
pub(crate) fn describe(email: &str) -> &'static str {
    match email {
        "denise@google.sandbox" => "Denies access: access_denied.",
        _ => "Allows access.",
    }
}

fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seeded_accounts_behave_as_documented() {
        let gina = make_user("gina@google.sandbox");
        let denise = make_user("denise@google.sandbox");
        assert_eq!(gina.consent, Consent::Approve);
        assert_eq!(denise.consent, Consent::Deny);
        assert_eq!(make_user("dave@example.com").consent, Consent::Approve);
        assert_eq!(make_user("dave@example.com").name(), "Dave Sandbox");
        // The documented subs (module header) never change.
        assert_eq!(gina.sub, "103101815227707045337");
        assert_eq!(denise.sub, "108398384899333308440");
        assert_eq!(gina.sub, sub_for(" Gina@Google.Sandbox "));
        assert_eq!(gina.sub.len(), 21);

        assert_eq!(gina.calendars.len(), 3);
        assert_eq!(
            gina.calendar("primary").map(|c| c.id.as_str()),
            Some("gina@google.sandbox")
        );
        let team = &gina.calendars[1];
        assert!(team.id.ends_with("@group.calendar.google.com"));
        assert_ne!(team.id, denise.calendars[1].id);
        assert!(team.access_role.can_write());
        assert!(!gina.calendars[2].access_role.can_write());
        assert_eq!(gina.calendars[2].id, denise.calendars[2].id);
    }

    #[test]
    fn roles_are_ordered_and_named() {
        for role in [
            AccessRole::FreeBusyReader,
            AccessRole::Reader,
            AccessRole::Writer,
            AccessRole::Owner,
        ] {
            assert_eq!(AccessRole::parse(role.name()), Some(role));
        }
        assert!(AccessRole::Owner > AccessRole::Reader);
        assert_eq!(AccessRole::parse("admin"), None);
    }

    #[test]
    fn free_form_emails_are_checked() {
        assert_eq!(
            parse_email(" Dave@Example.COM ").unwrap(),
            "dave@example.com"
        );
        for bad in [
            "",
            "dave",
            "@example.com",
            "dave@example",
            "da ve@example.com",
        ] {
            assert!(parse_email(bad).is_err(), "{bad}");
        }
    }
}
