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

#[derive(Deserialize)]
pub struct StatementQuery {
    card_number: Option<String>,
}

#[utoipa::path(get, path = "/v1/sandbox/bank/statement", operation_id = "getSandboxStatement",
    summary = "Read the sandbox bank's statement of a card",
    tag = "sandbox",
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

#[utoipa::path(post, path = "/v1/sandbox/clock/advance", operation_id = "advanceSandboxClock",
    summary = "Move the sandbox clock forward",
    security(("staffSession" = []), ("platformKey" = [])),
    tag = "sandbox",
    request_body = AdvanceBody,
    responses(
        (status = 200, description = "The clock moved, and everything that fell due ran", body = ClockNow),
        (status = 403, description = "forbidden: neither an admin nor a test key; key_mode_mismatch: a live key", body = ErrorBody),
        (status = 422, description = "validation_failed: sandbox_clock_out_of_range, for a step or a total past 3,650 days", body = ErrorBody)))]
pub async fn advance(
    State(state): State<AppState>,
    crate::auth::Anyone(who): crate::auth::Anyone,
    Json(body): Json<AdvanceBody>,
) -> ApiResult<axum::Json<ClockNow>> {
    // A whole number of any size is judged by its range (422); anything else is malformed.
    let seconds = match body.seconds.as_ref() {
        Some(Value::Number(n)) if n.is_i64() || n.is_u64() => n.as_i64().unwrap_or(i64::MAX),
        _ => {
            return Err(AppError::malformed(
                "seconds must be a whole number of seconds.",
                "seconds 必须是整数秒。",
            )
            .into());
        }
    };
    workers::advance_sandbox_clock(&state, &who, seconds).await?;
    Ok(axum::Json(ClockNow {
        now: Timestamp(state.now()),
    }))
}

#[utoipa::path(post, path = "/v1/sandbox/verifications/{id}/review", operation_id = "reviewSandboxVerification",
    summary = "Decide an application under review, as a reviewer would",
    security(("platformKey" = [])),
    tag = "sandbox",
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
