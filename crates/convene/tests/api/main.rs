//! The integration suite: one binary, each test with its own server and database
//! (SQLite by default; PostgreSQL when `CONVENE_TEST_POSTGRES` is set).

// Test helpers may unwrap: a failure there is a failed test, with its message.
#![allow(clippy::unwrap_used)]

mod accounts;
mod architecture;
mod bad_input;
mod booking;
mod booking_pages;
mod calendars;
mod cli;
mod crash;
mod email;
mod groups;
mod jobs;
mod locks;
mod security;
mod users;
mod zoom;
