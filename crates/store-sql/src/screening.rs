//! The screening lists: each source's version in force, every version imported, and the
//! entries in force (CONTRACT 12).

use realname_core::store::{Imported, ListImport, ListVersionRecord, StoreResult, StoredEntry};

use crate::args;
use crate::db::Db;

pub async fn list_versions(db: &mut dyn Db) -> StoreResult<Vec<ListVersionRecord>> {
    db.all(
        "SELECT source, version, entries, imported_at FROM screening_lists ORDER BY source",
        args![],
        |mut r| {
            Ok(ListVersionRecord {
                source: r.get(0)?,
                version: r.get(1)?,
                entries: r.get(2)?,
                imported_at: r.get(3)?,
            })
        },
    )
    .await
}

pub async fn import_list(db: &mut dyn Db, import: &ListImport) -> StoreResult<Imported> {
    let v = &import.version;
    // Two imports of one source at once take turns.
    db.lock(2, &v.source).await?;
    let current: Option<String> = db
        .value(
            "SELECT version FROM screening_lists WHERE source = $1 FOR UPDATE",
            args![&v.source],
        )
        .await?;
    if current.as_deref() == Some(v.version.as_str()) {
        return Ok(Imported::Unchanged);
    }
    db.run(
        "DELETE FROM screening_entries WHERE source = $1",
        args![&v.source],
    )
    .await?;
    // Written in slices, so no statement carries more than a few megabytes.
    for chunk in import.entries.chunks(2000) {
        let ids: Vec<&str> = chunk.iter().map(|e| e.entry_id.as_str()).collect();
        let data: Vec<&str> = chunk.iter().map(|e| e.data.as_str()).collect();
        db.run(
            db.dialect().pick(
                "INSERT INTO screening_entries (source, entry_id, data)
                 SELECT $1, i.value, d.value FROM json_each($2) i JOIN json_each($3) d ON d.key = i.key",
                "INSERT INTO screening_entries (source, entry_id, data)
                 SELECT $1, i, d FROM UNNEST($2::text[], $3::text[]) AS u(i, d)",
            ),
            args![&v.source, ids.as_slice(), data.as_slice()],
        )
        .await?;
    }
    db.run(
        "INSERT INTO screening_lists (source, version, entries, imported_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (source) DO UPDATE SET version = $2, entries = $3, imported_at = $4",
        args![&v.source, &v.version, v.entries, v.imported_at],
    )
    .await?;
    db.run(
        "INSERT INTO screening_versions (source, version, entries, imported_at)
         VALUES ($1, $2, $3, $4) ON CONFLICT (source, version) DO NOTHING",
        args![&v.source, &v.version, v.entries, v.imported_at],
    )
    .await?;
    Ok(Imported::New { replaced: current })
}

pub async fn listed_entries(db: &mut dyn Db) -> StoreResult<Vec<(String, StoredEntry)>> {
    db.all(
        "SELECT source, entry_id, data FROM screening_entries ORDER BY source, entry_id",
        args![],
        |mut r| {
            Ok((
                r.get(0)?,
                StoredEntry {
                    entry_id: r.get(1)?,
                    data: r.get(2)?,
                },
            ))
        },
    )
    .await
}
