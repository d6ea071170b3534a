//! Passwords, session tokens and logins.

use argon2::password_hash::{Output, PasswordHash, SaltString, rand_core::OsRng};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::TryRngCore;
use realname_core::Code;
use realname_core::phone::Phone;
use sha2::{Digest, Sha256};

use crate::error::AppError;

pub const MIN_PASSWORD_CHARS: usize = 8;
const MAX_PASSWORD_BYTES: usize = 1024;

type HashJob = Box<dyn FnOnce() + Send>;

/// Password hashing runs on a few threads of its own. Each Argon2id run holds 19 MiB; on
/// tokio's blocking pool every new thread got its own malloc arena that kept its 19 MiB
/// (48 concurrent registrations once took a node to 950 MB), and hashing more at once than
/// there are cores adds memory, not speed. Runs beyond that wait their turn.
fn on_hashing_thread<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> tokio::sync::oneshot::Receiver<T> {
    static QUEUE: std::sync::OnceLock<std::sync::Mutex<std::sync::mpsc::Sender<HashJob>>> =
        std::sync::OnceLock::new();
    let queue = QUEUE.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel::<HashJob>();
        let rx = std::sync::Arc::new(std::sync::Mutex::new(rx));
        let threads = std::thread::available_parallelism()
            .map_or(2, usize::from)
            .clamp(1, 4);
        for n in 0..threads {
            let rx = std::sync::Arc::clone(&rx);
            let _ = std::thread::Builder::new()
                .name(format!("password-hash-{n}"))
                .spawn(move || {
                    yield_to_requests();
                    loop {
                        let job = match rx.lock() {
                            Ok(queue) => queue.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    }
                });
        }
        std::sync::Mutex::new(tx)
    });
    let (reply, answer) = tokio::sync::oneshot::channel();
    let job: HashJob = Box::new(move || {
        let _ = reply.send(work());
    });
    if let Ok(queue) = queue.lock() {
        let _ = queue.send(job);
    }
    answer
}

/// Hashing threads run at a lower priority (nice 10) than the threads that answer requests.
/// On a small machine a burst of logins otherwise takes every core for hundreds of
/// milliseconds and every other request waits behind it (p99 of 30–80 ms for one-millisecond
/// requests); at a lower priority hashing still uses every idle cycle, but a request that
/// arrives preempts it. A login flood slows logins, not the service.
fn yield_to_requests() {
    #[cfg(target_os = "linux")]
    {
        // On Linux, PRIO_PROCESS with a thread id sets that one thread's nice value.
        if let Err(e) = rustix::process::setpriority_process(Some(rustix::thread::gettid()), 10) {
            tracing::warn!("cannot lower the priority of password hashing: {e}");
        }
    }
}

thread_local! {
    /// The Argon2 working memory of this hashing thread, allocated once and reused, so that
    /// hashing does not churn 19 MiB through the allocator on every login.
    static BLOCKS: std::cell::RefCell<Vec<Block>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn argon2id_into(
    params: Params,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> Result<(), argon2::Error> {
    BLOCKS.with(|cell| {
        let mut blocks = cell.borrow_mut();
        let needed = params.block_count();
        if blocks.len() < needed {
            blocks.resize(needed, Block::default());
        }
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params).hash_password_into_with_memory(
            password,
            salt,
            out,
            &mut blocks[..needed],
        )
    })
}

/// Argon2id with the crate's default cost (19 MiB, 2 passes, 1 lane), as a PHC string.
fn hash_now(password: &[u8]) -> Result<String, String> {
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_bytes = [0u8; 64];
    let salt_raw = salt
        .decode_b64(&mut salt_bytes)
        .map_err(|e| e.to_string())?;
    let params = Params::DEFAULT;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    argon2id_into(params.clone(), password, salt_raw, &mut out).map_err(|e| e.to_string())?;
    let hash = Output::new(&out).map_err(|e| e.to_string())?;
    Ok(format!(
        "$argon2id$v=19$m={},t={},p={}${}${}",
        params.m_cost(),
        params.t_cost(),
        params.p_cost(),
        salt.as_str(),
        hash
    ))
}

fn verify_now(password: &[u8], phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return false;
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return false;
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt_raw) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let mut out = vec![0u8; expected.len()];
    if argon2id_into(params, password, salt_raw, &mut out).is_err() {
        return false;
    }
    // `Output`'s equality takes the same time whatever the bytes.
    Output::new(&out).is_ok_and(|computed| computed == expected)
}

/// Hashes a password on the hashing threads.
pub async fn hash_password(password: String) -> Result<String, AppError> {
    on_hashing_thread(move || hash_now(password.as_bytes()))
        .await
        .map_err(|e| AppError::internal("password hashing thread", e))?
        .map_err(|e| AppError::internal("password hashing", e))
}

pub async fn verify_password(password: String, phc: String) -> bool {
    on_hashing_thread(move || verify_now(password.as_bytes(), &phc))
        .await
        .unwrap_or(false)
}

/// A password hash nobody's password matches, verified against when the login is unknown so
/// that both paths take the same time.
pub async fn dummy_hash() -> String {
    static DUMMY: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    DUMMY
        .get_or_init(|| async {
            hash_password("no account has this password".into())
                .await
                .unwrap_or_default()
        })
        .await
        .clone()
}

pub fn check_password(password: &str) -> Result<(), AppError> {
    if password.chars().count() < MIN_PASSWORD_CHARS || password.len() > MAX_PASSWORD_BYTES {
        return Err(AppError::field("password", Code::PasswordTooWeak));
    }
    Ok(())
}

/// Characters no login may hold (CONTRACT 4): spaces, control characters, and format
/// characters — bidi overrides (U+202E) and zero-width ones (U+200B) would make two logins
/// look alike, or one look like another.
fn refused_in_login(c: char) -> bool {
    use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};
    c.is_whitespace() || c.is_control() || c.general_category() == GeneralCategory::Format
}

/// Logins the service gives its own accounts (a platform's users, closed accounts): nobody
/// registers one, so nobody can take a platform user's place.
const RESERVED_PREFIXES: [&str; 2] = ["platform:", "closed:"];

/// How logins are compared (CONTRACT 4): NFKC, so full-width `ＡＮＮＡ` is `ANNA`, then lower
/// case (NFKC again, as lower-casing may undo it).
fn folded(login: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    let lower = login.nfkc().collect::<String>().to_lowercase();
    lower.nfkc().collect()
}

/// Whether a label of a login (the parts between `@` and `.`) mixes scripts that are not
/// written together, as Unicode TS #39 judges it at its "highly restrictive" level: `аnna`
/// with a Cyrillic `а` is refused, `иван` and `anna` are welcome, and Han may go with Latin
/// and the Japanese kana, Bopomofo or Hangul.
fn mixes_scripts(label: &str) -> bool {
    use unicode_script::{Script, UnicodeScript};
    let mut scripts: Vec<Script> = Vec::new();
    for c in label.chars() {
        let script = c.script();
        if !matches!(script, Script::Common | Script::Inherited) && !scripts.contains(&script) {
            scripts.push(script);
        }
    }
    let within = |allowed: &[Script]| scripts.iter().all(|s| allowed.contains(s));
    scripts.len() > 1
        && !within(&[
            Script::Latin,
            Script::Han,
            Script::Hiragana,
            Script::Katakana,
        ])
        && !within(&[Script::Latin, Script::Han, Script::Bopomofo])
        && !within(&[Script::Latin, Script::Han, Script::Hangul])
}

/// A user's login: an e-mail address (compared folded: NFKC and lower case) or a phone
/// number (E.164).
pub fn normalise_user_login(login: &str) -> Result<String, AppError> {
    let login = folded(login.trim());
    if let Some((local, domain)) = login.split_once('@') {
        let ok = !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && login.len() <= 254
            && !login.chars().any(refused_in_login)
            && !domain.contains('@')
            && !RESERVED_PREFIXES.iter().any(|p| login.starts_with(p))
            && !login.split(['@', '.']).any(mixes_scripts);
        return if ok {
            Ok(login)
        } else {
            Err(AppError::field("login", Code::LoginInvalid))
        };
    }
    match Phone::parse(&login) {
        Ok(parsed) => Ok(parsed.phone.e164().to_owned()),
        Err(_) => Err(AppError::field("login", Code::LoginInvalid)),
    }
}

/// A staff login may also be a plain name (`alice`).
pub fn normalise_staff_login(login: &str) -> Result<String, AppError> {
    let trimmed = login.trim().to_lowercase();
    let plain = (3..=64).contains(&trimmed.len())
        && trimmed
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
    if plain {
        Ok(trimmed)
    } else {
        normalise_user_login(login)
    }
}

/// How a login is looked up: the same normalisation whichever form was typed. `None` for what
/// no account can have as its login (a NUL, a bidi override, 60 000 characters): it is not
/// looked up, and leaves no throttle row behind.
pub fn lookup_login(login: &str) -> Option<String> {
    normalise_user_login(login)
        .or_else(|_| normalise_staff_login(login))
        .ok()
}

pub fn new_token() -> Result<String, AppError> {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng
        .try_fill_bytes(&mut bytes)
        .map_err(|e| AppError::internal("token", e))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logins_are_normalised() {
        assert_eq!(
            normalise_user_login(" Anna@Example.COM ").unwrap(),
            "anna@example.com"
        );
        assert_eq!(
            normalise_user_login("138-0013-8000").unwrap(),
            "+8613800138000"
        );
        assert!(normalise_user_login("+852 9123 4567").is_err());
        assert_eq!(
            normalise_user_login("+852-9123-4567").unwrap(),
            "+85291234567"
        );
        for bad in [
            "",
            "anna",
            "anna@",
            "@x.com",
            "a b@x.com",
            "a@x",
            "a@@x.com",
        ] {
            assert!(normalise_user_login(bad).is_err(), "{bad}");
        }
        assert_eq!(normalise_staff_login("Alice").unwrap(), "alice");
        assert_eq!(lookup_login("ALICE").as_deref(), Some("alice"));
        assert_eq!(
            lookup_login("13800138000").as_deref(),
            Some("+8613800138000")
        );
        for unlike_any in ["a\u{0}b", "anna\u{202e}@x.com", "an\u{200b}na@x.com", "x"] {
            assert_eq!(lookup_login(unlike_any), None, "{unlike_any:?}");
            assert!(normalise_user_login(unlike_any).is_err());
        }
        assert_eq!(lookup_login(&"a".repeat(60_000)), None);
    }

    #[test]
    fn logins_compare_folded_and_refuse_what_would_pass_for_another() {
        // Full-width and capitals are the same login as `anna@example.com`.
        for same in [
            "ＡＮＮＡ@example.com",
            "ANNA@EXAMPLE.COM",
            "ａnna@ｅxample.com",
        ] {
            assert_eq!(
                normalise_user_login(same).unwrap(),
                "anna@example.com",
                "{same}"
            );
        }
        // A Cyrillic а among Latin letters, and the service's own prefixes, are refused.
        for refused in [
            "\u{430}nna@example.com",
            "anna@ex\u{430}mple.com",
            "platform:victim@example.com",
            "PLATFORM:victim@example.com",
            "closed:anna@example.com",
        ] {
            assert!(normalise_user_login(refused).is_err(), "{refused}");
        }
        // One script a label is welcome, whichever it is; Han goes with kana and Latin.
        for welcome in [
            "иван@mail.ru",
            "ivan@почта.рф",
            "山田たろう@example.jp",
            "λ@example.gr",
        ] {
            assert!(normalise_user_login(welcome).is_ok(), "{welcome}");
        }
    }

    #[test]
    fn password_hashes_are_standard_argon2id() {
        use argon2::PasswordVerifier;
        let phc = hash_now(b"correct horse").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        // Another Argon2 implementation reads it, and ours reads theirs.
        let parsed = PasswordHash::new(&phc).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"correct horse", &parsed)
                .is_ok()
        );
        assert!(verify_now(b"correct horse", &phc));
        assert!(!verify_now(b"correct horsf", &phc));
        assert!(!verify_now(b"correct horse", "not a hash"));
        use argon2::PasswordHasher;
        let theirs = Argon2::default()
            .hash_password(b"pw 12345678", &SaltString::generate(&mut OsRng))
            .unwrap()
            .to_string();
        assert!(verify_now(b"pw 12345678", &theirs));
    }

    #[test]
    fn tokens_are_random_and_stored_as_hashes() {
        let (a, b) = (new_token().unwrap(), new_token().unwrap());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(token_hash(&a).len(), 32);
        assert_ne!(token_hash(&a), a.as_bytes());
    }
}
