//! The job queue the workers lease from, and the deposits' look-ups by payment id.

use std::collections::HashMap;

use chrono::{DateTime, TimeDelta, Utc};
use realname_core::state::Status;
use realname_core::store::{Job, NewJob, StoreResult};
use uuid::Uuid;

use crate::args;
use crate::changes::queue_job as queue_in;
use crate::db::{Db, Row};

pub async fn queue_job(db: &mut dyn Db, job: &NewJob) -> StoreResult<bool> {
    queue_in(db, job).await
}

/// Two nodes leasing at once take different jobs: PostgreSQL skips the rows another lease
/// holds, and SQLite's one writer runs one lease at a time.
const LEASE: &str = "UPDATE jobs SET leased_until = $2, attempts = attempts + 1
     WHERE id IN (SELECT id FROM jobs
                  WHERE done_at IS NULL AND due_at <= $1
                    AND (leased_until IS NULL OR leased_until < $1)
                  ORDER BY due_at LIMIT $3 FOR UPDATE SKIP LOCKED)
     RETURNING id, key, application_id, kind, due_at, attempts, subject";

fn job(mut r: Row) -> StoreResult<Job> {
    Ok(Job {
        id: r.get(0)?,
        key: r.get(1)?,
        application_id: r.get(2)?,
        kind: r.get(3)?,
        due_at: r.get(4)?,
        attempts: r.get(5)?,
        subject: r.get(6)?,
    })
}

/// Leases up to `limit` due jobs (see [`LEASE`]).
pub async fn claim_jobs(
    db: &mut dyn Db,
    now: DateTime<Utc>,
    lease_seconds: i64,
    limit: u32,
) -> StoreResult<Vec<Job>> {
    let until = now + TimeDelta::seconds(lease_seconds);
    let mut jobs = db.all(LEASE, args![now, until, limit], job).await?;
    jobs.sort_by_key(|j| j.due_at);
    Ok(jobs)
}

pub async fn finish_job(db: &mut dyn Db, job: &Job, at: DateTime<Utc>) -> StoreResult<()> {
    let id = job.id;
    db.run("UPDATE jobs SET done_at = $1 WHERE id = $2", args![at, id])
        .await
}

pub async fn retry_job(db: &mut dyn Db, job: &Job, due_at: DateTime<Utc>) -> StoreResult<()> {
    let id = job.id;
    db.run(
        "UPDATE jobs SET due_at = $1, leased_until = NULL WHERE id = $2 AND done_at IS NULL",
        args![due_at, id],
    )
    .await
}

pub async fn mark_deposit_paid(db: &mut dyn Db, app: Uuid, at: DateTime<Utc>) -> StoreResult<()> {
    db.run(
        "UPDATE deposits SET paid_at = COALESCE(paid_at, $1) WHERE application_id = $2",
        args![at, app],
    )
    .await
}

pub async fn deposit_application(
    db: &mut dyn Db,
    e2e: &str,
) -> StoreResult<Option<(Uuid, Status)>> {
    db.one(
        "SELECT a.id, a.status FROM deposits d JOIN applications a ON a.id = d.application_id
             WHERE d.end_to_end_id = $1",
        args![e2e],
        |mut r| Ok((r.get(0)?, r.get(1)?)),
    )
    .await
}

pub async fn deposit_applications(
    db: &mut dyn Db,
    ids: &[String],
) -> StoreResult<HashMap<String, (Uuid, Status)>> {
    let names: Vec<&str> = ids.iter().map(String::as_str).collect();
    let sql = "SELECT d.end_to_end_id, a.id, a.status FROM deposits d
                 JOIN applications a ON a.id = d.application_id WHERE d.end_to_end_id = ANY($1)";
    let found = db
        .all(sql, args![names.as_slice()], |mut r| {
            Ok((r.get(0)?, (r.get(1)?, r.get(2)?)))
        })
        .await?;
    Ok(found.into_iter().collect())
}
