//! Customers' risk grades (CONTRACT 14): every grading kept, the latest in force.

use realname_core::risk::{Factor, Grade};
use realname_core::store::{RiskGradeRecord, StoreError, StoreResult};
use uuid::Uuid;

use crate::args;
use crate::db::Db;

pub async fn record_grade(db: &mut dyn Db, grade: &RiskGradeRecord) -> StoreResult<()> {
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
    .await
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
    match text {
        "low" => Ok(Grade::Low),
        "medium" => Ok(Grade::Medium),
        "high" => Ok(Grade::High),
        other => Err(StoreError::Failed(format!("{other:?} is no risk grade"))),
    }
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
