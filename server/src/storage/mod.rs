//! The SQL store: SQLite (the embedded default) or Postgres, chosen by the URL's scheme.
//! Invariant: every call is bounded by `CALL_TIMEOUT` (pool acquire included), uses bound
//! parameters only, and the same SQL text runs on both backends; the schema is migrated at start.

pub mod attempts;
pub mod boards;
pub mod players;
pub mod writer;

use std::path::Path;
use std::time::Duration;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Executor};

pub use attempts::{AttemptStart, FinishedAttempt};
pub use writer::{ReserveError, WriteJob, WriteSlot, Writer, Writes};

/// Longest any one storage call may take, waiting for a connection included (RELIABILITY.md:
/// sqlx's default acquire timeout froze callers for 30 s while Postgres was paused).
pub const CALL_TIMEOUT: Duration = Duration::from_secs(2);

static SQLITE: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES: Migrator = sqlx::migrate!("./migrations/postgres");

/// Which database a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// `sqlite://…`
    Sqlite,
    /// `postgres://…` or `postgresql://…`
    Postgres,
}

impl Backend {
    /// The backend a URL names, or why it names none.
    ///
    /// # Errors
    /// A scheme other than `sqlite:`, `postgres:` or `postgresql:`.
    pub fn of(url: &str) -> Result<Self, StoreError> {
        if url.starts_with("sqlite:") {
            Ok(Self::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Self::Postgres)
        } else {
            Err(StoreError::BadUrl(
                "DATABASE_URL must start with sqlite:, postgres: or postgresql:".to_owned(),
            ))
        }
    }

    /// Lower-case name, for logs and `/readyz`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

/// Why a storage call failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The URL is not one this server speaks.
    #[error("{0}")]
    BadUrl(String),
    /// The call took longer than `CALL_TIMEOUT`.
    #[error("storage call timed out after {CALL_TIMEOUT:?}")]
    Timeout,
    /// The database said no, or the connection failed.
    #[error("database: {0}")]
    Sql(#[from] sqlx::Error),
    /// Migrating failed.
    #[error("migrating: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A stored row did not read back as expected.
    #[error("stored data: {0}")]
    Corrupt(String),
}

/// A connection pool to the one database.
#[derive(Debug, Clone)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
}

impl Db {
    /// Connects (creating a SQLite file and its directory when missing). Does not migrate.
    ///
    /// # Errors
    /// A bad URL, or the database cannot be reached within `CALL_TIMEOUT`.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        install_default_drivers();
        let backend = Backend::of(url)?;
        let url = match backend {
            Backend::Sqlite => sqlite_url(url)?,
            Backend::Postgres => url.to_owned(),
        };
        let options = AnyPoolOptions::new()
            .max_connections(match backend {
                // One writer at a time is all SQLite allows; readers share WAL snapshots.
                Backend::Sqlite => 4,
                Backend::Postgres => 8,
            })
            .acquire_timeout(CALL_TIMEOUT)
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                        conn.execute("PRAGMA busy_timeout = 2000").await?;
                        conn.execute("PRAGMA synchronous = NORMAL").await?;
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                    }
                    Ok(())
                })
            });
        let pool = bounded(options.connect(&url)).await?;
        Ok(Self { pool, backend })
    }

    /// Applies the embedded migrations for this backend (idempotent).
    ///
    /// # Errors
    /// When a migration fails or the database is unreachable.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE,
            Backend::Postgres => &POSTGRES,
        };
        // Migrations may take longer than one call's budget on a big database; they run once
        // at start, before the server accepts anyone.
        migrator.run(&self.pool).await?;
        Ok(())
    }

    /// One round trip to the database.
    ///
    /// # Errors
    /// When it does not answer within `CALL_TIMEOUT`.
    pub async fn ping(&self) -> Result<(), StoreError> {
        bounded(sqlx::query("SELECT 1").execute(&self.pool)).await?;
        Ok(())
    }

    /// Runs a fixed statement (test and operator setup, such as creating a schema; never a
    /// string built from input).
    ///
    /// # Errors
    /// When the database fails or times out.
    pub async fn execute_raw(&self, sql: &str) -> Result<(), StoreError> {
        bounded(sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned())).execute(&self.pool)).await?;
        Ok(())
    }

    /// Which backend.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Closes every connection (tests and shutdown).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Runs a storage future within `CALL_TIMEOUT`.
pub(crate) async fn bounded<T>(
    call: impl Future<Output = Result<T, sqlx::Error>>,
) -> Result<T, StoreError> {
    match tokio::time::timeout(CALL_TIMEOUT, call).await {
        Ok(r) => r.map_err(StoreError::Sql),
        Err(_) => Err(StoreError::Timeout),
    }
}

/// A SQLite URL that creates the file (and its directory) when missing.
fn sqlite_url(url: &str) -> Result<String, StoreError> {
    let rest = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let path = rest.split('?').next().unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        return Err(StoreError::BadUrl(
            "an in-memory SQLite database would be a different one on every connection: \
             give a file path, e.g. sqlite://./data/stampede.db"
                .to_owned(),
        ));
    }
    if let Some(dir) = Path::new(path).parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir).map_err(|e| {
            StoreError::BadUrl(format!("creating the directory {}: {e}", dir.display()))
        })?;
    }
    if rest.contains("mode=") {
        Ok(format!("sqlite://{rest}"))
    } else if rest.contains('?') {
        Ok(format!("sqlite://{rest}&mode=rwc"))
    } else {
        Ok(format!("sqlite://{rest}?mode=rwc"))
    }
}

/// The directory of a SQLite database file (where the receipt key is kept), if the URL names one.
pub fn sqlite_dir(url: &str) -> Option<std::path::PathBuf> {
    if Backend::of(url).ok()? != Backend::Sqlite {
        return None;
    }
    let rest = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let path = Path::new(rest.split('?').next()?);
    Some(
        path.parent()
            .filter(|d| !d.as_os_str().is_empty())
            .map_or_else(|| std::path::PathBuf::from("."), Path::to_path_buf),
    )
}
