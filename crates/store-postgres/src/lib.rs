//! realname's shared store: PostgreSQL, for several `realname serve` nodes over one database.
//!
//! Every write runs in its own task, so a request whose client goes away still commits or
//! rolls back its transaction rather than leaving it to a dropped future. Workers lease jobs
//! with `FOR UPDATE SKIP LOCKED`; migrations are applied under an advisory lock, so when
//! several nodes start at once one applies them and the others wait.

use std::future::Future;
use std::time::Duration;

use realname_core::store::{StoreError, StoreResult};
use sqlx::postgres::{PgPool, PgPoolOptions};

mod bulk;
mod db;

const MIGRATIONS: &[&str] = realname_store_sql::migrations!();
/// An arbitrary constant naming realname's migration lock among advisory locks.
const MIGRATION_LOCK: i64 = 0x7265_616c_6e61_6d65;

#[derive(Clone)]
pub struct PgStore {
    pub(crate) pool: PgPool,
}

/// How the pool behaves: how many connections, and how long a request waits for one before
/// it is told the store is unavailable (a 503, not a hang).
#[derive(Debug, Clone, Copy)]
pub struct PoolSettings {
    pub max_connections: u32,
    pub acquire_timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        PoolSettings {
            max_connections: 10,
            acquire_timeout: Duration::from_secs(5),
        }
    }
}

pub(crate) fn err(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.code().as_deref() == Some("23505") => {
            StoreError::Conflict(db.constraint().unwrap_or("unique").to_owned())
        }
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_) => StoreError::Unavailable(e.to_string()),
        // The server shutting down or refusing connections (admin shutdown, starting up).
        sqlx::Error::Database(db)
            if db
                .code()
                .is_some_and(|c| c.starts_with("57") || c.starts_with("08")) =>
        {
            StoreError::Unavailable(e.to_string())
        }
        _ => StoreError::Failed(e.to_string()),
    }
}

/// Runs `work` in its own task so that it finishes even if the caller stops waiting.
pub(crate) async fn detached<T: Send + 'static>(
    work: impl Future<Output = StoreResult<T>> + Send + 'static,
) -> StoreResult<T> {
    tokio::spawn(work)
        .await
        .map_err(|e| StoreError::Failed(format!("store task: {e}")))?
}

impl PgStore {
    /// Connects, then applies migrations under the advisory lock.
    pub async fn connect(url: &str, settings: PoolSettings) -> StoreResult<PgStore> {
        // No ping before each acquire: it doubled the round trips of every query. A connection
        // that died with the server fails its next query instead, which answers 503
        // service_unavailable like any other outage, and the pool replaces it.
        let options = PgPoolOptions::new()
            .max_connections(settings.max_connections)
            .acquire_timeout(settings.acquire_timeout)
            .test_before_acquire(false);
        let pool = match options.clone().connect(url).await {
            Ok(pool) => pool,
            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some(UNKNOWN_DATABASE) => {
                create_database(url).await?;
                options.connect(url).await.map_err(err)?
            }
            Err(e) => return Err(err(e)),
        };
        let store = PgStore { pool };
        store.migrate().await?;
        Ok(store)
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Applies the migrations this binary knows; returns the schema version.
    pub async fn migrate(&self) -> StoreResult<u32> {
        let mut conn = self.pool.acquire().await.map_err(err)?;
        sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(MIGRATION_LOCK)
            .execute(&mut *conn)
            .await
            .map_err(err)?;
        let result = async {
            sqlx::query("CREATE TABLE IF NOT EXISTS realname_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())")
                .execute(&mut *conn)
                .await
                .map_err(err)?;
            let current: Option<i32> = sqlx::query_scalar("SELECT max(version) FROM realname_migrations")
                .fetch_one(&mut *conn)
                .await
                .map_err(err)?;
            for (index, script) in MIGRATIONS.iter().enumerate().skip(current.unwrap_or(0) as usize) {
                let mut tx = sqlx::Connection::begin(&mut *conn).await.map_err(err)?;
                sqlx::raw_sql(script).execute(&mut *tx).await.map_err(err)?;
                sqlx::query("INSERT INTO realname_migrations (version) VALUES ($1)")
                    .bind(index as i32 + 1)
                    .execute(&mut *tx)
                    .await
                    .map_err(err)?;
                tx.commit().await.map_err(err)?;
            }
            Ok(MIGRATIONS.len() as u32)
        }
        .await;
        let _ = sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(MIGRATION_LOCK)
            .execute(&mut *conn)
            .await;
        result
    }
}

const UNKNOWN_DATABASE: &str = "3D000";
const DUPLICATE_DATABASE: &str = "42P04";

/// Creates the database the URL names, through the server's `postgres` database, so that a
/// first start needs no separate `createdb`. Nodes starting together may race: the loser's
/// "already exists" is success too.
async fn create_database(url: &str) -> StoreResult<()> {
    let options: sqlx::postgres::PgConnectOptions = url.parse().map_err(err)?;
    let name = options.get_database().unwrap_or("realname").to_owned();
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(StoreError::Failed(format!(
            "database {name:?} does not exist; create it first"
        )));
    }
    let mut admin: sqlx::PgConnection =
        sqlx::Connection::connect_with(&options.database("postgres"))
            .await
            .map_err(err)?;
    match sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
    {
        Ok(_) => Ok(()),
        Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some(DUPLICATE_DATABASE) => Ok(()),
        Err(e) => Err(err(e)),
    }
}
