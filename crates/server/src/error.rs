//! The one place where failures become HTTP answers.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use realname_core::store::StoreError;
use realname_core::{Breach, Code, Report};
use serde_json::{Value, json};

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: Code,
    pub details: Vec<Breach>,
    pub retry_after: Option<u64>,
    /// Extra fields beside `code` (e.g. `attempts_remaining`).
    pub extra: Vec<(&'static str, Value)>,
    /// Overrides the catalogue's message (malformed requests say what was wrong).
    pub message: Option<String>,
}

/// The HTTP status of a code that stands alone as an error.
pub fn status_of(code: Code) -> StatusCode {
    match code {
        Code::MalformedRequest => StatusCode::BAD_REQUEST,
        Code::Unauthorized | Code::InvalidCredentials => StatusCode::UNAUTHORIZED,
        Code::Forbidden | Code::ApplicationBlocked => StatusCode::FORBIDDEN,
        Code::NotFound => StatusCode::NOT_FOUND,
        Code::InvalidState
        | Code::ApplicationInProgress
        | Code::AlreadyVerified
        | Code::LoginTaken
        | Code::CaseClaimed
        | Code::DepositLimitReached
        | Code::RequestInProgress => StatusCode::CONFLICT,
        Code::PayloadTooLarge | Code::DocumentImageTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        Code::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        Code::ServiceUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        Code::InternalError => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

impl ApiError {
    pub fn new(code: Code) -> ApiError {
        ApiError {
            status: status_of(code),
            code,
            details: Vec::new(),
            retry_after: None,
            extra: Vec::new(),
            message: None,
        }
    }

    /// 422 `validation_failed` with every breach as a detail.
    pub fn validation(report: Report) -> ApiError {
        ApiError {
            details: report.breaches,
            ..ApiError::new(Code::ValidationFailed)
        }
    }

    /// 422 `validation_failed` for one field.
    pub fn field(field: &str, code: Code) -> ApiError {
        let mut report = Report::default();
        report.breach(field, code);
        ApiError::validation(report)
    }

    pub fn malformed(message: impl Into<String>) -> ApiError {
        ApiError {
            message: Some(message.into()),
            ..ApiError::new(Code::MalformedRequest)
        }
    }

    pub fn with(mut self, key: &'static str, value: Value) -> ApiError {
        self.extra.push((key, value));
        self
    }

    pub fn retry_after(mut self, seconds: u64) -> ApiError {
        self.retry_after = Some(seconds);
        self
    }

    pub fn internal(context: &str, error: impl std::fmt::Display) -> ApiError {
        let id = uuid::Uuid::new_v4();
        tracing::error!(error_id = %id, context, error = %error, "internal error");
        ApiError::new(Code::InternalError).with("id", json!(id.to_string()))
    }

    pub fn body(&self) -> Value {
        let details: Vec<Value> = self
            .details
            .iter()
            .map(|b| json!({"field": b.field, "code": b.code, "message": b.message_en(), "message_zh": b.message_zh()}))
            .collect();
        let mut error = json!({
            "code": self.code,
            "message": self.message.clone().unwrap_or_else(|| self.code.message_en().to_owned()),
            "message_zh": self.code.message_zh(),
            "details": details,
        });
        if let Some(map) = error.as_object_mut() {
            for (key, value) in &self.extra {
                map.insert((*key).to_owned(), value.clone());
            }
        }
        json!({ "error": error })
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::Unavailable(reason) => {
                tracing::warn!(%reason, "store unavailable");
                ApiError::new(Code::ServiceUnavailable).retry_after(1)
            }
            StoreError::Conflict(what) => match Code::parse(&what) {
                Some(code) => ApiError::new(code),
                None => ApiError::new(Code::InvalidState),
            },
            StoreError::Failed(reason) => ApiError::internal("store", reason),
        }
    }
}

impl From<realname_core::ports::VaultError> for ApiError {
    fn from(e: realname_core::ports::VaultError) -> ApiError {
        ApiError::internal("vault", e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(self.body())).into_response();
        if let Some(seconds) = self.retry_after
            && let Ok(value) = HeaderValue::from_str(&seconds.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
