//! `realname-bench webhooks`: users make and cancel drafts for a fixed time, each status change
//! one event, delivered to a receiver on loopback. Prints events made and delivered per
//! second, how long the backlog took to drain after the load stopped, and the delay from a
//! status change (its request answered) to the event's arrival at the receiver, p50/p90/p99.
//!
//! The default mode's `--webhooks` uses the same receiver, so the journey can be measured with
//! every status change also queued and delivered.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use reqwest::{Client, Method};
use serde_json::{Value, json};

use crate::{Backend, Driver, Server, fresh_database, percentile, realname_bin};

#[derive(clap::Args)]
pub struct WebhookArgs {
    #[arg(long, value_enum, default_value = "sqlite")]
    database: Backend,
    /// Concurrent users making and cancelling drafts.
    #[arg(long, default_value_t = 16)]
    users: usize,
    /// How long they do it.
    #[arg(long, default_value_t = 20)]
    seconds: u64,
    /// A pause after each draft made and cancelled: a load below what delivery keeps up
    /// with, so the delay is the service's, not a backlog's.
    #[arg(long, default_value_t = 0)]
    pause_ms: u64,
    /// The realname binary; by default the one beside this program.
    #[arg(long)]
    bin: Option<PathBuf>,
}

/// A receiver that answers 200 at once and notes when each event arrived.
#[derive(Clone, Default)]
pub struct Receiver {
    arrived: Arc<Mutex<HashMap<(String, String), Instant>>>,
}

impl Receiver {
    pub fn count(&self) -> usize {
        self.arrived.lock().unwrap().len()
    }

    fn arrival(&self, verification: &str, kind: &str) -> Option<Instant> {
        self.arrived
            .lock()
            .unwrap()
            .get(&(verification.to_owned(), kind.to_owned()))
            .copied()
    }
}

async fn receive(State(r): State<Receiver>, body: Bytes) -> axum::http::StatusCode {
    let at = Instant::now();
    if let Ok(event) = serde_json::from_slice::<Value>(&body) {
        let verification = event["data"]["id"].as_str().unwrap_or("").to_owned();
        let kind = event["type"].as_str().unwrap_or("").to_owned();
        r.arrived
            .lock()
            .unwrap()
            .entry((verification, kind))
            .or_insert(at);
    }
    axum::http::StatusCode::OK
}

/// Starts a receiver on loopback and subscribes it, with a platform key made by the CLI, to
/// every event type. `None` when the binary has no webhooks.
pub async fn subscribe(server: &Server, client: &Client) -> Option<Receiver> {
    let key = server.cli(&["apikey", "create", "bench", "--test"])?;
    let receiver = Receiver::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks", listener.local_addr().unwrap());
    let app = axum::Router::new()
        .route("/hooks", axum::routing::post(receive))
        .with_state(receiver.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let res = client
        .post(format!("{}/v1/webhook_endpoints", server.base))
        .bearer_auth(key.trim())
        .json(&json!({"url": url, "events": ["*"], "description": "realname-bench"}))
        .send()
        .await
        .ok()?;
    res.status().is_success().then_some(receiver)
}

pub async fn run(args: &WebhookArgs) {
    let bin = realname_bin(args.bin.as_deref());
    let (dir, url) = fresh_database(args.database).await;
    let server = crate::start_server(&bin, dir, &url);
    let client = Client::new();
    let receiver = subscribe(&server, &client)
        .await
        .expect("the server takes a webhook endpoint");
    let driver = Arc::new(Driver::new(client, server.base.clone()));

    let started = Instant::now();
    let deadline = started + Duration::from_secs(args.seconds);
    let users: Vec<_> = (0..args.users)
        .map(|u| {
            let driver = Arc::clone(&driver);
            let pause = Duration::from_millis(args.pause_ms);
            tokio::spawn(async move { make_and_cancel(&driver, u, deadline, pause).await })
        })
        .collect();
    let mut made: Vec<(String, &'static str, Instant)> = Vec::new();
    for u in users {
        made.extend(u.await.unwrap_or_default());
    }
    let load = started.elapsed();
    // Registration and sign-in made no events; the drafts' first ones start the clock.
    let first = made.iter().map(|(_, _, at)| *at).min().unwrap_or(started);
    let drain_started = Instant::now();
    while receiver.count() < made.len() && drain_started.elapsed() < Duration::from_secs(120) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let drained = drain_started.elapsed();
    let last = made
        .iter()
        .filter_map(|(id, kind, _)| receiver.arrival(id, kind))
        .max()
        .unwrap_or(first);
    let mut delays: Vec<Duration> = made
        .iter()
        .filter_map(|(id, kind, at)| {
            receiver
                .arrival(id, kind)
                .map(|got| got.saturating_duration_since(*at))
        })
        .collect();
    delays.sort();
    let delivered = delays.len();
    let making = (load - (first - started)).as_secs_f64();
    let delivering = (last - first).as_secs_f64().max(f64::MIN_POSITIVE);
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let backend = args.database.name();
    println!(
        "realname-bench webhooks: {backend}, {} users making and cancelling drafts for {} s (pausing {} ms after each), one endpoint taking every event, a receiver on loopback",
        args.users, args.seconds, args.pause_ms
    );
    println!();
    println!(
        "| events made | made/s | delivered | delivered/s | backlog drained in | delay p50 ms | p90 ms | p99 ms | max ms |"
    );
    println!("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    println!(
        "| {} | {:.1} | {delivered} | {:.1} | {:.1} s | {:.1} | {:.1} | {:.1} | {:.1} |",
        made.len(),
        made.len() as f64 / making,
        delivered as f64 / delivering,
        drained.as_secs_f64(),
        ms(percentile(&delays, 50.0)),
        ms(percentile(&delays, 90.0)),
        ms(percentile(&delays, 99.0)),
        ms(delays.last().copied().unwrap_or_default()),
    );
    if delivered < made.len() {
        println!(
            "{} events were not delivered within 120 s of the load's end",
            made.len() - delivered
        );
    }
}

/// One user: registers, signs in, then makes a draft and cancels it until `deadline`. Answers
/// each status change with when its request was answered (the change is committed by then).
async fn make_and_cancel(
    d: &Driver,
    u: usize,
    deadline: Instant,
    pause: Duration,
) -> Vec<(String, &'static str, Instant)> {
    let mut made = Vec::new();
    let labels = ["setup", "setup", "POST /v1/verifications"];
    let login = format!("hooks{u}@example.com");
    let first = crate::register_and_draft(d, &login, &format!("H{u:03}00000"), labels).await;
    let Some((token, mut id)) = first else {
        return made;
    };
    let mut n = 1;
    loop {
        made.push((id.clone(), "verification.created", Instant::now()));
        let cancelled = d
            .call(
                "POST cancel",
                Method::POST,
                &format!("/v1/verifications/{id}/cancel"),
                Some(&token),
                None,
            )
            .await;
        if cancelled["status"] == "cancelled" {
            made.push((id, "verification.cancelled", Instant::now()));
        }
        tokio::time::sleep(pause).await;
        if Instant::now() >= deadline {
            break;
        }
        let draft = d
            .call(
                labels[2],
                Method::POST,
                "/v1/verifications",
                Some(&token),
                Some(crate::identity(&format!("H{u:03}{n:05}"))),
            )
            .await;
        let Some(next) = draft["id"].as_str().map(str::to_owned) else {
            break;
        };
        id = next;
        n += 1;
    }
    made
}
