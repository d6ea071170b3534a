//! Conversions between the domain's values and SQLite's columns.

use chrono::{DateTime, SecondsFormat, Utc};
use realname_core::state::{Failure, Status};
use realname_core::store::{
    ApplicationRecord, CaseRecord, Consent, DepositRecord, EventRecord, ImageMeta, StoreError,
    StoreResult, StoredCard,
};
use rusqlite::{Connection, OptionalExtension, Row, params};
use uuid::Uuid;

use crate::failed;

/// Statements through the connection's statement cache: the service runs the same few dozen
/// statements all day, and parsing them again on every call showed up in profiles.
pub trait Cached {
    fn exec<P: rusqlite::Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize>;
    fn one<T, P, F>(&self, sql: &str, params: P, f: F) -> rusqlite::Result<T>
    where
        P: rusqlite::Params,
        F: FnOnce(&Row<'_>) -> rusqlite::Result<T>;
}

impl Cached for Connection {
    fn exec<P: rusqlite::Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize> {
        self.prepare_cached(sql)?.execute(params)
    }

    fn one<T, P, F>(&self, sql: &str, params: P, f: F) -> rusqlite::Result<T>
    where
        P: rusqlite::Params,
        F: FnOnce(&Row<'_>) -> rusqlite::Result<T>,
    {
        self.prepare_cached(sql)?.query_row(params, f)
    }
}

/// Fixed-width RFC 3339 with microseconds: text order is time order.
pub fn ts(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

pub fn parse_ts(text: &str) -> rusqlite::Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
        })
}

pub fn opt_ts(text: Option<String>) -> rusqlite::Result<Option<DateTime<Utc>>> {
    text.as_deref().map(parse_ts).transpose()
}

pub fn id(uuid: Uuid) -> String {
    uuid.hyphenated().to_string()
}

pub fn parse_id(text: &str) -> rusqlite::Result<Uuid> {
    Uuid::parse_str(text).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
    })
}

fn bad(what: &str) -> rusqlite::Error {
    rusqlite::Error::InvalidColumnName(what.to_owned())
}

pub fn parse_status(text: &str) -> rusqlite::Result<Status> {
    Status::parse(text).ok_or_else(|| bad(text))
}

/// The columns [`application_row`] reads, as a literal so that statements are built at
/// compile time rather than formatted on every read.
macro_rules! application_columns {
    () => {
        "id, account_id, status, form, warnings, card_bank, card_sealed, card_hash, failure, \
         created_at, updated_at, consent_at, consent_version, consent_address, redacted_at"
    };
}
pub(crate) use application_columns;

/// The application row without its images, deposit and events.
pub fn application_row(row: &Row<'_>) -> rusqlite::Result<ApplicationRecord> {
    let card = match (
        row.get::<_, Option<String>>(5)?,
        row.get::<_, Option<Vec<u8>>>(6)?,
    ) {
        (Some(bank), Some(sealed)) => Some(StoredCard {
            bank,
            sealed,
            card_hash: row.get::<_, Option<Vec<u8>>>(7)?.unwrap_or_default(),
        }),
        _ => None,
    };
    let failure = row
        .get::<_, Option<String>>(8)?
        .as_deref()
        .and_then(Failure::decode);
    Ok(ApplicationRecord {
        id: parse_id(&row.get::<_, String>(0)?)?,
        account_id: parse_id(&row.get::<_, String>(1)?)?,
        status: parse_status(&row.get::<_, String>(2)?)?,
        form: row.get(3)?,
        warnings: row.get(4)?,
        card,
        images: Vec::new(),
        deposit: None,
        failure,
        events: Vec::new(),
        created_at: parse_ts(&row.get::<_, String>(9)?)?,
        updated_at: parse_ts(&row.get::<_, String>(10)?)?,
        consent: Consent {
            at: parse_ts(&row.get::<_, String>(11)?)?,
            version: row.get(12)?,
            address: row.get(13)?,
        },
        redacted_at: opt_ts(row.get(14)?)?,
    })
}

/// Fills in an application's images, deposit and events.
pub fn complete(conn: &Connection, mut app: ApplicationRecord) -> StoreResult<ApplicationRecord> {
    let key = id(app.id);
    let mut stmt = conn
        .prepare_cached(
            "SELECT slot, content_type, bytes, sha256 FROM images WHERE application_id = ?1 ORDER BY slot",
        )
        .map_err(failed)?;
    app.images = stmt
        .query_map(params![key], |r| {
            Ok(ImageMeta {
                slot: r.get(0)?,
                content_type: r.get(1)?,
                bytes: r.get::<_, i64>(2)? as u64,
                sha256: r.get(3)?,
            })
        })
        .and_then(Iterator::collect)
        .map_err(failed)?;
    app.deposit = conn
        .prepare_cached(
            "SELECT end_to_end_id, amount, attempts_used, paid_at, settled_at, expires_at
             FROM deposits WHERE application_id = ?1",
        )
        .and_then(|mut s| {
            s.query_row(params![key], |r| {
                Ok(DepositRecord {
                    end_to_end_id: r.get(0)?,
                    amount: r.get(1)?,
                    attempts_used: r.get(2)?,
                    paid_at: opt_ts(r.get(3)?)?,
                    settled_at: opt_ts(r.get(4)?)?,
                    expires_at: opt_ts(r.get(5)?)?,
                })
            })
            .optional()
        })
        .map_err(failed)?;
    let mut stmt = conn
        .prepare_cached("SELECT status, at FROM events WHERE application_id = ?1 ORDER BY id")
        .map_err(failed)?;
    app.events = stmt
        .query_map(params![key], |r| {
            Ok(EventRecord {
                status: parse_status(&r.get::<_, String>(0)?)?,
                at: parse_ts(&r.get::<_, String>(1)?)?,
            })
        })
        .and_then(Iterator::collect)
        .map_err(failed)?;
    Ok(app)
}

pub const CASE_COLUMNS: &str = "id, application_id, account_id, submitted_at, due_at, claimed_by, claimed_until, decided_at, outcome";

pub fn case_row(r: &Row<'_>) -> rusqlite::Result<CaseRecord> {
    Ok(CaseRecord {
        id: parse_id(&r.get::<_, String>(0)?)?,
        application_id: parse_id(&r.get::<_, String>(1)?)?,
        account_id: parse_id(&r.get::<_, String>(2)?)?,
        submitted_at: parse_ts(&r.get::<_, String>(3)?)?,
        due_at: parse_ts(&r.get::<_, String>(4)?)?,
        claimed_by: r
            .get::<_, Option<String>>(5)?
            .as_deref()
            .map(parse_id)
            .transpose()?,
        claimed_until: opt_ts(r.get(6)?)?,
        decided_at: opt_ts(r.get(7)?)?,
        outcome: r.get(8)?,
    })
}

pub fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
        || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY)
}

pub fn conflict_or_failed(e: rusqlite::Error, what: &str) -> StoreError {
    if is_unique_violation(&e) {
        StoreError::Conflict(what.to_owned())
    } else {
        failed(e)
    }
}
