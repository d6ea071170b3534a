//! Webhook endpoints and the record of each delivery attempt.

use chrono::{DateTime, Utc};
use realname_core::platform::{DeliveryAttempt, WebhookEndpoint};
use realname_core::store::StoreResult;
use uuid::Uuid;

use crate::args;
use crate::db::{Db, Row};

macro_rules! endpoint_columns {
    () => {
        "id, url, events, description, enabled, secret, previous_secret, previous_expires_at, livemode, created_at"
    };
}

fn endpoint(mut r: Row) -> StoreResult<WebhookEndpoint> {
    Ok(WebhookEndpoint {
        id: r.get(0)?,
        url: r.get(1)?,
        events: r
            .get::<String>(2)?
            .split_whitespace()
            .map(str::to_owned)
            .collect(),
        description: r.get(3)?,
        enabled: r.get(4)?,
        secret: r.get(5)?,
        previous_secret: r.get(6)?,
        previous_expires_at: r.get(7)?,
        livemode: r.get(8)?,
        created_at: r.get(9)?,
    })
}

fn attempt(mut r: Row) -> StoreResult<DeliveryAttempt> {
    Ok(DeliveryAttempt {
        position: r.get(0)?,
        id: r.get(1)?,
        endpoint_id: r.get(2)?,
        event_id: r.get(3)?,
        attempt: r.get(4)?,
        state: r.get(5)?,
        status_code: r.get(6)?,
        error: r.get(7)?,
        at: r.get(8)?,
        next_attempt_at: r.get(9)?,
        livemode: r.get(10)?,
    })
}

pub async fn create_webhook_endpoint(db: &mut dyn Db, w: &WebhookEndpoint) -> StoreResult<()> {
    db.run(
        "INSERT INTO webhook_endpoints (id, url, events, description, enabled, secret,
                 previous_secret, previous_expires_at, livemode, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        args![
            w.id,
            &w.url,
            w.events.join(" ").as_str(),
            w.description.as_deref(),
            w.enabled,
            &w.secret,
            w.previous_secret.as_ref(),
            w.previous_expires_at,
            w.livemode,
            w.created_at
        ],
    )
    .await
}

pub async fn webhook_endpoints(db: &mut dyn Db) -> StoreResult<Vec<WebhookEndpoint>> {
    db.all(
        concat!(
            "SELECT ",
            endpoint_columns!(),
            " FROM webhook_endpoints ORDER BY created_at, id"
        ),
        args![],
        endpoint,
    )
    .await
}

pub async fn webhook_endpoint(db: &mut dyn Db, id: Uuid) -> StoreResult<Option<WebhookEndpoint>> {
    db.one(
        concat!(
            "SELECT ",
            endpoint_columns!(),
            " FROM webhook_endpoints WHERE id = $1"
        ),
        args![id],
        endpoint,
    )
    .await
}

pub async fn update_webhook_endpoint(db: &mut dyn Db, w: &WebhookEndpoint) -> StoreResult<bool> {
    db.changed(
        "UPDATE webhook_endpoints SET url = $2, events = $3, description = $4, enabled = $5
             WHERE id = $1",
        args![
            w.id,
            &w.url,
            w.events.join(" ").as_str(),
            w.description.as_deref(),
            w.enabled
        ],
    )
    .await
}

pub async fn rotate_webhook_secret(
    db: &mut dyn Db,
    id: Uuid,
    secret: &[u8],
    previous_expires_at: DateTime<Utc>,
) -> StoreResult<bool> {
    db.changed(
        "UPDATE webhook_endpoints
             SET previous_secret = secret, secret = $2, previous_expires_at = $3
             WHERE id = $1",
        args![id, secret, previous_expires_at],
    )
    .await
}

pub async fn delete_webhook_endpoint(db: &mut dyn Db, id: Uuid) -> StoreResult<bool> {
    db.changed("DELETE FROM webhook_endpoints WHERE id = $1", args![id])
        .await
}

pub async fn record_delivery_attempt(db: &mut dyn Db, a: &DeliveryAttempt) -> StoreResult<()> {
    db.run(
        "INSERT INTO delivery_attempts (id, endpoint_id, event_id, attempt, state, status_code,
                 error, at, next_attempt_at, livemode)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        args![
            a.id,
            a.endpoint_id,
            &a.event_id,
            a.attempt,
            a.state.as_str(),
            a.status_code.map(i32::from),
            a.error.as_deref(),
            a.at,
            a.next_attempt_at,
            a.livemode
        ],
    )
    .await
}

pub async fn delivery_attempts(
    db: &mut dyn Db,
    endpoint: Uuid,
    before: Option<i64>,
    limit: u32,
) -> StoreResult<Vec<DeliveryAttempt>> {
    db.all(
        "SELECT position, id, endpoint_id, event_id, attempt, state, status_code, error, at,
                    next_attempt_at, livemode
             FROM delivery_attempts WHERE endpoint_id = $1 AND ($2 IS NULL OR position < $2)
             ORDER BY position DESC LIMIT $3",
        args![endpoint, before, limit],
        attempt,
    )
    .await
}
