//! The whole application form: every rule of CONTRACT 2.0–2.5 over what the user sent,
//! reporting every breach at once.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::applicant::{DateOfBirth, Nationality, parse_date};
use crate::codes::Code;
use crate::diligence::{Diligence, DiligenceForm, OccupationForm, PepForm};
use crate::documents::{
    DocumentNumber, ImageSlot, Passport, StayPermit, StayPermitKind, expired_on,
};
use crate::name::RealName;
use crate::phone::Phone;
use crate::policy::{BankCard, BankCardForm, Policy};
use crate::report::{Breach, Detail, Report};

/// The identity part of an application, as sent: every field may be missing.
#[derive(Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct ApplicationForm {
    pub consent: Option<bool>,
    pub real_name: Option<String>,
    pub nationality: Option<String>,
    pub date_of_birth: Option<String>,
    pub phone: Option<String>,
    pub documents: Option<DocumentsForm>,
    pub sex: Option<String>,
    pub occupation: Option<OccupationForm>,
    pub address: Option<String>,
    pub pep: Option<PepForm>,
}

impl ApplicationForm {
    fn diligence(&self) -> DiligenceForm<'_> {
        DiligenceForm {
            sex: &self.sex,
            occupation: &self.occupation,
            address: &self.address,
            pep: &self.pep,
        }
    }
}

#[derive(Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct DocumentsForm {
    pub passport: Option<PassportForm>,
    pub stay_permit: Option<StayPermitForm>,
}

#[derive(Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct PassportForm {
    pub number: Option<String>,
    pub expiry_date: Option<String>,
}

#[derive(Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct StayPermitForm {
    pub kind: Option<String>,
    pub number: Option<String>,
    pub expiry_date: Option<String>,
    pub entry_date: Option<String>,
}

/// A form's `Debug` says which fields were sent, never what they hold: a stray log line of a
/// request must not carry a passport or phone number.
fn sent<T>(field: &Option<T>) -> &'static str {
    if field.is_some() {
        "<sent>"
    } else {
        "<absent>"
    }
}

impl std::fmt::Debug for ApplicationForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApplicationForm")
            .field("consent", &self.consent)
            .field("real_name", &sent(&self.real_name))
            .field("nationality", &self.nationality)
            .field("date_of_birth", &sent(&self.date_of_birth))
            .field("phone", &sent(&self.phone))
            .field("documents", &self.documents)
            .field("sex", &sent(&self.sex))
            .field("occupation", &self.occupation)
            .field("address", &sent(&self.address))
            .field("pep", &self.pep)
            .finish()
    }
}

impl std::fmt::Debug for DocumentsForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DocumentsForm")
            .field("passport", &self.passport)
            .field("stay_permit", &self.stay_permit)
            .finish()
    }
}

impl std::fmt::Debug for PassportForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PassportForm")
            .field("number", &sent(&self.number))
            .field("expiry_date", &self.expiry_date)
            .finish()
    }
}

impl std::fmt::Debug for StayPermitForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StayPermitForm")
            .field("kind", &self.kind)
            .field("number", &sent(&self.number))
            .field("expiry_date", &self.expiry_date)
            .field("entry_date", &self.entry_date)
            .finish()
    }
}

/// An identity that satisfies every rule on the day it was checked. This is what the store
/// holds, sealed: the validated values, whose `Debug` masks every personal one.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Identity {
    pub real_name: RealName,
    pub nationality: Nationality,
    pub date_of_birth: DateOfBirth,
    pub phone: Phone,
    /// Absent only when the proof of stay is the permanent residence card.
    pub passport: Option<Passport>,
    pub stay_permit: StayPermit,
    /// The due diligence fields (CONTRACT 2.3); absent from identities sealed before them.
    #[serde(default, flatten)]
    pub diligence: Diligence,
}

impl Identity {
    /// The documents' numbers, for the duplicate look-up.
    pub fn document_numbers(&self) -> Vec<&DocumentNumber> {
        let mut numbers: Vec<&DocumentNumber> = self.passport.iter().map(|p| &p.number).collect();
        numbers.extend(self.stay_permit.number());
        numbers
    }

    /// The identity as a form, for editing: what the user would type to get it again.
    pub fn to_form(&self) -> ApplicationForm {
        let date = |d: NaiveDate| Some(d.to_string());
        let (number, expiry_date, entry_date) = match &self.stay_permit {
            StayPermit::EntryRecord { entry_date } => (None, None, date(*entry_date)),
            StayPermit::ResidencePermit {
                number,
                expiry_date,
            }
            | StayPermit::PermanentResidenceCard {
                number,
                expiry_date,
            } => (Some(number.expose().to_owned()), date(*expiry_date), None),
        };
        let (sex, occupation, address, pep) = self.diligence.to_form();
        ApplicationForm {
            sex,
            occupation,
            address,
            pep,
            consent: Some(true),
            real_name: Some(self.real_name.as_str().to_owned()),
            nationality: Some(self.nationality.code().to_owned()),
            date_of_birth: date(self.date_of_birth.date()),
            phone: Some(self.phone.e164().to_owned()),
            documents: Some(DocumentsForm {
                passport: self.passport.as_ref().map(|p| PassportForm {
                    number: Some(p.number.expose().to_owned()),
                    expiry_date: date(p.expiry_date),
                }),
                stay_permit: Some(StayPermitForm {
                    kind: Some(self.stay_permit.kind().as_str().to_owned()),
                    number,
                    expiry_date,
                    entry_date,
                }),
            }),
        }
    }

    /// The earliest expiry among the documents that have one: a verification's `valid_until`
    /// (CONTRACT 13; an entry record has no expiry of its own).
    pub fn earliest_expiry(&self) -> Option<NaiveDate> {
        self.passport
            .iter()
            .map(|p| p.expiry_date)
            .chain(self.stay_permit.expiry_date())
            .min()
    }
}

/// A value that passed, with the warnings found on the way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked<T> {
    pub value: T,
    pub warnings: Vec<Breach>,
}

fn text(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

fn required<'a>(value: &'a Option<String>, field: &str, report: &mut Report) -> Option<&'a str> {
    let found = text(value);
    if found.is_none() {
        report.breach(field, Code::FieldRequired);
    }
    found
}

fn date(
    value: &Option<String>,
    field: &str,
    malformed: Code,
    report: &mut Report,
) -> Option<NaiveDate> {
    let found = required(value, field, report)?;
    let parsed = parse_date(found);
    if parsed.is_none() {
        report.breach(field, malformed);
    }
    parsed
}

/// Checks a new application: consent, then every identity rule, on China's `today`.
pub fn check_new_application(
    form: &ApplicationForm,
    today: NaiveDate,
) -> Result<Checked<Identity>, Report> {
    let mut report = Report::default();
    if form.consent != Some(true) {
        report.breach("consent", Code::ConsentRequired);
    }
    match check_identity(form, today) {
        Ok(checked) if report.is_clean() => Ok(checked),
        Ok(checked) => {
            report.warnings = checked.warnings;
            Err(report)
        }
        Err(more) => {
            report.absorb(more);
            Err(report)
        }
    }
}

/// Checks the identity fields of CONTRACT 2.1–2.4 on China's `today`.
pub fn check_identity(
    form: &ApplicationForm,
    today: NaiveDate,
) -> Result<Checked<Identity>, Report> {
    let mut report = Report::default();

    let real_name = required(&form.real_name, "real_name", &mut report).and_then(|t| {
        RealName::parse(t)
            .map_err(|codes| {
                codes
                    .into_iter()
                    .for_each(|c| report.breach("real_name", c))
            })
            .ok()
    });

    let nationality = required(&form.nationality, "nationality", &mut report).and_then(|t| {
        Nationality::parse(t)
            .map_err(|c| match Nationality::lookup(t) {
                Some(n) if n.needs_travel_permit() => report
                    .breaches
                    .push(Breach::new("nationality", c).with_detail(Detail::TravelPermit)),
                _ => report.breach("nationality", c),
            })
            .ok()
    });

    let date_of_birth = required(&form.date_of_birth, "date_of_birth", &mut report).and_then(|t| {
        DateOfBirth::parse(t, today)
            .map_err(|c| report.breach("date_of_birth", c))
            .ok()
    });
    if let Some(dob) = date_of_birth
        && !dob.is_adult_on(today)
    {
        report.breach("date_of_birth", Code::ApplicantUnder18);
    }

    let phone = match form.phone.as_deref() {
        None => {
            report.breach("phone", Code::FieldRequired);
            None
        }
        Some(t) => match Phone::parse(t) {
            Ok(parsed) => {
                if let Some(code) = parsed.warning {
                    report.warn("phone", code);
                }
                Some(parsed.phone)
            }
            Err(codes) => {
                codes.into_iter().for_each(|c| report.breach("phone", c));
                None
            }
        },
    };

    let diligence = Diligence::check(&form.diligence(), &mut report);

    let docs = form.documents.clone().unwrap_or_default();
    let stay_permit = check_stay_permit(docs.stay_permit.as_ref(), today, &mut report);
    let kind = docs
        .stay_permit
        .as_ref()
        .and_then(|s| text(&s.kind))
        .and_then(StayPermitKind::parse);
    let passport = match docs.passport.as_ref() {
        Some(p) => check_passport(p, today, &mut report),
        None => {
            if kind != Some(StayPermitKind::PermanentResidenceCard) {
                report.breach("documents.passport", Code::PassportRequired);
            }
            None
        }
    };

    match (real_name, nationality, date_of_birth, phone, stay_permit) {
        (
            Some(real_name),
            Some(nationality),
            Some(date_of_birth),
            Some(phone),
            Some(stay_permit),
        ) if report.is_clean() => Ok(Checked {
            value: Identity {
                real_name,
                nationality,
                date_of_birth,
                phone,
                passport,
                stay_permit,
                diligence,
            },
            warnings: report.warnings,
        }),
        _ => Err(report),
    }
}

fn check_passport(form: &PassportForm, today: NaiveDate, report: &mut Report) -> Option<Passport> {
    let number = required(&form.number, "documents.passport.number", report).and_then(|t| {
        let n = DocumentNumber::passport(t);
        if n.is_none() {
            report.breach("documents.passport.number", Code::PassportNumberInvalid);
        }
        n
    });
    let expiry_date = date(
        &form.expiry_date,
        "documents.passport.expiry_date",
        Code::ExpiryDateInvalid,
        report,
    );
    if expiry_date.is_some_and(|d| expired_on(d, today)) {
        report.breach("documents.passport", Code::DocumentExpired);
    }
    Some(Passport {
        number: number?,
        expiry_date: expiry_date?,
    })
}

fn check_stay_permit(
    form: Option<&StayPermitForm>,
    today: NaiveDate,
    report: &mut Report,
) -> Option<StayPermit> {
    const FIELD: &str = "documents.stay_permit";
    let Some(form) = form else {
        report.breach(FIELD, Code::StayPermitRequired);
        return None;
    };
    let Some(kind_text) = text(&form.kind) else {
        report.breach(FIELD, Code::StayPermitRequired);
        return None;
    };
    let Some(kind) = StayPermitKind::parse(kind_text) else {
        report.breach("documents.stay_permit.kind", Code::StayPermitKindInvalid);
        return None;
    };
    let number_field = "documents.stay_permit.number";
    let expiry_field = "documents.stay_permit.expiry_date";
    let expiring = |report: &mut Report| {
        let expiry = date(
            &form.expiry_date,
            expiry_field,
            Code::ExpiryDateInvalid,
            report,
        );
        if expiry.is_some_and(|d| expired_on(d, today)) {
            report.breach(FIELD, Code::DocumentExpired);
        }
        expiry
    };
    match kind {
        StayPermitKind::EntryRecord => {
            let field = "documents.stay_permit.entry_date";
            let entry_date = date(&form.entry_date, field, Code::EntryDateInvalid, report);
            if entry_date.is_some_and(|d| d > today) {
                report.breach(field, Code::EntryDateInvalid);
            }
            let entry_date = entry_date.filter(|d| *d <= today);
            Some(StayPermit::EntryRecord {
                entry_date: entry_date?,
            })
        }
        StayPermitKind::ResidencePermit => {
            let number = required(&form.number, number_field, report).and_then(|t| {
                let n = DocumentNumber::residence_permit(t);
                if n.is_none() {
                    report.breach(number_field, Code::StayPermitNumberInvalid);
                }
                n
            });
            let expiry_date = expiring(report);
            Some(StayPermit::ResidencePermit {
                number: number?,
                expiry_date: expiry_date?,
            })
        }
        StayPermitKind::PermanentResidenceCard => {
            let number = required(&form.number, number_field, report).and_then(|t| {
                let n = DocumentNumber::permanent_residence_card(t);
                if n.is_none() {
                    report.breach(number_field, Code::PermanentResidenceCardNumberInvalid);
                }
                n
            });
            let expiry_date = expiring(report);
            Some(StayPermit::PermanentResidenceCard {
                number: number?,
                expiry_date: expiry_date?,
            })
        }
    }
}

/// Everything a submission is checked against.
pub struct SubmissionInput<'a> {
    pub form: &'a ApplicationForm,
    pub bank_card: Option<&'a BankCardForm>,
    /// The slots that hold an uploaded image.
    pub images: &'a [ImageSlot],
    pub policy: &'a Policy,
    pub today: NaiveDate,
}

/// A submission that passed every rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    pub identity: Identity,
    pub bank_card: BankCard,
    pub warnings: Vec<Breach>,
}

/// Re-checks every rule on the day of submission: the identity (ages and expiry move with
/// the calendar), the bank card against the current policy, and the images.
pub fn check_submission(input: &SubmissionInput<'_>) -> Result<Submission, Report> {
    let mut report = Report::default();
    // Missing due diligence fields are reported beside the identity's other breaches; a bad
    // value is the identity's own check's to report.
    input.form.diligence().require(&mut report);
    let identity = match check_identity(input.form, input.today) {
        Ok(checked) => {
            report.warnings = checked.warnings;
            Some(checked.value)
        }
        Err(more) => {
            report.absorb(more);
            None
        }
    };
    // The card is judged against the real name whenever the name itself is valid, so its
    // breaches are reported beside the identity's; without a valid name, that is said once.
    let real_name = text(&input.form.real_name).and_then(|t| RealName::parse(t).ok());
    let bank_card = match (input.bank_card, &real_name) {
        (None, _) => {
            report.breach("bank_card", Code::FieldRequired);
            None
        }
        (Some(card), Some(name)) => input
            .policy
            .check_card(card, name)
            .map_err(|more| report.absorb(more))
            .ok(),
        (Some(_), None) => None,
    };
    let kind = identity.as_ref().map(|i| i.stay_permit.kind()).or_else(|| {
        let docs = input.form.documents.as_ref()?;
        StayPermitKind::parse(text(&docs.stay_permit.as_ref()?.kind)?)
    });
    if let Some(kind) = kind {
        for slot in ImageSlot::required_for(kind) {
            if !input.images.contains(slot) {
                report.breach(
                    format!("images.{}", slot.as_str()),
                    Code::DocumentImageRequired,
                );
            }
        }
    }
    match (identity, bank_card) {
        (Some(identity), Some(bank_card)) if report.is_clean() => Ok(Submission {
            identity,
            bank_card,
            warnings: report.warnings,
        }),
        _ => Err(report),
    }
}

/// What the store knows of a card number from earlier applications (CONTRACT 2.6).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CardHistory {
    /// The bank returned an earlier payout to this card.
    pub returned_by_bank: bool,
    /// Another account's open or verified application holds this card.
    pub bound_to_another_account: bool,
}

impl CardHistory {
    pub fn check(self) -> Report {
        let mut report = Report::default();
        if self.returned_by_bank {
            report.breach("bank_card.card_number", Code::CardReturnedByBank);
        }
        if self.bound_to_another_account {
            report.breach("bank_card.card_number", Code::CardInUse);
        }
        report
    }
}

#[cfg(test)]
mod tests;
