//! The platform's API (CONTRACT 9): sessions for its users, and reads of them and their
//! applications. Every route takes a platform key (`auth::Platform`), never a session; what
//! the key may do is the application layer's call.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use realname_app::erasure;
use realname_app::platform::sessions::SessionView;
use realname_app::platform::{reads, sessions};
use realname_app::views::{self, Timestamp};
use realname_core::platform::KeyMode;
use serde::Deserialize;

use crate::api::answers::{
    ClosedUserView, ErrorBody, PlatformSessionView, PlatformUserView, PlatformVerificationView,
    RedactionAnswer, RedactionView, ScreeningView,
};
use crate::api::requests::PlatformSessionBody;
use crate::auth::Platform;
use crate::error::ApiResult;
use crate::extract::Json;
use crate::idempotency::Secrets;
use crate::state::AppState;

fn session_answer(view: SessionView) -> PlatformSessionView {
    let metadata: BTreeMap<String, String> =
        serde_json::from_str(&view.session.metadata).unwrap_or_default();
    PlatformSessionView {
        id: view.session.id,
        object: "verification_session".into(),
        external_user_id: view.session.external_user_id,
        url: view.url,
        url_expires_at: view.url_expires_at.map(Timestamp),
        return_url: view.session.return_url,
        locale: view.session.locale,
        purpose: view.session.purpose.as_str().to_owned(),
        real_name_status: view.standing.real_name_status,
        verification_id: view.standing.verification_id(),
        verification_status: view.standing.verification_status(),
        livemode: view.session.mode == KeyMode::Live,
        metadata,
        created_at: Timestamp(view.session.created_at),
    }
}

/// An answer with a link in it: the link is sent, never kept for a replay.
fn with_link(status: StatusCode, answer: PlatformSessionView) -> Response {
    let mut response = (status, axum::Json(answer)).into_response();
    response.extensions_mut().insert(Secrets(&["url"]));
    response
}

#[utoipa::path(post, path = "/v1/platform/sessions", operation_id = "createPlatformSession",
    summary = "Send a platform user to realname",
    security(("platformKey" = ["sessions:write"])),
    tag = "platform",
    request_body = PlatformSessionBody,
    responses(
        (status = 201, description = "A session, with a single-use link for the user (null once verified)", body = PlatformSessionView),
        (status = 403, description = "key_mode_mismatch; forbidden: the key lacks sessions:write", body = ErrorBody),
        (status = 422, description = "validation_failed: external_user_id_invalid, return_url_not_allowed, locale_invalid, metadata_invalid", body = ErrorBody)))]
pub async fn create_session(
    State(state): State<AppState>,
    Platform(who): Platform,
    Json(body): Json<PlatformSessionBody>,
) -> ApiResult<Response> {
    let view = sessions::create(&state, &who, body.into()).await?;
    Ok(with_link(StatusCode::CREATED, session_answer(view)))
}

#[utoipa::path(get, path = "/v1/platform/sessions/{id}", operation_id = "getPlatformSession",
    summary = "Read a verification session, with a fresh link",
    security(("platformKey" = ["sessions:write"])),
    tag = "platform",
    params(("id" = uuid::Uuid, Path)),
    responses(
        (status = 200, description = "The session, with a fresh link (earlier unused ones stay good until they expire); null once verified or closed", body = PlatformSessionView),
        (status = 403, description = "key_mode_mismatch; forbidden: the key lacks sessions:write", body = ErrorBody)))]
pub async fn get_session(
    State(state): State<AppState>,
    Platform(who): Platform,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let view = sessions::get(&state, &who, &id).await?;
    Ok(with_link(StatusCode::OK, session_answer(view)))
}

#[utoipa::path(get, path = "/v1/platform/users/{external_user_id}", operation_id = "getPlatformUser",
    summary = "Read how a platform user stands",
    security(("platformKey" = ["verifications:read"])),
    tag = "platform",
    params(("external_user_id" = String, Path)),
    responses(
        (status = 200, description = "Where the platform's user stands", body = PlatformUserView),
        (status = 403, description = "key_mode_mismatch; forbidden: the key lacks verifications:read", body = ErrorBody)))]
pub async fn user(
    State(state): State<AppState>,
    Platform(who): Platform,
    Path(external_user_id): Path<String>,
) -> ApiResult<axum::Json<PlatformUserView>> {
    let user = reads::user(&state, &who, &external_user_id).await?;
    Ok(axum::Json(PlatformUserView {
        verification_id: user.standing.verification_id(),
        verification_status: user.standing.verification_status(),
        external_user_id: user.external_user_id,
        real_name_status: user.standing.real_name_status,
        verified_at: user.verified_at.map(Timestamp),
        valid_until: user.valid_until,
        // Filled by the renewal and legal hold features (CONTRACT 11, 13).
        renewal: None,
        risk: user.risk.as_ref().map(|r| crate::api::answers::RiskView {
            grade: r.grade,
            next_review_at: r.next_review_at.map(Timestamp),
        }),
        legal_hold: false,
        livemode: state.mode() == KeyMode::Live,
        real_name: user.real_name,
        screening: user.screening_visible.then(|| match &user.screening {
            None => ScreeningView {
                status: None,
                screened_at: None,
                list_versions: Vec::new(),
            },
            Some(s) => ScreeningView {
                status: Some(realname_app::views::ScreeningStatus::of(s.status)),
                screened_at: Some(Timestamp(s.screened_at)),
                list_versions: serde_json::from_str(&s.list_versions).unwrap_or_default(),
            },
        }),
    }))
}

#[derive(Deserialize)]
pub struct VerificationQuery {
    expand: Option<String>,
}

#[utoipa::path(get, path = "/v1/platform/verifications/{id}", operation_id = "getPlatformVerification",
    summary = "Read an application as its user sees it",
    security(("platformKey" = ["verifications:read"])),
    tag = "platform",
    params(("id" = uuid::Uuid, Path),
        ("expand" = Option<String>, Query, pattern = "^(identity)?$", description = "identity: add the identity unmasked (scope verifications:read_pii; audited)")),
    responses(
        (status = 200, description = "The application as its user sees it, with the platform's id of that user", body = PlatformVerificationView),
        (status = 400, description = "malformed_request: expand takes only identity", body = ErrorBody),
        (status = 403, description = "key_mode_mismatch; forbidden: the key lacks the scope", body = ErrorBody)))]
pub async fn verification(
    State(state): State<AppState>,
    Platform(who): Platform,
    Path(id): Path<String>,
    Query(q): Query<VerificationQuery>,
) -> ApiResult<axum::Json<PlatformVerificationView>> {
    let expand = match q.expand.as_deref() {
        None | Some("") => false,
        Some("identity") => true,
        Some(_) => {
            return Err(realname_app::AppError::malformed(
                "expand takes only identity.",
                "expand 只能是 identity。",
            )
            .into());
        }
    };
    let read = reads::verification(&state, &who, &id, expand).await?;
    let mut application = views::render(&state, &read.record, read.opened.as_ref(), false);
    if !read.shows_name {
        application.real_name = None;
    }
    Ok(axum::Json(PlatformVerificationView {
        application,
        external_user_id: read.external_user_id,
        // Null once erased, as every other personal field is.
        identity: read.expanded.then(|| {
            read.opened
                .as_ref()
                .map(|opened| views::identity(&state, opened))
        }),
    }))
}

#[utoipa::path(post, path = "/v1/platform/verifications/{id}/redact", operation_id = "redactPlatformVerification",
    summary = "Erase a failed or cancelled application",
    security(("platformKey" = ["verifications:redact"])),
    tag = "platform",
    params(("id" = uuid::Uuid, Path)),
    responses(
        (status = 202, description = "Erased: a failed or cancelled application outside a fraud hold goes at once", body = RedactionAnswer),
        (status = 403, description = "key_mode_mismatch; forbidden: the key lacks verifications:redact", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 409, description = "retention_hold: kept until hold_until (null while the account is open or the application in progress)", body = ErrorBody)))]
pub async fn redact(
    State(state): State<AppState>,
    Platform(who): Platform,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, axum::Json<RedactionAnswer>)> {
    let redaction = erasure::redact(&state, &who, &id).await?;
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(RedactionAnswer {
            redaction: RedactionView::of(&redaction),
        }),
    ))
}

#[utoipa::path(delete, path = "/v1/platform/users/{external_user_id}", operation_id = "closePlatformUser",
    summary = "Close a platform user's account",
    security(("platformKey" = ["verifications:redact"])),
    tag = "platform",
    params(("external_user_id" = String, Path)),
    responses(
        (status = 202, description = "Closed: the relationship ended, an open draft was cancelled, and the holds run from now", body = ClosedUserView),
        (status = 403, description = "key_mode_mismatch; forbidden: the key lacks verifications:redact", body = ErrorBody),
        (status = 404, description = "not_found: no open account is bound to this id", body = ErrorBody),
        (status = 409, description = "application_in_progress: an application is being verified", body = ErrorBody)))]
pub async fn close_user(
    State(state): State<AppState>,
    Platform(who): Platform,
    Path(external_user_id): Path<String>,
) -> ApiResult<(StatusCode, axum::Json<ClosedUserView>)> {
    let closed = erasure::close_user(&state, &who, &external_user_id).await?;
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(ClosedUserView {
            object: "platform_user",
            external_user_id: closed.external_user_id,
            closed_at: Timestamp(closed.closed_at),
            redaction: RedactionView::of(&closed.redaction),
            livemode: state.mode() == KeyMode::Live,
        }),
    ))
}
