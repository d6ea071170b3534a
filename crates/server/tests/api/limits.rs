//! Limits per client address and per key (CONTRACT 4), counted in the store so that they hold
//! across nodes. The tests speak through a trusted proxy (loopback) and name their client in
//! `X-Forwarded-For`, as a deployment behind a load balancer does.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

const PROXIED: (&str, &str) = ("trusted_proxies", "127.0.0.0/8");

async fn from(app: &TestApp, address: &str, path: &str, body: Value) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .header("x-forwarded-for", address)
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// Credential stuffing from one address is slowed and then stopped; the owner, from an
/// address that has not been failing, still signs in with the right password.
#[tokio::test]
async fn an_attacker_is_stopped_and_the_owner_still_signs_in() {
    let app = spawn_with(&[PROXIED, ("limits.sessions_per_minute", "30")]).await;
    app.register("anna@example.com").await;
    let attacker = "203.0.113.7";
    let wrong = json!({"login": "anna@example.com", "password": "not her password"});
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(
            from(&app, attacker, "/v1/sessions", wrong.clone())
                .await
                .status(),
        );
    }
    // The fifth failure locks the login, for that address.
    assert_eq!(statuses[..4], [StatusCode::UNAUTHORIZED; 4]);
    assert_eq!(statuses[4..], [StatusCode::TOO_MANY_REQUESTS; 2]);

    let right = json!({"login": "anna@example.com", "password": PASSWORD});
    let res = from(&app, "198.51.100.9", "/v1/sessions", right.clone()).await;
    assert_eq!(
        res.status(),
        StatusCode::CREATED,
        "the owner, from elsewhere"
    );

    // Many logins from the attacker's address: past 30 attempts a minute, all refused. The
    // count is per minute of the clock: 60 attempts reach 30 in one minute even when they
    // straddle the turn of one (a slow machine made that happen).
    let mut limited = None;
    for n in 0..60 {
        let guess = json!({"login": format!("user{n}@example.com"), "password": "guess guess"});
        let res = from(&app, attacker, "/v1/sessions", guess).await;
        if res.status() == StatusCode::TOO_MANY_REQUESTS {
            limited = Some(res);
            break;
        }
    }
    let limited = limited.expect("the address is limited");
    assert!(limited.headers().contains_key("retry-after"));
    let (_, body) = read(limited).await;
    assert_eq!(body["error"]["code"], "rate_limited");
}

/// Registrations from one address are limited (a stranger cannot list who is registered at
/// speed), and so is everything a platform key asks; one node's count is every node's.
#[tokio::test]
async fn registrations_and_platform_keys_are_limited_across_nodes() {
    use realname_core::platform::{KeyMode, Scope};
    let extra = [
        PROXIED,
        ("limits.accounts_per_minute", "3"),
        ("limits.platform_per_minute", "4"),
    ];
    let app = spawn_with(&extra).await;
    // A second node over the same database.
    let (other_base, stop) = second_node(&app, &extra).await;

    // Requests alternate between the two nodes.
    let node = |n: u32| if n % 2 == 0 { &app.base } else { &other_base };
    let register = |n: u32| json!({"login": format!("r{n}@example.com"), "password": PASSWORD});
    let mut statuses = Vec::new();
    for n in 0..4 {
        let base = node(n);
        let res = app
            .client
            .post(format!("{base}/v1/accounts"))
            .header("x-forwarded-for", "192.0.2.44")
            .json(&register(n))
            .send()
            .await
            .unwrap();
        statuses.push(res.status());
    }
    assert_eq!(
        statuses,
        [
            StatusCode::CREATED,
            StatusCode::CREATED,
            StatusCode::CREATED,
            StatusCode::TOO_MANY_REQUESTS
        ],
        "three a minute from one address, on whichever node"
    );
    let res = from(&app, "192.0.2.45", "/v1/accounts", register(9)).await;
    assert_eq!(
        res.status(),
        StatusCode::CREATED,
        "another address is another count"
    );

    let key = platform_key(&app, &[Scope::EventsRead], KeyMode::Test).await;
    let mut statuses = Vec::new();
    for n in 0..5 {
        let base = node(n);
        let res = app
            .client
            .get(format!("{base}/v1/events"))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap();
        statuses.push(res.status());
    }
    assert_eq!(statuses[..4], [StatusCode::OK; 4]);
    assert_eq!(
        statuses[4],
        StatusCode::TOO_MANY_REQUESTS,
        "the key's minute is spent"
    );
    let _ = stop.send(());
}

/// The probe: 60 wrong passwords for one login, each from another address, were all 401.
/// Now, after 10 within an hour from anywhere, each further attempt waits (CONTRACT 4),
/// except from an address that signed in to that account before.
#[tokio::test]
async fn failures_spread_over_many_addresses_slow_the_login_but_not_its_owner() {
    let app = spawn_with(&[PROXIED]).await;
    app.register("anna@example.com").await;
    let right = json!({"login": "anna@example.com", "password": PASSWORD});
    let owner = "198.51.100.9";
    let res = from(&app, owner, "/v1/sessions", right.clone()).await;
    assert_eq!(res.status(), StatusCode::CREATED);

    let wrong = json!({"login": "anna@example.com", "password": "not her password"});
    for n in 0..10 {
        let res = from(
            &app,
            &format!("203.0.113.{n}"),
            "/v1/sessions",
            wrong.clone(),
        )
        .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "attempt {n}");
    }
    // The eleventh, from yet another address, waits, even with the right password.
    for body in [&wrong, &right] {
        let res = from(&app, "203.0.113.200", "/v1/sessions", body.clone()).await;
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
        let retry = retry_after(&res);
        assert!((1..=900).contains(&retry), "{retry}");
    }
    // The owner's own address still signs in.
    let res = from(&app, owner, "/v1/sessions", right.clone()).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    // An hour without failures, and the count starts again.
    app.advance(3_601).await;
    let res = from(&app, "203.0.113.201", "/v1/sessions", right).await;
    assert_eq!(res.status(), StatusCode::CREATED);
}

/// The probe: 60 wrong codes with a staff member's right password, from 60 addresses, were
/// all 401. Now 5 wrong codes sent with the right password within 15 minutes lock the second
/// factor for 15 minutes, and a wrong password never counts toward it.
#[tokio::test]
async fn wrong_codes_with_the_right_password_lock_the_second_factor() {
    let app = spawn_with(&[PROXIED]).await;
    app.staff("rita", "reviewer").await;
    let wrong_code = |code: &str| -> String {
        code.chars()
            .map(|c| char::from_digit((c.to_digit(10).unwrap() + 5) % 10, 10).unwrap())
            .collect()
    };
    // Wrong passwords with any code do not lock it.
    for n in 0..4 {
        let body = json!({"login": "rita", "password": "not the password", "totp": "000000"});
        let res = from(&app, &format!("192.0.2.{n}"), "/v1/sessions", body).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    // One right code, kept: the wrong ones are made from it, and it stays valid for its
    // steps, which the refused attempts never take.
    let code = app.totp("rita").await;
    for n in 0..5 {
        let body = json!({"login": "rita", "password": PASSWORD, "totp": wrong_code(&code)});
        let res = from(&app, &format!("198.18.0.{n}"), "/v1/sessions", body).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "wrong code {n}");
    }
    // Locked: the right code is refused too, from anywhere.
    let body = json!({"login": "rita", "password": PASSWORD, "totp": code});
    let res = from(&app, "198.18.1.1", "/v1/sessions", body.clone()).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    // Fifteen minutes on (the service's clock; codes follow real time), it opens again.
    app.advance(15 * 60 + 1).await;
    let res = from(&app, "198.18.1.2", "/v1/sessions", body).await;
    assert_eq!(res.status(), StatusCode::CREATED);
}
