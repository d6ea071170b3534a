//! The one place where the application layer's errors become HTTP answers.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use realname_app::AppError;
use realname_core::Code;
use realname_core::store::StoreError;
use serde_json::{Value, json};

/// An error on its way to the client: the application layer's, with the HTTP status its code
/// has (or, for the few answers the router itself gives, another).
#[derive(Debug)]
pub struct ApiError {
    pub error: AppError,
    status: Option<StatusCode>,
}

/// The HTTP status of a code that stands alone as an error.
pub fn status_of(code: Code) -> StatusCode {
    match code {
        Code::MalformedRequest => StatusCode::BAD_REQUEST,
        Code::Unauthorized | Code::InvalidCredentials => StatusCode::UNAUTHORIZED,
        Code::Forbidden
        | Code::ApplicationBlocked
        | Code::KeyModeMismatch
        | Code::SecondApproverRequired => StatusCode::FORBIDDEN,
        Code::NotFound => StatusCode::NOT_FOUND,
        Code::InvalidState
        | Code::ApplicationInProgress
        | Code::AlreadyVerified
        | Code::LoginTaken
        | Code::CaseClaimed
        | Code::DepositLimitReached
        | Code::RequestInProgress
        | Code::RetentionHold
        | Code::ScreeningHold => StatusCode::CONFLICT,
        Code::PayloadTooLarge | Code::DocumentImageTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        Code::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        Code::ServiceUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        Code::InternalError => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

/// The status an application error answers with; the pages render theirs with it too.
pub trait HttpStatus {
    fn status(&self) -> StatusCode;
}

impl HttpStatus for AppError {
    fn status(&self) -> StatusCode {
        status_of(self.code)
    }
}

impl ApiError {
    pub fn new(code: Code) -> ApiError {
        AppError::new(code).into()
    }

    pub fn malformed(message: impl Into<String>, message_zh: impl Into<String>) -> ApiError {
        AppError::malformed(message, message_zh).into()
    }

    pub fn internal(context: &str, error: impl std::fmt::Display) -> ApiError {
        AppError::internal(context, error).into()
    }

    /// The same error answered with another status.
    pub fn with_status(mut self, status: StatusCode) -> ApiError {
        self.status = Some(status);
        self
    }

    pub fn status(&self) -> StatusCode {
        self.status.unwrap_or_else(|| self.error.status())
    }

    pub fn body(&self) -> Value {
        body(&self.error)
    }
}

/// The error shape of CONTRACT 4.
pub fn body(error: &AppError) -> Value {
    let details: Vec<Value> = error
        .details
        .iter()
        .map(|b| json!({"field": b.field, "code": b.code, "message": b.message_en(), "message_zh": b.message_zh()}))
        .collect();
    let mut inner = json!({
        "code": error.code,
        "message": error.message_en(),
        "message_zh": error.message_zh(),
        "details": details,
    });
    if let Some(map) = inner.as_object_mut() {
        for (key, value) in &error.extra {
            map.insert((*key).to_owned(), value.clone());
        }
    }
    json!({ "error": inner })
}

impl From<AppError> for ApiError {
    fn from(error: AppError) -> ApiError {
        ApiError {
            error,
            status: None,
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        AppError::from(e).into()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status(), axum::Json(self.body())).into_response();
        if let Some(seconds) = self.error.retry_after
            && let Ok(value) = HeaderValue::from_str(&seconds.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
