//! Reading what the bank sends (CONTRACT 10): pain.002.001.10 status reports and
//! camt.054.001.08 notifications, strictly; anything else is named so it can be set aside or
//! refused. What each says becomes the core's [`PayoutNotice`]s.

use std::io::BufRead;

use chrono::{DateTime, Utc};
use quick_xml::NsReader;
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use realname_core::ports::{FileAnswer, PayoutNotice};
use realname_core::report::is_about_the_account;
use serde::Deserialize;

const ISO_PREFIX: &str = "urn:iso:std:iso:20022:tech:xsd:";
pub const PAIN_002: &str = "pain.002.001.10";
pub const CAMT_054: &str = "camt.054.001.08";

/// What a file in the inbox is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// A message this rail reads.
    Read(&'static str),
    /// Another ISO 20022 message (a camt.053 statement, a pacs.004 …): set aside.
    Other(String),
}

/// A message read whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Read {
    pub kind: &'static str,
    pub msg_id: String,
    pub notices: Vec<PayoutNotice>,
}

/// Why a file cannot be read, in words for the note beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable(pub String);

fn unreadable(why: impl Into<String>) -> Unreadable {
    Unreadable(why.into())
}

/// The message type, from the namespace of the root `Document`.
pub fn kind_of(input: impl BufRead) -> Result<Kind, Unreadable> {
    let mut reader = NsReader::from_reader(input);
    let mut buf = Vec::new();
    loop {
        let (ns, event) = reader
            .read_resolved_event_into(&mut buf)
            .map_err(|e| unreadable(format!("not well-formed XML: {e}")))?;
        match event {
            Event::Start(start) | Event::Empty(start) => {
                if start.local_name().as_ref() != b"Document" {
                    return Err(unreadable("the root element is not an ISO 20022 Document"));
                }
                let ResolveResult::Bound(ns) = ns else {
                    return Err(unreadable("the Document has no ISO 20022 namespace"));
                };
                let ns = String::from_utf8_lossy(ns.as_ref()).into_owned();
                let Some(kind) = ns.strip_prefix(ISO_PREFIX) else {
                    return Err(unreadable(format!("{ns} is not an ISO 20022 namespace")));
                };
                return Ok(match kind {
                    PAIN_002 => Kind::Read(PAIN_002),
                    CAMT_054 => Kind::Read(CAMT_054),
                    other => Kind::Other(other.to_owned()),
                });
            }
            Event::Eof => return Err(unreadable("the file holds no XML element")),
            Event::Text(t) if !t.iter().all(u8::is_ascii_whitespace) => {
                return Err(unreadable("text before the root element"));
            }
            _ => {}
        }
        buf.clear();
    }
}

/// Reads a message of `kind` ([`kind_of`] said so). Settlements count from `now`, when
/// realname applies them (CONTRACT 10).
pub fn read(
    kind: &'static str,
    input: impl BufRead,
    now: DateTime<Utc>,
) -> Result<Read, Unreadable> {
    let invalid = |e: quick_xml::DeError| unreadable(format!("not a valid {kind}: {e}"));
    match kind {
        PAIN_002 => {
            let doc: pain002::Document = quick_xml::de::from_reader(input).map_err(invalid)?;
            pain002::notices(doc, now)
        }
        CAMT_054 => {
            let doc: camt054::Document = quick_xml::de::from_reader(input).map_err(invalid)?;
            camt054::notices(doc, now)
        }
        other => Err(unreadable(format!("{other} is not read here"))),
    }
}

/// A `MsgId` as ISO 20022 allows it: 1 to 35 characters.
fn msg_id(value: String, kind: &str) -> Result<String, Unreadable> {
    let trimmed = value.trim();
    if trimmed.is_empty() || trimmed.chars().count() > 35 {
        return Err(unreadable(format!(
            "the {kind} has no MsgId of 1 to 35 characters"
        )));
    }
    Ok(trimmed.to_owned())
}

/// An external code (a status, a reason): four upper-case letters or digits.
fn code(value: &str, what: &str) -> Result<String, Unreadable> {
    let v = value.trim();
    if v.len() == 4
        && v.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    {
        Ok(v.to_owned())
    } else {
        Err(unreadable(format!(
            "{what} {v:?} is not a code of four letters or digits"
        )))
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GrpHdr {
    msg_id: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Reason {
    cd: Option<String>,
    prtry: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct StatusReason {
    rsn: Option<Reason>,
}

/// The first reason given, as a code; `NARR` (narrative) when the bank gave words only.
fn first_reason(reasons: &[StatusReason], what: &str) -> Result<String, Unreadable> {
    match reasons.iter().find_map(|r| r.rsn.as_ref()) {
        Some(Reason { cd: Some(cd), .. }) => code(cd, what),
        Some(Reason {
            prtry: Some(prtry), ..
        }) => Ok(prtry.trim().to_owned()),
        _ => Ok("NARR".into()),
    }
}

mod pain002 {
    use super::*;

    /// ExternalPaymentGroupStatus1Code and ExternalPaymentTransactionStatus1Code.
    const PENDING: [&str; 8] = [
        "ACCP", "ACSP", "ACTC", "ACWC", "PDNG", "RCVD", "ACWP", "ACFC",
    ];
    const SETTLED: [&str; 2] = ["ACSC", "ACCC"];

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "PascalCase")]
    pub struct Document {
        cstmr_pmt_sts_rpt: Report,
    }

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Report {
        grp_hdr: GrpHdr,
        orgnl_grp_inf_and_sts: Group,
        #[serde(default)]
        orgnl_pmt_inf_and_sts: Vec<Batch>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Group {
        orgnl_msg_id: String,
        grp_sts: Option<String>,
        #[serde(default)]
        sts_rsn_inf: Vec<StatusReason>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Batch {
        pmt_inf_sts: Option<String>,
        #[serde(default)]
        sts_rsn_inf: Vec<StatusReason>,
        #[serde(default)]
        tx_inf_and_sts: Vec<Transaction>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Transaction {
        orgnl_end_to_end_id: Option<String>,
        tx_sts: Option<String>,
        #[serde(default)]
        sts_rsn_inf: Vec<StatusReason>,
    }

    fn status(value: &str, what: &str) -> Result<String, Unreadable> {
        let s = code(value, what)?;
        if PENDING.contains(&s.as_str())
            || SETTLED.contains(&s.as_str())
            || s == "RJCT"
            || s == "PART"
        {
            Ok(s)
        } else {
            Err(unreadable(format!("{what} {s} is not a payment status")))
        }
    }

    pub fn notices(doc: Document, now: DateTime<Utc>) -> Result<Read, Unreadable> {
        let report = doc.cstmr_pmt_sts_rpt;
        let msg_id = msg_id(report.grp_hdr.msg_id, PAIN_002)?;
        let group = report.orgnl_grp_inf_and_sts;
        let original = super::msg_id(group.orgnl_msg_id, "original file")?;
        let mut notices = Vec::new();
        // A file refused as a whole carries its group status only; one whose transfers were
        // each refused lists them, and their own reasons count.
        let listed = report
            .orgnl_pmt_inf_and_sts
            .iter()
            .any(|b| !b.tx_inf_and_sts.is_empty());
        if let Some(grp_sts) = &group.grp_sts {
            let s = status(grp_sts, "group status")?;
            let answer = if s == "RJCT" && !listed {
                match first_reason(&group.sts_rsn_inf, "group reason")?.as_str() {
                    "DUPL" => FileAnswer::Duplicate,
                    reason => FileAnswer::Refused {
                        reason: reason.to_owned(),
                    },
                }
            } else {
                FileAnswer::Received { status: s }
            };
            notices.push(PayoutNotice::File {
                msg_id: original.clone(),
                answer,
            });
        }
        for batch in report.orgnl_pmt_inf_and_sts {
            let batch_status = batch
                .pmt_inf_sts
                .as_deref()
                .map(|s| status(s, "batch status"))
                .transpose()?;
            if batch.tx_inf_and_sts.is_empty() && batch_status.as_deref() == Some("RJCT") {
                // A batch refused as a whole: every transfer of the file (it has one batch).
                notices.push(PayoutNotice::File {
                    msg_id: original.clone(),
                    answer: FileAnswer::Refused {
                        reason: first_reason(&batch.sts_rsn_inf, "batch reason")?,
                    },
                });
            }
            for tx in batch.tx_inf_and_sts {
                let Some(tx_status) = tx
                    .tx_sts
                    .as_deref()
                    .map(|s| status(s, "transaction status"))
                    .transpose()?
                else {
                    continue;
                };
                let e2e = tx
                    .orgnl_end_to_end_id
                    .map(|e| e.trim().to_owned())
                    .filter(|e| !e.is_empty());
                let Some(end_to_end_id) = e2e else {
                    notices.push(PayoutNotice::Unnamed {
                        what: format!("a transaction {tx_status} without an end-to-end id"),
                    });
                    continue;
                };
                if SETTLED.contains(&tx_status.as_str()) {
                    notices.push(PayoutNotice::Settled {
                        end_to_end_id,
                        at: now,
                    });
                } else if tx_status == "RJCT" {
                    let reason = first_reason(&tx.sts_rsn_inf, "transaction reason")?;
                    notices.push(if is_about_the_account(&reason) {
                        PayoutNotice::Returned {
                            end_to_end_id,
                            reason,
                            at: now,
                        }
                    } else {
                        PayoutNotice::Refused {
                            end_to_end_id,
                            reason,
                        }
                    });
                }
            }
        }
        Ok(Read {
            kind: PAIN_002,
            msg_id,
            notices,
        })
    }
}

mod camt054 {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "PascalCase")]
    pub struct Document {
        bk_to_cstmr_dbt_cdt_ntfctn: Notifications,
    }

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Notifications {
        grp_hdr: GrpHdr,
        #[serde(default)]
        ntfctn: Vec<Notification>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Notification {
        #[serde(default)]
        ntry: Vec<Entry>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Entry {
        amt: Amount,
        cdt_dbt_ind: String,
        sts: EntryStatus,
        #[serde(default)]
        ntry_dtls: Vec<EntryDetails>,
    }

    #[derive(Debug, Deserialize)]
    struct Amount {
        #[serde(rename = "@Ccy")]
        ccy: String,
        #[serde(rename = "$text")]
        value: String,
    }

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct EntryStatus {
        cd: Option<String>,
        prtry: Option<String>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct EntryDetails {
        #[serde(default)]
        tx_dtls: Vec<TransactionDetails>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct TransactionDetails {
        refs: Option<References>,
        rtr_inf: Option<ReturnInformation>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct References {
        end_to_end_id: Option<String>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct ReturnInformation {
        rsn: Option<Reason>,
    }

    fn amount(a: &Amount) -> Result<(), Unreadable> {
        let v = a.value.trim();
        let (whole, fraction) = v.split_once('.').unwrap_or((v, ""));
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || !digits(whole) || !digits(fraction) || fraction.len() > 5 {
            return Err(unreadable(format!("amount {v:?} is not a decimal amount")));
        }
        if a.ccy.len() != 3 || !a.ccy.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(unreadable(format!(
                "currency {:?} is not an ISO 4217 code",
                a.ccy
            )));
        }
        Ok(())
    }

    pub fn notices(doc: Document, now: DateTime<Utc>) -> Result<Read, Unreadable> {
        let body = doc.bk_to_cstmr_dbt_cdt_ntfctn;
        let msg_id = msg_id(body.grp_hdr.msg_id, CAMT_054)?;
        let mut notices = Vec::new();
        for entry in body.ntfctn.into_iter().flat_map(|n| n.ntry) {
            amount(&entry.amt)?;
            let debit = match entry.cdt_dbt_ind.trim() {
                "DBIT" => true,
                "CRDT" => false,
                other => {
                    return Err(unreadable(format!(
                        "CdtDbtInd {other:?} is neither CRDT nor DBIT"
                    )));
                }
            };
            let status = match (&entry.sts.cd, &entry.sts.prtry) {
                (Some(cd), _) => code(cd, "entry status")?,
                (None, Some(prtry)) => prtry.trim().to_owned(),
                (None, None) => return Err(unreadable("an entry has no status")),
            };
            if !["BOOK", "PDNG", "INFO", "FUTR"].contains(&status.as_str()) {
                return Err(unreadable(format!(
                    "entry status {status} is not BOOK, PDNG, INFO or FUTR"
                )));
            }
            if status != "BOOK" {
                continue;
            }
            let details: Vec<TransactionDetails> = entry
                .ntry_dtls
                .into_iter()
                .flat_map(|d| d.tx_dtls)
                .collect();
            if details.is_empty() {
                if debit {
                    notices.push(PayoutNotice::Unnamed {
                        what: format!(
                            "a booked debit of {} {} without transaction details",
                            entry.amt.value.trim(),
                            entry.amt.ccy
                        ),
                    });
                }
                continue;
            }
            for tx in details {
                let e2e = tx
                    .refs
                    .and_then(|r| r.end_to_end_id)
                    .map(|e| e.trim().to_owned())
                    .filter(|e| !e.is_empty() && e != "NOTPROVIDED");
                match (debit, e2e, tx.rtr_inf) {
                    (true, Some(end_to_end_id), _) => {
                        notices.push(PayoutNotice::Settled {
                            end_to_end_id,
                            at: now,
                        });
                    }
                    (false, Some(end_to_end_id), Some(ret)) => {
                        let reason = match ret.rsn {
                            Some(Reason { cd: Some(cd), .. }) => code(&cd, "return reason")?,
                            Some(Reason { prtry: Some(p), .. }) => p.trim().to_owned(),
                            _ => "NARR".to_owned(),
                        };
                        if is_about_the_account(&reason) {
                            notices.push(PayoutNotice::Returned {
                                end_to_end_id,
                                reason,
                                at: now,
                            });
                        } else {
                            // Money back for a reason that is not the account's, after it was
                            // paid: nothing the rail can send again by itself.
                            notices.push(PayoutNotice::Unnamed {
                                what: format!("{end_to_end_id} came back with {reason}, which is not about the account: for the operator"),
                            });
                        }
                    }
                    (true, None, _) => notices.push(PayoutNotice::Unnamed {
                        what: "a booked debit without an end-to-end id".into(),
                    }),
                    // Money arriving that is no return of a payout: not the rail's.
                    (false, _, _) => {}
                }
            }
        }
        Ok(Read {
            kind: CAMT_054,
            msg_id,
            notices,
        })
    }
}
