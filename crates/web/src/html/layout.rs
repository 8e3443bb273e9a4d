//! The page shell: navigation by permission, notices, the stylesheet, error pages.

use crate::auth::Session;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use convene_domain::{Permission, Role};
use maud::{html, Markup, PreEscaped, DOCTYPE};

const STYLE: &str = r#"
*{box-sizing:border-box}body{margin:0;font:15px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;color:#1f2937;background:#f6f7f9}
a{color:#2563eb}header{background:#111827;color:#fff;padding:10px 20px;display:flex;gap:18px;align-items:center;flex-wrap:wrap}
header a{color:#e5e7eb;text-decoration:none}header a:hover{color:#fff}header .brand{font-weight:700;color:#fff;margin-right:12px}
header form{margin-left:auto}main{max-width:1080px;margin:24px auto;padding:0 20px}
.card{background:#fff;border:1px solid #e5e7eb;border-radius:8px;padding:18px 20px;margin-bottom:18px}
h1{font-size:22px;margin:0 0 14px}h2{font-size:17px;margin:0 0 10px}
table{width:100%;border-collapse:collapse;background:#fff}th,td{text-align:left;padding:8px 10px;border-bottom:1px solid #eef0f3;vertical-align:top}
th{font-size:13px;color:#6b7280;font-weight:600}
input[type=text],input[type=email],input[type=password],input[type=search],input[type=tel],input[type=date],select,textarea{width:100%;padding:7px 9px;border:1px solid #d1d5db;border-radius:6px;font:inherit}
textarea{min-height:90px}label{display:block;margin:10px 0 4px;font-weight:600;font-size:14px}
button,.button{display:inline-block;background:#2563eb;color:#fff;border:0;border-radius:6px;padding:7px 14px;font:inherit;cursor:pointer;text-decoration:none}
button.secondary{background:#e5e7eb;color:#111827}button.danger{background:#dc2626}button.link{background:none;color:#2563eb;padding:0}
.tabs{display:flex;gap:6px;flex-wrap:wrap;margin-bottom:12px}.tabs a{padding:6px 12px;border-radius:999px;background:#fff;border:1px solid #e5e7eb;text-decoration:none;color:#374151}
.tabs a.current{background:#111827;color:#fff;border-color:#111827}.count{font-weight:600;margin-left:4px}
.badge{display:inline-block;min-width:20px;padding:0 6px;border-radius:999px;background:#dc2626;color:#fff;font-size:12px;text-align:center;margin-left:6px}
.pill{display:inline-block;padding:1px 8px;border-radius:999px;font-size:12px;background:#eef2ff;color:#3730a3}
.pill.pending{background:#fef3c7;color:#92400e}.pill.deactivated{background:#f3f4f6;color:#6b7280}.pill.active{background:#dcfce7;color:#166534}
.notice{background:#ecfdf5;border:1px solid #a7f3d0;padding:10px 14px;border-radius:6px;margin-bottom:14px}
.alert{background:#fef2f2;border:1px solid #fecaca;color:#991b1b;padding:10px 14px;border-radius:6px;margin-bottom:14px}
.banner{background:#dc2626;color:#fff;padding:12px 16px;border-radius:6px;margin-bottom:14px}.banner button{background:#fff;color:#dc2626;margin-left:10px}
.reasons{color:#b91c1c;font-size:13px;margin:0;padding-left:16px}.muted{color:#6b7280;font-size:13px}
details.kebab{position:relative;display:inline-block}details.kebab summary{list-style:none;cursor:pointer;padding:2px 8px;border-radius:4px}
details.kebab summary::-webkit-details-marker{display:none}details.kebab[open] .menu{position:absolute;right:0;z-index:5;background:#fff;border:1px solid #e5e7eb;border-radius:6px;padding:6px;min-width:170px;box-shadow:0 4px 12px rgba(0,0,0,.08)}
.menu form{margin:0}.menu button{display:block;width:100%;text-align:left;background:none;color:#111827;padding:6px 8px}.menu button:hover{background:#f3f4f6}
.row{display:flex;gap:14px;flex-wrap:wrap}.row>*{flex:1;min-width:200px}.checks label{font-weight:400;display:flex;gap:6px;align-items:center;margin:4px 0}
pre{white-space:pre-wrap;background:#f9fafb;border:1px solid #e5e7eb;padding:10px;border-radius:6px}
"#;

pub fn page(title: &str, session: Option<&Session>, notice: Option<&str>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Convene" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                header {
                    a.brand href="/" { "Convene" }
                    @if let Some(s) = session {
                        (nav(s))
                        form method="post" action="/logout" {
                            input type="hidden" name="_csrf" value=(s.csrf);
                            span.muted style="color:#9ca3af;margin-right:10px" { (s.actor.name) }
                            button.secondary type="submit" { "Sign out" }
                        }
                    }
                }
                main {
                    @if let Some(n) = notice.filter(|n| !n.is_empty()) {
                        div.notice role="status" { (n) }
                    }
                    (body)
                }
            }
        }
    }
}

fn nav(s: &Session) -> Markup {
    let a = &s.actor;
    html! {
        a href="/settings/profile" { "My Profile" }
        a href="/settings/calendars" { "Calendars" }
        a href="/settings/availability" { "Availability" }
        a href="/event-types" { "Event types" }
        a href="/meetings" { "Meetings" }
        @if a.can(Permission::ManageUsers) || a.can(Permission::ManageGroups) {
            a href="/settings/organization/users" { "Users" }
        }
        @if a.can(Permission::ManageGroups) || a.can(Permission::ManageUsers) {
            a href="/settings/groups" { "Groups" }
        }
        @if a.can(Permission::ManageIntegrations) {
            a href="/settings/organization" { "Organization" }
            a href="/settings/jobs" { "Jobs" }
        }
        @if a.can(Permission::ViewAuditLog) {
            a href="/settings/audit-log" { "Audit log" }
        }
        @if a.role == Role::Admin {
            a href="/settings/outbox" { "Outbox" }
        }
        @if a.can(Permission::ManageApiKeys) {
            a href="/settings/api-keys" { "API keys" }
        }
    }
}

pub fn error_page(status: StatusCode, message: &str) -> Response {
    let title = status.canonical_reason().unwrap_or("Error");
    let body = page(
        title,
        None,
        None,
        html! {
            div.card {
                h1 { (title) }
                p.alert role="alert" { (message) }
                p { a href="/" { "Back to Convene" } }
            }
        },
    );
    (status, Html(body.into_string())).into_response()
}

/// A CSRF field for a signed-in form.
pub fn csrf(s: &Session) -> Markup {
    html! { input type="hidden" name="_csrf" value=(s.csrf); }
}

pub fn time(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M UTC").to_string()
}
