//! The file rail's records (CONTRACT 10): held transfers, the files made of them, and the
//! bank's messages, each applied once and all or nothing.

use chrono::{DateTime, Utc};
use realname_core::ports::{
    BankMessage, FileAnswer, HeldTransfer, MessageKey, OutgoingFile, PayoutNotice, RailReport,
    SentFile, UnmatchedEntry, WaitingTransfer,
};
use realname_core::store::{Applied, MessageApplied, StateChange, StoreError, StoreResult};

use crate::args;
use crate::changes::apply_in;
use crate::db::{Db, Dialect, Engine, Row};

/// Said inside the transaction when an application moved: the transaction rolls back and the
/// caller is told [`MessageApplied::Moved`].
const MOVED: &str = "an application moved while its bank message was applied";

pub async fn apply_bank_message(
    e: &impl Engine,
    message: &BankMessage,
    changes: &[StateChange],
    unmatched: &[UnmatchedEntry],
    at: DateTime<Utc>,
) -> StoreResult<MessageApplied> {
    let (message, changes, unmatched) = (message.clone(), changes.to_vec(), unmatched.to_vec());
    let applied = e
        .write(crate::db::work(move |db| {
            Box::pin(async move { apply_message_in(db, &message, &changes, &unmatched, at).await })
        }))
        .await;
    match applied {
        Err(StoreError::Conflict(why)) if why == MOVED => Ok(MessageApplied::Moved),
        other => other,
    }
}

async fn apply_message_in(
    db: &mut dyn Db,
    message: &BankMessage,
    changes: &[StateChange],
    unmatched: &[UnmatchedEntry],
    at: DateTime<Utc>,
) -> StoreResult<MessageApplied> {
    if let Some(key) = &message.key {
        let fresh = db
            .exec(
                "INSERT INTO rail_messages (kind, msg_id, source, applied_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (kind, msg_id) DO NOTHING",
                args![&key.kind, &key.msg_id, &message.source, at],
            )
            .await?;
        if fresh == 0 {
            return Ok(MessageApplied::AlreadyApplied);
        }
    }
    let applied = match db.apply_all(changes).await? {
        Some(applied) => applied,
        None => {
            let mut applied = Applied::Done;
            for change in changes {
                if apply_in(db, change).await? == Applied::Moved {
                    applied = Applied::Moved;
                    break;
                }
            }
            applied
        }
    };
    if applied == Applied::Moved {
        return Err(StoreError::Conflict(MOVED.into()));
    }
    let mut notices = Notices::default();
    for notice in &message.notices {
        match notice {
            PayoutNotice::Settled { end_to_end_id, .. } => notices.settled.push(end_to_end_id),
            PayoutNotice::Returned {
                end_to_end_id,
                reason,
                ..
            } => {
                notices.returned.push(end_to_end_id);
                notices.returned_why.push(reason);
            }
            PayoutNotice::Refused {
                end_to_end_id,
                reason,
            } => {
                notices.refused.push(end_to_end_id);
                notices.refused_why.push(reason);
            }
            PayoutNotice::File { msg_id, answer } => {
                file_answer(db, msg_id, answer, message.resend_at, at).await?;
            }
            PayoutNotice::Unnamed { .. } => {}
        }
    }
    notices.write(db, message.resend_at, at).await?;
    for entry in message.unmatched(unmatched, at) {
        let (kind, msg_id) = entry
            .message
            .map(|k| (Some(k.kind), Some(k.msg_id)))
            .unwrap_or_default();
        db.exec(
            "INSERT INTO rail_unmatched (kind, msg_id, source, reference, what, at)
             VALUES ($1, $2, $3, $4, $5, $6)",
            args![
                kind.as_deref(),
                msg_id.as_deref(),
                &entry.source,
                entry.reference.as_deref(),
                &entry.what,
                entry.at
            ],
        )
        .await?;
    }
    Ok(MessageApplied::Applied)
}

/// The payouts a message names, by what became of them.
#[derive(Default)]
struct Notices<'m> {
    settled: Vec<&'m str>,
    returned: Vec<&'m str>,
    returned_why: Vec<&'m str>,
    refused: Vec<&'m str>,
    refused_why: Vec<&'m str>,
}

impl Notices<'_> {
    /// A notification names thousands of payouts: on PostgreSQL each kind of change is one
    /// statement over arrays; SQLite's in-process statements are as fast one by one.
    async fn write(
        &self,
        db: &mut dyn Db,
        resend_at: DateTime<Utc>,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        const SETTLE: &str = "UPDATE rail_transfers SET state = 'settled', instruction = NULL,
                 reason = NULL, updated_at = $2
             WHERE end_to_end_id = $1 AND state IN ('held', 'sent')";
        const RETURN: &str = "UPDATE rail_transfers SET state = 'returned', instruction = NULL,
                 reason = $2, updated_at = $3
             WHERE end_to_end_id = $1 AND state <> 'returned'";
        const REFUSE: &str = "UPDATE rail_transfers SET state = 'held', msg_id = NULL, due_at = $3,
                 reason = $2, updated_at = $4
             WHERE end_to_end_id = $1 AND state = 'sent'";
        if db.dialect() == Dialect::Sqlite {
            for e2e in &self.settled {
                db.exec(SETTLE, args![*e2e, at]).await?;
            }
            for (e2e, why) in self.returned.iter().zip(&self.returned_why) {
                db.exec(RETURN, args![*e2e, *why, at]).await?;
            }
            for (e2e, why) in self.refused.iter().zip(&self.refused_why) {
                db.exec(REFUSE, args![*e2e, *why, resend_at, at]).await?;
            }
            return Ok(());
        }
        if !self.settled.is_empty() {
            db.exec(
                "UPDATE rail_transfers SET state = 'settled', instruction = NULL, reason = NULL,
                     updated_at = $2
                 WHERE end_to_end_id = ANY($1) AND state IN ('held', 'sent')",
                args![self.settled.as_slice(), at],
            )
            .await?;
        }
        if !self.returned.is_empty() {
            db.exec(
                "UPDATE rail_transfers t SET state = 'returned', instruction = NULL, reason = u.reason,
                     updated_at = $3
                 FROM UNNEST($1::text[], $2::text[]) AS u(e2e, reason)
                 WHERE t.end_to_end_id = u.e2e AND t.state <> 'returned'",
                args![self.returned.as_slice(), self.returned_why.as_slice(), at],
            )
            .await?;
        }
        if !self.refused.is_empty() {
            db.exec(
                "UPDATE rail_transfers t SET state = 'held', msg_id = NULL, due_at = $3,
                     reason = u.reason, updated_at = $4
                 FROM UNNEST($1::text[], $2::text[]) AS u(e2e, reason)
                 WHERE t.end_to_end_id = u.e2e AND t.state = 'sent'",
                args![
                    self.refused.as_slice(),
                    self.refused_why.as_slice(),
                    resend_at,
                    at
                ],
            )
            .await?;
        }
        Ok(())
    }
}

/// What the bank said of one of the rail's files as a whole.
async fn file_answer(
    db: &mut dyn Db,
    msg_id: &str,
    answer: &FileAnswer,
    resend_at: DateTime<Utc>,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    match answer {
        FileAnswer::Received { status } => {
            db.exec(
                "UPDATE rail_files SET answered_at = $2, answer = $3
                 WHERE msg_id = $1 AND answered_at IS NULL",
                args![msg_id, at, status.as_str()],
            )
            .await?;
        }
        FileAnswer::Refused { reason } => {
            db.exec(
                "UPDATE rail_files SET answered_at = $2, answer = 'RJCT ' || $3 WHERE msg_id = $1",
                args![msg_id, at, reason.as_str()],
            )
            .await?;
            db.exec(
                "UPDATE rail_transfers SET state = 'held', msg_id = NULL, due_at = $3,
                     reason = $2, updated_at = $4
                 WHERE msg_id = $1 AND state = 'sent'",
                args![msg_id, reason.as_str(), resend_at, at],
            )
            .await?;
        }
        // The bank already holds the file: its own answer is the one that counts.
        FileAnswer::Duplicate => {}
    }
    Ok(())
}

fn held_row(mut r: Row) -> StoreResult<HeldTransfer> {
    Ok(HeldTransfer {
        end_to_end_id: r.get(0)?,
        application_id: r.get(1)?,
        sealed: r.get::<Option<Vec<u8>>>(2)?.unwrap_or_default(),
    })
}

pub async fn hold(db: &mut dyn Db, t: &HeldTransfer, due_at: DateTime<Utc>) -> StoreResult<()> {
    db.run(
        "INSERT INTO rail_transfers
                 (end_to_end_id, application_id, instruction, state, due_at, held_at, updated_at)
             VALUES ($1, $2, $3, 'held', $4, $4, $4) ON CONFLICT (end_to_end_id) DO NOTHING",
        args![&t.end_to_end_id, t.application_id, &t.sealed, due_at],
    )
    .await
}

pub async fn take_batch(
    db: &mut dyn Db,
    msg_id: &str,
    now: DateTime<Utc>,
    max: u32,
) -> StoreResult<Vec<HeldTransfer>> {
    // SKIP LOCKED: two nodes making files at once take different payouts.
    let sql = "SELECT end_to_end_id, application_id, instruction FROM rail_transfers
         WHERE state = 'held' AND due_at <= $1 ORDER BY due_at, end_to_end_id LIMIT $2
         FOR UPDATE SKIP LOCKED";
    let taken = db.all(sql, args![now, max], held_row).await?;
    if taken.is_empty() {
        return Ok(taken);
    }
    let ids: Vec<&str> = taken.iter().map(|t| t.end_to_end_id.as_str()).collect();
    let sql = "UPDATE rail_transfers SET state = 'sent', msg_id = $2, sends = sends + 1,
                 updated_at = $3
             WHERE end_to_end_id = ANY($1)";
    db.exec(sql, args![ids.as_slice(), msg_id, now]).await?;
    let count = i64::try_from(taken.len()).unwrap_or(i64::MAX);
    db.exec(
        "INSERT INTO rail_files (msg_id, created_at, transfers) VALUES ($1, $2, $3)",
        args![msg_id, now, count],
    )
    .await?;
    Ok(taken)
}

pub async fn unwritten(db: &mut dyn Db) -> StoreResult<Vec<OutgoingFile>> {
    let files = db
        .all(
            "SELECT msg_id, created_at FROM rail_files WHERE written_at IS NULL
                     ORDER BY created_at",
            args![],
            |mut r| Ok((r.get::<String>(0)?, r.get::<DateTime<Utc>>(1)?)),
        )
        .await?;
    let mut out = Vec::with_capacity(files.len());
    for (msg_id, created_at) in files {
        let transfers = db
            .all(
                "SELECT end_to_end_id, application_id, instruction FROM rail_transfers
                         WHERE msg_id = $1 AND state = 'sent' ORDER BY end_to_end_id",
                args![&msg_id],
                held_row,
            )
            .await?;
        out.push(OutgoingFile {
            msg_id,
            created_at,
            transfers,
        });
    }
    Ok(out)
}

pub async fn written(db: &mut dyn Db, msg_id: &str, at: DateTime<Utc>) -> StoreResult<()> {
    db.run(
        "UPDATE rail_files SET written_at = $2 WHERE msg_id = $1 AND written_at IS NULL",
        args![msg_id, at],
    )
    .await
}

pub async fn rail_report(db: &mut dyn Db) -> StoreResult<RailReport> {
    let awaiting_report = db
        .all(
            "SELECT msg_id, transfers, written_at FROM rail_files
                     WHERE written_at IS NOT NULL AND answered_at IS NULL ORDER BY written_at",
            args![],
            |mut r| {
                Ok(SentFile {
                    msg_id: r.get(0)?,
                    transfers: r.get(1)?,
                    written_at: r.get(2)?,
                })
            },
        )
        .await?;
    let mut report = RailReport {
        awaiting_report,
        ..RailReport::default()
    };
    let counts = db
        .all(
            "SELECT state, COUNT(*) FROM rail_transfers GROUP BY state",
            args![],
            |mut r| Ok((r.get::<String>(0)?, r.get::<u64>(1)?)),
        )
        .await?;
    for (state, n) in counts {
        match state.as_str() {
            "held" => report.held = n,
            "sent" => report.sent = n,
            "settled" => report.settled = n,
            "returned" => report.returned = n,
            _ => {}
        }
    }
    report.waiting_to_resend = db
        .all(
            "SELECT end_to_end_id, reason, due_at, sends FROM rail_transfers
                     WHERE state = 'held' AND reason IS NOT NULL ORDER BY due_at",
            args![],
            |mut r| {
                Ok(WaitingTransfer {
                    end_to_end_id: r.get(0)?,
                    reason: r.get(1)?,
                    due_at: r.get(2)?,
                    sends: r.get(3)?,
                })
            },
        )
        .await?;
    report.unmatched = db
        .all(
            "SELECT kind, msg_id, source, reference, what, at FROM rail_unmatched
                     ORDER BY id DESC LIMIT 100",
            args![],
            |mut r| {
                let kind: Option<String> = r.get(0)?;
                let msg_id: Option<String> = r.get(1)?;
                Ok(UnmatchedEntry {
                    message: kind
                        .zip(msg_id)
                        .map(|(kind, msg_id)| MessageKey { kind, msg_id }),
                    source: r.get(2)?,
                    reference: r.get(3)?,
                    what: r.get(4)?,
                    at: r.get(5)?,
                })
            },
        )
        .await?;
    Ok(report)
}
