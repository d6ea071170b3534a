//! The keys a running node seals and opens with, following the store's (CONTRACT 11): a
//! data-key rotation begun or ended by `realname key rotate --data` on any host reaches every
//! node within moments, without a restart.

use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use realname_core::ports::{Lookup, SealContext, Vault, VaultError};
use realname_core::store::SealedKeys;

use crate::AesVault;
use crate::envelope::Kek;

/// How long a followed node goes on sealing without having read the store's keys. A
/// data-key rotation waits longer than this before it looks for what is left under the old
/// key, so a node that could not read the keys meanwhile has stopped sealing under it.
pub const FOLLOW_LAPSE: Duration = Duration::from_secs(4);

pub struct Keyring {
    kek: Kek,
    held: RwLock<Held>,
}

struct Held {
    keys: SealedKeys,
    vault: Arc<AesVault>,
    /// The store's keys moved under another key-encryption key while a data-key rotation
    /// ran: this node cannot take up the new data key, and what it sealed under the old one
    /// would not open once the rotation ends, so it seals nothing more until it restarts.
    stale: bool,
    /// When the store's keys were last read, once a follower reads them (a one-shot command
    /// is never followed, and does not lapse).
    read_at: Option<Instant>,
}

impl Keyring {
    /// The keys `kek` opened from `keys`, as the store holds them now.
    pub fn new(kek: Kek, keys: SealedKeys, vault: AesVault) -> Keyring {
        Keyring {
            kek,
            held: RwLock::new(Held {
                keys,
                vault: Arc::new(vault),
                stale: false,
                read_at: None,
            }),
        }
    }

    /// The vault, and whether this node is behind the store's keys.
    fn current(&self) -> (Arc<AesVault>, bool) {
        let held = self.held.read().unwrap_or_else(PoisonError::into_inner);
        let lapsed = held.read_at.is_some_and(|at| at.elapsed() > FOLLOW_LAPSE);
        (Arc::clone(&held.vault), held.stale || lapsed)
    }
}

impl Vault for Keyring {
    fn seal(&self, context: SealContext, plaintext: &[u8]) -> Result<Vec<u8>, VaultError> {
        match self.current() {
            (_, true) => Err(VaultError::KeysBehind),
            (vault, false) => vault.seal(context, plaintext),
        }
    }

    fn open(&self, context: SealContext, ciphertext: &[u8]) -> Result<Vec<u8>, VaultError> {
        let (vault, stale) = self.current();
        // A value this node cannot open once it fell behind is most likely under the new data
        // key, not damaged: it says why, so the caller is told to go elsewhere.
        vault
            .open(context, ciphertext)
            .map_err(|e| if stale { VaultError::KeysBehind } else { e })
    }

    fn keyed_hash(&self, lookup: Lookup, value: &[u8]) -> [u8; 32] {
        self.current().0.keyed_hash(lookup, value)
    }

    fn follow(&self, keys: &SealedKeys) -> Result<bool, VaultError> {
        let mut held = self.held.write().unwrap_or_else(PoisonError::into_inner);
        if held.stale {
            return Err(VaultError::KeysBehind);
        }
        held.read_at = Some(Instant::now());
        if held.keys == *keys {
            return Ok(false);
        }
        match self.kek.open(keys) {
            Ok(vault) => {
                held.vault = Arc::new(vault);
                held.keys = keys.clone();
                Ok(true)
            }
            Err(_) => {
                // A new key-encryption key alone changes no value: this node's data key still
                // seals what every node opens, until it restarts with the new key file.
                // Keys without an id were written before ids were kept, by a binary that
                // rotates no data key.
                let same_data_key = keys
                    .data_key_id
                    .as_ref()
                    .is_none_or(|id| *id == held.vault.data_key_id());
                if same_data_key {
                    return Ok(false);
                }
                held.stale = true;
                Err(VaultError::KeysBehind)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at() -> chrono::DateTime<chrono::Utc> {
        chrono::DateTime::UNIX_EPOCH
    }

    fn form() -> SealContext {
        SealContext::ApplicationForm(uuid::Uuid::from_u128(9))
    }

    fn ring(kek: &[u8; 32], keys: &SealedKeys) -> Keyring {
        let kek = Kek::from_base64(&base64_of(kek)).unwrap();
        let vault = kek.open(keys).unwrap();
        Keyring::new(kek, keys.clone(), vault)
    }

    fn base64_of(key: &[u8; 32]) -> String {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(key)
    }

    #[test]
    fn a_node_takes_up_a_new_data_key_and_opens_both_until_the_rotation_ends() {
        let kek = Kek::from_base64(&base64_of(&[1; 32])).unwrap();
        let keys = kek.new_keys(at()).unwrap();
        let node = ring(&[1; 32], &keys);
        let before = node.seal(form(), b"before").unwrap();
        assert!(!node.follow(&keys).unwrap(), "nothing changed");

        let rotating = kek.begin_data_rotation(&keys, at()).unwrap();
        assert!(node.follow(&rotating).unwrap());
        let during = node.seal(form(), b"during").unwrap();
        assert_eq!(node.open(form(), &before).unwrap(), b"before");
        let vault = kek.open(&rotating).unwrap();
        assert_eq!(
            vault.sealed_under(&during),
            crate::SealedUnder::Current,
            "sealed under the new key"
        );

        let ended = kek.end_data_rotation(&rotating, at()).unwrap();
        assert!(node.follow(&ended).unwrap());
        assert_eq!(node.open(form(), &during).unwrap(), b"during");
        assert!(
            node.open(form(), &before).is_err(),
            "the retired key is gone"
        );
    }

    #[test]
    fn a_node_that_cannot_follow_a_data_rotation_stops_sealing() {
        let old = Kek::from_base64(&base64_of(&[2; 32])).unwrap();
        let keys = old.new_keys(at()).unwrap();
        let node = ring(&[2; 32], &keys);
        // The key-encryption key rotates: this node keeps sealing under the same data key.
        let new = Kek::from_base64(&base64_of(&[3; 32])).unwrap();
        let moved = old.reseal_under(&keys, &new, at()).unwrap();
        assert!(!node.follow(&moved).unwrap());
        assert!(node.seal(form(), b"still").is_ok());
        // Then the data key rotates: what it sealed now would not open once that ends.
        let rotating = new.begin_data_rotation(&moved, at()).unwrap();
        assert!(matches!(
            node.follow(&rotating),
            Err(VaultError::KeysBehind)
        ));
        assert!(matches!(
            node.seal(form(), b"x"),
            Err(VaultError::KeysBehind)
        ));
        let ended = new.end_data_rotation(&rotating, at()).unwrap();
        assert!(node.follow(&ended).is_err(), "it stays stopped");
    }

    #[test]
    fn a_node_that_missed_a_whole_data_rotation_stops_sealing() {
        let old = Kek::from_base64(&base64_of(&[4; 32])).unwrap();
        let keys = old.new_keys(at()).unwrap();
        let node = ring(&[4; 32], &keys);
        let new = Kek::from_base64(&base64_of(&[5; 32])).unwrap();
        let moved = old.reseal_under(&keys, &new, at()).unwrap();
        let rotating = new.begin_data_rotation(&moved, at()).unwrap();
        let ended = new.end_data_rotation(&rotating, at()).unwrap();
        // It never saw the rotation under way, but the data key's id tells it.
        assert!(matches!(node.follow(&ended), Err(VaultError::KeysBehind)));
        assert!(node.seal(form(), b"x").is_err());
    }

    #[test]
    fn a_followed_node_that_cannot_read_the_keys_for_a_while_stops_sealing() {
        let kek = Kek::from_base64(&base64_of(&[6; 32])).unwrap();
        let keys = kek.new_keys(at()).unwrap();
        let node = ring(&[6; 32], &keys);
        assert!(node.seal(form(), b"never followed").is_ok());
        assert!(!node.follow(&keys).unwrap());
        node.held.write().unwrap().read_at = Some(Instant::now() - FOLLOW_LAPSE * 2);
        assert!(matches!(
            node.seal(form(), b"x"),
            Err(VaultError::KeysBehind)
        ));
        assert!(!node.follow(&keys).unwrap(), "it read them again");
        assert!(node.seal(form(), b"x").is_ok());
    }
}
