//! Accounts, sessions and the slowing down of repeated failed logins.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn registration_rules() {
    let app = spawn_app().await;
    let (status, body) = app
        .post(
            "/v1/accounts",
            None,
            json!({"login": "a@example.com", "password": "short"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        detail_codes(&body),
        [("password".to_owned(), "password_too_weak".to_owned())]
    );
    let (status, body) = app
        .post(
            "/v1/accounts",
            None,
            json!({"login": "not a login", "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        detail_codes(&body),
        [("login".to_owned(), "login_invalid".to_owned())]
    );
    let (status, body) = app.post("/v1/accounts", None, json!({})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(detail_codes(&body).len(), 2);

    let (status, created) = app
        .post(
            "/v1/accounts",
            None,
            json!({"login": "A@Example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(created["login"], "a@example.com");
    let (status, body) = app
        .post(
            "/v1/accounts",
            None,
            json!({"login": "a@EXAMPLE.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("login_taken"))
    );
    let (status, created) = app
        .post(
            "/v1/accounts",
            None,
            json!({"login": "138-0013-8000", "password": PASSWORD}),
        )
        .await;
    assert_eq!(
        (status, created["login"].as_str()),
        (StatusCode::CREATED, Some("+8613800138000"))
    );
    app.login("13800138000", PASSWORD).await;

    // Logins compare after NFKC and case folding; a label mixing scripts, and the service's
    // own prefixes, are refused; a registration's breaches come all at once.
    let (status, body) = app
        .post(
            "/v1/accounts",
            None,
            json!({"login": "Ａ@ｅxample.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("login_taken")),
        "full-width is the same login"
    );
    for refused in [
        "\u{430}nna@example.com",
        "platform:ext-42@example.com",
        "closed:a@example.com",
    ] {
        let (status, body) = app
            .post(
                "/v1/accounts",
                None,
                json!({"login": refused, "password": "short"}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
        assert_eq!(
            detail_codes(&body),
            [
                ("login".to_owned(), "login_invalid".to_owned()),
                ("password".to_owned(), "password_too_weak".to_owned())
            ],
            "{refused}"
        );
    }
    let (status, _) = app
        .post(
            "/v1/accounts",
            None,
            json!({"login": "иван@mail.ru", "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "one script is welcome");
}

#[tokio::test]
async fn sessions_log_in_and_out() {
    let app = spawn_app().await;
    let token = app.register("session@example.com").await;
    let (status, body) = app
        .post(
            "/v1/sessions",
            None,
            json!({"login": "session@example.com", "password": "wrong password"}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_credentials"))
    );
    let (status, body) = app
        .post(
            "/v1/sessions",
            None,
            json!({"login": "nobody@example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_credentials"))
    );

    let (status, _) = app
        .call(Method::DELETE, "/v1/sessions/current", Some(&token), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = app.get("/v1/me", Some(&token)).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("unauthorized"))
    );
    let (status, _) = app.get("/v1/me", Some("made-up-token")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Sessions expire after session.ttl (12 hours).
    let token = app.login("session@example.com", PASSWORD).await;
    app.advance(12 * 3600 + 1).await;
    let (status, _) = app.get("/v1/me", Some(&token)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn repeated_failed_logins_are_slowed_down() {
    let app = spawn_app().await;
    app.register("target@example.com").await;
    let wrong = json!({"login": "target@example.com", "password": "guess guess"});
    for _ in 0..4 {
        let (status, _) = app.post("/v1/sessions", None, wrong.clone()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let res = app
        .client
        .post(app.url("/v1/sessions"))
        .json(&wrong)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry = retry_after(&res);
    assert!((1..=30).contains(&retry), "{retry}");
    let (_, body) = read(res).await;
    assert_eq!(body["error"]["code"], "rate_limited");
    // Locked: even the right password waits.
    let (status, _) = app
        .post(
            "/v1/sessions",
            None,
            json!({"login": "target@example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    app.advance(31).await;
    app.login("target@example.com", PASSWORD).await;
}

/// A login no account can have is refused as such, on either backend, never with a 500: NUL,
/// bidi overrides and zero-width characters are not logins, and a huge one is not stored.
#[tokio::test]
async fn logins_with_nul_bidi_or_zero_width_characters_are_refused() {
    let app = spawn_app().await;
    for login in ["a\u{0}b@x.com", "anna\u{202e}@x.com", "an\u{200b}na@x.com"] {
        let (status, body) = app
            .post(
                "/v1/accounts",
                None,
                json!({"login": login, "password": PASSWORD}),
            )
            .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{login:?}: {body}"
        );
        assert_eq!(body["error"]["details"][0]["code"], "login_invalid");
    }
    let huge = "a".repeat(60_000);
    for login in ["a\u{0}b", "anna\u{202e}@x.com", huge.as_str()] {
        let (status, body) = app
            .post(
                "/v1/sessions",
                None,
                json!({"login": login, "password": PASSWORD}),
            )
            .await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("invalid_credentials")),
            "{}",
            login.len()
        );
    }
}
