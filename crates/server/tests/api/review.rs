//! The review queue, claims and decisions.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

/// An application of a new user, taken to `under_review`; returns (user token, application id).
async fn under_review(app: &TestApp, login: &str, card: &str, passport: &str) -> (String, String) {
    let token = app.register(login).await;
    let id = under_review_as(app, &token, card, passport).await;
    (token, id)
}

/// An application of the account signed in with `token`, taken to `under_review`.
async fn under_review_as(app: &TestApp, token: &str, card: &str, passport: &str) -> String {
    let mut identity = identity();
    identity["documents"]["passport"]["number"] = json!(passport);
    let id = app.ready_draft_with(token, identity, card).await;
    app.to_review(token, &id, card).await;
    id
}

async fn case_of(app: &TestApp, reviewer: &str, id: &str) -> Value {
    for status in ["open", "claimed", "decided"] {
        let (_, queue) = app
            .get(
                &format!("/v1/review/cases?status={status}&limit=100"),
                Some(reviewer),
            )
            .await;
        if let Some(case) = queue["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["verification_id"] == id)
        {
            return case.clone();
        }
    }
    panic!("no case for {id}");
}

#[tokio::test]
async fn two_reviewers_race_for_a_claim_and_one_wins() {
    let app = spawn_app().await;
    let (_, id) = under_review(&app, "race@example.com", CARD, "E12345678").await;
    let (rita, rob) = (
        app.staff("rita", "reviewer").await,
        app.staff("rob", "reviewer").await,
    );
    let case = case_of(&app, &rita, &id).await;
    let path = format!("/v1/review/cases/{}/claim", case["id"].as_str().unwrap());
    let (a, b) = tokio::join!(
        app.post(&path, Some(&rita), json!({})),
        app.post(&path, Some(&rob), json!({}))
    );
    let mut statuses = [a.0, b.0];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::CONFLICT]);
    let loser = if a.0 == StatusCode::CONFLICT {
        &a.1
    } else {
        &b.1
    };
    assert_eq!(loser["error"]["code"], "case_claimed");

    // The loser cannot decide; the claim lapses after 30 minutes and then it can be taken.
    let winner_is_rita = a.0 == StatusCode::OK;
    let (winner, other) = if winner_is_rita {
        (&rita, &rob)
    } else {
        (&rob, &rita)
    };
    let decision = format!("/v1/review/cases/{}/decision", case["id"].as_str().unwrap());
    let (status, body) = app
        .post(&decision, Some(other), json!({"outcome": "approve"}))
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("case_claimed"))
    );
    assert_eq!(case_of(&app, winner, &id).await["status"], "claimed");
    app.advance(31 * 60).await;
    assert_eq!(case_of(&app, winner, &id).await["status"], "open");
    let (status, _) = app.post(&path, Some(other), json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = app
        .post(&decision, Some(winner), json!({"outcome": "approve"}))
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("case_claimed"))
    );
    let (status, _) = app
        .post(&decision, Some(other), json!({"outcome": "approve"}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = app
        .post(&decision, Some(other), json!({"outcome": "approve"}))
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("invalid_state"))
    );
}

#[tokio::test]
async fn rejections_carry_reasons_and_final_ones_block() {
    let app = spawn_app().await;
    let reviewer = app.staff("rita", "reviewer").await;

    let (user, id) = under_review(&app, "retry@example.com", CARD, "E12345678").await;
    let case = case_of(&app, &reviewer, &id).await;
    let case_id = case["id"].as_str().unwrap();
    app.post(
        &format!("/v1/review/cases/{case_id}/claim"),
        Some(&reviewer),
        json!({}),
    )
    .await;
    let decision = format!("/v1/review/cases/{case_id}/decision");
    for (body, field, code) in [
        (
            json!({"outcome": "reject"}),
            "reason",
            "review_reason_invalid",
        ),
        (
            json!({"outcome": "reject", "reason": "bad_hair"}),
            "reason",
            "review_reason_invalid",
        ),
        (
            json!({"outcome": "reject", "reason": "other"}),
            "note",
            "review_note_required",
        ),
        (
            json!({"outcome": "maybe"}),
            "outcome",
            "review_outcome_invalid",
        ),
    ] {
        let (status, answer) = app.post(&decision, Some(&reviewer), body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(detail_codes(&answer), [(field.to_owned(), code.to_owned())]);
    }
    let (status, _) = app
        .post(&decision, Some(&reviewer), json!({"outcome": "reject", "reason": "document_page_missing", "note": "no entry stamp page"}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let failed = app.application(&user, &id).await;
    assert_eq!(failed["failure"]["code"], "document_page_missing");
    assert_eq!(failed["failure"]["stage"], "review");
    assert_eq!(failed["failure"]["can_retry"], true);
    assert!(
        !failed.to_string().contains("no entry stamp page"),
        "the note is internal"
    );
    let (status, _) = app.post("/v1/verifications", Some(&user), identity()).await;
    assert_eq!(status, StatusCode::CREATED);

    let (user, id) = under_review(&app, "fraud@example.com", &card_number(7), "F12345678").await;
    let case = case_of(&app, &reviewer, &id).await;
    let case_id = case["id"].as_str().unwrap();
    app.post(
        &format!("/v1/review/cases/{case_id}/claim"),
        Some(&reviewer),
        json!({}),
    )
    .await;
    let (status, _) = app
        .post(
            &format!("/v1/review/cases/{case_id}/decision"),
            Some(&reviewer),
            json!({"outcome": "reject", "reason": "suspected_fraud"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let failed = app.application(&user, &id).await;
    assert_eq!(failed["failure"]["can_retry"], false);
    assert!(
        failed["failure"]["message_zh"]
            .as_str()
            .unwrap()
            .contains("客服")
    );
    let (status, body) = app.post("/v1/verifications", Some(&user), identity()).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("application_blocked"))
    );
}

#[tokio::test]
async fn the_queue_puts_overdue_first_pages_by_cursor_and_shows_flags() {
    let app = spawn_app().await;
    app.staff("rita", "reviewer").await;
    let (_, first) = under_review(&app, "q1@example.com", &card_number(1), "SAME12345").await;
    app.advance(86_400).await;
    let (_, second) = under_review(&app, "q2@example.com", &card_number(2), "SAME12345").await;
    let (_, third) = under_review(&app, "q3@example.com", &card_number(3), "Q3000000").await;
    app.advance(86_400 + 60).await;
    let reviewer = app.staff_login("rita").await;

    let (status, page) = app
        .get("/v1/review/cases?status=open&limit=2", Some(&reviewer))
        .await;
    assert_eq!(status, StatusCode::OK);
    let cases = page["cases"].as_array().unwrap();
    assert_eq!(cases[0]["verification_id"], first.as_str());
    assert_eq!(cases[0]["overdue"], true);
    assert_eq!(cases[1]["verification_id"], second.as_str());
    assert_eq!(cases[1]["overdue"], false);
    assert!(
        cases[0]["flags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f == "duplicate_document")
    );
    // The reviewer's page links the other application that holds the same passport.
    let (first_case, second_case) = (
        cases[0]["id"].as_str().unwrap(),
        cases[1]["id"].as_str().unwrap(),
    );
    let html = reqwest::Client::new()
        .get(app.url(&format!("/review/cases/{first_case}?lang=en")))
        .header("cookie", format!("rn_session={reviewer}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains(&format!("href=\"/review/cases/{second_case}\""))
            && html.contains("The same document is on another account"),
        "{html}"
    );
    let cursor = page["next_cursor"].as_str().unwrap();
    let (_, rest) = app
        .get(
            &format!("/v1/review/cases?status=open&limit=2&cursor={cursor}"),
            Some(&reviewer),
        )
        .await;
    let rest = rest["cases"].as_array().unwrap();
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0]["verification_id"], third.as_str());
    assert_eq!(rest[0]["flags"], json!([]));

    // Any 48 hex digits are a position, even one thousands of years before or after any date a
    // store keeps (found by schemathesis on PostgreSQL): before every case, or after them all.
    for (cursor, cases) in [
        ("fcb34bcc60c4dff306b5f9ae0bf471386ffc6c04853754cf", 3),
        ("7fffffffffffffff00000000000000000000000000000000", 0),
    ] {
        let (status, page) = app
            .get(
                &format!("/v1/review/cases?cursor={cursor}"),
                Some(&reviewer),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert_eq!(page["cases"].as_array().unwrap().len(), cases, "{cursor}");
    }

    let (status, body) = app
        .get("/v1/review/cases?cursor=garbage", Some(&reviewer))
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("malformed_request"))
    );
}

#[tokio::test]
async fn users_cannot_reach_review_or_each_others_applications() {
    let app = spawn_app().await;
    let (owner, id) = under_review(&app, "owner@example.com", CARD, "E12345678").await;
    let stranger = app.register("stranger@example.com").await;
    let (status, body) = app
        .get(&format!("/v1/verifications/{id}"), Some(&stranger))
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    let (status, _) = app
        .post(
            &format!("/v1/verifications/{id}/cancel"),
            Some(&stranger),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    for path in ["/v1/review/cases", "/v1/audit"] {
        let (status, body) = app.get(path, Some(&owner)).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("forbidden")),
            "{path}"
        );
    }
    let (status, body) = app.get("/v1/review/cases", None).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("unauthorized"))
    );
}

/// Separation of duties (CONTRACT 2.7): nobody reviews their own application, and a case is
/// unmasked only for the reviewer who holds it and for admins.
#[tokio::test]
async fn staff_never_review_their_own_and_see_others_cases_masked_unless_they_hold_them() {
    let app = spawn_app().await;
    let rita = app.staff("rita", "reviewer").await;
    let rob = app.staff("rob", "reviewer").await;
    let ada = app.staff("ada", "admin").await;

    // Rita applies like anybody; her own case is not hers to claim or decide.
    let id = under_review_as(&app, &rita, CARD, "E12345678").await;
    let case = case_of(&app, &rob, &id).await;
    let case_id = case["id"].as_str().unwrap();
    let path = |tail: &str| format!("/v1/review/cases/{case_id}{tail}");
    for tail in ["/claim", "/decision"] {
        let (status, body) = app
            .post(&path(tail), Some(&rita), json!({"outcome": "approve"}))
            .await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("forbidden")),
            "{tail}"
        );
    }

    // Before anyone holds it, a reviewer sees the masked view and no images.
    let masked = |case: &Value| {
        let a = &case["application"];
        a["phone"].as_str().unwrap().contains('*')
            && a["date_of_birth"].as_str().unwrap().contains('*')
            && a["documents"]["passport"]["number"]
                .as_str()
                .unwrap()
                .contains('*')
            && case["images"].as_array().unwrap().is_empty()
    };
    let (status, seen) = app.get(&path(""), Some(&rob)).await;
    assert_eq!(status, StatusCode::OK, "{seen}");
    assert!(masked(&seen), "{seen}");
    let (status, _) = app
        .get(&path("/documents/passport_photo_page"), Some(&rob))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Rob claims it: now he sees it whole; Rita, another reviewer, still masked; an admin whole.
    let (status, _) = app.post(&path("/claim"), Some(&rob), json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let (_, held) = app.get(&path(""), Some(&rob)).await;
    assert!(!masked(&held), "{held}");
    assert_eq!(held["application"]["phone"], "+8613800138000");
    let (status, _) = app
        .get(&path("/documents/passport_photo_page"), Some(&rob))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, other) = app.get(&path(""), Some(&rita)).await;
    assert!(masked(&other), "{other}");
    let (_, admin) = app.get(&path(""), Some(&ada)).await;
    assert!(!masked(&admin), "{admin}");

    // Only the unmasked reads are in the audit trail.
    let (_, trail) = app
        .get(&format!("/v1/audit?verification_id={id}"), Some(&ada))
        .await;
    let reveals = trail["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "reveal_application")
        .count();
    assert_eq!(reveals, 2, "{trail}");
}
