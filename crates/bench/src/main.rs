//! `realname-bench`: starts `realname serve` as its own process, drives virtual users through
//! the whole journey over HTTP for a fixed time, and prints per-endpoint throughput and
//! latency beside the ceilings: the storage engine doing the same kind of transaction without
//! HTTP, and a bare axum "hello".
//!
//! `cargo run --release -p realname-bench -- --database sqlite|postgres [--users 32] [--seconds 20]`
//!
//! `realname-bench queue` measures the reviewers' queue page alone instead (see `queue.rs`);
//! `realname-bench webhooks` the delivery of events to a receiver (see `webhooks.rs`);
//! `realname-bench rail` the ISO 20022 rail's files at size (see `rail.rs`);
//! `realname-bench rotation` a data-key rotation under the journey's load (see `rotation.rs`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use base64::Engine;
use clap::{Parser, Subcommand, ValueEnum};
use reqwest::{Client, Method};
use serde_json::{Value, json};
use tokio::sync::Mutex;

mod queue;
mod rail;
mod rotation;
mod screening;
mod webhooks;

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }
}

// A flag of the default mode given with a subcommand is refused rather than ignored.
#[derive(Parser)]
#[command(args_conflicts_with_subcommands = true)]
struct Args {
    /// Without one, the whole journeys and the endpoints alone.
    #[command(subcommand)]
    mode: Option<Mode>,
    #[arg(long, value_enum, default_value = "sqlite")]
    database: Backend,
    /// Concurrent virtual users.
    #[arg(long, default_value_t = 32)]
    users: usize,
    /// How long the journeys run.
    #[arg(long, default_value_t = 20)]
    seconds: u64,
    /// Applications already in the store before the run (seeded straight into the database:
    /// verified, each with an account, a document hash and a decided review case).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// How long each ceiling and each endpoint-alone run lasts.
    #[arg(long, default_value_t = 5)]
    probe_seconds: u64,
    /// The realname binary; by default the one beside this program.
    #[arg(long)]
    bin: Option<PathBuf>,
    /// Subscribe a receiver on loopback to every event, so each status change of the journeys
    /// is also delivered as a webhook.
    #[arg(long)]
    webhooks: bool,
    /// Load the UN and OFAC lists before the server starts, so every submit is screened
    /// (compare `POST submit` with and without).
    #[arg(long)]
    screening_lists: bool,
}

#[derive(Subcommand)]
enum Mode {
    /// The reviewers' queue page alone, with open cases waiting.
    Queue(queue::QueueArgs),
    /// Webhook delivery: events made and delivered per second, and the delay to the receiver.
    Webhooks(webhooks::WebhookArgs),
    /// The ISO 20022 rail's files: writing a pain.001 and applying a camt.054 of a size.
    Rail(rail::RailArgs),
    /// A data-key rotation: values re-sealed per second, and the journeys' latency during it.
    Rotation(rotation::RotationArgs),
    /// List screening: the matcher alone against UN and OFAC, and a whole re-screening of
    /// verified identities after a new list version.
    Screening(screening::ScreeningArgs),
}

const PASSWORD: &str = "correct horse battery";
/// The server's PostgreSQL pool, and the store-alone ceiling's.
const SERVER_CONNECTIONS: u32 = 16;

struct Server {
    child: Child,
    base: String,
    dir: tempfile::TempDir,
    bin: PathBuf,
    url: String,
    /// The reviewer's second factor, as `realname staff add` printed it (a binary from before
    /// second factors prints none).
    reviewer_factor: Option<std::sync::Mutex<realname_app::second_factor::Authenticator>>,
}

impl Server {
    /// The reviewer's sign-in, with the next code of their second factor.
    fn reviewer_sign_in(&self) -> serde_json::Value {
        let now = chrono::Utc::now().timestamp().max(0) as u64;
        let code = self.reviewer_factor.as_ref().map(|factor| {
            factor
                .lock()
                .unwrap()
                .code_at(now)
                .expect("the reviewer signs in once or twice a run")
        });
        json!({"login": "bench-reviewer", "password": PASSWORD, "totp": code})
    }

    /// Runs a `realname` command against the server's database: what it printed, if it
    /// succeeded (an older binary may not have the command).
    fn cli(&self, args: &[&str]) -> Option<String> {
        let out = realname(&self.bin, self.dir.path(), &self.url, args)
            .stderr(Stdio::null())
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn realname_bin(bin: Option<&Path>) -> PathBuf {
    bin.map(Path::to_path_buf).unwrap_or_else(|| {
        let me = std::env::current_exe().unwrap();
        me.with_file_name("realname")
    })
}

/// A `realname` command against the database at `url`, run in `dir` with the benchmark's
/// data key.
fn realname(
    bin: &Path,
    dir: &Path,
    url: &str,
    args: impl IntoIterator<Item = impl AsRef<std::ffi::OsStr>>,
) -> Command {
    let mut command = Command::new(bin);
    command
        .args(args)
        .args(["--database", url])
        .current_dir(dir)
        .env("REALNAME_DATA_KEY", data_key());
    command
}

/// The data key the server runs with, and the queue's seeder seals with.
fn data_key() -> String {
    base64::engine::general_purpose::STANDARD.encode([5u8; 32])
}

/// A fresh database for one run, and the directory the server runs in: on SQLite the
/// database is a file in that directory.
async fn fresh_database(backend: Backend) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let url = match backend {
        Backend::Sqlite => format!("sqlite://{}", dir.path().join("bench.db").display()),
        Backend::Postgres => realname_store_tests::backends::fresh_postgres_url().await,
    };
    (dir, url)
}

/// Starts `realname serve` on `url`, then adds the reviewer account with `realname staff add`.
fn start_server(bin: &Path, dir: tempfile::TempDir, url: &str) -> Server {
    let mut child = realname(bin, dir.path(), url, ["serve", "--listen", "127.0.0.1:0"])
        .env(
            "REALNAME_DATABASE_MAX_CONNECTIONS",
            SERVER_CONNECTIONS.to_string(),
        )
        .env("REALNAME_WEBHOOKS_ALLOW_CIDRS", "127.0.0.0/8")
        // One reviewer approves each journey's case: none is sampled for a second approver.
        .env("REALNAME_REVIEW_SECOND_APPROVAL_SAMPLE", "0")
        // Every virtual user calls from one address; the limits' own cost is measured with
        // them in force but out of reach.
        .env("REALNAME_LIMITS_SESSIONS_PER_MINUTE", "1000000")
        .env("REALNAME_LIMITS_ACCOUNTS_PER_MINUTE", "1000000")
        .env("REALNAME_LIMITS_PLATFORM_PER_MINUTE", "1000000")
        .env("REALNAME_LIMITS_CONNECTIONS_PER_ADDRESS", "1024")
        .env("RUST_LOG", "error")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot start {}: {e} (build it with cargo build --release -p realname)",
                bin.display()
            )
        });
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line.trim().rsplit(' ').next().unwrap().to_owned();
    let mut staff = realname(
        bin,
        dir.path(),
        url,
        ["staff", "add", "bench-reviewer", "--role", "reviewer"],
    )
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .spawn()
    .unwrap();
    staff
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{PASSWORD}\n").as_bytes())
        .unwrap();
    let added = staff.wait_with_output().unwrap();
    assert!(added.status.success());
    let reviewer_factor = String::from_utf8_lossy(&added.stdout)
        .split_whitespace()
        .find(|w| w.starts_with("otpauth://"))
        .map(|uri| {
            realname_app::second_factor::Authenticator::from_uri(uri)
                .expect("an otpauth URI")
                .into()
        });
    Server {
        child,
        base,
        dir,
        bin: bin.to_path_buf(),
        url: url.to_owned(),
        reviewer_factor,
    }
}

const SQLITE_SEED: &str = "
    PRAGMA synchronous = OFF;
    BEGIN;
    WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < :n)
    INSERT INTO accounts (id, login, password_hash, role, created_at)
    SELECT printf('00000000-0000-4000-8000-%012x', i), 'seed' || i || '@example.com', '$argon2id$seed', 'user',
           '2026-01-01T00:00:00.000000Z' FROM s;
    WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < :n)
    INSERT INTO applications (id, account_id, status, form, warnings, card_bank, card_sealed, card_hash,
        consent_at, consent_version, consent_address, created_at, updated_at)
    SELECT printf('10000000-0000-4000-8000-%012x', i), printf('00000000-0000-4000-8000-%012x', i), 'verified',
           randomblob(600), '[]', 'ICBC', randomblob(200), randomblob(32), '2026-01-01T00:00:00.000000Z', 'seed',
           '127.0.0.1', '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z' FROM s;
    INSERT INTO application_documents (application_id, account_id, document_hash)
    SELECT id, account_id, randomblob(32) FROM applications WHERE consent_version = 'seed';
    INSERT INTO review_cases (id, application_id, account_id, submitted_at, due_at, decided_at, outcome)
    SELECT '2' || substr(id, 2), id, account_id, created_at, '2026-01-03T00:00:00.000000Z',
           '2026-01-02T00:00:00.000000Z', 'approve' FROM applications WHERE consent_version = 'seed';
    COMMIT;
    PRAGMA synchronous = FULL;";

const POSTGRES_SEED: &[&str] = &[
    "INSERT INTO accounts (id, login, password_hash, role, created_at)
     SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid, 'seed' || i || '@example.com',
            '$argon2id$seed', 'user', '2026-01-01' FROM generate_series(1, $1) i",
    "INSERT INTO applications (id, account_id, status, form, warnings, card_bank, card_sealed, card_hash,
         consent_at, consent_version, consent_address, created_at, updated_at)
     SELECT ('10000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid,
            ('00000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid, 'verified',
            decode(repeat(md5(i::text), 19), 'hex'), '[]', 'ICBC', decode(repeat(md5((i + 7)::text), 6), 'hex'),
            decode(md5(i::text) || md5((i + 1)::text), 'hex'), '2026-01-01', 'seed', '127.0.0.1', '2026-01-01', '2026-01-01'
     FROM generate_series(1, $1) i",
    "INSERT INTO application_documents (application_id, account_id, document_hash)
     SELECT id, account_id, decode(md5(id::text) || md5(account_id::text), 'hex') FROM applications WHERE consent_version = 'seed'",
    "INSERT INTO review_cases (id, application_id, account_id, submitted_at, due_at, decided_at, outcome)
     SELECT ('2' || substr(id::text, 2))::uuid, id, account_id, created_at, '2026-01-03', '2026-01-02', 'approve'
     FROM applications WHERE consent_version = 'seed'",
];

/// Fills the store with `n` finished applications, straight into the database, and writes
/// them out to the database files (a checkpoint), so that the first requests of the run do
/// not pay for moving a gigabyte of seeding out of the write-ahead log.
async fn seed(backend: Backend, server: &Server, url: &str, n: u64) -> f64 {
    let started = Instant::now();
    match backend {
        Backend::Sqlite => {
            let path = server.dir.path().join("bench.db");
            tokio::task::spawn_blocking(move || {
                let conn = rusqlite::Connection::open(path).unwrap();
                conn.busy_timeout(Duration::from_secs(60)).unwrap();
                conn.execute_batch(&SQLITE_SEED.replace(":n", &n.to_string()))
                    .unwrap();
            })
            .await
            .unwrap();
        }
        Backend::Postgres => {
            let pool = sqlx::postgres::PgPoolOptions::new()
                .max_connections(1)
                .connect(url)
                .await
                .unwrap();
            for statement in POSTGRES_SEED {
                sqlx::query(statement)
                    .bind(n as i64)
                    .execute(&pool)
                    .await
                    .unwrap();
            }
        }
    }
    write_out(backend, url).await;
    started.elapsed().as_secs_f64()
}

/// Leaves a freshly seeded database as a server would find it after a quiet night: on SQLite
/// the write-ahead log checkpointed into the database file, on PostgreSQL vacuumed (so that
/// autovacuum does not wake up for the seeded rows mid-run) and checkpointed.
async fn write_out(backend: Backend, url: &str) {
    match backend {
        Backend::Sqlite => {
            let path = realname_store_sqlite::path_of_url(url);
            tokio::task::spawn_blocking(move || {
                let conn = rusqlite::Connection::open(path).unwrap();
                conn.busy_timeout(Duration::from_secs(60)).unwrap();
                conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
                    .unwrap();
            })
            .await
            .unwrap();
        }
        Backend::Postgres => {
            let pool = sqlx::postgres::PgPoolOptions::new()
                .max_connections(1)
                .connect(url)
                .await
                .unwrap();
            sqlx::query("VACUUM ANALYZE").execute(&pool).await.unwrap();
            sqlx::query("CHECKPOINT").execute(&pool).await.unwrap();
        }
    }
}

/// Latencies per endpoint.
#[derive(Default)]
struct Timings {
    by_endpoint: BTreeMap<&'static str, Vec<Duration>>,
    errors: BTreeMap<&'static str, usize>,
}

struct Driver {
    client: Client,
    base: String,
    timings: Mutex<Timings>,
}

impl Driver {
    fn new(client: Client, base: String) -> Self {
        Self {
            client,
            base,
            timings: Mutex::new(Timings::default()),
        }
    }

    async fn call(
        &self,
        label: &'static str,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Value {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let started = Instant::now();
        let res = req.send().await;
        let elapsed = started.elapsed();
        let (ok, value) = match res {
            Ok(r) => (
                r.status().is_success(),
                r.json().await.unwrap_or(Value::Null),
            ),
            Err(_) => (false, Value::Null),
        };
        let mut t = self.timings.lock().await;
        if !ok && std::env::var("BENCH_DEBUG").is_ok() {
            eprintln!("{label}: {}", value["error"]);
        }
        t.by_endpoint.entry(label).or_default().push(elapsed);
        if !ok {
            *t.errors.entry(label).or_default() += 1;
        }
        value
    }

    async fn upload(&self, token: &str, id: &str, slot: &str) {
        let started = Instant::now();
        let body = realname_store_tests::fixtures::document_jpeg(b"", 200 * 1024);
        let res = self
            .client
            .put(format!(
                "{}/v1/verifications/{id}/documents/{slot}",
                self.base
            ))
            .bearer_auth(token)
            .body(body)
            .send()
            .await;
        let ok = res.is_ok_and(|r| r.status().is_success());
        let mut t = self.timings.lock().await;
        t.by_endpoint
            .entry("PUT documents (200 KiB)")
            .or_default()
            .push(started.elapsed());
        if !ok {
            *t.errors.entry("PUT documents (200 KiB)").or_default() += 1;
        }
    }
}

fn card_number(n: usize) -> String {
    realname_store_tests::fixtures::icbc_card(n, "1111")
}

/// A valid identity with this passport number.
fn identity(passport: &str) -> Value {
    json!({
        "consent": true, "real_name": "John Smith", "nationality": "USA", "date_of_birth": "1990-05-17",
        "phone": "13800138000",
        "documents": {"passport": {"number": passport, "expiry_date": realname_store_tests::fixtures::FAR_EXPIRY},
                      "stay_permit": {"kind": "entry_record", "entry_date": "2026-01-10"}}, "sex": "male", "occupation": {"category": "office_worker"},
                      "address": "Room 1201, 88 Jianguo Road, Chaoyang, Beijing", "pep": {"declared": false}})
}

/// Registers `login`, logs in and creates a draft with `passport`; the three requests are
/// timed under `labels` (the endpoint names in a journey, "setup" before the probes).
async fn register_and_draft(
    d: &Driver,
    login: &str,
    passport: &str,
    labels: [&'static str; 3],
) -> Option<(String, String)> {
    let credentials = json!({"login": login, "password": PASSWORD});
    d.call(
        labels[0],
        Method::POST,
        "/v1/accounts",
        None,
        Some(credentials.clone()),
    )
    .await;
    let session = d
        .call(
            labels[1],
            Method::POST,
            "/v1/sessions",
            None,
            Some(credentials),
        )
        .await;
    let token = session["token"].as_str()?.to_owned();
    let app = d
        .call(
            labels[2],
            Method::POST,
            "/v1/verifications",
            Some(&token),
            Some(identity(passport)),
        )
        .await;
    let id = app["id"].as_str()?.to_owned();
    Some((token, id))
}

async fn journey(d: &Driver, n: usize, reviewer: &str) -> bool {
    let labels = [
        "POST /v1/accounts",
        "POST /v1/sessions",
        "POST /v1/verifications",
    ];
    let Some((token, id)) = register_and_draft(
        d,
        &format!("bench{n}@example.com"),
        &format!("B{n:08}"),
        labels,
    )
    .await
    else {
        return false;
    };
    d.upload(&token, &id, "passport_photo_page").await;
    d.upload(&token, &id, "stay_permit").await;
    let card = card_number(n);
    let bank_card = json!({"bank": "ICBC", "card_number": card, "card_type": "savings", "account_type": "current", "account_name": "John Smith"});
    d.call(
        "PUT bank_card",
        Method::PUT,
        &format!("/v1/verifications/{id}/bank_card"),
        Some(&token),
        Some(bank_card),
    )
    .await;
    d.call(
        "POST submit",
        Method::POST,
        &format!("/v1/verifications/{id}/submit"),
        Some(&token),
        Some(json!({})),
    )
    .await;
    // The worker pays and the sandbox settles in the background; the user checks the bank.
    let mut amount = None;
    for _ in 0..200 {
        let statement = d
            .call(
                "GET statement",
                Method::GET,
                &format!("/v1/sandbox/bank/statement?card_number={card}"),
                None,
                None,
            )
            .await;
        amount = statement["transactions"][0]["amount"]
            .as_str()
            .map(str::to_owned);
        if amount.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let Some(amount) = amount else { return false };
    // The bank shows the money a moment before the service has recorded the bank's notice;
    // the contract refuses an answer until then, so the user looks first.
    for _ in 0..200 {
        let app = d
            .call(
                "GET verification",
                Method::GET,
                &format!("/v1/verifications/{id}"),
                Some(&token),
                None,
            )
            .await;
        if app["status"] == "awaiting_amount" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let confirmed = d
        .call(
            "POST deposit_confirmation",
            Method::POST,
            &format!("/v1/verifications/{id}/deposit_confirmation"),
            Some(&token),
            Some(json!({"amount": amount})),
        )
        .await;
    if confirmed["status"] != "under_review" {
        return false;
    }
    // Find this application's case on the first page of the queue (oldest first).
    let mut case_id = None;
    for _ in 0..20 {
        let queue = d
            .call(
                "GET review/cases",
                Method::GET,
                "/v1/review/cases?status=open&limit=100",
                Some(reviewer),
                None,
            )
            .await;
        case_id = queue["cases"]
            .as_array()
            .and_then(|cases| cases.iter().find(|c| c["verification_id"] == id.as_str()))
            .and_then(|c| c["id"].as_str().map(str::to_owned));
        if case_id.is_some() {
            break;
        }
    }
    let Some(case_id) = case_id else { return false };
    d.call(
        "POST claim",
        Method::POST,
        &format!("/v1/review/cases/{case_id}/claim"),
        Some(reviewer),
        None,
    )
    .await;
    let decided = d
        .call(
            "POST decision",
            Method::POST,
            &format!("/v1/review/cases/{case_id}/decision"),
            Some(reviewer),
            Some(json!({"outcome": "approve"})),
        )
        .await;
    decided["status"] == "decided"
}

/// Signs the reviewer in through the driver (timed with the sessions): the session's token.
async fn reviewer_token(driver: &Driver, server: &Server) -> String {
    driver
        .call(
            "POST /v1/sessions",
            Method::POST,
            "/v1/sessions",
            None,
            Some(server.reviewer_sign_in()),
        )
        .await["token"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A flag set once `after` has passed.
fn stop_after(after: Duration) -> Arc<AtomicBool> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    tokio::spawn(async move {
        tokio::time::sleep(after).await;
        flag.store(true, Ordering::Relaxed);
    });
    stop
}

/// Whole journeys by `users` virtual users, numbered from `first`, until `stop` is set: how
/// long each completed one took (the driver keeps each request's timing).
async fn run_journeys(
    driver: &Arc<Driver>,
    users: usize,
    reviewer: &str,
    first: usize,
    stop: &Arc<AtomicBool>,
) -> Vec<Duration> {
    let next = Arc::new(AtomicUsize::new(first));
    let tasks: Vec<_> = (0..users)
        .map(|_| {
            let (driver, next, stop, reviewer) = (
                Arc::clone(driver),
                Arc::clone(&next),
                Arc::clone(stop),
                reviewer.to_owned(),
            );
            tokio::spawn(async move {
                let mut took = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    let started = Instant::now();
                    if journey(&driver, n, &reviewer).await {
                        took.push(started.elapsed());
                    }
                }
                took
            })
        })
        .collect();
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.unwrap());
    }
    all
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn peak_rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// A bare axum "hello" driven by the same client and concurrency.
async fn hello_ceiling(users: usize, seconds: u64) -> f64 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().route("/hello", axum::routing::get(|| async { "hello" }));
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let client = Client::new();
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let count = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let tasks: Vec<_> = (0..users)
        .map(|_| {
            let (client, count) = (client.clone(), Arc::clone(&count));
            tokio::spawn(async move {
                while Instant::now() < deadline {
                    if client
                        .get(format!("http://{addr}/hello"))
                        .send()
                        .await
                        .is_ok()
                    {
                        count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for t in tasks {
        let _ = t.await;
    }
    server.abort();
    count.load(std::sync::atomic::Ordering::Relaxed) as f64 / seconds as f64
}

/// SQLite's own rate for a write transaction like the service's (one ~500-byte insert and
/// one update, WAL, synchronous=FULL), in a tight loop without HTTP.
fn sqlite_ceiling(seconds: u64) -> f64 {
    let dir = tempfile::tempdir().unwrap();
    let conn = rusqlite::Connection::open(dir.path().join("ceiling.db")).unwrap();
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;
         CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB NOT NULL, status TEXT NOT NULL);",
    )
    .unwrap();
    let body = vec![7u8; 500];
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut commits = 0u64;
    let mut conn = conn;
    while Instant::now() < deadline {
        let tx = conn.transaction().unwrap();
        tx.execute(
            "INSERT INTO t (body, status) VALUES (?1, 'draft')",
            rusqlite::params![body],
        )
        .unwrap();
        let id = tx.last_insert_rowid();
        tx.execute(
            "UPDATE t SET status = 'deposit_pending' WHERE id = ?1",
            rusqlite::params![id],
        )
        .unwrap();
        tx.commit().unwrap();
        commits += 1;
    }
    commits as f64 / seconds as f64
}

/// PostgreSQL's own rate for the same transaction, over `users` connections.
async fn postgres_ceiling(url: &str, users: usize, seconds: u64) -> f64 {
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(users as u32)
        .connect(url)
        .await
        .unwrap();
    sqlx::query("CREATE TABLE IF NOT EXISTS bench_ceiling (id BIGSERIAL PRIMARY KEY, body BYTEA NOT NULL, status TEXT NOT NULL)")
        .execute(&pool)
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let count = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let tasks: Vec<_> = (0..users)
        .map(|_| {
            let (pool, count) = (pool.clone(), Arc::clone(&count));
            tokio::spawn(async move {
                let body = vec![7u8; 500];
                while Instant::now() < deadline {
                    let mut tx = pool.begin().await.unwrap();
                    let id: i64 = sqlx::query_scalar("INSERT INTO bench_ceiling (body, status) VALUES ($1, 'draft') RETURNING id")
                        .bind(&body)
                        .fetch_one(&mut *tx)
                        .await
                        .unwrap();
                    sqlx::query("UPDATE bench_ceiling SET status = 'deposit_pending' WHERE id = $1").bind(id).execute(&mut *tx).await.unwrap();
                    tx.commit().await.unwrap();
                    count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            })
        })
        .collect();
    for t in tasks {
        let _ = t.await;
    }
    count.load(std::sync::atomic::Ordering::Relaxed) as f64 / seconds as f64
}

/// One account with a draft of its own per user, for the endpoints-alone runs: (token, id).
async fn owners(d: &Driver, users: usize) -> Vec<(String, String)> {
    let mut owners = Vec::new();
    for u in 0..users {
        let login = format!("iso{u}@example.com");
        if let Some(owner) = register_and_draft(d, &login, &format!("I{u:08}"), ["setup"; 3]).await
        {
            owners.push(owner);
        }
    }
    owners
}

/// One endpoint alone, hammered by every owner for `seconds`: its own requests per second
/// and latencies. With a platform key, also the platform's session creation and its read of
/// a user by its own id (owner `u` is the platform's `ext-{u}`).
async fn isolated(
    d: &Arc<Driver>,
    owners: &[(String, String)],
    seconds: u64,
    reviewer: &str,
    platform: Option<&str>,
) -> Vec<(&'static str, f64, Vec<Duration>, bool)> {
    let mut results = Vec::new();
    let mut probes = vec![
        ("GET /healthz", false),
        ("GET /v1/verifications/{id}", false),
        ("GET /v1/review/cases?limit=20", false),
        ("PATCH /v1/verifications/{id}", true),
    ];
    if platform.is_some() {
        probes.push(("POST /v1/platform/sessions", true));
        probes.push(("GET /v1/platform/users/{id}", false));
    }
    // Last, because it cancels the owners' drafts: two status changes a pair, each with its
    // event, which is the write path events were added to.
    probes.push((DRAFT_AND_CANCEL, true));
    let platform = platform.unwrap_or_default().to_owned();
    for (label, write) in probes {
        let deadline = Instant::now() + Duration::from_secs(seconds);
        let tasks: Vec<_> = owners
            .iter()
            .cloned()
            .enumerate()
            .map(|(u, (token, id))| {
                let (client, base, reviewer, platform) = (
                    d.client.clone(),
                    d.base.clone(),
                    reviewer.to_owned(),
                    platform.clone(),
                );
                tokio::spawn(async move {
                    let mut samples = Vec::new();
                    if label == DRAFT_AND_CANCEL {
                        let cancel = format!("{base}/v1/verifications/{id}/cancel");
                        let _ = client.post(cancel).bearer_auth(&token).send().await;
                        let mut n = 0;
                        while Instant::now() < deadline {
                            let started = Instant::now();
                            if draft_and_cancel(&client, &base, &token, &format!("D{u:03}{n:05}"))
                                .await
                            {
                                samples.push(started.elapsed());
                            }
                            n += 1;
                        }
                        return samples;
                    }
                    while Instant::now() < deadline {
                        let req = match label {
                            "GET /healthz" => client.get(format!("{base}/healthz")),
                            "GET /v1/verifications/{id}" => client
                                .get(format!("{base}/v1/verifications/{id}"))
                                .bearer_auth(&token),
                            "GET /v1/review/cases?limit=20" => client
                                .get(format!("{base}/v1/review/cases?limit=20"))
                                .bearer_auth(&reviewer),
                            "POST /v1/platform/sessions" => client
                                .post(format!("{base}/v1/platform/sessions"))
                                .bearer_auth(&platform)
                                .json(&json!({"external_user_id": format!("ext-{u}")})),
                            "GET /v1/platform/users/{id}" => client
                                .get(format!("{base}/v1/platform/users/ext-{u}"))
                                .bearer_auth(&platform),
                            _ => client
                                .patch(format!("{base}/v1/verifications/{id}"))
                                .bearer_auth(&token)
                                .json(&json!({"phone": "13900139000"})),
                        };
                        let started = Instant::now();
                        let ok = req.send().await.is_ok_and(|r| r.status().is_success());
                        if ok {
                            samples.push(started.elapsed());
                        }
                    }
                    samples
                })
            })
            .collect();
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await.unwrap_or_default());
        }
        all.sort();
        results.push((label, all.len() as f64 / seconds as f64, all, write));
    }
    results
}

const DRAFT_AND_CANCEL: &str = "POST /v1/verifications + cancel";

/// Makes a draft and cancels it: whether both were answered as they should be.
async fn draft_and_cancel(client: &Client, base: &str, token: &str, passport: &str) -> bool {
    let made = client
        .post(format!("{base}/v1/verifications"))
        .bearer_auth(token)
        .json(&identity(passport))
        .send()
        .await;
    let Ok(made) = made else { return false };
    let Ok(draft) = made.json::<Value>().await else {
        return false;
    };
    let Some(id) = draft["id"].as_str() else {
        return false;
    };
    client
        .post(format!("{base}/v1/verifications/{id}/cancel"))
        .bearer_auth(token)
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
}

/// The store's own rate for what `GET /v1/verifications/{id}` asks of it (the caller's
/// session, then the application with its images, deposit and events), called directly by
/// one task per owner without HTTP, through a pool the size of the server's: how fast reads
/// could be if HTTP, decryption and JSON were free.
async fn store_read_ceiling(
    backend: Backend,
    server: &Server,
    url: &str,
    owners: &[(String, String)],
    seconds: u64,
) -> f64 {
    use realname_core::store::Store;
    let store: Arc<dyn Store> = match backend {
        Backend::Sqlite => Arc::new(
            realname_store_sqlite::SqliteStore::open(server.dir.path().join("bench.db")).unwrap(),
        ),
        Backend::Postgres => Arc::new(
            realname_store_postgres::PgStore::connect(
                url,
                realname_store_postgres::PoolSettings {
                    max_connections: SERVER_CONNECTIONS,
                    ..Default::default()
                },
            )
            .await
            .unwrap(),
        ),
    };
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let count = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let tasks: Vec<_> = owners
        .iter()
        .map(|(token, id)| {
            let (store, count) = (Arc::clone(&store), Arc::clone(&count));
            let hash = realname_app::auth::token_hash(token);
            let id = uuid::Uuid::parse_str(id).unwrap();
            tokio::spawn(async move {
                while Instant::now() < deadline {
                    let now = chrono::Utc::now();
                    assert!(store.session_account(&hash, now).await.unwrap().is_some());
                    assert!(store.application(id).await.unwrap().is_some());
                    count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    count.load(std::sync::atomic::Ordering::Relaxed) as f64 / seconds as f64
}

async fn hashing_rate() -> f64 {
    let started = Instant::now();
    let n = 8;
    for _ in 0..n {
        realname_app::auth::hash_password(PASSWORD.into())
            .await
            .unwrap();
    }
    n as f64 / started.elapsed().as_secs_f64()
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    match &args.mode {
        Some(Mode::Queue(queue_args)) => return queue::run(queue_args).await,
        Some(Mode::Webhooks(webhook_args)) => return webhooks::run(webhook_args).await,
        Some(Mode::Rail(rail_args)) => return rail::run(rail_args).await,
        Some(Mode::Rotation(rotation_args)) => return rotation::run(rotation_args).await,
        Some(Mode::Screening(screening_args)) => return screening::run(screening_args).await,
        None => {}
    }
    let bin = realname_bin(args.bin.as_deref());
    let (dir, url) = fresh_database(args.database).await;
    if args.screening_lists {
        screening::import_with(&bin, dir.path(), &url);
    }
    let server = start_server(&bin, dir, &url);
    if args.seed > 0 {
        let took = seed(args.database, &server, &url, args.seed).await;
        println!("seeded {} applications in {took:.1} s", args.seed);
    }
    let driver = Arc::new(Driver::new(Client::new(), server.base.clone()));
    let receiver = if args.webhooks {
        let subscribed = webhooks::subscribe(&server, &driver.client).await;
        assert!(
            subscribed.is_some(),
            "--webhooks: the server takes no endpoint"
        );
        subscribed
    } else {
        None
    };
    let platform_key = server.cli(&[
        "apikey",
        "create",
        "bench",
        "--test",
        "--scope",
        "sessions:write",
        "--scope",
        "verifications:read",
    ]);
    let reviewer = reviewer_token(&driver, &server).await;

    let started = Instant::now();
    let stop = stop_after(Duration::from_secs(args.seconds));
    let journeys = run_journeys(&driver, args.users, &reviewer, 0, &stop).await;
    let wall = started.elapsed().as_secs_f64();
    let timings = std::mem::take(&mut *driver.timings.lock().await);
    let ceiling_seconds = args.probe_seconds.max(1);
    let owners = owners(&driver, args.users).await;
    let alone = isolated(
        &driver,
        &owners,
        ceiling_seconds,
        &reviewer,
        platform_key.as_deref(),
    )
    .await;
    let delivered = receiver.as_ref().map(webhooks::Receiver::count);
    let rss = peak_rss_mib(server.child.id());
    let store_reads =
        store_read_ceiling(args.database, &server, &url, &owners, ceiling_seconds).await;
    drop(server);

    let hello = hello_ceiling(args.users, ceiling_seconds).await;
    let (engine_name, engine) = match args.database {
        Backend::Sqlite => ("rusqlite, one connection", sqlite_ceiling(ceiling_seconds)),
        Backend::Postgres => (
            "sqlx, prepared, 32 connections",
            postgres_ceiling(&url, 32, ceiling_seconds).await,
        ),
    };
    let hashing = hashing_rate().await;

    let backend = args.database.name();
    println!(
        "realname-bench: {backend}, {} applications already stored, {} users, {:.1} s, {} journeys completed ({:.1}/s)",
        args.seed,
        args.users,
        wall,
        journeys.len(),
        journeys.len() as f64 / wall
    );
    println!("server peak RSS: {rss:.1} MiB");
    if args.screening_lists {
        println!("screening: UN and OFAC loaded, every submit screened");
    }
    if let Some(delivered) = delivered {
        println!("webhooks: every event delivered to a receiver on loopback, {delivered} so far");
    }
    println!(
        "ceilings: bare axum hello {hello:.0} req/s; {engine_name} {engine:.0} write transactions/s; the store alone {store_reads:.0} reads of a session and an application/s; Argon2id {hashing:.1} hashes/s"
    );
    println!();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "Whole journeys, {} users: each endpoint at the rate the journey mix asks of it.",
        args.users
    );
    println!();
    println!("| endpoint | requests | errors | req/s | p50 ms | p90 ms | p99 ms |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (label, mut samples) in timings.by_endpoint {
        samples.sort();
        println!(
            "| {label} | {} | {} | {:.1} | {:.1} | {:.1} | {:.1} |",
            samples.len(),
            timings.errors.get(label).copied().unwrap_or(0),
            samples.len() as f64 / wall,
            ms(percentile(&samples, 50.0)),
            ms(percentile(&samples, 90.0)),
            ms(percentile(&samples, 99.0)),
        );
    }
    println!();
    println!(
        "Endpoints alone, {} users for {ceiling_seconds} s each, against their ceiling (reads: bare axum; writes: the engine).",
        args.users
    );
    println!();
    println!("| endpoint | req/s | p50 ms | p90 ms | p99 ms | of ceiling | of the store alone |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    let percent = |rps: f64, ceiling: f64| 100.0 * rps / ceiling.max(f64::MIN_POSITIVE);
    for (label, rps, samples, write) in alone {
        let ceiling = if write { engine } else { hello };
        let of_store = if label == "GET /v1/verifications/{id}" {
            format!("{:.1}%", percent(rps, store_reads))
        } else {
            "-".to_owned()
        };
        println!(
            "| {label} | {rps:.0} | {:.2} | {:.2} | {:.2} | {:.1}% | {of_store} |",
            ms(percentile(&samples, 50.0)),
            ms(percentile(&samples, 90.0)),
            ms(percentile(&samples, 99.0)),
            percent(rps, ceiling),
        );
    }
}
