//! What the API takes: the request bodies as the OpenAPI document describes them, each turned
//! into the application layer's input. None derives `Debug`: they hold plain passport,
//! phone and card numbers and passwords. Every field is optional in Rust so that a missing one
//! is reported as a rule breach (422, with every other breach), not as a malformed body; the
//! document says which are required.

use realname_app::accounts::Credentials;
use realname_core::application::{ApplicationForm, DocumentsForm, PassportForm, StayPermitForm};
use realname_core::diligence::{OccupationForm, PepForm};
use realname_core::policy::BankCardForm;
use realname_core::review::DecisionForm;
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use utoipa::ToSchema;

/// A part of a body that the document calls an object, read only from an object (or null):
/// serde would otherwise also read a struct from an array of its fields' values.
fn object<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    match Value::deserialize(deserializer)? {
        Value::Null => Ok(None),
        value @ Value::Object(_) => serde_json::from_value(value)
            .map(Some)
            .map_err(serde::de::Error::custom),
        _ => Err(serde::de::Error::custom("expected an object")),
    }
}

/// The applicant's occupation (CONTRACT 2.3).
#[derive(Deserialize, ToSchema)]
pub struct OccupationBody {
    /// `civil_servant`, `professional`, `office_worker`, `business_owner`, `service_worker`,
    /// `farmer`, `production_worker`, `military`, `student`, `retired`, `unemployed` or
    /// `other`.
    #[schema(required = true, nullable = false)]
    pub category: Option<String>,
    /// The job title, 1–100 characters; required for `other`.
    pub title: Option<String>,
}

/// Whether the applicant is, or is a family member or close associate of, a person who holds
/// or held a prominent public function (CONTRACT 2.3).
#[derive(Deserialize, ToSchema)]
pub struct PepBody {
    #[schema(required = true, nullable = false)]
    pub declared: Option<bool>,
    /// The function and who holds or held it, 1–200 characters; required when declared.
    pub role: Option<String>,
}

/// The text a member of an object holds: `Ok(None)` when absent or null, `Err` when it is not
/// text.
fn member_text(object: &serde_json::Map<String, Value>, name: &str) -> Result<Option<String>, ()> {
    match object.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(_) => Err(()),
    }
}

/// The occupation, read from any JSON: a value that is not an object of texts is kept as one
/// without a category, which the rules answer with `occupation_invalid`, not a 400.
fn occupation<'de, D>(deserializer: D) -> Result<Option<OccupationBody>, D::Error>
where
    D: Deserializer<'de>,
{
    Ok(match Value::deserialize(deserializer)? {
        Value::Null => None,
        Value::Object(object) => Some(
            match (
                member_text(&object, "category"),
                member_text(&object, "title"),
            ) {
                (Ok(category), Ok(title)) => OccupationBody { category, title },
                _ => OccupationBody {
                    category: None,
                    title: None,
                },
            },
        ),
        _ => Some(OccupationBody {
            category: None,
            title: None,
        }),
    })
}

/// The PEP declaration, read from any JSON: anything but an object with a boolean `declared`
/// (and a text `role`, if any) is kept without `declared`, which the rules answer with
/// `pep_invalid`.
fn pep<'de, D>(deserializer: D) -> Result<Option<PepBody>, D::Error>
where
    D: Deserializer<'de>,
{
    let invalid = PepBody {
        declared: None,
        role: None,
    };
    Ok(match Value::deserialize(deserializer)? {
        Value::Null => None,
        Value::Object(object) => Some(
            match (object.get("declared"), member_text(&object, "role")) {
                (Some(Value::Bool(declared)), Ok(role)) => PepBody {
                    declared: Some(*declared),
                    role,
                },
                _ => invalid,
            },
        ),
        _ => Some(invalid),
    })
}

impl From<OccupationBody> for OccupationForm {
    fn from(b: OccupationBody) -> OccupationForm {
        OccupationForm {
            category: b.category,
            title: b.title,
        }
    }
}

impl From<PepBody> for PepForm {
    fn from(b: PepBody) -> PepForm {
        PepForm {
            declared: b.declared,
            role: b.role,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"login": "anna@example.com", "password": "correct horse"}))]
pub struct CredentialsBody {
    /// An e-mail address or a phone number (staff: also a plain name).
    #[schema(required = true, nullable = false, min_length = 1)]
    pub login: Option<String>,
    #[schema(required = true, nullable = false, min_length = 1)]
    pub password: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"login": "anna@example.com", "password": "correct horse"}))]
pub struct SignInBody {
    /// An e-mail address or a phone number (staff: also a plain name).
    #[schema(required = true, nullable = false, min_length = 1)]
    pub login: Option<String>,
    #[schema(required = true, nullable = false, min_length = 1)]
    pub password: Option<String>,
    /// Staff only: the current 6-digit code of their second factor (RFC 6238).
    #[schema(nullable = false, pattern = "^[0-9]{6}$")]
    pub totp: Option<String>,
}

impl From<CredentialsBody> for Credentials {
    fn from(body: CredentialsBody) -> Credentials {
        Credentials {
            login: body.login,
            password: body.password,
        }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct PassportBody {
    /// 5–20 letters and digits.
    #[schema(nullable = false)]
    pub number: Option<String>,
    /// `YYYY-MM-DD`.
    #[schema(nullable = false)]
    pub expiry_date: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct StayPermitBody {
    /// `entry_record`, `residence_permit` or `permanent_residence_card`.
    #[schema(required = true, nullable = false)]
    pub kind: Option<String>,
    /// For a residence permit or a permanent residence card.
    pub number: Option<String>,
    /// `YYYY-MM-DD`, for a residence permit or a permanent residence card.
    pub expiry_date: Option<String>,
    /// `YYYY-MM-DD`, for an entry record.
    pub entry_date: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct DocumentsBody {
    /// Required unless the proof of stay is the permanent residence card.
    #[serde(default, deserialize_with = "object")]
    pub passport: Option<PassportBody>,
    /// Required; in a patch, absent or null keeps the stored one.
    #[serde(default, deserialize_with = "object")]
    pub stay_permit: Option<StayPermitBody>,
}

impl From<DocumentsBody> for DocumentsForm {
    fn from(d: DocumentsBody) -> DocumentsForm {
        DocumentsForm {
            passport: d.passport.map(|p| PassportForm {
                number: p.number,
                expiry_date: p.expiry_date,
            }),
            stay_permit: d.stay_permit.map(|s| StayPermitForm {
                kind: s.kind,
                number: s.number,
                expiry_date: s.expiry_date,
                entry_date: s.entry_date,
            }),
        }
    }
}

/// A new application: consent and the whole identity.
#[derive(Deserialize, ToSchema)]
#[schema(as = ApplicationForm)]
#[schema(example = json!({
    "consent": true, "real_name": "John Smith", "nationality": "USA",
    "date_of_birth": "1990-05-17", "phone": "13800138000",
    "documents": {"passport": {"number": "E12345678", "expiry_date": "2034-01-01"},
                  "stay_permit": {"kind": "entry_record", "entry_date": "2026-01-10"}},
    "sex": "male", "occupation": {"category": "office_worker", "title": "Accountant"},
    "address": "Room 1201, 88 Jianguo Road, Chaoyang District, Beijing",
    "pep": {"declared": false}}))]
pub struct NewApplicationBody {
    /// Separate consent to processing sensitive personal information (PIPL): must be true.
    #[schema(required = true, nullable = false)]
    pub consent: Option<bool>,
    #[schema(required = true, nullable = false)]
    pub real_name: Option<String>,
    /// ISO 3166-1 alpha-3 of a foreign state.
    #[schema(required = true, nullable = false)]
    pub nationality: Option<String>,
    /// `YYYY-MM-DD`; 18 full years on the day of submission.
    #[schema(required = true, nullable = false)]
    pub date_of_birth: Option<String>,
    /// A mainland mobile, or `+` and the international code.
    #[schema(required = true, nullable = false)]
    pub phone: Option<String>,
    #[schema(required = true, nullable = false)]
    #[serde(default, deserialize_with = "object")]
    pub documents: Option<DocumentsBody>,
    /// `female`, `male` or `unspecified`, as the passport's sex field F / M / X. May be left
    /// out of a draft (absent or null; in a patch, the stored value stays); required at submit.
    pub sex: Option<String>,
    /// May be left out of a draft, as `sex`; required at submit.
    #[serde(default, deserialize_with = "occupation")]
    pub occupation: Option<OccupationBody>,
    /// The residential address in mainland China, 5–200 characters. May be left out of a
    /// draft, as `sex`; required at submit.
    #[schema(min_length = 5, max_length = 200)]
    pub address: Option<String>,
    /// May be left out of a draft, as `sex`; required at submit.
    #[serde(default, deserialize_with = "pep")]
    pub pep: Option<PepBody>,
}

impl From<NewApplicationBody> for ApplicationForm {
    fn from(b: NewApplicationBody) -> ApplicationForm {
        ApplicationForm {
            consent: b.consent,
            real_name: b.real_name,
            nationality: b.nationality,
            date_of_birth: b.date_of_birth,
            phone: b.phone,
            documents: b.documents.map(Into::into),
            sex: b.sex,
            occupation: b.occupation.map(Into::into),
            address: b.address,
            pep: b.pep.map(Into::into),
        }
    }
}

/// Fields present replace the stored ones; `documents.passport` and `documents.stay_permit`
/// are replaced as wholes.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"phone": "+852-9123-4567"}))]
pub struct ApplicationPatchBody {
    pub real_name: Option<String>,
    pub nationality: Option<String>,
    pub date_of_birth: Option<String>,
    pub phone: Option<String>,
    #[serde(default, deserialize_with = "object")]
    pub documents: Option<DocumentsBody>,
    /// `female`, `male` or `unspecified`, as the passport's sex field F / M / X. May be left
    /// out of a draft (absent or null; in a patch, the stored value stays); required at submit.
    pub sex: Option<String>,
    /// May be left out of a draft, as `sex`; required at submit.
    #[serde(default, deserialize_with = "occupation")]
    pub occupation: Option<OccupationBody>,
    /// The residential address in mainland China, 5–200 characters. May be left out of a
    /// draft, as `sex`; required at submit.
    #[schema(min_length = 5, max_length = 200)]
    pub address: Option<String>,
    /// May be left out of a draft, as `sex`; required at submit.
    #[serde(default, deserialize_with = "pep")]
    pub pep: Option<PepBody>,
}

impl From<ApplicationPatchBody> for ApplicationForm {
    fn from(b: ApplicationPatchBody) -> ApplicationForm {
        ApplicationForm {
            consent: None,
            real_name: b.real_name,
            nationality: b.nationality,
            date_of_birth: b.date_of_birth,
            phone: b.phone,
            documents: b.documents.map(Into::into),
            sex: b.sex,
            occupation: b.occupation.map(Into::into),
            address: b.address,
            pep: b.pep.map(Into::into),
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[schema(as = BankCardForm)]
#[schema(example = json!({"bank": "ICBC", "card_number": "6222020000000000018",
    "card_type": "savings", "account_type": "current", "account_name": "John Smith"}))]
pub struct BankCardBody {
    /// The bank's code in the policy: `ICBC`, `CMB`, …
    #[schema(required = true, nullable = false)]
    pub bank: Option<String>,
    /// 16–19 digits; spaces are ignored.
    #[schema(required = true, nullable = false)]
    pub card_number: Option<String>,
    /// Only `savings` can be bound.
    #[schema(required = true, nullable = false)]
    pub card_type: Option<String>,
    /// `current` or `fixed`.
    #[schema(required = true, nullable = false)]
    pub account_type: Option<String>,
    /// Must be the real name.
    #[schema(required = true, nullable = false)]
    pub account_name: Option<String>,
}

impl From<BankCardBody> for BankCardForm {
    fn from(b: BankCardBody) -> BankCardForm {
        BankCardForm {
            bank: b.bank,
            card_number: b.card_number,
            card_type: b.card_type,
            account_type: b.account_type,
            account_name: b.account_name,
        }
    }
}

/// Yuan as on the statement: `0.37`, `.37`, `0.37元`; a number is read the same way.
#[derive(Deserialize, ToSchema)]
#[serde(untagged)]
pub enum AmountInput {
    Text(String),
    Number(f64),
}

/// The amount read from the bank statement.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"amount": "0.37"}))]
pub struct AmountBody {
    #[schema(required = true)]
    pub amount: Option<AmountInput>,
}

impl AmountBody {
    pub fn text(&self) -> String {
        match &self.amount {
            Some(AmountInput::Text(s)) => s.clone(),
            Some(AmountInput::Number(n)) => n.to_string(),
            None => String::new(),
        }
    }
}

#[derive(Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeName {
    Approve,
    Reject,
}

/// A reviewer's decision.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"outcome": "reject", "reason": "document_unreadable", "note": "glare on the photo page"}))]
pub struct DecisionBody {
    /// `approve` or `reject`.
    #[schema(required = true, nullable = false, value_type = OutcomeName)]
    pub outcome: Option<String>,
    /// With `reject`: `document_unreadable`, `document_page_missing`, `document_invalid`,
    /// `document_expired`, `identity_mismatch`, `name_mismatch`, `under_age`,
    /// `duplicate_identity`, `suspected_fraud` or `other` (which needs a note).
    pub reason: Option<String>,
    /// Internal: kept for the audit, never shown to the user.
    pub note: Option<String>,
}

#[derive(Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ScreeningOutcomeName {
    Dismiss,
    Confirm,
    Lift,
}

/// A reviewer's decision of a screening case (CONTRACT 12).
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"outcome": "dismiss", "note": "another date of birth and nationality; the listed person is 30 years older"}))]
pub struct ScreeningDecisionBody {
    /// `dismiss` (not the listed person; needs a note), `confirm` (the listed person) or
    /// `lift` (an admin, after delisting).
    #[schema(required = true, nullable = false, value_type = ScreeningOutcomeName)]
    pub outcome: Option<String>,
    /// Internal: kept for the audit, never shown to the user.
    pub note: Option<String>,
    /// With `confirm`: the reference of the report made to the authorities, kept with the case.
    pub report_reference: Option<String>,
}

impl From<DecisionBody> for DecisionForm {
    fn from(b: DecisionBody) -> DecisionForm {
        DecisionForm {
            outcome: b.outcome,
            reason: b.reason,
            note: b.note,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"seconds": 86400}))]
pub struct AdvanceBody {
    /// From 0 (run only what is due) to 315 360 000 (3,650 days).
    #[schema(required = true, value_type = i64, minimum = 0, maximum = 315_360_000)]
    pub seconds: Option<Value>,
}

/// A session for one of the platform's users.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"external_user_id": "ext-42", "return_url": "https://pay.example.com/verified",
    "locale": "en", "metadata": {"order": "7"}}))]
pub struct PlatformSessionBody {
    /// The platform's own opaque id of its user: 1–128 printable ASCII characters, no spaces.
    #[schema(required = true, nullable = false)]
    pub external_user_id: Option<String>,
    /// An absolute URL on one of `platform.return_origins`.
    pub return_url: Option<String>,
    /// `zh-CN` or `en`.
    pub locale: Option<String>,
    /// `verification` (default): the journey; `renewal`: the renewal of a verification.
    #[schema(pattern = "^(verification|renewal)$")]
    pub purpose: Option<String>,
    /// At most 20 string pairs; keys ≤ 40 characters, values ≤ 500. Returned as given.
    #[schema(value_type = Option<std::collections::HashMap<String, String>>)]
    pub metadata: Option<Value>,
}

impl From<PlatformSessionBody> for realname_app::platform::sessions::SessionRequest {
    fn from(b: PlatformSessionBody) -> Self {
        realname_app::platform::sessions::SessionRequest {
            external_user_id: b.external_user_id,
            return_url: b.return_url,
            locale: b.locale,
            purpose: b.purpose,
            metadata: b.metadata,
        }
    }
}

/// A webhook endpoint to make, or what to change of one.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"url": "https://pay.example.com/hooks/realname", "events": ["*"],
    "description": "checkout"}))]
pub struct EndpointBody {
    /// `https://`, or `http://` into a network of `webhooks.allow_cidrs`.
    pub url: Option<String>,
    /// Event types, or `["*"]` for every type.
    pub events: Option<Vec<String>>,
    pub description: Option<String>,
    /// Only `enabled` (to re-enable an endpoint a 410 disabled).
    pub status: Option<String>,
}

impl From<EndpointBody> for realname_app::platform::webhooks::EndpointRequest {
    fn from(b: EndpointBody) -> Self {
        realname_app::platform::webhooks::EndpointRequest {
            url: b.url,
            events: b.events,
            description: b.description,
            status: b.status,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"expire_current_after_seconds": 86400}))]
pub struct RotateBody {
    /// How long the current secret keeps signing beside the new one (default 86 400).
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 604_800)]
    pub expire_current_after_seconds: Option<Value>,
}

impl RotateBody {
    /// The seconds, when they are a whole number (JSON Schema counts `60.0` as one too);
    /// `malformed_request` for anything else.
    pub fn seconds(&self) -> Result<Option<i64>, realname_app::AppError> {
        let malformed = || {
            realname_app::AppError::malformed(
                "expire_current_after_seconds must be a whole number.",
                "expire_current_after_seconds 必须是整数。",
            )
        };
        match &self.expire_current_after_seconds {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => n
                .as_i64()
                .or_else(|| {
                    n.as_f64()
                        .filter(|f| f.fract() == 0.0 && f.abs() < 1e15)
                        .map(|f| f as i64)
                })
                .map(Some)
                .ok_or_else(malformed),
            Some(_) => Err(malformed()),
        }
    }
}
