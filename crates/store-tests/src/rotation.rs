//! What a data-key rotation reads and writes (CONTRACT 11), on every backend.

use realname_core::store::*;

use crate::{DynStore, account, draft, t0};

const CURRENT: &[u8] = b"\x02KEY1";

fn resealed(value: &SealedValue) -> Resealed {
    let mut new = CURRENT.to_vec();
    new.extend_from_slice(&value.sealed);
    Resealed {
        row: value.row.clone(),
        old: value.sealed.clone(),
        new,
    }
}

pub async fn a_rotation_lists_what_is_not_under_the_current_key_and_reseals_it_guarded(
    store: DynStore,
) {
    let first = draft(&store, account(&store, "rot-1@example.com").await, &[b"r1"]).await;
    let second = draft(&store, account(&store, "rot-2@example.com").await, &[b"r2"]).await;
    let mut ids = [first.to_string(), second.to_string()];
    ids.sort();
    let forms = SealedColumn::ApplicationForm;

    // Page by page, in row order, each row named by its key.
    let page = store.sealed_values(forms, CURRENT, None, 1).await.unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].row, vec![ids[0].clone()]);
    assert_eq!(page[0].sealed, b"sealed form");
    let next = store
        .sealed_values(forms, CURRENT, Some(&page[0].row), 1)
        .await
        .unwrap();
    assert_eq!(next[0].row, vec![ids[1].clone()]);
    assert!(
        store
            .sealed_values(forms, CURRENT, Some(&next[0].row), 1)
            .await
            .unwrap()
            .is_empty()
    );

    // A value the service changed since it was read is not overwritten.
    let stale = Resealed {
        old: b"not what is stored".to_vec(),
        ..resealed(&page[0])
    };
    assert_eq!(store.reseal_values(forms, vec![stale]).await.unwrap(), 0);
    assert_eq!(
        store
            .reseal_values(forms, vec![resealed(&page[0]), resealed(&next[0])])
            .await
            .unwrap(),
        2
    );
    assert!(
        store
            .sealed_values(forms, CURRENT, None, 10)
            .await
            .unwrap()
            .is_empty(),
        "nothing is left off the current key"
    );
    let record = store.application(first).await.unwrap().unwrap();
    assert!(record.form.starts_with(CURRENT) && record.form.ends_with(b"sealed form"));

    // Composite keys: an image by application and slot; an answer by scope and key.
    let meta = ImageMeta {
        slot: "stay_permit".into(),
        content_type: "image/png".into(),
        bytes: 3,
        sha256: "cd".into(),
    };
    store.put_image(first, &meta, b"img", t0()).await.unwrap();
    let images = store
        .sealed_values(SealedColumn::Image, CURRENT, None, 10)
        .await
        .unwrap();
    assert_eq!(
        images,
        vec![SealedValue {
            row: vec![first.to_string(), "stay_permit".into()],
            sealed: b"img".to_vec()
        }]
    );
    assert_eq!(
        store
            .reseal_values(SealedColumn::Image, vec![resealed(&images[0])])
            .await
            .unwrap(),
        1
    );
    assert!(
        store
            .image(first, "stay_permit")
            .await
            .unwrap()
            .unwrap()
            .1
            .starts_with(CURRENT)
    );
    // An answer still being made holds no sealed value yet.
    store
        .begin_idempotent("scope", "in progress", b"h", t0())
        .await
        .unwrap();
    for key in ["a", "b"] {
        store
            .begin_idempotent("scope", key, b"h", t0())
            .await
            .unwrap();
        store
            .finish_idempotent("scope", key, 200, b"answer")
            .await
            .unwrap();
    }
    let answers = SealedColumn::IdempotentAnswer;
    let first_answer = store
        .sealed_values(answers, CURRENT, None, 1)
        .await
        .unwrap();
    assert_eq!(
        first_answer[0].row,
        vec!["scope".to_owned(), "a".to_owned()]
    );
    let rest = store
        .sealed_values(answers, CURRENT, Some(&first_answer[0].row), 10)
        .await
        .unwrap();
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].row, vec!["scope".to_owned(), "b".to_owned()]);

    // A held transfer is named by its end-to-end id, and its seal by its application.
    let held = realname_core::ports::HeldTransfer {
        end_to_end_id: "RNROTATE1".into(),
        application_id: second,
        sealed: b"instruction".to_vec(),
    };
    store.hold(&held, t0()).await.unwrap();
    let transfers = store
        .sealed_values(SealedColumn::Transfer, CURRENT, None, 10)
        .await
        .unwrap();
    assert_eq!(
        transfers,
        vec![SealedValue {
            row: vec!["RNROTATE1".into(), second.to_string()],
            sealed: b"instruction".to_vec()
        }]
    );
    assert_eq!(
        store
            .reseal_values(SealedColumn::Transfer, vec![resealed(&transfers[0])])
            .await
            .unwrap(),
        1
    );
}

/// An endpoint's secrets change only by a rotation of its secret, which keeps the stored one
/// as it is stored: a copy read before a data-key rotation re-sealed it is never written back.
pub async fn an_endpoint_update_leaves_its_secrets_as_stored(store: DynStore) {
    use realname_core::platform::WebhookEndpoint;
    let mut endpoint = WebhookEndpoint {
        id: uuid::Uuid::new_v4(),
        url: "https://hooks.example.com/".into(),
        events: vec!["*".into()],
        description: None,
        enabled: true,
        secret: b"first".to_vec(),
        previous_secret: None,
        previous_expires_at: None,
        livemode: false,
        created_at: t0(),
    };
    store.create_webhook_endpoint(&endpoint).await.unwrap();
    let secrets = SealedColumn::WebhookSecret;
    let stored = store
        .sealed_values(secrets, CURRENT, None, 10)
        .await
        .unwrap();
    assert_eq!(stored[0].row, vec![endpoint.id.to_string()]);
    assert_eq!(
        store
            .reseal_values(secrets, vec![resealed(&stored[0])])
            .await
            .unwrap(),
        1
    );
    // A copy read before the re-seal, disabled: the re-sealed secret stays.
    endpoint.enabled = false;
    assert!(store.update_webhook_endpoint(&endpoint).await.unwrap());
    let now = store.webhook_endpoint(endpoint.id).await.unwrap().unwrap();
    assert!(!now.enabled);
    assert_eq!(now.secret, resealed(&stored[0]).new);

    let until = t0() + chrono::TimeDelta::days(1);
    assert!(
        store
            .rotate_webhook_secret(endpoint.id, b"second", until)
            .await
            .unwrap()
    );
    let rotated = store.webhook_endpoint(endpoint.id).await.unwrap().unwrap();
    assert_eq!(rotated.secret, b"second");
    assert_eq!(rotated.previous_secret, Some(resealed(&stored[0]).new));
    assert_eq!(rotated.previous_expires_at, Some(until));
    let previous = store
        .sealed_values(SealedColumn::WebhookPreviousSecret, CURRENT, None, 10)
        .await
        .unwrap();
    assert!(
        previous.is_empty(),
        "the previous secret is the re-sealed one"
    );
    assert!(
        !store
            .rotate_webhook_secret(uuid::Uuid::new_v4(), b"x", until)
            .await
            .unwrap()
    );
    // Columns with nothing sealed in them answer nothing.
    assert!(
        store
            .sealed_values(SealedColumn::SecondFactor, CURRENT, None, 10)
            .await
            .unwrap()
            .is_empty()
    );
}
