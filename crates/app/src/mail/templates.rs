//! The text of the emails Convene sends.

use super::OutgoingEmail;
use convene_domain::OrgId;

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

pub fn invitation(
    org_id: OrgId,
    org_name: &str,
    inviter: &str,
    to: &str,
    join_url: &str,
    expires: &str,
) -> OutgoingEmail {
    let subject = format!("{inviter} invited you to {org_name} on Convene");
    let text = format!(
        "{inviter} invited you to join {org_name} on Convene.\n\n\
         Join Now: {join_url}\n\n\
         You will set your name, password and time zone, then connect your calendar and \
         add your conferencing details so meetings can be booked with you.\n\n\
         This link works once and expires on {expires}. If it has expired, ask an admin of \
         {org_name} to resend the invitation.\n"
    );
    let html = format!(
        "<p>{} invited you to join <strong>{}</strong> on Convene.</p>\
         <p><a href=\"{}\" style=\"display:inline-block;padding:10px 18px;background:#2563eb;color:#fff;border-radius:6px;text-decoration:none\">Join Now</a></p>\
         <p>You will set your name, password and time zone, then connect your calendar and add your conferencing details.</p>\
         <p style=\"color:#666\">This link works once and expires on {}.</p>",
        escape(inviter),
        escape(org_name),
        escape(join_url),
        escape(expires)
    );
    OutgoingEmail {
        org_id: Some(org_id),
        to: to.to_string(),
        subject,
        text,
        html: Some(html),
        calendar: None,
        message_key: None,
    }
}

pub fn deactivated(org_id: OrgId, org_name: &str, to: &str) -> OutgoingEmail {
    OutgoingEmail {
        org_id: Some(org_id),
        to: to.to_string(),
        subject: format!("Your {org_name} account on Convene was deactivated"),
        text: format!(
            "An admin of {org_name} deactivated your Convene account. You have been signed out \
             and your calendar and conferencing connections were removed. Meetings already on \
             record stay on record.\n"
        ),
        html: None,
        calendar: None,
        message_key: None,
    }
}

fn provider_name(provider: &str) -> &str {
    match provider {
        "zoom" => "Zoom",
        "microsoft" => "Microsoft",
        "google" => "Google",
        "salesforce" => "Salesforce",
        other => other,
    }
}

pub fn needs_reauth(org_id: OrgId, to: &str, provider: &str, profile_url: &str) -> OutgoingEmail {
    let name = provider_name(provider);
    OutgoingEmail {
        org_id: Some(org_id),
        to: to.to_string(),
        subject: format!("Action required: reconnect {name} to Convene"),
        text: format!(
            "Convene can no longer use your {name} connection: {name} refused to renew its access.\n\n\
             Until you reconnect, meetings that need a {name} link cannot be booked with you.\n\n\
             Reconnect: {profile_url}\n"
        ),
        html: None,
        calendar: None,
        message_key: None,
    }
}

pub fn zoom_revoked_user(org_id: OrgId, to: &str, profile_url: &str) -> OutgoingEmail {
    OutgoingEmail {
        org_id: Some(org_id),
        to: to.to_string(),
        subject: "Zoom was disconnected from Convene".into(),
        text: format!(
            "Convene was removed from your Zoom account in the Zoom App Marketplace, so we deleted \
             the Zoom credentials we held for you.\n\nMeetings that need a Zoom link cannot be booked \
             with you until you connect Zoom again: {profile_url}\n"
        ),
        html: None,
        calendar: None,
        message_key: None,
    }
}

pub fn zoom_revoked_admin(org_id: OrgId, to: &str, user: &str, users_url: &str) -> OutgoingEmail {
    OutgoingEmail {
        org_id: Some(org_id),
        to: to.to_string(),
        subject: format!("{user} disconnected Zoom from Convene"),
        text: format!(
            "{user} removed Convene from their Zoom account in the Zoom App Marketplace. Their Zoom \
             credentials were deleted and they are marked Action Required until they reconnect.\n\n\
             Users needing action: {users_url}\n"
        ),
        html: None,
        calendar: None,
        message_key: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invitation_has_the_link_in_both_parts_and_escapes_html() {
        let m = invitation(
            OrgId::new(),
            "A&B <Co>",
            "Ada",
            "x@y.com",
            "https://c/join/t",
            "2026-12-01",
        );
        assert!(m.text.contains("Join Now: https://c/join/t"));
        let html = m.html.unwrap();
        assert!(html.contains("href=\"https://c/join/t\""));
        assert!(html.contains("A&amp;B &lt;Co&gt;"));
    }
}
