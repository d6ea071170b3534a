//! Customer due diligence: the approvals that need a second approver (CONTRACT 2.7, 14).

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

/// The id of the open application case of verification `id`.
async fn open_case(app: &TestApp, staff: &str, id: &str) -> String {
    let (_, queue) = app
        .get(
            "/v1/review/cases?status=open&kind=application&limit=100",
            Some(staff),
        )
        .await;
    queue["cases"]
        .as_array()
        .and_then(|cases| cases.iter().find(|c| c["verification_id"] == id))
        .and_then(|c| c["id"].as_str())
        .unwrap_or_else(|| panic!("no open case for {id}: {queue}"))
        .to_owned()
}

async fn approve(app: &TestApp, staff: &str, case: &str) -> (StatusCode, Value) {
    app.post(
        &format!("/v1/review/cases/{case}/decision"),
        Some(staff),
        json!({"outcome": "approve"}),
    )
    .await
}

/// An application of `identity` under review: the user's token, the id and its case.
async fn reviewed(app: &TestApp, login: &str, identity: Value, card: &str) -> (String, String) {
    let token = app.register(login).await;
    let id = app.ready_draft_with(&token, identity, card).await;
    app.to_review(&token, &id, card).await;
    (token, id)
}

/// The first approval of `case` by `staff`: the case awaits its second approval, the user
/// still sees `under_review`, and the first approver can take it no further.
async fn first_approval(app: &TestApp, staff: &str, token: &str, id: &str, case: &str) {
    assert_eq!(claim(app, staff, case).await.0, StatusCode::OK);
    let (status, first) = approve(app, staff, case).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["status"], "awaiting_second_approval");
    assert!(first["first_approval"]["by"].is_string(), "{first}");
    assert_eq!(app.application(token, id).await["status"], "under_review");
    let (_, queue) = app
        .get(
            "/v1/review/cases?status=awaiting_second_approval",
            Some(staff),
        )
        .await;
    assert!(
        queue["cases"]
            .as_array()
            .is_some_and(|cases| cases.iter().any(|c| c["id"] == case)),
        "{queue}"
    );
    for again in [
        claim(app, staff, case).await,
        approve(app, staff, case).await,
    ] {
        assert_eq!(again.0, StatusCode::FORBIDDEN);
        assert_eq!(again.1["error"]["code"], "second_approver_required");
    }
}

#[tokio::test]
async fn a_pep_approval_needs_a_reviewer_then_an_admin() {
    let app = spawn_app().await;
    let rita = app.staff("rita", "reviewer").await;
    let sam = app.staff("sam", "reviewer").await;
    let ada = app.staff("ada", "admin").await;
    let mut body = identity();
    body["pep"] = json!({"declared": true, "role": "My father, member of parliament until 2020"});
    let (token, id) = reviewed(&app, "pep@example.com", body, CARD).await;
    let case = open_case(&app, &rita, &id).await;
    first_approval(&app, &rita, &token, &id, &case).await;

    // Another reviewer may not give a PEP's second approval: it is an admin's.
    assert_eq!(claim(&app, &sam, &case).await.0, StatusCode::OK);
    let (status, refused) = approve(&app, &sam, &case).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
    assert_eq!(refused["error"]["code"], "forbidden");
    assert_eq!(app.application(&token, &id).await["status"], "under_review");

    // Once sam's claim lapses the admin takes it.
    app.advance(31 * 60).await;
    assert_eq!(claim(&app, &ada, &case).await.0, StatusCode::OK);
    let (status, done) = approve(&app, &ada, &case).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["status"], "decided");
    assert_eq!(app.application(&token, &id).await["status"], "verified");

    // Both approvers are in the audit log, each with their step.
    let (_, trail) = app
        .get(&format!("/v1/audit?verification_id={id}"), Some(&ada))
        .await;
    let decisions: Vec<(&str, &str)> = trail["entries"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["action"] == "decide")
        .map(|e| {
            (
                e["detail"]["step"].as_str().unwrap_or(""),
                e["detail"]["outcome"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(decisions.len(), 2, "{trail}");
    assert!(decisions.contains(&("first", "approve")), "{trail}");
    assert!(decisions.contains(&("second", "approve")), "{trail}");
    let first = trail["entries"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|e| e["detail"]["step"] == "first");
    assert_eq!(
        first.map(|e| e["detail"]["second_approval"].clone()),
        Some(json!("pep"))
    );
}

#[tokio::test]
async fn a_nationality_on_the_fatf_call_for_action_list_is_high_risk_and_needs_two() {
    let app = spawn_app().await;
    let rita = app.staff("rita", "reviewer").await;
    let sam = app.staff("sam", "reviewer").await;
    let ada = app.staff("ada", "admin").await;
    let mut body = identity();
    body["nationality"] = json!("PRK");
    let (token, id) = reviewed(&app, "prk@example.com", body, CARD).await;
    let case = open_case(&app, &rita, &id).await;
    // Graded when it reached review: the grade and its factors are on the case.
    let (_, detail) = app
        .get(&format!("/v1/review/cases/{case}"), Some(&rita))
        .await;
    let risk = &detail["risk"];
    assert_eq!(risk["grade"], "high", "{detail}");
    assert_eq!(risk["score"], 65);
    assert_eq!(risk["policy_version"], "2026-02-13");
    assert_eq!(risk["factors"][0]["code"], "fatf_call_for_action");
    assert_eq!(risk["factors"][0]["points"], 60);
    assert!(
        risk["factors"][0]["label_zh"]
            .as_str()
            .is_some_and(|l| l.contains("FATF"))
    );
    assert_eq!(risk["factors"][1]["code"], "proof_of_stay");
    assert!(risk["graded_at"].is_string());
    assert!(
        risk["next_review_at"].is_string(),
        "high is reviewed every 182 days"
    );
    first_approval(&app, &rita, &token, &id, &case).await;
    let (_, trail) = app
        .get(&format!("/v1/audit?verification_id={id}"), Some(&ada))
        .await;
    let first = trail["entries"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|e| e["detail"]["step"] == "first")
        .cloned()
        .unwrap_or_default();
    assert_eq!(first["detail"]["second_approval"], "high_risk");
    assert_eq!(first["detail"]["risk"]["grade"], "high");
    // 60 for the nationality, 5 for an entry record as the only proof of stay.
    assert_eq!(first["detail"]["risk"]["score"], 65);
    // Any other staff member gives a high grade's second approval.
    assert_eq!(claim(&app, &sam, &case).await.0, StatusCode::OK);
    let (status, done) = approve(&app, &sam, &case).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(app.application(&token, &id).await["status"], "verified");
}

#[tokio::test]
async fn the_sample_and_the_all_setting_send_ordinary_approvals_to_a_second_approver() {
    // A share of 1 samples every approval; "all" asks for two whatever the share.
    for extra in [
        [
            ("review.second_approval_sample", "1"),
            ("review.second_approval", "risk"),
        ],
        [
            ("review.second_approval_sample", "0"),
            ("review.second_approval", "all"),
        ],
    ] {
        let app = spawn_with(&extra).await;
        let rita = app.staff("rita", "reviewer").await;
        let sam = app.staff("sam", "reviewer").await;
        let (token, id) = reviewed(&app, "plain@example.com", identity(), CARD).await;
        let case = open_case(&app, &rita, &id).await;
        first_approval(&app, &rita, &token, &id, &case).await;
        assert_eq!(claim(&app, &sam, &case).await.0, StatusCode::OK);
        let (status, done) = approve(&app, &sam, &case).await;
        assert_eq!(status, StatusCode::OK, "{done}");
        assert_eq!(app.application(&token, &id).await["status"], "verified");
    }
    // With neither, an ordinary approval verifies at once (the other tests' setting).
    let app = spawn_app().await;
    let rita = app.staff("rita", "reviewer").await;
    let (token, id) = reviewed(&app, "one@example.com", identity(), CARD).await;
    let case = open_case(&app, &rita, &id).await;
    assert_eq!(claim(&app, &rita, &case).await.0, StatusCode::OK);
    assert_eq!(approve(&app, &rita, &case).await.1["status"], "decided");
    assert_eq!(app.application(&token, &id).await["status"], "verified");
}

#[tokio::test]
async fn a_bad_second_approval_setting_is_refused_at_start() {
    let flags = [
        ("listen", "127.0.0.1:0".to_owned()),
        ("review.second_approval", "most".to_owned()),
    ];
    let refused = realname_server::config::Config::load(None, |_| None, &flags)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        refused.starts_with("config: review.second_approval:"),
        "{refused}"
    );
}

#[tokio::test]
async fn the_platform_reads_its_users_grade() {
    let app = spawn_app().await;
    let key = platform_key(&app, &[], realname_core::platform::KeyMode::Test).await;
    let (_, id, _) = crate::erasure::linked_user_to_review(&app, &key, "ext-risk").await;
    app.sandbox_approve(&key, &id).await;
    let (_, user) = app.get("/v1/platform/users/ext-risk", Some(&key)).await;
    // An entry record scores 5 points: low, reviewed at renewal rather than periodically.
    assert_eq!(
        user["risk"],
        json!({"grade": "low", "next_review_at": null}),
        "{user}"
    );
}

#[tokio::test]
async fn a_high_risk_customer_is_reviewed_182_days_after_verification() {
    let app = spawn_app().await;
    let rita = app.staff("rita", "reviewer").await;
    let sam = app.staff("sam", "reviewer").await;
    let mut body = identity();
    body["nationality"] = json!("IRN");
    let (token, id) = reviewed(&app, "irn@example.com", body, CARD).await;
    let case = open_case(&app, &rita, &id).await;
    first_approval(&app, &rita, &token, &id, &case).await;
    assert_eq!(claim(&app, &sam, &case).await.0, StatusCode::OK);
    assert_eq!(approve(&app, &sam, &case).await.0, StatusCode::OK);
    assert_eq!(app.application(&token, &id).await["status"], "verified");

    app.advance(181 * 86_400).await;
    // Sessions lapse on the sandbox clock too: sign in again after each leap.
    let rita = app.staff_login("rita").await;
    assert!(periodic(&app, &rita).await.is_empty(), "not due yet");
    app.advance(86_400 + 60).await;
    let rita = app.staff_login("rita").await;
    let due = periodic(&app, &rita).await;
    assert_eq!(due.len(), 1, "{due:?}");
    assert_eq!(due[0]["verification_id"], id.as_str());
    assert_eq!(due[0]["kind"], "periodic");
    // Opened once, however often the service looks.
    app.advance(60).await;
    assert_eq!(periodic(&app, &rita).await.len(), 1);

    let review = due[0]["id"].as_str().unwrap_or_default().to_owned();
    assert_eq!(claim(&app, &rita, &review).await.0, StatusCode::OK);
    // The case page: the grade with its factors, and approval as the only decision.
    let mut page = crate::pages::Browser::open(&app).await;
    let code = app.totp("rita").await;
    let (status, _) = page
        .post(
            &app,
            "/login?lang=en",
            &[("login", "rita"), ("password", PASSWORD), ("totp", &code)],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, html) = page.get(&app, &format!("/review/cases/{review}")).await;
    assert!(
        html.contains("High: 65 points") && html.contains("call for action: 60 points"),
        "{html}"
    );
    assert!(
        html.contains("keeps their risk grade") && !html.contains(r#"name="reason""#),
        "{html}"
    );
    let (status, refused) = app
        .post(
            &format!("/v1/review/cases/{review}/decision"),
            Some(&rita),
            json!({"outcome": "reject", "reason": "other", "note": "x"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    let (status, done) = approve(&app, &rita, &review).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["status"], "decided");
    let token = app.login("irn@example.com", PASSWORD).await;
    assert_eq!(app.application(&token, &id).await["status"], "verified");
    // Graded again: the next review is 182 days from this one.
    let (_, detail) = app
        .get(&format!("/v1/review/cases/{review}"), Some(&rita))
        .await;
    let graded = detail["risk"]["graded_at"].as_str().unwrap_or_default();
    let next = detail["risk"]["next_review_at"]
        .as_str()
        .unwrap_or_default();
    let days = chrono::DateTime::parse_from_rfc3339(next)
        .ok()
        .zip(chrono::DateTime::parse_from_rfc3339(graded).ok())
        .map(|(n, g)| (n - g).num_days());
    assert_eq!(days, Some(182), "{detail}");
    assert!(periodic(&app, &rita).await.is_empty());
}

/// The open periodic reviews.
async fn periodic(app: &TestApp, staff: &str) -> Vec<Value> {
    let (status, queue) = app
        .get("/v1/review/cases?status=open&kind=periodic", Some(staff))
        .await;
    assert_eq!(status, StatusCode::OK, "{queue}");
    queue["cases"].as_array().cloned().unwrap_or_default()
}
