//! The sandbox's own endpoints: the bank statement and the clock (CONTRACT 4, Sandbox).

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use realname_core::Code;
use realname_core::card::CardNumber;
use realname_core::deposit::Fen;
use serde::Deserialize;
use serde_json::{Value, json};

use realname_app::{views, workers};

use crate::error::{ApiError, ApiResult};
use crate::extract::Json;
use crate::state::AppState;

/// Ten years: far enough for any test of expiry, small enough to keep dates sane.
const MAX_ADVANCE_SECONDS: i64 = 10 * 365 * 86_400;

#[derive(Deserialize)]
pub struct StatementQuery {
    card_number: Option<String>,
}

#[utoipa::path(get, path = "/v1/sandbox/bank/statement", tag = "sandbox", params(("card_number" = String, Query)), responses((status = 200, description = "What the bank shows", body = crate::openapi::Statement)))]
pub async fn statement(
    State(state): State<AppState>,
    Query(q): Query<StatementQuery>,
) -> ApiResult<Response> {
    let card = q
        .card_number
        .as_deref()
        .and_then(CardNumber::parse)
        .ok_or_else(|| realname_app::AppError::field("card_number", Code::CardNumberInvalid))?;
    let bank = state
        .sandbox
        .as_ref()
        .ok_or_else(|| ApiError::new(Code::NotFound))?;
    let rows = bank.statement(&card, state.now()).await?;
    let transactions: Vec<Value> = rows
        .iter()
        .map(|t| json!({"amount": Fen::new(t.amount_fen).to_string(), "currency": "CNY", "memo": t.memo, "at": views::time(t.at)}))
        .collect();
    Ok(axum::Json(json!({"transactions": transactions})).into_response())
}

#[derive(Deserialize)]
pub struct Advance {
    seconds: Option<Value>,
}

#[utoipa::path(post, path = "/v1/sandbox/clock/advance", tag = "sandbox", request_body = crate::openapi::ClockAdvance, responses((status = 200, description = "The clock moved and what fell due ran", body = crate::openapi::ClockNow)))]
pub async fn advance(
    State(state): State<AppState>,
    Json(body): Json<Advance>,
) -> ApiResult<Response> {
    let seconds = body
        .seconds
        .as_ref()
        .and_then(Value::as_i64)
        .filter(|s| (0..=MAX_ADVANCE_SECONDS).contains(s))
        .ok_or_else(|| {
            ApiError::malformed(format!(
                "seconds must be a whole number from 0 to {MAX_ADVANCE_SECONDS}."
            ))
        })?;
    workers::advance_sandbox_clock(&state, seconds).await?;
    Ok(axum::Json(json!({"now": views::time(state.now())})).into_response())
}
