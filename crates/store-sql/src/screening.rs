//! The screening lists: each source's version in force, every version imported, and the
//! entries in force (CONTRACT 12).

use chrono::{DateTime, Utc};
use realname_core::platform::EventType;
use realname_core::state::Status;
use realname_core::store::{
    Applied, CaseWrite, Imported, ListImport, ListVersionRecord, NewJob, NewScreening,
    RESCREEN_SHARDS, RescreenBatch, RescreenCandidate, ScreeningDecision, ScreeningRun,
    ScreeningStatus, ScreeningStep, ScreeningSubject, StoreError, StoreResult, StoredEntry,
};
use uuid::Uuid;

use crate::args;
use crate::changes::{apply_in, insert_audit, publish};
use crate::db::{Db, Dialect, Param};

pub async fn list_versions(db: &mut dyn Db) -> StoreResult<Vec<ListVersionRecord>> {
    db.all(
        "SELECT source, version, entries, imported_at FROM screening_lists ORDER BY source",
        args![],
        |mut r| {
            Ok(ListVersionRecord {
                source: r.get(0)?,
                version: r.get(1)?,
                entries: r.get(2)?,
                imported_at: r.get(3)?,
            })
        },
    )
    .await
}

pub async fn import_list(db: &mut dyn Db, import: &ListImport) -> StoreResult<Imported> {
    let v = &import.version;
    // Two imports of one source at once take turns.
    db.lock(2, &v.source).await?;
    let current: Option<String> = db
        .value(
            "SELECT version FROM screening_lists WHERE source = $1 FOR UPDATE",
            args![&v.source],
        )
        .await?;
    if current.as_deref() == Some(v.version.as_str()) {
        return Ok(Imported::Unchanged);
    }
    db.run(
        "DELETE FROM screening_entries WHERE source = $1",
        args![&v.source],
    )
    .await?;
    // Written in slices, so no statement carries more than a few megabytes.
    for chunk in import.entries.chunks(2000) {
        let ids: Vec<&str> = chunk.iter().map(|e| e.entry_id.as_str()).collect();
        let data: Vec<&str> = chunk.iter().map(|e| e.data.as_str()).collect();
        db.run(
            db.dialect().pick(
                "INSERT INTO screening_entries (source, entry_id, data)
                 SELECT $1, i.value, d.value FROM json_each($2) i JOIN json_each($3) d ON d.key = i.key",
                "INSERT INTO screening_entries (source, entry_id, data)
                 SELECT $1, i, d FROM UNNEST($2::text[], $3::text[]) AS u(i, d)",
            ),
            args![&v.source, ids.as_slice(), data.as_slice()],
        )
        .await?;
    }
    db.run(
        "INSERT INTO screening_lists (source, version, entries, imported_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (source) DO UPDATE SET version = $2, entries = $3, imported_at = $4",
        args![&v.source, &v.version, v.entries, v.imported_at],
    )
    .await?;
    db.run(
        "INSERT INTO screening_versions (source, version, entries, imported_at)
         VALUES ($1, $2, $3, $4) ON CONFLICT (source, version) DO NOTHING",
        args![&v.source, &v.version, v.entries, v.imported_at],
    )
    .await?;
    // Every customer is screened again against the new version: a job per slice, queued
    // with the version so that no import leaves its re-screening unasked.
    let version = format!("{}:{}", v.source, v.version.get(..16).unwrap_or(&v.version));
    for shard in 0..RESCREEN_SHARDS {
        crate::changes::queue_job(db, &NewJob::rescreen(&version, shard, None, v.imported_at))
            .await?;
    }
    Ok(Imported::New { replaced: current })
}

pub async fn listed_entries(db: &mut dyn Db) -> StoreResult<Vec<(String, StoredEntry)>> {
    db.all(
        "SELECT source, entry_id, data FROM screening_entries ORDER BY source, entry_id",
        args![],
        |mut r| {
            Ok((
                r.get(0)?,
                StoredEntry {
                    entry_id: r.get(1)?,
                    data: r.get(2)?,
                },
            ))
        },
    )
    .await
}

/// Rows a multi-row statement of a re-screening writes at once: far under either engine's
/// limit on parameters (SQLite's 32,766), few enough that one statement stays small.
const ROWS_A_STATEMENT: usize = 250;

/// Keeps each run, brings each subject's state to it, and, for a run that holds its subject,
/// opens the screening case and publishes `screening.potential_match`. The runs and subjects
/// go as multi-row statements, so a re-screening's batch costs the store a few statements,
/// not two per customer.
pub(crate) async fn record(db: &mut dyn Db, all: &[NewScreening]) -> StoreResult<()> {
    for chunk in all.chunks(ROWS_A_STATEMENT) {
        let runs = many_rows(
            "INSERT INTO screening_runs (id, application_id, at, trigger, list_versions, status, hits) VALUES ",
            7,
            chunk.len(),
            "",
            0,
        );
        let run_args = chunk.iter().flat_map(|s| {
            let run = &s.run;
            [
                Param::from(run.id),
                Param::from(run.application_id),
                Param::from(run.at),
                Param::from(run.trigger.as_str()),
                Param::from(run.list_versions.as_str()),
                Param::from(run.status.as_str()),
                Param::from(run.hits.as_str()),
            ]
        });
        let subject_args = chunk.iter().flat_map(|s| {
            let run = &s.run;
            [
                Param::from(run.application_id),
                Param::from(run.status.as_str()),
                Param::from(run.at),
                Param::from(run.list_versions.as_str()),
                Param::from(s.held),
                Param::from(s.flagged),
            ]
        });
        let subjects = |first: usize| {
            many_rows(
                "INSERT INTO screening_subjects (application_id, status, screened_at, list_versions, held, flagged) VALUES ",
                6,
                chunk.len(),
                " ON CONFLICT (application_id) DO UPDATE SET status = excluded.status,
                  screened_at = excluded.screened_at, list_versions = excluded.list_versions,
                  held = excluded.held, flagged = excluded.flagged",
                first,
            )
        };
        if db.dialect() == Dialect::Postgres {
            // One round trip, not two: a submit's transaction holds its locks while it waits.
            let sql = format!("WITH runs AS ({runs}) {}", subjects(7 * chunk.len()));
            db.run(&sql, &run_args.chain(subject_args).collect::<Vec<_>>())
                .await?;
        } else {
            db.run(&runs, &run_args.collect::<Vec<_>>()).await?;
            db.run(&subjects(0), &subject_args.collect::<Vec<_>>())
                .await?;
        }
    }
    for s in all {
        let run = &s.run;
        if let Some((case, due_at)) = s.case {
            db.run(
                "INSERT INTO review_cases (id, application_id, account_id, submitted_at, due_at, kind, run_id)
                 SELECT $1, id, account_id, $2, $3, 'screening', $4 FROM applications WHERE id = $5",
                args![case, run.at, due_at, run.id, run.application_id],
            )
            .await?;
            publish_screening(
                db,
                run.application_id,
                EventType::ScreeningPotentialMatch,
                &run.list_versions,
                s.livemode,
                run.at,
            )
            .await?;
        }
    }
    Ok(())
}

/// `head` followed by `rows` tuples of `width` parameters numbered from `first + 1`, then
/// `tail`.
fn many_rows(head: &str, width: usize, rows: usize, tail: &str, first: usize) -> String {
    use std::fmt::Write as _;
    let mut sql = String::with_capacity(head.len() + tail.len() + rows * width * 6);
    sql.push_str(head);
    for row in 0..rows {
        sql.push_str(if row == 0 { "(" } else { ", (" });
        for column in 0..width {
            let _ = write!(
                sql,
                "{}${}",
                if column == 0 { "" } else { ", " },
                first + row * width + column + 1
            );
        }
        sql.push(')');
    }
    sql.push_str(tail);
    sql
}

/// A screening event: thin, with the application's status and the list versions.
async fn publish_screening(
    db: &mut dyn Db,
    app: Uuid,
    event: EventType,
    list_versions: &str,
    livemode: bool,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    let status: Option<Status> = db
        .value("SELECT status FROM applications WHERE id = $1", args![app])
        .await?;
    let status = status.ok_or_else(|| StoreError::Failed("no such application".into()))?;
    publish(
        db,
        app,
        event,
        status,
        None,
        livemode,
        at,
        Some(list_versions),
    )
    .await
}

pub async fn dismissals(
    db: &mut dyn Db,
    identity_hash: &[u8],
) -> StoreResult<Vec<(String, String, String)>> {
    db.all(
        "SELECT source, entry_id, entry_version FROM screening_dismissals WHERE identity_hash = $1",
        args![identity_hash],
        |mut r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )
    .await
}

pub async fn screening_of(
    db: &mut dyn Db,
    applications: &[Uuid],
) -> StoreResult<Vec<ScreeningSubject>> {
    db.all(
        "SELECT application_id, status, screened_at, list_versions, held, flagged
         FROM screening_subjects WHERE application_id = ANY($1)",
        args![applications],
        |mut r| {
            let status: String = r.get(1)?;
            Ok(ScreeningSubject {
                application_id: r.get(0)?,
                status: ScreeningStatus::parse(&status).ok_or_else(|| {
                    StoreError::Failed(format!("{status:?} is no screening status"))
                })?,
                screened_at: r.get(2)?,
                list_versions: r.get(3)?,
                held: r.get(4)?,
                flagged: r.get(5)?,
            })
        },
    )
    .await
}

pub async fn screening_runs(db: &mut dyn Db, application: Uuid) -> StoreResult<Vec<ScreeningRun>> {
    db.all(
        "SELECT id, application_id, at, trigger, list_versions, status, hits FROM screening_runs
         WHERE application_id = $1 ORDER BY at, id",
        args![application],
        |mut r| {
            let status: String = r.get(5)?;
            Ok(ScreeningRun {
                id: r.get(0)?,
                application_id: r.get(1)?,
                at: r.get(2)?,
                trigger: r.get(3)?,
                list_versions: r.get(4)?,
                status: ScreeningStatus::parse(&status).ok_or_else(|| {
                    StoreError::Failed(format!("{status:?} is no screening status"))
                })?,
                hits: r.get(6)?,
            })
        },
    )
    .await
}

/// A screening case's decision in one transaction, while the case is as the decision read
/// it: held by the reviewer, undecided, with the first decision it had.
pub async fn decide_screening(db: &mut dyn Db, d: &ScreeningDecision) -> StoreResult<CaseWrite> {
    let found = crate::review::case_for_update(db, d.case.id).await?;
    let Some(found) = found else {
        return Ok(CaseWrite::NotFound);
    };
    if found.decided_at.is_some() && found.reopened_at.is_none() {
        return Ok(CaseWrite::Decided);
    }
    if found != d.case || !found.held_by(d.reviewer, d.at) {
        return Ok(CaseWrite::HeldByAnother);
    }
    let app = found.application_id;
    match &d.step {
        ScreeningStep::First {
            outcome,
            report_reference,
        } => {
            db.run(
                "UPDATE review_cases SET first_by = $1, first_at = $2, first_outcome = $3,
                     report_reference = COALESCE($5, report_reference),
                     claimed_by = NULL, claimed_until = NULL WHERE id = $4",
                args![
                    d.reviewer,
                    d.at,
                    outcome,
                    found.id,
                    report_reference.as_deref()
                ],
            )
            .await?;
        }
        ScreeningStep::Dismiss {
            identity_hash,
            entries,
            change,
            list_versions,
            livemode,
        } => {
            crate::review::close_case(db, found.id, "dismiss", d.at).await?;
            for (source, entry_id, entry_version) in entries {
                db.run(
                    "INSERT INTO screening_dismissals
                         (identity_hash, source, entry_id, entry_version, case_id, at)
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
                    args![
                        identity_hash,
                        source,
                        entry_id,
                        entry_version,
                        found.id,
                        d.at
                    ],
                )
                .await?;
            }
            settle(db, app, ScreeningStatus::Dismissed).await?;
            if let Some(change) = change {
                moved(apply_in(db, change).await?)?;
            }
            publish_screening(
                db,
                app,
                EventType::ScreeningDismissed,
                list_versions,
                *livemode,
                d.at,
            )
            .await?;
        }
        ScreeningStep::Lift { change } => {
            crate::review::close_case(db, found.id, "lift", d.at).await?;
            db.run(
                "UPDATE screening_subjects SET status = 'clear', held = FALSE
                 WHERE application_id = $1",
                args![app],
            )
            .await?;
            if let Some(change) = change {
                moved(apply_in(db, change).await?)?;
            }
        }
        ScreeningStep::Confirm {
            report_reference,
            change,
            list_versions,
            livemode,
        } => {
            crate::review::close_case(db, found.id, "confirm", d.at).await?;
            db.run(
                "UPDATE review_cases SET report_reference = COALESCE($1, report_reference)
                 WHERE id = $2",
                args![report_reference.as_deref(), found.id],
            )
            .await?;
            settle(db, app, ScreeningStatus::Confirmed).await?;
            // The confirmation's event first: the application's failure follows from it.
            publish_screening(
                db,
                app,
                EventType::ScreeningConfirmed,
                list_versions,
                *livemode,
                d.at,
            )
            .await?;
            if let Some(change) = change {
                moved(apply_in(db, change).await?)?;
            }
        }
    }
    insert_audit(db, &d.audit).await?;
    Ok(CaseWrite::Done)
}

async fn settle(db: &mut dyn Db, app: Uuid, status: ScreeningStatus) -> StoreResult<()> {
    // A confirmed match stays held: nothing is paid to the listed person, ever.
    db.run(
        "UPDATE screening_subjects SET status = $1, held = $2 WHERE application_id = $3",
        args![status.as_str(), status == ScreeningStatus::Confirmed, app],
    )
    .await
}

/// The application moved under a decision that locked its case: the transaction is undone.
fn moved(applied: Applied) -> StoreResult<()> {
    match applied {
        Applied::Done => Ok(()),
        Applied::Moved => Err(StoreError::Conflict(
            "the application moved under the screening decision".into(),
        )),
    }
}

/// The bounds of slice `shard`: application ids whose first hex digit is `shard`.
fn shard_bounds(shard: u8) -> (Uuid, Option<Uuid>) {
    let bound = |digit: u8| Uuid::from_u128(u128::from(digit) << 124);
    let upper = (shard + 1 < RESCREEN_SHARDS).then(|| bound(shard + 1));
    (bound(shard.min(RESCREEN_SHARDS - 1)), upper)
}

pub async fn rescreen_candidates(
    db: &mut dyn Db,
    shard: u8,
    after: Option<Uuid>,
    limit: u32,
) -> StoreResult<Vec<RescreenCandidate>> {
    let (lower, upper) = shard_bounds(shard);
    // Both bounds as plain values, so that the primary key's index starts the scan at the
    // cursor: a bound written as `$n IS NULL OR id > $n` is a filter in a generic plan, and
    // each batch would read its shard again from the start.
    let from = match after {
        Some(after) if after == Uuid::max() => return Ok(Vec::new()),
        Some(after) => Uuid::from_u128(after.as_u128() + 1).max(lower),
        None => lower,
    };
    let to = upper.map_or(Uuid::max(), |u| Uuid::from_u128(u.as_u128() - 1));
    let statuses = crate::changes::statuses(|s| {
        matches!(
            s,
            Status::Verified
                | Status::Suspended
                | Status::DepositPending
                | Status::AwaitingAmount
                | Status::UnderReview
        )
    });
    let mut found = db
        .all(
            "SELECT a.id, a.account_id, a.status, a.form FROM applications a
             LEFT JOIN platform_users pu ON pu.account_id = a.account_id
             WHERE a.id >= $1 AND a.id <= $2
               AND a.redacted_at IS NULL AND pu.closed_at IS NULL
               AND (a.status = ANY($3) OR (a.status = 'failed' AND a.failure LIKE 'not_eligible;%'))
             ORDER BY a.id LIMIT $4",
            args![from, to, statuses.as_slice(), limit],
            |mut r| {
                Ok(RescreenCandidate {
                    application_id: r.get(0)?,
                    account_id: r.get(1)?,
                    status: r.get(2)?,
                    form: r.get(3)?,
                    screening: None,
                    open_case: None,
                    confirmed: None,
                })
            },
        )
        .await?;
    if found.is_empty() {
        return Ok(found);
    }
    let ids: Vec<Uuid> = found.iter().map(|c| c.application_id).collect();
    let subjects = screening_of(db, &ids).await?;
    let cases: Vec<(Uuid, Uuid, bool, bool, Option<String>)> = db
        .all(
            "SELECT c.application_id, c.id, c.decided_at IS NULL OR c.reopened_at IS NOT NULL,
                    c.outcome = 'confirm' AND c.reopened_at IS NULL, r.hits
             FROM review_cases c LEFT JOIN screening_runs r ON r.id = c.run_id
             WHERE c.kind = 'screening' AND c.application_id = ANY($1)
             ORDER BY c.submitted_at, c.id",
            args![ids.as_slice()],
            |mut r| {
                let confirmed: Option<bool> = r.get(3)?;
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    confirmed.unwrap_or(false),
                    r.get(4)?,
                ))
            },
        )
        .await?;
    for candidate in &mut found {
        let id = candidate.application_id;
        candidate.screening = subjects.iter().find(|s| s.application_id == id).cloned();
        for (app, case, open, confirmed, hits) in &cases {
            if *app != id {
                continue;
            }
            if *open {
                candidate.open_case = Some(*case);
            }
            if *confirmed {
                candidate.confirmed = Some((*case, hits.clone().unwrap_or_default()));
            }
        }
    }
    Ok(found)
}

pub async fn rescreen_batch(db: &mut dyn Db, batch: &RescreenBatch) -> StoreResult<()> {
    record(db, &batch.screenings).await?;
    for (app, case) in &batch.delisted {
        db.run(
            "UPDATE review_cases SET reopened_at = $1, claimed_by = NULL, claimed_until = NULL
             WHERE id = $2 AND outcome = 'confirm' AND reopened_at IS NULL",
            args![batch.at, *case],
        )
        .await?;
        db.run(
            "UPDATE screening_subjects SET status = 'delisted' WHERE application_id = $1",
            args![*app],
        )
        .await?;
        publish_screening(
            db,
            *app,
            EventType::ScreeningDelisted,
            &batch.list_versions,
            batch.livemode,
            batch.at,
        )
        .await?;
    }
    if let Some(next) = &batch.next {
        crate::changes::queue_job(db, next).await?;
    }
    crate::jobs::finish_job(db, &batch.job, batch.at).await
}
