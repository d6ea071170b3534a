//! The vault's sealed keys, and the sealed values a key rotation reads and writes anew.

use realname_core::store::{
    Resealed, SealedColumn, SealedKeys, SealedValue, StoreError, StoreResult,
};
use uuid::Uuid;

use crate::args;
use crate::db::{Db, Param};

async fn vault_keys_in(db: &mut dyn Db) -> StoreResult<Option<SealedKeys>> {
    db.one(
        "SELECT kek_check, data_key, lookup_key, retired_data_key, data_key_id, created_at
         FROM vault_keys WHERE id = 1",
        args![],
        |mut r| {
            Ok(SealedKeys {
                kek_check: r.get(0)?,
                data_key: r.get(1)?,
                lookup_key: r.get(2)?,
                retired_data_key: r.get(3)?,
                data_key_id: r.get(4)?,
                created_at: r.get(5)?,
            })
        },
    )
    .await
}

pub async fn vault_keys(db: &mut dyn Db) -> StoreResult<Option<SealedKeys>> {
    vault_keys_in(db).await
}

pub async fn init_vault_keys(db: &mut dyn Db, k: &SealedKeys) -> StoreResult<SealedKeys> {
    db.exec(
        "INSERT INTO vault_keys
                 (id, kek_check, data_key, lookup_key, retired_data_key, data_key_id, created_at)
             VALUES (1, $1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING",
        args![
            &k.kek_check,
            &k.data_key,
            &k.lookup_key,
            k.retired_data_key.as_ref(),
            k.data_key_id.as_ref(),
            k.created_at
        ],
    )
    .await?;
    vault_keys_in(db)
        .await?
        .ok_or_else(|| StoreError::Failed("vault keys not written".into()))
}

pub async fn replace_vault_keys(
    db: &mut dyn Db,
    was: &SealedKeys,
    k: &SealedKeys,
) -> StoreResult<bool> {
    db.exec(
        "UPDATE vault_keys SET kek_check = $1, data_key = $2, lookup_key = $3,
                    retired_data_key = $4, created_at = $5, data_key_id = $9
             WHERE id = 1 AND kek_check = $6 AND data_key = $7
               AND retired_data_key IS NOT DISTINCT FROM $8",
        args![
            &k.kek_check,
            &k.data_key,
            &k.lookup_key,
            k.retired_data_key.as_ref(),
            k.created_at,
            &was.kek_check,
            &was.data_key,
            was.retired_data_key.as_ref(),
            k.data_key_id.as_ref()
        ],
    )
    .await
    .map(|n| n == 1)
}

/// A key column's value as a parameter: ids in their own type.
fn key_part(is_id: bool, text: &str) -> StoreResult<Param<'_>> {
    if is_id {
        Uuid::parse_str(text)
            .map(Param::from)
            .map_err(|_| StoreError::Failed("a sealed value's key is not an id".into()))
    } else {
        Ok(Param::from(text))
    }
}

pub async fn sealed_values(
    db: &mut dyn Db,
    column: SealedColumn,
    current: &[u8],
    after: Option<&[String]>,
    limit: u32,
) -> StoreResult<Vec<SealedValue>> {
    let place = column.place();
    let keys: Vec<&str> = place.key.iter().map(|k| k.name).collect();
    // Named apart from the key columns: `ORDER BY id` must sort by the key itself (its index,
    // its order), not by the text the answer carries.
    let listed: Vec<String> = keys
        .iter()
        .copied()
        .chain(place.named_by)
        .enumerate()
        .map(|(i, k)| format!("CAST({k} AS TEXT) AS part_{i}"))
        .collect();
    let (table, col) = (place.table, place.column);
    let mut sql = format!(
        "SELECT {}, {col} FROM {table}
         WHERE {col} IS NOT NULL AND length({col}) > 0 AND substr({col}, 1, {}) <> $1",
        listed.join(", "),
        current.len()
    );
    if after.is_some() {
        let marks: Vec<String> = (0..keys.len()).map(|i| format!("${}", i + 2)).collect();
        sql += &format!(" AND ({}) > ({})", keys.join(", "), marks.join(", "));
    }
    sql += &format!(" ORDER BY {} LIMIT {limit}", keys.join(", "));
    let width = listed.len();
    {
        let mut binds = vec![Param::from(current)];
        for (part, value) in place.key.iter().zip(after.iter().copied().flatten()) {
            binds.push(key_part(part.is_id, value)?);
        }
        db.all(&sql, &binds, |mut r| {
            Ok(SealedValue {
                row: (0..width).map(|i| r.get(i)).collect::<StoreResult<_>>()?,
                sealed: r.get(width)?,
            })
        })
        .await
    }
}

pub async fn reseal_values(
    db: &mut dyn Db,
    column: SealedColumn,
    values: &[Resealed],
) -> StoreResult<u64> {
    let place = column.place();
    let (table, col) = (place.table, place.column);
    let matched: Vec<String> = place
        .key
        .iter()
        .enumerate()
        .map(|(i, k)| format!("{} = ${}", k.name, i + 3))
        .collect();
    let sql = format!(
        "UPDATE {table} SET {col} = $1 WHERE {col} = $2 AND {}",
        matched.join(" AND ")
    );
    let mut written = 0;
    for value in values {
        let mut binds = vec![Param::from(&value.new), Param::from(&value.old)];
        for (part, text) in place.key.iter().zip(&value.row) {
            binds.push(key_part(part.is_id, text)?);
        }
        written += db.exec(&sql, &binds).await?;
    }
    Ok(written)
}

pub async fn count_sealed(
    db: &mut dyn Db,
    column: SealedColumn,
    prefix: &[u8],
) -> StoreResult<u64> {
    let place = column.place();
    let (table, col) = (place.table, place.column);
    let sql = format!(
        "SELECT count(*) FROM {table}
         WHERE {col} IS NOT NULL AND length({col}) > 0 AND substr({col}, 1, {}) = $1",
        prefix.len()
    );
    db.value(&sql, args![prefix])
        .await
        .map(Option::unwrap_or_default)
}

pub async fn holds_data(db: &mut dyn Db) -> StoreResult<bool> {
    db.value(
        "SELECT EXISTS (SELECT 1 FROM applications) OR EXISTS (SELECT 1 FROM api_keys)
                 OR EXISTS (SELECT 1 FROM link_tokens) OR EXISTS (SELECT 1 FROM webhook_endpoints)",
        args![],
    )
    .await
    .map(Option::unwrap_or_default)
}

pub async fn sample_sealed(db: &mut dyn Db) -> StoreResult<Option<(Uuid, Vec<u8>)>> {
    db.one(
        "SELECT id, form FROM applications WHERE redacted_at IS NULL LIMIT 1",
        args![],
        |mut r| Ok((r.get(0)?, r.get(1)?)),
    )
    .await
}
