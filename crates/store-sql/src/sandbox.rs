//! The sandbox: its clock, its bank's ledger of payouts, and the store's one mode for life.

use chrono::{DateTime, Utc};
use realname_core::platform::{KeyMode, ModeFacts};
use realname_core::ports::{SandboxPayout, SandboxTransaction};
use realname_core::store::StoreResult;

use crate::args;
use crate::db::Db;

pub async fn sandbox_offset(db: &mut dyn Db) -> StoreResult<i64> {
    db.value(
        "SELECT offset_seconds FROM sandbox_clock WHERE id = 1",
        args![],
    )
    .await
    .map(Option::unwrap_or_default)
}

pub async fn advance_sandbox_clock(
    db: &mut dyn Db,
    seconds: i64,
    at_most: i64,
) -> StoreResult<Option<i64>> {
    db.value(
        "UPDATE sandbox_clock SET offset_seconds = offset_seconds + $1
             WHERE id = 1 AND offset_seconds + $1 <= $2 RETURNING offset_seconds",
        args![seconds, at_most],
    )
    .await
}

/// What tells a store's mode: the one written; whether it holds a customer's account, an
/// application or a key; whether a test key, a sandbox payout, a moved clock or a test-mode
/// event is in it.
pub async fn mode_facts(db: &mut dyn Db) -> StoreResult<ModeFacts> {
    let found = db
            .one(
                "SELECT (SELECT mode FROM store_mode WHERE id = 1),
                        EXISTS (SELECT 1 FROM accounts WHERE role = 'user')
                            OR EXISTS (SELECT 1 FROM applications) OR EXISTS (SELECT 1 FROM api_keys),
                        EXISTS (SELECT 1 FROM api_keys WHERE mode = 'test')
                            OR EXISTS (SELECT 1 FROM sandbox_payouts)
                            OR EXISTS (SELECT 1 FROM sandbox_clock WHERE offset_seconds <> 0)
                            OR EXISTS (SELECT 1 FROM platform_events WHERE NOT livemode)",
                args![],
                |mut r| {
                    let written: Option<String> = r.get(0)?;
                    Ok(ModeFacts {
                        written: written.as_deref().and_then(KeyMode::parse),
                        holds_data: r.get(1)?,
                        sandbox_traces: r.get(2)?,
                    })
                },
            )
            .await?;
    Ok(found.unwrap_or(ModeFacts {
        written: None,
        holds_data: false,
        sandbox_traces: false,
    }))
}

pub async fn write_mode(
    db: &mut dyn Db,
    mode: KeyMode,
    seen: Option<KeyMode>,
    at: DateTime<Utc>,
) -> StoreResult<Option<KeyMode>> {
    db.exec(
        "INSERT INTO store_mode (id, mode, written_at) VALUES (1, $1, $2)
             ON CONFLICT (id) DO UPDATE SET mode = excluded.mode, written_at = excluded.written_at
             WHERE store_mode.mode = $3",
        args![mode.as_str(), at, seen.map(KeyMode::as_str)],
    )
    .await?;
    let held: Option<String> = db
        .value("SELECT mode FROM store_mode WHERE id = 1", args![])
        .await?;
    Ok(held.as_deref().and_then(KeyMode::parse))
}

pub async fn pay(db: &mut dyn Db, p: &SandboxPayout) -> StoreResult<()> {
    db.run(
        "INSERT INTO sandbox_payouts
                 (end_to_end_id, card_hash, amount_fen, memo, paid_at, settle_at, return_reason)
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (end_to_end_id) DO NOTHING",
        args![
            &p.end_to_end_id,
            &p.card_hash,
            p.amount_fen,
            &p.memo,
            p.paid_at,
            p.settle_at,
            p.return_reason.as_deref()
        ],
    )
    .await
}

pub async fn statement(
    db: &mut dyn Db,
    hash: &[u8],
    now: DateTime<Utc>,
) -> StoreResult<Vec<SandboxTransaction>> {
    db.all(
        "SELECT amount_fen, memo, settle_at FROM sandbox_payouts
             WHERE card_hash = $1 AND settle_at <= $2 AND return_reason IS NULL ORDER BY settle_at",
        args![hash, now],
        |mut r| {
            Ok(SandboxTransaction {
                amount_fen: r.get(0)?,
                memo: r.get(1)?,
                at: r.get(2)?,
            })
        },
    )
    .await
}

pub async fn due(db: &mut dyn Db, now: DateTime<Utc>) -> StoreResult<Vec<SandboxPayout>> {
    db.all(
        "SELECT end_to_end_id, card_hash, amount_fen, memo, paid_at, settle_at, return_reason
             FROM sandbox_payouts WHERE NOT acknowledged AND settle_at <= $1
             ORDER BY settle_at LIMIT 500",
        args![now],
        |mut r| {
            Ok(SandboxPayout {
                end_to_end_id: r.get(0)?,
                card_hash: r.get(1)?,
                amount_fen: r.get(2)?,
                memo: r.get(3)?,
                paid_at: r.get(4)?,
                settle_at: r.get(5)?,
                return_reason: r.get(6)?,
            })
        },
    )
    .await
}

pub async fn acknowledge(db: &mut dyn Db, ids: &[String]) -> StoreResult<()> {
    for e2e in ids {
        db.exec(
            "UPDATE sandbox_payouts SET acknowledged = TRUE WHERE end_to_end_id = $1",
            args![e2e],
        )
        .await?;
    }
    Ok(())
}
