//! What the domain needs from the outside world, as small traits the outer crates implement:
//! time, encryption, the bank, and durable storage of state changes and the work they cause.
//! The futures here need no particular runtime; the store and rail crates bring their own.

use std::future::Future;

use chrono::{DateTime, TimeDelta, Utc};
use uuid::Uuid;

use crate::card::CardNumber;
use crate::deposit::Fen;
use crate::name::RealName;
use crate::state::{Effect, Status, Transition};

/// The service's time: the system clock, or the sandbox clock that tests move forward.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VaultError {
    /// The ciphertext was altered, belongs to another context, or was sealed under another key.
    #[error("ciphertext cannot be opened with this key and context")]
    Tampered,
    #[error("encryption failed")]
    Failed,
}

/// Encryption at rest (AES-256-GCM under the data key) and keyed hashes for equality look-ups.
pub trait Vault: Send + Sync {
    /// Encrypts `plaintext` bound to `context` (for example the table, column and row it is
    /// stored in), so that a ciphertext copied elsewhere fails to open.
    fn seal(&self, context: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, VaultError>;
    fn open(&self, context: &[u8], ciphertext: &[u8]) -> Result<Vec<u8>, VaultError>;
    /// HMAC-SHA-256 of `value` under a key derived for `domain`: equal values give equal
    /// hashes, and the hash reveals nothing without the key.
    fn blind_index(&self, domain: &str, value: &[u8]) -> [u8; 32];
}

/// One micro-deposit to pay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayoutInstruction {
    /// Unique per application; the bank echoes it in its notices.
    pub end_to_end_id: String,
    pub bank: String,
    pub card_number: CardNumber,
    pub account_name: RealName,
    pub amount: Fen,
}

/// What the bank says of a payout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PayoutNotice {
    Settled {
        end_to_end_id: String,
        at: DateTime<Utc>,
    },
    /// Sent back, with the ISO 20022 reason code (`AC04`, `AC01`, …).
    Returned {
        end_to_end_id: String,
        reason: String,
        at: DateTime<Utc>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RailError {
    /// Worth trying again later: the bank or the file drop could not be reached.
    #[error("payout rail unavailable: {0}")]
    Unavailable(String),
    #[error("payout refused: {0}")]
    Refused(String),
}

/// How money reaches the card.
pub trait PayoutRail: Send + Sync {
    /// Hands one payout to the bank. Handing over the same end-to-end id again must not pay
    /// twice: the rail answers as it did the first time.
    fn pay(&self, payout: &PayoutInstruction)
    -> impl Future<Output = Result<(), RailError>> + Send;

    /// Notices the bank has sent up to `now`, each at least once; the caller de-duplicates
    /// them by end-to-end id.
    fn notices(
        &self,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Vec<PayoutNotice>, RailError>> + Send;
}

/// Work that follows a state change, done later by a worker that claims it with a lease.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobKind {
    PayDeposit,
    ExpireDeposit,
    OpenReviewCase,
    CloseReviewCase,
}

impl JobKind {
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::PayDeposit => "pay_deposit",
            JobKind::ExpireDeposit => "expire_deposit",
            JobKind::OpenReviewCase => "open_review_case",
            JobKind::CloseReviewCase => "close_review_case",
        }
    }

    pub fn parse(input: &str) -> Option<JobKind> {
        [
            JobKind::PayDeposit,
            JobKind::ExpireDeposit,
            JobKind::OpenReviewCase,
            JobKind::CloseReviewCase,
        ]
        .into_iter()
        .find(|k| k.as_str() == input)
    }
}

impl From<Effect> for JobKind {
    fn from(effect: Effect) -> JobKind {
        match effect {
            Effect::PayDeposit => JobKind::PayDeposit,
            Effect::ScheduleDepositExpiry => JobKind::ExpireDeposit,
            Effect::OpenReviewCase => JobKind::OpenReviewCase,
            Effect::CloseReviewCase => JobKind::CloseReviewCase,
        }
    }
}

/// A job as a worker holds it. Its key — (application, kind) — makes doing it twice harmless.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub id: Uuid,
    pub application_id: Uuid,
    pub kind: JobKind,
    pub due_at: DateTime<Utc>,
    pub attempts: u32,
}

/// A transition to make durable, guarded by the status it starts from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateChange {
    pub application_id: Uuid,
    pub from: Status,
    pub transition: Transition,
    pub at: DateTime<Utc>,
    /// When each job of the transition's effects falls due.
    pub jobs: Vec<(JobKind, DateTime<Utc>)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    Done,
    /// Someone else moved the application first; nothing was written.
    Moved {
        current: Status,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule of the data was hit; the string names it.
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("not found")]
    NotFound,
    /// The database cannot be reached now; try again later.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    #[error("store failure: {0}")]
    Failed(String),
}

/// Durable state changes and the outbox of work they cause; the stores implement it for
/// SQLite and PostgreSQL and pass the same conformance suite.
pub trait Store: Send + Sync {
    /// Writes the new status, its event row, and the jobs in ONE transaction, only if the
    /// application is still in `change.from`.
    fn apply(
        &self,
        change: &StateChange,
    ) -> impl Future<Output = Result<Applied, StoreError>> + Send;

    /// Leases up to `limit` jobs due by `now` for `lease`; a job whose lease lapsed (its
    /// worker died) is due again.
    fn claim_jobs(
        &self,
        now: DateTime<Utc>,
        lease: TimeDelta,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<Job>, StoreError>> + Send;

    /// Marks a claimed job done.
    fn finish_job(&self, job: &Job) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Whether the database answers (`/readyz`).
    fn ping(&self) -> impl Future<Output = Result<(), StoreError>> + Send;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_effect_has_a_job_kind_that_round_trips() {
        for effect in [
            Effect::PayDeposit,
            Effect::ScheduleDepositExpiry,
            Effect::OpenReviewCase,
            Effect::CloseReviewCase,
        ] {
            let kind = JobKind::from(effect);
            assert_eq!(JobKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(JobKind::parse("send_flowers"), None);
    }
}
