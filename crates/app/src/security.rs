//! The security event log: one structured line per event an operator or an auditor must be
//! able to find — failed and throttled sign-ins, lockouts, staff reveals and decisions, API
//! key events and use, the sandbox clock. Lines go to the `realname::security` target (JSON
//! with `log.format = "json"`); the request's span adds its id and the client's address.
//! They name accounts, applications and key prefixes by id, never a login, a secret or a
//! personal datum.

use uuid::Uuid;

/// One event of the security log.
#[derive(Debug, Clone, Copy)]
pub enum SecurityEvent<'a> {
    /// A sign-in with a wrong password or an unknown login (`account`: the login's account).
    LoginFailed {
        account: Option<Uuid>,
    },
    /// That failure locked the login for `seconds`.
    LockedOut {
        account: Option<Uuid>,
        seconds: u64,
    },
    /// A sign-in refused because the login is locked for that address.
    LoginThrottled {
        seconds: u64,
    },
    /// Failures from many addresses slowed the login down for `seconds`.
    LoginSlowed {
        account: Option<Uuid>,
        seconds: u64,
    },
    /// Wrong codes sent with the right password locked a staff account's second factor.
    SecondFactorLocked {
        account: Uuid,
        seconds: u64,
    },
    /// Staff saw a case unmasked, or one of its documents.
    Revealed {
        staff: Uuid,
        application: Uuid,
        what: &'a str,
    },
    /// Staff (or a test key, as the nil id) decided a case.
    Decided {
        staff: Uuid,
        application: Uuid,
        outcome: &'a str,
    },
    ApiKeyCreated {
        prefix: &'a str,
    },
    ApiKeyRevoked {
        prefix: &'a str,
    },
    ApiKeyUsed {
        prefix: &'a str,
    },
    SandboxClockMoved {
        seconds: i64,
    },
    /// A client address or a key past its allowance for the minute (`what`: sign-in,
    /// registration, link or key).
    RateLimited {
        what: &'a str,
    },
}

const TARGET: &str = "realname::security";

/// An account's id, or `-` for a login no account has.
fn shown(account: Option<Uuid>) -> String {
    account.map_or_else(|| "-".to_owned(), |id| id.to_string())
}

/// Writes the event to the security log.
pub fn record(event: SecurityEvent<'_>) {
    use SecurityEvent::*;
    match event {
        LoginFailed { account } => {
            tracing::info!(target: TARGET, event = "login_failed", account = %shown(account))
        }
        LockedOut { account, seconds } => {
            tracing::warn!(target: TARGET, event = "login_locked_out", account = %shown(account), seconds)
        }
        LoginThrottled { seconds } => {
            tracing::warn!(target: TARGET, event = "login_throttled", seconds)
        }
        LoginSlowed { account, seconds } => {
            tracing::warn!(target: TARGET, event = "login_slowed", account = %shown(account), seconds)
        }
        SecondFactorLocked { account, seconds } => {
            tracing::warn!(target: TARGET, event = "second_factor_locked", %account, seconds)
        }
        Revealed {
            staff,
            application,
            what,
        } => tracing::info!(target: TARGET, event = "staff_reveal", %staff, %application, what),
        Decided {
            staff,
            application,
            outcome,
        } => {
            tracing::info!(target: TARGET, event = "review_decision", %staff, %application, outcome)
        }
        ApiKeyCreated { prefix } => {
            tracing::info!(target: TARGET, event = "api_key_created", prefix)
        }
        ApiKeyRevoked { prefix } => {
            tracing::warn!(target: TARGET, event = "api_key_revoked", prefix)
        }
        ApiKeyUsed { prefix } => tracing::info!(target: TARGET, event = "api_key_used", prefix),
        RateLimited { what } => tracing::warn!(target: TARGET, event = "rate_limited", what),
        SandboxClockMoved { seconds } => {
            tracing::warn!(target: TARGET, event = "sandbox_clock_moved", seconds)
        }
    }
}
