//! Accounts and sessions over JSON; the work is in `realname_app::accounts`.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use realname_app::accounts::{self, Credentials};
use realname_core::Code;
use serde::Deserialize;
use serde_json::json;

use crate::auth::{Signed, bearer};
use crate::error::{ApiError, ApiResult};
use crate::extract::Json;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct CredentialsBody {
    login: Option<String>,
    password: Option<String>,
}

impl From<CredentialsBody> for Credentials {
    fn from(body: CredentialsBody) -> Credentials {
        Credentials {
            login: body.login,
            password: body.password,
        }
    }
}

#[utoipa::path(post, path = "/v1/accounts", tag = "accounts", request_body = crate::openapi::Credentials, responses((status = 201, description = "Registered", body = crate::openapi::AccountView), (status = 409, description = "login_taken", body = crate::openapi::ErrorBody), (status = 422, description = "password_too_weak, login_invalid", body = crate::openapi::ErrorBody)))]
pub async fn register(
    State(state): State<AppState>,
    Json(body): Json<CredentialsBody>,
) -> ApiResult<Response> {
    let (login, password) = Credentials::from(body).fields()?;
    let account = accounts::create_user(&state, &login, password).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({"id": account.id, "login": account.login})),
    )
        .into_response())
}

#[utoipa::path(post, path = "/v1/sessions", tag = "accounts", request_body = crate::openapi::Credentials, responses((status = 201, description = "Logged in", body = crate::openapi::Session), (status = 401, description = "invalid_credentials", body = crate::openapi::ErrorBody), (status = 429, description = "rate_limited, with Retry-After", body = crate::openapi::ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    Json(body): Json<CredentialsBody>,
) -> ApiResult<Response> {
    let (login, password) = Credentials::from(body).fields()?;
    let session = accounts::open_session(&state, &login, password).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({"token": session.token, "expires_at": realname_app::views::time(session.expires_at)})),
    )
        .into_response())
}

#[utoipa::path(delete, path = "/v1/sessions/current", tag = "accounts", security(("bearer" = [])), responses((status = 204, description = "Logged out"), (status = 401, description = "Not logged in", body = crate::openapi::ErrorBody)))]
pub async fn logout(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    let token = bearer(&headers).ok_or_else(|| ApiError::new(Code::Unauthorized))?;
    accounts::close_session(&state, token).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[utoipa::path(get, path = "/v1/me", tag = "accounts", security(("bearer" = [])), responses((status = 200, description = "The caller", body = crate::openapi::AccountView), (status = 401, description = "Not logged in", body = crate::openapi::ErrorBody)))]
pub async fn me(State(state): State<AppState>, Signed(who): Signed) -> ApiResult<Response> {
    let me = accounts::me(&state, &who).await?;
    let mut body = json!({
        "id": me.account.id,
        "login": me.account.login,
        "role": me.account.role,
        "real_name_status": me.real_name_status,
    });
    if let Some(name) = me.real_name
        && let Some(map) = body.as_object_mut()
    {
        map.insert("real_name".into(), json!(name));
    }
    Ok(axum::Json(body).into_response())
}
