//! Accounts and what guards them: sessions, the second factor, sign-in throttles, known
//! clients, idempotency keys and rate windows.

use std::collections::HashMap;

use chrono::{DateTime, TimeDelta, Utc};
use realname_core::store::{
    Account, Idempotency, KeptRequest, Role, StoreResult, Throttle, ThrottlePolicy,
};
use uuid::Uuid;

use crate::db::{Db, Row};
use crate::{args, conflict_as};

pub(crate) fn account(mut r: Row) -> StoreResult<Account> {
    Ok(Account {
        id: r.get(0)?,
        login: r.get(1)?,
        password_hash: r.get(2)?,
        role: Role::parse(&r.get::<String>(3)?).unwrap_or(Role::User),
        created_at: r.get(4)?,
    })
}

pub async fn create_account(db: &mut dyn Db, a: &Account) -> StoreResult<()> {
    db.run(
            "INSERT INTO accounts (id, login, password_hash, role, created_at) VALUES ($1, $2, $3, $4, $5)",
            args![a.id, &a.login, &a.password_hash, a.role.as_str(), a.created_at],
        ).await
        .map_err(conflict_as("login"))
}

pub async fn account_by_login(db: &mut dyn Db, login: &str) -> StoreResult<Option<Account>> {
    db.one(
        "SELECT id, login, password_hash, role, created_at FROM accounts
             WHERE login = $1 AND disabled_at IS NULL",
        args![login],
        account,
    )
    .await
}

pub async fn logins(db: &mut dyn Db, ids: &[Uuid]) -> StoreResult<HashMap<Uuid, String>> {
    let sql = "SELECT id, login FROM accounts WHERE id = ANY($1)";
    db.all(sql, args![ids], |mut r| Ok((r.get(0)?, r.get(1)?)))
        .await
        .map(|pairs| pairs.into_iter().collect())
}

pub async fn create_session(
    db: &mut dyn Db,
    hash: &[u8],
    account_id: Uuid,
    expires_at: DateTime<Utc>,
) -> StoreResult<()> {
    insert_session(db, hash, account_id, expires_at, false).await
}

/// A session; `pages_only` for one the pages alone accept (a platform's link signed it in).
pub(crate) async fn insert_session(
    db: &mut dyn Db,
    hash: &[u8],
    account_id: Uuid,
    expires_at: DateTime<Utc>,
    pages_only: bool,
) -> StoreResult<()> {
    db.run(
        "INSERT INTO sessions (token_hash, account_id, expires_at, pages_only) VALUES ($1, $2, $3, $4)",
        args![hash, account_id, expires_at, pages_only],
    )
    .await
}

pub async fn session_account(
    db: &mut dyn Db,
    hash: &[u8],
    now: DateTime<Utc>,
) -> StoreResult<Option<Account>> {
    session_holder(db, hash, now, false).await
}

/// The account a live session signs in; `pages` admits the sessions the pages alone accept
/// (a platform's link signed them in).
pub(crate) async fn session_holder(
    db: &mut dyn Db,
    hash: &[u8],
    now: DateTime<Utc>,
    pages: bool,
) -> StoreResult<Option<Account>> {
    db.one(
        "SELECT a.id, a.login, a.password_hash, a.role, a.created_at
         FROM sessions s JOIN accounts a ON a.id = s.account_id
         WHERE s.token_hash = $1 AND s.expires_at > $2 AND (NOT s.pages_only OR $3)
           AND a.disabled_at IS NULL",
        args![hash, now, pages],
        account,
    )
    .await
}

pub async fn delete_session(db: &mut dyn Db, hash: &[u8]) -> StoreResult<()> {
    db.run("DELETE FROM sessions WHERE token_hash = $1", args![hash])
        .await
}

pub async fn set_second_factor(
    db: &mut dyn Db,
    account_id: Uuid,
    secret: &[u8],
) -> StoreResult<bool> {
    db.changed(
        "UPDATE accounts SET second_factor = $1, second_factor_step = NULL
             WHERE id = $2 AND disabled_at IS NULL",
        args![secret, account_id],
    )
    .await
}

pub async fn second_factor(db: &mut dyn Db, account_id: Uuid) -> StoreResult<Option<Vec<u8>>> {
    db.value::<Option<Vec<u8>>>(
        "SELECT second_factor FROM accounts WHERE id = $1",
        args![account_id],
    )
    .await
    .map(Option::flatten)
}

pub async fn take_second_factor_step(
    db: &mut dyn Db,
    account_id: Uuid,
    step: i64,
) -> StoreResult<bool> {
    db.changed(
        "UPDATE accounts SET second_factor_step = $1
             WHERE id = $2 AND second_factor IS NOT NULL
               AND (second_factor_step IS NULL OR second_factor_step < $1)",
        args![step, account_id],
    )
    .await
}

pub async fn disable_account(
    db: &mut dyn Db,
    account_id: Uuid,
    at: DateTime<Utc>,
) -> StoreResult<bool> {
    let disabled = db
        .exec(
            "UPDATE accounts SET disabled_at = $1 WHERE id = $2 AND disabled_at IS NULL",
            args![at, account_id],
        )
        .await?;
    db.exec(
        "DELETE FROM sessions WHERE account_id = $1",
        args![account_id],
    )
    .await?;
    Ok(disabled > 0)
}

pub async fn throttle(db: &mut dyn Db, key: &str) -> StoreResult<Throttle> {
    db.one(
        "SELECT failures, locked_until FROM login_throttle WHERE login_key = $1",
        args![key],
        |mut r| {
            Ok(Throttle {
                failures: r.get(0)?,
                locked_until: r.get(1)?,
            })
        },
    )
    .await
    .map(Option::unwrap_or_default)
}

pub async fn record_login_failure(
    db: &mut dyn Db,
    key: &str,
    now: DateTime<Utc>,
    policy: &ThrottlePolicy,
) -> StoreResult<Throttle> {
    let failures: u32 = db
        .value(
            "INSERT INTO login_throttle (login_key, failures) VALUES ($1, 1)
                 ON CONFLICT (login_key) DO UPDATE SET failures = CASE
                     WHEN $2 IS NOT NULL AND login_throttle.last_failure_at < $2 THEN 1
                     ELSE login_throttle.failures + 1 END
                 RETURNING failures",
            args![key, policy.counts_since(now)],
        )
        .await?
        .unwrap_or(1);
    let lock = policy.lock_seconds(failures);
    let locked_until = (lock > 0).then(|| now + TimeDelta::seconds(lock));
    db.exec(
        "UPDATE login_throttle SET locked_until = $1, last_failure_at = $3 WHERE login_key = $2",
        args![locked_until, key, now],
    )
    .await?;
    Ok(Throttle {
        failures,
        locked_until,
    })
}

pub async fn clear_login_failures(db: &mut dyn Db, key: &str) -> StoreResult<()> {
    db.run(
        "DELETE FROM login_throttle WHERE login_key = $1",
        args![key],
    )
    .await
}

pub async fn remember_clients(
    db: &mut dyn Db,
    account_id: Uuid,
    clients: &[Vec<u8>],
    at: DateTime<Utc>,
) -> StoreResult<()> {
    for client in clients {
        db.exec(
            "INSERT INTO known_clients (account_id, client_hash, seen_at) VALUES ($1, $2, $3)
                 ON CONFLICT (account_id, client_hash) DO UPDATE SET seen_at = excluded.seen_at",
            args![account_id, client, at],
        )
        .await?;
    }
    Ok(())
}

pub async fn knows_client(
    db: &mut dyn Db,
    account_id: Uuid,
    clients: &[Vec<u8>],
    since: DateTime<Utc>,
) -> StoreResult<bool> {
    for client in clients {
        let known = db
            .row(
                "SELECT 1 FROM known_clients
                     WHERE account_id = $1 AND client_hash = $2 AND seen_at >= $3",
                args![account_id, client, since],
            )
            .await?;
        if known.is_some() {
            return Ok(true);
        }
    }
    Ok(false)
}

pub async fn begin_idempotent(
    db: &mut dyn Db,
    scope: &str,
    key: &str,
    hash: &[u8],
    now: DateTime<Utc>,
) -> StoreResult<Idempotency> {
    let inserted = db
        .exec(
            "INSERT INTO idempotency (scope, key, request_hash, created_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (scope, key) DO NOTHING",
            args![scope, key, hash, now],
        )
        .await?;
    if inserted == 1 {
        return Ok(Idempotency::New);
    }
    let kept = db
        .one(
            "SELECT request_hash, status, body FROM idempotency WHERE scope = $1 AND key = $2",
            args![scope, key],
            |mut r| {
                Ok(KeptRequest {
                    request_hash: r.get(0)?,
                    status: r.get(1)?,
                    body: r.get(2)?,
                })
            },
        )
        .await?;
    Ok(Idempotency::of_repeat(kept, hash))
}

pub async fn finish_idempotent(
    db: &mut dyn Db,
    scope: &str,
    key: &str,
    status: u16,
    body: &[u8],
) -> StoreResult<()> {
    db.run(
        "UPDATE idempotency SET status = $1, body = $2 WHERE scope = $3 AND key = $4",
        args![i32::from(status), body, scope, key],
    )
    .await
}

pub async fn abandon_idempotent(db: &mut dyn Db, scope: &str, key: &str) -> StoreResult<()> {
    db.run(
        "DELETE FROM idempotency WHERE scope = $1 AND key = $2 AND status IS NULL",
        args![scope, key],
    )
    .await
}

pub async fn purge_idempotent(db: &mut dyn Db, before: DateTime<Utc>) -> StoreResult<u64> {
    db.exec(
        "DELETE FROM idempotency WHERE created_at < $1",
        args![before],
    )
    .await
}

pub async fn count_hits(
    db: &mut dyn Db,
    bucket: &str,
    window: DateTime<Utc>,
    hits: u32,
) -> StoreResult<u32> {
    db.value(
            "INSERT INTO rate_windows (bucket, window_start, hits) VALUES ($1, $2, $3)
             ON CONFLICT (bucket, window_start) DO UPDATE SET hits = rate_windows.hits + excluded.hits
             RETURNING hits",
            args![bucket, window, hits],
        )
        .await
        .map(Option::unwrap_or_default)
}

pub async fn purge_lapsed(
    db: &mut dyn Db,
    sessions_before: DateTime<Utc>,
    throttles_before: DateTime<Utc>,
    now: DateTime<Utc>,
) -> StoreResult<u64> {
    let sessions = db
        .exec(
            "DELETE FROM sessions WHERE expires_at < $1",
            args![sessions_before],
        )
        .await?;
    let throttles = db
        .exec(
            "DELETE FROM login_throttle
                 WHERE (last_failure_at IS NULL OR last_failure_at < $1)
                   AND (locked_until IS NULL OR locked_until < $2)",
            args![throttles_before, now],
        )
        .await?;
    // A client is known for 30 days after its last sign-in (CONTRACT 4).
    let clients = db
        .exec(
            "DELETE FROM known_clients WHERE seen_at < $1",
            args![now - TimeDelta::days(30)],
        )
        .await?;
    // A window is counted for its minute only.
    let windows = db
        .exec(
            "DELETE FROM rate_windows WHERE window_start < $1",
            args![now - TimeDelta::minutes(5)],
        )
        .await?;
    Ok(sessions + throttles + clients + windows)
}
