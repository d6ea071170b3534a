//! The platform's event feed over JSON (CONTRACT 9).

use axum::extract::{Query, State};
use realname_app::AppError;
use realname_app::platform::events::{self, FeedRequest};
use serde::Deserialize;

use crate::api::answers::{ErrorBody, EventPage, PlatformEventView};
use crate::auth::Platform;
use crate::error::ApiResult;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct FeedQuery {
    #[serde(rename = "type")]
    event_type: Option<String>,
    verification_id: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

/// Every string of up to 19 digits is a position in the feed.
pub fn position(cursor: &str) -> Option<i64> {
    if cursor.is_empty() || cursor.len() > 19 || !cursor.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    cursor
        .parse::<u64>()
        .ok()
        .map(|n| n.min(i64::MAX as u64) as i64)
}

#[utoipa::path(get, path = "/v1/events", operation_id = "listEvents",
    summary = "List the events of the last 30 days",
    security(("platformKey" = ["events:read"])),
    tag = "platform",
    params(
        ("type" = Option<crate::api::answers::EventTypeName>, Query, description = "Only events of this type"),
        ("verification_id" = Option<uuid::Uuid>, Query, description = "Only the events of this application"),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 100, description = "1 to 100, default 20"),
        ("cursor" = Option<String>, Query, pattern = "^([0-9]{1,19})?$", description = "next_cursor of the page before")),
    responses(
        (status = 200, description = "Events, newest first, for 30 days", body = EventPage),
        (status = 400, description = "malformed_request: a type, id, limit or cursor this API does not take", body = ErrorBody),
        (status = 403, description = "key_mode_mismatch; forbidden: the key lacks events:read", body = ErrorBody)))]
pub async fn feed(
    State(state): State<AppState>,
    Platform(who): Platform,
    Query(q): Query<FeedQuery>,
) -> ApiResult<axum::Json<EventPage>> {
    let limit = match q.limit.as_deref() {
        None => None,
        Some(text) => Some(
            text.parse::<u32>()
                .ok()
                .filter(|n| (1..=events::MAX_PAGE).contains(n))
                .ok_or_else(|| {
                    AppError::malformed(
                        format!(
                            "limit must be a whole number from 1 to {}.",
                            events::MAX_PAGE
                        ),
                        format!("limit 必须是 1 到 {} 之间的整数。", events::MAX_PAGE),
                    )
                })?,
        ),
    };
    let before = match q.cursor.as_deref() {
        None | Some("") => None,
        Some(text) => Some(position(text).ok_or_else(|| {
            AppError::malformed(
                "The cursor is not one this service gave.",
                "cursor 不是本服务给出的值。",
            )
        })?),
    };
    let (page, more) = events::feed(
        &state,
        &who,
        FeedRequest {
            event_type: q.event_type,
            verification_id: q.verification_id,
            limit,
            before,
        },
    )
    .await?;
    let next_cursor = if more {
        page.last().map(|e| e.position.to_string())
    } else {
        None
    };
    Ok(axum::Json(EventPage {
        events: page.iter().map(PlatformEventView::of).collect(),
        next_cursor,
    }))
}
