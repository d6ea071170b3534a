//! A new data key (CONTRACT 11, `realname key rotate --data`): every sealed value is opened
//! and sealed anew under it, in batches, while the service keeps running. The store holds the
//! old data key as retired until the end, so every node opens values under either key; a
//! crash leaves the rotation under way, and running it again carries on from what is left.

use realname_core::documents::ImageSlot;
use realname_core::ports::{SealContext, Vault};
use realname_core::store::{Resealed, SealedColumn, SealedValue, Store};
use realname_vault::{AesVault, SealedUnder, UNNAMED_KEY_HEADER};
use uuid::Uuid;

use crate::StartError;
use crate::config::Config;
use crate::keys::{self, FOLLOW_EVERY};

/// How long the rotation waits, once the new data key is stored, before it looks for what is
/// left under the old one: long enough for every running node to have read the store's keys
/// at least twice, so none still seals under the old key.
pub const TAKE_UP: std::time::Duration = FOLLOW_EVERY.saturating_mul(3);

/// Passes over every sealed column before the rotation gives up on values that keep changing.
const PASSES: usize = 3;

/// Images per batch at most, whatever `--batch` says: an image may be 10 MiB, and a batch is
/// held twice (as read and as re-sealed).
const IMAGES_PER_BATCH: u32 = 16;

/// How fast a rotation goes: values per transaction, and a pause after each batch that
/// leaves the database to the service on a busy store.
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    pub batch: u32,
    pub pause: std::time::Duration,
}

/// What `realname key rotate --data` did.
#[derive(Debug, Default)]
pub struct DataRotated {
    /// A rotation a crash had left under way was carried on.
    pub resumed: bool,
    pub resealed: u64,
    /// Values under neither data key: left as they are (nothing opens them).
    pub unknown: u64,
}

/// What is still sealed under a retired data key, and what no key of the store opens.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Left {
    pub retired: u64,
    pub unknown: u64,
}

fn failed(what: impl std::fmt::Display) -> StartError {
    StartError::Rotate(what.to_string())
}

/// The context a stored value was sealed with, from its row.
pub fn context(column: SealedColumn, row: &[String]) -> Option<SealContext> {
    let id = |i: usize| row.get(i).and_then(|s| Uuid::parse_str(s).ok());
    Some(match column {
        SealedColumn::ApplicationForm => SealContext::ApplicationForm(id(0)?),
        SealedColumn::ApplicationCard => SealContext::ApplicationCard(id(0)?),
        SealedColumn::Image => SealContext::Image(ImageSlot::parse(row.get(1)?)?, id(0)?),
        SealedColumn::DepositAmount => SealContext::DepositAmount(id(0)?),
        SealedColumn::Transfer => SealContext::Transfer(id(1)?),
        SealedColumn::IdempotentAnswer => {
            crate::idempotency::answer_name(row.first()?, row.get(1)?)
        }
        SealedColumn::WebhookSecret | SealedColumn::WebhookPreviousSecret => {
            SealContext::WebhookSecret(id(0)?)
        }
        SealedColumn::SecondFactor => SealContext::SecondFactor(id(0)?),
    })
}

/// Every value of a column not under the current data key, batch by batch, in row order.
struct Batches<'a> {
    store: &'a dyn Store,
    column: SealedColumn,
    header: Vec<u8>,
    after: Option<Vec<String>>,
    batch: u32,
}

impl<'a> Batches<'a> {
    fn new(store: &'a dyn Store, vault: &AesVault, column: SealedColumn, batch: u32) -> Self {
        Batches {
            store,
            column,
            header: vault.current_header(),
            after: None,
            batch,
        }
    }

    async fn next(&mut self) -> Result<Option<Vec<SealedValue>>, StartError> {
        let values = self
            .store
            .sealed_values(self.column, &self.header, self.after.as_deref(), self.batch)
            .await
            .map_err(failed)?;
        Ok(values.last().map(|last| last.row.clone()).map(|last| {
            self.after = Some(last);
            values
        }))
    }
}

/// Counts what is left under a retired data key, and under none of the store's keys, from
/// the values' headers alone.
pub async fn left(store: &dyn Store, vault: &AesVault) -> Result<Left, StartError> {
    let count =
        async |column, prefix: &[u8]| store.count_sealed(column, prefix).await.map_err(failed);
    let mut left = Left::default();
    for column in SealedColumn::ALL {
        let all = count(column, &[]).await?;
        // Values that name no key are under the store's first data key: the retired one while
        // the first rotation runs.
        let unnamed = count(column, UNNAMED_KEY_HEADER).await?;
        let current = count(column, &vault.current_header()).await?;
        let (current, retired) = match vault.retired_header() {
            Some(header) => (current, count(column, &header).await? + unnamed),
            None => (current + unnamed, 0),
        };
        left.retired += retired;
        left.unknown += all.saturating_sub(current + retired);
    }
    Ok(left)
}

/// One pass over every sealed column: each value under the retired key is sealed anew, and
/// written where its row still holds it. Answers how many were written, and how many under
/// the retired key did not open (damaged).
async fn pass(
    store: &dyn Store,
    vault: &AesVault,
    pace: Pace,
    progress: &mut (dyn FnMut(String) + Send),
) -> Result<(u64, u64), StartError> {
    let (mut written, mut damaged) = (0, 0);
    for column in SealedColumn::ALL {
        let batch = match column {
            SealedColumn::Image => pace.batch.min(IMAGES_PER_BATCH),
            _ => pace.batch,
        };
        let mut batches = Batches::new(store, vault, column, batch);
        while let Some(values) = batches.next().await? {
            let mut resealed = Vec::with_capacity(values.len());
            for value in values {
                // Under neither key: nothing opens it, and the rotation's end changes nothing.
                if vault.sealed_under(&value.sealed) != SealedUnder::Retired {
                    continue;
                }
                let opened = context(column, &value.row)
                    .and_then(|c| vault.open(c, &value.sealed).ok().map(|plain| (c, plain)));
                let Some((context, plain)) = opened else {
                    damaged += 1;
                    continue;
                };
                resealed.push(Resealed {
                    new: vault.seal(context, &plain).map_err(failed)?,
                    row: value.row,
                    old: value.sealed,
                });
            }
            let n = store
                .reseal_values(column, resealed)
                .await
                .map_err(failed)?;
            written += n;
            progress(format!("{}: {n} value(s) re-sealed", column.name()));
            if !pace.pause.is_zero() {
                tokio::time::sleep(pace.pause).await;
            }
        }
    }
    Ok((written, damaged))
}

/// `realname key rotate --data`: begins a data-key rotation (or carries on one a crash left
/// under way), re-seals every value under the new data key, and ends it once nothing is left
/// under the old one. The key-encryption key stays (`realname key rotate` changes that).
pub async fn rotate_data(
    config: &Config,
    store: &dyn Store,
    pace: Pace,
    progress: &mut (dyn FnMut(String) + Send),
) -> Result<DataRotated, StartError> {
    let opened = keys::open(config, store).await?;
    let (kek, mut stored) = (opened.kek, opened.keys);
    let mut rotated = DataRotated {
        resumed: stored.retired_data_key.is_some(),
        ..DataRotated::default()
    };
    if !rotated.resumed {
        let begun = kek.begin_data_rotation(&stored, chrono::Utc::now())?;
        if !store
            .replace_vault_keys(&stored, &begun)
            .await
            .map_err(failed)?
        {
            return Err(keys::keys_changed());
        }
        stored = begun;
    }
    let vault = kek.open(&stored)?;
    progress(format!(
        "data-key rotation {}: waiting {} s for every node to take up the new data key",
        if rotated.resumed { "resumed" } else { "begun" },
        TAKE_UP.as_secs()
    ));
    // Even on a resumed rotation: a node started just before the crash may not have read
    // the keys yet.
    tokio::time::sleep(TAKE_UP).await;
    let (mut damaged, mut still) = (0, Left::default());
    for _ in 0..PASSES {
        let (written, broken) = pass(store, &vault, pace, progress).await?;
        rotated.resealed += written;
        damaged = broken;
        still = left(store, &vault).await?;
        if still.retired > damaged {
            continue;
        }
        // Nothing is left but what does not open. Once more after the nodes' longest lag: a
        // value sealed under the old key just before a node took up the new one may have
        // been written since.
        progress(format!(
            "nothing left under the retired data key; checking again in {} s",
            TAKE_UP.as_secs()
        ));
        tokio::time::sleep(TAKE_UP).await;
        still = left(store, &vault).await?;
        if still.retired == damaged {
            break;
        }
    }
    if still.retired > 0 {
        return Err(failed(format!(
            "{} value(s) are still sealed under the retired data key ({damaged} of them do not open: damaged); the rotation stays under way, and the retired key with it",
            still.retired
        )));
    }
    let ended = kek.end_data_rotation(&stored, chrono::Utc::now())?;
    if !store
        .replace_vault_keys(&stored, &ended)
        .await
        .map_err(failed)?
    {
        return Err(failed(
            "the store's keys changed while rotating (another rotation?); run it again",
        ));
    }
    rotated.unknown = still.unknown;
    Ok(rotated)
}
