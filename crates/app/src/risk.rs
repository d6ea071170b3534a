//! Customer risk (CONTRACT 14) and the second approval it asks of an approval (2.7): the
//! grade of an application under the risk policy, from what the store knows of it, and
//! whether its approval needs a second approver.

use chrono::TimeDelta;
use realname_core::application::Identity;
use realname_core::ports::Lookup;
use realname_core::risk::{Assessment, Grade, RiskFacts};
use realname_core::store::{ApplicationRecord, CaseRecord, RiskGradeRecord};

use crate::{AppResult, Service, views};

/// Which approvals need a second approver (`review.second_approval`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecondApprovalMode {
    /// A high grade, a PEP declaration and the random sample.
    Risk,
    /// Every approval.
    All,
}

impl SecondApprovalMode {
    pub fn parse(text: &str) -> Option<SecondApprovalMode> {
        match text {
            "risk" => Some(SecondApprovalMode::Risk),
            "all" => Some(SecondApprovalMode::All),
            _ => None,
        }
    }
}

/// The second approval's and the periodic review's settings.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub second_approval: SecondApprovalMode,
    /// The share of the other approvals that go to a second approver too.
    pub sample: f64,
    /// How often each grade is reviewed (`risk.review_every.*`): low, medium, high; none
    /// where its renewals are its reviews.
    pub review_every: [Option<TimeDelta>; 3],
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            second_approval: SecondApprovalMode::Risk,
            sample: 0.05,
            review_every: [None, Some(TimeDelta::days(730)), Some(TimeDelta::days(182))],
        }
    }
}

impl Settings {
    pub fn review_every(&self, grade: Grade) -> Option<TimeDelta> {
        self.review_every[match grade {
            Grade::Low => 0,
            Grade::Medium => 1,
            Grade::High => 2,
        }]
    }
}

/// Why an approval needs a second approver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecondApprovalReason {
    /// The applicant declared a prominent public function: the second approver is an admin.
    Pep,
    HighRisk,
    /// `review.second_approval = "all"`.
    All,
    Sample,
}

impl SecondApprovalReason {
    pub fn as_str(self) -> &'static str {
        match self {
            SecondApprovalReason::Pep => "pep",
            SecondApprovalReason::HighRisk => "high_risk",
            SecondApprovalReason::All => "all",
            SecondApprovalReason::Sample => "sample",
        }
    }

    /// Whether only an admin may give the second approval (the senior approval of a PEP).
    pub fn needs_admin(self) -> bool {
        self == SecondApprovalReason::Pep
    }
}

/// The application's grade under the risk policy in force, from its identity and what the
/// store knows of it. A screening hit counts as a near miss: by the time an application is
/// approved, every hit it had was under the threshold or dismissed by a reviewer.
pub async fn assess(
    state: &Service,
    app: &ApplicationRecord,
    identity: &Identity,
) -> AppResult<Assessment> {
    let facts = state.store.case_facts(&[app.id]).await?;
    let duplicate_document = facts.iter().any(|f| f.duplicate_of.is_some());
    let card_returned = match &app.card {
        Some(card) => {
            state
                .store
                .card_history(app.account_id, &card.card_hash)
                .await?
                .returned_by_bank
        }
        None => false,
    };
    let screening_near_miss = state
        .store
        .screening_runs(app.id)
        .await?
        .iter()
        .any(|run| !matches!(run.hits.trim(), "" | "[]"));
    Ok(state.risk_policy.grade(&RiskFacts {
        nationality: identity.nationality,
        pep_declared: identity.diligence.pep.as_ref().is_some_and(|p| p.declared),
        screening_near_miss,
        duplicate_document,
        card_returned,
        stay_permit: identity.stay_permit.kind(),
    }))
}

/// Grades the application now and keeps the grade, with when it is due for review.
pub async fn grade(
    state: &Service,
    app: &ApplicationRecord,
    identity: &Identity,
) -> AppResult<RiskGradeRecord> {
    let assessment = assess(state, app, identity).await?;
    let now = state.now();
    let record = RiskGradeRecord {
        id: uuid::Uuid::new_v4(),
        application_id: app.id,
        grade: assessment.grade,
        score: assessment.score,
        factors: assessment.factors,
        policy_version: assessment.policy_version,
        graded_at: now,
        next_review_at: state
            .settings
            .risk
            .review_every(assessment.grade)
            .map(|every| now + every),
    };
    let livemode = state.mode() == realname_core::platform::KeyMode::Live;
    state.store.record_grade(&record, livemode).await?;
    Ok(record)
}

/// Grades an application where the caller's own work must not fail with it: an application
/// that has just reached review (the user's answer was accepted already), a verified
/// customer a new list version found near a listed person. A failure is logged; the next
/// grading (at the decision, at the next review) takes its place.
pub async fn grade_quietly(state: &Service, app: &ApplicationRecord) {
    if let Err(e) = grade_stored(state, app).await {
        tracing::warn!(application = %app.id, error = ?e.code, "could not grade the application");
    }
}

/// Grades an application from its stored identity; one whose personal data was erased is
/// left as it is.
async fn grade_stored(state: &Service, app: &ApplicationRecord) -> AppResult<()> {
    match views::open(state, app)? {
        Some(opened) => grade(state, app, &opened.identity).await.map(drop),
        None => Ok(()),
    }
}

/// Whether an approval of `case` needs a second approver, and why (the first reason that
/// applies, PEP first since it asks for an admin).
pub fn second_approval(
    state: &Service,
    case: &CaseRecord,
    identity: &Identity,
    grade: Grade,
) -> Option<SecondApprovalReason> {
    let settings = state.settings.risk;
    if identity.diligence.pep.as_ref().is_some_and(|p| p.declared) {
        Some(SecondApprovalReason::Pep)
    } else if grade == Grade::High {
        Some(SecondApprovalReason::HighRisk)
    } else if settings.second_approval == SecondApprovalMode::All {
        Some(SecondApprovalReason::All)
    } else if sampled(state, case, settings.sample) {
        Some(SecondApprovalReason::Sample)
    } else {
        None
    }
}

/// Whether the case falls in the random sample: decided by a keyed hash of its id, so the
/// same case always gets the same answer (on every node, after every restart) and no
/// reviewer can tell in advance which cases it takes.
fn sampled(state: &Service, case: &CaseRecord, share: f64) -> bool {
    if share <= 0.0 {
        return false;
    }
    let hash = state
        .vault
        .keyed_hash(Lookup::SecondApprovalSample, case.id.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&hash[..8]);
    // The hash's first 64 bits as a fraction of 2^64: uniform in [0, 1).
    (u64::from_be_bytes(first) as f64) / 18_446_744_073_709_551_616.0 < share
}

/// The grade in force of an application, if it was graded.
pub async fn current(
    state: &Service,
    application: uuid::Uuid,
) -> AppResult<Option<RiskGradeRecord>> {
    Ok(state.store.grades_of(&[application]).await?.pop())
}

/// Opens a periodic review for every verified customer whose grade's review fell due
/// (CONTRACT 14), a batch at a time; each once, whichever node sees it first.
pub async fn open_due_reviews(state: &Service) {
    const BATCH: u32 = 100;
    loop {
        let now = state.now();
        let due = match state.store.reviews_due(now, BATCH).await {
            Ok(due) => due,
            Err(e) => {
                tracing::warn!(error = %e, "could not read the periodic reviews due");
                return;
            }
        };
        let mut opened = 0;
        for application in &due {
            match state
                .store
                .open_periodic(
                    uuid::Uuid::new_v4(),
                    *application,
                    now,
                    now + state.settings.review_sla,
                )
                .await
            {
                Ok(true) => opened += 1,
                Ok(false) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "could not open a periodic review");
                    return;
                }
            }
        }
        if opened > 0 {
            tracing::info!(opened, "periodic reviews fell due");
        }
        if due.len() < BATCH as usize || opened == 0 {
            return;
        }
    }
}

/// Grades the verified customers never graded: those verified before grading existed
/// (CONTRACT 14), once, in the background, at most `budget` a call so that a large store is
/// graded over several passes rather than holding up the worker.
pub async fn grade_ungraded(state: &Service, budget: usize) {
    const BATCH: u32 = 200;
    let mut graded = 0;
    while graded < budget {
        let ungraded = match state.store.ungraded(BATCH).await {
            Ok(ids) => ids,
            Err(e) => {
                tracing::warn!(error = %e, "could not read the customers never graded");
                return;
            }
        };
        let before = graded;
        for id in &ungraded {
            let record = match state.store.application(*id).await {
                Ok(Some(record)) => record,
                Ok(None) => continue,
                Err(e) => {
                    tracing::warn!(error = %e, "could not read a customer to grade");
                    return;
                }
            };
            if let Err(e) = grade_stored(state, &record).await {
                // Left ungraded, it would be read first again and again: stop this call.
                tracing::warn!(application = %id, error = ?e.code, "could not grade a customer");
                return;
            }
            graded += 1;
        }
        // None left, or only some that cannot be opened (they stay for the next sweep).
        if graded == before {
            break;
        }
    }
    if graded > 0 {
        tracing::info!(graded, "graded customers verified before grading existed");
    }
}
