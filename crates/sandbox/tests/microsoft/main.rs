//! Tests of the Microsoft sandbox over real HTTP: each test mounts the router at
//! `/sandbox/microsoft` on its own port, as the binary does, and drives it with reqwest.

#![allow(clippy::unwrap_used)] // helpers outside #[test] fns unwrap too; a panic is a test failure

mod control;
mod graph;
mod harness;
mod oauth;
