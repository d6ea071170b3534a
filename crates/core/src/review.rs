//! Manual review (CONTRACT 2.7): reasons, decisions and the flags that help a reviewer.

use chrono::NaiveDate;

use crate::applicant::DateOfBirth;
use crate::codes::Code;
use crate::report::Report;

/// Why a reviewer rejects an application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReviewReason {
    DocumentUnreadable,
    DocumentPageMissing,
    DocumentInvalid,
    DocumentExpired,
    IdentityMismatch,
    NameMismatch,
    UnderAge,
    DuplicateIdentity,
    SuspectedFraud,
    Other,
}

impl ReviewReason {
    pub const ALL: [ReviewReason; 10] = [
        ReviewReason::DocumentUnreadable,
        ReviewReason::DocumentPageMissing,
        ReviewReason::DocumentInvalid,
        ReviewReason::DocumentExpired,
        ReviewReason::IdentityMismatch,
        ReviewReason::NameMismatch,
        ReviewReason::UnderAge,
        ReviewReason::DuplicateIdentity,
        ReviewReason::SuspectedFraud,
        ReviewReason::Other,
    ];

    pub fn code(self) -> Code {
        match self {
            ReviewReason::DocumentUnreadable => Code::DocumentUnreadable,
            ReviewReason::DocumentPageMissing => Code::DocumentPageMissing,
            ReviewReason::DocumentInvalid => Code::DocumentInvalid,
            ReviewReason::DocumentExpired => Code::DocumentExpired,
            ReviewReason::IdentityMismatch => Code::IdentityMismatch,
            ReviewReason::NameMismatch => Code::NameMismatch,
            ReviewReason::UnderAge => Code::UnderAge,
            ReviewReason::DuplicateIdentity => Code::DuplicateIdentity,
            ReviewReason::SuspectedFraud => Code::SuspectedFraud,
            ReviewReason::Other => Code::Other,
        }
    }

    pub fn parse(input: &str) -> Option<ReviewReason> {
        ReviewReason::ALL
            .into_iter()
            .find(|r| r.code().as_str() == input)
    }

    /// A final reason closes the door: the account may not apply again.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            ReviewReason::DuplicateIdentity | ReviewReason::SuspectedFraud
        )
    }
}

/// A reviewer's decision as sent.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
pub struct DecisionForm {
    pub outcome: Option<String>,
    pub reason: Option<String>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Approve {
        note: Option<String>,
    },
    Reject {
        reason: ReviewReason,
        note: Option<String>,
    },
}

impl Decision {
    /// A rejection needs a known reason; `other` needs a note too. The note is internal:
    /// it is kept for the audit and never shown to the user.
    pub fn parse(form: &DecisionForm) -> Result<Decision, Report> {
        let mut report = Report::default();
        let note = form
            .note
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_owned);
        let decision = match form.outcome.as_deref().map(str::trim) {
            Some("approve") => Some(Decision::Approve { note }),
            Some("reject") => match form
                .reason
                .as_deref()
                .map(str::trim)
                .and_then(ReviewReason::parse)
            {
                None => {
                    report.breach("reason", Code::ReviewReasonInvalid);
                    None
                }
                Some(ReviewReason::Other) if note.is_none() => {
                    report.breach("note", Code::ReviewNoteRequired);
                    None
                }
                Some(reason) => Some(Decision::Reject { reason, note }),
            },
            _ => {
                report.breach("outcome", Code::ReviewOutcomeInvalid);
                None
            }
        };
        decision.ok_or(report)
    }
}

/// What the case needs to compute its flags.
#[derive(Debug, Clone, Copy)]
pub struct FlagFacts {
    /// Another account's application carries the same document number (by keyed hash).
    pub duplicate_document: bool,
    /// Expiry dates of the documents that have one.
    pub earliest_expiry: Option<NaiveDate>,
    pub date_of_birth: DateOfBirth,
}

pub const FLAG_WINDOW_DAYS: i64 = 30;

/// What helps a reviewer (CONTRACT 2.7). Its own type, not a code of the catalogue, so that
/// every place that shows a flag names each one: a new flag is a compiler error there, never
/// a flag silently dropped or shown under another's label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Flag {
    DuplicateDocument,
    DocumentExpiresSoon,
    #[serde(rename = "turns_18_recently")]
    #[cfg_attr(feature = "openapi", schema(rename = "turns_18_recently"))]
    Turns18Recently,
    /// A list whose hits inform and never hold (OFAC by default) names someone close to the
    /// applicant (CONTRACT 12).
    ScreeningFlag,
}

impl Flag {
    /// The catalogue's code, with the flag's English and Chinese messages.
    pub fn code(self) -> Code {
        match self {
            Flag::DuplicateDocument => Code::DuplicateDocument,
            Flag::DocumentExpiresSoon => Code::DocumentExpiresSoon,
            Flag::Turns18Recently => Code::Turns18Recently,
            Flag::ScreeningFlag => Code::ScreeningFlag,
        }
    }
}

/// The flags of CONTRACT 2.7, in a fixed order.
pub fn flags(facts: &FlagFacts, today: NaiveDate) -> Vec<Flag> {
    let mut flags = Vec::new();
    if facts.duplicate_document {
        flags.push(Flag::DuplicateDocument);
    }
    if facts
        .earliest_expiry
        .is_some_and(|d| (d - today).num_days() < FLAG_WINDOW_DAYS)
    {
        flags.push(Flag::DocumentExpiresSoon);
    }
    if facts
        .date_of_birth
        .became_adult_within(today, FLAG_WINDOW_DAYS)
    {
        flags.push(Flag::Turns18Recently);
    }
    flags
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::applicant::parse_date;

    fn day(text: &str) -> NaiveDate {
        parse_date(text).unwrap_or(NaiveDate::MIN)
    }

    fn form(outcome: &str, reason: Option<&str>, note: Option<&str>) -> DecisionForm {
        DecisionForm {
            outcome: Some(outcome.into()),
            reason: reason.map(Into::into),
            note: note.map(Into::into),
        }
    }

    #[test]
    fn reasons_round_trip_and_two_are_final() {
        for reason in ReviewReason::ALL {
            assert_eq!(ReviewReason::parse(reason.code().as_str()), Some(reason));
        }
        let finals: Vec<_> = ReviewReason::ALL
            .into_iter()
            .filter(|r| r.is_final())
            .collect();
        assert_eq!(
            finals,
            [
                ReviewReason::DuplicateIdentity,
                ReviewReason::SuspectedFraud
            ]
        );
    }

    #[test]
    fn decisions() {
        assert_eq!(
            Decision::parse(&form("approve", None, None)),
            Ok(Decision::Approve { note: None })
        );
        assert_eq!(
            Decision::parse(&form("reject", Some("name_mismatch"), Some("  "))),
            Ok(Decision::Reject {
                reason: ReviewReason::NameMismatch,
                note: None
            })
        );
        assert_eq!(
            Decision::parse(&form("reject", Some("other"), Some("blurred stamp"))),
            Ok(Decision::Reject {
                reason: ReviewReason::Other,
                note: Some("blurred stamp".into())
            })
        );
        let codes = |f: DecisionForm| {
            Decision::parse(&f)
                .err()
                .map(|r| r.codes())
                .unwrap_or_default()
        };
        assert_eq!(
            codes(form("reject", None, None)),
            [Code::ReviewReasonInvalid]
        );
        assert_eq!(
            codes(form("reject", Some("bad_hair"), None)),
            [Code::ReviewReasonInvalid]
        );
        assert_eq!(
            codes(form("reject", Some("other"), None)),
            [Code::ReviewNoteRequired]
        );
        assert_eq!(
            codes(form("maybe", None, None)),
            [Code::ReviewOutcomeInvalid]
        );
        assert_eq!(codes(DecisionForm::default()), [Code::ReviewOutcomeInvalid]);
    }

    #[test]
    fn flags_for_the_reviewer() {
        let dob = |s| DateOfBirth::parse(s, day("2026-11-26")).unwrap_or_else(|c| panic!("{c}"));
        let today = day("2026-11-26");
        let quiet = FlagFacts {
            duplicate_document: false,
            earliest_expiry: Some(day("2026-12-26")),
            date_of_birth: dob("1990-01-01"),
        };
        assert_eq!(flags(&quiet, today), []);
        let loud = FlagFacts {
            duplicate_document: true,
            earliest_expiry: Some(day("2026-12-25")),
            date_of_birth: dob("2008-11-01"),
        };
        assert_eq!(
            flags(&loud, today),
            [
                Flag::DuplicateDocument,
                Flag::DocumentExpiresSoon,
                Flag::Turns18Recently
            ]
        );
    }
}
