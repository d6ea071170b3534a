//! The shared operations' statements on PostgreSQL: parameters bound in their native types,
//! rows read by their columns' types, writes in a transaction of their own task.

use std::future::Future;

use chrono::{DateTime, Utc};
use realname_core::store::{StoreError, StoreResult};
use realname_store_sql::db::{Cell, Db, Dialect, Engine, Param, Row, Work};
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::{Column, PgConnection, Postgres, Row as _, TypeInfo};
use uuid::Uuid;

use crate::{PgStore, detached, err};

/// A connection inside a transaction, or a pooled one for a read.
pub(crate) struct PgDb<'c>(pub(crate) &'c mut PgConnection);

type Query<'q> = sqlx::query::Query<'q, Postgres, PgArguments>;

fn bind<'q>(mut query: Query<'q>, args: &'q [Param<'q>]) -> Query<'q> {
    for arg in args {
        query = match *arg {
            Param::Text(v) => query.bind(v),
            Param::Int(v) => query.bind(v),
            Param::Bool(v) => query.bind(v),
            Param::Bytes(v) => query.bind(v),
            Param::Moment(v) => query.bind(v),
            Param::Id(v) => query.bind(v),
            Param::Ids(list) => query.bind(list),
            Param::Texts(list) => query.bind(list),
            Param::Blobs(list) => query.bind(list),
        };
    }
    query
}

fn cells(row: &PgRow) -> StoreResult<Row> {
    let mut cells = Vec::with_capacity(row.columns().len());
    for (i, column) in row.columns().iter().enumerate() {
        let cell = match column.type_info().name() {
            "UUID" => row.try_get::<Option<Uuid>, _>(i).map(|v| v.map(Cell::Id)),
            "TIMESTAMPTZ" => row
                .try_get::<Option<DateTime<Utc>>, _>(i)
                .map(|v| v.map(Cell::Moment)),
            "TEXT" | "VARCHAR" | "NAME" | "BPCHAR" => row
                .try_get::<Option<String>, _>(i)
                .map(|v| v.map(Cell::Text)),
            "INT2" => row
                .try_get::<Option<i16>, _>(i)
                .map(|v| v.map(|n| Cell::Int(n.into()))),
            "INT4" => row
                .try_get::<Option<i32>, _>(i)
                .map(|v| v.map(|n| Cell::Int(n.into()))),
            "INT8" => row.try_get::<Option<i64>, _>(i).map(|v| v.map(Cell::Int)),
            "BOOL" => row.try_get::<Option<bool>, _>(i).map(|v| v.map(Cell::Bool)),
            "BYTEA" => row
                .try_get::<Option<Vec<u8>>, _>(i)
                .map(|v| v.map(Cell::Bytes)),
            "FLOAT8" => row.try_get::<Option<f64>, _>(i).map(|v| v.map(Cell::Real)),
            "TEXT[]" => list(row, i, Cell::Text),
            "INT8[]" => list(row, i, Cell::Int),
            "INT4[]" => list(row, i, |n: i32| Cell::Int(n.into())),
            "TIMESTAMPTZ[]" => list(row, i, Cell::Moment),
            "UUID[]" => list(row, i, Cell::Id),
            other => {
                return Err(StoreError::Failed(format!(
                    "a column of type {other} has no reading; cast it in the statement"
                )));
            }
        };
        cells.push(cell.map_err(err)?.unwrap_or(Cell::Null));
    }
    Ok(Row(cells))
}

fn list<T>(row: &PgRow, i: usize, cell: impl Fn(T) -> Cell) -> Result<Option<Cell>, sqlx::Error>
where
    T: for<'r> sqlx::Decode<'r, Postgres> + sqlx::Type<Postgres> + sqlx::postgres::PgHasArrayType,
{
    row.try_get::<Option<Vec<T>>, _>(i)
        .map(|v| v.map(|items| Cell::List(items.into_iter().map(&cell).collect())))
}

#[async_trait::async_trait]
impl Db for PgDb<'_> {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    async fn exec(&mut self, sql: &str, args: &[Param<'_>]) -> StoreResult<u64> {
        bind(sqlx::query(sql), args)
            .execute(&mut *self.0)
            .await
            .map(|done| done.rows_affected())
            .map_err(err)
    }

    async fn rows(&mut self, sql: &str, args: &[Param<'_>]) -> StoreResult<Vec<Row>> {
        let rows = bind(sqlx::query(sql), args)
            .fetch_all(&mut *self.0)
            .await
            .map_err(err)?;
        rows.iter().map(cells).collect()
    }

    async fn apply_all(
        &mut self,
        changes: &[realname_core::store::StateChange],
    ) -> StoreResult<Option<realname_core::store::Applied>> {
        crate::bulk::apply_all_in(self.0, changes).await.map(Some)
    }

    async fn lock(&mut self, seed: i64, key: &str) -> StoreResult<()> {
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, $2))")
            .bind(key)
            .bind(seed)
            .execute(&mut *self.0)
            .await
            .map(drop)
            .map_err(err)
    }
}

realname_store_sql::impl_store!(PgStore);

/// Work on a pooled connection, each statement its own transaction.
async fn on_connection<T>(pool: sqlx::PgPool, work: Work<T>) -> StoreResult<T> {
    let mut conn = pool.acquire().await.map_err(err)?;
    work(&mut PgDb(&mut conn)).await
}

impl Engine for PgStore {
    /// In a transaction of its own task: it commits or rolls back even when the caller stops
    /// waiting.
    fn write<T: Send + 'static>(
        &self,
        work: Work<T>,
    ) -> impl Future<Output = StoreResult<T>> + Send {
        let pool = self.pool.clone();
        detached(async move {
            let mut tx = pool.begin().await.map_err(err)?;
            let outcome = work(&mut PgDb(&mut tx)).await;
            match outcome {
                Ok(value) => {
                    tx.commit().await.map_err(err)?;
                    Ok(value)
                }
                Err(e) => {
                    let _ = tx.rollback().await;
                    Err(e)
                }
            }
        })
    }

    /// On a pooled connection in its own task, without a transaction.
    fn write_once<T: Send + 'static>(
        &self,
        work: Work<T>,
    ) -> impl Future<Output = StoreResult<T>> + Send {
        detached(on_connection(self.pool.clone(), work))
    }

    fn read<T: Send + 'static>(
        &self,
        work: Work<T>,
    ) -> impl Future<Output = StoreResult<T>> + Send {
        on_connection(self.pool.clone(), work)
    }
}
