//! The rail's files against the official schemas and the samples (`crates/rails/iso20022/`).

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::{NaiveDate, TimeZone, Utc};
use realname_core::ports::{FileAnswer, PayoutNotice};

use super::inbound::{self, CAMT_054, Kind, PAIN_002};
use super::pain001::{self, Debtor, Header, Transfer};

fn reference(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("iso20022")
        .join(name)
}

/// Whether `file` validates against `xsd` by xmllint; `None` when xmllint is missing (a
/// failure under CI, which installs it).
fn validates(xsd: &str, file: &Path) -> Option<(bool, String)> {
    match Command::new("xmllint")
        .args(["--noout", "--schema"])
        .arg(reference(xsd))
        .arg(file)
        .output()
    {
        Ok(out) => Some((
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )),
        Err(_) => {
            assert!(
                std::env::var("CI").is_err(),
                "CI must check files against the XSD: install xmllint (libxml2-utils)"
            );
            eprintln!("skipped the XSD check: xmllint is not installed (libxml2-utils)");
            None
        }
    }
}

fn transfer(n: usize, fen: i64) -> Transfer {
    Transfer {
        end_to_end_id: format!("RN{n:032x}"),
        amount_fen: fen,
        creditor_name: if n % 2 == 0 {
            "SMITH JOHN".into()
        } else {
            "史密斯·约翰".into()
        },
        creditor_account: format!("62220200000{n:05}"),
        agent_bic: "ICBKCNBJ".into(),
        clearing_system: "CNAPS".into(),
        clearing_member: "102100099996".into(),
    }
}

fn debtor(account: &str) -> Debtor {
    Debtor {
        name: "Realname Verification Ltd & Co <test>".into(),
        account: account.into(),
        agent_bic: "BKCHCNBJ".into(),
    }
}

fn written(transfers: &[Transfer], account: &str) -> String {
    let at = Utc
        .with_ymd_and_hms(2026, 12, 2, 9, 30, 0)
        .single()
        .unwrap_or_default();
    let date = NaiveDate::from_ymd_opt(2026, 12, 2).unwrap_or_default();
    let header = Header::of("RN20261202093000abcdef12", at, date, transfers);
    let out = pain001::write(
        Vec::new(),
        &header,
        &debtor(account),
        super::MEMO,
        transfers,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    String::from_utf8(out).unwrap_or_default()
}

#[test]
fn amounts_are_written_in_yuan() {
    assert_eq!(pain001::yuan(37), "0.37");
    assert_eq!(pain001::yuan(5), "0.05");
    assert_eq!(pain001::yuan(12_345), "123.45");
    assert_eq!(pain001::yuan(0), "0.00");
}

#[test]
fn a_written_file_validates_and_adds_up() {
    let transfers: Vec<Transfer> = (0..3).map(|n| transfer(n, 37 + n as i64)).collect();
    for account in ["NL41MOCK0000000001", "110060123456789012"] {
        let xml = written(&transfers, account);
        assert!(xml.contains("<NbOfTxs>3</NbOfTxs>"), "{xml}");
        assert_eq!(xml.matches("<CtrlSum>1.14</CtrlSum>").count(), 2, "{xml}");
        assert!(
            xml.contains(r#"<InstdAmt Ccy="CNY">0.38</InstdAmt>"#),
            "{xml}"
        );
        assert!(xml.contains("<Nm>史密斯·约翰</Nm>"), "{xml}");
        assert!(
            xml.contains("&amp; Co &lt;test&gt;"),
            "names are escaped: {xml}"
        );
        assert!(xml.contains("<MmbId>102100099996</MmbId>"), "{xml}");
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let file = dir.path().join("pain001.xml");
        std::fs::write(&file, &xml).unwrap_or_else(|e| panic!("{e}"));
        if let Some((ok, why)) = validates("pain.001.001.09.xsd", &file) {
            assert!(ok, "{why}\n{xml}");
        }
    }
    // The invalid sample is refused by the same check: the check can fail.
    if let Some((ok, _)) = validates("pain.001.001.09.xsd", &reference("samples/neg-order.xml")) {
        assert!(!ok);
    }
}

fn read_sample(name: &str) -> Result<inbound::Read, inbound::Unreadable> {
    let bytes = std::fs::read(reference(&format!("samples/{name}"))).unwrap_or_default();
    read_bytes(&bytes)
}

fn read_bytes(bytes: &[u8]) -> Result<inbound::Read, inbound::Unreadable> {
    let now = Utc
        .with_ymd_and_hms(2026, 12, 2, 10, 0, 0)
        .single()
        .unwrap_or_default();
    match inbound::kind_of(Cursor::new(bytes))? {
        Kind::Read(kind) => inbound::read(kind, Cursor::new(bytes), now),
        Kind::Other(other) => Err(inbound::Unreadable(format!("other: {other}"))),
    }
}

#[test]
fn a_partly_rejected_status_report_settles_nothing_and_returns_the_account_fault() {
    let read = read_sample("pain.002.001.10-part.xml").unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(read.kind, PAIN_002);
    assert!(
        matches!(
            read.notices.first(),
            Some(PayoutNotice::File { answer: FileAnswer::Received { status }, .. }) if status == "PART"
        ),
        "{:?}",
        read.notices
    );
    let returned: Vec<_> = read
        .notices
        .iter()
        .filter_map(|n| match n {
            PayoutNotice::Returned {
                end_to_end_id,
                reason,
                ..
            } => Some((end_to_end_id.as_str(), reason.as_str())),
            _ => None,
        })
        .collect();
    assert_eq!(returned, [("RN-KYC-000124", "BE01")]);
}

#[test]
fn a_duplicate_file_answer_is_known_as_such() {
    let read = read_sample("mock-pain.002.001.10.xml").unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(
        read.notices,
        [PayoutNotice::File {
            msg_id: "RN-MD-20261126-0002".into(),
            answer: FileAnswer::Duplicate
        }]
    );
    assert_eq!(read.msg_id, "MB-P002-000002");
}

#[test]
fn a_booked_debit_settles_and_a_credit_back_returns() {
    let read = read_sample("mock-camt.054.001.08.xml").unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(read.kind, CAMT_054);
    assert!(
        matches!(read.notices.as_slice(), [PayoutNotice::Settled { end_to_end_id, .. }] if end_to_end_id == "RN-KYC-000123")
    );
    let read = read_sample("camt.054.001.08-return.xml").unwrap_or_else(|e| panic!("{e:?}"));
    assert!(
        matches!(read.notices.as_slice(), [PayoutNotice::Returned { end_to_end_id, reason, .. }] if end_to_end_id == "RN-KYC-000123" && reason == "AC04")
    );
}

#[test]
fn other_messages_are_told_apart_from_unreadable_files() {
    let pain001 =
        std::fs::read(reference("samples/pain.001.001.09-cny-2tx.xml")).unwrap_or_default();
    assert_eq!(
        inbound::kind_of(Cursor::new(&pain001)).ok(),
        Some(Kind::Other("pain.001.001.09".into()))
    );
    let camt053 = br#"<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt/></Document>"#;
    assert_eq!(
        inbound::kind_of(Cursor::new(&camt053[..])).ok(),
        Some(Kind::Other("camt.053.001.08".into()))
    );
    let good = std::fs::read(reference("samples/pain.002.001.10-part.xml")).unwrap_or_default();
    let truncated = &good[..good.len() / 2];
    let foreign = br#"<?xml version="1.0"?><invoice><total>3</total></invoice>"#;
    let no_namespace = br#"<Document><CstmrPmtStsRpt/></Document>"#;
    let garbage = b"\x00\x01PK\x03\x04 not xml at all";
    let bad_status =
        String::from_utf8_lossy(&good).replace("<TxSts>RJCT</TxSts>", "<TxSts>MAYB</TxSts>");
    let no_msg_id = String::from_utf8_lossy(&good)
        .replacen("<MsgId>", "<MsgIdX>", 1)
        .replacen("</MsgId>", "</MsgIdX>", 1);
    for (what, bytes) in [
        ("truncated", truncated),
        ("foreign", &foreign[..]),
        ("no namespace", &no_namespace[..]),
        ("garbage", &garbage[..]),
        ("unknown status", bad_status.as_bytes()),
        ("no MsgId", no_msg_id.as_bytes()),
        ("empty", b""),
    ] {
        assert!(read_bytes(bytes).is_err(), "{what} was read");
    }
}

#[test]
fn msg_ids_are_unique_and_fit() {
    let now = Utc::now();
    let a = super::new_msg_id(now);
    let b = super::new_msg_id(now);
    assert_ne!(a, b);
    assert_eq!(a.len(), 24);
    assert!(a.len() <= 35 && a.is_ascii());
}

#[test]
fn a_refusal_not_about_the_account_is_sent_again() {
    let read = read_sample("mock-pain.002.001.10-rc01.xml").unwrap_or_else(|e| panic!("{e:?}"));
    let refused: Vec<_> = read
        .notices
        .iter()
        .filter_map(|n| match n {
            PayoutNotice::Refused {
                end_to_end_id,
                reason,
            } => Some((end_to_end_id.as_str(), reason.as_str())),
            _ => None,
        })
        .collect();
    assert_eq!(refused, [("RN-KYC-000124", "RC01")], "{:?}", read.notices);
}

#[test]
fn a_file_whose_every_transfer_is_refused_is_not_refused_as_a_file() {
    let one = std::fs::read_to_string(reference("samples/mock-pain.002.001.10-rc01.xml"))
        .unwrap_or_default();
    // The same report, had the file held only the refused transfer: the group says RJCT.
    let all_refused = one.replace("<GrpSts>PART</GrpSts>", "<GrpSts>RJCT</GrpSts>");
    let read = read_bytes(all_refused.as_bytes()).unwrap_or_else(|e| panic!("{e:?}"));
    assert!(
        !read.notices.iter().any(|n| matches!(
            n,
            PayoutNotice::File {
                answer: FileAnswer::Refused { .. },
                ..
            }
        )),
        "{:?}",
        read.notices
    );
    assert!(
        read.notices
            .iter()
            .any(|n| matches!(n, PayoutNotice::Refused { reason, .. } if reason == "RC01"))
    );
}
