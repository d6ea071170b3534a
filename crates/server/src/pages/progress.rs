//! Where a user stands in the journey, and which page each standing allows: the step
//! indicator on every journey page (registered → identity → documents → card → deposit →
//! amount → review → result), with when each step was done and what comes next.

use realname_core::documents::{ImageSlot, StayPermitKind};
use realname_core::state::Status;
use realname_core::store::ApplicationRecord;

use super::{Text, china_time_short};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Step {
    Registered,
    Identity,
    Documents,
    Card,
    Deposit,
    Amount,
    Review,
    Result,
}

impl Step {
    const ALL: [Step; 8] = [
        Step::Registered,
        Step::Identity,
        Step::Documents,
        Step::Card,
        Step::Deposit,
        Step::Amount,
        Step::Review,
        Step::Result,
    ];

    fn label(self, t: Text) -> &'static str {
        match self {
            Step::Registered => t.step_registered(),
            Step::Identity => t.step_identity(),
            Step::Documents => t.step_documents(),
            Step::Card => t.step_card(),
            Step::Deposit => t.step_deposit(),
            Step::Amount => t.step_amount(),
            Step::Review => t.step_review(),
            Step::Result => t.step_result(),
        }
    }

    /// What happens at this step, for the user who has not reached it yet.
    fn ahead(self, t: Text) -> &'static str {
        match self {
            Step::Registered | Step::Identity => "",
            Step::Documents => t.ahead_documents(),
            Step::Card => t.ahead_card(),
            Step::Deposit => t.ahead_deposit(),
            Step::Amount => t.ahead_amount(),
            Step::Review => t.ahead_review(),
            Step::Result => t.ahead_result(),
        }
    }
}

/// One step as the indicator shows it.
pub struct ProgressStep {
    pub label: &'static str,
    /// `done`, `current`, `failed` or `todo`.
    pub state: &'static str,
    /// Said to screen readers after the label (the colour and mark say it to the eye).
    pub state_text: &'static str,
    pub at: String,
    pub ahead: &'static str,
}

pub struct Progress {
    pub steps: Vec<ProgressStep>,
}

/// The step an application in `status` is at, once submitted.
fn step_of(status: Status) -> Option<Step> {
    match status {
        Status::Draft => None,
        Status::DepositPending => Some(Step::Deposit),
        Status::AwaitingAmount => Some(Step::Amount),
        Status::UnderReview => Some(Step::Review),
        Status::Verified | Status::Failed | Status::Suspended => Some(Step::Result),
        Status::Cancelled => None,
    }
}

/// The indicator for `current`; with the application, each step done says when, and a
/// failed result says it failed.
pub fn progress(t: Text, current: Step, app: Option<&ApplicationRecord>) -> Progress {
    let at_of = |step: Step| -> String {
        let Some(app) = app else {
            return String::new();
        };
        let when = match step {
            Step::Identity => Some(app.created_at),
            Step::Card => app
                .events
                .iter()
                .find(|e| e.status == Status::DepositPending)
                .map(|e| e.at),
            Step::Deposit => app
                .events
                .iter()
                .find(|e| e.status == Status::AwaitingAmount)
                .map(|e| e.at),
            Step::Amount => app
                .events
                .iter()
                .find(|e| e.status == Status::UnderReview)
                .map(|e| e.at),
            Step::Result | Step::Review => app
                .events
                .iter()
                .find(|e| matches!(e.status, Status::Verified | Status::Failed))
                .map(|e| e.at),
            _ => None,
        };
        when.map(china_time_short).unwrap_or_default()
    };
    let failed = app.is_some_and(|a| a.status == Status::Failed);
    let verified = app.is_some_and(|a| a.status == Status::Verified);
    let mut ahead_said = false;
    let steps = Step::ALL
        .iter()
        .map(|&step| {
            let (state, state_text) = if step < current || (step == current && verified) {
                ("done", t.step_done())
            } else if step == current && failed {
                ("failed", t.step_failed())
            } else if step == current {
                ("current", t.step_current())
            } else {
                ("todo", t.step_todo())
            };
            ProgressStep {
                label: step.label(t),
                state,
                state_text,
                at: if state == "done" {
                    at_of(step)
                } else {
                    String::new()
                },
                // What comes next: the first step ahead says what it will ask.
                ahead: if state == "todo" && !std::mem::replace(&mut ahead_said, true) {
                    step.ahead(t)
                } else {
                    ""
                },
            }
        })
        .collect();
    Progress { steps }
}

/// The indicator of a submitted application's status page, with its times.
pub fn of_application(t: Text, app: &ApplicationRecord) -> Option<Progress> {
    step_of(app.status).map(|step| progress(t, step, Some(app)))
}

/// The slots a draft must have images in, for its proof of stay.
pub fn required_slots(kind: Option<StayPermitKind>) -> &'static [ImageSlot] {
    match kind {
        Some(kind) => ImageSlot::required_for(kind),
        None => &ImageSlot::ALL,
    }
}

/// Where a draft goes on: the first step it has not done (documents, then the card, then
/// the confirmation).
pub fn resume_path(app: &ApplicationRecord, kind: Option<StayPermitKind>) -> String {
    let has = |slot: &ImageSlot| app.images.iter().any(|i| i.slot == slot.as_str());
    let id = app.id;
    if !required_slots(kind).iter().all(has) {
        format!("/verifications/{id}/documents")
    } else if app.card.is_none() {
        format!("/verifications/{id}/bank_card")
    } else {
        format!("/verifications/{id}/confirm")
    }
}
