//! The JSON shapes of applications and review cases. Users see their data masked; reviewers
//! see it whole.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use realname_core::application::{ApplicationForm, Identity, check_identity};
use realname_core::card::{AccountType, CardNumber, CardType};
use realname_core::deposit::DepositRules;
use realname_core::diligence::{OccupationCategory, Sex};
use realname_core::documents::{
    DocumentNumber, ImageSlot, StayPermit, StayPermitKind, mask_middle,
};
use realname_core::name::RealName;
use realname_core::phone::Phone;
use realname_core::policy::{BankCard, BankCardForm, Policy};
use realname_core::ports::SealContext;
use realname_core::state::{Failure, Stage, Status};
use realname_core::store::{ApplicationRecord, CaseKind, CaseRecord};
use realname_core::{Breach, Code};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::Service;
use crate::error::AppError;

pub fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// An application's decrypted parts: the identity and the card as they were checked.
pub struct Opened {
    pub identity: Identity,
    pub card: Option<BankCard>,
}

impl Opened {
    /// The identity as a form, for editing it.
    pub fn form(&self) -> ApplicationForm {
        self.identity.to_form()
    }

    pub fn card_form(&self) -> Option<BankCardForm> {
        self.card.as_ref().map(BankCard::to_form)
    }
}

/// The sealed identity of an application. Applications sealed before the stored model was
/// the validated one hold the form as sent; it was valid on the day it was last changed, and
/// is checked again as of that day.
pub fn decode_identity(bytes: &[u8], checked_on: NaiveDate) -> Result<Identity, AppError> {
    if let Ok(identity) = serde_json::from_slice::<Identity>(bytes) {
        return Ok(identity);
    }
    let form: ApplicationForm =
        serde_json::from_slice(bytes).map_err(|e| AppError::internal("stored identity", e))?;
    check_identity(&form, checked_on)
        .map(|checked| checked.value)
        .map_err(|_| AppError::internal("stored identity", "no longer passes its rules"))
}

/// The sealed card of an application; one sealed as the form it was sent in (before the
/// stored model was the validated one) is read field by field, as it was accepted.
fn decode_card(bytes: &[u8]) -> Result<BankCard, AppError> {
    if let Ok(card) = serde_json::from_slice::<BankCard>(bytes) {
        return Ok(card);
    }
    let form: BankCardForm =
        serde_json::from_slice(bytes).map_err(|e| AppError::internal("stored card", e))?;
    let unreadable = || AppError::internal("stored card", "a field does not parse");
    Ok(BankCard {
        bank: form.bank.ok_or_else(unreadable)?,
        card_number: form
            .card_number
            .as_deref()
            .and_then(CardNumber::parse)
            .ok_or_else(unreadable)?,
        card_type: form
            .card_type
            .as_deref()
            .and_then(CardType::parse)
            .ok_or_else(unreadable)?,
        account_type: form
            .account_type
            .as_deref()
            .and_then(AccountType::parse)
            .ok_or_else(unreadable)?,
        account_name: form
            .account_name
            .as_deref()
            .and_then(|n| RealName::parse(n).ok())
            .ok_or_else(unreadable)?,
    })
}

/// The application's identity and card, opened; `None` once they were erased (CONTRACT 11):
/// every answer, page and case then shows null where they were.
pub fn open(state: &Service, app: &ApplicationRecord) -> Result<Option<Opened>, AppError> {
    if app.redacted_at.is_some() {
        return Ok(None);
    }
    let bytes = state.open(SealContext::ApplicationForm(app.id), &app.form)?;
    let identity = decode_identity(&bytes, app.updated_at.date_naive())?;
    let card = match &app.card {
        Some(stored) => {
            let bytes = state.open(SealContext::ApplicationCard(app.id), &stored.sealed)?;
            Some(decode_card(&bytes)?)
        }
        None => None,
    };
    Ok(Some(Opened { identity, card }))
}

/// The identity and card of an application that must still hold them (a draft being edited
/// or submitted, a deposit being paid): `invalid_state` once they were erased.
pub fn open_kept(state: &Service, app: &ApplicationRecord) -> Result<Opened, AppError> {
    open(state, app)?.ok_or_else(|| AppError::new(realname_core::Code::InvalidState))
}

/// `[{field, code}]` as stored → the warnings with both messages.
pub fn warnings(stored: &str) -> Vec<BreachView> {
    let pairs: Vec<(String, String)> = serde_json::from_str(stored).unwrap_or_default();
    pairs
        .into_iter()
        .filter_map(|(field, code)| Code::parse(&code).map(|c| Breach::new(field, c)))
        .map(|b| BreachView::of(&b))
        .collect()
}

pub fn encode_warnings(warnings: &[Breach]) -> String {
    let pairs: Vec<(&str, &str)> = warnings
        .iter()
        .map(|b| (b.field.as_str(), b.code.as_str()))
        .collect();
    serde_json::to_string(&pairs).unwrap_or_else(|_| "[]".into())
}

/// `1990-**-**`: the year alone.
pub fn masked_date(date: &str) -> String {
    format!("{}-**-**", date.get(..4).unwrap_or(""))
}

/// `+86 138****8000`, or the first and last two characters of what cannot be parsed.
pub fn masked_phone(phone: &str) -> String {
    Phone::mask_stored(phone).unwrap_or_else(|| mask_middle(phone, 2, 2))
}

/// A document number's first and last two characters (CONTRACT 8).
pub fn masked_number(number: &str) -> String {
    mask_middle(&number.trim().to_uppercase(), 2, 2)
}

fn documents(identity: &Identity, reveal: bool) -> DocumentsView {
    let number = |n: &DocumentNumber| {
        if reveal {
            n.expose().to_owned()
        } else {
            n.masked()
        }
    };
    let stay = &identity.stay_permit;
    let entry_date = match stay {
        StayPermit::EntryRecord { entry_date } => Some(*entry_date),
        _ => None,
    };
    DocumentsView {
        passport: identity.passport.as_ref().map(|p| PassportView {
            number: Some(number(&p.number)),
            expiry_date: Some(p.expiry_date),
        }),
        stay_permit: Some(StayPermitView {
            kind: Some(stay.kind()),
            number: stay.number().map(number),
            expiry_date: stay.expiry_date(),
            entry_date,
        }),
    }
}

fn bank_card(policy: &Policy, card: Option<&BankCard>, reveal: bool) -> Option<BankCardView> {
    let card = card?;
    let bank = policy.bank(&card.bank);
    Some(BankCardView {
        bank_name: bank.map(|b| b.name.clone()),
        bank_name_zh: bank.map(|b| b.name_zh.clone()),
        bank: card.bank.clone(),
        card_last4: Some(card.card_number.last4().to_owned()),
        card_type: Some(card.card_type),
        account_type: Some(card.account_type),
        card_number: reveal.then(|| card.card_number.expose().to_owned()),
        account_name: reveal.then(|| card.account_name.as_str().to_owned()),
    })
}

/// The application as its owner sees it: personal data masked, no deposit amount.
pub fn application(state: &Service, app: &ApplicationRecord) -> Result<ApplicationView, AppError> {
    let opened = open(state, app)?;
    Ok(render(state, app, opened.as_ref(), false))
}

/// The application as a view; `opened` is `None` once its personal data was erased, and
/// those fields are null.
pub fn render(
    state: &Service,
    app: &ApplicationRecord,
    opened: Option<&Opened>,
    reveal: bool,
) -> ApplicationView {
    let identity = opened.map(|o| &o.identity);
    let rules: &DepositRules = &state.settings.deposit;
    let deposit = app.deposit.as_ref().map(|d| DepositView {
        status: if d.settled_at.is_some() {
            DepositStatus::Settled
        } else if d.paid_at.is_some() {
            DepositStatus::Paid
        } else {
            DepositStatus::Scheduled
        },
        paid_at: d.paid_at.map(Timestamp),
        settled_at: d.settled_at.map(Timestamp),
        attempts_remaining: rules.attempts_remaining(d.attempts_used),
        expires_at: d.expires_at.map(Timestamp),
    });
    let images = app
        .images
        .iter()
        .filter_map(|i| {
            Some(ImageView {
                slot: ImageSlot::parse(&i.slot)?,
                content_type: i.content_type.clone(),
                bytes: i.bytes,
                sha256: i.sha256.clone(),
            })
        })
        .collect();
    ApplicationView {
        id: app.id,
        status: app.status,
        real_name: identity.map(|i| i.real_name.as_str().to_owned()),
        nationality: identity.map(|i| i.nationality.code().to_owned()),
        date_of_birth: identity.map(|i| {
            if reveal {
                i.date_of_birth.date().to_string()
            } else {
                i.date_of_birth.masked()
            }
        }),
        phone: identity.map(|i| {
            if reveal {
                i.phone.e164().to_owned()
            } else {
                i.phone.masked()
            }
        }),
        documents: match identity {
            Some(i) => documents(i, reveal),
            None => DocumentsView {
                passport: None,
                stay_permit: None,
            },
        },
        images,
        bank_card: bank_card(&state.policy, opened.and_then(|o| o.card.as_ref()), reveal),
        warnings: warnings(&app.warnings),
        deposit,
        failure: app.failure.as_ref().map(FailureView::of),
        events: app
            .events
            .iter()
            .map(|e| EventView {
                status: e.status,
                at: Timestamp(e.at),
            })
            .collect(),
        created_at: Timestamp(app.created_at),
        updated_at: Timestamp(app.updated_at),
        redacted_at: app.redacted_at.map(Timestamp),
        kind: ApplicationKind::Application,
        renews: None,
        valid_until: identity
            .filter(|_| app.status == Status::Verified)
            .and_then(Identity::earliest_expiry),
        sex: identity.and_then(|i| i.diligence.sex),
        occupation: identity
            .and_then(|i| i.diligence.occupation.as_ref())
            .map(|o| OccupationView {
                category: o.category,
                title: o.title.clone(),
            }),
        address: identity
            .and_then(|i| i.diligence.address.as_ref())
            .map(|a| {
                if reveal {
                    a.as_str().to_owned()
                } else {
                    a.masked()
                }
            }),
        pep: identity
            .and_then(|i| i.diligence.pep.as_ref())
            .map(|p| PepView {
                declared: p.declared,
                role: p.role.clone(),
            }),
    }
}

/// An application's identity and card, whole: for a platform key that may read them.
pub fn identity(state: &Service, opened: &Opened) -> IdentityView {
    let identity = &opened.identity;
    IdentityView {
        real_name: identity.real_name.as_str().to_owned(),
        nationality: identity.nationality.code().to_owned(),
        date_of_birth: identity.date_of_birth.date(),
        phone: identity.phone.e164().to_owned(),
        documents: documents(identity, true),
        bank_card: bank_card(&state.policy, opened.card.as_ref(), true),
    }
}

pub fn case_status(case: &CaseRecord, now: DateTime<Utc>) -> CaseStatus {
    if case.decided_at.is_some() && case.reopened_at.is_none() {
        CaseStatus::Decided
    } else if case.claimant_at(now).is_some() {
        CaseStatus::Claimed
    } else if case.reopened_at.is_some() {
        CaseStatus::Delisted
    } else if case.first.is_some() {
        CaseStatus::AwaitingSecondApproval
    } else {
        CaseStatus::Open
    }
}

pub fn case_summary(case: &CaseRecord, now: DateTime<Utc>, flags: &[Flag]) -> CaseView {
    let status = case_status(case, now);
    let claimed = status == CaseStatus::Claimed;
    CaseView {
        id: case.id,
        verification_id: case.application_id,
        status,
        submitted_at: Timestamp(case.submitted_at),
        due_at: Timestamp(case.due_at),
        overdue: case.decided_at.is_none() && case.due_at < now,
        claimed_by: case.claimed_by.filter(|_| claimed),
        claimed_until: case.claimed_until.filter(|_| claimed).map(Timestamp),
        decided_at: case.decided_at.map(Timestamp),
        outcome: case.outcome.as_deref().and_then(CaseOutcome::parse),
        flags: flags.to_vec(),
        kind: match case.kind {
            CaseKind::Application => CaseKindName::Application,
            CaseKind::Screening => CaseKindName::Screening,
            CaseKind::Periodic => CaseKindName::Periodic,
        },
        first_approval: case.first.as_ref().map(|f| FirstApproval {
            by: f.by,
            at: Timestamp(f.at),
        }),
    }
}

/// A time as the API writes it: RFC 3339, UTC, whole seconds (`2026-11-26T08:00:00Z`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp(pub DateTime<Utc>);

impl Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&time(self.0))
    }
}

impl utoipa::PartialSchema for Timestamp {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
            .examples([serde_json::json!("2026-11-26T08:00:00Z")])
            .into()
    }
}

impl utoipa::ToSchema for Timestamp {}

/// A breach of a rule, or a warning: its field, its stable code and both messages.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BreachView {
    /// The field's path in the request, e.g. `documents.passport.number`.
    pub field: String,
    /// A stable snake_case code from the catalogue.
    pub code: Code,
    pub message: String,
    pub message_zh: String,
}

impl BreachView {
    pub fn of(breach: &Breach) -> BreachView {
        BreachView {
            field: breach.field.clone(),
            code: breach.code,
            message: breach.message_en(),
            message_zh: breach.message_zh(),
        }
    }
}

/// An application as its owner sees it (personal data masked), or as a reviewer sees it
/// (whole). It and its parts do not derive `Debug`: a reviewer's view holds plain numbers.
#[derive(Clone, Serialize, ToSchema)]
pub struct ApplicationView {
    pub id: Uuid,
    pub status: Status,
    pub real_name: Option<String>,
    /// ISO 3166-1 alpha-3.
    pub nationality: Option<String>,
    /// `1990-**-**` for the owner; the whole date for a reviewer.
    pub date_of_birth: Option<String>,
    /// `+86 138****8000` for the owner; E.164 (`+8613800138000`) for a reviewer.
    pub phone: Option<String>,
    pub documents: DocumentsView,
    pub images: Vec<ImageView>,
    pub bank_card: Option<BankCardView>,
    pub warnings: Vec<BreachView>,
    /// The micro-deposit; its amount is never shown.
    pub deposit: Option<DepositView>,
    pub failure: Option<FailureView>,
    pub events: Vec<EventView>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// When its personal data was erased (CONTRACT 11): the name, the documents, the images,
    /// the card, the phone and the date of birth are then null.
    pub redacted_at: Option<Timestamp>,
    /// `application`, or `renewal` for one that renews a verification (CONTRACT 13).
    pub kind: ApplicationKind,
    /// The id of the application a renewal renews; null otherwise.
    pub renews: Option<Uuid>,
    /// Once verified: the last day its documents are valid (China time), `YYYY-MM-DD`.
    pub valid_until: Option<NaiveDate>,
    /// As the passport's sex field F / M / X (CONTRACT 2.3); null where the application was
    /// made before it was asked.
    pub sex: Option<Sex>,
    pub occupation: Option<OccupationView>,
    /// The residential address in mainland China: masked for the owner (its first 6
    /// characters, then `***`), whole for a reviewer.
    pub address: Option<String>,
    /// Whether the applicant declared being a politically exposed person.
    pub pep: Option<PepView>,
}

/// What an application is for (CONTRACT 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApplicationKind {
    Application,
    Renewal,
}

/// The applicant's occupation (CONTRACT 2.3).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OccupationView {
    pub category: OccupationCategory,
    /// Free text of 1–100 characters; required for `other`.
    pub title: Option<String>,
}

/// A customer's risk grade with the factors that made it (CONTRACT 14).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CaseRiskView {
    pub grade: realname_core::risk::Grade,
    pub score: u32,
    pub factors: Vec<RiskFactorView>,
    /// The risk policy's `version` it was graded under.
    pub policy_version: String,
    pub graded_at: Timestamp,
    /// When the grade's periodic review falls due; null for a grade reviewed at renewal.
    pub next_review_at: Option<Timestamp>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RiskFactorView {
    pub code: realname_core::risk::Factor,
    pub points: u32,
    pub label: &'static str,
    pub label_zh: &'static str,
}

impl CaseRiskView {
    pub fn of(grade: &realname_core::store::RiskGradeRecord) -> CaseRiskView {
        CaseRiskView {
            grade: grade.grade,
            score: grade.score,
            factors: grade
                .factors
                .iter()
                .map(|(factor, points)| RiskFactorView {
                    code: *factor,
                    points: *points,
                    label: factor.label_en(),
                    label_zh: factor.label_zh(),
                })
                .collect(),
            policy_version: grade.policy_version.clone(),
            graded_at: Timestamp(grade.graded_at),
            next_review_at: grade.next_review_at.map(Timestamp),
        }
    }
}

/// The applicant's declaration about prominent public functions (CONTRACT 2.3).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PepView {
    pub declared: bool,
    /// The function held, required when declared.
    pub role: Option<String>,
}

/// The identity of an application, unmasked (`?expand=identity`). No `Debug`: it is all
/// plain personal data.
#[derive(Clone, Serialize, ToSchema)]
pub struct IdentityView {
    pub real_name: String,
    /// ISO 3166-1 alpha-3.
    pub nationality: String,
    pub date_of_birth: NaiveDate,
    /// E.164.
    pub phone: String,
    pub documents: DocumentsView,
    pub bank_card: Option<BankCardView>,
}

#[derive(Clone, Serialize, ToSchema)]
pub struct DocumentsView {
    pub passport: Option<PassportView>,
    pub stay_permit: Option<StayPermitView>,
}

#[derive(Clone, Serialize, ToSchema)]
pub struct PassportView {
    /// The first and last two characters for the owner (`E1*****78`).
    pub number: Option<String>,
    pub expiry_date: Option<NaiveDate>,
}

#[derive(Clone, Serialize, ToSchema)]
pub struct StayPermitView {
    pub kind: Option<StayPermitKind>,
    /// Residence permits and permanent residence cards have one; entry records do not.
    pub number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiry_date: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entry_date: Option<NaiveDate>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ImageView {
    pub slot: ImageSlot,
    /// `image/jpeg`, `image/png` or `application/pdf`, judged by content.
    pub content_type: String,
    pub bytes: u64,
    /// Hex SHA-256 of the bytes as uploaded.
    pub sha256: String,
}

#[derive(Clone, Serialize, ToSchema)]
pub struct BankCardView {
    /// The bank's code in the policy (`ICBC`, `CMB`, …).
    pub bank: String,
    pub bank_name: Option<String>,
    pub bank_name_zh: Option<String>,
    pub card_last4: Option<String>,
    pub card_type: Option<CardType>,
    pub account_type: Option<AccountType>,
    /// The whole number: for a reviewer only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub card_number: Option<String>,
    /// For a reviewer only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_name: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DepositStatus {
    /// Waiting to be handed to the bank.
    Scheduled,
    /// Handed to the bank, not yet on the card.
    Paid,
    /// On the card: the user can read the amount on the statement.
    Settled,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DepositView {
    pub status: DepositStatus,
    pub paid_at: Option<Timestamp>,
    pub settled_at: Option<Timestamp>,
    pub attempts_remaining: u32,
    /// The confirmation deadline, once the deposit is on the card.
    pub expires_at: Option<Timestamp>,
}

/// Why an application failed, as the user sees it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FailureView {
    pub code: Code,
    pub stage: Stage,
    /// Whether the account may apply again.
    pub can_retry: bool,
    pub message: String,
    pub message_zh: String,
    /// The bank's ISO 20022 reason, with `deposit_returned`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bank_reason: Option<String>,
}

impl FailureView {
    pub fn of(failure: &Failure) -> FailureView {
        FailureView {
            code: failure.code,
            stage: failure.stage,
            can_retry: failure.can_retry,
            message: failure.message_en(),
            message_zh: failure.message_zh(),
            bank_reason: failure.bank_reason.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventView {
    pub status: Status,
    pub at: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    Open,
    Claimed,
    AwaitingSecondApproval,
    Delisted,
    Decided,
}

/// What a case is about (CONTRACT 2.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CaseKindName {
    Application,
    Screening,
    Periodic,
}

/// The first of a case's two decisions, while it awaits the second.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FirstApproval {
    pub by: Uuid,
    pub at: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CaseOutcome {
    Approve,
    Reject,
    /// Closed without a decision: the bank returned the deposit while it was under review.
    Closed,
    /// A screening case: not the listed person.
    Dismiss,
    /// A screening case: the listed person.
    Confirm,
}

impl CaseOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            CaseOutcome::Approve => "approve",
            CaseOutcome::Reject => "reject",
            CaseOutcome::Closed => "closed",
            CaseOutcome::Dismiss => "dismiss",
            CaseOutcome::Confirm => "confirm",
        }
    }

    pub fn parse(text: &str) -> Option<CaseOutcome> {
        [
            CaseOutcome::Approve,
            CaseOutcome::Reject,
            CaseOutcome::Closed,
            CaseOutcome::Dismiss,
            CaseOutcome::Confirm,
        ]
        .into_iter()
        .find(|o| o.as_str() == text)
    }
}

pub use realname_core::review::Flag;

/// A review case in the queue.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CaseView {
    pub id: Uuid,
    pub verification_id: Uuid,
    pub status: CaseStatus,
    pub submitted_at: Timestamp,
    /// After the service level (2 days by default).
    pub due_at: Timestamp,
    pub overdue: bool,
    /// The reviewer holding the claim, while it holds.
    pub claimed_by: Option<Uuid>,
    pub claimed_until: Option<Timestamp>,
    pub decided_at: Option<Timestamp>,
    pub outcome: Option<CaseOutcome>,
    pub flags: Vec<Flag>,
    pub kind: CaseKindName,
    /// While the case awaits its second approval: who decided first, and when.
    pub first_approval: Option<FirstApproval>,
}

/// An event of the feed, as webhooks deliver it too: thin, with no personal data.
#[derive(Serialize, ToSchema)]
pub struct PlatformEventView {
    /// `evt_…`; the same on every delivery of this event (`webhook-id`).
    pub id: String,
    /// Always `event`.
    pub object: String,
    #[serde(rename = "type")]
    #[schema(rename = "type")]
    pub event_type: EventTypeName,
    pub created_at: Timestamp,
    pub livemode: bool,
    pub data: EventObject,
}

/// What an event is about: an application, or (for `screening.*`) its screening.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum EventObject {
    Verification(EventData),
    Screening(ScreeningEventData),
}

#[derive(Serialize, ToSchema)]
pub struct EventData {
    /// Always `verification`.
    #[schema(pattern = "^verification$")]
    pub object: String,
    pub id: Uuid,
    pub external_user_id: Option<String>,
    pub status: Status,
    pub failure: Option<FailureView>,
    /// Counts the events of this application from 1: put late deliveries in order by it.
    pub sequence: u32,
}

/// A screening event's object: never a name or a list entry (CONTRACT 9, 12).
#[derive(Serialize, ToSchema)]
pub struct ScreeningEventData {
    /// Always `screening`.
    #[schema(pattern = "^screening$")]
    pub object: String,
    pub verification_id: Uuid,
    pub external_user_id: Option<String>,
    pub status: ScreeningStatus,
    /// The versions of the lists the screening ran against.
    pub list_versions: Vec<ListVersion>,
    /// The application's next event number, as for every event.
    pub sequence: u32,
}

/// Where a customer stands against the lists (CONTRACT 12).
#[derive(Serialize, ToSchema, Clone, Copy)]
#[serde(rename_all = "snake_case")]
pub enum ScreeningStatus {
    Clear,
    PotentialMatch,
    Dismissed,
    Confirmed,
    Delisted,
}

impl ScreeningStatus {
    pub fn of(status: realname_core::store::ScreeningStatus) -> ScreeningStatus {
        use realname_core::store::ScreeningStatus as S;
        match status {
            S::Clear => ScreeningStatus::Clear,
            S::PotentialMatch => ScreeningStatus::PotentialMatch,
            S::Dismissed => ScreeningStatus::Dismissed,
            S::Confirmed => ScreeningStatus::Confirmed,
            S::Delisted => ScreeningStatus::Delisted,
        }
    }
}

/// One list's version, as imported.
#[derive(Serialize, serde::Deserialize, ToSchema, Clone)]
pub struct ListVersion {
    /// `un`, `ofac` or `national:NAME`.
    pub source: String,
    /// The SHA-256 of the version's files.
    pub version: String,
}

macro_rules! event_type_names {
    ($($variant:ident = $name:literal),* $(,)?) => {
        /// The event types (CONTRACT 9).
        #[derive(Serialize, ToSchema)]
        pub enum EventTypeName {
            $(
                #[serde(rename = $name)]
                #[schema(rename = $name)]
                $variant,
            )*
        }

        impl From<realname_core::platform::EventType> for EventTypeName {
            fn from(t: realname_core::platform::EventType) -> Self {
                use realname_core::platform::EventType as T;
                match t {
                    $(T::$variant => EventTypeName::$variant,)*
                }
            }
        }
    };
}

event_type_names! {
    Created = "verification.created",
    Submitted = "verification.submitted",
    AwaitingAmount = "verification.awaiting_amount",
    UnderReview = "verification.under_review",
    Verified = "verification.verified",
    Failed = "verification.failed",
    Cancelled = "verification.cancelled",
    Redacted = "verification.redacted",
    RenewalDue = "verification.renewal_due",
    Expired = "verification.expired",
    Superseded = "verification.superseded",
    Suspended = "verification.suspended",
    Reinstated = "verification.reinstated",
    RiskChanged = "verification.risk_changed",
    ScreeningPotentialMatch = "screening.potential_match",
    ScreeningConfirmed = "screening.confirmed",
    ScreeningDismissed = "screening.dismissed",
    ScreeningDelisted = "screening.delisted",
}

impl PlatformEventView {
    pub fn of(event: &realname_core::platform::PlatformEvent) -> PlatformEventView {
        use realname_core::platform::EventType as T;
        let screening = |status| {
            EventObject::Screening(ScreeningEventData {
                object: "screening".into(),
                verification_id: event.application_id,
                external_user_id: event.external_user_id.clone(),
                status,
                list_versions: event
                    .list_versions
                    .as_deref()
                    .and_then(|v| serde_json::from_str(v).ok())
                    .unwrap_or_default(),
                sequence: event.sequence,
            })
        };
        let data = match event.event_type {
            T::ScreeningPotentialMatch => screening(ScreeningStatus::PotentialMatch),
            T::ScreeningConfirmed => screening(ScreeningStatus::Confirmed),
            T::ScreeningDismissed => screening(ScreeningStatus::Dismissed),
            T::ScreeningDelisted => screening(ScreeningStatus::Delisted),
            T::Created
            | T::Submitted
            | T::AwaitingAmount
            | T::UnderReview
            | T::Verified
            | T::Failed
            | T::Cancelled
            | T::Redacted
            | T::RenewalDue
            | T::Expired
            | T::Superseded
            | T::Suspended
            | T::Reinstated
            | T::RiskChanged => EventObject::Verification(EventData {
                object: "verification".into(),
                id: event.application_id,
                external_user_id: event.external_user_id.clone(),
                status: event.status,
                failure: event.failure.as_ref().map(FailureView::of),
                sequence: event.sequence,
            }),
        };
        PlatformEventView {
            id: event.id.clone(),
            object: "event".into(),
            event_type: event.event_type.into(),
            created_at: Timestamp(event.created_at),
            livemode: event.livemode,
            data,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    /// Applications sealed before the stored model was the validated one hold the form as it
    /// was sent; they still open, as the identity and card they were checked to be.
    #[test]
    fn identities_and_cards_sealed_as_forms_still_open() {
        let old_form = serde_json::json!({
            "consent": true, "real_name": " John  Smith ", "nationality": "usa",
            "date_of_birth": "1990-05-17", "phone": "138-0013-8000",
            "documents": {"passport": {"number": "e12345678", "expiry_date": "2034-01-01"},
                          "stay_permit": {"kind": "entry_record", "entry_date": "2026-01-10"}}});
        let day = NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
        let identity = decode_identity(old_form.to_string().as_bytes(), day).unwrap();
        assert_eq!(identity.real_name.as_str(), "John Smith");
        assert_eq!(identity.phone.e164(), "+8613800138000");
        assert_eq!(identity.document_numbers()[0].expose(), "E12345678");
        let new = serde_json::to_vec(&identity).unwrap();
        assert_eq!(decode_identity(&new, day).unwrap(), identity);

        let old_card = serde_json::json!({"bank": "ICBC", "card_number": "6222020000000000018",
            "card_type": "savings", "account_type": "current", "account_name": "John Smith"});
        let card = decode_card(old_card.to_string().as_bytes()).unwrap();
        assert_eq!(card.card_number.last4(), "0018");
        assert_eq!(
            decode_card(&serde_json::to_vec(&card).unwrap()).unwrap(),
            card
        );
        assert!(decode_identity(b"{}", day).is_err());
    }
}
