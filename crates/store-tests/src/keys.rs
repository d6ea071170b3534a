//! The conformance cases of the vault's keys.

use super::*;

pub async fn the_vault_keys_are_written_once(store: DynStore) {
    use realname_core::store::SealedKeys;
    assert_eq!(store.vault_keys().await.unwrap(), None);
    assert!(
        !store.holds_data().await.unwrap(),
        "a new store holds nothing"
    );
    assert_eq!(store.sample_sealed().await.unwrap(), None);
    let keys = |n: u8| SealedKeys {
        kek_check: vec![n; 32],
        data_key: vec![n; 60],
        lookup_key: vec![n + 1; 60],
        retired_data_key: None,
        data_key_id: Some(vec![n; 4]),
        created_at: t0(),
    };
    assert_eq!(store.init_vault_keys(&keys(1)).await.unwrap(), keys(1));
    // A second node starting at the same moment gets the first one's keys, not its own.
    assert_eq!(store.init_vault_keys(&keys(2)).await.unwrap(), keys(1));
    assert_eq!(store.vault_keys().await.unwrap(), Some(keys(1)));

    // A rotation replaces them only if they are still the keys it started from.
    assert!(!store.replace_vault_keys(&keys(9), &keys(3)).await.unwrap());
    assert!(store.replace_vault_keys(&keys(1), &keys(3)).await.unwrap());
    assert_eq!(store.vault_keys().await.unwrap(), Some(keys(3)));
    assert!(
        !store.replace_vault_keys(&keys(1), &keys(4)).await.unwrap(),
        "a second rotation from the old key finds it gone"
    );
    // A data-key rotation keeps the retired key until it ends, and is guarded by it too.
    let rotating = SealedKeys {
        data_key: vec![5; 60],
        retired_data_key: Some(keys(3).data_key),
        data_key_id: Some(vec![5; 4]),
        ..keys(3)
    };
    assert!(store.replace_vault_keys(&keys(3), &rotating).await.unwrap());
    assert_eq!(store.vault_keys().await.unwrap(), Some(rotating.clone()));
    let other = SealedKeys {
        retired_data_key: None,
        ..rotating.clone()
    };
    assert!(
        !store.replace_vault_keys(&other, &keys(4)).await.unwrap(),
        "the same data key but not its retired one is not the stored keys"
    );
    assert!(store.replace_vault_keys(&rotating, &other).await.unwrap());
    assert_eq!(store.vault_keys().await.unwrap(), Some(other));

    // Accounts alone are no key's data; an application is.
    let owner = account(&store, "keys@example.com").await;
    assert!(!store.holds_data().await.unwrap());
    let id = draft(&store, owner, &[b"doc"]).await;
    assert!(store.holds_data().await.unwrap());
    assert_eq!(
        store.sample_sealed().await.unwrap(),
        Some((id, b"sealed form".to_vec()))
    );
}
