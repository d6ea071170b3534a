//! Platform API keys: shown once when made, kept only as a keyed hash and their first
//! characters, revoked at once on every node (each request looks its key up in the store).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::TryRngCore;
use realname_core::Code;
use realname_core::platform::{ApiKey, KeyMode, Scope, key_mode_of, key_prefix};
use realname_core::ports::Lookup;

use crate::security::{self, SecurityEvent};
use crate::{AppError, AppResult, Service};

/// How stale a key's last-used time may be before a request records it again.
const TOUCH_EVERY: chrono::TimeDelta = chrono::TimeDelta::minutes(1);

/// A key just made: the key itself, shown this once, and what is stored of it.
pub struct NewKey {
    pub key: String,
    pub record: ApiKey,
}

fn key_hash(app: &Service, key: &str) -> Vec<u8> {
    app.vault
        .keyed_hash(Lookup::ApiKey, key.as_bytes())
        .to_vec()
}

/// A new key named `name` with `scopes` (none given: the default set).
pub async fn create(
    app: &Service,
    name: &str,
    scopes: &[Scope],
    mode: KeyMode,
) -> AppResult<NewKey> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(AppError::field("name", Code::FieldRequired));
    }
    let mut scopes = if scopes.is_empty() {
        Scope::default_set()
    } else {
        scopes.to_vec()
    };
    scopes.sort();
    scopes.dedup();
    let mut secret = [0u8; 32];
    rand::rngs::OsRng
        .try_fill_bytes(&mut secret)
        .map_err(|e| AppError::internal("api key", e))?;
    let key = format!("{}{}", mode.key_start(), URL_SAFE_NO_PAD.encode(secret));
    let record = ApiKey {
        prefix: key_prefix(&key).to_owned(),
        key_hash: key_hash(app, &key),
        name: name.to_owned(),
        mode,
        scopes,
        created_at: app.now(),
        last_used_at: None,
        revoked_at: None,
    };
    app.store.create_api_key(&record).await?;
    security::record(SecurityEvent::ApiKeyCreated {
        prefix: &record.prefix,
    });
    Ok(NewKey { key, record })
}

pub async fn list(app: &Service) -> AppResult<Vec<ApiKey>> {
    Ok(app.store.api_keys().await?)
}

/// Ends the key named by `prefix`; `false` when there is no such live key.
pub async fn revoke(app: &Service, prefix: &str) -> AppResult<bool> {
    let prefix = prefix.trim();
    let revoked = app.store.revoke_api_key(prefix, app.now()).await?;
    if revoked {
        security::record(SecurityEvent::ApiKeyRevoked { prefix });
    }
    Ok(revoked)
}

/// The live key `token` is, if it is one.
pub async fn resolve(app: &Service, token: &str) -> AppResult<Option<ApiKey>> {
    if key_mode_of(token).is_none() {
        return Ok(None);
    }
    let Some(key) = app.store.api_key(&key_hash(app, token)).await? else {
        return Ok(None);
    };
    if key.revoked_at.is_some() {
        return Ok(None);
    }
    // The last use is kept to the minute, so most requests write nothing; the store's own
    // condition settles nodes touching the same key at once. A failed touch costs only the
    // last-used time.
    let now = app.now();
    if key.last_used_at.is_none_or(|used| used < now - TOUCH_EVERY)
        && let Err(e) = app.store.touch_api_key(&key.prefix, now).await
    {
        tracing::warn!(error = %e, "could not record a key's use");
    }
    security::record(SecurityEvent::ApiKeyUsed {
        prefix: &key.prefix,
    });
    Ok(Some(key))
}
