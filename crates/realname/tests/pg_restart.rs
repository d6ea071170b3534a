//! A node survives its PostgreSQL restarting under load: requests in the gap get a quick 503
//! with the error body, never a hang or a 500, and the node serves again once the database is
//! back, without being restarted itself. The test runs its own PostgreSQL cluster in a
//! temporary folder, so restarting it disturbs nothing else.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;

mod common;

const BIN: &str = env!("CARGO_BIN_EXE_realname");

fn pg_bin() -> Option<PathBuf> {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    versions.sort();
    versions
        .pop()
        .map(|v| v.join("bin"))
        .filter(|b| b.join("pg_ctl").exists())
}

/// Runs a PostgreSQL tool as the postgres user. Its output goes to a file: a server started
/// by `pg_ctl` would otherwise hold our pipes open for as long as it runs.
fn as_postgres(args: &[&str], log: &Path) -> std::process::ExitStatus {
    let out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap();
    Command::new("runuser")
        .args(["-u", "postgres", "--"])
        .args(args)
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .status()
        .unwrap()
}

struct Cluster {
    bin: PathBuf,
    data: String,
    port: u16,
    sockets: String,
    log: PathBuf,
}

impl Cluster {
    fn pg_ctl(&self, action: &str) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port, self.sockets
        );
        let server_log = format!("{}.server", self.log.display());
        let status = as_postgres(
            &[
                self.bin.join("pg_ctl").to_str().unwrap(),
                "-D",
                &self.data,
                "-o",
                &options,
                "-l",
                &server_log,
                "-m",
                "fast",
                "-w",
                action,
            ],
            &self.log,
        );
        assert!(
            status.success(),
            "pg_ctl {action} failed; see {}",
            self.log.display()
        );
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = as_postgres(
            &[
                self.bin.join("pg_ctl").to_str().unwrap(),
                "-D",
                &self.data,
                "-m",
                "immediate",
                "stop",
            ],
            &self.log,
        );
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn own_cluster(dir: &Path) -> Option<Cluster> {
    let bin = pg_bin()?;
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .ok()
        .is_some_and(|o| o.stdout.starts_with(b"0"));
    if !is_root {
        return None;
    }
    let data = dir.join("pgdata");
    let sockets = dir.join("sockets");
    std::fs::create_dir_all(&sockets).unwrap();
    Command::new("chown")
        .args(["-R", "postgres:postgres", dir.to_str().unwrap()])
        .status()
        .unwrap();
    Command::new("chmod")
        .args(["755", dir.to_str().unwrap()])
        .status()
        .unwrap();
    let log = dir.join("postgres.log");
    let init = as_postgres(
        &[
            bin.join("initdb").to_str().unwrap(),
            "-D",
            data.to_str().unwrap(),
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
        ],
        &log,
    );
    assert!(init.success(), "initdb failed; see {}", log.display());
    let cluster = Cluster {
        bin,
        data: data.display().to_string(),
        port: free_port(),
        sockets: sockets.display().to_string(),
        log,
    };
    cluster.pg_ctl("start");
    Some(cluster)
}

#[test]
fn a_node_survives_a_postgresql_restart_under_load() {
    let dir = tempfile::tempdir().unwrap();
    let Some(cluster) = own_cluster(dir.path()) else {
        assert!(
            std::env::var("CI").is_err(),
            "CI must run this test: it needs root and PostgreSQL's server binaries"
        );
        eprintln!(
            "skipped: needs root and PostgreSQL's server binaries (they are installed by .ci/run)"
        );
        return;
    };
    let url = format!("postgres://postgres@127.0.0.1:{}/realname", cluster.port);
    let mut command = Command::new(BIN);
    command
        .args(["serve", "--listen", "127.0.0.1:0", "--database", &url])
        .current_dir(dir.path())
        .env("REALNAME_DATABASE_ACQUIRE_TIMEOUT", "2s")
        // Registrations keep coming from one address throughout: not the limits' test.
        .env("REALNAME_LIMITS_ACCOUNTS_PER_MINUTE", "1000000")
        .env("RUST_LOG", "error")
        .stderr(Stdio::null());
    let (_node, base) = common::start_serve(command);

    // Load: registrations and readiness checks from four threads, each request timed.
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..4)
        .map(|w| {
            let (base, stop) = (base.clone(), Arc::clone(&stop));
            std::thread::spawn(move || {
                let client = reqwest::blocking::Client::builder().timeout(Duration::from_secs(15)).build().unwrap();
                let mut seen = Vec::new();
                let mut n = 0;
                while !stop.load(Ordering::SeqCst) {
                    n += 1;
                    let started = Instant::now();
                    let res = client
                        .post(format!("{base}/v1/accounts"))
                        .json(&json!({"login": format!("w{w}n{n}@example.com"), "password": "correct horse battery"}))
                        .send()
                        .unwrap_or_else(|e| panic!("request failed outright: {e}"));
                    let status = res.status().as_u16();
                    let body: serde_json::Value = res.json().unwrap_or_default();
                    seen.push((status, body["error"]["code"].as_str().map(str::to_owned), started.elapsed()));
                    std::thread::sleep(Duration::from_millis(20));
                }
                seen
            })
        })
        .collect();

    std::thread::sleep(Duration::from_secs(2));
    cluster.pg_ctl("stop");
    let client = reqwest::blocking::Client::new();
    std::thread::sleep(Duration::from_secs(3));
    let ready = client.get(format!("{base}/readyz")).send().unwrap();
    assert_eq!(
        ready.status().as_u16(),
        503,
        "readyz fails while the database is down"
    );
    cluster.pg_ctl("start");

    let back = Instant::now();
    loop {
        let ready = client.get(format!("{base}/readyz")).send().unwrap();
        if ready.status().is_success() {
            break;
        }
        assert!(
            back.elapsed() < Duration::from_secs(20),
            "the node did not recover"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_secs(2));
    stop.store(true, Ordering::SeqCst);
    let seen: Vec<_> = workers
        .into_iter()
        .flat_map(|w| w.join().unwrap())
        .collect();

    let ok = seen.iter().filter(|(s, _, _)| *s == 201).count();
    let unavailable = seen
        .iter()
        .filter(|(s, c, _)| *s == 503 && c.as_deref() == Some("service_unavailable"))
        .count();
    let other: Vec<_> = seen
        .iter()
        .filter(|(s, _, _)| *s != 201 && *s != 503)
        .collect();
    let slowest = seen.iter().map(|(_, _, d)| *d).max().unwrap();
    println!(
        "pg restart: {} requests, {ok} created, {unavailable} answered 503, slowest {slowest:?}",
        seen.len()
    );
    assert!(other.is_empty(), "unexpected answers: {other:?}");
    assert!(unavailable > 0, "no request fell in the gap");
    assert!(
        seen.iter().rev().take(8).all(|(s, _, _)| *s == 201),
        "requests succeed again after the restart"
    );
    assert!(
        slowest < Duration::from_secs(10),
        "a request hung: {slowest:?}"
    );
}
