//! The one interpreter of a transition's effects, and the rows every change writes with it:
//! the status history, the platform's event (with its outbox job), queued jobs and the audit
//! trail.

use chrono::{DateTime, Utc};
use realname_core::platform::EventType;
use realname_core::state::{Effect, Failure, Status};
use realname_core::store::{Applied, AuditEntry, CaseRecord, NewJob, StateChange, StoreResult};
use uuid::Uuid;

use crate::args;
use crate::db::{Db, Dialect, Param};

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
#[allow(clippy::too_many_arguments)]
pub(crate) async fn publish(
    db: &mut dyn Db,
    app: Uuid,
    event: EventType,
    status: Status,
    failure: Option<&Failure>,
    livemode: bool,
    at: DateTime<Utc>,
    list_versions: Option<&str>,
) -> StoreResult<()> {
    let event_id = realname_core::store::event_id(Uuid::new_v4());
    let failure = failure.map(Failure::encode);
    let values = args![
        &event_id,
        app,
        event.as_str(),
        status.as_str(),
        failure.as_deref(),
        livemode,
        at,
        list_versions
    ];
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
                          livemode, created_at, list_versions)
                     SELECT $1, $2, (SELECT pu.external_user_id FROM platform_users pu
                                      WHERE pu.account_id = counted.account_id),
                            $3, counted.event_sequence, $4, $5, $6, $7, $8
                     FROM counted
                     RETURNING id
                 )
                 SELECT EXISTS (SELECT 1 FROM webhook_endpoints WHERE enabled AND livemode = $6)
                 FROM written",
                values,
            )
            .await?
            .unwrap_or(false),
        Dialect::Sqlite => {
            db.exec(
                "INSERT INTO platform_events
                     (id, application_id, external_user_id, type, sequence, status, failure,
                      livemode, created_at, list_versions)
                 SELECT $1, a.id, pu.external_user_id, $3, a.event_sequence + 1, $4, $5, $6, $7, $8
                 FROM applications a LEFT JOIN platform_users pu ON pu.account_id = a.account_id
                 WHERE a.id = $2",
                values,
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
                 ON CONFLICT (application_id) WHERE kind = 'application' DO NOTHING",
                args![Uuid::new_v4(), *submitted_at, *due_at, *app],
            )
            .await?;
        }
        for (app, at, outcome) in &self.closed {
            db.run(
                "UPDATE review_cases SET decided_at = $1, outcome = $3
                 WHERE application_id = $2 AND kind = 'application' AND decided_at IS NULL",
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
            publish(
                db, p.app, p.event, p.status, p.failure, p.livemode, p.at, None,
            )
            .await?;
        }
        Ok(())
    }
}

/// A transition inside an open transaction, guarded by its starting status. Its effects
/// carry everything they write; nothing here decides. On PostgreSQL the move and all it
/// writes are one statement ([`chained`]); on SQLite, whose statements are calls into the
/// process, one statement a row.
pub async fn apply_in(db: &mut dyn Db, change: &StateChange) -> StoreResult<Applied> {
    if db.dialect() == Dialect::Postgres {
        return chained(db, change, None).await;
    }
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

/// A change as one statement: the guarded move, then each of its writes as a data-modifying
/// `WITH` that reads the moved row, so that nothing is written unless the move was. Being one
/// statement it needs no transaction of its own, and costs one round trip where a statement a
/// row cost five to eight. The platform events are numbered by the move itself.
pub(crate) async fn chained(
    db: &mut dyn Db,
    change: &StateChange,
    decision: Option<(&CaseRecord, &AuditEntry)>,
) -> StoreResult<Applied> {
    let w = Writes::of(std::slice::from_ref(change));
    let t = &change.transition;
    let failure = t.failure.as_ref().map(Failure::encode);
    // Each platform event's id and failure, and the job that would take it to the endpoints.
    let events: Vec<(String, Option<String>)> = w
        .published
        .iter()
        .map(|p| {
            let id = realname_core::store::event_id(Uuid::new_v4());
            (id, p.failure.map(Failure::encode))
        })
        .collect();
    let dispatches: Vec<(NewJob, bool)> = w
        .published
        .iter()
        .zip(&events)
        .map(|(p, (id, _))| (NewJob::dispatch_event(id, p.app, p.at), p.livemode))
        .collect();
    let mut chain = Chain::default();
    let published = i64::try_from(w.published.len()).unwrap_or(i64::MAX);
    let mut moved: Vec<Param> = vec![
        t.status.as_str().into(),
        failure.as_deref().into(),
        change.at.into(),
        published.into(),
        change.application_id.into(),
        change.from.as_str().into(),
    ];
    // A decision moves the application only while its case is as the decision read it.
    let guard = match decision {
        None => "",
        Some((case, _)) => {
            moved.extend([
                Param::from(case.id),
                case.claimed_by.into(),
                case.claimed_until.into(),
            ]);
            " AND EXISTS (SELECT 1 FROM review_cases WHERE id = $ AND decided_at IS NULL
                 AND claimed_by IS NOT DISTINCT FROM $ AND claimed_until IS NOT DISTINCT FROM $)"
        }
    };
    chain.step(
        &format!(
            "moved AS (UPDATE applications SET status = $, failure = $, updated_at = $,
                 event_sequence = event_sequence + $ WHERE id = $ AND status = ${guard}
                 RETURNING id, account_id, event_sequence)"
        ),
        moved,
    );
    if let Some((_, e)) = decision {
        chain.step(
            "INSERT INTO audit (id, at, actor, action, application_id, detail)
             SELECT $, $, $, $, $, $ FROM moved",
            vec![
                e.id.into(),
                e.at.into(),
                e.actor.into(),
                e.action.as_str().into(),
                e.application_id.into(),
                e.detail.as_str().into(),
            ],
        );
    }
    chain.step(
        "INSERT INTO events (application_id, status, at) SELECT id, $, $ FROM moved",
        vec![t.status.as_str().into(), change.at.into()],
    );
    for job in &w.jobs {
        chain.job(job, None);
    }
    if w.settled.len() + w.attempts.len() > 0 {
        // One update of the deposit: a statement may not change a row twice.
        let settled = w.settled.first();
        chain.step(
            "UPDATE deposits SET settled_at = COALESCE($, settled_at),
                 expires_at = COALESCE($, expires_at), attempts_used = COALESCE($, attempts_used)
             WHERE application_id = (SELECT id FROM moved)",
            vec![
                settled.map(|s| s.1).into(),
                settled.map(|s| s.2).into(),
                w.attempts.first().map(|a| i64::from(a.1)).into(),
            ],
        );
    }
    for (_, submitted_at, due_at) in &w.opened {
        chain.step(
            "INSERT INTO review_cases (id, application_id, account_id, submitted_at, due_at)
             SELECT $, id, account_id, $, $ FROM moved ON CONFLICT (application_id) WHERE kind = 'application' DO NOTHING",
            vec![
                Uuid::new_v4().into(),
                (*submitted_at).into(),
                (*due_at).into(),
            ],
        );
    }
    for (_, at, outcome) in &w.closed {
        chain.step(
            "UPDATE review_cases SET decided_at = $, outcome = $
             WHERE application_id = (SELECT id FROM moved) AND kind = 'application'
                 AND decided_at IS NULL",
            vec![(*at).into(), (*outcome).into()],
        );
    }
    for (_, reason, at) in &w.blocked {
        chain.step(
            "INSERT INTO returned_cards (card_hash, reason, at)
             SELECT card_hash, $, $ FROM deposits WHERE application_id = (SELECT id FROM moved)
             ON CONFLICT DO NOTHING",
            vec![(*reason).into(), (*at).into()],
        );
    }
    for (n, (p, (event_id, failure))) in w.published.iter().zip(&events).enumerate() {
        let before_last = published - 1 - i64::try_from(n).unwrap_or(0);
        chain.step(
            "INSERT INTO platform_events
                 (id, application_id, external_user_id, type, sequence, status, failure, livemode,
                  created_at)
             SELECT $, id, (SELECT pu.external_user_id FROM platform_users pu
                            WHERE pu.account_id = moved.account_id),
                    $, event_sequence - $, $, $, $, $
             FROM moved",
            vec![
                event_id.as_str().into(),
                p.event.as_str().into(),
                before_last.into(),
                p.status.as_str().into(),
                failure.as_deref().into(),
                p.livemode.into(),
                p.at.into(),
            ],
        );
    }
    // The outbox: a dispatch job only where an endpoint of the event's mode listens.
    for (job, livemode) in &dispatches {
        chain.job(job, Some(*livemode));
    }
    let moved: i64 = db
        .value(&chain.sql("SELECT count(*) FROM moved"), &chain.values)
        .await?
        .unwrap_or(0);
    Ok(if moved == 0 {
        Applied::Moved
    } else {
        Applied::Done
    })
}

/// A statement of data-modifying `WITH` steps, each written with `$` for its parameters and
/// numbered as the steps are joined.
#[derive(Default)]
struct Chain<'a> {
    steps: Vec<String>,
    values: Vec<Param<'a>>,
}

impl<'a> Chain<'a> {
    fn step(&mut self, sql: &str, values: Vec<Param<'a>>) {
        let mut numbered = String::with_capacity(sql.len() + 8);
        for (i, part) in sql.split('$').enumerate() {
            if i > 0 {
                numbered.push_str(&format!("${}", self.values.len() + i));
            }
            numbered.push_str(part);
        }
        self.values.extend(values);
        if self.steps.is_empty() {
            self.steps.push(numbered);
        } else {
            self.steps
                .push(format!("w{} AS ({numbered})", self.steps.len()));
        }
    }

    fn job(&mut self, job: &'a NewJob, listened_in: Option<bool>) {
        let values = vec![
            Uuid::new_v4().into(),
            job.key.as_str().into(),
            job.kind.as_str().into(),
            job.application_id.into(),
            job.subject.as_deref().into(),
            job.due_at.into(),
        ];
        match listened_in {
            None => self.step(
                "INSERT INTO jobs (id, key, kind, application_id, subject, due_at)
                 SELECT $, $, $, $, $, $ FROM moved ON CONFLICT (key) DO NOTHING",
                values,
            ),
            Some(livemode) => {
                let mut values = values;
                values.push(livemode.into());
                self.step(
                    "INSERT INTO jobs (id, key, kind, application_id, subject, due_at)
                     SELECT $, $, $, $, $, $ FROM moved WHERE EXISTS
                         (SELECT 1 FROM webhook_endpoints WHERE enabled AND livemode = $)
                     ON CONFLICT (key) DO NOTHING",
                    values,
                )
            }
        }
    }

    fn sql(&self, last: &str) -> String {
        format!("WITH {} {last}", self.steps.join(", "))
    }
}
