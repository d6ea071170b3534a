//! When a failed webhook delivery is tried again (CONTRACT 9): 8 attempts in all, spread over
//! a day and a half, so a receiver that is down for a deploy or a night still gets the event.

use std::time::Duration;

/// Attempts in all, the first included; after the last a delivery is `failed`.
pub const MAX_ATTEMPTS: u32 = 8;

const MINUTE: u64 = 60;
const HOUR: u64 = 60 * MINUTE;

/// The wait after attempt 1, 2, … 7 ended.
const DELAYS: [Duration; (MAX_ATTEMPTS - 1) as usize] = [
    Duration::from_secs(5),
    Duration::from_secs(5 * MINUTE),
    Duration::from_secs(30 * MINUTE),
    Duration::from_secs(2 * HOUR),
    Duration::from_secs(5 * HOUR),
    Duration::from_secs(10 * HOUR),
    Duration::from_secs(10 * HOUR),
];

/// How long after attempt `attempt_number` (counted from 1) ended the next one is due, or
/// `None` when that was the last. Before any attempt (`0`) there is no wait.
pub fn retry_delay(attempt_number: u32) -> Option<Duration> {
    match attempt_number {
        0 => Some(Duration::ZERO),
        n => DELAYS.get(n as usize - 1).copied(),
    }
}

/// [`retry_delay`], but never sooner than the receiver's `Retry-After`.
pub fn next_delay(attempt_number: u32, retry_after: Option<Duration>) -> Option<Duration> {
    retry_delay(attempt_number).map(|delay| delay.max(retry_after.unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_contracts_schedule() {
        let secs = |n| retry_delay(n).map(|d| d.as_secs());
        assert_eq!(secs(1), Some(5));
        assert_eq!(secs(2), Some(300));
        assert_eq!(secs(3), Some(1_800));
        assert_eq!(secs(4), Some(7_200));
        assert_eq!(secs(5), Some(18_000));
        assert_eq!(secs(6), Some(36_000));
        assert_eq!(secs(7), Some(36_000));
        assert_eq!(secs(8), None);
        assert_eq!(secs(9), None);
        assert_eq!(secs(u32::MAX), None);
        assert_eq!(secs(0), Some(0));
    }

    #[test]
    fn retry_after_only_lengthens_the_wait() {
        let wait = Duration::from_secs(60);
        assert_eq!(next_delay(1, Some(wait)), Some(wait));
        assert_eq!(next_delay(2, Some(wait)), Some(Duration::from_secs(300)));
        assert_eq!(next_delay(1, None), Some(Duration::from_secs(5)));
        assert_eq!(next_delay(8, Some(wait)), None);
    }
}
