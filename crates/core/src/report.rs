//! Rule breaches and warnings, each tied to the field it concerns, collected so that one
//! request reports every problem at once.

use serde::ser::SerializeStruct;

use crate::codes::Code;

/// What a message needs beyond its code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Detail {
    /// Banks that would accept the name (`name_too_long_for_bank`), as (English, Chinese) names.
    Banks(Vec<(String, String)>),
    /// Attempts left after a wrong amount (`amount_incorrect`).
    AttemptsRemaining(u32),
    /// The bank's ISO 20022 return reason (`deposit_returned`).
    BankReason(String),
    /// A Hong Kong, Macao or Taiwan nationality (`nationality_not_foreign`): where to go instead.
    TravelPermit,
    /// Why a webhook URL was refused (`webhook_url_not_allowed`), for the developer who sent it.
    WebhookUrl(WebhookUrlProblem),
}

/// Why a webhook URL may not be an endpoint (CONTRACT 9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookUrlProblem {
    /// Not an absolute URL, or one with a user name, password, fragment or no usable port.
    Form,
    /// Not `https://`, nor `http://` into `webhooks.allow_cidrs`.
    Scheme,
    /// The host is, or resolves to, a non-public address outside `webhooks.allow_cidrs`.
    NotPublic,
    /// The host did not resolve within 5 s.
    Unresolvable,
}

impl WebhookUrlProblem {
    fn messages(self) -> (&'static str, &'static str) {
        match self {
            WebhookUrlProblem::Form => (
                "The webhook URL must be an absolute URL without a user name, password or fragment.",
                "Webhook 网址必须是完整网址，且不含用户名、密码或片段（#）。",
            ),
            WebhookUrlProblem::Scheme => (
                "The webhook URL must be https://, or http:// to an address inside webhooks.allow_cidrs.",
                "Webhook 网址必须为 https://，或指向 webhooks.allow_cidrs 内地址的 http://。",
            ),
            WebhookUrlProblem::NotPublic => (
                "The webhook URL's host is a loopback, private, link-local or otherwise non-public address outside webhooks.allow_cidrs.",
                "Webhook 网址的主机是 webhooks.allow_cidrs 之外的回环、私有、链路本地或其他非公网地址。",
            ),
            WebhookUrlProblem::Unresolvable => (
                "The webhook URL's host name did not resolve within 5 seconds: check the name.",
                "Webhook 网址的主机名在 5 秒内未能解析，请检查名称。",
            ),
        }
    }
}

/// One breach of a rule (or one warning), with the field it concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Breach {
    /// The field's path in the request, e.g. `documents.passport.number`.
    pub field: String,
    pub code: Code,
    pub detail: Option<Detail>,
}

impl Breach {
    pub fn new(field: impl Into<String>, code: Code) -> Breach {
        Breach {
            field: field.into(),
            code,
            detail: None,
        }
    }

    pub fn with_detail(mut self, detail: Detail) -> Breach {
        self.detail = Some(detail);
        self
    }

    pub fn message_en(&self) -> String {
        let base = self.code.message_en();
        match &self.detail {
            None => base.to_owned(),
            Some(Detail::Banks(banks)) if banks.is_empty() => {
                format!("{base} No supported bank accepts a name of this length and form.")
            }
            Some(Detail::Banks(banks)) => {
                let names: Vec<&str> = banks.iter().map(|(en, _)| en.as_str()).collect();
                format!("{base} Banks that accept your name: {}.", names.join(", "))
            }
            Some(Detail::AttemptsRemaining(n)) => {
                let plural = if *n == 1 { "attempt" } else { "attempts" };
                format!("{base} You have {n} {plural} left.")
            }
            Some(Detail::BankReason(reason)) => {
                format!(
                    "{base} The bank's reason: {} ({reason}).",
                    return_reason(reason).0
                )
            }
            Some(Detail::TravelPermit) => "This authentication is for foreign nationals. \
                Residents of Hong Kong, Macao and Taiwan verify with their Mainland Travel \
                Permit in the platform's own flow instead."
                .to_owned(),
            Some(Detail::WebhookUrl(problem)) => problem.messages().0.to_owned(),
        }
    }

    pub fn message_zh(&self) -> String {
        let base = self.code.message_zh();
        match &self.detail {
            None => base.to_owned(),
            Some(Detail::Banks(banks)) if banks.is_empty() => {
                format!("{base}目前没有支持的银行可以接受该长度和形式的姓名。")
            }
            Some(Detail::Banks(banks)) => {
                let names: Vec<&str> = banks.iter().map(|(_, zh)| zh.as_str()).collect();
                format!("{base}可以接受您姓名的银行：{}。", names.join("、"))
            }
            Some(Detail::AttemptsRemaining(n)) => format!("{base}您还有 {n} 次机会。"),
            Some(Detail::BankReason(reason)) => {
                format!(
                    "{base}银行退回原因：{}（{reason}）。",
                    return_reason(reason).1
                )
            }
            Some(Detail::TravelPermit) => {
                "此认证仅适用于外国国籍用户。港澳台居民请在平台的相应流程中使用港澳居民来往内地通行证或台湾居民来往大陆通行证认证。"
                    .to_owned()
            }
            Some(Detail::WebhookUrl(problem)) => problem.messages().1.to_owned(),
        }
    }
}

impl serde::Serialize for Breach {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut out = s.serialize_struct("Breach", 4)?;
        out.serialize_field("field", &self.field)?;
        out.serialize_field("code", &self.code)?;
        out.serialize_field("message", &self.message_en())?;
        out.serialize_field("message_zh", &self.message_zh())?;
        out.end()
    }
}

/// Plain words for the ISO 20022 return reasons a bank sends back with a payout.
pub fn return_reason(code: &str) -> (&'static str, &'static str) {
    match code {
        "AC01" => ("the account number is wrong", "账号错误"),
        "AC03" => ("the account number is not valid", "账号无效"),
        "AC04" => ("the account is closed", "账户已销户"),
        "AC07" => ("the account is closed", "账户已销户"),
        "AC06" => ("the account is blocked", "账户已冻结"),
        "AG01" => (
            "the account cannot receive this payment",
            "该账户不能接收此类款项",
        ),
        "BE01" => ("the account name does not match", "户名不符"),
        "MD07" => ("the account holder is deceased", "账户持有人已身故"),
        "RC01" => ("the bank identifier is wrong", "银行代码错误"),
        _ => (
            "the bank did not give one we recognise",
            "银行未提供可识别的原因",
        ),
    }
}

/// The reasons a bank gives for a payout that are about the card's account, not about the
/// platform or its bank (CONTRACT 10): the application fails with the reason and the card is
/// refused later. Every other reason (`AM04`, `AM02`, `RC01`, `MS03`, `FF01`, …) fails nobody
/// and the payout is sent again.
pub const ACCOUNT_REASONS: [&str; 8] = [
    "AC01", "AC03", "AC04", "AC06", "AC07", "AG01", "BE01", "MD07",
];

/// Whether a bank's reason code is about the creditor account (see [`ACCOUNT_REASONS`]).
pub fn is_about_the_account(code: &str) -> bool {
    ACCOUNT_REASONS.contains(&code)
}

/// Breaches and warnings found in one request. Breaches block; warnings only advise.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Report {
    pub breaches: Vec<Breach>,
    pub warnings: Vec<Breach>,
}

impl Report {
    pub fn breach(&mut self, field: impl Into<String>, code: Code) {
        self.breaches.push(Breach::new(field, code));
    }

    pub fn warn(&mut self, field: impl Into<String>, code: Code) {
        self.warnings.push(Breach::new(field, code));
    }

    pub fn is_clean(&self) -> bool {
        self.breaches.is_empty()
    }

    pub fn absorb(&mut self, other: Report) {
        self.breaches.extend(other.breaches);
        self.warnings.extend(other.warnings);
    }

    pub fn has(&self, code: Code) -> bool {
        self.breaches.iter().any(|b| b.code == code)
    }

    /// Whether `code` was reported against exactly `field`.
    pub fn has_at(&self, field: &str, code: Code) -> bool {
        self.breaches
            .iter()
            .any(|b| b.code == code && b.field == field)
    }

    pub fn codes(&self) -> Vec<Code> {
        self.breaches.iter().map(|b| b.code).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_breach_serialises_with_both_messages() {
        let json = serde_json::to_string(&Breach::new("real_name", Code::NameTooShort))
            .unwrap_or_default();
        assert!(json.contains("real_name") && json.contains("name_too_short"));
        assert!(json.contains("at least 2") && json.contains("至少需要 2 个字符"));
    }

    #[test]
    fn details_reach_both_messages() {
        let b =
            Breach::new("amount", Code::AmountIncorrect).with_detail(Detail::AttemptsRemaining(1));
        assert!(b.message_en().ends_with("You have 1 attempt left."));
        assert!(b.message_zh().contains("1 次机会"));
        let b = Breach::new("bank_card", Code::DepositReturned)
            .with_detail(Detail::BankReason("AC04".into()));
        assert!(b.message_en().contains("the account is closed (AC04)"));
        assert!(b.message_zh().contains("账户已销户（AC04）"));
        let fallback = return_reason("ZZ99");
        for code in ACCOUNT_REASONS {
            assert!(is_about_the_account(code));
            assert_ne!(return_reason(code), fallback, "{code} has words of its own");
        }
        for code in ["AM04", "AM02", "RC01", "MS03", "FF01", "DUPL"] {
            assert!(!is_about_the_account(code), "{code}");
        }
        let b = Breach::new("bank_card.bank", Code::NameTooLongForBank).with_detail(Detail::Banks(
            vec![("China Merchants Bank".into(), "招商银行".into())],
        ));
        assert!(
            b.message_en()
                .contains("Banks that accept your name: China Merchants Bank.")
        );
        assert!(b.message_zh().contains("招商银行"));
    }
}
