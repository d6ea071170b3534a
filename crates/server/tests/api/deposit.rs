//! The micro-deposit: answers, attempts, expiry, returns and limits.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

fn wrong(amount: &str) -> String {
    if amount == "0.01" {
        "0.02".into()
    } else {
        "0.01".into()
    }
}

#[tokio::test]
async fn malformed_answers_cost_nothing_and_three_wrong_ones_fail() {
    let app = spawn_app().await;
    let token = app.register("guess@example.com").await;
    let id = app.ready_draft(&token, CARD).await;
    app.submit_and_settle(&token, &id).await;
    let amount = app.deposit_amount(CARD).await;
    let path = format!("/v1/verifications/{id}/deposit_confirmation");

    for bad in [
        json!("abc"),
        json!("1.00"),
        json!("0.123"),
        json!(""),
        json!(null),
    ] {
        let (status, body) = app.post(&path, Some(&token), json!({"amount": bad})).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("amount_malformed")),
            "{bad}"
        );
    }
    assert_eq!(
        app.application(&token, &id).await["deposit"]["attempts_remaining"],
        3
    );

    for remaining in [2, 1] {
        let (status, body) = app
            .post(&path, Some(&token), json!({"amount": wrong(&amount)}))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(body["error"]["code"], "amount_incorrect");
        assert_eq!(body["error"]["attempts_remaining"], remaining);
        assert!(
            body["error"]["details"][0]["message"]
                .as_str()
                .unwrap()
                .contains(&format!("{remaining} attempt"))
        );
    }
    let (status, body) = app
        .post(&path, Some(&token), json!({"amount": wrong(&amount)}))
        .await;
    assert_eq!(
        (status, body["error"]["attempts_remaining"].as_u64()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some(0))
    );
    let failed = app.application(&token, &id).await;
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["failure"]["code"], "deposit_attempts_exhausted");
    assert_eq!(failed["failure"]["stage"], "deposit");
    assert_eq!(failed["failure"]["can_retry"], true);
    // Even the right amount is too late now.
    let (status, body) = app
        .post(&path, Some(&token), json!({"amount": amount}))
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("invalid_state"))
    );
    // And the user may apply again.
    let (status, _) = app
        .post("/v1/verifications", Some(&token), identity())
        .await;
    assert_eq!(status, StatusCode::CREATED);
}

#[tokio::test]
async fn an_unconfirmed_deposit_expires_after_ten_days() {
    let app = spawn_app().await;
    let token = app.register("late@example.com").await;
    let id = app.ready_draft(&token, CARD).await;
    app.submit_and_settle(&token, &id).await;
    app.advance(10 * 86_400 - 60).await;
    // Sessions last 12 hours; ten days on, the user logs in again.
    let token = app.login("late@example.com", PASSWORD).await;
    assert_eq!(
        app.application(&token, &id).await["status"],
        "awaiting_amount"
    );
    app.advance(61).await;
    let expired = app.application(&token, &id).await;
    assert_eq!(expired["status"], "failed");
    assert_eq!(expired["failure"]["code"], "deposit_expired");
}

#[tokio::test]
async fn an_answer_before_the_bank_settles_is_refused() {
    let app = spawn_with(&[("sandbox.settle_after", "1d")]).await;
    let token = app.register("early@example.com").await;
    let id = app.ready_draft(&token, CARD).await;
    app.submit_and_settle(&token, &id).await;
    assert_eq!(
        app.application(&token, &id).await["status"],
        "deposit_pending"
    );
    assert!(
        app.statement(CARD).await.is_empty(),
        "nothing on the statement before it settles"
    );
    let (status, body) = app
        .post(
            &format!("/v1/verifications/{id}/deposit_confirmation"),
            Some(&token),
            json!({"amount": "0.50"}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("invalid_state"))
    );
    app.advance(86_400).await;
    let token = app.login("early@example.com", PASSWORD).await;
    assert_eq!(
        app.application(&token, &id).await["status"],
        "awaiting_amount"
    );
    assert_eq!(app.statement(CARD).await.len(), 1);
}

#[tokio::test]
async fn returned_deposits_fail_with_the_banks_reason_and_the_card_is_refused_later() {
    let app = spawn_app().await;
    for (login, card, reason) in [
        ("closed@example.com", "6222020000000080002", "AC04"),
        ("wrong@example.com", "6222020000000080010", "AC01"),
    ] {
        let token = app.register(login).await;
        let id = app.ready_draft(&token, card).await;
        app.submit_and_settle(&token, &id).await;
        let failed = app.application(&token, &id).await;
        assert_eq!(failed["status"], "failed", "{failed}");
        assert_eq!(failed["failure"]["code"], "deposit_returned");
        assert_eq!(failed["failure"]["bank_reason"], reason);
        assert!(
            failed["failure"]["message"]
                .as_str()
                .unwrap()
                .contains(reason)
        );
        assert!(app.statement(card).await.is_empty());

        assert_eq!(
            app.card_refusal(&token, card).await,
            [(
                "bank_card.card_number".to_owned(),
                "card_returned_by_bank".to_owned()
            )]
        );
    }
}

#[tokio::test]
async fn a_card_bound_elsewhere_is_refused_and_rounds_are_limited() {
    let app = spawn_app().await;
    let first = app.register("first@example.com").await;
    let id = app.ready_draft(&first, CARD).await;
    app.submit_and_settle(&first, &id).await;

    let second = app.register("second@example.com").await;
    assert_eq!(
        app.card_refusal(&second, CARD).await,
        [("bank_card.card_number".to_owned(), "card_in_use".to_owned())]
    );

    // The same identity document may be paid a deposit at most 3 times in 30 days.
    let token = app.register("rounds@example.com").await;
    let mut identity = identity();
    identity["documents"]["passport"]["number"] = json!("R99887766");
    for round in 0..3u32 {
        let card = card_number(round);
        let id = app.ready_draft_with(&token, identity.clone(), &card).await;
        app.submit_and_settle(&token, &id).await;
        let amount = app.deposit_amount(&card).await;
        for _ in 0..3 {
            let _ = app
                .post(
                    &format!("/v1/verifications/{id}/deposit_confirmation"),
                    Some(&token),
                    json!({"amount": wrong(&amount)}),
                )
                .await;
        }
        assert_eq!(app.application(&token, &id).await["status"], "failed");
    }
    let id = app
        .ready_draft_with(&token, identity.clone(), &card_number(3))
        .await;
    let (status, body) = app
        .post(
            &format!("/v1/verifications/{id}/submit"),
            Some(&token),
            json!({}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("deposit_limit_reached"))
    );
    assert_eq!(
        app.application(&token, &id).await["status"],
        "draft",
        "nothing changed"
    );
    // The user comes back to the draft within 30 days (an untouched one would be cancelled
    // and erased), and submits once the window has passed.
    app.advance(29 * 86_400).await;
    let token = app.login("rounds@example.com", PASSWORD).await;
    let (status, body) = app
        .call(
            reqwest::Method::PATCH,
            &format!("/v1/verifications/{id}"),
            Some(&token),
            Some(json!({"phone": "+8613800138000"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.advance(2 * 86_400).await;
    let token = app.login("rounds@example.com", PASSWORD).await;
    let (status, body) = app
        .post(
            &format!("/v1/verifications/{id}/submit"),
            Some(&token),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}
