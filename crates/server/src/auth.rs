//! Who is calling, for the JSON API: the bearer token resolved to a [`Principal`] once per
//! request (by [`layer`]), then read by the handlers' extractors and by idempotency.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use realname_app::Principal;
use realname_core::Code;

use crate::error::ApiError;
use crate::state::AppState;

pub fn bearer(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get(AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

/// The caller of this request, as the first layer found it: `None` without a live token.
#[derive(Clone)]
pub struct Caller(pub Option<Principal>);

/// Resolves the bearer token, if any, once for everything after it.
pub async fn layer(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let caller = match bearer(req.headers()) {
        Some(token) => match state.app.principal(token).await {
            Ok(found) => found,
            Err(e) => return ApiError::from(e).into_response(),
        },
        None => None,
    };
    // A platform's backend sends everything from one address: its key is what is counted.
    if let Some(Principal::Platform(key)) = &caller
        && let Err(e) = realname_app::limits::admit(
            &state,
            realname_app::limits::Counted::Platform {
                prefix: &key.prefix,
            },
        )
        .await
    {
        return ApiError::from(e).into_response();
    }
    req.extensions_mut().insert(Caller(caller));
    next.run(req).await
}

/// A person signed in with a session (a user or staff), or `unauthorized`: a platform key
/// never reaches a person's routes.
pub struct Signed(pub Principal);

impl<S: Send + Sync> FromRequestParts<S> for Signed {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        match parts.extensions.get::<Caller>() {
            Some(Caller(Some(principal))) if principal.is_person() => Ok(Signed(principal.clone())),
            _ => Err(ApiError::new(Code::Unauthorized)),
        }
    }
}

/// Any caller with a live token, a person or a platform key, or `unauthorized`: for the
/// routes where the application layer decides between them.
pub struct Anyone(pub Principal);

impl<S: Send + Sync> FromRequestParts<S> for Anyone {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        match parts.extensions.get::<Caller>() {
            Some(Caller(Some(principal))) => Ok(Anyone(principal.clone())),
            _ => Err(ApiError::new(Code::Unauthorized)),
        }
    }
}

/// A platform's backend with one of its API keys, or `unauthorized`: a session never
/// reaches the platform's routes. What the key may do is the application layer's call.
pub struct Platform(pub Principal);

impl<S: Send + Sync> FromRequestParts<S> for Platform {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        match parts.extensions.get::<Caller>() {
            Some(Caller(Some(principal))) if !principal.is_person() => {
                Ok(Platform(principal.clone()))
            }
            _ => Err(realname_app::AppError::new(Code::Unauthorized)
                .saying(
                    "The API key is missing, unknown or revoked.",
                    "API 密钥缺失、未知或已吊销。",
                )
                .into()),
        }
    }
}
