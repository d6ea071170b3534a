//! Which keys a node starts with (CONTRACT 11): the key-encryption key from `data_key` or the
//! key file, the data and look-up keys from the store, sealed under it. Every refusal is one
//! line naming the key and what to do; no path makes a new key over data sealed under another.

use std::path::PathBuf;

use std::sync::Arc;

use realname_app::Service;
use realname_core::store::{SealedKeys, Store};
use realname_vault::envelope::Kek;
use realname_vault::keyring::Keyring;
use realname_vault::{AesVault, KeyError};
use tokio::sync::watch;

use crate::StartError;
use crate::config::Config;

/// The default key file, created beside the working directory on first run.
pub const DEFAULT_KEY_FILE: &str = "realname.key";

/// Where the key-encryption key comes from.
enum Source {
    Configured,
    File(PathBuf),
}

/// What opening the keys did, for the start-up log.
pub struct OpenedKeys {
    pub vault: AesVault,
    pub kek: Kek,
    /// The store's keys as they were opened.
    pub keys: SealedKeys,
    /// The key file made on this start (a new store, no key yet).
    pub created: Option<PathBuf>,
    pub fingerprint: String,
}

fn source(config: &Config) -> Source {
    if config.data_key.is_some() {
        Source::Configured
    } else {
        Source::File(
            config
                .data_key_file
                .clone()
                .unwrap_or_else(|| PathBuf::from(DEFAULT_KEY_FILE)),
        )
    }
}

fn read(config: &Config, source: &Source) -> Result<Option<Kek>, KeyError> {
    match (source, &config.data_key) {
        (Source::Configured, Some(text)) => Kek::from_base64(text).map(Some),
        (Source::File(path), _) => Kek::read_file(path),
        (Source::Configured, None) => Ok(None),
    }
}

fn missing(source: &Source) -> StartError {
    StartError::Key(match source {
        Source::File(path) => KeyError::Missing {
            path: path.display().to_string(),
        },
        Source::Configured => KeyError::Malformed,
    })
}

/// Opens the store's keys with the configured key-encryption key, writing them on a store's
/// first start: fresh random keys for a new store, or the key itself for a store made before
/// envelopes (once it is shown to open that store's data).
pub async fn open(config: &Config, store: &dyn Store) -> Result<OpenedKeys, StartError> {
    let source = source(config);
    let stored = store.vault_keys().await.map_err(store_error)?;
    // Asked once, and only of a store without keys: a store before envelopes, or a new one.
    let holds_data = match stored {
        Some(_) => true,
        None => store.holds_data().await.map_err(store_error)?,
    };
    let (kek, created) = match (read(config, &source)?, &stored) {
        (Some(kek), _) => (kek, None),
        (None, _) if holds_data => return Err(missing(&source)),
        (None, _) => {
            let Source::File(path) = &source else {
                return Err(missing(&source));
            };
            let kek = Kek::generate();
            kek.create_file(path)?;
            (kek, Some(path.clone()))
        }
    };
    let keys = match stored {
        Some(keys) => keys,
        None => {
            let now = chrono::Utc::now();
            let proposed = if holds_data {
                prove_it_opens(&kek, store).await?;
                kek.adopted_keys(now)?
            } else {
                kek.new_keys(now)?
            };
            // Another node starting at the same moment may have written its keys first: the
            // store keeps one set, and every node opens that one.
            store
                .init_vault_keys(&proposed)
                .await
                .map_err(store_error)?
        }
    };
    let vault = kek.open(&keys)?;
    Ok(OpenedKeys {
        vault,
        created,
        fingerprint: kek.fingerprint(),
        kek,
        keys,
    })
}

impl OpenedKeys {
    /// The keys of a running node, which follow the store's through a data-key rotation.
    pub fn into_keyring(self) -> Keyring {
        Keyring::new(self.kek, self.keys, self.vault)
    }
}

/// How often a running node reads the store's keys, to take up a data-key rotation begun or
/// ended anywhere.
pub const FOLLOW_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

/// Follows the store's keys until `stop`: a node whose key-encryption key no longer opens
/// them during a data-key rotation stops sealing, and says so once.
pub async fn follow(app: Arc<Service>, mut stop: watch::Receiver<bool>) {
    let mut said = false;
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            _ = tokio::time::sleep(FOLLOW_EVERY) => {}
        }
        let keys = match app.store.vault_keys().await {
            Ok(Some(keys)) => keys,
            Ok(None) => continue,
            Err(e) => {
                tracing::warn!(error = %e, "could not read the store's keys; trying again");
                continue;
            }
        };
        match app.vault.follow(&keys) {
            Ok(true) if keys.retired_data_key.is_some() => {
                tracing::info!("a data-key rotation began: sealing under the new data key");
            }
            Ok(true) => tracing::info!("the data-key rotation ended"),
            Ok(false) => {}
            Err(e) if !said => {
                said = true;
                tracing::error!(error = %e, "this node seals nothing more until it restarts");
            }
            Err(_) => {}
        }
    }
}

/// A store made before envelopes was sealed under the key itself: one of its sealed values
/// must open under it before that key is adopted.
async fn prove_it_opens(kek: &Kek, store: &dyn Store) -> Result<(), StartError> {
    use realname_core::ports::{SealContext, Vault};
    if let Some((id, form)) = store.sample_sealed().await.map_err(store_error)? {
        kek.legacy_vault()
            .open(SealContext::ApplicationForm(id), &form)
            .map_err(|_| StartError::Key(KeyError::DoesNotOpenData))?;
    }
    Ok(())
}

fn store_error(e: realname_core::store::StoreError) -> StartError {
    StartError::Store(e.to_string())
}

/// What `realname key rotate` did.
pub struct Rotated {
    pub old: String,
    pub new: String,
    pub file: PathBuf,
    pub retired: PathBuf,
}

fn beside(path: &std::path::Path, suffix: &str) -> PathBuf {
    PathBuf::from(format!("{}{suffix}", path.display()))
}

fn rotate_error(what: impl std::fmt::Display) -> StartError {
    StartError::Rotate(what.to_string())
}

/// A rotation's guarded replace of the store's keys found them changed.
pub(crate) fn keys_changed() -> StartError {
    rotate_error("the store's keys changed while rotating (another rotation?); run it again")
}

/// A new key-encryption key (CONTRACT 11): the store's keys are sealed anew under it in one
/// statement, the new key file is written and the old one kept beside it as `.retired`. The
/// new key is written (as `FILE.new`) before the store changes, so a crash anywhere leaves a
/// key that opens the store, and running it again finishes the job.
pub async fn rotate(config: &Config, store: &dyn Store) -> Result<Rotated, StartError> {
    let Source::File(path) = source(config) else {
        return Err(rotate_error(
            "the key-encryption key is in the configuration (data_key); rotating writes a key file, so use data_key_file",
        ));
    };
    let (pending, retired) = (beside(&path, ".new"), beside(&path, ".retired"));
    let stored = store
        .vault_keys()
        .await
        .map_err(store_error)?
        .ok_or_else(|| rotate_error("the store has no keys yet: start it once first"))?;
    // A rotation that stopped after the store took the new key: finish moving the files.
    if let Some(new) = Kek::read_file(&pending)?
        && new.check() == stored.kek_check
    {
        if path.exists() {
            retire(&path, &pending, &retired)?;
        } else {
            // It stopped between the two renames: the old key is retired already.
            std::fs::rename(&pending, &path).map_err(rotate_error)?;
        }
        let old = Kek::read_file(&retired)?.map(|k| k.fingerprint());
        return Ok(Rotated {
            old: old.unwrap_or_default(),
            new: new.fingerprint(),
            file: path,
            retired,
        });
    }
    if stored.retired_data_key.is_some() {
        return Err(rotate_error(
            "a data-key rotation is under way: finish it first (realname key rotate --data)",
        ));
    }
    let current = Kek::read_file(&path)?.ok_or_else(|| missing(&Source::File(path.clone())))?;
    let new = Kek::generate();
    let resealed = current.reseal_under(&stored, &new, chrono::Utc::now())?;
    if pending.exists() {
        std::fs::remove_file(&pending).map_err(rotate_error)?;
    }
    new.create_file(&pending)?;
    if !store
        .replace_vault_keys(&stored, &resealed)
        .await
        .map_err(store_error)?
    {
        let _ = std::fs::remove_file(&pending);
        return Err(keys_changed());
    }
    retire(&path, &pending, &retired)?;
    Ok(Rotated {
        old: current.fingerprint(),
        new: new.fingerprint(),
        file: path,
        retired,
    })
}

/// The old key file becomes `.retired` (an older retired key moves aside, named by the time),
/// and the new one takes its name.
fn retire(
    path: &std::path::Path,
    pending: &std::path::Path,
    retired: &std::path::Path,
) -> Result<(), StartError> {
    if retired.exists() {
        let aside = beside(retired, &format!(".{}", chrono::Utc::now().timestamp()));
        std::fs::rename(retired, aside).map_err(rotate_error)?;
    }
    std::fs::rename(path, retired).map_err(rotate_error)?;
    std::fs::rename(pending, path).map_err(rotate_error)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        let _ = std::fs::File::open(dir).and_then(|d| d.sync_all());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use base64::Engine;
    use realname_core::ports::{SealContext, Vault};
    use realname_core::store::{
        Account, Accounts, Applications, Consent, Keys, NewApplication, Role,
    };
    use realname_store_sqlite::SqliteStore;
    use uuid::Uuid;

    use super::*;

    fn config(key: [u8; 32]) -> Config {
        let key = base64::engine::general_purpose::STANDARD.encode(key);
        Config::load(None, |_| None, &[("data_key", key)]).unwrap()
    }

    /// A store as realname made it before envelopes: one application, its form sealed under
    /// the configured key itself.
    async fn store_before_envelopes(key: [u8; 32]) -> (tempfile::TempDir, SqliteStore, Uuid) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("old.db")).unwrap();
        let account = Account {
            id: Uuid::new_v4(),
            login: "old@example.com".into(),
            password_hash: "$argon2id$old".into(),
            role: Role::User,
            created_at: chrono::Utc::now(),
        };
        store.create_account(&account).await.unwrap();
        let id = Uuid::new_v4();
        let form = AesVault::new(&key)
            .seal(SealContext::ApplicationForm(id), b"the old form")
            .unwrap();
        store
            .create_application(&NewApplication {
                id,
                account_id: account.id,
                form,
                document_hashes: vec![],
                warnings: "[]".into(),
                consent: Consent {
                    at: chrono::Utc::now(),
                    version: "v1".into(),
                    address: "127.0.0.1".into(),
                },
                at: chrono::Utc::now(),
                livemode: false,
            })
            .await
            .unwrap();
        (dir, store, id)
    }

    #[tokio::test]
    async fn a_store_made_before_envelopes_adopts_the_key_that_opens_its_data() {
        let (_dir, store, id) = store_before_envelopes([4; 32]).await;
        // Another key is not adopted: it does not open what is there.
        assert!(matches!(
            open(&config([5; 32]), &store).await,
            Err(StartError::Key(KeyError::DoesNotOpenData))
        ));
        assert_eq!(store.vault_keys().await.unwrap(), None, "nothing written");
        let opened = open(&config([4; 32]), &store).await.unwrap();
        let (_, form) = store.sample_sealed().await.unwrap().unwrap();
        assert_eq!(
            opened
                .vault
                .open(SealContext::ApplicationForm(id), &form)
                .unwrap(),
            b"the old form"
        );
        // From now on the store names its key: another one is refused as not the store's.
        assert!(store.vault_keys().await.unwrap().is_some());
        assert!(matches!(
            open(&config([5; 32]), &store).await,
            Err(StartError::Key(KeyError::NotTheStoresKey { .. }))
        ));
    }

    #[tokio::test]
    async fn a_new_store_gets_keys_of_its_own_sealed_under_the_kek() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("new.db")).unwrap();
        let first = open(&config([6; 32]), &store).await.unwrap();
        let again = open(&config([6; 32]), &store).await.unwrap();
        let sealed = first
            .vault
            .seal(SealContext::ApplicationForm(Uuid::nil()), b"x")
            .unwrap();
        assert_eq!(
            again
                .vault
                .open(SealContext::ApplicationForm(Uuid::nil()), &sealed)
                .unwrap(),
            b"x"
        );
        // The data key is not the KEK itself.
        assert!(
            AesVault::new(&[6; 32])
                .open(SealContext::ApplicationForm(Uuid::nil()), &sealed)
                .is_err()
        );
    }
}
