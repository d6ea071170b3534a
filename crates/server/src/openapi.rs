//! The OpenAPI 3.1 document of the API, served at `/v1/openapi.json`. Paths come from the
//! handlers' own `#[utoipa::path]` annotations, and every schema from the types the handlers
//! take and answer (`api::requests`, `api::answers`, `realname_app::views`): nothing here
//! describes a shape twice. What every operation of a kind may answer — the error shape for a
//! malformed body, a missing session, an unknown id, a reused idempotency key — is added here
//! once, from what each operation declares, so that no operation can forget one.

use std::sync::OnceLock;

use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::api;

struct Bearer;

impl Modify for Bearer {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(components) = openapi.components.as_mut() {
            components.add_security_scheme(
                "bearer",
                SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
            );
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "realname", description = "Real-name authentication for the foreign users of a payment platform in mainland China."),
    paths(
        api::ops::healthz,
        api::ops::readyz,
        api::accounts::register,
        api::accounts::login,
        api::accounts::logout,
        api::accounts::me,
        api::verifications::create,
        api::verifications::list,
        api::verifications::get,
        api::verifications::update,
        api::verifications::put_document,
        api::verifications::put_bank_card,
        api::verifications::submit,
        api::verifications::confirm_deposit,
        api::verifications::cancel,
        api::review::list,
        api::review::get,
        api::review::document,
        api::review::claim,
        api::review::decide,
        api::review::audit_trail,
        api::sandbox::statement,
        api::sandbox::advance,
        api::sandbox::review,
        api::platform::create_session,
        api::platform::get_session,
        api::platform::user,
        api::platform::verification,
        api::platform::redact,
        api::platform::close_user,
        api::events::feed,
        api::webhooks::resend,
        api::webhooks::create,
        api::webhooks::list,
        api::webhooks::update,
        api::webhooks::delete,
        api::webhooks::rotate,
        api::webhooks::deliveries,
    ),
    components(schemas(api::answers::ErrorBody)),
    modifiers(&Bearer)
)]
pub struct ApiDoc;

const ERROR_REF: &str = "#/components/schemas/ErrorBody";

fn error_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/json": {"schema": {"$ref": ERROR_REF}}},
    })
}

/// Adds `status` to an operation's answers unless it declares its own.
fn answers(op: &mut Map<String, Value>, status: &str, description: &str) {
    if let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) {
        responses
            .entry(status.to_owned())
            .or_insert_with(|| error_response(description));
    }
}

fn header(description: &str, schema: Value) -> Value {
    json!({"description": description, "required": true, "schema": schema})
}

/// What every operation of a kind may answer, besides what it declares itself.
fn complete(doc: &mut Value) {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (method, op) in item.iter_mut() {
            let Some(op) = op.as_object_mut() else {
                continue;
            };
            let api = path.starts_with("/v1/");
            let secured = op.contains_key("security");
            let has_body = op.contains_key("requestBody") || method == "put";
            let has_query = op
                .get("parameters")
                .and_then(Value::as_array)
                .is_some_and(|ps| ps.iter().any(|p| p["in"] == "query"));
            if secured {
                answers(op, "401", "unauthorized: no live session");
            }
            if path.contains('{') {
                answers(op, "404", "not_found: no such id, or not the caller's");
            }
            if has_body || has_query || method == "post" {
                answers(
                    op,
                    "400",
                    "malformed_request: the body, a parameter or a header is not of the documented shape",
                );
            }
            if has_body {
                answers(op, "413", "payload_too_large");
            }
            if method == "post" {
                answers(
                    op,
                    "409",
                    "request_in_progress: the first request with this Idempotency-Key has not answered yet",
                );
                answers(
                    op,
                    "422",
                    "idempotency_key_reused: the same Idempotency-Key with another request",
                );
                add_idempotency_key(op);
            }
            if api {
                answers(
                    op,
                    "503",
                    "service_unavailable: the store cannot be reached; try again",
                );
            }
            add_headers(op, api);
        }
    }
    images(paths);
}

/// Images travel as raw bytes in their own content type, judged by content.
fn images(paths: &mut Map<String, Value>) {
    let binary = json!({"schema": {"type": "string", "format": "binary"}});
    let kinds = ["image/jpeg", "image/png", "application/pdf"];
    let content: Map<String, Value> = kinds
        .iter()
        .map(|k| ((*k).to_owned(), binary.clone()))
        .collect();
    if let Some(op) = paths
        .get_mut("/v1/verifications/{id}/documents/{slot}")
        .and_then(|p| p.get_mut("put"))
    {
        op["requestBody"] = json!({
            "description": "JPEG, PNG or PDF, judged by content, not by name or declared type; at most 10 MiB.",
            "required": true,
            "content": content.clone(),
        });
    }
    if let Some(ok) = paths
        .get_mut("/v1/review/cases/{id}/documents/{slot}")
        .and_then(|p| p.get_mut("get"))
        .and_then(|op| op.get_mut("responses"))
        .and_then(|r| r.get_mut("200"))
    {
        ok["content"] = Value::Object(content);
    }
}

fn add_idempotency_key(op: &mut Map<String, Value>) {
    let parameters = op
        .entry("parameters")
        .or_insert_with(|| Value::Array(Vec::new()));
    if let Some(list) = parameters.as_array_mut() {
        list.push(json!({
            "name": "Idempotency-Key",
            "in": "header",
            "required": false,
            "description": "A repeat with the same key and body within 24 hours gets the first answer again without doing anything twice.",
            "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
        }));
    }
}

/// The headers every answer carries: the request id, and on the API the headers that keep
/// answers out of caches and content sniffing; `Retry-After` where the client must wait.
fn add_headers(op: &mut Map<String, Value>, api: bool) {
    let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
        return;
    };
    for (status, response) in responses.iter_mut() {
        let Some(response) = response.as_object_mut() else {
            continue;
        };
        let headers = response
            .entry("headers")
            .or_insert_with(|| Value::Object(Map::new()));
        let Some(headers) = headers.as_object_mut() else {
            continue;
        };
        headers.insert(
            "X-Request-Id".into(),
            header(
                "The service's id of this request, to quote.",
                json!({"type": "string", "minLength": 1}),
            ),
        );
        if api {
            headers.insert(
                "Cache-Control".into(),
                header(
                    "Answers are never cached.",
                    json!({"type": "string", "const": "no-store"}),
                ),
            );
            headers.insert(
                "X-Content-Type-Options".into(),
                header("", json!({"type": "string", "const": "nosniff"})),
            );
        }
        if status == "429" || status == "503" {
            headers.insert(
                "Retry-After".into(),
                header("Seconds to wait.", json!({"type": "integer", "minimum": 0})),
            );
        }
    }
}

/// The document, made once.
pub fn document_value() -> &'static Value {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or(Value::Null);
        complete(&mut doc);
        doc
    })
}

pub async fn document() -> Response {
    axum::Json(document_value()).into_response()
}
