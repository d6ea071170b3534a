//! `realname-bench rail`: the ISO 20022 rail's files at size. For each size, that many
//! applications are taken to `deposit_pending` through the journey's own functions and their
//! payouts held by the rail; then it times one cut-off writing them all into one pain.001
//! (`send_due`: take the batch, open each sealed payout, write, fsync, rename), and the
//! applying of a camt.054 that books every one of them (claim, parse, one transaction moving
//! every application to `awaiting_amount`). Peak memory is the process's high-water mark
//! before and after each step (VmHWM), so a step that held the whole file twice would show.

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Instant;

use realname_app::{Service, workers};
use realname_server::App;
use realname_server::config::Config;

use crate::{Backend, data_key, fresh_database};

#[derive(clap::Args)]
pub struct RailArgs {
    #[arg(long, value_enum, default_value = "sqlite")]
    database: Backend,
    /// The sizes to measure, comma-separated.
    #[arg(long, value_delimiter = ',', default_values_t = [1000usize, 10000])]
    transfers: Vec<usize>,
}

const SEEDING_TASKS: usize = 16;

/// The process's peak resident memory so far, in MiB (Linux; 0 elsewhere).
fn peak_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

pub async fn run(args: &RailArgs) {
    println!("ISO 20022 rail, {} store", args.database.name());
    println!(
        "transfers\tseed s\twrite pain.001 s\tfile MiB\tpeak MiB before→after\tapply camt.054 s\tpeak MiB before→after"
    );
    for &n in &args.transfers {
        measure(args.database, n).await;
    }
}

async fn measure(backend: Backend, n: usize) {
    let (dir, url) = fresh_database(backend).await;
    let (outbox, inbox) = (dir.path().join("outbox"), dir.path().join("inbox"));
    std::fs::create_dir_all(&outbox).unwrap();
    std::fs::create_dir_all(&inbox).unwrap();
    let config = Config::load(
        None,
        |_| None,
        &[
            ("database_url", url.clone()),
            ("data_key", data_key()),
            ("database.max_connections", SEEDING_TASKS.to_string()),
            ("rail", "iso20022".into()),
            ("iso20022.outbox_dir", outbox.display().to_string()),
            ("iso20022.inbox_dir", inbox.display().to_string()),
            ("iso20022.debtor_name", "Realname Verification Ltd".into()),
            ("iso20022.debtor_account", "110060123456789012".into()),
            ("iso20022.debtor_agent", "BKCHCNBJ".into()),
            ("iso20022.batch_max", n.to_string()),
            ("limits.accounts_per_minute", "1000000".into()),
        ],
    )
    .unwrap();
    let state = Arc::new(
        Service::new(App::parts(&config).await.unwrap())
            .await
            .unwrap(),
    );
    // The rail's records, read beside the service (the rail keeps them in the same database).
    let ledger = realname_server::open_store(&config)
        .await
        .unwrap()
        .transfers;

    let started = Instant::now();
    crate::queue::seed_each(&state, n, "applications", |state, i| async move {
        let card = realname_store_tests::fixtures::icbc_card(i, "4444");
        let login = format!("rail{i}@example.com");
        crate::queue::submit_one(&state, &login, &format!("R{i:08}"), &card)
            .await
            .map(|_| ())
    })
    .await;
    // The worker's passes pay every deposit: each payout is held by the rail.
    while ledger.rail_report().await.unwrap().held < n as u64 {
        workers::run_pending(&state).await.unwrap();
    }
    let seeded = started.elapsed().as_secs_f64();

    let before = peak_mib();
    let started = Instant::now();
    state.rail.send_due(state.now()).await.unwrap();
    let write = started.elapsed().as_secs_f64();
    let after_write = peak_mib();
    let files: Vec<_> = std::fs::read_dir(&outbox)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    assert_eq!(files.len(), 1, "one file for the batch");
    let text = std::fs::read_to_string(&files[0]).unwrap();
    let size = text.len() as f64 / (1024.0 * 1024.0);
    let e2e: Vec<&str> = text
        .split("<EndToEndId>")
        .skip(1)
        .filter_map(|s| s.split('<').next())
        .collect();
    assert_eq!(e2e.len(), n);
    std::fs::write(inbox.join("camt.054.001.08-bench.xml"), camt054(&e2e)).unwrap();
    drop(text);

    let before_apply = peak_mib();
    let started = Instant::now();
    let applied = workers::apply_bank_messages(&state).await.unwrap();
    let apply = started.elapsed().as_secs_f64();
    let after_apply = peak_mib();
    assert_eq!(applied, 1);
    let report = ledger.rail_report().await.unwrap();
    assert_eq!(report.settled, n as u64, "every payout settled");
    println!(
        "{n}\t{seeded:.1}\t{write:.3}\t{size:.1}\t{before:.0}→{after_write:.0}\t{apply:.3}\t{before_apply:.0}→{after_apply:.0}"
    );
}

/// A notification booking every payout: one debit entry each, as mock-bank writes them.
fn camt054(e2e: &[&str]) -> String {
    let mut out = String::from(
        r#"<?xml version="1.0" encoding="UTF-8"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08"><BkToCstmrDbtCdtNtfctn><GrpHdr><MsgId>BENCH-C054-1</MsgId><CreDtTm>2026-12-02T16:00:00Z</CreDtTm></GrpHdr><Ntfctn><Id>BENCH-C054-1</Id><CreDtTm>2026-12-02T16:00:00Z</CreDtTm><Acct><Id><Othr><Id>110060123456789012</Id></Othr></Id><Ccy>CNY</Ccy></Acct>"#,
    );
    for (i, id) in e2e.iter().enumerate() {
        let _ = write!(
            out,
            r#"<Ntry><Amt Ccy="CNY">0.37</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>2026-12-02</Dt></BookgDt><ValDt><Dt>2026-12-02</Dt></ValDt><AcctSvcrRef>B-{i}</AcctSvcrRef><BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>ICDT</Cd><SubFmlyCd>DMCT</SubFmlyCd></Fmly></Domn></BkTxCd><NtryDtls><TxDtls><Refs><EndToEndId>{id}</EndToEndId></Refs><Amt Ccy="CNY">0.37</Amt><CdtDbtInd>DBIT</CdtDbtInd></TxDtls></NtryDtls></Ntry>"#
        );
    }
    out.push_str("</Ntfctn></BkToCstmrDbtCdtNtfctn></Document>");
    out
}
