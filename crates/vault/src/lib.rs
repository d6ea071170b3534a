//! The vault: encryption at rest (CONTRACT 8) with AES-256-GCM under the data key, and
//! HMAC-SHA-256 keyed hashes for equality look-ups; separate keys for each use are derived
//! from the data key. Everything sensitive passes through here on its way into and out of
//! the store, which sees ciphertext and keyed hashes only.

pub mod envelope;
pub mod keyring;

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use realname_core::ports::{Lookup, SealContext, Vault, VaultError};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// `[1][nonce][ciphertext]`: sealed before values named their key, under the store's first
/// data key.
const FORMAT_V1: u8 = 1;
/// `[2][key id][nonce][ciphertext]`: the key id names the data key it was sealed under, so a
/// vault holding two keys during a rotation opens each value with the right one, and a value
/// still under the retired key can be found without opening it.
const FORMAT_V2: u8 = 2;
const KEY_ID_LEN: usize = 4;
/// The first byte of values sealed before values named their key: they are under the
/// store's first data key.
pub const UNNAMED_KEY_HEADER: &[u8] = &[FORMAT_V1];
const NONCE_LEN: usize = 12;

/// A data key, ready to seal: its cipher (under a key derived from it) and its id.
struct DataKey {
    id: [u8; KEY_ID_LEN],
    cipher: Aes256Gcm,
}

/// The id of a data key, as the values it seals name it.
pub(crate) fn key_id(data_key: &[u8; 32]) -> [u8; KEY_ID_LEN] {
    let named = derive(data_key, b"realname data key id v1");
    let mut id = [0u8; KEY_ID_LEN];
    id.copy_from_slice(&named[..KEY_ID_LEN]);
    id
}

impl DataKey {
    fn new(data_key: &[u8; 32]) -> DataKey {
        let enc = derive(data_key, b"realname encryption v1");
        DataKey {
            id: key_id(data_key),
            cipher: Aes256Gcm::new(&enc.into()),
        }
    }

    /// The first bytes of every value this key seals.
    fn header(&self) -> Vec<u8> {
        let mut header = Vec::with_capacity(1 + KEY_ID_LEN);
        header.push(FORMAT_V2);
        header.extend_from_slice(&self.id);
        header
    }
}

/// Seals under the current data key; opens under it, or under the retired one while a data-key
/// rotation re-seals what that key sealed.
pub struct AesVault {
    current: DataKey,
    retired: Option<DataKey>,
    index_key: [u8; 32],
}

/// Under which data key a sealed value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SealedUnder {
    Current,
    Retired,
    /// Neither key this vault holds (or not a sealed value at all).
    Unknown,
}

/// Why a node cannot use the key it was given; each is the one line it refuses to start with.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("data_key: must be the base64 of exactly 32 bytes")]
    Malformed,
    #[error("data_key_file: {path}: must hold the base64 of exactly 32 bytes")]
    MalformedFile { path: String },
    #[error("data_key_file: {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "data_key_file: {path}: missing, and the store holds data sealed under a key; restore the key file (a new key would not open that data)"
    )]
    Missing { path: String },
    #[error(
        "data_key_file: {path}: readable by others than its owner (mode {mode:o}); make it so only its owner can read it (chmod 600)"
    )]
    Exposed { path: String, mode: u32 },
    #[error(
        "data_key: key {given} is not the key this store's keys are sealed under ({stored}); start with that key"
    )]
    NotTheStoresKey { stored: String, given: String },
    #[error(
        "data_key: this key does not open the data already in the store; start with the key it was sealed under"
    )]
    DoesNotOpenData,
    #[error("data_key: the store's keys are damaged and do not open")]
    Unusable,
    #[error("a data-key rotation is under way already")]
    RotationUnderWay,
}

fn derive(key: &[u8; 32], label: &[u8]) -> [u8; 32] {
    let mut mac = <HmacSha256 as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable_hmac());
    mac.update(label);
    mac.finalize().into_bytes().into()
}

// HMAC takes a key of any length, so `new_from_slice` cannot fail; this keeps that proof in
// one place instead of an `expect` at every call.
#[allow(clippy::panic)]
fn unreachable_hmac() -> HmacSha256 {
    panic!("HMAC accepts keys of every length")
}

fn decode_key(text: &str) -> Option<[u8; 32]> {
    let bytes = STANDARD.decode(text.trim()).ok()?;
    bytes.try_into().ok()
}

impl AesVault {
    /// A vault whose data key and look-up key are one key (tests; stores made before
    /// envelopes, see [`envelope::Kek::adopted_keys`]).
    pub fn new(key: &[u8; 32]) -> AesVault {
        AesVault::with_keys(key, key)
    }

    /// A vault over a data key (sealing) and a look-up key (keyed hashes); each use gets a
    /// key of its own derived from them.
    pub fn with_keys(data_key: &[u8; 32], lookup_key: &[u8; 32]) -> AesVault {
        AesVault {
            current: DataKey::new(data_key),
            retired: None,
            index_key: derive(lookup_key, b"realname blind index v1"),
        }
    }

    /// This vault, also opening what `retired` sealed (a data-key rotation under way).
    pub fn with_retired(mut self, retired: &[u8; 32]) -> AesVault {
        self.retired = Some(DataKey::new(retired));
        self
    }

    /// The first bytes of every value sealed under the current data key: the store finds what
    /// a rotation has left to re-seal by them, without opening anything.
    pub fn current_header(&self) -> Vec<u8> {
        self.current.header()
    }

    /// The first bytes of every value sealed under the retired data key, while a rotation runs.
    pub fn retired_header(&self) -> Option<Vec<u8>> {
        self.retired.as_ref().map(DataKey::header)
    }

    /// The current data key's id, as the values it seals name it.
    pub fn data_key_id(&self) -> Vec<u8> {
        self.current.id.to_vec()
    }

    /// Whether a data-key rotation is under way (this vault opens a retired key's values).
    pub fn rotating(&self) -> bool {
        self.retired.is_some()
    }

    /// Which of this vault's data keys sealed `sealed`, read from its header. A value sealed
    /// before values named their key is under the store's first data key: the retired one
    /// while the first rotation runs, else the current one.
    pub fn sealed_under(&self, sealed: &[u8]) -> SealedUnder {
        match sealed.first() {
            Some(&FORMAT_V1) if sealed.len() > NONCE_LEN => match self.retired {
                Some(_) => SealedUnder::Retired,
                None => SealedUnder::Current,
            },
            Some(&FORMAT_V2) if sealed.len() >= 1 + KEY_ID_LEN + NONCE_LEN => {
                let id = &sealed[1..1 + KEY_ID_LEN];
                if id == self.current.id {
                    SealedUnder::Current
                } else if self.retired.as_ref().is_some_and(|r| id == r.id) {
                    SealedUnder::Retired
                } else {
                    SealedUnder::Unknown
                }
            }
            _ => SealedUnder::Unknown,
        }
    }
}

impl Vault for AesVault {
    fn seal(&self, context: SealContext, plaintext: &[u8]) -> Result<Vec<u8>, VaultError> {
        self.seal_bytes(&context.bytes(), plaintext)
    }

    fn open(&self, context: SealContext, ciphertext: &[u8]) -> Result<Vec<u8>, VaultError> {
        self.open_bytes(&context.bytes(), ciphertext)
    }

    fn keyed_hash(&self, lookup: Lookup, value: &[u8]) -> [u8; 32] {
        let mut mac = <HmacSha256 as Mac>::new_from_slice(&self.index_key)
            .unwrap_or_else(|_| unreachable_hmac());
        mac.update(lookup.domain().as_bytes());
        mac.update(&[0]);
        mac.update(value);
        mac.finalize().into_bytes().into()
    }
}

impl AesVault {
    fn seal_bytes(&self, context: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, VaultError> {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let sealed = self
            .current
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad: context,
                },
            )
            .map_err(|_| VaultError::Failed)?;
        let mut out = self.current.header();
        out.reserve(NONCE_LEN + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    fn open_bytes(&self, context: &[u8], ciphertext: &[u8]) -> Result<Vec<u8>, VaultError> {
        let key = match self.sealed_under(ciphertext) {
            SealedUnder::Current => &self.current,
            SealedUnder::Retired => self.retired.as_ref().ok_or(VaultError::Tampered)?,
            SealedUnder::Unknown => return Err(VaultError::Tampered),
        };
        let body = match ciphertext[0] {
            FORMAT_V1 => &ciphertext[1..],
            _ => &ciphertext[1 + KEY_ID_LEN..],
        };
        let (nonce, msg) = body.split_at(NONCE_LEN);
        key.cipher
            .decrypt(Nonce::from_slice(nonce), Payload { msg, aad: context })
            .map_err(|_| VaultError::Tampered)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vault() -> AesVault {
        AesVault::new(&[7u8; 32])
    }

    fn form(n: u128) -> SealContext {
        SealContext::ApplicationForm(uuid::Uuid::from_u128(n))
    }

    #[test]
    fn contexts_keep_the_stored_form() {
        // Values sealed before the contexts were typed must still open.
        let id = uuid::Uuid::from_u128(5);
        let v = vault();
        let sealed = v
            .seal_bytes(format!("images.stay_permit:{id}").as_bytes(), b"img")
            .unwrap();
        assert_eq!(
            v.open(
                SealContext::Image(realname_core::documents::ImageSlot::StayPermit, id),
                &sealed
            )
            .unwrap(),
            b"img"
        );
    }

    #[test]
    fn sealed_data_opens_only_in_its_context_and_under_its_key() {
        let v = vault();
        let sealed = v.seal(form(1), b"E12345678").unwrap();
        assert!(!sealed.windows(9).any(|w| w == b"E12345678"));
        assert_eq!(v.open(form(1), &sealed).unwrap(), b"E12345678");
        assert_eq!(v.open(form(2), &sealed), Err(VaultError::Tampered));
        assert_eq!(
            AesVault::new(&[8u8; 32]).open(form(1), &sealed),
            Err(VaultError::Tampered)
        );
        let mut flipped = sealed.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert_eq!(v.open(form(1), &flipped), Err(VaultError::Tampered));
        assert_eq!(v.open(form(1), b"short"), Err(VaultError::Tampered));
        // A fresh nonce each time.
        assert_ne!(
            v.seal(form(1), b"same").unwrap(),
            v.seal(form(1), b"same").unwrap()
        );
        // Another column of the same row is another context.
        assert_eq!(
            v.open(
                SealContext::ApplicationCard(uuid::Uuid::from_u128(1)),
                &sealed
            ),
            Err(VaultError::Tampered)
        );
    }

    /// A value sealed the way values were before they named their key.
    fn sealed_v1(key: &[u8; 32], context: SealContext, plaintext: &[u8]) -> Vec<u8> {
        let cipher = DataKey::new(key).cipher;
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let body = cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad: &context.bytes(),
                },
            )
            .unwrap();
        [vec![FORMAT_V1], nonce.to_vec(), body].concat()
    }

    #[test]
    fn during_a_rotation_values_under_either_data_key_open_and_say_which() {
        let (old, new, lookup) = ([1u8; 32], [2u8; 32], [3u8; 32]);
        let before = AesVault::with_keys(&old, &lookup);
        let under_old = before.seal(form(1), b"old").unwrap();
        let first = sealed_v1(&old, form(2), b"first");
        assert_eq!(before.open(form(2), &first).unwrap(), b"first");
        assert_eq!(before.sealed_under(&under_old), SealedUnder::Current);
        assert_eq!(before.sealed_under(&first), SealedUnder::Current);

        let during = AesVault::with_keys(&new, &lookup).with_retired(&old);
        let under_new = during.seal(form(3), b"new").unwrap();
        assert_eq!(during.open(form(1), &under_old).unwrap(), b"old");
        assert_eq!(during.open(form(2), &first).unwrap(), b"first");
        assert_eq!(during.open(form(3), &under_new).unwrap(), b"new");
        assert_eq!(during.sealed_under(&under_old), SealedUnder::Retired);
        assert_eq!(during.sealed_under(&first), SealedUnder::Retired);
        assert_eq!(during.sealed_under(&under_new), SealedUnder::Current);
        assert_eq!(
            during.keyed_hash(Lookup::CardNumber, b"1"),
            before.keyed_hash(Lookup::CardNumber, b"1"),
            "the look-up key does not rotate"
        );

        // Once it ends, the retired key opens nothing, and a node still on it opens nothing new.
        let after = AesVault::with_keys(&new, &lookup);
        assert_eq!(after.open(form(1), &under_old), Err(VaultError::Tampered));
        assert_eq!(after.sealed_under(&under_old), SealedUnder::Unknown);
        assert_eq!(before.open(form(3), &under_new), Err(VaultError::Tampered));
        let mut renamed = under_new.clone();
        renamed[1] ^= 1;
        assert_eq!(after.open(form(3), &renamed), Err(VaultError::Tampered));
    }

    #[test]
    fn keyed_hashes_are_keyed_and_separated_by_use() {
        let v = vault();
        let card = b"6222020000000000018";
        assert_eq!(
            v.keyed_hash(Lookup::CardNumber, card),
            v.keyed_hash(Lookup::CardNumber, card)
        );
        assert_ne!(
            v.keyed_hash(Lookup::CardNumber, card),
            v.keyed_hash(Lookup::DocumentNumber, card)
        );
        assert_ne!(
            v.keyed_hash(Lookup::CardNumber, b"1"),
            AesVault::new(&[9u8; 32]).keyed_hash(Lookup::CardNumber, b"1")
        );
    }

    #[test]
    fn keys_from_text_and_files() {
        use crate::envelope::Kek;
        assert!(Kek::from_base64(&STANDARD.encode([1u8; 32])).is_ok());
        assert!(matches!(
            Kek::from_base64("not base64!"),
            Err(KeyError::Malformed)
        ));
        assert!(matches!(
            Kek::from_base64(&STANDARD.encode([1u8; 31])),
            Err(KeyError::Malformed)
        ));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("realname.key");
        std::fs::write(&path, "garbage").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let err = Kek::read_file(&path).err().unwrap().to_string();
        assert!(
            err.starts_with("data_key_file:") && err.contains("32 bytes"),
            "{err}"
        );
    }
}
