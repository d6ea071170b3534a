//! `realname-bench queue`: the reviewers' queue page, `GET /v1/review/cases?status=open&limit=50`,
//! with a given number of open cases waiting, asked for over a fixed number of connections.
//! Prints pages/s, latency percentiles and the server's CPU time per page.
//!
//! The open cases are seeded before the server starts, through the product's own code rather
//! than HTTP (registering 10 000 users would take minutes of Argon2) and rather than SQL (the
//! queue opens each case's sealed form, so it must be sealed under the server's data key, and
//! each case must be one the journey could have produced). Everything the seeder asks of the
//! product is in `seeding_state` and `open_one_case`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use realname_app::{AppError, Principal, Service, journey, workers};
use realname_core::application::ApplicationForm;
use realname_core::documents::ImageSlot;
use realname_core::policy::BankCardForm;
use realname_core::state::Status;
use realname_core::store::{Account, Role};
use realname_server::App;
use realname_server::config::Config;
use reqwest::Client;
use serde_json::{Value, json};

use crate::{
    Backend, Server, data_key, fresh_database, percentile, realname_bin, start_server, write_out,
};

#[derive(clap::Args)]
pub struct QueueArgs {
    /// The store the seeder and the server use.
    #[arg(long, value_enum, default_value = "sqlite")]
    database: Backend,
    /// Open review cases waiting when the page is asked for.
    #[arg(long, default_value_t = 1000)]
    open_cases: usize,
    /// Concurrent connections asking for the page.
    #[arg(long, default_value_t = 16)]
    connections: usize,
    /// How long the timed run lasts.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// How long the page is asked for, untimed, before the timed run.
    #[arg(long, default_value_t = 2)]
    warmup_seconds: u64,
    /// The realname binary; by default the one beside this program.
    #[arg(long)]
    bin: Option<PathBuf>,
}

const PAGE_SIZE: usize = 50;
const PAGE_PATH: &str = "/v1/review/cases?status=open&limit=50";
/// Seeding tasks: enough to keep SQLite's group commit and PostgreSQL's pool busy.
const SEEDING_TASKS: usize = 16;

pub async fn run(args: &QueueArgs) {
    let bin = realname_bin(args.bin.as_deref());
    let (dir, url) = fresh_database(args.database).await;
    let seeding = seed_open_cases(args.database, &url, args.open_cases).await;
    // Started only now, so that it reads what was seeded as any server would after a restart.
    let server = start_server(&bin, dir, &url);
    let client = Client::new();
    let page_url = format!("{}{PAGE_PATH}", server.base);
    let token = reviewer_token(&client, &server).await;

    // One page read and checked before the runs: a full page of open cases, answered 200 (a
    // case whose form the server could not open would make it a 500).
    let page: Value = client
        .get(&page_url)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap()
        .json()
        .await
        .unwrap();
    let cases = page["cases"].as_array().cloned().unwrap_or_default();
    assert_eq!(cases.len(), PAGE_SIZE.min(args.open_cases), "{page}");
    assert!(cases.iter().all(|c| c["status"] == "open"), "{page}");

    let warmup = Duration::from_secs(args.warmup_seconds);
    ask_for_pages(&client, &page_url, &token, args.connections, warmup).await;
    let ticks = clock_ticks_per_second();
    let pid = server.child.id();
    let database = match args.database {
        Backend::Sqlite => None,
        Backend::Postgres => url.rsplit('/').next(),
    };
    let before = CpuSplit::now(pid, database, ticks);
    let started = Instant::now();
    let timed = Duration::from_secs(args.seconds);
    let (mut latencies, errors) =
        ask_for_pages(&client, &page_url, &token, args.connections, timed).await;
    let wall = started.elapsed().as_secs_f64();
    let used = CpuSplit::now(pid, database, ticks).since(&before);
    drop(server);

    latencies.sort();
    let pages = latencies.len();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let backend = args.database.name();
    let rate = pages as f64 / wall;
    let p50 = ms(percentile(&latencies, 50.0));
    let p99 = ms(percentile(&latencies, 99.0));
    let per_page = |cpu: Duration| ms(cpu) / pages.max(1) as f64;
    let (server_ms, postgres_ms) = (per_page(used.server), per_page(used.postgres));
    println!(
        "realname-bench queue: {backend}, {} open cases (seeded in {seeding:.1} s), GET {PAGE_PATH}, {} connections, {wall:.1} s after {} s of warm-up",
        args.open_cases, args.connections, args.warmup_seconds
    );
    println!(
        "    {pages} pages, {errors} errors: {rate:.1} pages/s, p50 {p50:.2} ms, p99 {p99:.2} ms, server CPU {server_ms:.2} ms/page, PostgreSQL CPU {postgres_ms:.2} ms/page"
    );
    // The client shares the machine with the server; anything else running shows in the
    // rest, and makes the run one to repeat.
    println!(
        "    CPU over the run: server {:.2} s, PostgreSQL {:.2} s, this client {:.2} s, the rest of the machine {:.2} s",
        used.server.as_secs_f64(),
        used.postgres.as_secs_f64(),
        used.client.as_secs_f64(),
        used.others().as_secs_f64()
    );
    println!();
    println!(
        "| store | open cases | pages/s | p50 ms | p99 ms | server CPU ms/page | PostgreSQL CPU ms/page | seeding s |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    println!(
        "| {backend} | {} | {rate:.1} | {p50:.2} | {p99:.2} | {server_ms:.2} | {postgres_ms:.2} | {seeding:.1} |",
        args.open_cases
    );
}

/// Seeds `n` open review cases, `SEEDING_TASKS` at a time, then writes the database out (see
/// `write_out`); returns how long all of it took, in seconds.
async fn seed_open_cases(backend: Backend, url: &str, n: usize) -> f64 {
    let started = Instant::now();
    let state = seeding_state(url).await;
    seed_each(&state, n, "open cases", |state, i| async move {
        open_one_case(&state, i).await
    })
    .await;
    // Closes the seeder's store (SQLite's writer thread, PostgreSQL's pool) before the server
    // opens the same database.
    drop(state);
    write_out(backend, url).await;
    started.elapsed().as_secs_f64()
}

/// Runs `seed_one` for each of `0..n`, `SEEDING_TASKS` at a time, saying how far it got every
/// thousand; the first failure ends the run.
pub(crate) async fn seed_each<F, Seeded>(
    state: &Arc<Service>,
    n: usize,
    what: &'static str,
    seed_one: F,
) where
    F: Fn(Arc<Service>, usize) -> Seeded + Clone + Send + 'static,
    Seeded: Future<Output = Result<(), String>> + Send,
{
    let started = Instant::now();
    let next = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..SEEDING_TASKS)
        .map(|_| {
            let (state, next, done, seed_one) = (
                Arc::clone(state),
                Arc::clone(&next),
                Arc::clone(&done),
                seed_one.clone(),
            );
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n {
                        break;
                    }
                    if let Err(e) = seed_one(Arc::clone(&state), i).await {
                        panic!("seeding {what} {i}: {e}");
                    }
                    let finished = done.fetch_add(1, Ordering::Relaxed) + 1;
                    if finished % 1000 == 0 {
                        eprintln!(
                            "seeded {finished} of {n} {what} in {:.1} s",
                            started.elapsed().as_secs_f64()
                        );
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
}

/// The service `realname serve` builds for the same database and data key (`App::parts`),
/// without the listener and the worker loop: the same store, vault, policy, settings and
/// sandbox bank, so that what it seals the server can open.
pub(crate) async fn seeding_state(url: &str) -> Arc<Service> {
    let config = Config::load(
        None,
        |_| None,
        &[
            ("database_url", url.to_owned()),
            ("data_key", data_key()),
            ("database.max_connections", SEEDING_TASKS.to_string()),
        ],
    )
    .unwrap();
    let parts = App::parts(&config).await.unwrap();
    Arc::new(Service::new(parts).await.unwrap())
}

/// Takes application `n` from a new account to `under_review` with an open case, through the
/// journey's own functions, as its user and the server's worker would. Each has its own
/// passport number and card, so that no deposit-round limit (3 per card and per document in
/// 30 days) or card-history rule refuses it and no case is a duplicate document.
/// A new account (no real password hash: nobody logs in as it) whose application, with
/// passport `passport` and ICBC card `card`, is submitted through the journey's own functions:
/// it answers the application's id, `deposit_pending`.
pub(crate) async fn submit_one(
    state: &Service,
    login: &str,
    passport: &str,
    card: &str,
) -> Result<uuid::Uuid, String> {
    let image = realname_store_tests::fixtures::document_jpeg(b"bench image", 0);
    submit_with_images(state, login, passport, card, &image).await
}

/// As [`submit_one`], with `image` as both document images.
pub(crate) async fn submit_with_images(
    state: &Service,
    login: &str,
    passport: &str,
    card: &str,
    image: &[u8],
) -> Result<uuid::Uuid, String> {
    fn failed(step: &'static str) -> impl Fn(AppError) -> String {
        move |e| format!("{step}: {} {:?}", e.code.as_str(), e.details)
    }
    let account = Account {
        id: uuid::Uuid::new_v4(),
        login: login.to_owned(),
        // Nobody logs in as these users; a real Argon2 hash would cost 40 ms each.
        password_hash: "$argon2id$seed".to_owned(),
        role: Role::User,
        created_at: state.now(),
    };
    state
        .store
        .create_account(&account)
        .await
        .map_err(|e| format!("create_account: {e}"))?;
    let form: ApplicationForm = serde_json::from_value(json!({
        "consent": true, "real_name": "John Smith", "nationality": "USA", "date_of_birth": "1990-05-17",
        "phone": "13800138000",
        "documents": {"passport": {"number": passport, "expiry_date": realname_store_tests::fixtures::FAR_EXPIRY},
                      "stay_permit": {"kind": "entry_record", "entry_date": "2026-01-10"}}, "sex": "male", "occupation": {"category": "office_worker"},
                      "address": "Room 1201, 88 Jianguo Road, Chaoyang, Beijing", "pep": {"declared": false}}))
    .map_err(|e| format!("form: {e}"))?;
    let who = Principal::User(account.clone());
    let draft = journey::create(state, &who, &form, "127.0.0.1".to_owned())
        .await
        .map_err(failed("create"))?;
    for slot in ImageSlot::ALL {
        journey::store_image(state, &draft, slot, image)
            .await
            .map_err(failed("store_image"))?;
    }
    let card = BankCardForm {
        bank: Some("ICBC".to_owned()),
        card_number: Some(card.to_owned()),
        card_type: Some("savings".to_owned()),
        account_type: Some("current".to_owned()),
        account_name: Some("John Smith".to_owned()),
    };
    let ready = journey::bind_card(state, &draft, &card)
        .await
        .map_err(failed("bind_card"))?;
    let submitted = journey::submit(state, &ready)
        .await
        .map_err(failed("submit"))?;
    Ok(submitted.id)
}

async fn open_one_case(state: &Service, n: usize) -> Result<(), String> {
    fn failed(step: &'static str) -> impl Fn(AppError) -> String {
        move |e| format!("{step}: {} {:?}", e.code.as_str(), e.details)
    }
    let card = realname_store_tests::fixtures::icbc_card(n, "3333");
    let submitted = submit_one(
        state,
        &format!("queue{n}@example.com"),
        &format!("Q{n:08}"),
        &card,
    )
    .await?;
    // The worker pays the deposit and records the sandbox bank's settlement (settle delay 0).
    // Passes run one at a time, so one pass pays every deposit the other tasks submitted
    // meanwhile, and this one returns only after a pass that started after this submit.
    workers::run_pending(state)
        .await
        .map_err(|e| format!("run_pending: {e}"))?;
    let settled = journey::reload(state, submitted)
        .await
        .map_err(failed("reload"))?;
    let sealed_amount = settled
        .deposit
        .as_ref()
        .map(|d| d.amount.clone())
        .ok_or_else(|| format!("no deposit, status {}", settled.status.as_str()))?;
    let amount = state
        .open_amount(settled.id, &sealed_amount)
        .map_err(failed("open_amount"))?;
    let confirmed = journey::confirm_amount(state, &settled, &amount.to_string())
        .await
        .map_err(failed("confirm_amount"))?;
    if confirmed.status != Status::UnderReview {
        return Err(format!("confirmed into {}", confirmed.status.as_str()));
    }
    Ok(())
}

async fn reviewer_token(client: &Client, server: &Server) -> String {
    let session: Value = client
        .post(format!("{}/v1/sessions", server.base))
        .json(&server.reviewer_sign_in())
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap()
        .json()
        .await
        .unwrap();
    session["token"].as_str().unwrap().to_owned()
}

/// Asks for the page over `connections` connections, one request at a time each, until
/// `duration` has passed: the latency of each page answered 200, and how many were not.
async fn ask_for_pages(
    client: &Client,
    url: &str,
    token: &str,
    connections: usize,
    duration: Duration,
) -> (Vec<Duration>, usize) {
    let deadline = Instant::now() + duration;
    let tasks: Vec<_> = (0..connections)
        .map(|_| {
            let (client, url, token) = (client.clone(), url.to_owned(), token.to_owned());
            tokio::spawn(async move {
                let (mut latencies, mut errors) = (Vec::new(), 0);
                while Instant::now() < deadline {
                    let started = Instant::now();
                    let answered = match client.get(&url).bearer_auth(&token).send().await {
                        // The whole body is read: the page is served when its last byte is.
                        Ok(res) if res.status().is_success() => res.bytes().await.is_ok(),
                        _ => false,
                    };
                    if answered {
                        latencies.push(started.elapsed());
                    } else {
                        errors += 1;
                    }
                }
                (latencies, errors)
            })
        })
        .collect();
    let (mut latencies, mut errors) = (Vec::new(), 0);
    for task in tasks {
        let (l, e) = task.await.unwrap();
        latencies.extend(l);
        errors += e;
    }
    (latencies, errors)
}

/// The kernel's unit for process times in /proc (USER_HZ), 100 on every common Linux.
fn clock_ticks_per_second() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .and_then(|text| text.trim().parse::<f64>().ok())
        .unwrap_or(100.0)
}

/// CPU time used so far by the server, by the PostgreSQL backends serving the benchmark's
/// database (each by pid: a backend may start or end during the run), by this process, and
/// by the whole machine.
struct CpuSplit {
    server: Duration,
    postgres: BTreeMap<u32, Duration>,
    client: Duration,
    machine: Duration,
}

/// CPU time used over a run.
struct CpuUsed {
    server: Duration,
    /// On PostgreSQL, most of a page's work: the queries run in the database's own processes.
    postgres: Duration,
    client: Duration,
    machine: Duration,
}

impl CpuSplit {
    fn now(server_pid: u32, database: Option<&str>, ticks_per_second: f64) -> CpuSplit {
        CpuSplit {
            server: cpu_time(server_pid, ticks_per_second),
            postgres: database
                .map_or_else(BTreeMap::new, |name| postgres_cpu(name, ticks_per_second)),
            client: cpu_time(std::process::id(), ticks_per_second),
            machine: machine_busy(ticks_per_second),
        }
    }

    fn since(&self, before: &CpuSplit) -> CpuUsed {
        CpuUsed {
            server: self.server.saturating_sub(before.server),
            postgres: self
                .postgres
                .iter()
                .map(|(pid, after)| {
                    after.saturating_sub(before.postgres.get(pid).copied().unwrap_or_default())
                })
                .sum(),
            client: self.client.saturating_sub(before.client),
            machine: self.machine.saturating_sub(before.machine),
        }
    }
}

impl CpuUsed {
    /// What none of the above used: other processes, and the kernel's own work (interrupts)
    /// that /proc does not charge to a process.
    fn others(&self) -> Duration {
        self.machine
            .saturating_sub(self.server)
            .saturating_sub(self.postgres)
            .saturating_sub(self.client)
    }
}

/// The CPU time of every PostgreSQL backend connected to `database`: a backend's title
/// (its command line) is `postgres: USER DATABASE HOST(PORT) ACTIVITY`. Backends serving
/// other databases, and the server's shared helpers, are left to the rest of the machine.
fn postgres_cpu(database: &str, ticks_per_second: f64) -> BTreeMap<u32, Duration> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return BTreeMap::new();
    };
    let serves_database = |pid: &u32| {
        std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == "postgres")
            && std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|title| {
                String::from_utf8_lossy(&title)
                    .split(|c: char| c.is_whitespace() || c == '\0')
                    .any(|word| word == database)
            })
    };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(serves_database)
        .filter_map(|pid| Some((pid, try_cpu_time(pid, ticks_per_second)?)))
        .collect()
}

/// The whole machine's CPU time so far, every core, everything but idle and I/O wait: the
/// first line of /proc/stat.
fn machine_busy(ticks_per_second: f64) -> Duration {
    let stat = std::fs::read_to_string("/proc/stat").unwrap();
    let times: Vec<u64> = stat
        .lines()
        .next()
        .unwrap()
        .split_whitespace()
        .skip(1)
        .map(|t| t.parse().unwrap())
        .collect();
    // user nice system idle iowait irq softirq steal (guest time is already in user).
    let busy: u64 = times[..3].iter().chain(&times[5..8]).sum();
    Duration::from_secs_f64(busy as f64 / ticks_per_second)
}

/// A process's CPU time so far (see `try_cpu_time`).
fn cpu_time(pid: u32, ticks_per_second: f64) -> Duration {
    try_cpu_time(pid, ticks_per_second).unwrap_or_else(|| panic!("no /proc/{pid}/stat"))
}

/// A process's CPU time so far, user and system, over all its threads: fields 14 (utime) and
/// 15 (stime) of /proc/PID/stat. None if the process has gone.
fn try_cpu_time(pid: u32, ticks_per_second: f64) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Field 2, the command name, is in parentheses and may hold spaces: count after it, from
    // field 3.
    let after_name = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(Duration::from_secs_f64(
        (utime + stime) as f64 / ticks_per_second,
    ))
}
