//! List screening at submit (CONTRACT 12): a potential match holds the payout without the
//! user seeing anything of it; a screening case in the queue; dismissal (remembered) and
//! confirmation by two staff members.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

/// A listed person of a national list, as an applicant would give their identity.
const LISTED: &str = r#"{"id":"mps-7","names":["Karl Heinz OSTERMANN"],"name_zh":null,"date_of_birth":"1970-03-04","nationality":"DEU","documents":[],"listed_on":"2026-01-05","note":"test entry"}"#;

fn listed_identity(passport: &str) -> Value {
    let mut person = identity();
    person["real_name"] = json!("Karl Heinz Ostermann");
    person["nationality"] = json!("DEU");
    person["date_of_birth"] = json!("1970-03-04");
    person["documents"]["passport"]["number"] = json!(passport);
    person
}

/// Puts a version of `national:mps` in force in the store of `dir`, as `realname screening
/// import` does, beside a running service or before one starts.
async fn import_mps_in(dir: &std::path::Path, lines: &str) {
    let opened = realname_server::open_store(&config(dir, &[]))
        .await
        .unwrap();
    realname_app::screening::import(
        opened.store.as_ref(),
        &realname_screening::Source::parse("national:mps").unwrap(),
        &[realname_screening::ListFile {
            name: "mps.jsonl",
            bytes: lines.as_bytes(),
        }],
        lists_imported_at(),
    )
    .await
    .unwrap();
}

/// A service over a store that holds the national list `national:mps`.
async fn with_list() -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    new_database_in(dir.path()).await;
    import_mps_in(dir.path(), LISTED).await;
    start_in(dir, &[]).await
}

/// A draft of the listed person's identity, its images and a card in that name.
async fn listed_draft(app: &TestApp, token: &str, passport: &str, card: &str) -> String {
    let (status, created) = app
        .post("/v1/verifications", Some(token), listed_identity(passport))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    for slot in ["passport_photo_page", "stay_permit"] {
        assert_eq!(app.upload(token, &id, slot, jpeg()).await.0, StatusCode::OK);
    }
    let (status, body) = app
        .call(
            reqwest::Method::PUT,
            &format!("/v1/verifications/{id}/bank_card"),
            Some(token),
            Some(bank_card(card, "Karl Heinz Ostermann")),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    id
}

async fn screening_case(app: &TestApp, staff: &str, id: &str, status: &str) -> Option<Value> {
    let (code, page) = app
        .get(
            &format!("/v1/review/cases?kind=screening&status={status}"),
            Some(staff),
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{page}");
    page["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["verification_id"] == id)
        .cloned()
}

async fn decide(app: &TestApp, staff: &str, case: &str, body: Value) -> (StatusCode, Value) {
    app.post(
        &format!("/v1/review/cases/{case}/screening_decision"),
        Some(staff),
        body,
    )
    .await
}

fn no_word_of_lists(body: &Value) {
    let text = body.to_string().to_lowercase();
    for word in [
        "screening",
        "sanction",
        "list",
        "ofac",
        "potential_match",
        "名单",
    ] {
        assert!(!text.contains(word), "{word} in {text}");
    }
}

#[tokio::test]
async fn a_potential_match_holds_the_payout_unseen_until_dismissed_and_is_remembered() {
    let app = with_list().await;
    let rita = app.staff("rita", "reviewer").await;
    let token = app.register("karl@example.com").await;
    let card = card_number(71);
    let id = listed_draft(&app, &token, "C01X00T47", &card).await;
    app.submit(&token, &id).await;
    app.advance(0).await;
    // The user sees what anyone sees after submitting; nothing was paid.
    let seen = app.application(&token, &id).await;
    assert_eq!(seen["status"], "deposit_pending");
    no_word_of_lists(&seen);
    let (_, me) = app.get("/v1/me", Some(&token)).await;
    assert_eq!(me["real_name_status"], "pending");
    no_word_of_lists(&me);
    assert!(
        app.statement(&card).await.is_empty(),
        "no payout while held"
    );
    // Nor do the user's pages say a word of it.
    let mut browser = crate::pages::Browser::open(&app).await;
    let (status, _) = browser
        .post(
            &app,
            "/login?lang=en",
            &[("login", "karl@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    for (path, lang) in [
        (format!("/verifications/{id}"), "en"),
        (format!("/verifications/{id}"), "zh"),
        ("/account".to_owned(), "en"),
    ] {
        let (status, html) = browser.get(&app, &format!("{path}?lang={lang}")).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        let text = html.to_lowercase();
        for word in ["screening", "sanction", "ofac", "watchlist", "名单", "筛查"] {
            assert!(!text.contains(word), "{word} on {path}");
        }
    }

    let case = screening_case(&app, &rita, &id, "open")
        .await
        .expect("a screening case");
    assert_eq!(case["kind"], "screening");
    for bad in ["", "renewal_x"] {
        let (code, _) = app
            .get(&format!("/v1/review/cases?kind={bad}"), Some(&rita))
            .await;
        assert_eq!(code, StatusCode::BAD_REQUEST, "kind={bad}");
    }
    let case_id = case["id"].as_str().unwrap().to_owned();
    assert_eq!(claim(&app, &rita, &case_id).await.0, StatusCode::OK);
    let (_, detail) = app
        .get(&format!("/v1/review/cases/{case_id}"), Some(&rita))
        .await;
    let hit = &detail["screening"]["hits"][0];
    assert_eq!(hit["source"], "national:mps");
    assert_eq!(hit["entry_id"], "mps-7");
    assert_eq!(hit["action"], "hold");
    assert_eq!(
        hit["matched"],
        json!(["name", "date_of_birth", "nationality"])
    );
    assert_eq!(detail["application"]["real_name"], "Karl Heinz Ostermann");

    // A dismissal says why; an outcome the API does not take is refused.
    let (code, body) = decide(&app, &rita, &case_id, json!({"outcome": "dismiss"})).await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        detail_codes(&body),
        [("note".into(), "screening_note_required".into())]
    );
    let (code, _) = decide(&app, &rita, &case_id, json!({"outcome": "maybe"})).await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY);
    let (code, decided) = decide(
        &app,
        &rita,
        &case_id,
        json!({"outcome": "dismiss", "note": "born in another town; not the listed person"}),
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{decided}");
    assert_eq!(decided["status"], "decided");
    assert_eq!(decided["outcome"], "dismiss");
    // The hold is gone: the payout goes out and the journey goes on.
    app.advance(0).await;
    assert_eq!(app.statement(&card).await.len(), 1);
    assert_eq!(
        app.application(&token, &id).await["status"],
        "awaiting_amount"
    );

    // The same identity again (another account): the dismissed hit is not raised again.
    let other = app.register("karl2@example.com").await;
    let card2 = card_number(72);
    let second = listed_draft(&app, &other, "C01X00T47", &card2).await;
    app.submit(&other, &second).await;
    app.advance(0).await;
    assert_eq!(app.statement(&card2).await.len(), 1, "paid at once");
    assert!(screening_case(&app, &rita, &second, "open").await.is_none());
}

#[tokio::test]
async fn a_confirmation_takes_two_staff_members_and_ends_in_a_neutral_failure() {
    let app = with_list().await;
    let rita = app.staff("rita", "reviewer").await;
    let sam = app.staff("sam", "reviewer").await;
    let key = platform_key(&app, &[], realname_core::platform::KeyMode::Test).await;
    let token = app.register("karl@example.com").await;
    let card = card_number(73);
    let id = listed_draft(&app, &token, "C01X00T48", &card).await;
    app.submit(&token, &id).await;
    let case = screening_case(&app, &rita, &id, "open").await.unwrap();
    let case_id = case["id"].as_str().unwrap().to_owned();

    claim(&app, &rita, &case_id).await;
    let (code, first) = decide(
        &app,
        &rita,
        &case_id,
        json!({"outcome": "confirm", "report_reference": "STR-2026-0042"}),
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{first}");
    assert_eq!(first["status"], "awaiting_second_approval");
    assert!(first["first_approval"]["by"].is_string());
    assert!(
        screening_case(&app, &rita, &id, "awaiting_second_approval")
            .await
            .is_some()
    );
    // The first approver cannot be the second.
    let (code, body) = claim(&app, &rita, &case_id).await;
    assert_eq!(code, StatusCode::FORBIDDEN);
    assert_eq!(body["error"]["code"], "second_approver_required");
    assert_eq!(
        app.application(&token, &id).await["status"],
        "deposit_pending"
    );

    assert_eq!(claim(&app, &sam, &case_id).await.0, StatusCode::OK);
    let (code, done) = decide(&app, &sam, &case_id, json!({"outcome": "confirm"})).await;
    assert_eq!(code, StatusCode::OK, "{done}");
    assert_eq!(done["outcome"], "confirm");
    let (_, detail) = app
        .get(&format!("/v1/review/cases/{case_id}"), Some(&sam))
        .await;
    assert_eq!(detail["screening"]["report_reference"], "STR-2026-0042");

    let failed = app.application(&token, &id).await;
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["failure"]["code"], "not_eligible");
    assert_eq!(failed["failure"]["can_retry"], false);
    no_word_of_lists(&failed);
    assert!(app.statement(&card).await.is_empty(), "never paid");
    let (code, _) = app
        .post(
            "/v1/verifications",
            Some(&token),
            listed_identity("C01X00T48"),
        )
        .await;
    assert_eq!(code, StatusCode::FORBIDDEN, "no new application");

    // The platform's feed: the potential match, its confirmation, the failure; thin.
    let (_, feed) = app
        .get(&format!("/v1/events?verification_id={id}"), Some(&key))
        .await;
    let types: Vec<&str> = feed["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    for t in [
        "screening.potential_match",
        "screening.confirmed",
        "verification.failed",
    ] {
        assert!(types.contains(&t), "{t} in {types:?}");
    }
    let confirmed = feed["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "screening.confirmed")
        .unwrap();
    assert_eq!(confirmed["data"]["object"], "screening");
    assert_eq!(
        confirmed["data"]["list_versions"][0]["source"],
        "national:mps"
    );
    assert!(!confirmed.to_string().contains("Ostermann"));
}

async fn import_mps(app: &TestApp, lines: &str) {
    import_mps_in(app.dir.path(), lines).await;
}

/// John Smith of the helpers' identity, listed.
const JOHN: &str =
    r#"{"id":"mps-9","names":["SMITH, John"],"date_of_birth":"1990-05-17","nationality":"USA"}"#;
const SOMEONE_ELSE: &str =
    r#"{"id":"mps-1","names":["Somebody Else Entirely"],"date_of_birth":"1950"}"#;

#[tokio::test]
async fn a_new_version_reaches_the_verified_and_delisting_lets_an_admin_lift_the_suspension() {
    let app = with_list().await;
    let rita = app.staff("rita", "reviewer").await;
    let sam = app.staff("sam", "reviewer").await;
    let ada = app.staff("ada", "admin").await;
    let compliance = platform_key(
        &app,
        &[
            realname_core::platform::Scope::VerificationsRead,
            realname_core::platform::Scope::ScreeningRead,
            realname_core::platform::Scope::EventsRead,
        ],
        realname_core::platform::KeyMode::Test,
    )
    .await;
    let token = app.register("john@example.com").await;
    let id = app.verified(&token, &card_number(81)).await;

    // The list changes: John is listed now. The re-screening finds him; he sees nothing.
    import_mps(&app, &format!("{LISTED}\n{JOHN}\n")).await;
    app.advance(0).await;
    let case = screening_case(&app, &rita, &id, "open")
        .await
        .expect("a screening case");
    let case_id = case["id"].as_str().unwrap().to_owned();
    let (_, me) = app.get("/v1/me", Some(&token)).await;
    assert_eq!(me["real_name_status"], "verified");
    no_word_of_lists(&me);
    // The hit counts in his grade (CONTRACT 14): low before, medium now; the platform is told.
    let (_, feed) = app
        .get(
            &format!("/v1/events?verification_id={id}"),
            Some(&compliance),
        )
        .await;
    let changed = feed["events"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|e| e["type"] == "verification.risk_changed");
    assert!(changed.is_some(), "{feed}");
    let (_, detail) = app
        .get(&format!("/v1/review/cases/{case_id}"), Some(&rita))
        .await;
    assert_eq!(detail["risk"]["grade"], "medium", "{detail}");

    claim(&app, &rita, &case_id).await;
    decide(&app, &rita, &case_id, json!({"outcome": "confirm"})).await;
    claim(&app, &sam, &case_id).await;
    let (code, body) = decide(&app, &sam, &case_id, json!({"outcome": "confirm"})).await;
    assert_eq!(code, StatusCode::OK, "{body}");
    let (_, me) = app.get("/v1/me", Some(&token)).await;
    assert_eq!(me["real_name_status"], "suspended");
    let suspended = app.application(&token, &id).await;
    assert_eq!(suspended["status"], "suspended");
    no_word_of_lists(&suspended);

    // Delisted: the case reopens; only an admin lifts it.
    import_mps(&app, &format!("{LISTED}\n{SOMEONE_ELSE}\n")).await;
    app.advance(0).await;
    let reopened = screening_case(&app, &rita, &id, "delisted")
        .await
        .expect("reopened");
    assert_eq!(reopened["status"], "delisted");
    claim(&app, &rita, &case_id).await;
    let (code, _) = decide(&app, &rita, &case_id, json!({"outcome": "lift"})).await;
    assert_eq!(code, StatusCode::FORBIDDEN);
    assert_eq!(
        claim(&app, &ada, &case_id).await.0,
        StatusCode::CONFLICT,
        "rita holds it"
    );
    app.advance(31 * 60).await;
    assert_eq!(claim(&app, &ada, &case_id).await.0, StatusCode::OK);
    let (code, body) = decide(&app, &ada, &case_id, json!({"outcome": "lift"})).await;
    assert_eq!(code, StatusCode::OK, "{body}");
    let (_, me) = app.get("/v1/me", Some(&token)).await;
    assert_eq!(me["real_name_status"], "verified");

    let (_, feed) = app
        .get(
            &format!("/v1/events?verification_id={id}&limit=100"),
            Some(&compliance),
        )
        .await;
    let types: Vec<&str> = feed["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    for t in [
        "screening.potential_match",
        "screening.confirmed",
        "verification.suspended",
        "screening.delisted",
        "verification.reinstated",
    ] {
        assert!(types.contains(&t), "{t} in {types:?}");
    }
    let (_, user) = app
        .get("/v1/platform/users/none-such", Some(&compliance))
        .await;
    assert_eq!(user["error"]["code"], "not_found");
}
