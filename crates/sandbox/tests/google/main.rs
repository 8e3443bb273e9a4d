//! Tests of the Google sandbox over real HTTP: each test mounts the router at
//! `/sandbox/google` on its own port, as the binary does, and drives it with reqwest
//! in Google's wire format (the adapter is tested against it in convene-providers).

#![allow(clippy::unwrap_used)] // helpers outside #[test] fns unwrap too; a panic is a test failure

mod api;
mod control;
mod harness;
mod oauth;
