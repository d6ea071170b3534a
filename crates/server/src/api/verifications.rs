//! The user's application over JSON. Each handler parses, calls the journey's operation and
//! answers the application; the rules and the store writes live in `realname_app::journey`.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use futures_util::StreamExt;
use realname_app::views::{ApplicationView, ImageView};
use realname_app::{AppError, journey, views};
use realname_core::Code;
use realname_core::documents::{ImageSlot, MAX_IMAGE_BYTES};
use realname_core::store::ApplicationRecord;

use crate::api::answers::{ApplicationList, ErrorBody};
use crate::api::requests::{AmountBody, ApplicationPatchBody, BankCardBody, NewApplicationBody};
use crate::auth::Signed;
use crate::error::ApiResult;
use crate::extract::Json;
use crate::state::AppState;

fn answer(
    state: &AppState,
    status: StatusCode,
    app: &ApplicationRecord,
) -> ApiResult<(StatusCode, axum::Json<ApplicationView>)> {
    Ok((status, axum::Json(views::application(state, app)?)))
}

type Answer = ApiResult<(StatusCode, axum::Json<ApplicationView>)>;

#[utoipa::path(post, path = "/v1/verifications", operation_id = "createVerification",
    summary = "Start an application",
    security(("userSession" = [])),
    tag = "verifications",
    request_body = NewApplicationBody,
    responses(
        (status = 201, description = "A draft, with its warnings", body = ApplicationView),
        (status = 403, description = "application_blocked: a final rejection", body = ErrorBody),
        (status = 409, description = "application_in_progress, already_verified", body = ErrorBody),
        (status = 422, description = "validation_failed, with every breach", body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Signed(who): Signed,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Json(body): Json<NewApplicationBody>,
) -> Answer {
    let app = journey::create(&state, &who, &body.into(), peer.ip().to_string()).await?;
    answer(&state, StatusCode::CREATED, &app)
}

#[utoipa::path(get, path = "/v1/verifications", operation_id = "listVerifications",
    summary = "List the user's applications",
    security(("userSession" = [])),
    tag = "verifications",
    responses((status = 200, description = "The caller's applications, newest first", body = ApplicationList)))]
pub async fn list(
    State(state): State<AppState>,
    Signed(who): Signed,
) -> ApiResult<axum::Json<ApplicationList>> {
    let apps = journey::mine(&state, &who).await?;
    let verifications = apps
        .iter()
        .map(|a| views::application(&state, a))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(axum::Json(ApplicationList { verifications }))
}

#[utoipa::path(get, path = "/v1/verifications/{id}", operation_id = "getVerification",
    summary = "Read an application",
    security(("userSession" = [])),
    tag = "verifications",
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, description = "The application, personal data masked", body = ApplicationView)))]
pub async fn get(
    State(state): State<AppState>,
    Signed(who): Signed,
    Path(id): Path<String>,
) -> Answer {
    let app = journey::owned(&state, &who, &id).await?;
    answer(&state, StatusCode::OK, &app)
}

#[utoipa::path(patch, path = "/v1/verifications/{id}", operation_id = "updateVerification",
    summary = "Change a draft",
    security(("userSession" = [])),
    tag = "verifications",
    params(("id" = uuid::Uuid, Path)),
    request_body = ApplicationPatchBody,
    responses(
        (status = 200, description = "The draft", body = ApplicationView),
        (status = 409, description = "invalid_state: not a draft any more", body = ErrorBody),
        (status = 422, description = "validation_failed", body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    Signed(who): Signed,
    Path(id): Path<String>,
    Json(patch): Json<ApplicationPatchBody>,
) -> Answer {
    let app = journey::owned(&state, &who, &id).await?;
    let stored = views::open_kept(&state, &app)?.form();
    let app = journey::update(&state, &app, &journey::merge(stored, patch.into())).await?;
    answer(&state, StatusCode::OK, &app)
}

/// Reads an upload while counting it, and stops as soon as it passes the limit, so an
/// 11 MiB body is never held whole.
async fn read_capped(body: Body) -> ApiResult<Vec<u8>> {
    let mut stream = body.into_data_stream();
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk
            .map_err(|_| AppError::malformed("The upload was interrupted.", "上传中断了。"))?;
        if (bytes.len() + chunk.len()) as u64 > MAX_IMAGE_BYTES {
            return Err(AppError::new(Code::DocumentImageTooLarge).into());
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// The image's bytes, any content type: the service judges JPEG, PNG and PDF by content.
#[utoipa::path(put, path = "/v1/verifications/{id}/documents/{slot}", operation_id = "putVerificationDocument",
    summary = "Upload a document image",
    security(("userSession" = [])),
    tag = "verifications",
    params(("id" = uuid::Uuid, Path), ("slot" = ImageSlot, Path)),
    responses(
        (status = 200, description = "Stored", body = ImageView),
        (status = 409, description = "invalid_state: not a draft any more", body = ErrorBody),
        (status = 413, description = "document_image_too_large: over 10 MiB", body = ErrorBody),
        (status = 422, description = "document_image_unsupported: not JPEG, PNG or PDF", body = ErrorBody)))]
pub async fn put_document(
    State(state): State<AppState>,
    Signed(who): Signed,
    Path((id, slot)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<axum::Json<ImageView>> {
    let app = journey::owned(&state, &who, &id).await?;
    let slot = ImageSlot::parse(&slot).ok_or_else(|| AppError::new(Code::NotFound))?;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_IMAGE_BYTES) {
        return Err(AppError::new(Code::DocumentImageTooLarge).into());
    }
    let bytes = read_capped(body).await?;
    let meta = journey::store_image(&state, &app, slot, &bytes).await?;
    Ok(axum::Json(ImageView {
        slot,
        content_type: meta.content_type,
        bytes: meta.bytes,
        sha256: meta.sha256,
    }))
}

#[utoipa::path(put, path = "/v1/verifications/{id}/bank_card", operation_id = "putVerificationBankCard",
    summary = "Bind the bank card",
    security(("userSession" = [])),
    tag = "verifications",
    params(("id" = uuid::Uuid, Path)),
    request_body = BankCardBody,
    responses(
        (status = 200, description = "The draft, its card masked", body = ApplicationView),
        (status = 409, description = "invalid_state: not a draft any more", body = ErrorBody),
        (status = 422, description = "validation_failed: the bank's rules, card_returned_by_bank, card_in_use", body = ErrorBody)))]
pub async fn put_bank_card(
    State(state): State<AppState>,
    Signed(who): Signed,
    Path(id): Path<String>,
    Json(card): Json<BankCardBody>,
) -> Answer {
    let app = journey::owned(&state, &who, &id).await?;
    let app = journey::bind_card(&state, &app, &card.into()).await?;
    answer(&state, StatusCode::OK, &app)
}

#[utoipa::path(post, path = "/v1/verifications/{id}/submit", operation_id = "submitVerification",
    summary = "Submit the application for its micro-deposit",
    security(("userSession" = [])),
    tag = "verifications",
    params(("id" = uuid::Uuid, Path)),
    responses(
        (status = 200, description = "deposit_pending: the deposit is on its way", body = ApplicationView),
        (status = 409, description = "invalid_state, deposit_limit_reached", body = ErrorBody),
        (status = 422, description = "validation_failed: every rule is checked again", body = ErrorBody)))]
pub async fn submit(
    State(state): State<AppState>,
    Signed(who): Signed,
    Path(id): Path<String>,
) -> Answer {
    let app = journey::owned(&state, &who, &id).await?;
    let app = journey::submit(&state, &app).await?;
    answer(&state, StatusCode::OK, &app)
}

#[utoipa::path(post, path = "/v1/verifications/{id}/cancel", operation_id = "cancelVerification",
    summary = "Cancel a draft",
    security(("userSession" = [])),
    tag = "verifications",
    params(("id" = uuid::Uuid, Path)),
    responses(
        (status = 200, description = "cancelled", body = ApplicationView),
        (status = 409, description = "invalid_state: only a draft can be cancelled", body = ErrorBody)))]
pub async fn cancel(
    State(state): State<AppState>,
    Signed(who): Signed,
    Path(id): Path<String>,
) -> Answer {
    let app = journey::owned(&state, &who, &id).await?;
    let app = journey::cancel(&state, &app).await?;
    answer(&state, StatusCode::OK, &app)
}

#[utoipa::path(post, path = "/v1/verifications/{id}/deposit_confirmation", operation_id = "confirmVerificationDeposit",
    summary = "Enter the micro-deposit's amount",
    security(("userSession" = [])),
    tag = "verifications",
    params(("id" = uuid::Uuid, Path)),
    request_body = AmountBody,
    responses(
        (status = 200, description = "under_review", body = ApplicationView),
        (status = 409, description = "invalid_state (e.g. still deposit_pending)", body = ErrorBody),
        (status = 422, description = "amount_malformed (no attempt used), amount_incorrect (with attempts_remaining), deposit_expired", body = ErrorBody)))]
pub async fn confirm_deposit(
    State(state): State<AppState>,
    Signed(who): Signed,
    Path(id): Path<String>,
    Json(body): Json<AmountBody>,
) -> Answer {
    let app = journey::owned(&state, &who, &id).await?;
    let app = journey::confirm_amount(&state, &app, &body.text()).await?;
    answer(&state, StatusCode::OK, &app)
}
