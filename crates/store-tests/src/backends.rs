//! Fresh, empty stores of each backend for a test.

use std::sync::Arc;

use realname_store_postgres::{PgStore, PoolSettings};
use realname_store_sqlite::SqliteStore;
use sqlx::Connection;

use crate::DynStore;

/// Where the test PostgreSQL server is: `REALNAME_TEST_POSTGRES`, or the local server.
pub fn postgres_admin_url() -> String {
    std::env::var("REALNAME_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres:postgres@127.0.0.1:5432/postgres".into())
}

/// A new database on the test server, named for this test run; returns its URL. Without a
/// reachable server this panics: CI must not pass by skipping PostgreSQL.
pub async fn fresh_postgres_url() -> String {
    let admin = postgres_admin_url();
    let mut conn = sqlx::PgConnection::connect(&admin)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL for tests is not reachable at {admin} ({e}); run .ci/run's setup or set REALNAME_TEST_POSTGRES"));
    let name = format!("realname_t_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .expect("create test database");
    let _ = conn.close().await;
    match admin.rfind('/') {
        Some(i) => format!("{}/{name}", &admin[..i]),
        None => panic!("REALNAME_TEST_POSTGRES must end in /DATABASE"),
    }
}

pub async fn postgres() -> DynStore {
    let url = fresh_postgres_url().await;
    Arc::new(
        PgStore::connect(&url, PoolSettings::default())
            .await
            .expect("connect to the test database"),
    )
}

/// A SQLite store in a temporary folder that lives as long as the test process.
pub async fn sqlite() -> DynStore {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(dir.path().join("conformance.db")).expect("open sqlite");
    // The folder must outlive the store, which the test holds until it ends.
    std::mem::forget(dir);
    Arc::new(store)
}
