//! Request bodies: JSON whose every failure is a clear 4xx in our error shape.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;
use serde_json::Value;

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
        let shape = |detail: String| {
            ApiError::malformed(
                format!("The JSON does not have the documented shape: {detail}"),
                "JSON 的结构与文档不符，请按文档发送。",
            )
        };
        // Every body of this API is an object; serde alone would also read a struct from an
        // array of its fields' values.
        let value = match axum::Json::<Value>::from_request(req, state).await {
            Ok(axum::Json(value @ Value::Object(_))) => value,
            Ok(axum::Json(_)) => return Err(shape("the body must be an object.".into())),
            Err(JsonRejection::BytesRejection(_)) => {
                return Err(ApiError::new(Code::PayloadTooLarge));
            }
            Err(JsonRejection::MissingJsonContentType(_)) => {
                return Err(ApiError::malformed(
                    "Send the body as JSON with Content-Type: application/json.",
                    "请以 JSON 格式发送请求体，并带上 Content-Type: application/json。",
                ));
            }
            Err(e) => {
                return Err(ApiError::malformed(
                    format!("The body is not valid JSON: {}", e.body_text()),
                    "请求体不是有效的 JSON。",
                ));
            }
        };
        serde_json::from_value(value)
            .map(Json)
            .map_err(|e| shape(e.to_string()))
    }
}
