//! What the domain needs from the outside world, as small traits the outer crates implement:
//! time, encryption, the bank, and the sandbox bank's ledger. Storage has its own module,
//! [`crate::store`]. The futures
//! here need no particular runtime; the outer crates bring their own.

use chrono::{DateTime, Utc};

use uuid::Uuid;

use crate::card::CardNumber;
use crate::deposit::Fen;
use crate::documents::{DocumentNumber, ImageSlot};
use crate::name::RealName;
use crate::store::StoreResult;

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
    /// This node cannot be sure it seals under the store's current data key: the store's keys
    /// moved to a data key its key-encryption key cannot open, or it has not been able to
    /// read them for a while. It seals nothing until it catches up (or restarts with the new
    /// key file), so nothing is sealed under a key a rotation is about to forget.
    #[error(
        "this node is behind the store's keys (a new data key it cannot open, or keys it could not read lately); it seals nothing until it catches up or restarts with the new key file"
    )]
    KeysBehind,
}

/// Where a sealed value is stored: the context it is bound to, so that a ciphertext copied to
/// another column or row fails to open. The byte forms are stored data's: never change one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SealContext {
    /// The identity of an application.
    ApplicationForm(Uuid),
    /// The bank card bound to an application.
    ApplicationCard(Uuid),
    /// The deposit amount: a secret between the platform and the bank.
    DepositAmount(Uuid),
    /// A document image of an application.
    Image(ImageSlot, Uuid),
    /// A webhook endpoint's signing secret.
    WebhookSecret(Uuid),
    /// An answer kept for `Idempotency-Key` replays, named by the SHA-256 of its caller's
    /// scope and key.
    IdempotentAnswer([u8; 32]),
    /// A staff account's TOTP secret.
    SecondFactor(Uuid),
    /// A payout a file rail holds until the bank has answered for it, named by its
    /// application.
    Transfer(Uuid),
    /// What a page form carried over a redirect (its typed values and errors), kept for a
    /// few minutes in the browser's own cookie: never stored by the service.
    PageFlash,
}

impl SealContext {
    pub fn bytes(&self) -> Vec<u8> {
        match self {
            SealContext::ApplicationForm(id) => format!("applications.form:{id}"),
            SealContext::ApplicationCard(id) => format!("applications.card:{id}"),
            SealContext::DepositAmount(id) => format!("deposits.amount:{id}"),
            SealContext::Image(slot, id) => format!("images.{}:{id}", slot.as_str()),
            SealContext::WebhookSecret(id) => format!("webhook_endpoints.secret:{id}"),
            SealContext::SecondFactor(id) => format!("accounts.second_factor:{id}"),
            SealContext::Transfer(id) => format!("rail_transfers.instruction:{id}"),
            SealContext::PageFlash => "pages.flash".to_owned(),
            SealContext::IdempotentAnswer(name) => {
                let hex: String = name.iter().map(|b| format!("{b:02x}")).collect();
                format!("idempotency.answer:{hex}")
            }
        }
        .into_bytes()
    }
}

/// What a keyed hash is for: each use has its own domain, so equal inputs of different kinds
/// never give equal hashes. The names are stored data's: never change one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lookup {
    CardNumber,
    DocumentNumber,
    /// Platform API keys: the store keeps only this hash of each.
    ApiKey,
    /// Single-use links of platform sessions.
    LinkToken,
    /// Where an account signed in from: a client address or a browser's token.
    SignInClient,
    /// An identity as list screening saw it: a dismissed hit is remembered for it.
    ScreenedIdentity,
    /// A review case's id, for the random sample of approvals that need a second approver.
    SecondApprovalSample,
}

impl Lookup {
    pub fn domain(self) -> &'static str {
        match self {
            Lookup::CardNumber => "card_number",
            Lookup::DocumentNumber => "document_number",
            Lookup::ApiKey => "api_key",
            Lookup::LinkToken => "link_token",
            Lookup::SignInClient => "sign_in_client",
            Lookup::ScreenedIdentity => "screened_identity",
            Lookup::SecondApprovalSample => "second_approval_sample",
        }
    }
}

/// Encryption at rest (AES-256-GCM under the data key) and keyed hashes for equality look-ups.
pub trait Vault: Send + Sync {
    /// Encrypts `plaintext` bound to where it is stored.
    fn seal(&self, context: SealContext, plaintext: &[u8]) -> Result<Vec<u8>, VaultError>;
    fn open(&self, context: SealContext, ciphertext: &[u8]) -> Result<Vec<u8>, VaultError>;
    /// HMAC-SHA-256 of `value` under a key derived for `lookup`: equal values give equal
    /// hashes, and the hash reveals nothing without the key.
    fn keyed_hash(&self, lookup: Lookup, value: &[u8]) -> [u8; 32];

    /// Takes up the store's keys as they are now (a data-key rotation began or ended on
    /// another node); `true` when they changed. A vault of fixed keys has nothing to follow.
    fn follow(&self, keys: &crate::store::SealedKeys) -> Result<bool, VaultError> {
        let _ = keys;
        Ok(false)
    }

    /// The hash a card is looked up by: its history with the bank, the deposit limits, the
    /// sandbox bank's statement.
    fn card_hash(&self, card: &CardNumber) -> Vec<u8> {
        self.keyed_hash(Lookup::CardNumber, card.expose().as_bytes())
            .to_vec()
    }

    /// The hash a document is looked up by: duplicates across accounts, the deposit limits.
    fn document_hash(&self, number: &DocumentNumber) -> Vec<u8> {
        self.keyed_hash(Lookup::DocumentNumber, number.expose().as_bytes())
            .to_vec()
    }
}

/// One micro-deposit to pay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayoutInstruction {
    pub application_id: Uuid,
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
    /// Not paid, for a reason about the platform or its bank (`AM04`, `RC01`, …): the user
    /// is not at fault, and the rail sends the payout again.
    Refused {
        end_to_end_id: String,
        reason: String,
    },
    /// The bank's word on one of the rail's files as a whole.
    File { msg_id: String, answer: FileAnswer },
    /// An entry the bank sent that names no payout (no end-to-end id): kept and reported.
    Unnamed { what: String },
}

/// What a bank said of a whole file the rail sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileAnswer {
    /// Received and read (`ACCP`, `ACTC`, `PART`, …): the transfers' own answers follow.
    Received { status: String },
    /// Refused for its form (`FF01`, `AM10`, …): nothing of it is paid; its payouts go
    /// again in a new file.
    Refused { reason: String },
    /// The bank already holds a file with this `MsgId` (`DUPL`): nothing changes.
    Duplicate,
}

impl PayoutNotice {
    /// The payout the notice is about, if it names one.
    pub fn end_to_end_id(&self) -> Option<&str> {
        match self {
            PayoutNotice::Settled { end_to_end_id, .. }
            | PayoutNotice::Returned { end_to_end_id, .. }
            | PayoutNotice::Refused { end_to_end_id, .. } => Some(end_to_end_id),
            PayoutNotice::File { .. } | PayoutNotice::Unnamed { .. } => None,
        }
    }
}

/// A message's identity at the bank: its type and `MsgId`. A message is applied once by it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MessageKey {
    pub kind: String,
    pub msg_id: String,
}

/// One message from the bank, applied all or nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BankMessage {
    /// None for a rail whose notices are not messages of their own (the sandbox bank).
    pub key: Option<MessageKey>,
    /// Where the rail found it (a file's name), for the operator.
    pub source: String,
    pub notices: Vec<PayoutNotice>,
    /// When payouts the message refuses for a reason that is not the user's go again.
    pub resend_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RailError {
    /// Worth trying again later: the bank or the file drop could not be reached.
    #[error("payout rail unavailable: {0}")]
    Unavailable(String),
    #[error("payout refused: {0}")]
    Refused(String),
}

/// What one attempt came to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SendOutcome {
    pub status: Option<u16>,
    /// The receiver's `Retry-After`.
    pub retry_after: Option<std::time::Duration>,
    /// Why no answer came (short; never the body, a secret or the URL).
    pub error: Option<String>,
}

impl SendOutcome {
    pub fn delivered(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }

    pub fn gone(&self) -> bool {
        self.status == Some(410)
    }
}

/// How events leave the service.
#[async_trait::async_trait]
pub trait WebhookSender: Send + Sync {
    /// Whether `url` may be an endpoint: `https://`, or `http://` into an allowed network,
    /// and not pointing at a non-public address outside `webhooks.allow_cidrs`.
    async fn admit(&self, url: &str) -> Result<(), crate::report::WebhookUrlProblem>;
    /// A new signing secret (`whsec_…`).
    fn new_secret(&self) -> Result<String, String>;
    /// One attempt: the body signed with every secret, sent to the address checked just
    /// before, with `timestamp` (real time) in `webhook-timestamp`.
    async fn send(
        &self,
        url: &str,
        secrets: &[String],
        event_id: &str,
        timestamp: i64,
        body: Vec<u8>,
    ) -> SendOutcome;
}

/// How money reaches the card.
#[async_trait::async_trait]
pub trait PayoutRail: Send + Sync {
    /// Hands one payout to the bank at `now`. Handing over the same end-to-end id again must
    /// not pay twice: the rail answers as it did the first time.
    async fn pay(&self, payout: &PayoutInstruction, now: DateTime<Utc>) -> Result<(), RailError>;

    /// Notices the bank has sent up to `now`, each at least once; the caller de-duplicates
    /// them by end-to-end id.
    async fn notices(&self, now: DateTime<Utc>) -> Result<Vec<PayoutNotice>, RailError>;

    /// Forgets notices the caller has recorded, so they are not sent again.
    async fn acknowledge(&self, end_to_end_ids: &[String]) -> Result<(), RailError>;

    /// What the bank has sent up to `now`, message by message; the caller applies each in
    /// one transaction and then calls [`PayoutRail::finish`]. A rail that reports payout by
    /// payout gives its notices as one message without a key.
    async fn messages(&self, now: DateTime<Utc>) -> Result<Vec<BankMessage>, RailError> {
        let notices = self.notices(now).await?;
        if notices.is_empty() {
            return Ok(Vec::new());
        }
        Ok(vec![BankMessage {
            key: None,
            source: String::new(),
            notices,
            resend_at: now,
        }])
    }

    /// The caller has applied `message` (or found it applied before).
    async fn finish(&self, message: &BankMessage) -> Result<(), RailError> {
        let ids: Vec<String> = message
            .notices
            .iter()
            .filter_map(|n| n.end_to_end_id().map(str::to_owned))
            .collect();
        self.acknowledge(&ids).await
    }

    /// How often a rail that sends in batches wants [`PayoutRail::send_due`] called; `None`
    /// for a rail that pays as it is told.
    fn batch_every(&self) -> Option<chrono::TimeDelta> {
        None
    }

    /// For a rail that sends in batches: sends what is due at `now`.
    async fn send_due(&self, now: DateTime<Utc>) -> Result<(), RailError> {
        let _ = now;
        Ok(())
    }
}

impl BankMessage {
    /// What the message leaves for the operator: `kept` (entries the caller could not
    /// match), then the message's own entries that named no payout.
    pub fn unmatched(&self, kept: &[UnmatchedEntry], at: DateTime<Utc>) -> Vec<UnmatchedEntry> {
        let unnamed = self.notices.iter().filter_map(|n| match n {
            PayoutNotice::Unnamed { what } => Some(UnmatchedEntry {
                message: self.key.clone(),
                source: self.source.clone(),
                reference: None,
                what: what.clone(),
                at,
            }),
            _ => None,
        });
        kept.iter().cloned().chain(unnamed).collect()
    }
}

/// A payout a file rail holds until the bank has seen it through: its instruction sealed
/// under [`SealContext::Transfer`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldTransfer {
    pub end_to_end_id: String,
    pub application_id: Uuid,
    pub sealed: Vec<u8>,
}

/// A file of transfers the rail has made, by its `MsgId`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingFile {
    pub msg_id: String,
    pub created_at: DateTime<Utc>,
    pub transfers: Vec<HeldTransfer>,
}

/// A file sent and not yet answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentFile {
    pub msg_id: String,
    pub transfers: u32,
    pub written_at: DateTime<Utc>,
}

/// A payout the bank refused for a reason that is not the user's, waiting to go again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitingTransfer {
    pub end_to_end_id: String,
    pub reason: String,
    pub due_at: DateTime<Utc>,
    pub sends: u32,
}

/// An entry of a bank message that matched no payout, or whose change was no longer
/// possible.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnmatchedEntry {
    /// The message it came in, when it has a key.
    pub message: Option<MessageKey>,
    pub source: String,
    /// The end-to-end id it named, if any.
    pub reference: Option<String>,
    pub what: String,
    pub at: DateTime<Utc>,
}

/// What `realname rail status` prints.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RailReport {
    pub awaiting_report: Vec<SentFile>,
    /// Payouts held and not yet in a file.
    pub held: u64,
    /// Payouts in a file the bank has not settled or returned yet.
    pub sent: u64,
    pub settled: u64,
    pub returned: u64,
    pub waiting_to_resend: Vec<WaitingTransfer>,
    /// The newest first, at most 100.
    pub unmatched: Vec<UnmatchedEntry>,
}

/// A file rail's own records: the payouts it holds and the files it has made. The stores keep
/// them in the service's database, so every node sees the same rail; what the bank answers is
/// applied to them by [`crate::store::Applications::apply_bank_message`], in the same transaction
/// as the applications it moves.
#[async_trait::async_trait]
pub trait TransferLedger: Send + Sync {
    /// Holds a payout to send from `due_at`, once per end-to-end id; a repeat changes nothing.
    async fn hold(&self, transfer: &HeldTransfer, due_at: DateTime<Utc>) -> StoreResult<()>;
    /// Puts up to `max` held payouts due by `now` into a new file `msg_id`, in one
    /// transaction, and answers them; when none is due no file is made.
    async fn take_batch(
        &self,
        msg_id: &str,
        now: DateTime<Utc>,
        max: u32,
    ) -> StoreResult<Vec<HeldTransfer>>;
    /// Files made and never recorded written (a crash came between): to be written again
    /// under the same `MsgId`, which the bank refuses to pay twice.
    async fn unwritten(&self) -> StoreResult<Vec<OutgoingFile>>;
    /// The file is whole in the bank's folder.
    async fn written(&self, msg_id: &str, at: DateTime<Utc>) -> StoreResult<()>;
    async fn rail_report(&self) -> StoreResult<RailReport>;
}

/// One line of the sandbox bank's statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxTransaction {
    pub amount_fen: i64,
    pub memo: String,
    pub at: DateTime<Utc>,
}

/// A payout the sandbox bank has taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxPayout {
    pub end_to_end_id: String,
    pub card_hash: Vec<u8>,
    pub amount_fen: i64,
    pub memo: String,
    pub paid_at: DateTime<Utc>,
    pub settle_at: DateTime<Utc>,
    /// Set when the bank sends the payout back instead of crediting it.
    pub return_reason: Option<String>,
}

/// The sandbox bank's ledger. It lives in the service's own database (so that every node of a
/// cluster sees the same bank), but it is the bank's, not the service's: only the sandbox
/// rail uses it, and a deployment with a real rail never touches it.
#[async_trait::async_trait]
pub trait SandboxLedger: Send + Sync {
    /// Records a payout once per end-to-end id; a repeat changes nothing.
    async fn pay(&self, payout: &SandboxPayout) -> StoreResult<()>;
    /// What the holder of the card sees by `now`.
    async fn statement(
        &self,
        card_hash: &[u8],
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<SandboxTransaction>>;
    /// Payouts whose outcome is due by `now` and not yet acknowledged.
    async fn due(&self, now: DateTime<Utc>) -> StoreResult<Vec<SandboxPayout>>;
    async fn acknowledge(&self, end_to_end_ids: &[String]) -> StoreResult<()>;
}
