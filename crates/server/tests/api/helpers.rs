//! Each test gets its own service: a fresh SQLite file in a temporary folder, a random
//! loopback port, and a known data key.

use base64::Engine;
use realname_server::App;
use realname_server::config::Config;
pub use realname_store_tests::fixtures::FAR_EXPIRY;
use reqwest::{Client, Method, Response, StatusCode};
use serde_json::{Value, json};
use tokio::sync::oneshot;

pub const PASSWORD: &str = "correct horse battery";
pub const CARD: &str = "6222020000000000018";

pub struct TestApp {
    pub base: String,
    pub client: Client,
    pub dir: tempfile::TempDir,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    /// The test key that moves the sandbox clock, made on first use.
    clock_key: tokio::sync::OnceCell<String>,
    /// The second factors of the staff accounts `staff` made, by login.
    authenticators: tokio::sync::Mutex<
        std::collections::HashMap<String, realname_app::second_factor::Authenticator>,
    >,
}

/// When the tests' list versions were imported: a fixed moment of their own, before any
/// service clock, so the re-screening jobs an import queues are due at once.
pub fn lists_imported_at() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(1_767_225_600, 0).unwrap_or_default()
}

pub fn data_key() -> String {
    base64::engine::general_purpose::STANDARD.encode([42u8; 32])
}

/// The backend the API tests run on: SQLite, or PostgreSQL when
/// `REALNAME_TEST_BACKEND=postgres` (scripts/test runs both).
pub fn on_postgres() -> bool {
    std::env::var("REALNAME_TEST_BACKEND").is_ok_and(|b| b == "postgres")
}

pub const LIMITS: [&str; 4] = [
    "limits.sessions_per_minute",
    "limits.accounts_per_minute",
    "limits.links_per_minute",
    "limits.platform_per_minute",
];

pub fn config(dir: &std::path::Path, extra: &[(&str, &str)]) -> Config {
    let db = std::fs::read_to_string(dir.join("database_url"))
        .unwrap_or_else(|_| format!("sqlite://{}", dir.join("realname.db").display()));
    // A test that rotates keys keeps them in a key file, as an operator does.
    let key_file = dir.join("realname.key");
    let key = match key_file.exists() {
        true => ("data_key_file", key_file.display().to_string()),
        false => ("data_key", data_key()),
    };
    let mut flags: Vec<(&str, String)> =
        vec![("listen", "127.0.0.1:0".into()), ("database_url", db), key];
    // Every test calls from one address, many times a minute: the limits are the limit
    // tests' own (they set them lower through `extra`).
    for key in LIMITS {
        flags.push((key, "1000000".into()));
    }
    // Which approvals need a second approver is the second-approval tests' own: elsewhere no
    // approval is sampled, so one reviewer's approval verifies.
    flags.push(("review.second_approval_sample", "0".into()));
    for (k, v) in extra {
        flags.push((k, (*v).to_owned()));
    }
    Config::load(None, |_| None, &flags).expect("test config")
}

/// Another node over `app`'s database, configured with `extra`: its base URL, and the sender
/// that stops it (dropping it stops it too).
pub async fn second_node(
    app: &TestApp,
    extra: &[(&str, &str)],
) -> (String, tokio::sync::oneshot::Sender<()>) {
    let other = App::build(config(app.dir.path(), extra))
        .await
        .expect("second node builds");
    let base = format!("http://127.0.0.1:{}", other.port());
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(other.run_until_stopped(async {
        let _ = stopped.await;
    }));
    (base, stop)
}

pub async fn spawn_app() -> TestApp {
    spawn_with(&[]).await
}

pub async fn spawn_with(extra: &[(&str, &str)]) -> TestApp {
    spawn_in(tempfile::tempdir().expect("temp dir"), extra).await
}

/// A new service whose folder is `dir` (its database on PostgreSQL when the tests run there).
pub async fn spawn_in(dir: tempfile::TempDir, extra: &[(&str, &str)]) -> TestApp {
    spawn_in_changed(dir, extra, |parts| parts).await
}

/// As [`spawn_in`], with the service's parts changed by `change`.
pub async fn spawn_in_changed(
    dir: tempfile::TempDir,
    extra: &[(&str, &str)],
    change: impl FnOnce(realname_app::Parts) -> realname_app::Parts,
) -> TestApp {
    new_database_in(dir.path()).await;
    start_parts(dir, extra, change).await
}

/// Gives `dir` a database of its own: a fresh one on PostgreSQL when the tests run there (the
/// folder remembers it, so a restart finds it), else the SQLite file inside it.
pub async fn new_database_in(dir: &std::path::Path) {
    if on_postgres() {
        let url = realname_store_tests::backends::fresh_postgres_url().await;
        std::fs::write(dir.join("database_url"), url).expect("write database url");
    }
}

/// Starts a service over the database already in `dir`.
pub async fn start_in(dir: tempfile::TempDir, extra: &[(&str, &str)]) -> TestApp {
    start_parts(dir, extra, |parts| parts).await
}

/// A fresh service whose parts the test changes first (a bank that fails, is slow, or
/// answers twice).
pub async fn spawn_changed(
    change: impl FnOnce(realname_app::Parts) -> realname_app::Parts,
) -> TestApp {
    spawn_in_changed(tempfile::tempdir().expect("temp dir"), &[], change).await
}

pub async fn start_parts(
    dir: tempfile::TempDir,
    extra: &[(&str, &str)],
    change: impl FnOnce(realname_app::Parts) -> realname_app::Parts,
) -> TestApp {
    let config = config(dir.path(), extra);
    let parts = App::parts(&config).await.expect("parts build");
    let app = App::with_parts(config, change(parts))
        .await
        .expect("app builds");
    let base = format!("http://127.0.0.1:{}", app.port());
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(app.run_until_stopped(async {
        let _ = stopped.await;
    }));
    TestApp {
        base,
        client: Client::new(),
        dir,
        stop: Some(stop),
        task: Some(task),
        clock_key: tokio::sync::OnceCell::new(),
        authenticators: Default::default(),
    }
}

impl TestApp {
    /// Stops the service and hands back its folder, database included.
    pub async fn stop(mut self) -> tempfile::TempDir {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        let dir = tempfile::tempdir().expect("temp dir");
        std::mem::replace(&mut self.dir, dir)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self.client.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.expect("request sent");
        read(res).await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> (StatusCode, Value) {
        self.call(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, token, Some(body)).await
    }

    pub async fn register(&self, login: &str) -> String {
        let (status, body) = self
            .post(
                "/v1/accounts",
                None,
                json!({"login": login, "password": PASSWORD}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        self.login(login, PASSWORD).await
    }

    pub async fn login(&self, login: &str, password: &str) -> String {
        let (status, body) = self
            .post(
                "/v1/sessions",
                None,
                json!({"login": login, "password": password}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["token"].as_str().expect("token").to_owned()
    }

    /// A staff account, created as `realname staff add` makes it, signed in with its code.
    pub async fn staff(&self, login: &str, role: &str) -> String {
        let role = realname_core::store::Role::parse(role).expect("role");
        let uri = realname_server::staff::add(
            &config(self.dir.path(), &[]),
            login,
            role,
            PASSWORD.into(),
        )
        .await
        .expect("staff account");
        let authenticator =
            realname_app::second_factor::Authenticator::from_uri(&uri).expect("otpauth URI");
        self.authenticators
            .lock()
            .await
            .insert(login.to_owned(), authenticator);
        self.staff_login(login).await
    }

    /// The next code of a staff account `staff` made: each is accepted once.
    pub async fn totp(&self, login: &str) -> String {
        let mut authenticators = self.authenticators.lock().await;
        authenticators
            .get_mut(login)
            .expect("a staff account made by `staff`")
            .code()
            .await
    }

    /// Signs a staff account `staff` made in again, with a fresh code.
    pub async fn staff_login(&self, login: &str) -> String {
        let code = self.totp(login).await;
        let (status, body) = self
            .post(
                "/v1/sessions",
                None,
                json!({"login": login, "password": PASSWORD, "totp": code}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["token"].as_str().expect("token").to_owned()
    }

    pub async fn upload(
        &self,
        token: &str,
        id: &str,
        slot: &str,
        bytes: Vec<u8>,
    ) -> (StatusCode, Value) {
        let res = self
            .client
            .put(self.url(&format!("/v1/verifications/{id}/documents/{slot}")))
            .bearer_auth(token)
            .header("content-type", "image/jpeg")
            .body(bytes)
            .send()
            .await
            .expect("upload sent");
        read(res).await
    }

    /// Moves the sandbox clock with a test key (keys, unlike sessions, outlive the jump), runs
    /// everything that fell due, and answers the service's time after the move.
    pub async fn advance(&self, seconds: i64) -> chrono::DateTime<chrono::Utc> {
        let key = self
            .clock_key
            .get_or_init(|| platform_key(self, &[], realname_core::platform::KeyMode::Test))
            .await;
        let (status, body) = self
            .post(
                "/v1/sandbox/clock/advance",
                Some(key),
                json!({"seconds": seconds}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        time(&body["now"])
    }

    /// Moves the sandbox clock to about `at`: the clock reads in whole seconds, so it lands in
    /// the second after `at`, plus the moment the call takes.
    pub async fn advance_to(&self, at: chrono::DateTime<chrono::Utc>) {
        let now = self.advance(0).await;
        self.advance((at - now).num_seconds()).await;
    }

    pub async fn statement(&self, card: &str) -> Vec<Value> {
        let (status, body) = self
            .get(
                &format!("/v1/sandbox/bank/statement?card_number={card}"),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["transactions"].as_array().cloned().unwrap_or_default()
    }

    /// A draft with a valid identity, both images and a bank card: ready to submit.
    pub async fn ready_draft(&self, token: &str, card: &str) -> String {
        self.ready_draft_with(token, identity(), card).await
    }

    pub async fn ready_draft_with(&self, token: &str, identity: Value, card: &str) -> String {
        let (status, app) = self.post("/v1/verifications", Some(token), identity).await;
        assert_eq!(status, StatusCode::CREATED, "{app}");
        let id = app["id"].as_str().expect("id").to_owned();
        for slot in ["passport_photo_page", "stay_permit"] {
            let (status, body) = self.upload(token, &id, slot, jpeg()).await;
            assert_eq!(status, StatusCode::OK, "{body}");
        }
        let (status, body) = self.bind_card(token, &id, card).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        id
    }

    /// Binds `card`, held by John Smith, to the application `id`.
    pub async fn bind_card(&self, token: &str, id: &str, card: &str) -> (StatusCode, Value) {
        self.call(
            Method::PUT,
            &format!("/v1/verifications/{id}/bank_card"),
            Some(token),
            Some(bank_card(card, "John Smith")),
        )
        .await
    }

    /// A new application of the account signed in with `token`, and `card` bound to it: the
    /// codes the card is refused with, by field (none: it was bound).
    pub async fn card_refusal(&self, token: &str, card: &str) -> Vec<(String, String)> {
        let (status, created) = self
            .post("/v1/verifications", Some(token), identity())
            .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let id = created["id"].as_str().expect("id");
        let (status, body) = self.bind_card(token, id, card).await;
        match status {
            StatusCode::OK => Vec::new(),
            StatusCode::UNPROCESSABLE_ENTITY => detail_codes(&body),
            other => panic!("binding a card answered {other}: {body}"),
        }
    }

    /// Submits: the application is `deposit_pending`, its payout on its way.
    pub async fn submit(&self, token: &str, id: &str) {
        let (status, body) = self
            .post(
                &format!("/v1/verifications/{id}/submit"),
                Some(token),
                json!({}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["status"], "deposit_pending");
    }

    /// Submits and lets the sandbox bank pay and settle.
    pub async fn submit_and_settle(&self, token: &str, id: &str) {
        self.submit(token, id).await;
        self.advance(0).await;
    }

    /// Takes a ready draft to `under_review`: submitted, settled by the bank, and the amount
    /// typed.
    pub async fn to_review(&self, token: &str, id: &str, card: &str) {
        self.submit_and_settle(token, id).await;
        let amount = self.deposit_amount(card).await;
        let (status, body) = self
            .post(
                &format!("/v1/verifications/{id}/deposit_confirmation"),
                Some(token),
                json!({"amount": amount}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["status"], "under_review");
    }

    /// A new application for `token`'s user, taken to `verified` through the sandbox's
    /// review endpoint; answers its id.
    pub async fn verified(&self, token: &str, card: &str) -> String {
        let id = self.ready_draft(token, card).await;
        self.to_review(token, &id, card).await;
        let key = platform_key(self, &[], realname_core::platform::KeyMode::Test).await;
        self.sandbox_approve(&key, &id).await;
        id
    }

    /// Approves the application `id`, under review, through the sandbox's review endpoint
    /// with the test key `key`.
    pub async fn sandbox_approve(&self, key: &str, id: &str) {
        let (status, body) = self
            .post(
                &format!("/v1/sandbox/verifications/{id}/review"),
                Some(key),
                json!({"outcome": "approve"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    pub async fn deposit_amount(&self, card: &str) -> String {
        let lines = self.statement(card).await;
        lines
            .last()
            .and_then(|t| t["amount"].as_str())
            .expect("a deposit on the statement")
            .to_owned()
    }

    pub async fn application(&self, token: &str, id: &str) -> Value {
        let (status, body) = self
            .get(&format!("/v1/verifications/{id}"), Some(token))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }
}

/// The seconds an answer's `Retry-After` asks to wait.
pub fn retry_after(res: &Response) -> u64 {
    res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

/// A time in an answer.
pub fn time(value: &Value) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(value.as_str().expect("a time"))
        .expect("RFC 3339")
        .with_timezone(&chrono::Utc)
}

pub async fn read(res: Response) -> (StatusCode, Value) {
    let status = res.status();
    let text = res.text().await.unwrap_or_default();
    let value = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, value)
}

pub fn jpeg() -> Vec<u8> {
    realname_store_tests::fixtures::document_jpeg(b"test image", 0)
}

pub fn identity() -> Value {
    json!({
        "consent": true,
        "real_name": "John Smith",
        "nationality": "USA",
        "date_of_birth": "1990-05-17",
        "phone": "13800138000",
        "documents": {
            "passport": {"number": "E12345678", "expiry_date": FAR_EXPIRY},
            "stay_permit": {"kind": "entry_record", "entry_date": "2026-01-10"}
        },
        "sex": "male",
        "occupation": {"category": "office_worker"},
        "address": "Room 1201, 88 Jianguo Road, Chaoyang, Beijing",
        "pep": {"declared": false}
    })
}

pub fn bank_card(card: &str, holder: &str) -> Value {
    json!({"bank": "ICBC", "card_number": card, "card_type": "savings", "account_type": "current", "account_name": holder})
}

/// The codes of an error body's details.
pub fn detail_codes(body: &Value) -> Vec<(String, String)> {
    body["error"]["details"]
        .as_array()
        .map(|d| {
            d.iter()
                .map(|x| {
                    (
                        x["field"].as_str().unwrap_or("").to_owned(),
                        x["code"].as_str().unwrap_or("").to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Distinct valid ICBC savings card numbers (BIN 622202, 19 digits, Luhn).
pub fn card_number(n: u32) -> String {
    let body = format!("622202{:012}", u64::from(n) * 100 + 11);
    let digits: Vec<u32> = body.chars().filter_map(|c| c.to_digit(10)).collect();
    for check in 0..10 {
        let mut sum = 0;
        for (i, d) in digits
            .iter()
            .chain(std::iter::once(&check))
            .rev()
            .enumerate()
        {
            let mut v = *d;
            if i % 2 == 1 {
                v *= 2;
                if v > 9 {
                    v -= 9;
                }
            }
            sum += v;
        }
        if sum % 10 == 0 {
            return format!("{body}{check}");
        }
    }
    unreachable!()
}

/// A platform API key made the way `realname apikey create` makes it, over this service's
/// database: `scopes` empty gives the default set.
pub async fn platform_key(
    app: &TestApp,
    scopes: &[realname_core::platform::Scope],
    mode: realname_core::platform::KeyMode,
) -> String {
    let config = config(app.dir.path(), &[]);
    let parts = realname_server::App::parts(&config).await.expect("parts");
    let service = realname_app::Service::new(parts).await.expect("service");
    realname_app::platform::keys::create(&service, "tests", scopes, mode)
        .await
        .expect("a key")
        .key
}

/// The statuses an application went through, oldest first (its `events`).
pub fn event_statuses(application: &Value) -> Vec<&str> {
    application["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["status"].as_str().expect("a status"))
        .collect()
}

/// Rows of one text column, read from the database itself: `sqlite` on SQLite, `pg` on
/// PostgreSQL.
pub fn db_column(app: &TestApp, sqlite: &str, pg: &str) -> Vec<String> {
    match std::fs::read_to_string(app.dir.path().join("database_url")) {
        Ok(url) => {
            let out = std::process::Command::new("psql")
                .args([url.trim(), "-Atc", pg])
                .output()
                .expect("psql runs");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .map(str::to_owned)
                .collect()
        }
        Err(_) => {
            let db = rusqlite::Connection::open(app.dir.path().join("realname.db")).unwrap();
            let mut stmt = db.prepare(sqlite).unwrap();
            stmt.query_map([], |r| r.get::<_, String>(0))
                .unwrap()
                .map(Result::unwrap)
                .collect()
        }
    }
}

/// `staff` claims the review case `case`.
pub async fn claim(app: &TestApp, staff: &str, case: &str) -> (StatusCode, Value) {
    app.post(
        &format!("/v1/review/cases/{case}/claim"),
        Some(staff),
        json!({}),
    )
    .await
}
