//! Applications: drafts, their documents, card and images, the submit that pays a deposit,
//! and every status change through the one interpreter.

use chrono::{DateTime, Utc};
use realname_core::application::CardHistory;
use realname_core::platform::EventType;
use realname_core::state::{Failure, Status};
use realname_core::store::{
    ApplicationRecord, Applied, Consent, DepositRecord, EventRecord, ImageMeta, NewApplication,
    StateChange, StoreError, StoreResult, StoredCard, SubmitCommand, SubmitOutcome,
};
use uuid::Uuid;

use crate::changes::{apply_in, insert_event, publish, statuses};
use crate::db::{Db, Dialect, List, Row};
use crate::{args, conflict_as};

/// An application with its deposit in one row, and on PostgreSQL its images and history as
/// arrays; `$from` names where its row comes from (`applications`, or a `WITH` step's).
macro_rules! application_select {
    ($list:ident, $where:literal) => {
        application_select!($list, "applications", $where)
    };
    ($list:ident, $from:literal, $where:literal) => {
        concat!(
            "SELECT a.id, a.account_id, a.status, a.form, a.warnings,
                a.card_bank, a.card_sealed, a.card_hash, a.failure, a.created_at, a.updated_at,
                a.consent_at, a.consent_version, a.consent_address, a.redacted_at, ",
            $list!("slot", "images", "slot"), ", ",
            $list!("content_type", "images", "slot"), ", ",
            $list!("bytes", "images", "slot"), ", ",
            $list!("sha256", "images", "slot"), ",
                d.end_to_end_id, d.amount, d.attempts_used, d.paid_at, d.settled_at, d.expires_at, ",
            $list!("status", "events", "id"), ", ",
            $list!("at", "events", "id"),
            " FROM ",
            $from,
            " a LEFT JOIN deposits d ON d.application_id = a.id ",
            $where
        )
    };
}

/// No list: SQLite reads an application's images and history with statements of their own
/// ([`lists`]), faster there than one statement that builds and parses JSON.
macro_rules! no_list {
    ($column:literal, $table:literal, $order:literal) => {
        "NULL"
    };
}

/// A column of the application's rows in `$table` (images, events), in `$order`.
macro_rules! array_list {
    ($column:literal, $table:literal, $order:literal) => {
        concat!(
            "ARRAY(SELECT ",
            $column,
            " FROM ",
            $table,
            " WHERE application_id = a.id ORDER BY ",
            $order,
            ")"
        )
    };
}

fn application_row(mut r: Row) -> StoreResult<ApplicationRecord> {
    let card = match (r.get::<Option<String>>(5)?, r.get::<Option<Vec<u8>>>(6)?) {
        (Some(bank), Some(sealed)) => Some(StoredCard {
            bank,
            sealed,
            card_hash: r.get::<Option<Vec<u8>>>(7)?.unwrap_or_default(),
        }),
        _ => None,
    };
    let List(slots) = r.get::<List<String>>(15)?;
    let List(types) = r.get::<List<String>>(16)?;
    let List(sizes) = r.get::<List<u64>>(17)?;
    let List(digests) = r.get::<List<String>>(18)?;
    let images = slots
        .into_iter()
        .zip(types)
        .zip(sizes)
        .zip(digests)
        .map(|(((slot, content_type), bytes), sha256)| ImageMeta {
            slot,
            content_type,
            bytes,
            sha256,
        })
        .collect();
    let deposit = match r.get::<Option<String>>(19)? {
        Some(end_to_end_id) => Some(DepositRecord {
            end_to_end_id,
            amount: r.get(20)?,
            attempts_used: r.get(21)?,
            paid_at: r.get(22)?,
            settled_at: r.get(23)?,
            expires_at: r.get(24)?,
        }),
        None => None,
    };
    let List(statuses) = r.get::<List<Status>>(25)?;
    let List(ats) = r.get::<List<DateTime<Utc>>>(26)?;
    let events = statuses
        .into_iter()
        .zip(ats)
        .map(|(status, at)| EventRecord { status, at })
        .collect();
    Ok(ApplicationRecord {
        id: r.get(0)?,
        account_id: r.get(1)?,
        status: r.get(2)?,
        form: r.get(3)?,
        warnings: r.get(4)?,
        card,
        images,
        deposit,
        failure: r
            .get::<Option<String>>(8)?
            .as_deref()
            .and_then(Failure::decode),
        events,
        created_at: r.get(9)?,
        updated_at: r.get(10)?,
        consent: Consent {
            at: r.get(11)?,
            version: r.get(12)?,
            address: r.get(13)?,
        },
        redacted_at: r.get(14)?,
    })
}

/// An application with its images, deposit and events, read on `db`.
pub(crate) async fn application_in(
    db: &mut dyn Db,
    app: Uuid,
) -> StoreResult<Option<ApplicationRecord>> {
    let sql = db.dialect().pick(
        application_select!(no_list, "WHERE a.id = $1"),
        application_select!(array_list, "WHERE a.id = $1"),
    );
    match db.one(sql, args![app], application_row).await? {
        Some(found) => lists(db, found).await.map(Some),
        None => Ok(None),
    }
}

/// An image's description from its first four columns: slot, content type, bytes, digest.
fn image_meta(r: &mut Row) -> StoreResult<ImageMeta> {
    Ok(ImageMeta {
        slot: r.get(0)?,
        content_type: r.get(1)?,
        bytes: r.get(2)?,
        sha256: r.get(3)?,
    })
}

/// Fills in an application's images and status history on SQLite; PostgreSQL read them with
/// the application.
async fn lists(db: &mut dyn Db, mut app: ApplicationRecord) -> StoreResult<ApplicationRecord> {
    if db.dialect() == Dialect::Postgres {
        return Ok(app);
    }
    app.images = db
        .all(
            "SELECT slot, content_type, bytes, sha256 FROM images WHERE application_id = $1
             ORDER BY slot",
            args![app.id],
            |mut r| image_meta(&mut r),
        )
        .await?;
    app.events = db
        .all(
            "SELECT status, at FROM events WHERE application_id = $1 ORDER BY id",
            args![app.id],
            |mut r| {
                Ok(EventRecord {
                    status: r.get(0)?,
                    at: r.get(1)?,
                })
            },
        )
        .await?;
    Ok(app)
}

async fn replace_documents(
    db: &mut dyn Db,
    app: Uuid,
    account: Uuid,
    hashes: &[Vec<u8>],
) -> StoreResult<()> {
    db.exec(
        "DELETE FROM application_documents WHERE application_id = $1",
        args![app],
    )
    .await?;
    for hash in hashes {
        db.exec(
            "INSERT INTO application_documents (application_id, account_id, document_hash)
             VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            args![app, account, hash],
        )
        .await?;
    }
    Ok(())
}

pub(crate) async fn card_history_in(
    db: &mut dyn Db,
    account: Uuid,
    card_hash: &[u8],
) -> StoreResult<CardHistory> {
    let returned_by_bank = db
        .row(
            "SELECT 1 FROM returned_cards WHERE card_hash = $1",
            args![card_hash],
        )
        .await?
        .is_some();
    let holding = statuses(Status::holds_card);
    let sql = "SELECT 1 FROM applications WHERE card_hash = $1 AND account_id <> $2
           AND status = ANY($3) LIMIT 1";
    let bound_to_another_account = db
        .row(sql, args![card_hash, account, holding.as_slice()])
        .await?
        .is_some();
    Ok(CardHistory {
        returned_by_bank,
        bound_to_another_account,
    })
}

pub async fn create_application(db: &mut dyn Db, a: &NewApplication) -> StoreResult<()> {
    db.exec(
        "INSERT INTO applications (id, account_id, status, form, warnings, consent_at,
                 consent_version, consent_address, created_at, updated_at)
             VALUES ($1, $2, 'draft', $3, $4, $5, $6, $7, $8, $8)",
        args![
            a.id,
            a.account_id,
            &a.form,
            &a.warnings,
            a.consent.at,
            &a.consent.version,
            &a.consent.address,
            a.at
        ],
    )
    .await
    .map_err(conflict_as("application_in_progress"))?;
    replace_documents(db, a.id, a.account_id, &a.document_hashes).await?;
    insert_event(db, a.id, Status::Draft, a.at).await?;
    publish(
        db,
        a.id,
        EventType::Created,
        Status::Draft,
        None,
        a.livemode,
        a.at,
        None,
    )
    .await
}

pub async fn application(db: &mut dyn Db, app: Uuid) -> StoreResult<Option<ApplicationRecord>> {
    application_in(db, app).await
}

pub async fn applications_of(
    db: &mut dyn Db,
    account_id: Uuid,
) -> StoreResult<Vec<ApplicationRecord>> {
    let sql = db.dialect().pick(
        application_select!(
            no_list,
            "WHERE a.account_id = $1 ORDER BY a.created_at DESC, a.id DESC"
        ),
        application_select!(
            array_list,
            "WHERE a.account_id = $1 ORDER BY a.created_at DESC, a.id DESC"
        ),
    );
    let found = db.all(sql, args![account_id], application_row).await?;
    let mut complete = Vec::with_capacity(found.len());
    for app in found {
        complete.push(lists(db, app).await?);
    }
    Ok(complete)
}

pub async fn update_draft(
    db: &mut dyn Db,
    app: Uuid,
    form: &[u8],
    hashes: &[Vec<u8>],
    warnings: &str,
    at: DateTime<Utc>,
) -> StoreResult<Option<ApplicationRecord>> {
    if db.dialect() == Dialect::Postgres {
        // One statement, so one round trip: the documents not in the new set are deleted and
        // the new ones inserted (two disjoint sets, as one statement's parts must be), and the
        // answer is built from the row the UPDATE returns (the statement's own snapshot still
        // shows the old form; images, deposit and history are not touched).
        let hashes: Vec<&[u8]> = hashes.iter().map(Vec::as_slice).collect();
        return db
            .one(
                concat!(
                    "WITH updated AS (
                        UPDATE applications SET form = $1, warnings = $2, updated_at = $3
                        WHERE id = $4 AND status = 'draft' RETURNING *
                     ), gone AS (
                        DELETE FROM application_documents
                        WHERE application_id IN (SELECT id FROM updated)
                          AND document_hash <> ALL($5)
                     ), added AS (
                        INSERT INTO application_documents (application_id, account_id, document_hash)
                        SELECT updated.id, updated.account_id, hash
                        FROM updated, unnest($5::bytea[]) AS hash
                        ON CONFLICT DO NOTHING
                     ) ",
                    application_select!(array_list, "updated", "")
                ),
                args![form, warnings, at, app, hashes.as_slice()],
                application_row,
            )
            .await;
    }
    let account: Option<Uuid> = db
        .value(
            "UPDATE applications SET form = $1, warnings = $2, updated_at = $3
                 WHERE id = $4 AND status = 'draft' RETURNING account_id",
            args![form, warnings, at, app],
        )
        .await?;
    let Some(account) = account else {
        return Ok(None);
    };
    replace_documents(db, app, account, hashes).await?;
    application_in(db, app).await
}

pub async fn set_card(
    db: &mut dyn Db,
    app: Uuid,
    card: &StoredCard,
    at: DateTime<Utc>,
) -> StoreResult<Applied> {
    let n = db
            .exec(
                "UPDATE applications SET card_bank = $1, card_sealed = $2, card_hash = $3, updated_at = $4
                 WHERE id = $5 AND status = 'draft'",
                args![&card.bank, &card.sealed, &card.card_hash, at, app],
            )
            .await?;
    Ok(if n == 0 {
        Applied::Moved
    } else {
        Applied::Done
    })
}

pub async fn put_image(
    db: &mut dyn Db,
    app: Uuid,
    meta: &ImageMeta,
    sealed: &[u8],
    at: DateTime<Utc>,
) -> StoreResult<Applied> {
    let n = db
        .exec(
            "UPDATE applications SET updated_at = $1 WHERE id = $2 AND status = 'draft'",
            args![at, app],
        )
        .await?;
    if n == 0 {
        return Ok(Applied::Moved);
    }
    db.exec(
        "INSERT INTO images (application_id, slot, content_type, bytes, sha256, sealed)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (application_id, slot) DO UPDATE SET content_type = excluded.content_type,
                 bytes = excluded.bytes, sha256 = excluded.sha256, sealed = excluded.sealed",
        args![
            app,
            &meta.slot,
            &meta.content_type,
            i64::try_from(meta.bytes).unwrap_or(i64::MAX),
            &meta.sha256,
            sealed
        ],
    )
    .await?;
    Ok(Applied::Done)
}

pub async fn image(
    db: &mut dyn Db,
    app: Uuid,
    slot: &str,
) -> StoreResult<Option<(ImageMeta, Vec<u8>)>> {
    db.one(
        "SELECT slot, content_type, bytes, sha256, sealed FROM images
                 WHERE application_id = $1 AND slot = $2",
        args![app, slot],
        |mut r| {
            let meta = image_meta(&mut r)?;
            Ok((meta, r.get(4)?))
        },
    )
    .await
}

pub async fn card_history(
    db: &mut dyn Db,
    account_id: Uuid,
    hash: &[u8],
) -> StoreResult<CardHistory> {
    card_history_in(db, account_id, hash).await
}

pub async fn submit(db: &mut dyn Db, cmd: &SubmitCommand) -> StoreResult<SubmitOutcome> {
    let app = cmd.application_id;
    let found: Option<String> = db
        .value(
            "SELECT status FROM applications WHERE id = $1 FOR UPDATE",
            args![app],
        )
        .await?;
    if found.as_deref() != Some(Status::Draft.as_str()) {
        return Ok(SubmitOutcome::Moved);
    }
    // Serialise submits of the same card, and of the same identity document, so that two
    // rounds cannot both pass a limit under READ COMMITTED. The locks are taken in one
    // order, so two submits that share several never wait for each other in a circle.
    if db.dialect() == Dialect::Postgres {
        let mut keys: Vec<&Vec<u8>> = std::iter::once(&cmd.card_hash)
            .chain(&cmd.document_hashes)
            .collect();
        keys.sort();
        keys.dedup();
        for key in keys {
            db.lock(0, &hex(key)).await?;
        }
    }
    let history = card_history_in(db, cmd.account_id, &cmd.card_hash).await?;
    if history.returned_by_bank {
        return Ok(SubmitOutcome::CardReturnedByBank);
    }
    if history.bound_to_another_account {
        return Ok(SubmitOutcome::CardInUse);
    }
    let since = cmd.limits.since;
    let card_rounds: u32 = db
        .value(
            "SELECT count(*) FROM deposits WHERE card_hash = $1 AND created_at >= $2",
            args![&cmd.card_hash, since],
        )
        .await?
        .unwrap_or(0);
    let mut document_rounds = 0u32;
    for hash in &cmd.document_hashes {
        let n: u32 = db
            .value(
                "SELECT count(DISTINCT d.application_id) FROM deposits d
                     JOIN application_documents ad ON ad.application_id = d.application_id
                     WHERE ad.document_hash = $1 AND d.created_at >= $2",
                args![hash, since],
            )
            .await?
            .unwrap_or(0);
        document_rounds = document_rounds.max(n);
    }
    if cmd.limits.check(card_rounds, document_rounds).is_err() {
        return Ok(SubmitOutcome::DepositLimitReached);
    }
    db.exec(
        "UPDATE applications SET warnings = $1 WHERE id = $2",
        args![&cmd.warnings, app],
    )
    .await?;
    db.exec(
        "INSERT INTO deposits (application_id, end_to_end_id, amount, card_hash, created_at)
             VALUES ($1, $2, $3, $4, $5)",
        args![
            app,
            &cmd.end_to_end_id,
            &cmd.sealed_amount,
            &cmd.card_hash,
            cmd.at
        ],
    )
    .await
    .map_err(conflict_as("deposit"))?;
    let change = StateChange::new(app, Status::Draft, cmd.transition.clone(), cmd.at);
    match apply_in(db, &change).await? {
        Applied::Done => {}
        Applied::Moved => return Err(StoreError::Failed("a locked draft moved".into())),
    }
    if let Some(screening) = &cmd.screening {
        crate::screening::record(db, std::slice::from_ref(screening)).await?;
    }
    Ok(SubmitOutcome::Submitted)
}

/// Lower-case hex: the advisory lock key of a card or document hash, as PostgreSQL's
/// `encode(hash, 'hex')` spells it.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub async fn apply(db: &mut dyn Db, change: &StateChange) -> StoreResult<Applied> {
    apply_in(db, change).await
}

pub async fn record_wrong_answer(
    db: &mut dyn Db,
    app: Uuid,
    attempts_before: u32,
    at: DateTime<Utc>,
) -> StoreResult<Applied> {
    let n = db
        .exec(
            "UPDATE deposits SET attempts_used = attempts_used + 1
                 WHERE application_id = $1 AND attempts_used = $2
                   AND (SELECT status FROM applications WHERE id = $1) = 'awaiting_amount'",
            args![app, attempts_before],
        )
        .await?;
    if n == 0 {
        return Ok(Applied::Moved);
    }
    db.exec(
        "UPDATE applications SET updated_at = $1 WHERE id = $2",
        args![at, app],
    )
    .await?;
    Ok(Applied::Done)
}
