//! The micro-deposit (CONTRACT 2.6): the amount, the user's answer, attempts, expiry and the
//! limits that bound guessing.

use std::fmt;

use chrono::{DateTime, TimeDelta, Utc};
use rand::{CryptoRng, Rng};
use subtle::ConstantTimeEq;
use unicode_normalization::UnicodeNormalization;
use uuid::Uuid;

use crate::codes::Code;
use crate::state::Event;

/// Money in fen (1/100 yuan). Never a float.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Fen(i64);

impl Fen {
    pub const MIN_DEPOSIT: Fen = Fen(1);
    pub const MAX_DEPOSIT: Fen = Fen(99);

    pub fn new(fen: i64) -> Fen {
        Fen(fen)
    }

    pub fn value(self) -> i64 {
        self.0
    }

    /// A deposit amount drawn uniformly from 1 to 99 fen by a cryptographically secure
    /// generator (the caller passes `OsRng` in production, a seeded one in tests).
    pub fn draw<R: CryptoRng + Rng + ?Sized>(rng: &mut R) -> Fen {
        Fen(rng.random_range(Self::MIN_DEPOSIT.0..=Self::MAX_DEPOSIT.0))
    }

    /// Reads what a user types for the amount they saw, in yuan: `0.37`, `.37`, `0.3`,
    /// `0.37元`, `¥0.37`, full-width digits too. At most two decimals; only 0.01–0.99.
    pub fn parse_deposit_answer(input: &str) -> Result<Fen, Code> {
        let text: String = input.nfkc().filter(|c| !c.is_whitespace()).collect();
        let text = text.strip_prefix('¥').unwrap_or(&text);
        let text = text.strip_suffix('元').unwrap_or(text);
        let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if !digits(whole) || !digits(fraction) || fraction.len() > 2 || whole.len() > 3 {
            return Err(Code::AmountMalformed);
        }
        if whole.is_empty() && fraction.is_empty() {
            return Err(Code::AmountMalformed);
        }
        let whole: i64 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| Code::AmountMalformed)?
        };
        let mut fen_part: i64 = if fraction.is_empty() {
            0
        } else {
            fraction.parse().map_err(|_| Code::AmountMalformed)?
        };
        if fraction.len() == 1 {
            fen_part *= 10;
        }
        let fen = Fen(whole * 100 + fen_part);
        if fen < Fen::MIN_DEPOSIT || fen > Fen::MAX_DEPOSIT {
            return Err(Code::AmountMalformed);
        }
        Ok(fen)
    }

    /// Constant-time equality, so the time an answer takes says nothing of the amount.
    pub fn ct_eq(self, other: Fen) -> bool {
        self.0.to_le_bytes().ct_eq(&other.0.to_le_bytes()).into()
    }
}

/// `0.37`: yuan with two decimals.
impl fmt::Display for Fen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

/// The amount is a secret between the platform and the bank: it never reaches a log.
impl fmt::Debug for Fen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Fen(**)")
    }
}

/// The deposit settings of CONTRACT 6 (`deposit.*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DepositRules {
    pub max_attempts: u32,
    pub expires_after: TimeDelta,
    pub max_rounds_per_card: u32,
    pub max_rounds_per_document: u32,
    pub rounds_window: TimeDelta,
}

impl Default for DepositRules {
    fn default() -> Self {
        DepositRules {
            max_attempts: 3,
            expires_after: TimeDelta::days(10),
            max_rounds_per_card: 3,
            max_rounds_per_document: 3,
            rounds_window: TimeDelta::days(30),
        }
    }
}

/// The deposit-round limits a submit is judged by, inside the store's transaction: the
/// store counts the rounds, this rule decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoundLimits {
    /// Deposits paid since this moment count.
    pub since: DateTime<Utc>,
    pub rules: DepositRules,
}

impl RoundLimits {
    pub fn check(&self, card_rounds: u32, document_rounds: u32) -> Result<(), Code> {
        self.rules.may_pay_another(card_rounds, document_rounds)
    }
}

impl DepositRules {
    /// The limits for a submit at `now`.
    pub fn round_limits(&self, now: DateTime<Utc>) -> RoundLimits {
        RoundLimits {
            since: now - self.rounds_window,
            rules: *self,
        }
    }

    /// Before a new deposit is paid: rounds already paid to this card and to this identity
    /// document within [`DepositRules::rounds_window`].
    pub fn may_pay_another(&self, card_rounds: u32, document_rounds: u32) -> Result<(), Code> {
        if card_rounds >= self.max_rounds_per_card
            || document_rounds >= self.max_rounds_per_document
        {
            Err(Code::DepositLimitReached)
        } else {
            Ok(())
        }
    }

    /// Answers left after `attempts_used` wrong ones.
    pub fn attempts_remaining(&self, attempts_used: u32) -> u32 {
        self.max_attempts.saturating_sub(attempts_used)
    }

    /// When an unconfirmed deposit lapses, counted from the moment it reached the card.
    pub fn expires_at(&self, settled_at: DateTime<Utc>) -> DateTime<Utc> {
        settled_at + self.expires_after
    }
}

/// A settled deposit waiting for the user's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SettledDeposit {
    pub amount: Fen,
    pub attempts_used: u32,
    pub expires_at: DateTime<Utc>,
}

/// What one answer does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// The right amount: on to review.
    Accepted,
    /// Wrong, with attempts left; `attempts_used` is the new count to store.
    Incorrect {
        attempts_used: u32,
        attempts_remaining: u32,
    },
    /// Wrong for the last time, or no attempts were left: the application fails.
    Exhausted { attempts_used: u32 },
    /// Past the deadline: the application fails whatever the answer.
    Expired,
}

impl Answer {
    /// The code the user is told, if the answer was not accepted.
    pub fn code(self) -> Option<Code> {
        match self {
            Answer::Accepted => None,
            Answer::Incorrect { .. } => Some(Code::AmountIncorrect),
            Answer::Exhausted { .. } => Some(Code::DepositAttemptsExhausted),
            Answer::Expired => Some(Code::DepositExpired),
        }
    }

    /// The event the answer raises on the application, if it moves it.
    pub fn event(self) -> Option<Event> {
        match self {
            Answer::Accepted => Some(Event::AmountAccepted),
            Answer::Incorrect { .. } => None,
            Answer::Exhausted { attempts_used } => Some(Event::AttemptsExhausted { attempts_used }),
            Answer::Expired => Some(Event::DepositExpired),
        }
    }
}

impl SettledDeposit {
    /// Judges an answer. The limit and the deadline are checked before the amounts are
    /// compared, and the comparison takes the same time whatever the amounts. The caller
    /// stores the new attempt count in the same transaction that read the old one.
    pub fn answer(&self, entered: Fen, now: DateTime<Utc>, rules: &DepositRules) -> Answer {
        if now >= self.expires_at {
            return Answer::Expired;
        }
        if self.attempts_used >= rules.max_attempts {
            return Answer::Exhausted {
                attempts_used: self.attempts_used,
            };
        }
        if self.amount.ct_eq(entered) {
            return Answer::Accepted;
        }
        let attempts_used = self.attempts_used + 1;
        match rules.max_attempts - attempts_used {
            0 => Answer::Exhausted { attempts_used },
            attempts_remaining => Answer::Incorrect {
                attempts_used,
                attempts_remaining,
            },
        }
    }

    pub fn attempts_remaining(&self, rules: &DepositRules) -> u32 {
        rules.attempts_remaining(self.attempts_used)
    }
}

/// The ISO 20022 end-to-end id of an application's one payout: derived from the application,
/// so every retry, restart or second worker names the same payout, and the bank echoes it
/// back with its notices. 34 characters; pain.001 allows 35.
pub fn end_to_end_id(application_id: Uuid) -> String {
    format!("RN{}", application_id.simple())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;
    use rand::rngs::StdRng;
    use rand::{SeedableRng, TryRngCore};

    #[test]
    fn every_way_of_typing_37_fen() {
        for input in [
            "0.37",
            ".37",
            "0.37元",
            " 0.37 ",
            "０.３７",
            "０．３７",
            "¥0.37",
            "￥0.37",
            "0.37 元",
        ] {
            assert_eq!(Fen::parse_deposit_answer(input), Ok(Fen(37)), "{input}");
        }
        assert_eq!(Fen::parse_deposit_answer("0.3"), Ok(Fen(30)));
        assert_eq!(Fen::parse_deposit_answer(".3"), Ok(Fen(30)));
        assert_eq!(Fen::parse_deposit_answer("0.01"), Ok(Fen(1)));
        assert_eq!(Fen::parse_deposit_answer("0.99"), Ok(Fen(99)));
        assert_eq!(Fen::parse_deposit_answer("00.50"), Ok(Fen(50)));
    }

    #[test]
    fn malformed_answers() {
        for input in [
            "",
            "0",
            "0.00",
            "1",
            "1.00",
            "37",
            "0.371",
            "0,37",
            "abc",
            "-0.37",
            "0.3.7",
            ".",
            "0.37元元",
            "+0.37",
            "1e-1",
            "0x25",
            "９９９９.１",
        ] {
            assert_eq!(
                Fen::parse_deposit_answer(input),
                Err(Code::AmountMalformed),
                "{input}"
            );
        }
    }

    #[test]
    fn amounts_display_as_yuan_and_hide_in_debug() {
        assert_eq!(Fen(37).to_string(), "0.37");
        assert_eq!(Fen(5).to_string(), "0.05");
        assert_eq!(Fen(12345).to_string(), "123.45");
        assert_eq!(format!("{:?}", Fen(37)), "Fen(**)");
    }

    #[test]
    fn draws_cover_1_to_99_fen_only() {
        let mut rng = StdRng::seed_from_u64(7);
        let mut seen = [false; 100];
        for _ in 0..20_000 {
            let fen = Fen::draw(&mut rng).value();
            assert!((1..=99).contains(&fen));
            seen[fen as usize] = true;
        }
        assert!(seen[1..].iter().all(|s| *s), "some amount never drawn");
        let fen = Fen::draw(&mut rand::rngs::OsRng.unwrap_err()).value();
        assert!((1..=99).contains(&fen));
    }

    fn deposit(attempts_used: u32) -> SettledDeposit {
        let expires_at = Utc
            .with_ymd_and_hms(2026, 12, 6, 0, 0, 0)
            .single()
            .unwrap_or_default();
        SettledDeposit {
            amount: Fen(37),
            attempts_used,
            expires_at,
        }
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, 0, 0, 0)
            .single()
            .unwrap_or_default()
    }

    #[test]
    fn three_wrong_answers_exhaust_the_deposit() {
        let rules = DepositRules::default();
        assert_eq!(deposit(0).answer(Fen(37), now(), &rules), Answer::Accepted);
        assert_eq!(
            deposit(0).answer(Fen(38), now(), &rules),
            Answer::Incorrect {
                attempts_used: 1,
                attempts_remaining: 2
            }
        );
        assert_eq!(
            deposit(1).answer(Fen(38), now(), &rules),
            Answer::Incorrect {
                attempts_used: 2,
                attempts_remaining: 1
            }
        );
        assert_eq!(
            deposit(2).answer(Fen(38), now(), &rules),
            Answer::Exhausted { attempts_used: 3 }
        );
        // The limit is checked before comparing: even the right amount is too late.
        assert_eq!(
            deposit(3).answer(Fen(37), now(), &rules),
            Answer::Exhausted { attempts_used: 3 }
        );
        assert_eq!(deposit(1).attempts_remaining(&rules), 2);
        let wrong = deposit(0).answer(Fen(38), now(), &rules);
        assert_eq!(
            (wrong.code(), wrong.event()),
            (Some(Code::AmountIncorrect), None)
        );
        let last = deposit(2).answer(Fen(38), now(), &rules);
        assert_eq!(
            (last.code(), last.event()),
            (
                Some(Code::DepositAttemptsExhausted),
                Some(Event::AttemptsExhausted { attempts_used: 3 })
            )
        );
        assert_eq!(Answer::Accepted.event(), Some(Event::AmountAccepted));
        assert_eq!(Answer::Expired.code(), Some(Code::DepositExpired));
    }

    #[test]
    fn the_deadline_comes_first() {
        let rules = DepositRules::default();
        let d = deposit(0);
        assert_eq!(d.answer(Fen(37), d.expires_at, &rules), Answer::Expired);
        assert_eq!(
            d.answer(Fen(37), d.expires_at - TimeDelta::seconds(1), &rules),
            Answer::Accepted
        );
        assert_eq!(rules.expires_at(now()), now() + TimeDelta::days(10));
    }

    #[test]
    fn a_configured_attempt_limit_is_honoured() {
        let rules = DepositRules {
            max_attempts: 1,
            ..DepositRules::default()
        };
        assert_eq!(
            deposit(0).answer(Fen(1), now(), &rules),
            Answer::Exhausted { attempts_used: 1 }
        );
    }

    #[test]
    fn rounds_are_limited_per_card_and_per_document() {
        let rules = DepositRules::default();
        assert_eq!(rules.may_pay_another(2, 2), Ok(()));
        assert_eq!(rules.may_pay_another(3, 0), Err(Code::DepositLimitReached));
        assert_eq!(rules.may_pay_another(0, 3), Err(Code::DepositLimitReached));
    }

    #[test]
    fn end_to_end_ids_fit_pain_001() {
        let id = Uuid::from_bytes([0xab; 16]);
        let e2e = end_to_end_id(id);
        assert_eq!(e2e.len(), 34);
        assert_eq!(e2e, end_to_end_id(id));
        assert!(e2e.starts_with("RNabab"));
    }

    proptest! {
        #[test]
        fn parsing_never_panics(input in "\\PC{0,20}") {
            let _ = Fen::parse_deposit_answer(&input);
        }

        #[test]
        fn every_amount_round_trips(fen in 1i64..=99) {
            prop_assert_eq!(Fen::parse_deposit_answer(&Fen(fen).to_string()), Ok(Fen(fen)));
        }
    }
}
