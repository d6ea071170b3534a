//! The API's answers that are not the application layer's views: wrappers, sessions, the
//! sandbox's and the error shape. With the views of `realname_app::views`, these types are the
//! only definition of what the API answers: the handlers serialise them and the OpenAPI
//! document is generated from them.

use std::collections::BTreeMap;

use realname_app::views::{
    ApplicationView, BreachView, CaseView, IdentityView, ImageView, Timestamp,
};
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

/// An upload as stored.
pub type Upload = ImageView;

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
    pub livemode: bool,
    /// With the scope `verifications:read_pii`, once verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub real_name: Option<String>,
}

/// An application as its user sees it, with the platform's id of that user.
#[derive(Serialize, ToSchema)]
pub struct PlatformVerificationView {
    #[serde(flatten)]
    pub application: ApplicationView,
    pub external_user_id: Option<String>,
    /// With `?expand=identity` and the scope `verifications:read_pii`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<IdentityView>,
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
    pub data: EventData,
}

#[derive(Serialize, ToSchema)]
pub struct EventData {
    /// Always `verification`.
    pub object: String,
    pub id: Uuid,
    pub external_user_id: Option<String>,
    pub status: Status,
    pub failure: Option<realname_app::views::FailureView>,
    /// Counts the events of this application from 1: put late deliveries in order by it.
    pub sequence: u32,
}

/// The event types (CONTRACT 9).
#[derive(Serialize, ToSchema)]
pub enum EventTypeName {
    #[serde(rename = "verification.created")]
    #[schema(rename = "verification.created")]
    Created,
    #[serde(rename = "verification.submitted")]
    #[schema(rename = "verification.submitted")]
    Submitted,
    #[serde(rename = "verification.awaiting_amount")]
    #[schema(rename = "verification.awaiting_amount")]
    AwaitingAmount,
    #[serde(rename = "verification.under_review")]
    #[schema(rename = "verification.under_review")]
    UnderReview,
    #[serde(rename = "verification.verified")]
    #[schema(rename = "verification.verified")]
    Verified,
    #[serde(rename = "verification.failed")]
    #[schema(rename = "verification.failed")]
    Failed,
    #[serde(rename = "verification.cancelled")]
    #[schema(rename = "verification.cancelled")]
    Cancelled,
    #[serde(rename = "verification.redacted")]
    #[schema(rename = "verification.redacted")]
    Redacted,
}

impl From<realname_core::platform::EventType> for EventTypeName {
    fn from(t: realname_core::platform::EventType) -> Self {
        use realname_core::platform::EventType as T;
        match t {
            T::Created => EventTypeName::Created,
            T::Submitted => EventTypeName::Submitted,
            T::AwaitingAmount => EventTypeName::AwaitingAmount,
            T::UnderReview => EventTypeName::UnderReview,
            T::Verified => EventTypeName::Verified,
            T::Failed => EventTypeName::Failed,
            T::Cancelled => EventTypeName::Cancelled,
            T::Redacted => EventTypeName::Redacted,
        }
    }
}

impl PlatformEventView {
    pub fn of(event: &realname_core::platform::PlatformEvent) -> PlatformEventView {
        PlatformEventView {
            id: event.id.clone(),
            object: "event".into(),
            event_type: event.event_type.into(),
            created_at: Timestamp(event.created_at),
            livemode: event.livemode,
            data: EventData {
                object: "verification".into(),
                id: event.application_id,
                external_user_id: event.external_user_id.clone(),
                status: event.status,
                failure: event
                    .failure
                    .as_ref()
                    .map(realname_app::views::FailureView::of),
                sequence: event.sequence,
            },
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct EventPage {
    /// Newest first, for 30 days.
    pub events: Vec<PlatformEventView>,
    /// Pass as `cursor` for the next page; null on the last.
    pub next_cursor: Option<String>,
}
