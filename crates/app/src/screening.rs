//! List screening (CONTRACT 12): importing a source's new version, the versions in force, and
//! the index every check runs against, built from the entries the store holds.

use chrono::{DateTime, Utc};
use realname_core::store::{
    Imported, ListImport, ListVersionRecord, ScreeningRun, ScreeningStatus, Store, StoreError,
    StoredEntry,
};
use realname_screening::{Action, Entry, EntryKind, Index, ListError, ListFile, Source, Subject};

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
    let loaded = build(versions, stored)?;
    Ok((loaded.index, loaded.versions))
}

/// The lists as this node screens against them: the index of the versions in force, and
/// those versions. Swapped whole when a version changes, so a check never sees half of one.
pub struct Loaded {
    pub index: Index,
    pub versions: Vec<ListVersionRecord>,
}

impl Loaded {
    /// `[{source, version}]` of the versions screened against, as runs and events keep them.
    pub fn version_pairs(&self) -> Vec<(String, String)> {
        self.versions
            .iter()
            .map(|v| (v.source.clone(), v.version.clone()))
            .collect()
    }
}

/// Each node's lists, kept current by its worker.
pub struct Lists {
    loaded: std::sync::RwLock<std::sync::Arc<Loaded>>,
}

impl Default for Lists {
    fn default() -> Lists {
        Lists {
            loaded: std::sync::RwLock::new(std::sync::Arc::new(Loaded {
                index: Index::build(std::iter::empty()),
                versions: Vec::new(),
            })),
        }
    }
}

impl Lists {
    /// The lists in force on this node now.
    pub fn current(&self) -> std::sync::Arc<Loaded> {
        match self.loaded.read() {
            Ok(guard) => std::sync::Arc::clone(&guard),
            Err(poisoned) => std::sync::Arc::clone(&poisoned.into_inner()),
        }
    }

    fn put(&self, loaded: Loaded) {
        let fresh = std::sync::Arc::new(loaded);
        match self.loaded.write() {
            Ok(mut guard) => *guard = fresh,
            Err(poisoned) => *poisoned.into_inner() = fresh,
        }
    }

    /// Reads the versions in force and, when they are not the ones loaded, builds the index
    /// anew (off the async threads) and swaps it in; answers whether it changed.
    pub async fn refresh(&self, store: &dyn Store) -> Result<bool, StoreError> {
        let versions = store.list_versions().await?;
        if versions == self.current().versions {
            return Ok(false);
        }
        let stored = store.listed_entries().await?;
        let loaded = tokio::task::spawn_blocking(move || build(versions, stored))
            .await
            .map_err(|e| StoreError::Failed(e.to_string()))??;
        self.put(loaded);
        Ok(true)
    }
}

fn build(
    versions: Vec<ListVersionRecord>,
    stored: Vec<(String, StoredEntry)>,
) -> Result<Loaded, StoreError> {
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
    Ok(Loaded { index, versions })
}

/// One hit as a run keeps it: the listed entry (never the applicant's data), its score, what
/// matched, what its source's hits do, and what became of it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct HitRecord {
    pub source: String,
    pub entry_id: String,
    pub entry_version: String,
    pub score: f64,
    pub names: Vec<String>,
    pub matched_name: Option<String>,
    pub matched: Vec<String>,
    /// `hold` or `flag`.
    pub action: String,
    /// `potential_match` (at or above the threshold), `near_miss`, or `dismissed_before`
    /// (a potential match a reviewer dismissed for this identity and this entry's version).
    pub disposition: String,
}

impl HitRecord {
    /// A potential match that stops its subject until decided.
    pub fn holds(&self) -> bool {
        self.disposition == "potential_match" && self.action == "hold"
    }
}

/// What list screening compares: the real name, the date of birth, the nationality and the
/// documents' numbers (the passport's as of the applicant's country).
pub fn subject_of(identity: &realname_core::application::Identity) -> Subject {
    let nationality = identity.nationality.code().to_owned();
    let mut documents = Vec::new();
    if let Some(passport) = &identity.passport {
        documents.push((
            passport.number.expose().to_owned(),
            Some(nationality.clone()),
        ));
    }
    if let Some(number) = identity.stay_permit.number() {
        documents.push((number.expose().to_owned(), None));
    }
    Subject {
        names: vec![identity.real_name.as_str().to_owned()],
        date_of_birth: Some(identity.date_of_birth.date()),
        nationality: Some(nationality),
        documents,
    }
}

/// The identity as screening saw it, as a keyed hash: a dismissal is remembered for it.
pub fn identity_hash(
    vault: &dyn realname_core::ports::Vault,
    identity: &realname_core::application::Identity,
) -> Vec<u8> {
    let mut numbers: Vec<&str> = identity
        .document_numbers()
        .iter()
        .map(|n| n.expose())
        .collect();
    numbers.sort_unstable();
    let key = format!(
        "{}\u{1f}{}\u{1f}{}\u{1f}{}",
        realname_core::name::comparison_key(identity.real_name.as_str()),
        identity.date_of_birth.date(),
        identity.nationality.code(),
        numbers.join("\u{1e}")
    );
    vault
        .keyed_hash(
            realname_core::ports::Lookup::ScreenedIdentity,
            key.as_bytes(),
        )
        .to_vec()
}

/// Screens an identity against this node's lists: the run to keep, or nothing when screening
/// is off or no list is loaded. Dismissals are read only when there is a potential match, so
/// an applicant no list names costs the store nothing more.
pub async fn screen(
    state: &crate::Service,
    application_id: uuid::Uuid,
    identity: &realname_core::application::Identity,
    trigger: &str,
    at: DateTime<Utc>,
) -> Result<Option<realname_core::store::NewScreening>, StoreError> {
    let settings = &state.settings.screening;
    let lists = state.lists.current();
    if !settings.enabled || lists.versions.is_empty() {
        return Ok(None);
    }
    let hits = hits_of(settings, &lists, identity);
    judge(state, &lists, application_id, identity, hits, trigger, at).await
}

/// The hits of an identity against `lists` down to the near misses: the matcher's work alone,
/// with nothing of the store, so a re-screening runs it off the async threads.
pub fn hits_of(
    settings: &Settings,
    lists: &Loaded,
    identity: &realname_core::application::Identity,
) -> Vec<realname_screening::Hit> {
    let floor = (settings.threshold - settings.near_miss).max(0.0);
    lists.index.screen(&subject_of(identity), floor)
}

/// What an identity's hits come to: each hit's disposition (a potential match dismissed
/// before for this identity and this entry's version is not raised again), whether they hold
/// the subject, and the run to keep.
#[allow(clippy::too_many_arguments)]
async fn judge(
    state: &crate::Service,
    lists: &Loaded,
    application_id: uuid::Uuid,
    identity: &realname_core::application::Identity,
    hits: Vec<realname_screening::Hit>,
    trigger: &str,
    at: DateTime<Utc>,
) -> Result<Option<realname_core::store::NewScreening>, StoreError> {
    let settings = &state.settings.screening;
    let potential = hits.iter().any(|h| h.score >= settings.threshold);
    let dismissed = if potential {
        state
            .store
            .dismissals(&identity_hash(state.vault.as_ref(), identity))
            .await?
    } else {
        Vec::new()
    };
    let records: Vec<HitRecord> = hits
        .into_iter()
        .map(|h| {
            let source = h.source.to_string();
            let before = dismissed
                .iter()
                .any(|(s, e, v)| *s == source && *e == h.entry_id && *v == h.entry_version);
            let disposition = if h.score < settings.threshold {
                "near_miss"
            } else if before {
                "dismissed_before"
            } else {
                "potential_match"
            };
            HitRecord {
                action: settings.action(&h.source).as_str().to_owned(),
                source,
                entry_id: h.entry_id,
                entry_version: h.entry_version,
                score: h.score,
                names: h.names,
                matched_name: h.matched_name,
                matched: h.matched.iter().map(|m| (*m).to_owned()).collect(),
                disposition: disposition.to_owned(),
            }
        })
        .collect();
    let held = records.iter().any(HitRecord::holds);
    let flagged = records
        .iter()
        .any(|r| r.disposition == "potential_match" && r.action == "flag");
    let status = if held {
        ScreeningStatus::PotentialMatch
    } else if records.iter().any(|r| r.disposition == "dismissed_before") {
        ScreeningStatus::Dismissed
    } else {
        ScreeningStatus::Clear
    };
    let run = ScreeningRun {
        id: run_id(at),
        application_id,
        at,
        trigger: trigger.to_owned(),
        list_versions: versions_json(&lists.versions),
        status,
        hits: serde_json::to_string(&records).unwrap_or_else(|_| "[]".into()),
    };
    Ok(Some(realname_core::store::NewScreening {
        run,
        held,
        flagged,
        case: held.then(|| (uuid::Uuid::new_v4(), at + state.settings.review_sla)),
        livemode: state.mode() == realname_core::platform::KeyMode::Live,
    }))
}

/// A run's id, ordered by its moment on the service clock: a re-screening's million runs
/// are added at the end of the runs' index, not each into a random page of it.
fn run_id(at: DateTime<Utc>) -> uuid::Uuid {
    uuid::Uuid::new_v7(uuid::Timestamp::from_unix(
        uuid::NoContext,
        at.timestamp().max(0) as u64,
        at.timestamp_subsec_nanos(),
    ))
}

/// `[{"source", "version"}]`, as runs and events keep the versions.
pub fn versions_json(versions: &[ListVersionRecord]) -> String {
    serde_json::Value::Array(
        versions
            .iter()
            .map(|v| serde_json::json!({"source": v.source, "version": v.version}))
            .collect(),
    )
    .to_string()
}

/// Applications read and screened again per transaction of a re-screening.
const RESCREEN_BATCH: u32 = 500;

/// One batch of a re-screening after a list changed: each candidate screened against this
/// node's lists (brought up to the version the job follows first), new potential matches
/// held with a case, confirmed matches whose entries are gone reopened as delisted; written
/// with the job's end and the next batch's job in one transaction.
pub async fn rescreen(
    state: &crate::Service,
    job: &realname_core::store::Job,
) -> Result<(), StoreError> {
    let Some((shard, after, version)) = job.rescreen() else {
        return state.store.finish_job(job, state.now()).await;
    };
    let follows = |lists: &Loaded| {
        lists.versions.iter().any(|v| {
            format!("{}:{}", v.source, v.version.get(..16).unwrap_or(&v.version)) == version
        })
    };
    if !follows(&state.lists.current()) {
        state.lists.refresh(state.store.as_ref()).await?;
    }
    let lists = state.lists.current();
    let at = state.now();
    let candidates = state
        .store
        .rescreen_candidates(shard, after, RESCREEN_BATCH)
        .await?;
    let today = state.today();
    let livemode = state.mode() == realname_core::platform::KeyMode::Live;
    let list_versions = versions_json(&lists.versions);
    let mut screenings = Vec::with_capacity(candidates.len());
    let mut delisted = Vec::new();
    // Verified customers with a hit now: a near miss or a dismissed hit counts in the grade.
    let mut regrade = Vec::new();
    let opened = open_and_match(state, &lists, &candidates, today).await?;
    for (candidate, found) in candidates.iter().zip(opened) {
        let id = candidate.application_id;
        let Some((identity, hits)) = found else {
            tracing::warn!(application = %id, "an identity could not be opened to screen it again");
            continue;
        };
        let before = candidate.screening.as_ref().map(|s| s.status);
        match before {
            Some(ScreeningStatus::Confirmed | ScreeningStatus::Delisted) => {
                let mut status = before.unwrap_or(ScreeningStatus::Confirmed);
                if let (Some(ScreeningStatus::Confirmed), Some((case, hits))) =
                    (before, &candidate.confirmed)
                {
                    let confirmed: Vec<HitRecord> = serde_json::from_str(hits).unwrap_or_default();
                    let still_listed = confirmed.iter().filter(|h| h.holds()).any(|h| {
                        Source::parse(&h.source)
                            .is_some_and(|s| lists.index.contains(&s, &h.entry_id))
                    });
                    if !still_listed {
                        delisted.push((id, *case));
                        status = ScreeningStatus::Delisted;
                    }
                }
                screenings.push(realname_core::store::NewScreening {
                    run: ScreeningRun {
                        id: run_id(at),
                        application_id: id,
                        at,
                        trigger: "list_change".into(),
                        list_versions: list_versions.clone(),
                        status,
                        hits: "[]".into(),
                    },
                    held: true,
                    flagged: candidate.screening.as_ref().is_some_and(|s| s.flagged),
                    case: None,
                    livemode,
                });
            }
            _ => {
                if !state.settings.screening.enabled || lists.versions.is_empty() {
                    continue;
                }
                let judged = judge(state, &lists, id, &identity, hits, "list_change", at).await?;
                let Some(mut screening) = judged else {
                    continue;
                };
                // A case that already waits for a decision takes the new hits' place.
                if candidate.open_case.is_some() {
                    screening.case = None;
                }
                if candidate.status == realname_core::state::Status::Verified
                    && screening.run.hits != "[]"
                {
                    regrade.push(id);
                }
                screenings.push(screening);
            }
        }
    }
    let next = (candidates.len() == RESCREEN_BATCH as usize)
        .then(|| candidates.last())
        .flatten()
        .map(|last| {
            realname_core::store::NewJob::rescreen(version, shard, Some(last.application_id), at)
        });
    state
        .store
        .rescreen_batch(&realname_core::store::RescreenBatch {
            job: job.clone(),
            at,
            next,
            screenings,
            delisted,
            list_versions,
            livemode,
        })
        .await?;
    for id in regrade {
        if let Some(record) = state.store.application(id).await? {
            crate::risk::grade_quietly(state, &record).await;
        }
    }
    Ok(())
}

/// Each candidate's identity opened and matched against `lists`, on the blocking threads
/// and one slice per core: the batch's CPU work, kept off the async threads and shared out.
#[allow(clippy::type_complexity)]
async fn open_and_match(
    state: &crate::Service,
    lists: &std::sync::Arc<Loaded>,
    candidates: &[realname_core::store::RescreenCandidate],
    today: chrono::NaiveDate,
) -> Result<
    Vec<
        Option<(
            realname_core::application::Identity,
            Vec<realname_screening::Hit>,
        )>,
    >,
    StoreError,
> {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let per = candidates.len().div_ceil(cores).max(1);
    let mut slices = Vec::new();
    for slice in candidates.chunks(per) {
        let forms: Vec<(uuid::Uuid, Vec<u8>)> = slice
            .iter()
            .map(|c| (c.application_id, c.form.clone()))
            .collect();
        let (vault, lists, settings) = (
            std::sync::Arc::clone(&state.vault),
            std::sync::Arc::clone(lists),
            state.settings.screening.clone(),
        );
        slices.push(tokio::task::spawn_blocking(move || {
            forms
                .into_iter()
                .map(|(id, form)| {
                    let bytes = vault
                        .open(
                            realname_core::ports::SealContext::ApplicationForm(id),
                            &form,
                        )
                        .ok()?;
                    let identity = crate::views::decode_identity(&bytes, today).ok()?;
                    let hits = hits_of(&settings, &lists, &identity);
                    Some((identity, hits))
                })
                .collect::<Vec<_>>()
        }));
    }
    let mut all = Vec::with_capacity(candidates.len());
    for slice in slices {
        all.extend(slice.await.map_err(|e| StoreError::Failed(e.to_string()))?);
    }
    Ok(all)
}
