//! Accounts and sessions over JSON; the work is in `realname_app::accounts`.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use realname_app::accounts::{self, Credentials};
use realname_app::views::Timestamp;
use realname_core::Code;

use crate::api::answers::{AccountCreated, ErrorBody, MeView, SessionCreated};
use crate::api::requests::{CredentialsBody, SignInBody};
use crate::auth::{Signed, bearer};
use crate::client::ClientAddress;
use crate::error::{ApiError, ApiResult};
use crate::extract::Json;
use crate::state::AppState;

#[utoipa::path(post, path = "/v1/accounts", operation_id = "createAccount",
    summary = "Register an account",
    tag = "accounts", request_body = CredentialsBody,
    responses(
        (status = 201, description = "Registered", body = AccountCreated),
        (status = 409, description = "login_taken", body = ErrorBody),
        (status = 422, description = "validation_failed: login_invalid, password_too_weak, field_required", body = ErrorBody),
        (status = 429, description = "rate_limited: too many registrations from this address", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait")))))]
pub async fn register(
    State(state): State<AppState>,
    ClientAddress(from): ClientAddress,
    Json(body): Json<CredentialsBody>,
) -> ApiResult<(StatusCode, axum::Json<AccountCreated>)> {
    let (login, password) = Credentials::from(body).fields()?;
    let account = accounts::create_user(&state, &login, password, &from).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(AccountCreated {
            id: account.id,
            login: account.login,
        }),
    ))
}

#[utoipa::path(post, path = "/v1/sessions", operation_id = "createSession",
    summary = "Sign in",
    tag = "accounts", request_body = SignInBody,
    responses(
        (status = 201, description = "Signed in", body = SessionCreated),
        (status = 401, description = "invalid_credentials: a wrong login or password, or for staff a missing, wrong or already used code", body = ErrorBody),
        (status = 422, description = "validation_failed: field_required", body = ErrorBody),
        (status = 429, description = "rate_limited: too many failures for this login from this address, or too many sign-ins from this address", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait")))))]
pub async fn login(
    State(state): State<AppState>,
    ClientAddress(from): ClientAddress,
    Json(body): Json<SignInBody>,
) -> ApiResult<Response> {
    let code = body.totp;
    let credentials = Credentials {
        login: body.login,
        password: body.password,
    };
    let (login, password) = credentials.fields()?;
    let from = accounts::SignInFrom {
        address: &from,
        browser: None,
    };
    let session = accounts::open_session(&state, &login, password, code.as_deref(), from).await?;
    let mut response = (
        StatusCode::CREATED,
        axum::Json(SessionCreated {
            token: Some(session.token),
            expires_at: Timestamp(session.expires_at),
        }),
    )
        .into_response();
    // The token is sent, never kept to be replayed.
    response
        .extensions_mut()
        .insert(crate::idempotency::Secrets(&["token"]));
    Ok(response)
}

#[utoipa::path(delete, path = "/v1/sessions/current", operation_id = "deleteCurrentSession",
    summary = "Sign out",
    security(("userSession" = []), ("staffSession" = [])),
    tag = "accounts",
    responses((status = 204, description = "Signed out")))]
pub async fn logout(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    let token = bearer(&headers).ok_or_else(|| ApiError::new(Code::Unauthorized))?;
    accounts::close_session(&state, token).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[utoipa::path(get, path = "/v1/me", operation_id = "getMe",
    summary = "Read the signed-in account",
    security(("userSession" = []), ("staffSession" = [])),
    tag = "accounts",
    responses((status = 200, description = "The caller", body = MeView)))]
pub async fn me(
    State(state): State<AppState>,
    Signed(who): Signed,
) -> ApiResult<axum::Json<MeView>> {
    let me = accounts::me(&state, &who).await?;
    Ok(axum::Json(MeView {
        id: me.account.id,
        login: me.account.login,
        role: me.account.role,
        real_name_status: me.real_name_status,
        real_name: me.real_name,
    }))
}
