//! The shared operations' statements on SQLite: parameters bound by their `$n` names, values
//! in SQLite's columns (moments as fixed-width RFC 3339 text, ids as hyphenated text, lists as
//! JSON arrays for `json_each`), and the work run on the thread that holds the connection.

use std::borrow::Cow;

use realname_core::store::{StoreError, StoreResult};
use realname_store_sql::db::{Cell, Db, Dialect, Engine, Param, Row, Work, run_ready};
use rusqlite::Connection;
use rusqlite::types::ValueRef;

use crate::{SqliteStore, failed};

/// Fixed-width RFC 3339 with microseconds: text order is time order.
fn ts(at: chrono::DateTime<chrono::Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _)
        if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
            || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY)
}

/// The shared statements are written in PostgreSQL's words; two of its idioms read otherwise
/// here. A list parameter (`= ANY($n)`) is a JSON array that `json_each` opens (of hex text
/// for a list of byte strings), and a row lock (`FOR UPDATE`, `SKIP LOCKED`) is already the
/// one writer's.
fn in_sqlite_words<'s>(sql: &'s str, args: &[Param<'_>]) -> Cow<'s, str> {
    if !sql.contains("= ANY($") && !sql.contains(" FOR UPDATE") {
        return Cow::Borrowed(sql);
    }
    let mut out = sql
        .replace(" FOR UPDATE SKIP LOCKED", "")
        .replace(" FOR UPDATE", "");
    while let Some(start) = out.find("= ANY($") {
        let Some(close) = out[start..].find(')') else {
            break;
        };
        let parameter = out[start + 6..start + close].to_owned();
        let blobs = parameter[1..]
            .parse::<usize>()
            .ok()
            .and_then(|n| args.get(n.wrapping_sub(1)))
            .is_some_and(|arg| matches!(arg, Param::Blobs(_)));
        let value = if blobs { "unhex(value)" } else { "value" };
        out.replace_range(
            start..=start + close,
            &format!("IN (SELECT {value} FROM json_each({parameter}))"),
        );
    }
    Cow::Owned(out)
}

/// A connection inside the writer's batch transaction or a reader's snapshot.
pub(crate) struct SqliteDb<'c>(pub(crate) &'c mut Connection);

fn json_list<T: AsRef<str>>(items: impl Iterator<Item = T>) -> String {
    let quoted: Vec<String> = items
        .map(|item| {
            format!(
                "\"{}\"",
                item.as_ref().replace('\\', "\\\\").replace('"', "\\\"")
            )
        })
        .collect();
    format!("[{}]", quoted.join(","))
}

/// Whether `sql` names its parameters `$1`, `$2`… in the order they first appear, as SQLite
/// numbers them: then `$n` is bound by its number. One pass over the text, where asking SQLite
/// each parameter's name walks its list of names each time (a multi-row statement's thousands).
fn numbered_in_order(sql: &str) -> bool {
    let bytes = sql.as_bytes();
    let (mut highest, mut at) = (0usize, 0usize);
    while at < bytes.len() {
        if bytes[at] != b'$' {
            at += 1;
            continue;
        }
        let digits = bytes[at + 1..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        let number = sql[at + 1..at + 1 + digits].parse::<usize>().unwrap_or(0);
        if number > highest + 1 {
            return false;
        }
        highest = highest.max(number);
        at += 1 + digits;
    }
    true
}

fn bind(
    stmt: &mut rusqlite::CachedStatement<'_>,
    sql: &str,
    args: &[Param<'_>],
) -> StoreResult<()> {
    if stmt.parameter_count() != args.len() {
        return Err(StoreError::Failed(format!(
            "a statement takes {} parameters and was given {}",
            stmt.parameter_count(),
            args.len()
        )));
    }
    // SQLite numbers named parameters in the order they first appear; a statement that names
    // `$2` before `$1` is bound by name instead.
    let in_order = numbered_in_order(sql);
    for (n, arg) in args.iter().enumerate() {
        let index = if in_order {
            n + 1
        } else {
            stmt.parameter_index(&format!("${}", n + 1))
                .map_err(failed)?
                .ok_or_else(|| StoreError::Failed(format!("a statement has no ${}", n + 1)))?
        };
        let bound = match *arg {
            Param::Text(v) => stmt.raw_bind_parameter(index, v),
            Param::Int(v) => stmt.raw_bind_parameter(index, v),
            Param::Bool(v) => stmt.raw_bind_parameter(index, v),
            Param::Bytes(v) => stmt.raw_bind_parameter(index, v),
            Param::Moment(v) => stmt.raw_bind_parameter(index, v.map(ts)),
            Param::Id(v) => stmt.raw_bind_parameter(index, v.map(|id| id.hyphenated().to_string())),
            Param::Ids(list) => stmt.raw_bind_parameter(
                index,
                json_list(list.iter().map(|id| id.hyphenated().to_string())),
            ),
            Param::Texts(list) => stmt.raw_bind_parameter(index, json_list(list.iter())),
            Param::Blobs(list) => stmt.raw_bind_parameter(
                index,
                json_list(
                    list.iter()
                        .map(|b| b.iter().map(|x| format!("{x:02x}")).collect::<String>()),
                ),
            ),
        };
        bound.map_err(failed)?;
    }
    Ok(())
}

fn cell(value: ValueRef<'_>) -> Cell {
    match value {
        ValueRef::Null => Cell::Null,
        ValueRef::Integer(n) => Cell::Int(n),
        ValueRef::Real(x) => Cell::Real(x),
        ValueRef::Text(text) => Cell::Text(String::from_utf8_lossy(text).into_owned()),
        ValueRef::Blob(bytes) => Cell::Bytes(bytes.to_vec()),
    }
}

/// A unique key broken: a conflict the operation names, not a failure.
fn exec_error(e: rusqlite::Error) -> StoreError {
    if is_unique_violation(&e) {
        StoreError::Conflict("unique".into())
    } else {
        failed(e)
    }
}

#[async_trait::async_trait]
impl Db for SqliteDb<'_> {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    async fn exec(&mut self, sql: &str, args: &[Param<'_>]) -> StoreResult<u64> {
        let mut stmt = self
            .0
            .prepare_cached(&in_sqlite_words(sql, args))
            .map_err(failed)?;
        bind(&mut stmt, sql, args)?;
        stmt.raw_execute().map(|n| n as u64).map_err(exec_error)
    }

    async fn rows(&mut self, sql: &str, args: &[Param<'_>]) -> StoreResult<Vec<Row>> {
        let mut stmt = self
            .0
            .prepare_cached(&in_sqlite_words(sql, args))
            .map_err(failed)?;
        bind(&mut stmt, sql, args)?;
        let width = stmt.column_count();
        let mut rows = stmt.raw_query();
        let mut answer = Vec::new();
        while let Some(row) = rows.next().map_err(exec_error)? {
            let mut cells = Vec::with_capacity(width);
            for i in 0..width {
                cells.push(cell(row.get_ref(i).map_err(failed)?));
            }
            answer.push(Row(cells));
        }
        Ok(answer)
    }

    async fn lock(&mut self, _seed: i64, _key: &str) -> StoreResult<()> {
        Ok(())
    }
}

realname_store_sql::impl_store!(SqliteStore);

impl Engine for SqliteStore {
    fn settle_erasures(&self) -> impl std::future::Future<Output = StoreResult<()>> + Send {
        self.checkpoint()
    }

    /// On the writer thread, in the batch's transaction under the job's own savepoint.
    fn write<T: Send + 'static>(
        &self,
        work: Work<T>,
    ) -> impl std::future::Future<Output = StoreResult<T>> + Send {
        self.write(move |conn| run_ready(work(&mut SqliteDb(conn))))
    }

    /// On a reader, on the calling thread. Only for reads that an index bounds (a row by key,
    /// a page of a queue): they take microseconds from the page cache and never wait for the
    /// writer (WAL), so handing them to another thread cost more than the query itself (about
    /// a third of a read's time went into thread wake-ups). Anything that may read many rows
    /// or megabytes goes through [`Engine::read_long`].
    fn read<T: Send + 'static>(
        &self,
        work: Work<T>,
    ) -> impl std::future::Future<Output = StoreResult<T>> + Send {
        let answer = self
            .inner
            .with_reader(|conn| run_ready(work(&mut SqliteDb(conn))));
        std::future::ready(answer)
    }

    /// On a reader, in a blocking task: for reads that may be long (an image, a trail).
    fn read_long<T: Send + 'static>(
        &self,
        work: Work<T>,
    ) -> impl std::future::Future<Output = StoreResult<T>> + Send {
        let inner = std::sync::Arc::clone(&self.inner);
        async move {
            tokio::task::spawn_blocking(move || {
                inner.with_reader(|conn| run_ready(work(&mut SqliteDb(conn))))
            })
            .await
            .map_err(|e| StoreError::Failed(format!("reader task failed: {e}")))?
        }
    }
}

#[cfg(test)]
mod tests {
    use realname_store_sql::db::Param;

    #[test]
    fn postgres_idioms_read_in_sqlite_words() {
        assert_eq!(
            super::in_sqlite_words(
                "SELECT 1 FROM t WHERE id = ANY($1) AND k = ANY($2) FOR UPDATE",
                &[Param::Ids(&[]), Param::Blobs(&[])]
            ),
            "SELECT 1 FROM t WHERE id IN (SELECT value FROM json_each($1)) \
             AND k IN (SELECT unhex(value) FROM json_each($2))"
        );
        assert_eq!(
            super::in_sqlite_words("SELECT 1 LIMIT $2 FOR UPDATE SKIP LOCKED)", &[]),
            "SELECT 1 LIMIT $2)"
        );
    }

    #[test]
    fn parameters_are_bound_by_number_only_when_they_first_appear_in_order() {
        use super::numbered_in_order;
        assert!(numbered_in_order("INSERT INTO t VALUES ($1, $2), ($3, $4)"));
        assert!(numbered_in_order(
            "UPDATE t SET a = $1 WHERE b = $2 OR c = $1"
        ));
        assert!(numbered_in_order(
            "SELECT json_extract(x, '$.a') FROM t WHERE id = $1"
        ));
        assert!(!numbered_in_order(
            "SELECT * FROM t WHERE b = $2 AND a = $1"
        ));
    }
}
