//! The application layer's one error: a stable code from the catalogue, the breaches behind
//! it, and what the caller needs to act on it. The HTTP layer maps it to a status once.

use realname_core::store::StoreError;
use realname_core::{Breach, Code, Report};
use serde_json::{Value, json};

#[derive(Debug)]
pub struct AppError {
    pub code: Code,
    pub details: Vec<Breach>,
    /// Seconds to wait before trying again (`rate_limited`, `service_unavailable`).
    pub retry_after: Option<u64>,
    /// Extra fields beside `code` (e.g. `attempts_remaining`).
    pub extra: Vec<(&'static str, Value)>,
    /// Overrides the catalogue's messages, English and Chinese (malformed requests say what
    /// was wrong). Boxed: errors travel in every `Result`, and this is rarely set.
    pub messages: Option<Box<(String, String)>>,
}

impl AppError {
    pub fn new(code: Code) -> AppError {
        AppError {
            code,
            details: Vec::new(),
            retry_after: None,
            extra: Vec::new(),
            messages: None,
        }
    }

    /// `validation_failed` with every breach as a detail.
    pub fn validation(report: Report) -> AppError {
        AppError {
            details: report.breaches,
            ..AppError::new(Code::ValidationFailed)
        }
    }

    /// `validation_failed` for one field.
    pub fn field(field: &str, code: Code) -> AppError {
        let mut report = Report::default();
        report.breach(field, code);
        AppError::validation(report)
    }

    /// `malformed_request`, saying in both languages what was wrong.
    pub fn malformed(message: impl Into<String>, message_zh: impl Into<String>) -> AppError {
        AppError {
            messages: Some(Box::new((message.into(), message_zh.into()))),
            ..AppError::new(Code::MalformedRequest)
        }
    }

    /// The same code with messages of its own: platform callers are developers, and are told
    /// what blocks the call rather than what an end user would be (CONTRACT 9).
    pub fn saying(mut self, en: impl Into<String>, zh: impl Into<String>) -> AppError {
        self.messages = Some(Box::new((en.into(), zh.into())));
        self
    }

    pub fn with(mut self, key: &'static str, value: Value) -> AppError {
        self.extra.push((key, value));
        self
    }

    pub fn retry_after(mut self, seconds: u64) -> AppError {
        self.retry_after = Some(seconds);
        self
    }

    /// A failure on the service's side: logged with an id that the answer carries, so that
    /// a user can quote it; what failed is never shown.
    pub fn internal(context: &str, error: impl std::fmt::Display) -> AppError {
        let id = uuid::Uuid::new_v4();
        tracing::error!(error_id = %id, context, error = %error, "internal error");
        AppError::new(Code::InternalError).with("id", json!(id.to_string()))
    }

    /// The English message: the override, or the catalogue's.
    pub fn message_en(&self) -> String {
        match &self.messages {
            Some(m) => m.0.clone(),
            None => self.code.message_en().to_owned(),
        }
    }

    /// The Chinese message: the override, or the catalogue's.
    pub fn message_zh(&self) -> String {
        match &self.messages {
            Some(m) => m.1.clone(),
            None => self.code.message_zh().to_owned(),
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> AppError {
        match e {
            StoreError::Unavailable(reason) => {
                tracing::warn!(%reason, "store unavailable");
                AppError::new(Code::ServiceUnavailable).retry_after(1)
            }
            StoreError::Conflict(what) => match Code::parse(&what) {
                Some(code) => AppError::new(code),
                None => AppError::new(Code::InvalidState),
            },
            StoreError::Failed(reason) => AppError::internal("store", reason),
        }
    }
}

impl From<realname_core::ports::VaultError> for AppError {
    fn from(e: realname_core::ports::VaultError) -> AppError {
        match e {
            // This node seals nothing more (its key-encryption key is stale during a data-key
            // rotation): another node, or this one restarted with the new key, can answer.
            realname_core::ports::VaultError::KeysBehind => {
                tracing::warn!(error = %e, "refused a write");
                AppError::new(Code::ServiceUnavailable).retry_after(1)
            }
            _ => AppError::internal("vault", e),
        }
    }
}

impl From<realname_core::state::Refused> for AppError {
    fn from(refused: realname_core::state::Refused) -> AppError {
        AppError::new(refused.code())
    }
}

pub type AppResult<T> = Result<T, AppError>;
