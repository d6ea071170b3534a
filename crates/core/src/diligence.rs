//! The customer due diligence fields of CONTRACT 2.3: sex, occupation, residential address and
//! the PEP declaration. Each may be absent from a draft; a value that is there is checked at
//! once, and every one is required at submit.

use serde::{Deserialize, Serialize};

use crate::codes::Code;
use crate::report::Report;

/// The occupation as sent: a category and a job title.
#[derive(Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct OccupationForm {
    pub category: Option<String>,
    pub title: Option<String>,
}

/// The PEP declaration as sent. `declared` is absent when what was sent was not an object
/// with a boolean `declared`.
#[derive(Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct PepForm {
    pub declared: Option<bool>,
    pub role: Option<String>,
}

impl std::fmt::Debug for OccupationForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OccupationForm")
            .field("category", &self.category)
            .field("title", &self.title.as_ref().map(|_| "<sent>"))
            .finish()
    }
}

impl std::fmt::Debug for PepForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PepForm")
            .field("declared", &self.declared)
            .field("role", &self.role.as_ref().map(|_| "<sent>"))
            .finish()
    }
}

/// As the passport's sex field prints it: F, M or X.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    Female,
    Male,
    Unspecified,
}

impl Sex {
    pub const ALL: [Sex; 3] = [Sex::Female, Sex::Male, Sex::Unspecified];

    pub fn parse(text: &str) -> Option<Sex> {
        Sex::ALL.into_iter().find(|s| s.as_str() == text)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Sex::Female => "female",
            Sex::Male => "male",
            Sex::Unspecified => "unspecified",
        }
    }
}

macro_rules! categories {
    ($( $variant:ident = $code:literal ),* $(,)?) => {
        /// The occupation's category (CONTRACT 2.3).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(rename_all = "snake_case")]
        pub enum OccupationCategory { $( $variant, )* }

        impl OccupationCategory {
            pub const ALL: &'static [OccupationCategory] = &[ $( OccupationCategory::$variant, )* ];

            pub fn as_str(self) -> &'static str {
                match self { $( OccupationCategory::$variant => $code, )* }
            }
        }
    };
}

categories! {
    CivilServant = "civil_servant",
    Professional = "professional",
    OfficeWorker = "office_worker",
    BusinessOwner = "business_owner",
    ServiceWorker = "service_worker",
    Farmer = "farmer",
    ProductionWorker = "production_worker",
    Military = "military",
    Student = "student",
    Retired = "retired",
    Unemployed = "unemployed",
    Other = "other",
}

impl OccupationCategory {
    pub fn parse(text: &str) -> Option<OccupationCategory> {
        OccupationCategory::ALL
            .iter()
            .copied()
            .find(|c| c.as_str() == text)
    }
}

const TITLE_MAX: usize = 100;
const ADDRESS_MIN: usize = 5;
const ADDRESS_MAX: usize = 200;
const ROLE_MAX: usize = 200;

/// The occupation: a category and, required for `other`, the job title.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Occupation {
    pub category: OccupationCategory,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

impl std::fmt::Debug for Occupation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Occupation")
            .field("category", &self.category)
            .finish_non_exhaustive()
    }
}

/// A residential address in mainland China: 5–200 characters on one line.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Address(String);

impl std::fmt::Debug for Address {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Address(<masked>)")
    }
}

impl Address {
    pub fn parse(text: &str) -> Option<Address> {
        let text = text.trim();
        let length = text.chars().count();
        ((ADDRESS_MIN..=ADDRESS_MAX).contains(&length) && !text.chars().any(char::is_control))
            .then(|| Address(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What a user-facing answer shows (CONTRACT 8): the first 6 characters, then `***`.
    pub fn masked(&self) -> String {
        let mut shown: String = self.0.chars().take(6).collect();
        shown.push_str("***");
        shown
    }
}

/// Whether the applicant is, or is a family member or close associate of, a politically
/// exposed person; with the role when declared.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PepDeclaration {
    pub declared: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

impl std::fmt::Debug for PepDeclaration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PepDeclaration")
            .field("declared", &self.declared)
            .finish_non_exhaustive()
    }
}

/// The due diligence fields of an identity; each absent where the application was made before
/// them or the draft has not been given it yet. Its `Debug` says which are there, never what
/// they hold.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diligence {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sex: Option<Sex>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub occupation: Option<Occupation>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pep: Option<PepDeclaration>,
}

impl std::fmt::Debug for Diligence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let held = |present: bool| if present { "<held>" } else { "<absent>" };
        f.debug_struct("Diligence")
            .field("sex", &held(self.sex.is_some()))
            .field("occupation", &held(self.occupation.is_some()))
            .field("address", &held(self.address.is_some()))
            .field("pep", &held(self.pep.is_some()))
            .finish()
    }
}

/// The fields as sent, borrowed from the whole form.
pub struct DiligenceForm<'a> {
    pub sex: &'a Option<String>,
    pub occupation: &'a Option<OccupationForm>,
    pub address: &'a Option<String>,
    pub pep: &'a Option<PepForm>,
}

impl DiligenceForm<'_> {
    /// The submit's breaches for every field not sent (absent, null or blank); a field sent
    /// with a bad value is [`Diligence::check`]'s to report.
    pub fn require(&self, report: &mut Report) {
        if trimmed(self.sex).is_none() {
            report.breach("sex", Code::SexRequired);
        }
        if self.occupation.is_none() {
            report.breach("occupation", Code::OccupationRequired);
        }
        if trimmed(self.address).is_none() {
            report.breach("address", Code::AddressRequired);
        }
        if self.pep.is_none() {
            report.breach("pep", Code::PepDeclarationRequired);
        }
    }
}

fn trimmed(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

impl Diligence {
    /// Checks every field that was sent; an absent one stays absent. Breaches go to `report`.
    pub fn check(form: &DiligenceForm<'_>, report: &mut Report) -> Diligence {
        let sex = trimmed(form.sex).and_then(|t| {
            let sex = Sex::parse(t);
            if sex.is_none() {
                report.breach("sex", Code::SexInvalid);
            }
            sex
        });
        let occupation = form
            .occupation
            .as_ref()
            .and_then(|o| check_occupation(o, report));
        let address = trimmed(form.address).and_then(|t| {
            let address = Address::parse(t);
            if address.is_none() {
                report.breach("address", Code::AddressInvalid);
            }
            address
        });
        let pep = form.pep.as_ref().and_then(|p| check_pep(p, report));
        Diligence {
            sex,
            occupation,
            address,
            pep,
        }
    }

    pub fn is_complete(&self) -> bool {
        self.sex.is_some()
            && self.occupation.is_some()
            && self.address.is_some()
            && self.pep.is_some()
    }

    /// The fields as a form, for editing.
    pub fn to_form(
        &self,
    ) -> (
        Option<String>,
        Option<OccupationForm>,
        Option<String>,
        Option<PepForm>,
    ) {
        (
            self.sex.map(|s| s.as_str().to_owned()),
            self.occupation.as_ref().map(|o| OccupationForm {
                category: Some(o.category.as_str().to_owned()),
                title: o.title.clone(),
            }),
            self.address.as_ref().map(|a| a.as_str().to_owned()),
            self.pep.as_ref().map(|p| PepForm {
                declared: Some(p.declared),
                role: p.role.clone(),
            }),
        )
    }
}

fn check_occupation(form: &OccupationForm, report: &mut Report) -> Option<Occupation> {
    let Some(category) = trimmed(&form.category).and_then(OccupationCategory::parse) else {
        report.breach("occupation", Code::OccupationInvalid);
        return None;
    };
    let title = trimmed(&form.title);
    if title.is_some_and(|t| t.chars().count() > TITLE_MAX) {
        report.breach("occupation.title", Code::OccupationInvalid);
        return None;
    }
    if category == OccupationCategory::Other && title.is_none() {
        report.breach("occupation.title", Code::OccupationTitleRequired);
        return None;
    }
    Some(Occupation {
        category,
        title: title.map(str::to_owned),
    })
}

fn check_pep(form: &PepForm, report: &mut Report) -> Option<PepDeclaration> {
    let Some(declared) = form.declared else {
        report.breach("pep", Code::PepInvalid);
        return None;
    };
    if !declared {
        return Some(PepDeclaration {
            declared,
            role: None,
        });
    }
    match trimmed(&form.role) {
        None => {
            report.breach("pep.role", Code::PepRoleRequired);
            None
        }
        Some(role) if role.chars().count() > ROLE_MAX || role.chars().any(char::is_control) => {
            report.breach("pep.role", Code::PepInvalid);
            None
        }
        Some(role) => Some(PepDeclaration {
            declared,
            role: Some(role.to_owned()),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(form: DiligenceForm<'_>) -> (Diligence, Vec<(String, Code)>) {
        let mut report = Report::default();
        let checked = Diligence::check(&form, &mut report);
        let found = report
            .breaches
            .iter()
            .map(|b| (b.field.clone(), b.code))
            .collect();
        (checked, found)
    }

    fn some(text: &str) -> Option<String> {
        Some(text.to_owned())
    }

    #[test]
    fn absent_fields_stay_absent_until_submit() {
        let absent = DiligenceForm {
            sex: &None,
            occupation: &None,
            address: &None,
            pep: &None,
        };
        let (_, found) = codes(DiligenceForm { ..absent });
        assert!(found.is_empty());
        let mut report = Report::default();
        absent.require(&mut report);
        let required: Vec<Code> = report.breaches.iter().map(|b| b.code).collect();
        assert_eq!(
            required,
            [
                Code::SexRequired,
                Code::OccupationRequired,
                Code::AddressRequired,
                Code::PepDeclarationRequired
            ]
        );
    }

    #[test]
    fn each_bad_value_has_its_code() {
        let (_, found) = codes(DiligenceForm {
            sex: &some("F"),
            occupation: &Some(OccupationForm {
                category: some("astronaut"),
                title: None,
            }),
            address: &some("Bei"),
            pep: &Some(PepForm {
                declared: None,
                role: None,
            }),
        });
        assert_eq!(
            found,
            [
                ("sex".to_owned(), Code::SexInvalid),
                ("occupation".to_owned(), Code::OccupationInvalid),
                ("address".to_owned(), Code::AddressInvalid),
                ("pep".to_owned(), Code::PepInvalid),
            ]
        );
        let (_, found) = codes(DiligenceForm {
            sex: &None,
            occupation: &Some(OccupationForm {
                category: some("other"),
                title: some("  "),
            }),
            address: &some("1 Road\nBeijing"),
            pep: &Some(PepForm {
                declared: Some(true),
                role: None,
            }),
        });
        assert_eq!(
            found,
            [
                ("occupation.title".to_owned(), Code::OccupationTitleRequired),
                ("address".to_owned(), Code::AddressInvalid),
                ("pep.role".to_owned(), Code::PepRoleRequired),
            ]
        );
        let long = "x".repeat(101);
        let (_, found) = codes(DiligenceForm {
            sex: &None,
            occupation: &Some(OccupationForm {
                category: some("professional"),
                title: Some(long),
            }),
            address: &Some("路".repeat(201)),
            pep: &None,
        });
        assert_eq!(
            found,
            [
                ("occupation.title".to_owned(), Code::OccupationInvalid),
                ("address".to_owned(), Code::AddressInvalid),
            ]
        );
    }

    #[test]
    fn good_values_are_kept_and_masked_where_shown() {
        let (checked, found) = codes(DiligenceForm {
            sex: &some("unspecified"),
            occupation: &Some(OccupationForm {
                category: some("other"),
                title: some("Diving instructor"),
            }),
            address: &some(" 北京市朝阳区建国路 1 号 "),
            pep: &Some(PepForm {
                declared: Some(false),
                role: some("ignored when not declared"),
            }),
        });
        assert!(found.is_empty());
        assert!(checked.is_complete());
        let address = checked.address.as_ref().map(Address::masked);
        assert_eq!(address.as_deref(), Some("北京市朝阳区***"));
        assert_eq!(checked.pep.as_ref().and_then(|p| p.role.clone()), None);
        assert!(!format!("{checked:?}").contains("Diving"));
        assert!(!format!("{checked:?}").contains("北京"));
    }
}
