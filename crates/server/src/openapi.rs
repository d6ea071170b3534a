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

use axum::extract::State;
use realname_core::platform::EventType;

use crate::api;
use crate::state::AppState;

/// Three kinds of caller, three schemes (CONTRACT 4): a user's session, a staff session and a
/// platform key, whose scopes each operation names in its security requirement.
struct Callers;

impl Modify for Callers {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(components) = openapi.components.as_mut() {
            for (name, description) in [
                (
                    "userSession",
                    "A user's session token, from POST /v1/sessions.",
                ),
                (
                    "staffSession",
                    "A reviewer's or admin's session token, from POST /v1/sessions with the second factor's code.",
                ),
                (
                    "platformKey",
                    "A platform API key (rn_live_… or rn_test_…) from realname apikey create; the operation's requirement names the scope it needs: sessions:write, verifications:read, verifications:read_pii, verifications:redact, screening:read, webhooks:manage, events:read.",
                ),
            ] {
                components.add_security_scheme(
                    name,
                    SecurityScheme::Http(
                        HttpBuilder::new()
                            .scheme(HttpAuthScheme::Bearer)
                            .description(Some(description))
                            .build(),
                    ),
                );
            }
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
        api::review::decide_screening,
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
    components(schemas(api::answers::ErrorBody, api::answers::PlatformEventView)),
    tags(
        (name = "operations", description = "Whether the service is up and ready."),
        (name = "accounts", description = "Registering, signing in and out, the signed-in account."),
        (name = "verifications", description = "A user's real-name application, step by step."),
        (name = "review", description = "Staff: the review queue, cases, decisions and the audit log."),
        (name = "sandbox", description = "Only while the payout rail is the sandbox: the bank's statement, the clock, a reviewer's decision."),
        (name = "platform", description = "Server to server: linking a platform's users and reading how they stand."),
        (name = "webhooks", description = "Webhook endpoints, their deliveries, and the events they receive."),
    ),
    modifiers(&Callers)
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
            // An operation that takes no caller says so with an empty list, as linters ask.
            let secured = op
                .get("security")
                .and_then(Value::as_array)
                .is_some_and(|callers| !callers.is_empty());
            if !secured {
                op.insert("security".into(), Value::Array(Vec::new()));
            }
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
    webhooks(doc);
}

/// What each event type tells, for the document's `webhooks`.
fn event_summary(event: EventType) -> &'static str {
    match event {
        EventType::Created => "An application was started (draft)",
        EventType::Submitted => "An application was submitted; its deposit is on the way",
        EventType::AwaitingAmount => "The deposit arrived; the user is to enter its amount",
        EventType::UnderReview => "An application waits for a reviewer",
        EventType::Verified => "An application was verified",
        EventType::Failed => "An application failed; data.failure says why",
        EventType::Cancelled => "A draft was cancelled",
        EventType::Redacted => "An application's personal data were erased",
        EventType::RenewalDue => "A verification's documents expire soon: a renewal is due",
        EventType::Expired => "A verification's documents lapsed",
        EventType::Superseded => "A renewal was verified and replaces this verification",
        EventType::Suspended => "A verification was suspended",
        EventType::Reinstated => "A suspended verification was reinstated",
        EventType::RiskChanged => "A customer's risk grade changed",
        EventType::ScreeningPotentialMatch => "Screening found a potential list match",
        EventType::ScreeningConfirmed => "A list match was confirmed",
        EventType::ScreeningDismissed => "A potential list match was dismissed",
        EventType::ScreeningDelisted => "A confirmed list entry was delisted",
    }
}

/// Every event type under the document's `webhooks`: what a platform's receiver is sent, with
/// the Standard Webhooks headers it verifies.
fn webhooks(doc: &mut Value) {
    let headers: Vec<Value> = [
        ("webhook-id", "The event's id, the same on every retry: de-duplicate by it."),
        ("webhook-timestamp", "Unix seconds of this attempt, in real time."),
        ("webhook-signature", "v1, and the base64 HMAC-SHA256 of {webhook-id}.{webhook-timestamp}.{body} under the endpoint's secret; several separated by a space."),
    ]
    .into_iter()
    .map(|(name, description)| {
        json!({"name": name, "in": "header", "required": true, "description": description,
               "schema": {"type": "string"}})
    })
    .collect();
    let hooks: Map<String, Value> = EventType::ALL
        .into_iter()
        .map(|event| {
            let name = event.as_str();
            let operation_id: String = name
                .split(['.', '_'])
                .map(|word| {
                    let mut chars = word.chars();
                    chars.next().map_or_else(String::new, |first| {
                        first.to_uppercase().chain(chars).collect()
                    })
                })
                .collect();
            let post = json!({
                "operationId": format!("on{operation_id}"),
                "summary": event_summary(event),
                "tags": ["webhooks"],
                "security": [],
                "parameters": headers,
                "requestBody": {
                    "required": true,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PlatformEventView"}}},
                },
                "responses": {
                    "200": {"description": "Any 2xx within 15 s acknowledges the delivery."},
                    "410": {"description": "Disables the endpoint."},
                },
            });
            (name.to_owned(), json!({"post": post}))
        })
        .collect();
    doc["webhooks"] = Value::Object(hooks);
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

/// The document as this node serves it: `servers` names its `public_url`.
pub async fn document(State(state): State<AppState>) -> Response {
    let mut doc = document_value().clone();
    doc["servers"] =
        json!([{"url": state.app.settings.public_url, "description": "This deployment"}]);
    axum::Json(doc).into_response()
}
