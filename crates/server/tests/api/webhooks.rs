//! Webhooks against a real receiver on loopback: every status change reaches it signed as
//! Standard Webhooks says, in sequence; failures are tried again on the schedule, a 410
//! disables the endpoint, a rotated secret signs beside the new one until it expires.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode as Status};
use axum::routing::post;
use realname_core::platform::{KeyMode, Scope};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use standardwebhooks::Webhook;

use crate::helpers::*;

/// What the receiver got, and what it answers next (200 once the queue is empty).
#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<(HeaderMap, Bytes)>>>,
    answers: Arc<Mutex<VecDeque<u16>>>,
}

impl Receiver {
    /// The headers, the body parsed, and the body as it came (signatures cover those bytes).
    fn deliveries(&self) -> Vec<(HeaderMap, Value, Bytes)> {
        self.got
            .lock()
            .unwrap()
            .iter()
            .map(|(h, b)| (h.clone(), serde_json::from_slice(b).unwrap(), b.clone()))
            .collect()
    }

    fn answer_next(&self, status: u16) {
        self.answers.lock().unwrap().push_back(status);
    }
}

async fn receive(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> Status {
    r.got.lock().unwrap().push((headers, body));
    let status = r.answers.lock().unwrap().pop_front().unwrap_or(200);
    Status::from_u16(status).unwrap()
}

async fn receiver() -> (Receiver, SocketAddr) {
    let r = Receiver::default();
    let app = Router::new()
        .route("/hooks", post(receive))
        .with_state(r.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (r, addr)
}

fn verifies(secret: &str, headers: &HeaderMap, raw: &Bytes) -> bool {
    Webhook::new(secret).unwrap().verify(raw, headers).is_ok()
}

#[tokio::test]
async fn every_status_change_reaches_the_receiver_signed_and_in_sequence() {
    let app = spawn_with(&[("webhooks.allow_cidrs", "127.0.0.0/8")]).await;
    let (receiver, addr) = receiver().await;
    let key = platform_key(
        &app,
        &[Scope::WebhooksManage, Scope::EventsRead],
        KeyMode::Test,
    )
    .await;
    let (status, endpoint) = app
        .post(
            "/v1/webhook_endpoints",
            Some(&key),
            json!({"url": format!("http://{addr}/hooks"), "events": ["*"], "description": "tests"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{endpoint}");
    let secret = endpoint["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"));
    let id = endpoint["id"].as_str().unwrap().to_owned();
    let (_, listed) = app.get("/v1/webhook_endpoints", Some(&key)).await;
    assert!(listed["endpoints"][0].get("secret").is_none(), "{listed}");

    let token = app.register("anna@example.com").await;
    let verification = app.ready_draft(&token, CARD).await;
    app.submit_and_settle(&token, &verification).await;
    app.advance(0).await;
    let got = receiver.deliveries();
    // Deliveries may arrive in any order (each is its own job); `sequence` puts them in order.
    let mut types: Vec<(&str, u64)> = got
        .iter()
        .map(|(_, b, _)| {
            (
                b["type"].as_str().unwrap(),
                b["data"]["sequence"].as_u64().unwrap(),
            )
        })
        .collect();
    types.sort_by_key(|(_, sequence)| *sequence);
    assert_eq!(
        types,
        [
            ("verification.created", 1),
            ("verification.submitted", 2),
            ("verification.awaiting_amount", 3)
        ]
    );
    for (headers, body, raw) in &got {
        assert!(
            verifies(&secret, headers, raw),
            "a Standard Webhooks verifier accepts it"
        );
        assert_eq!(
            headers["webhook-id"].to_str().unwrap(),
            body["id"].as_str().unwrap()
        );
        assert_eq!(body["data"]["id"], verification.as_str());
    }

    // The receiver fails once: the attempt is tried again 5 s later, on the service clock.
    receiver.answer_next(500);
    let amount = app.deposit_amount(CARD).await;
    let (status, _) = app
        .post(
            &format!("/v1/verifications/{verification}/deposit_confirmation"),
            Some(&token),
            json!({"amount": amount}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    app.advance(0).await;
    assert_eq!(
        receiver.deliveries().len(),
        4,
        "the first attempt, answered 500"
    );
    app.advance(4).await;
    assert_eq!(receiver.deliveries().len(), 4, "not before 5 s");
    app.advance(2).await;
    let got = receiver.deliveries();
    assert_eq!(got.len(), 5);
    assert_eq!(
        got[3].0["webhook-id"], got[4].0["webhook-id"],
        "the same id on a retry"
    );
    let (status, page) = app
        .get(
            &format!("/v1/webhook_endpoints/{id}/deliveries"),
            Some(&key),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let rows = page["deliveries"].as_array().unwrap();
    assert_eq!(rows[0]["state"], "delivered");
    assert_eq!(rows[0]["attempt"], 2);
    assert_eq!(rows[1]["state"], "pending");
    assert_eq!(rows[1]["status_code"], 500);
    assert!(rows[1]["next_attempt_at"].is_string());

    // The review's outcome is the last event of the journey: `verified`, fifth in sequence.
    let (status, decided) = app
        .post(
            &format!("/v1/sandbox/verifications/{verification}/review"),
            Some(&key),
            json!({"outcome": "approve"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{decided}");
    app.advance(0).await;
    let (headers, body, raw) = receiver.deliveries().pop().unwrap();
    assert_eq!(
        (body["type"].as_str(), body["data"]["sequence"].as_u64()),
        (Some("verification.verified"), Some(5))
    );
    assert_eq!(body["data"]["status"], "verified");
    assert!(verifies(&secret, &headers, &raw));

    // Rotation: both secrets sign during the overlap, only the new one after.
    let (status, rotated) = app
        .post(
            &format!("/v1/webhook_endpoints/{id}/rotate_secret"),
            Some(&key),
            json!({"expire_current_after_seconds": 60}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{rotated}");
    let new_secret = rotated["secret"].as_str().unwrap().to_owned();
    let (_, feed) = app.get("/v1/events?limit=1", Some(&key)).await;
    let newest = feed["events"][0]["id"].as_str().unwrap().to_owned();
    let (status, _) = app
        .post(
            &format!("/v1/events/{newest}/resend"),
            Some(&key),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    app.advance(0).await;
    let (headers, _, raw) = receiver.deliveries().pop().unwrap();
    assert_eq!(
        headers["webhook-signature"]
            .to_str()
            .unwrap()
            .split(' ')
            .count(),
        2
    );
    assert!(verifies(&secret, &headers, &raw) && verifies(&new_secret, &headers, &raw));
    app.advance(61).await;
    app.post(
        &format!("/v1/events/{newest}/resend"),
        Some(&key),
        json!({}),
    )
    .await;
    app.advance(0).await;
    let (headers, _, raw) = receiver.deliveries().pop().unwrap();
    assert!(verifies(&new_secret, &headers, &raw));
    assert!(!verifies(&secret, &headers, &raw), "the old secret expired");

    // 410 disables the endpoint; PATCH enables it again.
    receiver.answer_next(410);
    app.post(
        &format!("/v1/events/{newest}/resend"),
        Some(&key),
        json!({}),
    )
    .await;
    app.advance(0).await;
    let (_, listed) = app.get("/v1/webhook_endpoints", Some(&key)).await;
    assert_eq!(listed["endpoints"][0]["status"], "disabled");
    let count = receiver.deliveries().len();
    app.post(
        &format!("/v1/events/{newest}/resend"),
        Some(&key),
        json!({}),
    )
    .await;
    app.advance(0).await;
    assert_eq!(
        receiver.deliveries().len(),
        count,
        "nothing goes to a disabled endpoint"
    );
    let (status, enabled) = app
        .call(
            Method::PATCH,
            &format!("/v1/webhook_endpoints/{id}"),
            Some(&key),
            Some(json!({"status": "enabled"})),
        )
        .await;
    assert_eq!(
        (status, enabled["status"].as_str()),
        (StatusCode::OK, Some("enabled"))
    );
    let (status, _) = app
        .call(
            Method::DELETE,
            &format!("/v1/webhook_endpoints/{id}"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn a_receiver_that_is_down_gets_the_event_on_the_schedule() {
    let app = spawn_with(&[("webhooks.allow_cidrs", "127.0.0.0/8")]).await;
    // Nothing listens on this port until later.
    let spare = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = spare.local_addr().unwrap();
    drop(spare);
    let key = platform_key(&app, &[Scope::WebhooksManage], KeyMode::Test).await;
    let (status, endpoint) = app
        .post(
            "/v1/webhook_endpoints",
            Some(&key),
            json!({"url": format!("http://{addr}/hooks"), "events": ["verification.created"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{endpoint}");
    let token = app.register("anna@example.com").await;
    let (status, _) = app
        .post("/v1/verifications", Some(&token), identity())
        .await;
    assert_eq!(status, StatusCode::CREATED);
    app.advance(0).await;
    for wait in [5, 300, 1800] {
        app.advance(wait).await;
    }
    // Up again, on the same port: the fifth attempt (2 h after the fourth) arrives.
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    let receiver = Receiver::default();
    let router = Router::new()
        .route("/hooks", post(receive))
        .with_state(receiver.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });
    app.advance(7199).await;
    assert!(
        receiver.deliveries().is_empty(),
        "not before the schedule says"
    );
    app.advance(2).await;
    assert_eq!(receiver.deliveries().len(), 1);
    let (_, page) = app
        .get(
            &format!(
                "/v1/webhook_endpoints/{}/deliveries",
                endpoint["id"].as_str().unwrap()
            ),
            Some(&key),
        )
        .await;
    let attempts: Vec<(u64, &str)> = page["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["attempt"].as_u64().unwrap(), d["state"].as_str().unwrap()))
        .collect();
    assert_eq!(
        attempts,
        [
            (5, "delivered"),
            (4, "pending"),
            (3, "pending"),
            (2, "pending"),
            (1, "pending")
        ]
    );
}

#[tokio::test]
async fn a_webhook_into_the_inside_network_is_refused() {
    let app = spawn_app().await;
    let key = platform_key(&app, &[Scope::WebhooksManage], KeyMode::Test).await;
    // Each refusal says what is wrong with the URL, to the developer who sent it.
    for (url, says) in [
        ("http://127.0.0.1:9/hooks", "must be https://"),
        ("https://127.0.0.1/hooks", "non-public address"),
        ("https://10.0.0.8/h", "non-public address"),
        ("ftp://x.example.com/", "must be https://"),
        ("https://user:pw@x.example.com/", "without a user name"),
        ("https://no-such-host.invalid/hooks", "did not resolve"),
    ] {
        let (status, body) = app
            .post(
                "/v1/webhook_endpoints",
                Some(&key),
                json!({"url": url, "events": ["*"]}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{url}");
        assert_eq!(
            body["error"]["details"][0]["code"], "webhook_url_not_allowed",
            "{url}"
        );
        let message = body["error"]["details"][0]["message"].as_str().unwrap();
        assert!(message.contains(says), "{url}: {message}");
    }
    let (status, body) = app
        .post(
            "/v1/webhook_endpoints",
            Some(&key),
            json!({"url": "https://8.8.8.8/hooks", "events": ["verification.nothing"]}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        body["error"]["details"][0]["code"], "webhook_events_invalid",
        "{body}"
    );
}
