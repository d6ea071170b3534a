//! Staff sign in with a second factor (CONTRACT 4): the codes of RFC 6238 (HMAC-SHA-1, 6
//! digits, 30 s steps) on real time, never the sandbox clock, one step of drift either way. A
//! step is taken once per account in the store, so a code opens one session however many
//! nodes it is sent to. The secret is sealed under the data key.

use rand::TryRngCore;
use realname_core::ports::{SealContext, Vault};
use realname_core::store::{Account, Store};
use totp_rs::{Algorithm, Secret, TOTP};

use crate::error::{AppError, AppResult};

/// Seconds a code lasts.
pub const STEP_SECONDS: u64 = 30;
/// Steps of drift accepted either side of the current one.
const DRIFT_STEPS: u64 = 1;
/// 160 bits: the length RFC 4226 recommends for HMAC-SHA-1.
const SECRET_BYTES: usize = 20;
const DIGITS: usize = 6;

/// The URI an authenticator app enrols from (`otpauth://totp/realname:LOGIN?…`).
pub fn enrolment_uri(login: &str, secret: &[u8]) -> String {
    let Secret::Encoded(base32) = Secret::Raw(secret.to_vec()).to_encoded() else {
        unreachable!("to_encoded answers the encoded form")
    };
    format!("otpauth://totp/realname:{login}?secret={base32}&issuer=realname")
}

fn generator(secret: Vec<u8>) -> TOTP {
    TOTP::new_unchecked(Algorithm::SHA1, DIGITS, 0, STEP_SECONDS, secret)
}

/// The step, among the one of `unix_seconds` and its neighbours, whose code `code` is.
pub fn step_of(secret: &[u8], code: &str, unix_seconds: u64) -> Option<u64> {
    if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let totp = generator(secret.to_vec());
    let now = unix_seconds / STEP_SECONDS;
    (now.saturating_sub(DRIFT_STEPS)..=now + DRIFT_STEPS)
        .find(|step| totp.check(code, step * STEP_SECONDS))
}

/// The code of `step`: what an authenticator shows during it.
pub fn code_of(secret: &[u8], step: u64) -> String {
    generator(secret.to_vec()).generate(step * STEP_SECONDS)
}

/// Gives a staff account a new secret, replacing any earlier one, and answers the URI to enrol
/// it from: shown once, never stored in the clear.
pub async fn enrol(store: &dyn Store, vault: &dyn Vault, account: &Account) -> AppResult<String> {
    let mut secret = [0u8; SECRET_BYTES];
    rand::rngs::OsRng
        .try_fill_bytes(&mut secret)
        .map_err(|e| AppError::internal("second factor", e))?;
    let sealed = vault.seal(SealContext::SecondFactor(account.id), &secret)?;
    if !store.set_second_factor(account.id, &sealed).await? {
        return Err(AppError::new(realname_core::Code::NotFound));
    }
    Ok(enrolment_uri(&account.login, &secret))
}

/// Whether `code` is the account's current code (within the drift) and its step was not used
/// before; the step is then taken. An account with no second factor never passes.
pub(crate) async fn accept(
    store: &dyn Store,
    vault: &dyn Vault,
    account: &Account,
    code: Option<&str>,
    unix_seconds: u64,
) -> AppResult<bool> {
    let Some(code) = code else {
        return Ok(false);
    };
    let Some(sealed) = store.second_factor(account.id).await? else {
        return Ok(false);
    };
    let secret = vault.open(SealContext::SecondFactor(account.id), &sealed)?;
    let Some(step) = step_of(&secret, code.trim(), unix_seconds) else {
        return Ok(false);
    };
    let step = i64::try_from(step).map_err(|e| AppError::internal("second factor", e))?;
    Ok(store.take_second_factor_step(account.id, step).await?)
}

/// What an authenticator app does with an enrolment URI: the code to type now, never a step
/// used before (the service refuses those). For the benchmark and the tests, which sign staff
/// in as people do.
pub struct Authenticator {
    secret: Vec<u8>,
    last: Option<u64>,
}

impl Authenticator {
    pub fn from_uri(uri: &str) -> Option<Authenticator> {
        let (_, query) = uri.strip_prefix("otpauth://totp/")?.split_once('?')?;
        let base32 = query
            .split('&')
            .find_map(|pair| pair.strip_prefix("secret="))?;
        let secret = Secret::Encoded(base32.to_owned()).to_bytes().ok()?;
        Some(Authenticator { secret, last: None })
    }

    /// The code of the earliest step the service accepts at `unix_seconds` that was not used
    /// yet, or None when all of them were (the next step brings a new one). The step before the
    /// current one is only offered while it stays acceptable for a while.
    pub fn code_at(&mut self, unix_seconds: u64) -> Option<String> {
        let now = unix_seconds / STEP_SECONDS;
        let left_in_step = STEP_SECONDS - unix_seconds % STEP_SECONDS;
        let earliest = if left_in_step > 3 {
            now - DRIFT_STEPS
        } else {
            now
        };
        let step = (earliest..=now + DRIFT_STEPS).find(|s| self.last.is_none_or(|l| *s > l))?;
        self.last = Some(step);
        Some(code_of(&self.secret, step))
    }

    /// The next code, waiting for a new step when every acceptable one was used.
    pub async fn code(&mut self) -> String {
        loop {
            let unix_seconds = chrono::Utc::now().timestamp().max(0) as u64;
            if let Some(code) = self.code_at(unix_seconds) {
                return code;
            }
            let left = STEP_SECONDS - unix_seconds % STEP_SECONDS;
            tokio::time::sleep(std::time::Duration::from_secs(left)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B's SHA-1 key; its 8-digit codes end in these 6 digits.
    const RFC_SECRET: &[u8] = b"12345678901234567890";

    #[test]
    fn codes_are_those_of_rfc_6238() {
        for (time, code) in [
            (59, "287082"),
            (1_111_111_109, "081804"),
            (1_234_567_890, "005924"),
            (20_000_000_000, "353130"),
        ] {
            assert_eq!(code_of(RFC_SECRET, time / STEP_SECONDS), code);
            assert_eq!(
                step_of(RFC_SECRET, code, time),
                Some(time / STEP_SECONDS),
                "{time}"
            );
        }
    }

    #[test]
    fn a_code_counts_one_step_either_side_and_no_further() {
        let step = 1_234_567_890 / STEP_SECONDS;
        let code = code_of(RFC_SECRET, step);
        for (at, expected) in [
            (step - 2, None),
            (step - 1, Some(step)),
            (step + 1, Some(step)),
            (step + 2, None),
        ] {
            assert_eq!(
                step_of(RFC_SECRET, &code, at * STEP_SECONDS),
                expected,
                "{at}"
            );
        }
        assert_eq!(step_of(RFC_SECRET, "28708", 59), None);
        assert_eq!(step_of(RFC_SECRET, "2870822", 59), None);
        assert_eq!(step_of(RFC_SECRET, "28708a", 59), None);
    }

    #[test]
    fn an_authenticator_offers_each_acceptable_step_once() {
        let uri = enrolment_uri("rita", RFC_SECRET);
        let mut authenticator = Authenticator::from_uri(&uri).expect("uri");
        let at = 1_234_567_890 / STEP_SECONDS * STEP_SECONDS + 5;
        let steps: Vec<Option<u64>> = (0..4)
            .map(|_| {
                authenticator
                    .code_at(at)
                    .and_then(|c| step_of(RFC_SECRET, &c, at))
            })
            .collect();
        let now = at / STEP_SECONDS;
        assert_eq!(steps, [Some(now - 1), Some(now), Some(now + 1), None]);
        assert_eq!(
            authenticator
                .code_at(at + STEP_SECONDS)
                .and_then(|c| step_of(RFC_SECRET, &c, at + STEP_SECONDS)),
            Some(now + 2)
        );
    }

    #[test]
    fn the_uri_names_the_login_and_the_secret_in_base32() {
        assert_eq!(
            enrolment_uri("rita", RFC_SECRET),
            "otpauth://totp/realname:rita?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=realname"
        );
    }
}
