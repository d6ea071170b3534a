//! Requests per client address and per API key and minute (CONTRACT 4): sign-ins,
//! registrations and platform links per address, everything per platform key (a platform's
//! backend sends it all from one address). Counted in the store, so a limit holds across
//! nodes; windows are minutes of real time, never of the sandbox clock.

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use realname_core::Code;

use crate::{AppError, AppResult, Service};

/// How many of each a minute allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub sessions_per_minute: u32,
    pub accounts_per_minute: u32,
    pub links_per_minute: u32,
    pub platform_per_minute: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            sessions_per_minute: 30,
            accounts_per_minute: 10,
            links_per_minute: 30,
            platform_per_minute: 600,
        }
    }
}

/// What a request asks, and of whom it is counted. Addresses are as the edge found them
/// (an IPv6 address by its /64).
#[derive(Debug, Clone, Copy)]
pub enum Counted<'a> {
    SignIn { address: &'a str },
    Registration { address: &'a str },
    Link { address: &'a str },
    Platform { prefix: &'a str },
}

impl Counted<'_> {
    /// What is counted, as the bucket and the security log name it.
    fn kind(&self) -> &'static str {
        match self {
            Counted::SignIn { .. } => "sign-in",
            Counted::Registration { .. } => "registration",
            Counted::Link { .. } => "link",
            Counted::Platform { .. } => "key",
        }
    }

    fn bucket(&self) -> String {
        match self {
            Counted::SignIn { address }
            | Counted::Registration { address }
            | Counted::Link { address } => format!("{} {address}", self.kind()),
            Counted::Platform { prefix } => format!("{} {prefix}", self.kind()),
        }
    }

    fn allowed(&self, limits: &Limits) -> u32 {
        match self {
            Counted::SignIn { .. } => limits.sessions_per_minute,
            Counted::Registration { .. } => limits.accounts_per_minute,
            Counted::Link { .. } => limits.links_per_minute,
            Counted::Platform { .. } => limits.platform_per_minute,
        }
    }
}

fn minute_of(at: DateTime<Utc>) -> DateTime<Utc> {
    at.duration_trunc(TimeDelta::minutes(1)).unwrap_or(at)
}

/// Counts the request; `rate_limited` with the seconds to the next minute once this minute's
/// allowance is spent.
pub async fn admit(app: &Service, what: Counted<'_>) -> AppResult<()> {
    let now = app.real_now();
    let window = minute_of(now);
    let hits = app.store.count_hit(&what.bucket(), window).await?;
    if hits > what.allowed(&app.settings.limits) {
        let wait = (window + TimeDelta::minutes(1) - now).num_seconds().max(1) as u64;
        crate::security::record(crate::security::SecurityEvent::RateLimited { what: what.kind() });
        return Err(AppError::new(Code::RateLimited).retry_after(wait));
    }
    Ok(())
}
