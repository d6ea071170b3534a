//! realname's embedded store: SQLite in WAL mode, written by ONE dedicated thread and read by
//! a small pool of connections.
//!
//! Why a writer thread rather than an async driver: SQLite takes one writer at a time
//! anyway, and a transaction handed to the thread runs to completion even when the HTTP
//! client that asked for it disconnects and its future is dropped, so a cancelled request can
//! never leave a connection mid-transaction (the failure seen with sqlx 0.8 on SQLite).

mod ops;
mod sql;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread;

use realname_core::store::{StoreError, StoreResult};
use rusqlite::{Connection, OpenFlags, TransactionBehavior};
use tokio::sync::{mpsc, oneshot};

const SCHEMA: &[&str] = &[include_str!("schema.sql"), include_str!("schema_2.sql")];
const READERS: usize = 4;

type WriteJob = Box<dyn FnOnce(&mut Connection) + Send>;

/// The SQLite store. Cheap to clone; every clone shares the writer thread and the readers.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    writer: mpsc::UnboundedSender<WriteJob>,
    readers: Mutex<Vec<Connection>>,
}

/// Parses `sqlite://PATH`, `sqlite:PATH` or a bare path.
pub fn path_of_url(url: &str) -> PathBuf {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    let rest = rest.split('?').next().unwrap_or(rest);
    PathBuf::from(rest)
}

fn open_connection(path: &Path) -> rusqlite::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;",
    )?;
    Ok(conn)
}

pub(crate) fn failed(e: rusqlite::Error) -> StoreError {
    match &e {
        rusqlite::Error::SqliteFailure(code, _)
            if matches!(
                code.code,
                rusqlite::ErrorCode::DatabaseBusy
                    | rusqlite::ErrorCode::DatabaseLocked
                    | rusqlite::ErrorCode::CannotOpen
            ) =>
        {
            StoreError::Unavailable(e.to_string())
        }
        _ => StoreError::Failed(e.to_string()),
    }
}

/// Applies the migrations this binary knows, each in its own transaction.
fn migrate(conn: &mut Connection) -> rusqlite::Result<u32> {
    let current: u32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    for (index, script) in SCHEMA.iter().enumerate().skip(current as usize) {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute_batch(script)?;
        tx.pragma_update(None, "user_version", index as u32 + 1)?;
        tx.commit()?;
    }
    Ok(SCHEMA.len() as u32)
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path`, applies migrations, and starts the
    /// writer thread.
    pub fn open(path: impl AsRef<Path>) -> StoreResult<SqliteStore> {
        let path = path.as_ref().to_path_buf();
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .map_err(|e| StoreError::Unavailable(format!("{}: {e}", parent.display())))?;
        }
        let mut writer_conn = open_connection(&path).map_err(failed)?;
        migrate(&mut writer_conn).map_err(failed)?;
        let (tx, mut rx) = mpsc::unbounded_channel::<WriteJob>();
        thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || {
                while let Some(job) = rx.blocking_recv() {
                    job(&mut writer_conn);
                }
            })
            .map_err(|e| StoreError::Failed(format!("cannot start the writer thread: {e}")))?;
        Ok(SqliteStore {
            inner: Arc::new(Inner {
                path,
                writer: tx,
                readers: Mutex::new(Vec::new()),
            }),
        })
    }

    /// Applies migrations and returns the schema version, without starting a store.
    pub fn migrate_only(path: impl AsRef<Path>) -> StoreResult<u32> {
        let mut conn = open_connection(path.as_ref()).map_err(failed)?;
        migrate(&mut conn).map_err(failed)
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Runs `f` in one IMMEDIATE transaction on the writer thread. The transaction completes
    /// (commit or rollback) even if the caller stops waiting.
    pub(crate) async fn write<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Transaction<'_>) -> StoreResult<T> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job: WriteJob = Box::new(move |conn: &mut Connection| {
            let result = (|| {
                let tx = conn
                    .transaction_with_behavior(TransactionBehavior::Immediate)
                    .map_err(failed)?;
                let value = f(&tx)?;
                tx.commit().map_err(failed)?;
                Ok(value)
            })();
            let _ = reply.send(result);
        });
        self.inner
            .writer
            .send(job)
            .map_err(|_| StoreError::Unavailable("the writer thread has stopped".into()))?;
        answer
            .await
            .map_err(|_| StoreError::Unavailable("the writer thread has stopped".into()))?
    }

    /// Runs `f` on a reader connection in a blocking task.
    pub(crate) async fn read<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || {
            let pooled = inner.readers.lock().ok().and_then(|mut pool| pool.pop());
            let conn = match pooled {
                Some(conn) => conn,
                None => open_connection(&inner.path).map_err(failed)?,
            };
            let result = f(&conn);
            if let Ok(mut pool) = inner.readers.lock()
                && pool.len() < READERS
            {
                pool.push(conn);
            }
            result
        })
        .await
        .map_err(|e| StoreError::Failed(format!("reader task failed: {e}")))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_a_path() {
        assert_eq!(
            path_of_url("sqlite://realname.db"),
            PathBuf::from("realname.db")
        );
        assert_eq!(
            path_of_url("sqlite:///var/lib/r.db"),
            PathBuf::from("/var/lib/r.db")
        );
        assert_eq!(path_of_url("sqlite:x.db?mode=rwc"), PathBuf::from("x.db"));
        assert_eq!(path_of_url("plain.db"), PathBuf::from("plain.db"));
    }

    #[test]
    fn migrations_apply_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.db");
        assert_eq!(SqliteStore::migrate_only(&path).unwrap(), 2);
        assert_eq!(SqliteStore::migrate_only(&path).unwrap(), 2);
    }
}
