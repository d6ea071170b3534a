//! The OpenAPI 3 document of the API, served at `/v1/openapi.json`. Paths come from the
//! handlers' own `#[utoipa::path]` annotations and request bodies from the core's form types;
//! the response shapes below describe what `views` renders.

use axum::response::{IntoResponse, Response};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

use crate::api;

/// Every error: a stable code, both messages, and the breaches of a 422.
#[allow(dead_code)]
#[derive(ToSchema)]
pub struct ErrorBody {
    error: ErrorDetail,
}

#[allow(dead_code)]
#[derive(ToSchema)]
pub struct ErrorDetail {
    /// A stable snake_case code, e.g. `validation_failed`.
    code: String,
    message: String,
    message_zh: String,
    details: Vec<Breach>,
    /// With `amount_incorrect`.
    attempts_remaining: Option<u32>,
}

#[allow(dead_code)]
#[derive(ToSchema)]
pub struct Breach {
    /// The field's path in the request, e.g. `documents.passport.number`.
    field: String,
    code: String,
    message: String,
    message_zh: String,
}

/// An application as its owner sees it, personal data masked.
#[allow(dead_code)]
#[derive(ToSchema)]
pub struct Application {
    id: uuid::Uuid,
    /// draft, deposit_pending, awaiting_amount, under_review, verified, failed, cancelled.
    status: String,
    real_name: String,
    nationality: String,
    /// `1990-**-**`.
    date_of_birth: String,
    /// `+86 138****8000`.
    phone: String,
    documents: MaskedDocuments,
    bank_card: Option<MaskedCard>,
    warnings: Vec<Breach>,
    deposit: Option<DepositView>,
    failure: Option<FailureView>,
    events: Vec<EventView>,
    created_at: String,
    updated_at: String,
}

#[allow(dead_code)]
#[derive(ToSchema)]
pub struct MaskedDocuments {
    passport: Option<MaskedDocument>,
    stay_permit: Option<MaskedDocument>,
}

#[allow(dead_code)]
#[derive(ToSchema)]
pub struct MaskedDocument {
    kind: Option<String>,
    /// First 2 and last 2 characters.
    number: Option<String>,
    expiry_date: Option<String>,
    entry_date: Option<String>,
}

#[allow(dead_code)]
#[derive(ToSchema)]
pub struct MaskedCard {
    bank: String,
    bank_name: String,
    bank_name_zh: String,
    card_last4: String,
    card_type: String,
    account_type: String,
}

#[allow(dead_code)]
#[derive(ToSchema)]
pub struct DepositView {
    /// scheduled, paid, settled. The amount is never shown.
    status: String,
    paid_at: Option<String>,
    attempts_remaining: u32,
    expires_at: Option<String>,
}

#[allow(dead_code)]
#[derive(ToSchema)]
pub struct FailureView {
    code: String,
    /// deposit or review.
    stage: String,
    can_retry: bool,
    message: String,
    message_zh: String,
    bank_reason: Option<String>,
}

#[allow(dead_code)]
#[derive(ToSchema)]
pub struct EventView {
    status: String,
    at: String,
}

#[allow(dead_code)]
#[derive(ToSchema)]
pub struct ApplicationList {
    verifications: Vec<Application>,
}

#[allow(dead_code)]
#[derive(ToSchema)]
pub struct Credentials {
    /// An e-mail address or a phone number.
    login: String,
    password: String,
}

#[allow(dead_code)]
#[derive(ToSchema)]
pub struct Session {
    token: String,
    expires_at: String,
}

#[allow(dead_code)]
#[derive(ToSchema)]
pub struct AccountView {
    id: uuid::Uuid,
    login: String,
    role: Option<String>,
    /// unverified, pending, verified.
    real_name_status: Option<String>,
    /// Once verified.
    real_name: Option<String>,
}

#[allow(dead_code)]
#[derive(ToSchema)]
pub struct Upload {
    slot: String,
    content_type: String,
    bytes: u64,
    sha256: String,
}

#[allow(dead_code)]
#[derive(ToSchema)]
pub struct AmountAnswer {
    /// Yuan as on the statement: `0.37`, `.37`, `0.37元`.
    amount: String,
}

#[allow(dead_code)]
#[derive(ToSchema)]
pub struct Case {
    id: uuid::Uuid,
    verification_id: uuid::Uuid,
    /// open, claimed, decided.
    status: String,
    submitted_at: String,
    due_at: String,
    overdue: bool,
    claimed_by: Option<uuid::Uuid>,
    /// duplicate_document, document_expires_soon, turns_18_recently.
    flags: Vec<String>,
}

#[allow(dead_code)]
#[derive(ToSchema)]
pub struct CasePage {
    cases: Vec<Case>,
    next_cursor: Option<String>,
}

#[allow(dead_code)]
#[derive(ToSchema)]
pub struct AuditTrail {
    entries: Vec<AuditView>,
}

#[allow(dead_code)]
#[derive(ToSchema)]
pub struct AuditView {
    id: uuid::Uuid,
    at: String,
    actor: uuid::Uuid,
    action: String,
    verification_id: Option<uuid::Uuid>,
}

#[allow(dead_code)]
#[derive(ToSchema)]
pub struct Statement {
    transactions: Vec<StatementLine>,
}

#[allow(dead_code)]
#[derive(ToSchema)]
pub struct StatementLine {
    amount: String,
    currency: String,
    memo: String,
    at: String,
}

#[allow(dead_code)]
#[derive(ToSchema)]
pub struct ClockAdvance {
    seconds: i64,
}

#[allow(dead_code)]
#[derive(ToSchema)]
pub struct ClockNow {
    now: String,
}

struct Bearer;

impl Modify for Bearer {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(components) = openapi.components.as_mut() {
            components.add_security_scheme(
                "bearer",
                SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
            );
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "realname", description = "Real-name authentication for the foreign users of a payment platform in mainland China."),
    paths(
        api::ops::healthz,
        api::ops::readyz,
        api::accounts::register,
        api::accounts::login,
        api::accounts::logout,
        api::accounts::me,
        api::verifications::create,
        api::verifications::list,
        api::verifications::get,
        api::verifications::update,
        api::verifications::put_document,
        api::verifications::put_bank_card,
        api::verifications::submit,
        api::verifications::confirm_deposit,
        api::verifications::cancel,
        api::review::list,
        api::review::get,
        api::review::document,
        api::review::claim,
        api::review::decide,
        api::review::audit_trail,
        api::sandbox::statement,
        api::sandbox::advance,
    ),
    modifiers(&Bearer)
)]
pub struct ApiDoc;

pub async fn document() -> Response {
    axum::Json(ApiDoc::openapi()).into_response()
}
