//! Convene's built-in sandbox providers (SPEC §8): emulators of the providers' OAuth
//! and REST APIs that the `convene` binary serves under `/sandbox/...`, speaking the
//! providers' real wire formats so that the production adapters, pointed at them
//! through their base-URL configuration, run unchanged on a fresh machine, in tests
//! and in demos.
//!
//! Each emulator keeps its state in memory and offers test accounts on its consent
//! page, a control surface (`/control`) to uninstall the app, expire or revoke tokens
//! and inject faults, and counters for tests ([`ZoomSandbox::stats`]).
//!
//! **Architecture Invariant:** this crate depends on HTTP and serialization crates
//! only — never on `convene-providers`: the adapters and the emulators are two
//! independent implementations of the same wire format, so each checks the other.
//! The wire types are private to the crate; only the control API is public.

mod faults;
pub mod google;
pub mod microsoft;
mod util;
mod zoom;

pub use faults::Faults;
pub use google::{
    GoogleSandbox, GoogleSandboxConfig, GoogleSandboxStats, GoogleUserStats,
    SandboxAttendee as GoogleSandboxAttendee, SandboxCalendar as GoogleSandboxCalendar,
    SandboxEvent as GoogleSandboxEvent, GOOGLE_TEST_ACCOUNTS,
};
pub use microsoft::{
    MicrosoftSandbox, MicrosoftSandboxConfig, MicrosoftSandboxStats, MicrosoftUserStats,
    SandboxAttendee as MicrosoftSandboxAttendee, SandboxCalendar as MicrosoftSandboxCalendar,
    SandboxEvent as MicrosoftSandboxEvent, SandboxOnlineMeeting,
    TEST_ACCOUNTS as MICROSOFT_TEST_ACCOUNTS,
};
pub use zoom::{
    SandboxMeeting, WebhookDelivery, ZoomSandbox, ZoomSandboxConfig, ZoomSandboxStats,
    ZoomUserStats, TEST_ACCOUNTS,
};
