//! realname's shared store: PostgreSQL, for several `realname serve` nodes over one database.
//!
//! Every write runs in its own task, so a request whose client goes away still commits or
//! rolls back its transaction rather than leaving it to a dropped future. Workers lease jobs
//! with `FOR UPDATE SKIP LOCKED`; migrations are applied under an advisory lock, so when
//! several nodes start at once one applies them and the others wait.

use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, Utc};
use realname_core::application::CardHistory;
use realname_core::platform::{
    ApiKey, DeliveryAttempt, EventQuery, EventType, KeyMode, LinkToken, LinkUse, ModeFacts,
    PlatformEvent, PlatformSession, WebhookEndpoint,
};
use realname_core::ports::{SandboxLedger, SandboxPayout, SandboxTransaction};
use realname_core::state::{Effect, Failure, Status};
use realname_core::store::{
    Account, ApplicationRecord, Applied, AuditEntry, CaseFacts, CaseFilter, CaseRecord, CaseWrite,
    Closed, Closure, Erased, Erasure, Forget, Forgotten, Idempotency, ImageMeta, Job,
    NewApplication, NewJob, Resealed, RetentionCandidate, SealedColumn, SealedKeys, SealedValue,
    StateChange, Store, StoreError, StoreResult, StoredCard, SubmitCommand, SubmitOutcome,
    Throttle, ThrottlePolicy,
};
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::{Postgres, Row, Transaction};
use uuid::Uuid;

mod bulk;
mod db;
mod rail;

const MIGRATIONS: &[&str] = &[
    include_str!("schema.sql"),
    include_str!("schema_2.sql"),
    include_str!("schema_3.sql"),
    include_str!("schema_4.sql"),
    include_str!("schema_5.sql"),
    include_str!("schema_6.sql"),
    include_str!("schema_7.sql"),
    include_str!("schema_8.sql"),
    include_str!("schema_9.sql"),
    include_str!("schema_10.sql"),
    include_str!("schema_11.sql"),
    include_str!("schema_12.sql"),
    include_str!("schema_13.sql"),
    include_str!("schema_14.sql"),
    include_str!("schema_15.sql"),
    include_str!("schema_16.sql"),
    include_str!("schema_17.sql"),
];
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

fn status_of(text: &str) -> StoreResult<Status> {
    Status::parse(text).ok_or_else(|| StoreError::Failed(format!("unknown status {text:?}")))
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

pub(crate) type Tx = Transaction<'static, Postgres>;

async fn insert_event(
    tx: &mut Tx,
    app: Uuid,
    status: Status,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    sqlx::query("INSERT INTO events (application_id, status, at) VALUES ($1, $2, $3)")
        .bind(app)
        .bind(status.as_str())
        .bind(at)
        .execute(&mut **tx)
        .await
        .map(drop)
        .map_err(err)
}

/// Queues a job under its key; `false` when the key was queued before.
async fn queue_job<'e, E>(executor: E, job: &NewJob) -> StoreResult<bool>
where
    E: sqlx::Executor<'e, Database = Postgres>,
{
    sqlx::query(
        "INSERT INTO jobs (id, key, kind, application_id, subject, due_at) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (key) DO NOTHING",
    )
    .bind(Uuid::new_v4())
    .bind(&job.key)
    .bind(job.kind.as_str())
    .bind(job.application_id)
    .bind(&job.subject)
    .bind(job.due_at)
    .execute(executor)
    .await
    .map(|done| done.rows_affected() > 0)
    .map_err(err)
}

async fn insert_audit(tx: &mut Tx, e: &AuditEntry) -> StoreResult<()> {
    sqlx::query("INSERT INTO audit (id, at, actor, action, application_id, detail) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(e.id)
        .bind(e.at)
        .bind(e.actor)
        .bind(&e.action)
        .bind(e.application_id)
        .bind(&e.detail)
        .execute(&mut **tx)
        .await
        .map(drop)
        .map_err(err)
}

/// Writes the platform's event of a status change, numbered in its application's sequence.
async fn publish(
    tx: &mut Tx,
    app: Uuid,
    event: EventType,
    status: Status,
    failure: Option<&Failure>,
    livemode: bool,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    let event_id = realname_core::store::event_id(Uuid::new_v4());
    // The outbox: the event and the job that takes it to the endpoints, in one transaction.
    // Without an endpoint of the event's mode there is nobody to take it to, and the journey's
    // write path would pay for a job written, claimed and finished for nothing. Counting the
    // sequence, writing the event and asking whether anyone listens is one round trip: every
    // status change pays for it.
    let anyone_listens: bool = sqlx::query_scalar(
        "WITH counted AS (
             UPDATE applications SET event_sequence = event_sequence + 1 WHERE id = $2
             RETURNING event_sequence, account_id
         ), written AS (
             INSERT INTO platform_events
                 (id, application_id, external_user_id, type, sequence, status, failure, livemode, created_at)
             SELECT $1, $2, (SELECT pu.external_user_id FROM platform_users pu
                              WHERE pu.account_id = counted.account_id),
                    $3, counted.event_sequence, $4, $5, $6, $7
             FROM counted
             RETURNING id
         )
         SELECT EXISTS (SELECT 1 FROM webhook_endpoints WHERE enabled AND livemode = $6) FROM written",
    )
    .bind(&event_id)
    .bind(app)
    .bind(event.as_str())
    .bind(status.as_str())
    .bind(failure.map(Failure::encode))
    .bind(livemode)
    .bind(at)
    .fetch_one(&mut **tx)
    .await
    .map_err(err)?;
    if anyone_listens {
        queue_job(&mut **tx, &NewJob::dispatch_event(&event_id, app, at)).await?;
    }
    Ok(())
}

/// A transition inside an open transaction, guarded by its starting status. Its effects
/// carry everything they write; nothing here decides.
pub(crate) async fn apply_in(tx: &mut Tx, change: &StateChange) -> StoreResult<Applied> {
    let app = change.application_id;
    let t = &change.transition;
    let moved = sqlx::query("UPDATE applications SET status = $1, failure = $2, updated_at = $3 WHERE id = $4 AND status = $5")
        .bind(t.status.as_str())
        .bind(t.failure.as_ref().map(Failure::encode))
        .bind(change.at)
        .bind(app)
        .bind(change.from.as_str())
        .execute(&mut **tx)
        .await
        .map_err(err)?
        .rows_affected();
    if moved == 0 {
        return Ok(Applied::Moved);
    }
    insert_event(tx, app, t.status, change.at).await?;
    for effect in &t.effects {
        match effect {
            Effect::Queue(job) => {
                queue_job(&mut **tx, job).await?;
            }
            Effect::SettleDeposit {
                settled_at,
                expires_at,
            } => {
                sqlx::query("UPDATE deposits SET settled_at = $1, expires_at = $2 WHERE application_id = $3")
                    .bind(settled_at)
                    .bind(expires_at)
                    .bind(app)
                    .execute(&mut **tx)
                    .await
                    .map_err(err)?;
            }
            Effect::RecordAttempts(attempts) => {
                sqlx::query("UPDATE deposits SET attempts_used = $1 WHERE application_id = $2")
                    .bind(*attempts as i32)
                    .bind(app)
                    .execute(&mut **tx)
                    .await
                    .map_err(err)?;
            }
            Effect::OpenReviewCase { due_at } => {
                sqlx::query(
                    "INSERT INTO review_cases (id, application_id, account_id, submitted_at, due_at)
                     SELECT $1, id, account_id, $2, $3 FROM applications WHERE id = $4
                     ON CONFLICT (application_id) DO NOTHING",
                )
                .bind(Uuid::new_v4())
                .bind(change.at)
                .bind(due_at)
                .bind(app)
                .execute(&mut **tx)
                .await
                .map_err(err)?;
            }
            Effect::CloseReviewCase { at, outcome } => {
                sqlx::query(
                    "UPDATE review_cases SET decided_at = $1, outcome = $3
                     WHERE application_id = $2 AND decided_at IS NULL",
                )
                .bind(at)
                .bind(app)
                .bind(outcome.as_str())
                .execute(&mut **tx)
                .await
                .map_err(err)?;
            }
            Effect::BlockCard { reason, at } => {
                sqlx::query(
                    "INSERT INTO returned_cards (card_hash, reason, at)
                     SELECT card_hash, $1, $2 FROM deposits WHERE application_id = $3 ON CONFLICT DO NOTHING",
                )
                .bind(reason)
                .bind(at)
                .bind(app)
                .execute(&mut **tx)
                .await
                .map_err(err)?;
            }
            Effect::Publish {
                event,
                livemode,
                at,
            } => {
                publish(
                    tx,
                    app,
                    *event,
                    t.status,
                    t.failure.as_ref(),
                    *livemode,
                    *at,
                )
                .await?;
            }
        }
    }
    Ok(Applied::Done)
}

pub(crate) async fn begin(pool: &PgPool) -> StoreResult<Tx> {
    pool.begin().await.map_err(err)
}

#[async_trait::async_trait]
impl Store for PgStore {
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(drop)
            .map_err(err)
    }

    async fn create_account(&self, account: &Account) -> StoreResult<()> {
        realname_store_sql::accounts::create_account(self, account).await
    }

    async fn account_by_login(&self, login: &str) -> StoreResult<Option<Account>> {
        realname_store_sql::accounts::account_by_login(self, login).await
    }

    async fn logins(
        &self,
        account_ids: &[Uuid],
    ) -> StoreResult<std::collections::HashMap<Uuid, String>> {
        realname_store_sql::accounts::logins(self, account_ids).await
    }

    async fn create_session(
        &self,
        token_hash: &[u8],
        account_id: Uuid,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        realname_store_sql::accounts::create_session(self, token_hash, account_id, expires_at).await
    }

    async fn session_account(
        &self,
        token_hash: &[u8],
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Account>> {
        realname_store_sql::accounts::session_account(self, token_hash, now).await
    }

    async fn delete_session(&self, token_hash: &[u8]) -> StoreResult<()> {
        realname_store_sql::accounts::delete_session(self, token_hash).await
    }

    async fn set_second_factor(&self, account_id: Uuid, sealed_secret: &[u8]) -> StoreResult<bool> {
        realname_store_sql::accounts::set_second_factor(self, account_id, sealed_secret).await
    }

    async fn second_factor(&self, account_id: Uuid) -> StoreResult<Option<Vec<u8>>> {
        realname_store_sql::accounts::second_factor(self, account_id).await
    }

    async fn take_second_factor_step(&self, account_id: Uuid, step: i64) -> StoreResult<bool> {
        realname_store_sql::accounts::take_second_factor_step(self, account_id, step).await
    }

    async fn disable_account(&self, account_id: Uuid, at: DateTime<Utc>) -> StoreResult<bool> {
        realname_store_sql::accounts::disable_account(self, account_id, at).await
    }

    async fn throttle(&self, login_key: &str) -> StoreResult<Throttle> {
        realname_store_sql::accounts::throttle(self, login_key).await
    }

    async fn record_login_failure(
        &self,
        login_key: &str,
        now: DateTime<Utc>,
        policy: &ThrottlePolicy,
    ) -> StoreResult<Throttle> {
        realname_store_sql::accounts::record_login_failure(self, login_key, now, policy).await
    }

    async fn remember_clients(
        &self,
        account_id: Uuid,
        clients: &[Vec<u8>],
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        realname_store_sql::accounts::remember_clients(self, account_id, clients, at).await
    }

    async fn knows_client(
        &self,
        account_id: Uuid,
        clients: &[Vec<u8>],
        since: DateTime<Utc>,
    ) -> StoreResult<bool> {
        realname_store_sql::accounts::knows_client(self, account_id, clients, since).await
    }

    async fn clear_login_failures(&self, login_key: &str) -> StoreResult<()> {
        realname_store_sql::accounts::clear_login_failures(self, login_key).await
    }

    async fn begin_idempotent(
        &self,
        scope: &str,
        key: &str,
        request_hash: &[u8],
        now: DateTime<Utc>,
    ) -> StoreResult<Idempotency> {
        realname_store_sql::accounts::begin_idempotent(self, scope, key, request_hash, now).await
    }

    async fn finish_idempotent(
        &self,
        scope: &str,
        key: &str,
        status: u16,
        body: &[u8],
    ) -> StoreResult<()> {
        realname_store_sql::accounts::finish_idempotent(self, scope, key, status, body).await
    }

    async fn abandon_idempotent(&self, scope: &str, key: &str) -> StoreResult<()> {
        realname_store_sql::accounts::abandon_idempotent(self, scope, key).await
    }

    async fn purge_idempotent(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        realname_store_sql::accounts::purge_idempotent(self, before).await
    }

    async fn count_hits(&self, bucket: &str, window: DateTime<Utc>, hits: u32) -> StoreResult<u32> {
        realname_store_sql::accounts::count_hits(self, bucket, window, hits).await
    }

    async fn purge_lapsed(
        &self,
        sessions_before: DateTime<Utc>,
        throttles_before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<u64> {
        realname_store_sql::accounts::purge_lapsed(self, sessions_before, throttles_before, now)
            .await
    }

    async fn erase(&self, erasure: &Erasure) -> StoreResult<Erased> {
        let (pool, e) = (self.pool.clone(), erasure.clone());
        detached(async move {
            let mut tx = begin(&pool).await?;
            if let Some(cancel) = &e.cancel
                && apply_in(&mut tx, cancel).await? == Applied::Moved
            {
                return Ok(Erased::Moved);
            }
            let app = e.application_id;
            let found: Option<(String, Option<String>, Option<DateTime<Utc>>)> = sqlx::query_as(
                "SELECT status, failure, redacted_at FROM applications WHERE id = $1 FOR UPDATE",
            )
            .bind(app)
            .fetch_optional(&mut *tx)
            .await
            .map_err(err)?;
            let Some((status, failure, redacted_at)) = found else {
                return Ok(Erased::NotFound);
            };
            if redacted_at.is_some() {
                return Ok(Erased::Already);
            }
            if status != e.status.as_str() {
                return Ok(Erased::Moved);
            }
            let statements = [
                "UPDATE applications SET form = ''::bytea, card_bank = NULL, card_sealed = NULL
                 WHERE id = $1",
                "DELETE FROM images WHERE application_id = $1",
                "UPDATE deposits SET amount = ''::bytea WHERE application_id = $1",
                "UPDATE rail_transfers SET instruction = NULL WHERE application_id = $1",
            ];
            for sql in statements {
                sqlx::query(sql)
                    .bind(app)
                    .execute(&mut *tx)
                    .await
                    .map_err(err)?;
            }
            sqlx::query("UPDATE applications SET redacted_at = $1 WHERE id = $2")
                .bind(e.at)
                .bind(app)
                .execute(&mut *tx)
                .await
                .map_err(err)?;
            sqlx::query("DELETE FROM idempotency WHERE scope = $1")
                .bind(&e.answers_scope)
                .execute(&mut *tx)
                .await
                .map_err(err)?;
            let failure = failure.as_deref().and_then(Failure::decode);
            publish(
                &mut tx,
                app,
                EventType::Redacted,
                e.status,
                failure.as_ref(),
                e.livemode,
                e.at,
            )
            .await?;
            insert_audit(&mut tx, &e.audit).await?;
            tx.commit().await.map_err(err)?;
            Ok(Erased::Done)
        })
        .await
    }

    async fn retention_due(
        &self,
        due: &realname_core::retention::Due,
        limit: u32,
    ) -> StoreResult<Vec<RetentionCandidate>> {
        let fraud: Vec<String> = due.fraud_codes.iter().map(|c| (*c).to_owned()).collect();
        let rows = sqlx::query(
            "SELECT a.id, a.account_id, a.status, a.failure, a.updated_at, pu.closed_at
             FROM applications a LEFT JOIN platform_users pu ON pu.account_id = a.account_id
             WHERE a.redacted_at IS NULL AND (
                -- A fraud finding (its failure's code) is held to its own instant.
                (a.status IN ('failed', 'cancelled') AND a.updated_at <= CASE
                    WHEN split_part(a.failure, ';', 1) = ANY($5) THEN $2 ELSE $1 END)
                OR (a.status = 'draft' AND a.updated_at <= $3)
                OR (a.status = 'verified' AND pu.closed_at <= $4))
             ORDER BY a.updated_at LIMIT $6",
        )
        .bind(due.ended_before)
        .bind(due.fraud_before)
        .bind(due.untouched_before)
        .bind(due.closed_before)
        .bind(&fraud)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(err)?;
        rows.iter()
            .map(|r| {
                let status: String = r.try_get("status").map_err(err)?;
                let failure: Option<String> = r.try_get("failure").map_err(err)?;
                Ok(RetentionCandidate {
                    application_id: r.try_get("id").map_err(err)?,
                    account_id: r.try_get("account_id").map_err(err)?,
                    status: status_of(&status)?,
                    failure: failure.as_deref().and_then(Failure::decode),
                    updated_at: r.try_get("updated_at").map_err(err)?,
                    account_closed_at: r.try_get("closed_at").map_err(err)?,
                })
            })
            .collect()
    }

    async fn account_closed_at(&self, account_id: Uuid) -> StoreResult<Option<DateTime<Utc>>> {
        let closed: Option<Option<DateTime<Utc>>> =
            sqlx::query_scalar("SELECT closed_at FROM platform_users WHERE account_id = $1")
                .bind(account_id)
                .fetch_optional(&self.pool)
                .await
                .map_err(err)?;
        Ok(closed.flatten())
    }

    async fn close_platform_user(&self, closure: &Closure) -> StoreResult<Closed> {
        let (pool, c) = (self.pool.clone(), closure.clone());
        detached(async move {
            let mut tx = begin(&pool).await?;
            let open: Option<Uuid> = sqlx::query_scalar(
                "SELECT account_id FROM platform_users WHERE account_id = $1 AND closed_at IS NULL
                 FOR UPDATE",
            )
            .bind(c.account_id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(err)?;
            if open.is_none() {
                return Ok(Closed::NotOpen);
            }
            if let Some(cancel) = &c.cancel
                && apply_in(&mut tx, cancel).await? == Applied::Moved
            {
                return Ok(Closed::Moved);
            }
            let in_progress: bool = sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM applications WHERE account_id = $1
                 AND status IN ('draft', 'deposit_pending', 'awaiting_amount', 'under_review'))",
            )
            .bind(c.account_id)
            .fetch_one(&mut *tx)
            .await
            .map_err(err)?;
            if in_progress {
                // Dropping the transaction undoes the draft's cancellation with the rest.
                return Err(StoreError::Conflict("application_in_progress".into()));
            }
            sqlx::query("UPDATE platform_users SET closed_at = $1 WHERE account_id = $2")
                .bind(c.at)
                .bind(c.account_id)
                .execute(&mut *tx)
                .await
                .map_err(err)?;
            let statements = [
                // The login names the platform's user; a new account for it takes it over.
                "UPDATE accounts SET login = 'closed:' || id::text WHERE id = $1",
                "DELETE FROM sessions WHERE account_id = $1",
                "DELETE FROM link_tokens WHERE used_at IS NULL
                 AND session_id IN (SELECT id FROM platform_sessions WHERE account_id = $1)",
            ];
            for sql in statements {
                sqlx::query(sql)
                    .bind(c.account_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(err)?;
            }
            insert_audit(&mut tx, &c.audit).await?;
            tx.commit().await.map_err(err)?;
            Ok(Closed::Done)
        })
        .await
    }

    async fn purge_history(&self, forget: &Forget) -> StoreResult<Forgotten> {
        let (pool, forget) = (self.pool.clone(), *forget);
        detached(async move {
            let deleted = |sql: &'static str, before: DateTime<Utc>| {
                let pool = pool.clone();
                async move {
                    sqlx::query(sql)
                        .bind(before)
                        .execute(&pool)
                        .await
                        .map(|r| r.rows_affected())
                        .map_err(err)
                }
            };
            Ok(Forgotten {
                deliveries: deleted(
                    "DELETE FROM delivery_attempts WHERE at < $1",
                    forget.events_before,
                )
                .await?,
                events: deleted(
                    "DELETE FROM platform_events WHERE created_at < $1",
                    forget.events_before,
                )
                .await?,
                jobs: deleted(
                    "DELETE FROM jobs WHERE done_at IS NOT NULL AND done_at < $1",
                    forget.jobs_before,
                )
                .await?,
                links: deleted(
                    "DELETE FROM link_tokens WHERE expires_at < $1",
                    forget.links_before,
                )
                .await?,
            })
        })
        .await
    }

    async fn create_application(&self, application: &NewApplication) -> StoreResult<()> {
        realname_store_sql::applications::create_application(self, application).await
    }

    async fn application(&self, id: Uuid) -> StoreResult<Option<ApplicationRecord>> {
        realname_store_sql::applications::application(self, id).await
    }

    async fn applications_of(&self, account_id: Uuid) -> StoreResult<Vec<ApplicationRecord>> {
        realname_store_sql::applications::applications_of(self, account_id).await
    }

    async fn update_draft(
        &self,
        id: Uuid,
        form: &[u8],
        document_hashes: &[Vec<u8>],
        warnings: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<ApplicationRecord>> {
        realname_store_sql::applications::update_draft(
            self,
            id,
            form,
            document_hashes,
            warnings,
            at,
        )
        .await
    }

    async fn set_card(
        &self,
        id: Uuid,
        card: &StoredCard,
        at: DateTime<Utc>,
    ) -> StoreResult<Applied> {
        realname_store_sql::applications::set_card(self, id, card, at).await
    }

    async fn put_image(
        &self,
        id: Uuid,
        meta: &ImageMeta,
        sealed: &[u8],
        at: DateTime<Utc>,
    ) -> StoreResult<Applied> {
        realname_store_sql::applications::put_image(self, id, meta, sealed, at).await
    }

    async fn image(&self, id: Uuid, slot: &str) -> StoreResult<Option<(ImageMeta, Vec<u8>)>> {
        realname_store_sql::applications::image(self, id, slot).await
    }

    async fn card_history(&self, account_id: Uuid, card_hash: &[u8]) -> StoreResult<CardHistory> {
        realname_store_sql::applications::card_history(self, account_id, card_hash).await
    }

    async fn submit(&self, command: &SubmitCommand) -> StoreResult<SubmitOutcome> {
        realname_store_sql::applications::submit(self, command).await
    }

    async fn apply_bank_message(
        &self,
        message: &realname_core::ports::BankMessage,
        changes: &[StateChange],
        unmatched: &[realname_core::ports::UnmatchedEntry],
        at: DateTime<Utc>,
    ) -> StoreResult<realname_core::store::MessageApplied> {
        rail::apply_message(self, message, changes, unmatched, at).await
    }

    async fn apply(&self, change: &StateChange) -> StoreResult<Applied> {
        realname_store_sql::applications::apply(self, change).await
    }

    async fn record_wrong_answer(
        &self,
        id: Uuid,
        attempts_before: u32,
        at: DateTime<Utc>,
    ) -> StoreResult<Applied> {
        realname_store_sql::applications::record_wrong_answer(self, id, attempts_before, at).await
    }

    async fn queue_job(&self, job: &NewJob) -> StoreResult<bool> {
        realname_store_sql::jobs::queue_job(self, job).await
    }

    async fn claim_jobs(
        &self,
        now: DateTime<Utc>,
        lease_seconds: i64,
        limit: u32,
    ) -> StoreResult<Vec<Job>> {
        realname_store_sql::jobs::claim_jobs(self, now, lease_seconds, limit).await
    }

    async fn finish_job(&self, job: &Job, at: DateTime<Utc>) -> StoreResult<()> {
        realname_store_sql::jobs::finish_job(self, job, at).await
    }

    async fn retry_job(&self, job: &Job, due_at: DateTime<Utc>) -> StoreResult<()> {
        realname_store_sql::jobs::retry_job(self, job, due_at).await
    }

    async fn mark_deposit_paid(&self, id: Uuid, at: DateTime<Utc>) -> StoreResult<()> {
        realname_store_sql::jobs::mark_deposit_paid(self, id, at).await
    }

    async fn deposit_application(
        &self,
        end_to_end_id: &str,
    ) -> StoreResult<Option<(Uuid, Status)>> {
        realname_store_sql::jobs::deposit_application(self, end_to_end_id).await
    }

    async fn deposit_applications(
        &self,
        end_to_end_ids: &[String],
    ) -> StoreResult<std::collections::HashMap<String, (Uuid, Status)>> {
        realname_store_sql::jobs::deposit_applications(self, end_to_end_ids).await
    }

    async fn review_cases(
        &self,
        filter: CaseFilter,
        now: DateTime<Utc>,
        after: Option<(DateTime<Utc>, Uuid)>,
        limit: u32,
    ) -> StoreResult<Vec<CaseRecord>> {
        realname_store_sql::review::review_cases(self, filter, now, after, limit).await
    }

    async fn review_case(&self, id: Uuid) -> StoreResult<Option<CaseRecord>> {
        realname_store_sql::review::review_case(self, id).await
    }

    async fn review_case_of(&self, application_id: Uuid) -> StoreResult<Option<CaseRecord>> {
        realname_store_sql::review::review_case_of(self, application_id).await
    }

    async fn case_facts(&self, application_ids: &[Uuid]) -> StoreResult<Vec<CaseFacts>> {
        realname_store_sql::review::case_facts(self, application_ids).await
    }

    async fn claim_case(
        &self,
        id: Uuid,
        reviewer: Uuid,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> StoreResult<CaseWrite> {
        realname_store_sql::review::claim_case(self, id, reviewer, now, until).await
    }

    async fn decide_case(
        &self,
        id: Uuid,
        reviewer: Uuid,
        change: &StateChange,
        audit: &AuditEntry,
    ) -> StoreResult<CaseWrite> {
        realname_store_sql::review::decide_case(self, id, reviewer, change, audit).await
    }

    async fn append_audit(&self, entry: &AuditEntry) -> StoreResult<()> {
        realname_store_sql::review::append_audit(self, entry).await
    }

    async fn audit_trail(
        &self,
        application_id: Option<Uuid>,
        limit: u32,
    ) -> StoreResult<Vec<AuditEntry>> {
        realname_store_sql::review::audit_trail(self, application_id, limit).await
    }

    async fn create_api_key(&self, key: &ApiKey) -> StoreResult<()> {
        realname_store_sql::platform::create_api_key(self, key).await
    }

    async fn api_key(&self, key_hash: &[u8]) -> StoreResult<Option<ApiKey>> {
        realname_store_sql::platform::api_key(self, key_hash).await
    }

    async fn api_keys(&self) -> StoreResult<Vec<ApiKey>> {
        realname_store_sql::platform::api_keys(self).await
    }

    async fn revoke_api_key(&self, prefix: &str, at: DateTime<Utc>) -> StoreResult<bool> {
        realname_store_sql::platform::revoke_api_key(self, prefix, at).await
    }

    async fn touch_api_key(&self, prefix: &str, at: DateTime<Utc>) -> StoreResult<()> {
        realname_store_sql::platform::touch_api_key(self, prefix, at).await
    }

    async fn platform_account(&self, external_user_id: &str) -> StoreResult<Option<Uuid>> {
        realname_store_sql::platform::platform_account(self, external_user_id).await
    }

    async fn link_platform_user(
        &self,
        external_user_id: &str,
        account: &Account,
    ) -> StoreResult<Uuid> {
        realname_store_sql::platform::link_platform_user(self, external_user_id, account).await
    }

    async fn external_user_of(&self, account_id: Uuid) -> StoreResult<Option<String>> {
        realname_store_sql::platform::external_user_of(self, account_id).await
    }

    async fn create_platform_session(
        &self,
        session: &PlatformSession,
        link: &LinkToken,
    ) -> StoreResult<()> {
        realname_store_sql::platform::create_platform_session(self, session, link).await
    }

    async fn platform_session(&self, id: Uuid) -> StoreResult<Option<PlatformSession>> {
        realname_store_sql::platform::platform_session(self, id).await
    }

    async fn add_link(&self, link: &LinkToken) -> StoreResult<()> {
        realname_store_sql::platform::add_link(self, link).await
    }

    async fn use_link(&self, token_hash: &[u8], now: DateTime<Utc>) -> StoreResult<LinkUse> {
        realname_store_sql::platform::use_link(self, token_hash, now).await
    }

    async fn link(
        &self,
        token_hash: &[u8],
        now: DateTime<Utc>,
    ) -> StoreResult<Option<(PlatformSession, bool)>> {
        realname_store_sql::platform::link(self, token_hash, now).await
    }

    async fn create_page_session(
        &self,
        token_hash: &[u8],
        account_id: Uuid,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        realname_store_sql::platform::create_page_session(self, token_hash, account_id, expires_at)
            .await
    }

    async fn page_session_account(
        &self,
        token_hash: &[u8],
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Account>> {
        realname_store_sql::platform::page_session_account(self, token_hash, now).await
    }

    async fn events(&self, query: &EventQuery) -> StoreResult<Vec<PlatformEvent>> {
        realname_store_sql::platform::events(self, query).await
    }

    async fn event(&self, id: &str) -> StoreResult<Option<PlatformEvent>> {
        realname_store_sql::platform::event(self, id).await
    }

    async fn create_webhook_endpoint(&self, endpoint: &WebhookEndpoint) -> StoreResult<()> {
        realname_store_sql::webhooks::create_webhook_endpoint(self, endpoint).await
    }

    async fn webhook_endpoints(&self) -> StoreResult<Vec<WebhookEndpoint>> {
        realname_store_sql::webhooks::webhook_endpoints(self).await
    }

    async fn webhook_endpoint(&self, id: Uuid) -> StoreResult<Option<WebhookEndpoint>> {
        realname_store_sql::webhooks::webhook_endpoint(self, id).await
    }

    async fn update_webhook_endpoint(&self, endpoint: &WebhookEndpoint) -> StoreResult<bool> {
        realname_store_sql::webhooks::update_webhook_endpoint(self, endpoint).await
    }

    async fn rotate_webhook_secret(
        &self,
        id: Uuid,
        secret: &[u8],
        previous_expires_at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        realname_store_sql::webhooks::rotate_webhook_secret(self, id, secret, previous_expires_at)
            .await
    }

    async fn delete_webhook_endpoint(&self, id: Uuid) -> StoreResult<bool> {
        realname_store_sql::webhooks::delete_webhook_endpoint(self, id).await
    }

    async fn record_delivery_attempt(&self, attempt: &DeliveryAttempt) -> StoreResult<()> {
        realname_store_sql::webhooks::record_delivery_attempt(self, attempt).await
    }

    async fn delivery_attempts(
        &self,
        endpoint_id: Uuid,
        before: Option<i64>,
        limit: u32,
    ) -> StoreResult<Vec<DeliveryAttempt>> {
        realname_store_sql::webhooks::delivery_attempts(self, endpoint_id, before, limit).await
    }

    async fn vault_keys(&self) -> StoreResult<Option<SealedKeys>> {
        realname_store_sql::keys::vault_keys(self).await
    }

    async fn init_vault_keys(&self, keys: &SealedKeys) -> StoreResult<SealedKeys> {
        realname_store_sql::keys::init_vault_keys(self, keys).await
    }

    async fn replace_vault_keys(
        &self,
        expected: &SealedKeys,
        keys: &SealedKeys,
    ) -> StoreResult<bool> {
        realname_store_sql::keys::replace_vault_keys(self, expected, keys).await
    }

    async fn sealed_values(
        &self,
        column: SealedColumn,
        current: &[u8],
        after: Option<&[String]>,
        limit: u32,
    ) -> StoreResult<Vec<SealedValue>> {
        realname_store_sql::keys::sealed_values(self, column, current, after, limit).await
    }

    async fn reseal_values(&self, column: SealedColumn, values: Vec<Resealed>) -> StoreResult<u64> {
        realname_store_sql::keys::reseal_values(self, column, values).await
    }

    async fn count_sealed(&self, column: SealedColumn, prefix: &[u8]) -> StoreResult<u64> {
        realname_store_sql::keys::count_sealed(self, column, prefix).await
    }

    async fn holds_data(&self) -> StoreResult<bool> {
        realname_store_sql::keys::holds_data(self).await
    }

    async fn sample_sealed(&self) -> StoreResult<Option<(Uuid, Vec<u8>)>> {
        realname_store_sql::keys::sample_sealed(self).await
    }

    async fn sandbox_offset(&self) -> StoreResult<i64> {
        realname_store_sql::sandbox::sandbox_offset(self).await
    }

    async fn advance_sandbox_clock(&self, seconds: i64, at_most: i64) -> StoreResult<Option<i64>> {
        realname_store_sql::sandbox::advance_sandbox_clock(self, seconds, at_most).await
    }

    async fn mode_facts(&self) -> StoreResult<ModeFacts> {
        realname_store_sql::sandbox::mode_facts(self).await
    }

    async fn write_mode(
        &self,
        mode: KeyMode,
        seen: Option<KeyMode>,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<KeyMode>> {
        realname_store_sql::sandbox::write_mode(self, mode, seen, at).await
    }
}

#[async_trait::async_trait]
impl SandboxLedger for PgStore {
    async fn pay(&self, payout: &SandboxPayout) -> StoreResult<()> {
        realname_store_sql::sandbox::pay(self, payout).await
    }

    async fn statement(
        &self,
        card_hash: &[u8],
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<SandboxTransaction>> {
        realname_store_sql::sandbox::statement(self, card_hash, now).await
    }

    async fn due(&self, now: DateTime<Utc>) -> StoreResult<Vec<SandboxPayout>> {
        realname_store_sql::sandbox::due(self, now).await
    }

    async fn acknowledge(&self, end_to_end_ids: &[String]) -> StoreResult<()> {
        realname_store_sql::sandbox::acknowledge(self, end_to_end_ids).await
    }
}
