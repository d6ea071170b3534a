//! One attempt against a real receiver: an axum server on 127.0.0.1 inside each test, which
//! stops with the test's runtime.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::post;
use realname_webhooks::{
    AddressPolicy, Attempt, DELIVERY_TIMEOUT, Headers, Sender, Target, new_secret,
};
use standardwebhooks::Webhook;

const EVENT: &[u8] = br#"{"id":"evt_01J9Z3","object":"event","type":"verification.verified","created_at":"2025-06-01T08:00:00Z","livemode":false,"data":{"object":"verification","id":"0f5e6d2c","external_user_id":"u-42","status":"verified","failure":null,"sequence":5}}"#;

#[derive(Clone, Default)]
struct Received(Arc<Mutex<Vec<(String, HeaderMap, Bytes)>>>);

impl Received {
    fn all(&self) -> Vec<(String, HeaderMap, Bytes)> {
        self.0.lock().unwrap().clone()
    }
}

struct Receiver {
    addr: SocketAddr,
    received: Received,
}

fn record(path: &str, received: &Received, headers: HeaderMap, body: Bytes) {
    received
        .0
        .lock()
        .unwrap()
        .push((path.to_owned(), headers, body));
}

async fn spawn_receiver() -> Receiver {
    let received = Received::default();
    let app = Router::new()
        .route(
            "/ok",
            post(
                |State(r): State<Received>, h: HeaderMap, b: Bytes| async move {
                    record("/ok", &r, h, b);
                    StatusCode::OK
                },
            ),
        )
        .route("/accepted", post(|| async { StatusCode::ACCEPTED }))
        .route(
            "/fail",
            post(|| async { StatusCode::INTERNAL_SERVER_ERROR }),
        )
        .route("/gone", post(|| async { StatusCode::GONE }))
        .route(
            "/redirect",
            post(|| async { (StatusCode::FOUND, [(header::LOCATION, "/ok")]) }),
        )
        .route(
            "/slow",
            post(|| async {
                tokio::time::sleep(Duration::from_secs(3)).await;
                StatusCode::OK
            }),
        )
        .route(
            "/busy",
            post(|| async {
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    [(header::RETRY_AFTER, "120")],
                )
                    .into_response()
            }),
        )
        .route(
            "/busy-until",
            post(|| async {
                let at = SystemTime::now() + Duration::from_secs(3_600);
                (
                    StatusCode::TOO_MANY_REQUESTS,
                    [(header::RETRY_AFTER, httpdate::fmt_http_date(at))],
                )
                    .into_response()
            }),
        )
        .with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    Receiver { addr, received }
}

fn loopback() -> AddressPolicy {
    AddressPolicy::parse(&["127.0.0.0/8"]).unwrap()
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn sender() -> Sender {
    Sender::new(DELIVERY_TIMEOUT)
}

/// Checks the URL and resolves it as a delivery would, then makes the attempt.
async fn deliver(sender: &Sender, url: &str, secrets: &[&str]) -> Attempt {
    let policy = loopback();
    let target = policy.check_url(url).unwrap();
    let addr = policy.resolve(&target).await.unwrap();
    let headers = Headers::new(secrets, "evt_01J9Z3", now(), EVENT).unwrap();
    sender.send(&target, addr, &headers, EVENT.to_vec()).await
}

#[tokio::test]
async fn a_2xx_delivers_the_signed_event() {
    let receiver = spawn_receiver().await;
    let secret = new_secret().unwrap();
    let url = format!("http://{}/ok", receiver.addr);

    let attempt = deliver(&sender(), &url, &[&secret]).await;

    assert_eq!(
        attempt,
        Attempt {
            status: Some(200),
            retry_after: None,
            error: None
        }
    );
    assert!(attempt.delivered());
    let received = receiver.received.all();
    assert_eq!(received.len(), 1);
    let (_, headers, body) = &received[0];
    assert_eq!(body.as_ref(), EVENT);
    assert_eq!(headers[header::CONTENT_TYPE], "application/json");
    assert_eq!(headers["webhook-id"], "evt_01J9Z3");
    let sent_at: i64 = headers["webhook-timestamp"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((now() - sent_at).abs() <= 5);
    assert!(
        headers["webhook-signature"]
            .to_str()
            .unwrap()
            .starts_with("v1,")
    );
    Webhook::new(&secret)
        .unwrap()
        .verify(body, headers)
        .unwrap();
    let stranger = new_secret().unwrap();
    assert!(
        Webhook::new(&stranger)
            .unwrap()
            .verify(body, headers)
            .is_err()
    );

    let other_2xx = deliver(
        &sender(),
        &format!("http://{}/accepted", receiver.addr),
        &[&secret],
    )
    .await;
    assert_eq!(other_2xx.status, Some(202));
    assert!(other_2xx.delivered());
}

#[tokio::test]
async fn during_rotation_a_receiver_with_either_secret_accepts() {
    let receiver = spawn_receiver().await;
    let old = new_secret().unwrap();
    let new = new_secret().unwrap();

    let attempt = deliver(
        &sender(),
        &format!("http://{}/ok", receiver.addr),
        &[&new, &old],
    )
    .await;

    assert!(attempt.delivered());
    let (_, headers, body) = &receiver.received.all()[0];
    assert_eq!(
        headers["webhook-signature"]
            .to_str()
            .unwrap()
            .split(' ')
            .count(),
        2
    );
    for secret in [&old, &new] {
        Webhook::new(secret).unwrap().verify(body, headers).unwrap();
    }
}

#[tokio::test]
async fn a_name_is_connected_to_the_given_address_without_a_look_up() {
    // `hooks.test` resolves nowhere: the attempt can only arrive if the sender used `addr`.
    let receiver = spawn_receiver().await;
    let secret = new_secret().unwrap();
    let policy = loopback();
    let port = receiver.addr.port();
    let target = policy
        .check_url(&format!("http://hooks.test:{port}/ok"))
        .unwrap();
    let headers = Headers::new(&[&secret], "evt_01J9Z3", now(), EVENT).unwrap();

    let attempt = sender()
        .send(&target, receiver.addr, &headers, EVENT.to_vec())
        .await;

    assert!(attempt.delivered(), "{attempt:?}");
    let (_, received, body) = &receiver.received.all()[0];
    assert_eq!(
        received[header::HOST],
        format!("hooks.test:{port}").as_str()
    );
    Webhook::new(&secret)
        .unwrap()
        .verify(body, received)
        .unwrap();
}

#[tokio::test]
async fn an_address_other_than_the_targets_is_not_used() {
    let receiver = spawn_receiver().await;
    let policy = loopback();
    let target = policy
        .check_url(&format!("http://{}/ok", receiver.addr))
        .unwrap();
    let headers = Headers::new(&[&new_secret().unwrap()], "evt_1", now(), EVENT).unwrap();
    let elsewhere: SocketAddr = format!("127.0.0.2:{}", receiver.addr.port())
        .parse()
        .unwrap();
    let other_port: SocketAddr = "127.0.0.1:9".parse().unwrap();

    for addr in [elsewhere, other_port] {
        let attempt = sender().send(&target, addr, &headers, EVENT.to_vec()).await;
        assert_eq!(
            attempt,
            Attempt::failed("address does not match the target")
        );
    }
    assert!(receiver.received.all().is_empty());
}

#[tokio::test]
async fn failures_and_gone() {
    let receiver = spawn_receiver().await;
    let secret = new_secret().unwrap();

    let failed = deliver(
        &sender(),
        &format!("http://{}/fail", receiver.addr),
        &[&secret],
    )
    .await;
    assert_eq!(failed.status, Some(500));
    assert!(!failed.delivered());
    assert!(!failed.gone());
    assert_eq!(failed.error, None);

    let gone = deliver(
        &sender(),
        &format!("http://{}/gone", receiver.addr),
        &[&secret],
    )
    .await;
    assert_eq!(gone.status, Some(410));
    assert!(gone.gone());
    assert!(!gone.delivered());
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let receiver = spawn_receiver().await;
    let secret = new_secret().unwrap();

    let attempt = deliver(
        &sender(),
        &format!("http://{}/redirect", receiver.addr),
        &[&secret],
    )
    .await;

    assert_eq!(attempt.status, Some(302));
    assert!(!attempt.delivered());
    assert_eq!(
        attempt.error.as_deref(),
        Some("redirect not followed (302)")
    );
    assert!(
        receiver.received.all().is_empty(),
        "the redirect was followed"
    );
}

#[tokio::test]
async fn a_receiver_slower_than_the_timeout_fails() {
    let receiver = spawn_receiver().await;
    let secret = new_secret().unwrap();
    let started = Instant::now();

    let attempt = deliver(
        &Sender::new(Duration::from_millis(300)),
        &format!("http://{}/slow?token=s3cret", receiver.addr),
        &[&secret],
    )
    .await;

    assert_eq!(attempt, Attempt::failed("timed out"));
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn retry_after_is_kept_in_seconds_or_as_a_date() {
    let receiver = spawn_receiver().await;
    let secret = new_secret().unwrap();

    let busy = deliver(
        &sender(),
        &format!("http://{}/busy", receiver.addr),
        &[&secret],
    )
    .await;
    assert_eq!(busy.status, Some(503));
    assert_eq!(busy.retry_after, Some(Duration::from_secs(120)));

    let until = deliver(
        &sender(),
        &format!("http://{}/busy-until", receiver.addr),
        &[&secret],
    )
    .await;
    assert_eq!(until.status, Some(429));
    let wait = until.retry_after.unwrap();
    assert!(
        (Duration::from_secs(3_590)..=Duration::from_secs(3_600)).contains(&wait),
        "{wait:?}"
    );
}

#[tokio::test]
async fn a_closed_port_is_connection_refused() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);

    let attempt = deliver(
        &sender(),
        &format!("http://{addr}/hook?token=s3cret"),
        &[&new_secret().unwrap()],
    )
    .await;

    assert_eq!(attempt, Attempt::failed("connection refused"));
}

#[tokio::test]
async fn a_tls_failure_is_named_without_the_url() {
    // https to a plain-HTTP receiver: the handshake fails.
    let receiver = spawn_receiver().await;

    let attempt = deliver(
        &sender(),
        &format!("https://{}/ok?token=s3cret", receiver.addr),
        &[&new_secret().unwrap()],
    )
    .await;

    let error = attempt.error.unwrap();
    assert_eq!(attempt.status, None);
    assert!(error.starts_with("tls"), "{error}");
    assert!(
        !error.contains("s3cret") && !error.contains("127.0.0.1"),
        "{error}"
    );
    assert!(receiver.received.all().is_empty());
}

#[tokio::test]
async fn a_refused_address_is_an_attempt_that_was_not_made() {
    let policy = AddressPolicy::default();
    let target: Target = policy.check_url("https://localhost/hook").unwrap();

    let attempt = match policy.resolve(&target).await {
        Ok(addr) => panic!("localhost resolved to an allowed {addr}"),
        Err(refusal) => Attempt::refused(&refusal),
    };

    assert_eq!(attempt.status, None);
    assert!(attempt.error.unwrap().starts_with("address not allowed"));
}
