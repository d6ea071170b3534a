//! The `realname` binary as an operator runs it: exit codes, one-line errors, staff and
//! policy commands, and a served journey whose log and database hold no personal data.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

mod common;

use common::KillOnDrop;

const BIN: &str = env!("CARGO_BIN_EXE_realname");

fn realname(dir: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env_remove("RUST_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(text) = stdin {
        // A command refused before it reads its input (a bad flag) may already have exited:
        // its answer, not the pipe, is what the test judges.
        let written = child.stdin.take().unwrap().write_all(text.as_bytes());
        if let Err(e) = written {
            assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
        }
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn usage_errors_exit_2_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let none = realname(dir.path(), &[], None);
    assert_eq!(none.status.code(), Some(2));

    std::fs::write(dir.path().join("bad.toml"), "[deposit]\nmax_attempts = 0\n").unwrap();
    let bad = realname(dir.path(), &["serve", "--config", "bad.toml"], None);
    assert_eq!(bad.status.code(), Some(2));
    let text = stderr(&bad);
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(text.contains("deposit.max_attempts"), "{text}");

    let missing = realname(dir.path(), &["serve", "--config", "missing.toml"], None);
    assert_eq!(missing.status.code(), Some(2));
    assert_eq!(stderr(&missing).lines().count(), 1);

    let key = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .current_dir(dir.path())
        .env("REALNAME_DATA_KEY", "not-a-key")
        .output()
        .unwrap();
    assert_eq!(key.status.code(), Some(2));
    assert!(stderr(&key).contains("data_key"), "{}", stderr(&key));
    assert_eq!(stderr(&key).lines().count(), 1);

    // A data-key rotation's pace goes with --data only, and a batch holds one value at least.
    for args in [
        &["key", "rotate", "--batch", "5"][..],
        &["key", "rotate", "--data", "--batch", "0"][..],
    ] {
        let refused = realname(dir.path(), args, None);
        assert_eq!(refused.status.code(), Some(2), "{args:?}");
        assert!(stderr(&refused).contains("--batch"), "{}", stderr(&refused));
    }
}

#[test]
fn policy_check_and_show() {
    let dir = tempfile::tempdir().unwrap();
    let shown = realname(dir.path(), &["policy", "show"], None);
    assert_eq!(shown.status.code(), Some(0));
    let policy = String::from_utf8(shown.stdout).unwrap();
    assert!(policy.contains("code = \"HZCB\""));
    std::fs::write(dir.path().join("good.toml"), &policy).unwrap();
    let good = realname(dir.path(), &["policy", "check", "good.toml"], None);
    assert_eq!(good.status.code(), Some(0), "{}", stderr(&good));
    assert!(String::from_utf8_lossy(&good.stdout).contains("14 banks, 13 supported"));

    std::fs::write(
        dir.path().join("bad.toml"),
        "[[bank]]\ncode = \"X\"\nname = \"X\"\nname_zh = \"X\"\nsupported = true\nmax_name_chars = 99\nbins = [{ prefix = \"1\", card_type = \"gold\" }]\n",
    )
    .unwrap();
    let bad = realname(dir.path(), &["policy", "check", "bad.toml"], None);
    assert_eq!(bad.status.code(), Some(2));
    let text = stderr(&bad);
    assert!(text.contains("bad.toml:line 6: max_name_chars"), "{text}");
    assert!(text.contains("bad.toml:line 7:"), "{text}");

    let with_policy = realname(dir.path(), &["policy", "show"], None);
    assert_eq!(with_policy.status.code(), Some(0));
    let bad_file = Command::new(BIN)
        .args(["policy", "show"])
        .current_dir(dir.path())
        .env("REALNAME_POLICY_FILE", "bad.toml")
        .output()
        .unwrap();
    assert_eq!(bad_file.status.code(), Some(2));
}

/// CONTRACT 14: the risk policy is data, checked by the same command as the bank policy and
/// refused at start with the line of its error.
#[test]
fn the_risk_policy_is_checked_shown_and_refused_at_start_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let shown = realname(dir.path(), &["policy", "show", "--risk"], None);
    assert_eq!(shown.status.code(), Some(0), "{}", stderr(&shown));
    let policy = String::from_utf8(shown.stdout).unwrap();
    assert!(policy.contains("code = \"fatf_call_for_action\""));
    assert!(policy.contains("list_date = \"2026-02-13\""));
    std::fs::write(dir.path().join("risk.toml"), &policy).unwrap();
    let good = realname(dir.path(), &["policy", "check", "risk.toml"], None);
    assert_eq!(good.status.code(), Some(0), "{}", stderr(&good));
    assert!(
        String::from_utf8_lossy(&good.stdout).contains("risk policy 2026-02-13, 7 factors"),
        "{}",
        String::from_utf8_lossy(&good.stdout)
    );

    let unknown = policy.replace("code = \"card_returned\"", "code = \"star_sign\"");
    let line = unknown
        .lines()
        .position(|l| l.contains("star_sign"))
        .unwrap();
    std::fs::write(dir.path().join("bad-risk.toml"), &unknown).unwrap();
    let bad = realname(dir.path(), &["policy", "check", "bad-risk.toml"], None);
    assert_eq!(bad.status.code(), Some(2));
    // The factor's table starts on the line before its code.
    let expected = format!("bad-risk.toml:line {line}: unknown factor \"star_sign\"");
    assert!(stderr(&bad).contains(&expected), "{}", stderr(&bad));

    let serve = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .current_dir(dir.path())
        .env("REALNAME_RISK_POLICY_FILE", "bad-risk.toml")
        .output()
        .unwrap();
    assert_eq!(serve.status.code(), Some(2));
    let refused = stderr(&serve);
    assert_eq!(refused.trim().lines().count(), 1, "{refused}");
    assert!(
        refused.contains("risk_policy_file: bad-risk.toml: line") && refused.contains("star_sign"),
        "{refused}"
    );
}

#[test]
fn migrate_and_staff_add_reach_the_same_store_whatever_the_flag_order() {
    let dir = tempfile::tempdir().unwrap();
    let db = "sqlite://staff.db";
    let migrated = realname(dir.path(), &["--database", db, "migrate"], None);
    assert_eq!(migrated.status.code(), Some(0), "{}", stderr(&migrated));
    let added = realname(
        dir.path(),
        &[
            "staff",
            "add",
            "alice",
            "--role",
            "reviewer",
            "--database",
            db,
        ],
        Some("a long password\n"),
    );
    assert_eq!(added.status.code(), Some(0), "{}", stderr(&added));
    let first = second_factor_in(&added);
    let replaced = realname(
        dir.path(),
        &["staff", "totp", "alice", "--database", db],
        None,
    );
    assert_eq!(replaced.status.code(), Some(0), "{}", stderr(&replaced));
    assert_ne!(second_factor_in(&replaced), first, "a new secret");
    for command in ["totp", "disable"] {
        let unknown = realname(
            dir.path(),
            &["staff", command, "nobody", "--database", db],
            None,
        );
        assert_eq!(unknown.status.code(), Some(2), "staff {command} nobody");
        assert!(stderr(&unknown).contains("no staff account nobody"));
    }
    let disabled = realname(
        dir.path(),
        &["staff", "disable", "alice", "--database", db],
        None,
    );
    assert_eq!(disabled.status.code(), Some(0), "{}", stderr(&disabled));
    let again = realname(
        dir.path(),
        &["staff", "disable", "alice", "--database", db],
        None,
    );
    assert_eq!(again.status.code(), Some(2), "already disabled");
    let again = realname(
        dir.path(),
        &["--database", db, "staff", "add", "alice", "--role", "admin"],
        Some("a long password\n"),
    );
    assert_eq!(again.status.code(), Some(2));
    assert!(stderr(&again).contains("taken"));
    let weak = realname(
        dir.path(),
        &["staff", "add", "bob", "--role", "admin", "--database", db],
        Some("short\n"),
    );
    assert_eq!(weak.status.code(), Some(2));
    let role = realname(
        dir.path(),
        &["staff", "add", "bob", "--role", "king", "--database", db],
        Some("a long password\n"),
    );
    assert_eq!(role.status.code(), Some(2));
}

/// The otpauth:// URI of a second factor a `staff` command printed, once.
fn second_factor_in(output: &Output) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let uris: Vec<&str> = stdout
        .split_whitespace()
        .filter(|w| w.starts_with("otpauth://totp/"))
        .collect();
    assert_eq!(uris.len(), 1, "{stdout}");
    uris[0].to_owned()
}

struct Server {
    child: KillOnDrop,
    base: String,
}

fn serve(dir: &Path, log: &Path) -> Server {
    let mut command = Command::new(BIN);
    command
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--database",
            "sqlite://realname.db",
        ])
        .current_dir(dir)
        .env("RUST_LOG", "debug")
        // One reviewer decides here: no approval is sampled for a second approver.
        .env("REALNAME_REVIEW_SECOND_APPROVAL_SAMPLE", "0")
        .stderr(std::fs::File::create(log).unwrap());
    let (child, base) = common::start_serve(command);
    Server { child, base }
}

fn call(
    client: &reqwest::blocking::Client,
    method: reqwest::Method,
    url: String,
    token: Option<&str>,
    body: Option<Value>,
) -> Value {
    let mut req = client.request(method, url);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    res.json().unwrap_or(Value::Null)
}

#[test]
fn a_served_journey_leaves_no_personal_data_in_the_log_or_the_database() {
    use reqwest::Method;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("serve.log");
    let server = serve(dir.path(), &log);
    let c = reqwest::blocking::Client::new();
    let url = |p: &str| format!("{}{p}", server.base);
    let password = "correct horse battery";
    let (passport, card, phone) = (PASSPORT, CARD, PHONE);
    let (token, id) = sealed_draft(&c, &server.base, "p@example.com");
    call(
        &c,
        Method::POST,
        url(&format!("/v1/verifications/{id}/submit")),
        Some(&token),
        Some(json!({})),
    );
    // The sandbox clock answers a test key (or an admin) only.
    let made = realname(dir.path(), &["apikey", "create", "clock", "--test"], None);
    assert_eq!(made.status.code(), Some(0), "{}", stderr(&made));
    let clock_key = String::from_utf8(made.stdout).unwrap();
    call(
        &c,
        Method::POST,
        url("/v1/sandbox/clock/advance"),
        Some(clock_key.trim()),
        Some(json!({"seconds": 0})),
    );
    let statement = call(
        &c,
        Method::GET,
        url(&format!("/v1/sandbox/bank/statement?card_number={card}")),
        None,
        None,
    );
    let amount = statement["transactions"][0]["amount"]
        .as_str()
        .unwrap()
        .to_owned();
    call(
        &c,
        Method::POST,
        url(&format!("/v1/verifications/{id}/deposit_confirmation")),
        Some(&token),
        Some(json!({"amount": amount})),
    );

    let added = realname(
        dir.path(),
        &["staff", "add", "rita", "--role", "reviewer"],
        Some("a long password\n"),
    );
    assert_eq!(added.status.code(), Some(0), "{}", stderr(&added));
    let mut authenticator =
        realname_app::second_factor::Authenticator::from_uri(&second_factor_in(&added)).unwrap();
    let now = chrono::Utc::now().timestamp() as u64;
    let code = authenticator.code_at(now).unwrap();
    let staff = call(
        &c,
        Method::POST,
        url("/v1/sessions"),
        None,
        Some(json!({"login": "rita", "password": "a long password", "totp": code})),
    )["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let queue = call(&c, Method::GET, url("/v1/review/cases"), Some(&staff), None);
    let case = queue["cases"][0]["id"].as_str().unwrap().to_owned();
    call(
        &c,
        Method::POST,
        url(&format!("/v1/review/cases/{case}/claim")),
        Some(&staff),
        None,
    );
    let full = call(
        &c,
        Method::GET,
        url(&format!("/v1/review/cases/{case}")),
        Some(&staff),
        None,
    );
    assert_eq!(
        full["application"]["documents"]["passport"]["number"],
        passport
    );
    call(
        &c,
        Method::POST,
        url(&format!("/v1/review/cases/{case}/decision")),
        Some(&staff),
        Some(json!({"outcome": "approve"})),
    );
    let done = call(
        &c,
        Method::GET,
        url(&format!("/v1/verifications/{id}")),
        Some(&token),
        None,
    );
    assert_eq!(done["status"], "verified");

    // SIGTERM drains and stops cleanly.
    let mut child = server.child;
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "serve did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(0));

    let log_text = std::fs::read_to_string(&log).unwrap();
    assert!(
        log_text.contains("realname is listening"),
        "the log was written"
    );
    assert!(log_text.lines().count() > 10, "debug logging was on");
    let mut stored = Vec::new();
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("realname.db")
        {
            stored.extend(std::fs::read(&path).unwrap());
        }
    }
    assert!(stored.len() > 10_000, "the database was written");
    for secret in [
        passport,
        card,
        phone,
        "+8613912345678",
        "1990-05-17",
        password,
        "a secret photo",
    ] {
        assert!(!log_text.contains(secret), "{secret} is in the log");
        assert!(
            !stored.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "{secret} is in the database"
        );
    }
    // The amount is short enough to occur by chance in binary data, not quoted in a log.
    assert!(
        !log_text.contains(&format!("\"{amount}\"")),
        "the deposit amount is in the log"
    );
    let key = dir.path().join("realname.key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(key).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
}

/// Runs `realname ARGS` in `dir` with `env`, which must exit by itself within 20 s (a node that
/// does not refuse to start would serve forever: it is killed and the test fails).
fn exits(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(BIN);
    command
        .args(args)
        .current_dir(dir)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (name, value) in env {
        command.env(name, value);
    }
    let mut child = KillOnDrop(command.spawn().unwrap());
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "realname {args:?} did not exit: it started where it should have refused"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let status = child.wait().unwrap();
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    use std::io::Read;
    child
        .stdout
        .take()
        .unwrap()
        .read_to_end(&mut stdout)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_end(&mut stderr)
        .unwrap();
    Output {
        status,
        stdout,
        stderr,
    }
}

#[cfg(unix)]
#[test]
fn a_key_that_is_missing_another_or_readable_by_others_is_refused_over_existing_data() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name);
    let mode = |name: &str| std::fs::metadata(path(name)).unwrap().permissions().mode() & 0o777;
    let serve = ["serve", "--listen", "127.0.0.1:0"];

    // The first command over a new store makes its key file and its keys; an API key is data
    // sealed and hashed under them.
    let made = exits(dir.path(), &["apikey", "create", "shop", "--test"], &[]);
    assert_eq!(made.status.code(), Some(0), "{}", stderr(&made));
    assert_eq!(mode("realname.key"), 0o600);
    assert_eq!(
        mode("realname.db"),
        0o600,
        "the database is its owner's only"
    );
    for side in ["realname.db-wal", "realname.db-shm"] {
        if path(side).exists() {
            assert_eq!(mode(side), 0o600, "{side}");
        }
    }
    let check = exits(dir.path(), &["key", "check"], &[]);
    assert_eq!(check.status.code(), Some(0), "{}", stderr(&check));
    let said = String::from_utf8_lossy(&check.stdout).into_owned();
    let fingerprint = said
        .split_whitespace()
        .nth(2)
        .unwrap()
        .trim_end_matches(':');
    assert_eq!(fingerprint.len(), 16, "{said}");

    let refused = |out: &Output, words: &str| {
        let text = stderr(out);
        assert_eq!(out.status.code(), Some(1), "{text}");
        assert_eq!(text.lines().count(), 1, "one line: {text}");
        assert!(text.contains(words), "{words}: {text}");
    };
    // Readable by the group or the world: refused until only its owner can read it.
    std::fs::set_permissions(path("realname.key"), std::fs::Permissions::from_mode(0o644)).unwrap();
    refused(&exits(dir.path(), &serve, &[]), "chmod 600");
    refused(&exits(dir.path(), &["key", "check"], &[]), "chmod 600");
    std::fs::set_permissions(path("realname.key"), std::fs::Permissions::from_mode(0o600)).unwrap();

    // Missing: refused, and no new key is made over the old data.
    std::fs::rename(path("realname.key"), path("kept.key")).unwrap();
    refused(&exits(dir.path(), &serve, &[]), "missing");
    refused(&exits(dir.path(), &["apikey", "list"], &[]), "missing");
    assert!(!path("realname.key").exists(), "no key was made");

    // Another key, in the file or in the configuration: refused, naming both fingerprints.
    use base64::Engine;
    let other = base64::engine::general_purpose::STANDARD.encode([8u8; 32]);
    refused(
        &exits(dir.path(), &serve, &[("REALNAME_DATA_KEY", other.as_str())]),
        fingerprint,
    );
    std::fs::write(path("other.key"), format!("{other}\n")).unwrap();
    std::fs::set_permissions(path("other.key"), std::fs::Permissions::from_mode(0o600)).unwrap();
    refused(
        &exits(
            dir.path(),
            &serve,
            &[("REALNAME_DATA_KEY_FILE", "other.key")],
        ),
        "not the key",
    );

    // The right key again: the store opens.
    std::fs::rename(path("kept.key"), path("realname.key")).unwrap();
    let check = exits(dir.path(), &["key", "check"], &[]);
    assert_eq!(check.status.code(), Some(0), "{}", stderr(&check));
    assert!(String::from_utf8_lossy(&check.stdout).contains(fingerprint));
}

/// The security log (log.format = "json"): failed sign-ins and the lockout they cause are
/// structured lines with the service's own request id and the client's address, and name
/// neither the login nor the password; a client's own request id is logged beside ours,
/// never answered as ours.
#[test]
fn failed_sign_ins_and_lockouts_are_in_the_security_log_without_the_login() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("serve.log");
    let mut command = Command::new(BIN);
    command
        .args(["serve", "--listen", "127.0.0.1:0"])
        .current_dir(dir.path())
        .env("RUST_LOG", "info")
        .env("REALNAME_LOG_FORMAT", "json")
        .stderr(std::fs::File::create(&log).unwrap());
    let (server, base) = common::start_serve(command);
    let c = reqwest::blocking::Client::new();
    let (login, password) = ("sec@example.com", "correct horse battery");
    call(
        &c,
        reqwest::Method::POST,
        format!("{base}/v1/accounts"),
        None,
        Some(json!({"login": login, "password": password})),
    );
    let mut locked = false;
    for _ in 0..6 {
        let res = c
            .post(format!("{base}/v1/sessions"))
            .header("x-request-id", "client-chosen-1")
            .json(&json!({"login": login, "password": "wrong password here"}))
            .send()
            .unwrap();
        assert_ne!(res.headers()["x-request-id"], "client-chosen-1");
        locked |= res.status() == reqwest::StatusCode::TOO_MANY_REQUESTS;
    }
    assert!(locked, "the login was locked");
    drop(server);

    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        !text.contains(login) && !text.contains("wrong password"),
        "{text}"
    );
    let events: Vec<Value> = text
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l["target"] == "realname::security")
        .collect();
    let named = |name: &str| {
        events
            .iter()
            .filter(|e| e["fields"]["event"] == name)
            .count()
    };
    assert!(named("login_failed") >= 5, "{text}");
    assert!(named("login_locked_out") >= 1, "{text}");
    for event in &events {
        let span = &event["span"];
        assert_eq!(span["client"], "127.0.0.1", "{event}");
        assert_eq!(span["client_request_id"], "client-chosen-1", "{event}");
        assert_eq!(span["request_id"].as_str().unwrap().len(), 36, "{event}");
    }
}

#[test]
fn the_iso20022_rail_is_refused_at_start_when_incomplete_and_its_commands_work() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("out")).unwrap();
    std::fs::create_dir_all(dir.path().join("in")).unwrap();
    let complete = "rail = \"iso20022\"\n[iso20022]\noutbox_dir = \"out\"\ninbox_dir = \"in\"\ndebtor_name = \"Realname Ltd\"\ndebtor_account = \"110060123456789012\"\ndebtor_agent = \"BKCHCNBJ\"\n";
    std::fs::write(
        dir.path().join("incomplete.toml"),
        complete.replace("debtor_agent = \"BKCHCNBJ\"\n", ""),
    )
    .unwrap();
    let refused = realname(dir.path(), &["serve", "--config", "incomplete.toml"], None);
    assert_eq!(refused.status.code(), Some(2));
    let text = stderr(&refused);
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(text.contains("iso20022.debtor_agent"), "{text}");
    std::fs::write(
        dir.path().join("no-folder.toml"),
        complete.replace("inbox_dir = \"in\"", "inbox_dir = \"nowhere\""),
    )
    .unwrap();
    let refused = realname(dir.path(), &["serve", "--config", "no-folder.toml"], None);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        stderr(&refused).contains("iso20022.inbox_dir"),
        "{}",
        stderr(&refused)
    );

    std::fs::write(dir.path().join("iso.toml"), complete).unwrap();
    let status = realname(
        dir.path(),
        &["rail", "status", "--config", "iso.toml"],
        None,
    );
    assert_eq!(status.status.code(), Some(0), "{}", stderr(&status));
    let text = String::from_utf8_lossy(&status.stdout).into_owned();
    assert!(text.contains("files awaiting a report: 0"), "{text}");
    assert!(text.contains("unmatched entries: 0"), "{text}");

    // A file handed over by hand is read as the inbox reads it: this one is refused.
    std::fs::write(
        dir.path().join("answer.xml"),
        "<?xml version=\"1.0\"?><Document><x/></Document>",
    )
    .unwrap();
    let import = realname(
        dir.path(),
        &["rail", "import", "answer.xml", "--config", "iso.toml"],
        None,
    );
    assert_eq!(import.status.code(), Some(0), "{}", stderr(&import));
    assert!(String::from_utf8_lossy(&import.stdout).contains("0 message(s) applied"));
    assert!(dir.path().join("in/rejected/answer.xml").exists());
    let why = std::fs::read_to_string(dir.path().join("in/rejected/answer.xml.why.txt")).unwrap();
    assert!(why.contains("namespace"), "{why}");
    let missing = realname(
        dir.path(),
        &["rail", "import", "nothing.xml", "--config", "iso.toml"],
        None,
    );
    assert_eq!(missing.status.code(), Some(2));
    let sandbox = realname(dir.path(), &["rail", "import", "answer.xml"], None);
    assert_eq!(
        sandbox.status.code(),
        Some(2),
        "the sandbox rail has no inbox"
    );
}

#[cfg(unix)]
#[test]
fn key_rotate_reseals_the_stores_keys_and_retires_the_old_key_file() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name);
    let read = |name: &str| std::fs::read_to_string(path(name)).unwrap();
    let made = exits(dir.path(), &["apikey", "create", "shop", "--test"], &[]);
    assert_eq!(made.status.code(), Some(0), "{}", stderr(&made));
    let api_key = String::from_utf8_lossy(&made.stdout).trim().to_owned();
    let old = read("realname.key");

    let rotated = exits(dir.path(), &["key", "rotate"], &[]);
    assert_eq!(rotated.status.code(), Some(0), "{}", stderr(&rotated));
    let said = String::from_utf8_lossy(&rotated.stdout).into_owned();
    assert!(
        said.contains("replaced by") && said.contains("realname.key.retired"),
        "{said}"
    );
    let new = read("realname.key");
    assert_ne!(new, old, "a new key file");
    assert_eq!(
        read("realname.key.retired"),
        old,
        "the old one kept beside it"
    );
    for name in ["realname.key", "realname.key.retired"] {
        let mode = std::fs::metadata(path(name)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{name}");
    }
    let fingerprint = said
        .split_whitespace()
        .nth(5)
        .unwrap()
        .trim_end_matches(';');
    let check = exits(dir.path(), &["key", "check"], &[]);
    assert!(
        String::from_utf8_lossy(&check.stdout).contains(fingerprint),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );

    // A node started with the retired key refuses to start.
    let refused = exits(
        dir.path(),
        &["serve", "--listen", "127.0.0.1:0"],
        &[("REALNAME_DATA_KEY_FILE", "realname.key.retired")],
    );
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("not the key"),
        "{}",
        stderr(&refused)
    );

    // What was hashed and sealed before still works: the API key authenticates.
    let server = serve(dir.path(), &path("serve.log"));
    let res = reqwest::blocking::Client::new()
        .get(format!("{}/v1/platform/users/nobody", server.base))
        .bearer_auth(&api_key)
        .send()
        .unwrap();
    assert_ne!(res.status(), reqwest::StatusCode::UNAUTHORIZED);
    drop(server);

    // Rotating again keeps the last key as .retired and moves the older one aside.
    let again = exits(dir.path(), &["key", "rotate"], &[]);
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    assert_eq!(read("realname.key.retired"), new);
    let aside = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(Result::ok)
        .any(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("realname.key.retired.")
        });
    assert!(aside, "the older retired key is kept aside");

    // A key in the configuration cannot be rotated into a file.
    use base64::Engine;
    let inline = base64::engine::general_purpose::STANDARD.encode([8u8; 32]);
    let inline_dir = tempfile::tempdir().unwrap();
    let created = exits(
        inline_dir.path(),
        &["apikey", "create", "shop", "--test"],
        &[("REALNAME_DATA_KEY", inline.as_str())],
    );
    assert_eq!(created.status.code(), Some(0), "{}", stderr(&created));
    let refused = exits(
        inline_dir.path(),
        &["key", "rotate"],
        &[("REALNAME_DATA_KEY", inline.as_str())],
    );
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("data_key_file"),
        "{}",
        stderr(&refused)
    );
}

const PASSPORT: &str = "E98765432";
const CARD: &str = "6222020000000000018";
const PHONE: &str = "13912345678";

/// A user's draft over `base`, with both images and a card: four sealed values, each holding
/// something a test can look for (the passport, the card, the phone, "a secret photo").
fn sealed_draft(c: &reqwest::blocking::Client, base: &str, login: &str) -> (String, String) {
    use reqwest::Method;
    let url = |p: &str| format!("{base}{p}");
    let password = "correct horse battery";
    let credentials = json!({"login": login, "password": password});
    call(
        c,
        Method::POST,
        url("/v1/accounts"),
        None,
        Some(credentials.clone()),
    );
    let token = call(
        c,
        Method::POST,
        url("/v1/sessions"),
        None,
        Some(credentials),
    )["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let app = call(
        c,
        Method::POST,
        url("/v1/verifications"),
        Some(&token),
        Some(json!({
        "consent": true, "real_name": "John Smith", "nationality": "USA", "date_of_birth": "1990-05-17",
        "phone": PHONE,
        "documents": {"passport": {"number": PASSPORT, "expiry_date": realname_store_tests::fixtures::FAR_EXPIRY},
                      "stay_permit": {"kind": "entry_record", "entry_date": "2026-01-10"}}, "sex": "male", "occupation": {"category": "office_worker"},
                      "address": "Room 1201, 88 Jianguo Road, Chaoyang, Beijing", "pep": {"declared": false}})),
    );
    let id = app["id"].as_str().unwrap().to_owned();
    for slot in ["passport_photo_page", "stay_permit"] {
        let res = c
            .put(url(&format!("/v1/verifications/{id}/documents/{slot}")))
            .bearer_auth(&token)
            .body(realname_store_tests::fixtures::document_jpeg(
                b"a secret photo of E98765432",
                0,
            ))
            .send()
            .unwrap();
        assert!(res.status().is_success());
    }
    call(
        c,
        Method::PUT,
        url(&format!("/v1/verifications/{id}/bank_card")),
        Some(&token),
        Some(json!({
        "bank": "ICBC", "card_number": CARD, "card_type": "savings", "account_type": "current", "account_name": "John Smith"})),
    );
    (token, id)
}

#[cfg(unix)]
#[test]
fn a_data_key_rotation_killed_half_way_carries_on_and_leaves_no_value_under_the_old_key() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let server = serve(dir.path(), &dir.path().join("serve.log"));
    let c = reqwest::blocking::Client::new();
    let drafts: Vec<(String, String)> = (0..4)
        .map(|i| sealed_draft(&c, &server.base, &format!("rotate-{i}@example.com")))
        .collect();
    let real_name = |(token, id): &(String, String)| {
        let url = format!("{}/v1/verifications/{id}", server.base);
        call(&c, reqwest::Method::GET, url, Some(token), None)["real_name"].clone()
    };

    // One value per batch, slowly: killed after the first, the rest is still to do.
    let mut rotation = KillOnDrop(
        Command::new(BIN)
            .args([
                "key",
                "rotate",
                "--data",
                "--batch",
                "1",
                "--pause-ms",
                "500",
            ])
            .current_dir(dir.path())
            .env_remove("RUST_LOG")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut said = Vec::new();
    for line in std::io::BufReader::new(rotation.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        let first_batch = line.contains("re-sealed");
        said.push(line);
        if first_batch {
            break;
        }
    }
    rotation.kill().unwrap();
    rotation.wait().unwrap();
    assert!(said[0].contains("data-key rotation begun"), "{said:?}");
    assert!(
        said.last().unwrap().contains("1 value(s) re-sealed"),
        "{said:?}"
    );

    let check = exits(dir.path(), &["key", "check"], &[]);
    let report = String::from_utf8_lossy(&check.stdout).into_owned();
    assert_eq!(check.status.code(), Some(0), "{}", stderr(&check));
    assert!(
        report.contains("value(s) are still sealed under a retired data key"),
        "{report}"
    );
    // A new key-encryption key waits until the data-key rotation is finished.
    let refused = exits(dir.path(), &["key", "rotate"], &[]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("data-key rotation is under way"),
        "{}",
        stderr(&refused)
    );
    // The service opens values under either key meanwhile.
    for draft in &drafts {
        assert_eq!(real_name(draft), "John Smith");
    }

    let resumed = exits(dir.path(), &["key", "rotate", "--data"], &[]);
    let out = String::from_utf8_lossy(&resumed.stdout).into_owned();
    assert_eq!(resumed.status.code(), Some(0), "{}", stderr(&resumed));
    assert!(out.contains("data-key rotation resumed"), "{out}");
    assert!(out.contains("(a rotation resumed)"), "{out}");
    let check = exits(dir.path(), &["key", "check"], &[]);
    let report = String::from_utf8_lossy(&check.stdout).into_owned();
    assert!(
        report.contains("no value is sealed under a retired data key"),
        "{report}"
    );
    assert!(!report.contains("do not open"), "{report}");

    // The node lets the retired key go within moments; every value opens without it.
    std::thread::sleep(Duration::from_secs(5));
    for draft in &drafts {
        assert_eq!(real_name(draft), "John Smith");
    }
    let log = std::fs::read_to_string(dir.path().join("serve.log")).unwrap();
    assert!(
        log.contains("a data-key rotation began"),
        "the node followed"
    );
    assert!(
        log.contains("the data-key rotation ended"),
        "the node followed"
    );
}

#[test]
fn a_store_is_of_one_mode_for_life() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("out")).unwrap();
    std::fs::create_dir_all(dir.path().join("in")).unwrap();
    std::fs::write(
        dir.path().join("live.toml"),
        "rail = \"iso20022\"\n[iso20022]\noutbox_dir = \"out\"\ninbox_dir = \"in\"\ndebtor_name = \"Realname Ltd\"\ndebtor_account = \"110060123456789012\"\ndebtor_agent = \"BKCHCNBJ\"\n",
    )
    .unwrap();
    let refused = |args: &[&str], says: &str| {
        let out = exits(dir.path(), args, &[]);
        let text = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {text}");
        assert_eq!(text.lines().count(), 1, "{text}");
        assert!(text.contains(says), "{text}");
    };

    // A sandbox store: a user registered while it served, and a test key.
    let served = serve(dir.path(), &dir.path().join("serve.log"));
    let c = reqwest::blocking::Client::new();
    call(
        &c,
        reqwest::Method::POST,
        format!("{}/v1/accounts", served.base),
        None,
        Some(json!({"login": "anna@example.com", "password": "correct horse"})),
    );
    drop(served);
    let sandbox = "this store holds sandbox data; start live on a new database";
    refused(
        &["serve", "--listen", "127.0.0.1:0", "--config", "live.toml"],
        sandbox,
    );
    refused(
        &["apikey", "create", "shop", "--config", "live.toml"],
        sandbox,
    );
    // The sandbox still starts over it.
    drop(serve(dir.path(), &dir.path().join("serve.log")));

    // A live store refuses the sandbox, and a test key, the same way.
    let live = tempfile::tempdir().unwrap();
    for folder in ["out", "in"] {
        std::fs::create_dir_all(live.path().join(folder)).unwrap();
    }
    std::fs::copy(dir.path().join("live.toml"), live.path().join("live.toml")).unwrap();
    let made = exits(
        live.path(),
        &["apikey", "create", "shop", "--config", "live.toml"],
        &[],
    );
    assert_eq!(made.status.code(), Some(0), "{}", stderr(&made));
    let test_key = exits(
        live.path(),
        &[
            "apikey",
            "create",
            "shop",
            "--test",
            "--config",
            "live.toml",
        ],
        &[],
    );
    assert_eq!(test_key.status.code(), Some(2), "{}", stderr(&test_key));
    let out = exits(live.path(), &["serve", "--listen", "127.0.0.1:0"], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("this store holds live data"),
        "{}",
        stderr(&out)
    );
}

fn lists_file(name: &str) -> String {
    format!("{}/../screening/lists/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn screening_lists_are_imported_whole_listed_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let db = format!("sqlite://{}", d.join("s.db").display());
    let run = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--database", &db]);
        realname(d, &all, None)
    };
    let out = |o: &Output| String::from_utf8_lossy(&o.stdout).into_owned();

    assert_eq!(out(&run(&["screening", "lists"])), "no list is loaded\n");
    let un = lists_file("un-consolidated-2026-02-27.xml");
    let first = run(&["screening", "import", "un", &un]);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    assert!(
        out(&first).contains("730 persons, 273 entities"),
        "{}",
        out(&first)
    );
    let again = run(&["screening", "import", "un", &un]);
    assert!(out(&again).contains("nothing changed"), "{}", out(&again));

    // A file of another source, or one that does not parse, changes nothing.
    let wrong = run(&["screening", "import", "ofac", &un]);
    assert_eq!(wrong.status.code(), Some(2));
    assert_eq!(stderr(&wrong).lines().count(), 1);
    assert!(
        stderr(&wrong).contains("not one of OFAC's SDN CSV files"),
        "{}",
        stderr(&wrong)
    );
    std::fs::write(
        d.join("mps.jsonl"),
        "{\"id\":\"m1\",\"names\":[\"Karl Ostermann\"],\"date_of_birth\":\"1970-03-04\",\"nationality\":\"DEU\"}\n{\"id\":\"m2\",\"names\":[\"A B\"],\"date_of_birth\":\"70\"}\n",
    )
    .unwrap();
    let broken = run(&["screening", "import", "national:mps", "mps.jsonl"]);
    assert_eq!(broken.status.code(), Some(2));
    assert!(
        stderr(&broken).contains("line 2: date_of_birth"),
        "{}",
        stderr(&broken)
    );
    let listed = out(&run(&["screening", "lists"]));
    assert_eq!(listed.lines().count(), 2, "{listed}");
    assert!(
        listed.lines().nth(1).unwrap().starts_with("un\t"),
        "{listed}"
    );

    std::fs::write(
        d.join("mps.jsonl"),
        "{\"id\":\"m1\",\"names\":[\"Karl Ostermann\"],\"name_zh\":\"卡尔·奥斯特曼\",\"date_of_birth\":\"1970-03-04\",\"nationality\":\"DEU\",\"documents\":[{\"kind\":\"passport\",\"number\":\"C01X00T47\",\"country\":\"DEU\"}],\"listed_on\":\"2026-01-05\",\"note\":null}\n",
    )
    .unwrap();
    let national = run(&["screening", "import", "national:mps", "mps.jsonl"]);
    assert_eq!(national.status.code(), Some(0), "{}", stderr(&national));
    assert_eq!(out(&run(&["screening", "lists"])).lines().count(), 3);

    let check = run(&[
        "screening",
        "check",
        "--name",
        "OSTERMANN Karl",
        "--dob",
        "1970-03-04",
        "--json",
    ]);
    assert_eq!(check.status.code(), Some(0), "{}", stderr(&check));
    let answer: Value = serde_json::from_str(out(&check).trim()).unwrap();
    let hit = &answer["hits"][0];
    assert_eq!(hit["source"], "national:mps");
    assert_eq!(hit["entry_id"], "m1");
    assert_eq!(hit["matched"], json!(["name", "date_of_birth"]));
    // The same passport is a hit whatever the name.
    let by_document = run(&[
        "screening",
        "check",
        "--name",
        "Someone Else",
        "--document",
        "C01X00T47",
        "--json",
    ]);
    let answer: Value = serde_json::from_str(out(&by_document).trim()).unwrap();
    assert_eq!(answer["hits"][0]["matched"], json!(["document"]));

    std::fs::write(
        d.join("people.jsonl"),
        "{\"name\":\"Maria Lopez\",\"dob\":\"1991-07-08\",\"nationality\":\"ESP\"}\n{\"name\":[\"ERIC BADEGE\"],\"dob\":\"1971-01-01\",\"nationality\":null,\"document\":null}\n",
    )
    .unwrap();
    let many = run(&["screening", "check", "--file", "people.jsonl"]);
    assert_eq!(many.status.code(), Some(0), "{}", stderr(&many));
    let lines: Vec<Value> = out(&many)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["hits"], json!([]));
    assert_eq!(lines[1]["hits"][0]["source"], "un");
    let bad = run(&["screening", "check", "--name", "X Y", "--dob", "1990-13-01"]);
    assert_eq!(bad.status.code(), Some(2));
}
