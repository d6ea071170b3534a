//! Who is calling, resolved once per request and shared by the API, the pages and
//! idempotency. What each kind of caller may do is decided here, not by the front ends.

use realname_core::Code;
use realname_core::platform::{ApiKey, KeyMode, Scope};
use realname_core::store::{Account, Role};

use crate::auth::token_hash;
use crate::{AppError, AppResult, Service};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// A person going through the journey.
    User(Account),
    /// A reviewer or an admin.
    Staff(Account),
    /// A platform's backend, by one of its API keys.
    Platform(ApiKey),
}

/// The `Idempotency-Key` scope of a person's account.
pub fn account_scope(account_id: uuid::Uuid) -> String {
    account_id.to_string()
}

impl Principal {
    pub fn of(account: Account) -> Principal {
        if account.role.is_staff() {
            Principal::Staff(account)
        } else {
            Principal::User(account)
        }
    }

    /// The account behind a person: staff have an account of their own, and may apply like
    /// anybody. A platform key has none (`unauthorized`: it never reaches a person's routes).
    pub fn account(&self) -> AppResult<&Account> {
        match self {
            Principal::User(a) | Principal::Staff(a) => Ok(a),
            Principal::Platform(_) => Err(AppError::new(Code::Unauthorized)),
        }
    }

    /// Whether this is a person's session (a user or staff), as opposed to a platform key.
    pub fn is_person(&self) -> bool {
        !matches!(self, Principal::Platform(_))
    }

    /// What idempotency keys are scoped to: the same key from two callers is two keys.
    pub fn scope(&self) -> String {
        match self {
            Principal::User(a) | Principal::Staff(a) => account_scope(a.id),
            Principal::Platform(key) => format!("key {}", key.prefix),
        }
    }

    /// A reviewer or an admin, or `forbidden`.
    pub fn staff(&self) -> AppResult<&Account> {
        match self {
            Principal::Staff(a) => Ok(a),
            Principal::User(_) => Err(AppError::new(Code::Forbidden)),
            Principal::Platform(_) => Err(AppError::new(Code::Unauthorized)),
        }
    }

    /// A platform key that may act in this deployment's mode and has `scope`: the mode is
    /// judged first (`key_mode_mismatch`), then the scope (`forbidden`, naming it).
    pub fn platform(&self, app: &Service, scope: Scope) -> AppResult<&ApiKey> {
        let Principal::Platform(key) = self else {
            return Err(AppError::new(Code::Unauthorized));
        };
        if key.mode != app.mode() {
            return Err(AppError::new(Code::KeyModeMismatch));
        }
        if !key.has(scope) {
            let mut refused = AppError::new(Code::Forbidden);
            refused.messages = Some(Box::new((
                format!("This key does not have the scope {scope}."),
                format!("此密钥没有 {scope} 权限。"),
            )));
            return Err(refused);
        }
        Ok(key)
    }

    /// Who may move the sandbox clock: an admin, or a test key while the rail is the sandbox
    /// (a live key: `key_mode_mismatch`); other staff and users are `forbidden`.
    pub fn sandbox_operator(&self, app: &Service) -> AppResult<()> {
        match self {
            Principal::Staff(a) if a.role == Role::Admin => Ok(()),
            Principal::Platform(_) => self.sandbox_key(app).map(drop),
            _ => Err(AppError::new(Code::Forbidden)),
        }
    }

    /// A test key while the rail is the sandbox (CONTRACT 4, Sandbox): a live key is
    /// `key_mode_mismatch`, a session `unauthorized`.
    pub fn sandbox_key(&self, app: &Service) -> AppResult<&ApiKey> {
        match self {
            Principal::Platform(key) if key.mode == KeyMode::Test && app.sandbox.is_some() => {
                Ok(key)
            }
            Principal::Platform(_) => Err(AppError::new(Code::KeyModeMismatch)),
            _ => Err(AppError::new(Code::Unauthorized)),
        }
    }

    /// An admin, or `forbidden`.
    pub fn admin(&self) -> AppResult<&Account> {
        match self {
            Principal::Staff(a) if a.role == Role::Admin => Ok(a),
            Principal::Platform(_) => Err(AppError::new(Code::Unauthorized)),
            _ => Err(AppError::new(Code::Forbidden)),
        }
    }
}

impl Service {
    /// The caller a bearer token belongs to, if it is live: a platform key (`rn_live_…`,
    /// `rn_test_…`) or a session.
    pub async fn principal(&self, token: &str) -> AppResult<Option<Principal>> {
        if let Some(key) = crate::platform::keys::resolve(self, token).await? {
            return Ok(Some(Principal::Platform(key)));
        }
        Ok(self
            .store
            .session_account(&token_hash(token), self.now())
            .await?
            .map(Principal::of))
    }

    /// The person a pages session cookie belongs to: any live session, the ones a platform's
    /// link opened included.
    pub async fn page_principal(&self, token: &str) -> AppResult<Option<Principal>> {
        Ok(self
            .store
            .page_session_account(&token_hash(token), self.now())
            .await?
            .map(Principal::of))
    }

    /// The mode of what is made now: test while the payout rail is the sandbox.
    pub fn mode(&self) -> KeyMode {
        KeyMode::of_rail(self.sandbox.is_some())
    }
}
