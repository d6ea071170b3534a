//! The HTTP API of CONTRACT 4: the routes, and the layers every request passes through.

pub mod accounts;
pub mod answers;
pub mod events;
pub mod ops;
pub mod platform;
pub mod requests;
pub mod review;
pub mod sandbox;
pub mod verifications;
pub mod webhooks;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use realname_core::Code;
use tower::ServiceBuilder;
use tower_http::request_id::PropagateRequestIdLayer;
use tower_http::trace::TraceLayer;

use crate::config::Rail;
use crate::error::ApiError;
use crate::state::AppState;
use crate::{auth, idempotency, openapi};

const JSON_LIMIT: usize = 64 * 1024;
const REQUEST_ID: &str = "x-request-id";
/// Where a client's own request id is kept, for the log beside the service's.
const CLIENT_REQUEST_ID: &str = "x-client-request-id";

/// Every request gets the service's own id (answered in `X-Request-Id`); an id the client
/// sent is not taken as ours — it could repeat or forge another's — but kept for the log,
/// when it is a short visible string.
async fn own_request_id(mut req: Request, next: Next) -> Response {
    let headers = req.headers_mut();
    let theirs = headers
        .remove(REQUEST_ID)
        .filter(|v| v.len() <= 64 && v.as_bytes().iter().all(u8::is_ascii_graphic));
    headers.remove(CLIENT_REQUEST_ID);
    if let Some(theirs) = theirs {
        headers.insert(CLIENT_REQUEST_ID, theirs);
    }
    let ours = uuid::Uuid::new_v4().to_string();
    if let Ok(value) = HeaderValue::from_str(&ours) {
        headers.insert(REQUEST_ID, value);
    }
    next.run(req).await
}

/// An unknown path: the error shape under the API, a page (with the page headers) elsewhere.
async fn not_found(uri: axum::http::Uri, ctx: crate::pages::PageContext) -> Response {
    if is_api(uri.path()) {
        return ApiError::new(Code::NotFound).into_response();
    }
    crate::pages::with_page_headers(ctx.error_page(&realname_app::AppError::new(Code::NotFound)))
}

/// HSTS on every answer when users reach the service over https: a browser that has been
/// here once never tries plain http again.
async fn strict_transport(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let mut response = next.run(req).await;
    if state.app.settings.public_url.starts_with("https://") {
        response.headers_mut().insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    response
}

async fn method_not_allowed(uri: axum::http::Uri, ctx: crate::pages::PageContext) -> Response {
    if is_api(uri.path()) {
        return ApiError::malformed(
            "This path does not take that method.",
            "此路径不接受该请求方法。",
        )
        .with_status(axum::http::StatusCode::METHOD_NOT_ALLOWED)
        .into_response();
    }
    crate::pages::with_page_headers(ctx.method_not_allowed())
}

fn is_api(path: &str) -> bool {
    path.starts_with("/v1/") || path == "/healthz" || path == "/readyz"
}

/// The code an answer of this status means, for an error that did not come with one.
fn code_of(status: StatusCode) -> Code {
    match status {
        StatusCode::UNAUTHORIZED => Code::Unauthorized,
        StatusCode::FORBIDDEN => Code::Forbidden,
        StatusCode::NOT_FOUND => Code::NotFound,
        StatusCode::PAYLOAD_TOO_LARGE => Code::PayloadTooLarge,
        StatusCode::TOO_MANY_REQUESTS => Code::RateLimited,
        StatusCode::SERVICE_UNAVAILABLE => Code::ServiceUnavailable,
        s if s.is_server_error() => Code::InternalError,
        _ => Code::MalformedRequest,
    }
}

/// API answers are never cached nor sniffed, and every error is in the error shape, even
/// one that an extractor of axum's own gave in plain text (a path or query that does not
/// parse, an unsupported media type).
async fn api_answers(req: Request, next: Next) -> Response {
    if !is_api(req.uri().path()) {
        return next.run(req).await;
    }
    let mut response = next.run(req).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if (status.is_client_error() || status.is_server_error()) && !is_json {
        let code = code_of(status);
        let error = if code == Code::MalformedRequest {
            ApiError::malformed(
                "The request is not of the documented shape.",
                "请求的格式与文档不符。",
            )
        } else {
            ApiError::new(code)
        };
        let allow = response.headers().get(header::ALLOW).cloned();
        response = error.with_status(status).into_response();
        if let Some(allow) = allow {
            response.headers_mut().insert(header::ALLOW, allow);
        }
    }
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
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
        .route(
            "/review/cases/{id}/screening_decision",
            post(review::decide_screening),
        )
        .route("/audit", get(review::audit_trail))
        .route("/platform/sessions", post(platform::create_session))
        .route("/platform/sessions/{id}", get(platform::get_session))
        .route(
            "/platform/users/{external_user_id}",
            get(platform::user).delete(platform::close_user),
        )
        .route("/platform/verifications/{id}", get(platform::verification))
        .route(
            "/platform/verifications/{id}/redact",
            post(platform::redact),
        )
        .route("/events", get(events::feed))
        .route("/events/{id}/resend", post(webhooks::resend))
        .route(
            "/webhook_endpoints",
            post(webhooks::create).get(webhooks::list),
        )
        .route(
            "/webhook_endpoints/{id}",
            axum::routing::patch(webhooks::update).delete(webhooks::delete),
        )
        .route(
            "/webhook_endpoints/{id}/rotate_secret",
            post(webhooks::rotate),
        )
        .route(
            "/webhook_endpoints/{id}/deliveries",
            get(webhooks::deliveries),
        )
        .route("/openapi.json", get(openapi::document));
    if state.config.rail == Rail::Sandbox {
        v1 = v1
            .route("/sandbox/bank/statement", get(sandbox::statement))
            .route("/sandbox/clock/advance", post(sandbox::advance))
            .route("/sandbox/verifications/{id}/review", post(sandbox::review));
    }
    let request_id = HeaderName::from_static(REQUEST_ID);
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
        .layer(middleware::from_fn(api_answers))
        .layer(middleware::from_fn_with_state(state.clone(), strict_transport))
        .layer(
            ServiceBuilder::new()
                .layer(middleware::from_fn(own_request_id))
                // The span names the method and path only: query strings can carry a card
                // number (the sandbox statement) and never reach a log. Every line logged
                // while a request runs (the security events included) carries its fields.
                .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
                    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("");
                    let client = req
                        .extensions()
                        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                        .map(|c| c.0.ip().to_string())
                        .unwrap_or_default();
                    tracing::info_span!("request", method = %req.method(), path = %req.uri().path(),
                        request_id = %header(REQUEST_ID), client_request_id = %header(CLIENT_REQUEST_ID),
                        client = %client)
                }))
                .layer(PropagateRequestIdLayer::new(request_id)),
        )
        .with_state(state)
}
