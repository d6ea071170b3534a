//! Every rule breach of CONTRACT 2 through the API, each with its field and both messages.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

fn with(path: &[&str], value: Value) -> Value {
    let mut body = identity();
    let mut at = &mut body;
    for key in &path[..path.len() - 1] {
        at = &mut at[*key];
    }
    at[path[path.len() - 1]] = value;
    body
}

#[tokio::test]
async fn identity_breaches_are_reported_with_their_fields() {
    let app = spawn_app().await;
    let token = app.register("rules@example.com").await;
    let pr_card = json!({"kind": "permanent_residence_card", "number": "931840198506150016", "expiry_date": FAR_EXPIRY});
    let cases: Vec<(Value, &str, &str)> = vec![
        (
            with(&["consent"], json!(false)),
            "consent",
            "consent_required",
        ),
        (
            with(&["real_name"], json!("John_Smith")),
            "real_name",
            "name_invalid_characters",
        ),
        (
            with(&["real_name"], json!("J")),
            "real_name",
            "name_too_short",
        ),
        (
            with(&["real_name"], json!("A".repeat(65))),
            "real_name",
            "name_too_long",
        ),
        (
            with(&["phone"], json!("138 0013 8000")),
            "phone",
            "phone_invalid_characters",
        ),
        (
            with(&["phone"], json!("+123456789012345678901")),
            "phone",
            "phone_too_long",
        ),
        (
            with(&["phone"], json!("91234567")),
            "phone",
            "phone_needs_country_code",
        ),
        (
            with(&["phone"], json!("12345678901")),
            "phone",
            "phone_invalid",
        ),
        (
            with(&["nationality"], json!("XYZ")),
            "nationality",
            "nationality_invalid",
        ),
        (
            with(&["nationality"], json!("CHN")),
            "nationality",
            "nationality_not_foreign",
        ),
        (
            with(&["date_of_birth"], json!("2099-01-01")),
            "date_of_birth",
            "date_of_birth_invalid",
        ),
        (
            with(&["date_of_birth"], json!("2010-01-01")),
            "date_of_birth",
            "applicant_under_18",
        ),
        (
            with(&["documents", "passport"], Value::Null),
            "documents.passport",
            "passport_required",
        ),
        (
            with(&["documents", "passport", "number"], json!("E1")),
            "documents.passport.number",
            "passport_number_invalid",
        ),
        (
            with(
                &["documents", "passport", "expiry_date"],
                json!("2020-01-01"),
            ),
            "documents.passport",
            "document_expired",
        ),
        (
            with(&["documents", "stay_permit"], Value::Null),
            "documents.stay_permit",
            "stay_permit_required",
        ),
        (
            with(&["documents", "stay_permit", "kind"], json!("visa")),
            "documents.stay_permit.kind",
            "stay_permit_kind_invalid",
        ),
        (
            with(
                &["documents", "stay_permit", "entry_date"],
                json!("2099-01-01"),
            ),
            "documents.stay_permit.entry_date",
            "entry_date_invalid",
        ),
        (
            with(&["documents", "stay_permit"], pr_card),
            "documents.stay_permit.number",
            "permanent_residence_card_number_invalid",
        ),
        (with(&["sex"], json!("M")), "sex", "sex_invalid"),
        (
            with(&["occupation"], json!({"category": "astronaut"})),
            "occupation",
            "occupation_invalid",
        ),
        (
            with(&["occupation"], json!("engineer")),
            "occupation",
            "occupation_invalid",
        ),
        (
            with(
                &["occupation"],
                json!({"category": "professional", "title": "x".repeat(101)}),
            ),
            "occupation.title",
            "occupation_invalid",
        ),
        (
            with(&["occupation"], json!({"category": "other"})),
            "occupation.title",
            "occupation_title_required",
        ),
        (
            with(&["address"], json!("Bj")),
            "address",
            "address_invalid",
        ),
        (
            with(&["address"], json!("88 Jianguo Road\nBeijing")),
            "address",
            "address_invalid",
        ),
        (with(&["pep"], json!(false)), "pep", "pep_invalid"),
        (
            with(&["pep"], json!({"declared": "yes"})),
            "pep",
            "pep_invalid",
        ),
        (
            with(&["pep"], json!({"declared": true})),
            "pep.role",
            "pep_role_required",
        ),
    ];
    for (body, field, code) in cases {
        let (status, answer) = app.post("/v1/verifications", Some(&token), body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{code}: {answer}");
        assert_eq!(answer["error"]["code"], "validation_failed");
        assert_eq!(
            detail_codes(&answer),
            [(field.to_owned(), code.to_owned())],
            "{code}"
        );
        let detail = &answer["error"]["details"][0];
        assert!(detail["message"].as_str().is_some_and(|m| !m.is_empty()));
        assert!(detail["message_zh"].as_str().is_some_and(|m| !m.is_empty()));
    }
    // Nothing was stored by any of them.
    let (_, list) = app.get("/v1/verifications", Some(&token)).await;
    assert_eq!(list["verifications"].as_array().map(Vec::len), Some(0));
}

#[tokio::test]
async fn every_breach_at_once() {
    let app = spawn_app().await;
    let token = app.register("many@example.com").await;
    let (status, answer) = app
        .post(
            "/v1/verifications",
            Some(&token),
            json!({"real_name": "@", "phone": "x"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let codes: Vec<String> = detail_codes(&answer).into_iter().map(|(_, c)| c).collect();
    assert_eq!(
        codes,
        [
            "consent_required",
            "name_invalid_characters",
            "name_too_short",
            "field_required",
            "field_required",
            "phone_invalid_characters",
            "stay_permit_required",
            "passport_required",
        ]
    );
}

#[tokio::test]
async fn a_permanent_residence_card_needs_no_passport() {
    let app = spawn_app().await;
    let token = app.register("pr@example.com").await;
    let mut body = identity();
    body["documents"] = json!({"stay_permit": {"kind": "permanent_residence_card", "number": "93184019850615004X", "expiry_date": FAR_EXPIRY}});
    let (status, answer) = app.post("/v1/verifications", Some(&token), body).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    assert_eq!(
        answer["documents"]["stay_permit"]["number"],
        "93**************4X"
    );
    let id = answer["id"].as_str().unwrap();
    let (status, _) = app.upload(&token, id, "stay_permit", jpeg()).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app
        .call(
            Method::PUT,
            &format!("/v1/verifications/{id}/bank_card"),
            Some(&token),
            Some(bank_card(CARD, "John Smith")),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, answer) = app
        .post(
            &format!("/v1/verifications/{id}/submit"),
            Some(&token),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
}

async fn card_breaches(app: &TestApp, token: &str, id: &str, card: Value) -> Vec<(String, String)> {
    let (status, answer) = app
        .call(
            Method::PUT,
            &format!("/v1/verifications/{id}/bank_card"),
            Some(token),
            Some(card),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    detail_codes(&answer)
}

fn card(bank: &str, number: &str, holder: &str) -> Value {
    json!({"bank": bank, "card_number": number, "card_type": "savings", "account_type": "current", "account_name": holder})
}

fn at(field: &str, code: &str) -> (String, String) {
    (format!("bank_card.{field}"), code.to_owned())
}

#[tokio::test]
async fn bank_card_breaches() {
    let app = spawn_app().await;
    let token = app.register("cards@example.com").await;
    let (_, created) = app
        .post("/v1/verifications", Some(&token), identity())
        .await;
    let id = created["id"].as_str().unwrap().to_owned();
    let holder = "John Smith";

    assert_eq!(
        card_breaches(
            &app,
            &token,
            &id,
            card("CCB", "6227000000000000011", holder)
        )
        .await,
        [at("bank", "bank_not_supported")]
    );
    assert_eq!(
        card_breaches(
            &app,
            &token,
            &id,
            card("ABC", "6228480000000000018", holder)
        )
        .await,
        [
            at("bank", "bank_not_supported"),
            at("bank", "bank_rejects_latin_letters")
        ]
    );
    assert_eq!(
        card_breaches(
            &app,
            &token,
            &id,
            card("ICBC", "6222020000000000019", holder)
        )
        .await,
        [at("card_number", "card_number_invalid")]
    );
    assert_eq!(
        card_breaches(&app, &token, &id, card("ICBC", "6225880000000019", holder)).await,
        [at("card_number", "card_bank_mismatch")]
    );
    assert_eq!(
        card_breaches(&app, &token, &id, card("ICBC", "6222100000000015", holder)).await,
        [at("card_number", "credit_card_not_supported")]
    );
    assert_eq!(
        card_breaches(&app, &token, &id, card("ICBC", CARD, "Jane Smith")).await,
        [at("account_name", "account_name_mismatch")]
    );
    let mut passbook = card("ICBC", CARD, holder);
    passbook["card_type"] = json!("passbook");
    assert_eq!(
        card_breaches(&app, &token, &id, passbook).await,
        [at("card_type", "passbook_not_supported")]
    );
    let mut fixed = card("HZCB", "603367000000000016", holder);
    fixed["account_type"] = json!("fixed");
    assert_eq!(
        card_breaches(&app, &token, &id, fixed).await,
        [at("account_type", "account_type_not_supported")]
    );

    // Names the banks care about: a dotted name at BOC, a long one anywhere but CMB.
    let (status, _) = app
        .call(
            Method::PATCH,
            &format!("/v1/verifications/{id}"),
            Some(&token),
            Some(json!({"real_name": "伊万·彼得罗夫"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        card_breaches(
            &app,
            &token,
            &id,
            card("BOC", "6217850000000000013", "伊万・彼得罗夫")
        )
        .await,
        [at("bank", "bank_rejects_dots_in_name")]
    );
    let long = "Maximilian Alexander Johnson";
    let (status, _) = app
        .call(
            Method::PATCH,
            &format!("/v1/verifications/{id}"),
            Some(&token),
            Some(json!({"real_name": long})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, answer) = app
        .call(
            Method::PUT,
            &format!("/v1/verifications/{id}/bank_card"),
            Some(&token),
            Some(card("ICBC", CARD, long)),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        detail_codes(&answer),
        [at("bank", "name_too_long_for_bank")]
    );
    assert!(
        answer["error"]["details"][0]["message"]
            .as_str()
            .unwrap()
            .contains("China Merchants Bank")
    );
    assert!(
        answer["error"]["details"][0]["message_zh"]
            .as_str()
            .unwrap()
            .contains("招商银行")
    );
    let (status, _) = app
        .call(
            Method::PUT,
            &format!("/v1/verifications/{id}/bank_card"),
            Some(&token),
            Some(card("CMB", "6225880000000019", long)),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn images_are_judged_by_content_and_size() {
    let app = spawn_app().await;
    let token = app.register("images@example.com").await;
    let (_, created) = app
        .post("/v1/verifications", Some(&token), identity())
        .await;
    let id = created["id"].as_str().unwrap().to_owned();

    let (status, body) = app
        .upload(
            &token,
            &id,
            "passport_photo_page",
            b"GIF89a not allowed".to_vec(),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("document_image_unsupported")
        )
    );
    let mut pdf = b"%PDF-1.7\n".to_vec();
    pdf.extend_from_slice(&[b'x'; 100]);
    let (status, body) = app.upload(&token, &id, "passport_photo_page", pdf).await;
    assert_eq!(
        (status, body["content_type"].as_str()),
        (StatusCode::OK, Some("application/pdf")),
        "{body}"
    );
    let mut big = jpeg();
    big.resize(10 * 1024 * 1024 + 1, 0);
    let (status, body) = app.upload(&token, &id, "stay_permit", big).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            Some("document_image_too_large")
        )
    );
    let (status, _) = app.upload(&token, &id, "selfie", jpeg()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Submitting without the stay-permit image and without a card reports both.
    let (status, body) = app
        .post(
            &format!("/v1/verifications/{id}/submit"),
            Some(&token),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        detail_codes(&body),
        [
            ("bank_card".to_owned(), "field_required".to_owned()),
            (
                "images.stay_permit".to_owned(),
                "document_image_required".to_owned()
            )
        ]
    );
}

/// CONTRACT 2.3: the due diligence fields may wait in a draft, are required at submit, and are
/// answered back (the address masked).
#[tokio::test]
async fn the_due_diligence_fields_are_required_at_submit_only() {
    let app = spawn_app().await;
    let token = app.register("cdd@example.com").await;
    let mut body = identity();
    for field in ["sex", "occupation", "address", "pep"] {
        body.as_object_mut().map(|o| o.remove(field));
    }
    let id = app.ready_draft_with(&token, body, CARD).await;
    let (_, draft) = app
        .get(&format!("/v1/verifications/{id}"), Some(&token))
        .await;
    for field in ["sex", "occupation", "address", "pep"] {
        assert_eq!(draft[field], Value::Null, "{field}");
    }
    let (status, answer) = app
        .post(
            &format!("/v1/verifications/{id}/submit"),
            Some(&token),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(
        detail_codes(&answer),
        [
            ("sex".to_owned(), "sex_required".to_owned()),
            ("occupation".to_owned(), "occupation_required".to_owned()),
            ("address".to_owned(), "address_required".to_owned()),
            ("pep".to_owned(), "pep_declaration_required".to_owned()),
        ]
    );
    let (status, patched) = app
        .call(
            Method::PATCH,
            &format!("/v1/verifications/{id}"),
            Some(&token),
            Some(json!({
                "sex": "unspecified",
                "occupation": {"category": "other", "title": "Diving instructor"},
                "address": "北京市朝阳区建国路 88 号 1201 室",
                "pep": {"declared": true, "role": "My father, member of parliament until 2020"}
            })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(patched["sex"], "unspecified");
    assert_eq!(
        patched["occupation"],
        json!({"category": "other", "title": "Diving instructor"})
    );
    assert_eq!(patched["address"], "北京市朝阳区***");
    assert_eq!(patched["pep"]["declared"], true);
    // A later patch of another field keeps them.
    let (status, patched) = app
        .call(
            Method::PATCH,
            &format!("/v1/verifications/{id}"),
            Some(&token),
            Some(json!({"phone": "13900139000"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(patched["sex"], "unspecified");
    app.submit(&token, &id).await;
}
