//! The risk policy (CONTRACT 14): factors with points and the grades' thresholds, as data a
//! compliance officer can read and diff, checked like the bank policy with every error on its
//! line; and the grade of one customer's facts under it, with the factors that made it.

use std::collections::HashMap;
use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::applicant::{Nationality, parse_date};
use crate::documents::StayPermitKind;
use crate::policy::{PolicyError, line_of};

pub const DEFAULT_RISK_POLICY: &str = include_str!("../policy/risk.toml");

/// A customer's risk grade.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Grade {
    Low,
    Medium,
    High,
}

impl Grade {
    pub const ALL: [Grade; 3] = [Grade::Low, Grade::Medium, Grade::High];

    pub fn as_str(self) -> &'static str {
        match self {
            Grade::Low => "low",
            Grade::Medium => "medium",
            Grade::High => "high",
        }
    }

    pub fn parse(text: &str) -> Option<Grade> {
        Grade::ALL.into_iter().find(|g| g.as_str() == text)
    }
}

macro_rules! factors {
    ($( $variant:ident = $code:literal { en: $en:literal, zh: $zh:literal } )*) => {
        /// A factor the risk policy may give points to.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(rename_all = "snake_case")]
        pub enum Factor { $( $variant, )* }

        impl Factor {
            pub const ALL: &'static [Factor] = &[ $( Factor::$variant, )* ];

            pub fn as_str(self) -> &'static str {
                match self { $( Factor::$variant => $code, )* }
            }

            /// What the reviewer's case calls it, in English.
            pub fn label_en(self) -> &'static str {
                match self { $( Factor::$variant => $en, )* }
            }

            /// What the reviewer's case calls it, in Simplified Chinese.
            pub fn label_zh(self) -> &'static str {
                match self { $( Factor::$variant => $zh, )* }
            }

            pub fn parse(code: &str) -> Option<Factor> {
                Factor::ALL.iter().copied().find(|f| f.as_str() == code)
            }
        }
    };
}

factors! {
    FatfCallForAction = "fatf_call_for_action" {
        en: "Nationality on the FATF list of high-risk jurisdictions subject to a call for action",
        zh: "国籍属于 FATF 呼吁采取行动的高风险司法管辖区"
    }
    FatfIncreasedMonitoring = "fatf_increased_monitoring" {
        en: "Nationality on the FATF list of jurisdictions under increased monitoring",
        zh: "国籍属于 FATF 加强监控的司法管辖区"
    }
    Pep = "pep" {
        en: "Declared a prominent public function (PEP)",
        zh: "申报担任重要公共职务（政治公众人物）"
    }
    ScreeningNearMiss = "screening_near_miss" {
        en: "A dismissed screening hit, or a score just under the screening threshold",
        zh: "名单筛查命中已排除，或得分略低于筛查阈值"
    }
    DuplicateDocument = "duplicate_document" {
        en: "The same document number is on another account's application",
        zh: "同一证件号码出现在其他账户的申请中"
    }
    CardReturned = "card_returned" {
        en: "The bank returned a payout to a card of this customer",
        zh: "银行曾退回向该客户银行卡的打款"
    }
    ProofOfStay = "proof_of_stay" {
        en: "The kind of proof of stay",
        zh: "在华停留证明的类型"
    }
}

/// What one factor gives, and to whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FactorRule {
    pub factor: Factor,
    pub points: u32,
    /// The FATF factors: the nationalities on the list, and the list's date.
    pub nationalities: Vec<Nationality>,
    pub list_date: Option<NaiveDate>,
    /// `proof_of_stay`: the kinds that score.
    pub kinds: Vec<StayPermitKind>,
}

/// A risk policy that passed every check of [`RiskPolicy::from_toml`].
#[derive(Debug, Clone)]
pub struct RiskPolicy {
    version: String,
    medium: u32,
    high: u32,
    rules: Vec<FactorRule>,
    source: String,
}

/// What is known of a customer that the policy may score.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RiskFacts {
    pub nationality: Nationality,
    pub pep_declared: bool,
    pub screening_near_miss: bool,
    pub duplicate_document: bool,
    pub card_returned: bool,
    pub stay_permit: StayPermitKind,
}

/// A customer's grade under one policy, with the factors that made it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assessment {
    pub grade: Grade,
    pub score: u32,
    pub factors: Vec<(Factor, u32)>,
    pub policy_version: String,
}

const MAX_POINTS: i64 = 100;

impl RiskPolicy {
    pub fn default_policy() -> RiskPolicy {
        match RiskPolicy::from_toml(DEFAULT_RISK_POLICY) {
            Ok(policy) => policy,
            // The compiled-in policy is checked by a unit test; without it every customer is
            // graded high, which sends every approval to a second approver rather than none.
            Err(_) => RiskPolicy {
                version: "unreadable".into(),
                medium: 0,
                high: 0,
                rules: Vec::new(),
                source: String::new(),
            },
        }
    }

    pub fn version(&self) -> &str {
        &self.version
    }

    pub fn rules(&self) -> &[FactorRule] {
        &self.rules
    }

    /// The points from which a score is `medium`, and from which it is `high`.
    pub fn thresholds(&self) -> (u32, u32) {
        (self.medium, self.high)
    }

    /// The policy's text as it was read.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Grades `facts`: every factor that applies, its points, their sum and the grade.
    pub fn grade(&self, facts: &RiskFacts) -> Assessment {
        let factors: Vec<(Factor, u32)> = self
            .rules
            .iter()
            .filter(|rule| applies(rule, facts))
            .map(|rule| (rule.factor, rule.points))
            .collect();
        let score = factors.iter().map(|(_, p)| p).sum();
        let grade = if score >= self.high {
            Grade::High
        } else if score >= self.medium {
            Grade::Medium
        } else {
            Grade::Low
        };
        Assessment {
            grade,
            score,
            factors,
            policy_version: self.version.clone(),
        }
    }

    /// Parses and checks a policy, reporting every error with its line.
    pub fn from_toml(text: &str) -> Result<RiskPolicy, Vec<PolicyError>> {
        let line_of = |offset: usize| line_of(text, offset);
        let raw: RawRiskPolicy = toml::from_str(text).map_err(|e| {
            vec![PolicyError {
                line: e.span().map_or(1, |span| line_of(span.start)),
                message: e.message().to_owned(),
            }]
        })?;
        let mut errors = Vec::new();
        let mut err = |line: usize, message: String| errors.push(PolicyError { line, message });
        let version_line = line_of(raw.version.span().start);
        let version = raw.version.into_inner();
        if version.trim().is_empty() {
            err(version_line, "version must not be empty".into());
        }
        let grades_line = line_of(raw.grades.span().start);
        let grades = raw.grades.into_inner();
        let threshold = |value: &Spanned<i64>, name: &str, err: &mut dyn FnMut(usize, String)| {
            let points = *value.get_ref();
            if !(1..=MAX_POINTS * 10).contains(&points) {
                err(
                    line_of(value.span().start),
                    format!("grades.{name} must be from 1 to {}", MAX_POINTS * 10),
                );
            }
            u32::try_from(points).unwrap_or(0)
        };
        let medium = threshold(&grades.medium, "medium", &mut err);
        let high = threshold(&grades.high, "high", &mut err);
        if medium >= high {
            err(
                grades_line,
                "grades.medium must be below grades.high".into(),
            );
        }
        let mut seen: HashMap<Factor, usize> = HashMap::new();
        let mut rules = Vec::new();
        for raw_factor in raw.factor {
            let line = line_of(raw_factor.span().start);
            let RawFactor {
                code,
                points,
                list_date,
                nationalities,
                kinds,
            } = raw_factor.into_inner();
            let Some(factor) = Factor::parse(&code) else {
                let known: Vec<&str> = Factor::ALL.iter().map(|f| f.as_str()).collect();
                err(
                    line,
                    format!("unknown factor {code:?} (known: {})", known.join(", ")),
                );
                continue;
            };
            if let Some(first) = seen.insert(factor, line) {
                err(
                    line,
                    format!("factor {code} is listed twice (first on line {first})"),
                );
            }
            if !(0..=MAX_POINTS).contains(&points) {
                err(
                    line,
                    format!("points of {code} must be from 0 to {MAX_POINTS}"),
                );
            }
            let fatf = matches!(
                factor,
                Factor::FatfCallForAction | Factor::FatfIncreasedMonitoring
            );
            let mut rule = FactorRule {
                factor,
                points: u32::try_from(points).unwrap_or(0),
                nationalities: Vec::new(),
                list_date: None,
                kinds: Vec::new(),
            };
            match (fatf, nationalities) {
                (true, Some(list)) => {
                    for code in list {
                        match Nationality::lookup(&code) {
                            Some(n) if code.len() == 3 => rule.nationalities.push(n),
                            _ => err(
                                line,
                                format!("{code:?} in {factor} is not an ISO 3166-1 alpha-3 code"),
                            ),
                        }
                    }
                }
                (true, None) => err(line, format!("{factor} needs nationalities")),
                (false, Some(_)) => err(line, format!("{factor} takes no nationalities")),
                (false, None) => {}
            }
            match (fatf, list_date) {
                (true, Some(date)) => match parse_date(&date) {
                    Some(date) => rule.list_date = Some(date),
                    None => err(
                        line,
                        format!("list_date of {factor} must be a YYYY-MM-DD date"),
                    ),
                },
                (true, None) => err(line, format!("{factor} needs the list_date of its list")),
                (false, Some(_)) => err(line, format!("{factor} takes no list_date")),
                (false, None) => {}
            }
            match (factor == Factor::ProofOfStay, kinds) {
                (true, Some(list)) => {
                    for kind in list {
                        match StayPermitKind::parse(&kind) {
                            Some(k) => rule.kinds.push(k),
                            None => err(
                                line,
                                format!("{kind:?} in {factor} is not a kind of proof of stay"),
                            ),
                        }
                    }
                }
                (true, None) => err(line, format!("{factor} needs the kinds that score")),
                (false, Some(_)) => err(line, format!("{factor} takes no kinds")),
                (false, None) => {}
            }
            rules.push(rule);
        }
        if errors.is_empty() {
            Ok(RiskPolicy {
                version,
                medium,
                high,
                rules,
                source: text.to_owned(),
            })
        } else {
            Err(errors)
        }
    }
}

/// Whether a policy file is a risk policy (its `[grades]` or `[[factor]]` tables) rather than
/// a bank policy (`[[bank]]`), so that one `policy check` takes either.
pub fn is_risk_policy(text: &str) -> bool {
    match text.parse::<toml::Table>() {
        Ok(table) => {
            !table.contains_key("bank")
                && (table.contains_key("grades") || table.contains_key("factor"))
        }
        // Unreadable as TOML: judged by its table headers, so that the errors reported are
        // the right policy's.
        Err(_) => text.lines().any(|l| {
            let l = l.trim();
            l == "[grades]" || l == "[[factor]]"
        }),
    }
}

impl fmt::Display for Factor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

fn applies(rule: &FactorRule, facts: &RiskFacts) -> bool {
    match rule.factor {
        Factor::FatfCallForAction | Factor::FatfIncreasedMonitoring => {
            rule.nationalities.contains(&facts.nationality)
        }
        Factor::Pep => facts.pep_declared,
        Factor::ScreeningNearMiss => facts.screening_near_miss,
        Factor::DuplicateDocument => facts.duplicate_document,
        Factor::CardReturned => facts.card_returned,
        Factor::ProofOfStay => rule.kinds.contains(&facts.stay_permit),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRiskPolicy {
    version: Spanned<String>,
    grades: Spanned<RawGrades>,
    #[serde(default)]
    factor: Vec<Spanned<RawFactor>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGrades {
    medium: Spanned<i64>,
    high: Spanned<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFactor {
    code: String,
    points: i64,
    list_date: Option<String>,
    nationalities: Option<Vec<String>>,
    kinds: Option<Vec<String>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(nationality: &str) -> RiskFacts {
        RiskFacts {
            nationality: Nationality::lookup(nationality)
                .unwrap_or_else(|| panic!("{nationality}")),
            pep_declared: false,
            screening_near_miss: false,
            duplicate_document: false,
            card_returned: false,
            stay_permit: StayPermitKind::ResidencePermit,
        }
    }

    #[test]
    fn the_default_policy_is_valid() {
        let policy = RiskPolicy::from_toml(DEFAULT_RISK_POLICY).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(policy.version(), "2026-02-13");
        assert_eq!(policy.rules().len(), Factor::ALL.len());
    }

    #[test]
    fn a_nationality_on_a_fatf_list_is_a_factor_with_its_points() {
        let policy = RiskPolicy::default_policy();
        let ordinary = policy.grade(&facts("DEU"));
        assert_eq!((ordinary.grade, ordinary.score), (Grade::Low, 0));
        assert!(ordinary.factors.is_empty());
        let monitored = policy.grade(&facts("VNM"));
        assert_eq!(monitored.grade, Grade::Medium);
        assert_eq!(monitored.factors, [(Factor::FatfIncreasedMonitoring, 25)]);
        let called = policy.grade(&facts("PRK"));
        assert_eq!(called.grade, Grade::High);
        assert_eq!(called.factors, [(Factor::FatfCallForAction, 60)]);
        assert_eq!(called.policy_version, "2026-02-13");
    }

    #[test]
    fn factors_add_up_and_a_pep_is_high() {
        let policy = RiskPolicy::default_policy();
        let pep = policy.grade(&RiskFacts {
            pep_declared: true,
            ..facts("DEU")
        });
        assert_eq!(pep.grade, Grade::High);
        let several = policy.grade(&RiskFacts {
            card_returned: true,
            stay_permit: StayPermitKind::EntryRecord,
            screening_near_miss: true,
            ..facts("DEU")
        });
        assert_eq!(several.score, 35);
        assert_eq!(several.grade, Grade::Medium);
        assert_eq!(
            several.factors.iter().map(|(f, _)| *f).collect::<Vec<_>>(),
            [
                Factor::ScreeningNearMiss,
                Factor::CardReturned,
                Factor::ProofOfStay
            ]
        );
    }

    #[test]
    fn every_error_is_reported_on_its_line() {
        let text = "version = \"x\"\n\
                    [grades]\n\
                    medium = 50\n\
                    high = 20\n\
                    [[factor]]\n\
                    code = \"pep\"\n\
                    points = 50\n\
                    [[factor]]\n\
                    code = \"star_sign\"\n\
                    points = 5\n\
                    [[factor]]\n\
                    code = \"fatf_call_for_action\"\n\
                    points = 500\n\
                    nationalities = [\"XXX\"]\n";
        let errors = RiskPolicy::from_toml(text).err().unwrap_or_default();
        let lines: Vec<(usize, &str)> = errors
            .iter()
            .map(|e| (e.line, e.message.as_str()))
            .collect();
        assert_eq!(lines[0], (2, "grades.medium must be below grades.high"));
        assert_eq!(lines[1].0, 8);
        assert!(
            lines[1].1.starts_with("unknown factor \"star_sign\""),
            "{lines:?}"
        );
        assert_eq!(lines[2].0, 11);
        assert!(lines.iter().any(|(l, m)| *l == 11 && m.contains("\"XXX\"")));
        assert!(
            lines
                .iter()
                .any(|(l, m)| *l == 11 && m.contains("list_date"))
        );
    }

    #[test]
    fn an_unknown_key_is_refused_with_its_line() {
        let text = "version = \"x\"\n[grades]\nmedium = 1\nhigh = 2\nlow = 0\n";
        let errors = RiskPolicy::from_toml(text).err().unwrap_or_default();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].line, 5);
    }

    #[test]
    fn every_factor_has_a_label_in_both_languages() {
        for factor in Factor::ALL {
            assert!(!factor.label_en().is_empty());
            assert!(
                factor
                    .label_zh()
                    .chars()
                    .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
            );
        }
    }
}
