//! The HTTP API of CONTRACT 4: the routes, and the layers every request passes through.

pub mod accounts;
pub mod ops;
pub mod review;
pub mod sandbox;
pub mod verifications;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::HeaderName;
use axum::middleware;
use axum::routing::{get, post, put};
use realname_core::Code;
use tower::ServiceBuilder;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::config::Rail;
use crate::error::ApiError;
use crate::state::AppState;
use crate::{auth, idempotency, openapi};

const JSON_LIMIT: usize = 64 * 1024;

async fn not_found() -> ApiError {
    ApiError::new(Code::NotFound)
}

async fn method_not_allowed() -> ApiError {
    ApiError::malformed("This path does not take that method.")
        .with_status(axum::http::StatusCode::METHOD_NOT_ALLOWED)
}

pub fn router(state: AppState) -> Router {
    let mut v1 = Router::new()
        .route("/accounts", post(accounts::register))
        .route("/sessions", post(accounts::login))
        .route("/sessions/current", axum::routing::delete(accounts::logout))
        .route("/me", get(accounts::me))
        .route(
            "/verifications",
            post(verifications::create).get(verifications::list),
        )
        .route(
            "/verifications/{id}",
            get(verifications::get).patch(verifications::update),
        )
        .route(
            "/verifications/{id}/documents/{slot}",
            put(verifications::put_document),
        )
        .route(
            "/verifications/{id}/bank_card",
            put(verifications::put_bank_card),
        )
        .route("/verifications/{id}/submit", post(verifications::submit))
        .route(
            "/verifications/{id}/deposit_confirmation",
            post(verifications::confirm_deposit),
        )
        .route("/verifications/{id}/cancel", post(verifications::cancel))
        .route("/review/cases", get(review::list))
        .route("/review/cases/{id}", get(review::get))
        .route("/review/cases/{id}/documents/{slot}", get(review::document))
        .route("/review/cases/{id}/claim", post(review::claim))
        .route("/review/cases/{id}/decision", post(review::decide))
        .route("/audit", get(review::audit_trail))
        .route("/openapi.json", get(openapi::document));
    if state.config.rail == Rail::Sandbox {
        v1 = v1
            .route("/sandbox/bank/statement", get(sandbox::statement))
            .route("/sandbox/clock/advance", post(sandbox::advance));
    }
    let request_id = HeaderName::from_static("x-request-id");
    Router::new()
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .nest("/v1", v1)
        .merge(crate::pages::router(state.config.rail == Rail::Sandbox))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(state.clone(), idempotency::layer))
        .layer(middleware::from_fn_with_state(state.clone(), auth::layer))
        .layer(DefaultBodyLimit::max(JSON_LIMIT))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(request_id.clone(), MakeRequestUuid))
                // The span names the method and path only: query strings can carry a card
                // number (the sandbox statement) and never reach a log.
                .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
                    let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("");
                    tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
                }))
                .layer(PropagateRequestIdLayer::new(request_id)),
        )
        .with_state(state)
}
