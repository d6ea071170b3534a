//! Several `realname serve` nodes over one PostgreSQL: 200 journeys spread across three
//! nodes (submitted on one, confirmed on another, reviewed on a third), one node killed with
//! SIGKILL half-way, and every application still ends where it should, paid exactly once.
//! Three nodes deliver every webhook attempt exactly once between them, and a key revoked on
//! one is refused by all of them at once.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use futures_util::StreamExt;
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use tokio::sync::Mutex;

mod common;

use common::KillOnDrop;

const BIN: &str = env!("CARGO_BIN_EXE_realname");
const JOURNEYS: usize = 200;
const PASSWORD: &str = "correct horse battery";

struct Node {
    child: KillOnDrop,
    base: String,
}

fn start_node(url: &str, key: &str, dir: &std::path::Path) -> Node {
    let mut command = Command::new(BIN);
    command
        .args(["serve", "--listen", "127.0.0.1:0", "--database", url])
        .current_dir(dir)
        .env("REALNAME_DATA_KEY", key)
        .env("REALNAME_DATABASE_MAX_CONNECTIONS", "8")
        .env("REALNAME_WEBHOOKS_ALLOW_CIDRS", "127.0.0.0/8")
        // One reviewer decides each case: no approval is sampled for a second approver.
        .env("REALNAME_REVIEW_SECOND_APPROVAL_SAMPLE", "0")
        // 200 users from one address: the limits are not what this test is about.
        .env("REALNAME_LIMITS_SESSIONS_PER_MINUTE", "1000000")
        .env("REALNAME_LIMITS_ACCOUNTS_PER_MINUTE", "1000000")
        .env("RUST_LOG", "warn")
        .stderr(Stdio::null());
    let (child, base) = common::start_serve(command);
    Node { child, base }
}

struct Cluster {
    nodes: Vec<String>,
    alive: Mutex<Vec<bool>>,
    client: Client,
}

impl Cluster {
    /// The node a load balancer would send request `n` to: node `n % 3`, or the next live one.
    async fn node(&self, n: usize) -> String {
        let alive = self.alive.lock().await;
        (0..self.nodes.len())
            .map(|k| (n + k) % self.nodes.len())
            .find(|&i| alive[i])
            .map(|i| self.nodes[i].clone())
            .unwrap()
    }

    async fn call(
        &self,
        node: usize,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        // A request that reaches a node as it dies is retried elsewhere, as a balancer would.
        for attempt in 0..3 {
            let base = self.node(node + attempt).await;
            let mut req = self.client.request(method.clone(), format!("{base}{path}"));
            if let Some(t) = token {
                req = req.bearer_auth(t);
            }
            if let Some(b) = &body {
                req = req.json(b);
            }
            match req.send().await {
                Ok(res) => {
                    let status = res.status();
                    let value = res.json().await.unwrap_or(Value::Null);
                    return (status, value);
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
        panic!("no node answered {path}");
    }

    async fn ok(
        &self,
        node: usize,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Value {
        let (status, value) = self.call(node, method, path, token, body).await;
        assert!(status.is_success(), "{path}: {status} {value}");
        value
    }

    async fn login(&self, node: usize, login: &str, password: &str) -> String {
        let body = self
            .ok(
                node,
                Method::POST,
                "/v1/sessions",
                None,
                Some(json!({"login": login, "password": password})),
            )
            .await;
        body["token"].as_str().unwrap().to_owned()
    }
}

/// Every tenth card is one the sandbox bank returns (ends in 0002).
fn card(i: usize) -> String {
    realname_store_tests::fixtures::icbc_card(i, if i % 10 == 0 { "0002" } else { "1111" })
}

fn identity(i: usize) -> Value {
    json!({
        "consent": true, "real_name": "John Smith", "nationality": "USA", "date_of_birth": "1990-05-17",
        "phone": "13800138000",
        "documents": {"passport": {"number": format!("P{i:08}"), "expiry_date": realname_store_tests::fixtures::FAR_EXPIRY},
                      "stay_permit": {"kind": "entry_record", "entry_date": "2026-01-10"}}, "sex": "male", "occupation": {"category": "office_worker"},
                      "address": "Room 1201, 88 Jianguo Road, Chaoyang, Beijing", "pep": {"declared": false}})
}

/// Registers `login` on node `i`, signs in and makes a draft with passport `passport`:
/// answers the token and the draft's id.
async fn draft(cluster: &Cluster, i: usize, login: &str, passport: usize) -> (String, String) {
    cluster
        .ok(
            i,
            Method::POST,
            "/v1/accounts",
            None,
            Some(json!({"login": login, "password": PASSWORD})),
        )
        .await;
    let token = cluster.login(i, login, PASSWORD).await;
    let app = cluster
        .ok(
            i,
            Method::POST,
            "/v1/verifications",
            Some(&token),
            Some(identity(passport)),
        )
        .await;
    (token, app["id"].as_str().unwrap().to_owned())
}

async fn start_journey(cluster: &Cluster, i: usize) -> (String, String) {
    let (token, id) = draft(cluster, i, &format!("user{i}@example.com"), i).await;
    for slot in ["passport_photo_page", "stay_permit"] {
        let base = cluster.node(i).await;
        let res = cluster
            .client
            .put(format!("{base}/v1/verifications/{id}/documents/{slot}"))
            .bearer_auth(&token)
            .body(realname_store_tests::fixtures::document_jpeg(b"image", 0))
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success());
    }
    let bank_card = json!({"bank": "ICBC", "card_number": card(i), "card_type": "savings", "account_type": "current", "account_name": "John Smith"});
    cluster
        .ok(
            i,
            Method::PUT,
            &format!("/v1/verifications/{id}/bank_card"),
            Some(&token),
            Some(bank_card),
        )
        .await;
    cluster
        .ok(
            i,
            Method::POST,
            &format!("/v1/verifications/{id}/submit"),
            Some(&token),
            Some(json!({})),
        )
        .await;
    (token, id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_nodes_share_the_work_and_survive_losing_one() {
    let url = realname_store_tests::backends::fresh_postgres_url().await;
    let key = base64::engine::general_purpose::STANDARD.encode([9u8; 32]);
    let dir = tempfile::tempdir().unwrap();
    let mut nodes: Vec<Node> = (0..3).map(|_| start_node(&url, &key, dir.path())).collect();
    let cluster = Arc::new(Cluster {
        nodes: nodes.iter().map(|n| n.base.clone()).collect(),
        alive: Mutex::new(vec![true; 3]),
        client: Client::new(),
    });
    let staff = Command::new(BIN)
        .args([
            "staff",
            "add",
            "rita",
            "--role",
            "reviewer",
            "--database",
            &url,
        ])
        .current_dir(dir.path())
        .env("REALNAME_DATA_KEY", &key)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin
                .take()
                .unwrap()
                .write_all(b"a long staff password\n")?;
            c.wait_with_output()
        })
        .unwrap();
    assert!(staff.status.success());
    let uri = String::from_utf8_lossy(&staff.stdout)
        .split_whitespace()
        .find(|w| w.starts_with("otpauth://"))
        .map(str::to_owned)
        .expect("staff add prints the second factor");
    let mut authenticator = realname_app::second_factor::Authenticator::from_uri(&uri).unwrap();
    let clock = cli(
        &url,
        &key,
        dir.path(),
        &["apikey", "create", "clock", "--test"],
    )
    .trim()
    .to_owned();

    // Submit the journeys, 16 at a time, each on node i % 3. Half-way, node 1 dies without
    // warning, its worker perhaps holding payouts it had leased; the rest go to live nodes.
    let submit = |range: std::ops::Range<usize>| {
        let cluster = Arc::clone(&cluster);
        futures_util::stream::iter(range)
            .map(move |i| {
                let cluster = Arc::clone(&cluster);
                async move {
                    let (token, id) = start_journey(&cluster, i).await;
                    (i, token, id)
                }
            })
            .buffer_unordered(16)
            .collect::<Vec<_>>()
    };
    let mut started: Vec<(usize, String, String)> = submit(0..JOURNEYS / 2).await;
    nodes[1].child.kill().unwrap();
    let _ = nodes[1].child.wait();
    cluster.alive.lock().await[1] = false;
    started.extend(submit(JOURNEYS / 2..JOURNEYS).await);

    // Leases are a minute of service time: move the shared clock past them.
    cluster
        .ok(
            0,
            Method::POST,
            "/v1/sandbox/clock/advance",
            Some(clock.as_str()),
            Some(json!({"seconds": 61})),
        )
        .await;
    for _ in 0..50 {
        cluster
            .ok(
                2,
                Method::POST,
                "/v1/sandbox/clock/advance",
                Some(clock.as_str()),
                Some(json!({"seconds": 0})),
            )
            .await;
        let mut pending = 0;
        for (i, token, id) in started.iter().step_by(7) {
            let app = cluster
                .ok(
                    *i,
                    Method::GET,
                    &format!("/v1/verifications/{id}"),
                    Some(token),
                    None,
                )
                .await;
            pending += usize::from(app["status"] == "deposit_pending");
        }
        if pending == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // Confirm each amount on the next node, then review on the one after.
    let code = authenticator.code().await;
    let reviewer = cluster
        .ok(
            2,
            Method::POST,
            "/v1/sessions",
            None,
            Some(json!({"login": "rita", "password": "a long staff password", "totp": code})),
        )
        .await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let finished: Vec<(usize, String, Value)> = futures_util::stream::iter(started.clone())
        .map(|(i, token, id)| {
            let (cluster, reviewer) = (Arc::clone(&cluster), reviewer.clone());
            async move {
                let app = cluster
                    .ok(
                        i + 1,
                        Method::GET,
                        &format!("/v1/verifications/{id}"),
                        Some(&token),
                        None,
                    )
                    .await;
                if app["status"] == "awaiting_amount" {
                    let statement = cluster
                        .ok(
                            i + 1,
                            Method::GET,
                            &format!("/v1/sandbox/bank/statement?card_number={}", card(i)),
                            None,
                            None,
                        )
                        .await;
                    let amount = statement["transactions"][0]["amount"]
                        .as_str()
                        .unwrap()
                        .to_owned();
                    cluster
                        .ok(
                            i + 1,
                            Method::POST,
                            &format!("/v1/verifications/{id}/deposit_confirmation"),
                            Some(&token),
                            Some(json!({"amount": amount})),
                        )
                        .await;
                    let (_, queue) = cluster
                        .call(
                            i + 2,
                            Method::GET,
                            "/v1/review/cases?status=open&limit=100",
                            Some(&reviewer),
                            None,
                        )
                        .await;
                    let _ = queue;
                }
                let app = cluster
                    .ok(
                        i + 2,
                        Method::GET,
                        &format!("/v1/verifications/{id}"),
                        Some(&token),
                        None,
                    )
                    .await;
                (i, id, app)
            }
        })
        .buffer_unordered(16)
        .collect()
        .await;

    // The reviewer works the queue from a third node.
    loop {
        let page = cluster
            .ok(
                2,
                Method::GET,
                "/v1/review/cases?status=open&limit=100",
                Some(&reviewer),
                None,
            )
            .await;
        let cases = page["cases"].as_array().unwrap().clone();
        if cases.is_empty() {
            break;
        }
        for case in cases {
            let case_id = case["id"].as_str().unwrap();
            let i = finished
                .iter()
                .find(|(_, id, _)| case["verification_id"] == id.as_str())
                .map(|(i, _, _)| *i)
                .unwrap();
            cluster
                .ok(
                    i + 2,
                    Method::POST,
                    &format!("/v1/review/cases/{case_id}/claim"),
                    Some(&reviewer),
                    None,
                )
                .await;
            let decision = if i % 10 == 1 {
                json!({"outcome": "reject", "reason": "document_unreadable"})
            } else {
                json!({"outcome": "approve"})
            };
            cluster
                .ok(
                    i + 2,
                    Method::POST,
                    &format!("/v1/review/cases/{case_id}/decision"),
                    Some(&reviewer),
                    Some(decision),
                )
                .await;
        }
    }

    // Every application reached its right final state.
    let mut tally = std::collections::BTreeMap::new();
    for (i, token, id) in &started {
        let app = cluster
            .ok(
                *i,
                Method::GET,
                &format!("/v1/verifications/{id}"),
                Some(token),
                None,
            )
            .await;
        let (status, code) = (
            app["status"].as_str().unwrap().to_owned(),
            app["failure"]["code"].as_str().map(str::to_owned),
        );
        let expected = match i % 10 {
            0 => ("failed", Some("deposit_returned")),
            1 => ("failed", Some("document_unreadable")),
            _ => ("verified", None),
        };
        assert_eq!(
            (status.as_str(), code.as_deref()),
            expected,
            "journey {i}: {app}"
        );
        *tally.entry(status).or_insert(0) += 1;
    }
    assert_eq!(tally.get("verified"), Some(&160));

    // Exactly one payout per application, no state entered twice, no job queued twice.
    let mut db = <sqlx::PgConnection as sqlx::Connection>::connect(&url)
        .await
        .unwrap();
    let payouts: Vec<(String, i64)> = sqlx::query_as(
        "SELECT end_to_end_id, count(*) FROM sandbox_payouts GROUP BY end_to_end_id",
    )
    .fetch_all(&mut db)
    .await
    .unwrap();
    assert_eq!(payouts.len(), JOURNEYS);
    assert!(payouts.iter().all(|(_, n)| *n == 1));
    let repeated: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT application_id, status FROM events GROUP BY application_id, status HAVING count(*) > 1) t",
    )
    .fetch_one(&mut db)
    .await
    .unwrap();
    assert_eq!(repeated, 0, "an application entered a state twice");
    let unfinished: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM jobs WHERE kind = 'pay_deposit' AND done_at IS NULL",
    )
    .fetch_one(&mut db)
    .await
    .unwrap();
    assert_eq!(unfinished, 0);
    let rerun: i64 = sqlx::query_scalar("SELECT count(*) FROM jobs WHERE attempts > 1")
        .fetch_one(&mut db)
        .await
        .unwrap();
    println!(
        "multi-node: {JOURNEYS} journeys, tally {tally:?}, jobs run again after the kill: {rerun}"
    );
}

/// Runs the CLI against the shared database and returns what it printed.
fn cli(url: &str, key: &str, dir: &std::path::Path, args: &[&str]) -> String {
    let out = Command::new(BIN)
        .args(args)
        .args(["--database", url])
        .current_dir(dir)
        .env("REALNAME_DATA_KEY", key)
        .output()
        .unwrap();
    assert!(out.status.success(), "realname {args:?}: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// Per `webhook-id`: how many requests arrived, how many are being answered now, and the most
/// that were at the same time.
type Seen = std::collections::HashMap<String, (u32, u32, u32)>;

/// A receiver on loopback that answers 500 to the first delivery of each event and 200 to
/// the next, slowly enough that two nodes sending the same attempt would overlap.
#[derive(Clone, Default)]
struct Receiver {
    seen: Arc<std::sync::Mutex<Seen>>,
}

async fn receive(
    axum::extract::State(r): axum::extract::State<Receiver>,
    headers: axum::http::HeaderMap,
) -> axum::http::StatusCode {
    let id = headers["webhook-id"].to_str().unwrap().to_owned();
    let first = {
        let mut seen = r.seen.lock().unwrap();
        let (count, now, most) = seen.entry(id.clone()).or_default();
        *count += 1;
        *now += 1;
        *most = (*most).max(*now);
        *count == 1
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    r.seen.lock().unwrap().get_mut(&id).unwrap().1 -= 1;
    if first {
        axum::http::StatusCode::INTERNAL_SERVER_ERROR
    } else {
        axum::http::StatusCode::OK
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_nodes_deliver_each_attempt_once_and_refuse_a_revoked_key_at_once() {
    const DRAFTS: usize = 24;
    let url = realname_store_tests::backends::fresh_postgres_url().await;
    let key = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
    let dir = tempfile::tempdir().unwrap();
    let nodes: Vec<Node> = (0..3).map(|_| start_node(&url, &key, dir.path())).collect();
    let cluster = Cluster {
        nodes: nodes.iter().map(|n| n.base.clone()).collect(),
        alive: Mutex::new(vec![true; 3]),
        client: Client::new(),
    };

    let receiver = Receiver::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hooks = format!("http://{}/hooks", listener.local_addr().unwrap());
    let app = axum::Router::new()
        .route("/hooks", axum::routing::post(receive))
        .with_state(receiver.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let platform = cli(
        &url,
        &key,
        dir.path(),
        &[
            "apikey",
            "create",
            "shop",
            "--test",
            "--scope",
            "webhooks:manage",
            "--scope",
            "events:read",
        ],
    )
    .trim()
    .to_owned();
    let endpoint = cluster
        .ok(
            0,
            Method::POST,
            "/v1/webhook_endpoints",
            Some(&platform),
            Some(json!({"url": hooks, "events": ["verification.created"], "description": "three nodes"})),
        )
        .await;
    let endpoint_id = endpoint["id"].as_str().unwrap().to_owned();

    // Drafts made on every node: each makes one `verification.created` event.
    let mut events = std::collections::BTreeSet::new();
    for i in 0..DRAFTS {
        let (_, id) = draft(&cluster, i, &format!("hook{i}@example.com"), 1000 + i).await;
        let feed = cluster
            .ok(
                i,
                Method::GET,
                &format!("/v1/events?verification_id={id}"),
                Some(&platform),
                None,
            )
            .await;
        events.insert(feed["events"][0]["id"].as_str().unwrap().to_owned());
    }
    assert_eq!(events.len(), DRAFTS);

    // Every first attempt fails; the retries fall due 5 s of service time later, and every
    // node's worker competes for them.
    let delivered = |want: u32| {
        let seen = receiver.seen.lock().unwrap();
        events.iter().all(|e| {
            seen.get(e)
                .is_some_and(|(count, now, _)| *count >= want && *now == 0)
        })
    };
    for _ in 0..100 {
        if delivered(1) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(delivered(1), "every event was tried once");
    cluster
        .ok(
            1,
            Method::POST,
            "/v1/sandbox/clock/advance",
            Some(&platform),
            Some(json!({"seconds": 6})),
        )
        .await;
    for _ in 0..100 {
        if delivered(2) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Three more seconds in which a double delivery would show.
    tokio::time::sleep(Duration::from_secs(3)).await;
    {
        let seen = receiver.seen.lock().unwrap();
        for event in &events {
            let (count, _, most) = seen.get(event).copied().unwrap_or_default();
            assert_eq!(count, 2, "{event}: one failed attempt, then one delivery");
            assert_eq!(most, 1, "{event}: never sent twice at the same time");
        }
        assert_eq!(seen.len(), DRAFTS, "nothing but the drafts' events");
    }
    let mut rows = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = cluster
            .ok(
                2,
                Method::GET,
                &format!("/v1/webhook_endpoints/{endpoint_id}/deliveries?limit=100{cursor}"),
                Some(&platform),
                None,
            )
            .await;
        rows.extend(page["deliveries"].as_array().unwrap().clone());
        match page["next_cursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => break,
        }
    }
    let mut states: Vec<(String, u64, String)> = rows
        .iter()
        .map(|r| {
            (
                r["event_id"].as_str().unwrap().to_owned(),
                r["attempt"].as_u64().unwrap(),
                r["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    states.sort();
    let expected: Vec<(String, u64, String)> = events
        .iter()
        .flat_map(|e| {
            [
                (e.clone(), 1, "pending".to_owned()),
                (e.clone(), 2, "delivered".to_owned()),
            ]
        })
        .collect();
    assert_eq!(states, expected, "one row per attempt, as the receiver saw");

    // A key revoked by the CLI is refused by every node at once: nothing caches it.
    for node in 0..3 {
        let (status, _) = cluster
            .call(
                node,
                Method::GET,
                "/v1/events?limit=1",
                Some(&platform),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK);
    }
    let prefix = realname_core::platform::key_prefix(&platform).to_owned();
    cli(&url, &key, dir.path(), &["apikey", "revoke", &prefix]);
    for node in 0..3 {
        let (status, body) = cluster
            .call(
                node,
                Method::GET,
                "/v1/events?limit=1",
                Some(&platform),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "node {node}: {body}");
    }

    // A fourth node started live over this sandbox store is refused, in one line, while the
    // three go on: no sandbox account, case or event ever reaches live mode (CONTRACT 9).
    for folder in ["out", "in"] {
        std::fs::create_dir_all(dir.path().join(folder)).unwrap();
    }
    let live = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--database", &url])
        .current_dir(dir.path())
        .env("REALNAME_DATA_KEY", &key)
        .env_remove("RUST_LOG")
        .env("REALNAME_RAIL", "iso20022")
        .env("REALNAME_ISO20022_OUTBOX_DIR", "out")
        .env("REALNAME_ISO20022_INBOX_DIR", "in")
        .env("REALNAME_ISO20022_DEBTOR_NAME", "Realname Ltd")
        .env("REALNAME_ISO20022_DEBTOR_ACCOUNT", "110060123456789012")
        .env("REALNAME_ISO20022_DEBTOR_AGENT", "BKCHCNBJ")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&live.stderr);
    assert_eq!(live.status.code(), Some(1), "{said}");
    assert_eq!(said.lines().count(), 1, "{said}");
    assert!(said.contains("this store holds sandbox data"), "{said}");
    let (status, _) = cluster.call(0, Method::GET, "/readyz", None, None).await;
    assert_eq!(status, StatusCode::OK, "the sandbox nodes go on");
    drop(nodes);
}
