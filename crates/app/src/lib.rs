//! The use cases of Convene: what people and integrations can do, with the rules and
//! permission checks that apply, on top of the store.
//!
//! **Architecture Invariant:** every permission check happens here, not only in the
//! web layer, so the HTML pages, the REST API and the CLI cannot disagree about who may
//! do what. Each use case takes the acting [`Actor`].
//!
//! **Architecture Invariant:** a state change and the side effects it causes (emails
//! now; provider meetings, calendar events and webhooks later) are written in one
//! transaction: the change plus jobs in the durable queue. Nothing here sends an email
//! or calls a provider while a transaction is open.

pub mod accounts;
pub mod actor;
pub mod api_keys;
pub mod audit;
pub mod calendars;
pub mod clock;
pub mod connections;
pub mod error;
pub mod groups;
pub mod invitations;
pub mod jobs;
pub mod locks;
pub mod mail;
pub mod operations;
pub mod org;
pub mod passwords;
pub mod scheduling;
pub mod secrets;
pub mod settings;
pub mod tokens;
pub mod users;

pub use actor::Actor;
pub use clock::{Clock, SystemClock};
pub use error::{AppError, AppResult};
pub use settings::AppSettings;

use convene_store::Store;
use std::sync::Arc;

/// Everything a use case needs, cheap to clone.
#[derive(Clone)]
pub struct App {
    pub store: Store,
    pub settings: Arc<AppSettings>,
    pub clock: Arc<dyn Clock>,
    pub mailer: mail::Mailer,
    pub secrets: Arc<secrets::SecretBox>,
    /// Wakes idle job workers when this instance enqueues a job.
    pub job_signal: Arc<tokio::sync::Notify>,
    pub providers: Arc<connections::Providers>,
    pub(crate) refresh_locks: Arc<connections::tokens::RefreshLocks>,
    /// Hosts' calendar busy times, per instance.
    pub busy_cache: Arc<calendars::busy::BusyCache>,
    /// Hosts' standing bookings for slot pages, per instance, for a few seconds.
    pub bookings_cache: Arc<scheduling::slots::BookingsCache>,
}

impl App {
    pub fn new(
        store: Store,
        settings: AppSettings,
        clock: Arc<dyn Clock>,
        mailer: mail::Mailer,
        secrets: secrets::SecretBox,
        providers: connections::Providers,
    ) -> Self {
        Self {
            store,
            settings: Arc::new(settings),
            clock,
            mailer,
            secrets: Arc::new(secrets),
            job_signal: Arc::new(tokio::sync::Notify::new()),
            providers: Arc::new(providers),
            refresh_locks: Arc::default(),
            busy_cache: Arc::default(),
            bookings_cache: Arc::default(),
        }
    }

    pub fn now(&self) -> jiff::Timestamp {
        self.clock.now()
    }
}
