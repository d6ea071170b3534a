//! Operations: liveness and readiness.

use axum::extract::State;
use axum::http::StatusCode;

use crate::api::answers::Health;
use crate::state::AppState;

#[utoipa::path(get, path = "/healthz", operation_id = "getHealth",
    summary = "Tell whether the process is up",
    tag = "operations",
    responses((status = 200, description = "The process is up", body = Health)))]
pub async fn healthz() -> axum::Json<Health> {
    axum::Json(Health {
        status: "ok".into(),
    })
}

#[utoipa::path(get, path = "/readyz", operation_id = "getReadiness",
    summary = "Tell whether the store is reachable",
    tag = "operations",
    responses(
        (status = 200, description = "The store answers", body = Health),
        (status = 503, description = "The store does not answer", body = Health)))]
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, axum::Json<Health>) {
    let ready = matches!(
        tokio::time::timeout(std::time::Duration::from_secs(2), state.store.ping()).await,
        Ok(Ok(()))
    );
    let (status, text) = if ready {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
    };
    (
        status,
        axum::Json(Health {
            status: text.into(),
        }),
    )
}
