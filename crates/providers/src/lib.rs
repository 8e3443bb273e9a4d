//! Provider adapters: the only code in Convene that speaks a provider's wire format.
//!
//! Each provider is one module (`zoom/`) with the same shape: `mod.rs` holds the client
//! (configuration, one method per flow), `wire.rs` the serde structs of the provider's
//! JSON (private to the module), and `errors.rs` the one function that turns the
//! provider's error responses into [`ProviderError`]. Shared plumbing lives here:
//! [`http`] (timeouts, retries, `Retry-After`, redacted logging), [`oauth`] (PKCE and
//! the token set every OAuth provider returns) and [`secret`].
//!
//! **Architecture Invariant:** adapters are stateless and never touch the database;
//! tokens come in as arguments and go out as return values. The token service in
//! `convene-app` decides when to refresh and stores the result.
//!
//! **Architecture Invariant:** no provider wire type leaves its module, and every
//! provider error becomes a [`ProviderError`] inside the adapter.
//!
//! **Architecture Invariant:** every base URL comes from configuration; no adapter
//! knows whether it talks to the real provider, the sandbox or a test server.

pub mod caldav;
pub mod calendar;
pub mod error;
pub mod google;
pub mod http;
pub mod microsoft;
pub mod oauth;
pub mod secret;
pub mod zoom;

pub use error::ProviderError;
pub use oauth::{Pkce, TokenSet};
pub use secret::Secret;
