//! The file rail's records on SQLite (CONTRACT 10): held transfers, the files made of them,
//! and the bank's messages, each applied once and all or nothing.

use chrono::{DateTime, Utc};
use realname_core::ports::{
    BankMessage, FileAnswer, HeldTransfer, MessageKey, OutgoingFile, PayoutNotice, RailReport,
    SentFile, TransferLedger, UnmatchedEntry, WaitingTransfer,
};
use realname_core::store::{Applied, MessageApplied, StateChange, StoreError, StoreResult};
use rusqlite::{Connection, params};

use crate::sql::{Cached, id, parse_id, parse_ts, ts};
use crate::{SqliteStore, failed};
use realname_store_sql::changes::apply_in;

/// Said inside the transaction when an application moved: the savepoint rolls back.
const MOVED: &str = "an application moved while its bank message was applied";

/// Applies `message` inside an open transaction (see `Store::apply_bank_message`).
pub(crate) fn apply_message_in(
    tx: &mut Connection,
    message: &BankMessage,
    changes: &[StateChange],
    unmatched: &[UnmatchedEntry],
    at: DateTime<Utc>,
) -> StoreResult<MessageApplied> {
    if let Some(key) = &message.key {
        let fresh = tx
            .exec(
                "INSERT OR IGNORE INTO rail_messages (kind, msg_id, source, applied_at)
                 VALUES (?1, ?2, ?3, ?4)",
                params![key.kind, key.msg_id, message.source, ts(at)],
            )
            .map_err(failed)?;
        if fresh == 0 {
            return Ok(MessageApplied::AlreadyApplied);
        }
    }
    for change in changes {
        let applied = realname_store_sql::db::run_ready(Box::pin(apply_in(
            &mut crate::db::SqliteDb(&mut *tx),
            change,
        )))?;
        if applied == Applied::Moved {
            return Err(StoreError::Conflict(MOVED.into()));
        }
    }
    let now = ts(at);
    let resend_at = ts(message.resend_at);
    for notice in &message.notices {
        match notice {
            PayoutNotice::Settled { end_to_end_id, .. } => tx.exec(
                "UPDATE rail_transfers SET state = 'settled', instruction = NULL, reason = NULL,
                     updated_at = ?2
                 WHERE end_to_end_id = ?1 AND state IN ('held', 'sent')",
                params![end_to_end_id, now],
            ),
            PayoutNotice::Returned {
                end_to_end_id,
                reason,
                ..
            } => tx.exec(
                "UPDATE rail_transfers SET state = 'returned', instruction = NULL, reason = ?2,
                     updated_at = ?3
                 WHERE end_to_end_id = ?1 AND state <> 'returned'",
                params![end_to_end_id, reason, now],
            ),
            PayoutNotice::Refused {
                end_to_end_id,
                reason,
            } => tx.exec(
                "UPDATE rail_transfers SET state = 'held', msg_id = NULL, due_at = ?3, reason = ?2,
                     updated_at = ?4
                 WHERE end_to_end_id = ?1 AND state = 'sent'",
                params![end_to_end_id, reason, resend_at, now],
            ),
            PayoutNotice::File { msg_id, answer } => match answer {
                FileAnswer::Received { status } => tx.exec(
                    "UPDATE rail_files SET answered_at = ?2, answer = ?3
                     WHERE msg_id = ?1 AND answered_at IS NULL",
                    params![msg_id, now, status],
                ),
                FileAnswer::Refused { reason } => tx
                    .exec(
                        "UPDATE rail_files SET answered_at = ?2, answer = ?3 WHERE msg_id = ?1",
                        params![msg_id, now, format!("RJCT {reason}")],
                    )
                    .and_then(|_| {
                        tx.exec(
                            "UPDATE rail_transfers SET state = 'held', msg_id = NULL, due_at = ?3,
                                 reason = ?2, updated_at = ?4
                             WHERE msg_id = ?1 AND state = 'sent'",
                            params![msg_id, reason, resend_at, now],
                        )
                    }),
                // The bank already holds the file: its own answer is the one that counts.
                FileAnswer::Duplicate => Ok(0),
            },
            PayoutNotice::Unnamed { .. } => Ok(0),
        }
        .map_err(failed)?;
    }
    for entry in message.unmatched(unmatched, at) {
        let (kind, msg_id) = entry
            .message
            .map(|k| (Some(k.kind), Some(k.msg_id)))
            .unwrap_or_default();
        tx.exec(
            "INSERT INTO rail_unmatched (kind, msg_id, source, reference, what, at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                kind,
                msg_id,
                entry.source,
                entry.reference,
                entry.what,
                ts(entry.at)
            ],
        )
        .map_err(failed)?;
    }
    Ok(MessageApplied::Applied)
}

/// The outcome of [`apply_message_in`] once its transaction is over.
pub(crate) fn settled(result: StoreResult<MessageApplied>) -> StoreResult<MessageApplied> {
    match result {
        Err(StoreError::Conflict(why)) if why == MOVED => Ok(MessageApplied::Moved),
        other => other,
    }
}

fn held_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<HeldTransfer> {
    Ok(HeldTransfer {
        end_to_end_id: r.get(0)?,
        application_id: parse_id(&r.get::<_, String>(1)?)?,
        sealed: r.get::<_, Option<Vec<u8>>>(2)?.unwrap_or_default(),
    })
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

#[async_trait::async_trait]
impl TransferLedger for SqliteStore {
    async fn hold(&self, transfer: &HeldTransfer, due_at: DateTime<Utc>) -> StoreResult<()> {
        let t = transfer.clone();
        self.write(move |tx| {
            tx.exec(
                "INSERT OR IGNORE INTO rail_transfers
                     (end_to_end_id, application_id, instruction, state, due_at, held_at, updated_at)
                 VALUES (?1, ?2, ?3, 'held', ?4, ?4, ?4)",
                params![t.end_to_end_id, id(t.application_id), t.sealed, ts(due_at)],
            )
            .map(drop)
            .map_err(failed)
        })
        .await
    }

    async fn take_batch(
        &self,
        msg_id: &str,
        now: DateTime<Utc>,
        max: u32,
    ) -> StoreResult<Vec<HeldTransfer>> {
        let msg_id = msg_id.to_owned();
        self.write(move |tx| {
            let taken: Vec<HeldTransfer> = {
                let mut stmt = tx
                    .prepare_cached(
                        "SELECT end_to_end_id, application_id, instruction FROM rail_transfers
                         WHERE state = 'held' AND due_at <= ?1 ORDER BY due_at, end_to_end_id
                         LIMIT ?2",
                    )
                    .map_err(failed)?;
                stmt.query_map(params![ts(now), max], held_row)
                    .and_then(Iterator::collect)
                    .map_err(failed)?
            };
            if taken.is_empty() {
                return Ok(taken);
            }
            for t in &taken {
                tx.exec(
                    "UPDATE rail_transfers SET state = 'sent', msg_id = ?2, sends = sends + 1,
                         updated_at = ?3
                     WHERE end_to_end_id = ?1",
                    params![t.end_to_end_id, msg_id, ts(now)],
                )
                .map_err(failed)?;
            }
            tx.exec(
                "INSERT INTO rail_files (msg_id, created_at, transfers) VALUES (?1, ?2, ?3)",
                params![msg_id, ts(now), taken.len()],
            )
            .map_err(failed)?;
            Ok(taken)
        })
        .await
    }

    async fn unwritten(&self) -> StoreResult<Vec<OutgoingFile>> {
        self.read_blocking(|c| {
            let files: Vec<(String, String)> = {
                let mut stmt = c
                    .prepare_cached(
                        "SELECT msg_id, created_at FROM rail_files WHERE written_at IS NULL
                         ORDER BY created_at",
                    )
                    .map_err(failed)?;
                stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                    .and_then(Iterator::collect)
                    .map_err(failed)?
            };
            let mut out = Vec::with_capacity(files.len());
            for (msg_id, created_at) in files {
                let mut stmt = c
                    .prepare_cached(
                        "SELECT end_to_end_id, application_id, instruction FROM rail_transfers
                         WHERE msg_id = ?1 AND state = 'sent' ORDER BY end_to_end_id",
                    )
                    .map_err(failed)?;
                let transfers = stmt
                    .query_map(params![msg_id], held_row)
                    .and_then(Iterator::collect)
                    .map_err(failed)?;
                out.push(OutgoingFile {
                    created_at: parse_ts(&created_at).map_err(failed)?,
                    msg_id,
                    transfers,
                });
            }
            Ok(out)
        })
        .await
    }

    async fn written(&self, msg_id: &str, at: DateTime<Utc>) -> StoreResult<()> {
        let msg_id = msg_id.to_owned();
        self.write(move |tx| {
            tx.exec(
                "UPDATE rail_files SET written_at = ?2 WHERE msg_id = ?1 AND written_at IS NULL",
                params![msg_id, ts(at)],
            )
            .map(drop)
            .map_err(failed)
        })
        .await
    }

    async fn rail_report(&self) -> StoreResult<RailReport> {
        self.read_blocking(|c| {
            let mut report = RailReport::default();
            let mut stmt = c
                .prepare_cached(
                    "SELECT msg_id, transfers, written_at FROM rail_files
                     WHERE written_at IS NOT NULL AND answered_at IS NULL ORDER BY written_at",
                )
                .map_err(failed)?;
            report.awaiting_report = stmt
                .query_map([], |r| {
                    Ok(SentFile {
                        msg_id: r.get(0)?,
                        transfers: r.get(1)?,
                        written_at: parse_ts(&r.get::<_, String>(2)?)?,
                    })
                })
                .and_then(Iterator::collect)
                .map_err(failed)?;
            let mut stmt = c
                .prepare_cached("SELECT state, COUNT(*) FROM rail_transfers GROUP BY state")
                .map_err(failed)?;
            let counts: Vec<(String, i64)> = stmt
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .and_then(Iterator::collect)
                .map_err(failed)?;
            for (state, n) in counts {
                match state.as_str() {
                    "held" => report.held = count(n),
                    "sent" => report.sent = count(n),
                    "settled" => report.settled = count(n),
                    "returned" => report.returned = count(n),
                    _ => {}
                }
            }
            let mut stmt = c
                .prepare_cached(
                    "SELECT end_to_end_id, reason, due_at, sends FROM rail_transfers
                     WHERE state = 'held' AND reason IS NOT NULL ORDER BY due_at",
                )
                .map_err(failed)?;
            report.waiting_to_resend = stmt
                .query_map([], |r| {
                    Ok(WaitingTransfer {
                        end_to_end_id: r.get(0)?,
                        reason: r.get(1)?,
                        due_at: parse_ts(&r.get::<_, String>(2)?)?,
                        sends: r.get(3)?,
                    })
                })
                .and_then(Iterator::collect)
                .map_err(failed)?;
            let mut stmt = c
                .prepare_cached(
                    "SELECT kind, msg_id, source, reference, what, at FROM rail_unmatched
                     ORDER BY id DESC LIMIT 100",
                )
                .map_err(failed)?;
            report.unmatched = stmt
                .query_map([], |r| {
                    let kind: Option<String> = r.get(0)?;
                    let msg_id: Option<String> = r.get(1)?;
                    Ok(UnmatchedEntry {
                        message: kind
                            .zip(msg_id)
                            .map(|(kind, msg_id)| MessageKey { kind, msg_id }),
                        source: r.get(2)?,
                        reference: r.get(3)?,
                        what: r.get(4)?,
                        at: parse_ts(&r.get::<_, String>(5)?)?,
                    })
                })
                .and_then(Iterator::collect)
                .map_err(failed)?;
            Ok(report)
        })
        .await
    }
}
