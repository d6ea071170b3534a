//! The review queue, claims, decisions and the audit trail over JSON; the work itself is in
//! `crate::casework`.

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use realname_core::store::{CaseFilter, CaseKind, CaseRecord};
use serde::Deserialize;
use uuid::Uuid;

use realname_app::views::CaseView;
use realname_app::{AppError, casework, views};
use realname_core::documents::ImageSlot;

use crate::api::answers::{
    AuditTrail, AuditView, CaseDetail, CaseImage, CasePage, ErrorBody, HitView, ScreeningCaseView,
};
use crate::api::requests::{DecisionBody, ScreeningDecisionBody};
use crate::auth::Signed;
use crate::error::ApiResult;
use crate::extract::Json;
use crate::state::AppState;

const MAX_PAGE: u32 = 100;

#[derive(Deserialize)]
pub struct CaseQuery {
    status: Option<String>,
    kind: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

/// Where the next page starts: the last case's due time (microseconds, as 16 hex digits) and
/// id (32 hex digits). Every string of that shape is a position in the queue, so the document
/// can say exactly which cursors the API takes.
fn encode_cursor(case: &CaseRecord) -> String {
    format!(
        "{:016x}{}",
        case.due_at.timestamp_micros() as u64,
        case.id.simple()
    )
}

fn decode_cursor(text: &str) -> Option<(DateTime<Utc>, Uuid)> {
    if text.len() != 48 || !text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    let micros = u64::from_str_radix(&text[..16], 16).ok()? as i64;
    // A position before or after every case is still a position: held to years 1 to 9999,
    // which every store can compare with (PostgreSQL's timestamps end at 4713 BC).
    let (first, last) = (-62_135_596_800_000_000, 253_402_300_799_999_999);
    let due = DateTime::from_timestamp_micros(micros.clamp(first, last))?;
    Some((due, Uuid::parse_str(&text[16..]).ok()?))
}

/// `open` (the default), `claimed`, `awaiting_second_approval`, `delisted` or `decided`.
pub fn parse_filter(text: Option<&str>) -> Option<CaseFilter> {
    match text.unwrap_or("open") {
        "open" => Some(CaseFilter::Open),
        "claimed" => Some(CaseFilter::Claimed),
        "awaiting_second_approval" => Some(CaseFilter::AwaitingSecondApproval),
        "delisted" => Some(CaseFilter::Delisted),
        "decided" => Some(CaseFilter::Decided),
        _ => None,
    }
}

#[utoipa::path(get, path = "/v1/review/cases", operation_id = "listReviewCases",
    summary = "List review cases",
    security(("staffSession" = [])),
    tag = "review",
    params(
        ("status" = Option<views::CaseStatus>, Query, description = "open (the default), claimed, awaiting_second_approval, delisted or decided"),
        ("kind" = Option<views::CaseKindName>, Query, description = "application or screening; every kind when left out"),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 100, description = "1 to 100, default 20"),
        ("cursor" = Option<String>, Query, pattern = "^([0-9a-f]{48})?$", description = "next_cursor of the page before; empty for the first page")),
    responses(
        (status = 200, description = "Overdue first, then oldest first", body = CasePage),
        (status = 400, description = "malformed_request: a status, limit or cursor this API does not take", body = ErrorBody),
        (status = 403, description = "forbidden: staff only", body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Signed(who): Signed,
    Query(q): Query<CaseQuery>,
) -> ApiResult<axum::Json<CasePage>> {
    // Staff only, before anything of the request is judged.
    who.staff()?;
    let filter = parse_filter(q.status.as_deref()).ok_or_else(|| {
        AppError::malformed(
            "status must be open, claimed, awaiting_second_approval, delisted or decided.",
            "status 只能是 open、claimed、awaiting_second_approval、delisted 或 decided。",
        )
    })?;
    let kind = match q.kind.as_deref() {
        None => None,
        Some(text) => Some(CaseKind::parse(text).ok_or_else(|| {
            AppError::malformed(
                "kind must be application or screening.",
                "kind 只能是 application 或 screening。",
            )
        })?),
    };
    let limit = match q.limit.as_deref() {
        None => 20,
        Some(text) => text
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=MAX_PAGE).contains(n))
            .ok_or_else(|| {
                AppError::malformed(
                    format!("limit must be a whole number from 1 to {MAX_PAGE}."),
                    format!("limit 必须是 1 到 {MAX_PAGE} 之间的整数。"),
                )
            })?,
    };
    let after = match q.cursor.as_deref() {
        None | Some("") => None,
        Some(text) => Some(decode_cursor(text).ok_or_else(|| {
            AppError::malformed(
                "The cursor is not one this service gave.",
                "cursor 不是本服务给出的值。",
            )
        })?),
    };
    let (page, more) = casework::queue(&state, &who, filter, kind, after, limit).await?;
    let now = state.now();
    let cases = page
        .iter()
        .map(|(case, flags)| views::case_summary(case, now, flags))
        .collect();
    let next_cursor = if more {
        page.last().map(|(case, _)| encode_cursor(case))
    } else {
        None
    };
    Ok(axum::Json(CasePage { cases, next_cursor }))
}

#[utoipa::path(get, path = "/v1/review/cases/{id}", operation_id = "getReviewCase",
    summary = "Read a review case",
    security(("staffSession" = [])),
    tag = "review",
    params(("id" = uuid::Uuid, Path)),
    responses(
        (status = 200, description = "The case and its application: unmasked with its images for the reviewer who holds its claim and for admins (the reveal is audited), masked and without images for other staff", body = CaseDetail),
        (status = 403, description = "forbidden: staff only", body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    Signed(who): Signed,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<CaseDetail>> {
    let (case, app, opened, flags, unmasked) = casework::reveal(&state, &who, &id).await?;
    let images = app
        .images
        .iter()
        .filter(|_| unmasked)
        .filter_map(|i| {
            Some(CaseImage {
                slot: ImageSlot::parse(&i.slot)?,
                content_type: i.content_type.clone(),
                bytes: i.bytes,
                href: format!("/v1/review/cases/{}/documents/{}", case.id, i.slot),
            })
        })
        .collect();
    let screening = match case.kind {
        CaseKind::Application | CaseKind::Periodic => None,
        CaseKind::Screening => Some(ScreeningCaseView {
            hits: casework::screening_hits(&state, &case)
                .await?
                .into_iter()
                .map(|h| HitView {
                    source: h.source,
                    entry_id: h.entry_id,
                    score: h.score,
                    names: h.names,
                    matched_name: h.matched_name,
                    matched: h.matched,
                    action: h.action,
                    disposition: h.disposition,
                })
                .collect(),
            report_reference: case.report_reference.clone(),
        }),
    };
    Ok(axum::Json(CaseDetail {
        case: views::case_summary(&case, state.now(), &flags),
        application: views::render(&state, &app, opened.as_ref(), unmasked),
        images,
        screening,
        risk: realname_app::risk::current(&state, app.id)
            .await?
            .as_ref()
            .map(views::CaseRiskView::of),
    }))
}

#[utoipa::path(get, path = "/v1/review/cases/{id}/documents/{slot}", operation_id = "getReviewCaseDocument",
    summary = "Open a case's document image",
    security(("staffSession" = [])),
    tag = "review",
    params(("id" = uuid::Uuid, Path), ("slot" = ImageSlot, Path)),
    responses(
        (status = 200, description = "The image as uploaded, in its own content type (the reveal is audited)"),
        (status = 403, description = "forbidden: only the reviewer who holds the claim and admins see the images", body = ErrorBody)))]
pub async fn document(
    State(state): State<AppState>,
    Signed(who): Signed,
    Path((id, slot)): Path<(String, String)>,
) -> ApiResult<Response> {
    let (meta, bytes) = casework::document(&state, &who, &id, &slot).await?;
    Ok(served_document(&meta, bytes))
}

/// A document as a reviewer's browser gets it, from the API or the pages: in a sandbox (no
/// script, no form, no same-origin access, whatever the file holds), never sniffed, and shown
/// in the page only when it is an image — anything else is a download.
pub fn served_document(meta: &realname_core::store::ImageMeta, bytes: Vec<u8>) -> Response {
    let disposition = if meta.content_type.starts_with("image/") {
        "inline".to_owned()
    } else {
        let extension = meta.content_type.rsplit('/').next().unwrap_or("bin");
        format!("attachment; filename=\"{}.{extension}\"", meta.slot)
    };
    (
        [
            (header::CONTENT_TYPE, meta.content_type.clone()),
            (header::CACHE_CONTROL, "no-store".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CONTENT_SECURITY_POLICY, "sandbox".to_owned()),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
        ],
        bytes,
    )
        .into_response()
}

#[utoipa::path(post, path = "/v1/review/cases/{id}/claim", operation_id = "claimReviewCase",
    summary = "Claim a case",
    security(("staffSession" = [])),
    tag = "review",
    params(("id" = uuid::Uuid, Path)),
    responses(
        (status = 200, description = "Claimed, until claimed_until", body = CaseView),
        (status = 403, description = "forbidden: staff only, and never on an application of their own account", body = ErrorBody),
        (status = 409, description = "case_claimed: held by another reviewer; invalid_state: decided", body = ErrorBody)))]
pub async fn claim(
    State(state): State<AppState>,
    Signed(who): Signed,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<CaseView>> {
    let case = casework::claim(&state, &who, &id).await?;
    Ok(axum::Json(views::case_summary(&case, state.now(), &[])))
}

#[utoipa::path(post, path = "/v1/review/cases/{id}/decision", operation_id = "decideReviewCase",
    summary = "Approve or reject a claimed case",
    security(("staffSession" = [])),
    tag = "review",
    params(("id" = uuid::Uuid, Path)),
    request_body = DecisionBody,
    responses(
        (status = 200, description = "Decided", body = CaseView),
        (status = 403, description = "forbidden: staff only, and never on an application of their own account", body = ErrorBody),
        (status = 409, description = "case_claimed: only the claimant decides; invalid_state: decided", body = ErrorBody),
        (status = 422, description = "validation_failed: an outcome, reason or note this API does not take", body = ErrorBody)))]
pub async fn decide(
    State(state): State<AppState>,
    Signed(who): Signed,
    Path(id): Path<String>,
    Json(form): Json<DecisionBody>,
) -> ApiResult<axum::Json<CaseView>> {
    let case = casework::decide(&state, &who, &id, &form.into()).await?;
    Ok(axum::Json(views::case_summary(&case, state.now(), &[])))
}

#[utoipa::path(post, path = "/v1/review/cases/{id}/screening_decision", operation_id = "decideScreeningCase",
    summary = "Dismiss or confirm a claimed screening case",
    security(("staffSession" = [])),
    tag = "review",
    params(("id" = uuid::Uuid, Path)),
    request_body = ScreeningDecisionBody,
    responses(
        (status = 200, description = "Decided, or awaiting its second approval (a confirmation, and a dismissal of a hit on a document number, take two staff members)", body = CaseView),
        (status = 403, description = "forbidden: staff only, never on an application of their own account, lift for admins only; second_approver_required: the first approver again", body = ErrorBody),
        (status = 409, description = "case_claimed: only the claimant decides; invalid_state: decided, or not a screening case", body = ErrorBody),
        (status = 422, description = "validation_failed: an outcome this API does not take, or a dismissal without a note", body = ErrorBody)))]
pub async fn decide_screening(
    State(state): State<AppState>,
    Signed(who): Signed,
    Path(id): Path<String>,
    Json(body): Json<ScreeningDecisionBody>,
) -> ApiResult<axum::Json<CaseView>> {
    let case = casework::decide_screening(
        &state,
        &who,
        &id,
        body.outcome.as_deref().unwrap_or(""),
        body.note.as_deref(),
        body.report_reference.as_deref(),
    )
    .await?;
    Ok(axum::Json(views::case_summary(&case, state.now(), &[])))
}

#[derive(Deserialize)]
pub struct AuditQuery {
    verification_id: Option<String>,
}

#[utoipa::path(get, path = "/v1/audit", operation_id = "listAuditEntries",
    summary = "Read the audit log",
    security(("staffSession" = [])),
    tag = "review",
    params(("verification_id" = Option<uuid::Uuid>, Query)),
    responses(
        (status = 200, description = "The audit trail, oldest first", body = AuditTrail),
        (status = 400, description = "malformed_request: verification_id is not an id", body = ErrorBody),
        (status = 403, description = "forbidden: admins only", body = ErrorBody)))]
pub async fn audit_trail(
    State(state): State<AppState>,
    Signed(who): Signed,
    Query(q): Query<AuditQuery>,
) -> ApiResult<axum::Json<AuditTrail>> {
    who.admin()?;
    let filter = match q.verification_id.as_deref() {
        None | Some("") => None,
        Some(text) => Some(Uuid::parse_str(text).map_err(|_| {
            AppError::malformed(
                "verification_id must be an id.",
                "verification_id 必须是一个 ID。",
            )
        })?),
    };
    let entries = casework::audit_trail(&state, &who, filter, 1000).await?;
    let entries = entries
        .iter()
        .map(|e| AuditView {
            id: e.id,
            at: views::Timestamp(e.at),
            actor: e.actor,
            action: e.action.clone(),
            verification_id: e.application_id,
            detail: serde_json::from_str(&e.detail).unwrap_or_else(|_| serde_json::json!({})),
        })
        .collect();
    Ok(axum::Json(AuditTrail { entries }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_cursor_of_the_documented_shape_is_a_position() {
        let case = CaseRecord {
            id: Uuid::from_u128(0xabc),
            application_id: Uuid::from_u128(1),
            account_id: Uuid::from_u128(2),
            submitted_at: Utc::now(),
            due_at: DateTime::from_timestamp_micros(1_780_000_000_123_456).unwrap_or_default(),
            claimed_by: None,
            claimed_until: None,
            decided_at: None,
            outcome: None,
            kind: CaseKind::Application,
            first: None,
            run_id: None,
            reopened_at: None,
            report_reference: None,
        };
        let cursor = encode_cursor(&case);
        assert_eq!(cursor.len(), 48);
        assert_eq!(decode_cursor(&cursor), Some((case.due_at, case.id)));
        // Far past and far future are positions too; other shapes are not cursors.
        assert!(decode_cursor(&"f".repeat(48)).is_some());
        assert!(decode_cursor(&format!("7{}", "f".repeat(47))).is_some());
        for bad in ["garbage", "", &"F".repeat(48), &"0".repeat(47)] {
            assert_eq!(decode_cursor(bad), None, "{bad}");
        }
    }

    fn meta(content_type: &str) -> realname_core::store::ImageMeta {
        realname_core::store::ImageMeta {
            slot: "stay_permit".into(),
            content_type: content_type.into(),
            bytes: 3,
            sha256: String::new(),
        }
    }

    #[test]
    fn documents_are_sandboxed_and_only_images_shown_inline() {
        let image = served_document(&meta("image/jpeg"), vec![1, 2, 3]);
        let pdf = served_document(&meta("application/pdf"), vec![1, 2, 3]);
        for answer in [&image, &pdf] {
            assert_eq!(answer.headers()[header::CONTENT_SECURITY_POLICY], "sandbox");
            assert_eq!(answer.headers()[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        }
        assert_eq!(image.headers()[header::CONTENT_DISPOSITION], "inline");
        assert_eq!(
            pdf.headers()[header::CONTENT_DISPOSITION],
            "attachment; filename=\"stay_permit.pdf\""
        );
    }
}
