//! Both key rotations (CONTRACT 11) over a store in use: what was hashed keeps matching and
//! what was sealed keeps opening, under the new keys alone once they end.

use realname_core::platform::KeyMode;
use realname_core::store::{SealedColumn, Store};
use realname_server::rotation::{self, Left, Pace};
use realname_server::{keys, open_store};
use realname_vault::envelope::Kek;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

const RETURNED: &str = "6222020000000080002";

/// Opens every sealed value the store holds with a node's keys as they are now: answers how
/// many opened in each column; none may fail.
async fn every_value_opens(
    store: &dyn Store,
    config: &realname_server::config::Config,
) -> std::collections::BTreeMap<String, usize> {
    use realname_core::ports::Vault;
    let vault = keys::open(config, store).await.unwrap().vault;
    assert!(!vault.rotating(), "the rotation ended");
    let mut opened = std::collections::BTreeMap::new();
    for column in SealedColumn::ALL {
        // No value starts with 0xff: every stored one is listed.
        for value in store
            .sealed_values(column, &[0xff], None, 10_000)
            .await
            .unwrap()
        {
            let context = rotation::context(column, &value.row).unwrap();
            vault
                .open(context, &value.sealed)
                .unwrap_or_else(|_| panic!("a value of {} does not open", column.name()));
            *opened.entry(column.name()).or_default() += 1;
        }
    }
    opened
}

async fn passport_case(app: &TestApp, login: &str, card: &str) -> (String, String) {
    let token = app.register(login).await;
    let mut identity = identity();
    identity["documents"]["passport"]["number"] = json!("TWIN12345");
    let id = app.ready_draft_with(&token, identity, card).await;
    app.to_review(&token, &id, card).await;
    (token, id)
}

async fn flags_of(app: &TestApp, reviewer: &str, id: &str) -> Vec<String> {
    let (_, queue) = app
        .get("/v1/review/cases?status=open&limit=100", Some(reviewer))
        .await;
    let case = queue["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["verification_id"] == id)
        .cloned()
        .unwrap();
    case["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn api_keys_returned_cards_and_duplicate_flags_work_after_both_rotations() {
    let dir = tempfile::tempdir().unwrap();
    Kek::from_base64(&data_key())
        .unwrap()
        .create_file(&dir.path().join("realname.key"))
        .unwrap();
    const EXTRA: &[(&str, &str)] = &[("webhooks.allow_cidrs", "127.0.0.0/8")];
    let app = spawn_in(dir, EXTRA).await;
    let reviewer = app.staff("rita", "reviewer").await;
    let api_key = platform_key(&app, &[], KeyMode::Test).await;
    let returned_owner = app.register("returned@example.com").await;
    let returned = app.ready_draft(&returned_owner, RETURNED).await;
    app.submit_and_settle(&returned_owner, &returned).await;
    assert_eq!(
        app.application(&returned_owner, &returned).await["status"],
        "failed"
    );
    let (first_owner, first) = passport_case(&app, "twin-1@example.com", &card_number(1)).await;
    // A webhook endpoint whose secret was rotated once: a secret and a previous one.
    let (status, endpoint) = app
        .post(
            "/v1/webhook_endpoints",
            Some(&api_key),
            json!({"url": "http://127.0.0.1:9/hooks", "events": ["*"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{endpoint}");
    let endpoint = endpoint["id"].as_str().unwrap().to_owned();
    let rotate_secret = async |app: &TestApp| {
        let path = format!("/v1/webhook_endpoints/{endpoint}/rotate_secret");
        app.post(&path, Some(&api_key), json!({})).await.0
    };
    assert_eq!(rotate_secret(&app).await, StatusCode::OK);
    // An answer kept for an Idempotency-Key replay.
    let replayer = app.register("replay@example.com").await;
    let replay = async |app: &TestApp| {
        let res = app
            .client
            .post(app.url("/v1/verifications"))
            .bearer_auth(&replayer)
            .header("idempotency-key", "rotate-1")
            .json(&identity())
            .send()
            .await
            .unwrap();
        read(res).await
    };
    let (status, kept) = replay(&app).await;
    assert_eq!(status, StatusCode::CREATED, "{kept}");

    // Another node, left running on the old key-encryption key.
    let (behind, _stop_behind) = second_node(&app, &[]).await;

    // A new key-encryption key; the node restarts with the new key file.
    let config = config(app.dir.path(), &[]);
    let store = open_store(&config).await.unwrap().store;
    keys::rotate(&config, store.as_ref()).await.unwrap();
    let app = start_in(app.stop().await, EXTRA).await;

    // A new data key while the node serves, and takes a new application meanwhile.
    let rotating = {
        let (config, store) = (config.clone(), store.clone());
        tokio::spawn(async move {
            let pace = Pace {
                batch: 2,
                pause: std::time::Duration::ZERO,
            };
            rotation::rotate_data(&config, store.as_ref(), pace, &mut |_| {}).await
        })
    };
    let during_owner = app.register("during@example.com").await;
    let during = app.ready_draft(&during_owner, &card_number(2)).await;
    let rotated = rotating.await.unwrap().unwrap();
    assert!(!rotated.resumed);
    assert!(rotated.resealed >= 10, "{rotated:?}");
    assert_eq!(
        rotation::left(
            store.as_ref(),
            &keys::open(&config, store.as_ref()).await.unwrap().vault
        )
        .await
        .unwrap(),
        Left::default()
    );
    let opened = every_value_opens(store.as_ref(), &config).await;
    for column in [
        SealedColumn::ApplicationForm,
        SealedColumn::ApplicationCard,
        SealedColumn::Image,
        SealedColumn::DepositAmount,
        SealedColumn::IdempotentAnswer,
        SealedColumn::WebhookSecret,
        SealedColumn::WebhookPreviousSecret,
        SealedColumn::SecondFactor,
    ] {
        assert!(
            opened.get(&column.name()).is_some_and(|n| *n > 0),
            "{} was exercised: {opened:?}",
            column.name()
        );
    }

    // The running node has let the retired data key go; what it shows opens without it.
    tokio::time::sleep(keys::FOLLOW_EVERY * 2).await;
    for (owner, id) in [
        (&returned_owner, &returned),
        (&first_owner, &first),
        (&during_owner, &during),
    ] {
        assert_eq!(app.application(owner, id).await["real_name"], "John Smith");
    }
    let (status, _) = app.get("/v1/platform/users/nobody", Some(&api_key)).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "the API key still authenticates"
    );
    let (status, replayed) = replay(&app).await;
    assert_eq!(
        (status, &replayed["id"]),
        (StatusCode::CREATED, &kept["id"])
    );
    assert_eq!(
        rotate_secret(&app).await,
        StatusCode::OK,
        "the endpoint's secret rotates again"
    );

    // The returned card is still refused.
    assert_eq!(
        app.card_refusal(&returned_owner, RETURNED).await,
        [(
            "bank_card.card_number".to_owned(),
            "card_returned_by_bank".to_owned()
        )]
    );
    // The same passport is still found in a case made before both rotations.
    let (_, second) = passport_case(&app, "twin-2@example.com", &card_number(3)).await;
    assert!(
        flags_of(&app, &reviewer, &second)
            .await
            .contains(&"duplicate_document".to_owned())
    );
    assert!(
        flags_of(&app, &reviewer, &first)
            .await
            .contains(&"duplicate_document".to_owned())
    );

    // The node left on the old key-encryption key could not follow the new data key: it
    // neither seals nor answers with what it cannot open, and says to try elsewhere.
    let client = reqwest::Client::new();
    let late = app.register("late@example.com").await;
    let res = client
        .post(format!("{behind}/v1/verifications"))
        .bearer_auth(&late)
        .json(&identity())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    let res = client
        .get(format!("{behind}/v1/verifications/{first}"))
        .bearer_auth(&first_owner)
        .send()
        .await
        .unwrap();
    let (status, body) = read(res).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"]["code"], "service_unavailable");
}
