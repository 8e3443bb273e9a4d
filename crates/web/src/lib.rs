//! HTTP: the server-rendered web UI (`html`), the REST API (`api`, under `/api/v1`),
//! health and metrics. Handlers parse input into domain types, call a use case of
//! `convene-app`, and render the result; they hold no business rules.
//!
//! **Architecture Invariant:** every error leaves through [`error::WebError`], which
//! maps use-case errors to HTTP statuses in one place. A 500 means a bug: bad input is
//! always a 4xx naming the problem.

pub mod api;
pub mod auth;
pub mod error;
pub mod extract;
pub mod health;
pub mod hooks;
pub mod html;
pub mod rate_limit;
pub mod telemetry;

use axum::extract::DefaultBodyLimit;
use axum::Router;
use convene_app::App;
use metrics_exporter_prometheus::PrometheusHandle;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub app: App,
    pub metrics: Option<PrometheusHandle>,
    /// Set the `Secure` flag on cookies (when served over https).
    pub secure_cookies: bool,
    /// Attempts at the public forms (sign-in, setup, join), per form and key.
    pub form_limiter: std::sync::Arc<rate_limit::RateLimiter>,
}

/// The whole HTTP surface of Convene.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(html::routes())
        .nest("/api/v1", api::routes())
        .merge(health::routes())
        .merge(hooks::routes())
        .layer(DefaultBodyLimit::max(4 * 1024 * 1024))
        .layer(axum::middleware::from_fn(telemetry::track))
        .with_state(state)
}
