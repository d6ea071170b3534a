//! What every handler and worker shares.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use realname_core::applicant::china_today;
use realname_core::policy::Policy;
use realname_core::ports::{Clock, PayoutRail, Vault};
use realname_core::store::Store;
use tokio::sync::Notify;

use crate::config::Config;
use crate::vault::AesVault;

/// The system clock, moved forward by the sandbox's offset, which lives in the database so
/// every node agrees on it. With a real rail the offset stays 0.
#[derive(Default)]
pub struct ServiceClock {
    offset_seconds: AtomicI64,
}

impl ServiceClock {
    pub fn set_offset(&self, seconds: i64) {
        self.offset_seconds.store(seconds, Ordering::SeqCst);
    }
}

impl Clock for ServiceClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now() + TimeDelta::seconds(self.offset_seconds.load(Ordering::SeqCst))
    }
}

#[derive(Clone)]
pub struct AppState(pub Arc<Shared>);

pub struct Shared {
    pub store: Arc<dyn Store>,
    pub vault: Arc<AesVault>,
    pub policy: Policy,
    pub config: Config,
    pub clock: ServiceClock,
    pub rail: Arc<dyn PayoutRail>,
    /// Wakes the workers when new work was queued.
    pub wake: Notify,
    /// One worker pass at a time in this process, so that the sandbox clock's "run what fell
    /// due" waits for a pass already under way instead of finding its jobs leased.
    pub work: tokio::sync::Mutex<()>,
}

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl Shared {
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    pub fn today(&self) -> NaiveDate {
        china_today(self.now())
    }

    pub fn sealed_context(table: &str, id: uuid::Uuid) -> Vec<u8> {
        format!("{table}:{id}").into_bytes()
    }

    pub fn seal(
        &self,
        table: &str,
        id: uuid::Uuid,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, crate::error::ApiError> {
        Ok(self
            .vault
            .seal(&Shared::sealed_context(table, id), plaintext)?)
    }

    pub fn open(
        &self,
        table: &str,
        id: uuid::Uuid,
        sealed: &[u8],
    ) -> Result<Vec<u8>, crate::error::ApiError> {
        Ok(self
            .vault
            .open(&Shared::sealed_context(table, id), sealed)?)
    }

    /// The deposit amount, sealed: a secret between the platform and the bank.
    pub fn seal_amount(
        &self,
        id: uuid::Uuid,
        amount: realname_core::deposit::Fen,
    ) -> Result<Vec<u8>, crate::error::ApiError> {
        self.seal("deposits.amount", id, amount.value().to_string().as_bytes())
    }

    pub fn open_amount(
        &self,
        id: uuid::Uuid,
        sealed: &[u8],
    ) -> Result<realname_core::deposit::Fen, crate::error::ApiError> {
        let bytes = self.open("deposits.amount", id, sealed)?;
        std::str::from_utf8(&bytes)
            .ok()
            .and_then(|a| a.parse::<i64>().ok())
            .map(realname_core::deposit::Fen::new)
            .ok_or_else(|| crate::error::ApiError::internal("deposit amount", "unreadable"))
    }

    /// The keyed hash a card number is looked up by, here and in the sandbox bank's ledger.
    pub fn card_hash(&self, card_number: &str) -> Vec<u8> {
        crate::sandbox::card_key(self.vault.as_ref(), card_number)
    }

    pub fn document_hash(&self, number: &str) -> Vec<u8> {
        self.vault
            .blind_index("document_number", number.as_bytes())
            .to_vec()
    }
}
