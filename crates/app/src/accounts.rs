//! Accounts and sessions: registering, signing in with failed attempts slowed down, signing
//! out, and what an account looks like to its owner.

use chrono::{DateTime, TimeDelta, Utc};
use realname_core::Code;
use realname_core::ports::Lookup;
use realname_core::state::{RealNameStatus, Status, real_name_status};
use realname_core::store::{Account, Role, StoreError, ThrottlePolicy};
use uuid::Uuid;

use crate::error::{AppError, AppResult};
use crate::limits::{self, Counted};
use crate::security::{self, SecurityEvent};
use crate::{Principal, Service, auth};

/// A login and a password as sent: either may be missing. (No `Debug`: it holds a password.)
#[derive(Clone, Default)]
pub struct Credentials {
    pub login: Option<String>,
    pub password: Option<String>,
}

impl Credentials {
    /// Both fields, or `validation_failed` naming each one missing.
    pub fn fields(self) -> AppResult<(String, String)> {
        let mut report = realname_core::Report::default();
        if self.login.as_deref().is_none_or(|l| l.trim().is_empty()) {
            report.breach("login", Code::FieldRequired);
        }
        if self.password.as_deref().is_none_or(str::is_empty) {
            report.breach("password", Code::FieldRequired);
        }
        match (self.login, self.password) {
            (Some(l), Some(p)) if report.is_clean() => Ok((l, p)),
            _ => Err(AppError::validation(report)),
        }
    }
}

/// Registers a user: the login normalised, the password checked and hashed; at most
/// `limits.accounts_per_minute` from one client address (`from`).
pub async fn create_user(
    app: &Service,
    login: &str,
    password: String,
    from: &str,
) -> AppResult<Account> {
    limits::admit(app, Counted::Registration { address: from }).await?;
    // Every breach of a registration at once.
    let login = match (
        auth::normalise_user_login(login),
        auth::check_password(&password),
    ) {
        (Ok(login), Ok(())) => login,
        (login, password) => {
            let mut details = Vec::new();
            details.extend(login.err().map(|e| e.details).unwrap_or_default());
            details.extend(password.err().map(|e| e.details).unwrap_or_default());
            return Err(AppError {
                details,
                ..AppError::new(Code::ValidationFailed)
            });
        }
    };
    let account = Account {
        id: Uuid::new_v4(),
        login,
        password_hash: auth::hash_password(password).await?,
        role: Role::User,
        created_at: app.now(),
    };
    app.store
        .create_account(&account)
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => AppError::new(Code::LoginTaken),
            other => other.into(),
        })?;
    Ok(account)
}

/// A new session.
pub struct Session {
    pub account: Account,
    /// The bearer token; only its hash is stored.
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

/// Where a sign-in comes from: the client address as counted for the limits, and the
/// browser's own token when it is a browser (the pages' `__Host-rn_device` cookie).
#[derive(Clone, Copy)]
pub struct SignInFrom<'a> {
    pub address: &'a str,
    pub browser: Option<&'a str>,
}

impl SignInFrom<'_> {
    /// Keyed hashes of the address and the browser, as the store remembers them.
    fn clients(&self, app: &Service) -> Vec<Vec<u8>> {
        let hash = |what: &str, value: &str| {
            app.vault
                .keyed_hash(Lookup::SignInClient, format!("{what}:{value}").as_bytes())
                .to_vec()
        };
        let mut clients = vec![hash("address", self.address)];
        clients.extend(self.browser.map(|b| hash("browser", b)));
        clients
    }
}

/// How long an address or browser that signed in to an account stays exempt from the
/// slowing down of that account's login (CONTRACT 4).
const KNOWN_FOR_DAYS: i64 = 30;

/// A new session for a login and password, and for staff their second factor's current
/// `code`. At most `limits.sessions_per_minute` attempts from one client address; failures
/// (a wrong or missing code is one) are slowed down per login and address, so a login under
/// attack from one address still opens with its password from another (OWASP ASVS 2.2.1),
/// and per login across every address, except from an address or browser that signed in to
/// it within 30 days. Wrong codes sent with the right password lock a staff account's second
/// factor for 15 minutes after 5 (a wrong password never counts toward it).
pub async fn open_session(
    app: &Service,
    login: &str,
    password: String,
    code: Option<&str>,
    from: SignInFrom<'_>,
) -> AppResult<Session> {
    limits::admit(
        app,
        Counted::SignIn {
            address: from.address,
        },
    )
    .await?;
    let Some(login_key) = auth::lookup_login(login) else {
        // No account has such a login: answered as a wrong password is, in about its time.
        auth::verify_password(password, auth::dummy_hash().await).await;
        security::record(SecurityEvent::LoginFailed { account: None });
        return Err(AppError::new(Code::InvalidCredentials));
    };
    let key = format!("{login_key} {}", from.address);
    let now = app.now();
    let throttle = app.store.throttle(&key).await?;
    if let Some(until) = throttle.locked_until.filter(|u| *u > now) {
        // No look-up of the account here: a refused attempt costs the store nothing more.
        security::record(SecurityEvent::LoginThrottled {
            seconds: wait(until, now),
        });
        return Err(AppError::new(Code::RateLimited).retry_after(wait(until, now)));
    }
    let account = app.store.account_by_login(&login_key).await?;
    let clients = from.clients(app);
    let account_key = format!("login {login_key}");
    let across = app.store.throttle(&account_key).await?;
    if let Some(until) = across.locked_until.filter(|u| *u > now) {
        let known = match &account {
            Some(a) => {
                let since = now - TimeDelta::days(KNOWN_FOR_DAYS);
                app.store.knows_client(a.id, &clients, since).await?
            }
            None => false,
        };
        if !known {
            security::record(SecurityEvent::LoginSlowed {
                account: account.as_ref().map(|a| a.id),
                seconds: wait(until, now),
            });
            return Err(AppError::new(Code::RateLimited).retry_after(wait(until, now)));
        }
    }
    let hash = match &account {
        Some(a) => a.password_hash.clone(),
        None => auth::dummy_hash().await,
    };
    let mut verified = auth::verify_password(password, hash).await && account.is_some();
    if let Some(staff) = account.as_ref().filter(|a| verified && a.role.is_staff()) {
        verified = second_factor(app, staff, code, now).await?;
    }
    let account_id = account.as_ref().map(|a| a.id);
    let Some(account) = account.filter(|_| verified) else {
        let across = app
            .store
            .record_login_failure(&account_key, now, &ThrottlePolicy::across_addresses())
            .await?;
        let throttle = app
            .store
            .record_login_failure(&key, now, &ThrottlePolicy::default())
            .await?;
        let account = account_id;
        security::record(SecurityEvent::LoginFailed { account });
        if let Some(until) = throttle.locked_until {
            security::record(SecurityEvent::LockedOut {
                account,
                seconds: wait(until, now),
            });
            return Err(AppError::new(Code::RateLimited).retry_after(wait(until, now)));
        }
        if let Some(until) = across.locked_until {
            security::record(SecurityEvent::LoginSlowed {
                account,
                seconds: wait(until, now),
            });
        }
        return Err(AppError::new(Code::InvalidCredentials));
    };
    if throttle.failures > 0 {
        app.store.clear_login_failures(&key).await?;
    }
    app.store
        .remember_clients(account.id, &clients, now)
        .await?;
    let token = auth::new_token()?;
    let expires_at = now + app.settings.session_ttl;
    app.store
        .create_session(&auth::token_hash(&token), account.id, expires_at)
        .await?;
    Ok(Session {
        account,
        token,
        expires_at,
    })
}

fn wait(until: DateTime<Utc>, now: DateTime<Utc>) -> u64 {
    (until - now).num_seconds().max(1) as u64
}

/// A staff member's code, the password being right: refused while the second factor is
/// locked, and each wrong one counted toward locking it.
async fn second_factor(
    app: &Service,
    staff: &Account,
    code: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let key = format!("second-factor {}", staff.id);
    let locked = app.store.throttle(&key).await?;
    if locked.locked_until.is_some_and(|u| u > now) {
        return Ok(false);
    }
    let unix_seconds = app.real_now().timestamp().max(0) as u64;
    let accepted = crate::second_factor::accept(
        app.store.as_ref(),
        app.vault.as_ref(),
        staff,
        code,
        unix_seconds,
    )
    .await?;
    if accepted {
        if locked.failures > 0 {
            app.store.clear_login_failures(&key).await?;
        }
        return Ok(true);
    }
    let counted = app
        .store
        .record_login_failure(&key, now, &ThrottlePolicy::second_factor())
        .await?;
    if let Some(until) = counted.locked_until {
        security::record(SecurityEvent::SecondFactorLocked {
            account: staff.id,
            seconds: wait(until, now),
        });
    }
    Ok(false)
}

/// Ends the session of `token`; `unauthorized` when it is not a live one.
pub async fn close_session(app: &Service, token: &str) -> AppResult<()> {
    let hash = auth::token_hash(token);
    if app.store.session_account(&hash, app.now()).await?.is_none() {
        return Err(AppError::new(Code::Unauthorized));
    }
    app.store.delete_session(&hash).await?;
    Ok(())
}

/// An account as its owner sees it.
pub struct Me {
    pub account: Account,
    pub real_name_status: RealNameStatus,
    /// Once verified.
    pub real_name: Option<String>,
}

pub async fn me(app: &Service, who: &Principal) -> AppResult<Me> {
    let account = who.account()?.clone();
    let apps = app.store.applications_of(account.id).await?;
    let statuses: Vec<Status> = apps.iter().map(|a| a.status).collect();
    let real_name = crate::journey::verified_name(app, &apps)?;
    Ok(Me {
        account,
        real_name_status: real_name_status(&statuses),
        real_name,
    })
}
