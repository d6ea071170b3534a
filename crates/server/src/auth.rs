//! Passwords, session tokens, logins and the extractors that identify the caller.

use argon2::Argon2;
use argon2::password_hash::{
    PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng,
};
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::TryRngCore;
use realname_core::Code;
use realname_core::phone::Phone;
use realname_core::store::{Account, Role};
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::state::AppState;

pub const MIN_PASSWORD_CHARS: usize = 8;
const MAX_PASSWORD_BYTES: usize = 1024;

/// Argon2id with the crate's defaults (19 MiB, 2 passes), off the async threads.
pub async fn hash_password(password: String) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
    })
    .await
    .map_err(|e| ApiError::internal("password hashing task", e))?
    .map_err(|e| ApiError::internal("password hashing", e))
}

pub async fn verify_password(password: String, phc: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&phc)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

/// A password hash nobody's password matches, verified against when the login is unknown so
/// that both paths take the same time.
pub async fn dummy_hash() -> String {
    static DUMMY: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    DUMMY
        .get_or_init(|| async {
            hash_password("no account has this password".into())
                .await
                .unwrap_or_default()
        })
        .await
        .clone()
}

pub fn check_password(password: &str) -> Result<(), ApiError> {
    if password.chars().count() < MIN_PASSWORD_CHARS || password.len() > MAX_PASSWORD_BYTES {
        return Err(ApiError::field("password", Code::PasswordTooWeak));
    }
    Ok(())
}

/// A user's login: an e-mail address (lower-cased) or a phone number (E.164).
pub fn normalise_user_login(login: &str) -> Result<String, ApiError> {
    let login = login.trim();
    if let Some((local, domain)) = login.split_once('@') {
        let ok = !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && login.len() <= 254
            && !login.chars().any(|c| c.is_whitespace() || c.is_control())
            && !domain.contains('@');
        return if ok {
            Ok(login.to_lowercase())
        } else {
            Err(ApiError::field("login", Code::LoginInvalid))
        };
    }
    match Phone::parse(login) {
        Ok(parsed) => Ok(parsed.phone.e164().to_owned()),
        Err(_) => Err(ApiError::field("login", Code::LoginInvalid)),
    }
}

/// A staff login may also be a plain name (`alice`).
pub fn normalise_staff_login(login: &str) -> Result<String, ApiError> {
    let trimmed = login.trim().to_lowercase();
    let plain = (3..=64).contains(&trimmed.len())
        && trimmed
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
    if plain {
        Ok(trimmed)
    } else {
        normalise_user_login(login)
    }
}

/// How a login is looked up: the same normalisation whichever form was typed.
pub fn lookup_login(login: &str) -> String {
    normalise_user_login(login)
        .or_else(|_| normalise_staff_login(login))
        .unwrap_or_else(|_| login.trim().to_lowercase())
}

pub fn new_token() -> Result<String, ApiError> {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng
        .try_fill_bytes(&mut bytes)
        .map_err(|e| ApiError::internal("token", e))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

pub fn bearer(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get(AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

/// The logged-in caller.
pub struct CurrentUser(pub Account);

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer(parts).ok_or_else(|| ApiError::new(Code::Unauthorized))?;
        let account = state
            .store
            .session_account(&token_hash(token), state.now())
            .await?;
        account
            .map(CurrentUser)
            .ok_or_else(|| ApiError::new(Code::Unauthorized))
    }
}

/// A logged-in reviewer or admin.
pub struct Staff(pub Account);

impl FromRequestParts<AppState> for Staff {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let CurrentUser(account) = CurrentUser::from_request_parts(parts, state).await?;
        if account.role.is_staff() {
            Ok(Staff(account))
        } else {
            Err(ApiError::new(Code::Forbidden))
        }
    }
}

/// A logged-in admin.
pub struct Admin(pub Account);

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let CurrentUser(account) = CurrentUser::from_request_parts(parts, state).await?;
        if account.role == Role::Admin {
            Ok(Admin(account))
        } else {
            Err(ApiError::new(Code::Forbidden))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logins_are_normalised() {
        assert_eq!(
            normalise_user_login(" Anna@Example.COM ").unwrap(),
            "anna@example.com"
        );
        assert_eq!(
            normalise_user_login("138-0013-8000").unwrap(),
            "+8613800138000"
        );
        assert!(normalise_user_login("+852 9123 4567").is_err());
        assert_eq!(
            normalise_user_login("+852-9123-4567").unwrap(),
            "+85291234567"
        );
        for bad in [
            "",
            "anna",
            "anna@",
            "@x.com",
            "a b@x.com",
            "a@x",
            "a@@x.com",
        ] {
            assert!(normalise_user_login(bad).is_err(), "{bad}");
        }
        assert_eq!(normalise_staff_login("Alice").unwrap(), "alice");
        assert_eq!(lookup_login("ALICE"), "alice");
        assert_eq!(lookup_login("13800138000"), "+8613800138000");
    }

    #[test]
    fn tokens_are_random_and_stored_as_hashes() {
        let (a, b) = (new_token().unwrap(), new_token().unwrap());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(token_hash(&a).len(), 32);
        assert_ne!(token_hash(&a), a.as_bytes());
    }
}
