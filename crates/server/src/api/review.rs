//! The review queue, claims, decisions and the audit trail over JSON; the work itself is in
//! `crate::casework`.

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use realname_core::review::DecisionForm;
use realname_core::store::{CaseFilter, CaseRecord};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use realname_app::{casework, views};

use crate::auth::Signed;
use crate::error::{ApiError, ApiResult};
use crate::extract::Json;
use crate::state::AppState;

const MAX_PAGE: u32 = 100;

#[derive(Deserialize)]
pub struct CaseQuery {
    status: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

fn encode_cursor(case: &CaseRecord) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}|{}", case.due_at.to_rfc3339(), case.id))
}

fn decode_cursor(text: &str) -> Option<(DateTime<Utc>, Uuid)> {
    let bytes = URL_SAFE_NO_PAD.decode(text).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (due, id) = text.split_once('|')?;
    Some((
        DateTime::parse_from_rfc3339(due).ok()?.with_timezone(&Utc),
        Uuid::parse_str(id).ok()?,
    ))
}

/// `open` (the default), `claimed` or `decided`.
pub fn parse_filter(text: Option<&str>) -> Option<CaseFilter> {
    match text.unwrap_or("open") {
        "open" => Some(CaseFilter::Open),
        "claimed" => Some(CaseFilter::Claimed),
        "decided" => Some(CaseFilter::Decided),
        _ => None,
    }
}

#[utoipa::path(get, path = "/v1/review/cases", tag = "review", security(("bearer" = [])), params(("status" = Option<String>, Query, description = "open (default), claimed or decided"), ("limit" = Option<u32>, Query, description = "1 to 100, default 20"), ("cursor" = Option<String>, Query)), responses((status = 200, description = "Overdue first, then oldest first", body = crate::openapi::CasePage), (status = 403, description = "forbidden", body = crate::openapi::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Signed(who): Signed,
    Query(q): Query<CaseQuery>,
) -> ApiResult<Response> {
    // Staff only, before anything of the request is judged.
    who.staff()?;
    let filter = parse_filter(q.status.as_deref())
        .ok_or_else(|| ApiError::malformed("status must be open, claimed or decided."))?;
    let limit = match q.limit.as_deref() {
        None => 20,
        Some(text) => text
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=MAX_PAGE).contains(n))
            .ok_or_else(|| {
                ApiError::malformed(format!(
                    "limit must be a whole number from 1 to {MAX_PAGE}."
                ))
            })?,
    };
    let after = match q.cursor.as_deref() {
        None | Some("") => None,
        Some(text) => Some(
            decode_cursor(text)
                .ok_or_else(|| ApiError::malformed("The cursor is not one this service gave."))?,
        ),
    };
    let (page, more) = casework::queue(&state, &who, filter, after, limit).await?;
    let now = state.now();
    let items: Vec<Value> = page
        .iter()
        .map(|(case, flags)| views::case_summary(case, now, flags))
        .collect();
    let next_cursor = if more {
        page.last().map(|(case, _)| encode_cursor(case))
    } else {
        None
    };
    Ok(axum::Json(json!({"cases": items, "next_cursor": next_cursor})).into_response())
}

#[utoipa::path(get, path = "/v1/review/cases/{id}", tag = "review", security(("bearer" = [])), params(("id" = uuid::Uuid, Path)), responses((status = 200, description = "Everything unmasked, audited", body = crate::openapi::Case), (status = 403, description = "forbidden", body = crate::openapi::ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    Signed(who): Signed,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let (case, app, opened, flags) = casework::reveal(&state, &who, &id).await?;
    let mut body = views::case_summary(&case, state.now(), &flags);
    let images: Vec<Value> = app
        .images
        .iter()
        .map(|i| {
            json!({"slot": i.slot, "content_type": i.content_type, "bytes": i.bytes,
                   "href": format!("/v1/review/cases/{}/documents/{}", case.id, i.slot)})
        })
        .collect();
    if let Some(map) = body.as_object_mut() {
        map.insert(
            "application".into(),
            views::render(&state, &app, &opened, true),
        );
        map.insert("images".into(), json!(images));
    }
    Ok(axum::Json(body).into_response())
}

#[utoipa::path(get, path = "/v1/review/cases/{id}/documents/{slot}", tag = "review", security(("bearer" = [])), params(("id" = uuid::Uuid, Path), ("slot" = String, Path)), responses((status = 200, description = "The image, audited", content_type = "application/octet-stream"), (status = 404, description = "not_found", body = crate::openapi::ErrorBody)))]
pub async fn document(
    State(state): State<AppState>,
    Signed(who): Signed,
    Path((id, slot)): Path<(String, String)>,
) -> ApiResult<Response> {
    let (meta, bytes) = casework::document(&state, &who, &id, &slot).await?;
    Ok((
        [
            (header::CONTENT_TYPE, meta.content_type),
            (header::CACHE_CONTROL, "no-store".to_owned()),
            (header::CONTENT_DISPOSITION, "inline".to_owned()),
        ],
        bytes,
    )
        .into_response())
}

#[utoipa::path(post, path = "/v1/review/cases/{id}/claim", tag = "review", security(("bearer" = [])), params(("id" = uuid::Uuid, Path)), responses((status = 200, description = "Claimed", body = crate::openapi::Case), (status = 409, description = "case_claimed, invalid_state", body = crate::openapi::ErrorBody)))]
pub async fn claim(
    State(state): State<AppState>,
    Signed(who): Signed,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let case = casework::claim(&state, &who, &id).await?;
    Ok(axum::Json(views::case_summary(&case, state.now(), &[])).into_response())
}

#[utoipa::path(post, path = "/v1/review/cases/{id}/decision", tag = "review", security(("bearer" = [])), params(("id" = uuid::Uuid, Path)), request_body = realname_core::review::DecisionForm, responses((status = 200, description = "Decided", body = crate::openapi::Case), (status = 409, description = "case_claimed, invalid_state", body = crate::openapi::ErrorBody), (status = 422, description = "validation_failed", body = crate::openapi::ErrorBody)))]
pub async fn decide(
    State(state): State<AppState>,
    Signed(who): Signed,
    Path(id): Path<String>,
    Json(form): Json<DecisionForm>,
) -> ApiResult<Response> {
    let case = casework::decide(&state, &who, &id, &form).await?;
    Ok(axum::Json(views::case_summary(&case, state.now(), &[])).into_response())
}

#[derive(Deserialize)]
pub struct AuditQuery {
    verification_id: Option<String>,
}

#[utoipa::path(get, path = "/v1/audit", tag = "review", security(("bearer" = [])), params(("verification_id" = Option<uuid::Uuid>, Query)), responses((status = 200, description = "The audit trail (admin)", body = crate::openapi::AuditTrail), (status = 403, description = "forbidden", body = crate::openapi::ErrorBody)))]
pub async fn audit_trail(
    State(state): State<AppState>,
    Signed(who): Signed,
    Query(q): Query<AuditQuery>,
) -> ApiResult<Response> {
    who.admin()?;
    let filter = match q.verification_id.as_deref() {
        None | Some("") => None,
        Some(text) => Some(
            Uuid::parse_str(text)
                .map_err(|_| ApiError::malformed("verification_id must be an id."))?,
        ),
    };
    let entries = casework::audit_trail(&state, &who, filter, 1000).await?;
    let items: Vec<Value> = entries
        .iter()
        .map(|e| {
            json!({"id": e.id, "at": views::time(e.at), "actor": e.actor, "action": e.action,
                   "verification_id": e.application_id,
                   "detail": serde_json::from_str::<Value>(&e.detail).unwrap_or(Value::Null)})
        })
        .collect();
    Ok(axum::Json(json!({"entries": items})).into_response())
}
