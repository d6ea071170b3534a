//! The platform's API over real HTTP: keys, sessions that link the platform's users, the
//! single-use link a browser continues through, and the reads.

use realname_core::platform::{KeyMode, Scope};
use reqwest::{Method, StatusCode, header};
use serde_json::json;

use crate::helpers::*;
use crate::pages::{no_redirects, set_cookie, value};

/// The CSRF token a browser gets with the link's page.
async fn csrf_of(app: &TestApp, client: &reqwest::Client, path: &str) -> String {
    let page = client.get(app.url(path)).send().await.unwrap();
    value(&set_cookie(&page, "__Host-rn_csrf").unwrap())
}

/// Presses Continue on the link's page.
async fn continue_link(
    app: &TestApp,
    client: &reqwest::Client,
    path: &str,
    csrf: &str,
) -> reqwest::Response {
    client
        .post(app.url(path))
        .header(header::COOKIE, format!("__Host-rn_csrf={csrf}"))
        .form(&[("csrf", csrf)])
        .send()
        .await
        .unwrap()
}

/// Two test keys that read applications: one without and one with `verifications:read_pii`.
async fn readers(app: &TestApp) -> (String, String) {
    let plain = platform_key(app, &[Scope::VerificationsRead], KeyMode::Test).await;
    let pii = platform_key(
        app,
        &[Scope::VerificationsRead, Scope::VerificationsReadPii],
        KeyMode::Test,
    )
    .await;
    (plain, pii)
}

async fn new_session(
    app: &TestApp,
    key: &str,
    body: serde_json::Value,
) -> (StatusCode, serde_json::Value) {
    app.post("/v1/platform/sessions", Some(key), body).await
}

#[tokio::test]
async fn a_platform_links_its_user_and_a_browser_continues_through_the_link() {
    let app = spawn_with(&[("platform.return_origins", "https://pay.example.com")]).await;
    let key = platform_key(&app, &[], KeyMode::Test).await;
    let (status, session) = new_session(
        &app,
        &key,
        json!({"external_user_id": "ext-42", "return_url": "https://pay.example.com/back",
               "locale": "en", "metadata": {"order": "7"}}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{session}");
    assert_eq!(session["object"], "verification_session");
    assert_eq!(session["external_user_id"], "ext-42");
    assert_eq!(session["real_name_status"], "unverified");
    assert_eq!(session["verification_id"], json!(null));
    assert_eq!(session["livemode"], false);
    assert_eq!(session["metadata"], json!({"order": "7"}));
    let url = session["url"].as_str().unwrap().to_owned();
    let path = url
        .strip_prefix(&app.base)
        .expect("the link is on the service")
        .to_owned();
    assert!(path.starts_with("/start/"), "{url}");

    // A link preview fetches the link: it sees a page, is not signed in, and uses nothing.
    let client = no_redirects();
    for _ in 0..2 {
        let preview = client.get(app.url(&path)).send().await.unwrap();
        assert_eq!(preview.status(), StatusCode::OK);
        assert!(set_cookie(&preview, "rn_session").is_none());
        assert_eq!(preview.headers()["referrer-policy"], "no-referrer");
        let html = preview.text().await.unwrap();
        assert!(
            html.contains("Continue") && html.contains("<form method=\"post\""),
            "{html}"
        );
    }

    // The person continues: signed in to the pages, on to the new application.
    let csrf = csrf_of(&app, &client, &path).await;
    let go = continue_link(&app, &client, &path, &csrf).await;
    assert_eq!(go.status(), StatusCode::SEE_OTHER);
    assert_eq!(go.headers()["location"], "/verifications/new");
    let session_cookie = value(&set_cookie(&go, "rn_session").expect("signed in"));
    assert_eq!(value(&set_cookie(&go, "rn_lang").unwrap()), "en");
    let new = client
        .get(app.url("/verifications/new"))
        .header(
            header::COOKIE,
            format!("rn_session={session_cookie}; __Host-rn_csrf={csrf}"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(new.status(), StatusCode::OK);

    // That browser session is the pages', never the JSON API's.
    let (status, _) = app.get("/v1/me", Some(&session_cookie)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // The link is used up: it says so, in the session's language, with the way back.
    let again = client.get(app.url(&path)).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::GONE);
    let html = again.text().await.unwrap();
    assert!(html.contains("can no longer be used"), "{html}");
    let back = format!(
        "https://pay.example.com/back?verification_session={}",
        session["id"].as_str().unwrap()
    );
    assert!(html.contains(&back), "{html}");
    let reuse = continue_link(&app, &client, &path, &csrf).await;
    assert_eq!(reuse.status(), StatusCode::GONE);
    assert!(set_cookie(&reuse, "rn_session").is_none());

    // A second session for the same user reaches the same account; its link is fresh.
    let (status, second) = new_session(&app, &key, json!({"external_user_id": "ext-42"})).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_ne!(second["url"], session["url"]);
    let (status, fetched) = app
        .get(
            &format!("/v1/platform/sessions/{}", session["id"].as_str().unwrap()),
            Some(&key),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{fetched}");
    assert_ne!(fetched["url"], session["url"], "a fresh link each time");

    let (status, user) = app.get("/v1/platform/users/ext-42", Some(&key)).await;
    assert_eq!(status, StatusCode::OK, "{user}");
    assert_eq!(user["real_name_status"], "unverified");
    assert!(user.get("real_name").is_none());
    let (status, _) = app.get("/v1/platform/users/ext-43", Some(&key)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn keys_and_sessions_each_reach_only_their_own_routes() {
    let app = spawn_app().await;
    let key = platform_key(&app, &[], KeyMode::Test).await;
    let user = app.register("anna@example.com").await;

    let (status, body) = new_session(&app, &user, json!({"external_user_id": "ext-1"})).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("unauthorized"))
    );
    let (status, _) = app.get("/v1/me", Some(&key)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = app.get("/v1/verifications", Some(&key)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // The mode is judged before the scope; a live key does nothing beside the sandbox.
    let live = platform_key(&app, &[Scope::EventsRead], KeyMode::Live).await;
    let (status, body) = new_session(&app, &live, json!({"external_user_id": "ext-1"})).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("key_mode_mismatch"))
    );

    let narrow = platform_key(&app, &[Scope::EventsRead], KeyMode::Test).await;
    let (status, body) = new_session(&app, &narrow, json!({"external_user_id": "ext-1"})).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("forbidden"))
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("sessions:write"),
        "{body}"
    );

    let (status, body) = new_session(&app, &key, json!({"external_user_id": "ext-1"})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let unknown = format!("rn_test_{}", "A".repeat(43));
    let (status, _) = new_session(&app, &unknown, json!({"external_user_id": "ext-1"})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_revoked_key_ends_at_once() {
    let app = spawn_app().await;
    let key = platform_key(&app, &[], KeyMode::Test).await;
    let (status, _) = new_session(&app, &key, json!({"external_user_id": "ext-1"})).await;
    assert_eq!(status, StatusCode::CREATED);
    let config = config(app.dir.path(), &[]);
    let service = realname_app::Service::new(realname_server::App::parts(&config).await.unwrap())
        .await
        .unwrap();
    let prefix = &key[..12];
    assert!(
        realname_app::platform::keys::revoke(&service, prefix)
            .await
            .unwrap()
    );
    let listed = realname_app::platform::keys::list(&service).await.unwrap();
    assert!(listed[0].last_used_at.is_some() && listed[0].revoked_at.is_some());
    let (status, _) = new_session(&app, &key, json!({"external_user_id": "ext-1"})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn what_a_session_asks_for_is_checked() {
    let app = spawn_with(&[("platform.return_origins", "https://pay.example.com")]).await;
    let key = platform_key(&app, &[], KeyMode::Test).await;
    for (body, field, code) in [
        (
            json!({"external_user_id": "has space"}),
            "external_user_id",
            "external_user_id_invalid",
        ),
        (
            json!({"external_user_id": ""}),
            "external_user_id",
            "external_user_id_invalid",
        ),
        (
            json!({"external_user_id": "x".repeat(129)}),
            "external_user_id",
            "external_user_id_invalid",
        ),
        (
            json!({"external_user_id": "e", "return_url": "https://evil.example.com/"}),
            "return_url",
            "return_url_not_allowed",
        ),
        (
            json!({"external_user_id": "e", "return_url": "http://pay.example.com/"}),
            "return_url",
            "return_url_not_allowed",
        ),
        (
            json!({"external_user_id": "e", "locale": "fr"}),
            "locale",
            "locale_invalid",
        ),
        (
            json!({"external_user_id": "e", "metadata": {"k": 1}}),
            "metadata",
            "metadata_invalid",
        ),
        (
            json!({"external_user_id": "e", "metadata": {"k": "v".repeat(501)}}),
            "metadata",
            "metadata_invalid",
        ),
    ] {
        let (status, answer) = new_session(&app, &key, body.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(answer["error"]["details"][0]["field"], field, "{body}");
        assert_eq!(answer["error"]["details"][0]["code"], code, "{body}");
    }
    let many: serde_json::Map<String, serde_json::Value> =
        (0..21).map(|i| (format!("k{i}"), json!("v"))).collect();
    let (status, _) = new_session(
        &app,
        &key,
        json!({"external_user_id": "e", "metadata": many}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn a_replayed_session_answer_carries_no_link() {
    let app = spawn_app().await;
    let key = platform_key(&app, &[], KeyMode::Test).await;
    let send = || {
        app.client
            .post(app.url("/v1/platform/sessions"))
            .bearer_auth(&key)
            .header("idempotency-key", "session-1")
            .json(&json!({"external_user_id": "ext-9"}))
            .send()
    };
    let first = read(send().await.unwrap()).await;
    assert_eq!(first.0, StatusCode::CREATED);
    assert!(first.1["url"].is_string());
    let replay = read(send().await.unwrap()).await;
    assert_eq!(replay.0, StatusCode::CREATED);
    assert_eq!(replay.1["id"], first.1["id"], "nothing was done twice");
    assert_eq!(replay.1["url"], json!(null));
    // A key's 24 hours are real time: moving the sandbox clock two days (which purges what
    // the service clock lets go) still replays it.
    app.advance(2 * 86_400).await;
    let replay = read(send().await.unwrap()).await;
    assert_eq!(
        replay.1["id"], first.1["id"],
        "still a replay after the clock moved"
    );

    // A session token is never replayed either.
    app.register("anna@example.com").await;
    let login = || {
        app.client
            .post(app.url("/v1/sessions"))
            .header("idempotency-key", "login-1")
            .json(&json!({"login": "anna@example.com", "password": PASSWORD}))
            .send()
    };
    let first = read(login().await.unwrap()).await;
    assert!(first.1["token"].is_string());
    let replay = read(login().await.unwrap()).await;
    assert_eq!(replay.0, StatusCode::CREATED);
    assert_eq!(replay.1["token"], json!(null));
}

#[tokio::test]
async fn the_platform_reads_an_application_and_its_identity_only_with_the_scope() {
    let app = spawn_app().await;
    let (reader, pii) = readers(&app).await;
    let token = app.register("anna@example.com").await;
    let id = app.ready_draft(&token, CARD).await;

    let (status, masked) = app
        .get(&format!("/v1/platform/verifications/{id}"), Some(&reader))
        .await;
    assert_eq!(status, StatusCode::OK, "{masked}");
    assert_eq!(masked["status"], "draft");
    assert_eq!(masked["phone"], "+86 138****8000");
    assert_eq!(masked["external_user_id"], json!(null));
    assert!(masked.get("identity").is_none());
    let (status, body) = app
        .get(
            &format!("/v1/platform/verifications/{id}?expand=identity"),
            Some(&reader),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("forbidden"))
    );

    let (status, whole) = app
        .get(
            &format!("/v1/platform/verifications/{id}?expand=identity"),
            Some(&pii),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{whole}");
    assert_eq!(whole["identity"]["phone"], "+8613800138000");
    assert_eq!(
        whole["identity"]["documents"]["passport"]["number"],
        "E12345678"
    );
    assert_eq!(whole["identity"]["bank_card"]["card_number"], CARD);

    let admin = app.staff("root", "admin").await;
    let (status, trail) = app
        .get(&format!("/v1/audit?verification_id={id}"), Some(&admin))
        .await;
    assert_eq!(status, StatusCode::OK);
    let reveal = &trail["entries"][0];
    assert_eq!(reveal["action"], "reveal_identity");
    assert_eq!(reveal["detail"]["api_key"], &pii[..12]);
    let (status, _) = app
        .call(
            Method::GET,
            "/v1/platform/verifications/not-an-id",
            Some(&reader),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_feed_has_one_event_per_status_change_newest_first() {
    let app = spawn_app().await;
    let key = platform_key(&app, &[Scope::EventsRead], KeyMode::Test).await;
    let token = app.register("anna@example.com").await;
    let id = app.ready_draft(&token, CARD).await;
    app.submit_and_settle(&token, &id).await;
    let (status, page) = app
        .get(&format!("/v1/events?verification_id={id}"), Some(&key))
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let seen: Vec<(String, u64)> = page["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["type"].as_str().unwrap().to_owned(),
                e["data"]["sequence"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("verification.awaiting_amount".to_owned(), 3),
            ("verification.submitted".to_owned(), 2),
            ("verification.created".to_owned(), 1)
        ]
    );
    let newest = &page["events"][0];
    assert_eq!(newest["object"], "event");
    assert_eq!(newest["livemode"], false);
    assert_eq!(newest["data"]["object"], "verification");
    assert_eq!(newest["data"]["id"], id.as_str());
    assert!(newest["id"].as_str().unwrap().starts_with("evt_"));
    assert!(
        newest.to_string().find("John").is_none(),
        "no personal data in an event"
    );

    let (status, one) = app
        .get(
            &format!("/v1/events?verification_id={id}&limit=1"),
            Some(&key),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let cursor = one["next_cursor"].as_str().unwrap().to_owned();
    let (_, rest) = app
        .get(
            &format!("/v1/events?verification_id={id}&cursor={cursor}"),
            Some(&key),
        )
        .await;
    assert_eq!(rest["events"].as_array().unwrap().len(), 2);
    let (_, submitted) = app
        .get("/v1/events?type=verification.submitted", Some(&key))
        .await;
    assert_eq!(submitted["events"].as_array().unwrap().len(), 1);

    let sessions_only = platform_key(&app, &[Scope::SessionsWrite], KeyMode::Test).await;
    let (status, _) = app.get("/v1/events", Some(&sessions_only)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app.get("/v1/events", Some(&token)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_test_key_decides_in_the_sandbox_as_a_reviewer_would() {
    let app = spawn_app().await;
    let key = platform_key(&app, &[Scope::VerificationsRead], KeyMode::Test).await;
    let token = app.register("anna@example.com").await;
    let id = app.ready_draft(&token, CARD).await;
    let path = format!("/v1/sandbox/verifications/{id}/review");
    let (status, body) = app
        .post(&path, Some(&key), json!({"outcome": "approve"}))
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("invalid_state")),
        "a draft is not under review"
    );
    app.submit_and_settle(&token, &id).await;
    let amount = app.deposit_amount(CARD).await;
    app.post(
        &format!("/v1/verifications/{id}/deposit_confirmation"),
        Some(&token),
        json!({"amount": amount}),
    )
    .await;
    let (status, _) = app
        .post(&path, Some(&token), json!({"outcome": "approve"}))
        .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a user's session is no key"
    );
    let live = platform_key(&app, &[Scope::VerificationsRead], KeyMode::Live).await;
    let (status, _) = app
        .post(&path, Some(&live), json!({"outcome": "approve"}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (status, case) = app
        .post(&path, Some(&key), json!({"outcome": "approve"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{case}");
    assert_eq!(case["outcome"], "approve");
    assert_eq!(app.application(&token, &id).await["status"], "verified");
    let admin = app.staff("root", "admin").await;
    let (_, trail) = app
        .get(&format!("/v1/audit?verification_id={id}"), Some(&admin))
        .await;
    let decided = trail["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "decide")
        .unwrap();
    assert_eq!(decided["detail"]["api_key"], &key[..12]);
}

#[tokio::test]
async fn once_submitted_the_pages_offer_the_way_back_to_the_platform() {
    let app = spawn_with(&[("platform.return_origins", "https://pay.example.com")]).await;
    let key = platform_key(&app, &[], KeyMode::Test).await;
    let (_, session) = new_session(
        &app,
        &key,
        json!({"external_user_id": "ext-7", "return_url": "https://pay.example.com/back?x=1"}),
    )
    .await;
    let path = session["url"]
        .as_str()
        .unwrap()
        .strip_prefix(&app.base)
        .unwrap()
        .to_owned();
    let client = no_redirects();
    let csrf = csrf_of(&app, &client, &path).await;
    let go = continue_link(&app, &client, &path, &csrf).await;
    let cookies = format!(
        "__Host-rn_csrf={csrf}; rn_session={}; rn_platform_session={}",
        value(&set_cookie(&go, "rn_session").unwrap()),
        value(&set_cookie(&go, "rn_platform_session").unwrap())
    );

    // The user's journey, as the pages would drive it, through the application layer.
    let config = config(app.dir.path(), &[]);
    let service = realname_app::Service::new(realname_server::App::parts(&config).await.unwrap())
        .await
        .unwrap();
    let account = service
        .store
        .platform_account("ext-7")
        .await
        .unwrap()
        .unwrap();
    let account = service
        .store
        .page_session_account(
            &realname_app::auth::token_hash(&value(&set_cookie(&go, "rn_session").unwrap())),
            service.now(),
        )
        .await
        .unwrap()
        .filter(|a| a.id == account)
        .unwrap();
    let who = realname_app::Principal::User(account);
    let form: realname_core::application::ApplicationForm =
        serde_json::from_value(identity()).unwrap();
    let draft = realname_app::journey::create(&service, &who, &form, "127.0.0.1".into())
        .await
        .unwrap();
    let status_page = |id: uuid::Uuid| {
        client
            .get(app.url(&format!("/verifications/{id}")))
            .header(header::COOKIE, cookies.clone())
            .send()
    };
    let html = status_page(draft.id).await.unwrap().text().await.unwrap();
    assert!(
        !html.contains("Back to the platform") && !html.contains("返回平台"),
        "not yet"
    );
    for slot in realname_core::documents::ImageSlot::ALL {
        realname_app::journey::store_image(&service, &draft, slot, &jpeg())
            .await
            .unwrap();
    }
    let card: realname_core::policy::BankCardForm =
        serde_json::from_value(bank_card(CARD, "John Smith")).unwrap();
    let ready = realname_app::journey::bind_card(&service, &draft, &card)
        .await
        .unwrap();
    realname_app::journey::submit(&service, &ready)
        .await
        .unwrap();
    let html = status_page(draft.id).await.unwrap().text().await.unwrap();
    let back = format!(
        "https://pay.example.com/back?x=1&#38;verification_session={}",
        session["id"].as_str().unwrap()
    );
    assert!(html.contains(&back), "{html}");
}

/// The platform surface of CONTRACT 9 as amended: every field of the user read is there
/// (null or false until what fills it is built), screening only with its scope, a session's
/// purpose, a closed account's session, and messages written for the developer.
#[tokio::test]
async fn the_platform_reads_say_every_field_and_speak_to_developers() {
    let app = spawn_app().await;
    let key = platform_key(&app, &[], KeyMode::Test).await;
    let (status, session) = new_session(&app, &key, json!({"external_user_id": "ext-7"})).await;
    assert_eq!(status, StatusCode::CREATED, "{session}");
    assert_eq!(session["purpose"], "verification");

    let (status, user) = app.get("/v1/platform/users/ext-7", Some(&key)).await;
    assert_eq!(status, StatusCode::OK, "{user}");
    for (field, value) in [
        ("valid_until", json!(null)),
        ("renewal", json!(null)),
        ("risk", json!(null)),
        ("legal_hold", json!(false)),
    ] {
        assert_eq!(user.get(field), Some(&value), "{field}: {user}");
    }
    assert!(user.get("screening").is_none(), "screening needs its scope");
    let compliance = platform_key(
        &app,
        &[Scope::VerificationsRead, Scope::ScreeningRead],
        KeyMode::Test,
    )
    .await;
    let (_, user) = app.get("/v1/platform/users/ext-7", Some(&compliance)).await;
    assert_eq!(
        user["screening"],
        json!({"status": null, "screened_at": null, "list_versions": []})
    );

    // A renewal link lands on the account page; a purpose it does not know is refused.
    let (status, body) = new_session(
        &app,
        &key,
        json!({"external_user_id": "ext-7", "purpose": "upgrade"}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        detail_codes(&body),
        vec![("purpose".to_owned(), "purpose_invalid".to_owned())]
    );
    let (_, renewal) = new_session(
        &app,
        &key,
        json!({"external_user_id": "ext-7", "purpose": "renewal"}),
    )
    .await;
    assert_eq!(renewal["purpose"], "renewal");
    let path = renewal["url"]
        .as_str()
        .unwrap()
        .strip_prefix(&app.base)
        .unwrap()
        .to_owned();
    let client = no_redirects();
    let csrf = csrf_of(&app, &client, &path).await;
    let go = continue_link(&app, &client, &path, &csrf).await;
    assert_eq!(go.status(), StatusCode::SEE_OTHER);
    assert_eq!(go.headers()["location"], "/account");

    // Closed, the account's old session says so.
    let closer = platform_key(&app, &[Scope::VerificationsRedact], KeyMode::Test).await;
    let (status, closed) = app
        .call(
            Method::DELETE,
            "/v1/platform/users/ext-7",
            Some(&closer),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{closed}");
    let (status, read) = app
        .get(
            &format!("/v1/platform/sessions/{}", session["id"].as_str().unwrap()),
            Some(&key),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{read}");
    assert_eq!(read["real_name_status"], "closed");
    assert_eq!(read["url"], json!(null));

    // A key it does not know is told about as a key, not as a sign-in.
    for bad in [
        "rn_test_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "nonsense",
    ] {
        let (status, body) = app.get("/v1/events", Some(bad)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            body["error"]["message"],
            "The API key is missing, unknown or revoked."
        );
    }
}

/// A platform's read of an application shows the real name only with the scope that reveals
/// it, as the user read does; a verified one says until when its documents hold.
#[tokio::test]
async fn an_application_read_hides_the_name_without_the_scope_and_says_valid_until() {
    let app = spawn_app().await;
    let (key, pii) = readers(&app).await;
    let token = app.register("anna@example.com").await;
    let id = app.verified(&token, CARD).await;
    let path = format!("/v1/platform/verifications/{id}");
    let (_, masked) = app.get(&path, Some(&key)).await;
    assert_eq!(masked["real_name"], json!(null));
    let (_, named) = app.get(&path, Some(&pii)).await;
    assert_eq!(named["real_name"], "John Smith");
    for read in [&masked, &app.application(&token, &id).await] {
        assert_eq!(
            read["valid_until"],
            identity()["documents"]["passport"]["expiry_date"],
            "the passport's expiry"
        );
        assert_eq!(read["kind"], "application");
        assert_eq!(read.get("renews"), Some(&json!(null)));
        assert_eq!(read["sex"], "male");
        assert_eq!(
            read["occupation"],
            json!({"category": "office_worker", "title": null})
        );
        assert_eq!(read["address"], "Room 1***", "the address is masked");
        assert_eq!(read["pep"], json!({"declared": false, "role": null}));
    }
}
