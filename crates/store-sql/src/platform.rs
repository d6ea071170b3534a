//! The platform API's own records: API keys, the platform's users and sessions, one-time
//! links, page sessions and the event feed.

use chrono::{DateTime, TimeDelta, Utc};
use realname_core::platform::{
    ApiKey, EventQuery, EventType, LinkToken, LinkUse, PlatformEvent, PlatformSession,
};
use realname_core::state::Failure;
use realname_core::store::{Account, StoreError, StoreResult};
use uuid::Uuid;

use crate::db::{Db, Row};
use crate::{args, conflict_as};

macro_rules! api_key_columns {
    () => {
        "prefix, key_hash, name, mode, scopes, created_at, last_used_at, revoked_at"
    };
}

fn api_key_row(mut r: Row) -> StoreResult<ApiKey> {
    Ok(ApiKey {
        prefix: r.get(0)?,
        key_hash: r.get(1)?,
        name: r.get(2)?,
        mode: r.get(3)?,
        scopes: ApiKey::parse_scopes(&r.get::<String>(4)?),
        created_at: r.get(5)?,
        last_used_at: r.get(6)?,
        revoked_at: r.get(7)?,
    })
}

macro_rules! platform_session_columns {
    () => {
        "id, account_id, external_user_id, return_url, locale, metadata, mode, created_at, purpose"
    };
}

fn session_row(r: &mut Row) -> StoreResult<PlatformSession> {
    Ok(PlatformSession {
        id: r.get(0)?,
        account_id: r.get(1)?,
        external_user_id: r.get(2)?,
        return_url: r.get(3)?,
        locale: r.get(4)?,
        metadata: r.get(5)?,
        mode: r.get(6)?,
        created_at: r.get(7)?,
        purpose: r.get(8)?,
    })
}

macro_rules! platform_event_columns {
    () => {
        "position, id, application_id, type, sequence, status, failure, livemode, created_at, external_user_id, list_versions"
    };
}

fn platform_event(mut r: Row) -> StoreResult<PlatformEvent> {
    let failure: Option<String> = r.get(6)?;
    Ok(PlatformEvent {
        position: r.get(0)?,
        id: r.get(1)?,
        application_id: r.get(2)?,
        event_type: r.get(3)?,
        sequence: r.get(4)?,
        status: r.get(5)?,
        failure: failure.as_deref().and_then(Failure::decode),
        livemode: r.get(7)?,
        created_at: r.get(8)?,
        external_user_id: r.get(9)?,
        list_versions: r.get(10)?,
    })
}

pub(crate) async fn insert_link(db: &mut dyn Db, link: &LinkToken) -> StoreResult<()> {
    db.run(
        "INSERT INTO link_tokens (token_hash, session_id, expires_at) VALUES ($1, $2, $3)",
        args![&link.token_hash, link.session_id, link.expires_at],
    )
    .await
}

pub async fn create_api_key(db: &mut dyn Db, key: &ApiKey) -> StoreResult<()> {
    db.run(
        "INSERT INTO api_keys (prefix, key_hash, name, mode, scopes, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        args![
            &key.prefix,
            &key.key_hash,
            &key.name,
            key.mode.as_str(),
            key.scopes_text().as_str(),
            key.created_at
        ],
    )
    .await
    .map_err(conflict_as("api_key"))
}

pub async fn api_key(db: &mut dyn Db, hash: &[u8]) -> StoreResult<Option<ApiKey>> {
    db.one(
        concat!(
            "SELECT ",
            api_key_columns!(),
            " FROM api_keys WHERE key_hash = $1"
        ),
        args![hash],
        api_key_row,
    )
    .await
}

pub async fn api_keys(db: &mut dyn Db) -> StoreResult<Vec<ApiKey>> {
    db.all(
        concat!(
            "SELECT ",
            api_key_columns!(),
            " FROM api_keys ORDER BY created_at, prefix"
        ),
        args![],
        api_key_row,
    )
    .await
}

pub async fn revoke_api_key(db: &mut dyn Db, prefix: &str, at: DateTime<Utc>) -> StoreResult<bool> {
    db.changed(
        "UPDATE api_keys SET revoked_at = $1 WHERE prefix = $2 AND revoked_at IS NULL",
        args![at, prefix],
    )
    .await
}

pub async fn touch_api_key(db: &mut dyn Db, prefix: &str, at: DateTime<Utc>) -> StoreResult<()> {
    db.run(
        "UPDATE api_keys SET last_used_at = $1
             WHERE prefix = $2 AND (last_used_at IS NULL OR last_used_at < $3)",
        args![at, prefix, at - TimeDelta::minutes(1)],
    )
    .await
}

const PLATFORM_ACCOUNT: &str =
    "SELECT account_id FROM platform_users WHERE external_user_id = $1 AND closed_at IS NULL";

pub async fn platform_account(db: &mut dyn Db, ext: &str) -> StoreResult<Option<Uuid>> {
    db.value(PLATFORM_ACCOUNT, args![ext]).await
}

pub async fn link_platform_user(
    db: &mut dyn Db,
    ext: &str,
    account: &Account,
) -> StoreResult<Uuid> {
    // Two first sessions of one external id at once make one account.
    db.lock(1, ext).await?;
    if let Some(existing) = db.value(PLATFORM_ACCOUNT, args![ext]).await? {
        return Ok(existing);
    }
    db.exec(
            "INSERT INTO accounts (id, login, password_hash, role, created_at) VALUES ($1, $2, $3, $4, $5)",
            args![
                account.id,
                &account.login,
                &account.password_hash,
                account.role.as_str(),
                account.created_at
            ],
        )
        .await
        .map_err(conflict_as("login"))?;
    db.exec(
        "INSERT INTO platform_users (account_id, external_user_id, created_at) VALUES ($1, $2, $3)",
        args![account.id, ext, account.created_at],
    )
    .await?;
    Ok(account.id)
}

pub async fn external_user_of(db: &mut dyn Db, account_id: Uuid) -> StoreResult<Option<String>> {
    db.value(
        "SELECT external_user_id FROM platform_users WHERE account_id = $1",
        args![account_id],
    )
    .await
}

pub async fn create_platform_session(
    db: &mut dyn Db,
    s: &PlatformSession,
    link: &LinkToken,
) -> StoreResult<()> {
    db.exec(
        "INSERT INTO platform_sessions
                 (id, account_id, external_user_id, return_url, locale, metadata, mode, created_at,
                  purpose)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        args![
            s.id,
            s.account_id,
            &s.external_user_id,
            s.return_url.as_deref(),
            s.locale.as_deref(),
            &s.metadata,
            s.mode.as_str(),
            s.created_at,
            s.purpose.as_str()
        ],
    )
    .await?;
    insert_link(db, link).await
}

const SESSION_BY_ID: &str = concat!(
    "SELECT ",
    platform_session_columns!(),
    " FROM platform_sessions WHERE id = $1"
);

pub async fn platform_session(
    db: &mut dyn Db,
    session: Uuid,
) -> StoreResult<Option<PlatformSession>> {
    db.one(SESSION_BY_ID, args![session], |mut r| session_row(&mut r))
        .await
}

pub async fn add_link(db: &mut dyn Db, link: &LinkToken) -> StoreResult<()> {
    insert_link(db, link).await
}

pub async fn use_link(db: &mut dyn Db, hash: &[u8], now: DateTime<Utc>) -> StoreResult<LinkUse> {
    let session: Option<Uuid> = db
        .value(
            "UPDATE link_tokens SET used_at = $2
                 WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2
                 RETURNING session_id",
            args![hash, now],
        )
        .await?;
    let Some(session) = session else {
        let known = db
            .row(
                "SELECT 1 FROM link_tokens WHERE token_hash = $1",
                args![hash],
            )
            .await?;
        return Ok(match known {
            Some(_) => LinkUse::Spent,
            None => LinkUse::Unknown,
        });
    };
    db.one(SESSION_BY_ID, args![session], |mut r| session_row(&mut r))
        .await?
        .map(LinkUse::Used)
        .ok_or_else(|| StoreError::Failed("a link names no session".into()))
}

pub async fn link(
    db: &mut dyn Db,
    hash: &[u8],
    now: DateTime<Utc>,
) -> StoreResult<Option<(PlatformSession, bool)>> {
    db.one(
        "SELECT s.id, s.account_id, s.external_user_id, s.return_url, s.locale, s.metadata, s.mode,
                    s.created_at, s.purpose, (l.used_at IS NULL AND l.expires_at > $2)
             FROM link_tokens l JOIN platform_sessions s ON s.id = l.session_id
             WHERE l.token_hash = $1",
        args![hash, now],
        |mut r| Ok((session_row(&mut r)?, r.get(9)?)),
    )
    .await
}

pub async fn create_page_session(
    db: &mut dyn Db,
    hash: &[u8],
    account_id: Uuid,
    expires_at: DateTime<Utc>,
) -> StoreResult<()> {
    crate::accounts::insert_session(db, hash, account_id, expires_at, true).await
}

pub async fn page_session_account(
    db: &mut dyn Db,
    hash: &[u8],
    now: DateTime<Utc>,
) -> StoreResult<Option<Account>> {
    crate::accounts::session_holder(db, hash, now, true).await
}

pub async fn events(db: &mut dyn Db, q: &EventQuery) -> StoreResult<Vec<PlatformEvent>> {
    db.all(
        concat!(
            "SELECT ",
            platform_event_columns!(),
            " FROM platform_events
                 WHERE created_at >= $1 AND ($2 IS NULL OR type = $2)
                   AND ($3 IS NULL OR application_id = $3) AND ($4 IS NULL OR position < $4)
                   AND livemode = $6
                 ORDER BY position DESC LIMIT $5"
        ),
        args![
            q.since,
            q.event_type.map(EventType::as_str),
            q.application_id,
            q.before,
            q.limit,
            q.livemode
        ],
        platform_event,
    )
    .await
}

pub async fn event(db: &mut dyn Db, event_id: &str) -> StoreResult<Option<PlatformEvent>> {
    db.one(
        concat!(
            "SELECT ",
            platform_event_columns!(),
            " FROM platform_events WHERE id = $1"
        ),
        args![event_id],
        platform_event,
    )
    .await
}
