//! The sandbox bank: a payout rail whose ledger lives in the service's own database, with
//! test cards that the bank returns, a settle delay, and a statement the user can read.

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use realname_core::ports::{PayoutInstruction, PayoutNotice, PayoutRail, RailError, Vault};
use realname_core::store::{SandboxPayout, Store, StoreError};

pub const MEMO: &str = "realname verification deposit / 实名认证打款";

pub struct SandboxBank<V> {
    store: Arc<dyn Store>,
    vault: Arc<V>,
    settle_after: TimeDelta,
}

/// The ISO 20022 return reason the sandbox bank gives a test card, if any.
pub fn return_reason(card_number: &str) -> Option<&'static str> {
    if card_number.ends_with("0002") {
        Some("AC04")
    } else if card_number.ends_with("0010") {
        Some("AC01")
    } else {
        None
    }
}

fn unavailable(e: StoreError) -> RailError {
    RailError::Unavailable(e.to_string())
}

impl<V: Vault> SandboxBank<V> {
    pub fn new(store: Arc<dyn Store>, vault: Arc<V>, settle_after: TimeDelta) -> SandboxBank<V> {
        SandboxBank {
            store,
            vault,
            settle_after,
        }
    }
}

pub fn card_key<V: Vault + ?Sized>(vault: &V, card_number: &str) -> Vec<u8> {
    vault
        .blind_index("card_number", card_number.as_bytes())
        .to_vec()
}

#[async_trait::async_trait]
impl<V: Vault + 'static> PayoutRail for SandboxBank<V> {
    async fn pay(&self, payout: &PayoutInstruction, now: DateTime<Utc>) -> Result<(), RailError> {
        let number = payout.card_number.expose();
        let record = SandboxPayout {
            end_to_end_id: payout.end_to_end_id.clone(),
            card_hash: card_key(self.vault.as_ref(), number),
            amount_fen: payout.amount.value(),
            memo: MEMO.to_owned(),
            paid_at: now,
            settle_at: now + self.settle_after,
            return_reason: return_reason(number).map(str::to_owned),
        };
        self.store.sandbox_pay(&record).await.map_err(unavailable)
    }

    async fn notices(&self, now: DateTime<Utc>) -> Result<Vec<PayoutNotice>, RailError> {
        let due = self.store.sandbox_due(now).await.map_err(unavailable)?;
        Ok(due
            .into_iter()
            .map(|p| match p.return_reason {
                Some(reason) => PayoutNotice::Returned {
                    end_to_end_id: p.end_to_end_id,
                    reason,
                    at: p.settle_at,
                },
                None => PayoutNotice::Settled {
                    end_to_end_id: p.end_to_end_id,
                    at: p.settle_at,
                },
            })
            .collect())
    }

    async fn acknowledge(&self, end_to_end_ids: &[String]) -> Result<(), RailError> {
        self.store
            .sandbox_acknowledge(end_to_end_ids)
            .await
            .map_err(unavailable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_cards_that_the_bank_returns() {
        assert_eq!(return_reason("6222020000000000002"), Some("AC04"));
        assert_eq!(return_reason("6222020000000000010"), Some("AC01"));
        assert_eq!(return_reason("6222020000000000018"), None);
    }
}
