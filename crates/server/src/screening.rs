//! `realname screening import|lists|check` (CONTRACT 12), for operators of the lists.

use std::fmt::Write as _;
use std::path::PathBuf;

use chrono::{NaiveDate, Utc};
use realname_core::store::{AuditEntry, Imported};
use realname_screening::{Hit, ListFile, Source, Subject};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::config::Config;
use crate::{StartError, open_store};

#[derive(Debug, thiserror::Error)]
pub enum ScreeningCliError {
    #[error(transparent)]
    Start(#[from] StartError),
    /// The command, a file or an identity is wrong: exit code 2.
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Failed(String),
}

fn failed(e: impl std::fmt::Display) -> ScreeningCliError {
    ScreeningCliError::Failed(e.to_string())
}

/// Puts the files in force as `source`'s new version; answers the line to print.
pub async fn import(
    config: &Config,
    source: &str,
    files: &[PathBuf],
) -> Result<String, ScreeningCliError> {
    let source = Source::parse(source).ok_or_else(|| {
        ScreeningCliError::Usage(format!(
            "{source:?} is no list source: un, ofac or national:NAME (NAME in lower-case letters, digits, _ and -)"
        ))
    })?;
    let mut read = Vec::new();
    for path in files {
        let bytes = std::fs::read(path)
            .map_err(|e| ScreeningCliError::Usage(format!("{}: {e}", path.display())))?;
        read.push((path.display().to_string(), bytes));
    }
    let list_files: Vec<ListFile<'_>> = read
        .iter()
        .map(|(name, bytes)| ListFile { name, bytes })
        .collect();
    let opened = open_store(config).await?;
    let report =
        realname_app::screening::import(opened.store.as_ref(), &source, &list_files, Utc::now())
            .await
            .map_err(|e| match e {
                realname_app::screening::ImportError::Refused(e) => {
                    ScreeningCliError::Usage(format!("{source}: refused, nothing changed: {e}"))
                }
                realname_app::screening::ImportError::Store(e) => failed(e),
            })?;
    Ok(match report.outcome {
        Imported::Unchanged => format!(
            "{source}: version {} is in force already; nothing changed",
            short(&report.version)
        ),
        Imported::New { replaced } => format!(
            "{source}: version {} in force: {} persons, {} entities{}",
            short(&report.version),
            report.persons,
            report.entities,
            replaced.map_or_else(String::new, |r| format!(" (replaced {})", short(&r)))
        ),
    })
}

fn short(version: &str) -> &str {
    version.get(..16).unwrap_or(version)
}

/// Each source's version in force, as `screening lists` prints it.
pub async fn lists(config: &Config) -> Result<String, ScreeningCliError> {
    let opened = open_store(config).await?;
    let versions = opened.store.list_versions().await.map_err(failed)?;
    if versions.is_empty() {
        return Ok("no list is loaded\n".into());
    }
    let mut out = String::from("source\tversion\tentries\timported\n");
    for v in versions {
        let _ = writeln!(
            out,
            "{}\t{}\t{}\t{}",
            v.source,
            v.version,
            v.entries,
            v.imported_at.format("%Y-%m-%dT%H:%M:%SZ")
        );
    }
    Ok(out)
}

/// One identity as `screening check` is given it.
pub struct Identity {
    pub names: Vec<String>,
    pub dob: Option<String>,
    pub nationality: Option<String>,
    pub document: Option<String>,
}

impl Identity {
    /// Reads one line of a `--file`: `{name, dob, nationality, document}`, `name` a string or
    /// a list of spellings.
    pub fn from_json_line(line: &str, number: usize) -> Result<Identity, ScreeningCliError> {
        let bad = |why: &str| ScreeningCliError::Usage(format!("line {number}: {why}"));
        let v: Value = serde_json::from_str(line).map_err(|e| bad(&e.to_string()))?;
        let text = |key: &str| -> Result<Option<String>, ScreeningCliError> {
            match v.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(bad(&format!("{key} must be a string"))),
            }
        };
        let names = match v.get("name") {
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(items)) => items
                .iter()
                .map(|i| i.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| bad("name must be a string or a list of strings"))?,
            _ => return Err(bad("name is required")),
        };
        Ok(Identity {
            names,
            dob: text("dob")?,
            nationality: text("nationality")?,
            document: text("document")?,
        })
    }

    fn subject(&self) -> Result<Subject, ScreeningCliError> {
        if self.names.iter().all(|n| n.trim().is_empty()) {
            return Err(ScreeningCliError::Usage("a name is required".into()));
        }
        let date_of_birth = match &self.dob {
            None => None,
            Some(d) => Some(d.parse::<NaiveDate>().map_err(|_| {
                ScreeningCliError::Usage(format!("date of birth {d:?} is not YYYY-MM-DD"))
            })?),
        };
        let nationality = match &self.nationality {
            None => None,
            Some(n) if realname_core::applicant::is_country_code(n) => Some(n.clone()),
            Some(n) => {
                return Err(ScreeningCliError::Usage(format!(
                    "nationality {n:?} is not an ISO 3166-1 alpha-3 code"
                )));
            }
        };
        Ok(Subject {
            names: self.names.clone(),
            date_of_birth,
            nationality,
            documents: self.document.iter().map(|d| (d.clone(), None)).collect(),
        })
    }
}

/// Screens each identity against the lists in force: one JSON object a line with `json`,
/// else a table. The check is audited (how many identities, how many hits; never a name).
pub async fn check(
    config: &Config,
    identities: &[Identity],
    json: bool,
) -> Result<String, ScreeningCliError> {
    let subjects = identities
        .iter()
        .map(Identity::subject)
        .collect::<Result<Vec<_>, _>>()?;
    let opened = open_store(config).await?;
    let (index, versions) = realname_app::screening::index(opened.store.as_ref())
        .await
        .map_err(failed)?;
    let threshold = config.screening.threshold;
    let answers: Vec<Vec<Hit>> = subjects
        .iter()
        .map(|s| index.screen(s, threshold))
        .collect();
    let hits: usize = answers.iter().map(Vec::len).sum();
    let entry = AuditEntry {
        id: Uuid::new_v4(),
        at: Utc::now(),
        actor: Uuid::nil(),
        action: "screening_check".into(),
        application_id: None,
        detail: json!({
            "by": "cli",
            "identities": subjects.len(),
            "hits": hits,
            "list_versions": versions.iter().map(|v| json!({"source": v.source, "version": v.version})).collect::<Vec<_>>(),
        })
        .to_string(),
    };
    opened.store.append_audit(&entry).await.map_err(failed)?;
    let mut out = String::new();
    for found in &answers {
        if json {
            let hits: Vec<Value> = found
                .iter()
                .map(|h| {
                    json!({
                        "source": h.source.to_string(),
                        "entry_id": h.entry_id,
                        "score": h.score,
                        "names": h.names,
                        "matched": h.matched,
                    })
                })
                .collect();
            let _ = writeln!(out, "{}", json!({ "hits": hits }));
        } else if found.is_empty() {
            let _ = writeln!(out, "no hit at or above {threshold}");
        } else {
            for h in found {
                let _ = writeln!(
                    out,
                    "{:.3}\t{}\t{}\t{}\tmatched: {}",
                    h.score,
                    h.source,
                    h.entry_id,
                    h.matched_name
                        .as_deref()
                        .or(h.names.first().map(String::as_str))
                        .unwrap_or(""),
                    h.matched.join(", ")
                );
            }
        }
    }
    if versions.is_empty() {
        out.push_str(if json { "" } else { "(no list is loaded)\n" });
    }
    Ok(out)
}
