//! realname's embedded store: SQLite in WAL mode, written by ONE dedicated thread and read by
//! a small pool of connections.
//!
//! Why a writer thread rather than an async driver: SQLite takes one writer at a time
//! anyway, and a transaction handed to the thread runs to completion even when the HTTP
//! client that asked for it disconnects and its future is dropped, so a cancelled request can
//! never leave a connection mid-transaction (the failure seen with sqlx 0.8 on SQLite).

mod db;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread;

use realname_core::store::{StoreError, StoreResult};
use rusqlite::{Connection, OpenFlags, TransactionBehavior};
use tokio::sync::{mpsc, oneshot};

const SCHEMA: &[&str] = realname_store_sql::migrations!();
const READERS: usize = 4;
/// The most jobs one commit carries: enough for every user of a busy node at once, few enough
/// that the first caller of a batch does not wait long for the last.
const BATCH: usize = 64;

/// One caller's write: run on the batch's transaction (or told why it cannot run), it returns
/// how to answer its caller once the batch's commit is known, and whether it broke the batch.
type WriteJob =
    Box<dyn FnOnce(Result<&mut Connection, StoreError>) -> (Delivery, Option<StoreError>) + Send>;
type Delivery = Box<dyn FnOnce(StoreResult<()>) + Send>;

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

/// Makes a new database file readable and writable by its owner only (CONTRACT 11); SQLite
/// gives its `-wal` and `-shm` files the database file's mode. An existing file is left as
/// it is.
fn create_private(path: &Path) -> StoreResult<()> {
    let name = path.to_string_lossy();
    if name == ":memory:" || name.starts_with("file:") {
        return Ok(());
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(StoreError::Unavailable(format!("{}: {e}", path.display()))),
    }
}

fn open_connection(path: &Path) -> rusqlite::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    // secure_delete: a deleted row's bytes are overwritten with zeros, not left in free pages
    // for anyone with the file to read back (CONTRACT 11: erased must mean gone).
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;
         PRAGMA secure_delete = ON;",
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

/// A statement without parameters, through the connection's statement cache (transaction
/// control runs several times per batch).
fn run(conn: &Connection, sql: &str) -> rusqlite::Result<usize> {
    conn.prepare_cached(sql)?.execute([])
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
        create_private(&path)?;
        let mut writer_conn = open_connection(&path).map_err(failed)?;
        migrate(&mut writer_conn).map_err(failed)?;
        let (tx, mut rx) = mpsc::unbounded_channel::<WriteJob>();
        thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || {
                write_loop(&mut writer_conn, &mut rx);
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

    /// Copies every page of the write-ahead log into the database file and empties the log
    /// (`wal_checkpoint(TRUNCATE)`): after an erasure, the main file's old pages are
    /// overwritten (secure_delete zeroed what was deleted) and the log holds no copy of them.
    pub(crate) async fn checkpoint(&self) -> StoreResult<()> {
        let path = self.inner.path.clone();
        tokio::task::spawn_blocking(move || {
            let conn = open_connection(&path).map_err(failed)?;
            let busy: i64 = conn
                .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))
                .map_err(failed)?;
            if busy != 0 {
                return Err(StoreError::Unavailable(
                    "a reader held the write-ahead log; the checkpoint is left to the next batch"
                        .into(),
                ));
            }
            Ok(())
        })
        .await
        .map_err(|e| StoreError::Failed(format!("checkpoint task failed: {e}")))?
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Runs `f` as one write transaction on the writer thread, and answers once it is
    /// durably committed. The work completes (commit or rollback) even if the caller stops
    /// waiting. `f` holds the connection mutably, so that the shared operations' futures
    /// over it may move between threads.
    pub(crate) async fn write<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job: WriteJob = Box::new(move |conn: Result<&mut Connection, StoreError>| {
            let (outcome, broken) = match conn {
                Ok(conn) => match in_savepoint(conn, f) {
                    Ok(outcome) => (outcome, None),
                    Err(broken) => (Err(broken.clone()), Some(broken)),
                },
                Err(e) => (Err(e), None),
            };
            let deliver: Delivery = Box::new(move |committed: StoreResult<()>| {
                let _ = reply.send(outcome.and_then(|value| committed.map(|()| value)));
            });
            (deliver, broken)
        });
        self.inner
            .writer
            .send(job)
            .map_err(|_| StoreError::Unavailable("the writer thread has stopped".into()))?;
        answer
            .await
            .map_err(|_| StoreError::Unavailable("the writer thread has stopped".into()))?
    }
}

impl Inner {
    pub(crate) fn with_reader<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> StoreResult<T>,
    ) -> StoreResult<T> {
        let pooled = self.readers.lock().ok().and_then(|mut pool| pool.pop());
        let mut conn = match pooled {
            Some(conn) => conn,
            None => open_connection(&self.path).map_err(failed)?,
        };
        // One read transaction for all of `f`'s statements: one snapshot (an application and
        // its deposit as of the same moment), and one round of file locking instead of one per
        // statement.
        let result = conn
            .prepare_cached("BEGIN")
            .and_then(|mut begin| begin.execute([]))
            .map_err(failed)
            .and_then(|_| f(&mut conn));
        // A connection left inside a transaction would serve stale snapshots: drop it.
        let finished =
            conn.is_autocommit() || (run(&conn, "COMMIT").is_ok() && conn.is_autocommit());
        if finished
            && let Ok(mut pool) = self.readers.lock()
            && pool.len() < READERS
        {
            pool.push(conn);
        }
        result
    }
}

/// Runs one job under its own savepoint, so that its failure undoes its own changes and
/// nothing else of the batch. The outer error means the savepoint itself failed: the batch
/// can no longer be trusted and must not be committed.
fn in_savepoint<T>(
    conn: &mut Connection,
    f: impl FnOnce(&mut Connection) -> StoreResult<T>,
) -> Result<StoreResult<T>, StoreError> {
    run(conn, "SAVEPOINT job").map_err(failed)?;
    let outcome = f(conn);
    if outcome.is_err() {
        run(conn, "ROLLBACK TO job").map_err(failed)?;
    }
    run(conn, "RELEASE job").map_err(failed)?;
    Ok(outcome)
}

/// The writer thread: group commit. It takes every job waiting (up to [`BATCH`]), runs each
/// under its own savepoint inside ONE transaction, commits once, and only then answers each
/// caller. One fsync then serves many requests, where a commit per request kept writes
/// below half of the engine's own rate with 32 users (BENCHMARKS.md).
///
/// A failed job is rolled back to its savepoint and answers its own error; the others are
/// unaffected. If the transaction itself is lost (a failed commit, a failed savepoint, or
/// SQLite rolling back on its own after an I/O error), every job of the batch answers that
/// error: nothing of the batch was stored, and nothing was acknowledged before the commit.
fn write_loop(conn: &mut Connection, rx: &mut mpsc::UnboundedReceiver<WriteJob>) {
    let mut batch = Vec::with_capacity(BATCH);
    while let Some(first) = rx.blocking_recv() {
        batch.push(first);
        while batch.len() < BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        run_batch(conn, &mut batch);
    }
}

fn run_batch(conn: &mut Connection, batch: &mut Vec<WriteJob>) {
    if let Err(e) = run(conn, "BEGIN IMMEDIATE") {
        let e = failed(e);
        for job in batch.drain(..) {
            let (deliver, _) = job(Err(e.clone()));
            deliver(Err(e.clone()));
        }
        return;
    }
    let mut deliveries = Vec::with_capacity(batch.len());
    let mut lost: Option<StoreError> = None;
    for job in batch.drain(..) {
        let (deliver, broken) = match &lost {
            None => job(Ok(&mut *conn)),
            Some(e) => job(Err(e.clone())),
        };
        deliveries.push(deliver);
        if lost.is_none() {
            lost = broken.or_else(|| {
                conn.is_autocommit().then(|| {
                    StoreError::Unavailable("the database rolled the transaction back".into())
                })
            });
        }
    }
    let committed = match lost {
        None => run(conn, "COMMIT").map(drop).map_err(failed),
        Some(e) => Err(e),
    };
    if committed.is_err() && !conn.is_autocommit() {
        let _ = run(conn, "ROLLBACK");
    }
    for deliver in deliveries {
        deliver(committed.clone());
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

    /// What is deleted is overwritten: once the write-ahead log is checkpointed, neither file
    /// holds the bytes (without secure_delete they stay in the freed page).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn deleted_rows_leave_no_bytes_behind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.db");
        let store = SqliteStore::open(&path).unwrap();
        let secret = "DISTINCTIVE-VALUE-7f3a9c";
        store
            .write(move |c| {
                c.execute("CREATE TABLE scratch (v TEXT)", [])
                    .map_err(failed)?;
                for n in 0..50 {
                    c.execute(
                        "INSERT INTO scratch (v) VALUES (?1)",
                        [format!("{secret}-{n}")],
                    )
                    .map_err(failed)?;
                }
                Ok(())
            })
            .await
            .unwrap();
        let holds = |path: &Path| {
            let files = [path.to_path_buf(), path.with_extension("db-wal")];
            files.iter().any(|f| {
                std::fs::read(f)
                    .unwrap_or_default()
                    .windows(secret.len())
                    .any(|w| w == secret.as_bytes())
            })
        };
        let checkpoint = |path: &Path| {
            let c = Connection::open(path).unwrap();
            c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
                .unwrap();
        };
        checkpoint(&path);
        assert!(holds(&path), "the rows are there before they are deleted");
        store
            .write(|c| c.execute("DELETE FROM scratch", []).map_err(failed))
            .await
            .unwrap();
        checkpoint(&path);
        assert!(!holds(&path), "deleted bytes linger in the file");
    }

    #[test]
    fn migrations_apply_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.db");
        let latest = SCHEMA.len() as u32;
        assert_eq!(SqliteStore::migrate_only(&path).unwrap(), latest);
        assert_eq!(SqliteStore::migrate_only(&path).unwrap(), latest);
    }

    /// Writes that wait while the writer is busy are committed together; one that fails
    /// leaves no trace, even of the rows it wrote before failing, and the rest are kept.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failed_write_in_a_batch_undoes_only_itself() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("b.db")).unwrap();
        store
            .write(|c| {
                c.execute("CREATE TABLE scratch (n INTEGER)", [])
                    .map_err(failed)
            })
            .await
            .unwrap();
        // Hold the writer so that the next writes queue up and share one commit.
        let busy = tokio::spawn({
            let store = store.clone();
            async move {
                store
                    .write(|_| {
                        std::thread::sleep(std::time::Duration::from_millis(200));
                        Ok(())
                    })
                    .await
            }
        });
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let mut writes = Vec::new();
        for n in 0..20i64 {
            let store = store.clone();
            writes.push(tokio::spawn(async move {
                store
                    .write(move |c| {
                        c.execute("INSERT INTO scratch (n) VALUES (?1)", [n])
                            .map_err(failed)?;
                        if n % 2 == 1 {
                            return Err(StoreError::Conflict(format!("odd {n}")));
                        }
                        Ok(n)
                    })
                    .await
            }));
        }
        busy.await.unwrap().unwrap();
        for (n, write) in writes.into_iter().enumerate() {
            let answer = write.await.unwrap();
            if n % 2 == 1 {
                assert_eq!(answer, Err(StoreError::Conflict(format!("odd {n}"))));
            } else {
                assert_eq!(answer, Ok(n as i64));
            }
        }
        let kept: Vec<i64> = store
            .inner
            .with_reader(|c| {
                let mut stmt = c
                    .prepare("SELECT n FROM scratch ORDER BY n")
                    .map_err(failed)?;
                stmt.query_map([], |r| r.get(0))
                    .and_then(Iterator::collect)
                    .map_err(failed)
            })
            .unwrap();
        assert_eq!(kept, (0..20).filter(|n| n % 2 == 0).collect::<Vec<_>>());
    }
}
