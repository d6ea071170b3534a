//! Review cases: the queue, claims and decisions, the facts a reviewer reads beside a case,
//! and the audit trail.

use chrono::{DateTime, Utc};
use realname_core::store::{
    Applied, AuditEntry, CaseFacts, CaseFilter, CaseKind, CaseRecord, CaseWrite, FirstDecision,
    StateChange, StoreError, StoreResult,
};
use uuid::Uuid;

use crate::args;
use crate::changes::{apply_in, chained, insert_audit};
use crate::db::{Db, Dialect, Row};

macro_rules! case_select {
    ($rest:literal) => {
        concat!(
            "SELECT id, application_id, account_id, submitted_at, due_at, claimed_by, claimed_until,
                    decided_at, outcome, kind, first_by, first_at, first_outcome, run_id, reopened_at,
                    report_reference
             FROM review_cases ",
            $rest
        )
    };
}

fn case_row(mut r: Row) -> StoreResult<CaseRecord> {
    let kind: String = r.get(9)?;
    let first_by: Option<Uuid> = r.get(10)?;
    let first_at: Option<DateTime<Utc>> = r.get(11)?;
    let first_outcome: Option<String> = r.get(12)?;
    Ok(CaseRecord {
        id: r.get(0)?,
        application_id: r.get(1)?,
        account_id: r.get(2)?,
        submitted_at: r.get(3)?,
        due_at: r.get(4)?,
        claimed_by: r.get(5)?,
        claimed_until: r.get(6)?,
        decided_at: r.get(7)?,
        outcome: r.get(8)?,
        kind: CaseKind::parse(&kind)
            .ok_or_else(|| StoreError::Failed(format!("{kind:?} is no case kind")))?,
        first: match (first_by, first_at, first_outcome) {
            (Some(by), Some(at), Some(outcome)) => Some(FirstDecision { by, at, outcome }),
            _ => None,
        },
        run_id: r.get(13)?,
        reopened_at: r.get(14)?,
        report_reference: r.get(15)?,
    })
}

/// A case read to be written in the same transaction.
pub(crate) async fn case_for_update(
    db: &mut dyn Db,
    case: Uuid,
) -> StoreResult<Option<CaseRecord>> {
    db.one(
        case_select!("WHERE id = $1 FOR UPDATE"),
        args![case],
        case_row,
    )
    .await
}

pub async fn review_cases(
    db: &mut dyn Db,
    filter: CaseFilter,
    kind: Option<CaseKind>,
    now: DateTime<Utc>,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: u32,
) -> StoreResult<Vec<CaseRecord>> {
    let sql = match filter {
        CaseFilter::Open => case_select!(
            "WHERE decided_at IS NULL AND first_by IS NULL
               AND (claimed_until IS NULL OR claimed_until < $1)
               AND ($2 IS NULL OR (due_at, id) > ($2, $3)) AND ($5 IS NULL OR kind = $5)
             ORDER BY due_at, id LIMIT $4"
        ),
        CaseFilter::Claimed => case_select!(
            "WHERE (decided_at IS NULL OR reopened_at IS NOT NULL) AND claimed_until >= $1
               AND ($2 IS NULL OR (due_at, id) > ($2, $3)) AND ($5 IS NULL OR kind = $5)
             ORDER BY due_at, id LIMIT $4"
        ),
        CaseFilter::AwaitingSecondApproval => case_select!(
            "WHERE decided_at IS NULL AND first_by IS NOT NULL
               AND (claimed_until IS NULL OR claimed_until < $1)
               AND ($2 IS NULL OR (due_at, id) > ($2, $3)) AND ($5 IS NULL OR kind = $5)
             ORDER BY due_at, id LIMIT $4"
        ),
        CaseFilter::Delisted => case_select!(
            "WHERE reopened_at IS NOT NULL AND (claimed_until IS NULL OR claimed_until < $1)
               AND ($2 IS NULL OR (due_at, id) > ($2, $3)) AND ($5 IS NULL OR kind = $5)
             ORDER BY due_at, id LIMIT $4"
        ),
        CaseFilter::Decided => case_select!(
            "WHERE decided_at IS NOT NULL AND reopened_at IS NULL AND $1 IS NOT NULL
               AND ($2 IS NULL OR (due_at, id) > ($2, $3)) AND ($5 IS NULL OR kind = $5)
             ORDER BY due_at, id LIMIT $4"
        ),
    };
    let (after_due, after_id) = (after.map(|a| a.0), after.map(|a| a.1));
    db.all(
        sql,
        args![now, after_due, after_id, limit, kind.map(CaseKind::as_str)],
        case_row,
    )
    .await
}

pub async fn review_case(db: &mut dyn Db, case: Uuid) -> StoreResult<Option<CaseRecord>> {
    db.one(case_select!("WHERE id = $1"), args![case], case_row)
        .await
}

pub async fn review_case_of(db: &mut dyn Db, application: Uuid) -> StoreResult<Option<CaseRecord>> {
    db.one(
        case_select!("WHERE application_id = $1 AND kind = 'application'"),
        args![application],
        case_row,
    )
    .await
}

pub async fn case_facts(db: &mut dyn Db, ids: &[Uuid]) -> StoreResult<Vec<CaseFacts>> {
    if db.dialect() == Dialect::Sqlite {
        // SQLite plans the correlated look-up by its index whatever it knows of the tables, and
        // one statement in the process is cheaper there than three.
        return db
            .all(
                "SELECT a.id, CASE WHEN a.redacted_at IS NULL THEN a.form END, (
                     SELECT other.application_id FROM application_documents mine
                     JOIN application_documents other ON other.document_hash = mine.document_hash
                     JOIN applications o ON o.id = other.application_id
                     WHERE mine.application_id = a.id AND other.account_id <> a.account_id
                     ORDER BY o.created_at, o.id LIMIT 1)
                 FROM applications a WHERE a.id = ANY($1)",
                args![ids],
                |mut r| {
                    Ok(CaseFacts {
                        application_id: r.get(0)?,
                        form: r.get(1)?,
                        duplicate_of: r.get(2)?,
                    })
                },
            )
            .await;
    }
    let mut facts = db
        .all(
            "SELECT id, CASE WHEN redacted_at IS NULL THEN form END FROM applications
             WHERE id = ANY($1)",
            args![ids],
            |mut r| {
                Ok(CaseFacts {
                    application_id: r.get(0)?,
                    form: r.get(1)?,
                    duplicate_of: None,
                })
            },
        )
        .await?;
    // On PostgreSQL, the cases' documents, then every application that holds one of them: two
    // look-ups by index whatever the planner knows of the tables. The correlated sub-query
    // was planned, on a database without statistics, as a scan of every document per case.
    let mine: Vec<(Uuid, Uuid, Vec<u8>)> = db
        .all(
            "SELECT application_id, account_id, document_hash FROM application_documents
             WHERE application_id = ANY($1)",
            args![ids],
            |mut r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .await?;
    if mine.is_empty() {
        return Ok(facts);
    }
    let hashes: Vec<&[u8]> = mine.iter().map(|(.., hash)| hash.as_slice()).collect();
    let holders: Vec<(Vec<u8>, Uuid, Uuid, DateTime<Utc>)> = db
        .all(
            "SELECT d.document_hash, d.account_id, d.application_id, o.created_at
             FROM application_documents d JOIN applications o ON o.id = d.application_id
             WHERE d.document_hash = ANY($1)",
            args![hashes.as_slice()],
            |mut r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .await?;
    // Another account's application with one of the case's documents: the earliest made.
    for fact in &mut facts {
        fact.duplicate_of = mine
            .iter()
            .filter(|(app, ..)| *app == fact.application_id)
            .flat_map(|(_, account, hash)| {
                holders
                    .iter()
                    .filter(move |(held, holder, ..)| held == hash && holder != account)
            })
            .min_by_key(|(.., id, created_at)| (*created_at, *id))
            .map(|(.., id, _)| *id);
    }
    Ok(facts)
}

/// A claim written only if the case is still as read (compare and set): a claim or a decision
/// in between sends it round again, and the core judges the case anew.
pub async fn claim_case(
    db: &mut dyn Db,
    case: Uuid,
    reviewer: Uuid,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> StoreResult<CaseWrite> {
    for _ in 0..ROUNDS {
        let found = db
            .one(case_select!("WHERE id = $1"), args![case], case_row)
            .await?;
        let verdict = CaseWrite::claim(found.as_ref(), reviewer, now);
        let (CaseWrite::Done, Some(seen)) = (verdict, found) else {
            return Ok(verdict);
        };
        let claimed = db
            .changed(
                "UPDATE review_cases SET claimed_by = $1, claimed_until = $2
                 WHERE id = $3 AND (decided_at IS NULL OR reopened_at IS NOT NULL)
                   AND claimed_by IS NOT DISTINCT FROM $4 AND claimed_until IS NOT DISTINCT FROM $5",
                args![reviewer, until, case, seen.claimed_by, seen.claimed_until],
            )
            .await?;
        if claimed {
            return Ok(CaseWrite::Done);
        }
    }
    Err(busy())
}

/// A decision: the application's move (whose own effect closes the case with the decision's
/// outcome) and the audit entry, written only while the case is as read. On PostgreSQL that
/// is one statement; SQLite's one writer holds the case from the read to the write.
pub async fn decide_case(
    db: &mut dyn Db,
    case: Uuid,
    reviewer: Uuid,
    change: &StateChange,
    audit: &AuditEntry,
) -> StoreResult<CaseWrite> {
    for _ in 0..ROUNDS {
        let found = db
            .one(case_select!("WHERE id = $1"), args![case], case_row)
            .await?;
        let verdict = CaseWrite::decision(found.as_ref(), reviewer, change.at);
        let (CaseWrite::Done, Some(seen)) = (verdict, found) else {
            return Ok(verdict);
        };
        let applied = match db.dialect() {
            Dialect::Postgres => chained(db, change, Some((&seen, audit))).await?,
            Dialect::Sqlite => match apply_in(db, change).await? {
                Applied::Done => insert_audit(db, audit).await.map(|()| Applied::Done)?,
                Applied::Moved => Applied::Moved,
            },
        };
        if applied == Applied::Done {
            return Ok(CaseWrite::Done);
        }
        // The application moved, or the case did since it was read.
        let now = db
            .one(case_select!("WHERE id = $1"), args![case], case_row)
            .await?;
        if now.as_ref() == Some(&seen) {
            return Ok(CaseWrite::Decided);
        }
    }
    Err(busy())
}

/// Locks `case` for a decision `reviewer` makes at `at`: `Done` while it is open, held by them
/// and as they read it (`HeldByAnother` if it changed since).
pub(crate) async fn lock_as_read(
    db: &mut dyn Db,
    case: &CaseRecord,
    reviewer: Uuid,
    at: DateTime<Utc>,
) -> StoreResult<CaseWrite> {
    let found = case_for_update(db, case.id).await?;
    match CaseWrite::decision(found.as_ref(), reviewer, at) {
        CaseWrite::Done if found.as_ref() != Some(case) => Ok(CaseWrite::HeldByAnother),
        verdict => Ok(verdict),
    }
}

/// Closes a case with `outcome`, its claim let go.
pub(crate) async fn close_case(
    db: &mut dyn Db,
    case: Uuid,
    outcome: &str,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    db.run(
        "UPDATE review_cases SET decided_at = $1, outcome = $2, reopened_at = NULL,
             claimed_by = NULL, claimed_until = NULL WHERE id = $3",
        args![at, outcome, case],
    )
    .await
}

/// The first of an application case's two approvals (CONTRACT 2.7): kept on the case, whose
/// claim is let go so that another staff member may take it; the application stays under
/// review. `case` is the case as the approver read it: if it changed since, nothing is written.
pub async fn first_approval(
    db: &mut dyn Db,
    case: &CaseRecord,
    reviewer: Uuid,
    audit: &AuditEntry,
) -> StoreResult<CaseWrite> {
    let verdict = lock_as_read(db, case, reviewer, audit.at).await?;
    if verdict != CaseWrite::Done {
        return Ok(verdict);
    }
    if case.first.is_some() {
        return Ok(CaseWrite::HeldByAnother);
    }
    db.run(
        "UPDATE review_cases SET first_by = $1, first_at = $2, first_outcome = 'approve',
             claimed_by = NULL, claimed_until = NULL WHERE id = $3",
        args![reviewer, audit.at, case.id],
    )
    .await?;
    insert_audit(db, audit).await?;
    Ok(CaseWrite::Done)
}

/// How many times a claim or a decision reads its case again before it gives up: each round
/// means another reviewer wrote the case in between.
const ROUNDS: usize = 8;

fn busy() -> StoreError {
    StoreError::Unavailable("the case kept changing under the claim or decision".into())
}

pub async fn append_audit(db: &mut dyn Db, entry: &AuditEntry) -> StoreResult<()> {
    insert_audit(db, entry).await
}

pub async fn audit_trail(
    db: &mut dyn Db,
    application_id: Option<Uuid>,
    limit: u32,
) -> StoreResult<Vec<AuditEntry>> {
    db.all(
        "SELECT id, at, actor, action, application_id, detail FROM audit
                 WHERE $1 IS NULL OR application_id = $1 ORDER BY seq LIMIT $2",
        args![application_id, limit],
        |mut r| {
            Ok(AuditEntry {
                id: r.get(0)?,
                at: r.get(1)?,
                actor: r.get(2)?,
                action: r.get(3)?,
                application_id: r.get(4)?,
                detail: r.get(5)?,
            })
        },
    )
    .await
}
