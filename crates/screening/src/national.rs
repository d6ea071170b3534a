//! realname's own list format, for the lists China publishes only as announcements: JSON
//! Lines, one listed person a line.

use chrono::NaiveDate;
use serde::Deserialize;

use crate::{Entry, EntryKind, ListError, ListFile, ListedBirth, ListedDocument};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    id: String,
    #[serde(default)]
    names: Vec<String>,
    #[serde(default)]
    name_zh: Option<String>,
    #[serde(default)]
    date_of_birth: Option<String>,
    #[serde(default)]
    nationality: Option<String>,
    #[serde(default)]
    documents: Vec<Document>,
    #[serde(default)]
    listed_on: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Document {
    kind: String,
    number: String,
    #[serde(default)]
    country: Option<String>,
}

pub(crate) fn parse(file: &ListFile<'_>) -> Result<Vec<Entry>, ListError> {
    let text = std::str::from_utf8(file.bytes).map_err(|e| ListError::Parse {
        file: file.name.to_owned(),
        line: 1 + file.bytes[..e.valid_up_to()]
            .iter()
            .filter(|b| **b == b'\n')
            .count(),
        problem: "not UTF-8".into(),
    })?;
    let mut entries: Vec<Entry> = Vec::new();
    let mut ids = std::collections::HashSet::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let fail = |problem: String| ListError::Parse {
            file: file.name.to_owned(),
            line,
            problem,
        };
        if raw.trim().is_empty() {
            continue;
        }
        if entries.is_empty() && !raw.trim_start().starts_with('{') {
            return Err(ListError::WrongSource(format!(
                "{}: not a national list (JSON Lines, one entry a line)",
                file.name
            )));
        }
        let l: Line = serde_json::from_str(raw).map_err(|e| fail(format!("{e}")))?;
        if l.id.trim().is_empty() || !ids.insert(l.id.clone()) {
            return Err(fail(format!("id {:?} is empty or not unique", l.id)));
        }
        let mut names: Vec<String> = l
            .names
            .into_iter()
            .filter(|n| !n.trim().is_empty())
            .collect();
        names.extend(l.name_zh.filter(|n| !n.trim().is_empty()));
        if names.is_empty() {
            return Err(fail("no name: names or name_zh is needed".into()));
        }
        let births = match l.date_of_birth.as_deref() {
            None => vec![],
            Some(d) if d.len() == 4 => match d.parse::<i32>() {
                Ok(year) => vec![ListedBirth::Year { year }],
                Err(_) => {
                    return Err(fail(format!(
                        "date_of_birth {d:?} is not YYYY or YYYY-MM-DD"
                    )));
                }
            },
            Some(d) => match d.parse::<NaiveDate>() {
                Ok(date) => vec![ListedBirth::Date { date }],
                Err(_) => {
                    return Err(fail(format!(
                        "date_of_birth {d:?} is not YYYY or YYYY-MM-DD"
                    )));
                }
            },
        };
        let country = |c: Option<String>, what: &str| -> Result<Option<String>, ListError> {
            match c {
                None => Ok(None),
                Some(c) if realname_core::applicant::is_country_code(&c) => Ok(Some(c)),
                Some(c) => Err(fail(format!(
                    "{what} {c:?} is not an ISO 3166-1 alpha-3 code"
                ))),
            }
        };
        let nationalities = country(l.nationality, "nationality")?.into_iter().collect();
        let mut documents = Vec::new();
        for d in l.documents {
            if d.number.trim().is_empty() {
                return Err(fail("a document without its number".into()));
            }
            documents.push(ListedDocument {
                kind: d.kind,
                number: d.number,
                country: country(d.country, "documents.country")?,
            });
        }
        let listed_on = match l.listed_on {
            None => None,
            Some(d) => Some(
                d.parse::<NaiveDate>()
                    .map_err(|_| fail(format!("listed_on {d:?} is not YYYY-MM-DD")))?,
            ),
        };
        entries.push(Entry {
            id: l.id,
            kind: EntryKind::Person,
            names,
            births,
            nationalities,
            documents,
            listed_on,
        });
    }
    if entries.is_empty() {
        return Err(ListError::Files(format!("{}: no entries", file.name)));
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(s: &str) -> Result<Vec<Entry>, ListError> {
        parse(&ListFile {
            name: "mps.jsonl",
            bytes: s.as_bytes(),
        })
    }

    #[test]
    fn a_line_an_entry() {
        let entries = parse_str(concat!(
            r#"{"id":"mps-1","names":["ZHANG Weiming"],"name_zh":"张伟明","date_of_birth":"1965","nationality":"AFG","documents":[{"kind":"passport","number":"P123456","country":"AFG"}],"listed_on":"2024-01-02","note":"announcement 3"}"#,
            "\n\n",
            r#"{"id":"mps-2","names":[],"name_zh":"李小龙","date_of_birth":null,"nationality":null,"documents":[],"listed_on":null,"note":null}"#,
            "\n"
        ))
        .unwrap_or_default();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].names, ["ZHANG Weiming", "张伟明"]);
        assert_eq!(entries[0].births, [ListedBirth::Year { year: 1965 }]);
        assert_eq!(entries[1].names, ["李小龙"]);
    }

    #[test]
    fn a_bad_line_is_named() {
        let good = r#"{"id":"a","names":["A B"]}"#;
        for (bad, needle) in [
            (
                r#"{"id":"b","names":["X Y"],"date_of_birth":"65"}"#,
                "date_of_birth",
            ),
            (
                r#"{"id":"b","names":["X Y"],"nationality":"XX"}"#,
                "nationality",
            ),
            (r#"{"id":"a","names":["X Y"]}"#, "not unique"),
            (r#"{"id":"b"}"#, "no name"),
            (
                r#"{"id":"b","names":["X"],"nickname":"x"}"#,
                "unknown field",
            ),
            ("not json", "expected"),
        ] {
            match parse_str(&format!("{good}\n{bad}\n")) {
                Err(ListError::Parse { line, problem, .. }) => {
                    assert_eq!(line, 2, "{bad}");
                    assert!(problem.contains(needle), "{bad}: {problem}");
                }
                other => panic!("{bad}: {other:?}"),
            }
        }
        assert!(matches!(
            parse_str("<CONSOLIDATED_LIST/>"),
            Err(ListError::WrongSource(_))
        ));
    }
}
