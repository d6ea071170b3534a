//! The user's application over JSON. Each handler parses, calls the journey's operation and
//! renders the application; the rules and the store writes live in `crate::journey`.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use realname_core::Code;
use realname_core::application::ApplicationForm;
use realname_core::documents::{ImageSlot, MAX_IMAGE_BYTES};
use realname_core::policy::BankCardForm;
use realname_core::store::ApplicationRecord;
use serde::Deserialize;
use serde_json::{Value, json};

use realname_app::{journey, views};

use crate::auth::Signed;
use crate::error::{ApiError, ApiResult};
use crate::extract::Json;
use crate::state::AppState;

fn answer(state: &AppState, status: StatusCode, app: &ApplicationRecord) -> ApiResult<Response> {
    Ok((status, axum::Json(views::application(state, app)?)).into_response())
}

#[utoipa::path(post, path = "/v1/verifications", tag = "verifications", security(("bearer" = [])), request_body = realname_core::application::ApplicationForm, responses((status = 201, description = "A draft", body = crate::openapi::Application), (status = 409, description = "application_in_progress, already_verified", body = crate::openapi::ErrorBody), (status = 403, description = "application_blocked", body = crate::openapi::ErrorBody), (status = 422, description = "validation_failed", body = crate::openapi::ErrorBody), (status = 401, description = "Not logged in", body = crate::openapi::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Signed(who): Signed,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Json(form): Json<ApplicationForm>,
) -> ApiResult<Response> {
    let app = journey::create(&state, &who, &form, peer.ip().to_string()).await?;
    answer(&state, StatusCode::CREATED, &app)
}

#[utoipa::path(get, path = "/v1/verifications", tag = "verifications", security(("bearer" = [])), responses((status = 200, description = "The caller's applications, newest first", body = crate::openapi::ApplicationList), (status = 401, description = "Not logged in", body = crate::openapi::ErrorBody)))]
pub async fn list(State(state): State<AppState>, Signed(who): Signed) -> ApiResult<Response> {
    let apps = journey::mine(&state, &who).await?;
    let items = apps
        .iter()
        .map(|a| views::application(&state, a))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(axum::Json(json!({ "verifications": items })).into_response())
}

#[utoipa::path(get, path = "/v1/verifications/{id}", tag = "verifications", security(("bearer" = [])), params(("id" = uuid::Uuid, Path)), responses((status = 200, description = "The application", body = crate::openapi::Application), (status = 404, description = "not_found", body = crate::openapi::ErrorBody), (status = 401, description = "Not logged in", body = crate::openapi::ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    Signed(who): Signed,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let app = journey::owned(&state, &who, &id).await?;
    answer(&state, StatusCode::OK, &app)
}

/// Fields present in the patch replace the stored ones; `documents.passport` and
/// `documents.stay_permit` are replaced as wholes.
#[utoipa::path(patch, path = "/v1/verifications/{id}", tag = "verifications", security(("bearer" = [])), params(("id" = uuid::Uuid, Path)), request_body = realname_core::application::ApplicationForm, responses((status = 200, description = "The draft", body = crate::openapi::Application), (status = 409, description = "invalid_state", body = crate::openapi::ErrorBody), (status = 422, description = "validation_failed", body = crate::openapi::ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    Signed(who): Signed,
    Path(id): Path<String>,
    Json(patch): Json<ApplicationForm>,
) -> ApiResult<Response> {
    let app = journey::owned(&state, &who, &id).await?;
    let stored = views::open(&state, &app)?.form;
    let app = journey::update(&state, &app, &journey::merge(stored, patch)).await?;
    answer(&state, StatusCode::OK, &app)
}

/// Reads an upload while counting it, and stops as soon as it passes the limit, so an
/// 11 MiB body is never held whole.
async fn read_capped(body: Body) -> ApiResult<Vec<u8>> {
    let mut stream = body.into_data_stream();
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| ApiError::malformed("The upload was interrupted."))?;
        if (bytes.len() + chunk.len()) as u64 > MAX_IMAGE_BYTES {
            return Err(ApiError::new(Code::DocumentImageTooLarge));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

#[utoipa::path(put, path = "/v1/verifications/{id}/documents/{slot}", tag = "verifications", security(("bearer" = [])), params(("id" = uuid::Uuid, Path), ("slot" = String, Path, description = "passport_photo_page or stay_permit")), request_body(content = Vec<u8>, content_type = "image/jpeg", description = "JPEG, PNG or PDF, judged by content; at most 10 MiB"), responses((status = 200, description = "Stored", body = crate::openapi::Upload), (status = 413, description = "document_image_too_large", body = crate::openapi::ErrorBody), (status = 422, description = "document_image_unsupported", body = crate::openapi::ErrorBody)))]
pub async fn put_document(
    State(state): State<AppState>,
    Signed(who): Signed,
    Path((id, slot)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    let app = journey::owned(&state, &who, &id).await?;
    let slot = ImageSlot::parse(&slot).ok_or_else(|| ApiError::new(Code::NotFound))?;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_IMAGE_BYTES) {
        return Err(ApiError::new(Code::DocumentImageTooLarge));
    }
    let bytes = read_capped(body).await?;
    let meta = journey::store_image(&state, &app, slot, &bytes).await?;
    Ok(axum::Json(json!({"slot": meta.slot, "content_type": meta.content_type, "bytes": meta.bytes, "sha256": meta.sha256}))
        .into_response())
}

#[utoipa::path(put, path = "/v1/verifications/{id}/bank_card", tag = "verifications", security(("bearer" = [])), params(("id" = uuid::Uuid, Path)), request_body = realname_core::policy::BankCardForm, responses((status = 200, description = "The draft, card masked", body = crate::openapi::Application), (status = 422, description = "validation_failed", body = crate::openapi::ErrorBody)))]
pub async fn put_bank_card(
    State(state): State<AppState>,
    Signed(who): Signed,
    Path(id): Path<String>,
    Json(card): Json<BankCardForm>,
) -> ApiResult<Response> {
    let app = journey::owned(&state, &who, &id).await?;
    let app = journey::bind_card(&state, &app, &card).await?;
    answer(&state, StatusCode::OK, &app)
}

#[utoipa::path(post, path = "/v1/verifications/{id}/submit", tag = "verifications", security(("bearer" = [])), params(("id" = uuid::Uuid, Path)), responses((status = 200, description = "deposit_pending", body = crate::openapi::Application), (status = 409, description = "invalid_state, deposit_limit_reached", body = crate::openapi::ErrorBody), (status = 422, description = "validation_failed", body = crate::openapi::ErrorBody)))]
pub async fn submit(
    State(state): State<AppState>,
    Signed(who): Signed,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let app = journey::owned(&state, &who, &id).await?;
    let app = journey::submit(&state, &app).await?;
    answer(&state, StatusCode::OK, &app)
}

#[utoipa::path(post, path = "/v1/verifications/{id}/cancel", tag = "verifications", security(("bearer" = [])), params(("id" = uuid::Uuid, Path)), responses((status = 200, description = "cancelled", body = crate::openapi::Application), (status = 409, description = "invalid_state", body = crate::openapi::ErrorBody)))]
pub async fn cancel(
    State(state): State<AppState>,
    Signed(who): Signed,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let app = journey::owned(&state, &who, &id).await?;
    let app = journey::cancel(&state, &app).await?;
    answer(&state, StatusCode::OK, &app)
}

#[derive(Deserialize)]
pub struct AmountForm {
    amount: Option<Value>,
}

#[utoipa::path(post, path = "/v1/verifications/{id}/deposit_confirmation", tag = "verifications", security(("bearer" = [])), params(("id" = uuid::Uuid, Path)), request_body = crate::openapi::AmountAnswer, responses((status = 200, description = "under_review", body = crate::openapi::Application), (status = 409, description = "invalid_state (e.g. deposit_pending)", body = crate::openapi::ErrorBody), (status = 422, description = "amount_malformed, amount_incorrect, deposit_expired", body = crate::openapi::ErrorBody)))]
pub async fn confirm_deposit(
    State(state): State<AppState>,
    Signed(who): Signed,
    Path(id): Path<String>,
    Json(body): Json<AmountForm>,
) -> ApiResult<Response> {
    let text = match &body.amount {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    };
    let app = journey::owned(&state, &who, &id).await?;
    let app = journey::confirm_amount(&state, &app, &text).await?;
    answer(&state, StatusCode::OK, &app)
}
