//! What the domain needs from the outside world, as small traits the outer crates implement:
//! time, encryption and the bank. Storage has its own module, [`crate::store`]. The futures
//! here need no particular runtime; the outer crates bring their own.

use chrono::{DateTime, Utc};

use crate::card::CardNumber;
use crate::deposit::Fen;
use crate::name::RealName;

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
