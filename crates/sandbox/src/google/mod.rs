//! The Google sandbox provider: an emulator of Google's OAuth (`accounts.google.com`,
//! `oauth2.googleapis.com`), OpenID userinfo and Calendar API v3 (`www.googleapis.com`)
//! plus a control surface (`/control`), mounted by the binary at `/sandbox/google`. The
//! Google adapter reaches it through its base-URL configuration: its three bases (OAuth,
//! token, API) all become `<convene>/sandbox/google`.
//!
//! Routes (relative to the mount point):
//!
//! | route | what |
//! |---|---|
//! | `GET /o/oauth2/v2/auth` | consent page with the test accounts ([`GOOGLE_TEST_ACCOUNTS`]) |
//! | `POST /o/oauth2/v2/auth` | the consent form; tests may post it directly (see `oauth.rs`) |
//! | `POST /token` | code exchange (PKCE S256) and refresh (no rotation) |
//! | `POST /revoke?token=…` | ends the token's grant |
//! | `GET /oauth2/v3/userinfo` | the caller: `sub`, `email`, `name`, … |
//! | `GET /calendar/v3/users/me/calendarList` | the caller's calendars, paged (`maxResults`, `pageToken`) |
//! | `POST /calendar/v3/freeBusy` | busy times of the caller's calendars |
//! | `POST /calendar/v3/calendars/{calendarId}/events` | create (client-chosen `id` honoured) |
//! | `GET`/`PATCH`/`PUT`/`DELETE /calendar/v3/calendars/{calendarId}/events/{eventId}` | read, update, delete (204) |
//! | `GET /control` | HTML control page: users, calendars, events; add a busy event |
//! | `GET /control/events`, `GET /control/stats` | every event ever written ([`SandboxEvent`]); [`GoogleSandboxStats`] |
//! | `POST /control/{busy,faults,revoke,expire}` | control API (JSON or form; see `control.rs`) |
//!
//! Faults ([`crate::Faults`]) apply to `/calendar/v3/...`, `/oauth2/v3/userinfo` and
//! `/token`, answered in the API's JSON error format.

mod accounts;
mod api;
mod control;
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

pub use accounts::GOOGLE_TEST_ACCOUNTS;

use crate::faults::Faults;
use state::{Event, State};

/// Google's scope names, and how the consent page reads a requested `scope`.
pub(crate) mod scopes {
    pub(crate) const OPENID: &str = "openid";
    pub(crate) const EMAIL: &str = "https://www.googleapis.com/auth/userinfo.email";
    pub(crate) const PROFILE: &str = "https://www.googleapis.com/auth/userinfo.profile";
    pub(crate) const CALENDAR: &str = "https://www.googleapis.com/auth/calendar";
    pub(crate) const CALENDAR_READONLY: &str = "https://www.googleapis.com/auth/calendar.readonly";
    pub(crate) const CALENDAR_EVENTS: &str = "https://www.googleapis.com/auth/calendar.events";
    pub(crate) const CALENDAR_EVENTS_READONLY: &str =
        "https://www.googleapis.com/auth/calendar.events.readonly";
    pub(crate) const CALENDAR_FREEBUSY: &str = "https://www.googleapis.com/auth/calendar.freebusy";
    pub(crate) const CALENDAR_EVENTS_FREEBUSY: &str =
        "https://www.googleapis.com/auth/calendar.events.freebusy";

    /// The scopes of a space-separated `scope`, with Google's short names expanded
    /// (`email` → `…/auth/userinfo.email`, `profile` → `…/auth/userinfo.profile`), in
    /// order, without repeats. Anything that is neither a short name nor a
    /// `https://www.googleapis.com/auth/…` scope is invalid: `Err` lists those.
    pub(crate) fn normalize(raw: &str) -> Result<Vec<String>, String> {
        let mut scopes: Vec<String> = Vec::new();
        let mut invalid: Vec<&str> = Vec::new();
        for scope in raw.split_whitespace() {
            let full = match scope {
                "openid" => OPENID,
                "email" => EMAIL,
                "profile" => PROFILE,
                s if s.len() > "https://www.googleapis.com/auth/".len()
                    && s.starts_with("https://www.googleapis.com/auth/") =>
                {
                    s
                }
                s => {
                    invalid.push(s);
                    continue;
                }
            };
            if !scopes.iter().any(|s| s == full) {
                scopes.push(full.to_string());
            }
        }
        if invalid.is_empty() && !scopes.is_empty() {
            Ok(scopes)
        } else {
            Err(invalid.join(", "))
        }
    }

    /// What a scope lets the app do, for the consent page.
    pub(crate) fn describe(scope: &str) -> &'static str {
        match scope {
            OPENID => "Associate you with your personal info on Google",
            EMAIL => "See your primary Google Account email address",
            PROFILE => "See your personal info, including any personal info you've made publicly available",
            CALENDAR => "See, edit, share, and permanently delete all the calendars you can access using Google Calendar",
            CALENDAR_READONLY => "See and download any calendar you can access using your Google Calendar",
            CALENDAR_EVENTS => "View and edit events on all your calendars",
            CALENDAR_EVENTS_READONLY => "View events on all your calendars",
            CALENDAR_FREEBUSY | CALENDAR_EVENTS_FREEBUSY => "See the availability on Google Calendars you have access to",
            _ => "A Google API scope",
        }
    }
}

/// How the Google sandbox is set up; the binary fills it from its configuration.
#[derive(Clone)]
pub struct GoogleSandboxConfig {
    /// The one OAuth client the sandbox knows (Convene's).
    pub client_id: String,
    pub client_secret: String,
    /// Access-token lifetime (Google: 3599 s); tests shorten it.
    pub access_token_ttl: Duration,
}

impl fmt::Debug for GoogleSandboxConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GoogleSandboxConfig")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .field("access_token_ttl", &self.access_token_ttl)
            .finish()
    }
}

/// The Google emulator. Cheap to clone: clones share one state.
#[derive(Clone)]
pub struct GoogleSandbox {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    config: GoogleSandboxConfig,
    state: Mutex<State>,
}

impl Inner {
    /// The sandbox state. Never held across an `.await`.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Counters and state for tests and the control page (`GET /control/stats` as JSON).
#[derive(Clone, Debug, Serialize)]
pub struct GoogleSandboxStats {
    /// Successful `authorization_code` exchanges.
    pub token_exchanges: u64,
    /// Refused `authorization_code` exchanges (bad code, redirect URI or verifier).
    pub token_exchange_failures: u64,
    /// Successful `refresh_token` grants.
    pub token_refreshes: u64,
    /// Refused `refresh_token` grants (revoked or unknown token).
    pub refresh_failures: u64,
    /// Calls to `POST /revoke` that ended a live grant.
    pub revocations: u64,
    pub freebusy_queries: u64,
    pub events_created: u64,
    /// Inserts refused with `409 duplicate` (a retried create, usually).
    pub duplicate_creates: u64,
    pub events_updated: u64,
    pub events_deleted: u64,
    /// 429s and 5xx injected by [`Faults`].
    pub injected_rate_limits: u64,
    pub injected_errors: u64,
    /// Every user the sandbox knows: the test accounts and those created by signing in.
    pub users: Vec<GoogleUserStats>,
}

impl GoogleSandboxStats {
    /// The user with this email or `sub`.
    pub fn user(&self, email_or_sub: &str) -> Option<&GoogleUserStats> {
        let email = email_or_sub.trim().to_ascii_lowercase();
        self.users
            .iter()
            .find(|u| u.sub == email_or_sub || u.email == email)
    }

    /// Successful refreshes of this user's tokens (0 for an unknown user).
    pub fn refreshes_of(&self, email_or_sub: &str) -> u64 {
        self.user(email_or_sub).map_or(0, |u| u.refreshes)
    }
}

/// One Google user and what happened to their connection.
#[derive(Clone, Debug, Serialize)]
pub struct GoogleUserStats {
    /// The OpenID subject (stable: derived from the email).
    pub sub: String,
    pub email: String,
    pub name: String,
    /// Has at least one live grant (authorized, not revoked).
    pub connected: bool,
    pub live_grants: usize,
    pub token_exchanges: u64,
    pub refreshes: u64,
    pub refresh_failures: u64,
    /// The last thing that happened to the connection, in words.
    pub last_event: Option<String>,
    /// The user's calendar list.
    pub calendars: Vec<SandboxCalendar>,
}

/// One entry of a user's calendar list.
#[derive(Clone, Debug, Serialize)]
pub struct SandboxCalendar {
    pub id: String,
    pub summary: String,
    /// `owner`, `writer` or `reader`.
    pub access_role: String,
    pub primary: bool,
}

/// An event as the sandbox holds it.
#[derive(Clone, Debug, Serialize)]
pub struct SandboxEvent {
    /// The calendar's real id (never the `primary` alias).
    pub calendar_id: String,
    /// The email of the calendar's owner (none for the shared Holidays calendar).
    pub account: Option<String>,
    pub id: String,
    /// Empty when the event has none.
    pub summary: String,
    /// Empty when the event has none.
    pub description: String,
    pub location: Option<String>,
    pub start: Timestamp,
    pub end: Timestamp,
    pub all_day: bool,
    pub attendees: Vec<SandboxAttendee>,
    /// `transparent` events do not make the calendar busy.
    pub transparent: bool,
    /// How many `PATCH`/`PUT`s it received.
    pub updates: u32,
    pub deleted: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SandboxAttendee {
    pub email: String,
    pub display_name: Option<String>,
}

impl GoogleSandbox {
    pub fn new(config: GoogleSandboxConfig) -> Self {
        Self {
            inner: Arc::new(Inner {
                config,
                state: Mutex::new(State::new()),
            }),
        }
    }

    /// Routes relative to where they are mounted; the binary nests them at
    /// `/sandbox/google`.
    pub fn router(&self) -> Router {
        let faulty = axum::middleware::from_fn_with_state(self.inner.clone(), api::inject_faults);
        let calendar = Router::new()
            .route("/users/me/calendarList", get(api::calendar_list))
            .route("/freeBusy", post(api::free_busy))
            .route("/calendars/{calendar_id}/events", post(api::insert_event))
            .route(
                "/calendars/{calendar_id}/events/{event_id}",
                get(api::get_event)
                    .patch(api::patch_event)
                    .put(api::put_event)
                    .delete(api::delete_event),
            )
            // A catch-all route rather than a fallback: fallbacks of a router nested
            // twice (here, then at `/sandbox/google`) are not reliably used.
            .route("/{*rest}", any(api::unknown_endpoint))
            .layer(faulty.clone());
        Router::new()
            .route(
                "/o/oauth2/v2/auth",
                get(oauth::authorize_page).post(oauth::authorize_submit),
            )
            .route("/token", post(oauth::token).layer(faulty.clone()))
            .route("/revoke", post(oauth::revoke))
            .route("/oauth2/v3/userinfo", get(api::userinfo).layer(faulty))
            .nest("/calendar/v3", calendar)
            .route("/control", get(control::page))
            .route("/control/stats", get(control::stats))
            .route("/control/events", get(control::events))
            .route("/control/busy", post(control::busy))
            .route("/control/faults", post(control::faults))
            .route("/control/revoke", post(control::revoke))
            .route("/control/expire", post(control::expire))
            .with_state(self.inner.clone())
    }

    /// Counters and state for tests and the control page.
    pub fn stats(&self) -> GoogleSandboxStats {
        self.inner.lock().stats()
    }

    /// Every event ever written, deleted ones included, in creation order.
    pub fn events(&self) -> Vec<SandboxEvent> {
        self.inner.lock().events_view()
    }

    /// The faults in force.
    pub fn faults(&self) -> Faults {
        self.inner.lock().faults.clone()
    }

    /// Injects faults into the API, userinfo and `/token` from now on
    /// (`Faults::default()` turns them off).
    pub fn set_faults(&self, faults: Faults) {
        self.inner.lock().faults = faults.sanitized();
    }

    /// Puts a busy event `[start, end)` in the primary calendar of `account` (any email;
    /// the user is created if new), as if they had added it in Google Calendar.
    pub fn add_busy(
        &self,
        account: &str,
        start: Timestamp,
        end: Timestamp,
        summary: &str,
    ) -> Result<SandboxEvent, String> {
        self.inner
            .lock()
            .add_busy(account, None, start, end, summary)
    }

    /// [`GoogleSandbox::add_busy`] in another of the account's calendars, named by id
    /// or name (`Team events`, `Holidays`).
    pub fn add_busy_in(
        &self,
        account: &str,
        calendar: &str,
        start: Timestamp,
        end: Timestamp,
        summary: &str,
    ) -> Result<SandboxEvent, String> {
        self.inner
            .lock()
            .add_busy(account, Some(calendar), start, end, summary)
    }

    /// This user's grants end, as when they remove the app's access from their Google
    /// account: refresh tokens get `400 invalid_grant`, access tokens 401. False for an
    /// unknown user.
    pub fn revoke_grants(&self, account: &str) -> bool {
        self.inner
            .lock()
            .revoke_grants_of(account, "access removed from the sandbox")
            .is_some()
    }

    /// This user's access tokens now get 401; their refresh tokens still work. False
    /// for an unknown user.
    pub fn expire_access_tokens(&self, account: &str) -> bool {
        self.inner.lock().expire_access_tokens_of(account).is_some()
    }
}

impl State {
    /// The seeded test accounts first, then the others by email.
    fn users_in_display_order(&self) -> Vec<&state::UserRecord> {
        let mut users: Vec<_> = self.users.values().collect();
        users.sort_by_key(|r| {
            let rank = GOOGLE_TEST_ACCOUNTS
                .iter()
                .position(|e| r.user.seeded && *e == r.user.email)
                .unwrap_or(GOOGLE_TEST_ACCOUNTS.len());
            (rank, r.user.email.clone())
        });
        users
    }

    fn event_view(&self, e: &Event) -> SandboxEvent {
        SandboxEvent {
            calendar_id: e.calendar_id.clone(),
            account: self.calendar_owner(&e.calendar_id).map(|u| u.email.clone()),
            id: e.id.clone(),
            summary: e.summary.clone().unwrap_or_default(),
            description: e.description.clone().unwrap_or_default(),
            location: e.location.clone(),
            start: e.start,
            end: e.end,
            all_day: e.all_day,
            attendees: e
                .attendees
                .iter()
                .map(|a| SandboxAttendee {
                    email: a.email.clone(),
                    display_name: a.display_name.clone(),
                })
                .collect(),
            transparent: e.transparent,
            updates: e.updates,
            deleted: e.cancelled,
        }
    }

    fn events_view(&self) -> Vec<SandboxEvent> {
        self.events.iter().map(|e| self.event_view(e)).collect()
    }

    fn add_busy(
        &mut self,
        account: &str,
        calendar: Option<&str>,
        start: Timestamp,
        end: Timestamp,
        summary: &str,
    ) -> Result<SandboxEvent, String> {
        let email = accounts::parse_email(account)?;
        if end <= start {
            return Err("The end must be after the start.".into());
        }
        let user = self.user_for_login(&email).user.clone();
        let calendar = match calendar.map(str::trim).filter(|c| !c.is_empty()) {
            None => user.calendar("primary"),
            Some(key) => user.calendar(key).or_else(|| {
                user.calendars
                    .iter()
                    .find(|c| c.summary.eq_ignore_ascii_case(key))
            }),
        }
        .ok_or_else(|| {
            format!(
                "{email} has no calendar “{}”.",
                calendar.unwrap_or_default()
            )
        })?;
        let now = Timestamp::now();
        let summary = summary.trim();
        let event = Event {
            calendar_id: calendar.id.clone(),
            id: self.new_event_id(&calendar.id),
            summary: Some(if summary.is_empty() { "Busy" } else { summary }.to_string()),
            description: None,
            location: None,
            start,
            end,
            all_day: false,
            time_zone: None,
            attendees: Vec::new(),
            transparent: false,
            tentative: false,
            cancelled: false,
            creator: email,
            created: now,
            updated: now,
            sequence: 0,
            updates: 0,
        };
        let view = self.event_view(&event);
        self.events.push(event);
        Ok(view)
    }

    fn stats(&self) -> GoogleSandboxStats {
        let c = &self.counters;
        GoogleSandboxStats {
            token_exchanges: c.token_exchanges,
            token_exchange_failures: c.token_exchange_failures,
            token_refreshes: c.token_refreshes,
            refresh_failures: c.refresh_failures,
            revocations: c.revocations,
            freebusy_queries: c.freebusy_queries,
            events_created: c.events_created,
            duplicate_creates: c.duplicate_creates,
            events_updated: c.events_updated,
            events_deleted: c.events_deleted,
            injected_rate_limits: c.injected_rate_limits,
            injected_errors: c.injected_errors,
            users: self
                .users_in_display_order()
                .into_iter()
                .map(|r| {
                    let live_grants = self.live_grants(&r.user.email);
                    GoogleUserStats {
                        sub: r.user.sub.clone(),
                        email: r.user.email.clone(),
                        name: r.user.name(),
                        connected: live_grants > 0,
                        live_grants,
                        token_exchanges: r.token_exchanges,
                        refreshes: r.refreshes,
                        refresh_failures: r.refresh_failures,
                        last_event: r.last_event.clone(),
                        calendars: r
                            .user
                            .calendars
                            .iter()
                            .map(|c| SandboxCalendar {
                                id: c.id.clone(),
                                summary: c.summary.clone(),
                                access_role: c.access_role.name().to_string(),
                                primary: c.primary,
                            })
                            .collect(),
                    }
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_are_normalized() {
        assert_eq!(
            scopes::normalize("openid email https://www.googleapis.com/auth/calendar.events email")
                .unwrap(),
            [scopes::OPENID, scopes::EMAIL, scopes::CALENDAR_EVENTS]
        );
        assert_eq!(
            scopes::normalize("openid calendar https://evil.test/x").unwrap_err(),
            "calendar, https://evil.test/x"
        );
        assert!(scopes::normalize("   ").is_err());
        assert!(scopes::normalize("https://www.googleapis.com/auth/").is_err());
    }

    #[test]
    fn busy_events_go_to_the_named_calendar() {
        let sandbox = GoogleSandbox::new(GoogleSandboxConfig {
            client_id: "c".into(),
            client_secret: "s".into(),
            access_token_ttl: Duration::from_secs(60),
        });
        let t = |s: &str| s.parse::<Timestamp>().unwrap();
        let e = sandbox
            .add_busy(
                "Gina@google.sandbox",
                t("2026-12-01T15:00:00Z"),
                t("2026-12-01T16:00:00Z"),
                "",
            )
            .unwrap();
        assert_eq!(e.calendar_id, "gina@google.sandbox");
        assert_eq!(e.account.as_deref(), Some("gina@google.sandbox"));
        assert_eq!(e.summary, "Busy");
        let team = sandbox
            .add_busy_in(
                "gina@google.sandbox",
                "team events",
                t("2026-12-01T15:00:00Z"),
                t("2026-12-01T16:00:00Z"),
                "Standup",
            )
            .unwrap();
        assert!(team.calendar_id.ends_with("@group.calendar.google.com"));
        assert!(sandbox
            .add_busy_in(
                "gina@google.sandbox",
                "Nope",
                t("2026-12-01T15:00:00Z"),
                t("2026-12-01T16:00:00Z"),
                ""
            )
            .is_err());
        assert!(sandbox
            .add_busy(
                "gina@google.sandbox",
                t("2026-12-01T16:00:00Z"),
                t("2026-12-01T15:00:00Z"),
                ""
            )
            .is_err());
        assert!(sandbox
            .add_busy(
                "not an email",
                t("2026-12-01T15:00:00Z"),
                t("2026-12-01T16:00:00Z"),
                ""
            )
            .is_err());
        // A new email becomes a user.
        sandbox
            .add_busy(
                "new@example.com",
                t("2026-12-01T15:00:00Z"),
                t("2026-12-01T16:00:00Z"),
                "x",
            )
            .unwrap();
        assert!(sandbox.stats().user("new@example.com").is_some());
        assert_eq!(sandbox.events().len(), 3);
    }
}
