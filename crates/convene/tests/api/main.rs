//! The integration suite: one binary, each test with its own server and database
//! (SQLite by default; PostgreSQL when `CONVENE_TEST_POSTGRES` is set).

mod accounts;
mod architecture;
mod cli;
mod email;
mod groups;
mod jobs;
mod locks;
mod users;
