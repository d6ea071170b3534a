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

/// How long a node keeps a platform key's hits to itself while the key is far from its limit.
const KEY_SYNC_EVERY: std::time::Duration = std::time::Duration::from_millis(50);

/// This node's count of one platform key's requests in one minute: the store's total at the
/// last sync, and the hits admitted here since.
struct Tally {
    window: DateTime<Utc>,
    stored: u32,
    unsent: u32,
    sent_at: Option<std::time::Instant>,
    sending: bool,
}

impl Tally {
    fn new(window: DateTime<Utc>) -> Tally {
        Tally {
            window,
            stored: 0,
            unsent: 0,
            sent_at: None,
            sending: false,
        }
    }
}

/// Platform keys' counts as this node holds them between syncs with the store. Every platform
/// request is counted, and a write per request was the dearest part of a platform read (half
/// its rate on PostgreSQL, where a key's requests all update one row). So while a key has used
/// less than half its minute, a node sends its hits to the store in batches, at most
/// `KEY_SYNC_EVERY` apart, and admits on its own count (the store's total plus its own
/// unsent hits); from half the allowance on, every request is counted in the store, as sign-ins
/// are, so the limit holds exactly across nodes where it bites.
#[derive(Default)]
pub struct KeyCounts {
    tallies: std::sync::Mutex<std::collections::HashMap<String, Tally>>,
}

enum KeyStep {
    /// Admitted on this node's count, nothing sent.
    Admitted,
    /// Send this many hits (this request's among them) and decide on the store's answer.
    Count(u32),
    /// Send this many hits as a batch, and admit this request whatever the answer.
    Batch(u32),
}

impl KeyCounts {
    fn step(&self, bucket: &str, window: DateTime<Utc>, allowed: u32) -> KeyStep {
        let mut tallies = self.tallies.lock().unwrap_or_else(|e| e.into_inner());
        if tallies.len() > 10_000 {
            tallies.retain(|_, t| t.window == window);
        }
        let tally = tallies
            .entry(bucket.to_owned())
            .or_insert_with(|| Tally::new(window));
        if tally.window != window {
            *tally = Tally::new(window);
        }
        tally.unsent += 1;
        let known = tally.stored.saturating_add(tally.unsent);
        if known.saturating_mul(2) >= allowed {
            return KeyStep::Count(std::mem::take(&mut tally.unsent));
        }
        let due = tally
            .sent_at
            .is_none_or(|at| at.elapsed() >= KEY_SYNC_EVERY);
        if due && !tally.sending {
            tally.sending = true;
            return KeyStep::Batch(std::mem::take(&mut tally.unsent));
        }
        KeyStep::Admitted
    }

    /// The store's answer to hits sent for `window`: `None` when they could not be sent (they
    /// are kept to be sent again).
    fn sent(&self, bucket: &str, window: DateTime<Utc>, hits: u32, total: Option<u32>) {
        let mut tallies = self.tallies.lock().unwrap_or_else(|e| e.into_inner());
        let Some(tally) = tallies.get_mut(bucket).filter(|t| t.window == window) else {
            return;
        };
        tally.sending = false;
        match total {
            Some(total) => {
                tally.stored = tally.stored.max(total);
                tally.sent_at = Some(std::time::Instant::now());
            }
            None => tally.unsent += hits,
        }
    }
}

/// Counts the request; `rate_limited` with the seconds to the next minute once this minute's
/// allowance is spent.
pub async fn admit(app: &Service, what: Counted<'_>) -> AppResult<()> {
    let now = app.real_now();
    let window = minute_of(now);
    let bucket = what.bucket();
    let allowed = what.allowed(&app.settings.limits);
    let hits = match what {
        Counted::Platform { .. } => {
            let (hits, decides) = match app.key_counts.step(&bucket, window, allowed) {
                KeyStep::Admitted => return Ok(()),
                KeyStep::Batch(hits) => (hits, false),
                KeyStep::Count(hits) => (hits, true),
            };
            let total = app.store.count_hits(&bucket, window, hits).await;
            let answered = total.as_ref().ok().copied();
            app.key_counts.sent(&bucket, window, hits, answered);
            let total = total?;
            if !decides {
                return Ok(());
            }
            total
        }
        _ => app.store.count_hits(&bucket, window, 1).await?,
    };
    if hits > allowed {
        let wait = (window + TimeDelta::minutes(1) - now).num_seconds().max(1) as u64;
        crate::security::record(crate::security::SecurityEvent::RateLimited { what: what.kind() });
        return Err(AppError::new(Code::RateLimited).retry_after(wait));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_far_from_its_limit_is_counted_in_batches_and_near_it_request_by_request() {
        let counts = KeyCounts::default();
        let window = minute_of(Utc::now());
        let step = || counts.step("key rn_test_x", window, 100);
        // The first hit is sent at once; the next ones within the sync interval wait.
        assert!(matches!(step(), KeyStep::Batch(1)));
        counts.sent("key rn_test_x", window, 1, Some(1));
        for _ in 0..10 {
            assert!(matches!(step(), KeyStep::Admitted));
        }
        // Another node's hits, learnt at a sync, bring the key to half its limit: from there
        // every request is counted in the store, with what this node had not sent yet.
        std::thread::sleep(KEY_SYNC_EVERY);
        let KeyStep::Batch(11) = step() else {
            panic!("the eleven hits kept back are sent in one batch")
        };
        counts.sent("key rn_test_x", window, 11, Some(45));
        assert!(matches!(step(), KeyStep::Admitted), "46 of 100");
        assert!(matches!(step(), KeyStep::Admitted), "47 of 100");
        assert!(matches!(step(), KeyStep::Admitted), "48 of 100");
        assert!(matches!(step(), KeyStep::Admitted), "49 of 100");
        assert!(
            matches!(step(), KeyStep::Count(5)),
            "50 of 100: exact from here"
        );
        counts.sent("key rn_test_x", window, 5, Some(50));
        assert!(matches!(step(), KeyStep::Count(1)));
        // A store that could not be reached keeps the hits to send again.
        counts.sent("key rn_test_x", window, 1, None);
        assert!(matches!(step(), KeyStep::Count(2)));
    }
}
