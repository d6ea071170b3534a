//! The one interpreter of a transition's effects, and the rows every change writes with it:
//! the status history, the platform's event (with its outbox job), queued jobs and the audit
//! trail.

use chrono::{DateTime, Utc};
use realname_core::platform::EventType;
use realname_core::state::{Effect, Failure, Status};
use realname_core::store::{Applied, AuditEntry, NewJob, StateChange, StoreResult};
use uuid::Uuid;

use crate::args;
use crate::db::{Db, Dialect};

/// The names of the statuses `keep` selects, for `= ANY` / `json_each` lists.
pub(crate) fn statuses(keep: impl Fn(Status) -> bool) -> Vec<&'static str> {
    Status::ALL
        .into_iter()
        .filter(|s| keep(*s))
        .map(Status::as_str)
        .collect()
}

pub(crate) async fn insert_event(
    db: &mut dyn Db,
    app: Uuid,
    status: Status,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    db.run(
        "INSERT INTO events (application_id, status, at) VALUES ($1, $2, $3)",
        args![app, status.as_str(), at],
    )
    .await
}

/// Queues a job under its key; `false` when the key was queued before.
pub async fn queue_job(db: &mut dyn Db, job: &NewJob) -> StoreResult<bool> {
    db.changed(
        "INSERT INTO jobs (id, key, kind, application_id, subject, due_at) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (key) DO NOTHING",
        args![
            Uuid::new_v4(),
            &job.key,
            job.kind.as_str(),
            job.application_id,
            job.subject.as_deref(),
            job.due_at
        ],
    ).await
}

pub(crate) async fn insert_audit(db: &mut dyn Db, e: &AuditEntry) -> StoreResult<()> {
    db.run(
        "INSERT INTO audit (id, at, actor, action, application_id, detail) VALUES ($1, $2, $3, $4, $5, $6)",
        args![e.id, e.at, e.actor, &e.action, e.application_id, &e.detail],
    ).await
}

/// Writes the platform's event of a status change, numbered in its application's sequence,
/// with the outbox job that takes it to the endpoints. Without an endpoint of the event's
/// mode there is nobody to take it to, and the journey's write path would pay for a job
/// written, claimed and finished for nothing.
pub(crate) async fn publish(
    db: &mut dyn Db,
    app: Uuid,
    event: EventType,
    status: Status,
    failure: Option<&Failure>,
    livemode: bool,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    let event_id = realname_core::store::event_id(Uuid::new_v4());
    let failure = failure.map(Failure::encode);
    let anyone_listens: bool = match db.dialect() {
        // Counting, writing and asking whether anyone listens is one round trip: every
        // status change pays for it.
        Dialect::Postgres => db
            .value(
                "WITH counted AS (
                     UPDATE applications SET event_sequence = event_sequence + 1 WHERE id = $2
                     RETURNING event_sequence, account_id
                 ), written AS (
                     INSERT INTO platform_events
                         (id, application_id, external_user_id, type, sequence, status, failure,
                          livemode, created_at)
                     SELECT $1, $2, (SELECT pu.external_user_id FROM platform_users pu
                                      WHERE pu.account_id = counted.account_id),
                            $3, counted.event_sequence, $4, $5, $6, $7
                     FROM counted
                     RETURNING id
                 )
                 SELECT EXISTS (SELECT 1 FROM webhook_endpoints WHERE enabled AND livemode = $6)
                 FROM written",
                args![
                    &event_id,
                    app,
                    event.as_str(),
                    status.as_str(),
                    failure.as_deref(),
                    livemode,
                    at
                ],
            )
            .await?
            .unwrap_or(false),
        Dialect::Sqlite => {
            db.exec(
                "INSERT INTO platform_events
                     (id, application_id, external_user_id, type, sequence, status, failure,
                      livemode, created_at)
                 SELECT $1, a.id, pu.external_user_id, $3, a.event_sequence + 1, $4, $5, $6, $7
                 FROM applications a LEFT JOIN platform_users pu ON pu.account_id = a.account_id
                 WHERE a.id = $2",
                args![
                    &event_id,
                    app,
                    event.as_str(),
                    status.as_str(),
                    failure.as_deref(),
                    livemode,
                    at
                ],
            )
            .await?;
            db.exec(
                "UPDATE applications SET event_sequence = event_sequence + 1 WHERE id = $1",
                args![app],
            )
            .await?;
            db.value(
                "SELECT EXISTS (SELECT 1 FROM webhook_endpoints WHERE enabled AND livemode = $1)",
                args![livemode],
            )
            .await?
            .unwrap_or(false)
        }
    };
    if anyone_listens {
        queue_job(db, &NewJob::dispatch_event(&event_id, app, at)).await?;
    }
    Ok(())
}

/// What changes write beside their move, gathered by kind: the one reading of a transition's
/// effects. A change on its own writes them row by row ([`apply_in`]); PostgreSQL writes many
/// changes' at once, a statement a kind (`Db::apply_all`). The order of the kinds does not
/// matter: no effect reads what another writes.
#[derive(Default)]
pub struct Writes<'c> {
    pub jobs: Vec<&'c NewJob>,
    /// Application, settled at, expires at.
    pub settled: Vec<(Uuid, DateTime<Utc>, DateTime<Utc>)>,
    /// Application, attempts used.
    pub attempts: Vec<(Uuid, u32)>,
    /// Application, submitted at, due at.
    pub opened: Vec<(Uuid, DateTime<Utc>, DateTime<Utc>)>,
    /// Application, decided at, outcome.
    pub closed: Vec<(Uuid, DateTime<Utc>, &'static str)>,
    /// Application (its deposit's card), reason, at.
    pub blocked: Vec<(Uuid, &'c str, DateTime<Utc>)>,
    pub published: Vec<Publication<'c>>,
}

/// The platform event of a status change.
pub struct Publication<'c> {
    pub app: Uuid,
    pub event: EventType,
    pub status: Status,
    pub failure: Option<&'c Failure>,
    pub livemode: bool,
    pub at: DateTime<Utc>,
}

impl<'c> Writes<'c> {
    pub fn of(changes: &'c [StateChange]) -> Writes<'c> {
        let mut w = Writes::default();
        for change in changes {
            let (app, t) = (change.application_id, &change.transition);
            for effect in &t.effects {
                match effect {
                    Effect::Queue(job) => w.jobs.push(job),
                    Effect::SettleDeposit {
                        settled_at,
                        expires_at,
                    } => w.settled.push((app, *settled_at, *expires_at)),
                    Effect::RecordAttempts(n) => w.attempts.push((app, *n)),
                    Effect::OpenReviewCase { due_at } => w.opened.push((app, change.at, *due_at)),
                    Effect::CloseReviewCase { at, outcome } => {
                        w.closed.push((app, *at, outcome.as_str()))
                    }
                    Effect::BlockCard { reason, at } => w.blocked.push((app, reason, *at)),
                    Effect::Publish {
                        event,
                        livemode,
                        at,
                    } => w.published.push(Publication {
                        app,
                        event: *event,
                        status: t.status,
                        failure: t.failure.as_ref(),
                        livemode: *livemode,
                        at: *at,
                    }),
                }
            }
        }
        w
    }

    /// Writes each row with a statement of its own.
    async fn write_each(&self, db: &mut dyn Db) -> StoreResult<()> {
        for job in &self.jobs {
            queue_job(db, job).await?;
        }
        for (app, settled_at, expires_at) in &self.settled {
            db.run(
                "UPDATE deposits SET settled_at = $1, expires_at = $2 WHERE application_id = $3",
                args![*settled_at, *expires_at, *app],
            )
            .await?;
        }
        for (app, attempts) in &self.attempts {
            db.run(
                "UPDATE deposits SET attempts_used = $1 WHERE application_id = $2",
                args![*attempts, *app],
            )
            .await?;
        }
        for (app, submitted_at, due_at) in &self.opened {
            db.run(
                "INSERT INTO review_cases (id, application_id, account_id, submitted_at, due_at)
                 SELECT $1, id, account_id, $2, $3 FROM applications WHERE id = $4
                 ON CONFLICT (application_id) DO NOTHING",
                args![Uuid::new_v4(), *submitted_at, *due_at, *app],
            )
            .await?;
        }
        for (app, at, outcome) in &self.closed {
            db.run(
                "UPDATE review_cases SET decided_at = $1, outcome = $3
                 WHERE application_id = $2 AND decided_at IS NULL",
                args![*at, *app, *outcome],
            )
            .await?;
        }
        for (app, reason, at) in &self.blocked {
            db.run(
                "INSERT INTO returned_cards (card_hash, reason, at)
                 SELECT card_hash, $1, $2 FROM deposits WHERE application_id = $3
                 ON CONFLICT DO NOTHING",
                args![*reason, *at, *app],
            )
            .await?;
        }
        for p in &self.published {
            publish(db, p.app, p.event, p.status, p.failure, p.livemode, p.at).await?;
        }
        Ok(())
    }
}

/// A transition inside an open transaction, guarded by its starting status. Its effects
/// carry everything they write; nothing here decides.
pub async fn apply_in(db: &mut dyn Db, change: &StateChange) -> StoreResult<Applied> {
    let app = change.application_id;
    let t = &change.transition;
    let failure = t.failure.as_ref().map(Failure::encode);
    let moved = db
        .exec(
            "UPDATE applications SET status = $1, failure = $2, updated_at = $3
             WHERE id = $4 AND status = $5",
            args![
                t.status.as_str(),
                failure.as_deref(),
                change.at,
                app,
                change.from.as_str()
            ],
        )
        .await?;
    if moved == 0 {
        return Ok(Applied::Moved);
    }
    insert_event(db, app, t.status, change.at).await?;
    Writes::of(std::slice::from_ref(change))
        .write_each(db)
        .await?;
    Ok(Applied::Done)
}
