//! The ISO 20022 rail against a bank nobody here wrote: PyPI `mock-bank` 0.9.0, its drop
//! folder realname's outbox and its pickup folder realname's inbox. The mock's clock is moved
//! with `POST /_mock/advance`; realname's batches run every second.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use realname_core::ports::TransferLedger;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

/// The test bank of the tests' own policy: mock-bank holds a creditor account only when its
/// clearing member id is mock-bank's routing number.
const POLICY: &str = r#"
[[bank]]
code = "MOCK"
name = "Mock Bank"
name_zh = "模拟银行"
supported = true
bic = "MOCKNL2A"
clearing_system = "USABA"
cnaps = "999999992"
bins = [{ prefix = "999999", card_type = "savings" }]
"#;

const DEBTOR: &str = "REALNAME";

/// Where the mock-bank of `scripts/setup` is: `MOCK_BANK`, or its virtual environment.
fn mock_bank_program() -> Option<PathBuf> {
    if let Ok(path) = std::env::var("MOCK_BANK") {
        return Some(PathBuf::from(path));
    }
    let venv =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/venv-mock-bank/bin/mock-bank");
    venv.exists().then_some(venv)
}

/// An IBAN with real check digits (ISO 13616, mod 97) for a mock-bank account.
fn iban(account: &str) -> String {
    let bban = format!("MOCK{account:0>10}");
    let digits: String = format!("{bban}NL00")
        .chars()
        .map(|c| c.to_digit(36).unwrap().to_string())
        .collect();
    let rest = digits
        .bytes()
        .fold(0u32, |r, d| (r * 10 + u32::from(d - b'0')) % 97);
    format!("NL{:02}{bban}", 98 - rest)
}

/// A 16-digit card of the test bank (Luhn), distinct for each `n`.
fn mock_card(n: u32) -> String {
    let body = format!("999999{n:09}");
    for check in 0..10u32 {
        let sum: u32 = body
            .chars()
            .filter_map(|c| c.to_digit(10))
            .chain(std::iter::once(check))
            .rev()
            .enumerate()
            .map(|(i, d)| {
                if i % 2 == 1 {
                    if d * 2 > 9 { d * 2 - 9 } else { d * 2 }
                } else {
                    d
                }
            })
            .sum();
        if sum % 10 == 0 {
            return format!("{body}{check}");
        }
    }
    unreachable!()
}

pub struct Bank {
    child: Child,
    base: String,
    client: reqwest::Client,
}

impl Drop for Bank {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Bank {
    /// Starts mock-bank on loopback over `outbox` and `inbox`; `None` (a skip) when it is not
    /// installed, which CI does not allow.
    async fn start(outbox: &Path, inbox: &Path) -> Option<Bank> {
        let Some(program) = mock_bank_program() else {
            assert!(
                std::env::var("CI").is_err(),
                "CI must run the ISO 20022 tests: scripts/setup installs mock-bank into target/venv-mock-bank"
            );
            eprintln!("skipped: mock-bank is not installed (scripts/setup installs it)");
            return None;
        };
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let child = Command::new(program)
            .args([
                "--host",
                "127.0.0.1",
                "--port",
                &port.to_string(),
                "--quiet",
            ])
            .arg("--drop-dir")
            .arg(outbox)
            .arg("--pickup-dir")
            .arg(inbox)
            .args(["--drop-settle-ms", "0", "--drop-interval-ms", "3600000"])
            .args(["--clock", &bank_clock()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("mock-bank starts");
        let bank = Bank {
            child,
            base: format!("http://127.0.0.1:{port}"),
            client: reqwest::Client::new(),
        };
        for _ in 0..100 {
            if let Ok(r) = bank
                .client
                .get(format!("{}/_mock/health", bank.base))
                .send()
                .await
                && r.status().is_success()
            {
                return Some(bank);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("mock-bank did not come up");
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.expect("mock-bank answers");
        let status = res.status();
        let value: Value = res.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "mock-bank {path}: {status} {value}");
        value
    }

    /// An account the bank holds; `number` is the domestic account number it is paid by.
    async fn open_account(&self, id: &str, number: &str, fields: Value) {
        let mut body =
            json!({"id": id, "iban": iban(number), "currency": "CNY", "account_number": number});
        if let (Some(b), Some(f)) = (body.as_object_mut(), fields.as_object()) {
            b.extend(f.clone());
        }
        self.call(Method::POST, "/_mock/accounts", Some(body)).await;
    }

    async fn behave(&self, id: &str, behaviour: &str, parameters: Value) {
        self.call(
            Method::PATCH,
            &format!("/_mock/accounts/{id}"),
            Some(json!({"behaviour": behaviour, "parameters": parameters})),
        )
        .await;
    }

    /// Reads the drop folder now.
    async fn scan(&self) -> Value {
        self.call(Method::POST, "/_mock/drop/scan", None).await
    }

    async fn advance(&self, days: u32) {
        self.call(Method::POST, &format!("/_mock/advance?days={days}"), None)
            .await;
    }

    /// The payments the bank has taken for `end_to_end_id` and not rejected: what it pays.
    async fn paid(&self, end_to_end_id: &str) -> Vec<Value> {
        let all = self.call(Method::GET, "/_mock/payments", None).await;
        all.as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|p| p["end_to_end_id"] == end_to_end_id && p["status"] != "rejected")
            .collect()
    }
}

/// realname on the ISO 20022 rail, beside mock-bank.
pub struct Rig {
    pub app: TestApp,
    pub bank: Bank,
    pub outbox: PathBuf,
    pub inbox: PathBuf,
    pub extra: Vec<(String, String)>,
}

impl Rig {
    /// `None` when mock-bank is not installed (outside CI).
    pub async fn start(extra: &[(&str, &str)]) -> Option<Rig> {
        Rig::start_with(extra, |parts, _, _| parts).await
    }

    /// As [`Rig::start`], with the service's parts changed by `change` (given the ledger of
    /// transfers over the same database).
    pub async fn start_with(
        extra: &[(&str, &str)],
        change: impl FnOnce(
            realname_app::Parts,
            Arc<dyn TransferLedger>,
            &realname_server::config::Config,
        ) -> realname_app::Parts,
    ) -> Option<Rig> {
        let dir = tempfile::tempdir().unwrap();
        let (outbox, inbox) = (dir.path().join("outbox"), dir.path().join("inbox"));
        std::fs::create_dir_all(&outbox).unwrap();
        std::fs::create_dir_all(&inbox).unwrap();
        let bank = Bank::start(&outbox, &inbox).await?;
        bank.open_account(DEBTOR, "100", json!({"balance": 1_000_000_000}))
            .await;
        let policy = dir.path().join("policy.toml");
        std::fs::write(&policy, POLICY).unwrap();
        let mut all: Vec<(String, String)> = [
            ("rail", "iso20022".to_owned()),
            ("policy_file", policy.display().to_string()),
            ("iso20022.outbox_dir", outbox.display().to_string()),
            ("iso20022.inbox_dir", inbox.display().to_string()),
            ("iso20022.debtor_name", "Realname Verification Ltd".into()),
            ("iso20022.debtor_account", iban("100")),
            ("iso20022.debtor_agent", "MOCKNL2A".into()),
            ("iso20022.batch_every", "1s".into()),
            ("iso20022.retry_after", "2s".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        all.extend(
            extra
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        let flags: Vec<(&str, &str)> = all.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        new_database_in(dir.path()).await;
        let config = config(dir.path(), &flags);
        // One store for the service and the ledger a test may wrap: on SQLite, two stores over
        // one file would each have a writer of their own.
        let opened = realname_server::open_store(&config).await.unwrap();
        // A live rail serves only with a list to screen against (CONTRACT 12): the UN's.
        let un = std::fs::read(un_list()).unwrap();
        realname_app::screening::import(
            opened.store.as_ref(),
            &realname_screening::Source::Un,
            &[realname_screening::ListFile {
                name: "un.xml",
                bytes: &un,
            }],
            lists_imported_at(),
        )
        .await
        .unwrap();
        let app = start_parts(dir, &flags, |mut parts| {
            parts.store = opened.store;
            change(parts, opened.transfers, &config)
        })
        .await;
        Some(Rig {
            app,
            bank,
            outbox,
            inbox,
            extra: all,
        })
    }

    pub fn flags(&self) -> Vec<(&str, &str)> {
        self.extra
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }

    pub fn config(&self) -> realname_server::config::Config {
        config(self.app.dir.path(), &self.flags())
    }

    /// A registered user with a submitted application paying into test card `n`.
    pub async fn applicant(&self, login: &str, n: u32) -> (String, String) {
        let token = self.app.register(login).await;
        // Each applicant a passport of their own: the deposit rounds are counted per document.
        let mut person = identity();
        person["documents"]["passport"]["number"] = json!(format!("E{n:08}"));
        let (status, app) = self
            .app
            .post("/v1/verifications", Some(&token), person)
            .await;
        assert_eq!(status, StatusCode::CREATED, "{app}");
        let id = app["id"].as_str().unwrap().to_owned();
        for slot in ["passport_photo_page", "stay_permit"] {
            let (status, body) = self.app.upload(&token, &id, slot, jpeg()).await;
            assert_eq!(status, StatusCode::OK, "{body}");
        }
        let card = json!({"bank": "MOCK", "card_number": mock_card(n), "card_type": "savings",
                          "account_type": "current", "account_name": "John Smith"});
        let (status, body) = self
            .app
            .call(
                Method::PUT,
                &format!("/v1/verifications/{id}/bank_card"),
                Some(&token),
                Some(card),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        self.app.submit(&token, &id).await;
        (token, id)
    }

    /// Waits (up to 20 s) until `id` is `status`, and answers it.
    pub async fn until(&self, token: &str, id: &str, status: &str) -> Value {
        let mut last = Value::Null;
        for _ in 0..200 {
            last = self.app.application(token, id).await;
            if last["status"] == status {
                return last;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{id} never became {status}: {last}");
    }

    /// Waits until the payout files in the outbox (not yet read by the bank) hold `n`
    /// transfers, and answers them; each is checked against the official XSD. A cut-off may
    /// fall between two submissions, so `n` transfers may come in more than one file.
    pub async fn files_out(&self, n: usize) -> Vec<PathBuf> {
        let mut held = 0;
        for _ in 0..200 {
            let files = pain001_files(&self.outbox);
            held = files
                .iter()
                .map(|f| {
                    count(
                        &std::fs::read_to_string(f).unwrap_or_default(),
                        "<CdtTrfTxInf>",
                    )
                })
                .sum();
            if held >= n {
                assert_eq!(held, n, "{files:?}");
                for f in &files {
                    assert_valid(f);
                }
                return files;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let everything: Vec<_> = walk(&self.outbox);
        panic!("{n} transfer(s) never came, {held} did; the outbox holds {everything:?}");
    }

    /// Waits until the inbox holds no file realname has not dealt with.
    pub async fn inbox_read(&self) {
        for _ in 0..200 {
            let waiting = files_in(&self.inbox).len() + files_in(&self.inbox.join("claimed")).len();
            if waiting == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the inbox was never read: {:?}", files_in(&self.inbox));
    }

    /// The bank reads the outbox, and realname reads its answer.
    pub async fn bank_reads(&self) -> Value {
        let scan = self.bank.scan().await;
        self.inbox_read().await;
        scan
    }

    /// The bank's clock moves `days` on, and realname reads what it sent.
    pub async fn days_pass(&self, days: u32) {
        self.bank.advance(days).await;
        self.inbox_read().await;
    }

    /// The amount of `id`'s deposit, as the bank's copy of the file says it.
    pub fn amount_of(&self, id: &str) -> String {
        let e2e = format!("RN{}", id.replace('-', ""));
        for file in files_in(&self.outbox.join("processed")) {
            let text = std::fs::read_to_string(&file).unwrap_or_default();
            if let Some(at) = text.find(&format!("<EndToEndId>{e2e}</EndToEndId>")) {
                let rest = &text[at..];
                let start =
                    rest.find(r#"<InstdAmt Ccy="CNY">"#).unwrap() + r#"<InstdAmt Ccy="CNY">"#.len();
                let end = rest[start..].find('<').unwrap();
                return rest[start..start + end].to_owned();
            }
        }
        panic!("no file the bank read pays {e2e}");
    }

    pub async fn confirm(&self, token: &str, id: &str) -> (StatusCode, Value) {
        let amount = self.amount_of(id);
        self.app
            .post(
                &format!("/v1/verifications/{id}/deposit_confirmation"),
                Some(token),
                json!({"amount": amount}),
            )
            .await
    }

    pub async fn rail_status(&self) -> String {
        realname_server::rail::status(&self.config()).await.unwrap()
    }
}

/// Every file under `dir`, for a failing test to show.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

fn pain001_files(dir: &Path) -> Vec<PathBuf> {
    files_in(dir)
        .into_iter()
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("pain001-") && n.ends_with(".xml"))
        })
        .collect()
}

/// Every file realname writes validates against the official pain.001.001.09 XSD.
fn assert_valid(file: &Path) {
    let xsd = Path::new(env!("CARGO_MANIFEST_DIR")).join("../rails/iso20022/pain.001.001.09.xsd");
    match Command::new("xmllint")
        .args(["--noout", "--schema"])
        .arg(&xsd)
        .arg(file)
        .output()
    {
        Ok(out) => assert!(
            out.status.success(),
            "{} does not validate: {}",
            file.display(),
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(_) => assert!(
            std::env::var("CI").is_err(),
            "CI must check files against the XSD: install xmllint (libxml2-utils)"
        ),
    }
}

/// A message of the bank's, as it wrote it into the inbox and realname then moved to done/.
fn done_like(rig: &Rig, prefix: &str) -> PathBuf {
    files_in(&rig.inbox.join("done"))
        .into_iter()
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(prefix))
        })
        .unwrap_or_else(|| panic!("no {prefix} in done/"))
}

fn count(text: &str, needle: &str) -> usize {
    text.matches(needle).count()
}

/// Where the bank's clock starts: after its 15:00 cut-off, on the first day from China's
/// today (the execution date the rail asks for) that is followed by a business day. A file
/// is then accepted today and settles the next day whatever the hour or weekday the tests run
/// at; with the real clock, a file taken before the cut-off settles at once.
fn bank_clock() -> String {
    use chrono::Datelike;
    let mut day = (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive();
    while matches!(
        day.weekday(),
        chrono::Weekday::Fri | chrono::Weekday::Sat | chrono::Weekday::Sun
    ) {
        day = day.succ_opt().unwrap();
    }
    format!("{day}T16:00")
}

#[tokio::test]
async fn a_batch_of_accepted_transfers_settles_and_the_users_reach_review() {
    let Some(rig) = Rig::start(&[]).await else {
        return;
    };
    // Under this rail the sandbox bank and clock do not exist.
    let (status, _) = rig
        .app
        .get(
            "/v1/sandbox/bank/statement?card_number=6222020000000000018",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = rig
        .app
        .post("/v1/sandbox/clock/advance", None, json!({"seconds": 1}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (anna, anna_app) = rig.applicant("anna@example.com", 1).await;
    let (ben, ben_app) = rig.applicant("ben@example.com", 2).await;
    let files = rig.files_out(2).await;
    let xml: String = files
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .collect();
    assert!(xml.contains("<MmbId>999999992</MmbId>"));
    assert!(xml.contains(&format!("<Id>{}</Id>", mock_card(1))));
    assert!(xml.contains(&format!(
        "<EndToEndId>RN{}</EndToEndId>",
        anna_app.replace('-', "")
    )));
    let scan = rig.bank_reads().await;
    for file in scan["files"].as_array().unwrap() {
        assert_eq!(file["status"], "ACCP", "{scan}");
    }
    // Accepted is not settled: no amount can be entered yet.
    assert_eq!(
        rig.app.application(&anna, &anna_app).await["status"],
        "deposit_pending"
    );
    let status = rig.rail_status().await;
    assert!(status.contains("files awaiting a report: 0"), "{status}");
    assert!(status.contains("2 pending (2 in files sent"), "{status}");

    rig.days_pass(7).await;
    for (token, id) in [(&anna, &anna_app), (&ben, &ben_app)] {
        rig.until(token, id, "awaiting_amount").await;
        let (status, body) = rig.confirm(token, id).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["status"], "under_review");
    }
    let status = rig.rail_status().await;
    assert!(
        status.contains("payouts: 2 settled, 0 returned, 0 pending"),
        "{status}"
    );
    // The statements the bank sends every day are set aside, not refused.
    assert!(!files_in(&rig.inbox.join("ignored")).is_empty());
    assert!(files_in(&rig.inbox.join("rejected")).is_empty());
    let done = files_in(&rig.inbox.join("done"));
    assert!(
        done.iter()
            .any(|p| p.to_string_lossy().contains("pain.002")),
        "{done:?}"
    );
    assert!(
        done.iter()
            .any(|p| p.to_string_lossy().contains("camt.054")),
        "{done:?}"
    );
}

#[tokio::test]
async fn a_closed_account_fails_its_application_and_the_rest_of_the_file_settles() {
    let Some(rig) = Rig::start(&[]).await else {
        return;
    };
    rig.bank
        .open_account(
            "CLOSED",
            &mock_card(3),
            json!({"behaviour": "closed-account"}),
        )
        .await;
    let (anna, anna_app) = rig.applicant("anna@example.com", 3).await;
    let (ben, ben_app) = rig.applicant("ben@example.com", 4).await;
    rig.files_out(2).await;
    rig.bank_reads().await;
    let failed = rig.until(&anna, &anna_app, "failed").await;
    assert_eq!(failed["failure"]["code"], "deposit_returned");
    assert!(
        failed["failure"]["message"]
            .as_str()
            .unwrap()
            .contains("AC04"),
        "{failed}"
    );
    assert!(
        failed["failure"]["message_zh"]
            .as_str()
            .unwrap()
            .contains("AC04"),
        "{failed}"
    );
    rig.days_pass(7).await;
    rig.until(&ben, &ben_app, "awaiting_amount").await;

    // The card is refused from then on.
    let (status, retry) = rig
        .app
        .post("/v1/verifications", Some(&anna), identity())
        .await;
    assert_eq!(status, StatusCode::CREATED, "{retry}");
    let retry_id = retry["id"].as_str().unwrap();
    let card = json!({"bank": "MOCK", "card_number": mock_card(3), "card_type": "savings",
                      "account_type": "current", "account_name": "John Smith"});
    let (status, body) = rig
        .app
        .call(
            Method::PUT,
            &format!("/v1/verifications/{retry_id}/bank_card"),
            Some(&anna),
            Some(card),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.to_string().contains("card_returned_by_bank"), "{body}");
}

#[tokio::test]
async fn a_bad_bank_id_fails_nobody_and_the_payout_waits() {
    let Some(rig) = Rig::start(&[]).await else {
        return;
    };
    rig.bank
        .open_account(
            "NOWHERE",
            &mock_card(5),
            json!({"behaviour": "bad-bank-id"}),
        )
        .await;
    let (anna, anna_app) = rig.applicant("anna@example.com", 5).await;
    rig.files_out(1).await;
    rig.bank_reads().await;
    let status = rig.rail_status().await;
    assert!(
        status.contains("waiting to be sent again (refused, not the user's fault): 1"),
        "{status}"
    );
    assert!(status.contains("\tRC01\t"), "{status}");
    assert_eq!(
        rig.app.application(&anna, &anna_app).await["status"],
        "deposit_pending"
    );
    // Sent again after retry_after, in a new file; still refused, still nobody fails.
    tokio::time::sleep(Duration::from_secs(3)).await;
    rig.files_out(1).await;
    rig.bank_reads().await;
    assert_eq!(
        rig.app.application(&anna, &anna_app).await["status"],
        "deposit_pending"
    );
}

#[tokio::test]
async fn a_return_days_after_settlement_fails_an_application_awaiting_its_amount() {
    let Some(rig) = Rig::start(&[]).await else {
        return;
    };
    let (anna, anna_app) = rig.applicant("anna@example.com", 6).await;
    let e2e = format!("RN{}", anna_app.replace('-', ""));
    rig.bank
        .behave(
            DEBTOR,
            "return-later",
            json!({"days": 2, "reason": "AC04", "end_to_end_id": e2e}),
        )
        .await;
    rig.files_out(1).await;
    rig.bank_reads().await;
    rig.days_pass(1).await;
    rig.until(&anna, &anna_app, "awaiting_amount").await;
    rig.days_pass(7).await;
    let failed = rig.until(&anna, &anna_app, "failed").await;
    assert_eq!(failed["failure"]["code"], "deposit_returned");
    assert!(
        failed["failure"]["message"]
            .as_str()
            .unwrap()
            .contains("AC04")
    );
    assert_eq!(rig.bank.paid(&e2e).await.len(), 1);
}

#[tokio::test]
async fn a_rejected_file_is_sent_again_and_each_user_receives_one_deposit() {
    let Some(rig) = Rig::start(&[]).await else {
        return;
    };
    rig.bank.behave(DEBTOR, "reject-file", json!({})).await;
    let (anna, anna_app) = rig.applicant("anna@example.com", 7).await;
    let (ben, ben_app) = rig.applicant("ben@example.com", 8).await;
    let first = rig.files_out(2).await;
    let scan = rig.bank_reads().await;
    for file in scan["files"].as_array().unwrap() {
        assert_eq!(file["reason"], "FF01", "{scan}");
    }
    let status = rig.rail_status().await;
    assert!(
        status.contains("waiting to be sent again (refused, not the user's fault): 2"),
        "{status}"
    );
    assert!(status.contains("\tFF01\t"), "{status}");
    for (token, id) in [(&anna, &anna_app), (&ben, &ben_app)] {
        assert_eq!(
            rig.app.application(token, id).await["status"],
            "deposit_pending"
        );
    }
    rig.bank.behave(DEBTOR, "accept", json!({})).await;
    // After retry_after, in a new file under a new MsgId (the bank consumed the first).
    let second = rig.files_out(2).await;
    for file in &second {
        assert!(
            !first.iter().any(|f| f.file_name() == file.file_name()),
            "a new MsgId"
        );
    }
    let scan = rig.bank_reads().await;
    for file in scan["files"].as_array().unwrap() {
        assert_eq!(file["status"], "ACCP", "{scan}");
    }
    rig.days_pass(7).await;
    for (token, id) in [(&anna, &anna_app), (&ben, &ben_app)] {
        rig.until(token, id, "awaiting_amount").await;
        let e2e = format!("RN{}", id.replace('-', ""));
        assert_eq!(rig.bank.paid(&e2e).await.len(), 1, "one deposit each");
    }
}

#[tokio::test]
async fn a_duplicate_file_answer_changes_nothing_and_sends_nothing_again() {
    let Some(rig) = Rig::start(&[]).await else {
        return;
    };
    let (anna, anna_app) = rig.applicant("anna@example.com", 9).await;
    let sent = rig.files_out(1).await;
    let bytes = std::fs::read(&sent[0]).unwrap();
    rig.bank_reads().await;
    let before = rig.rail_status().await;
    // The same file reaches the bank a second time (a transfer tool sent it twice).
    std::fs::write(rig.outbox.join("again.xml"), &bytes).unwrap();
    let scan = rig.bank_reads().await;
    assert_eq!(scan["files"][0]["reason"], "DUPL", "{scan}");
    assert_eq!(rig.rail_status().await, before, "nothing changed");
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(pain001_files(&rig.outbox).is_empty(), "nothing sent again");
    rig.days_pass(7).await;
    rig.until(&anna, &anna_app, "awaiting_amount").await;
    assert_eq!(
        rig.bank
            .paid(&format!("RN{}", anna_app.replace('-', "")))
            .await
            .len(),
        1
    );
}

#[tokio::test]
async fn a_silent_bank_leaves_payouts_pending_and_rail_status_says_so() {
    let Some(rig) = Rig::start(&[("iso20022.overdue_after", "1s")]).await else {
        return;
    };
    rig.bank.behave(DEBTOR, "silent", json!({})).await;
    let (anna, anna_app) = rig.applicant("anna@example.com", 10).await;
    let files = rig.files_out(1).await;
    rig.bank_reads().await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let status = rig.rail_status().await;
    let name = files[0].file_name().unwrap().to_str().unwrap().to_owned();
    let line = status
        .lines()
        .find(|l| l.contains(&name))
        .unwrap_or_default();
    assert!(line.contains("OVERDUE"), "{status}");
    assert!(
        status.contains("files awaiting a report: 1 (1 overdue"),
        "{status}"
    );
    assert!(status.contains("1 pending (1 in files sent"), "{status}");
    assert_eq!(
        rig.app.application(&anna, &anna_app).await["status"],
        "deposit_pending"
    );
}

#[tokio::test]
async fn insufficient_funds_fail_nobody_and_the_payout_goes_out_again() {
    let Some(rig) = Rig::start(&[]).await else {
        return;
    };
    rig.bank
        .call(
            Method::PATCH,
            &format!("/_mock/accounts/{DEBTOR}"),
            Some(json!({"balance": 0, "behaviour": "insufficient-funds"})),
        )
        .await;
    let (anna, anna_app) = rig.applicant("anna@example.com", 11).await;
    rig.files_out(1).await;
    rig.bank_reads().await;
    let status = rig.rail_status().await;
    assert!(status.contains("\tAM04\t"), "{status}");
    assert_eq!(
        rig.app.application(&anna, &anna_app).await["status"],
        "deposit_pending"
    );
    rig.bank
        .call(
            Method::PATCH,
            &format!("/_mock/accounts/{DEBTOR}"),
            Some(json!({"balance": 1_000_000})),
        )
        .await;
    rig.files_out(1).await;
    let scan = rig.bank_reads().await;
    assert_eq!(scan["files"][0]["status"], "ACCP", "{scan}");
    rig.days_pass(7).await;
    rig.until(&anna, &anna_app, "awaiting_amount").await;
    assert!(
        rig.rail_status()
            .await
            .contains("waiting to be sent again (refused, not the user's fault): 0")
    );
}

#[tokio::test]
async fn unreadable_files_are_rejected_with_a_note_and_nothing_of_them_is_applied() {
    let Some(rig) = Rig::start(&[]).await else {
        return;
    };
    let (anna, anna_app) = rig.applicant("anna@example.com", 12).await;
    rig.files_out(1).await;
    rig.bank.scan().await;
    // The bank's real answer, and three bad copies of it beside it.
    let answer = files_in(&rig.inbox)
        .into_iter()
        .find(|p| p.to_string_lossy().contains("pain.002"))
        .unwrap();
    let text = std::fs::read_to_string(&answer).unwrap();
    std::fs::write(rig.inbox.join("truncated.xml"), &text[..text.len() / 2]).unwrap();
    std::fs::write(
        rig.inbox.join("malformed.xml"),
        text.replace("</TxSts>", "</TxStatus>"),
    )
    .unwrap();
    std::fs::write(
        rig.inbox.join("foreign.xml"),
        "<?xml version=\"1.0\"?><order><id>1</id></order>",
    )
    .unwrap();
    rig.inbox_read().await;
    let rejected = files_in(&rig.inbox.join("rejected"));
    let names: Vec<String> = rejected
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for bad in ["truncated.xml", "malformed.xml", "foreign.xml"] {
        assert!(names.contains(&bad.to_owned()), "{names:?}");
        let note =
            std::fs::read_to_string(rig.inbox.join("rejected").join(format!("{bad}.why.txt")))
                .unwrap();
        assert!(!note.trim().is_empty());
    }
    assert_eq!(
        files_in(&rig.inbox.join("done")).len(),
        1,
        "only the real answer is applied"
    );
    let status = rig.rail_status().await;
    assert!(status.contains("unmatched entries: 0"), "{status}");
    assert_eq!(
        rig.app.application(&anna, &anna_app).await["status"],
        "deposit_pending"
    );
}

#[tokio::test]
async fn the_same_status_report_dropped_twice_is_applied_once() {
    let Some(rig) = Rig::start(&[]).await else {
        return;
    };
    rig.bank
        .open_account(
            "CLOSED",
            &mock_card(13),
            json!({"behaviour": "closed-account"}),
        )
        .await;
    let (anna, anna_app) = rig.applicant("anna@example.com", 13).await;
    rig.files_out(1).await;
    rig.bank_reads().await;
    rig.until(&anna, &anna_app, "failed").await;
    let report = done_like(&rig, "pain.002");
    std::fs::copy(&report, rig.inbox.join("pain.002-again.xml")).unwrap();
    rig.inbox_read().await;
    assert_eq!(
        files_in(&rig.inbox.join("done")).len(),
        2,
        "both copies are done with"
    );
    // Applied again, its return would reach a failed application and be kept as unmatched.
    let status = rig.rail_status().await;
    assert!(status.contains("unmatched entries: 0"), "{status}");
    assert!(status.contains("0 settled, 1 returned"), "{status}");
    // A notification naming no payout of ours is kept and reported.
    let foreign = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../rails/iso20022/samples/mock-camt.054.001.08.xml"),
    )
    .unwrap();
    std::fs::write(rig.inbox.join("camt.054-other.xml"), foreign).unwrap();
    rig.inbox_read().await;
    let status = rig.rail_status().await;
    assert!(status.contains("unmatched entries: 1"), "{status}");
    let line = status
        .lines()
        .find(|l| l.contains("RN-KYC-000123"))
        .unwrap_or_default();
    assert!(
        line.contains("no payout has this end-to-end id"),
        "{status}"
    );
}

#[tokio::test]
async fn a_return_reaching_an_application_under_review_fails_it_and_closes_its_case() {
    let Some(rig) = Rig::start(&[]).await else {
        return;
    };
    let (anna, anna_app) = rig.applicant("anna@example.com", 14).await;
    let e2e = format!("RN{}", anna_app.replace('-', ""));
    rig.bank
        .behave(
            DEBTOR,
            "return-later",
            json!({"days": 3, "reason": "MD07", "end_to_end_id": e2e}),
        )
        .await;
    rig.files_out(1).await;
    rig.bank_reads().await;
    rig.days_pass(1).await;
    rig.until(&anna, &anna_app, "awaiting_amount").await;
    let (status, body) = rig.confirm(&anna, &anna_app).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "under_review");
    rig.days_pass(7).await;
    let failed = rig.until(&anna, &anna_app, "failed").await;
    assert_eq!(failed["failure"]["code"], "deposit_returned");
    assert!(
        failed["failure"]["message"]
            .as_str()
            .unwrap()
            .contains("MD07"),
        "{failed}"
    );
    let reviewer = rig.app.staff("rita", "reviewer").await;
    let (_, open) = rig
        .app
        .get("/v1/review/cases?status=open&limit=100", Some(&reviewer))
        .await;
    assert!(
        !open["cases"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["verification_id"] == anna_app.as_str()),
        "its case is closed: {open}"
    );
}

/// The transfer ledger of a node that dies after a file is whole in the outbox and before
/// it records so: it never records a file written.
struct DiesBeforeRecording(Arc<dyn TransferLedger>);

#[async_trait::async_trait]
impl TransferLedger for DiesBeforeRecording {
    async fn hold(
        &self,
        t: &realname_core::ports::HeldTransfer,
        due: chrono::DateTime<chrono::Utc>,
    ) -> realname_core::store::StoreResult<()> {
        self.0.hold(t, due).await
    }
    async fn take_batch(
        &self,
        msg_id: &str,
        now: chrono::DateTime<chrono::Utc>,
        max: u32,
    ) -> realname_core::store::StoreResult<Vec<realname_core::ports::HeldTransfer>> {
        self.0.take_batch(msg_id, now, max).await
    }
    async fn unwritten(
        &self,
    ) -> realname_core::store::StoreResult<Vec<realname_core::ports::OutgoingFile>> {
        // Once dead, it writes nothing more.
        Ok(Vec::new())
    }
    async fn written(
        &self,
        _msg_id: &str,
        _at: chrono::DateTime<chrono::Utc>,
    ) -> realname_core::store::StoreResult<()> {
        // The node died here: nothing was recorded, and nobody was told.
        Ok(())
    }
    async fn rail_report(
        &self,
    ) -> realname_core::store::StoreResult<realname_core::ports::RailReport> {
        self.0.rail_report().await
    }
}

#[tokio::test]
async fn a_node_killed_between_writing_a_file_and_recording_it_neither_loses_nor_doubles_a_payout()
{
    let Some(rig) = Rig::start_with(&[], |mut parts, ledger, config| {
        parts.rail = Arc::new(realname_rails::Iso20022Rail::new(
            realname_server::iso20022_settings(config, &parts.policy).unwrap(),
            Arc::new(DiesBeforeRecording(ledger)),
            parts.vault.clone(),
            Arc::new(parts.policy.clone()),
        ));
        parts
    })
    .await
    else {
        return;
    };
    let (anna, anna_app) = rig.applicant("anna@example.com", 15).await;
    let first = rig.files_out(1).await;
    rig.bank_reads().await;
    // The node is gone; another starts over the same database and folders.
    let Rig {
        app,
        bank,
        outbox,
        inbox,
        extra,
    } = rig;
    let dir = app.stop().await;
    let flags: Vec<(&str, &str)> = extra
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let next = start_in(dir, &flags).await;
    let rig = Rig {
        app: next,
        bank,
        outbox,
        inbox,
        extra,
    };
    // The file it made is written again, under the same MsgId: the bank refuses to pay twice.
    let again = rig.files_out(1).await;
    assert_eq!(first[0].file_name(), again[0].file_name());
    let scan = rig.bank_reads().await;
    assert_eq!(scan["files"][0]["reason"], "DUPL", "{scan}");
    rig.days_pass(7).await;
    let e2e = format!("RN{}", anna_app.replace('-', ""));
    let mut settled = Value::Null;
    for _ in 0..200 {
        settled = rig.app.application(&anna, &anna_app).await;
        if settled["status"] == "awaiting_amount" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(settled["status"], "awaiting_amount", "{settled}");
    assert_eq!(rig.bank.paid(&e2e).await.len(), 1, "one deposit");
}

#[tokio::test]
async fn two_nodes_share_one_inbox_and_apply_each_file_once() {
    let Some(rig) = Rig::start(&[]).await else {
        return;
    };
    let (_base, _stop) = second_node(&rig.app, &rig.flags()).await;
    let mut users = Vec::new();
    for n in 0..6 {
        users.push(rig.applicant(&format!("user{n}@example.com"), 20 + n).await);
    }
    rig.files_out(6).await;
    rig.bank_reads().await;
    rig.days_pass(7).await;
    for (token, id) in &users {
        rig.until(token, id, "awaiting_amount").await;
    }
    let done: Vec<String> = files_in(&rig.inbox.join("done"))
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(
        done.iter().all(|n| !n.ends_with(".2")),
        "no file applied twice: {done:?}"
    );
    assert!(files_in(&rig.inbox.join("claimed")).is_empty());
    let status = rig.rail_status().await;
    assert!(status.contains("payouts: 6 settled"), "{status}");
    assert!(status.contains("unmatched entries: 0"), "{status}");
}

#[tokio::test]
async fn a_batch_is_one_file_and_batch_max_splits_a_long_one() {
    let Some(rig) =
        Rig::start(&[("iso20022.batch_every", "1h"), ("iso20022.batch_max", "2")]).await
    else {
        return;
    };
    // The rail itself, over the service's database and folders: five payouts due, then one
    // cut-off. The service is stopped first, so its own cut-off cannot take any of them.
    let config = rig.config();
    let outbox = rig.outbox.clone();
    let _kept = rig.app.stop().await;
    let parts = realname_server::App::parts(&config).await.unwrap();
    let policy = parts.policy.clone();
    let ledger = realname_server::open_store(&config)
        .await
        .unwrap()
        .transfers;
    let rail = realname_rails::Iso20022Rail::new(
        realname_server::iso20022_settings(&config, &policy).unwrap(),
        ledger,
        parts.vault.clone(),
        Arc::new(policy),
    );
    use realname_core::ports::PayoutRail;
    let now = chrono::Utc::now();
    for n in 0..5u32 {
        let id = uuid::Uuid::new_v4();
        let payout = realname_core::ports::PayoutInstruction {
            application_id: id,
            end_to_end_id: realname_core::deposit::end_to_end_id(id),
            bank: "MOCK".into(),
            card_number: realname_core::card::CardNumber::parse(&mock_card(40 + n)).unwrap(),
            account_name: realname_core::name::RealName::parse("John Smith").unwrap(),
            amount: realname_core::deposit::Fen::new(10 + i64::from(n)),
        };
        rail.pay(&payout, now).await.unwrap();
        rail.pay(&payout, now).await.unwrap();
    }
    rail.send_due(now).await.unwrap();
    let files = pain001_files(&outbox);
    assert_eq!(files.len(), 3, "{files:?}");
    let mut sizes = Vec::new();
    let mut total = 0.0;
    for f in &files {
        assert_valid(f);
        let xml = std::fs::read_to_string(f).unwrap();
        let n = count(&xml, "<CdtTrfTxInf>");
        assert!(xml.contains(&format!("<NbOfTxs>{n}</NbOfTxs>")), "{xml}");
        let sum: f64 = xml
            .split(r#"<InstdAmt Ccy="CNY">"#)
            .skip(1)
            .map(|s| s[..s.find('<').unwrap()].parse::<f64>().unwrap())
            .sum();
        assert!(
            xml.contains(&format!("<CtrlSum>{sum:.2}</CtrlSum>")),
            "{xml}"
        );
        total += sum;
        sizes.push(n);
    }
    sizes.sort();
    assert_eq!(
        sizes,
        [1, 2, 2],
        "each payout once, however often it was handed over"
    );
    assert!((total - 0.60).abs() < 1e-9, "{total}");
    // Nothing more is due.
    rail.send_due(now).await.unwrap();
    assert_eq!(pain001_files(&outbox).len(), 3);
}

fn un_list() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../screening/lists/un-consolidated-2026-02-27.xml")
}

/// A live rail does not start with nothing to screen against, unless told so on purpose.
#[tokio::test]
async fn a_live_rail_refuses_to_start_without_a_list() {
    let dir = tempfile::tempdir().unwrap();
    let (outbox, inbox) = (dir.path().join("outbox"), dir.path().join("inbox"));
    std::fs::create_dir_all(&outbox).unwrap();
    std::fs::create_dir_all(&inbox).unwrap();
    let policy = dir.path().join("policy.toml");
    std::fs::write(&policy, POLICY).unwrap();
    let flags = |enabled: &str| {
        vec![
            ("rail".to_owned(), "iso20022".to_owned()),
            ("policy_file".into(), policy.display().to_string()),
            ("iso20022.outbox_dir".into(), outbox.display().to_string()),
            ("iso20022.inbox_dir".into(), inbox.display().to_string()),
            (
                "iso20022.debtor_name".into(),
                "Realname Verification Ltd".into(),
            ),
            ("iso20022.debtor_account".into(), iban("100")),
            ("iso20022.debtor_agent".into(), "MOCKNL2A".into()),
            ("screening.enabled".into(), enabled.into()),
        ]
    };
    new_database_in(dir.path()).await;
    let on = flags("true");
    let on: Vec<(&str, &str)> = on.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let config = crate::helpers::config(dir.path(), &on);
    let parts = realname_server::App::parts(&config).await.unwrap();
    match realname_server::App::with_parts(config, parts).await {
        Err(e @ realname_server::StartError::Screening(_)) => {
            assert!(e.to_string().contains("screening.enabled = false"), "{e}")
        }
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("a live rail started with no list loaded"),
    }
    let off = flags("false");
    let off: Vec<(&str, &str)> = off.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let config = crate::helpers::config(dir.path(), &off);
    let parts = realname_server::App::parts(&config).await.unwrap();
    assert!(
        realname_server::App::with_parts(config, parts)
            .await
            .is_ok()
    );
}
