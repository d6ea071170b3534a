//! Request bodies: JSON whose every failure is a clear 4xx in our error shape.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use realname_core::Code;

/// Like `axum::Json`, but a body that is not JSON, not of the documented shape or too large
/// answers 400 / 413 with both messages, never a 500 or axum's plain text.
pub struct Json<T>(pub T);

impl<T, S> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Json(value)),
            Err(JsonRejection::BytesRejection(_)) => Err(ApiError::new(Code::PayloadTooLarge)),
            Err(JsonRejection::MissingJsonContentType(_)) => Err(ApiError::malformed(
                "Send the body as JSON with Content-Type: application/json.",
                "请以 JSON 格式发送请求体，并带上 Content-Type: application/json。",
            )),
            Err(JsonRejection::JsonDataError(e)) => Err(ApiError::malformed(
                format!(
                    "The JSON does not have the documented shape: {}",
                    e.body_text().trim_start_matches(
                        "Failed to deserialize the JSON body into the target type: "
                    )
                ),
                "JSON 的结构与文档不符，请按文档发送。",
            )),
            Err(e) => Err(ApiError::malformed(
                format!("The body is not valid JSON: {}", e.body_text()),
                "请求体不是有效的 JSON。",
            )),
        }
    }
}
