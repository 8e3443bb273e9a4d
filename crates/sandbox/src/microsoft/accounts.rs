//! The Microsoft sandbox's people: the seeded test accounts offered on the consent
//! page, users created on the fly from any email, and how each answers a consent
//! request.
//!
//! | email | on consent | callback |
//! |---|---|---|
//! | `megan@microsoft.sandbox` | approves | `?code=…&state=…` |
//! | `nora@microsoft.sandbox` | her tenant lets only admins consent | `?error=consent_required&error_description=AADSTS65001: …` |
//! | `otto@microsoft.sandbox` | his tenant requires admin approval | `?error=access_denied&error_description=AADSTS90094: …` |
//! | `dan@microsoft.sandbox` | declines | `?error=access_denied&error_description=AADSTS65004: …` |
//! | any other email | approves | `?code=…` |
//!
//! Ids are derived from the email (user) and the domain (tenant), so they are the
//! same in every run: GUIDs, as Entra ID's are.

use sha2::{Digest, Sha256};

/// The seeded accounts, in the order the consent page shows them.
pub const TEST_ACCOUNTS: [&str; 4] = [
    "megan@microsoft.sandbox",
    "nora@microsoft.sandbox",
    "otto@microsoft.sandbox",
    "dan@microsoft.sandbox",
];

/// How a user answers the consent page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Decision {
    Approved,
    /// AADSTS65001: the tenant does not let users consent; an admin must.
    AdminConsentRequired,
    /// AADSTS90094: an admin must approve the request first.
    AdminApprovalRequired,
    /// AADSTS65004: the user declined.
    Denied,
}

impl Decision {
    /// The callback's `error` and `error_description` (without the client id), or
    /// `None` when a code is issued.
    pub(crate) fn error(self) -> Option<(&'static str, &'static str)> {
        match self {
            Decision::Approved => None,
            Decision::AdminConsentRequired => Some((
                "consent_required",
                "AADSTS65001: The user or administrator has not consented to use the application. Send an interactive authorization request for this user and resource. Only an administrator of this tenant can grant consent to this application.",
            )),
            Decision::AdminApprovalRequired => Some((
                "access_denied",
                "AADSTS90094: Admin approval required: an administrator of this organization must approve the application before you can use it. The user may have requested approval; it is pending.",
            )),
            Decision::Denied => Some((
                "access_denied",
                "AADSTS65004: User declined to consent to access the app.",
            )),
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct GraphUser {
    /// The object id (a GUID): what Convene binds the connection to.
    pub id: String,
    pub tenant_id: String,
    /// `mail` and `userPrincipalName` (lowercase).
    pub email: String,
    pub given_name: String,
    pub surname: String,
    pub decision: Decision,
    /// One of the four seeded test accounts.
    pub seeded: bool,
}

impl GraphUser {
    pub(crate) fn display_name(&self) -> String {
        format!("{} {}", self.given_name, self.surname)
    }
}

/// A GUID-shaped stable id: the first 16 bytes of SHA-256 of `namespace:name`, as a
/// version-4 UUID.
fn stable_guid(namespace: &str, name: &str) -> String {
    let digest = Sha256::digest(format!("{namespace}:{name}").as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest[..16]);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// The user id the sandbox gives `email` (stable across runs).
pub(crate) fn user_id_for(email: &str) -> String {
    stable_guid("microsoft-sandbox-user", &email.trim().to_ascii_lowercase())
}

/// A stable id for anything else derived from a name (calendars, tenants).
pub(crate) fn stable_id(namespace: &str, name: &str) -> String {
    stable_guid(namespace, name)
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

/// Builds the user for `email` (already normalized with [`parse_email`]).
pub(crate) fn make_user(email: &str) -> GraphUser {
    let local = email.split('@').next().unwrap_or(email);
    let domain = email.rsplit('@').next().unwrap_or(email);
    let (given, surname, decision) = match email {
        "megan@microsoft.sandbox" => ("Megan", "Bowen", Decision::Approved),
        "nora@microsoft.sandbox" => ("Nora", "Needs-Consent", Decision::AdminConsentRequired),
        "otto@microsoft.sandbox" => ("Otto", "Needs-Approval", Decision::AdminApprovalRequired),
        "dan@microsoft.sandbox" => ("Dan", "Denier", Decision::Denied),
        _ => (local, "Sandbox", Decision::Approved),
    };
    GraphUser {
        id: user_id_for(email),
        tenant_id: stable_id("microsoft-sandbox-tenant", domain),
        email: email.to_string(),
        given_name: capitalize(given),
        surname: surname.to_string(),
        decision,
        seeded: TEST_ACCOUNTS.contains(&email),
    }
}

/// What each seeded account does, for the consent page.
pub(crate) fn describe(email: &str) -> &'static str {
    match email {
        "megan@microsoft.sandbox" => "Approves.",
        "nora@microsoft.sandbox" => "Tenant admin must consent: consent_required, AADSTS65001.",
        "otto@microsoft.sandbox" => "Admin approval required: access_denied, AADSTS90094.",
        "dan@microsoft.sandbox" => "Declines: access_denied, AADSTS65004.",
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
        let decide = |email: &str| make_user(email).decision;
        assert_eq!(decide("megan@microsoft.sandbox"), Decision::Approved);
        assert_eq!(
            decide("nora@microsoft.sandbox"),
            Decision::AdminConsentRequired
        );
        assert_eq!(
            decide("otto@microsoft.sandbox"),
            Decision::AdminApprovalRequired
        );
        assert_eq!(decide("dan@microsoft.sandbox"), Decision::Denied);
        assert_eq!(decide("ada@example.com"), Decision::Approved);
        assert!(Decision::AdminConsentRequired
            .error()
            .is_some_and(|(e, d)| e == "consent_required" && d.starts_with("AADSTS65001:")));
        assert!(Decision::AdminApprovalRequired
            .error()
            .is_some_and(|(e, d)| e == "access_denied" && d.starts_with("AADSTS90094:")));
        let megan = make_user("megan@microsoft.sandbox");
        assert_eq!(megan.display_name(), "Megan Bowen");
        assert_eq!(megan.id, user_id_for(" Megan@Microsoft.Sandbox "));
        assert_eq!(megan.id.len(), 36);
        assert_eq!(&megan.id[14..15], "4");
        assert_eq!(make_user("ada@example.com").display_name(), "Ada Sandbox");
        assert_ne!(make_user("ada@example.com").tenant_id, megan.tenant_id);
    }

    #[test]
    fn free_form_emails_are_checked() {
        assert_eq!(parse_email(" Ada@Example.COM ").unwrap(), "ada@example.com");
        for bad in [
            "",
            "ada",
            "@example.com",
            "ada@example",
            "a da@x.com",
            "a@b@c.com",
        ] {
            assert!(parse_email(bad).is_err(), "{bad}");
        }
    }
}
