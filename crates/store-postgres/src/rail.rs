//! The file rail's records on PostgreSQL (CONTRACT 10): held transfers, the files made of
//! them, and the bank's messages, each applied once and all or nothing.

use chrono::{DateTime, Utc};
use realname_core::ports::{
    BankMessage, FileAnswer, HeldTransfer, MessageKey, OutgoingFile, PayoutNotice, RailReport,
    SentFile, TransferLedger, UnmatchedEntry, WaitingTransfer,
};
use realname_core::store::{Applied, MessageApplied, StateChange, StoreResult};
use sqlx::Row;
use sqlx::postgres::PgRow;

use crate::{PgStore, Tx, begin, detached, err};

/// Applies `message` in its own transaction (see `Store::apply_bank_message`).
pub(crate) async fn apply_message(
    store: &PgStore,
    message: &BankMessage,
    changes: &[StateChange],
    unmatched: &[UnmatchedEntry],
    at: DateTime<Utc>,
) -> StoreResult<MessageApplied> {
    let pool = store.pool.clone();
    let (message, changes, unmatched) = (message.clone(), changes.to_vec(), unmatched.to_vec());
    detached(async move {
        let mut tx = begin(&pool).await?;
        let applied = apply_in_tx(&mut tx, &message, &changes, &unmatched, at).await?;
        if applied == MessageApplied::Applied {
            tx.commit().await.map_err(err)?;
        }
        // Otherwise dropping the transaction rolls back whatever it began.
        Ok(applied)
    })
    .await
}

async fn apply_in_tx(
    tx: &mut Tx,
    message: &BankMessage,
    changes: &[StateChange],
    unmatched: &[UnmatchedEntry],
    at: DateTime<Utc>,
) -> StoreResult<MessageApplied> {
    if let Some(key) = &message.key {
        let fresh = sqlx::query(
            "INSERT INTO rail_messages (kind, msg_id, source, applied_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (kind, msg_id) DO NOTHING",
        )
        .bind(&key.kind)
        .bind(&key.msg_id)
        .bind(&message.source)
        .bind(at)
        .execute(&mut **tx)
        .await
        .map_err(err)?
        .rows_affected();
        if fresh == 0 {
            return Ok(MessageApplied::AlreadyApplied);
        }
    }
    if crate::bulk::apply_all_in(tx, changes).await? == Applied::Moved {
        return Ok(MessageApplied::Moved);
    }
    // A notification names thousands of payouts: each kind of change is one statement.
    let (mut settled, mut returned, mut returned_why, mut refused, mut refused_why) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for notice in &message.notices {
        match notice {
            PayoutNotice::Settled { end_to_end_id, .. } => settled.push(end_to_end_id.as_str()),
            PayoutNotice::Returned {
                end_to_end_id,
                reason,
                ..
            } => {
                returned.push(end_to_end_id.as_str());
                returned_why.push(reason.as_str());
            }
            PayoutNotice::Refused {
                end_to_end_id,
                reason,
            } => {
                refused.push(end_to_end_id.as_str());
                refused_why.push(reason.as_str());
            }
            PayoutNotice::File { msg_id, answer } => {
                file_answer(tx, msg_id, answer, message.resend_at, at).await?
            }
            PayoutNotice::Unnamed { .. } => {}
        }
    }
    if !settled.is_empty() {
        sqlx::query(
            "UPDATE rail_transfers SET state = 'settled', instruction = NULL, reason = NULL,
                 updated_at = $2
             WHERE end_to_end_id = ANY($1) AND state IN ('held', 'sent')",
        )
        .bind(&settled)
        .bind(at)
        .execute(&mut **tx)
        .await
        .map_err(err)?;
    }
    if !returned.is_empty() {
        sqlx::query(
            "UPDATE rail_transfers t SET state = 'returned', instruction = NULL, reason = u.reason,
                 updated_at = $3
             FROM UNNEST($1::text[], $2::text[]) AS u(e2e, reason)
             WHERE t.end_to_end_id = u.e2e AND t.state <> 'returned'",
        )
        .bind(&returned)
        .bind(&returned_why)
        .bind(at)
        .execute(&mut **tx)
        .await
        .map_err(err)?;
    }
    if !refused.is_empty() {
        sqlx::query(
            "UPDATE rail_transfers t SET state = 'held', msg_id = NULL, due_at = $3,
                 reason = u.reason, updated_at = $4
             FROM UNNEST($1::text[], $2::text[]) AS u(e2e, reason)
             WHERE t.end_to_end_id = u.e2e AND t.state = 'sent'",
        )
        .bind(&refused)
        .bind(&refused_why)
        .bind(message.resend_at)
        .bind(at)
        .execute(&mut **tx)
        .await
        .map_err(err)?;
    }
    for entry in message.unmatched(unmatched, at) {
        let (kind, msg_id) = entry
            .message
            .map(|k| (Some(k.kind), Some(k.msg_id)))
            .unwrap_or_default();
        sqlx::query(
            "INSERT INTO rail_unmatched (kind, msg_id, source, reference, what, at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(kind)
        .bind(msg_id)
        .bind(&entry.source)
        .bind(&entry.reference)
        .bind(&entry.what)
        .bind(entry.at)
        .execute(&mut **tx)
        .await
        .map_err(err)?;
    }
    Ok(MessageApplied::Applied)
}

/// What the bank said of one of the rail's files as a whole.
async fn file_answer(
    tx: &mut Tx,
    msg_id: &str,
    answer: &FileAnswer,
    resend_at: DateTime<Utc>,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    match answer {
        FileAnswer::Received { status } => {
            sqlx::query(
                "UPDATE rail_files SET answered_at = $2, answer = $3
                 WHERE msg_id = $1 AND answered_at IS NULL",
            )
            .bind(msg_id)
            .bind(at)
            .bind(status)
            .execute(&mut **tx)
            .await
            .map_err(err)?;
        }
        FileAnswer::Refused { reason } => {
            sqlx::query(
                "UPDATE rail_files SET answered_at = $2, answer = 'RJCT ' || $3 WHERE msg_id = $1",
            )
            .bind(msg_id)
            .bind(at)
            .bind(reason)
            .execute(&mut **tx)
            .await
            .map_err(err)?;
            sqlx::query(
                "UPDATE rail_transfers SET state = 'held', msg_id = NULL, due_at = $3,
                     reason = $2, updated_at = $4
                 WHERE msg_id = $1 AND state = 'sent'",
            )
            .bind(msg_id)
            .bind(reason)
            .bind(resend_at)
            .bind(at)
            .execute(&mut **tx)
            .await
            .map_err(err)?;
        }
        // The bank already holds the file: its own answer is the one that counts.
        FileAnswer::Duplicate => {}
    }
    Ok(())
}

fn held_row(r: &PgRow) -> Result<HeldTransfer, sqlx::Error> {
    Ok(HeldTransfer {
        end_to_end_id: r.try_get(0)?,
        application_id: r.try_get(1)?,
        sealed: r.try_get::<Option<Vec<u8>>, _>(2)?.unwrap_or_default(),
    })
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

#[async_trait::async_trait]
impl TransferLedger for PgStore {
    async fn hold(&self, transfer: &HeldTransfer, due_at: DateTime<Utc>) -> StoreResult<()> {
        let (pool, t) = (self.pool.clone(), transfer.clone());
        detached(async move {
            sqlx::query(
                "INSERT INTO rail_transfers
                     (end_to_end_id, application_id, instruction, state, due_at, held_at, updated_at)
                 VALUES ($1, $2, $3, 'held', $4, $4, $4) ON CONFLICT (end_to_end_id) DO NOTHING",
            )
            .bind(&t.end_to_end_id)
            .bind(t.application_id)
            .bind(&t.sealed)
            .bind(due_at)
            .execute(&pool)
            .await
            .map(drop)
            .map_err(err)
        })
        .await
    }

    async fn take_batch(
        &self,
        msg_id: &str,
        now: DateTime<Utc>,
        max: u32,
    ) -> StoreResult<Vec<HeldTransfer>> {
        let (pool, msg_id) = (self.pool.clone(), msg_id.to_owned());
        detached(async move {
            let mut tx = begin(&pool).await?;
            // SKIP LOCKED: two nodes making files at once take different payouts.
            let rows = sqlx::query(
                "SELECT end_to_end_id, application_id, instruction FROM rail_transfers
                 WHERE state = 'held' AND due_at <= $1 ORDER BY due_at, end_to_end_id
                 LIMIT $2 FOR UPDATE SKIP LOCKED",
            )
            .bind(now)
            .bind(i64::from(max))
            .fetch_all(&mut *tx)
            .await
            .map_err(err)?;
            let taken: Vec<HeldTransfer> = rows
                .iter()
                .map(held_row)
                .collect::<Result<_, _>>()
                .map_err(err)?;
            if taken.is_empty() {
                return Ok(taken);
            }
            let ids: Vec<&str> = taken.iter().map(|t| t.end_to_end_id.as_str()).collect();
            sqlx::query(
                "UPDATE rail_transfers SET state = 'sent', msg_id = $2, sends = sends + 1,
                     updated_at = $3
                 WHERE end_to_end_id = ANY($1)",
            )
            .bind(&ids)
            .bind(&msg_id)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(err)?;
            sqlx::query(
                "INSERT INTO rail_files (msg_id, created_at, transfers) VALUES ($1, $2, $3)",
            )
            .bind(&msg_id)
            .bind(now)
            .bind(i32::try_from(taken.len()).unwrap_or(i32::MAX))
            .execute(&mut *tx)
            .await
            .map_err(err)?;
            tx.commit().await.map_err(err)?;
            Ok(taken)
        })
        .await
    }

    async fn unwritten(&self) -> StoreResult<Vec<OutgoingFile>> {
        let files = sqlx::query(
            "SELECT msg_id, created_at FROM rail_files WHERE written_at IS NULL ORDER BY created_at",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(err)?;
        let mut out = Vec::with_capacity(files.len());
        for file in files {
            let msg_id: String = file.try_get(0).map_err(err)?;
            let rows = sqlx::query(
                "SELECT end_to_end_id, application_id, instruction FROM rail_transfers
                 WHERE msg_id = $1 AND state = 'sent' ORDER BY end_to_end_id",
            )
            .bind(&msg_id)
            .fetch_all(&self.pool)
            .await
            .map_err(err)?;
            out.push(OutgoingFile {
                created_at: file.try_get(1).map_err(err)?,
                transfers: rows
                    .iter()
                    .map(held_row)
                    .collect::<Result<_, _>>()
                    .map_err(err)?,
                msg_id,
            });
        }
        Ok(out)
    }

    async fn written(&self, msg_id: &str, at: DateTime<Utc>) -> StoreResult<()> {
        sqlx::query(
            "UPDATE rail_files SET written_at = $2 WHERE msg_id = $1 AND written_at IS NULL",
        )
        .bind(msg_id)
        .bind(at)
        .execute(&self.pool)
        .await
        .map(drop)
        .map_err(err)
    }

    async fn rail_report(&self) -> StoreResult<RailReport> {
        let mut report = RailReport::default();
        let rows = sqlx::query(
            "SELECT msg_id, transfers, written_at FROM rail_files
             WHERE written_at IS NOT NULL AND answered_at IS NULL ORDER BY written_at",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(err)?;
        for r in rows {
            report.awaiting_report.push(SentFile {
                msg_id: r.try_get(0).map_err(err)?,
                transfers: u32::try_from(r.try_get::<i32, _>(1).map_err(err)?).unwrap_or(0),
                written_at: r.try_get(2).map_err(err)?,
            });
        }
        let rows = sqlx::query("SELECT state, COUNT(*) FROM rail_transfers GROUP BY state")
            .fetch_all(&self.pool)
            .await
            .map_err(err)?;
        for r in rows {
            let state: String = r.try_get(0).map_err(err)?;
            let n = count(r.try_get(1).map_err(err)?);
            match state.as_str() {
                "held" => report.held = n,
                "sent" => report.sent = n,
                "settled" => report.settled = n,
                "returned" => report.returned = n,
                _ => {}
            }
        }
        let rows = sqlx::query(
            "SELECT end_to_end_id, reason, due_at, sends FROM rail_transfers
             WHERE state = 'held' AND reason IS NOT NULL ORDER BY due_at",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(err)?;
        for r in rows {
            report.waiting_to_resend.push(WaitingTransfer {
                end_to_end_id: r.try_get(0).map_err(err)?,
                reason: r.try_get(1).map_err(err)?,
                due_at: r.try_get(2).map_err(err)?,
                sends: u32::try_from(r.try_get::<i32, _>(3).map_err(err)?).unwrap_or(0),
            });
        }
        let rows = sqlx::query(
            "SELECT kind, msg_id, source, reference, what, at FROM rail_unmatched
             ORDER BY id DESC LIMIT 100",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(err)?;
        for r in rows {
            let kind: Option<String> = r.try_get(0).map_err(err)?;
            let msg_id: Option<String> = r.try_get(1).map_err(err)?;
            report.unmatched.push(UnmatchedEntry {
                message: kind
                    .zip(msg_id)
                    .map(|(kind, msg_id)| MessageKey { kind, msg_id }),
                source: r.try_get(2).map_err(err)?,
                reference: r.try_get(3).map_err(err)?,
                what: r.try_get(4).map_err(err)?,
                at: r.try_get(5).map_err(err)?,
            });
        }
        Ok(report)
    }
}
