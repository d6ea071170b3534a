//! The `Store` trait on SQLite. Writes run on the writer thread in one IMMEDIATE transaction
//! each; reads run on pooled reader connections.

use chrono::{DateTime, Utc};
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
    Closed, Closure, Erased, Erasure, Forget, Forgotten, Idempotency, ImageMeta, Job,
    NewApplication, NewJob, Resealed, RetentionCandidate, SealedColumn, SealedKeys, SealedValue,
    StateChange, Store, StoreError, StoreResult, StoredCard, SubmitCommand, SubmitOutcome,
    Throttle, ThrottlePolicy,
};
use rusqlite::{Connection, OptionalExtension, params};
use uuid::Uuid;

use crate::sql::{Cached, id, opt_ts, parse_id, parse_ts, ts};
use crate::{SqliteStore, failed};

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

    async fn mark_deposit_paid(&self, app: Uuid, at: DateTime<Utc>) -> StoreResult<()> {
        realname_store_sql::jobs::mark_deposit_paid(self, app, at).await
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

    async fn review_case(&self, case: Uuid) -> StoreResult<Option<CaseRecord>> {
        realname_store_sql::review::review_case(self, case).await
    }

    async fn review_case_of(&self, application: Uuid) -> StoreResult<Option<CaseRecord>> {
        realname_store_sql::review::review_case_of(self, application).await
    }

    async fn case_facts(&self, application_ids: &[Uuid]) -> StoreResult<Vec<CaseFacts>> {
        realname_store_sql::review::case_facts(self, application_ids).await
    }

    async fn claim_case(
        &self,
        case: Uuid,
        reviewer: Uuid,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> StoreResult<CaseWrite> {
        realname_store_sql::review::claim_case(self, case, reviewer, now, until).await
    }

    async fn decide_case(
        &self,
        case: Uuid,
        reviewer: Uuid,
        change: &StateChange,
        audit: &AuditEntry,
    ) -> StoreResult<CaseWrite> {
        realname_store_sql::review::decide_case(self, case, reviewer, change, audit).await
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
impl SandboxLedger for SqliteStore {
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

fn insert_audit(tx: &Connection, e: &AuditEntry) -> StoreResult<()> {
    tx.exec(
        "INSERT INTO audit (id, at, actor, action, application_id, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![id(e.id), ts(e.at), id(e.actor), e.action, e.application_id.map(id), e.detail],
    )
    .map(drop)
    .map_err(failed)
}
