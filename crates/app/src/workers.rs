//! Background work: paying deposits, recording what the bank says of them, and expiring
//! deposits nobody confirmed. Each step is idempotent: jobs are leased and keyed, payouts are
//! named by the application's end-to-end id, and every state change is guarded by the status
//! it starts from, so a crash or a second worker repeats nothing.

use std::time::Duration;

use chrono::TimeDelta;
use realname_core::Code;
use realname_core::ports::{BankMessage, PayoutInstruction, PayoutNotice, UnmatchedEntry};
use realname_core::state::{Event, Status, transition};
use realname_core::store::{Forget, Forgotten, JobKind, MessageApplied, NewJob, StateChange};
use tokio::sync::watch;
use uuid::Uuid;

use crate::Service;
use crate::platform::webhooks;
use crate::views::PlatformEventView;

/// How long an `Idempotency-Key`'s answer is kept (CONTRACT 4).
pub const IDEMPOTENCY_KEPT_FOR: TimeDelta = TimeDelta::hours(24);
/// How long a failed-login counter outlives its last failure.
pub const THROTTLE_KEPT_FOR: TimeDelta = TimeDelta::hours(24);
/// How long the platform's events (and the attempts at delivering them) are kept: the feed
/// answers 30 days (CONTRACT 9, 11).
pub const EVENTS_KEPT_FOR: TimeDelta = TimeDelta::days(30);
/// How long a finished job is kept, to see what the workers did.
pub const JOBS_KEPT_FOR: TimeDelta = TimeDelta::days(30);
/// How long an expired link is kept: a day, so that opening it says "used or expired" and
/// not "unknown" for a while, though both read the same.
pub const LINKS_KEPT_FOR: TimeDelta = TimeDelta::days(1);
const LEASE_SECONDS: i64 = 60;
/// Customers verified before grading existed, graded a sweep (every few minutes) at most.
const UNGRADED_A_SWEEP: usize = 2_000;
const BATCH: u32 = 32;
const TICK: Duration = Duration::from_secs(1);
/// Worker passes between two looks at the screening lists' versions (one statement).
const LIST_CHECK_EVERY: u64 = 5;
const GATHER: Duration = Duration::from_millis(20);

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct WorkError(String);

fn err(e: impl std::fmt::Display) -> WorkError {
    WorkError(e.to_string())
}

/// Runs until `stop` says so, waking every second or when new work is queued.
pub async fn run(state: std::sync::Arc<Service>, mut stop: watch::Receiver<bool>) {
    if state.rail.batch_every().is_some() {
        // One job for the whole service (its key is fixed): the first node to start queues it.
        let first = NewJob::send_payouts(state.now());
        if let Err(e) = state.store.queue_job(&first).await {
            tracing::warn!(error = %e, "could not queue the payout batches; the next start will");
        }
    }
    let mut passes: u64 = 0;
    loop {
        if let Err(e) = run_pending(&state).await {
            tracing::warn!(error = %e, "worker pass failed; trying again");
        }
        // A list imported on any node reaches this one within a few passes.
        if passes % LIST_CHECK_EVERY == 0 {
            match state.lists.refresh(state.store.as_ref()).await {
                Ok(true) => tracing::info!("screening lists changed; this node's index is rebuilt"),
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e, "could not read the screening lists"),
            }
        }
        // What is kept for hours or days at least: sweeping every few minutes is plenty.
        if passes % 300 == 0 {
            purge(&state).await;
        }
        passes += 1;
        tokio::select! {
            _ = stop.changed() => break,
            // A moment's wait gathers the changes made meanwhile into one pass.
            _ = state.wake.notified() => tokio::time::sleep(GATHER).await,
            _ = tokio::time::sleep(TICK) => {}
        }
        if *stop.borrow() {
            break;
        }
    }
}

/// Forgets what is kept for a while only (CONTRACT 11): idempotency answers, lapsed sessions
/// and counters, the history of events, deliveries, finished jobs and links, and the personal
/// data whose retention ran out.
pub async fn purge(state: &Service) {
    // An `Idempotency-Key` lasts 24 hours of real time (CONTRACT 4), as it was stamped.
    let before = state.real_now() - IDEMPOTENCY_KEPT_FOR;
    if let Err(e) = state.store.purge_idempotent(before).await {
        tracing::warn!(error = %e, "could not purge old idempotency keys");
    }
    // Sessions lapse on the service clock; failed-login counters are forgotten after a day of
    // real time without a failure (and never while they lock).
    let real = state.real_now();
    if let Err(e) = state
        .store
        .purge_lapsed(state.now(), real - THROTTLE_KEPT_FOR, real)
        .await
    {
        tracing::warn!(error = %e, "could not purge lapsed sessions and counters");
    }
    purge_history(state).await;
    // Personal data whose retention ran out, on the service clock (CONTRACT 11).
    crate::erasure::sweep(state).await;
    // Not purges, but as slow a clock (CONTRACT 14): customers verified before grading
    // existed, then the periodic reviews that fell due.
    crate::risk::grade_ungraded(state, UNGRADED_A_SWEEP).await;
    crate::risk::open_due_reviews(state).await;
}

/// Forgets the history kept for a while only (events, deliveries, finished jobs, links).
async fn purge_history(state: &Service) {
    let now = state.now();
    let forget = Forget {
        events_before: now - EVENTS_KEPT_FOR,
        jobs_before: now - JOBS_KEPT_FOR,
        links_before: now - LINKS_KEPT_FOR,
    };
    match state.store.purge_history(&forget).await {
        Ok(gone) if gone != Forgotten::default() => tracing::info!(
            events = gone.events,
            deliveries = gone.deliveries,
            jobs = gone.jobs,
            links = gone.links,
            "purged old history"
        ),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "could not purge old history"),
    }
}

/// Does everything that is due now, until nothing is left (bounded, so a stuck job cannot
/// hold a request that waits for it).
pub async fn run_pending(state: &Service) -> Result<(), WorkError> {
    let _one_at_a_time = state.work.lock().await;
    if state.sandbox.is_some() {
        let offset = state.store.sandbox_offset().await.map_err(err)?;
        state.set_offset(offset);
    }
    for _ in 0..50 {
        let notices = record_messages(state).await?;
        let jobs = run_jobs(state).await?;
        if notices == 0 && jobs == 0 {
            break;
        }
    }
    Ok(())
}

/// Applies what the bank has sent now, outside the worker's own passes (`realname rail
/// import`); answers how many messages.
pub async fn apply_bank_messages(state: &Service) -> Result<usize, WorkError> {
    let _one_at_a_time = state.work.lock().await;
    record_messages(state).await
}

/// How often a bank message is worked out again when applications move under it.
const MESSAGE_TRIES: usize = 5;

/// Applies every message the bank has sent, each in one transaction; answers how many.
async fn record_messages(state: &Service) -> Result<usize, WorkError> {
    let messages = state.rail.messages(state.now()).await.map_err(err)?;
    for message in &messages {
        let mut applied = MessageApplied::Moved;
        for _ in 0..MESSAGE_TRIES {
            let (changes, unmatched) = changes_of(state, message).await?;
            applied = state
                .store
                .apply_bank_message(message, &changes, &unmatched, state.now())
                .await
                .map_err(err)?;
            if applied != MessageApplied::Moved {
                break;
            }
        }
        if applied == MessageApplied::Moved {
            // Left where it is: the next pass works it out again.
            tracing::warn!(source = %message.source, "bank message not applied: applications kept moving");
            continue;
        }
        state.rail.finish(message).await.map_err(err)?;
    }
    Ok(messages.len())
}

/// What a bank message changes: the transitions it makes, and the entries that change
/// nothing and are kept for the operator.
async fn changes_of(
    state: &Service,
    message: &BankMessage,
) -> Result<(Vec<StateChange>, Vec<UnmatchedEntry>), WorkError> {
    let mut changes = Vec::new();
    let mut unmatched = Vec::new();
    let now = state.now();
    let named: Vec<String> = message
        .notices
        .iter()
        .filter_map(|n| n.end_to_end_id().map(str::to_owned))
        .collect();
    let found = state
        .store
        .deposit_applications(&named)
        .await
        .map_err(err)?;
    let mut keep = |reference: &str, what: String| {
        unmatched.push(UnmatchedEntry {
            message: message.key.clone(),
            source: message.source.clone(),
            reference: Some(reference.to_owned()),
            what,
            at: now,
        });
    };
    let mut changed = std::collections::HashSet::new();
    for notice in &message.notices {
        let (e2e, event, at) = match notice {
            PayoutNotice::Settled { end_to_end_id, at } => {
                (end_to_end_id, Event::DepositSettled, *at)
            }
            PayoutNotice::Returned {
                end_to_end_id,
                reason,
                at,
            } => (
                end_to_end_id,
                Event::DepositReturned {
                    reason: reason.clone(),
                },
                *at,
            ),
            PayoutNotice::Refused { end_to_end_id, .. } => {
                if !found.contains_key(end_to_end_id) {
                    keep(end_to_end_id, "no payout has this end-to-end id".into());
                }
                continue;
            }
            PayoutNotice::File { .. } | PayoutNotice::Unnamed { .. } => continue,
        };
        let Some(&(app, status)) = found.get(e2e) else {
            keep(e2e, "no payout has this end-to-end id".into());
            continue;
        };
        // One change per application and message: a file that names a payout twice, or
        // settles it and then returns it, is worked out from the status the first one left.
        if !changed.insert(app) {
            keep(e2e, "named again in the same message".into());
            continue;
        }
        match transition(status, &event, &state.moment(app, at)) {
            Ok(moved) => changes.push(StateChange::new(app, status, moved, at)),
            // Said before: the deposit settled already.
            Err(_) if repeats(status, &event) => {}
            Err(_) => keep(
                e2e,
                format!(
                    "{} is no longer possible: the application is {}",
                    event.name(),
                    status.as_str()
                ),
            ),
        }
    }
    Ok((changes, unmatched))
}

/// Whether `event` only repeats what the application's status already records: a deposit
/// settled twice (a status report, then the booking). A return reaching a failed
/// application is kept and reported: it may have failed for another reason.
fn repeats(status: Status, event: &Event) -> bool {
    matches!(event, Event::DepositSettled)
        && matches!(
            status,
            Status::AwaitingAmount | Status::UnderReview | Status::Verified
        )
}

async fn run_jobs(state: &Service) -> Result<usize, WorkError> {
    let now = state.now();
    let jobs = state
        .store
        .claim_jobs(now, LEASE_SECONDS, BATCH)
        .await
        .map_err(err)?;
    // The batch's jobs run side by side: a webhook receiver that takes its 15 s must not
    // hold up the deposits and deliveries behind it. Each job is leased to this node and
    // guarded by the status it starts from, as it is against the other nodes' workers.
    let results = futures_util::future::join_all(jobs.iter().map(|job| run_job(state, job))).await;
    results.into_iter().collect::<Result<(), _>>()?;
    Ok(jobs.len())
}

async fn run_job(state: &Service, job: &realname_core::store::Job) -> Result<(), WorkError> {
    let result = match (job.kind, job.application_id) {
        (JobKind::PayDeposit, Some(app)) => pay_deposit(state, app).await,
        (JobKind::ExpireDeposit, Some(app)) => expire_deposit(state, app).await,
        (JobKind::DispatchEvent, _) => webhook_step(webhooks::dispatch(state, job).await),
        (JobKind::SendPayouts, _) => send_payouts(state).await,
        // It ends itself, in the transaction that writes its batch.
        (JobKind::Rescreen, _) => crate::screening::rescreen(state, job)
            .await
            .map(|()| Done::Ended)
            .map_err(err),
        (JobKind::DeliverEvent, _) => webhook_step(
            webhooks::deliver(state, job, |event| {
                serde_json::to_vec(&PlatformEventView::of(event)).unwrap_or_default()
            })
            .await,
        ),
        // Every kind so far is about one application; a job without one has nothing
        // to act on.
        (_, None) => Ok(Done::Finished),
    };
    match result {
        Ok(Done::Finished) => state.store.finish_job(job, state.now()).await.map_err(err),
        Ok(Done::Later(at)) => state.store.retry_job(job, at).await.map_err(err),
        Ok(Done::Ended) => Ok(()),
        Err(e) => {
            // Back off: 30 s, 60 s, … up to an hour.
            let wait = TimeDelta::seconds((30i64 << job.attempts.min(7)).min(3600));
            tracing::warn!(job = job.kind.as_str(), attempts = job.attempts, error = %e, "job failed; retrying");
            state
                .store
                .retry_job(job, state.now() + wait)
                .await
                .map_err(err)
        }
    }
}

fn webhook_step(step: crate::AppResult<webhooks::Next>) -> Result<Done, WorkError> {
    match step {
        Ok(webhooks::Next::Finished) => Ok(Done::Finished),
        Ok(webhooks::Next::RetryAt(at)) => Ok(Done::Later(at)),
        Err(e) => Err(err(format!("{}", e.code))),
    }
}

enum Done {
    Finished,
    Later(chrono::DateTime<chrono::Utc>),
    /// The job ended in its own transaction.
    Ended,
}

async fn pay_deposit(state: &Service, application_id: Uuid) -> Result<Done, WorkError> {
    let Some(app) = state.store.application(application_id).await.map_err(err)? else {
        return Ok(Done::Finished);
    };
    let (Some(deposit), Some(card)) = (&app.deposit, &app.card) else {
        return Ok(Done::Finished);
    };
    if app.status != Status::DepositPending || deposit.paid_at.is_some() {
        return Ok(Done::Finished);
    }
    let amount = state
        .open_amount(app.id, &deposit.amount)
        .map_err(|_| err("deposit amount unreadable"))?;
    let Some(bound) = crate::views::open_kept(state, &app)
        .map_err(|_| err("stored card unreadable"))?
        .card
    else {
        return Err(err("stored card unreadable"));
    };
    let payout = PayoutInstruction {
        application_id: app.id,
        end_to_end_id: deposit.end_to_end_id.clone(),
        bank: card.bank.clone(),
        card_number: bound.card_number,
        account_name: bound.account_name,
        amount,
    };
    let now = state.now();
    state.rail.pay(&payout, now).await.map_err(err)?;
    state
        .store
        .mark_deposit_paid(app.id, now)
        .await
        .map_err(err)?;
    Ok(Done::Finished)
}

/// Sends the rail's next batch, and comes back at the next cut-off.
async fn send_payouts(state: &Service) -> Result<Done, WorkError> {
    let Some(every) = state.rail.batch_every() else {
        return Ok(Done::Finished);
    };
    let now = state.now();
    state.rail.send_due(now).await.map_err(err)?;
    Ok(Done::Later(now + every))
}

async fn expire_deposit(state: &Service, application_id: Uuid) -> Result<Done, WorkError> {
    let Some(app) = state.store.application(application_id).await.map_err(err)? else {
        return Ok(Done::Finished);
    };
    if app.status != Status::AwaitingAmount {
        return Ok(Done::Finished);
    }
    let now = state.now();
    match app.deposit.as_ref().and_then(|d| d.expires_at) {
        Some(expires_at) if expires_at > now => return Ok(Done::Later(expires_at)),
        _ => {}
    }
    let moved = transition(
        Status::AwaitingAmount,
        &Event::DepositExpired,
        &state.moment(app.id, now),
    )
    .map_err(err)?;
    let change = StateChange::new(app.id, Status::AwaitingAmount, moved, now);
    // Moved means the user answered first; either way the job is done.
    state.store.apply(&change).await.map_err(err)?;
    Ok(Done::Finished)
}

/// The furthest the sandbox clock may move at once, and run ahead of real time in all (CONTRACT
/// 4): ten years, far enough for any test of expiry, near enough that no date overflows.
pub const SANDBOX_CLOCK_MAX_SECONDS: i64 = 3650 * 86_400;

/// Moves the sandbox clock forward by `seconds` and runs everything that fell due, so that
/// tests of delays and expiry are exact. Only an admin or a test key may: the clock ends
/// sessions and deposits for everybody.
pub async fn advance_sandbox_clock(
    state: &Service,
    who: &crate::Principal,
    seconds: i64,
) -> crate::AppResult<()> {
    who.sandbox_operator(state)?;
    let out_of_range = || crate::AppError::field("seconds", Code::SandboxClockOutOfRange);
    if !(0..=SANDBOX_CLOCK_MAX_SECONDS).contains(&seconds) {
        return Err(out_of_range());
    }
    let offset = state
        .store
        .advance_sandbox_clock(seconds, SANDBOX_CLOCK_MAX_SECONDS)
        .await?
        .ok_or_else(out_of_range)?;
    state.set_offset(offset);
    crate::security::record(crate::security::SecurityEvent::SandboxClockMoved { seconds });
    run_pending(state)
        .await
        .map_err(|e| crate::AppError::internal("sandbox clock", e))?;
    // What the new time lets go is forgotten now too, so tests of retention are exact.
    purge(state).await;
    Ok(())
}
