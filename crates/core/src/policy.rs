//! The bank policy (CONTRACT 2.5 and 7): which banks take part and the quirks of each, as data.

use std::collections::HashMap;
use std::fmt;

use serde::Deserialize;
use toml::Spanned;

use crate::card::{AccountType, CardNumber, CardType};
use crate::codes::Code;
use crate::name::{MAX_NAME_CHARS, MIN_NAME_CHARS, RealName};
use crate::report::{Breach, Detail, Report};

/// The policy compiled into the binary; a `policy_file` replaces it.
pub const DEFAULT_POLICY: &str = include_str!("../policy/default.toml");

/// The name length most banks' payout systems take (Alipay's foreigner guidance).
pub const DEFAULT_MAX_NAME_CHARS: usize = 20;

/// What a BIN in the policy says the card is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinKind {
    Savings,
    Credit,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bin {
    pub prefix: String,
    pub kind: BinKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bank {
    pub code: String,
    pub name: String,
    pub name_zh: String,
    pub supported: bool,
    pub max_name_chars: usize,
    pub allow_dots_in_name: bool,
    pub allow_latin_in_name: bool,
    pub account_types: Vec<AccountType>,
    pub luhn: bool,
    pub bins: Vec<Bin>,
    /// The bank's SWIFT code (ISO 9362), for the creditor agent of an ISO 20022 payout.
    pub bic: Option<String>,
    /// The bank's CNAPS code: its 12-digit member id in China's payment system (or its id
    /// in `clearing_system`, when that is another).
    pub cnaps: Option<String>,
    /// The clearing system `cnaps` is a member id of: an ISO 20022 external clearing system
    /// code, `CNAPS` unless the policy says otherwise (a test bank, say).
    pub clearing_system: String,
}

impl Bank {
    /// The bank's own name rules, as breaches against `bank_card.bank`.
    fn name_breaches(&self, name: &RealName) -> Vec<Code> {
        let mut codes = Vec::new();
        if name.has_dot() && !self.allow_dots_in_name {
            codes.push(Code::BankRejectsDotsInName);
        }
        if name.has_latin_letter() && !self.allow_latin_in_name {
            codes.push(Code::BankRejectsLatinLetters);
        }
        if name.char_count() > self.max_name_chars {
            codes.push(Code::NameTooLongForBank);
        }
        codes
    }
}

/// A bank policy that passed every check of [`Policy::from_toml`].
#[derive(Debug, Clone)]
pub struct Policy {
    banks: Vec<Bank>,
    source: String,
}

/// One problem in a policy file, with the line it is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// The bank card as the user sent it; every field may be missing.
#[derive(Clone, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
pub struct BankCardForm {
    pub bank: Option<String>,
    pub card_number: Option<String>,
    pub card_type: Option<String>,
    pub account_type: Option<String>,
    pub account_name: Option<String>,
}

/// A bank card that the policy accepts for this applicant.
/// Which fields were sent, never the card number.
impl std::fmt::Debug for BankCardForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BankCardForm")
            .field("bank", &self.bank)
            .field(
                "card_number",
                &self
                    .card_number
                    .as_ref()
                    .map(|_| "<sent>")
                    .unwrap_or("<absent>"),
            )
            .field("card_type", &self.card_type)
            .field("account_type", &self.account_type)
            .field("account_name", &self.account_name)
            .finish()
    }
}

/// A bank card that the policy accepted: what the store holds, sealed; `Debug` shows the
/// card's last 4 digits only.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BankCard {
    pub bank: String,
    pub card_number: CardNumber,
    pub card_type: CardType,
    pub account_type: AccountType,
    pub account_name: RealName,
}

impl BankCard {
    /// The card as a form, for editing and for checking it again at submission.
    pub fn to_form(&self) -> BankCardForm {
        BankCardForm {
            bank: Some(self.bank.clone()),
            card_number: Some(self.card_number.expose().to_owned()),
            card_type: Some(self.card_type.as_str().to_owned()),
            account_type: Some(self.account_type.as_str().to_owned()),
            account_name: Some(self.account_name.as_str().to_owned()),
        }
    }
}

impl Policy {
    pub fn default_policy() -> Policy {
        match Policy::from_toml(DEFAULT_POLICY) {
            Ok(policy) => policy,
            // The compiled-in policy is checked by a unit test; an empty policy refuses every
            // card rather than bringing the service down.
            Err(_) => Policy {
                banks: Vec::new(),
                source: String::new(),
            },
        }
    }

    /// Parses and checks a policy, reporting every error with its line.
    pub fn from_toml(text: &str) -> Result<Policy, Vec<PolicyError>> {
        let raw: RawPolicy = toml::from_str(text).map_err(|e| {
            let line = e.span().map_or(1, |span| line_of(text, span.start));
            vec![PolicyError {
                line,
                message: e.message().to_owned(),
            }]
        })?;
        let mut errors = Vec::new();
        let mut banks = Vec::new();
        let mut codes: HashMap<String, usize> = HashMap::new();
        let mut prefixes: HashMap<String, (String, usize)> = HashMap::new();
        if raw.bank.is_empty() {
            errors.push(PolicyError {
                line: 1,
                message: "the policy has no [[bank]]".into(),
            });
        }
        for raw_bank in raw.bank {
            let at = |span: std::ops::Range<usize>| line_of(text, span.start);
            let code_line = at(raw_bank.code.span());
            let code = raw_bank.code.into_inner();
            let mut err = |line: usize, message: String| {
                errors.push(PolicyError { line, message });
            };
            if code.is_empty()
                || !code
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
            {
                err(
                    code_line,
                    format!("bank code {code:?} must be upper-case letters and digits"),
                );
            }
            if let Some(first) = codes.insert(code.clone(), code_line) {
                err(
                    code_line,
                    format!("bank {code} is listed twice (first on line {first})"),
                );
            }
            let max_name_chars = match raw_bank.max_name_chars {
                None => DEFAULT_MAX_NAME_CHARS,
                Some(n) => {
                    let value = *n.get_ref();
                    if !(MIN_NAME_CHARS as i64..=MAX_NAME_CHARS as i64).contains(&value) {
                        err(
                            at(n.span()),
                            format!(
                                "max_name_chars of {code} must be from {MIN_NAME_CHARS} to {MAX_NAME_CHARS}"
                            ),
                        );
                    }
                    usize::try_from(value).unwrap_or(DEFAULT_MAX_NAME_CHARS)
                }
            };
            let mut account_types = Vec::new();
            match raw_bank.account_types {
                None => account_types = vec![AccountType::Current, AccountType::Fixed],
                Some(list) => {
                    let line = at(list.span());
                    for t in list.into_inner() {
                        match AccountType::parse(&t) {
                            Some(a) if !account_types.contains(&a) => account_types.push(a),
                            Some(_) => err(line, format!("account type {t:?} is listed twice")),
                            None => err(
                                line,
                                format!("account type {t:?} of {code} is not current or fixed"),
                            ),
                        }
                    }
                    if account_types.is_empty() {
                        err(line, format!("{code} accepts no account type"));
                    }
                }
            }
            let mut bins = Vec::new();
            for raw_bin in raw_bank.bins {
                let line = at(raw_bin.span());
                let RawBin { prefix, card_type } = raw_bin.into_inner();
                if !(4..=10).contains(&prefix.len()) || !prefix.bytes().all(|b| b.is_ascii_digit())
                {
                    err(
                        line,
                        format!("BIN prefix {prefix:?} must be 4 to 10 digits"),
                    );
                }
                let kind = match card_type.as_str() {
                    "savings" => BinKind::Savings,
                    "credit" => BinKind::Credit,
                    other => {
                        err(
                            line,
                            format!("card_type {other:?} must be savings or credit"),
                        );
                        continue;
                    }
                };
                if let Some((owner, first)) = prefixes.insert(prefix.clone(), (code.clone(), line))
                {
                    err(
                        line,
                        format!("BIN {prefix} is listed twice (first for {owner} on line {first})"),
                    );
                }
                bins.push(Bin { prefix, kind });
            }
            if let Some(bic) = &raw_bank.bic
                && !is_bic(bic.get_ref())
            {
                err(
                    at(bic.span()),
                    format!(
                        "bic {:?} of {code} is not a BIC: 4 letters, 2 letters of country, 2 letters or digits, and an optional branch of 3",
                        bic.get_ref()
                    ),
                );
            }
            let clearing_system = match raw_bank.clearing_system {
                None => CNAPS.to_owned(),
                Some(system) => {
                    let value = system.get_ref();
                    if !(1..=5).contains(&value.len())
                        || !value
                            .bytes()
                            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
                    {
                        err(
                            at(system.span()),
                            format!(
                                "clearing_system {value:?} of {code} is not a clearing system code: 1 to 5 upper-case letters or digits"
                            ),
                        );
                    }
                    system.into_inner()
                }
            };
            if let Some(cnaps) = &raw_bank.cnaps {
                let value = cnaps.get_ref();
                if clearing_system == CNAPS && !is_cnaps(value) {
                    err(
                        at(cnaps.span()),
                        format!("cnaps {value:?} of {code} is not a CNAPS code: 12 digits"),
                    );
                } else if !(1..=35).contains(&value.len())
                    || !value.bytes().all(|b| b.is_ascii_alphanumeric())
                {
                    err(
                        at(cnaps.span()),
                        format!(
                            "cnaps {value:?} of {code} is not a member id of {clearing_system}: 1 to 35 letters or digits"
                        ),
                    );
                }
            }
            banks.push(Bank {
                code,
                bic: raw_bank.bic.map(Spanned::into_inner),
                cnaps: raw_bank.cnaps.map(Spanned::into_inner),
                clearing_system,
                name: raw_bank.name,
                name_zh: raw_bank.name_zh,
                supported: raw_bank.supported,
                max_name_chars,
                allow_dots_in_name: raw_bank.allow_dots_in_name,
                allow_latin_in_name: raw_bank.allow_latin_in_name,
                account_types,
                luhn: raw_bank.luhn,
                bins,
            });
        }
        if errors.is_empty() {
            Ok(Policy {
                banks,
                source: text.to_owned(),
            })
        } else {
            errors.sort_by_key(|e| e.line);
            Err(errors)
        }
    }

    /// The policy's text, as loaded.
    pub fn source(&self) -> &str {
        &self.source
    }

    pub fn banks(&self) -> &[Bank] {
        &self.banks
    }

    pub fn bank(&self, code: &str) -> Option<&Bank> {
        self.banks.iter().find(|b| b.code == code)
    }

    pub fn supported_banks(&self) -> impl Iterator<Item = &Bank> {
        self.banks.iter().filter(|b| b.supported)
    }

    /// The bank and kind of the longest BIN prefix the policy knows for this card.
    pub fn bin_of(&self, card: &CardNumber) -> Option<(&Bank, BinKind)> {
        self.banks
            .iter()
            .flat_map(|bank| bank.bins.iter().map(move |bin| (bank, bin)))
            .filter(|(_, bin)| card.expose().starts_with(&bin.prefix))
            .max_by_key(|(_, bin)| bin.prefix.len())
            .map(|(bank, bin)| (bank, bin.kind))
    }

    /// Checks a bank card against every rule of CONTRACT 2.5 for the holder `real_name`.
    pub fn check_card(
        &self,
        form: &BankCardForm,
        real_name: &RealName,
    ) -> Result<BankCard, Report> {
        let mut report = Report::default();
        let present = |value: &Option<String>, field: &str, report: &mut Report| {
            let value = value.as_deref().map(str::trim).filter(|v| !v.is_empty());
            if value.is_none() {
                report.breach(field, Code::FieldRequired);
            }
            value.map(str::to_owned)
        };

        let bank_code = present(&form.bank, "bank_card.bank", &mut report);
        let bank = bank_code
            .as_deref()
            .and_then(|code| self.bank(&code.to_ascii_uppercase()));
        if bank_code.is_some() && !bank.is_some_and(|b| b.supported) {
            report.breach("bank_card.bank", Code::BankNotSupported);
        }
        if let Some(bank) = bank {
            for code in bank.name_breaches(real_name) {
                let breach = Breach::new("bank_card.bank", code);
                report.breaches.push(if code == Code::NameTooLongForBank {
                    breach.with_detail(Detail::Banks(self.banks_accepting(real_name)))
                } else {
                    breach
                });
            }
        }

        let card_number = present(&form.card_number, "bank_card.card_number", &mut report)
            .and_then(|text| {
                let card = CardNumber::parse(&text);
                let luhn = bank.is_none_or(|b| b.luhn);
                match card {
                    Some(card) if !luhn || card.luhn_valid() => Some(card),
                    _ => {
                        report.breach("bank_card.card_number", Code::CardNumberInvalid);
                        None
                    }
                }
            });
        if let Some(card) = &card_number
            && let Some((owner, kind)) = self.bin_of(card)
        {
            if bank.is_some_and(|b| b.code != owner.code) {
                report.breach("bank_card.card_number", Code::CardBankMismatch);
            }
            if kind == BinKind::Credit {
                report.breach("bank_card.card_number", Code::CreditCardNotSupported);
            }
        }

        let card_type =
            present(&form.card_type, "bank_card.card_type", &mut report).and_then(|text| {
                match CardType::parse(&text) {
                    Some(CardType::Savings) => Some(CardType::Savings),
                    Some(CardType::Passbook) => {
                        report.breach("bank_card.card_type", Code::PassbookNotSupported);
                        None
                    }
                    Some(CardType::Credit) => {
                        report.breach("bank_card.card_type", Code::CreditCardNotSupported);
                        None
                    }
                    None => {
                        report.breach("bank_card.card_type", Code::CardTypeInvalid);
                        None
                    }
                }
            });

        let account_type = present(&form.account_type, "bank_card.account_type", &mut report)
            .and_then(|text| match AccountType::parse(&text) {
                None => {
                    report.breach("bank_card.account_type", Code::AccountTypeInvalid);
                    None
                }
                Some(t) if bank.is_some_and(|b| !b.account_types.contains(&t)) => {
                    report.breach("bank_card.account_type", Code::AccountTypeNotSupported);
                    None
                }
                Some(t) => Some(t),
            });

        let account_name = present(&form.account_name, "bank_card.account_name", &mut report)
            .and_then(|text| match RealName::parse(&text) {
                Ok(name) if name.same_as(real_name) => Some(name),
                _ => {
                    report.breach("bank_card.account_name", Code::AccountNameMismatch);
                    None
                }
            });

        match (bank, card_number, card_type, account_type, account_name) {
            (
                Some(bank),
                Some(card_number),
                Some(card_type),
                Some(account_type),
                Some(account_name),
            ) if report.is_clean() => Ok(BankCard {
                bank: bank.code.clone(),
                card_number,
                card_type,
                account_type,
                account_name,
            }),
            _ => Err(report),
        }
    }

    /// Supported banks whose name rules all accept `name`, as (English, Chinese) names.
    pub fn banks_accepting(&self, name: &RealName) -> Vec<(String, String)> {
        self.supported_banks()
            .filter(|b| b.name_breaches(name).is_empty())
            .map(|b| (b.name.clone(), b.name_zh.clone()))
            .collect()
    }
}

/// China's payment system, the clearing system of every bank of the default policy.
pub const CNAPS: &str = "CNAPS";

/// ISO 9362: institution (4 letters), country (2 letters), location (2 letters or digits),
/// and an optional branch (3 letters or digits).
pub fn is_bic(value: &str) -> bool {
    let b = value.as_bytes();
    let alnum = |c: &u8| c.is_ascii_uppercase() || c.is_ascii_digit();
    (b.len() == 8 || b.len() == 11)
        && b[..6].iter().all(u8::is_ascii_uppercase)
        && b[6..].iter().all(alnum)
}

/// A CNAPS bank code (联行号): 12 digits.
pub fn is_cnaps(value: &str) -> bool {
    value.len() == 12 && value.bytes().all(|b| b.is_ascii_digit())
}

/// The 1-based line of byte `offset` in `text`: where a policy file's error is.
pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset)
        .map_or(1, |before| before.matches('\n').count() + 1)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    #[serde(default)]
    bank: Vec<RawBank>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBank {
    code: Spanned<String>,
    name: String,
    name_zh: String,
    supported: bool,
    max_name_chars: Option<Spanned<i64>>,
    #[serde(default = "yes")]
    allow_dots_in_name: bool,
    #[serde(default = "yes")]
    allow_latin_in_name: bool,
    account_types: Option<Spanned<Vec<String>>>,
    #[serde(default = "yes")]
    luhn: bool,
    #[serde(default)]
    bins: Vec<Spanned<RawBin>>,
    bic: Option<Spanned<String>>,
    cnaps: Option<Spanned<String>>,
    clearing_system: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBin {
    prefix: String,
    card_type: String,
}

fn yes() -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Policy {
        match Policy::from_toml(DEFAULT_POLICY) {
            Ok(p) => p,
            Err(errors) => panic!("default policy refused: {errors:?}"),
        }
    }

    fn name(text: &str) -> RealName {
        RealName::parse(text).unwrap_or_else(|codes| panic!("{text}: {codes:?}"))
    }

    fn form(bank: &str, card: &str, holder: &str) -> BankCardForm {
        BankCardForm {
            bank: Some(bank.into()),
            card_number: Some(card.into()),
            card_type: Some("savings".into()),
            account_type: Some("current".into()),
            account_name: Some(holder.into()),
        }
    }

    fn breaches(result: Result<BankCard, Report>) -> Vec<(String, Code)> {
        match result {
            Ok(_) => Vec::new(),
            Err(report) => report
                .breaches
                .into_iter()
                .map(|b| (b.field, b.code))
                .collect(),
        }
    }

    fn check(f: &BankCardForm, holder: &str) -> Vec<(String, Code)> {
        breaches(policy().check_card(f, &name(holder)))
    }

    fn at(field: &str, code: Code) -> (String, Code) {
        (format!("bank_card.{field}"), code)
    }

    #[test]
    fn the_default_policy_holds_the_fourteen_banks() {
        let p = policy();
        let codes: Vec<&str> = p.banks().iter().map(|b| b.code.as_str()).collect();
        assert_eq!(
            codes,
            [
                "CIB", "CMBC", "SPDB", "ICBC", "CMB", "COMM", "BOC", "GDB", "CITIC", "CEB", "HZCB",
                "PSBC", "SPABANK", "ABC"
            ]
        );
        assert_eq!(p.supported_banks().count(), 13);
        assert!(p.bank("ABC").is_some_and(|b| !b.supported));
        for bank in p.banks() {
            assert!(
                bank.bins.iter().any(|b| b.kind == BinKind::Savings),
                "{} has no BIN",
                bank.code
            );
        }
        assert_eq!(Policy::default_policy().banks().len(), 14);
        for bank in p.banks() {
            assert!(bank.bic.as_deref().is_some_and(is_bic), "{}", bank.code);
            assert!(bank.cnaps.as_deref().is_some_and(is_cnaps), "{}", bank.code);
        }
        assert_eq!(
            p.bank("ICBC").and_then(|b| b.cnaps.as_deref()),
            Some("102100099996")
        );
    }

    #[test]
    fn bic_and_cnaps_are_checked_for_form() {
        for good in ["ICBKCNBJ", "ICBKCNBJ400", "GDBKCN22"] {
            assert!(is_bic(good), "{good}");
        }
        for bad in [
            "ICBKCNB",
            "icbkcnbj",
            "ICBK1NBJ",
            "ICBKCNBJ40",
            "ICBKCNBJ4000",
            "",
        ] {
            assert!(!is_bic(bad), "{bad}");
        }
        assert!(is_cnaps("102100099996"));
        for bad in ["10210009999", "1021000999960", "10210009999X"] {
            assert!(!is_cnaps(bad), "{bad}");
        }
        let text = "[[bank]]\ncode = \"X\"\nname = \"X\"\nname_zh = \"X\"\nsupported = true\nbic = \"XX\"\ncnaps = \"123\"\n";
        let errors = Policy::from_toml(text).err().unwrap_or_default();
        let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [6, 7], "{errors:?}");
        assert!(errors[0].message.contains("is not a BIC"), "{errors:?}");
        assert!(errors[1].message.contains("12 digits"), "{errors:?}");

        // Another clearing system's member id (mock-bank's routing number, in the tests).
        let other = "[[bank]]\ncode = \"X\"\nname = \"X\"\nname_zh = \"X\"\nsupported = true\nclearing_system = \"USABA\"\ncnaps = \"999999992\"\n";
        let policy = Policy::from_toml(other).unwrap_or_else(|e| Policy {
            banks: Vec::new(),
            source: format!("{e:?}"),
        });
        assert_eq!(
            policy
                .bank("X")
                .map(|b| (b.clearing_system.as_str(), b.cnaps.as_deref())),
            Some(("USABA", Some("999999992"))),
            "{}",
            policy.source()
        );
        let bad = other.replace("USABA", "usaba!");
        assert!(Policy::from_toml(&bad).is_err());
    }

    #[test]
    fn a_good_card_passes_at_every_supported_bank() {
        let cards = [
            ("CIB", "622908000000000012"),
            ("CMBC", "6226220000000017"),
            ("SPDB", "6225160000000016"),
            ("ICBC", "6222020000000000018"),
            ("CMB", "6225880000000019"),
            ("COMM", "6222620000000000012"),
            ("BOC", "6217850000000000013"),
            ("GDB", "6225680000000000012"),
            ("CITIC", "6226900000000014"),
            ("CEB", "6226600000000010"),
            ("HZCB", "603367000000000016"),
            ("PSBC", "6221880000000000019"),
            ("SPABANK", "6222980000000010"),
        ];
        for (bank, card) in cards {
            let result = policy().check_card(&form(bank, card, "John Smith"), &name("John Smith"));
            let card_ok = result
                .as_ref()
                .map(|c| (c.bank.as_str(), c.card_number.last4()));
            assert_eq!(
                card_ok.ok(),
                Some((bank, &card[card.len() - 4..])),
                "{bank}"
            );
        }
        // Spaces in the number and a lower-case bank code are fine; an unknown BIN is judged
        // by its shape and Luhn check.
        assert_eq!(
            check(
                &form("icbc", "6222 0200 0000 0000 018", "John Smith"),
                "John Smith"
            ),
            []
        );
        assert_eq!(
            check(&form("ICBC", "6200000000000000000", "张伟"), "张伟"),
            []
        );
    }

    #[test]
    fn unknown_and_unsupported_banks() {
        assert_eq!(
            check(
                &form("CCB", "6227000000000000011", "John Smith"),
                "John Smith"
            ),
            [at("bank", Code::BankNotSupported)]
        );
        assert_eq!(
            check(&form("ABC", "6228480000000000018", "张伟"), "张伟"),
            [at("bank", Code::BankNotSupported)]
        );
        // ABC refuses Latin letters, reported beside its being unsupported.
        assert_eq!(
            check(
                &form("ABC", "6228480000000000018", "John Smith"),
                "John Smith"
            ),
            [
                at("bank", Code::BankNotSupported),
                at("bank", Code::BankRejectsLatinLetters)
            ]
        );
    }

    #[test]
    fn card_numbers_bins_and_types() {
        let holder = "John Smith";
        for bad in [
            "6222020000000000019",
            "622202000000001",
            "62220200000000000180",
            "abc",
        ] {
            assert_eq!(
                check(&form("ICBC", bad, holder), holder),
                [at("card_number", Code::CardNumberInvalid)],
                "{bad}"
            );
        }
        assert_eq!(
            check(&form("ICBC", "6225880000000019", holder), holder),
            [at("card_number", Code::CardBankMismatch)]
        );
        assert_eq!(
            check(&form("ICBC", "6222100000000015", holder), holder),
            [at("card_number", Code::CreditCardNotSupported)]
        );
        assert_eq!(
            check(&form("ICBC", "6225750000000014", holder), holder),
            [
                at("card_number", Code::CardBankMismatch),
                at("card_number", Code::CreditCardNotSupported)
            ]
        );
        let mut f = form("ICBC", "6222020000000000018", holder);
        f.card_type = Some("passbook".into());
        assert_eq!(
            check(&f, holder),
            [at("card_type", Code::PassbookNotSupported)]
        );
        f.card_type = Some("credit".into());
        assert_eq!(
            check(&f, holder),
            [at("card_type", Code::CreditCardNotSupported)]
        );
        f.card_type = Some("gold".into());
        assert_eq!(check(&f, holder), [at("card_type", Code::CardTypeInvalid)]);
        f.card_type = Some("savings".into());
        f.account_type = Some("fixed".into());
        assert_eq!(check(&f, holder), []);
        f.account_type = Some("checking".into());
        assert_eq!(
            check(&f, holder),
            [at("account_type", Code::AccountTypeInvalid)]
        );
    }

    #[test]
    fn a_bank_whose_policy_skips_luhn() {
        let text =
            DEFAULT_POLICY.replacen("supported = true\n", "supported = true\nluhn = false\n", 1);
        let p = Policy::from_toml(&text).unwrap_or_else(|e| panic!("{e:?}"));
        let holder = name("John Smith");
        assert!(
            p.check_card(&form("CIB", "622908000000000013", "John Smith"), &holder)
                .is_ok()
        );
        assert!(
            policy()
                .check_card(&form("CIB", "622908000000000013", "John Smith"), &holder)
                .is_err()
        );
    }

    #[test]
    fn account_name_must_be_the_real_name() {
        assert_eq!(
            check(
                &form("ICBC", "6222020000000000018", "JOHN  SMITH"),
                "John Smith"
            ),
            []
        );
        assert_eq!(
            check(
                &form("ICBC", "6222020000000000018", "ＪＯＨＮ　ＳＭＩＴＨ"),
                "John Smith"
            ),
            []
        );
        assert_eq!(
            check(
                &form("ICBC", "6222020000000000018", "Jane Smith"),
                "John Smith"
            ),
            [at("account_name", Code::AccountNameMismatch)]
        );
        assert_eq!(
            check(&form("ICBC", "6222020000000000018", "J@ne"), "John Smith"),
            [at("account_name", Code::AccountNameMismatch)]
        );
    }

    #[test]
    fn hangzhou_takes_current_accounts_only() {
        let mut f = form("HZCB", "603367000000000016", "John Smith");
        assert_eq!(check(&f, "John Smith"), []);
        f.account_type = Some("fixed".into());
        assert_eq!(
            check(&f, "John Smith"),
            [at("account_type", Code::AccountTypeNotSupported)]
        );
    }

    #[test]
    fn bank_of_china_refuses_every_dot_form() {
        for holder in [
            "伊万·彼得罗夫",
            "伊万・彼得罗夫",
            "伊万•彼得罗夫",
            "伊万．彼得罗夫",
            "伊万‧彼得罗夫",
            "J. Smith",
        ] {
            assert_eq!(
                check(&form("BOC", "6217850000000000013", holder), holder),
                [at("bank", Code::BankRejectsDotsInName)],
                "{holder}"
            );
            assert_eq!(
                check(&form("ICBC", "6222020000000000018", holder), holder),
                [],
                "{holder}"
            );
        }
    }

    #[test]
    fn only_cmb_takes_names_over_twenty_characters() {
        let twenty = "Abcdefghij Klmnopqrs"; // 20 characters, space included
        let twenty_one = "Abcdefghij Klmnopqrst";
        assert_eq!(twenty.chars().count(), 20);
        assert_eq!(
            check(&form("ICBC", "6222020000000000018", twenty), twenty),
            []
        );
        assert_eq!(
            check(&form("CMB", "6225880000000019", twenty_one), twenty_one),
            []
        );
        let result = policy().check_card(
            &form("ICBC", "6222020000000000018", twenty_one),
            &name(twenty_one),
        );
        let Err(report) = result else {
            panic!("a 21-character name passed at ICBC")
        };
        assert_eq!(report.codes(), [Code::NameTooLongForBank]);
        let message = report.breaches[0].message_en();
        assert!(message.contains("China Merchants Bank"), "{message}");
        assert!(report.breaches[0].message_zh().contains("招商银行"));
        // A long name with a dot: CMB still takes it, BOC would refuse it twice over.
        let dotted = "Abcdefghij·Klmnopqrst";
        assert_eq!(
            check(&form("BOC", "6217850000000000013", dotted), dotted),
            [
                at("bank", Code::BankRejectsDotsInName),
                at("bank", Code::NameTooLongForBank)
            ]
        );
    }

    #[test]
    fn every_missing_field_is_reported_at_once() {
        let empty = BankCardForm::default();
        assert_eq!(
            check(&empty, "John Smith"),
            [
                at("bank", Code::FieldRequired),
                at("card_number", Code::FieldRequired),
                at("card_type", Code::FieldRequired),
                at("account_type", Code::FieldRequired),
                at("account_name", Code::FieldRequired),
            ]
        );
    }

    #[test]
    fn policy_errors_name_their_line() {
        let text = "[[bank]]\ncode = \"X1\"\nname = \"X\"\nname_zh = \"X\"\nsupported = true\nmax_name_chars = 99\nbins = [\n  { prefix = \"12\", card_type = \"savings\" },\n  { prefix = \"622202\", card_type = \"debit\" },\n]\n";
        let errors = Policy::from_toml(text).err().unwrap_or_default();
        let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [6, 8, 9], "{errors:?}");
        assert!(
            errors[2]
                .to_string()
                .starts_with("line 9: card_type \"debit\"")
        );

        let unknown_key = "[[bank]]\ncode = \"X\"\nname = \"X\"\nname_zh = \"X\"\nsupported = true\nluhnn = false\n";
        let errors = Policy::from_toml(unknown_key).err().unwrap_or_default();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].line, 6, "{errors:?}");
        assert!(errors[0].message.contains("luhnn"));

        let syntax = "[[bank]]\ncode = \"X\"\nname = \n";
        assert_eq!(Policy::from_toml(syntax).err().map(|e| e[0].line), Some(3));

        let twice = format!(
            "{DEFAULT_POLICY}\n[[bank]]\ncode = \"CMB\"\nname = \"Again\"\nname_zh = \"再\"\nsupported = false\n"
        );
        let errors = Policy::from_toml(&twice).err().unwrap_or_default();
        assert!(
            errors
                .iter()
                .any(|e| e.message.contains("CMB is listed twice")),
            "{errors:?}"
        );

        assert!(Policy::from_toml("").is_err());
    }
}
