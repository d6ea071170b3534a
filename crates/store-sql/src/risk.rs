//! Customers' risk grades (CONTRACT 14): every grading kept, the latest in force.

use chrono::{DateTime, Utc};
use realname_core::platform::EventType;
use realname_core::risk::{Factor, Grade};
use realname_core::state::Status;
use realname_core::store::{
    AuditEntry, CaseRecord, CaseWrite, RiskGradeRecord, StoreError, StoreResult,
};
use uuid::Uuid;

use crate::args;
use crate::changes::insert_audit;
use crate::db::Db;

/// Keeps a grading; when it changes the grade of a verified application, publishes
/// `verification.risk_changed` in the same transaction (a first grading changes nothing).
pub async fn record_grade(
    db: &mut dyn Db,
    grade: &RiskGradeRecord,
    livemode: bool,
) -> StoreResult<()> {
    let before = grades_of(db, std::slice::from_ref(&grade.application_id))
        .await?
        .pop();
    let factors: Vec<String> = grade
        .factors
        .iter()
        .map(|(factor, points)| format!("{factor}:{points}"))
        .collect();
    let factors = factors.join(",");
    db.run(
        "INSERT INTO risk_grades
             (id, application_id, grade, score, factors, policy_version, graded_at, next_review_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        args![
            grade.id,
            grade.application_id,
            grade.grade.as_str(),
            i64::from(grade.score),
            factors.as_str(),
            grade.policy_version.as_str(),
            grade.graded_at,
            grade.next_review_at
        ],
    )
    .await?;
    let status: Option<Status> = db
        .value(
            "SELECT status FROM applications WHERE id = $1",
            args![grade.application_id],
        )
        .await?;
    if status == Some(Status::Verified) && before.is_some_and(|b| b.grade != grade.grade) {
        crate::changes::publish(
            db,
            grade.application_id,
            EventType::RiskChanged,
            Status::Verified,
            None,
            livemode,
            grade.graded_at,
            None,
        )
        .await?;
    }
    Ok(())
}

pub async fn grades_of(
    db: &mut dyn Db,
    application_ids: &[Uuid],
) -> StoreResult<Vec<RiskGradeRecord>> {
    if application_ids.is_empty() {
        return Ok(Vec::new());
    }
    let all = db
        .all(
            "SELECT id, application_id, grade, score, factors, policy_version, graded_at,
                    next_review_at
             FROM risk_grades WHERE application_id = ANY($1)
             ORDER BY application_id, graded_at DESC, id DESC",
            args![application_ids],
            |mut r| {
                let grade: String = r.get(2)?;
                let score: i64 = r.get(3)?;
                let factors: String = r.get(4)?;
                Ok(RiskGradeRecord {
                    id: r.get(0)?,
                    application_id: r.get(1)?,
                    grade: parse_grade(&grade)?,
                    score: u32::try_from(score).unwrap_or(u32::MAX),
                    factors: parse_factors(&factors)?,
                    policy_version: r.get(5)?,
                    graded_at: r.get(6)?,
                    next_review_at: r.get(7)?,
                })
            },
        )
        .await?;
    let mut latest: Vec<RiskGradeRecord> = Vec::new();
    for grade in all {
        if latest.last().map(|g| g.application_id) != Some(grade.application_id) {
            latest.push(grade);
        }
    }
    Ok(latest)
}

fn parse_grade(text: &str) -> StoreResult<Grade> {
    Grade::parse(text).ok_or_else(|| StoreError::Failed(format!("{text:?} is no risk grade")))
}

/// `code:points` pairs, comma-separated, as [`record_grade`] writes them.
fn parse_factors(text: &str) -> StoreResult<Vec<(Factor, u32)>> {
    let bad = || StoreError::Failed("a risk grade's factors are unreadable".into());
    text.split(',')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (code, points) = pair.split_once(':').ok_or_else(bad)?;
            let factor = Factor::parse(code).ok_or_else(bad)?;
            Ok((factor, points.parse().map_err(|_| bad())?))
        })
        .collect()
}

/// Up to `limit` verified applications whose grade in force asked for a review by `now` and
/// that have no periodic review open.
pub async fn reviews_due(
    db: &mut dyn Db,
    now: DateTime<Utc>,
    limit: u32,
) -> StoreResult<Vec<Uuid>> {
    db.all(
        "SELECT g.application_id FROM risk_grades g JOIN applications a ON a.id = g.application_id
         WHERE g.next_review_at <= $1 AND a.status = 'verified' AND a.redacted_at IS NULL
           AND NOT EXISTS (SELECT 1 FROM risk_grades later
                           WHERE later.application_id = g.application_id
                             AND (later.graded_at > g.graded_at
                                  OR (later.graded_at = g.graded_at AND later.id > g.id)))
           AND NOT EXISTS (SELECT 1 FROM review_cases c
                           WHERE c.application_id = g.application_id AND c.kind = 'periodic'
                             AND c.decided_at IS NULL)
         ORDER BY g.next_review_at LIMIT $2",
        args![now, i64::from(limit)],
        |mut r| r.get(0),
    )
    .await
}

/// Opens a periodic review of a verified application; `false` when one is open already (on
/// this node or another).
pub async fn open_periodic(
    db: &mut dyn Db,
    case: Uuid,
    application: Uuid,
    at: DateTime<Utc>,
    due_at: DateTime<Utc>,
) -> StoreResult<bool> {
    db.changed(
        "INSERT INTO review_cases (id, application_id, account_id, submitted_at, due_at, kind)
             SELECT $1, id, account_id, $2, $3, 'periodic' FROM applications
             WHERE id = $4 AND status = 'verified'
             ON CONFLICT DO NOTHING",
        args![case, at, due_at, application],
    )
    .await
}

/// Closes a periodic review held by `reviewer` with the grade standing, while the case is as
/// `case`; the audit entry in the same transaction.
pub async fn close_periodic(
    db: &mut dyn Db,
    case: &CaseRecord,
    reviewer: Uuid,
    audit: &AuditEntry,
) -> StoreResult<CaseWrite> {
    let verdict = crate::review::lock_as_read(db, case, reviewer, audit.at).await?;
    if verdict != CaseWrite::Done {
        return Ok(verdict);
    }
    crate::review::close_case(db, case.id, "approve", audit.at).await?;
    insert_audit(db, audit).await?;
    Ok(CaseWrite::Done)
}

/// Up to `limit` verified applications never graded: those verified before grading existed.
pub async fn ungraded(db: &mut dyn Db, limit: u32) -> StoreResult<Vec<Uuid>> {
    db.all(
        "SELECT a.id FROM applications a
         WHERE a.status = 'verified' AND a.redacted_at IS NULL
           AND NOT EXISTS (SELECT 1 FROM risk_grades g WHERE g.application_id = a.id)
         ORDER BY a.id LIMIT $1",
        args![i64::from(limit)],
        |mut r| r.get(0),
    )
    .await
}
