//! Writing pain.001.001.09 (CustomerCreditTransferInitiationV09): one payment information
//! block per file, one credit transfer per micro-deposit. Written element by element through
//! quick-xml's serializer, each transfer as it comes, so a file of 10,000 is never held in
//! memory as text.

use std::io::Write;

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, Event};
use serde::Serialize;

pub const NAMESPACE: &str = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09";

/// The platform's side of every transfer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Debtor {
    pub name: String,
    /// An IBAN, or the bank's own id of the account.
    pub account: String,
    pub agent_bic: String,
}

/// One credit transfer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transfer {
    pub end_to_end_id: String,
    pub amount_fen: i64,
    pub creditor_name: String,
    pub creditor_account: String,
    pub agent_bic: String,
    pub clearing_system: String,
    pub clearing_member: String,
}

/// The header of a file: what `NbOfTxs` and `CtrlSum` say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub msg_id: String,
    pub created_at: DateTime<Utc>,
    pub execution_date: NaiveDate,
    pub transfers: usize,
    pub total_fen: i64,
}

impl Header {
    pub fn of(
        msg_id: &str,
        created_at: DateTime<Utc>,
        execution_date: NaiveDate,
        transfers: &[Transfer],
    ) -> Header {
        Header {
            msg_id: msg_id.to_owned(),
            created_at,
            execution_date,
            transfers: transfers.len(),
            total_fen: transfers.iter().map(|t| t.amount_fen).sum(),
        }
    }
}

/// Yuan with two decimals, as ISO 20022 amounts are written: 37 fen is `0.37`.
pub fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let fen = fen.unsigned_abs();
    format!("{sign}{}.{:02}", fen / 100, fen % 100)
}

/// An IBAN's shape (ISO 13616): two letters of country, two check digits, up to 30 letters
/// or digits. Anything else is the bank's own account id.
pub fn is_iban(account: &str) -> bool {
    let b = account.as_bytes();
    (15..=34).contains(&b.len())
        && b[..2].iter().all(u8::is_ascii_uppercase)
        && b[2..4].iter().all(u8::is_ascii_digit)
        && b[4..]
            .iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct GrpHdr<'a> {
    msg_id: &'a str,
    cre_dt_tm: String,
    nb_of_txs: usize,
    ctrl_sum: String,
    initg_pty: Party<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Party<'a> {
    nm: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct DateChoice {
    dt: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Account<'a> {
    id: Choice<AccountId<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ccy: Option<&'a str>,
}

/// An ISO 20022 choice: the element of the variant, inside the field's own.
#[derive(Serialize)]
struct Choice<T> {
    #[serde(rename = "$value")]
    chosen: T,
}

#[derive(Serialize)]
enum AccountId<'a> {
    #[serde(rename = "IBAN")]
    Iban(&'a str),
    #[serde(rename = "Othr")]
    Other(Other<'a>),
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Other<'a> {
    id: &'a str,
}

impl<'a> AccountId<'a> {
    fn of(account: &'a str) -> AccountId<'a> {
        if is_iban(account) {
            AccountId::Iban(account)
        } else {
            AccountId::Other(Other { id: account })
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Agent<'a> {
    fin_instn_id: FinInstnId<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct FinInstnId<'a> {
    #[serde(rename = "BICFI")]
    bicfi: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    clr_sys_mmb_id: Option<ClrSysMmbId<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ClrSysMmbId<'a> {
    clr_sys_id: Code<'a>,
    mmb_id: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Code<'a> {
    cd: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct CdtTrfTxInf<'a> {
    pmt_id: PmtId<'a>,
    amt: Amt,
    cdtr_agt: Agent<'a>,
    cdtr: Party<'a>,
    cdtr_acct: Account<'a>,
    rmt_inf: RmtInf<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct PmtId<'a> {
    end_to_end_id: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Amt {
    instd_amt: InstdAmt,
}

#[derive(Serialize)]
struct InstdAmt {
    #[serde(rename = "@Ccy")]
    ccy: &'static str,
    #[serde(rename = "$text")]
    value: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct RmtInf<'a> {
    ustrd: &'a str,
}

fn xml_error(e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::other(e.to_string())
}

/// Writes one file: `header` must be what `transfers` add up to ([`Header::of`]); the
/// transfers are written as the iterator gives them.
pub fn write<'t, W: Write>(
    out: W,
    header: &Header,
    debtor: &Debtor,
    memo: &str,
    transfers: impl IntoIterator<Item = &'t Transfer>,
) -> std::io::Result<W> {
    let mut w = Writer::new(out);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    w.write_event(Event::Start(
        BytesStart::new("Document").with_attributes([("xmlns", NAMESPACE)]),
    ))?;
    w.write_event(Event::Start(BytesStart::new("CstmrCdtTrfInitn")))?;
    let ctrl_sum = yuan(header.total_fen);
    element(
        &mut w,
        "GrpHdr",
        &GrpHdr {
            msg_id: &header.msg_id,
            cre_dt_tm: header.created_at.to_rfc3339_opts(SecondsFormat::Secs, true),
            nb_of_txs: header.transfers,
            ctrl_sum: ctrl_sum.clone(),
            initg_pty: Party { nm: &debtor.name },
        },
    )?;
    w.write_event(Event::Start(BytesStart::new("PmtInf")))?;
    let batch_id = format!("{}-1", header.msg_id);
    element(&mut w, "PmtInfId", &batch_id)?;
    element(&mut w, "PmtMtd", &"TRF")?;
    element(&mut w, "BtchBookg", &false)?;
    element(&mut w, "NbOfTxs", &header.transfers)?;
    element(&mut w, "CtrlSum", &ctrl_sum.as_str())?;
    element(
        &mut w,
        "ReqdExctnDt",
        &DateChoice {
            dt: header.execution_date.format("%Y-%m-%d").to_string(),
        },
    )?;
    element(&mut w, "Dbtr", &Party { nm: &debtor.name })?;
    element(
        &mut w,
        "DbtrAcct",
        &Account {
            id: Choice {
                chosen: AccountId::of(&debtor.account),
            },
            ccy: Some("CNY"),
        },
    )?;
    element(
        &mut w,
        "DbtrAgt",
        &Agent {
            fin_instn_id: FinInstnId {
                bicfi: &debtor.agent_bic,
                clr_sys_mmb_id: None,
            },
        },
    )?;
    // The platform bears its bank's charges: the user receives the whole amount.
    element(&mut w, "ChrgBr", &"DEBT")?;
    for t in transfers {
        element(
            &mut w,
            "CdtTrfTxInf",
            &CdtTrfTxInf {
                pmt_id: PmtId {
                    end_to_end_id: &t.end_to_end_id,
                },
                amt: Amt {
                    instd_amt: InstdAmt {
                        ccy: "CNY",
                        value: yuan(t.amount_fen),
                    },
                },
                cdtr_agt: Agent {
                    fin_instn_id: FinInstnId {
                        bicfi: &t.agent_bic,
                        clr_sys_mmb_id: Some(ClrSysMmbId {
                            clr_sys_id: Code {
                                cd: &t.clearing_system,
                            },
                            mmb_id: &t.clearing_member,
                        }),
                    },
                },
                cdtr: Party {
                    nm: &t.creditor_name,
                },
                cdtr_acct: Account {
                    id: Choice {
                        chosen: AccountId::Other(Other {
                            id: &t.creditor_account,
                        }),
                    },
                    ccy: None,
                },
                rmt_inf: RmtInf { ustrd: memo },
            },
        )?;
    }
    w.write_event(Event::End(BytesEnd::new("PmtInf")))?;
    w.write_event(Event::End(BytesEnd::new("CstmrCdtTrfInitn")))?;
    w.write_event(Event::End(BytesEnd::new("Document")))?;
    Ok(w.into_inner())
}

/// One element, serialized whole.
fn element<W: Write, T: Serialize>(w: &mut Writer<W>, tag: &str, value: &T) -> std::io::Result<()> {
    w.write_serializable(tag, value).map_err(xml_error)
}
