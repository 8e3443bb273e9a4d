//! The Zoom sandbox provider: an emulator of Zoom's OAuth (`/oauth/...`) and REST API
//! (`/v2/...`) plus a control surface (`/control`), mounted by the binary at
//! `/sandbox/zoom`. The Zoom adapter reaches it through its base-URL configuration
//! (both the `https://zoom.us` and the `https://api.zoom.us` base become
//! `<convene>/sandbox/zoom`).
//!
//! Routes (relative to the mount point):
//!
//! | route | what |
//! |---|---|
//! | `GET /oauth/authorize` | consent page with the test accounts ([`accounts`]) |
//! | `POST /oauth/authorize` | the consent form; tests may post it directly (see [`oauth`]) |
//! | `POST /oauth/token` | code exchange (PKCE S256) and refresh with rotation |
//! | `POST /oauth/revoke?token=…` | ends the user's grants |
//! | `GET /v2/users/me`, `GET /v2/users` | the caller; the account's users (admins) |
//! | `POST /v2/users/{userId}/meetings` | create a scheduled meeting |
//! | `GET /v2/users/{userId}/meetings?type=…&page_size=…&next_page_token=…` | list a host's meetings, paged |
//! | `GET`/`PATCH`/`DELETE /v2/meetings/{id}` | read, update (204), delete (204) |
//! | `GET /control` | HTML control page |
//! | `GET /control/meetings` | every meeting ever created, as JSON ([`SandboxMeeting`]) |
//! | `GET /control/stats`, `POST /control/{uninstall,expire,revoke,faults,pre-approve,validate-webhook}` | control API (JSON or form) |
//!
//! Faults ([`crate::Faults`]) apply to `/v2/...` and `/oauth/token` only.

mod accounts;
mod api;
mod control;
mod oauth;
mod pages;
mod state;
mod webhook;
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

/// The scopes the sandbox grants (the Convene app's scopes).
const SCOPES: &str = "meeting:write user:read";

/// How the Zoom sandbox is set up; the binary fills it from its configuration.
#[derive(Clone)]
pub struct ZoomSandboxConfig {
    /// The one OAuth client the sandbox knows (Convene's).
    pub client_id: String,
    pub client_secret: String,
    /// Where to POST webhooks (Convene's `/webhooks/zoom`), signed with `webhook_secret`.
    pub webhook_url: String,
    /// Zoom's "secret token" of the app's event subscription.
    pub webhook_secret: String,
    /// Access-token lifetime (Zoom: 3599 s); tests shorten it.
    pub access_token_ttl: Duration,
}

impl fmt::Debug for ZoomSandboxConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ZoomSandboxConfig")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .field("webhook_url", &self.webhook_url)
            .field("webhook_secret", &"[redacted]")
            .field("access_token_ttl", &self.access_token_ttl)
            .finish()
    }
}

/// The Zoom emulator. Cheap to clone: clones share one state.
#[derive(Clone)]
pub struct ZoomSandbox {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    config: ZoomSandboxConfig,
    state: Mutex<State>,
    http: reqwest::Client,
}

impl Inner {
    /// The sandbox state. Never held across an `.await`.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Counters and state for tests and the control page (`GET /control/stats` as JSON).
#[derive(Clone, Debug, Serialize)]
pub struct ZoomSandboxStats {
    /// Successful `authorization_code` exchanges.
    pub token_exchanges: u64,
    /// Refused `authorization_code` exchanges (bad code, redirect URI or verifier).
    pub token_exchange_failures: u64,
    /// Successful `refresh_token` grants.
    pub token_refreshes: u64,
    /// Refused `refresh_token` grants (rotated-away, revoked or unknown token).
    pub refresh_failures: u64,
    /// Calls to `POST /oauth/revoke` that ended a live grant.
    pub revocations: u64,
    /// "Uninstall the app" actions.
    pub uninstalls: u64,
    pub meetings_created: u64,
    pub meetings_updated: u64,
    pub meetings_deleted: u64,
    /// 429s and 5xx injected by [`Faults`].
    pub injected_rate_limits: u64,
    pub injected_errors: u64,
    /// Every meeting ever created, deleted ones included, in id order.
    pub meetings: Vec<SandboxMeeting>,
    /// Every Zoom user the sandbox knows: the test accounts and those created by signing in.
    pub users: Vec<ZoomUserStats>,
    /// Webhooks sent, oldest first.
    pub webhooks: Vec<WebhookDelivery>,
}

impl ZoomSandboxStats {
    /// The user with this Zoom user id or email.
    pub fn user(&self, email_or_id: &str) -> Option<&ZoomUserStats> {
        let email = email_or_id.trim().to_ascii_lowercase();
        self.users
            .iter()
            .find(|u| u.id == email_or_id || u.email == email)
    }

    /// Successful refreshes of this user's tokens (0 for an unknown user).
    pub fn refreshes_of(&self, email_or_id: &str) -> u64 {
        self.user(email_or_id).map_or(0, |u| u.refreshes)
    }

    /// Meetings not deleted.
    pub fn live_meetings(&self) -> impl Iterator<Item = &SandboxMeeting> {
        self.meetings.iter().filter(|m| !m.deleted)
    }
}

/// A meeting as the sandbox holds it.
#[derive(Clone, Debug, Serialize)]
pub struct SandboxMeeting {
    pub id: u64,
    pub uuid: String,
    pub host_user_id: String,
    pub host_email: String,
    pub topic: String,
    pub start_time: Timestamp,
    /// Minutes.
    pub duration: u32,
    pub timezone: String,
    /// Empty when the meeting has none.
    pub agenda: String,
    pub join_url: String,
    /// How many `PATCH`es it received.
    pub updates: u32,
    pub deleted: bool,
}

/// One Zoom user and what happened to their connection.
#[derive(Clone, Debug, Serialize)]
pub struct ZoomUserStats {
    /// The Zoom user id (stable: derived from the email).
    pub id: String,
    pub email: String,
    pub account_id: String,
    pub role_name: String,
    /// Has at least one live grant (authorized, not revoked or uninstalled).
    pub connected: bool,
    pub live_grants: usize,
    pub token_exchanges: u64,
    pub refreshes: u64,
    pub refresh_failures: u64,
    /// The last thing that happened to the connection, in words.
    pub last_event: Option<String>,
}

/// One webhook the sandbox sent.
#[derive(Clone, Debug, Serialize)]
pub struct WebhookDelivery {
    /// `app_deauthorized` or `endpoint.url_validation`.
    pub event: String,
    pub user_id: Option<String>,
    pub at: Timestamp,
    /// Convene's HTTP status, when it answered.
    pub status: Option<u16>,
    /// Why there was no answer (connection refused, timeout, …).
    pub error: Option<String>,
}

impl ZoomSandbox {
    pub fn new(config: ZoomSandboxConfig) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .user_agent("Zoom Marketplace/1.0a (convene-sandbox)")
            .build()
            .unwrap_or_default();
        Self {
            inner: Arc::new(Inner {
                config,
                state: Mutex::new(State::new()),
                http,
            }),
        }
    }

    /// Routes relative to where they are mounted; the binary nests them at `/sandbox/zoom`.
    pub fn router(&self) -> Router {
        let faulty = axum::middleware::from_fn_with_state(self.inner.clone(), api::inject_faults);
        let v2 = Router::new()
            .route("/users/me", get(api::me))
            .route("/users", get(api::list_users))
            .route(
                "/users/{user_id}/meetings",
                get(api::list_meetings).post(api::create_meeting),
            )
            .route(
                "/meetings/{meeting_id}",
                get(api::get_meeting)
                    .patch(api::update_meeting)
                    .delete(api::delete_meeting),
            )
            // A catch-all route rather than a fallback: fallbacks of a router nested
            // twice (here, then at `/sandbox/zoom`) are not reliably used.
            .route("/{*rest}", any(api::unknown_endpoint))
            .layer(faulty.clone());
        Router::new()
            .route(
                "/oauth/authorize",
                get(oauth::authorize_page).post(oauth::authorize_submit),
            )
            .route("/oauth/token", post(oauth::token).layer(faulty))
            .route("/oauth/revoke", post(oauth::revoke))
            .nest("/v2", v2)
            .route("/control", get(control::page))
            .route("/control/stats", get(control::stats))
            .route("/control/meetings", get(control::meetings))
            .route("/control/uninstall", post(control::uninstall))
            .route("/control/expire", post(control::expire))
            .route("/control/revoke", post(control::revoke))
            .route("/control/faults", post(control::faults))
            .route("/control/pre-approve", post(control::pre_approve))
            .route("/control/validate-webhook", post(control::validate_webhook))
            .with_state(self.inner.clone())
    }

    /// Counters and state for tests and the control page.
    pub fn stats(&self) -> ZoomSandboxStats {
        self.inner.lock().stats()
    }

    /// Every meeting ever created, deleted ones included, in id order (the same list
    /// as `stats().meetings`, without the rest of the stats).
    pub fn meetings(&self) -> Vec<SandboxMeeting> {
        self.inner.lock().meetings_view()
    }

    /// The faults in force.
    pub fn faults(&self) -> Faults {
        self.inner.lock().faults.clone()
    }

    /// Injects faults into `/v2/...` and `/oauth/token` from now on
    /// (`Faults::default()` turns them off).
    pub fn set_faults(&self, faults: Faults) {
        self.inner.lock().faults = faults.sanitized();
    }

    /// This user's (email or Zoom user id) access tokens now give `401 code 124`;
    /// their refresh tokens still work. Unknown users are ignored.
    pub fn expire_access_tokens(&self, zoom_user: &str) {
        self.inner.lock().expire_access_tokens_of(zoom_user);
    }

    /// This user's grants end: refresh tokens give `400 invalid_grant`, access tokens
    /// `401 code 124`. No webhook is sent (see [`ZoomSandbox::uninstall`]).
    pub fn revoke_grants(&self, zoom_user: &str) {
        self.inner
            .lock()
            .revoke_grants_of(zoom_user, "grant revoked from the sandbox");
    }

    /// The user uninstalls the app in the Zoom Marketplace: their grants end, then a
    /// correctly signed `app_deauthorized` webhook is POSTed to `webhook_url`.
    /// Returns Convene's HTTP status, or why it could not be delivered.
    pub async fn uninstall(&self, zoom_user: &str) -> Result<u16, String> {
        webhook::uninstall(&self.inner, zoom_user).await
    }

    /// Sends Zoom's `endpoint.url_validation` challenge to `webhook_url` and checks
    /// the answer (`plainToken` echoed, `encryptedToken` = hex HMAC-SHA256 of it).
    pub async fn validate_webhook_endpoint(&self) -> Result<(), String> {
        webhook::validate_endpoint(&self.inner).await
    }

    /// Sets whether the account of this user has pre-approved the app (as Zoom's
    /// account admin does in the Marketplace); bob's account needs it. False if the
    /// user is unknown.
    pub fn set_pre_approved(&self, zoom_user: &str, approved: bool) -> bool {
        self.inner.lock().pre_approve(zoom_user, approved).is_some()
    }
}

impl State {
    /// The seeded test accounts first, in the consent page's order, then the others by email.
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

    /// Every meeting, deleted ones included, in id order.
    fn meetings_view(&self) -> Vec<SandboxMeeting> {
        self.meetings
            .values()
            .map(|m| SandboxMeeting {
                id: m.id,
                uuid: m.uuid.clone(),
                host_user_id: m.host_id.clone(),
                host_email: m.host_email.clone(),
                topic: m.topic.clone(),
                start_time: m.start_time,
                duration: m.duration,
                timezone: m.timezone.clone(),
                agenda: m.agenda.clone(),
                join_url: m.join_url(),
                updates: m.updates,
                deleted: m.deleted,
            })
            .collect()
    }

    fn stats(&self) -> ZoomSandboxStats {
        let c = &self.counters;
        ZoomSandboxStats {
            token_exchanges: c.token_exchanges,
            token_exchange_failures: c.token_exchange_failures,
            token_refreshes: c.token_refreshes,
            refresh_failures: c.refresh_failures,
            revocations: c.revocations,
            uninstalls: c.uninstalls,
            meetings_created: c.meetings_created,
            meetings_updated: c.meetings_updated,
            meetings_deleted: c.meetings_deleted,
            injected_rate_limits: c.injected_rate_limits,
            injected_errors: c.injected_errors,
            meetings: self.meetings_view(),
            users: self
                .users_in_display_order()
                .into_iter()
                .map(|r| {
                    let live_grants = self.live_grants(&r.user.id);
                    ZoomUserStats {
                        id: r.user.id.clone(),
                        email: r.user.email.clone(),
                        account_id: r.user.account_id.clone(),
                        role_name: r.user.role.name().to_string(),
                        connected: live_grants > 0,
                        live_grants,
                        token_exchanges: r.token_exchanges,
                        refreshes: r.refreshes,
                        refresh_failures: r.refresh_failures,
                        last_event: r.last_event.clone(),
                    }
                })
                .collect(),
            webhooks: self
                .deliveries
                .iter()
                .map(|d| WebhookDelivery {
                    event: d.event.clone(),
                    user_id: d.user_id.clone(),
                    at: d.at,
                    status: d.outcome.as_ref().ok().copied(),
                    error: d.outcome.as_ref().err().cloned(),
                })
                .collect(),
        }
    }
}
