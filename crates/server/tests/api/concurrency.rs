//! Concurrent and cancelled requests: exactly one deposit, and a store that stays usable.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_concurrent_submits_pay_exactly_one_deposit() {
    let app = spawn_app().await;
    let token = app.register("eager@example.com").await;
    let id = app.ready_draft(&token, CARD).await;
    let path = format!("/v1/verifications/{id}/submit");
    let submits = (0..24).map(|_| app.post(&path, Some(&token), json!({})));
    let results = futures_util::future::join_all(submits).await;
    let ok = results.iter().filter(|(s, _)| *s == StatusCode::OK).count();
    let conflicts = results
        .iter()
        .filter(|(s, b)| *s == StatusCode::CONFLICT && b["error"]["code"] == "invalid_state")
        .count();
    assert_eq!((ok, conflicts), (1, 23), "{results:?}");
    // Workers racing the clock endpoint still pay once.
    let _ = tokio::join!(app.advance(0), app.advance(0), app.advance(0));
    assert_eq!(app.statement(CARD).await.len(), 1);
    let events = app.application(&token, &id).await["events"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(events, 3, "draft, deposit_pending, awaiting_amount");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_guesses_use_one_attempt_each() {
    let app = spawn_app().await;
    let token = app.register("guesses@example.com").await;
    let id = app.ready_draft(&token, CARD).await;
    app.submit_and_settle(&token, &id).await;
    let amount = app.deposit_amount(CARD).await;
    let wrong = if amount == "0.01" { "0.02" } else { "0.01" };
    let path = format!("/v1/verifications/{id}/deposit_confirmation");
    let guesses = (0..10).map(|_| app.post(&path, Some(&token), json!({"amount": wrong})));
    let results = futures_util::future::join_all(guesses).await;
    let incorrect = results
        .iter()
        .filter(|(_, b)| b["error"]["code"] == "amount_incorrect")
        .count();
    assert_eq!(
        incorrect, 3,
        "exactly the 3 attempts were judged: {results:?}"
    );
    let failed = app.application(&token, &id).await;
    assert_eq!(failed["failure"]["code"], "deposit_attempts_exhausted");
    let (status, _) = app
        .post(&path, Some(&token), json!({"amount": amount}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn clients_that_disconnect_mid_request_leave_the_store_usable() {
    let app = spawn_app().await;
    let token = app.register("impatient@example.com").await;
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(2))
        .build()
        .unwrap();
    for round in 0..40 {
        let _ = impatient
            .post(app.url("/v1/accounts"))
            .json(&json!({"login": format!("u{round}@example.com"), "password": PASSWORD}))
            .send()
            .await;
        let _ = impatient
            .post(app.url("/v1/verifications"))
            .bearer_auth(&token)
            .json(&identity())
            .send()
            .await;
        let _ = impatient
            .get(app.url("/v1/verifications"))
            .bearer_auth(&token)
            .send()
            .await;
    }
    // Every later write still works, and at most one application was created. A write whose
    // client went away still finishes on its own (on PostgreSQL in a task of its own): wait
    // until the list stops changing before reading it.
    let mut list = app.get("/v1/verifications", Some(&token)).await.1;
    let mut unchanged = 0;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let again = app.get("/v1/verifications", Some(&token)).await.1;
        unchanged = if again == list { unchanged + 1 } else { 0 };
        list = again;
        if unchanged == 3 {
            break;
        }
    }
    let count = list["verifications"].as_array().unwrap().len();
    assert!(count <= 1, "{count}");
    if count == 1 {
        let id = list["verifications"][0]["id"].as_str().unwrap().to_owned();
        let (status, _) = app
            .post(
                &format!("/v1/verifications/{id}/cancel"),
                Some(&token),
                json!({}),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
    }
    let id = app.ready_draft(&token, CARD).await;
    app.submit_and_settle(&token, &id).await;
    assert_eq!(
        app.application(&token, &id).await["status"],
        "awaiting_amount"
    );
    app.register("after@example.com").await;
}
