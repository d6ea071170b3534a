//! The platform's event feed (CONTRACT 9): one event per status change of an application,
//! written in the change's own transaction by the store, read here newest first for 30 days.

use chrono::TimeDelta;
use realname_core::Code;
use realname_core::platform::{EventQuery, EventType, KeyMode, PlatformEvent, Scope};
use uuid::Uuid;

use crate::{AppError, AppResult, Principal, Service};

/// How long the feed keeps an event.
pub const KEPT_FOR: TimeDelta = TimeDelta::days(30);

/// What a feed request asks for, as sent.
#[derive(Default)]
pub struct FeedRequest {
    pub event_type: Option<String>,
    pub verification_id: Option<String>,
    pub limit: Option<u32>,
    /// The position of the last event of the page before.
    pub before: Option<i64>,
}

pub const MAX_PAGE: u32 = 100;

/// A page of the feed, newest first; `more` says whether another page follows.
pub async fn feed(
    app: &Service,
    who: &Principal,
    request: FeedRequest,
) -> AppResult<(Vec<PlatformEvent>, bool)> {
    let key = who.platform(app, Scope::EventsRead)?;
    let event_type = match request.event_type.as_deref() {
        None => None,
        Some(text) => Some(EventType::parse(text).ok_or_else(|| {
            AppError::malformed(
                "type must be one of the event types, e.g. verification.verified.",
                "type 必须是事件类型之一，例如 verification.verified。",
            )
        })?),
    };
    let application_id = match request.verification_id.as_deref() {
        None => None,
        Some(text) => Some(Uuid::parse_str(text).map_err(|_| {
            AppError::malformed(
                "verification_id must be an id.",
                "verification_id 必须是一个 ID。",
            )
        })?),
    };
    let limit = request.limit.unwrap_or(20).clamp(1, MAX_PAGE);
    let mut events = app
        .store
        .events(&EventQuery {
            event_type,
            application_id,
            since: app.now() - KEPT_FOR,
            livemode: key.mode == KeyMode::Live,
            before: request.before,
            limit: limit + 1,
        })
        .await?;
    let more = events.len() > limit as usize;
    events.truncate(limit as usize);
    Ok((events, more))
}

/// One event, if the key may see it.
pub async fn event(
    app: &Service,
    who: &Principal,
    id: &str,
    scope: Scope,
) -> AppResult<PlatformEvent> {
    let key = who.platform(app, scope)?;
    let livemode = key.mode == KeyMode::Live;
    app.store
        .event(id)
        .await?
        .filter(|e| e.livemode == livemode && e.created_at >= app.now() - KEPT_FOR)
        .ok_or_else(|| AppError::new(Code::NotFound))
}
