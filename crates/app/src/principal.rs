//! Who is calling, resolved once per request and shared by the API, the pages and
//! idempotency. What each kind of caller may do is decided here, not by the front ends.

use realname_core::Code;
use realname_core::store::{Account, Role};

use crate::auth::token_hash;
use crate::{AppError, AppResult, Service};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// A person going through the journey.
    User(Account),
    /// A reviewer or an admin.
    Staff(Account),
}

impl Principal {
    pub fn of(account: Account) -> Principal {
        if account.role.is_staff() {
            Principal::Staff(account)
        } else {
            Principal::User(account)
        }
    }

    /// The account behind the caller. Staff have an account of their own, and may apply
    /// like anybody.
    pub fn account(&self) -> &Account {
        match self {
            Principal::User(a) | Principal::Staff(a) => a,
        }
    }

    /// What idempotency keys are scoped to: the same key from two callers is two keys.
    pub fn scope(&self) -> String {
        self.account().id.to_string()
    }

    /// A reviewer or an admin, or `forbidden`.
    pub fn staff(&self) -> AppResult<&Account> {
        match self {
            Principal::Staff(a) => Ok(a),
            Principal::User(_) => Err(AppError::new(Code::Forbidden)),
        }
    }

    /// An admin, or `forbidden`.
    pub fn admin(&self) -> AppResult<&Account> {
        match self {
            Principal::Staff(a) if a.role == Role::Admin => Ok(a),
            _ => Err(AppError::new(Code::Forbidden)),
        }
    }
}

impl Service {
    /// The caller a session token belongs to, if it is live.
    pub async fn principal(&self, token: &str) -> AppResult<Option<Principal>> {
        Ok(self
            .store
            .session_account(&token_hash(token), self.now())
            .await?
            .map(Principal::of))
    }
}
