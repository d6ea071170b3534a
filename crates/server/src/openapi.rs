//! The OpenAPI 3 document of the API, served at `/v1/openapi.json`.

use axum::response::{IntoResponse, Response};

pub async fn document() -> Response {
    axum::Json(serde_json::json!({"openapi": "3.1.0"})).into_response()
}
