//! The review queue, claims, decisions and the audit trail.

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use realname_core::Code;
use realname_core::applicant::{DateOfBirth, parse_date};
use realname_core::application::check_identity;
use realname_core::documents::ImageSlot;
use realname_core::review::{Decision, DecisionForm, FlagFacts, flags};
use realname_core::state::{Event, Status, transition};
use realname_core::store::{
    ApplicationRecord, AuditEntry, CaseFilter, CaseRecord, ClaimOutcome, StateChange,
};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::auth::{Admin, Staff};
use crate::error::{ApiError, ApiResult};
use crate::extract::Json;
use crate::state::AppState;
use crate::views::{self, Opened};

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

async fn case_flags(
    state: &AppState,
    app: &ApplicationRecord,
    opened: &Opened,
) -> ApiResult<Vec<Code>> {
    let form = &opened.form;
    let today = state.today();
    let Some(dob) = form.date_of_birth.as_deref().and_then(parse_date) else {
        return Ok(Vec::new());
    };
    let Ok(date_of_birth) = DateOfBirth::parse(&dob.to_string(), today) else {
        return Ok(Vec::new());
    };
    // The identity was valid when submitted; expiry is judged against the earliest date
    // whether or not a document has expired since.
    let identity = check_identity(form, app.created_at.date_naive())
        .ok()
        .map(|c| c.value);
    let (hashes, earliest_expiry) = match &identity {
        Some(i) => (
            i.document_numbers()
                .iter()
                .map(|n| state.document_hash(n.expose()))
                .collect::<Vec<_>>(),
            i.earliest_expiry(),
        ),
        None => (Vec::new(), None),
    };
    let duplicate_document = state
        .store
        .duplicate_document(app.account_id, &hashes)
        .await?;
    Ok(flags(
        &FlagFacts {
            duplicate_document,
            earliest_expiry,
            date_of_birth,
        },
        today,
    ))
}

#[utoipa::path(get, path = "/v1/review/cases", tag = "review", security(("bearer" = [])), params(("status" = Option<String>, Query, description = "open (default), claimed or decided"), ("limit" = Option<u32>, Query, description = "1 to 100, default 20"), ("cursor" = Option<String>, Query)), responses((status = 200, description = "Overdue first, then oldest first", body = crate::openapi::CasePage), (status = 403, description = "forbidden", body = crate::openapi::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    _staff: Staff,
    Query(q): Query<CaseQuery>,
) -> ApiResult<Response> {
    let filter = match q.status.as_deref().unwrap_or("open") {
        "open" => CaseFilter::Open,
        "claimed" => CaseFilter::Claimed,
        "decided" => CaseFilter::Decided,
        _ => {
            return Err(ApiError::malformed(
                "status must be open, claimed or decided.",
            ));
        }
    };
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
    let now = state.now();
    let mut cases = state
        .store
        .review_cases(filter, now, after, limit + 1)
        .await?;
    let more = cases.len() > limit as usize;
    cases.truncate(limit as usize);
    let mut items = Vec::with_capacity(cases.len());
    for case in &cases {
        let flags = match state.store.application(case.application_id).await? {
            Some(app) => {
                let opened = views::open(&state, &app)?;
                case_flags(&state, &app, &opened).await?
            }
            None => Vec::new(),
        };
        items.push(views::case_summary(case, now, &flags));
    }
    let next_cursor = if more {
        cases.last().map(encode_cursor)
    } else {
        None
    };
    Ok(axum::Json(json!({"cases": items, "next_cursor": next_cursor})).into_response())
}

async fn load_case(state: &AppState, id: &str) -> ApiResult<(CaseRecord, ApplicationRecord)> {
    let id = Uuid::parse_str(id).map_err(|_| ApiError::new(Code::NotFound))?;
    let case = state
        .store
        .review_case(id)
        .await?
        .ok_or_else(|| ApiError::new(Code::NotFound))?;
    let app = state
        .store
        .application(case.application_id)
        .await?
        .ok_or_else(|| ApiError::new(Code::NotFound))?;
    Ok((case, app))
}

/// What a claim or decision that did not go through tells the reviewer.
fn refused(outcome: ClaimOutcome) -> ApiResult<()> {
    match outcome {
        ClaimOutcome::Claimed => Ok(()),
        ClaimOutcome::HeldByAnother => Err(ApiError::new(Code::CaseClaimed)),
        ClaimOutcome::Decided => Err(ApiError::new(Code::InvalidState)),
        ClaimOutcome::NotFound => Err(ApiError::new(Code::NotFound)),
    }
}

fn audit(actor: Uuid, action: &str, app: Uuid, at: DateTime<Utc>, detail: Value) -> AuditEntry {
    AuditEntry {
        id: Uuid::new_v4(),
        at,
        actor,
        action: action.to_owned(),
        application_id: Some(app),
        detail: detail.to_string(),
    }
}

#[utoipa::path(get, path = "/v1/review/cases/{id}", tag = "review", security(("bearer" = [])), params(("id" = uuid::Uuid, Path)), responses((status = 200, description = "Everything unmasked, audited", body = crate::openapi::Case), (status = 403, description = "forbidden", body = crate::openapi::ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    Staff(staff): Staff,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let (case, app) = load_case(&state, &id).await?;
    let opened = views::open(&state, &app)?;
    let flags = case_flags(&state, &app, &opened).await?;
    let now = state.now();
    state
        .store
        .append_audit(&audit(
            staff.id,
            "reveal_application",
            app.id,
            now,
            json!({"case_id": case.id}),
        ))
        .await?;
    let mut body = views::case_summary(&case, now, &flags);
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
    Staff(staff): Staff,
    Path((id, slot)): Path<(String, String)>,
) -> ApiResult<Response> {
    let (case, app) = load_case(&state, &id).await?;
    let slot = ImageSlot::parse(&slot).ok_or_else(|| ApiError::new(Code::NotFound))?;
    let (meta, sealed) = state
        .store
        .image(app.id, slot.as_str())
        .await?
        .ok_or_else(|| ApiError::new(Code::NotFound))?;
    let bytes = state.open(&format!("images.{}", slot.as_str()), app.id, &sealed)?;
    state
        .store
        .append_audit(&audit(
            staff.id,
            "reveal_document",
            app.id,
            state.now(),
            json!({"case_id": case.id, "slot": meta.slot}),
        ))
        .await?;
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
    Staff(staff): Staff,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let (case, _) = load_case(&state, &id).await?;
    let now = state.now();
    refused(
        state
            .store
            .claim_case(case.id, staff.id, now, now + state.config.claim_ttl)
            .await?,
    )?;
    let case = state
        .store
        .review_case(case.id)
        .await?
        .ok_or_else(|| ApiError::new(Code::NotFound))?;
    Ok(axum::Json(views::case_summary(&case, now, &[])).into_response())
}

#[utoipa::path(post, path = "/v1/review/cases/{id}/decision", tag = "review", security(("bearer" = [])), params(("id" = uuid::Uuid, Path)), request_body = realname_core::review::DecisionForm, responses((status = 200, description = "Decided", body = crate::openapi::Case), (status = 409, description = "case_claimed, invalid_state", body = crate::openapi::ErrorBody), (status = 422, description = "validation_failed", body = crate::openapi::ErrorBody)))]
pub async fn decide(
    State(state): State<AppState>,
    Staff(staff): Staff,
    Path(id): Path<String>,
    Json(form): Json<DecisionForm>,
) -> ApiResult<Response> {
    let decision = Decision::parse(&form).map_err(ApiError::validation)?;
    let (case, app) = load_case(&state, &id).await?;
    if case.decided_at.is_some() || app.status != Status::UnderReview {
        return Err(ApiError::new(Code::InvalidState));
    }
    let now = state.now();
    let (event, outcome, reason, note) = match &decision {
        Decision::Approve { note } => (Event::Approve, "approve", None, note.clone()),
        Decision::Reject { reason, note } => (
            Event::Reject(*reason),
            "reject",
            Some(reason.code()),
            note.clone(),
        ),
    };
    let moved =
        transition(Status::UnderReview, &event).map_err(|_| ApiError::new(Code::InvalidState))?;
    let change = StateChange::new(app.id, Status::UnderReview, moved, now);
    let entry = audit(
        staff.id,
        "decide",
        app.id,
        now,
        json!({"case_id": case.id, "outcome": outcome, "reason": reason, "note": note}),
    );
    refused(
        state
            .store
            .decide_case(case.id, staff.id, outcome, &change, &entry)
            .await?,
    )?;
    let case = state
        .store
        .review_case(case.id)
        .await?
        .ok_or_else(|| ApiError::new(Code::NotFound))?;
    Ok(axum::Json(views::case_summary(&case, now, &[])).into_response())
}

#[derive(Deserialize)]
pub struct AuditQuery {
    verification_id: Option<String>,
}

#[utoipa::path(get, path = "/v1/audit", tag = "review", security(("bearer" = [])), params(("verification_id" = Option<uuid::Uuid>, Query)), responses((status = 200, description = "The audit trail (admin)", body = crate::openapi::AuditTrail), (status = 403, description = "forbidden", body = crate::openapi::ErrorBody)))]
pub async fn audit_trail(
    State(state): State<AppState>,
    _admin: Admin,
    Query(q): Query<AuditQuery>,
) -> ApiResult<Response> {
    let filter = match q.verification_id.as_deref() {
        None | Some("") => None,
        Some(text) => Some(
            Uuid::parse_str(text)
                .map_err(|_| ApiError::malformed("verification_id must be an id."))?,
        ),
    };
    let entries = state.store.audit_trail(filter, 1000).await?;
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
