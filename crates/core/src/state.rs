//! The application's life (CONTRACT 3): its statuses, the events that move it, what must
//! happen next, and how a failure reads to the user.

use std::fmt;

use chrono::{DateTime, TimeDelta, Utc};
use serde::ser::SerializeStruct;
use uuid::Uuid;

use crate::codes::Code;
use crate::deposit::DepositRules;
use crate::platform::EventType;
use crate::report::{Breach, Detail};
use crate::review::ReviewReason;
use crate::store::NewJob;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Status {
    Draft,
    DepositPending,
    AwaitingAmount,
    UnderReview,
    Verified,
    Failed,
    Cancelled,
    /// A confirmed list match holds the verified account (CONTRACT 12).
    Suspended,
}

impl Status {
    pub const ALL: [Status; 8] = [
        Status::Draft,
        Status::DepositPending,
        Status::AwaitingAmount,
        Status::UnderReview,
        Status::Verified,
        Status::Failed,
        Status::Cancelled,
        Status::Suspended,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::DepositPending => "deposit_pending",
            Status::AwaitingAmount => "awaiting_amount",
            Status::UnderReview => "under_review",
            Status::Verified => "verified",
            Status::Failed => "failed",
            Status::Cancelled => "cancelled",
            Status::Suspended => "suspended",
        }
    }

    pub fn parse(input: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.as_str() == input)
    }

    /// Open applications block a second one (`application_in_progress`).
    pub fn is_open(self) -> bool {
        matches!(
            self,
            Status::Draft | Status::DepositPending | Status::AwaitingAmount | Status::UnderReview
        )
    }

    /// A card bound to an application in one of these statuses is `card_in_use` for every
    /// other account: it has been submitted and has not failed.
    pub fn holds_card(self) -> bool {
        matches!(
            self,
            Status::DepositPending
                | Status::AwaitingAmount
                | Status::UnderReview
                | Status::Verified
                | Status::Suspended
        )
    }

    /// Submitted and not yet decided: the account's real-name status is `pending`.
    pub fn is_pending(self) -> bool {
        matches!(
            self,
            Status::DepositPending | Status::AwaitingAmount | Status::UnderReview
        )
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where an application failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Stage {
    Deposit,
    Review,
}

/// Why an application failed, as the user sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub code: Code,
    pub stage: Stage,
    pub can_retry: bool,
    /// The bank's ISO 20022 reason, for `deposit_returned`.
    pub bank_reason: Option<String>,
}

impl Failure {
    pub fn deposit_returned(bank_reason: &str) -> Failure {
        Failure {
            code: Code::DepositReturned,
            stage: Stage::Deposit,
            can_retry: true,
            bank_reason: Some(bank_reason.to_owned()),
        }
    }

    pub fn deposit(code: Code) -> Failure {
        Failure {
            code,
            stage: Stage::Deposit,
            can_retry: true,
            bank_reason: None,
        }
    }

    /// A confirmed list match (CONTRACT 12): final, and its message says nothing of lists.
    pub fn not_eligible() -> Failure {
        Failure {
            code: Code::NotEligible,
            stage: Stage::Review,
            can_retry: false,
            bank_reason: None,
        }
    }

    pub fn rejected(reason: ReviewReason) -> Failure {
        Failure {
            code: reason.code(),
            stage: Stage::Review,
            can_retry: !reason.is_final(),
            bank_reason: None,
        }
    }

    /// A compact, stable form for storage: `code;stage;retry;bank_reason`.
    pub fn encode(&self) -> String {
        let stage = match self.stage {
            Stage::Deposit => "deposit",
            Stage::Review => "review",
        };
        let retry = if self.can_retry { "retry" } else { "final" };
        format!(
            "{};{stage};{retry};{}",
            self.code,
            self.bank_reason.as_deref().unwrap_or("")
        )
    }

    pub fn decode(text: &str) -> Option<Failure> {
        let mut parts = text.splitn(4, ';');
        let code = Code::parse(parts.next()?)?;
        let stage = match parts.next()? {
            "deposit" => Stage::Deposit,
            "review" => Stage::Review,
            _ => return None,
        };
        let can_retry = parts.next()? == "retry";
        let bank_reason = Some(parts.next()?.to_owned()).filter(|r| !r.is_empty());
        Some(Failure {
            code,
            stage,
            can_retry,
            bank_reason,
        })
    }

    fn as_breach(&self) -> Breach {
        let breach = Breach::new("", self.code);
        match &self.bank_reason {
            Some(reason) => breach.with_detail(Detail::BankReason(reason.clone())),
            None => breach,
        }
    }

    pub fn message_en(&self) -> String {
        self.as_breach().message_en()
    }

    pub fn message_zh(&self) -> String {
        self.as_breach().message_zh()
    }
}

impl serde::Serialize for Failure {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut out = s.serialize_struct("Failure", 6)?;
        out.serialize_field("code", &self.code)?;
        out.serialize_field("stage", &self.stage)?;
        out.serialize_field("can_retry", &self.can_retry)?;
        out.serialize_field("message", &self.message_en())?;
        out.serialize_field("message_zh", &self.message_zh())?;
        if let Some(reason) = &self.bank_reason {
            out.serialize_field("bank_reason", reason)?;
        } else {
            out.skip_field("bank_reason")?;
        }
        out.end()
    }
}

/// Something that happens to an application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The user changes the form, the bank card or an image.
    Edit,
    /// The user submits; every rule has been re-checked before this event is raised.
    Submit,
    /// The user submits and list screening holds the identity (CONTRACT 12): the user sees
    /// the same `deposit_pending`, but nothing is paid until the screening case is decided.
    SubmitHeld,
    /// A held application's screening case was dismissed: its payout may go now.
    ScreeningReleased,
    /// A reviewer and a second one confirmed a list match.
    ScreeningConfirmed,
    /// An admin lifted a confirmed match after its entry was delisted.
    Lifted,
    /// The bank credited the deposit to the card.
    DepositSettled,
    /// The bank sent the payout back for a reason about the account, with its ISO 20022
    /// reason code: the card is refused later.
    DepositReturned {
        reason: String,
    },
    AmountAccepted,
    /// The last wrong answer, the `attempts_used`-th.
    AttemptsExhausted {
        attempts_used: u32,
    },
    DepositExpired,
    Approve,
    Reject(ReviewReason),
    Cancel,
}

impl Event {
    pub fn name(&self) -> &'static str {
        match self {
            Event::Edit => "edit",
            Event::Submit => "submit",
            Event::SubmitHeld => "submit_held",
            Event::ScreeningReleased => "screening_released",
            Event::ScreeningConfirmed => "screening_confirmed",
            Event::Lifted => "lifted",
            Event::DepositSettled => "deposit_settled",
            Event::DepositReturned { .. } => "deposit_returned",
            Event::AmountAccepted => "amount_accepted",
            Event::AttemptsExhausted { .. } => "attempts_exhausted",
            Event::DepositExpired => "deposit_expired",
            Event::Approve => "approve",
            Event::Reject(_) => "reject",
            Event::Cancel => "cancel",
        }
    }
}

/// What an event happens to and when, and the settings that say when follow-up work falls
/// due: everything a transition needs to give its effects their data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Moment {
    pub application_id: Uuid,
    pub at: DateTime<Utc>,
    pub deposit: DepositRules,
    pub review_sla: TimeDelta,
    /// Whether the deployment pays through a real rail: the events it makes say so.
    pub livemode: bool,
}

/// How a review case leaves the queue: its stored `outcome`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseClosing {
    Approve,
    Reject,
    /// Without a decision: the bank returned the deposit while it was under review.
    Closed,
}

impl CaseClosing {
    pub fn as_str(self) -> &'static str {
        match self {
            CaseClosing::Approve => "approve",
            CaseClosing::Reject => "reject",
            CaseClosing::Closed => "closed",
        }
    }
}

/// Work that must follow a transition, written in the same transaction (the outbox), with
/// all its data: a store carries it out without deciding anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Queue a job under its idempotency key.
    Queue(NewJob),
    /// The deposit reached the card: the confirmation deadline starts.
    SettleDeposit {
        settled_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    },
    /// Store this count of wrong answers.
    RecordAttempts(u32),
    /// Put the case in the review queue, due at `due_at`.
    OpenReviewCase { due_at: DateTime<Utc> },
    /// Take the case out of the queue, if it is still in it, with its outcome: decided, or
    /// closed because its application failed under review.
    CloseReviewCase {
        at: DateTime<Utc>,
        outcome: CaseClosing,
    },
    /// The bank returned this application's payout for a reason about the account: its card
    /// is refused on later applications (`card_returned_by_bank`).
    BlockCard { reason: String, at: DateTime<Utc> },
    /// Tell the platform: every status change makes exactly one event, in its transaction.
    Publish {
        event: EventType,
        livemode: bool,
        at: DateTime<Utc>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    pub status: Status,
    pub effects: Vec<Effect>,
    pub failure: Option<Failure>,
}

/// An event that the application's status does not allow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub status: Status,
    pub event: &'static str,
}

impl Refused {
    pub fn code(&self) -> Code {
        Code::InvalidState
    }
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} is not allowed while {}", self.event, self.status)
    }
}

/// The one place that says what may happen to an application, and what must follow.
pub fn transition(status: Status, event: &Event, moment: &Moment) -> Result<Transition, Refused> {
    let mut moved = moves(status, event, moment)?;
    if moved.status != status {
        // A suspended account lifted is reinstated, not verified anew.
        let published = match (status, moved.status) {
            (Status::Suspended, Status::Verified) => EventType::Reinstated,
            (_, to) => EventType::of_status(to),
        };
        moved.effects.push(Effect::Publish {
            event: published,
            livemode: moment.livemode,
            at: moment.at,
        });
    }
    Ok(moved)
}

fn moves(status: Status, event: &Event, moment: &Moment) -> Result<Transition, Refused> {
    use Status::*;
    let app = moment.application_id;
    let at = moment.at;
    let to = |status: Status, effects: Vec<Effect>| Transition {
        status,
        effects,
        failure: None,
    };
    let fail = |failure: Failure, effects: Vec<Effect>| Transition {
        status: Failed,
        effects,
        failure: Some(failure),
    };
    let returned = |reason: &String| {
        let mut effects = vec![Effect::BlockCard {
            reason: reason.clone(),
            at,
        }];
        if status == UnderReview {
            effects.push(Effect::CloseReviewCase {
                at,
                outcome: CaseClosing::Closed,
            });
        }
        fail(Failure::deposit_returned(reason), effects)
    };
    match (status, event) {
        (Draft, Event::Edit) => Ok(to(Draft, vec![])),
        (Draft, Event::Submit) => Ok(to(
            DepositPending,
            vec![Effect::Queue(NewJob::pay_deposit(app, at))],
        )),
        (Draft, Event::SubmitHeld) => Ok(to(DepositPending, vec![])),
        (DepositPending, Event::ScreeningReleased) => Ok(to(
            DepositPending,
            vec![Effect::Queue(NewJob::pay_deposit(app, at))],
        )),
        (DepositPending | AwaitingAmount, Event::ScreeningConfirmed) => {
            Ok(fail(Failure::not_eligible(), vec![]))
        }
        (UnderReview, Event::ScreeningConfirmed) => Ok(fail(
            Failure::not_eligible(),
            vec![Effect::CloseReviewCase {
                at,
                outcome: CaseClosing::Closed,
            }],
        )),
        (Verified, Event::ScreeningConfirmed) => Ok(to(Suspended, vec![])),
        (Suspended, Event::Lifted) => Ok(to(Verified, vec![])),
        // A failed application lifted stays failed, but its account may apply again.
        (Failed, Event::Lifted) => Ok(Transition {
            status: Failed,
            effects: vec![],
            failure: Some(Failure {
                can_retry: true,
                ..Failure::not_eligible()
            }),
        }),
        (Draft, Event::Cancel) => Ok(to(Cancelled, vec![])),
        (DepositPending, Event::DepositSettled) => {
            let expires_at = moment.deposit.expires_at(at);
            Ok(to(
                AwaitingAmount,
                vec![
                    Effect::SettleDeposit {
                        settled_at: at,
                        expires_at,
                    },
                    Effect::Queue(NewJob::expire_deposit(app, expires_at)),
                ],
            ))
        }
        // A return can come after the bank first settled (a camt.054 credit back), as long
        // as the application is not decided.
        (DepositPending | AwaitingAmount | UnderReview, Event::DepositReturned { reason }) => {
            Ok(returned(reason))
        }
        (AwaitingAmount, Event::AmountAccepted) => Ok(to(
            UnderReview,
            vec![Effect::OpenReviewCase {
                due_at: at + moment.review_sla,
            }],
        )),
        (AwaitingAmount, Event::AttemptsExhausted { attempts_used }) => Ok(fail(
            Failure::deposit(Code::DepositAttemptsExhausted),
            vec![Effect::RecordAttempts(*attempts_used)],
        )),
        (AwaitingAmount, Event::DepositExpired) => {
            Ok(fail(Failure::deposit(Code::DepositExpired), vec![]))
        }
        (UnderReview, Event::Approve) => Ok(to(
            Verified,
            vec![Effect::CloseReviewCase {
                at,
                outcome: CaseClosing::Approve,
            }],
        )),
        (UnderReview, Event::Reject(reason)) => Ok(fail(
            Failure::rejected(*reason),
            vec![Effect::CloseReviewCase {
                at,
                outcome: CaseClosing::Reject,
            }],
        )),
        (status, event) => Err(Refused {
            status,
            event: event.name(),
        }),
    }
}

/// The account's real-name status (`GET /v1/me`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum RealNameStatus {
    Unverified,
    Pending,
    Verified,
    /// The verified application's documents lapsed (CONTRACT 13).
    Expired,
    /// A confirmed list match holds the account (CONTRACT 12).
    Suspended,
    /// The account was closed: only a platform's read of an old session says so (CONTRACT 9).
    Closed,
}

/// What an account's applications, newest or oldest first, say of it.
pub fn real_name_status<'a>(statuses: impl IntoIterator<Item = &'a Status>) -> RealNameStatus {
    let mut result = RealNameStatus::Unverified;
    for status in statuses {
        if *status == Status::Verified {
            return RealNameStatus::Verified;
        }
        if *status == Status::Suspended {
            return RealNameStatus::Suspended;
        }
        if status.is_pending() {
            result = RealNameStatus::Pending;
        }
    }
    result
}

/// Whether an account may start a new application (CONTRACT 2.8), given the status and
/// failure of each application it already has.
pub fn may_apply<'a>(
    history: impl IntoIterator<Item = (Status, Option<&'a Failure>)>,
) -> Result<(), Code> {
    let mut verdict = Ok(());
    for (status, failure) in history {
        if status == Status::Verified {
            return Err(Code::AlreadyVerified);
        }
        if status == Status::Suspended {
            return Err(Code::ApplicationBlocked);
        }
        if failure.is_some_and(|f| !f.can_retry) {
            verdict = Err(Code::ApplicationBlocked);
        } else if status.is_open() && verdict.is_ok() {
            verdict = Err(Code::ApplicationInProgress);
        }
    }
    verdict
}

#[cfg(test)]
mod tests {
    use super::*;

    fn moment() -> Moment {
        Moment {
            application_id: Uuid::from_u128(7),
            at: DateTime::from_timestamp(1_780_000_000, 0).unwrap_or_default(),
            deposit: DepositRules::default(),
            review_sla: TimeDelta::days(2),
            livemode: false,
        }
    }

    fn all_events() -> Vec<Event> {
        let mut events = vec![
            Event::Edit,
            Event::Submit,
            Event::SubmitHeld,
            Event::ScreeningReleased,
            Event::ScreeningConfirmed,
            Event::DepositSettled,
            Event::DepositReturned {
                reason: "AC04".into(),
            },
            Event::AmountAccepted,
            Event::AttemptsExhausted { attempts_used: 3 },
            Event::DepositExpired,
            Event::Approve,
            Event::Cancel,
        ];
        events.extend(ReviewReason::ALL.into_iter().map(Event::Reject));
        events
    }

    #[test]
    fn the_happy_path() {
        let mut status = Status::Draft;
        let mut effects = Vec::new();
        for event in [
            Event::Edit,
            Event::Submit,
            Event::DepositSettled,
            Event::AmountAccepted,
            Event::Approve,
        ] {
            let t = transition(status, &event, &moment()).unwrap_or_else(|r| panic!("{r}"));
            assert_eq!(t.failure, None);
            status = t.status;
            effects.extend(
                t.effects
                    .into_iter()
                    .filter(|e| !matches!(e, Effect::Publish { .. })),
            );
        }
        assert_eq!(status, Status::Verified);
        let m = moment();
        let expires_at = m.at + TimeDelta::days(10);
        assert_eq!(
            effects,
            [
                Effect::Queue(NewJob::pay_deposit(m.application_id, m.at)),
                Effect::SettleDeposit {
                    settled_at: m.at,
                    expires_at
                },
                Effect::Queue(NewJob::expire_deposit(m.application_id, expires_at)),
                Effect::OpenReviewCase {
                    due_at: m.at + TimeDelta::days(2)
                },
                Effect::CloseReviewCase {
                    at: m.at,
                    outcome: CaseClosing::Approve
                }
            ]
        );
    }

    #[test]
    fn every_failure_path() {
        let returned = transition(
            Status::DepositPending,
            &Event::DepositReturned {
                reason: "AC01".into(),
            },
            &moment(),
        );
        assert_eq!(
            returned.as_ref().map(|t| t.effects.clone()),
            Ok(vec![
                Effect::BlockCard {
                    reason: "AC01".into(),
                    at: moment().at
                },
                Effect::Publish {
                    event: EventType::Failed,
                    livemode: false,
                    at: moment().at
                }
            ])
        );
        let failure = returned.ok().and_then(|t| t.failure);
        assert_eq!(
            failure.as_ref().map(|f| (f.code, f.stage, f.can_retry)),
            Some((Code::DepositReturned, Stage::Deposit, true))
        );
        let message = failure.map(|f| f.message_en()).unwrap_or_default();
        assert!(
            message.contains("AC01") && message.contains("account number is wrong"),
            "{message}"
        );

        // A return after settlement fails the application too, and under review it closes
        // the case.
        let late = transition(
            Status::UnderReview,
            &Event::DepositReturned {
                reason: "AC04".into(),
            },
            &moment(),
        )
        .ok();
        assert_eq!(late.as_ref().map(|t| t.status), Some(Status::Failed));
        assert!(late.is_some_and(|t| {
            t.effects.contains(&Effect::CloseReviewCase {
                at: moment().at,
                outcome: CaseClosing::Closed,
            })
        }));

        for (event, code) in [
            (
                Event::AttemptsExhausted { attempts_used: 3 },
                Code::DepositAttemptsExhausted,
            ),
            (Event::DepositExpired, Code::DepositExpired),
        ] {
            let t = transition(Status::AwaitingAmount, &event, &moment()).ok();
            assert_eq!(t.as_ref().map(|t| t.status), Some(Status::Failed));
            assert_eq!(
                t.and_then(|t| t.failure).map(|f| (f.code, f.can_retry)),
                Some((code, true))
            );
        }

        for reason in ReviewReason::ALL {
            let t = transition(Status::UnderReview, &Event::Reject(reason), &moment()).ok();
            let failure = t.and_then(|t| t.failure);
            assert_eq!(
                failure.as_ref().map(|f| (f.code, f.stage)),
                Some((reason.code(), Stage::Review))
            );
            assert_eq!(failure.map(|f| f.can_retry), Some(!reason.is_final()));
        }
        assert_eq!(
            transition(Status::Draft, &Event::Cancel, &moment()).map(|t| t.status),
            Ok(Status::Cancelled)
        );
    }

    #[test]
    fn a_held_submit_pays_nothing_until_released_and_a_confirmation_is_final() {
        let m = moment();
        let held = transition(Status::Draft, &Event::SubmitHeld, &m).unwrap();
        assert_eq!(held.status, Status::DepositPending);
        assert!(!held.effects.iter().any(|e| matches!(e, Effect::Queue(_))));
        let plain = transition(Status::Draft, &Event::Submit, &m).unwrap();
        assert_eq!(
            held.effects,
            plain.effects[1..],
            "the same event as a plain submit"
        );
        let released = transition(Status::DepositPending, &Event::ScreeningReleased, &m).unwrap();
        assert_eq!(released.status, Status::DepositPending);
        assert_eq!(
            released.effects,
            [Effect::Queue(NewJob::pay_deposit(m.application_id, m.at))]
        );
        let confirmed = transition(Status::UnderReview, &Event::ScreeningConfirmed, &m).unwrap();
        let failure = confirmed.failure.unwrap();
        assert_eq!(
            (failure.code, failure.can_retry, failure.stage),
            (Code::NotEligible, false, Stage::Review)
        );
        assert!(!failure.message_en().to_lowercase().contains("list"));
    }

    #[test]
    fn everything_else_is_refused() {
        let allowed = [
            (Status::Draft, "edit"),
            (Status::Draft, "submit"),
            (Status::Draft, "cancel"),
            (Status::DepositPending, "deposit_settled"),
            (Status::DepositPending, "deposit_returned"),
            (Status::AwaitingAmount, "deposit_returned"),
            (Status::UnderReview, "deposit_returned"),
            (Status::AwaitingAmount, "amount_accepted"),
            (Status::AwaitingAmount, "attempts_exhausted"),
            (Status::AwaitingAmount, "deposit_expired"),
            (Status::UnderReview, "approve"),
            (Status::UnderReview, "reject"),
            (Status::Draft, "submit_held"),
            (Status::DepositPending, "screening_released"),
            (Status::DepositPending, "screening_confirmed"),
            (Status::AwaitingAmount, "screening_confirmed"),
            (Status::UnderReview, "screening_confirmed"),
            (Status::Verified, "screening_confirmed"),
            (Status::Suspended, "lifted"),
            (Status::Failed, "lifted"),
        ];
        for status in Status::ALL {
            for event in all_events() {
                let expected = allowed.contains(&(status, event.name()));
                let result = transition(status, &event, &moment());
                assert_eq!(result.is_ok(), expected, "{status} + {}", event.name());
                if let Err(refused) = result {
                    assert_eq!(refused.code(), Code::InvalidState);
                }
            }
        }
    }

    #[test]
    fn every_status_change_publishes_one_event_and_an_edit_none() {
        for status in Status::ALL {
            for event in all_events() {
                let Ok(t) = transition(status, &event, &moment()) else {
                    continue;
                };
                let published: Vec<&Effect> = t
                    .effects
                    .iter()
                    .filter(|e| matches!(e, Effect::Publish { .. }))
                    .collect();
                if t.status == status {
                    assert!(published.is_empty(), "{status} + {}", event.name());
                } else {
                    assert_eq!(
                        published,
                        [&Effect::Publish {
                            event: EventType::of_status(t.status),
                            livemode: false,
                            at: moment().at
                        }]
                    );
                }
            }
        }
    }

    #[test]
    fn statuses_round_trip() {
        for status in Status::ALL {
            assert_eq!(Status::parse(status.as_str()), Some(status));
        }
        assert_eq!(Status::parse("approved"), None);
    }

    #[test]
    fn one_person_one_identity() {
        let final_failure = Failure::rejected(ReviewReason::SuspectedFraud);
        let retry_failure = Failure::rejected(ReviewReason::DocumentUnreadable);
        assert_eq!(may_apply([]), Ok(()));
        assert_eq!(
            may_apply([
                (Status::Cancelled, None),
                (Status::Failed, Some(&retry_failure))
            ]),
            Ok(())
        );
        for open in [
            Status::Draft,
            Status::DepositPending,
            Status::AwaitingAmount,
            Status::UnderReview,
        ] {
            assert_eq!(may_apply([(open, None)]), Err(Code::ApplicationInProgress));
        }
        assert_eq!(
            may_apply([(Status::Failed, None), (Status::Verified, None)]),
            Err(Code::AlreadyVerified)
        );
        assert_eq!(
            may_apply([(Status::Failed, Some(&final_failure))]),
            Err(Code::ApplicationBlocked)
        );
        assert_eq!(
            may_apply([
                (Status::Draft, None),
                (Status::Failed, Some(&final_failure))
            ]),
            Err(Code::ApplicationBlocked)
        );
    }

    #[test]
    fn real_name_status_of_an_account() {
        assert_eq!(real_name_status(&[]), RealNameStatus::Unverified);
        assert_eq!(
            real_name_status(&[Status::Draft, Status::Failed]),
            RealNameStatus::Unverified
        );
        assert_eq!(
            real_name_status(&[Status::Failed, Status::AwaitingAmount]),
            RealNameStatus::Pending
        );
        assert_eq!(
            real_name_status(&[Status::UnderReview, Status::Verified]),
            RealNameStatus::Verified
        );
    }

    #[test]
    fn failures_survive_storage() {
        for failure in [
            Failure::deposit_returned("AC04"),
            Failure::deposit(Code::DepositExpired),
            Failure::rejected(ReviewReason::SuspectedFraud),
        ] {
            assert_eq!(Failure::decode(&failure.encode()), Some(failure));
        }
        assert_eq!(Failure::decode("nonsense"), None);
    }

    #[test]
    fn a_failure_serialises_with_both_messages() {
        let json = serde_json::to_value(Failure::deposit_returned("AC04")).unwrap_or_default();
        assert_eq!(json["code"], "deposit_returned");
        assert_eq!(json["stage"], "deposit");
        assert_eq!(json["can_retry"], true);
        assert_eq!(json["bank_reason"], "AC04");
        assert!(
            json["message_zh"]
                .as_str()
                .is_some_and(|m| m.contains("账户已销户"))
        );
        let json = serde_json::to_value(Failure::rejected(ReviewReason::DuplicateIdentity))
            .unwrap_or_default();
        assert_eq!(json["can_retry"], false);
        assert_eq!(json["stage"], "review");
        assert!(json.get("bank_reason").is_none());
    }
}
