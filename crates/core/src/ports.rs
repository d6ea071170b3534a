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
}

impl Lookup {
    pub fn domain(self) -> &'static str {
        match self {
            Lookup::CardNumber => "card_number",
            Lookup::DocumentNumber => "document_number",
            Lookup::ApiKey => "api_key",
            Lookup::LinkToken => "link_token",
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
