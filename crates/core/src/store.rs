//! Durable storage, as one trait every database backend implements. The store sees sealed
//! bytes and keyed hashes for personal data, never the plain values: the caller passes
//! everything through the [`crate::ports::Vault`] first.
//!
//! Every state change is one transaction that writes the application's new status, its
//! event, and the work that follows (the outbox: job rows, the review case), guarded by the
//! status it starts from, so concurrent requests and workers cannot both move it.

use chrono::{DateTime, TimeDelta, Utc};
use uuid::Uuid;

use crate::application::CardHistory;
use crate::deposit::RoundLimits;
use crate::platform::{
    ApiKey, DeliveryAttempt, EventQuery, LinkToken, LinkUse, PlatformEvent, PlatformSession,
    WebhookEndpoint,
};
use crate::state::{Failure, Status, Transition};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Role {
    User,
    Reviewer,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Reviewer => "reviewer",
            Role::Admin => "admin",
        }
    }

    pub fn parse(input: &str) -> Option<Role> {
        match input {
            "user" => Some(Role::User),
            "reviewer" => Some(Role::Reviewer),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }

    pub fn is_staff(self) -> bool {
        matches!(self, Role::Reviewer | Role::Admin)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: Uuid,
    pub login: String,
    /// The Argon2id PHC string.
    pub password_hash: String,
    pub role: Role,
    pub created_at: DateTime<Utc>,
}

/// Failed logins for one login name: how many in a row, and until when it is slowed down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Throttle {
    pub failures: u32,
    pub locked_until: Option<DateTime<Utc>>,
}

/// How failed logins slow a login down: after `free_failures` in a row, each further one
/// locks it for `base_seconds`, doubling up to `max_seconds`. With a `window_seconds`, a
/// failure that comes longer than that after the one before starts the count again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottlePolicy {
    pub free_failures: u32,
    pub base_seconds: i64,
    pub max_seconds: i64,
    pub window_seconds: Option<i64>,
}

/// Per login and client address: 4 free, the fifth locks for 30 s, doubling to 15 minutes.
impl Default for ThrottlePolicy {
    fn default() -> Self {
        ThrottlePolicy {
            free_failures: 5,
            base_seconds: 30,
            max_seconds: 15 * 60,
            window_seconds: None,
        }
    }
}

impl ThrottlePolicy {
    /// Per login, whatever the address (CONTRACT 4): after 10 failures within an hour, each
    /// further attempt waits a doubling delay of at most 15 minutes.
    pub fn across_addresses() -> ThrottlePolicy {
        ThrottlePolicy {
            free_failures: 10,
            base_seconds: 30,
            max_seconds: 15 * 60,
            window_seconds: Some(60 * 60),
        }
    }

    /// Per staff account (CONTRACT 4): 5 wrong codes sent with the right password within
    /// 15 minutes, and its second factor takes no code for 15 minutes.
    pub fn second_factor() -> ThrottlePolicy {
        ThrottlePolicy {
            free_failures: 5,
            base_seconds: 15 * 60,
            max_seconds: 15 * 60,
            window_seconds: Some(15 * 60),
        }
    }

    /// Failures before this moment no longer count.
    pub fn counts_since(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.window_seconds.map(|w| now - TimeDelta::seconds(w))
    }

    /// How long the login is locked after its `failures`-th failure in a row.
    pub fn lock_seconds(&self, failures: u32) -> i64 {
        if failures < self.free_failures {
            return 0;
        }
        let doublings = (failures - self.free_failures).min(20);
        self.base_seconds
            .saturating_mul(1 << doublings)
            .min(self.max_seconds)
    }
}

/// What `begin_idempotent` found for a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Idempotency {
    /// First use: the request runs, then `finish_idempotent` stores its answer.
    New,
    /// Seen with the same request: here is the first answer.
    Replay { status: u16, body: Vec<u8> },
    /// Seen with another request.
    Mismatch,
    /// The first request with this key has not answered yet.
    InProgress,
}

/// A key's row as a store keeps it: the first request's hash, and its answer once given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptRequest {
    pub request_hash: Vec<u8>,
    pub status: Option<u16>,
    pub body: Option<Vec<u8>>,
}

impl Idempotency {
    /// What a repeat of a key finds, judged from the row a store read for it (CONTRACT 4):
    /// the one rule for every store.
    pub fn of_repeat(kept: Option<KeptRequest>, request_hash: &[u8]) -> Idempotency {
        match kept {
            // Its row went between the store's insert and its read: the first is still
            // being answered as far as this request can tell.
            None => Idempotency::InProgress,
            Some(kept) if kept.request_hash != request_hash => Idempotency::Mismatch,
            Some(KeptRequest { status: None, .. }) => Idempotency::InProgress,
            Some(KeptRequest {
                status: Some(status),
                body,
                ..
            }) => Idempotency::Replay {
                status,
                body: body.unwrap_or_default(),
            },
        }
    }
}

/// Consent as given (CONTRACT 2.0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consent {
    pub at: DateTime<Utc>,
    pub version: String,
    pub address: String,
}

/// The data key and the look-up key, each sealed under the key-encryption key, and the check
/// value that names that key (CONTRACT 11). Nothing here opens without the key file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedKeys {
    pub kek_check: Vec<u8>,
    pub data_key: Vec<u8>,
    pub lookup_key: Vec<u8>,
    /// The data key a data-key rotation is re-sealing values away from, sealed under the
    /// key-encryption key: present while the rotation runs, so every node opens both.
    pub retired_data_key: Option<Vec<u8>>,
    /// The current data key's id, as every value it seals names it (not secret): a node
    /// whose key-encryption key no longer opens these keys can still tell whether the data
    /// key changed. Absent in a store whose keys were written before ids were kept.
    pub data_key_id: Option<Vec<u8>>,
    pub created_at: DateTime<Utc>,
}

/// A column of sealed values (CONTRACT 11): what a data-key rotation re-seals, one by one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SealedColumn {
    ApplicationForm,
    ApplicationCard,
    Image,
    DepositAmount,
    Transfer,
    IdempotentAnswer,
    WebhookSecret,
    WebhookPreviousSecret,
    SecondFactor,
}

impl SealedColumn {
    pub const ALL: [SealedColumn; 9] = [
        SealedColumn::ApplicationForm,
        SealedColumn::ApplicationCard,
        SealedColumn::Image,
        SealedColumn::DepositAmount,
        SealedColumn::Transfer,
        SealedColumn::IdempotentAnswer,
        SealedColumn::WebhookSecret,
        SealedColumn::WebhookPreviousSecret,
        SealedColumn::SecondFactor,
    ];

    /// Where the column is, for a store to build its statements from.
    pub fn place(self) -> SealedPlace {
        const ID: &[KeyPart] = &[KeyPart::id("id")];
        const APPLICATION: &[KeyPart] = &[KeyPart::id("application_id")];
        const IMAGE: &[KeyPart] = &[KeyPart::id("application_id"), KeyPart::text("slot")];
        const TRANSFER: &[KeyPart] = &[KeyPart::text("end_to_end_id")];
        const ANSWER: &[KeyPart] = &[KeyPart::text("scope"), KeyPart::text("key")];
        let (table, column, key, named_by) = match self {
            SealedColumn::ApplicationForm => ("applications", "form", ID, None),
            SealedColumn::ApplicationCard => ("applications", "card_sealed", ID, None),
            SealedColumn::Image => ("images", "sealed", IMAGE, None),
            SealedColumn::DepositAmount => ("deposits", "amount", APPLICATION, None),
            SealedColumn::Transfer => (
                "rail_transfers",
                "instruction",
                TRANSFER,
                Some("application_id"),
            ),
            SealedColumn::IdempotentAnswer => ("idempotency", "body", ANSWER, None),
            SealedColumn::WebhookSecret => ("webhook_endpoints", "secret", ID, None),
            SealedColumn::WebhookPreviousSecret => {
                ("webhook_endpoints", "previous_secret", ID, None)
            }
            SealedColumn::SecondFactor => ("accounts", "second_factor", ID, None),
        };
        SealedPlace {
            table,
            column,
            key,
            named_by,
        }
    }

    /// `table.column`, for an operator reading progress.
    pub fn name(self) -> String {
        let place = self.place();
        format!("{}.{}", place.table, place.column)
    }
}

/// A sealed column's table, its primary key, and the column that names a value's seal where
/// the key does not.
#[derive(Debug, Clone, Copy)]
pub struct SealedPlace {
    pub table: &'static str,
    pub column: &'static str,
    pub key: &'static [KeyPart],
    pub named_by: Option<&'static str>,
}

/// A column of a primary key: an id (a UUID) or text.
#[derive(Debug, Clone, Copy)]
pub struct KeyPart {
    pub name: &'static str,
    pub is_id: bool,
}

impl KeyPart {
    const fn id(name: &'static str) -> KeyPart {
        KeyPart { name, is_id: true }
    }

    const fn text(name: &'static str) -> KeyPart {
        KeyPart { name, is_id: false }
    }
}

/// One stored sealed value. `row` is its row's primary key, part by part as text (what a
/// batch resumes after and a re-seal is written to), followed, for a transfer, by the
/// application that names its seal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedValue {
    pub row: Vec<String>,
    pub sealed: Vec<u8>,
}

/// A value sealed anew: written only where its row still holds `old`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resealed {
    pub row: Vec<String>,
    pub old: Vec<u8>,
    pub new: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApplication {
    pub id: Uuid,
    pub account_id: Uuid,
    /// The sealed identity form.
    pub form: Vec<u8>,
    /// Keyed hashes of the document numbers, for the duplicate look-up and deposit limits.
    pub document_hashes: Vec<Vec<u8>>,
    /// Warnings as JSON `[{field, code}]`.
    pub warnings: String,
    pub consent: Consent,
    pub at: DateTime<Utc>,
    /// The `verification.created` event says whether it was made beside a real rail.
    pub livemode: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCard {
    pub bank: String,
    /// The sealed bank card form.
    pub sealed: Vec<u8>,
    pub card_hash: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageMeta {
    pub slot: String,
    pub content_type: String,
    pub bytes: u64,
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepositRecord {
    pub end_to_end_id: String,
    /// The sealed amount in fen.
    pub amount: Vec<u8>,
    pub attempts_used: u32,
    pub paid_at: Option<DateTime<Utc>>,
    pub settled_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRecord {
    pub status: Status,
    pub at: DateTime<Utc>,
}

/// An application as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplicationRecord {
    pub id: Uuid,
    pub account_id: Uuid,
    pub status: Status,
    pub form: Vec<u8>,
    pub warnings: String,
    pub card: Option<StoredCard>,
    pub images: Vec<ImageMeta>,
    pub deposit: Option<DepositRecord>,
    pub failure: Option<Failure>,
    pub events: Vec<EventRecord>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The consent the application was made under: when, which text, from where.
    pub consent: Consent,
    /// When its personal data was erased (CONTRACT 11): `form` is then empty, and the card,
    /// the images and the deposit's amount are gone.
    pub redacted_at: Option<DateTime<Utc>>,
}

/// Erasing an application's personal data (CONTRACT 11), all in one transaction: the sealed
/// identity, card and images, the deposit's sealed amount and the rail's sealed instruction
/// go, and with them the answers kept for its account's replays; the status, the status
/// history, the decision, the audit rows and the keyed hashes stay. The store writes the
/// `verification.redacted` event and the audit row beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Erasure {
    pub application_id: Uuid,
    /// The status it must be in (after `cancel`): a change meanwhile leaves it untouched.
    pub status: Status,
    /// An untouched draft is cancelled first, in the same transaction.
    pub cancel: Option<StateChange>,
    pub at: DateTime<Utc>,
    /// The mode of the `verification.redacted` event.
    pub livemode: bool,
    /// Who erased it, and under which rule.
    pub audit: AuditEntry,
    /// The `Idempotency-Key` scope of its account: an answer kept for a replay may quote it.
    pub answers_scope: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Erased {
    Done,
    /// Erased before; nothing was written.
    Already,
    /// No longer in the status the erasure starts from; nothing was written.
    Moved,
    NotFound,
}

/// An application whose retention a sweep found run out, with what the rules read of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionCandidate {
    pub application_id: Uuid,
    pub account_id: Uuid,
    pub status: Status,
    pub failure: Option<Failure>,
    pub updated_at: DateTime<Utc>,
    pub account_closed_at: Option<DateTime<Utc>>,
}

/// Closing a platform's user (CONTRACT 11): the relationship ends, its retention holds
/// start, and a later session for the same id makes a new account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closure {
    pub account_id: Uuid,
    pub at: DateTime<Utc>,
    /// Its open draft, cancelled in the same transaction.
    pub cancel: Option<StateChange>,
    pub audit: AuditEntry,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closed {
    Done,
    /// Closed before, or never bound to a platform's user.
    NotOpen,
    /// An application moved meanwhile (the draft was submitted, or one was started); nothing
    /// was written.
    Moved,
}

/// What a purge forgets: the rows of each kind from before its horizon.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Forget {
    /// Platform events and webhook delivery attempts made before this.
    pub events_before: DateTime<Utc>,
    /// Jobs finished before this.
    pub jobs_before: DateTime<Utc>,
    /// Link tokens that expired before this.
    pub links_before: DateTime<Utc>,
}

/// How many rows of each kind a purge deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Forgotten {
    pub events: u64,
    pub deliveries: u64,
    pub jobs: u64,
    pub links: u64,
}

/// Work that follows a state change, done by a worker that leases it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobKind {
    PayDeposit,
    ExpireDeposit,
    /// An event was written: make one delivery per endpoint that takes it.
    DispatchEvent,
    /// One attempt at delivering an event to one endpoint, tried again on its schedule.
    DeliverEvent,
    /// A rail that sends in batches makes its next batch (about no application; one job for
    /// the whole service, run again at every cut-off).
    SendPayouts,
    /// One slice of the customers screened again after a list changed (CONTRACT 12).
    Rescreen,
}

impl JobKind {
    pub const ALL: [JobKind; 6] = [
        JobKind::PayDeposit,
        JobKind::ExpireDeposit,
        JobKind::DispatchEvent,
        JobKind::DeliverEvent,
        JobKind::SendPayouts,
        JobKind::Rescreen,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::PayDeposit => "pay_deposit",
            JobKind::ExpireDeposit => "expire_deposit",
            JobKind::DispatchEvent => "dispatch_event",
            JobKind::DeliverEvent => "deliver_event",
            JobKind::SendPayouts => "send_payouts",
            JobKind::Rescreen => "rescreen",
        }
    }

    pub fn parse(input: &str) -> Option<JobKind> {
        JobKind::ALL.into_iter().find(|k| k.as_str() == input)
    }
}

/// A job to queue. Its `key` is unique: queueing the same key again changes nothing, so a
/// job is never queued twice, and doing it again after a crash finds its work already done.
/// One application may have many jobs of a kind (under different keys), and a job may be
/// about no application at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJob {
    pub key: String,
    pub kind: JobKind,
    pub application_id: Option<Uuid>,
    /// What else the job is about, as its kind reads it (an event id; an event and an
    /// endpoint).
    pub subject: Option<String>,
    pub due_at: DateTime<Utc>,
}

impl NewJob {
    /// The one payout of an application.
    pub fn pay_deposit(application_id: Uuid, due_at: DateTime<Utc>) -> NewJob {
        NewJob {
            key: format!("pay_deposit:{application_id}"),
            kind: JobKind::PayDeposit,
            application_id: Some(application_id),
            subject: None,
            due_at,
        }
    }

    /// The confirmation deadline of an application's deposit.
    pub fn expire_deposit(application_id: Uuid, due_at: DateTime<Utc>) -> NewJob {
        NewJob {
            key: format!("expire_deposit:{application_id}"),
            kind: JobKind::ExpireDeposit,
            application_id: Some(application_id),
            subject: None,
            due_at,
        }
    }

    /// The fan-out of one event to the endpoints that take it.
    pub fn dispatch_event(event_id: &str, application_id: Uuid, due_at: DateTime<Utc>) -> NewJob {
        NewJob {
            key: format!("dispatch_event:{event_id}"),
            kind: JobKind::DispatchEvent,
            application_id: Some(application_id),
            subject: Some(event_id.to_owned()),
            due_at,
        }
    }

    /// One of the [`RESCREEN_SHARDS`] slices of a re-screening after `version` (a source and
    /// its version) came into force, from the application after `after` on. Each batch
    /// queues the next under its own key in the transaction that writes the batch, so a
    /// re-screening resumes where it stopped and screens each subject once.
    pub fn rescreen(
        version: &str,
        shard: u8,
        after: Option<Uuid>,
        due_at: DateTime<Utc>,
    ) -> NewJob {
        let from = after.map_or_else(|| "start".to_owned(), |a| a.to_string());
        NewJob {
            key: format!("rescreen:{version}:{shard}:{from}"),
            kind: JobKind::Rescreen,
            application_id: None,
            subject: Some(format!("{shard}/{from}/{version}")),
            due_at,
        }
    }

    /// The batches of a rail that sends in batches: one job, run again at every cut-off.
    pub fn send_payouts(due_at: DateTime<Utc>) -> NewJob {
        NewJob {
            key: "send_payouts".into(),
            kind: JobKind::SendPayouts,
            application_id: None,
            subject: None,
            due_at,
        }
    }

    /// The delivery of one event to one endpoint; `round` tells a resend from the first.
    pub fn deliver_event(
        event_id: &str,
        endpoint_id: Uuid,
        round: &str,
        due_at: DateTime<Utc>,
    ) -> NewJob {
        NewJob {
            key: format!("deliver_event:{event_id}:{endpoint_id}:{round}"),
            kind: JobKind::DeliverEvent,
            application_id: None,
            subject: Some(format!("{event_id} {endpoint_id}")),
            due_at,
        }
    }
}

/// A leased job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub id: Uuid,
    pub key: String,
    pub kind: JobKind,
    pub application_id: Option<Uuid>,
    pub subject: Option<String>,
    pub due_at: DateTime<Utc>,
    pub attempts: u32,
}

/// How many slices a re-screening is cut into (by the first hex digit of the application's
/// id), so that the nodes share it.
pub const RESCREEN_SHARDS: u8 = 16;

/// An application to screen again, as a re-screening reads it: the sealed identity, where it
/// stands now, and its screening cases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RescreenCandidate {
    pub application_id: Uuid,
    pub account_id: Uuid,
    pub status: crate::state::Status,
    pub form: Vec<u8>,
    pub screening: Option<ScreeningSubject>,
    /// Its screening case that awaits work (undecided or reopened), if any.
    pub open_case: Option<Uuid>,
    /// Its latest confirmed screening case and that case's run's hits.
    pub confirmed: Option<(Uuid, String)>,
}

/// What one batch of a re-screening writes, in one transaction with its job's end and the
/// next batch's job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RescreenBatch {
    pub job: Job,
    pub at: DateTime<Utc>,
    pub next: Option<NewJob>,
    pub screenings: Vec<NewScreening>,
    /// Confirmed cases whose entries no new version holds: `(application, case)`, reopened
    /// as delisted, with `screening.delisted`.
    pub delisted: Vec<(Uuid, Uuid)>,
    pub list_versions: String,
    pub livemode: bool,
}

impl Job {
    /// A `rescreen` job's slice, where it starts, and the version it follows.
    pub fn rescreen(&self) -> Option<(u8, Option<Uuid>, &str)> {
        if self.kind != JobKind::Rescreen {
            return None;
        }
        let mut parts = self.subject.as_deref()?.splitn(3, '/');
        let shard = parts.next()?.parse().ok()?;
        let after = match parts.next()? {
            "start" => None,
            id => Some(Uuid::parse_str(id).ok()?),
        };
        Some((shard, after, parts.next()?))
    }

    /// The event and the endpoint of a `deliver_event` job, as [`NewJob::deliver_event`]
    /// wrote them; `None` for any other job.
    pub fn delivery(&self) -> Option<(&str, Uuid)> {
        if self.kind != JobKind::DeliverEvent {
            return None;
        }
        let (event_id, endpoint) = self.subject.as_deref()?.split_once(' ')?;
        Some((event_id, Uuid::parse_str(endpoint).ok()?))
    }
}

/// A new event's id: `evt_` and 32 hex digits of `id` (a random one), the same on every
/// delivery of the event (`webhook-id`).
pub fn event_id(id: Uuid) -> String {
    format!("evt_{}", id.simple())
}

/// A transition to make durable: the new status, its event, and its effects, which carry
/// everything they write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateChange {
    pub application_id: Uuid,
    pub from: Status,
    pub transition: Transition,
    pub at: DateTime<Utc>,
}

impl StateChange {
    pub fn new(
        application_id: Uuid,
        from: Status,
        transition: Transition,
        at: DateTime<Utc>,
    ) -> StateChange {
        StateChange {
            application_id,
            from,
            transition,
            at,
        }
    }
}

/// What became of a bank message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageApplied {
    Applied,
    /// A message of this type and `MsgId` was applied before; nothing was written.
    AlreadyApplied,
    /// An application was no longer in the status a change starts from; nothing was
    /// written, and the caller works the changes out again.
    Moved,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    Done,
    /// The application was not in the expected status (or attempt count); nothing was written.
    Moved,
}

/// Everything `submit` needs; the store checks the limits inside its transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmitCommand {
    pub application_id: Uuid,
    pub account_id: Uuid,
    pub transition: Transition,
    pub at: DateTime<Utc>,
    pub card_hash: Vec<u8>,
    pub document_hashes: Vec<Vec<u8>>,
    pub warnings: String,
    /// The store counts the rounds of the card and the documents inside its transaction;
    /// these limits judge them.
    pub limits: RoundLimits,
    pub end_to_end_id: String,
    pub sealed_amount: Vec<u8>,
    /// The screening run at submit (CONTRACT 12), written in the same transaction.
    pub screening: Option<NewScreening>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubmitOutcome {
    Submitted,
    /// Not a draft any more (another submit won, or it was cancelled).
    Moved,
    DepositLimitReached,
    CardReturnedByBank,
    CardInUse,
}

/// What the review queue needs of an application beside its case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseFacts {
    pub application_id: Uuid,
    /// The sealed identity, for the flags that need the applicant's dates; `None` once it
    /// was erased.
    pub form: Option<Vec<u8>>,
    /// Another account's application that carries one of this one's documents (by keyed
    /// hash): the earliest made, when several do.
    pub duplicate_of: Option<Uuid>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CaseFilter {
    /// Undecided, unclaimed, awaiting its first decision.
    Open,
    Claimed,
    /// Undecided, unclaimed, decided once and awaiting a second staff member.
    AwaitingSecondApproval,
    /// A confirmed screening case whose entry a new list version no longer holds.
    Delisted,
    Decided,
}

/// What a case is about (CONTRACT 2.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CaseKind {
    Application,
    Screening,
    /// A verified customer's periodic review, when their grade's review falls due (CONTRACT 14).
    Periodic,
}

impl CaseKind {
    pub const ALL: [CaseKind; 3] = [
        CaseKind::Application,
        CaseKind::Screening,
        CaseKind::Periodic,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CaseKind::Application => "application",
            CaseKind::Screening => "screening",
            CaseKind::Periodic => "periodic",
        }
    }

    pub fn parse(text: &str) -> Option<CaseKind> {
        CaseKind::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

/// The first of a case's two decisions (CONTRACT 2.7, four eyes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirstDecision {
    pub by: Uuid,
    pub at: DateTime<Utc>,
    pub outcome: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseRecord {
    pub id: Uuid,
    pub application_id: Uuid,
    pub account_id: Uuid,
    pub submitted_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    pub claimed_by: Option<Uuid>,
    pub claimed_until: Option<DateTime<Utc>>,
    pub decided_at: Option<DateTime<Utc>>,
    pub outcome: Option<String>,
    pub kind: CaseKind,
    pub first: Option<FirstDecision>,
    /// A screening case: the run that raised it.
    pub run_id: Option<Uuid>,
    /// A screening case reopened because its entry was delisted.
    pub reopened_at: Option<DateTime<Utc>>,
    /// A confirmed screening case: the report made to the authorities.
    pub report_reference: Option<String>,
}

impl CaseRecord {
    /// Who holds the case's claim at `now`, if anyone: a claim holds up to and including its
    /// last instant, `claimed_until`, as the queue's `claimed` filter counts it. The one rule
    /// for the API, the pages and the stores (CONTRACT 2.7).
    pub fn claimant_at(&self, now: DateTime<Utc>) -> Option<Uuid> {
        match (self.claimed_by, self.claimed_until) {
            (Some(by), Some(until)) if self.is_open() && now <= until => Some(by),
            _ => None,
        }
    }

    /// Whether the case awaits work: undecided, or reopened (a delisted entry).
    pub fn is_open(&self) -> bool {
        self.decided_at.is_none() || self.reopened_at.is_some()
    }

    /// Whether `staff` holds the case's claim at `now`.
    pub fn held_by(&self, staff: Uuid, now: DateTime<Utc>) -> bool {
        self.claimant_at(now) == Some(staff)
    }
}

/// One grading of an application under the risk policy (CONTRACT 14).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskGradeRecord {
    pub id: Uuid,
    pub application_id: Uuid,
    pub grade: crate::risk::Grade,
    pub score: u32,
    pub factors: Vec<(crate::risk::Factor, u32)>,
    pub policy_version: String,
    pub graded_at: DateTime<Utc>,
    /// When the grade asks for a periodic review; none for a grade reviewed at renewal.
    pub next_review_at: Option<DateTime<Utc>>,
}

/// What a claim or a decision of a case came to (CONTRACT 2.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseWrite {
    /// Claimed, or decided: the store wrote it.
    Done,
    HeldByAnother,
    Decided,
    NotFound,
}

impl CaseWrite {
    /// Whether `reviewer` may claim `case` (as the store read it inside its transaction) at
    /// `now`: judged here, once, for every store; `Done` lets the store write the claim.
    pub fn claim(case: Option<&CaseRecord>, reviewer: Uuid, now: DateTime<Utc>) -> CaseWrite {
        match case {
            None => CaseWrite::NotFound,
            Some(case) if !case.is_open() => CaseWrite::Decided,
            Some(case) if case.claimant_at(now).is_some_and(|by| by != reviewer) => {
                CaseWrite::HeldByAnother
            }
            Some(_) => CaseWrite::Done,
        }
    }

    /// Whether `reviewer` may decide `case` at `at`: only while holding its claim.
    pub fn decision(case: Option<&CaseRecord>, reviewer: Uuid, at: DateTime<Utc>) -> CaseWrite {
        match case {
            None => CaseWrite::NotFound,
            Some(case) if !case.is_open() => CaseWrite::Decided,
            Some(case) if !case.held_by(reviewer, at) => CaseWrite::HeldByAnother,
            Some(_) => CaseWrite::Done,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    pub actor: Uuid,
    pub action: String,
    pub application_id: Option<Uuid>,
    /// JSON with what was seen or decided; never a plain personal value.
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule of the data was hit; the string names it.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The database cannot be reached now; try again later.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    #[error("store failure: {0}")]
    Failed(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Accounts and what guards them: sessions, the second factor, sign-in throttles, known
/// clients, idempotency keys and rate windows.
#[async_trait::async_trait]
pub trait Accounts: Send + Sync {
    // Accounts and sessions.
    /// `Conflict("login")` when the login is taken.
    async fn create_account(&self, account: &Account) -> StoreResult<()>;
    async fn account_by_login(&self, login: &str) -> StoreResult<Option<Account>>;
    /// The logins of these accounts (disabled ones included: the audit trail names them),
    /// for pages that say who did what; unknown ids are left out.
    async fn logins(
        &self,
        account_ids: &[Uuid],
    ) -> StoreResult<std::collections::HashMap<Uuid, String>>;
    async fn create_session(
        &self,
        token_hash: &[u8],
        account_id: Uuid,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// The account of a session that has not expired by `now`, and that may use the JSON API
    /// (not a session a platform's link opened for the pages).
    async fn session_account(
        &self,
        token_hash: &[u8],
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Account>>;
    async fn delete_session(&self, token_hash: &[u8]) -> StoreResult<()>;
    /// Gives an account a new second factor (its TOTP secret, sealed), with no step used yet;
    /// false when there is no such account that is not disabled.
    async fn set_second_factor(&self, account_id: Uuid, sealed_secret: &[u8]) -> StoreResult<bool>;
    /// The sealed TOTP secret of an account, if it has one.
    async fn second_factor(&self, account_id: Uuid) -> StoreResult<Option<Vec<u8>>>;
    /// Takes TOTP step `step` for the account when it is later than every step taken before,
    /// in one statement, so that a code opens one session however many nodes it is sent to.
    async fn take_second_factor_step(&self, account_id: Uuid, step: i64) -> StoreResult<bool>;
    /// Ends an account's sign-ins and every one of its sessions at once; false when there is no
    /// such account that is not already disabled.
    async fn disable_account(&self, account_id: Uuid, at: DateTime<Utc>) -> StoreResult<bool>;
    async fn throttle(&self, login_key: &str) -> StoreResult<Throttle>;
    /// Counts a failed login and, past the policy's free failures, slows the login down.
    async fn record_login_failure(
        &self,
        login_key: &str,
        now: DateTime<Utc>,
        policy: &ThrottlePolicy,
    ) -> StoreResult<Throttle>;
    async fn clear_login_failures(&self, login_key: &str) -> StoreResult<()>;
    /// Remembers that `account_id` signed in from each client (keyed hashes of an address or
    /// of a browser's token) at `at`.
    async fn remember_clients(
        &self,
        account_id: Uuid,
        clients: &[Vec<u8>],
        at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Whether `account_id` signed in from any of `clients` at or after `since`.
    async fn knows_client(
        &self,
        account_id: Uuid,
        clients: &[Vec<u8>],
        since: DateTime<Utc>,
    ) -> StoreResult<bool>;

    // Idempotency keys (CONTRACT 4).
    async fn begin_idempotent(
        &self,
        scope: &str,
        key: &str,
        request_hash: &[u8],
        now: DateTime<Utc>,
    ) -> StoreResult<Idempotency>;
    async fn finish_idempotent(
        &self,
        scope: &str,
        key: &str,
        status: u16,
        body: &[u8],
    ) -> StoreResult<()>;
    /// Forgets a key whose request failed on the server's side, so a retry can run.
    async fn abandon_idempotent(&self, scope: &str, key: &str) -> StoreResult<()>;
    async fn purge_idempotent(&self, before: DateTime<Utc>) -> StoreResult<u64>;
    /// Counts `hits` more requests in `bucket` (a client address or an API key, with what it
    /// asks) for the minute starting at `window`; answers the count so far, these included.
    /// One statement, so nodes counting together never lose a hit.
    async fn count_hits(&self, bucket: &str, window: DateTime<Utc>, hits: u32) -> StoreResult<u32>;
    /// Deletes sessions that expired before `sessions_before`, and failed-login counters
    /// that last counted before `throttles_before` and lock nothing at `now`.
    async fn purge_lapsed(
        &self,
        sessions_before: DateTime<Utc>,
        throttles_before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<u64>;
}

/// Applications, their drafts and documents, the submit that pays a deposit, and every status
/// change through the transition's effects.
#[async_trait::async_trait]
pub trait Applications: Send + Sync {
    // Applications.
    /// `Conflict("application_in_progress")` when the account already has an open one.
    async fn create_application(&self, application: &NewApplication) -> StoreResult<()>;
    async fn application(&self, id: Uuid) -> StoreResult<Option<ApplicationRecord>>;
    /// The account's applications, newest first.
    async fn applications_of(&self, account_id: Uuid) -> StoreResult<Vec<ApplicationRecord>>;
    /// Replaces a draft's form and returns the application as stored after the change;
    /// `None` unless it is still a draft. (The answer comes from the write itself: reading it
    /// again cost PostgreSQL a second round trip per `PATCH`.)
    async fn update_draft(
        &self,
        id: Uuid,
        form: &[u8],
        document_hashes: &[Vec<u8>],
        warnings: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<ApplicationRecord>>;
    async fn set_card(
        &self,
        id: Uuid,
        card: &StoredCard,
        at: DateTime<Utc>,
    ) -> StoreResult<Applied>;
    async fn put_image(
        &self,
        id: Uuid,
        meta: &ImageMeta,
        sealed: &[u8],
        at: DateTime<Utc>,
    ) -> StoreResult<Applied>;
    async fn image(&self, id: Uuid, slot: &str) -> StoreResult<Option<(ImageMeta, Vec<u8>)>>;
    /// Whether the bank returned a payout to this card, and whether another account's
    /// submitted or verified application holds it.
    async fn card_history(&self, account_id: Uuid, card_hash: &[u8]) -> StoreResult<CardHistory>;
    /// Draft → deposit_pending with its one deposit and its payout job, in one transaction,
    /// after checking the card's history and the deposit limits inside it.
    async fn submit(&self, command: &SubmitCommand) -> StoreResult<SubmitOutcome>;
    /// Any other transition, guarded by `change.from` (and the attempt count it replaces).
    async fn apply(&self, change: &StateChange) -> StoreResult<Applied>;
    /// Applies one message from the bank all or nothing: records it by its key (once), makes
    /// `changes`, brings the file rail's transfers and files up to date with its notices (a
    /// payout settled, returned, or to go again at the message's `resend_at`), and keeps
    /// `unmatched` for the operator.
    async fn apply_bank_message(
        &self,
        message: &crate::ports::BankMessage,
        changes: &[StateChange],
        unmatched: &[crate::ports::UnmatchedEntry],
        at: DateTime<Utc>,
    ) -> StoreResult<MessageApplied>;
    /// Stores a wrong answer that leaves attempts: `Moved` when the count was not
    /// `attempts_before` (a concurrent answer won), so the caller judges again.
    async fn record_wrong_answer(
        &self,
        id: Uuid,
        attempts_before: u32,
        at: DateTime<Utc>,
    ) -> StoreResult<Applied>;
}

/// The outbox: jobs the workers lease, and the deposits a bank's notices name.
#[async_trait::async_trait]
pub trait Jobs: Send + Sync {
    // The outbox.
    /// Queues a job that no transition writes (a payout batch, a purge); `false` when its
    /// key was queued before.
    async fn queue_job(&self, job: &NewJob) -> StoreResult<bool>;
    async fn claim_jobs(
        &self,
        now: DateTime<Utc>,
        lease_seconds: i64,
        limit: u32,
    ) -> StoreResult<Vec<Job>>;
    async fn finish_job(&self, job: &Job, at: DateTime<Utc>) -> StoreResult<()>;
    /// Puts a job back to run at `due_at` (its work failed for now).
    async fn retry_job(&self, job: &Job, due_at: DateTime<Utc>) -> StoreResult<()>;
    /// Records that the payout of `id` was handed to the bank.
    async fn mark_deposit_paid(&self, id: Uuid, at: DateTime<Utc>) -> StoreResult<()>;
    /// The application and status behind a payout's end-to-end id. The caller turns a bank
    /// notice into a [`StateChange`] from that status; `apply` records it once.
    async fn deposit_application(&self, end_to_end_id: &str)
    -> StoreResult<Option<(Uuid, Status)>>;
    /// [`Jobs::deposit_application`] for many payouts in one read (a bank file names
    /// thousands): those found, by end-to-end id.
    async fn deposit_applications(
        &self,
        end_to_end_ids: &[String],
    ) -> StoreResult<std::collections::HashMap<String, (Uuid, Status)>>;
}

/// Review cases, their claims and decisions, and the audit trail.
#[async_trait::async_trait]
pub trait Review: Send + Sync {
    // Review.
    async fn review_cases(
        &self,
        filter: CaseFilter,
        kind: Option<CaseKind>,
        now: DateTime<Utc>,
        after: Option<(DateTime<Utc>, Uuid)>,
        limit: u32,
    ) -> StoreResult<Vec<CaseRecord>>;
    async fn review_case(&self, id: Uuid) -> StoreResult<Option<CaseRecord>>;
    /// The case of an application, if it reached review.
    async fn review_case_of(&self, application_id: Uuid) -> StoreResult<Option<CaseRecord>>;
    /// What the flags of these applications' cases need, in one round trip whatever their
    /// number, so a page of the queue costs the same few queries at any length. Unknown ids
    /// are left out.
    async fn case_facts(&self, application_ids: &[Uuid]) -> StoreResult<Vec<CaseFacts>>;
    async fn claim_case(
        &self,
        id: Uuid,
        reviewer: Uuid,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> StoreResult<CaseWrite>;
    /// Decides a case held by `reviewer` at `now`: the application's transition, the case's
    /// outcome and the audit entry in one transaction.
    async fn decide_case(
        &self,
        id: Uuid,
        reviewer: Uuid,
        change: &StateChange,
        audit: &AuditEntry,
    ) -> StoreResult<CaseWrite>;

    /// The first of two approvals of an application case, while the case is as `case` and
    /// held by `reviewer`: recorded on it with the audit entry, its claim let go.
    async fn first_approval(
        &self,
        case: &CaseRecord,
        reviewer: Uuid,
        audit: &AuditEntry,
    ) -> StoreResult<CaseWrite>;

    /// Keeps a grading of an application; a change of a verified application's grade
    /// publishes `verification.risk_changed` with it.
    async fn record_grade(&self, grade: &RiskGradeRecord, livemode: bool) -> StoreResult<()>;
    /// The latest grading of each of these applications that has one.
    async fn grades_of(&self, application_ids: &[Uuid]) -> StoreResult<Vec<RiskGradeRecord>>;
    /// Up to `limit` verified applications whose grade asked for a review by `now` and that
    /// have no periodic review open (CONTRACT 14).
    async fn reviews_due(&self, now: DateTime<Utc>, limit: u32) -> StoreResult<Vec<Uuid>>;
    /// Up to `limit` verified applications never graded (verified before grading existed).
    async fn ungraded(&self, limit: u32) -> StoreResult<Vec<Uuid>>;
    /// Opens a periodic review of a verified application; `false` when one is open already.
    async fn open_periodic(
        &self,
        case: Uuid,
        application: Uuid,
        at: DateTime<Utc>,
        due_at: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// Closes a periodic review held by `reviewer`, the grade standing, with its audit entry.
    async fn close_periodic(
        &self,
        case: &CaseRecord,
        reviewer: Uuid,
        audit: &AuditEntry,
    ) -> StoreResult<CaseWrite>;

    // Audit.
    async fn append_audit(&self, entry: &AuditEntry) -> StoreResult<()>;
    async fn audit_trail(
        &self,
        application_id: Option<Uuid>,
        limit: u32,
    ) -> StoreResult<Vec<AuditEntry>>;
}

/// The platform API's keys, its users and sessions, one-time links and the event feed.
#[async_trait::async_trait]
pub trait Platform: Send + Sync {
    // Platform API keys (CONTRACT 9).
    /// `Conflict("api_key")` when the prefix or hash is taken.
    async fn create_api_key(&self, key: &ApiKey) -> StoreResult<()>;
    /// The key with this keyed hash, revoked or not.
    async fn api_key(&self, key_hash: &[u8]) -> StoreResult<Option<ApiKey>>;
    /// Every key, oldest first.
    async fn api_keys(&self) -> StoreResult<Vec<ApiKey>>;
    /// Ends a key at once; `false` when no unrevoked key has this prefix.
    async fn revoke_api_key(&self, prefix: &str, at: DateTime<Utc>) -> StoreResult<bool>;
    /// Records that the key was used, at most once a minute, so that every request does not
    /// write.
    async fn touch_api_key(&self, prefix: &str, at: DateTime<Utc>) -> StoreResult<()>;

    // The platform's users and sessions (CONTRACT 9).
    /// The open account bound to a platform's user id.
    async fn platform_account(&self, external_user_id: &str) -> StoreResult<Option<Uuid>>;
    /// The open account bound to `external_user_id`, making `account` and binding it first
    /// when there is none; several callers at once reach the same account.
    async fn link_platform_user(
        &self,
        external_user_id: &str,
        account: &Account,
    ) -> StoreResult<Uuid>;
    /// The platform user id an account is bound to.
    async fn external_user_of(&self, account_id: Uuid) -> StoreResult<Option<String>>;
    async fn create_platform_session(
        &self,
        session: &PlatformSession,
        link: &LinkToken,
    ) -> StoreResult<()>;
    async fn platform_session(&self, id: Uuid) -> StoreResult<Option<PlatformSession>>;
    /// Another link into a session; earlier ones stay good until they expire.
    async fn add_link(&self, link: &LinkToken) -> StoreResult<()>;
    /// Uses a link up, once: of several uses at once, one finds it good.
    async fn use_link(&self, token_hash: &[u8], now: DateTime<Utc>) -> StoreResult<LinkUse>;
    /// The session a link opens into and whether the link is still good, without using it
    /// (what a link preview sees).
    async fn link(
        &self,
        token_hash: &[u8],
        now: DateTime<Utc>,
    ) -> StoreResult<Option<(PlatformSession, bool)>>;
    /// A session for the pages only: it never authenticates the JSON API.
    async fn create_page_session(
        &self,
        token_hash: &[u8],
        account_id: Uuid,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// The account of any live session, the pages' own included.
    async fn page_session_account(
        &self,
        token_hash: &[u8],
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Account>>;

    // The platform's event feed: written by the transitions themselves (Effect::Publish, and
    // `create_application` for `verification.created`).
    async fn events(&self, query: &EventQuery) -> StoreResult<Vec<PlatformEvent>>;
    async fn event(&self, id: &str) -> StoreResult<Option<PlatformEvent>>;
}

/// Webhook endpoints and the record of their deliveries.
#[async_trait::async_trait]
pub trait Webhooks: Send + Sync {
    // Webhook endpoints and their deliveries (CONTRACT 9).
    async fn create_webhook_endpoint(&self, endpoint: &WebhookEndpoint) -> StoreResult<()>;
    /// Every endpoint, oldest first.
    async fn webhook_endpoints(&self) -> StoreResult<Vec<WebhookEndpoint>>;
    async fn webhook_endpoint(&self, id: Uuid) -> StoreResult<Option<WebhookEndpoint>>;
    /// Replaces what a caller can change of an endpoint: its url, events, description and
    /// status. Its secrets are left as stored (a copy read earlier may be under a data key a
    /// rotation has since replaced). `false` when there is no such endpoint.
    async fn update_webhook_endpoint(&self, endpoint: &WebhookEndpoint) -> StoreResult<bool>;
    /// A new signing secret: the stored one becomes the previous secret, as it is stored now,
    /// signing beside the new one until `previous_expires_at`. `false` when there is no such
    /// endpoint.
    async fn rotate_webhook_secret(
        &self,
        id: Uuid,
        secret: &[u8],
        previous_expires_at: DateTime<Utc>,
    ) -> StoreResult<bool>;
    async fn delete_webhook_endpoint(&self, id: Uuid) -> StoreResult<bool>;
    async fn record_delivery_attempt(&self, attempt: &DeliveryAttempt) -> StoreResult<()>;
    /// An endpoint's attempts, newest first, before a position.
    async fn delivery_attempts(
        &self,
        endpoint_id: Uuid,
        before: Option<i64>,
        limit: u32,
    ) -> StoreResult<Vec<DeliveryAttempt>>;
}

/// The vault's keys and the sealed values a key rotation reads and writes anew.
#[async_trait::async_trait]
pub trait Keys: Send + Sync {
    // The vault's keys (CONTRACT 11), sealed under the key-encryption key.
    async fn vault_keys(&self) -> StoreResult<Option<SealedKeys>>;
    /// Writes `keys` unless keys are stored already, and answers the keys stored: when two
    /// nodes start a new store together, both end up with the first one's.
    async fn init_vault_keys(&self, keys: &SealedKeys) -> StoreResult<SealedKeys>;
    /// Replaces the stored keys with `keys` in one statement (a rotation: the keys sealed under
    /// a new key-encryption key, or a new data key), if they are still `expected` (their
    /// key-encryption key, data key and retired data key); `false` when they are not
    /// (another rotation came first).
    async fn replace_vault_keys(
        &self,
        expected: &SealedKeys,
        keys: &SealedKeys,
    ) -> StoreResult<bool>;
    /// Up to `limit` values of `column` whose first bytes are not `current` (the header of
    /// values sealed under the current data key), after the row `after`, in row order.
    /// Absent and erased (empty) values are not sealed values and are left out.
    async fn sealed_values(
        &self,
        column: SealedColumn,
        current: &[u8],
        after: Option<&[String]>,
        limit: u32,
    ) -> StoreResult<Vec<SealedValue>>;
    /// Writes each re-sealed value in one transaction, where its row still holds the bytes
    /// read (a value the service sealed anew meanwhile is left as it is); answers how many
    /// were written.
    async fn reseal_values(&self, column: SealedColumn, values: Vec<Resealed>) -> StoreResult<u64>;
    /// How many values of `column` begin with `prefix` (every stored one, for an empty
    /// prefix), without reading them: absent and erased values are not counted.
    async fn count_sealed(&self, column: SealedColumn, prefix: &[u8]) -> StoreResult<u64>;
    /// Whether anything sealed or hashed under the vault's keys is stored: an application, an
    /// API key, a platform link, a webhook endpoint. Accounts alone are not (their password
    /// hashes are no key's).
    async fn holds_data(&self) -> StoreResult<bool>;
    /// One application's sealed form, to prove that a key opens this store's data.
    async fn sample_sealed(&self) -> StoreResult<Option<(Uuid, Vec<u8>)>>;
}

/// Whether the store answers, and the end of a record's life: erasure, retention, a platform
/// user's closure, and the history kept only for a while.
#[async_trait::async_trait]
pub trait Lifecycle: Send + Sync {
    /// Whether the database answers (`/readyz`).
    async fn ping(&self) -> StoreResult<()>;

    // Erasure (CONTRACT 11).
    /// Erases one application's personal data, as [`Erasure`] says.
    async fn erase(&self, erasure: &Erasure) -> StoreResult<Erased>;
    /// Applications not yet erased whose retention has run out by `due`, oldest first, at
    /// most `limit`.
    async fn retention_due(
        &self,
        due: &crate::retention::Due,
        limit: u32,
    ) -> StoreResult<Vec<RetentionCandidate>>;
    /// Makes sure what was erased is gone from the files too (SQLite: a WAL checkpoint); run
    /// after each batch of erasures.
    async fn settle_erasures(&self) -> StoreResult<()> {
        Ok(())
    }
    /// When the account's relationship ended (its platform user was closed).
    async fn account_closed_at(&self, account_id: Uuid) -> StoreResult<Option<DateTime<Utc>>>;
    /// Closes a platform's user, as [`Closure`] says: its sessions and unused links end, and
    /// the id is free for a new account.
    async fn close_platform_user(&self, closure: &Closure) -> StoreResult<Closed>;

    /// Forgets the history that is kept for a while only (CONTRACT 11): platform events and
    /// delivery attempts, finished jobs and expired links, each older than its horizon. An
    /// application's status history is not among them, and `sequence` goes on counting.
    async fn purge_history(&self, forget: &Forget) -> StoreResult<Forgotten>;
}

/// The sandbox clock, and the store's one mode for life.
#[async_trait::async_trait]
pub trait Sandbox: Send + Sync {
    // The sandbox clock, kept in the database so every node agrees on it.
    async fn sandbox_offset(&self) -> StoreResult<i64>;
    /// Moves the clock `seconds` forward unless its offset would pass `at_most` (`None`: not
    /// moved), judged in the same statement so two nodes cannot pass the bound together.
    async fn advance_sandbox_clock(&self, seconds: i64, at_most: i64) -> StoreResult<Option<i64>>;

    // The store's mode (CONTRACT 9): the core's `ModeFacts::check` decides what a start may do.
    async fn mode_facts(&self) -> StoreResult<crate::platform::ModeFacts>;
    /// Writes `mode` where the store has none, or replaces `seen` (the mode the caller read)
    /// with it; answers the mode the store holds afterwards, so that of two nodes starting
    /// together the one that lost sees the other's.
    async fn write_mode(
        &self,
        mode: crate::platform::KeyMode,
        seen: Option<crate::platform::KeyMode>,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<crate::platform::KeyMode>>;
}

/// One source's list version as stored (CONTRACT 12): its identity (the SHA-256 of its
/// files), how many entries it holds and when it was imported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListVersionRecord {
    pub source: String,
    pub version: String,
    pub entries: u32,
    pub imported_at: DateTime<Utc>,
}

/// A listed entry as the store keeps it: its id within its source, and the screening crate's
/// JSON of it (the store reads nothing inside).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredEntry {
    pub entry_id: String,
    pub data: String,
}

/// A new version of one source, to replace the one in force whole.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListImport {
    pub version: ListVersionRecord,
    pub entries: Vec<StoredEntry>,
}

/// What an import did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Imported {
    /// The version is in force now; `replaced` is the one it replaced, if any.
    New { replaced: Option<String> },
    /// The same version was in force already: nothing changed.
    Unchanged,
}

/// Where a screened application stands (CONTRACT 12), as the platform reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ScreeningStatus {
    Clear,
    PotentialMatch,
    Dismissed,
    Confirmed,
    Delisted,
}

impl ScreeningStatus {
    pub const ALL: [ScreeningStatus; 5] = [
        ScreeningStatus::Clear,
        ScreeningStatus::PotentialMatch,
        ScreeningStatus::Dismissed,
        ScreeningStatus::Confirmed,
        ScreeningStatus::Delisted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ScreeningStatus::Clear => "clear",
            ScreeningStatus::PotentialMatch => "potential_match",
            ScreeningStatus::Dismissed => "dismissed",
            ScreeningStatus::Confirmed => "confirmed",
            ScreeningStatus::Delisted => "delisted",
        }
    }

    pub fn parse(text: &str) -> Option<ScreeningStatus> {
        ScreeningStatus::ALL
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

/// An application's screening as it stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScreeningSubject {
    pub application_id: Uuid,
    pub status: ScreeningStatus,
    pub screened_at: DateTime<Utc>,
    /// `[{"source", "version"}]` as JSON: the versions the last run was against.
    pub list_versions: String,
    /// Whether a hold is in force: no payout, no approval, until its case is decided.
    pub held: bool,
    /// Whether a source that flags (and never holds) had a hit.
    pub flagged: bool,
}

/// One screening run, kept with the identity records: subject, time, trigger (`submit` or
/// `list_change`), list versions, result, and the hits (the screening crate's JSON, with each
/// hit's action and disposition).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScreeningRun {
    pub id: Uuid,
    pub application_id: Uuid,
    pub at: DateTime<Utc>,
    pub trigger: String,
    pub list_versions: String,
    pub status: ScreeningStatus,
    pub hits: String,
}

/// A run to write with what it decides: where its subject stands after it, and, when it
/// holds its subject, the screening case it opens and the event the platform gets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewScreening {
    pub run: ScreeningRun,
    pub held: bool,
    pub flagged: bool,
    /// The case (its id and due time) a potential match opens.
    pub case: Option<(Uuid, DateTime<Utc>)>,
    /// Whether the event it makes is a live one.
    pub livemode: bool,
}

/// A screening case's decision, as the store writes it in one transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScreeningDecision {
    /// The case as the decision read it: the write happens only while it is still so.
    pub case: CaseRecord,
    pub reviewer: Uuid,
    pub at: DateTime<Utc>,
    pub step: ScreeningStep,
    pub audit: AuditEntry,
}

/// What a screening decision does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScreeningStep {
    /// The first of two decisions: the case awaits a second staff member's.
    First {
        outcome: String,
        report_reference: Option<String>,
    },
    /// Not the listed person: the hold ends, the journey goes on (`change` releases a held
    /// payout), and the hits are remembered for this identity and these entries' versions.
    Dismiss {
        identity_hash: Vec<u8>,
        /// `(source, entry_id, entry_version)` of each hit dismissed.
        entries: Vec<(String, String, String)>,
        change: Option<StateChange>,
        list_versions: String,
        livemode: bool,
    },
    /// An admin lifts a confirmed match whose entry was delisted: a suspended account is
    /// reinstated, a failed application's account may apply again; the subject is clear.
    Lift { change: Option<StateChange> },
    /// The listed person: the application fails (`not_eligible`).
    Confirm {
        report_reference: Option<String>,
        change: Option<StateChange>,
        list_versions: String,
        livemode: bool,
    },
}

/// The screening lists (CONTRACT 12).
#[async_trait::async_trait]
pub trait Screening: Send + Sync {
    /// Each source's version in force, by source.
    async fn list_versions(&self) -> StoreResult<Vec<ListVersionRecord>>;
    /// Puts `import` in force for its source in one transaction, replacing that source's
    /// entries and no other's; the same version again changes nothing.
    async fn import_list(&self, import: &ListImport) -> StoreResult<Imported>;
    /// The entries of every source's version in force, with their source.
    async fn listed_entries(&self) -> StoreResult<Vec<(String, StoredEntry)>>;
    /// The hits dismissed for an identity: `(source, entry_id, entry_version)`.
    async fn dismissals(&self, identity_hash: &[u8]) -> StoreResult<Vec<(String, String, String)>>;
    /// Where each of these applications stands, for those screened.
    async fn screening_of(&self, applications: &[Uuid]) -> StoreResult<Vec<ScreeningSubject>>;
    /// An application's runs, oldest first.
    async fn screening_runs(&self, application: Uuid) -> StoreResult<Vec<ScreeningRun>>;
    /// Writes a screening decision while its case is as it was read; `HeldByAnother` or
    /// `Decided` when it is not.
    async fn decide_screening(&self, decision: &ScreeningDecision) -> StoreResult<CaseWrite>;
    /// Up to `limit` applications of slice `shard` after `after`, in id order, that a new list
    /// version must reach: verified or suspended ones, those submitted and not yet decided,
    /// and those failed as `not_eligible` (so that delisting reaches them); never one of a
    /// closed account, nor one whose personal data was erased.
    async fn rescreen_candidates(
        &self,
        shard: u8,
        after: Option<Uuid>,
        limit: u32,
    ) -> StoreResult<Vec<RescreenCandidate>>;
    /// Writes a re-screening batch, ends its job and queues the next, in one transaction.
    async fn rescreen_batch(&self, batch: &RescreenBatch) -> StoreResult<()>;
}

/// The store the service is given: every role at once. An engine implements each role; a
/// feature that needs new records adds a role, or a method to the role it belongs to.
pub trait Store:
    Accounts
    + Applications
    + Jobs
    + Review
    + Platform
    + Webhooks
    + Keys
    + Lifecycle
    + Sandbox
    + Screening
{
}

impl<
    T: Accounts
        + Applications
        + Jobs
        + Review
        + Platform
        + Webhooks
        + Keys
        + Lifecycle
        + Sandbox
        + Screening,
> Store for T
{
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_key_replays_refuses_or_waits() {
        let kept = |hash: &[u8], status: Option<u16>| KeptRequest {
            request_hash: hash.to_vec(),
            status,
            body: status.map(|_| b"{}".to_vec()),
        };
        assert_eq!(
            Idempotency::of_repeat(Some(kept(b"a", Some(201))), b"a"),
            Idempotency::Replay {
                status: 201,
                body: b"{}".to_vec()
            }
        );
        assert_eq!(
            Idempotency::of_repeat(Some(kept(b"a", Some(201))), b"b"),
            Idempotency::Mismatch
        );
        assert_eq!(
            Idempotency::of_repeat(Some(kept(b"a", None)), b"a"),
            Idempotency::InProgress
        );
        assert_eq!(Idempotency::of_repeat(None, b"a"), Idempotency::InProgress);
    }

    #[test]
    fn a_claim_holds_to_its_last_instant_and_not_once_decided() {
        let t = DateTime::parse_from_rfc3339("2026-11-26T08:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let (rita, sam) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let case = CaseRecord {
            id: Uuid::from_u128(3),
            application_id: Uuid::from_u128(4),
            account_id: Uuid::from_u128(5),
            submitted_at: t,
            due_at: t,
            claimed_by: Some(rita),
            claimed_until: Some(t),
            decided_at: None,
            outcome: None,
            kind: CaseKind::Application,
            first: None,
            run_id: None,
            reopened_at: None,
            report_reference: None,
        };
        assert_eq!(case.claimant_at(t), Some(rita), "at the boundary instant");
        assert!(case.held_by(rita, t) && !case.held_by(sam, t));
        assert_eq!(case.claimant_at(t + TimeDelta::microseconds(1)), None);
        // Claims and decisions are judged from the case as read, one rule for every store.
        let later = t + TimeDelta::microseconds(1);
        assert_eq!(CaseWrite::claim(None, sam, t), CaseWrite::NotFound);
        assert_eq!(
            CaseWrite::claim(Some(&case), sam, t),
            CaseWrite::HeldByAnother
        );
        assert_eq!(CaseWrite::claim(Some(&case), sam, later), CaseWrite::Done);
        assert_eq!(CaseWrite::claim(Some(&case), rita, t), CaseWrite::Done);
        assert_eq!(CaseWrite::decision(Some(&case), rita, t), CaseWrite::Done);
        assert_eq!(
            CaseWrite::decision(Some(&case), rita, later),
            CaseWrite::HeldByAnother
        );
        let decided = CaseRecord {
            decided_at: Some(t),
            ..case
        };
        assert_eq!(decided.claimant_at(t), None);
        assert_eq!(
            CaseWrite::claim(Some(&decided), rita, t),
            CaseWrite::Decided
        );
        assert_eq!(
            CaseWrite::decision(Some(&decided), rita, t),
            CaseWrite::Decided
        );
    }

    #[test]
    fn names_round_trip() {
        for kind in JobKind::ALL {
            assert_eq!(JobKind::parse(kind.as_str()), Some(kind));
        }
        for role in [Role::User, Role::Reviewer, Role::Admin] {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert!(Role::Admin.is_staff() && !Role::User.is_staff());
    }

    #[test]
    fn failed_logins_lock_longer_each_time() {
        let p = ThrottlePolicy::default();
        assert_eq!(p.lock_seconds(4), 0);
        assert_eq!(p.lock_seconds(5), 30);
        assert_eq!(p.lock_seconds(6), 60);
        assert_eq!(p.lock_seconds(10), 900);
        assert_eq!(p.lock_seconds(u32::MAX), 900);
    }
}
