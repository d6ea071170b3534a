//! Accounts and sessions.

use axum::extract::State;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use realname_core::Code;
use realname_core::state::{Status, real_name_status};
use realname_core::store::{Account, Role};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use crate::auth::{self, CurrentUser};
use crate::error::{ApiError, ApiResult};
use crate::extract::Json;
use crate::state::AppState;
use crate::views;

#[derive(Deserialize)]
pub struct Credentials {
    login: Option<String>,
    password: Option<String>,
}

fn fields(c: Credentials) -> ApiResult<(String, String)> {
    let mut report = realname_core::Report::default();
    if c.login.as_deref().is_none_or(|l| l.trim().is_empty()) {
        report.breach("login", Code::FieldRequired);
    }
    if c.password.as_deref().is_none_or(str::is_empty) {
        report.breach("password", Code::FieldRequired);
    }
    match (c.login, c.password) {
        (Some(l), Some(p)) if report.is_clean() => Ok((l, p)),
        _ => Err(ApiError::validation(report)),
    }
}

/// Registers a user: the login normalised, the password checked and hashed. Shared by the
/// API and the pages.
pub async fn create_user(state: &AppState, login: &str, password: String) -> ApiResult<Account> {
    let login = auth::normalise_user_login(login)?;
    auth::check_password(&password)?;
    let account = Account {
        id: Uuid::new_v4(),
        login,
        password_hash: auth::hash_password(password).await?,
        role: Role::User,
        created_at: state.now(),
    };
    state
        .store
        .create_account(&account)
        .await
        .map_err(|e| match e {
            realname_core::store::StoreError::Conflict(_) => ApiError::new(Code::LoginTaken),
            other => other.into(),
        })?;
    Ok(account)
}

/// A new session for a login and password, with failed attempts slowed down per login.
/// Returns the account, the token and when it expires. Shared by the API and the pages.
pub async fn open_session(
    state: &AppState,
    login: &str,
    password: String,
) -> ApiResult<(Account, String, chrono::DateTime<chrono::Utc>)> {
    let key = auth::lookup_login(login);
    let now = state.now();
    let throttle = state.store.throttle(&key).await?;
    if let Some(until) = throttle.locked_until.filter(|u| *u > now) {
        let wait = (until - now).num_seconds().max(1) as u64;
        return Err(ApiError::new(Code::RateLimited).retry_after(wait));
    }
    let account = state.store.account_by_login(&key).await?;
    let hash = match &account {
        Some(a) => a.password_hash.clone(),
        None => auth::dummy_hash().await,
    };
    let verified = auth::verify_password(password, hash).await && account.is_some();
    let Some(account) = account.filter(|_| verified) else {
        let policy = realname_core::store::ThrottlePolicy::default();
        let throttle = state.store.record_login_failure(&key, now, &policy).await?;
        if let Some(until) = throttle.locked_until {
            let wait = (until - now).num_seconds().max(1) as u64;
            return Err(ApiError::new(Code::RateLimited).retry_after(wait));
        }
        return Err(ApiError::new(Code::InvalidCredentials));
    };
    if throttle.failures > 0 {
        state.store.clear_login_failures(&key).await?;
    }
    let token = auth::new_token()?;
    let expires_at = now + state.config.session_ttl;
    state
        .store
        .create_session(&auth::token_hash(&token), account.id, expires_at)
        .await?;
    Ok((account, token, expires_at))
}

#[utoipa::path(post, path = "/v1/accounts", tag = "accounts", request_body = crate::openapi::Credentials, responses((status = 201, description = "Registered", body = crate::openapi::AccountView), (status = 409, description = "login_taken", body = crate::openapi::ErrorBody), (status = 422, description = "password_too_weak, login_invalid", body = crate::openapi::ErrorBody)))]
pub async fn register(
    State(state): State<AppState>,
    Json(body): Json<Credentials>,
) -> ApiResult<Response> {
    let (login, password) = fields(body)?;
    let account = create_user(&state, &login, password).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({"id": account.id, "login": account.login})),
    )
        .into_response())
}

#[utoipa::path(post, path = "/v1/sessions", tag = "accounts", request_body = crate::openapi::Credentials, responses((status = 201, description = "Logged in", body = crate::openapi::Session), (status = 401, description = "invalid_credentials", body = crate::openapi::ErrorBody), (status = 429, description = "rate_limited, with Retry-After", body = crate::openapi::ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    Json(body): Json<Credentials>,
) -> ApiResult<Response> {
    let (login, password) = fields(body)?;
    let (_, token, expires_at) = open_session(&state, &login, password).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({"token": token, "expires_at": views::time(expires_at)})),
    )
        .into_response())
}

#[utoipa::path(delete, path = "/v1/sessions/current", tag = "accounts", security(("bearer" = [])), responses((status = 204, description = "Logged out"), (status = 401, description = "Not logged in", body = crate::openapi::ErrorBody)))]
pub async fn logout(State(state): State<AppState>, parts: Parts) -> ApiResult<Response> {
    let token = auth::bearer(&parts).ok_or_else(|| ApiError::new(Code::Unauthorized))?;
    let hash = auth::token_hash(token);
    if state
        .store
        .session_account(&hash, state.now())
        .await?
        .is_none()
    {
        return Err(ApiError::new(Code::Unauthorized));
    }
    state.store.delete_session(&hash).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[utoipa::path(get, path = "/v1/me", tag = "accounts", security(("bearer" = [])), responses((status = 200, description = "The caller", body = crate::openapi::AccountView), (status = 401, description = "Not logged in", body = crate::openapi::ErrorBody)))]
pub async fn me(
    State(state): State<AppState>,
    CurrentUser(account): CurrentUser,
) -> ApiResult<Response> {
    let apps = state.store.applications_of(account.id).await?;
    let statuses: Vec<Status> = apps.iter().map(|a| a.status).collect();
    let status = real_name_status(&statuses);
    let mut body = json!({
        "id": account.id,
        "login": account.login,
        "role": account.role,
        "real_name_status": status,
    });
    if let Some(name) = crate::journey::verified_name(&state, &apps)?
        && let Some(map) = body.as_object_mut()
    {
        map.insert("real_name".into(), json!(name));
    }
    Ok(axum::Json(body).into_response())
}
