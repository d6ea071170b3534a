//! Keys as envelopes (CONTRACT 11). The key file (or `data_key`) holds the key-encryption key
//! (KEK). The store holds the data key, which seals values, and the look-up key, which keys the
//! hashes of documents, cards, API keys and link tokens, both sealed under the KEK, with a
//! check value that names the KEK without revealing it. A node whose KEK is not the one the
//! store's keys are sealed under is refused before it seals anything beside them.

use std::io::Write;
use std::path::Path;

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use realname_core::store::SealedKeys;

use crate::{AesVault, KeyError, decode_key, derive, key_id};

const DATA_KEY: &[u8] = b"realname envelope: data key";
const LOOKUP_KEY: &[u8] = b"realname envelope: look-up key";
const RETIRED_DATA_KEY: &[u8] = b"realname envelope: retired data key";
const NONCE_LEN: usize = 12;

/// The key-encryption key, as read from the key file or the configuration.
pub struct Kek([u8; 32]);

impl Kek {
    pub fn from_base64(text: &str) -> Result<Kek, KeyError> {
        decode_key(text).map(Kek).ok_or(KeyError::Malformed)
    }

    /// A new random key.
    pub fn generate() -> Kek {
        Kek(Aes256Gcm::generate_key(&mut OsRng).into())
    }

    /// What the store keeps to recognise this key: an HMAC under it, not the key.
    pub fn check(&self) -> Vec<u8> {
        derive(&self.0, b"realname key-encryption key check v1").to_vec()
    }

    /// The first 16 hex digits of the check value: enough for an operator to tell keys apart.
    pub fn fingerprint(&self) -> String {
        fingerprint(&self.check())
    }

    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new(&derive(&self.0, b"realname key wrapping v1").into())
    }

    fn wrap(&self, label: &[u8], key: &[u8; 32]) -> Result<Vec<u8>, KeyError> {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let sealed = self
            .cipher()
            .encrypt(
                &nonce,
                Payload {
                    msg: key,
                    aad: label,
                },
            )
            .map_err(|_| KeyError::Unusable)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    fn unwrap(&self, label: &[u8], sealed: &[u8]) -> Result<[u8; 32], KeyError> {
        if sealed.len() < NONCE_LEN {
            return Err(KeyError::Unusable);
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        let key = self
            .cipher()
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: label,
                },
            )
            .map_err(|_| KeyError::Unusable)?;
        key.try_into().map_err(|_| KeyError::Unusable)
    }

    /// Fresh random data and look-up keys for a new store, sealed under this key.
    pub fn new_keys(&self, at: chrono::DateTime<chrono::Utc>) -> Result<SealedKeys, KeyError> {
        let data: [u8; 32] = Aes256Gcm::generate_key(&mut OsRng).into();
        let lookup: [u8; 32] = Aes256Gcm::generate_key(&mut OsRng).into();
        self.seal_keys(&data, &lookup, at)
    }

    /// The keys of a store made before envelopes: this very key was the data key and the
    /// look-up key, so what was sealed and hashed under it keeps opening and matching.
    pub fn adopted_keys(&self, at: chrono::DateTime<chrono::Utc>) -> Result<SealedKeys, KeyError> {
        self.seal_keys(&self.0, &self.0, at)
    }

    fn seal_keys(
        &self,
        data: &[u8; 32],
        lookup: &[u8; 32],
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<SealedKeys, KeyError> {
        Ok(SealedKeys {
            kek_check: self.check(),
            data_key: self.wrap(DATA_KEY, data)?,
            lookup_key: self.wrap(LOOKUP_KEY, lookup)?,
            retired_data_key: None,
            data_key_id: Some(key_id(data).to_vec()),
            created_at: at,
        })
    }

    fn check_is(&self, keys: &SealedKeys) -> Result<(), KeyError> {
        if keys.kek_check != self.check() {
            return Err(KeyError::NotTheStoresKey {
                stored: fingerprint(&keys.kek_check),
                given: self.fingerprint(),
            });
        }
        Ok(())
    }

    fn retired(&self, keys: &SealedKeys) -> Result<Option<[u8; 32]>, KeyError> {
        keys.retired_data_key
            .as_deref()
            .map(|k| self.unwrap(RETIRED_DATA_KEY, k))
            .transpose()
    }

    /// The vault over the store's keys, if they are sealed under this key.
    /// While a data-key rotation runs it also opens what the retired data key sealed.
    pub fn open(&self, keys: &SealedKeys) -> Result<AesVault, KeyError> {
        self.check_is(keys)?;
        let data = self.unwrap(DATA_KEY, &keys.data_key)?;
        let lookup = self.unwrap(LOOKUP_KEY, &keys.lookup_key)?;
        let vault = AesVault::with_keys(&data, &lookup);
        Ok(match self.retired(keys)? {
            Some(retired) => vault.with_retired(&retired),
            None => vault,
        })
    }

    /// A data-key rotation begins (`realname key rotate --data`): a new random data key seals
    /// from now on, and the current one is kept as retired until nothing is sealed under it.
    /// The look-up key stays: hashes are not reversible.
    pub fn begin_data_rotation(
        &self,
        keys: &SealedKeys,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<SealedKeys, KeyError> {
        self.check_is(keys)?;
        if keys.retired_data_key.is_some() {
            return Err(KeyError::RotationUnderWay);
        }
        let old = self.unwrap(DATA_KEY, &keys.data_key)?;
        let data: [u8; 32] = Aes256Gcm::generate_key(&mut OsRng).into();
        Ok(SealedKeys {
            data_key: self.wrap(DATA_KEY, &data)?,
            retired_data_key: Some(self.wrap(RETIRED_DATA_KEY, &old)?),
            data_key_id: Some(key_id(&data).to_vec()),
            created_at: at,
            ..keys.clone()
        })
    }

    /// The data-key rotation ends: the retired data key is forgotten.
    pub fn end_data_rotation(
        &self,
        keys: &SealedKeys,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<SealedKeys, KeyError> {
        self.check_is(keys)?;
        Ok(SealedKeys {
            retired_data_key: None,
            created_at: at,
            ..keys.clone()
        })
    }

    /// The store's keys sealed anew under `new` (`realname key rotate`): the same data and
    /// look-up keys, so every sealed value still opens and every hash still matches.
    pub fn reseal_under(
        &self,
        keys: &SealedKeys,
        new: &Kek,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<SealedKeys, KeyError> {
        self.check_is(keys)?;
        let data = self.unwrap(DATA_KEY, &keys.data_key)?;
        let lookup = self.unwrap(LOOKUP_KEY, &keys.lookup_key)?;
        let retired = self.retired(keys)?;
        Ok(SealedKeys {
            retired_data_key: retired
                .map(|k| new.wrap(RETIRED_DATA_KEY, &k))
                .transpose()?,
            ..new.seal_keys(&data, &lookup, at)?
        })
    }

    /// The vault of a store made before envelopes, before its keys are written.
    pub fn legacy_vault(&self) -> AesVault {
        AesVault::with_keys(&self.0, &self.0)
    }

    /// Writes this key to a new file, readable by its owner only; never over an existing one.
    pub fn create_file(&self, path: &Path) -> Result<(), KeyError> {
        let io = |source| KeyError::Io {
            path: path.display().to_string(),
            source,
        };
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(path).map_err(io)?;
        writeln!(file, "{}", STANDARD.encode(self.0)).map_err(io)?;
        file.sync_all().map_err(io)
    }

    /// Reads a key file: `None` when there is none. A file that others than its owner can
    /// read is refused: whoever reads it opens every sealed value in the store.
    pub fn read_file(path: &Path) -> Result<Option<Kek>, KeyError> {
        let shown = || path.display().to_string();
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(KeyError::Io {
                    path: shown(),
                    source,
                });
            }
        };
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(path)
                .map_err(|source| KeyError::Io {
                    path: shown(),
                    source,
                })?
                .permissions()
                .mode();
            if mode & 0o077 != 0 {
                return Err(KeyError::Exposed {
                    path: shown(),
                    mode: mode & 0o777,
                });
            }
        }
        decode_key(&text)
            .map(|k| Some(Kek(k)))
            .ok_or_else(|| KeyError::MalformedFile { path: shown() })
    }
}

fn fingerprint(check: &[u8]) -> String {
    check.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use realname_core::ports::{Lookup, SealContext, Vault};

    fn at() -> chrono::DateTime<chrono::Utc> {
        chrono::DateTime::UNIX_EPOCH
    }

    #[test]
    fn the_stores_keys_open_only_under_their_kek() {
        let kek = Kek([1; 32]);
        let keys = kek.new_keys(at()).unwrap();
        let vault = kek.open(&keys).unwrap();
        let context = SealContext::ApplicationForm(uuid::Uuid::from_u128(1));
        let sealed = vault.seal(context, b"E12345678").unwrap();
        // The same keys, opened again (another node, a restart), open what was sealed.
        assert_eq!(
            kek.open(&keys).unwrap().open(context, &sealed).unwrap(),
            b"E12345678"
        );
        assert!(matches!(
            Kek([2; 32]).open(&keys),
            Err(KeyError::NotTheStoresKey { .. })
        ));
        // The data key is not the KEK: a value sealed under the KEK itself does not open.
        assert!(kek.legacy_vault().open(context, &sealed).is_err());
        assert!(!keys.data_key.windows(32).any(|w| w == [1; 32]));
    }

    #[test]
    fn an_adopted_store_keeps_opening_and_matching_what_it_had() {
        let kek = Kek([3; 32]);
        let before = crate::AesVault::new(&[3; 32]);
        let context = SealContext::ApplicationForm(uuid::Uuid::from_u128(2));
        let sealed = before.seal(context, b"6222020000000000018").unwrap();
        let after = kek.open(&kek.adopted_keys(at()).unwrap()).unwrap();
        assert_eq!(
            after.open(context, &sealed).unwrap(),
            b"6222020000000000018"
        );
        assert_eq!(
            after.keyed_hash(Lookup::CardNumber, b"6222020000000000018"),
            before.keyed_hash(Lookup::CardNumber, b"6222020000000000018")
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_key_file_others_can_read_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("realname.key");
        assert!(Kek::read_file(&path).unwrap().is_none());
        let kek = Kek::generate();
        kek.create_file(&path).unwrap();
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(Kek::read_file(&path).unwrap().unwrap().check(), kek.check());
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(
            Kek::read_file(&path),
            Err(KeyError::Exposed { mode: 0o644, .. })
        ));
    }
}
