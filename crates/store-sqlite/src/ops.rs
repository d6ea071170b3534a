//! The `Store` trait on SQLite. Writes run on the writer thread in one IMMEDIATE transaction
//! each; reads run on pooled reader connections.

use chrono::{DateTime, TimeDelta, Utc};
use std::sync::LazyLock;

use realname_core::application::CardHistory;
use realname_core::platform::{
    ApiKey, DeliveryAttempt, EventQuery, EventType, KeyMode, LinkToken, LinkUse, ModeFacts,
    PlatformEvent, PlatformSession, WebhookEndpoint,
};
use realname_core::ports::{SandboxLedger, SandboxPayout, SandboxTransaction};
use realname_core::state::{Effect, Failure, Status};
use realname_core::store::{
    Account, ApplicationRecord, Applied, AuditEntry, CaseFacts, CaseFilter, CaseRecord, CaseWrite,
    Closed, Closure, Erased, Erasure, Forget, Forgotten, Idempotency, ImageMeta, Job, JobKind,
    NewApplication, NewJob, Resealed, RetentionCandidate, SealedColumn, SealedKeys, SealedValue,
    StateChange, Store, StoreError, StoreResult, StoredCard, SubmitCommand, SubmitOutcome,
    Throttle, ThrottlePolicy,
};
use rusqlite::{Connection, OptionalExtension, params};
use uuid::Uuid;

use crate::sql::{CASE_COLUMNS, Cached, case_row, id, opt_ts, parse_id, parse_ts, ts};
use crate::{SqliteStore, failed};

/// What tells a store's mode: the one written; whether it holds a customer's account, an
/// application or a key; whether a test key, a sandbox payout, a moved clock or a test-mode
/// event is in it.
const MODE_FACTS: &str = "SELECT (SELECT mode FROM store_mode WHERE id = 1),
        EXISTS (SELECT 1 FROM accounts WHERE role = 'user') OR EXISTS (SELECT 1 FROM applications)
            OR EXISTS (SELECT 1 FROM api_keys),
        EXISTS (SELECT 1 FROM api_keys WHERE mode = 'test') OR EXISTS (SELECT 1 FROM sandbox_payouts)
            OR EXISTS (SELECT 1 FROM sandbox_clock WHERE offset_seconds <> 0)
            OR EXISTS (SELECT 1 FROM platform_events WHERE livemode = 0)";

/// The statuses of an open application (`application_in_progress`), as an SQL list.
static OPEN: LazyLock<String> = LazyLock::new(|| {
    let names: Vec<String> = Status::ALL
        .into_iter()
        .filter(|s| s.is_open())
        .map(|s| format!("'{}'", s.as_str()))
        .collect();
    format!("({})", names.join(", "))
});

fn insert_event(tx: &Connection, app: Uuid, status: Status, at: DateTime<Utc>) -> StoreResult<()> {
    tx.exec(
        "INSERT INTO events (application_id, status, at) VALUES (?1, ?2, ?3)",
        params![id(app), status.as_str(), ts(at)],
    )
    .map(drop)
    .map_err(failed)
}

/// Queues a job under its key; `false` when the key was queued before.
fn queue_job(tx: &Connection, job: &NewJob) -> StoreResult<bool> {
    tx.exec(
        "INSERT INTO jobs (id, key, kind, application_id, subject, due_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (key) DO NOTHING",
        params![
            id(Uuid::new_v4()),
            job.key,
            job.kind.as_str(),
            job.application_id.map(id),
            job.subject,
            ts(job.due_at)
        ],
    )
    .map(|n| n > 0)
    .map_err(failed)
}

/// Writes the platform's event of a status change, numbered in its application's sequence.
fn publish(
    tx: &Connection,
    app: Uuid,
    event: EventType,
    status: Status,
    failure: Option<&Failure>,
    livemode: bool,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    let sequence: u32 = tx
        .one(
            "UPDATE applications SET event_sequence = event_sequence + 1 WHERE id = ?1
             RETURNING event_sequence",
            params![id(app)],
            |r| r.get(0),
        )
        .map_err(failed)?;
    let event_id = realname_core::store::event_id(Uuid::new_v4());
    // The outbox: the event and the job that takes it to the endpoints, in one transaction.
    // Without an endpoint of the event's mode there is nobody to take it to, and the journey's
    // write path would pay for a job written, claimed and finished for nothing.
    let anyone_listens = tx
        .one(
            "SELECT EXISTS (SELECT 1 FROM webhook_endpoints WHERE enabled AND livemode = ?1)",
            params![livemode],
            |r| r.get::<_, bool>(0),
        )
        .map_err(failed)?;
    if anyone_listens {
        queue_job(tx, &NewJob::dispatch_event(&event_id, app, at))?;
    }
    tx.exec(
        "INSERT INTO platform_events
             (id, application_id, external_user_id, type, sequence, status, failure, livemode, created_at)
         SELECT ?1, ?2, (SELECT pu.external_user_id FROM applications a
                          JOIN platform_users pu ON pu.account_id = a.account_id WHERE a.id = ?2),
                ?3, ?4, ?5, ?6, ?7, ?8",
        params![
            event_id,
            id(app),
            event.as_str(),
            sequence,
            status.as_str(),
            failure.map(Failure::encode),
            livemode,
            ts(at)
        ],
    )
    .map(drop)
    .map_err(failed)
}

/// A transition inside an open transaction, guarded by its starting status. Its effects
/// carry everything they write; nothing here decides.
pub(crate) fn apply_in(tx: &Connection, change: &StateChange) -> StoreResult<Applied> {
    let app = id(change.application_id);
    let t = &change.transition;
    let moved = tx
        .exec(
            "UPDATE applications SET status = ?1, failure = ?2, updated_at = ?3
             WHERE id = ?4 AND status = ?5",
            params![
                t.status.as_str(),
                t.failure.as_ref().map(|f| f.encode()),
                ts(change.at),
                app,
                change.from.as_str()
            ],
        )
        .map_err(failed)?;
    if moved == 0 {
        return Ok(Applied::Moved);
    }
    insert_event(tx, change.application_id, t.status, change.at)?;
    for effect in &t.effects {
        match effect {
            Effect::Queue(job) => {
                queue_job(tx, job)?;
            }
            Effect::SettleDeposit {
                settled_at,
                expires_at,
            } => {
                tx.exec(
                    "UPDATE deposits SET settled_at = ?1, expires_at = ?2 WHERE application_id = ?3",
                    params![ts(*settled_at), ts(*expires_at), app],
                )
                .map_err(failed)?;
            }
            Effect::RecordAttempts(attempts) => {
                tx.exec(
                    "UPDATE deposits SET attempts_used = ?1 WHERE application_id = ?2",
                    params![attempts, app],
                )
                .map_err(failed)?;
            }
            Effect::OpenReviewCase { due_at } => {
                tx.exec(
                    "INSERT INTO review_cases (id, application_id, account_id, submitted_at, due_at)
                     SELECT ?1, id, account_id, ?2, ?3 FROM applications WHERE id = ?4
                     ON CONFLICT (application_id) DO NOTHING",
                    params![id(Uuid::new_v4()), ts(change.at), ts(*due_at), app],
                )
                .map_err(failed)?;
            }
            Effect::CloseReviewCase { at, outcome } => {
                tx.exec(
                    "UPDATE review_cases SET decided_at = ?1, outcome = ?3
                     WHERE application_id = ?2 AND decided_at IS NULL",
                    params![ts(*at), app, outcome.as_str()],
                )
                .map_err(failed)?;
            }
            Effect::BlockCard { reason, at } => {
                tx.exec(
                    "INSERT OR IGNORE INTO returned_cards (card_hash, reason, at)
                     SELECT card_hash, ?1, ?2 FROM deposits WHERE application_id = ?3",
                    params![reason, ts(*at), app],
                )
                .map_err(failed)?;
            }
            Effect::Publish {
                event,
                livemode,
                at,
            } => publish(
                tx,
                change.application_id,
                *event,
                t.status,
                t.failure.as_ref(),
                *livemode,
                *at,
            )?,
        }
    }
    Ok(Applied::Done)
}

#[async_trait::async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> StoreResult<()> {
        self.read(|c| c.one("SELECT 1", [], |_| Ok(())).map_err(failed))
            .await
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

    async fn purge_history(&self, forget: &Forget) -> StoreResult<Forgotten> {
        let forget = *forget;
        self.write(move |tx| {
            let deleted = |sql: &str, before: DateTime<Utc>| {
                tx.exec(sql, params![ts(before)])
                    .map(|n| n as u64)
                    .map_err(failed)
            };
            Ok(Forgotten {
                deliveries: deleted(
                    "DELETE FROM delivery_attempts WHERE at < ?1",
                    forget.events_before,
                )?,
                events: deleted(
                    "DELETE FROM platform_events WHERE created_at < ?1",
                    forget.events_before,
                )?,
                jobs: deleted(
                    "DELETE FROM jobs WHERE done_at IS NOT NULL AND done_at < ?1",
                    forget.jobs_before,
                )?,
                links: deleted(
                    "DELETE FROM link_tokens WHERE expires_at < ?1",
                    forget.links_before,
                )?,
            })
        })
        .await
    }

    async fn erase(&self, erasure: &Erasure) -> StoreResult<Erased> {
        let e = erasure.clone();
        self.write(move |tx| {
            if let Some(cancel) = &e.cancel
                && apply_in(tx, cancel)? == Applied::Moved
            {
                return Ok(Erased::Moved);
            }
            let app = id(e.application_id);
            let found = tx
                .one(
                    "SELECT status, failure, redacted_at FROM applications WHERE id = ?1",
                    params![app],
                    |r| {
                        Ok((
                            r.get::<_, String>(0)?,
                            r.get::<_, Option<String>>(1)?,
                            r.get::<_, Option<String>>(2)?,
                        ))
                    },
                )
                .optional()
                .map_err(failed)?;
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
                "UPDATE applications SET form = X'', card_bank = NULL, card_sealed = NULL
                 WHERE id = ?1",
                "DELETE FROM images WHERE application_id = ?1",
                "UPDATE deposits SET amount = X'' WHERE application_id = ?1",
                "UPDATE rail_transfers SET instruction = NULL WHERE application_id = ?1",
            ];
            for sql in statements {
                tx.exec(sql, params![app]).map_err(failed)?;
            }
            tx.exec(
                "UPDATE applications SET redacted_at = ?1 WHERE id = ?2",
                params![ts(e.at), app],
            )
            .map_err(failed)?;
            tx.exec(
                "DELETE FROM idempotency WHERE scope = ?1",
                params![e.answers_scope],
            )
            .map_err(failed)?;
            let failure = failure.as_deref().and_then(Failure::decode);
            publish(
                tx,
                e.application_id,
                EventType::Redacted,
                e.status,
                failure.as_ref(),
                e.livemode,
                e.at,
            )?;
            insert_audit(tx, &e.audit)?;
            Ok(Erased::Done)
        })
        .await
    }

    async fn retention_due(
        &self,
        due: &realname_core::retention::Due,
        limit: u32,
    ) -> StoreResult<Vec<RetentionCandidate>> {
        let fraud = serde_json::to_string(&due.fraud_codes)
            .map_err(|e| StoreError::Failed(e.to_string()))?;
        let due = due.clone();
        self.read_blocking(move |c| {
            let mut stmt = c
                .prepare_cached(
                    "SELECT a.id, a.account_id, a.status, a.failure, a.updated_at, pu.closed_at
                     FROM applications a LEFT JOIN platform_users pu ON pu.account_id = a.account_id
                     WHERE a.redacted_at IS NULL AND (
                        -- A fraud finding (its failure's code) is held to its own instant.
                        (a.status IN ('failed', 'cancelled') AND a.updated_at <= CASE
                            WHEN substr(a.failure, 1, instr(a.failure, ';') - 1)
                                 IN (SELECT value FROM json_each(?5)) THEN ?2
                            ELSE ?1 END)
                        OR (a.status = 'draft' AND a.updated_at <= ?3)
                        OR (a.status = 'verified' AND pu.closed_at <= ?4))
                     ORDER BY a.updated_at LIMIT ?6",
                )
                .map_err(failed)?;
            let rows = stmt
                .query_map(
                    params![
                        ts(due.ended_before),
                        ts(due.fraud_before),
                        ts(due.untouched_before),
                        ts(due.closed_before),
                        fraud,
                        limit
                    ],
                    |r| {
                        Ok(RetentionCandidate {
                            application_id: parse_id(&r.get::<_, String>(0)?)?,
                            account_id: parse_id(&r.get::<_, String>(1)?)?,
                            status: crate::sql::parse_status(&r.get::<_, String>(2)?)?,
                            failure: r
                                .get::<_, Option<String>>(3)?
                                .as_deref()
                                .and_then(Failure::decode),
                            updated_at: parse_ts(&r.get::<_, String>(4)?)?,
                            account_closed_at: opt_ts(r.get(5)?)?,
                        })
                    },
                )
                .map_err(failed)?;
            rows.collect::<rusqlite::Result<Vec<_>>>().map_err(failed)
        })
        .await
    }

    async fn settle_erasures(&self) -> StoreResult<()> {
        self.checkpoint().await
    }

    async fn account_closed_at(&self, account_id: Uuid) -> StoreResult<Option<DateTime<Utc>>> {
        self.read(move |c| {
            let closed: Option<Option<String>> = c
                .one(
                    "SELECT closed_at FROM platform_users WHERE account_id = ?1",
                    params![id(account_id)],
                    |r| r.get(0),
                )
                .optional()
                .map_err(failed)?;
            opt_ts(closed.flatten()).map_err(failed)
        })
        .await
    }

    async fn close_platform_user(&self, closure: &Closure) -> StoreResult<Closed> {
        let c = closure.clone();
        self.write(move |tx| {
            let account = id(c.account_id);
            let open: bool = tx
                .one(
                    "SELECT EXISTS (SELECT 1 FROM platform_users WHERE account_id = ?1 AND closed_at IS NULL)",
                    params![account],
                    |r| r.get(0),
                )
                .map_err(failed)?;
            if !open {
                return Ok(Closed::NotOpen);
            }
            if let Some(cancel) = &c.cancel
                && apply_in(tx, cancel)? == Applied::Moved
            {
                return Ok(Closed::Moved);
            }
            let in_progress: bool = tx
                .one(
                    &format!(
                        "SELECT EXISTS (SELECT 1 FROM applications WHERE account_id = ?1 AND status IN {})",
                        *OPEN
                    ),
                    params![account],
                    |r| r.get(0),
                )
                .map_err(failed)?;
            if in_progress {
                // Undoes the draft's cancellation with the rest.
                return Err(StoreError::Conflict("application_in_progress".into()));
            }
            tx.exec(
                "UPDATE platform_users SET closed_at = ?1 WHERE account_id = ?2",
                params![ts(c.at), account],
            )
            .map_err(failed)?;
            let statements = [
                // The login names the platform's user; a new account for it takes it over.
                "UPDATE accounts SET login = 'closed:' || id WHERE id = ?1",
                "DELETE FROM sessions WHERE account_id = ?1",
                "DELETE FROM link_tokens WHERE used_at IS NULL
                 AND session_id IN (SELECT id FROM platform_sessions WHERE account_id = ?1)",
            ];
            for sql in statements {
                tx.exec(sql, params![account]).map_err(failed)?;
            }
            insert_audit(tx, &c.audit)?;
            Ok(Closed::Done)
        })
        .await
    }

    async fn create_application(&self, application: &NewApplication) -> StoreResult<()> {
        realname_store_sql::applications::create_application(self, application).await
    }

    async fn application(&self, app: Uuid) -> StoreResult<Option<ApplicationRecord>> {
        realname_store_sql::applications::application(self, app).await
    }

    async fn applications_of(&self, account_id: Uuid) -> StoreResult<Vec<ApplicationRecord>> {
        realname_store_sql::applications::applications_of(self, account_id).await
    }

    async fn update_draft(
        &self,
        app: Uuid,
        form: &[u8],
        document_hashes: &[Vec<u8>],
        warnings: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<ApplicationRecord>> {
        realname_store_sql::applications::update_draft(
            self,
            app,
            form,
            document_hashes,
            warnings,
            at,
        )
        .await
    }

    async fn set_card(
        &self,
        app: Uuid,
        card: &StoredCard,
        at: DateTime<Utc>,
    ) -> StoreResult<Applied> {
        realname_store_sql::applications::set_card(self, app, card, at).await
    }

    async fn put_image(
        &self,
        app: Uuid,
        meta: &ImageMeta,
        sealed: &[u8],
        at: DateTime<Utc>,
    ) -> StoreResult<Applied> {
        realname_store_sql::applications::put_image(self, app, meta, sealed, at).await
    }

    async fn image(&self, app: Uuid, slot: &str) -> StoreResult<Option<(ImageMeta, Vec<u8>)>> {
        realname_store_sql::applications::image(self, app, slot).await
    }

    async fn card_history(&self, account_id: Uuid, card_hash: &[u8]) -> StoreResult<CardHistory> {
        realname_store_sql::applications::card_history(self, account_id, card_hash).await
    }

    async fn submit(&self, command: &SubmitCommand) -> StoreResult<SubmitOutcome> {
        realname_store_sql::applications::submit(self, command).await
    }

    async fn apply(&self, change: &StateChange) -> StoreResult<Applied> {
        realname_store_sql::applications::apply(self, change).await
    }

    async fn apply_bank_message(
        &self,
        message: &realname_core::ports::BankMessage,
        changes: &[StateChange],
        unmatched: &[realname_core::ports::UnmatchedEntry],
        at: DateTime<Utc>,
    ) -> StoreResult<realname_core::store::MessageApplied> {
        let (message, changes, unmatched) = (message.clone(), changes.to_vec(), unmatched.to_vec());
        crate::rail::settled(
            self.write_mut(move |tx| {
                crate::rail::apply_message_in(tx, &message, &changes, &unmatched, at)
            })
            .await,
        )
    }

    async fn record_wrong_answer(
        &self,
        app: Uuid,
        attempts_before: u32,
        at: DateTime<Utc>,
    ) -> StoreResult<Applied> {
        realname_store_sql::applications::record_wrong_answer(self, app, attempts_before, at).await
    }

    async fn queue_job(&self, job: &NewJob) -> StoreResult<bool> {
        let job = job.clone();
        self.write(move |tx| queue_job(tx, &job)).await
    }

    async fn claim_jobs(
        &self,
        now: DateTime<Utc>,
        lease_seconds: i64,
        limit: u32,
    ) -> StoreResult<Vec<Job>> {
        self.write(move |tx| {
            let now_text = ts(now);
            let jobs: Vec<Job> = {
                let mut stmt = tx
                    .prepare_cached(
                        "SELECT id, key, kind, application_id, due_at, attempts, subject FROM jobs
                         WHERE done_at IS NULL AND due_at <= ?1 AND (leased_until IS NULL OR leased_until < ?1)
                         ORDER BY due_at LIMIT ?2",
                    )
                    .map_err(failed)?;
                stmt.query_map(params![now_text, limit], |r| {
                    let kind: String = r.get(2)?;
                    Ok(Job {
                        id: parse_id(&r.get::<_, String>(0)?)?,
                        key: r.get(1)?,
                        kind: JobKind::parse(&kind).ok_or_else(|| rusqlite::Error::InvalidColumnName(kind))?,
                        application_id: r.get::<_, Option<String>>(3)?.as_deref().map(parse_id).transpose()?,
                        due_at: parse_ts(&r.get::<_, String>(4)?)?,
                        attempts: r.get::<_, u32>(5)? + 1,
                        subject: r.get(6)?,
                    })
                })
                .and_then(Iterator::collect)
                .map_err(failed)?
            };
            let until = ts(now + TimeDelta::seconds(lease_seconds));
            for job in &jobs {
                tx.exec(
                    "UPDATE jobs SET leased_until = ?1, attempts = attempts + 1 WHERE id = ?2",
                    params![until, id(job.id)],
                )
                .map_err(failed)?;
            }
            Ok(jobs)
        })
        .await
    }

    async fn finish_job(&self, job: &Job, at: DateTime<Utc>) -> StoreResult<()> {
        let job_id = job.id;
        self.write(move |tx| {
            tx.exec(
                "UPDATE jobs SET done_at = ?1 WHERE id = ?2",
                params![ts(at), id(job_id)],
            )
            .map(drop)
            .map_err(failed)
        })
        .await
    }

    async fn retry_job(&self, job: &Job, due_at: DateTime<Utc>) -> StoreResult<()> {
        let job_id = job.id;
        self.write(move |tx| {
            tx.exec(
                "UPDATE jobs SET due_at = ?1, leased_until = NULL WHERE id = ?2 AND done_at IS NULL",
                params![ts(due_at), id(job_id)],
            )
            .map(drop)
            .map_err(failed)
        })
        .await
    }

    async fn mark_deposit_paid(&self, app: Uuid, at: DateTime<Utc>) -> StoreResult<()> {
        self.write(move |tx| {
            tx.exec(
                "UPDATE deposits SET paid_at = COALESCE(paid_at, ?1) WHERE application_id = ?2",
                params![ts(at), id(app)],
            )
            .map(drop)
            .map_err(failed)
        })
        .await
    }

    async fn deposit_application(
        &self,
        end_to_end_id: &str,
    ) -> StoreResult<Option<(Uuid, Status)>> {
        let e2e = end_to_end_id.to_owned();
        self.read(move |c| {
            c.one(
                "SELECT a.id, a.status FROM deposits d JOIN applications a ON a.id = d.application_id
                 WHERE d.end_to_end_id = ?1",
                params![e2e],
                |r| Ok((parse_id(&r.get::<_, String>(0)?)?, crate::sql::parse_status(&r.get::<_, String>(1)?)?)),
            )
            .optional()
            .map_err(failed)
        })
        .await
    }

    async fn deposit_applications(
        &self,
        end_to_end_ids: &[String],
    ) -> StoreResult<std::collections::HashMap<String, (Uuid, Status)>> {
        let ids = end_to_end_ids.to_vec();
        // One snapshot, one cached statement: in-process look-ups by the unique index.
        self.read_blocking(move |c| {
            let mut stmt = c
                .prepare_cached(
                    "SELECT a.id, a.status FROM deposits d JOIN applications a ON a.id = d.application_id
                     WHERE d.end_to_end_id = ?1",
                )
                .map_err(failed)?;
            let mut found = std::collections::HashMap::with_capacity(ids.len());
            for e2e in ids {
                let row = stmt
                    .query_row(params![e2e], |r| {
                        Ok((parse_id(&r.get::<_, String>(0)?)?, crate::sql::parse_status(&r.get::<_, String>(1)?)?))
                    })
                    .optional()
                    .map_err(failed)?;
                if let Some(row) = row {
                    found.insert(e2e, row);
                }
            }
            Ok(found)
        })
        .await
    }

    async fn review_cases(
        &self,
        filter: CaseFilter,
        now: DateTime<Utc>,
        after: Option<(DateTime<Utc>, Uuid)>,
        limit: u32,
    ) -> StoreResult<Vec<CaseRecord>> {
        self.read(move |c| {
            let condition = match filter {
                CaseFilter::Open => {
                    "decided_at IS NULL AND (claimed_until IS NULL OR claimed_until < ?1)"
                }
                CaseFilter::Claimed => "decided_at IS NULL AND claimed_until >= ?1",
                CaseFilter::Decided => "decided_at IS NOT NULL AND ?1 = ?1",
            };
            let (after_due, after_id) = match after {
                Some((due, case)) => (ts(due), id(case)),
                None => (String::new(), String::new()),
            };
            let mut stmt = c
                .prepare_cached(&format!(
                    "SELECT {CASE_COLUMNS} FROM review_cases WHERE {condition}
                     AND (?2 = '' OR due_at > ?2 OR (due_at = ?2 AND id > ?3))
                     ORDER BY due_at, id LIMIT ?4"
                ))
                .map_err(failed)?;
            stmt.query_map(params![ts(now), after_due, after_id, limit], case_row)
                .and_then(Iterator::collect)
                .map_err(failed)
        })
        .await
    }

    async fn review_case(&self, case: Uuid) -> StoreResult<Option<CaseRecord>> {
        self.read(move |c| {
            c.one(
                &format!("SELECT {CASE_COLUMNS} FROM review_cases WHERE id = ?1"),
                params![id(case)],
                case_row,
            )
            .optional()
            .map_err(failed)
        })
        .await
    }

    async fn review_case_of(&self, application: Uuid) -> StoreResult<Option<CaseRecord>> {
        self.read(move |c| {
            c.one(
                &format!("SELECT {CASE_COLUMNS} FROM review_cases WHERE application_id = ?1"),
                params![id(application)],
                case_row,
            )
            .optional()
            .map_err(failed)
        })
        .await
    }

    async fn case_facts(&self, application_ids: &[Uuid]) -> StoreResult<Vec<CaseFacts>> {
        let ids: Vec<String> = application_ids.iter().map(|a| id(*a)).collect();
        let ids = serde_json::to_string(&ids).map_err(|e| StoreError::Failed(e.to_string()))?;
        self.read(move |c| {
            let mut stmt = c
                .prepare_cached(
                    "SELECT a.id, CASE WHEN a.redacted_at IS NULL THEN a.form END, (
                         SELECT other.application_id FROM application_documents mine
                         JOIN application_documents other ON other.document_hash = mine.document_hash
                         JOIN applications o ON o.id = other.application_id
                         WHERE mine.application_id = a.id AND other.account_id != a.account_id
                         ORDER BY o.created_at, o.id LIMIT 1)
                     FROM applications a WHERE a.id IN (SELECT value FROM json_each(?1))",
                )
                .map_err(failed)?;
            stmt.query_map(params![ids], |r| {
                Ok(CaseFacts {
                    application_id: parse_id(&r.get::<_, String>(0)?)?,
                    form: r.get(1)?,
                    duplicate_of: r
                        .get::<_, Option<String>>(2)?
                        .map(|o| parse_id(&o))
                        .transpose()?,
                })
            })
            .and_then(Iterator::collect)
            .map_err(failed)
        })
        .await
    }

    async fn claim_case(
        &self,
        case: Uuid,
        reviewer: Uuid,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> StoreResult<CaseWrite> {
        self.write(move |tx| {
            let found = tx
                .one(
                    &format!("SELECT {CASE_COLUMNS} FROM review_cases WHERE id = ?1"),
                    params![id(case)],
                    case_row,
                )
                .optional()
                .map_err(failed)?;
            let verdict = CaseWrite::claim(found.as_ref(), reviewer, now);
            if verdict != CaseWrite::Done {
                return Ok(verdict);
            }
            tx.exec(
                "UPDATE review_cases SET claimed_by = ?1, claimed_until = ?2 WHERE id = ?3",
                params![id(reviewer), ts(until), id(case)],
            )
            .map_err(failed)?;
            Ok(CaseWrite::Done)
        })
        .await
    }

    async fn decide_case(
        &self,
        case: Uuid,
        reviewer: Uuid,
        change: &StateChange,
        audit: &AuditEntry,
    ) -> StoreResult<CaseWrite> {
        let (change, audit) = (change.clone(), audit.clone());
        self.write(move |tx| {
            let found = tx
                .one(
                    &format!("SELECT {CASE_COLUMNS} FROM review_cases WHERE id = ?1"),
                    params![id(case)],
                    case_row,
                )
                .optional()
                .map_err(failed)?;
            let verdict = CaseWrite::decision(found.as_ref(), reviewer, change.at);
            if verdict != CaseWrite::Done {
                return Ok(verdict);
            }
            // The transition's own effect closes the case with the decision's outcome.
            if apply_in(tx, &change)? == Applied::Moved {
                return Ok(CaseWrite::Decided);
            }
            insert_audit(tx, &audit)?;
            Ok(CaseWrite::Done)
        })
        .await
    }

    async fn append_audit(&self, entry: &AuditEntry) -> StoreResult<()> {
        let entry = entry.clone();
        self.write(move |tx| insert_audit(tx, &entry)).await
    }

    async fn audit_trail(
        &self,
        application_id: Option<Uuid>,
        limit: u32,
    ) -> StoreResult<Vec<AuditEntry>> {
        self.read_blocking(move |c| {
            let filter = application_id.map(id).unwrap_or_default();
            let mut stmt = c
                .prepare_cached(
                    "SELECT id, at, actor, action, application_id, detail FROM audit
                     WHERE ?1 = '' OR application_id = ?1 ORDER BY seq LIMIT ?2",
                )
                .map_err(failed)?;
            stmt.query_map(params![filter, limit], |r| {
                Ok(AuditEntry {
                    id: parse_id(&r.get::<_, String>(0)?)?,
                    at: parse_ts(&r.get::<_, String>(1)?)?,
                    actor: parse_id(&r.get::<_, String>(2)?)?,
                    action: r.get(3)?,
                    application_id: r
                        .get::<_, Option<String>>(4)?
                        .as_deref()
                        .map(parse_id)
                        .transpose()?,
                    detail: r.get(5)?,
                })
            })
            .and_then(Iterator::collect)
            .map_err(failed)
        })
        .await
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

    async fn platform_session(&self, session: Uuid) -> StoreResult<Option<PlatformSession>> {
        realname_store_sql::platform::platform_session(self, session).await
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

    async fn event(&self, event_id: &str) -> StoreResult<Option<PlatformEvent>> {
        realname_store_sql::platform::event(self, event_id).await
    }

    async fn create_webhook_endpoint(&self, endpoint: &WebhookEndpoint) -> StoreResult<()> {
        realname_store_sql::webhooks::create_webhook_endpoint(self, endpoint).await
    }

    async fn webhook_endpoints(&self) -> StoreResult<Vec<WebhookEndpoint>> {
        realname_store_sql::webhooks::webhook_endpoints(self).await
    }

    async fn webhook_endpoint(&self, endpoint: Uuid) -> StoreResult<Option<WebhookEndpoint>> {
        realname_store_sql::webhooks::webhook_endpoint(self, endpoint).await
    }

    async fn update_webhook_endpoint(&self, endpoint: &WebhookEndpoint) -> StoreResult<bool> {
        realname_store_sql::webhooks::update_webhook_endpoint(self, endpoint).await
    }

    async fn rotate_webhook_secret(
        &self,
        endpoint: Uuid,
        secret: &[u8],
        previous_expires_at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        realname_store_sql::webhooks::rotate_webhook_secret(
            self,
            endpoint,
            secret,
            previous_expires_at,
        )
        .await
    }

    async fn delete_webhook_endpoint(&self, endpoint: Uuid) -> StoreResult<bool> {
        realname_store_sql::webhooks::delete_webhook_endpoint(self, endpoint).await
    }

    async fn record_delivery_attempt(&self, attempt: &DeliveryAttempt) -> StoreResult<()> {
        realname_store_sql::webhooks::record_delivery_attempt(self, attempt).await
    }

    async fn delivery_attempts(
        &self,
        endpoint: Uuid,
        before: Option<i64>,
        limit: u32,
    ) -> StoreResult<Vec<DeliveryAttempt>> {
        realname_store_sql::webhooks::delivery_attempts(self, endpoint, before, limit).await
    }

    async fn vault_keys(&self) -> StoreResult<Option<SealedKeys>> {
        self.read(vault_keys_in).await
    }

    async fn init_vault_keys(&self, keys: &SealedKeys) -> StoreResult<SealedKeys> {
        let keys = keys.clone();
        self.write(move |tx| {
            tx.exec(
                "INSERT OR IGNORE INTO vault_keys
                     (id, kek_check, data_key, lookup_key, retired_data_key, data_key_id, created_at)
                 VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    keys.kek_check,
                    keys.data_key,
                    keys.lookup_key,
                    keys.retired_data_key,
                    keys.data_key_id,
                    ts(keys.created_at)
                ],
            )
            .map_err(failed)?;
            vault_keys_in(tx)?.ok_or_else(|| StoreError::Failed("vault keys not written".into()))
        })
        .await
    }

    async fn replace_vault_keys(
        &self,
        expected: &SealedKeys,
        keys: &SealedKeys,
    ) -> StoreResult<bool> {
        let (expected, keys) = (expected.clone(), keys.clone());
        self.write(move |tx| {
            tx.exec(
                "UPDATE vault_keys SET kek_check = ?1, data_key = ?2, lookup_key = ?3,
                        retired_data_key = ?4, created_at = ?5, data_key_id = ?9
                 WHERE id = 1 AND kek_check = ?6 AND data_key = ?7 AND retired_data_key IS ?8",
                params![
                    keys.kek_check,
                    keys.data_key,
                    keys.lookup_key,
                    keys.retired_data_key,
                    ts(keys.created_at),
                    expected.kek_check,
                    expected.data_key,
                    expected.retired_data_key,
                    keys.data_key_id
                ],
            )
            .map(|n| n == 1)
            .map_err(failed)
        })
        .await
    }

    async fn sealed_values(
        &self,
        column: SealedColumn,
        current: &[u8],
        after: Option<&[String]>,
        limit: u32,
    ) -> StoreResult<Vec<SealedValue>> {
        let place = column.place();
        let keys: Vec<&str> = place.key.iter().map(|k| k.name).collect();
        let listed: Vec<&str> = keys.iter().copied().chain(place.named_by).collect();
        let (table, col) = (place.table, place.column);
        let mut binds: Vec<rusqlite::types::Value> = vec![current.to_vec().into()];
        let mut sql = format!(
            "SELECT {}, {col} FROM {table}
             WHERE {col} IS NOT NULL AND length({col}) > 0 AND substr({col}, 1, {}) <> ?1",
            listed.join(", "),
            current.len()
        );
        if let Some(after) = after {
            let marks: Vec<String> = (0..keys.len()).map(|i| format!("?{}", i + 2)).collect();
            sql += &format!(" AND ({}) > ({})", keys.join(", "), marks.join(", "));
            binds.extend(after.iter().take(keys.len()).map(|k| k.clone().into()));
        }
        sql += &format!(" ORDER BY {} LIMIT {limit}", keys.join(", "));
        let width = listed.len();
        self.read(move |c| {
            let mut stmt = c.prepare_cached(&sql).map_err(failed)?;
            stmt.query_map(rusqlite::params_from_iter(binds), |r| {
                Ok(SealedValue {
                    row: (0..width)
                        .map(|i| r.get(i))
                        .collect::<rusqlite::Result<_>>()?,
                    sealed: r.get(width)?,
                })
            })
            .and_then(Iterator::collect)
            .map_err(failed)
        })
        .await
    }

    async fn reseal_values(&self, column: SealedColumn, values: Vec<Resealed>) -> StoreResult<u64> {
        let place = column.place();
        let (table, col) = (place.table, place.column);
        let width = place.key.len();
        let matched: Vec<String> = place
            .key
            .iter()
            .enumerate()
            .map(|(i, k)| format!("{} = ?{}", k.name, i + 3))
            .collect();
        let sql = format!(
            "UPDATE {table} SET {col} = ?1 WHERE {col} = ?2 AND {}",
            matched.join(" AND ")
        );
        self.write(move |tx| {
            let mut written = 0;
            for value in values {
                let mut binds: Vec<rusqlite::types::Value> =
                    vec![value.new.into(), value.old.into()];
                binds.extend(value.row.into_iter().take(width).map(Into::into));
                written += tx
                    .exec(&sql, rusqlite::params_from_iter(binds))
                    .map_err(failed)? as u64;
            }
            Ok(written)
        })
        .await
    }

    async fn count_sealed(&self, column: SealedColumn, prefix: &[u8]) -> StoreResult<u64> {
        let place = column.place();
        let (table, col) = (place.table, place.column);
        let sql = format!(
            "SELECT count(*) FROM {table}
             WHERE {col} IS NOT NULL AND length({col}) > 0 AND substr({col}, 1, {}) = ?1",
            prefix.len()
        );
        let prefix = prefix.to_vec();
        self.read(move |c| {
            c.one(&sql, params![prefix], |r| r.get::<_, i64>(0))
                .map(|n| n as u64)
                .map_err(failed)
        })
        .await
    }

    async fn holds_data(&self) -> StoreResult<bool> {
        self.read(|c| {
            c.one(
                "SELECT EXISTS (SELECT 1 FROM applications) OR EXISTS (SELECT 1 FROM api_keys)
                     OR EXISTS (SELECT 1 FROM link_tokens) OR EXISTS (SELECT 1 FROM webhook_endpoints)",
                [],
                |r| r.get(0),
            )
            .map_err(failed)
        })
        .await
    }

    async fn sample_sealed(&self) -> StoreResult<Option<(Uuid, Vec<u8>)>> {
        self.read(|c| {
            c.one(
                "SELECT id, form FROM applications WHERE redacted_at IS NULL LIMIT 1",
                [],
                |r| Ok((parse_id(&r.get::<_, String>(0)?)?, r.get(1)?)),
            )
            .optional()
            .map_err(failed)
        })
        .await
    }

    async fn sandbox_offset(&self) -> StoreResult<i64> {
        self.read(|c| {
            c.one(
                "SELECT offset_seconds FROM sandbox_clock WHERE id = 1",
                [],
                |r| r.get(0),
            )
            .map_err(failed)
        })
        .await
    }

    async fn advance_sandbox_clock(&self, seconds: i64, at_most: i64) -> StoreResult<Option<i64>> {
        self.write(move |tx| {
            tx.one(
                "UPDATE sandbox_clock SET offset_seconds = offset_seconds + ?1
                 WHERE id = 1 AND offset_seconds + ?1 <= ?2 RETURNING offset_seconds",
                params![seconds, at_most],
                |r| r.get(0),
            )
            .optional()
            .map_err(failed)
        })
        .await
    }

    async fn mode_facts(&self) -> StoreResult<ModeFacts> {
        self.read(|c| {
            c.one(MODE_FACTS, [], |r| {
                let written: Option<String> = r.get(0)?;
                Ok(ModeFacts {
                    written: written.as_deref().and_then(KeyMode::parse),
                    holds_data: r.get(1)?,
                    sandbox_traces: r.get(2)?,
                })
            })
            .map_err(failed)
        })
        .await
    }

    async fn write_mode(
        &self,
        mode: KeyMode,
        seen: Option<KeyMode>,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<KeyMode>> {
        self.write(move |tx| {
            tx.exec(
                "INSERT INTO store_mode (id, mode, written_at) VALUES (1, ?1, ?2)
                 ON CONFLICT (id) DO UPDATE SET mode = excluded.mode, written_at = excluded.written_at
                 WHERE store_mode.mode = ?3",
                params![mode.as_str(), ts(at), seen.map(KeyMode::as_str)],
            )
            .map_err(failed)?;
            let held: Option<String> = tx
                .one("SELECT mode FROM store_mode WHERE id = 1", [], |r| r.get(0))
                .optional()
                .map_err(failed)?;
            Ok(held.as_deref().and_then(KeyMode::parse))
        })
        .await
    }
}

#[async_trait::async_trait]
impl SandboxLedger for SqliteStore {
    async fn pay(&self, payout: &SandboxPayout) -> StoreResult<()> {
        let p = payout.clone();
        self.write(move |tx| {
            tx.exec(
                "INSERT OR IGNORE INTO sandbox_payouts
                     (end_to_end_id, card_hash, amount_fen, memo, paid_at, settle_at, return_reason)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    p.end_to_end_id,
                    p.card_hash,
                    p.amount_fen,
                    p.memo,
                    ts(p.paid_at),
                    ts(p.settle_at),
                    p.return_reason
                ],
            )
            .map(drop)
            .map_err(failed)
        })
        .await
    }

    async fn statement(
        &self,
        card_hash: &[u8],
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<SandboxTransaction>> {
        let hash = card_hash.to_vec();
        self.read(move |c| {
            let mut stmt = c
                .prepare_cached(
                    "SELECT amount_fen, memo, settle_at FROM sandbox_payouts
                     WHERE card_hash = ?1 AND settle_at <= ?2 AND return_reason IS NULL ORDER BY settle_at",
                )
                .map_err(failed)?;
            stmt.query_map(params![hash, ts(now)], |r| {
                Ok(SandboxTransaction { amount_fen: r.get(0)?, memo: r.get(1)?, at: parse_ts(&r.get::<_, String>(2)?)? })
            })
            .and_then(Iterator::collect)
            .map_err(failed)
        })
        .await
    }

    async fn due(&self, now: DateTime<Utc>) -> StoreResult<Vec<SandboxPayout>> {
        self.read(move |c| {
            let mut stmt = c
                .prepare_cached(
                    "SELECT end_to_end_id, card_hash, amount_fen, memo, paid_at, settle_at, return_reason
                     FROM sandbox_payouts WHERE acknowledged = 0 AND settle_at <= ?1 ORDER BY settle_at",
                )
                .map_err(failed)?;
            stmt.query_map(params![ts(now)], |r| {
                Ok(SandboxPayout {
                    end_to_end_id: r.get(0)?,
                    card_hash: r.get(1)?,
                    amount_fen: r.get(2)?,
                    memo: r.get(3)?,
                    paid_at: parse_ts(&r.get::<_, String>(4)?)?,
                    settle_at: parse_ts(&r.get::<_, String>(5)?)?,
                    return_reason: r.get(6)?,
                })
            })
            .and_then(Iterator::collect)
            .map_err(failed)
        })
        .await
    }

    async fn acknowledge(&self, end_to_end_ids: &[String]) -> StoreResult<()> {
        let ids = end_to_end_ids.to_vec();
        self.write(move |tx| {
            for e2e in ids {
                tx.exec(
                    "UPDATE sandbox_payouts SET acknowledged = 1 WHERE end_to_end_id = ?1",
                    params![e2e],
                )
                .map_err(failed)?;
            }
            Ok(())
        })
        .await
    }
}

fn vault_keys_in(c: &Connection) -> StoreResult<Option<SealedKeys>> {
    c.one(
        "SELECT kek_check, data_key, lookup_key, retired_data_key, data_key_id, created_at
         FROM vault_keys WHERE id = 1",
        [],
        |r| {
            Ok(SealedKeys {
                kek_check: r.get(0)?,
                data_key: r.get(1)?,
                lookup_key: r.get(2)?,
                retired_data_key: r.get(3)?,
                data_key_id: r.get(4)?,
                created_at: parse_ts(&r.get::<_, String>(5)?)?,
            })
        },
    )
    .optional()
    .map_err(failed)
}

fn insert_audit(tx: &Connection, e: &AuditEntry) -> StoreResult<()> {
    tx.exec(
        "INSERT INTO audit (id, at, actor, action, application_id, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![id(e.id), ts(e.at), id(e.actor), e.action, e.application_id.map(id), e.detail],
    )
    .map(drop)
    .map_err(failed)
}
