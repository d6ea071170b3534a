//! The ISO 20022 file rail (CONTRACT 10): micro-deposits paid through the platform's bank over
//! a host-to-host folder pair. Payouts are held in the service's database (sealed) and sent in
//! batches, one pain.001.001.09 per batch; the bank's pain.002.001.10 status reports and
//! camt.054.001.08 notifications come back through the inbox and are applied once each.

pub mod folders;
pub mod inbound;
pub mod pain001;
#[cfg(test)]
mod tests;

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use rand::TryRngCore;
use realname_core::policy::Policy;
use realname_core::ports::{
    BankMessage, HeldTransfer, MessageKey, OutgoingFile, PayoutInstruction, PayoutNotice,
    PayoutRail, RailError, SealContext, TransferLedger, Vault,
};
use serde::{Deserialize, Serialize};

pub use pain001::Debtor;

/// What the rail is configured with (`iso20022.*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub outbox_dir: PathBuf,
    pub inbox_dir: PathBuf,
    pub debtor: Debtor,
    pub batch_every: TimeDelta,
    pub batch_max: u32,
    pub retry_after: TimeDelta,
}

/// The words on the user's bank statement beside the deposit.
pub const MEMO: &str = "realname verification deposit / 实名认证打款";

/// A file larger than this is no status report of ours: refused unread.
const MAX_INBOUND_BYTES: u64 = 256 << 20;

/// China's date, the banks' business day.
const CHINA_OFFSET: TimeDelta = TimeDelta::hours(8);

/// What is sealed of a payout while the rail holds it.
#[derive(Serialize, Deserialize)]
struct Instruction {
    bank: String,
    card_number: String,
    account_name: String,
    amount_fen: i64,
}

pub struct Iso20022Rail {
    settings: Settings,
    ledger: Arc<dyn TransferLedger>,
    vault: Arc<dyn Vault>,
    policy: Arc<Policy>,
}

fn unavailable(e: impl std::fmt::Display) -> RailError {
    RailError::Unavailable(e.to_string())
}

/// A new `MsgId`: `RN`, the time to the second, and 8 random hex digits (24 characters).
pub fn new_msg_id(now: DateTime<Utc>) -> String {
    let random = rand::rngs::OsRng.try_next_u32().unwrap_or_else(|_| {
        // No entropy: the nanoseconds still tell two files of one second apart.
        now.timestamp_subsec_nanos()
    });
    format!("RN{}{random:08x}", now.format("%Y%m%d%H%M%S"))
}

impl Iso20022Rail {
    pub fn new(
        settings: Settings,
        ledger: Arc<dyn TransferLedger>,
        vault: Arc<dyn Vault>,
        policy: Arc<Policy>,
    ) -> Iso20022Rail {
        Iso20022Rail {
            settings,
            ledger,
            vault,
            policy,
        }
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The transfer of a held payout, opened and with its bank's identifiers.
    fn transfer_of(&self, held: &HeldTransfer) -> Result<pain001::Transfer, RailError> {
        let plain = self
            .vault
            .open(SealContext::Transfer(held.application_id), &held.sealed)
            .map_err(|_| {
                RailError::Refused(format!("payout {} cannot be opened", held.end_to_end_id))
            })?;
        let i: Instruction = serde_json::from_slice(&plain).map_err(|_| {
            RailError::Refused(format!("payout {} is unreadable", held.end_to_end_id))
        })?;
        let bank = self.policy.bank(&i.bank);
        let (Some(bic), Some(member)) = (
            bank.and_then(|b| b.bic.clone()),
            bank.and_then(|b| b.cnaps.clone()),
        ) else {
            return Err(RailError::Refused(format!(
                "bank {} has no bic and cnaps in the policy",
                i.bank
            )));
        };
        Ok(pain001::Transfer {
            end_to_end_id: held.end_to_end_id.clone(),
            amount_fen: i.amount_fen,
            creditor_name: i.account_name,
            creditor_account: i.card_number,
            agent_bic: bic,
            clearing_system: bank.map_or_else(String::new, |b| b.clearing_system.clone()),
            clearing_member: member,
        })
    }

    /// Writes a file of the ledger's into the outbox and records it written.
    async fn send_file(&self, file: &OutgoingFile) -> Result<(), RailError> {
        let transfers = file
            .transfers
            .iter()
            .map(|t| self.transfer_of(t))
            .collect::<Result<Vec<_>, _>>()?;
        let header = pain001::Header::of(
            &file.msg_id,
            file.created_at,
            (file.created_at + CHINA_OFFSET).date_naive(),
            &transfers,
        );
        let (dir, debtor) = (
            self.settings.outbox_dir.clone(),
            self.settings.debtor.clone(),
        );
        let name = format!("pain001-{}.xml", file.msg_id);
        tokio::task::spawn_blocking(move || {
            folders::write_whole(&dir, &name, |out| {
                pain001::write(out, &header, &debtor, MEMO, &transfers).map(drop)
            })
        })
        .await
        .map_err(unavailable)?
        .map_err(|e| unavailable(format!("cannot write into the outbox: {e}")))?;
        self.ledger
            .written(&file.msg_id, Utc::now())
            .await
            .map_err(unavailable)?;
        tracing::info!(msg_id = %file.msg_id, transfers = file.transfers.len(), "payout file written");
        Ok(())
    }
}

/// Reads the claimed files of the inbox: the messages to apply; others set aside or refused.
fn collect(
    inbox: &Path,
    now: DateTime<Utc>,
    resend_at: DateTime<Utc>,
) -> std::io::Result<Vec<BankMessage>> {
    folders::prepare(inbox)?;
    let mut messages = Vec::new();
    for claimed in folders::claim_all(inbox)? {
        let path = inbox.join(folders::CLAIMED).join(&claimed);
        let size = std::fs::metadata(&path)?.len();
        let outcome = if size > MAX_INBOUND_BYTES {
            Err(inbound::Unreadable(format!(
                "{size} bytes is more than a status report holds"
            )))
        } else {
            inbound::kind_of(BufReader::new(File::open(&path)?)).and_then(|kind| match kind {
                inbound::Kind::Read(kind) => {
                    let file = File::open(&path).map_err(|e| inbound::Unreadable(e.to_string()))?;
                    inbound::read(kind, BufReader::new(file), now).map(Some)
                }
                inbound::Kind::Other(_) => Ok(None),
            })
        };
        match outcome {
            Ok(Some(read)) => messages.push(BankMessage {
                key: Some(MessageKey {
                    kind: read.kind.to_owned(),
                    msg_id: read.msg_id,
                }),
                source: claimed,
                notices: read.notices,
                resend_at,
            }),
            Ok(None) => {
                folders::settle(inbox, &claimed, folders::IGNORED, None)?;
            }
            Err(why) => {
                tracing::warn!(file = folders::original_name(&claimed), why = %why.0, "bank file refused");
                folders::settle(inbox, &claimed, folders::REJECTED, Some(&why.0))?;
            }
        }
    }
    Ok(messages)
}

#[async_trait::async_trait]
impl PayoutRail for Iso20022Rail {
    async fn pay(&self, payout: &PayoutInstruction, now: DateTime<Utc>) -> Result<(), RailError> {
        let instruction = Instruction {
            bank: payout.bank.clone(),
            card_number: payout.card_number.expose().to_owned(),
            account_name: payout.account_name.as_str().to_owned(),
            amount_fen: payout.amount.value(),
        };
        let plain = serde_json::to_vec(&instruction).map_err(unavailable)?;
        let sealed = self
            .vault
            .seal(SealContext::Transfer(payout.application_id), &plain)
            .map_err(unavailable)?;
        let held = HeldTransfer {
            end_to_end_id: payout.end_to_end_id.clone(),
            application_id: payout.application_id,
            sealed,
        };
        self.ledger.hold(&held, now).await.map_err(unavailable)
    }

    /// Nothing payout by payout: the bank answers in files ([`PayoutRail::messages`]).
    async fn notices(&self, _now: DateTime<Utc>) -> Result<Vec<PayoutNotice>, RailError> {
        Ok(Vec::new())
    }

    async fn acknowledge(&self, _end_to_end_ids: &[String]) -> Result<(), RailError> {
        Ok(())
    }

    async fn messages(&self, now: DateTime<Utc>) -> Result<Vec<BankMessage>, RailError> {
        let inbox = self.settings.inbox_dir.clone();
        let resend_at = now + self.settings.retry_after;
        tokio::task::spawn_blocking(move || collect(&inbox, now, resend_at))
            .await
            .map_err(unavailable)?
            .map_err(|e| unavailable(format!("cannot read the inbox: {e}")))
    }

    async fn finish(&self, message: &BankMessage) -> Result<(), RailError> {
        let (inbox, source) = (self.settings.inbox_dir.clone(), message.source.clone());
        tokio::task::spawn_blocking(move || folders::settle(&inbox, &source, folders::DONE, None))
            .await
            .map_err(unavailable)?
            .map(drop)
            .map_err(|e| unavailable(format!("cannot move a file into done/: {e}")))
    }

    fn batch_every(&self) -> Option<TimeDelta> {
        Some(self.settings.batch_every)
    }

    async fn send_due(&self, now: DateTime<Utc>) -> Result<(), RailError> {
        // Files made before a crash and never written go first, under their own MsgId.
        for file in self.ledger.unwritten().await.map_err(unavailable)? {
            self.send_file(&file).await?;
        }
        loop {
            let msg_id = new_msg_id(now);
            let transfers = self
                .ledger
                .take_batch(&msg_id, now, self.settings.batch_max)
                .await
                .map_err(unavailable)?;
            if transfers.is_empty() {
                break;
            }
            let full = transfers.len() >= self.settings.batch_max as usize;
            self.send_file(&OutgoingFile {
                msg_id,
                created_at: now,
                transfers,
            })
            .await?;
            if !full {
                break;
            }
        }
        Ok(())
    }
}
