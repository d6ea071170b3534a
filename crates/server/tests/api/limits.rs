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

    // Many logins from the attacker's address: past 30 attempts a minute, all refused.
    let mut limited = None;
    for n in 0..30 {
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
