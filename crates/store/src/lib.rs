//! Storage: the only crate that knows SQL.
//!
//! One implementation serves both backends through sqlx's `Any` driver: the SQL is
//! written once in the common dialect (`$n` placeholders, `RETURNING`, `ON CONFLICT`,
//! instants as BIGINT Unix milliseconds), and the few places where SQLite and
//! PostgreSQL differ ask [`Dialect`]. Each backend has its own migration folder with the
//! same file names, so the two schemas evolve in step.
//!
//! **Architecture Invariant:** no other crate sees sqlx. Callers get domain types and
//! [`StoreError`]; a transaction is a [`Tx`], whose methods are the repository.
//!
//! **Architecture Invariant:** a `Tx` is never held across a network call. SQLite
//! allows one writer at a time, so write transactions are short and serialized
//! in-process by a gate; readers never wait for it (WAL).

mod api_keys;
mod audit;
mod bookings;
mod calendars;
mod connections;
mod event_types;
mod groups;
mod invitations;
mod jobs;
mod locks;
mod orgs;
mod outbox;
mod rows;
mod sessions;
mod users;

pub use bookings::{BookingQuery, BookingRow, MeetingUpdate, NewBooking, OrphanMeeting};
pub use calendars::{BookingEventRow, CalendarRow, ListedCalendar};
pub use event_types::{EventHostRow, EventTypeFields, EventTypeRow};
pub use locks::LockOutcome;
pub use rows::*;

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{Any, AnyPool, Executor, Row, Transaction};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, OwnedMutexGuard};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A uniqueness rule was broken; the string names the constraint's subject.
    #[error("already exists: {0}")]
    Conflict(String),
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Which SQL engine is behind the pool; consulted only where their SQL differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    dialect: Dialect,
    /// Serializes write transactions on SQLite, where a second writer would only get
    /// SQLITE_BUSY. PostgreSQL needs no gate.
    write_gate: Option<Arc<Mutex<()>>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("dialect", &self.dialect)
            .finish()
    }
}

/// A database transaction and the repository operations on it. Dropping it without
/// [`Tx::commit`] rolls back.
pub struct Tx {
    inner: Transaction<'static, Any>,
    dialect: Dialect,
    _gate: Option<OwnedMutexGuard<()>>,
}

impl Store {
    /// Connects to `url` (`sqlite://…` or `postgres://…`) and applies migrations.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let dialect = if url.starts_with("sqlite:") {
            Dialect::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Dialect::Postgres
        } else {
            return Err(StoreError::Corrupt(format!(
                "unsupported database URL scheme in '{}' (use sqlite:// or postgres://)",
                url.split(':').next().unwrap_or_default()
            )));
        };
        let mut options = AnyPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(10));
        if dialect == Dialect::Sqlite {
            options = options.after_connect(|conn, _meta| {
                Box::pin(async move {
                    conn.execute(
                        // secure_delete: deleted rows (tokens of a disconnected
                        // account) are overwritten, not left in free pages.
                        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                         PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON; \
                         PRAGMA secure_delete = ON;",
                    )
                    .await?;
                    Ok(())
                })
            });
        }
        let pool = options.connect(url).await?;
        let store = Self {
            pool,
            dialect,
            write_gate: (dialect == Dialect::Sqlite).then(|| Arc::new(Mutex::new(()))),
        };
        store.migrate().await?;
        Ok(store)
    }

    pub async fn migrate(&self) -> Result<()> {
        match self.dialect {
            Dialect::Sqlite => sqlx::migrate!("migrations/sqlite").run(&self.pool).await?,
            Dialect::Postgres => {
                sqlx::migrate!("migrations/postgres")
                    .run(&self.pool)
                    .await?
            }
        }
        Ok(())
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// A transaction that may write.
    pub async fn write(&self) -> Result<Tx> {
        let gate = match &self.write_gate {
            Some(g) => Some(g.clone().lock_owned().await),
            None => None,
        };
        Ok(Tx {
            inner: self.pool.begin().await?,
            dialect: self.dialect,
            _gate: gate,
        })
    }

    /// A transaction for reading: a consistent snapshot that never waits for writers.
    pub async fn read(&self) -> Result<Tx> {
        Ok(Tx {
            inner: self.pool.begin().await?,
            dialect: self.dialect,
            _gate: None,
        })
    }

    /// `SELECT 1`, for readiness probes.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// After secrets were deleted: on SQLite, moves the write-ahead log (which still
    /// holds the old page images) into the database and truncates it, so no copy of a
    /// deleted token stays on disk. PostgreSQL's dead tuples are left to autovacuum.
    pub async fn purge_deleted(&self) -> Result<()> {
        if self.dialect == Dialect::Sqlite {
            let _gate = match &self.write_gate {
                Some(g) => Some(g.clone().lock_owned().await),
                None => None,
            };
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

impl Tx {
    pub async fn commit(self) -> Result<()> {
        self.inner.commit().await?;
        Ok(())
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }
}

/// Maps a unique-constraint violation to [`StoreError::Conflict`].
pub(crate) fn conflict(subject: &str) -> impl FnOnce(sqlx::Error) -> StoreError + '_ {
    move |e| match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::Conflict(subject.to_string())
        }
        _ => StoreError::Database(e),
    }
}

pub(crate) fn ms(t: jiff::Timestamp) -> i64 {
    t.as_millisecond()
}

pub(crate) fn ts(ms: i64) -> Result<jiff::Timestamp> {
    jiff::Timestamp::from_millisecond(ms).map_err(|e| StoreError::Corrupt(e.to_string()))
}

pub(crate) fn opt_ts(ms: Option<i64>) -> Result<Option<jiff::Timestamp>> {
    ms.map(ts).transpose()
}

pub(crate) fn get_ts(row: &AnyRow, col: &str) -> Result<jiff::Timestamp> {
    ts(row.try_get(col)?)
}

pub(crate) fn get_opt_ts(row: &AnyRow, col: &str) -> Result<Option<jiff::Timestamp>> {
    opt_ts(row.try_get(col)?)
}

pub(crate) fn get_parsed<T: std::str::FromStr>(row: &AnyRow, col: &str) -> Result<T>
where
    T::Err: std::fmt::Display,
{
    let s: String = row.try_get(col)?;
    s.parse()
        .map_err(|e: T::Err| StoreError::Corrupt(format!("{col}: {e}")))
}

pub(crate) fn get_opt_parsed<T: std::str::FromStr>(row: &AnyRow, col: &str) -> Result<Option<T>>
where
    T::Err: std::fmt::Display,
{
    let s: Option<String> = row.try_get(col)?;
    s.map(|s| {
        s.parse()
            .map_err(|e: T::Err| StoreError::Corrupt(format!("{col}: {e}")))
    })
    .transpose()
}
