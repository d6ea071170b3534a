//! The API's answers that are not the application layer's views: wrappers, sessions, the
//! sandbox's and the error shape. With the views of `realname_app::views`, these types are the
//! only definition of what the API answers: the handlers serialise them and the OpenAPI
//! document is generated from them.

use std::collections::BTreeMap;

use realname_app::views::{ApplicationView, BreachView, CaseView, IdentityView, Timestamp};
pub use realname_app::views::{EventTypeName, PlatformEventView};
use realname_core::Code;
use realname_core::documents::ImageSlot;
use realname_core::state::{RealNameStatus, Status};
use realname_core::store::Role;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// Every error (CONTRACT 4).
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    pub code: Code,
    pub message: String,
    pub message_zh: String,
    /// Every breach, with `validation_failed`; otherwise empty.
    pub details: Vec<BreachView>,
    /// With `amount_incorrect`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempts_remaining: Option<u32>,
    /// With `retention_hold`: when the hold ends (null while it has not started: the account
    /// is open, or the application in progress).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Timestamp>, nullable)]
    pub hold_until: Option<Option<Timestamp>>,
    /// With `internal_error`: the id to quote.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccountCreated {
    pub id: Uuid,
    pub login: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionCreated {
    /// `Authorization: Bearer` this; null in a replay of the answer (secrets are never kept
    /// to be replayed).
    pub token: Option<String>,
    pub expires_at: Timestamp,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeView {
    pub id: Uuid,
    pub login: String,
    pub role: Role,
    pub real_name_status: RealNameStatus,
    /// Once verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub real_name: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ApplicationList {
    /// Newest first.
    pub verifications: Vec<ApplicationView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CasePage {
    pub cases: Vec<CaseView>,
    /// Pass as `cursor` for the next page; null on the last.
    pub next_cursor: Option<String>,
}

/// A document image of a case, as a link to its bytes (each fetch is audited).
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseImage {
    pub slot: ImageSlot,
    pub content_type: String,
    pub bytes: u64,
    pub href: String,
}

/// A case with everything of its application: unmasked for its claimant and admins.
#[derive(Serialize, ToSchema)]
pub struct CaseDetail {
    #[serde(flatten)]
    pub case: CaseView,
    pub application: ApplicationView,
    pub images: Vec<CaseImage>,
    /// A screening case: the hits that raised it, beside the applicant above.
    pub screening: Option<ScreeningCaseView>,
    /// The applicant's risk grade, once graded (when the application reached review).
    pub risk: Option<realname_app::views::CaseRiskView>,
}

/// What a screening case shows the reviewer (CONTRACT 12).
#[derive(Debug, Serialize, ToSchema)]
pub struct ScreeningCaseView {
    pub hits: Vec<HitView>,
    /// A confirmation's report to the authorities.
    pub report_reference: Option<String>,
}

/// One listed person the applicant may be, and why.
#[derive(Debug, Serialize, ToSchema)]
pub struct HitView {
    /// `un`, `ofac` or `national:NAME`.
    pub source: String,
    pub entry_id: String,
    /// From 0 to 1.
    pub score: f64,
    /// Every name and alias of the entry.
    pub names: Vec<String>,
    /// The listed name the applicant's came closest to.
    pub matched_name: Option<String>,
    /// Which features matched: `name`, `date_of_birth`, `year_of_birth`, `nationality`,
    /// `document`.
    pub matched: Vec<String>,
    /// `hold` or `flag`: what a hit of its source does.
    pub action: String,
    /// `potential_match`, `near_miss` or `dismissed_before`.
    pub disposition: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditTrail {
    pub entries: Vec<AuditView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditView {
    pub id: Uuid,
    pub at: Timestamp,
    /// The staff account that acted.
    pub actor: Uuid,
    /// `reveal_application`, `reveal_document` or `decide`.
    pub action: String,
    pub verification_id: Option<Uuid>,
    /// What was seen or decided; never a personal value.
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Statement {
    pub transactions: Vec<StatementLine>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StatementLine {
    /// Yuan, two decimals: `0.37`.
    pub amount: String,
    /// Always `CNY`.
    pub currency: String,
    pub memo: String,
    pub at: Timestamp,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClockNow {
    pub now: Timestamp,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`, `ready` or `unavailable`.
    pub status: String,
}

/// `verification_session`: a platform's session for one of its users.
#[derive(Serialize, ToSchema)]
pub struct PlatformSessionView {
    pub id: Uuid,
    /// Always `verification_session`.
    pub object: String,
    pub external_user_id: String,
    /// The single-use link to send the user to; null once the account is verified, and in
    /// a replay of the answer (secrets are never kept to be replayed).
    pub url: Option<String>,
    pub url_expires_at: Option<Timestamp>,
    pub return_url: Option<String>,
    pub locale: Option<String>,
    /// `verification` or `renewal`: where its links land.
    #[schema(pattern = "^(verification|renewal)$")]
    pub purpose: String,
    /// As `GET /v1/me` says it, or `closed` once the account was closed.
    pub real_name_status: RealNameStatus,
    pub verification_id: Option<Uuid>,
    pub verification_status: Option<Status>,
    pub livemode: bool,
    pub metadata: BTreeMap<String, String>,
    pub created_at: Timestamp,
}

/// A platform's user.
#[derive(Serialize, ToSchema)]
pub struct PlatformUserView {
    pub external_user_id: String,
    pub real_name_status: RealNameStatus,
    pub verification_id: Option<Uuid>,
    pub verification_status: Option<Status>,
    pub verified_at: Option<Timestamp>,
    /// The last day the verification's documents are valid (China time), `YYYY-MM-DD`.
    pub valid_until: Option<chrono::NaiveDate>,
    /// Whether a renewal is due, overdue, required or in progress (CONTRACT 13).
    pub renewal: Option<RenewalView>,
    /// The customer's risk grade (CONTRACT 14).
    pub risk: Option<RiskView>,
    /// Whether a legal hold keeps the account's records from erasure (CONTRACT 11).
    pub legal_hold: bool,
    pub livemode: bool,
    /// With the scope `verifications:read_pii`, once verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub real_name: Option<String>,
    /// With the scope `screening:read` (CONTRACT 12).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub screening: Option<ScreeningView>,
}

/// Where a verification's renewal stands (CONTRACT 13).
#[derive(Serialize, ToSchema)]
pub struct RenewalView {
    pub status: RenewalStatus,
    /// When it became so.
    pub since: Timestamp,
    /// The open renewal, if one was started.
    pub renewal_id: Option<Uuid>,
}

#[derive(Serialize, ToSchema, Clone, Copy)]
#[serde(rename_all = "snake_case")]
pub enum RenewalStatus {
    Due,
    Overdue,
    Required,
    InProgress,
}

/// A customer's risk grade (CONTRACT 14).
#[derive(Serialize, ToSchema)]
pub struct RiskView {
    pub grade: realname_core::risk::Grade,
    /// When the grade's periodic review falls due; null for a grade reviewed at renewal.
    pub next_review_at: Option<Timestamp>,
}

/// Where a customer stands against the lists (CONTRACT 12).
#[derive(Serialize, ToSchema)]
pub struct ScreeningView {
    /// Null until first screened.
    pub status: Option<realname_app::views::ScreeningStatus>,
    pub screened_at: Option<Timestamp>,
    pub list_versions: Vec<realname_app::views::ListVersion>,
}

/// What a request to erase became (CONTRACT 11).
#[derive(Serialize, ToSchema)]
pub struct RedactionView {
    /// `done`: erased; `scheduled`: held until `hold_until`, then erased by the service.
    pub status: realname_app::erasure::RedactionStatus,
    pub hold_until: Option<Timestamp>,
}

impl RedactionView {
    pub fn of(redaction: &realname_app::erasure::Redaction) -> RedactionView {
        RedactionView {
            status: redaction.status,
            hold_until: redaction.hold_until.map(Timestamp),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct RedactionAnswer {
    pub redaction: RedactionView,
}

/// A platform's user, closed: its holds have started.
#[derive(Serialize, ToSchema)]
pub struct ClosedUserView {
    #[schema(pattern = "^platform_user$")]
    pub object: &'static str,
    pub external_user_id: String,
    pub closed_at: Timestamp,
    /// What is still held of the account, and until when the last of it is kept.
    pub redaction: RedactionView,
    pub livemode: bool,
}

/// An application as its user sees it, with the platform's id of that user.
#[derive(Serialize, ToSchema)]
pub struct PlatformVerificationView {
    #[serde(flatten)]
    pub application: ApplicationView,
    pub external_user_id: Option<String>,
    /// With `?expand=identity` and the scope `verifications:read_pii`; null once the
    /// application's personal data was erased.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<IdentityView>, nullable)]
    pub identity: Option<Option<IdentityView>>,
}

#[derive(Serialize, ToSchema)]
pub struct EventPage {
    /// Newest first, for 30 days.
    pub events: Vec<PlatformEventView>,
    /// Pass as `cursor` for the next page; null on the last.
    pub next_cursor: Option<String>,
}

/// `webhook_endpoint`.
#[derive(Serialize, ToSchema)]
pub struct EndpointView {
    pub id: Uuid,
    /// Always `webhook_endpoint`.
    pub object: String,
    pub url: String,
    pub events: Vec<String>,
    pub description: Option<String>,
    /// `enabled`, or `disabled` after a 410.
    pub status: String,
    /// `whsec_…`: only when the endpoint is made and when its secret is rotated; null in a
    /// replay of that answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<Option<String>>,
    pub livemode: bool,
    pub created_at: Timestamp,
}

impl EndpointView {
    pub fn of(
        endpoint: &realname_core::platform::WebhookEndpoint,
        secret: Option<String>,
    ) -> EndpointView {
        EndpointView {
            id: endpoint.id,
            object: "webhook_endpoint".into(),
            url: endpoint.url.clone(),
            events: endpoint.events.clone(),
            description: endpoint.description.clone(),
            status: if endpoint.enabled {
                "enabled"
            } else {
                "disabled"
            }
            .into(),
            secret: secret.map(Some),
            livemode: endpoint.livemode,
            created_at: Timestamp(endpoint.created_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct EndpointList {
    pub endpoints: Vec<EndpointView>,
}

#[derive(Serialize, ToSchema)]
pub struct DeliveryView {
    pub id: Uuid,
    pub event_id: String,
    pub attempt: u32,
    /// `pending`, `delivered` or `failed`.
    pub state: String,
    pub status_code: Option<u16>,
    pub error: Option<String>,
    pub at: Timestamp,
    pub next_attempt_at: Option<Timestamp>,
    pub livemode: bool,
}

#[derive(Serialize, ToSchema)]
pub struct DeliveryPage {
    /// One row per attempt, newest first.
    pub deliveries: Vec<DeliveryView>,
    pub next_cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Resent {
    pub event_id: String,
}
