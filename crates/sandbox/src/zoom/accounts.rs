//! The Zoom sandbox's people: the seeded test accounts offered on the consent page,
//! accounts created on the fly from any email, and how each answers a consent request.
//!
//! | email | Zoom account | role | on consent |
//! |---|---|---|---|
//! | `alice@zoom.sandbox` | Sandbox Co | Member | approves |
//! | `bob@zoom.sandbox` | Locked-down Co (needs admin pre-approval) | Member | refused: `access_denied`, "must be pre-approved by your Zoom account admin" |
//! | `carol@zoom.sandbox` | Sandbox Co | Member | denies: `access_denied`, "The user denied…" |
//! | `admin@zoom.sandbox` | Sandbox Co | Admin | approves |
//! | any other email | Sandbox Co for `@zoom.sandbox`, else one account per domain | Admin when the local part is `admin`, else Member | approves |
//!
//! Ids are derived from the email (user) and the account's key (account), so they are
//! the same in every run (see [`user_id_for`]): alice `sJOirh4xzCwSBZh-tRMjIg`, bob
//! `QjiI1kUh3I7IbzTerTO-8w`, carol `NnqhuNteAEOWlhUMi08L8g`, admin
//! `dnwa13FUqnMG49R88-tC5Q`; Sandbox Co `R_wgrwrN8bEPu97xyCMAMQ`, Locked-down Co
//! `Pdf_0CC6Bhj8ReVwUrxIfA`.

use jiff::Timestamp;

use crate::util;

/// The Zoom account every `@zoom.sandbox` email belongs to (except bob's).
const SANDBOX_ACCOUNT_KEY: &str = "zoom.sandbox";
/// Bob's account, which requires the admin to pre-approve apps.
const LOCKED_ACCOUNT_KEY: &str = "locked-down.zoom.sandbox";

/// The seeded accounts, in the order the consent page shows them.
pub const TEST_ACCOUNTS: [&str; 4] = [
    "alice@zoom.sandbox",
    "bob@zoom.sandbox",
    "carol@zoom.sandbox",
    "admin@zoom.sandbox",
];

/// The Zoom user id the sandbox gives `email` (stable across runs).
pub(crate) fn user_id_for(email: &str) -> String {
    util::stable_id("zoom-sandbox-user", &email.trim().to_ascii_lowercase())
}

fn account_id_for(key: &str) -> String {
    util::stable_id("zoom-sandbox-account", key)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    Admin,
    Member,
}

impl Role {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Role::Admin => "Admin",
            Role::Member => "Member",
        }
    }

    /// Zoom's role ids: 0 owner, 1 admin, 2 member.
    pub(crate) fn id(self) -> &'static str {
        match self {
            Role::Admin => "1",
            Role::Member => "2",
        }
    }
}

/// How a user answers the consent page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Consent {
    Approve,
    Deny,
}

/// The outcome of an authorization attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Decision {
    Approved,
    NeedsPreApproval,
    Denied,
}

#[derive(Clone, Debug)]
pub(crate) struct Account {
    pub id: String,
    pub name: String,
    /// The account admin must pre-approve apps before members can authorize them.
    pub requires_pre_approval: bool,
    /// The admin has pre-approved this app (set from the control page).
    pub pre_approved: bool,
}

#[derive(Clone, Debug)]
pub(crate) struct ZoomUser {
    pub id: String,
    pub account_id: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub role: Role,
    pub timezone: String,
    pub pmi: u64,
    pub consent: Consent,
    pub created_at: Timestamp,
    /// One of the four seeded test accounts.
    pub seeded: bool,
}

impl ZoomUser {
    pub(crate) fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

/// Checks a free-form email for the "sign in as another email" field and normalizes it.
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

/// The account a new email belongs to: `(key, display name, requires pre-approval)`.
fn account_of(email: &str) -> (String, String, bool) {
    if email == "bob@zoom.sandbox" {
        return (LOCKED_ACCOUNT_KEY.into(), "Locked-down Co".into(), true);
    }
    let domain = email.rsplit('@').next().unwrap_or(SANDBOX_ACCOUNT_KEY);
    if domain == SANDBOX_ACCOUNT_KEY {
        (SANDBOX_ACCOUNT_KEY.into(), "Sandbox Co".into(), false)
    } else {
        (domain.to_string(), domain.to_string(), false)
    }
}

/// Builds the account and user for `email` (already normalized with [`parse_email`]).
pub(crate) fn make_user(email: &str) -> (Account, ZoomUser) {
    let (key, account_name, requires_pre_approval) = account_of(email);
    let account = Account {
        id: account_id_for(&key),
        name: account_name,
        requires_pre_approval,
        pre_approved: false,
    };
    let local = email.split('@').next().unwrap_or(email);
    let (first_name, last_name, role, timezone, consent) = match email {
        "alice@zoom.sandbox" => (
            "Alice",
            "Approver",
            Role::Member,
            "America/New_York",
            Consent::Approve,
        ),
        "bob@zoom.sandbox" => (
            "Bob",
            "Needs-Approval",
            Role::Member,
            "Europe/London",
            Consent::Approve,
        ),
        "carol@zoom.sandbox" => ("Carol", "Denier", Role::Member, "Asia/Tokyo", Consent::Deny),
        "admin@zoom.sandbox" => (
            "Ada",
            "Admin",
            Role::Admin,
            "America/Los_Angeles",
            Consent::Approve,
        ),
        _ if local == "admin" => ("Account", "Admin", Role::Admin, "UTC", Consent::Approve),
        _ => (local, "Sandbox", Role::Member, "UTC", Consent::Approve),
    };
    let user = ZoomUser {
        id: user_id_for(email),
        account_id: account.id.clone(),
        email: email.to_string(),
        first_name: capitalize(first_name),
        last_name: last_name.to_string(),
        role,
        timezone: timezone.to_string(),
        pmi: util::stable_number(email, 10),
        consent,
        created_at: Timestamp::now(),
        seeded: TEST_ACCOUNTS.contains(&email),
    };
    (account, user)
}

/// What `user` of `account` answers on the consent page.
pub(crate) fn decide(user: &ZoomUser, account: &Account) -> Decision {
    if account.requires_pre_approval && !account.pre_approved && !user.is_admin() {
        Decision::NeedsPreApproval
    } else if user.consent == Consent::Deny {
        Decision::Denied
    } else {
        Decision::Approved
    }
}

/// What each seeded account does, for the consent page.
pub(crate) fn describe(email: &str) -> &'static str {
    match email {
        "alice@zoom.sandbox" => "Approves.",
        "bob@zoom.sandbox" => "Account needs admin pre-approval: refused with access_denied.",
        "carol@zoom.sandbox" => "Denies consent: access_denied.",
        "admin@zoom.sandbox" => "Zoom account admin (role Admin): approves.",
        _ => "Approves.",
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
        let decide_for = |email: &str| {
            let (account, user) = make_user(email);
            decide(&user, &account)
        };
        assert_eq!(decide_for("alice@zoom.sandbox"), Decision::Approved);
        assert_eq!(decide_for("bob@zoom.sandbox"), Decision::NeedsPreApproval);
        assert_eq!(decide_for("carol@zoom.sandbox"), Decision::Denied);
        assert_eq!(decide_for("admin@zoom.sandbox"), Decision::Approved);
        assert_eq!(decide_for("dave@example.com"), Decision::Approved);
        let (_, admin) = make_user("admin@zoom.sandbox");
        let (_, alice) = make_user("alice@zoom.sandbox");
        let (_, bob) = make_user("bob@zoom.sandbox");
        assert_eq!(admin.role.name(), "Admin");
        assert_eq!(admin.account_id, alice.account_id);
        assert_ne!(bob.account_id, alice.account_id);
        assert_eq!(alice.id, user_id_for(" Alice@Zoom.Sandbox "));
        // The documented ids (module header) never change.
        assert_eq!(alice.id, "sJOirh4xzCwSBZh-tRMjIg");
        assert_eq!(bob.id, "QjiI1kUh3I7IbzTerTO-8w");
        assert_eq!(admin.id, "dnwa13FUqnMG49R88-tC5Q");
        assert_eq!(alice.account_id, "R_wgrwrN8bEPu97xyCMAMQ");
        assert_eq!(bob.account_id, "Pdf_0CC6Bhj8ReVwUrxIfA");
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
            "a@b@c.com",
        ] {
            assert!(parse_email(bad).is_err(), "{bad}");
        }
    }
}
