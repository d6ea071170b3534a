//! Staff accounts as operators manage them (`realname staff add|totp|disable`, CONTRACT 5):
//! over the store and its keys, as every command is, so that a key that is not the store's is
//! refused here too.

use std::sync::Arc;

use realname_app::{auth, second_factor};
use realname_core::store::{Account, Role, Store, StoreError};

use crate::config::Config;
use crate::{StartError, keys, open_store};

#[derive(Debug, thiserror::Error)]
pub enum StaffError {
    #[error(transparent)]
    Start(#[from] StartError),
    #[error("login {0} is taken")]
    Taken(String),
    #[error("no staff account {0}")]
    NoSuchStaff(String),
    #[error("{0}")]
    Failed(String),
}

impl From<StoreError> for StaffError {
    fn from(e: StoreError) -> StaffError {
        StaffError::Failed(e.to_string())
    }
}

impl From<realname_app::AppError> for StaffError {
    fn from(e: realname_app::AppError) -> StaffError {
        StaffError::Failed(e.code.as_str().to_owned())
    }
}

struct StaffStore {
    store: Arc<dyn Store>,
    vault: realname_vault::AesVault,
}

async fn open(config: &Config) -> Result<StaffStore, StaffError> {
    let store = open_store(config).await?.store;
    let vault = keys::open(config, store.as_ref()).await?.vault;
    Ok(StaffStore { store, vault })
}

async fn staff_account(store: &dyn Store, login: &str) -> Result<Account, StaffError> {
    store
        .account_by_login(login)
        .await?
        .filter(|a| a.role.is_staff())
        .ok_or_else(|| StaffError::NoSuchStaff(login.to_owned()))
}

/// Creates a staff account with its second factor, and answers the URI to enrol it from.
/// `login` is already normalised, `password` already checked.
pub async fn add(
    config: &Config,
    login: &str,
    role: Role,
    password: String,
) -> Result<String, StaffError> {
    let opened = open(config).await?;
    let account = Account {
        id: uuid::Uuid::new_v4(),
        login: login.to_owned(),
        password_hash: auth::hash_password(password).await?,
        role,
        created_at: chrono::Utc::now(),
    };
    opened
        .store
        .create_account(&account)
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => StaffError::Taken(login.to_owned()),
            other => other.into(),
        })?;
    Ok(second_factor::enrol(opened.store.as_ref(), &opened.vault, &account).await?)
}

/// Replaces a staff account's second factor: the old codes stop working at once.
pub async fn new_second_factor(config: &Config, login: &str) -> Result<String, StaffError> {
    let opened = open(config).await?;
    let account = staff_account(opened.store.as_ref(), login).await?;
    Ok(second_factor::enrol(opened.store.as_ref(), &opened.vault, &account).await?)
}

/// Ends a staff account's sign-ins and sessions at once, on every node.
pub async fn disable(config: &Config, login: &str) -> Result<(), StaffError> {
    let opened = open(config).await?;
    let account = staff_account(opened.store.as_ref(), login).await?;
    opened
        .store
        .disable_account(account.id, chrono::Utc::now())
        .await?;
    Ok(())
}
