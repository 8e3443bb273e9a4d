//! The Google sandbox's HTML: the consent page with its test accounts, Google's error
//! page for a bad authorize request, and the control page. Element ids and names are
//! stable so browser tests can click them:
//! - consent: `button[name=account][value="gina@google.sandbox"]` (also
//!   `#account-gina`, `#account-denise`), `#email` + `#sign-in`; the requested scopes
//!   in `ul#scopes`;
//! - error: `#error-code` (`Error 400: invalid_request`), `#error-message`;
//! - control: the users table `table#users` with `tr[data-user="<email>"]`, their
//!   calendars (`li[data-calendar-id]`), `#revoke-<sub>` and `#expire-<sub>`; the
//!   busy form `#busy-form` (`#busy-account`, `#busy-calendar`, `#busy-start`,
//!   `#busy-end` — `datetime-local`, read as UTC —, `#busy-summary`, `#add-busy`); the
//!   events table `table#events` (always present; also `#no-events` when empty) with
//!   one `tr[data-event-id="<id>"][data-status="confirmed"|"deleted"]` per event ever
//!   written, whose cells are `td.account` (owner email), `td.calendar`, `td.summary`,
//!   `td.start` and `td.end` (RFC 3339 UTC, `2026-12-01T15:00:00Z`), `td.location`,
//!   `td.attendees`, `td.updates` and `td.status`; the faults form `#faults`
//!   (`#latency_ms`, `#error_rate`, `#rate_limit_rate`, `#retry_after_secs`,
//!   `#apply-faults`) and `#clear-faults`.

use maud::{html, Markup, PreEscaped, DOCTYPE};

use super::accounts::{describe, GOOGLE_TEST_ACCOUNTS};
use super::oauth::AuthorizeRequest;
use super::{scopes, GoogleSandboxStats, SandboxEvent};
use crate::faults::Faults;

const STYLE: &str = r#"
body { font-family: "Google Sans", Roboto, Arial, sans-serif; margin: 0; background: #f0f4f9; color: #1f1f1f; }
main { max-width: 56rem; margin: 2rem auto; background: #fff; padding: 1.5rem 2rem; border-radius: 28px; }
main.wide { max-width: 84rem; border-radius: 12px; }
.banner { background: #fef7e0; border: 1px solid #f9ab00; padding: .5rem .75rem; border-radius: 8px; font-size: .9rem; }
.brand { font-weight: 500; font-size: 1.4rem; }
.brand .g { color: #4285f4; } .brand .o1 { color: #ea4335; } .brand .o2 { color: #fbbc05; } .brand .l { color: #34a853; }
button { background: #0b57d0; color: #fff; border: 0; border-radius: 20px; padding: .5rem 1.1rem; cursor: pointer; font-size: .95rem; }
button.secondary { background: #e9eef6; color: #1f1f1f; }
button.danger { background: #b3261e; }
.accounts { list-style: none; padding: 0; }
.accounts li { display: flex; align-items: center; gap: 1rem; margin: .5rem 0; }
.accounts button { min-width: 18rem; text-align: left; }
table { border-collapse: collapse; width: 100%; font-size: .88rem; }
th, td { border-bottom: 1px solid #e3e3e3; padding: .35rem .5rem; text-align: left; vertical-align: top; }
td form { display: inline; }
td ul { margin: 0; padding-left: 1rem; }
td button { font-size: .8rem; padding: .3rem .7rem; margin: .1rem 0; white-space: nowrap; }
code { font-size: .85rem; }
.ok { color: #146c2e; } .off { color: #8a8a8a; }
.flash { background: #e8f0fe; border: 1px solid #0b57d0; padding: .5rem .75rem; border-radius: 8px; }
"#;

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
                    p .brand {
                        span .g { "G" } span .o1 { "o" } span .o2 { "o" } span .g { "g" } span .l { "l" } span .o1 { "e" }
                    }
                    p .banner {
                        "Google sandbox, built into Convene: an emulator of Google's sign-in and Calendar API. "
                        "No real Google account is used."
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
        input type="hidden" name="scope" value=(request.scope);
        input type="hidden" name="state" value=(request.state);
        input type="hidden" name="code_challenge" value=(request.code_challenge);
        input type="hidden" name="code_challenge_method" value="S256";
        input type="hidden" name="access_type" value=(request.access_type);
        @if !request.prompt.is_empty() {
            input type="hidden" name="prompt" value=(request.prompt);
        }
    }
}

/// The consent page: pick a test account (one click signs in and answers) or sign in
/// as any email.
pub(crate) fn consent(action: &str, request: &AuthorizeRequest, login_hint: &str) -> Markup {
    let app_host = request
        .redirect_uri
        .host_str()
        .unwrap_or_default()
        .to_string();
    page(
        "Sign in - Google Accounts",
        "",
        html! {
            h1 { "Convene wants to access your Google Account" }
            p { "Convene (" code { (app_host) } ") will be able to:" }
            ul #scopes {
                @for scope in &request.scopes {
                    li data-scope=(scope) { (scopes::describe(scope)) " — " code { (scope) } }
                }
            }
            @if request.access_type == "offline" {
                p { small { "Convene asks for offline access: it keeps access when you are not using it." } }
            }
            h2 { "Choose an account" }
            form #consent-form method="post" action=(action) {
                (hidden_fields(request))
                ul .accounts {
                    @for email in GOOGLE_TEST_ACCOUNTS {
                        @let slug = email.split('@').next().unwrap_or_default();
                        li {
                            button type="submit" name="account" value=(email) id={ "account-" (slug) } {
                                "Continue as " (email)
                            }
                            span { (describe(email)) }
                        }
                    }
                }
            }
            h2 { "Or use another account" }
            form #other-account-form method="post" action=(action) {
                (hidden_fields(request))
                p {
                    label for="email" { "Email " }
                    input #email type="email" name="account" required placeholder="dana@example.com" value=(login_hint);
                    " "
                    button #sign-in type="submit" { "Sign in and allow" }
                }
                p { small { "Any email works: it becomes a Google account that allows access, with its own calendars." } }
            }
        },
    )
}

/// Google's error page for a bad authorize request.
pub(crate) fn error(code: &str, message: &str) -> Markup {
    page(
        "Error - Google Accounts",
        "",
        html! {
            h1 { "Access blocked: Convene’s request is invalid" }
            p #error-code { "Error 400: " (code) }
            p #error-message { (message) }
            p { "Check the authorization URL the app sent you here." }
        },
    )
}

/// Everything the control page shows.
pub(crate) struct ControlView<'a> {
    pub base: &'a str,
    pub message: Option<&'a str>,
    pub stats: &'a GoogleSandboxStats,
    pub events: &'a [SandboxEvent],
    pub faults: &'a Faults,
}

fn account_action(base: &str, action: &str, sub: &str, email: &str, label: &str) -> Markup {
    html! {
        form method="post" action={ (base) "/control/" (action) } {
            button type="submit" name="account" value=(email) id={ (action) "-" (sub) } class="secondary" { (label) }
        }
    }
}

fn utc(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The control page: users and their calendars, events, a busy-time form, faults.
pub(crate) fn control(view: &ControlView<'_>) -> Markup {
    let base = view.base;
    let stats = view.stats;
    let live = view.events.iter().filter(|e| !e.deleted).count();
    page(
        "Google sandbox - control",
        "wide",
        html! {
            h1 { "Google sandbox — control" }
            @if let Some(message) = view.message {
                p .flash #flash { (message) }
            }
            p {
                "Token exchanges " strong #stat-exchanges { (stats.token_exchanges) }
                " · refreshes " strong #stat-refreshes { (stats.token_refreshes) }
                " · refresh failures " strong #stat-refresh-failures { (stats.refresh_failures) }
                " · revocations " strong #stat-revocations { (stats.revocations) }
                " · free/busy queries " strong #stat-freebusy { (stats.freebusy_queries) }
                " · events " strong { (live) } " live, " (view.events.len()) " in all"
                " · JSON: " a href={ (base) "/control/stats" } { "stats" }
                ", " a href={ (base) "/control/events" } { "events" }
            }
            h2 { "Google accounts" }
            table #users {
                thead { tr {
                    th { "Email" } th { "sub" } th { "Name" } th { "Calendars" } th { "Connection" }
                    th { "Refreshes" } th { "Last event" } th { "Actions" }
                } }
                tbody {
                    @for user in &stats.users {
                        tr data-user=(user.email) {
                            td { (user.email) }
                            td { code { (user.sub) } }
                            td { (user.name) }
                            td {
                                ul {
                                    @for c in &user.calendars {
                                        li data-calendar-id=(c.id) {
                                            (c.summary) " " small { "(" (c.access_role) @if c.primary { ", primary" } ")" }
                                            br; code { (c.id) }
                                        }
                                    }
                                }
                            }
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
                                (account_action(base, "revoke", &user.sub, &user.email, "Remove Convene's access"))
                                " "
                                (account_action(base, "expire", &user.sub, &user.email, "Expire access tokens"))
                            }
                        }
                    }
                }
            }
            h2 { "Add a busy time" }
            form #busy-form method="post" action={ (base) "/control/busy" } {
                p {
                    label for="busy-account" { "Account email " }
                    input #busy-account type="email" name="account" required list="known-accounts" placeholder="gina@google.sandbox";
                    datalist #known-accounts {
                        @for user in &stats.users { option value=(user.email) {} }
                    }
                    " "
                    label for="busy-calendar" { "Calendar " }
                    input #busy-calendar type="text" name="calendar" placeholder="primary";
                }
                p {
                    label for="busy-start" { "Start (UTC) " }
                    input #busy-start type="datetime-local" name="start" required;
                    " "
                    label for="busy-end" { "End (UTC) " }
                    input #busy-end type="datetime-local" name="end" required;
                    " "
                    label for="busy-summary" { "Summary " }
                    input #busy-summary type="text" name="summary" placeholder="Busy";
                    " "
                    button #add-busy type="submit" { "Add busy time" }
                }
            }
            h2 { "Events" }
            @if view.events.is_empty() {
                p .off #no-events { "No events yet." }
            }
            // Always rendered, even empty, so a browser test can wait for the table
            // and then count its rows.
            table #events {
                thead { tr {
                    th { "Account" } th { "Calendar" } th { "Summary" } th { "Start (UTC)" } th { "End (UTC)" }
                    th { "Location" } th { "Attendees" } th { "Updates" } th { "State" }
                } }
                tbody {
                    @for e in view.events {
                        @let status = if e.deleted { "deleted" } else { "confirmed" };
                        tr data-event-id=(e.id) data-calendar-id=(e.calendar_id) data-status=(status) {
                            td .account { (e.account.as_deref().unwrap_or("—")) }
                            td .calendar { code { (e.calendar_id) } }
                            td .summary { (e.summary) }
                            td .start { (utc(e.start)) }
                            td .end { (utc(e.end)) }
                            td .location { (e.location.as_deref().unwrap_or_default()) }
                            td .attendees {
                                @for (i, a) in e.attendees.iter().enumerate() {
                                    @if i > 0 { ", " }
                                    @if let Some(name) = &a.display_name { (name) " <" (a.email) ">" } @else { (a.email) }
                                }
                            }
                            td .updates { (e.updates) }
                            td .status { span class=(if e.deleted { "off" } else { "ok" }) { (status) } }
                        }
                    }
                }
            }
            h2 { "Faults" }
            p { "Applied to " code { "/calendar/v3/…" } ", " code { "/oauth2/v3/userinfo" } " and " code { "/token" } ". Rates are probabilities from 0 to 1." }
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
        },
    )
}
