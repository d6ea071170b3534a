//! Operations: liveness and readiness.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::state::AppState;

#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, description = "The process is up")))]
pub async fn healthz() -> Response {
    axum::Json(json!({"status": "ok"})).into_response()
}

#[utoipa::path(get, path = "/readyz", tag = "operations", responses((status = 200, description = "The store answers"), (status = 503, description = "The store does not answer")))]
pub async fn readyz(State(state): State<AppState>) -> Response {
    match tokio::time::timeout(std::time::Duration::from_secs(2), state.store.ping()).await {
        Ok(Ok(())) => axum::Json(json!({"status": "ready"})).into_response(),
        _ => (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(json!({"status": "unavailable"})),
        )
            .into_response(),
    }
}
