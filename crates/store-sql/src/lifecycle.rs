//! The end of a record's life: erasure, the retention clock's candidates, a platform user's
//! closure, and the history the service keeps only for a while.

use chrono::{DateTime, Utc};
use realname_core::platform::EventType;
use realname_core::retention::Due;
use realname_core::state::{Failure, Status};
use realname_core::store::{
    Applied, Closed, Closure, Erased, Erasure, Forget, Forgotten, RetentionCandidate, StoreError,
    StoreResult,
};
use uuid::Uuid;

use crate::args;
use crate::changes::{apply_in, insert_audit, publish, statuses};
use crate::db::{Db, Engine};

pub async fn purge_history(db: &mut dyn Db, forget: &Forget) -> StoreResult<Forgotten> {
    Ok(Forgotten {
        deliveries: db
            .exec(
                "DELETE FROM delivery_attempts WHERE at < $1",
                args![forget.events_before],
            )
            .await?,
        events: db
            .exec(
                "DELETE FROM platform_events WHERE created_at < $1",
                args![forget.events_before],
            )
            .await?,
        jobs: db
            .exec(
                "DELETE FROM jobs WHERE done_at IS NOT NULL AND done_at < $1",
                args![forget.jobs_before],
            )
            .await?,
        links: db
            .exec(
                "DELETE FROM link_tokens WHERE expires_at < $1",
                args![forget.links_before],
            )
            .await?,
    })
}

pub async fn erase(db: &mut dyn Db, x: &Erasure) -> StoreResult<Erased> {
    if let Some(cancel) = &x.cancel
        && apply_in(db, cancel).await? == Applied::Moved
    {
        return Ok(Erased::Moved);
    }
    let app = x.application_id;
    let found = db
        .one(
            "SELECT status, failure, redacted_at FROM applications WHERE id = $1 FOR UPDATE",
            args![app],
            |mut r| {
                let status: String = r.get(0)?;
                let failure: Option<String> = r.get(1)?;
                let redacted_at: Option<DateTime<Utc>> = r.get(2)?;
                Ok((status, failure, redacted_at))
            },
        )
        .await?;
    let Some((status, failure, redacted_at)) = found else {
        return Ok(Erased::NotFound);
    };
    if redacted_at.is_some() {
        return Ok(Erased::Already);
    }
    if status != x.status.as_str() {
        return Ok(Erased::Moved);
    }
    let empty: &[u8] = &[];
    let statements = [
        "UPDATE applications SET form = $2, card_bank = NULL, card_sealed = NULL WHERE id = $1",
        "UPDATE deposits SET amount = $2 WHERE application_id = $1",
    ];
    for sql in statements {
        db.exec(sql, args![app, empty]).await?;
    }
    let statements = [
        "DELETE FROM images WHERE application_id = $1",
        "UPDATE rail_transfers SET instruction = NULL WHERE application_id = $1",
    ];
    for sql in statements {
        db.exec(sql, args![app]).await?;
    }
    db.exec(
        "UPDATE applications SET redacted_at = $1 WHERE id = $2",
        args![x.at, app],
    )
    .await?;
    db.exec(
        "DELETE FROM idempotency WHERE scope = $1",
        args![&x.answers_scope],
    )
    .await?;
    let failure = failure.as_deref().and_then(Failure::decode);
    publish(
        db,
        app,
        EventType::Redacted,
        x.status,
        failure.as_ref(),
        x.livemode,
        x.at,
        None,
    )
    .await?;
    insert_audit(db, &x.audit).await?;
    Ok(Erased::Done)
}

macro_rules! retention_due {
    ($fraud:literal) => {
        concat!(
            "SELECT a.id, a.account_id, a.status, a.failure, a.updated_at, pu.closed_at
             FROM applications a LEFT JOIN platform_users pu ON pu.account_id = a.account_id
             WHERE a.redacted_at IS NULL AND (
                -- A fraud finding (its failure's code) is held to its own instant.
                (a.status IN ('failed', 'cancelled') AND a.updated_at <= CASE WHEN ",
            $fraud,
            " THEN $2 ELSE $1 END)
                OR (a.status = 'draft' AND a.updated_at <= $3)
                OR (a.status = 'verified' AND pu.closed_at <= $4))
             ORDER BY a.updated_at LIMIT $6"
        )
    };
}

pub async fn retention_due(
    db: &mut dyn Db,
    due: &Due,
    limit: u32,
) -> StoreResult<Vec<RetentionCandidate>> {
    let sql = db.dialect().pick(
        retention_due!("substr(a.failure, 1, instr(a.failure, ';') - 1) = ANY($5)"),
        retention_due!("split_part(a.failure, ';', 1) = ANY($5)"),
    );
    let fraud: &[&str] = &due.fraud_codes;
    db.all(
        sql,
        args![
            due.ended_before,
            due.fraud_before,
            due.untouched_before,
            due.closed_before,
            fraud,
            limit
        ],
        |mut r| {
            Ok(RetentionCandidate {
                application_id: r.get(0)?,
                account_id: r.get(1)?,
                status: r.get(2)?,
                failure: r
                    .get::<Option<String>>(3)?
                    .as_deref()
                    .and_then(Failure::decode),
                updated_at: r.get(4)?,
                account_closed_at: r.get(5)?,
            })
        },
    )
    .await
}

pub async fn account_closed_at(
    db: &mut dyn Db,
    account_id: Uuid,
) -> StoreResult<Option<DateTime<Utc>>> {
    db.value::<Option<DateTime<Utc>>>(
        "SELECT closed_at FROM platform_users WHERE account_id = $1",
        args![account_id],
    )
    .await
    .map(Option::flatten)
}

pub async fn close_platform_user(db: &mut dyn Db, c: &Closure) -> StoreResult<Closed> {
    let account = c.account_id;
    let open = db
        .row(
            "SELECT account_id FROM platform_users WHERE account_id = $1 AND closed_at IS NULL
             FOR UPDATE",
            args![account],
        )
        .await?;
    if open.is_none() {
        return Ok(Closed::NotOpen);
    }
    if let Some(cancel) = &c.cancel
        && apply_in(db, cancel).await? == Applied::Moved
    {
        return Ok(Closed::Moved);
    }
    let open_statuses = statuses(Status::is_open);
    let sql =
        "SELECT EXISTS (SELECT 1 FROM applications WHERE account_id = $1 AND status = ANY($2))";
    let in_progress: bool = db
        .value(sql, args![account, open_statuses.as_slice()])
        .await?
        .unwrap_or(false);
    if in_progress {
        // Undoes the draft's cancellation with the rest.
        return Err(StoreError::Conflict("application_in_progress".into()));
    }
    db.exec(
        "UPDATE platform_users SET closed_at = $1 WHERE account_id = $2",
        args![c.at, account],
    )
    .await?;
    let statements = [
        // The login names the platform's user; a new account for it takes it over.
        "UPDATE accounts SET login = 'closed:' || CAST(id AS TEXT) WHERE id = $1",
        "DELETE FROM sessions WHERE account_id = $1",
        "DELETE FROM link_tokens WHERE used_at IS NULL
             AND session_id IN (SELECT id FROM platform_sessions WHERE account_id = $1)",
    ];
    for sql in statements {
        db.exec(sql, args![account]).await?;
    }
    insert_audit(db, &c.audit).await?;
    Ok(Closed::Done)
}

/// Answers when the store answers.
pub async fn ping(db: &mut dyn Db) -> StoreResult<()> {
    db.row("SELECT 1", args![]).await.map(drop)
}

/// Makes erased values unrecoverable from the engine's own files (see [`Engine::settle_erasures`]).
pub async fn settle_erasures(e: &impl Engine) -> StoreResult<()> {
    e.settle_erasures().await
}
