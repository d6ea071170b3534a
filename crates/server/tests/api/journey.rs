use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn from_registration_to_verified() {
    let app = spawn_app().await;
    let token = app.register("anna@example.com").await;

    let (status, me) = app.get("/v1/me", Some(&token)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["real_name_status"], "unverified");
    assert_eq!(me["role"], "user");

    let id = app.ready_draft(&token, CARD).await;
    let draft = app.application(&token, &id).await;
    assert_eq!(draft["status"], "draft");
    assert_eq!(draft["documents"]["passport"]["number"], "E1*****78");
    assert_eq!(draft["phone"], "+86 138****8000");
    assert_eq!(draft["date_of_birth"], "1990-**-**");
    assert_eq!(draft["bank_card"]["card_last4"], "0018");
    assert_eq!(
        draft["bank_card"]["bank_name"],
        "Industrial and Commercial Bank of China"
    );
    assert!(draft["bank_card"].get("card_number").is_none());

    app.submit_and_settle(&token, &id).await;
    let (_, me) = app.get("/v1/me", Some(&token)).await;
    assert_eq!(me["real_name_status"], "pending");
    let waiting = app.application(&token, &id).await;
    assert_eq!(waiting["status"], "awaiting_amount");
    assert_eq!(waiting["deposit"]["attempts_remaining"], 3);
    assert!(
        waiting["deposit"].get("amount").is_none(),
        "the platform never shows the amount"
    );

    let amount = app.deposit_amount(CARD).await;
    let fen: i64 = amount.replace("0.", "").parse().unwrap();
    assert!((1..=99).contains(&fen), "{amount}");
    let (status, body) = app
        .post(
            &format!("/v1/verifications/{id}/deposit_confirmation"),
            Some(&token),
            json!({"amount": format!("{amount}元")}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "under_review");

    let reviewer = app.staff("rita", "reviewer").await;
    let (status, queue) = app
        .get("/v1/review/cases?status=open", Some(&reviewer))
        .await;
    assert_eq!(status, StatusCode::OK, "{queue}");
    let case = queue["cases"][0].clone();
    assert_eq!(case["verification_id"], id.as_str());
    assert_eq!(case["overdue"], false);
    let case_id = case["id"].as_str().unwrap();

    let (status, _) = app
        .post(
            &format!("/v1/review/cases/{case_id}/claim"),
            Some(&reviewer),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, full) = app
        .get(&format!("/v1/review/cases/{case_id}"), Some(&reviewer))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        full["application"]["documents"]["passport"]["number"],
        "E12345678"
    );
    assert_eq!(full["application"]["bank_card"]["card_number"], CARD);
    let href = full["images"][0]["href"].as_str().unwrap().to_owned();
    let image = app
        .client
        .get(app.url(&href))
        .bearer_auth(&reviewer)
        .send()
        .await
        .unwrap();
    assert_eq!(image.status(), StatusCode::OK);
    assert_eq!(image.headers()["content-type"], "image/jpeg");
    assert_eq!(image.bytes().await.unwrap().to_vec(), jpeg());

    let (status, decided) = app
        .post(
            &format!("/v1/review/cases/{case_id}/decision"),
            Some(&reviewer),
            json!({"outcome": "approve"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{decided}");

    let done = app.application(&token, &id).await;
    assert_eq!(done["status"], "verified");
    assert_eq!(
        event_statuses(&done),
        [
            "draft",
            "deposit_pending",
            "awaiting_amount",
            "under_review",
            "verified"
        ]
    );
    let (_, me) = app.get("/v1/me", Some(&token)).await;
    assert_eq!(me["real_name_status"], "verified");
    assert_eq!(me["real_name"], "John Smith");

    let (status, body) = app
        .post("/v1/verifications", Some(&token), identity())
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("already_verified"))
    );

    let admin = app.staff("ada", "admin").await;
    let (status, trail) = app
        .get(&format!("/v1/audit?verification_id={id}"), Some(&admin))
        .await;
    assert_eq!(status, StatusCode::OK);
    let actions: Vec<&str> = trail["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["reveal_application", "reveal_document", "decide"]);
    let (status, _) = app.get("/v1/audit", Some(&reviewer)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_restart_in_the_middle_loses_nothing() {
    let app = spawn_app().await;
    let token = app.register("restart@example.com").await;
    let id = app.ready_draft(&token, CARD).await;
    app.submit_and_settle(&token, &id).await;
    let amount = app.deposit_amount(CARD).await;
    let (status, _) = app
        .post(
            &format!("/v1/verifications/{id}/deposit_confirmation"),
            Some(&token),
            json!({"amount": "0.00"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    let dir = app.stop().await;
    let app = start_in(dir, &[]).await;

    // The session, the application, the deposit and the ledger all survived.
    let before = app.application(&token, &id).await;
    assert_eq!(before["status"], "awaiting_amount");
    assert_eq!(app.deposit_amount(CARD).await, amount);
    assert_eq!(
        app.statement(CARD).await.len(),
        1,
        "exactly one deposit, restart or not"
    );
    let (status, body) = app
        .post(
            &format!("/v1/verifications/{id}/deposit_confirmation"),
            Some(&token),
            json!({"amount": amount}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "under_review");
}

#[tokio::test]
async fn a_draft_can_be_edited_and_cancelled_then_applied_again() {
    let app = spawn_app().await;
    let token = app.register("+852-9123-4567").await;
    let (status, app_body) = app
        .post("/v1/verifications", Some(&token), identity())
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let id = app_body["id"].as_str().unwrap().to_owned();

    let (status, patched) = app
        .call(
            reqwest::Method::PATCH,
            &format!("/v1/verifications/{id}"),
            Some(&token),
            Some(json!({"phone": "+852-9123-4567"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(patched["warnings"][0]["code"], "phone_not_recommended");
    assert!(
        patched["warnings"][0]["message_zh"]
            .as_str()
            .unwrap()
            .contains("推荐")
    );

    let (status, body) = app
        .post("/v1/verifications", Some(&token), identity())
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("application_in_progress"))
    );

    let (status, cancelled) = app
        .post(
            &format!("/v1/verifications/{id}/cancel"),
            Some(&token),
            json!({}),
        )
        .await;
    assert_eq!(
        (status, cancelled["status"].as_str()),
        (StatusCode::OK, Some("cancelled"))
    );
    let (status, body) = app
        .post(
            &format!("/v1/verifications/{id}/cancel"),
            Some(&token),
            json!({}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("invalid_state"))
    );

    let (status, _) = app
        .post("/v1/verifications", Some(&token), identity())
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, list) = app.get("/v1/verifications", Some(&token)).await;
    let statuses: Vec<&str> = list["verifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["draft", "cancelled"], "newest first");
}
