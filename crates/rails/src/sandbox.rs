//! The sandbox bank: a payout rail with test cards that the bank returns, a settle delay, and
//! a statement the user can read. Its ledger is a port of its own ([`SandboxLedger`]), kept
//! in the service's database so that every node of a cluster sees the same bank.

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use realname_core::card::CardNumber;
use realname_core::ports::{
    PayoutInstruction, PayoutNotice, PayoutRail, RailError, SandboxLedger, SandboxPayout,
    SandboxTransaction, Vault,
};
use realname_core::store::{StoreError, StoreResult};

pub const MEMO: &str = "realname verification deposit / 实名认证打款";

pub struct SandboxBank {
    ledger: Arc<dyn SandboxLedger>,
    vault: Arc<dyn Vault>,
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

impl SandboxBank {
    pub fn new(
        ledger: Arc<dyn SandboxLedger>,
        vault: Arc<dyn Vault>,
        settle_after: TimeDelta,
    ) -> SandboxBank {
        SandboxBank {
            ledger,
            vault,
            settle_after,
        }
    }

    /// What the bank shows the holder of `card` by `now`: what the user reads the amount
    /// from.
    pub async fn statement(
        &self,
        card: &CardNumber,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<SandboxTransaction>> {
        self.ledger
            .statement(&self.vault.card_hash(card), now)
            .await
    }
}

#[async_trait::async_trait]
impl PayoutRail for SandboxBank {
    async fn pay(&self, payout: &PayoutInstruction, now: DateTime<Utc>) -> Result<(), RailError> {
        let record = SandboxPayout {
            end_to_end_id: payout.end_to_end_id.clone(),
            card_hash: self.vault.card_hash(&payout.card_number),
            amount_fen: payout.amount.value(),
            memo: MEMO.to_owned(),
            paid_at: now,
            settle_at: now + self.settle_after,
            return_reason: return_reason(payout.card_number.expose()).map(str::to_owned),
        };
        self.ledger.pay(&record).await.map_err(unavailable)
    }

    async fn notices(&self, now: DateTime<Utc>) -> Result<Vec<PayoutNotice>, RailError> {
        let due = self.ledger.due(now).await.map_err(unavailable)?;
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
        self.ledger
            .acknowledge(end_to_end_ids)
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
