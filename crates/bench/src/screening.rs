//! `realname-bench screening`: list screening's cost (CONTRACT 12).
//!
//! - The matcher alone: the UN and OFAC lists as published, indexed (time, memory), and
//!   identities screened one after another (per second, p50 and p99), as `screening check
//!   --file` and every submit do.
//! - A re-screening: `--identities` verified applications seeded through the store's own
//!   port (each a sealed identity of its own), a new UN version imported, and the service's
//!   own worker running the re-screening jobs the import queued until none is left: seconds,
//!   identities per second, and the process's peak memory.

use std::sync::Arc;
use std::time::Instant;

use chrono::Utc;
use realname_app::Service;
use realname_core::ports::SealContext;
use realname_core::state::{Status, Transition};
use realname_core::store::{Account, Consent, NewApplication, Role, StateChange};
use realname_screening::{Index, ListFile, Source, Subject, parse};

use crate::{Backend, fresh_database, percentile, write_out};

#[derive(clap::Args)]
pub struct ScreeningArgs {
    #[arg(long, value_enum, default_value = "sqlite")]
    database: Backend,
    /// Verified identities in the store when a new list version comes.
    #[arg(long, default_value_t = 10_000)]
    identities: usize,
    /// Identities the matcher screens alone, and `screening check --file` screens.
    #[arg(long, default_value_t = 20_000)]
    queries: usize,
    /// The realname binary `screening check --file` runs; by default the one beside this
    /// program.
    #[arg(long)]
    bin: Option<std::path::PathBuf>,
}

fn lists_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../screening/lists")
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(lists_dir().join(name)).unwrap()
}

/// The process's resident memory now and at its peak, in MiB (Linux).
fn memory() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Ordinary applicants' names of many nationalities (the labelled set's), cycled.
fn names() -> Vec<String> {
    let text = String::from_utf8(
        std::fs::read(lists_dir().join("../tests/labelled/ordinary.jsonl")).unwrap(),
    )
    .unwrap();
    text.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["name"].as_str().map(str::to_owned))
        // The names the identity form takes (CONTRACT 2.1): letters, spaces, dots, hyphens.
        .filter(|n| {
            n.chars().all(|c| {
                (c.is_alphabetic() && (c < '\u{0250}' || ('\u{4e00}'..='\u{9fff}').contains(&c)))
                    || matches!(c, ' ' | '.' | '-' | '·')
            })
        })
        .filter(|n| (2..=64).contains(&n.chars().count()))
        .collect()
}

pub async fn run(args: &ScreeningArgs) {
    let (before, _) = memory();
    let started = Instant::now();
    let un = read("un-consolidated-2026-02-27.xml");
    let (sdn, alt) = (read("ofac-sdn.csv"), read("ofac-alt.csv"));
    let un = parse(
        &Source::Un,
        &[ListFile {
            name: "un",
            bytes: &un,
        }],
    )
    .unwrap();
    let ofac = parse(
        &Source::Ofac,
        &[
            ListFile {
                name: "sdn",
                bytes: &sdn,
            },
            ListFile {
                name: "alt",
                bytes: &alt,
            },
        ],
    )
    .unwrap();
    let parsed = started.elapsed();
    let started = Instant::now();
    let index = Index::build([
        (&un.source, &un.entries[..]),
        (&ofac.source, &ofac.entries[..]),
    ]);
    let built = started.elapsed();
    let (after, _) = memory();
    let names = names();
    let mut took = Vec::with_capacity(args.queries);
    let started = Instant::now();
    let mut hits = 0usize;
    for i in 0..args.queries {
        let subject = Subject {
            names: vec![names[i % names.len()].clone()],
            date_of_birth: chrono::NaiveDate::from_ymd_opt(
                1950 + (i % 55) as i32,
                1 + (i % 12) as u32,
                1 + (i % 28) as u32,
            ),
            nationality: Some("DEU".into()),
            documents: vec![(format!("P{i:08}"), None)],
        };
        let one = Instant::now();
        hits += usize::from(
            !index
                .screen(&subject, realname_screening::THRESHOLD)
                .is_empty(),
        );
        took.push(one.elapsed());
    }
    let elapsed = started.elapsed().as_secs_f64();
    took.sort();
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
    println!(
        "## The matcher alone (UN + OFAC, {} persons)",
        index.persons()
    );
    println!();
    println!("| parse s | index ms | index MiB | identities | per s | p50 ms | p99 ms | flagged |");
    println!("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    println!(
        "| {:.2} | {:.0} | {:.0} | {} | {:.0} | {:.3} | {:.3} | {hits} |",
        parsed.as_secs_f64(),
        built.as_secs_f64() * 1000.0,
        after - before,
        args.queries,
        args.queries as f64 / elapsed,
        ms(percentile(&took, 50.0)),
        ms(percentile(&took, 99.0)),
    );
    println!();
    check_file(args, &names).await;
    rescreen(args, &names).await;
}

/// Loads the UN and OFAC lists as published into the database at `url` with the binary's own
/// `screening import`.
pub fn import_with(bin: &std::path::Path, dir: &std::path::Path, url: &str) {
    let dir_of = lists_dir();
    for (source, files) in [
        ("un", &["un-consolidated-2026-02-27.xml"][..]),
        ("ofac", &["ofac-sdn.csv", "ofac-alt.csv"][..]),
    ] {
        let mut args: Vec<std::ffi::OsString> =
            vec!["screening".into(), "import".into(), source.into()];
        args.extend(files.iter().map(|f| dir_of.join(f).into_os_string()));
        let out = crate::realname(bin, dir, url, args)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", bin.display()));
        assert!(
            out.status.success(),
            "screening import {source}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// `realname screening check --file` through the binary, against UN and OFAC: once with one
/// identity (the process, the store and the index alone) and once with `--queries`.
async fn check_file(args: &ScreeningArgs, names: &[String]) {
    let bin = crate::realname_bin(args.bin.as_deref());
    let (dir, url) = fresh_database(args.database).await;
    import_with(&bin, dir.path(), &url);
    let mut timed = Vec::new();
    for count in [1, args.queries] {
        let file = dir.path().join(format!("identities-{count}.jsonl"));
        let lines: String = (0..count)
            .map(|i| {
                format!(
                    "{}\n",
                    serde_json::json!({
                        "name": names[i % names.len()],
                        "dob": format!("{}-{:02}-{:02}", 1950 + i % 55, 1 + i % 12, 1 + i % 28),
                        "nationality": "DEU",
                        "document": format!("P{i:08}"),
                    })
                )
            })
            .collect();
        std::fs::write(&file, lines).unwrap();
        let started = Instant::now();
        let out = crate::realname(
            &bin,
            dir.path(),
            &url,
            ["screening", "check", "--json", "--file"]
                .map(std::ffi::OsStr::new)
                .into_iter()
                .chain([file.as_os_str()]),
        )
        .output()
        .unwrap();
        let took = started.elapsed().as_secs_f64();
        assert!(
            out.status.success(),
            "screening check: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), count);
        timed.push(took);
    }
    let (start, all) = (timed[0], timed[1]);
    println!(
        "## `realname screening check --file` against UN + OFAC ({})",
        args.database.name()
    );
    println!();
    println!(
        "| identities | seconds | identities/s | one identity s (start, store, index) | per s after start |"
    );
    println!("| ---: | ---: | ---: | ---: | ---: |");
    println!(
        "| {} | {all:.2} | {:.0} | {start:.2} | {:.0} |",
        args.queries,
        args.queries as f64 / all,
        args.queries.saturating_sub(1) as f64 / (all - start).max(1e-9),
    );
    println!();
}

async fn rescreen(args: &ScreeningArgs, names: &[String]) {
    let (_dir, url) = fresh_database(args.database).await;
    let state = crate::queue::seeding_state(&url).await;
    // OFAC's version is in force before the identities come; the UN's new one comes after,
    // so the re-screening is against both.
    let (sdn, alt) = (read("ofac-sdn.csv"), read("ofac-alt.csv"));
    realname_app::screening::import(
        state.store.as_ref(),
        &Source::Ofac,
        &[
            ListFile {
                name: "sdn",
                bytes: &sdn,
            },
            ListFile {
                name: "alt",
                bytes: &alt,
            },
        ],
        Utc::now(),
    )
    .await
    .unwrap();
    realname_app::workers::run_pending(&state).await.unwrap();
    let started = Instant::now();
    let names = Arc::new(names.to_vec());
    let today = state.today();
    crate::queue::seed_each(
        &state,
        args.identities,
        "verified identities",
        move |state, i| {
            let names = Arc::clone(&names);
            async move { seed_verified(&state, &names[i % names.len()], i, today).await }
        },
    )
    .await;
    let seeding = started.elapsed().as_secs_f64();
    drop(state);
    write_out(args.database, &url).await;
    // The service as a node runs it: its own lists (none yet), its own worker's jobs.
    let state = crate::queue::seeding_state(&url).await;
    let un = read("un-consolidated-2026-02-27.xml");
    let started = Instant::now();
    realname_app::screening::import(
        state.store.as_ref(),
        &Source::Un,
        &[ListFile {
            name: "un",
            bytes: &un,
        }],
        Utc::now(),
    )
    .await
    .unwrap();
    loop {
        realname_app::workers::run_pending(&state).await.unwrap();
        if runs(args.database, &url).await >= args.identities as i64 {
            break;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let (_, peak) = memory();
    println!(
        "## A re-screening against UN + OFAC after a new UN version ({})",
        args.database.name()
    );
    println!();
    println!("| verified identities | seconds | identities/s | peak MiB | seeding s |");
    println!("| ---: | ---: | ---: | ---: | ---: |");
    println!(
        "| {} | {elapsed:.1} | {:.0} | {peak:.0} | {seeding:.1} |",
        args.identities,
        args.identities as f64 / elapsed,
    );
}

/// How many re-screening runs the store holds.
async fn runs(backend: Backend, url: &str) -> i64 {
    match backend {
        Backend::Sqlite => {
            let path = realname_store_sqlite::path_of_url(url);
            tokio::task::spawn_blocking(move || {
                let conn = rusqlite::Connection::open(path).unwrap();
                conn.busy_timeout(std::time::Duration::from_secs(60))
                    .unwrap();
                conn.query_row(
                    "SELECT count(*) FROM screening_runs WHERE trigger = 'list_change'",
                    [],
                    |r| r.get(0),
                )
                .unwrap()
            })
            .await
            .unwrap()
        }
        Backend::Postgres => {
            let pool = sqlx::postgres::PgPoolOptions::new()
                .max_connections(1)
                .connect(url)
                .await
                .unwrap();
            sqlx::query_scalar("SELECT count(*) FROM screening_runs WHERE trigger = 'list_change'")
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    }
}

/// One verified application of a new account, written through the store's port: a sealed
/// identity, then its status set to verified (the journey's deposit and review are not what
/// this measures).
async fn seed_verified(
    state: &Service,
    name: &str,
    i: usize,
    today: chrono::NaiveDate,
) -> Result<(), String> {
    let now = Utc::now();
    let account = Account {
        id: uuid::Uuid::new_v4(),
        login: format!("screened{i}@example.com"),
        password_hash: String::new(),
        role: Role::User,
        created_at: now,
    };
    state
        .store
        .create_account(&account)
        .await
        .map_err(|e| e.to_string())?;
    let form = serde_json::json!({
        "consent": true, "real_name": name, "nationality": "DEU",
        "date_of_birth": format!("{}-{:02}-{:02}", 1950 + i % 55, 1 + i % 12, 1 + i % 28),
        "phone": "13800138000",
        "documents": {"passport": {"number": format!("P{i:08}"), "expiry_date": "2099-12-31"},
                      "stay_permit": {"kind": "entry_record", "entry_date": "2026-01-10"}}});
    let identity = realname_app::views::decode_identity(form.to_string().as_bytes(), today)
        .map_err(|e| format!("{:?} for the name {name:?}", e.code))?;
    let id = uuid::Uuid::new_v4();
    let sealed = state
        .vault
        .seal(
            SealContext::ApplicationForm(id),
            &serde_json::to_vec(&identity).map_err(|e| e.to_string())?,
        )
        .map_err(|e| e.to_string())?;
    state
        .store
        .create_application(&NewApplication {
            id,
            account_id: account.id,
            form: sealed,
            document_hashes: Vec::new(),
            warnings: "[]".into(),
            consent: Consent {
                at: now,
                version: "bench".into(),
                address: "127.0.0.1".into(),
            },
            at: now,
            livemode: false,
        })
        .await
        .map_err(|e| e.to_string())?;
    let verified = Transition {
        status: Status::Verified,
        effects: Vec::new(),
        failure: None,
    };
    state
        .store
        .apply(&StateChange::new(id, Status::Draft, verified, now))
        .await
        .map(drop)
        .map_err(|e| e.to_string())
}
