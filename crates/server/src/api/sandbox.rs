//! The sandbox's own endpoints: the bank statement and the clock (CONTRACT 4, Sandbox).

use axum::extract::{Query, State};
use realname_app::views::Timestamp;
use realname_app::{AppError, workers};
use realname_core::Code;
use realname_core::card::CardNumber;
use realname_core::deposit::Fen;
use serde::Deserialize;
use serde_json::Value;

use crate::api::answers::{ClockNow, ErrorBody, Statement, StatementLine};
use crate::api::requests::AdvanceBody;
use crate::error::ApiResult;
use crate::extract::Json;
use crate::state::AppState;

/// Ten years: far enough for any test of expiry, small enough to keep dates sane.
const MAX_ADVANCE_SECONDS: i64 = 10 * 365 * 86_400;

#[derive(Deserialize)]
pub struct StatementQuery {
    card_number: Option<String>,
}

#[utoipa::path(get, path = "/v1/sandbox/bank/statement", tag = "sandbox",
    params(("card_number" = String, Query, description = "16–19 digits; spaces are ignored")),
    responses(
        (status = 200, description = "What the user's bank shows", body = Statement),
        (status = 422, description = "validation_failed: card_number_invalid", body = ErrorBody)))]
pub async fn statement(
    State(state): State<AppState>,
    Query(q): Query<StatementQuery>,
) -> ApiResult<axum::Json<Statement>> {
    let card = q
        .card_number
        .as_deref()
        .and_then(CardNumber::parse)
        .ok_or_else(|| AppError::field("card_number", Code::CardNumberInvalid))?;
    let bank = state
        .sandbox
        .as_ref()
        .ok_or_else(|| AppError::new(Code::NotFound))?;
    let rows = bank.statement(&card, state.now()).await?;
    let transactions = rows
        .into_iter()
        .map(|t| StatementLine {
            amount: Fen::new(t.amount_fen).to_string(),
            currency: "CNY".into(),
            memo: t.memo,
            at: Timestamp(t.at),
        })
        .collect();
    Ok(axum::Json(Statement { transactions }))
}

#[utoipa::path(post, path = "/v1/sandbox/clock/advance", tag = "sandbox", request_body = AdvanceBody,
    responses((status = 200, description = "The clock moved, and everything that fell due ran", body = ClockNow)))]
pub async fn advance(
    State(state): State<AppState>,
    Json(body): Json<AdvanceBody>,
) -> ApiResult<axum::Json<ClockNow>> {
    let seconds = body
        .seconds
        .as_ref()
        .and_then(Value::as_i64)
        .filter(|s| (0..=MAX_ADVANCE_SECONDS).contains(s))
        .ok_or_else(|| {
            AppError::malformed(
                format!("seconds must be a whole number from 0 to {MAX_ADVANCE_SECONDS}."),
                format!("seconds 必须是 0 到 {MAX_ADVANCE_SECONDS} 之间的整数。"),
            )
        })?;
    workers::advance_sandbox_clock(&state, seconds).await?;
    Ok(axum::Json(ClockNow {
        now: Timestamp(state.now()),
    }))
}

#[utoipa::path(post, path = "/v1/sandbox/verifications/{id}/review", tag = "sandbox", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    request_body = crate::api::requests::DecisionBody,
    responses(
        (status = 200, description = "Decided, as a reviewer would (audited as the key)", body = realname_app::views::CaseView),
        (status = 403, description = "key_mode_mismatch: only a test key, beside the sandbox", body = ErrorBody),
        (status = 409, description = "invalid_state: not under review; case_claimed: a reviewer holds it", body = ErrorBody),
        (status = 422, description = "validation_failed: an outcome or reason this API does not take", body = ErrorBody)))]
pub async fn review(
    State(state): State<AppState>,
    crate::auth::Platform(who): crate::auth::Platform,
    axum::extract::Path(id): axum::extract::Path<String>,
    Json(body): Json<crate::api::requests::DecisionBody>,
) -> ApiResult<axum::Json<realname_app::views::CaseView>> {
    let case = realname_app::casework::decide_in_sandbox(&state, &who, &id, &body.into()).await?;
    Ok(axum::Json(realname_app::views::case_summary(
        &case,
        state.now(),
        &[],
    )))
}
