//! Erasing personal data (CONTRACT 11): the retention sweep, a platform's request to erase
//! an application, and the closing of a platform's user, which starts its holds. Every
//! erasure goes through [`erase`], so each writes the same: the sealed identity, card and
//! images go, the status, its history, the decision, the audit rows and the keyed hashes stay,
//! and `verification.redacted` is sent.
//!
//! When data may go is `realname_core::retention`'s call; this module only asks it.

use chrono::{DateTime, Utc};
use realname_core::Code;
use realname_core::platform::{ApiKey, Scope};
use realname_core::retention::{self, OnRequest, Retention, RetentionFacts};
use realname_core::state::{Event, Failure, Status, transition};
use realname_core::store::{
    ApplicationRecord, AuditEntry, Closed, Closure, Erased, Erasure, RetentionCandidate,
    StateChange,
};
use serde_json::json;
use uuid::Uuid;

use crate::principal::account_scope;
use crate::{AppError, AppResult, Principal, Service};

/// How many applications one sweep erases before it settles the files and looks again.
const SWEEP_BATCH: u32 = 100;

/// Why an application's data went: the rule, or who asked.
#[derive(Debug, Clone, Copy)]
enum Why<'a> {
    /// A `retention.*` span ran out; the name is the key's.
    Retention(&'static str),
    /// A platform asked, with this key.
    Request(&'a ApiKey),
}

impl Why<'_> {
    fn detail(&self) -> String {
        match self {
            Why::Retention(rule) => json!({ "rule": rule }),
            Why::Request(key) => json!({ "api_key": key.prefix }),
        }
        .to_string()
    }
}

/// What the rules read of an application: its clock runs from when it reached its status (a
/// draft: when it was last changed), as the sweep's store query reads it too.
fn facts(
    status: Status,
    failure: Option<&Failure>,
    updated_at: DateTime<Utc>,
    account_closed_at: Option<DateTime<Utc>>,
) -> RetentionFacts<'_> {
    RetentionFacts {
        status,
        failure,
        since: updated_at,
        account_closed_at,
    }
}

/// What the rules read of a stored application (the account page, a request, a closure).
pub fn facts_of(
    record: &ApplicationRecord,
    account_closed_at: Option<DateTime<Utc>>,
) -> RetentionFacts<'_> {
    facts(
        record.status,
        record.failure.as_ref(),
        record.updated_at,
        account_closed_at,
    )
}

/// The `retention.*` key whose span lets these facts go.
fn rule_of(facts: &RetentionFacts) -> &'static str {
    match facts.status {
        Status::Draft => "retention.draft_after",
        Status::Verified => "retention.verified_after",
        Status::Failed if retention::is_fraud_finding(facts.failure) => "retention.fraud_hold",
        _ => "retention.failed_after",
    }
}

/// Erases one application now; a draft is cancelled first, in the same transaction.
async fn erase(
    state: &Service,
    application_id: Uuid,
    account_id: Uuid,
    status: Status,
    why: Why<'_>,
) -> AppResult<Erased> {
    let at = state.now();
    let (cancel, status) = if status == Status::Draft {
        let moved = transition(
            Status::Draft,
            &Event::Cancel,
            &state.moment(application_id, at),
        )?;
        let change = StateChange::new(application_id, Status::Draft, moved, at);
        (Some(change), Status::Cancelled)
    } else {
        (None, status)
    };
    let erasure = Erasure {
        application_id,
        status,
        cancel,
        at,
        livemode: state.mode() == realname_core::platform::KeyMode::Live,
        audit: AuditEntry {
            id: Uuid::new_v4(),
            at,
            // No staff account acts: a rule, or a platform's key (named in the detail).
            actor: Uuid::nil(),
            action: "erase".into(),
            application_id: Some(application_id),
            detail: why.detail(),
        },
        answers_scope: account_scope(account_id),
    };
    let erased = state.store.erase(&erasure).await?;
    if erased == Erased::Done {
        state.status_changed();
    }
    Ok(erased)
}

/// One pass of the retention worker: erases, in batches, every application whose span has
/// run out on the service clock (drafts untouched too long are cancelled with it). Answers
/// how many it erased.
pub async fn sweep(state: &Service) -> usize {
    let mut erased = 0;
    loop {
        let now = state.now();
        let rules = &state.settings.retention;
        let due = match state
            .store
            .retention_due(&retention::due(rules, now), SWEEP_BATCH)
            .await
        {
            Ok(due) => due,
            Err(e) => {
                tracing::warn!(error = %e, "could not look for data whose retention ran out");
                break;
            }
        };
        let found = due.len();
        let mut batch = 0;
        for candidate in &due {
            if !is_due(candidate, rules, now) {
                continue;
            }
            let rule = rule_of(&candidate_facts(candidate));
            match erase(
                state,
                candidate.application_id,
                candidate.account_id,
                candidate.status,
                Why::Retention(rule),
            )
            .await
            {
                Ok(Erased::Done) => batch += 1,
                // Moved or erased meanwhile: the next pass judges it again.
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e.code, "could not erase an application"),
            }
        }
        if batch > 0 {
            if let Err(e) = state.store.settle_erasures().await {
                tracing::warn!(error = %e, "erased rows may linger in the files until the next batch");
            }
            tracing::info!(
                applications = batch,
                "erased personal data whose retention ran out"
            );
        }
        erased += batch;
        // A full batch may have more behind it; a batch that erased nothing would find the
        // same rows again.
        if found < SWEEP_BATCH as usize || batch == 0 {
            break;
        }
    }
    erased
}

fn candidate_facts(c: &RetentionCandidate) -> RetentionFacts<'_> {
    facts(
        c.status,
        c.failure.as_ref(),
        c.updated_at,
        c.account_closed_at,
    )
}

/// The store selected it; the rules have the last word.
fn is_due(c: &RetentionCandidate, rules: &retention::RetentionRules, now: DateTime<Utc>) -> bool {
    retention::is_due(&candidate_facts(c), rules, now)
}

/// What a request to erase became.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RedactionStatus {
    /// Erased, now or before.
    Done,
    /// Kept until `hold_until`, then erased by the sweep.
    Scheduled,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Redaction {
    pub status: RedactionStatus,
    pub hold_until: Option<DateTime<Utc>>,
}

/// `retention_hold`, with the date the hold ends (null while it has none yet).
fn held(until: Option<DateTime<Utc>>) -> AppError {
    let mut refused = AppError::new(Code::RetentionHold);
    refused.extra.push((
        "hold_until",
        until.map_or(serde_json::Value::Null, |at| {
            serde_json::Value::String(crate::views::time(at))
        }),
    ));
    refused
}

/// When the personal data these facts describe goes: `None` while no clock runs (in
/// progress, or verified in an open account).
fn erase_at(facts: &RetentionFacts, rules: &retention::RetentionRules) -> Option<DateTime<Utc>> {
    match retention::retention(facts, rules) {
        Retention::CancelDraftAt(at) | Retention::EraseAt(at) => Some(at),
        Retention::InUse | Retention::WhileAccountOpen => None,
    }
}

/// `POST /v1/platform/verifications/{id}/redact`: a failed or cancelled application outside
/// a fraud hold is erased at once; anything else answers `retention_hold`.
pub async fn redact(state: &Service, who: &Principal, id: &str) -> AppResult<Redaction> {
    let key = who.platform(state, Scope::VerificationsRedact)?;
    let id = Uuid::parse_str(id).map_err(|_| AppError::new(Code::NotFound))?;
    let record = state
        .store
        .application(id)
        .await?
        .ok_or_else(|| AppError::new(Code::NotFound))?;
    if record.redacted_at.is_some() {
        return Ok(Redaction {
            status: RedactionStatus::Done,
            hold_until: None,
        });
    }
    let closed_at = state.store.account_closed_at(record.account_id).await?;
    match retention::on_request(
        &facts_of(&record, closed_at),
        &state.settings.retention,
        state.now(),
    ) {
        OnRequest::Held(until) => Err(held(until)),
        OnRequest::EraseNow => {
            match erase(
                state,
                record.id,
                record.account_id,
                record.status,
                Why::Request(key),
            )
            .await?
            {
                Erased::Done | Erased::Already => {
                    if let Err(e) = state.store.settle_erasures().await {
                        tracing::warn!(error = %e, "erased rows may linger in the files until the next sweep");
                    }
                    Ok(Redaction {
                        status: RedactionStatus::Done,
                        hold_until: None,
                    })
                }
                // It moved between the read and the erasure (only a draft can, and drafts
                // are held): the caller may ask again.
                Erased::Moved => Err(AppError::new(Code::InvalidState)),
                Erased::NotFound => Err(AppError::new(Code::NotFound)),
            }
        }
    }
}

/// A platform's user, closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClosedUser {
    pub external_user_id: String,
    pub closed_at: DateTime<Utc>,
    /// What is still held, and until when the last of it is.
    pub redaction: Redaction,
}

/// `DELETE /v1/platform/users/{external_user_id}`: the relationship ends. An open draft is
/// cancelled; an application in progress refuses (`application_in_progress`). The account's
/// holds start now, and a later session for the id makes a new account.
pub async fn close_user(
    state: &Service,
    who: &Principal,
    external_user_id: &str,
) -> AppResult<ClosedUser> {
    let key = who.platform(state, Scope::VerificationsRedact)?;
    if !crate::platform::sessions::valid_external_user_id(external_user_id) {
        return Err(AppError::new(Code::NotFound));
    }
    // A draft submitted between the read and the closure moves it: read again.
    for _ in 0..3 {
        let account = state
            .store
            .platform_account(external_user_id)
            .await?
            .ok_or_else(|| AppError::new(Code::NotFound))?;
        let applications = state.store.applications_of(account).await?;
        if applications.iter().any(|a| a.status.is_pending()) {
            return Err(in_progress());
        }
        let at = state.now();
        let cancel = match applications.iter().find(|a| a.status == Status::Draft) {
            Some(draft) => {
                let moved = transition(Status::Draft, &Event::Cancel, &state.moment(draft.id, at))?;
                Some(StateChange::new(draft.id, Status::Draft, moved, at))
            }
            None => None,
        };
        let closure = Closure {
            account_id: account,
            at,
            cancel,
            audit: AuditEntry {
                id: Uuid::new_v4(),
                at,
                actor: Uuid::nil(),
                action: "close_account".into(),
                application_id: None,
                detail: json!({ "api_key": key.prefix }).to_string(),
            },
        };
        match state.store.close_platform_user(&closure).await {
            Ok(Closed::Done) => {
                state.status_changed();
                // The holds as of the closure, from what was read before it: the draft it
                // cancelled counts from now, as a cancelled application.
                let kept: Vec<_> = applications
                    .iter()
                    .filter(|a| a.redacted_at.is_none())
                    .map(|a| {
                        let mut facts = facts_of(a, Some(at));
                        if a.status == Status::Draft {
                            facts.status = Status::Cancelled;
                            facts.since = at;
                        }
                        facts
                    })
                    .collect();
                let rules = &state.settings.retention;
                let hold_until = kept.iter().filter_map(|f| erase_at(f, rules)).max();
                let held = !kept.is_empty();
                return Ok(ClosedUser {
                    external_user_id: external_user_id.to_owned(),
                    closed_at: at,
                    redaction: Redaction {
                        status: if held {
                            RedactionStatus::Scheduled
                        } else {
                            RedactionStatus::Done
                        },
                        hold_until,
                    },
                });
            }
            Ok(Closed::NotOpen) => return Err(AppError::new(Code::NotFound)),
            Ok(Closed::Moved) => continue,
            Err(realname_core::store::StoreError::Conflict(rule))
                if rule == "application_in_progress" =>
            {
                return Err(in_progress());
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(in_progress())
}

/// Closing waits for an application being verified, as the platform's developer is told.
fn in_progress() -> AppError {
    AppError::new(Code::ApplicationInProgress).saying(
        "The user has an application being verified (submitted, awaiting its amount or under review); close the user once it is verified, failed or cancelled.",
        "该用户有一个正在认证的申请（已提交、待确认金额或审核中）；请在其认证通过、失败或取消后再注销该用户。",
    )
}
