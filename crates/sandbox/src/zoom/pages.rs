//! The Zoom sandbox's HTML: the consent page with its test accounts, the error page
//! Zoom shows for a bad authorize request, and the control page. Element ids and
//! names are stable so browser tests can click them:
//! - consent: `button[name=account][value="alice@zoom.sandbox"]` (also `#account-alice`,
//!   `#account-bob`, `#account-carol`, `#account-admin`), `#email` + `#sign-in`;
//! - control: `#uninstall-<zoom user id>`, `#expire-<id>`, `#revoke-<id>`,
//!   `#pre-approve-<id>`, the faults form `#faults` (`#latency_ms`, `#error_rate`,
//!   `#rate_limit_rate`, `#retry_after_secs`, `#apply-faults`), `#clear-faults`,
//!   `#validate-webhook`; the meetings table `table#meetings` (always present; also
//!   `#no-meetings` when empty) with one `tr[data-meeting-id="<id>"][data-status=
//!   "scheduled"|"deleted"]` per meeting ever created, whose cells are `td.id`,
//!   `td.host` (host email), `td.topic`, `td.start` (RFC 3339 UTC,
//!   `2026-12-01T15:00:00Z`), `td.duration` (minutes), `td.agenda`, `td.join-url`,
//!   `td.updates` and `td.status`.

use maud::{html, Markup, PreEscaped, DOCTYPE};

use super::accounts::{describe, TEST_ACCOUNTS};
use super::oauth::AuthorizeRequest;
use super::ZoomSandboxStats;
use crate::faults::Faults;

const STYLE: &str = r#"
body { font-family: system-ui, sans-serif; margin: 0; background: #f4f6fb; color: #1d1d1f; }
main { max-width: 60rem; margin: 2rem auto; background: #fff; padding: 1.5rem 2rem; border-radius: 12px; box-shadow: 0 1px 4px rgba(0,0,0,.1); }
.banner { background: #fff4cc; border: 1px solid #e6c200; padding: .5rem .75rem; border-radius: 6px; font-size: .9rem; }
.brand { color: #0b5cff; font-weight: 700; font-size: 1.4rem; }
button { background: #0b5cff; color: #fff; border: 0; border-radius: 6px; padding: .45rem .9rem; cursor: pointer; font-size: .95rem; }
button.secondary { background: #e8ecf5; color: #1d1d1f; }
button.danger { background: #c62828; }
.accounts { list-style: none; padding: 0; }
.accounts li { display: flex; align-items: center; gap: 1rem; margin: .5rem 0; }
.accounts button { min-width: 18rem; text-align: left; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { border-bottom: 1px solid #e3e6ee; padding: .35rem .5rem; text-align: left; vertical-align: top; }
td form { display: inline; }
main.wide { max-width: 80rem; }
td button { font-size: .8rem; padding: .3rem .6rem; margin: .1rem 0; white-space: nowrap; }
code { font-size: .85rem; }
.ok { color: #1b7f3b; } .off { color: #8a8a8a; }
.flash { background: #e8f4ff; border: 1px solid #0b5cff; padding: .5rem .75rem; border-radius: 6px; }
"#;

fn layout(title: &str, body: Markup) -> Markup {
    page(title, "", body)
}

fn page(title: &str, main_class: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                main class=[(!main_class.is_empty()).then_some(main_class)] {
                    p .brand { "zoom" }
                    p .banner {
                        "Zoom sandbox, built into Convene: an emulator of Zoom's OAuth and API. "
                        "No real Zoom account is used."
                    }
                    (body)
                }
            }
        }
    }
}

fn hidden_fields(request: &AuthorizeRequest) -> Markup {
    html! {
        input type="hidden" name="response_type" value="code";
        input type="hidden" name="client_id" value=(request.client_id);
        input type="hidden" name="redirect_uri" value=(request.redirect_uri.as_str());
        input type="hidden" name="state" value=(request.state);
        input type="hidden" name="code_challenge" value=(request.code_challenge);
        input type="hidden" name="code_challenge_method" value="S256";
    }
}

/// The consent page: pick a test account (one click signs in and allows) or sign in
/// as any email.
pub(crate) fn consent(action: &str, request: &AuthorizeRequest, login_hint: &str) -> Markup {
    let app_host = request
        .redirect_uri
        .host_str()
        .unwrap_or_default()
        .to_string();
    layout(
        "Authorize Convene - Zoom",
        html! {
            h1 { "Convene would like to access your Zoom account" }
            p { "Convene (" code { (app_host) } ") is requesting permission to:" }
            ul #scopes {
                li { code { "meeting:write" } " — View and manage your meetings" }
                li { code { "user:read" } " — View your user information" }
            }
            h2 { "Sign in with a test account and allow" }
            form #consent-form method="post" action=(action) {
                (hidden_fields(request))
                ul .accounts {
                    @for email in TEST_ACCOUNTS {
                        @let slug = email.split('@').next().unwrap_or_default();
                        li {
                            button type="submit" name="account" value=(email) id={ "account-" (slug) } {
                                "Allow as " (email)
                            }
                            span { (describe(email)) }
                        }
                    }
                }
            }
            h2 { "Or sign in as another email" }
            form #other-account-form method="post" action=(action) {
                (hidden_fields(request))
                p {
                    label for="email" { "Email " }
                    input #email type="email" name="account" required placeholder="dana@example.com" value=(login_hint);
                    " "
                    button #sign-in type="submit" { "Sign in and allow" }
                }
                p { small { "Any email works: it becomes a Zoom user that approves, with an id derived from the email." } }
            }
        },
    )
}

/// Zoom's error page for a bad authorize request.
pub(crate) fn error(message: &str) -> Markup {
    layout(
        "Error - Zoom",
        html! {
            h1 { "Sorry, something went wrong" }
            p #error-message { (message) }
            p { "Check the authorization URL the app sent you here." }
        },
    )
}

/// An account as the control page shows it.
pub(crate) struct AccountView {
    pub id: String,
    pub name: String,
    pub requires_pre_approval: bool,
    pub pre_approved: bool,
}

/// Everything the control page shows.
pub(crate) struct ControlView<'a> {
    pub base: &'a str,
    pub message: Option<&'a str>,
    pub stats: &'a ZoomSandboxStats,
    pub faults: &'a Faults,
    pub accounts: &'a [AccountView],
    pub webhook_url: &'a str,
}

fn user_action(base: &str, action: &str, id: &str, user: &str, label: &str, class: &str) -> Markup {
    html! {
        form method="post" action={ (base) "/control/" (action) } {
            button type="submit" name="user" value=(user) id={ (action) "-" (id) } class=(class) { (label) }
        }
    }
}

/// The control page: users and their connections, meetings, faults, webhooks.
pub(crate) fn control(view: &ControlView<'_>) -> Markup {
    let base = view.base;
    let stats = view.stats;
    page(
        "Zoom sandbox - control",
        "wide",
        html! {
            h1 { "Zoom sandbox — control" }
            @if let Some(message) = view.message {
                p .flash #flash { (message) }
            }
            p {
                "Token exchanges " strong #stat-exchanges { (stats.token_exchanges) }
                " · refreshes " strong #stat-refreshes { (stats.token_refreshes) }
                " · refresh failures " strong #stat-refresh-failures { (stats.refresh_failures) }
                " · revocations " strong #stat-revocations { (stats.revocations) }
                " · uninstalls " strong { (stats.uninstalls) }
                " · meetings " strong { (stats.live_meetings().count()) } " live, "
                (stats.meetings.len()) " created"
                " · JSON: " a href={ (base) "/control/stats" } { "stats" }
            }
            h2 { "Zoom users" }
            table #users {
                thead { tr {
                    th { "Email" } th { "Zoom user id" } th { "Account" } th { "Role" }
                    th { "Connection" } th { "Refreshes" } th { "Last event" } th { "Actions" }
                } }
                tbody {
                    @for user in &stats.users {
                        @let account = view.accounts.iter().find(|a| a.id == user.account_id);
                        tr data-user=(user.email) {
                            td { (user.email) }
                            td { code { (user.id) } }
                            td {
                                (account.map_or(user.account_id.as_str(), |a| a.name.as_str()))
                                @if let Some(a) = account.filter(|a| a.requires_pre_approval) {
                                    br;
                                    small { @if a.pre_approved { "app pre-approved" } @else { "needs admin pre-approval" } }
                                }
                            }
                            td { (user.role_name) }
                            td {
                                @if user.connected {
                                    span .ok { "Connected" } " (" (user.live_grants) ")"
                                } @else {
                                    span .off { "Not connected" }
                                }
                            }
                            td { (user.refreshes) @if user.refresh_failures > 0 { " (" (user.refresh_failures) " refused)" } }
                            td { small { (user.last_event.as_deref().unwrap_or("—")) } }
                            td {
                                (user_action(base, "uninstall", &user.id, &user.email, "Uninstall the app", "danger"))
                                " "
                                (user_action(base, "expire", &user.id, &user.email, "Expire access tokens", "secondary"))
                                " "
                                (user_action(base, "revoke", &user.id, &user.email, "Revoke grant", "secondary"))
                                @if let Some(a) = account.filter(|a| a.requires_pre_approval) {
                                    " "
                                    form method="post" action={ (base) "/control/pre-approve" } {
                                        input type="hidden" name="user" value=(user.email);
                                        input type="hidden" name="approved" value=(if a.pre_approved { "false" } else { "true" });
                                        button type="submit" .secondary id={ "pre-approve-" (user.id) } {
                                            @if a.pre_approved { "Withdraw pre-approval" } @else { "Pre-approve the app" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            h2 { "Meetings" }
            p { "JSON: " a href={ (base) "/control/meetings" } { "meetings" } }
            @if stats.meetings.is_empty() {
                p .off #no-meetings { "No meetings yet." }
            }
            // Always rendered, even empty, so a browser test can wait for the table
            // and then count its rows.
            table #meetings {
                thead { tr {
                    th { "Id" } th { "Host" } th { "Topic" } th { "Start (UTC)" } th { "Minutes" }
                    th { "Agenda" } th { "Join URL" } th { "Updates" } th { "State" }
                } }
                tbody {
                    @for m in &stats.meetings {
                        @let status = if m.deleted { "deleted" } else { "scheduled" };
                        tr data-meeting-id=(m.id) data-status=(status) {
                            td .id { code { (m.id) } }
                            td .host { (m.host_email) }
                            td .topic { (m.topic) }
                            td .start { (m.start_time.strftime("%Y-%m-%dT%H:%M:%SZ")) }
                            td .duration { (m.duration) }
                            td .agenda { (m.agenda) }
                            td .join-url { code { (m.join_url) } }
                            td .updates { (m.updates) }
                            td .status { span class=(if m.deleted { "off" } else { "ok" }) { (status) } }
                        }
                    }
                }
            }
            h2 { "Faults" }
            p { "Applied to " code { "/v2/…" } " and " code { "/oauth/token" } ". Rates are probabilities from 0 to 1." }
            form #faults method="post" action={ (base) "/control/faults" } {
                p {
                    label for="latency_ms" { "Latency (ms) " }
                    input #latency_ms type="number" name="latency_ms" min="0" value=(view.faults.latency.as_millis());
                    " "
                    label for="error_rate" { "5xx rate " }
                    input #error_rate type="number" name="error_rate" min="0" max="1" step="0.01" value=(view.faults.error_rate);
                    " "
                    label for="rate_limit_rate" { "429 rate " }
                    input #rate_limit_rate type="number" name="rate_limit_rate" min="0" max="1" step="0.01" value=(view.faults.rate_limit_rate);
                    " "
                    label for="retry_after_secs" { "Retry-After (s) " }
                    input #retry_after_secs type="number" name="retry_after_secs" min="0" value=(view.faults.retry_after_secs);
                    " "
                    button #apply-faults type="submit" { "Apply faults" }
                }
            }
            form method="post" action={ (base) "/control/faults" } {
                input type="hidden" name="latency_ms" value="0";
                input type="hidden" name="error_rate" value="0";
                input type="hidden" name="rate_limit_rate" value="0";
                input type="hidden" name="retry_after_secs" value="1";
                button #clear-faults type="submit" .secondary { "Clear faults" }
            }
            h2 { "Webhooks" }
            p {
                "Sent to " code { (if view.webhook_url.is_empty() { "(not configured)" } else { view.webhook_url }) }
                ", signed with the secret token. "
            }
            form method="post" action={ (base) "/control/validate-webhook" } {
                button #validate-webhook type="submit" .secondary { "Validate the endpoint (endpoint.url_validation)" }
            }
            @if !stats.webhooks.is_empty() {
                table #webhooks {
                    thead { tr { th { "At" } th { "Event" } th { "User" } th { "Result" } } }
                    tbody {
                        @for w in stats.webhooks.iter().rev() {
                            tr {
                                td { (w.at.strftime("%Y-%m-%d %H:%M:%S UTC")) }
                                td { (w.event) }
                                td { code { (w.user_id.as_deref().unwrap_or("—")) } }
                                td {
                                    @if let Some(status) = w.status { "HTTP " (status) }
                                    @if let Some(error) = &w.error { (error) }
                                }
                            }
                        }
                    }
                }
            }
        },
    )
}
