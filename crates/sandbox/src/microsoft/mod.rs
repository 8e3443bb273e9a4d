//! The Microsoft sandbox provider: an emulator of the Microsoft identity platform
//! (`/{tenant}/oauth2/v2.0/...`) and of Microsoft Graph (`/v1.0/...`: the user,
//! Outlook calendars and events, Teams online meetings) plus a control surface
//! (`/control`), mounted by the binary at `/sandbox/microsoft`. The Microsoft adapter
//! reaches it through its base-URL configuration (both
//! `https://login.microsoftonline.com` and `https://graph.microsoft.com` become
//! `<convene>/sandbox/microsoft`).
//!
//! Routes (relative to the mount point):
//!
//! | route | what |
//! |---|---|
//! | `GET /{tenant}/oauth2/v2.0/authorize` | consent page with the test accounts ([`accounts`]) |
//! | `POST /{tenant}/oauth2/v2.0/authorize` | the consent form; tests may post it directly (see [`oauth`]) |
//! | `POST /{tenant}/oauth2/v2.0/token` | code exchange (PKCE S256) and refresh with rotation |
//! | `GET /v1.0/me` | the caller |
//! | `GET /v1.0/me/calendars` | the caller's calendars ("Calendar", the default, and "Team Events") |
//! | `GET /v1.0/me/calendarView`, `GET /v1.0/me/calendars/{id}/calendarView` | events in a window, 10 a page (`$top`), `@odata.nextLink` |
//! | `POST /v1.0/me/calendar/getSchedule` | free/busy of users by email |
//! | `POST /v1.0/me/events`, `POST /v1.0/me/calendars/{id}/events` | create (idempotent per `transactionId`) |
//! | `GET`/`PATCH`/`DELETE /v1.0/me/events/{id}` | read, update (200), delete (204); 404 `ErrorItemNotFound` when gone |
//! | `POST /v1.0/me/onlineMeetings`, `GET …?$filter=JoinWebUrl eq '…'` | create a Teams meeting (201); find one by link |
//! | `GET`/`PATCH`/`DELETE /v1.0/me/onlineMeetings/{id}` | read, update (200), delete (204) |
//! | `GET /control` | HTML control page |
//! | `GET /control/events`, `GET /control/online-meetings`, `GET /control/stats` | JSON for tests |
//! | `POST /control/{busy,faults,revoke,expire}` | control API (JSON or form), see [`control`] |
//!
//! Faults ([`crate::Faults`]) apply to `/v1.0/...` and the token endpoint only.

mod accounts;
mod control;
mod graph;
mod oauth;
mod pages;
mod state;
mod wire;

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::routing::{any, get, post};
use axum::Router;
use jiff::Timestamp;
use serde::Serialize;

pub use accounts::TEST_ACCOUNTS;

use crate::faults::Faults;
use state::State;

/// How the Microsoft sandbox is set up; the binary fills it from its configuration.
#[derive(Clone)]
pub struct MicrosoftSandboxConfig {
    /// The one OAuth client (app registration) the sandbox knows: Convene's.
    pub client_id: String,
    pub client_secret: String,
    /// Access-token lifetime (Microsoft: about an hour); tests shorten it.
    pub access_token_ttl: Duration,
}

impl fmt::Debug for MicrosoftSandboxConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MicrosoftSandboxConfig")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .field("access_token_ttl", &self.access_token_ttl)
            .finish()
    }
}

/// The Microsoft emulator. Cheap to clone: clones share one state.
#[derive(Clone)]
pub struct MicrosoftSandbox {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    config: MicrosoftSandboxConfig,
    state: Mutex<State>,
}

impl Inner {
    /// The sandbox state. Never held across an `.await`.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// An attendee of a [`SandboxEvent`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SandboxAttendee {
    /// Empty when none was given.
    pub name: String,
    pub email: String,
}

/// An event as the sandbox holds it.
#[derive(Clone, Debug, Serialize)]
pub struct SandboxEvent {
    pub calendar_id: String,
    pub id: String,
    /// The owner's email.
    pub account: String,
    pub subject: String,
    /// The body's content (text or HTML as sent).
    pub body: String,
    /// The location's display name; empty when none.
    pub location: String,
    pub start: Timestamp,
    pub end: Timestamp,
    pub attendees: Vec<SandboxAttendee>,
    /// `busy`, `free`, `tentative`, `oof`, `workingElsewhere` or `unknown`.
    pub show_as: String,
    pub transaction_id: Option<String>,
    /// The Teams link of an event created with `isOnlineMeeting`.
    pub online_meeting_url: Option<String>,
    /// How many `PATCH`es it received.
    pub updates: u32,
    pub deleted: bool,
}

/// A Teams meeting as the sandbox holds it.
#[derive(Clone, Debug, Serialize)]
pub struct SandboxOnlineMeeting {
    pub id: String,
    /// The organizer's email.
    pub account: String,
    pub subject: String,
    pub start: Timestamp,
    pub end: Timestamp,
    pub join_url: String,
    pub join_meeting_id: String,
    pub passcode: String,
    /// How many `PATCH`es it received.
    pub updates: u32,
    pub deleted: bool,
}

/// One calendar of a user.
#[derive(Clone, Debug, Serialize)]
pub struct SandboxCalendar {
    pub id: String,
    pub name: String,
    pub is_default: bool,
    pub can_edit: bool,
}

/// One user and what happened to their connection.
#[derive(Clone, Debug, Serialize)]
pub struct MicrosoftUserStats {
    /// The object id (a GUID, stable: derived from the email).
    pub id: String,
    pub email: String,
    pub display_name: String,
    pub tenant_id: String,
    /// Has at least one live grant (authorized, not revoked).
    pub connected: bool,
    pub live_grants: usize,
    pub token_exchanges: u64,
    pub refreshes: u64,
    pub refresh_failures: u64,
    /// The last thing that happened to the connection, in words.
    pub last_event: Option<String>,
    pub calendars: Vec<SandboxCalendar>,
}

/// Counters and state for tests and the control page (`GET /control/stats` as JSON).
#[derive(Clone, Debug, Serialize)]
pub struct MicrosoftSandboxStats {
    /// Successful `authorization_code` exchanges.
    pub token_exchanges: u64,
    /// Refused `authorization_code` exchanges (bad code, redirect URI or verifier).
    pub token_exchange_failures: u64,
    /// Successful `refresh_token` grants.
    pub token_refreshes: u64,
    /// Refused `refresh_token` grants (rotated-away, revoked or unknown token).
    pub refresh_failures: u64,
    /// Events created through Graph (not [`MicrosoftSandbox::add_busy`]).
    pub events_created: u64,
    /// Creates answered with the existing event because its `transactionId` matched.
    pub events_deduplicated: u64,
    pub events_updated: u64,
    pub events_deleted: u64,
    pub online_meetings_created: u64,
    pub online_meetings_updated: u64,
    pub online_meetings_deleted: u64,
    /// 429s and 5xx injected by [`Faults`].
    pub injected_rate_limits: u64,
    pub injected_errors: u64,
    /// Every user the sandbox knows: the test accounts and those created by signing in.
    pub users: Vec<MicrosoftUserStats>,
}

impl MicrosoftSandboxStats {
    /// The user with this id or email.
    pub fn user(&self, email_or_id: &str) -> Option<&MicrosoftUserStats> {
        let email = email_or_id.trim().to_ascii_lowercase();
        self.users
            .iter()
            .find(|u| u.id == email_or_id || u.email == email)
    }

    /// Successful refreshes of this user's tokens (0 for an unknown user).
    pub fn refreshes_of(&self, email_or_id: &str) -> u64 {
        self.user(email_or_id).map_or(0, |u| u.refreshes)
    }
}

impl MicrosoftSandbox {
    pub fn new(config: MicrosoftSandboxConfig) -> Self {
        Self {
            inner: Arc::new(Inner {
                config,
                state: Mutex::new(State::new()),
            }),
        }
    }

    /// Routes relative to where they are mounted; the binary nests them at
    /// `/sandbox/microsoft`.
    pub fn router(&self) -> Router {
        let graph_faults =
            axum::middleware::from_fn_with_state(self.inner.clone(), graph::inject_faults);
        let token_faults =
            axum::middleware::from_fn_with_state(self.inner.clone(), oauth::inject_faults);
        let v1 = Router::new()
            .route("/me", get(graph::me))
            .route("/me/calendars", get(graph::list_calendars))
            .route("/me/calendarView", get(graph::default_calendar_view))
            .route(
                "/me/calendars/{calendar_id}/calendarView",
                get(graph::calendar_view),
            )
            .route("/me/calendar/getSchedule", post(graph::get_schedule))
            .route("/me/events", post(graph::create_default_event))
            .route(
                "/me/calendars/{calendar_id}/events",
                post(graph::create_event),
            )
            .route(
                "/me/events/{event_id}",
                get(graph::get_event)
                    .patch(graph::update_event)
                    .delete(graph::delete_event),
            )
            .route(
                "/me/onlineMeetings",
                post(graph::create_online_meeting).get(graph::find_online_meetings),
            )
            .route(
                "/me/onlineMeetings/{meeting_id}",
                get(graph::get_online_meeting)
                    .patch(graph::update_online_meeting)
                    .delete(graph::delete_online_meeting),
            )
            // A catch-all route rather than a fallback: fallbacks of a router nested
            // twice (here, then at `/sandbox/microsoft`) are not reliably used.
            .route("/{*rest}", any(graph::unknown_segment))
            .layer(graph_faults);
        Router::new()
            .route(
                "/{tenant}/oauth2/v2.0/authorize",
                get(oauth::authorize_page).post(oauth::authorize_submit),
            )
            .route(
                "/{tenant}/oauth2/v2.0/token",
                post(oauth::token).layer(token_faults),
            )
            .nest("/v1.0", v1)
            .route("/control", get(control::page))
            .route("/control/stats", get(control::stats))
            .route("/control/events", get(control::events))
            .route("/control/online-meetings", get(control::online_meetings))
            .route("/control/busy", post(control::busy))
            .route("/control/faults", post(control::faults))
            .route("/control/revoke", post(control::revoke))
            .route("/control/expire", post(control::expire))
            .with_state(self.inner.clone())
    }

    /// Every event ever created (through the API or [`MicrosoftSandbox::add_busy`]),
    /// deleted ones included, in creation order.
    pub fn events(&self) -> Vec<SandboxEvent> {
        self.inner.lock().events_view()
    }

    /// Every Teams meeting ever created, deleted ones included, in creation order.
    pub fn online_meetings(&self) -> Vec<SandboxOnlineMeeting> {
        self.inner.lock().online_meetings_view()
    }

    /// Puts a busy event `[start, end)` in the default calendar of `account` (an email
    /// or user id; an email not seen before becomes a user, as signing in would make
    /// it), as if they had added it in Outlook. `subject` defaults to "Busy".
    pub fn add_busy(
        &self,
        account: &str,
        start: Timestamp,
        end: Timestamp,
        subject: Option<&str>,
    ) -> Result<SandboxEvent, String> {
        let mut state = self.inner.lock();
        let event = state.add_busy(account, start, end, subject)?;
        Ok(state.event_view(&event))
    }

    /// Counters and state for tests and the control page.
    pub fn stats(&self) -> MicrosoftSandboxStats {
        self.inner.lock().stats()
    }

    /// The faults in force.
    pub fn faults(&self) -> Faults {
        self.inner.lock().faults.clone()
    }

    /// Injects faults into `/v1.0/...` and the token endpoint from now on
    /// (`Faults::default()` turns them off).
    pub fn set_faults(&self, faults: Faults) {
        self.inner.lock().faults = faults.sanitized();
    }

    /// This user's grants end: refresh tokens get `invalid_grant` (AADSTS50173),
    /// access tokens `401 InvalidAuthenticationToken`. False for an unknown user.
    pub fn revoke_grants(&self, account: &str) -> bool {
        self.inner.lock().revoke_grants_of(account).is_some()
    }

    /// This user's access tokens now get `401 InvalidAuthenticationToken`; their
    /// refresh tokens still work. False for an unknown user.
    pub fn expire_access_tokens(&self, account: &str) -> bool {
        self.inner.lock().expire_access_tokens_of(account).is_some()
    }
}

impl State {
    fn email_of(&self, user_id: &str) -> String {
        self.users
            .get(user_id)
            .map(|r| r.user.email.clone())
            .unwrap_or_default()
    }

    fn event_view(&self, e: &state::Event) -> SandboxEvent {
        SandboxEvent {
            calendar_id: e.calendar_id.clone(),
            id: e.id.clone(),
            account: self.email_of(&e.owner_id),
            subject: e.subject.clone(),
            body: e.body.clone(),
            location: e.location.clone(),
            start: e.start,
            end: e.end,
            attendees: e
                .attendees
                .iter()
                .map(|a| SandboxAttendee {
                    name: a.name.clone(),
                    email: a.address.clone(),
                })
                .collect(),
            show_as: e.show_as.clone(),
            transaction_id: e.transaction_id.clone(),
            online_meeting_url: e.online_meeting_url.clone(),
            updates: e.updates,
            deleted: e.deleted,
        }
    }

    fn events_view(&self) -> Vec<SandboxEvent> {
        self.events.iter().map(|e| self.event_view(e)).collect()
    }

    fn online_meetings_view(&self) -> Vec<SandboxOnlineMeeting> {
        self.online_meetings
            .iter()
            .map(|m| SandboxOnlineMeeting {
                id: m.id.clone(),
                account: self.email_of(&m.owner_id),
                subject: m.subject.clone(),
                start: m.start,
                end: m.end,
                join_url: m.join_url.clone(),
                join_meeting_id: m.join_meeting_id.clone(),
                passcode: m.passcode.clone(),
                updates: m.updates,
                deleted: m.deleted,
            })
            .collect()
    }

    /// The seeded test accounts first, in the consent page's order, then the others
    /// by email.
    fn users_in_display_order(&self) -> Vec<&state::UserRecord> {
        let mut users: Vec<_> = self.users.values().collect();
        users.sort_by_key(|r| {
            let rank = TEST_ACCOUNTS
                .iter()
                .position(|e| r.user.seeded && *e == r.user.email)
                .unwrap_or(TEST_ACCOUNTS.len());
            (rank, r.user.email.clone())
        });
        users
    }

    fn stats(&self) -> MicrosoftSandboxStats {
        let c = &self.counters;
        MicrosoftSandboxStats {
            token_exchanges: c.token_exchanges,
            token_exchange_failures: c.token_exchange_failures,
            token_refreshes: c.token_refreshes,
            refresh_failures: c.refresh_failures,
            events_created: c.events_created,
            events_deduplicated: c.events_deduplicated,
            events_updated: c.events_updated,
            events_deleted: c.events_deleted,
            online_meetings_created: c.online_meetings_created,
            online_meetings_updated: c.online_meetings_updated,
            online_meetings_deleted: c.online_meetings_deleted,
            injected_rate_limits: c.injected_rate_limits,
            injected_errors: c.injected_errors,
            users: self
                .users_in_display_order()
                .into_iter()
                .map(|r| {
                    let live_grants = self.live_grants(&r.user.id);
                    MicrosoftUserStats {
                        id: r.user.id.clone(),
                        email: r.user.email.clone(),
                        display_name: r.user.display_name(),
                        tenant_id: r.user.tenant_id.clone(),
                        connected: live_grants > 0,
                        live_grants,
                        token_exchanges: r.token_exchanges,
                        refreshes: r.refreshes,
                        refresh_failures: r.refresh_failures,
                        last_event: r.last_event.clone(),
                        calendars: self
                            .calendars_of(&r.user.id)
                            .map(|c| SandboxCalendar {
                                id: c.id.clone(),
                                name: c.name.clone(),
                                is_default: c.is_default,
                                can_edit: c.can_edit,
                            })
                            .collect(),
                    }
                })
                .collect(),
        }
    }
}
