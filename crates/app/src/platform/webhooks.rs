//! Webhooks (CONTRACT 9): endpoints the platform registers, and the delivery of every event to
//! each endpoint that takes it. An event's row and the job that fans it out are written with
//! the status change (the outbox); the fan-out makes one delivery job per endpoint; each
//! attempt is a job claimed by one node, tried again on the schedule of `core::delivery` on the
//! service clock, and recorded. Sending is a port ([`WebhookSender`]): the address checks, the
//! signature and the HTTP attempt live in the server's adapter, not here.

use chrono::{DateTime, TimeDelta, Utc};
use realname_core::delivery::next_delay;
use realname_core::platform::{
    DeliveryAttempt, DeliveryState, EventType, KeyMode, PlatformEvent, Scope, WebhookEndpoint,
};
use realname_core::ports::SealContext;
use realname_core::report::WebhookUrlProblem;
use realname_core::store::{Job, NewJob};
use realname_core::{Breach, Code, Detail, Report};
use uuid::Uuid;

use crate::{AppError, AppResult, Principal, Service};

pub use realname_core::ports::{SendOutcome, WebhookSender};

/// What a platform sends to make or change an endpoint.
#[derive(Default)]
pub struct EndpointRequest {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub description: Option<String>,
    /// Only `enabled` may be asked for (re-enabling one a 410 disabled).
    pub status: Option<String>,
}

/// An endpoint and, when it was just made or rotated, its secret (shown this once).
pub struct EndpointView {
    pub endpoint: WebhookEndpoint,
    pub secret: Option<String>,
}

fn livemode(app: &Service) -> bool {
    app.mode() == KeyMode::Live
}

fn seal_secret(app: &Service, endpoint: Uuid, secret: &str) -> AppResult<Vec<u8>> {
    app.seal(SealContext::WebhookSecret(endpoint), secret.as_bytes())
}

fn open_secret(app: &Service, endpoint: Uuid, sealed: &[u8]) -> AppResult<String> {
    let bytes = app.open(SealContext::WebhookSecret(endpoint), sealed)?;
    String::from_utf8(bytes).map_err(|e| AppError::internal("webhook secret", e))
}

fn checked_events(events: &[String], report: &mut Report) -> Vec<String> {
    let valid = !events.is_empty()
        && events.len() <= EventType::ALL.len() + 1
        && events
            .iter()
            .all(|e| e == "*" || EventType::parse(e).is_some());
    if !valid {
        report.breach("events", Code::WebhookEventsInvalid);
    }
    let mut events = events.to_vec();
    events.sort();
    events.dedup();
    events
}

async fn checked_url(app: &Service, url: &str, report: &mut Report) -> String {
    let url = url.trim().to_owned();
    let admitted = if url.len() > 2048 {
        Err(WebhookUrlProblem::Form)
    } else {
        app.webhooks.admit(&url).await
    };
    if let Err(problem) = admitted {
        report.breaches.push(
            Breach::new("url", Code::WebhookUrlNotAllowed).with_detail(Detail::WebhookUrl(problem)),
        );
    }
    url
}

fn checked_description(text: Option<String>, report: &mut Report) -> Option<String> {
    let text = text.map(|d| d.trim().to_owned()).filter(|d| !d.is_empty());
    if text.as_ref().is_some_and(|d| d.chars().count() > 500) {
        report.breach("description", Code::DescriptionTooLong);
    }
    text
}

fn key_may_manage<'a>(
    app: &Service,
    who: &'a Principal,
) -> AppResult<&'a realname_core::platform::ApiKey> {
    who.platform(app, Scope::WebhooksManage)
}

pub async fn create(
    app: &Service,
    who: &Principal,
    request: EndpointRequest,
) -> AppResult<EndpointView> {
    key_may_manage(app, who)?;
    let mut report = Report::default();
    let url = match request.url.as_deref() {
        Some(url) => checked_url(app, url, &mut report).await,
        None => {
            report.breach("url", Code::FieldRequired);
            String::new()
        }
    };
    let events = checked_events(&request.events.unwrap_or_default(), &mut report);
    let description = checked_description(request.description, &mut report);
    if !report.is_clean() {
        return Err(AppError::validation(report));
    }
    let id = Uuid::new_v4();
    let secret = app
        .webhooks
        .new_secret()
        .map_err(|e| AppError::internal("webhook secret", e))?;
    let endpoint = WebhookEndpoint {
        id,
        url,
        events,
        description,
        enabled: true,
        secret: seal_secret(app, id, &secret)?,
        previous_secret: None,
        previous_expires_at: None,
        livemode: livemode(app),
        created_at: app.now(),
    };
    app.store.create_webhook_endpoint(&endpoint).await?;
    Ok(EndpointView {
        endpoint,
        secret: Some(secret),
    })
}

pub async fn list(app: &Service, who: &Principal) -> AppResult<Vec<WebhookEndpoint>> {
    key_may_manage(app, who)?;
    let mode = livemode(app);
    Ok(app
        .store
        .webhook_endpoints()
        .await?
        .into_iter()
        .filter(|e| e.livemode == mode)
        .collect())
}

async fn one(app: &Service, id: &str) -> AppResult<WebhookEndpoint> {
    let id = Uuid::parse_str(id).map_err(|_| AppError::new(Code::NotFound))?;
    let mode = livemode(app);
    app.store
        .webhook_endpoint(id)
        .await?
        .filter(|e| e.livemode == mode)
        .ok_or_else(|| AppError::new(Code::NotFound))
}

pub async fn update(
    app: &Service,
    who: &Principal,
    id: &str,
    request: EndpointRequest,
) -> AppResult<WebhookEndpoint> {
    key_may_manage(app, who)?;
    let mut endpoint = one(app, id).await?;
    let mut report = Report::default();
    if let Some(url) = request.url.as_deref() {
        endpoint.url = checked_url(app, url, &mut report).await;
    }
    if let Some(events) = request.events {
        endpoint.events = checked_events(&events, &mut report);
    }
    if request.description.is_some() {
        endpoint.description = checked_description(request.description, &mut report);
    }
    match request.status.as_deref() {
        None => {}
        Some("enabled") => endpoint.enabled = true,
        Some(_) => report.breach("status", Code::WebhookStatusInvalid),
    }
    if !report.is_clean() {
        return Err(AppError::validation(report));
    }
    if !app.store.update_webhook_endpoint(&endpoint).await? {
        return Err(AppError::new(Code::NotFound));
    }
    Ok(endpoint)
}

pub async fn delete(app: &Service, who: &Principal, id: &str) -> AppResult<()> {
    key_may_manage(app, who)?;
    let endpoint = one(app, id).await?;
    app.store.delete_webhook_endpoint(endpoint.id).await?;
    Ok(())
}

/// A new secret; the current one keeps signing beside it until `expire_current_after` has
/// passed on the service clock.
pub async fn rotate(
    app: &Service,
    who: &Principal,
    id: &str,
    expire_current_after: Option<i64>,
) -> AppResult<EndpointView> {
    key_may_manage(app, who)?;
    let seconds = expire_current_after.unwrap_or(86_400);
    if !(0..=7 * 86_400).contains(&seconds) {
        return Err(AppError::field(
            "expire_current_after_seconds",
            Code::WebhookOverlapInvalid,
        ));
    }
    let mut endpoint = one(app, id).await?;
    let secret = app
        .webhooks
        .new_secret()
        .map_err(|e| AppError::internal("webhook secret", e))?;
    let sealed = seal_secret(app, endpoint.id, &secret)?;
    let until = app.now() + TimeDelta::seconds(seconds);
    if !app
        .store
        .rotate_webhook_secret(endpoint.id, &sealed, until)
        .await?
    {
        return Err(AppError::new(Code::NotFound));
    }
    // As the store now holds it (the previous secret as it was stored, maybe re-sealed since
    // it was read; the answer shows neither).
    endpoint.previous_secret = Some(std::mem::replace(&mut endpoint.secret, sealed));
    endpoint.previous_expires_at = Some(until);
    Ok(EndpointView {
        endpoint,
        secret: Some(secret),
    })
}

pub const MAX_PAGE: u32 = 100;

pub async fn deliveries(
    app: &Service,
    who: &Principal,
    id: &str,
    before: Option<i64>,
    limit: u32,
) -> AppResult<(Vec<DeliveryAttempt>, bool)> {
    key_may_manage(app, who)?;
    let endpoint = one(app, id).await?;
    let mut rows = app
        .store
        .delivery_attempts(endpoint.id, before, limit + 1)
        .await?;
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    Ok((rows, more))
}

/// A new delivery of an event to every enabled endpoint that takes its type.
pub async fn resend(app: &Service, who: &Principal, event_id: &str) -> AppResult<()> {
    let event = crate::platform::events::event(app, who, event_id, Scope::WebhooksManage).await?;
    let round = Uuid::new_v4().simple().to_string();
    fan_out(app, &event, &round).await
}

async fn fan_out(app: &Service, event: &PlatformEvent, round: &str) -> AppResult<()> {
    for endpoint in app.store.webhook_endpoints().await? {
        if endpoint.enabled
            && endpoint.livemode == event.livemode
            && endpoint.takes(event.event_type)
        {
            app.store
                .queue_job(&NewJob::deliver_event(
                    &event.id,
                    endpoint.id,
                    round,
                    app.now(),
                ))
                .await?;
        }
    }
    app.wake.notify_one();
    Ok(())
}

/// What became of a job.
pub enum Next {
    Finished,
    /// Try again at this time (on the service clock).
    RetryAt(DateTime<Utc>),
}

/// The fan-out of a `dispatch_event` job: one delivery job per endpoint that takes the event.
pub async fn dispatch(app: &Service, job: &Job) -> AppResult<Next> {
    let Some(event_id) = job.subject.as_deref() else {
        return Ok(Next::Finished);
    };
    if let Some(event) = app.store.event(event_id).await? {
        fan_out(app, &event, "first").await?;
    }
    Ok(Next::Finished)
}

/// One attempt of a `deliver_event` job, recorded; the job comes back on the schedule.
pub async fn deliver(
    app: &Service,
    job: &Job,
    body: impl Fn(&PlatformEvent) -> Vec<u8>,
) -> AppResult<Next> {
    let Some((event_id, endpoint_id)) = job.delivery() else {
        return Ok(Next::Finished);
    };
    let (Some(event), Some(mut endpoint)) = (
        app.store.event(event_id).await?,
        app.store.webhook_endpoint(endpoint_id).await?,
    ) else {
        return Ok(Next::Finished);
    };
    if !endpoint.enabled {
        return Ok(Next::Finished);
    }
    let now = app.now();
    let mut secrets = vec![open_secret(app, endpoint.id, &endpoint.secret)?];
    if let (Some(previous), Some(until)) = (&endpoint.previous_secret, endpoint.previous_expires_at)
        && until > now
    {
        secrets.push(open_secret(app, endpoint.id, previous)?);
    }
    // `webhook-timestamp` is real time, even when the sandbox clock runs ahead, so that the
    // receiver's tolerance check holds.
    let timestamp = Utc::now().timestamp();
    let outcome = app
        .webhooks
        .send(&endpoint.url, &secrets, &event.id, timestamp, body(&event))
        .await;
    let attempt = job.attempts;
    let (state, next) = if outcome.delivered() {
        (DeliveryState::Delivered, None)
    } else if outcome.gone() {
        endpoint.enabled = false;
        app.store.update_webhook_endpoint(&endpoint).await?;
        (DeliveryState::Failed, None)
    } else {
        match next_delay(attempt, outcome.retry_after) {
            Some(wait) => (
                DeliveryState::Pending,
                Some(now + TimeDelta::from_std(wait).unwrap_or(TimeDelta::MAX)),
            ),
            None => (DeliveryState::Failed, None),
        }
    };
    app.store
        .record_delivery_attempt(&DeliveryAttempt {
            id: Uuid::new_v4(),
            position: 0,
            endpoint_id: endpoint.id,
            event_id: event.id.clone(),
            attempt,
            state,
            status_code: outcome.status,
            error: outcome.error,
            at: now,
            next_attempt_at: next,
            livemode: event.livemode,
        })
        .await?;
    Ok(match next {
        Some(at) => Next::RetryAt(at),
        None => Next::Finished,
    })
}
