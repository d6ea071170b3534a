//! Many transitions in one transaction with a handful of statements: a bank notification
//! settles thousands of deposits at once, and one round trip per statement per application
//! (eight each) took PostgreSQL ten seconds for 10,000. Each statement here takes every
//! change's rows as arrays (`UNNEST`); what is written is what
//! [`realname_store_sql::changes::apply_in`] writes for each change on its own, read from the
//! effects once ([`Writes`]).

use chrono::{DateTime, Utc};
use realname_core::state::{Effect, Failure};
use realname_core::store::{Applied, NewJob, StateChange, StoreResult};
use realname_store_sql::changes::Writes;
use uuid::Uuid;

use crate::err;

/// Below this many changes, one at a time is as fast and simpler to read in a trace.
const BULK_FROM: usize = 16;

#[derive(Default)]
struct Jobs {
    ids: Vec<Uuid>,
    keys: Vec<String>,
    kinds: Vec<&'static str>,
    apps: Vec<Option<Uuid>>,
    subjects: Vec<Option<String>>,
    due: Vec<DateTime<Utc>>,
}

impl Jobs {
    fn push(&mut self, job: &NewJob) {
        self.ids.push(Uuid::new_v4());
        self.keys.push(job.key.clone());
        self.kinds.push(job.kind.as_str());
        self.apps.push(job.application_id);
        self.subjects.push(job.subject.clone());
        self.due.push(job.due_at);
    }

    async fn insert(&self, tx: &mut sqlx::PgConnection) -> StoreResult<()> {
        if self.ids.is_empty() {
            return Ok(());
        }
        sqlx::query(
            "INSERT INTO jobs (id, key, kind, application_id, subject, due_at)
             SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::uuid[], $5::text[], $6::timestamptz[])
             ON CONFLICT (key) DO NOTHING",
        )
        .bind(&self.ids)
        .bind(&self.keys)
        .bind(&self.kinds)
        .bind(&self.apps)
        .bind(&self.subjects)
        .bind(&self.due)
        .execute(&mut *tx)
        .await
        .map(drop)
        .map_err(err)
    }
}

/// Applies every change, each guarded by its starting status: `Moved` if any application
/// was not where its change starts (the caller rolls the transaction back).
pub(crate) async fn apply_all_in(
    tx: &mut sqlx::PgConnection,
    changes: &[StateChange],
) -> StoreResult<Applied> {
    let mut distinct: Vec<Uuid> = changes.iter().map(|c| c.application_id).collect();
    distinct.sort();
    distinct.dedup();
    // One platform event per change at most: its number is counted with the status.
    let one_event_each = changes.iter().all(|c| {
        c.transition
            .effects
            .iter()
            .filter(|e| matches!(e, Effect::Publish { .. }))
            .count()
            <= 1
    });
    if changes.len() < BULK_FROM || distinct.len() != changes.len() || !one_event_each {
        for change in changes {
            if realname_store_sql::changes::apply_in(&mut crate::db::PgDb(&mut *tx), change).await?
                == Applied::Moved
            {
                return Ok(Applied::Moved);
            }
        }
        return Ok(Applied::Done);
    }
    let apps: Vec<Uuid> = changes.iter().map(|c| c.application_id).collect();
    let from: Vec<&str> = changes.iter().map(|c| c.from.as_str()).collect();
    let to: Vec<&str> = changes
        .iter()
        .map(|c| c.transition.status.as_str())
        .collect();
    let failures: Vec<Option<String>> = changes
        .iter()
        .map(|c| c.transition.failure.as_ref().map(Failure::encode))
        .collect();
    let ats: Vec<DateTime<Utc>> = changes.iter().map(|c| c.at).collect();
    // The platform event of each change is numbered in its application's sequence: counted
    // in the same statement that moves the status.
    let publishes: Vec<i32> = changes
        .iter()
        .map(|c| {
            let n = c
                .transition
                .effects
                .iter()
                .filter(|e| matches!(e, Effect::Publish { .. }))
                .count();
            i32::try_from(n).unwrap_or(i32::MAX)
        })
        .collect();
    let moved: Vec<(Uuid, i32, Uuid)> = sqlx::query_as(
        "UPDATE applications a SET status = u.status, failure = u.failure, updated_at = u.at,
             event_sequence = a.event_sequence + u.publishes
         FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::int[])
             AS u(id, from_status, status, failure, at, publishes)
         WHERE a.id = u.id AND a.status = u.from_status
         RETURNING a.id, a.event_sequence, a.account_id",
    )
    .bind(&apps)
    .bind(&from)
    .bind(&to)
    .bind(&failures)
    .bind(&ats)
    .bind(&publishes)
    .fetch_all(&mut *tx)
    .await
    .map_err(err)?;
    if moved.len() != changes.len() {
        return Ok(Applied::Moved);
    }
    let counted: std::collections::HashMap<Uuid, (i32, Uuid)> = moved
        .into_iter()
        .map(|(id, sequence, account)| (id, (sequence, account)))
        .collect();
    sqlx::query(
        "INSERT INTO events (application_id, status, at)
         SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::timestamptz[])",
    )
    .bind(&apps)
    .bind(&to)
    .bind(&ats)
    .execute(&mut *tx)
    .await
    .map_err(err)?;

    let w = Writes::of(changes);
    let mut jobs = Jobs::default();
    for job in &w.jobs {
        jobs.push(job);
    }
    let mut published = Published::default();
    for p in &w.published {
        let (sequence, account) = counted.get(&p.app).copied().unwrap_or_default();
        published
            .ids
            .push(realname_core::store::event_id(Uuid::new_v4()));
        published.apps.push(p.app);
        published.sequences.push(sequence);
        published.accounts.push(account);
        published.types.push(p.event.as_str());
        published.statuses.push(p.status.as_str());
        published.failures.push(p.failure.map(Failure::encode));
        published.livemode.push(p.livemode);
        published.at.push(p.at);
    }
    let column = |rows: &[(Uuid, DateTime<Utc>, DateTime<Utc>)]| {
        let apps: Vec<Uuid> = rows.iter().map(|r| r.0).collect();
        let first: Vec<DateTime<Utc>> = rows.iter().map(|r| r.1).collect();
        let second: Vec<DateTime<Utc>> = rows.iter().map(|r| r.2).collect();
        (apps, first, second)
    };
    let (settle_apps, settled_at, expires_at) = column(&w.settled);
    let attempt_apps: Vec<Uuid> = w.attempts.iter().map(|a| a.0).collect();
    let attempts: Vec<i32> = w
        .attempts
        .iter()
        .map(|a| i32::try_from(a.1).unwrap_or(i32::MAX))
        .collect();
    let (case_apps, case_at, case_due) = column(&w.opened);
    let case_ids: Vec<Uuid> = case_apps.iter().map(|_| Uuid::new_v4()).collect();
    let close_apps: Vec<Uuid> = w.closed.iter().map(|c| c.0).collect();
    let close_at: Vec<DateTime<Utc>> = w.closed.iter().map(|c| c.1).collect();
    let close_outcomes: Vec<&str> = w.closed.iter().map(|c| c.2).collect();
    let block_apps: Vec<Uuid> = w.blocked.iter().map(|b| b.0).collect();
    let block_reasons: Vec<&str> = w.blocked.iter().map(|b| b.1).collect();
    let block_at: Vec<DateTime<Utc>> = w.blocked.iter().map(|b| b.2).collect();
    if !settle_apps.is_empty() {
        sqlx::query(
            "UPDATE deposits d SET settled_at = u.settled_at, expires_at = u.expires_at
             FROM UNNEST($1::uuid[], $2::timestamptz[], $3::timestamptz[]) AS u(app, settled_at, expires_at)
             WHERE d.application_id = u.app",
        )
        .bind(&settle_apps)
        .bind(&settled_at)
        .bind(&expires_at)
        .execute(&mut *tx)
        .await
        .map_err(err)?;
    }
    if !attempt_apps.is_empty() {
        sqlx::query(
            "UPDATE deposits d SET attempts_used = u.attempts
             FROM UNNEST($1::uuid[], $2::int[]) AS u(app, attempts) WHERE d.application_id = u.app",
        )
        .bind(&attempt_apps)
        .bind(&attempts)
        .execute(&mut *tx)
        .await
        .map_err(err)?;
    }
    if !case_apps.is_empty() {
        sqlx::query(
            "INSERT INTO review_cases (id, application_id, account_id, submitted_at, due_at)
             SELECT u.id, a.id, a.account_id, u.submitted_at, u.due_at
             FROM UNNEST($1::uuid[], $2::uuid[], $3::timestamptz[], $4::timestamptz[])
                 AS u(id, app, submitted_at, due_at)
             JOIN applications a ON a.id = u.app
             ON CONFLICT (application_id) WHERE kind = 'application' DO NOTHING",
        )
        .bind(&case_ids)
        .bind(&case_apps)
        .bind(&case_at)
        .bind(&case_due)
        .execute(&mut *tx)
        .await
        .map_err(err)?;
    }
    if !close_apps.is_empty() {
        sqlx::query(
            "UPDATE review_cases r SET decided_at = u.at, outcome = u.outcome
             FROM UNNEST($1::uuid[], $2::timestamptz[], $3::text[]) AS u(app, at, outcome)
             WHERE r.application_id = u.app AND r.kind = 'application' AND r.decided_at IS NULL",
        )
        .bind(&close_apps)
        .bind(&close_at)
        .bind(&close_outcomes)
        .execute(&mut *tx)
        .await
        .map_err(err)?;
    }
    if !block_apps.is_empty() {
        sqlx::query(
            "INSERT INTO returned_cards (card_hash, reason, at)
             SELECT d.card_hash, u.reason, u.at
             FROM UNNEST($1::uuid[], $2::text[], $3::timestamptz[]) AS u(app, reason, at)
             JOIN deposits d ON d.application_id = u.app
             ON CONFLICT DO NOTHING",
        )
        .bind(&block_apps)
        .bind(&block_reasons)
        .bind(&block_at)
        .execute(&mut *tx)
        .await
        .map_err(err)?;
    }
    published.write(tx, &mut jobs).await?;
    jobs.insert(tx).await?;
    Ok(Applied::Done)
}

/// The platform events of the changes, one per application (`publish`, for many).
#[derive(Default)]
struct Published {
    ids: Vec<String>,
    apps: Vec<Uuid>,
    types: Vec<&'static str>,
    statuses: Vec<&'static str>,
    failures: Vec<Option<String>>,
    livemode: Vec<bool>,
    at: Vec<DateTime<Utc>>,
    sequences: Vec<i32>,
    accounts: Vec<Uuid>,
}

impl Published {
    async fn write(&self, tx: &mut sqlx::PgConnection, jobs: &mut Jobs) -> StoreResult<()> {
        if self.ids.is_empty() {
            return Ok(());
        }
        sqlx::query(
            "INSERT INTO platform_events
                 (id, application_id, external_user_id, type, sequence, status, failure, livemode, created_at)
             SELECT u.id, u.app, pu.external_user_id, u.type, u.sequence, u.status, u.failure,
                    u.livemode, u.created_at
             FROM UNNEST($1::text[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::bool[],
                         $7::timestamptz[], $8::int[], $9::uuid[])
                 AS u(id, app, type, status, failure, livemode, created_at, sequence, account)
             LEFT JOIN platform_users pu ON pu.account_id = u.account",
        )
        .bind(&self.ids)
        .bind(&self.apps)
        .bind(&self.types)
        .bind(&self.statuses)
        .bind(&self.failures)
        .bind(&self.livemode)
        .bind(&self.at)
        .bind(&self.sequences)
        .bind(&self.accounts)
        .execute(&mut *tx)
        .await
        .map_err(err)?;
        // The outbox, as for one event: a dispatch job only where an endpoint of the event's
        // mode listens.
        let (live, test): (bool, bool) = sqlx::query_as(
            "SELECT EXISTS (SELECT 1 FROM webhook_endpoints WHERE enabled AND livemode),
                    EXISTS (SELECT 1 FROM webhook_endpoints WHERE enabled AND NOT livemode)",
        )
        .fetch_one(&mut *tx)
        .await
        .map_err(err)?;
        for (i, id) in self.ids.iter().enumerate() {
            if (self.livemode[i] && live) || (!self.livemode[i] && test) {
                jobs.push(&NewJob::dispatch_event(id, self.apps[i], self.at[i]));
            }
        }
        Ok(())
    }
}
