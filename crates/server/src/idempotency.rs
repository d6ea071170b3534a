//! `Idempotency-Key` on every POST (CONTRACT 4): a repeat with the same key and body within
//! 24 hours gets the first answer again without doing anything twice; the same key with
//! another body is refused. Kept answers are sealed under the data key with the headers they
//! were sent with; secrets in them are kept as null, never as themselves.

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use realname_core::Code;
use realname_core::ports::SealContext;
use realname_core::store::Idempotency;
use sha2::{Digest, Sha256};

use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;

pub const HEADER: &str = "idempotency-key";
const MAX_BODY: usize = 64 * 1024;
const MAX_ANSWER: usize = 16 * 1024 * 1024;

/// The fields of an answer that hold a secret (a session token, a link, a webhook secret): the
/// answer is sent whole, but kept for replays with these set to null (CONTRACT 4).
#[derive(Clone, Copy)]
pub struct Secrets(pub &'static [&'static str]);

/// The answer as kept for replays: without its secrets.
fn without_secrets(bytes: &[u8], secrets: Option<Secrets>) -> Vec<u8> {
    let Some(Secrets(fields)) = secrets else {
        return bytes.to_vec();
    };
    match serde_json::from_slice::<serde_json::Value>(bytes) {
        Ok(serde_json::Value::Object(mut map)) => {
            for field in fields {
                if let Some(value) = map.get_mut(*field) {
                    *value = serde_json::Value::Null;
                }
            }
            serde_json::to_vec(&map).unwrap_or_default()
        }
        // An answer that says it has secrets but is no object is not kept at all.
        _ => Vec::new(),
    }
}

/// The headers a replay does not repeat: they belong to the request that was answered
/// (its id, its date, its length), or must never be sent twice (a cookie).
const NOT_REPLAYED: &[&str] = &["x-request-id", "date", "content-length", "set-cookie"];

/// An answer as kept: its headers and its body (sealed as a whole).
#[derive(serde::Serialize, serde::Deserialize)]
struct Kept {
    headers: Vec<(String, String)>,
    body: String,
}

pub(crate) fn answer_name(scope: &str, key: &str) -> SealContext {
    let mut hasher = Sha256::new();
    hasher.update(scope);
    hasher.update([0]);
    hasher.update(key);
    SealContext::IdempotentAnswer(hasher.finalize().into())
}

fn seal_answer(
    state: &AppState,
    scope: &str,
    key: &str,
    headers: &axum::http::HeaderMap,
    body: &[u8],
) -> Option<Vec<u8>> {
    let kept = Kept {
        headers: headers
            .iter()
            .filter(|(name, _)| !NOT_REPLAYED.contains(&name.as_str()))
            .filter_map(|(name, value)| Some((name.to_string(), value.to_str().ok()?.to_owned())))
            .collect(),
        body: base64::engine::general_purpose::STANDARD.encode(body),
    };
    let plain = serde_json::to_vec(&kept).ok()?;
    state.vault.seal(answer_name(scope, key), &plain).ok()
}

/// A kept answer as it is sent again. Answers kept before they were sealed (plain JSON, at
/// most a day old after an upgrade) are sent as they are.
fn replay(state: &AppState, scope: &str, key: &str, status: StatusCode, stored: &[u8]) -> Response {
    let opened = match state.vault.open(answer_name(scope, key), stored) {
        // This node is behind the store's keys: another node (or this one, caught up) can
        // replay it.
        Err(e @ realname_core::ports::VaultError::KeysBehind) => {
            return ApiError::from(realname_app::AppError::from(e)).into_response();
        }
        opened => opened
            .ok()
            .and_then(|plain| serde_json::from_slice::<Kept>(&plain).ok()),
    };
    let mut response = match opened {
        Some(kept) => {
            let body = base64::engine::general_purpose::STANDARD
                .decode(kept.body)
                .unwrap_or_default();
            let mut response = Response::new(Body::from(body));
            *response.status_mut() = status;
            for (name, value) in kept.headers {
                if let (Ok(name), Ok(value)) = (
                    axum::http::HeaderName::try_from(name),
                    HeaderValue::try_from(value),
                ) {
                    response.headers_mut().append(name, value);
                }
            }
            response
        }
        None if stored.first().is_none_or(|b| *b == b'{' || *b == b'[') => {
            let mut response = (status, stored.to_vec()).into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            response
        }
        None => {
            return ApiError::internal("idempotent replay", "a kept answer does not open")
                .into_response();
        }
    };
    response
        .headers_mut()
        .insert("idempotent-replayed", HeaderValue::from_static("true"));
    response
}

/// Whether an answer is kept for replays. As Stripe does, an answer is kept only once the
/// operation itself ran: a request refused before it started — not of the documented shape,
/// without a live session, not the caller's, slowed down, or failed on the server's side —
/// leaves the key unused, so a retry with the same key is judged afresh (and a 429 is never
/// replayed without its Retry-After).
fn kept(status: StatusCode) -> bool {
    !(status.is_server_error()
        || matches!(
            status,
            StatusCode::BAD_REQUEST
                | StatusCode::UNAUTHORIZED
                | StatusCode::FORBIDDEN
                | StatusCode::NOT_FOUND
                | StatusCode::TOO_MANY_REQUESTS
        ))
}

pub async fn layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if req.method() != Method::POST {
        return next.run(req).await;
    }
    let Some(key) = req.headers().get(HEADER) else {
        return next.run(req).await;
    };
    let key = match key.to_str() {
        Ok(k) if (1..=255).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic()) => {
            k.to_owned()
        }
        _ => {
            return ApiError::malformed(
                "Idempotency-Key must be 1 to 255 visible ASCII characters.",
                "Idempotency-Key 必须是 1 到 255 个可见的 ASCII 字符。",
            )
            .into_response();
        }
    };
    let (parts, body) = req.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_BODY).await else {
        return ApiError::new(Code::PayloadTooLarge).into_response();
    };
    // A caller's keys are theirs; strangers are told apart by nothing but the path, so that
    // a key one stranger used to register does not refuse another's request elsewhere.
    let scope = match parts.extensions.get::<Caller>() {
        Some(Caller(Some(principal))) => principal.scope(),
        _ => format!("anonymous {}", parts.uri.path()),
    };
    let mut hasher = Sha256::new();
    hasher.update(parts.method.as_str());
    hasher.update([0]);
    hasher.update(parts.uri.path());
    hasher.update([0]);
    hasher.update(&bytes);
    let request_hash = hasher.finalize().to_vec();

    match state
        .store
        // Real time: a key's 24 hours are the caller's, whatever the sandbox clock does.
        .begin_idempotent(&scope, &key, &request_hash, state.real_now())
        .await
    {
        Err(e) => ApiError::from(e).into_response(),
        Ok(Idempotency::Mismatch) => ApiError::new(Code::IdempotencyKeyReused).into_response(),
        Ok(Idempotency::InProgress) => {
            ApiError::from(realname_app::AppError::new(Code::RequestInProgress).retry_after(1))
                .into_response()
        }
        Ok(Idempotency::Replay { status, body }) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            replay(&state, &scope, &key, status, &body)
        }
        Ok(Idempotency::New) => {
            // The first request runs to its end in its own task, so a client that goes away
            // cannot leave the key half-used.
            let req = Request::from_parts(parts, Body::from(bytes));
            let task = tokio::spawn(async move {
                let response = next.run(req).await;
                let (parts, body) = response.into_parts();
                let bytes = to_bytes(body, MAX_ANSWER).await.unwrap_or_default();
                let stored = if !kept(parts.status) {
                    state.store.abandon_idempotent(&scope, &key).await
                } else {
                    let kept = without_secrets(&bytes, parts.extensions.get::<Secrets>().copied());
                    match seal_answer(&state, &scope, &key, &parts.headers, &kept) {
                        Some(sealed) => {
                            state
                                .store
                                .finish_idempotent(&scope, &key, parts.status.as_u16(), &sealed)
                                .await
                        }
                        // Not kept rather than kept in plain text: a retry runs afresh.
                        None => state.store.abandon_idempotent(&scope, &key).await,
                    }
                };
                if let Err(e) = stored {
                    tracing::warn!(error = %e, "could not record an idempotent answer");
                }
                Response::from_parts(parts, Body::from(bytes))
            });
            task.await
                .unwrap_or_else(|e| ApiError::internal("idempotent request", e).into_response())
        }
    }
}
