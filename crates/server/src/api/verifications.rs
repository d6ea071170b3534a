//! The user's application: create, edit, documents, bank card, submit, confirm, cancel.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use rand::TryRngCore;
use realname_core::application::{
    ApplicationForm, SubmissionInput, check_identity, check_new_application, check_submission,
};
use realname_core::deposit::{Answer, Fen, SettledDeposit, end_to_end_id};
use realname_core::documents::{ImageFormat, ImageSlot, MAX_IMAGE_BYTES};
use realname_core::name::RealName;
use realname_core::policy::BankCardForm;
use realname_core::state::{Event, Status, may_apply, transition};
use realname_core::store::{
    ApplicationRecord, Applied, Consent, ImageMeta, NewApplication, StateChange, StoredCard,
    SubmitCommand, SubmitOutcome,
};
use realname_core::{Code, Report};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::extract::Json;
use crate::state::AppState;
use crate::views::{self, encode_warnings};

fn ok(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}

/// The caller's own application, or 404: another's is indistinguishable from none.
async fn owned(state: &AppState, user: &CurrentUser, id: &str) -> ApiResult<ApplicationRecord> {
    let id = Uuid::parse_str(id).map_err(|_| ApiError::new(Code::NotFound))?;
    match state.store.application(id).await? {
        Some(app) if app.account_id == user.0.id => Ok(app),
        _ => Err(ApiError::new(Code::NotFound)),
    }
}

async fn reload(state: &AppState, id: Uuid) -> ApiResult<ApplicationRecord> {
    state
        .store
        .application(id)
        .await?
        .ok_or_else(|| ApiError::new(Code::NotFound))
}

fn require_draft(app: &ApplicationRecord) -> ApiResult<()> {
    if app.status == Status::Draft {
        Ok(())
    } else {
        Err(ApiError::new(Code::InvalidState))
    }
}

fn document_hashes(
    state: &AppState,
    identity: &realname_core::application::Identity,
) -> Vec<Vec<u8>> {
    identity
        .document_numbers()
        .iter()
        .map(|n| state.document_hash(n.expose()))
        .collect()
}

fn seal_form(state: &AppState, id: Uuid, form: &ApplicationForm) -> ApiResult<Vec<u8>> {
    let json = serde_json::to_vec(form).map_err(|e| ApiError::internal("form", e))?;
    state.seal("applications.form", id, &json)
}

#[utoipa::path(post, path = "/v1/verifications", tag = "verifications", security(("bearer" = [])), request_body = realname_core::application::ApplicationForm, responses((status = 201, description = "A draft", body = crate::openapi::Application), (status = 409, description = "application_in_progress, already_verified", body = crate::openapi::ErrorBody), (status = 403, description = "application_blocked", body = crate::openapi::ErrorBody), (status = 422, description = "validation_failed", body = crate::openapi::ErrorBody), (status = 401, description = "Not logged in", body = crate::openapi::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Json(form): Json<ApplicationForm>,
) -> ApiResult<Response> {
    let history = state.store.applications_of(user.0.id).await?;
    may_apply(history.iter().map(|a| (a.status, a.failure.as_ref()))).map_err(ApiError::new)?;
    let checked = check_new_application(&form, state.today()).map_err(ApiError::validation)?;
    let id = Uuid::new_v4();
    let now = state.now();
    let new = NewApplication {
        id,
        account_id: user.0.id,
        form: seal_form(&state, id, &form)?,
        document_hashes: document_hashes(&state, &checked.value),
        warnings: encode_warnings(&checked.warnings),
        consent: Consent {
            at: now,
            version: state.config.consent_version.clone(),
            address: peer.ip().to_string(),
        },
        at: now,
    };
    state.store.create_application(&new).await?;
    let app = reload(&state, id).await?;
    Ok(ok(StatusCode::CREATED, views::application(&state, &app)?))
}

#[utoipa::path(get, path = "/v1/verifications", tag = "verifications", security(("bearer" = [])), responses((status = 200, description = "The caller's applications, newest first", body = crate::openapi::ApplicationList), (status = 401, description = "Not logged in", body = crate::openapi::ErrorBody)))]
pub async fn list(State(state): State<AppState>, user: CurrentUser) -> ApiResult<Response> {
    let apps = state.store.applications_of(user.0.id).await?;
    let items = apps
        .iter()
        .map(|a| views::application(&state, a))
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(ok(StatusCode::OK, json!({ "verifications": items })))
}

#[utoipa::path(get, path = "/v1/verifications/{id}", tag = "verifications", security(("bearer" = [])), params(("id" = uuid::Uuid, Path)), responses((status = 200, description = "The application", body = crate::openapi::Application), (status = 404, description = "not_found", body = crate::openapi::ErrorBody), (status = 401, description = "Not logged in", body = crate::openapi::ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let app = owned(&state, &user, &id).await?;
    Ok(ok(StatusCode::OK, views::application(&state, &app)?))
}

/// Fields present in the patch replace the stored ones; `documents.passport` and
/// `documents.stay_permit` are replaced as wholes.
fn merge(stored: ApplicationForm, patch: ApplicationForm) -> ApplicationForm {
    let docs = match (stored.documents, patch.documents) {
        (Some(old), Some(new)) => Some(realname_core::application::DocumentsForm {
            passport: new.passport.or(old.passport),
            stay_permit: new.stay_permit.or(old.stay_permit),
        }),
        (old, new) => new.or(old),
    };
    ApplicationForm {
        consent: stored.consent,
        real_name: patch.real_name.or(stored.real_name),
        nationality: patch.nationality.or(stored.nationality),
        date_of_birth: patch.date_of_birth.or(stored.date_of_birth),
        phone: patch.phone.or(stored.phone),
        documents: docs,
    }
}

#[utoipa::path(patch, path = "/v1/verifications/{id}", tag = "verifications", security(("bearer" = [])), params(("id" = uuid::Uuid, Path)), request_body = realname_core::application::ApplicationForm, responses((status = 200, description = "The draft", body = crate::openapi::Application), (status = 409, description = "invalid_state", body = crate::openapi::ErrorBody), (status = 422, description = "validation_failed", body = crate::openapi::ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Json(patch): Json<ApplicationForm>,
) -> ApiResult<Response> {
    let app = owned(&state, &user, &id).await?;
    require_draft(&app)?;
    let opened = views::open(&state, &app)?;
    let form = merge(opened.form, patch);
    let checked = check_identity(&form, state.today()).map_err(ApiError::validation)?;
    let sealed = seal_form(&state, app.id, &form)?;
    let applied = state
        .store
        .update_draft(
            app.id,
            &sealed,
            &document_hashes(&state, &checked.value),
            &encode_warnings(&checked.warnings),
            state.now(),
        )
        .await?;
    if applied == Applied::Moved {
        return Err(ApiError::new(Code::InvalidState));
    }
    let app = reload(&state, app.id).await?;
    Ok(ok(StatusCode::OK, views::application(&state, &app)?))
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
    user: CurrentUser,
    Path((id, slot)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    let app = owned(&state, &user, &id).await?;
    let slot = ImageSlot::parse(&slot).ok_or_else(|| ApiError::new(Code::NotFound))?;
    require_draft(&app)?;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_IMAGE_BYTES) {
        return Err(ApiError::new(Code::DocumentImageTooLarge));
    }
    let bytes = read_capped(body).await?;
    let format = ImageFormat::check_upload(&bytes, bytes.len() as u64).map_err(ApiError::new)?;
    let meta = ImageMeta {
        slot: slot.as_str().to_owned(),
        content_type: format.content_type().to_owned(),
        bytes: bytes.len() as u64,
        sha256: Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
    };
    let sealed = state.seal(&format!("images.{}", slot.as_str()), app.id, &bytes)?;
    if state
        .store
        .put_image(app.id, &meta, &sealed, state.now())
        .await?
        == Applied::Moved
    {
        return Err(ApiError::new(Code::InvalidState));
    }
    Ok(ok(
        StatusCode::OK,
        json!({"slot": meta.slot, "content_type": meta.content_type, "bytes": meta.bytes, "sha256": meta.sha256}),
    ))
}

#[utoipa::path(put, path = "/v1/verifications/{id}/bank_card", tag = "verifications", security(("bearer" = [])), params(("id" = uuid::Uuid, Path)), request_body = realname_core::policy::BankCardForm, responses((status = 200, description = "The draft, card masked", body = crate::openapi::Application), (status = 422, description = "validation_failed", body = crate::openapi::ErrorBody)))]
pub async fn put_bank_card(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Json(card): Json<BankCardForm>,
) -> ApiResult<Response> {
    let app = owned(&state, &user, &id).await?;
    require_draft(&app)?;
    let opened = views::open(&state, &app)?;
    let name = opened
        .form
        .real_name
        .as_deref()
        .and_then(|n| RealName::parse(n).ok())
        .ok_or_else(|| ApiError::field("real_name", Code::FieldRequired))?;
    let checked = state
        .policy
        .check_card(&card, &name)
        .map_err(ApiError::validation)?;
    let card_hash = state.card_hash(checked.card_number.expose());
    let history = state
        .store
        .card_history(user.0.id, &card_hash)
        .await?
        .check();
    if !history.is_clean() {
        return Err(ApiError::validation(history));
    }
    let stored_form = BankCardForm {
        bank: Some(checked.bank.clone()),
        card_number: Some(checked.card_number.expose().to_owned()),
        card_type: Some(checked.card_type.as_str().to_owned()),
        account_type: Some(checked.account_type.as_str().to_owned()),
        account_name: Some(checked.account_name.to_string()),
    };
    let json = serde_json::to_vec(&stored_form).map_err(|e| ApiError::internal("card", e))?;
    let stored = StoredCard {
        bank: checked.bank,
        sealed: state.seal("applications.card", app.id, &json)?,
        card_hash,
    };
    if state.store.set_card(app.id, &stored, state.now()).await? == Applied::Moved {
        return Err(ApiError::new(Code::InvalidState));
    }
    let app = reload(&state, app.id).await?;
    Ok(ok(StatusCode::OK, views::application(&state, &app)?))
}

#[utoipa::path(post, path = "/v1/verifications/{id}/submit", tag = "verifications", security(("bearer" = [])), params(("id" = uuid::Uuid, Path)), responses((status = 200, description = "deposit_pending", body = crate::openapi::Application), (status = 409, description = "invalid_state, deposit_limit_reached", body = crate::openapi::ErrorBody), (status = 422, description = "validation_failed", body = crate::openapi::ErrorBody)))]
pub async fn submit(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let app = owned(&state, &user, &id).await?;
    require_draft(&app)?;
    let opened = views::open(&state, &app)?;
    let images: Vec<ImageSlot> = app
        .images
        .iter()
        .filter_map(|i| ImageSlot::parse(&i.slot))
        .collect();
    let now = state.now();
    let submission = check_submission(&SubmissionInput {
        form: &opened.form,
        bank_card: opened.card.as_ref(),
        images: &images,
        policy: &state.policy,
        today: state.today(),
    })
    .map_err(ApiError::validation)?;
    let moved =
        transition(Status::Draft, &Event::Submit).map_err(|_| ApiError::new(Code::InvalidState))?;
    let amount = Fen::draw(&mut rand::rngs::OsRng.unwrap_err());
    let rules = &state.config.deposit;
    let command = SubmitCommand {
        application_id: app.id,
        account_id: user.0.id,
        transition: moved,
        at: now,
        card_hash: state.card_hash(submission.bank_card.card_number.expose()),
        document_hashes: document_hashes(&state, &submission.identity),
        warnings: encode_warnings(&submission.warnings),
        rounds_since: now - rules.rounds_window,
        max_rounds_per_card: rules.max_rounds_per_card,
        max_rounds_per_document: rules.max_rounds_per_document,
        end_to_end_id: end_to_end_id(app.id),
        sealed_amount: state.seal_amount(app.id, amount)?,
    };
    match state.store.submit(&command).await? {
        SubmitOutcome::Submitted => state.wake.notify_one(),
        SubmitOutcome::Moved => return Err(ApiError::new(Code::InvalidState)),
        SubmitOutcome::DepositLimitReached => return Err(ApiError::new(Code::DepositLimitReached)),
        SubmitOutcome::CardReturnedByBank => {
            return Err(ApiError::field(
                "bank_card.card_number",
                Code::CardReturnedByBank,
            ));
        }
        SubmitOutcome::CardInUse => {
            return Err(ApiError::field("bank_card.card_number", Code::CardInUse));
        }
    }
    let app = reload(&state, app.id).await?;
    Ok(ok(StatusCode::OK, views::application(&state, &app)?))
}

#[utoipa::path(post, path = "/v1/verifications/{id}/cancel", tag = "verifications", security(("bearer" = [])), params(("id" = uuid::Uuid, Path)), responses((status = 200, description = "cancelled", body = crate::openapi::Application), (status = 409, description = "invalid_state", body = crate::openapi::ErrorBody)))]
pub async fn cancel(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let app = owned(&state, &user, &id).await?;
    let moved =
        transition(app.status, &Event::Cancel).map_err(|_| ApiError::new(Code::InvalidState))?;
    let change = StateChange::new(app.id, app.status, moved, state.now());
    if state.store.apply(&change).await? == Applied::Moved {
        return Err(ApiError::new(Code::InvalidState));
    }
    let app = reload(&state, app.id).await?;
    Ok(ok(StatusCode::OK, views::application(&state, &app)?))
}

#[derive(Deserialize)]
pub struct AmountForm {
    amount: Option<Value>,
}

#[utoipa::path(post, path = "/v1/verifications/{id}/deposit_confirmation", tag = "verifications", security(("bearer" = [])), params(("id" = uuid::Uuid, Path)), request_body = crate::openapi::AmountAnswer, responses((status = 200, description = "under_review", body = crate::openapi::Application), (status = 409, description = "invalid_state (e.g. deposit_pending)", body = crate::openapi::ErrorBody), (status = 422, description = "amount_malformed, amount_incorrect, deposit_expired", body = crate::openapi::ErrorBody)))]
pub async fn confirm_deposit(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Json(body): Json<AmountForm>,
) -> ApiResult<Response> {
    let text = match &body.amount {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    };
    let mut app = owned(&state, &user, &id).await?;
    let entered = Fen::parse_deposit_answer(&text).map_err(ApiError::new)?;
    let rules = state.config.deposit;
    // A concurrent answer may move the attempt count between our read and our write; the
    // write is conditional on the count we read, so on a race we read again and judge again.
    for _ in 0..8 {
        if app.status != Status::AwaitingAmount {
            return Err(ApiError::new(Code::InvalidState));
        }
        let deposit = app
            .deposit
            .clone()
            .ok_or_else(|| ApiError::new(Code::InvalidState))?;
        let amount = state.open_amount(app.id, &deposit.amount)?;
        let now = state.now();
        let settled = SettledDeposit {
            amount,
            attempts_used: deposit.attempts_used,
            expires_at: deposit.expires_at.unwrap_or(now),
        };
        let answer = settled.answer(entered, now, &rules);
        let applied = match answer {
            Answer::Incorrect { .. } => {
                state
                    .store
                    .record_wrong_answer(app.id, deposit.attempts_used, now)
                    .await?
            }
            _ => {
                let event = answer
                    .event()
                    .ok_or_else(|| ApiError::new(Code::InvalidState))?;
                let moved = transition(Status::AwaitingAmount, &event)
                    .map_err(|_| ApiError::new(Code::InvalidState))?;
                let mut change = StateChange::new(app.id, Status::AwaitingAmount, moved, now);
                change.review_due_at = Some(now + state.config.review_sla);
                if let Answer::Exhausted { attempts_used } = answer {
                    change.attempts_used = Some(attempts_used);
                }
                state.store.apply(&change).await?
            }
        };
        if applied == Applied::Moved {
            app = reload(&state, app.id).await?;
            continue;
        }
        return match answer {
            Answer::Accepted => {
                let app = reload(&state, app.id).await?;
                Ok(ok(StatusCode::OK, views::application(&state, &app)?))
            }
            Answer::Incorrect {
                attempts_remaining, ..
            } => Err(incorrect(attempts_remaining)),
            Answer::Exhausted { .. } => Err(incorrect(0)),
            Answer::Expired => Err(ApiError::new(Code::DepositExpired)),
        };
    }
    Err(ApiError::new(Code::RequestInProgress))
}

fn incorrect(attempts_remaining: u32) -> ApiError {
    let mut report = Report::default();
    report.breaches.push(
        realname_core::Breach::new("amount", Code::AmountIncorrect)
            .with_detail(realname_core::Detail::AttemptsRemaining(attempts_remaining)),
    );
    ApiError {
        details: report.breaches,
        ..ApiError::new(Code::AmountIncorrect)
    }
    .with("attempts_remaining", json!(attempts_remaining))
}
