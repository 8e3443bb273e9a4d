//! The `convene` binary's library half: configuration, startup, the CLI commands and
//! benchmarks, shared with the integration tests.

pub mod bench;
pub mod cli;
pub mod config;
pub mod startup;
