//! Tests of the Zoom sandbox over real HTTP: each test mounts the router at
//! `/sandbox/zoom` on its own port, as the binary does, and drives it with reqwest.

#![allow(clippy::unwrap_used)] // helpers outside #[test] fns unwrap too; a panic is a test failure

mod api;
mod control;
mod harness;
mod oauth;
