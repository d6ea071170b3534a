//! The reviewer's work as operations, shared by the JSON API and the pages: the queue with
//! its flags, revealing a case (audited), its images (audited), claims and decisions.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use realname_core::Code;
use realname_core::documents::ImageSlot;
use realname_core::ports::SealContext;
use realname_core::review::{Decision, DecisionForm, Flag, FlagFacts, flags};
use realname_core::state::{Event, Status, transition};
use realname_core::store::{
    Account, ApplicationRecord, AuditEntry, CaseFilter, CaseKind, CaseRecord, CaseWrite, ImageMeta,
    Role, StateChange,
};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::error::{AppError, AppResult};
use crate::security::{self, SecurityEvent};
use crate::views::{self, Opened};
use crate::{Principal, Service};

/// The flags of CONTRACT 2.7 for each of these applications, in a constant number of store
/// queries whatever their number: one for the facts, then a decryption each. With each id
/// comes the day its identity was last checked (for identities sealed in the older form).
async fn flags_of(
    state: &Service,
    applications: &[(Uuid, NaiveDate)],
) -> AppResult<HashMap<Uuid, Vec<Flag>>> {
    let today = state.today();
    let checked: HashMap<Uuid, NaiveDate> = applications.iter().copied().collect();
    let ids: Vec<Uuid> = checked.keys().copied().collect();
    let facts = state.store.case_facts(&ids).await?;
    let screened: Vec<Uuid> = state
        .store
        .screening_of(&ids)
        .await?
        .into_iter()
        .filter(|s| s.flagged)
        .map(|s| s.application_id)
        .collect();
    let mut flagged = HashMap::with_capacity(facts.len());
    for fact in facts {
        let checked_on = checked.get(&fact.application_id).copied().unwrap_or(today);
        // Erased: only the keyed hashes speak for it still.
        let Some(form) = &fact.form else {
            let only = fact.duplicate_of.map(|_| Flag::DuplicateDocument);
            flagged.insert(fact.application_id, only.into_iter().collect());
            continue;
        };
        let bytes = state.open(SealContext::ApplicationForm(fact.application_id), form)?;
        let identity = views::decode_identity(&bytes, checked_on)?;
        // The identity was valid when submitted; expiry is judged on the earliest expiry
        // date whether or not a document has expired since.
        let facts = FlagFacts {
            duplicate_document: fact.duplicate_of.is_some(),
            earliest_expiry: identity.earliest_expiry(),
            date_of_birth: identity.date_of_birth,
        };
        flagged.insert(fact.application_id, flags(&facts, today));
    }
    for id in screened {
        flagged.entry(id).or_default().push(Flag::ScreeningFlag);
    }
    Ok(flagged)
}

/// A page of the queue, each case with its flags; `more` says whether another page follows.
pub async fn queue(
    state: &Service,
    who: &Principal,
    filter: CaseFilter,
    kind: Option<CaseKind>,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: u32,
) -> AppResult<(Vec<(CaseRecord, Vec<Flag>)>, bool)> {
    who.staff()?;
    let mut cases = state
        .store
        .review_cases(filter, kind, state.now(), after, limit + 1)
        .await?;
    let more = cases.len() > limit as usize;
    cases.truncate(limit as usize);
    let ids: Vec<(Uuid, NaiveDate)> = cases
        .iter()
        .map(|c| (c.application_id, c.submitted_at.date_naive()))
        .collect();
    let mut flagged = flags_of(state, &ids).await?;
    let page = cases
        .into_iter()
        .map(|case| {
            let flags = flagged.remove(&case.application_id).unwrap_or_default();
            (case, flags)
        })
        .collect();
    Ok((page, more))
}

async fn load(state: &Service, id: &str) -> AppResult<(CaseRecord, ApplicationRecord)> {
    let case = load_case(state, id).await?;
    let app = state
        .store
        .application(case.application_id)
        .await?
        .ok_or_else(|| AppError::new(Code::NotFound))?;
    Ok((case, app))
}

/// The case a path names, without its application.
async fn load_case(state: &Service, id: &str) -> AppResult<CaseRecord> {
    let id = Uuid::parse_str(id).map_err(|_| AppError::new(Code::NotFound))?;
    reload(state, id).await
}

fn audit(actor: Uuid, action: &str, app: Uuid, at: DateTime<Utc>, detail: Value) -> AuditEntry {
    AuditEntry {
        id: Uuid::new_v4(),
        at,
        actor,
        action: action.to_owned(),
        application_id: Some(app),
        detail: detail.to_string(),
    }
}

/// Whether `staff` sees a case unmasked (CONTRACT 2.7): an admin, or the reviewer who holds
/// its claim now. Other staff see the masked view, as the user does.
fn may_unmask(staff: &Account, case: &CaseRecord, now: DateTime<Utc>) -> bool {
    staff.role == Role::Admin || case.held_by(staff.id, now)
}

/// Staff never claim or decide the case of an application their own account made.
fn not_their_own(staff: &Account, case: &CaseRecord) -> AppResult<()> {
    if case.account_id == staff.id {
        return Err(AppError::new(Code::Forbidden));
    }
    Ok(())
}

/// A case awaiting its second approval is decided by another staff member (CONTRACT 2.7).
pub(crate) fn not_the_first_approver(staff: &Account, case: &CaseRecord) -> AppResult<()> {
    if case.decided_at.is_none() && case.first.as_ref().is_some_and(|f| f.by == staff.id) {
        return Err(AppError::new(Code::SecondApproverRequired));
    }
    Ok(())
}

/// A case with its application (its identity `None` once erased), and whether it may be
/// shown unmasked (the last field); an unmasked reveal is written to the audit log first.
pub async fn reveal(
    state: &Service,
    who: &Principal,
    id: &str,
) -> AppResult<(
    CaseRecord,
    ApplicationRecord,
    Option<Opened>,
    Vec<Flag>,
    bool,
)> {
    let staff = who.staff()?;
    let (case, app) = load(state, id).await?;
    let opened = views::open(state, &app)?;
    let flags = flags_of(state, &[(app.id, app.updated_at.date_naive())])
        .await?
        .remove(&app.id)
        .unwrap_or_default();
    let unmasked = may_unmask(staff, &case, state.now());
    if unmasked {
        security::record(SecurityEvent::Revealed {
            staff: staff.id,
            application: app.id,
            what: "application",
        });
        state
            .store
            .append_audit(&audit(
                staff.id,
                "reveal_application",
                app.id,
                state.now(),
                json!({"case_id": case.id}),
            ))
            .await?;
    }
    Ok((case, app, opened, flags, unmasked))
}

/// A document image of a case, decrypted; the reveal is written to the audit log first.
pub async fn document(
    state: &Service,
    who: &Principal,
    id: &str,
    slot: &str,
) -> AppResult<(ImageMeta, Vec<u8>)> {
    let account = who.staff()?;
    let staff = account.id;
    let (case, app) = load(state, id).await?;
    if !may_unmask(account, &case, state.now()) {
        return Err(AppError::new(Code::Forbidden));
    }
    let slot = ImageSlot::parse(slot).ok_or_else(|| AppError::new(Code::NotFound))?;
    let (meta, sealed) = state
        .store
        .image(app.id, slot.as_str())
        .await?
        .ok_or_else(|| AppError::new(Code::NotFound))?;
    let bytes = state.open(SealContext::Image(slot, app.id), &sealed)?;
    let entry = audit(
        staff,
        "reveal_document",
        app.id,
        state.now(),
        json!({"case_id": case.id, "slot": meta.slot}),
    );
    state.store.append_audit(&entry).await?;
    security::record(SecurityEvent::Revealed {
        staff,
        application: app.id,
        what: slot.as_str(),
    });
    Ok((meta, bytes))
}

/// What a claim or decision that did not go through tells the reviewer.
fn refused(outcome: CaseWrite) -> AppResult<()> {
    match outcome {
        CaseWrite::Done => Ok(()),
        CaseWrite::HeldByAnother => Err(AppError::new(Code::CaseClaimed)),
        CaseWrite::Decided => Err(AppError::new(Code::InvalidState)),
        CaseWrite::NotFound => Err(AppError::new(Code::NotFound)),
    }
}

async fn reload(state: &Service, case: Uuid) -> AppResult<CaseRecord> {
    state
        .store
        .review_case(case)
        .await?
        .ok_or_else(|| AppError::new(Code::NotFound))
}

pub async fn claim(state: &Service, who: &Principal, id: &str) -> AppResult<CaseRecord> {
    let account = who.staff()?;
    let staff = account.id;
    let case = load_case(state, id).await?;
    not_their_own(account, &case)?;
    not_the_first_approver(account, &case)?;
    let now = state.now();
    // To the microsecond, as the stores keep it: the answer is what a read would find.
    let until = chrono::SubsecRound::trunc_subsecs(now + state.settings.claim_ttl, 6);
    refused(state.store.claim_case(case.id, staff, now, until).await?)?;
    // A claim writes its holder and its end, and nothing else of the case.
    Ok(CaseRecord {
        claimed_by: Some(staff),
        claimed_until: Some(until),
        ..case
    })
}

/// Approves or rejects a case the reviewer holds; the note stays internal.
pub async fn decide(
    state: &Service,
    who: &Principal,
    id: &str,
    form: &DecisionForm,
) -> AppResult<CaseRecord> {
    let account = who.staff()?;
    let staff = account.id;
    let decision = Decision::parse(form).map_err(AppError::validation)?;
    let (case, app) = load(state, id).await?;
    not_their_own(account, &case)?;
    not_the_first_approver(account, &case)?;
    if case.kind == CaseKind::Periodic && case.decided_at.is_none() {
        return review_periodically(state, &case, &app, staff, &decision).await;
    }
    if case.kind != CaseKind::Application
        || case.decided_at.is_some()
        || app.status != Status::UnderReview
    {
        return Err(AppError::new(Code::InvalidState));
    }
    let mut detail = json!({});
    if let Decision::Approve { note } = &decision {
        not_held(state, app.id).await?;
        let opened = views::open(state, &app)?.ok_or_else(|| AppError::new(Code::InvalidState))?;
        // Graded again at the decision: what the store knows may have changed since review.
        let graded = crate::risk::grade(state, &app, &opened.identity).await?;
        let risk = json!({"grade": graded.grade.as_str(), "score": graded.score,
                          "policy_version": graded.policy_version});
        let needs = crate::risk::second_approval(state, &case, &opened.identity, graded.grade);
        match (&case.first, needs) {
            (None, Some(why)) => {
                return first_approval(state, &case, app.id, staff, note.as_deref(), why, risk)
                    .await;
            }
            (Some(_), Some(why)) if why.needs_admin() => {
                who.admin()?;
            }
            _ => {}
        }
        detail = json!({"risk": risk});
    }
    if case.first.is_some() {
        detail["step"] = json!("second");
    }
    decide_held(state, &case, app.id, staff, &decision, detail).await
}

/// A periodic review's decision (CONTRACT 14): `approve` lets the grade stand, graded again
/// now with its next review from today. (`renewal_required` comes with renewals.)
async fn review_periodically(
    state: &Service,
    case: &CaseRecord,
    app: &ApplicationRecord,
    reviewer: Uuid,
    decision: &Decision,
) -> AppResult<CaseRecord> {
    let Decision::Approve { note } = decision else {
        return Err(AppError::field("outcome", Code::ReviewOutcomeInvalid));
    };
    let opened = views::open(state, app)?.ok_or_else(|| AppError::new(Code::InvalidState))?;
    let entry = audit(
        reviewer,
        "decide",
        app.id,
        state.now(),
        json!({"case_id": case.id, "kind": "periodic", "outcome": "approve", "note": note}),
    );
    refused(state.store.close_periodic(case, reviewer, &entry).await?)?;
    crate::risk::grade(state, app, &opened.identity).await?;
    reload(state, case.id).await
}

/// The first of two approvals: kept on the case, which goes back to the queue for a second
/// approver (CONTRACT 2.7); the user still sees `under_review`.
async fn first_approval(
    state: &Service,
    case: &CaseRecord,
    application: Uuid,
    reviewer: Uuid,
    note: Option<&str>,
    why: crate::risk::SecondApprovalReason,
    risk: Value,
) -> AppResult<CaseRecord> {
    let entry = audit(
        reviewer,
        "decide",
        application,
        state.now(),
        json!({"case_id": case.id, "outcome": "approve", "reason": null, "note": note,
               "step": "first", "second_approval": why.as_str(), "risk": risk}),
    );
    refused(state.store.first_approval(case, reviewer, &entry).await?)?;
    reload(state, case.id).await
}

/// An application that list screening holds is not approved until its screening case is
/// decided (CONTRACT 12).
async fn not_held(state: &Service, application: Uuid) -> AppResult<()> {
    let screening = state.store.screening_of(&[application]).await?;
    if screening.iter().any(|s| s.held) {
        return Err(AppError::new(Code::ScreeningHold));
    }
    Ok(())
}

/// Writes a decision on a case `reviewer` holds: the application's transition, the case's
/// outcome and the audit entry (with `detail` added) in one transaction.
async fn decide_held(
    state: &Service,
    case: &CaseRecord,
    application: Uuid,
    reviewer: Uuid,
    decision: &Decision,
    detail: Value,
) -> AppResult<CaseRecord> {
    let now = state.now();
    let (event, outcome, reason, note) = match decision {
        Decision::Approve { note } => (Event::Approve, "approve", None, note.clone()),
        Decision::Reject { reason, note } => (
            Event::Reject(*reason),
            "reject",
            Some(reason.code()),
            note.clone(),
        ),
    };
    let moved = transition(Status::UnderReview, &event, &state.moment(application, now))?;
    let change = StateChange::new(application, Status::UnderReview, moved, now);
    let mut recorded =
        json!({"case_id": case.id, "outcome": outcome, "reason": reason, "note": note});
    if let (Some(map), Value::Object(extra)) = (recorded.as_object_mut(), detail) {
        map.extend(extra);
    }
    let entry = audit(reviewer, "decide", application, now, recorded);
    refused(
        state
            .store
            .decide_case(case.id, reviewer, &change, &entry)
            .await?,
    )?;
    state.status_changed();
    security::record(SecurityEvent::Decided {
        staff: reviewer,
        application,
        outcome,
    });
    reload(state, case.id).await
}

/// The audit trail, for admins: of one application, or all of it.
pub async fn audit_trail(
    state: &Service,
    who: &Principal,
    application_id: Option<Uuid>,
    limit: u32,
) -> AppResult<Vec<AuditEntry>> {
    who.admin()?;
    Ok(state.store.audit_trail(application_id, limit).await?)
}

/// The other account's application that holds one of this application's documents, and its
/// case if it reached review: the reviewer compares the two.
pub async fn duplicate_of(
    state: &Service,
    who: &Principal,
    application_id: Uuid,
) -> AppResult<Option<(Uuid, Option<Uuid>)>> {
    who.staff()?;
    let facts = state.store.case_facts(&[application_id]).await?;
    let Some(other) = facts.first().and_then(|f| f.duplicate_of) else {
        return Ok(None);
    };
    let case = state.store.review_case_of(other).await?.map(|c| c.id);
    Ok(Some((other, case)))
}

/// The logins of the staff these ids name, for pages that say who holds or did what.
pub async fn staff_logins(
    state: &Service,
    who: &Principal,
    ids: &[Uuid],
) -> AppResult<HashMap<Uuid, String>> {
    who.staff()?;
    Ok(state.store.logins(ids).await?)
}

/// A test platform key deciding an `under_review` application as a reviewer would, so a
/// platform can test both endings without staff (CONTRACT 4, Sandbox). The claim and the
/// decision are the nil reviewer's; the audit entry names the key.
pub async fn decide_in_sandbox(
    state: &Service,
    who: &Principal,
    application_id: &str,
    form: &DecisionForm,
) -> AppResult<CaseRecord> {
    let key = who.sandbox_key(state)?;
    let decision = Decision::parse(form).map_err(AppError::validation)?;
    let application_id =
        Uuid::parse_str(application_id).map_err(|_| AppError::new(Code::NotFound))?;
    let app = state
        .store
        .application(application_id)
        .await?
        .ok_or_else(|| AppError::new(Code::NotFound))?;
    if app.status != Status::UnderReview {
        return Err(AppError::new(Code::InvalidState));
    }
    if matches!(decision, Decision::Approve { .. }) {
        not_held(state, app.id).await?;
    }
    let case = state
        .store
        .review_case_of(app.id)
        .await?
        .ok_or_else(|| AppError::new(Code::InvalidState))?;
    let now = state.now();
    let sandbox_reviewer = Uuid::nil();
    refused(
        state
            .store
            .claim_case(
                case.id,
                sandbox_reviewer,
                now,
                now + state.settings.claim_ttl,
            )
            .await?,
    )?;
    decide_held(
        state,
        &case,
        app.id,
        sandbox_reviewer,
        &decision,
        // A sandbox approval stands for both approvals (CONTRACT 2.7).
        json!({"api_key": key.prefix, "step": "both"}),
    )
    .await
}

/// What a reviewer decides of a screening case (CONTRACT 12).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScreeningOutcome {
    /// Not the listed person.
    Dismiss,
    /// The listed person.
    Confirm,
    /// The entry was delisted: the measure ends (admins only).
    Lift,
}

impl ScreeningOutcome {
    pub fn parse(text: &str) -> Option<ScreeningOutcome> {
        match text {
            "dismiss" => Some(ScreeningOutcome::Dismiss),
            "confirm" => Some(ScreeningOutcome::Confirm),
            "lift" => Some(ScreeningOutcome::Lift),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ScreeningOutcome::Dismiss => "dismiss",
            ScreeningOutcome::Confirm => "confirm",
            ScreeningOutcome::Lift => "lift",
        }
    }
}

/// A screening case's hits, as its run kept them.
pub async fn screening_hits(
    state: &Service,
    case: &CaseRecord,
) -> AppResult<Vec<crate::screening::HitRecord>> {
    let Some(run) = case.run_id else {
        return Ok(Vec::new());
    };
    let runs = state.store.screening_runs(case.application_id).await?;
    Ok(runs
        .iter()
        .find(|r| r.id == run)
        .and_then(|r| serde_json::from_str(&r.hits).ok())
        .unwrap_or_default())
}

/// Decides a screening case the reviewer holds: `dismiss` (a note saying why) releases the
/// hold and is remembered for the identity and the entries' versions; `confirm` fails the
/// application as `not_eligible`. A confirmation, and a dismissal of a hit on a document
/// number, take two staff members: the first decision moves the case to awaiting its second
/// approval; another's that agrees settles it (one that disagrees is a new first decision).
pub async fn decide_screening(
    state: &Service,
    who: &Principal,
    id: &str,
    outcome: &str,
    note: Option<&str>,
    report_reference: Option<&str>,
) -> AppResult<CaseRecord> {
    let account = who.staff()?;
    let staff = account.id;
    let outcome = ScreeningOutcome::parse(outcome)
        .ok_or_else(|| AppError::field("outcome", Code::ScreeningOutcomeInvalid))?;
    let note = note.map(str::trim).filter(|n| !n.is_empty());
    if outcome == ScreeningOutcome::Dismiss && note.is_none() {
        return Err(AppError::field("note", Code::ScreeningNoteRequired));
    }
    if outcome == ScreeningOutcome::Lift {
        who.admin()?;
    }
    let (case, app) = load(state, id).await?;
    not_their_own(account, &case)?;
    not_the_first_approver(account, &case)?;
    if case.kind != CaseKind::Screening || (case.decided_at.is_some() && case.reopened_at.is_none())
    {
        return Err(AppError::new(Code::InvalidState));
    }
    // Delisting reopens a confirmed case, and lifting is all that may be done with it.
    if (outcome == ScreeningOutcome::Lift) != case.reopened_at.is_some() {
        return Err(AppError::new(Code::InvalidState));
    }
    let now = state.now();
    let hits = screening_hits(state, &case).await?;
    let holding: Vec<&crate::screening::HitRecord> = hits.iter().filter(|h| h.holds()).collect();
    let on_a_document = holding
        .iter()
        .any(|h| h.matched.iter().any(|m| m == "document"));
    let needs_two = outcome == ScreeningOutcome::Confirm || on_a_document;
    let agrees = case
        .first
        .as_ref()
        .is_some_and(|f| f.outcome == outcome.as_str());
    let reference = report_reference
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::to_owned);
    let subject = state.store.screening_of(&[app.id]).await?;
    let list_versions = subject
        .first()
        .map(|s| s.list_versions.clone())
        .unwrap_or_else(|| "[]".into());
    let livemode = state.mode() == realname_core::platform::KeyMode::Live;
    let lift = |status: Status| -> AppResult<Option<StateChange>> {
        if !matches!(status, Status::Suspended | Status::Failed) {
            return Ok(None);
        }
        let moved = transition(status, &Event::Lifted, &state.moment(app.id, now))?;
        Ok(Some(StateChange::new(app.id, status, moved, now)))
    };
    let step = if outcome == ScreeningOutcome::Lift {
        realname_core::store::ScreeningStep::Lift {
            change: lift(app.status)?,
        }
    } else if needs_two && !agrees {
        realname_core::store::ScreeningStep::First {
            outcome: outcome.as_str().to_owned(),
            report_reference: reference.clone(),
        }
    } else {
        match outcome {
            ScreeningOutcome::Dismiss => {
                let opened =
                    views::open(state, &app)?.ok_or_else(|| AppError::new(Code::InvalidState))?;
                let change = (app.status == Status::DepositPending)
                    .then(|| {
                        transition(
                            app.status,
                            &Event::ScreeningReleased,
                            &state.moment(app.id, now),
                        )
                        .map(|t| StateChange::new(app.id, app.status, t, now))
                    })
                    .transpose()?;
                realname_core::store::ScreeningStep::Dismiss {
                    identity_hash: crate::screening::identity_hash(
                        state.vault.as_ref(),
                        &opened.identity,
                    ),
                    entries: holding
                        .iter()
                        .map(|h| {
                            (
                                h.source.clone(),
                                h.entry_id.clone(),
                                h.entry_version.clone(),
                            )
                        })
                        .collect(),
                    change,
                    list_versions,
                    livemode,
                }
            }
            ScreeningOutcome::Confirm | ScreeningOutcome::Lift => {
                let change = matches!(
                    app.status,
                    Status::DepositPending
                        | Status::AwaitingAmount
                        | Status::UnderReview
                        | Status::Verified
                )
                .then(|| {
                    transition(
                        app.status,
                        &Event::ScreeningConfirmed,
                        &state.moment(app.id, now),
                    )
                    .map(|t| StateChange::new(app.id, app.status, t, now))
                })
                .transpose()?;
                realname_core::store::ScreeningStep::Confirm {
                    report_reference: reference.clone(),
                    change,
                    list_versions,
                    livemode,
                }
            }
        }
    };
    let first_step = matches!(step, realname_core::store::ScreeningStep::First { .. });
    let entry = audit(
        staff,
        "screening_decision",
        app.id,
        now,
        json!({
            "case_id": case.id,
            "outcome": outcome.as_str(),
            "note": note,
            "report_reference": reference,
            "step": if first_step { "first" } else if case.first.is_some() { "second" } else { "only" },
        }),
    );
    let decision = realname_core::store::ScreeningDecision {
        case: case.clone(),
        reviewer: staff,
        at: now,
        step,
        audit: entry,
    };
    refused(state.store.decide_screening(&decision).await?)?;
    state.status_changed();
    reload(state, case.id).await
}
