//! Webhook endpoints over JSON (CONTRACT 9); the work is in `realname_app::platform::webhooks`.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use realname_app::AppError;
use realname_app::platform::webhooks;
use realname_app::views::Timestamp;
use serde::Deserialize;

use crate::api::answers::{
    DeliveryPage, DeliveryView, EndpointList, EndpointView, ErrorBody, Resent,
};
use crate::api::requests::{EndpointBody, RotateBody};
use crate::auth::Platform;
use crate::error::ApiResult;
use crate::extract::Json;
use crate::idempotency::Secrets;
use crate::state::AppState;

fn with_secret(status: StatusCode, view: EndpointView) -> Response {
    let mut response = (status, axum::Json(view)).into_response();
    response.extensions_mut().insert(Secrets(&["secret"]));
    response
}

#[utoipa::path(post, path = "/v1/webhook_endpoints", operation_id = "createWebhookEndpoint",
    summary = "Register a webhook endpoint",
    security(("platformKey" = ["webhooks:manage"])),
    tag = "webhooks",
    request_body = EndpointBody,
    responses(
        (status = 201, description = "The endpoint, with its secret (shown this once)", body = EndpointView),
        (status = 403, description = "key_mode_mismatch; forbidden: the key lacks webhooks:manage", body = ErrorBody),
        (status = 422, description = "validation_failed: webhook_url_not_allowed, webhook_events_invalid, description_too_long", body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Platform(who): Platform,
    Json(body): Json<EndpointBody>,
) -> ApiResult<Response> {
    let made = webhooks::create(&state, &who, body.into()).await?;
    Ok(with_secret(
        StatusCode::CREATED,
        EndpointView::of(&made.endpoint, made.secret),
    ))
}

#[utoipa::path(get, path = "/v1/webhook_endpoints", operation_id = "listWebhookEndpoints",
    summary = "List webhook endpoints",
    security(("platformKey" = ["webhooks:manage"])),
    tag = "webhooks",
    responses(
        (status = 200, description = "Every endpoint, without secrets", body = EndpointList),
        (status = 403, description = "key_mode_mismatch; forbidden: the key lacks webhooks:manage", body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Platform(who): Platform,
) -> ApiResult<axum::Json<EndpointList>> {
    let endpoints = webhooks::list(&state, &who).await?;
    Ok(axum::Json(EndpointList {
        endpoints: endpoints
            .iter()
            .map(|e| EndpointView::of(e, None))
            .collect(),
    }))
}

#[utoipa::path(patch, path = "/v1/webhook_endpoints/{id}", operation_id = "updateWebhookEndpoint",
    summary = "Change or re-enable a webhook endpoint",
    security(("platformKey" = ["webhooks:manage"])),
    tag = "webhooks",
    params(("id" = uuid::Uuid, Path)),
    request_body = EndpointBody,
    responses(
        (status = 200, description = "The endpoint as changed", body = EndpointView),
        (status = 403, description = "key_mode_mismatch; forbidden: the key lacks webhooks:manage", body = ErrorBody),
        (status = 422, description = "validation_failed", body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    Platform(who): Platform,
    Path(id): Path<String>,
    Json(body): Json<EndpointBody>,
) -> ApiResult<axum::Json<EndpointView>> {
    let endpoint = webhooks::update(&state, &who, &id, body.into()).await?;
    Ok(axum::Json(EndpointView::of(&endpoint, None)))
}

#[utoipa::path(delete, path = "/v1/webhook_endpoints/{id}", operation_id = "deleteWebhookEndpoint",
    summary = "Delete a webhook endpoint",
    security(("platformKey" = ["webhooks:manage"])),
    tag = "webhooks",
    params(("id" = uuid::Uuid, Path)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "key_mode_mismatch; forbidden: the key lacks webhooks:manage", body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    Platform(who): Platform,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    webhooks::delete(&state, &who, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/v1/webhook_endpoints/{id}/rotate_secret", operation_id = "rotateWebhookEndpointSecret",
    summary = "Rotate a webhook endpoint's secret",
    security(("platformKey" = ["webhooks:manage"])),
    tag = "webhooks",
    params(("id" = uuid::Uuid, Path)),
    request_body = RotateBody,
    responses(
        (status = 200, description = "The endpoint with its new secret; the old one signs beside it until it expires", body = EndpointView),
        (status = 403, description = "key_mode_mismatch; forbidden: the key lacks webhooks:manage", body = ErrorBody),
        (status = 422, description = "validation_failed: webhook_overlap_invalid", body = ErrorBody)))]
pub async fn rotate(
    State(state): State<AppState>,
    Platform(who): Platform,
    Path(id): Path<String>,
    Json(body): Json<RotateBody>,
) -> ApiResult<Response> {
    let seconds = body.seconds()?;
    let rotated = webhooks::rotate(&state, &who, &id, seconds).await?;
    Ok(with_secret(
        StatusCode::OK,
        EndpointView::of(&rotated.endpoint, rotated.secret),
    ))
}

#[derive(Deserialize)]
pub struct DeliveryQuery {
    limit: Option<String>,
    cursor: Option<String>,
}

#[utoipa::path(get, path = "/v1/webhook_endpoints/{id}/deliveries", operation_id = "listWebhookDeliveries",
    summary = "List a webhook endpoint's delivery attempts",
    security(("platformKey" = ["webhooks:manage"])),
    tag = "webhooks",
    params(("id" = uuid::Uuid, Path),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 100, description = "1 to 100, default 20"),
        ("cursor" = Option<String>, Query, pattern = "^([0-9]{1,19})?$")),
    responses(
        (status = 200, description = "One row per attempt, newest first", body = DeliveryPage),
        (status = 400, description = "malformed_request: a limit or cursor this API does not take", body = ErrorBody),
        (status = 403, description = "key_mode_mismatch; forbidden: the key lacks webhooks:manage", body = ErrorBody)))]
pub async fn deliveries(
    State(state): State<AppState>,
    Platform(who): Platform,
    Path(id): Path<String>,
    Query(q): Query<DeliveryQuery>,
) -> ApiResult<axum::Json<DeliveryPage>> {
    let limit = match q.limit.as_deref() {
        None => 20,
        Some(text) => text
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=webhooks::MAX_PAGE).contains(n))
            .ok_or_else(|| {
                AppError::malformed(
                    "limit must be a whole number from 1 to 100.",
                    "limit 必须是 1 到 100 之间的整数。",
                )
            })?,
    };
    let before = match q.cursor.as_deref() {
        None | Some("") => None,
        Some(text) => Some(crate::api::events::position(text).ok_or_else(|| {
            AppError::malformed(
                "The cursor is not one this service gave.",
                "cursor 不是本服务给出的值。",
            )
        })?),
    };
    let (rows, more) = webhooks::deliveries(&state, &who, &id, before, limit).await?;
    let next_cursor = if more {
        rows.last().map(|r| r.position.to_string())
    } else {
        None
    };
    Ok(axum::Json(DeliveryPage {
        deliveries: rows
            .iter()
            .map(|r| DeliveryView {
                id: r.id,
                event_id: r.event_id.clone(),
                attempt: r.attempt,
                state: r.state.as_str().into(),
                status_code: r.status_code,
                error: r.error.clone(),
                at: Timestamp(r.at),
                next_attempt_at: r.next_attempt_at.map(Timestamp),
                livemode: r.livemode,
            })
            .collect(),
        next_cursor,
    }))
}

#[utoipa::path(post, path = "/v1/events/{id}/resend", operation_id = "resendEvent",
    summary = "Send an event again to every endpoint that takes it",
    security(("platformKey" = ["webhooks:manage"])),
    tag = "webhooks",
    params(("id" = String, Path)),
    responses(
        (status = 202, description = "A new delivery to every enabled endpoint that takes the event's type", body = Resent),
        (status = 403, description = "key_mode_mismatch; forbidden: the key lacks webhooks:manage", body = ErrorBody)))]
pub async fn resend(
    State(state): State<AppState>,
    Platform(who): Platform,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, axum::Json<Resent>)> {
    webhooks::resend(&state, &who, &id).await?;
    Ok((StatusCode::ACCEPTED, axum::Json(Resent { event_id: id })))
}
