//! How long an application's personal data is kept (CONTRACT 11): the shortest time its
//! purpose needs (PIPL art. 19, 47), except what the PBOC's customer-identification rules ask
//! a payment institution to keep for 5 years after the relationship ends, and what a fraud
//! finding must keep to be upheld. Pure rules: the worker and the redaction endpoint ask them
//! when an application may be erased.

use chrono::{DateTime, TimeDelta, Utc};

use crate::codes::Code;
use crate::state::{Failure, Status};

/// The configured spans (`retention.*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionRules {
    /// After an application failed or was cancelled.
    pub failed_after: TimeDelta,
    /// A draft untouched this long is cancelled, then erased as a cancelled one is.
    pub draft_after: TimeDelta,
    /// A rejection as `suspected_fraud` or `duplicate_identity` is held this long instead.
    pub fraud_hold: TimeDelta,
    /// A verified identity, counted from the account's closure.
    pub verified_after: TimeDelta,
}

impl Default for RetentionRules {
    fn default() -> Self {
        RetentionRules {
            failed_after: TimeDelta::days(90),
            draft_after: TimeDelta::days(30),
            fraud_hold: TimeDelta::days(1825),
            verified_after: TimeDelta::days(1825),
        }
    }
}

/// What the rules read of an application.
#[derive(Debug, Clone, Copy)]
pub struct RetentionFacts<'a> {
    pub status: Status,
    pub failure: Option<&'a Failure>,
    /// When it reached its status (failed, cancelled, verified), or was last touched (a draft).
    pub since: DateTime<Utc>,
    /// When its account was closed, if it was: the relationship ended.
    pub account_closed_at: Option<DateTime<Utc>>,
}

/// When an application's personal data goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retention {
    /// In progress: kept, and no clock runs.
    InUse,
    /// A draft nobody touched: cancelled at this moment and erased with it (nobody applied
    /// with it, so nothing needs it any longer).
    CancelDraftAt(DateTime<Utc>),
    /// Erased at this moment (at once, when it has passed).
    EraseAt(DateTime<Utc>),
    /// Verified, and its account is open: the hold starts when the account closes.
    WhileAccountOpen,
}

/// Whether a failure keeps its data for the fraud hold.
pub fn is_fraud_finding(failure: Option<&Failure>) -> bool {
    failure.is_some_and(|f| FRAUD_FINDINGS.contains(&f.code))
}

/// When the personal data of an application in these facts may go.
pub fn retention(facts: &RetentionFacts, rules: &RetentionRules) -> Retention {
    match facts.status {
        Status::Draft => Retention::CancelDraftAt(facts.since + rules.draft_after),
        Status::DepositPending | Status::AwaitingAmount | Status::UnderReview => Retention::InUse,
        Status::Failed if is_fraud_finding(facts.failure) => {
            Retention::EraseAt(facts.since + rules.fraud_hold)
        }
        Status::Failed | Status::Cancelled => Retention::EraseAt(facts.since + rules.failed_after),
        // A suspended account is a verified one under a measure: kept as long.
        Status::Verified | Status::Suspended => match facts.account_closed_at {
            Some(closed) => Retention::EraseAt(closed + rules.verified_after),
            None => Retention::WhileAccountOpen,
        },
    }
}

/// What a sweep at some moment looks for, as instants a store compares its stored times
/// with: an application whose time (`RetentionFacts::since`, or its account's closure) is at
/// or before its instant is due. A store selects by these; [`retention`] has the last word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    /// Failed (other than a fraud finding) or cancelled at or before this.
    pub ended_before: DateTime<Utc>,
    /// Failed as a fraud finding at or before this.
    pub fraud_before: DateTime<Utc>,
    /// Drafts last touched at or before this.
    pub untouched_before: DateTime<Utc>,
    /// Verified, in accounts closed at or before this.
    pub closed_before: DateTime<Utc>,
    /// The failure codes that the fraud hold keeps.
    pub fraud_codes: Vec<&'static str>,
}

/// The failures whose data the fraud hold keeps: a confirmed list match among them, whose
/// records the authorities may ask for (CONTRACT 12).
pub const FRAUD_FINDINGS: [Code; 3] = [
    Code::SuspectedFraud,
    Code::DuplicateIdentity,
    Code::NotEligible,
];

pub fn due(rules: &RetentionRules, now: DateTime<Utc>) -> Due {
    Due {
        ended_before: now - rules.failed_after,
        fraud_before: now - rules.fraud_hold,
        untouched_before: now - rules.draft_after,
        closed_before: now - rules.verified_after,
        fraud_codes: FRAUD_FINDINGS.iter().map(|c| c.as_str()).collect(),
    }
}

/// Whether the rules let an application's data go by `now`.
pub fn is_due(facts: &RetentionFacts, rules: &RetentionRules, now: DateTime<Utc>) -> bool {
    match retention(facts, rules) {
        Retention::CancelDraftAt(at) | Retention::EraseAt(at) => at <= now,
        Retention::InUse | Retention::WhileAccountOpen => false,
    }
}

/// What a request to erase now (a platform's, or the person's) gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnRequest {
    EraseNow,
    /// `retention_hold`: kept until then (`None`: while the account is open, or while the
    /// application is in progress).
    Held(Option<DateTime<Utc>>),
}

/// A failed or cancelled application outside a fraud hold is erased at once; anything else
/// is held as the rules say.
pub fn on_request(facts: &RetentionFacts, rules: &RetentionRules, now: DateTime<Utc>) -> OnRequest {
    match facts.status {
        Status::Failed if is_fraud_finding(facts.failure) => {
            let until = facts.since + rules.fraud_hold;
            if now >= until {
                OnRequest::EraseNow
            } else {
                OnRequest::Held(Some(until))
            }
        }
        Status::Failed | Status::Cancelled => OnRequest::EraseNow,
        _ => match retention(facts, rules) {
            Retention::EraseAt(at) if now >= at => OnRequest::EraseNow,
            Retention::EraseAt(at) => OnRequest::Held(Some(at)),
            _ => OnRequest::Held(None),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::review::ReviewReason;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_780_000_000 + seconds, 0).unwrap_or_default()
    }

    fn facts(status: Status, failure: Option<&Failure>) -> RetentionFacts<'_> {
        RetentionFacts {
            status,
            failure,
            since: at(0),
            account_closed_at: None,
        }
    }

    #[test]
    fn each_ending_keeps_its_own_span() {
        let rules = RetentionRules::default();
        let day = 86_400;
        let failed = Failure::deposit(Code::DepositExpired);
        assert_eq!(
            retention(&facts(Status::Failed, Some(&failed)), &rules),
            Retention::EraseAt(at(90 * day))
        );
        assert_eq!(
            retention(&facts(Status::Cancelled, None), &rules),
            Retention::EraseAt(at(90 * day))
        );
        assert_eq!(
            retention(&facts(Status::Draft, None), &rules),
            Retention::CancelDraftAt(at(30 * day))
        );
        for reason in [
            ReviewReason::SuspectedFraud,
            ReviewReason::DuplicateIdentity,
        ] {
            let fraud = Failure::rejected(reason);
            assert_eq!(
                retention(&facts(Status::Failed, Some(&fraud)), &rules),
                Retention::EraseAt(at(1825 * day))
            );
        }
        let unreadable = Failure::rejected(ReviewReason::DocumentUnreadable);
        assert_eq!(
            retention(&facts(Status::Failed, Some(&unreadable)), &rules),
            Retention::EraseAt(at(90 * day)),
            "a retryable rejection is no fraud finding"
        );
        for open in [
            Status::DepositPending,
            Status::AwaitingAmount,
            Status::UnderReview,
        ] {
            assert_eq!(retention(&facts(open, None), &rules), Retention::InUse);
        }
        assert_eq!(
            retention(&facts(Status::Verified, None), &rules),
            Retention::WhileAccountOpen
        );
        let closed = RetentionFacts {
            account_closed_at: Some(at(7 * day)),
            ..facts(Status::Verified, None)
        };
        assert_eq!(
            retention(&closed, &rules),
            Retention::EraseAt(at(7 * day + 1825 * day)),
            "five years from the closure, not from the verification"
        );
    }

    #[test]
    fn a_request_erases_what_no_hold_keeps() {
        let rules = RetentionRules::default();
        let failed = Failure::deposit(Code::DepositAttemptsExhausted);
        assert_eq!(
            on_request(&facts(Status::Failed, Some(&failed)), &rules, at(1)),
            OnRequest::EraseNow
        );
        assert_eq!(
            on_request(&facts(Status::Cancelled, None), &rules, at(1)),
            OnRequest::EraseNow
        );
        let fraud = Failure::rejected(ReviewReason::SuspectedFraud);
        let until = at(1825 * 86_400);
        let held = facts(Status::Failed, Some(&fraud));
        assert_eq!(
            on_request(&held, &rules, until - TimeDelta::seconds(1)),
            OnRequest::Held(Some(until))
        );
        assert_eq!(on_request(&held, &rules, until), OnRequest::EraseNow);
        assert_eq!(
            on_request(&facts(Status::Verified, None), &rules, at(1)),
            OnRequest::Held(None),
            "the hold starts at closure"
        );
        assert_eq!(
            on_request(&facts(Status::UnderReview, None), &rules, at(1)),
            OnRequest::Held(None)
        );
    }

    #[test]
    fn a_sweep_finds_what_is_due_to_the_second() {
        let rules = RetentionRules::default();
        let failed = Failure::deposit(Code::DepositExpired);
        let ended = facts(Status::Failed, Some(&failed));
        let boundary = at(90 * 86_400);
        let second = TimeDelta::seconds(1);
        assert!(!is_due(&ended, &rules, boundary - second));
        assert!(is_due(&ended, &rules, boundary));
        let due = due(&rules, boundary);
        assert_eq!(
            due.ended_before, ended.since,
            "the store's instant is the same boundary"
        );
        assert_eq!(
            due.fraud_codes,
            ["suspected_fraud", "duplicate_identity", "not_eligible"]
        );
        let fraud = Failure::rejected(ReviewReason::DuplicateIdentity);
        assert!(!is_due(
            &facts(Status::Failed, Some(&fraud)),
            &rules,
            boundary
        ));
        assert!(!is_due(
            &facts(Status::Verified, None),
            &rules,
            at(100 * 365 * 86_400)
        ));
        assert!(is_due(&facts(Status::Draft, None), &rules, at(30 * 86_400)));
        assert!(!is_due(&facts(Status::UnderReview, None), &rules, boundary));
    }
}
