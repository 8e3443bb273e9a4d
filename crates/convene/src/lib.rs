//! The `convene` binary's library half: configuration, startup, the CLI commands and
//! benchmarks, shared with the integration tests.

pub mod bench;
mod bench_booking;
pub mod cli;
pub mod config;
pub mod demo;
pub mod startup;
