//! Personal data goes when its retention runs out, or when a platform asks and no hold keeps
//! it (CONTRACT 11): the fields answer null everywhere, the status and its history stay, and
//! the sealed bytes are gone from the database files themselves.

use chrono::TimeDelta;
use realname_core::documents::ImageSlot;
use realname_core::platform::{KeyMode, Scope};
use realname_core::ports::SealContext;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;
use crate::pages::{Browser, upload};

/// Every sealed value the store holds of one kind, as (owner id, hex of the bytes).
fn sealed(app: &TestApp, table: &str, id_column: &str, column_name: &str) -> Vec<(String, String)> {
    let rows = db_column(
        app,
        &format!(
            "SELECT {id_column} || ':' || hex({column_name}) FROM {table}
             WHERE {column_name} IS NOT NULL AND length({column_name}) > 0"
        ),
        &format!(
            "SELECT {id_column}::text || ':' || encode({column_name}, 'hex') FROM {table}
             WHERE {column_name} IS NOT NULL AND length({column_name}) > 0"
        ),
    );
    rows.into_iter()
        .map(|r| {
            let (id, hex) = r.split_once(':').unwrap();
            (id.to_owned(), hex.to_lowercase())
        })
        .collect()
}

fn unhex(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

/// Whether any of the database's files (SQLite's and its write-ahead log), or a dump of it
/// (PostgreSQL), still holds one of these byte strings.
fn files_hold(app: &TestApp, values: &[Vec<u8>]) -> bool {
    let holds =
        |haystack: &[u8], needle: &[u8]| haystack.windows(needle.len()).any(|w| w == needle);
    match std::fs::read_to_string(app.dir.path().join("database_url")) {
        Ok(url) => {
            let dump = std::process::Command::new("pg_dump")
                .arg(url.trim())
                .output()
                .expect("pg_dump runs");
            assert!(
                dump.status.success(),
                "{}",
                String::from_utf8_lossy(&dump.stderr)
            );
            let text = String::from_utf8_lossy(&dump.stdout).to_lowercase();
            values.iter().any(|v| {
                let hex: String = v.iter().map(|b| format!("{b:02x}")).collect();
                text.contains(&hex)
            })
        }
        Err(_) => {
            // No checkpoint of the test's own: the service's after its erasure must do.
            let path = app.dir.path().join("realname.db");
            let files = [path.clone(), path.with_extension("db-wal")];
            files.iter().any(|f| {
                let bytes = std::fs::read(f).unwrap_or_default();
                values.iter().any(|v| holds(&bytes, v))
            })
        }
    }
}

/// Every sealed value the store holds under the application's own tables, opened with the
/// current keys and its own context: all open, and none is `erased`'s.
async fn every_sealed_value_opens_and_none_is(app: &TestApp, erased: &str) {
    let config = config(app.dir.path(), &[]);
    let parts = realname_server::App::parts(&config).await.expect("parts");
    let mut opened = 0;
    for (table, id_column, column_name) in [
        ("applications", "id", "form"),
        ("applications", "id", "card_sealed"),
        ("deposits", "application_id", "amount"),
        ("rail_transfers", "application_id", "instruction"),
    ] {
        for (owner, hex) in sealed(app, table, id_column, column_name) {
            assert_ne!(
                owner, erased,
                "{table}.{column_name} still holds a value of it"
            );
            let id = uuid::Uuid::parse_str(&owner).unwrap();
            let context = match column_name {
                "form" => SealContext::ApplicationForm(id),
                "card_sealed" => SealContext::ApplicationCard(id),
                "amount" => SealContext::DepositAmount(id),
                _ => SealContext::Transfer(id),
            };
            parts
                .vault
                .open(context, &unhex(&hex))
                .expect("every value opens under the current keys");
            opened += 1;
        }
    }
    for row in db_column(
        app,
        "SELECT application_id || ':' || slot || ':' || hex(sealed) FROM images",
        "SELECT application_id::text || ':' || slot || ':' || encode(sealed, 'hex') FROM images",
    ) {
        let mut parts_of = row.splitn(3, ':');
        let (owner, slot, hex) = (
            parts_of.next().unwrap(),
            parts_of.next().unwrap(),
            parts_of.next().unwrap().to_lowercase(),
        );
        assert_ne!(owner, erased, "an image of it is still stored");
        let context = SealContext::Image(
            ImageSlot::parse(slot).unwrap(),
            uuid::Uuid::parse_str(owner).unwrap(),
        );
        parts
            .vault
            .open(context, &unhex(&hex))
            .expect("the image opens");
        opened += 1;
    }
    assert!(opened > 0, "the other application's values were opened");
}

#[tokio::test]
async fn erasure_at_the_retention_boundary_leaves_nothing_behind() {
    let app = spawn_app().await;
    let key = platform_key(&app, &[Scope::EventsRead], KeyMode::Test).await;
    // A draft nobody goes on with: cancelled and erased after 30 days.
    let idler = app.register("idler@example.com").await;
    let idle = app.ready_draft(&idler, &card_number(7)).await;

    let token = app.register("forget-me@example.com").await;
    let id = app.ready_draft(&token, CARD).await;
    app.submit_and_settle(&token, &id).await;
    // Nobody confirms the amount: the deposit expires after 10 days, and the application fails.
    app.advance(10 * 86_400 + 60).await;
    let token = app.login("forget-me@example.com", PASSWORD).await;
    let failed = app.application(&token, &id).await;
    assert_eq!(failed["status"], "failed", "{failed}");
    assert_eq!(failed["redacted_at"], json!(null));
    let failed_at = time(&failed["updated_at"]);

    let values: Vec<Vec<u8>> = [
        sealed(&app, "applications", "id", "form"),
        sealed(&app, "applications", "id", "card_sealed"),
        sealed(&app, "deposits", "application_id", "amount"),
        sealed(&app, "images", "application_id", "sealed"),
    ]
    .into_iter()
    .flatten()
    .filter(|(owner, _)| *owner == id)
    .map(|(_, hex)| unhex(&hex))
    .collect();
    assert!(
        values.len() >= 5,
        "form, card, amount and two images are sealed"
    );
    assert!(
        files_hold(&app, &values),
        "the sealed values are in the files"
    );

    // Two seconds before 90 days are up (the clock reads whole seconds): kept.
    let boundary = failed_at + TimeDelta::days(90);
    app.advance_to(boundary - TimeDelta::seconds(2)).await;
    let token = app.login("forget-me@example.com", PASSWORD).await;
    let before = app.application(&token, &id).await;
    assert_eq!(before["redacted_at"], json!(null));
    assert_eq!(before["real_name"], "John Smith");
    // A second after: erased.
    app.advance_to(boundary + TimeDelta::seconds(1)).await;
    let after = app.application(&token, &id).await;
    assert!(after["redacted_at"].is_string(), "{after}");
    for field in [
        "real_name",
        "nationality",
        "date_of_birth",
        "phone",
        "bank_card",
    ] {
        assert_eq!(after[field], json!(null), "{field}: {after}");
    }
    assert_eq!(
        after["documents"],
        json!({"passport": null, "stay_permit": null})
    );
    assert_eq!(after["images"], json!([]));
    // What stays: the status, its history and the reason.
    assert_eq!(after["status"], "failed");
    assert_eq!(after["events"], before["events"]);
    assert_eq!(after["failure"], before["failure"]);
    // The pages say so, and show nothing of what went.
    let mut b = Browser::open(&app).await;
    let (status, _) = b
        .post(
            &app,
            "/login?lang=en",
            &[("login", "forget-me@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    for page in [
        format!("/verifications/{id}?lang=en"),
        "/account?lang=en".to_owned(),
    ] {
        let (status, html) = b.get(&app, &page).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(html.contains("Erased on"), "{page}: {html}");
        if page.starts_with("/account") {
            assert!(
                html.contains("Your personal data and photos are erased."),
                "{html}"
            );
        }
        assert!(
            !html.contains("John Smith") && !html.contains("0018"),
            "{page}: {html}"
        );
    }

    // The platform hears of it, once.
    let (status, feed) = app
        .get(
            &format!("/v1/events?verification_id={id}&type=verification.redacted"),
            Some(&key),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{feed}");
    assert_eq!(feed["events"].as_array().unwrap().len(), 1, "{feed}");
    assert_eq!(feed["events"][0]["data"]["status"], "failed");

    // Gone from the files (SQLite after its checkpoint; PostgreSQL's dump), and every value
    // still stored opens under the current keys and is someone else's.
    assert!(!files_hold(&app, &values), "erased bytes linger");
    let keeper = app.register("keeper@example.com").await;
    let kept = app.ready_draft(&keeper, &card_number(8)).await;
    every_sealed_value_opens_and_none_is(&app, &id).await;
    every_sealed_value_opens_and_none_is(&app, &idle).await;
    assert_eq!(
        app.application(&keeper, &kept).await["real_name"],
        "John Smith"
    );

    let idler = app.login("idler@example.com", PASSWORD).await;
    let idled = app.application(&idler, &idle).await;
    assert_eq!(idled["status"], "cancelled", "{idled}");
    assert!(idled["redacted_at"].is_string());
    assert_eq!(idled["real_name"], json!(null));
    assert_eq!(event_statuses(&idled), ["draft", "cancelled"]);
}

async fn decide(app: &TestApp, key: &str, id: &str, decision: Value) {
    let (status, body) = app
        .post(
            &format!("/v1/sandbox/verifications/{id}/review"),
            Some(key),
            decision,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

fn code(body: &Value) -> Option<&str> {
    body["error"]["code"].as_str()
}

#[tokio::test]
async fn a_platform_erases_what_no_hold_keeps_and_is_told_until_when_the_rest_is_held() {
    let app = spawn_app().await;
    let redactor = platform_key(
        &app,
        &[Scope::VerificationsRead, Scope::VerificationsRedact],
        KeyMode::Test,
    )
    .await;
    let reader = platform_key(&app, &[Scope::VerificationsRead], KeyMode::Test).await;
    let redact = |id: &str| format!("/v1/platform/verifications/{id}/redact");

    // Rejected for an unreadable document: failed, and no hold keeps it.
    let token = app.register("unreadable@example.com").await;
    let id = app.ready_draft(&token, CARD).await;
    let (status, body) = app.post(&redact(&id), Some(&redactor), json!({})).await;
    assert_eq!(
        (status, code(&body), &body["error"]["hold_until"]),
        (StatusCode::CONFLICT, Some("retention_hold"), &json!(null)),
        "a draft is in use: {body}"
    );
    app.to_review(&token, &id, CARD).await;
    let (status, body) = app.post(&redact(&id), Some(&redactor), json!({})).await;
    assert_eq!(
        (status, code(&body), &body["error"]["hold_until"]),
        (StatusCode::CONFLICT, Some("retention_hold"), &json!(null)),
        "under review: {body}"
    );
    decide(
        &app,
        &redactor,
        &id,
        json!({"outcome": "reject", "reason": "document_unreadable"}),
    )
    .await;
    let (status, body) = app.post(&redact(&id), Some(&reader), json!({})).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, Some("forbidden"))
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("verifications:redact")
    );
    let (status, body) = app
        .post(
            &redact(&uuid::Uuid::new_v4().to_string()),
            Some(&redactor),
            json!({}),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );

    let (status, body) = app.post(&redact(&id), Some(&redactor), json!({})).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(
        body,
        json!({"redaction": {"status": "done", "hold_until": null}})
    );
    let (status, again) = app.post(&redact(&id), Some(&redactor), json!({})).await;
    assert_eq!(
        (status, &again),
        (StatusCode::ACCEPTED, &body),
        "asking again changes nothing"
    );
    let (status, read) = app
        .get(&format!("/v1/platform/verifications/{id}"), Some(&reader))
        .await;
    assert_eq!(status, StatusCode::OK, "{read}");
    assert!(read["redacted_at"].is_string());
    assert_eq!(read["real_name"], json!(null));
    assert_eq!(read["bank_card"], json!(null));
    assert_eq!(read["failure"]["code"], "document_unreadable");

    // The reviewer's case says the same: null where the data was, the decision kept.
    let admin = app.staff("root", "admin").await;
    let (status, cases) = app
        .get("/v1/review/cases?status=decided&limit=100", Some(&admin))
        .await;
    assert_eq!(status, StatusCode::OK, "{cases}");
    let case = cases["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["verification_id"] == id.as_str())
        .expect("its case")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, shown) = app
        .get(&format!("/v1/review/cases/{case}"), Some(&admin))
        .await;
    assert_eq!(status, StatusCode::OK, "{shown}");
    assert_eq!(shown["application"]["real_name"], json!(null), "{shown}");
    assert_eq!(shown["application"]["phone"], json!(null));
    assert_eq!(shown["outcome"], "reject");
    let (status, _) = app
        .get(
            &format!("/v1/review/cases/{case}/documents/passport_photo_page"),
            Some(&admin),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "the image is gone");
    let (_, trail) = app
        .get(&format!("/v1/audit?verification_id={id}"), Some(&admin))
        .await;
    let erased = trail["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "erase")
        .expect("the erasure is audited");
    assert_eq!(erased["detail"]["api_key"], &redactor[..12]);

    // A fraud finding is held for five years from the rejection.
    let fraud_token = app.register("fraud@example.com").await;
    let mut person = identity();
    person["documents"]["passport"]["number"] = "F7654321".into();
    let fraud = app
        .ready_draft_with(&fraud_token, person, &card_number(3))
        .await;
    app.to_review(&fraud_token, &fraud, &card_number(3)).await;
    decide(
        &app,
        &redactor,
        &fraud,
        json!({"outcome": "reject", "reason": "suspected_fraud"}),
    )
    .await;
    let rejected = app.application(&fraud_token, &fraud).await;
    let (status, body) = app.post(&redact(&fraud), Some(&redactor), json!({})).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::CONFLICT, Some("retention_hold")),
        "{body}"
    );
    assert_eq!(
        time(&body["error"]["hold_until"]),
        time(&rejected["updated_at"]) + TimeDelta::days(1825),
        "{body}"
    );
    assert!(body["error"]["message_zh"].is_string());
    assert_eq!(
        app.application(&fraud_token, &fraud).await["real_name"],
        "John Smith",
        "held, not erased"
    );

    // A verified identity is held while the account is open: no date yet.
    let verified_token = app.register("verified@example.com").await;
    let mut person = identity();
    person["documents"]["passport"]["number"] = "V1234567".into();
    let verified = app
        .ready_draft_with(&verified_token, person, &card_number(4))
        .await;
    app.to_review(&verified_token, &verified, &card_number(4))
        .await;
    decide(&app, &redactor, &verified, json!({"outcome": "approve"})).await;
    let (status, body) = app
        .post(&redact(&verified), Some(&redactor), json!({}))
        .await;
    assert_eq!(
        (status, code(&body), &body["error"]["hold_until"]),
        (StatusCode::CONFLICT, Some("retention_hold"), &json!(null)),
        "{body}"
    );
}

/// A platform's user goes through the whole journey on the pages, to `under_review`.
pub(crate) async fn linked_user_to_review(
    app: &TestApp,
    key: &str,
    ext: &str,
) -> (Browser, String, String) {
    let (status, session) = app
        .post(
            "/v1/platform/sessions",
            Some(key),
            json!({"external_user_id": ext, "locale": "en"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{session}");
    let path = session["url"]
        .as_str()
        .unwrap()
        .strip_prefix(&app.base)
        .unwrap()
        .to_owned();
    let mut b = Browser::open(app).await;
    b.get(app, &path).await;
    let (status, to) = b.post(app, &path, &[]).await;
    assert_eq!(
        (status, to.as_str()),
        (StatusCode::SEE_OTHER, "/verifications/new")
    );
    let (status, to) = b
        .post(
            app,
            "/verifications/new",
            &[
                ("real_name", "John Smith"),
                ("nationality", "USA"),
                ("date_of_birth", "1990-05-17"),
                ("phone", "13800138000"),
                ("stay_kind", "entry_record"),
                ("entry_date", "2026-01-10"),
                ("passport_number", "L1234567"),
                ("passport_expiry", FAR_EXPIRY),
                ("consent", "true"),
                ("sex", "female"),
                ("occupation", "other"),
                ("occupation_title", "Diving instructor"),
                ("address", "Room 1201, 88 Jianguo Road, Chaoyang, Beijing"),
                ("pep", "no"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{to}");
    let id = to
        .trim_start_matches("/verifications/")
        .trim_end_matches("/documents")
        .to_owned();
    upload(&mut b, app, &id, &["passport_photo_page", "stay_permit"]).await;
    let card = card_number(5);
    let (status, to) = b
        .post(
            app,
            &format!("/verifications/{id}/bank_card"),
            &[
                ("bank", "ICBC"),
                ("card_number", card.as_str()),
                ("card_type", "savings"),
                ("account_type", "current"),
                ("account_name", "John Smith"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{to}");
    let (status, _) = b
        .post(app, &format!("/verifications/{id}/submit"), &[])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    app.advance(0).await;
    let amount = app.deposit_amount(&card).await;
    let (status, _) = b
        .post(
            app,
            &format!("/verifications/{id}/amount"),
            &[("amount", amount.as_str())],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    (b, id, session["id"].as_str().unwrap().to_owned())
}

async fn close(app: &TestApp, key: &str) -> (StatusCode, Value) {
    app.call(
        reqwest::Method::DELETE,
        "/v1/platform/users/ext-close",
        Some(key),
        None,
    )
    .await
}

#[tokio::test]
async fn closing_a_platform_user_starts_its_holds_and_frees_its_id() {
    let app = spawn_app().await;
    let key = platform_key(
        &app,
        &[
            Scope::SessionsWrite,
            Scope::VerificationsRead,
            Scope::VerificationsReadPii,
            Scope::VerificationsRedact,
        ],
        KeyMode::Test,
    )
    .await;
    let plain = platform_key(&app, &[], KeyMode::Test).await;
    let (mut browser, id, session) = linked_user_to_review(&app, &key, "ext-close").await;
    let (status, body) = close(&app, &plain).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, Some("forbidden"))
    );
    let (status, body) = close(&app, &key).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::CONFLICT, Some("application_in_progress")),
        "{body}"
    );
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("being verified"),
        "to a developer: {message}"
    );
    decide(&app, &key, &id, json!({"outcome": "approve"})).await;

    let (status, closed) = close(&app, &key).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{closed}");
    assert_eq!(closed["object"], "platform_user");
    assert_eq!(closed["external_user_id"], "ext-close");
    assert_eq!(closed["redaction"]["status"], "scheduled");
    let closed_at = time(&closed["closed_at"]);
    assert_eq!(
        time(&closed["redaction"]["hold_until"]),
        closed_at + TimeDelta::days(1825),
        "five years from the closure"
    );
    let (status, _) = close(&app, &key).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "closed already");
    let (status, body) = app
        .post(
            &format!("/v1/platform/verifications/{id}/redact"),
            Some(&key),
            json!({}),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::CONFLICT, Some("retention_hold"))
    );
    assert_eq!(
        time(&body["error"]["hold_until"]),
        closed_at + TimeDelta::days(1825)
    );

    // Its browser is signed out, and a new session for the id starts a new account.
    let (status, _) = browser.get(&app, "/account").await;
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "the closed account's session ended"
    );
    let (status, old_session) = app
        .get(&format!("/v1/platform/sessions/{session}"), Some(&key))
        .await;
    assert_eq!(status, StatusCode::OK, "{old_session}");
    assert_eq!(
        old_session["url"],
        json!(null),
        "no link into a closed account"
    );
    let (status, fresh) = app
        .post(
            "/v1/platform/sessions",
            Some(&key),
            json!({"external_user_id": "ext-close"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{fresh}");
    assert_eq!(fresh["real_name_status"], "unverified");
    assert_eq!(fresh["verification_id"], json!(null));

    // Five years and a second after the closure, the verified identity goes.
    let (status, read) = app
        .get(&format!("/v1/platform/verifications/{id}"), Some(&key))
        .await;
    assert_eq!(
        (status, &read["real_name"]),
        (StatusCode::OK, &json!("John Smith"))
    );
    app.advance_to(closed_at + TimeDelta::days(1825) + TimeDelta::seconds(1))
        .await;
    let (_, read) = app
        .get(&format!("/v1/platform/verifications/{id}"), Some(&key))
        .await;
    assert!(read["redacted_at"].is_string(), "{read}");
    assert_eq!(read["real_name"], json!(null));
    assert_eq!(read["status"], "verified", "the outcome stays");
    assert_eq!(read["external_user_id"], "ext-close");
}
