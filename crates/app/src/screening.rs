//! List screening (CONTRACT 12): importing a source's new version, the versions in force, and
//! the index every check runs against, built from the entries the store holds.

use chrono::{DateTime, Utc};
use realname_core::store::{
    Imported, ListImport, ListVersionRecord, Store, StoreError, StoredEntry,
};
use realname_screening::{Action, Entry, EntryKind, Index, ListError, ListFile, Source};

/// How screening runs (`screening.*`).
#[derive(Debug, Clone)]
pub struct Settings {
    /// Off only on purpose: a live rail refuses to start without a list unless this is false.
    pub enabled: bool,
    /// A hit at or above it is a potential match.
    pub threshold: f64,
    /// How far below the threshold a hit is a near miss.
    pub near_miss: f64,
    /// What each source's hits do, where the configuration says otherwise than its default.
    pub actions: Vec<(Source, Action)>,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            enabled: true,
            threshold: realname_screening::THRESHOLD,
            near_miss: 0.1,
            actions: Vec::new(),
        }
    }
}

impl Settings {
    /// What a hit of `source` does.
    pub fn action(&self, source: &Source) -> Action {
        self.actions
            .iter()
            .find(|(s, _)| s == source)
            .map_or_else(|| source.default_action(), |(_, a)| *a)
    }
}

/// What an import did, for the operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportReport {
    pub version: String,
    pub persons: usize,
    pub entities: usize,
    pub outcome: Imported,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The files are not a version of the source: nothing changed.
    #[error(transparent)]
    Refused(#[from] ListError),
    #[error("store: {0}")]
    Store(#[from] StoreError),
}

/// Reads `files` as a new version of `source` and puts it in force, in one transaction: a
/// file that does not parse changes nothing, and an import stopped halfway leaves the version
/// before it in force.
pub async fn import(
    store: &dyn Store,
    source: &Source,
    files: &[ListFile<'_>],
    at: DateTime<Utc>,
) -> Result<ImportReport, ImportError> {
    let parsed = realname_screening::parse(source, files)?;
    let persons = parsed
        .entries
        .iter()
        .filter(|e| e.kind == EntryKind::Person)
        .count();
    let entries: Vec<StoredEntry> = parsed
        .entries
        .iter()
        .map(|e| StoredEntry {
            entry_id: e.id.clone(),
            data: serde_json::to_string(e).unwrap_or_default(),
        })
        .collect();
    let import = ListImport {
        version: ListVersionRecord {
            source: source.to_string(),
            version: parsed.version.clone(),
            entries: entries.len() as u32,
            imported_at: at,
        },
        entries,
    };
    let outcome = store.import_list(&import).await?;
    Ok(ImportReport {
        version: parsed.version,
        persons,
        entities: parsed.entries.len() - persons,
        outcome,
    })
}

/// The index of every source's version in force, and those versions.
pub async fn index(store: &dyn Store) -> Result<(Index, Vec<ListVersionRecord>), StoreError> {
    let versions = store.list_versions().await?;
    let stored = store.listed_entries().await?;
    let mut by_source: Vec<(Source, Vec<Entry>)> = Vec::new();
    for (source, entry) in stored {
        let Some(source) = Source::parse(&source) else {
            continue;
        };
        let entry: Entry = serde_json::from_str(&entry.data).map_err(|e| {
            StoreError::Failed(format!("a listed entry of {source} is unreadable: {e}"))
        })?;
        match by_source.last_mut() {
            Some((s, entries)) if *s == source => entries.push(entry),
            _ => by_source.push((source, vec![entry])),
        }
    }
    let index = Index::build(by_source.iter().map(|(s, e)| (s, e.as_slice())));
    Ok((index, versions))
}
