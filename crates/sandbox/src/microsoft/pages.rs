//! The Microsoft sandbox's HTML: the consent ("Permissions requested") page with its
//! test accounts, the error page for a bad authorize request, and the control page.
//! Element ids and names are stable so browser tests can click them:
//! - consent: `button[name=account][value="megan@microsoft.sandbox"]` (also
//!   `#account-megan`, `#account-nora`, `#account-otto`, `#account-dan`), `#email` +
//!   `#sign-in`;
//! - control: `table#users` (`tr[data-user="<email>"]`, `#revoke-<user id>`,
//!   `#expire-<user id>`); `table#events` (always present; also `#no-events` when
//!   empty) with one `tr[data-event-id="<id>"][data-status="confirmed"|"deleted"]`
//!   per event ever created, whose cells are `td.account`, `td.calendar`,
//!   `td.subject`, `td.start` and `td.end` (RFC 3339 UTC, `2026-12-01T15:00:00Z`),
//!   `td.location`, `td.attendees`, `td.show-as`, `td.updates` and `td.status`;
//!   `table#online-meetings` with `tr[data-meeting-id][data-status="scheduled"|"deleted"]`;
//!   the busy form `#busy-form` (`#busy-account`, `#busy-start`, `#busy-end`,
//!   `#busy-subject`, `#add-busy`; times as `datetime-local`, read as UTC); the faults
//!   form `#faults` (`#latency_ms`, `#error_rate`, `#rate_limit_rate`,
//!   `#retry_after_secs`, `#apply-faults`) and `#clear-faults`.

use maud::{html, Markup, PreEscaped, DOCTYPE};

use super::accounts::{describe, TEST_ACCOUNTS};
use super::oauth::AuthorizeRequest;
use super::{MicrosoftSandboxStats, SandboxEvent, SandboxOnlineMeeting};
use crate::faults::Faults;

const STYLE: &str = r#"
body { font-family: "Segoe UI", system-ui, sans-serif; margin: 0; background: #f2f2f2; color: #1b1b1b; }
main { max-width: 40rem; margin: 2rem auto; background: #fff; padding: 1.5rem 2rem; box-shadow: 0 2px 6px rgba(0,0,0,.2); }
main.wide { max-width: 84rem; }
.banner { background: #fff4cc; border: 1px solid #e6c200; padding: .5rem .75rem; font-size: .9rem; }
.brand { font-weight: 600; font-size: 1.2rem; color: #5e5e5e; }
.brand span { display: inline-block; width: .6rem; height: .6rem; margin-right: 1px; }
button { background: #0067b8; color: #fff; border: 0; padding: .45rem .9rem; cursor: pointer; font-size: .95rem; }
button.secondary { background: #e6e6e6; color: #1b1b1b; }
button.danger { background: #c62828; }
.accounts { list-style: none; padding: 0; }
.accounts li { display: flex; align-items: center; gap: 1rem; margin: .5rem 0; }
.accounts button { min-width: 19rem; text-align: left; }
table { border-collapse: collapse; width: 100%; font-size: .88rem; }
th, td { border-bottom: 1px solid #e3e3e3; padding: .35rem .5rem; text-align: left; vertical-align: top; }
td form { display: inline; }
td button { font-size: .8rem; padding: .3rem .6rem; margin: .1rem 0; white-space: nowrap; }
code { font-size: .82rem; word-break: break-all; }
.ok { color: #107c10; } .off { color: #8a8a8a; }
.flash { background: #e8f4ff; border: 1px solid #0067b8; padding: .5rem .75rem; }
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
                        span style="background:#f25022" {} span style="background:#7fba00" {}
                        span style="background:#00a4ef" {} span style="background:#ffb900" {}
                        " Microsoft"
                    }
                    p .banner {
                        "Microsoft sandbox, built into Convene: an emulator of the Microsoft identity platform and Graph. "
                        "No real Microsoft account is used."
                    }
                    (body)
                }
            }
        }
    }
}

fn hidden_fields(request: &AuthorizeRequest) -> Markup {
    html! {
        input type="hidden" name="client_id" value=(request.client_id);
        input type="hidden" name="response_type" value="code";
        input type="hidden" name="redirect_uri" value=(request.redirect_uri.as_str());
        input type="hidden" name="response_mode" value="query";
        input type="hidden" name="scope" value=(request.scope);
        input type="hidden" name="state" value=(request.state);
        input type="hidden" name="code_challenge" value=(request.code_challenge);
        input type="hidden" name="code_challenge_method" value="S256";
    }
}

/// What a scope lets the app do, as the consent page words it.
fn scope_text(scope: &str) -> &'static str {
    match scope {
        "openid" | "profile" | "email" => "Sign you in and read your profile",
        "offline_access" => "Maintain access to data you have given it access to",
        "User.Read" => "Sign in and read user profile",
        "Calendars.ReadWrite" => "Have full access to your calendars",
        "Calendars.Read" => "Read your calendars",
        "OnlineMeetings.ReadWrite" => "Read and create your online meetings",
        _ => "Access your data",
    }
}

/// The consent page: pick a test account (one click signs in and answers as that
/// account does) or sign in as any email.
pub(crate) fn consent(action: &str, request: &AuthorizeRequest, login_hint: &str) -> Markup {
    let app_host = request
        .redirect_uri
        .host_str()
        .unwrap_or_default()
        .to_string();
    page(
        "Permissions requested - Microsoft",
        "",
        html! {
            h1 { "Permissions requested" }
            p { strong { "Convene" } " (" code { (app_host) } ") would like to:" }
            ul #scopes {
                @for scope in request.scope.split_whitespace() {
                    li { code { (scope) } " — " (scope_text(scope)) }
                }
            }
            h2 { "Sign in with a test account" }
            form #consent-form method="post" action=(action) {
                (hidden_fields(request))
                ul .accounts {
                    @for email in TEST_ACCOUNTS {
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
            h2 { "Or sign in as another email" }
            form #other-account-form method="post" action=(action) {
                (hidden_fields(request))
                p {
                    label for="email" { "Email " }
                    input #email type="email" name="account" required placeholder="ada@example.com" value=(login_hint);
                    " "
                    button #sign-in type="submit" { "Sign in and accept" }
                }
                p { small { "Any email works: it becomes a user who accepts, with an id derived from the email." } }
            }
        },
    )
}

/// The page for a bad authorize request.
pub(crate) fn error(message: &str) -> Markup {
    page(
        "Sign in to your account - Microsoft",
        "",
        html! {
            h1 { "Sorry, but we’re having trouble signing you in." }
            p #error-message { (message) }
            p { "Check the authorization URL the app sent you here." }
        },
    )
}

/// Everything the control page shows.
pub(crate) struct ControlView<'a> {
    pub base: &'a str,
    pub message: Option<&'a str>,
    pub stats: &'a MicrosoftSandboxStats,
    pub faults: &'a Faults,
    pub events: &'a [SandboxEvent],
    pub meetings: &'a [SandboxOnlineMeeting],
}

fn user_action(base: &str, action: &str, id: &str, email: &str, label: &str) -> Markup {
    html! {
        form method="post" action={ (base) "/control/" (action) } {
            button type="submit" name="account" value=(email) id={ (action) "-" (id) } class="secondary" { (label) }
        }
    }
}

fn utc(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The control page: users, calendars and connections, events, Teams meetings,
/// a form to add a busy event, faults.
pub(crate) fn control(view: &ControlView<'_>) -> Markup {
    let base = view.base;
    let stats = view.stats;
    let calendar_name = |id: &str| {
        stats
            .users
            .iter()
            .flat_map(|u| &u.calendars)
            .find(|c| c.id == id)
            .map_or("?", |c| c.name.as_str())
            .to_string()
    };
    page(
        "Microsoft sandbox - control",
        "wide",
        html! {
            h1 { "Microsoft sandbox — control" }
            @if let Some(message) = view.message {
                p .flash #flash { (message) }
            }
            p {
                "Token exchanges " strong #stat-exchanges { (stats.token_exchanges) }
                " · refreshes " strong #stat-refreshes { (stats.token_refreshes) }
                " · refresh failures " strong #stat-refresh-failures { (stats.refresh_failures) }
                " · events created " strong #stat-events-created { (stats.events_created) }
                " (" (stats.events_deduplicated) " retried creates answered by transactionId)"
                " · JSON: " a href={ (base) "/control/stats" } { "stats" } ", "
                a href={ (base) "/control/events" } { "events" } ", "
                a href={ (base) "/control/online-meetings" } { "online meetings" }
            }
            h2 { "Users" }
            table #users {
                thead { tr {
                    th { "Email" } th { "User id" } th { "Calendars" } th { "Connection" }
                    th { "Refreshes" } th { "Last event" } th { "Actions" }
                } }
                tbody {
                    @for user in &stats.users {
                        tr data-user=(user.email) {
                            td { (user.email) br; small { (user.display_name) } }
                            td { code { (user.id) } }
                            td {
                                @for c in &user.calendars {
                                    (c.name) @if c.is_default { " (default)" } br;
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
                                (user_action(base, "expire", &user.id, &user.email, "Expire access tokens"))
                                " "
                                (user_action(base, "revoke", &user.id, &user.email, "Revoke grant"))
                            }
                        }
                    }
                }
            }
            h2 { "Add a busy event" }
            form #busy-form method="post" action={ (base) "/control/busy" } {
                p {
                    label for="busy-account" { "Account " }
                    select #busy-account name="account" {
                        @for user in &stats.users {
                            option value=(user.email) { (user.email) }
                        }
                    }
                    " "
                    label for="busy-start" { "Start (UTC) " }
                    input #busy-start type="datetime-local" name="start" required;
                    " "
                    label for="busy-end" { "End (UTC) " }
                    input #busy-end type="datetime-local" name="end" required;
                    " "
                    label for="busy-subject" { "Subject " }
                    input #busy-subject type="text" name="subject" placeholder="Busy";
                    " "
                    button #add-busy type="submit" { "Add busy event" }
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
                    th { "Account" } th { "Calendar" } th { "Subject" } th { "Start (UTC)" } th { "End (UTC)" }
                    th { "Location" } th { "Attendees" } th { "Show as" } th { "Updates" } th { "State" }
                } }
                tbody {
                    @for e in view.events {
                        @let status = if e.deleted { "deleted" } else { "confirmed" };
                        tr data-event-id=(e.id) data-status=(status) {
                            td .account { (e.account) }
                            td .calendar { (calendar_name(&e.calendar_id)) }
                            td .subject { (e.subject) }
                            td .start { (utc(e.start)) }
                            td .end { (utc(e.end)) }
                            td .location { (e.location) }
                            td .attendees {
                                @for a in &e.attendees { (a.email) br; }
                            }
                            td .show-as { (e.show_as) }
                            td .updates { (e.updates) }
                            td .status { span class=(if e.deleted { "off" } else { "ok" }) { (status) } }
                        }
                    }
                }
            }
            h2 { "Teams meetings" }
            table #online-meetings {
                thead { tr {
                    th { "Organizer" } th { "Subject" } th { "Start (UTC)" } th { "End (UTC)" }
                    th { "Join URL" } th { "Updates" } th { "State" }
                } }
                tbody {
                    @for m in view.meetings {
                        @let status = if m.deleted { "deleted" } else { "scheduled" };
                        tr data-meeting-id=(m.id) data-status=(status) {
                            td .account { (m.account) }
                            td .subject { (m.subject) }
                            td .start { (utc(m.start)) }
                            td .end { (utc(m.end)) }
                            td .join-url { code { (m.join_url) } }
                            td .updates { (m.updates) }
                            td .status { span class=(if m.deleted { "off" } else { "ok" }) { (status) } }
                        }
                    }
                }
            }
            h2 { "Faults" }
            p { "Applied to " code { "/v1.0/…" } " and the token endpoint. Rates are probabilities from 0 to 1." }
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
