//! Bad input of every kind gets a 4xx with the error body, never a 500.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test]
async fn malformed_bodies_wrong_types_and_oversized_bodies() {
    let app = spawn_app().await;
    let token = app.register("bad@example.com").await;
    let send = |body: &'static str| {
        app.client
            .post(app.url("/v1/verifications"))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    for body in [
        "{bad",
        "",
        "[]",
        "null",
        "{\"real_name\": 5}",
        "{\"documents\": \"passport\"}",
        "{\"consent\": \"yes\"}",
    ] {
        let (status, answer) = read(send(body).await.unwrap()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
        assert_eq!(answer["error"]["code"], "malformed_request");
        assert!(answer["error"]["message_zh"].as_str().is_some());
    }
    let res = app
        .client
        .post(app.url("/v1/verifications"))
        .bearer_auth(&token)
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST, "no content type");

    let huge = format!("{{\"real_name\": \"{}\"}}", "x".repeat(100_000));
    let res = app
        .client
        .post(app.url("/v1/verifications"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    let (status, answer) = read(res).await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("payload_too_large"))
    );

    let (status, answer) = app.get("/v1/verifications/not-an-id", Some(&token)).await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    let (status, answer) = app.get("/v1/nothing-here", None).await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    let (status, answer) = app
        .call(Method::DELETE, "/v1/verifications", Some(&token), None)
        .await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (StatusCode::METHOD_NOT_ALLOWED, Some("malformed_request"))
    );
    let (status, answer) = app
        .get("/v1/sandbox/bank/statement?card_number=12", None)
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let app = spawn_app().await;
    for path in ["/healthz", "/readyz", "/v1/me", "/v1/nothing"] {
        let res = app.client.get(app.url(path)).send().await.unwrap();
        let id = res
            .headers()
            .get("x-request-id")
            .map(|v| v.to_str().unwrap().to_owned());
        assert!(id.is_some_and(|id| id.len() >= 32), "{path}");
    }
    let (status, body) = app.get("/readyz", None).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::OK, Some("ready"))
    );
}

#[tokio::test]
async fn idempotency_keys_replay_the_first_answer() {
    let app = spawn_app().await;
    let token = app.register("idem@example.com").await;
    let post = |key: &str, body: serde_json::Value| {
        app.client
            .post(app.url("/v1/verifications"))
            .bearer_auth(&token)
            .header("idempotency-key", key)
            .json(&body)
            .send()
    };
    let (first_status, first) = read(post("k-1", identity()).await.unwrap()).await;
    assert_eq!(first_status, StatusCode::CREATED);
    let replay = post("k-1", identity()).await.unwrap();
    assert_eq!(replay.headers()["idempotent-replayed"], "true");
    let (status, again) = read(replay).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(
        again["id"], first["id"],
        "the same application, not a second one"
    );
    let (_, list) = app.get("/v1/verifications", Some(&token)).await;
    assert_eq!(list["verifications"].as_array().unwrap().len(), 1);

    let mut other = identity();
    other["phone"] = json!("13900139000");
    let (status, body) = read(post("k-1", other).await.unwrap()).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("idempotency_key_reused")
        )
    );

    // Keys are per account: another user's same key is a new request.
    let token2 = app.register("idem2@example.com").await;
    let res = app
        .client
        .post(app.url("/v1/verifications"))
        .bearer_auth(&token2)
        .header("idempotency-key", "k-1")
        .json(&identity())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn the_openapi_document_describes_every_route() {
    let app = spawn_app().await;
    let (status, doc) = app.get("/v1/openapi.json", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for path in [
        "/v1/accounts",
        "/v1/sessions",
        "/v1/sessions/current",
        "/v1/me",
        "/v1/verifications",
        "/v1/verifications/{id}",
        "/v1/verifications/{id}/documents/{slot}",
        "/v1/verifications/{id}/bank_card",
        "/v1/verifications/{id}/submit",
        "/v1/verifications/{id}/deposit_confirmation",
        "/v1/verifications/{id}/cancel",
        "/v1/review/cases",
        "/v1/review/cases/{id}",
        "/v1/review/cases/{id}/documents/{slot}",
        "/v1/review/cases/{id}/claim",
        "/v1/review/cases/{id}/decision",
        "/v1/audit",
        "/v1/sandbox/bank/statement",
        "/v1/sandbox/clock/advance",
        "/healthz",
        "/readyz",
    ] {
        assert!(
            paths.contains_key(path),
            "{path} missing from the OpenAPI document"
        );
    }
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    assert!(schemas.contains_key("ApplicationForm") && schemas.contains_key("BankCardForm"));
    // What generators and linters need (CONTRACT 4): one scheme per kind of caller, each
    // operation with a unique id, a summary, a tag and its callers; servers; the webhooks.
    for scheme in ["userSession", "staffSession", "platformKey"] {
        assert!(
            doc["components"]["securitySchemes"][scheme].is_object(),
            "{scheme}"
        );
    }
    let mut ids = std::collections::BTreeSet::new();
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"].as_str().unwrap_or_default();
            assert!(
                ids.insert(id.to_owned()),
                "{method} {path}: operationId {id:?} twice"
            );
            assert!(op["summary"].is_string(), "{method} {path}: no summary");
            assert!(op["tags"][0].is_string(), "{method} {path}: no tag");
            assert!(op["security"].is_array(), "{method} {path}: no security");
        }
    }
    assert_eq!(
        paths["/v1/webhook_endpoints"]["post"]["security"],
        json!([{"platformKey": ["webhooks:manage"]}])
    );
    assert_eq!(paths["/v1/accounts"]["post"]["security"], json!([]));
    assert_eq!(doc["servers"][0]["url"].as_str(), Some(app.base.as_str()));
    let hooks = doc["webhooks"].as_object().unwrap();
    for event in [
        "verification.verified",
        "verification.renewal_due",
        "screening.confirmed",
    ] {
        assert!(hooks.contains_key(event), "{event} missing from webhooks");
    }
}

/// The sandbox clock ends sessions and deposits for everybody: only an admin or a test key
/// moves it, a step at a time and never past ten years ahead, so no stored date overflows.
#[tokio::test]
async fn only_an_admin_or_a_test_key_moves_the_sandbox_clock_and_not_too_far() {
    use realname_core::platform::KeyMode;
    let app = spawn_app().await;
    let path = "/v1/sandbox/clock/advance";
    let code = |answer: &Value| answer["error"]["code"].as_str().map(str::to_owned);
    let (status, _) = app.post(path, None, json!({"seconds": 60})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a stranger");
    let user = app.register("anna@example.com").await;
    let reviewer = app.staff("rita", "reviewer").await;
    for token in [&user, &reviewer] {
        let (status, answer) = app.post(path, Some(token), json!({"seconds": 60})).await;
        assert_eq!(
            (status, code(&answer).as_deref()),
            (StatusCode::FORBIDDEN, Some("forbidden"))
        );
    }
    let live = platform_key(&app, &[], KeyMode::Live).await;
    let (status, answer) = app.post(path, Some(&live), json!({"seconds": 0})).await;
    assert_eq!(
        (status, code(&answer).as_deref()),
        (StatusCode::FORBIDDEN, Some("key_mode_mismatch"))
    );
    let admin = app.staff("ada", "admin").await;
    let (status, answer) = app.post(path, Some(&admin), json!({"seconds": 0})).await;
    assert_eq!(status, StatusCode::OK, "{answer}");

    let test = platform_key(&app, &[], KeyMode::Test).await;
    for (seconds, expected) in [
        (json!(-5), StatusCode::UNPROCESSABLE_ENTITY),
        (json!(315_360_001), StatusCode::UNPROCESSABLE_ENTITY),
        (json!(u64::MAX), StatusCode::UNPROCESSABLE_ENTITY),
        (json!("60"), StatusCode::BAD_REQUEST),
        (json!(1.5), StatusCode::BAD_REQUEST),
    ] {
        let (status, answer) = app
            .post(path, Some(&test), json!({"seconds": seconds}))
            .await;
        assert_eq!(status, expected, "{seconds}: {answer}");
        if status == StatusCode::UNPROCESSABLE_ENTITY {
            assert_eq!(
                detail_codes(&answer),
                [(
                    "seconds".to_owned(),
                    "sandbox_clock_out_of_range".to_owned()
                )]
            );
        }
    }
    // Ten years in one step, and then not a second more, however it is asked.
    let (status, answer) = app
        .post(path, Some(&test), json!({"seconds": 315_360_000}))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let (status, answer) = app.post(path, Some(&test), json!({"seconds": 1})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    // The service still works at the far end: sessions made then are sound.
    let (status, answer) = app
        .post(
            "/v1/sessions",
            None,
            json!({"login": "anna@example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let (status, me) = app.get("/v1/me", answer["token"].as_str()).await;
    assert_eq!(status, StatusCode::OK, "{me}");
}

/// What the database holds of the service's files, on SQLite: the database and its WAL.
fn database_bytes(app: &TestApp) -> Vec<u8> {
    let mut all = Vec::new();
    for name in ["realname.db", "realname.db-wal"] {
        if let Ok(bytes) = std::fs::read(app.dir.path().join(name)) {
            all.extend(bytes);
        }
    }
    all
}

fn holds(haystack: &[u8], needle: &str) -> bool {
    let needle = needle.to_ascii_lowercase();
    haystack
        .to_ascii_lowercase()
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// Answers kept for replays are sealed under the data key: neither the real name in a kept
/// application nor a session token is in the database in plain text, and a replay is the
/// first answer again, with its headers.
#[tokio::test]
async fn kept_answers_are_sealed_and_replayed_with_their_headers() {
    let app = spawn_app().await;
    app.register("sealed@example.com").await;
    let login = json!({"login": "sealed@example.com", "password": PASSWORD});
    let signed_in = |key: &'static str| {
        app.client
            .post(app.url("/v1/sessions"))
            .header("idempotency-key", key)
            .json(&login)
            .send()
    };
    let (status, first) = read(signed_in("login-1").await.unwrap()).await;
    assert_eq!(status, StatusCode::CREATED);
    let token = first["token"].as_str().unwrap().to_owned();
    let replayed = signed_in("login-1").await.unwrap();
    assert_eq!(replayed.headers()["idempotent-replayed"], "true");
    let (status, again) = read(replayed).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(
        again["token"],
        Value::Null,
        "a replay never hands a token out"
    );
    assert_eq!(again["expires_at"], first["expires_at"]);

    let mut identity = identity();
    identity["real_name"] = json!("Zebulon Quaxford");
    let create = || {
        app.client
            .post(app.url("/v1/verifications"))
            .bearer_auth(&token)
            .header("idempotency-key", "draft-1")
            .json(&identity)
            .send()
    };
    let first = create().await.unwrap();
    let first_headers = first.headers().clone();
    let (status, draft) = read(first).await;
    assert_eq!(status, StatusCode::CREATED, "{draft}");
    let replay = create().await.unwrap();
    for header in ["content-type", "cache-control", "x-content-type-options"] {
        assert_eq!(
            replay.headers().get(header),
            first_headers.get(header),
            "{header}"
        );
    }
    assert_ne!(
        replay.headers()["x-request-id"],
        first_headers["x-request-id"],
        "the request id is the replay's own"
    );
    let (status, again) = read(replay).await;
    assert_eq!((status, &again), (StatusCode::CREATED, &draft));

    if !on_postgres() {
        let stored = database_bytes(&app);
        assert!(!stored.is_empty());
        assert!(!holds(&stored, "Zebulon"), "the real name is sealed");
        assert!(!holds(&stored, &token), "the session token is not kept");
    }
}

/// An unknown page is a page, with the page headers; HSTS is sent once users reach the
/// service over https, and not before (a plain-http deployment would lock its users out).
#[tokio::test]
async fn unknown_pages_carry_the_page_headers_and_https_deployments_send_hsts() {
    let app = spawn_app().await;
    let res = app
        .client
        .get(app.url("/no-such-page"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let headers = res.headers().clone();
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(
        headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert!(res.text().await.unwrap().contains("<html"));
    assert!(headers.get("strict-transport-security").is_none());

    let https = spawn_with(&[("public_url", "https://realname.example.com")]).await;
    for path in ["/healthz", "/login", "/v1/me"] {
        let res = https.client.get(https.url(path)).send().await.unwrap();
        assert_eq!(
            res.headers()["strict-transport-security"],
            "max-age=31536000; includeSubDomains",
            "{path}"
        );
    }
}
