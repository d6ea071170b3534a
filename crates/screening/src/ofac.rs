//! OFAC's SDN data set in its legacy CSV form: `sdn.csv` (12 columns: the entries), `alt.csv`
//! (5: their aliases) and `add.csv` (6: their addresses), told apart by their columns whatever
//! the files are called. Dates of birth, nationalities and documents are in the remarks.

use chrono::NaiveDate;

use crate::{Entry, EntryKind, ListError, ListFile, ListedBirth, ListedDocument, country_code};

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Part {
    Primary,
    Aliases,
    Addresses,
}

/// The entries, and the files' bytes in the order the version is computed over.
pub(crate) fn parse<'a>(files: &[ListFile<'a>]) -> Result<(Vec<Entry>, Vec<&'a [u8]>), ListError> {
    if files.is_empty() || files.len() > 3 {
        return Err(ListError::Files(
            "OFAC's data set is one to three CSV files: the SDN list, and its aliases and addresses".into(),
        ));
    }
    let mut parts: Vec<(Part, &ListFile<'a>)> = Vec::new();
    for file in files {
        let part = part_of(file)?;
        if parts.iter().any(|(p, _)| *p == part) {
            return Err(ListError::Files(format!(
                "{}: a second file of the same kind",
                file.name
            )));
        }
        parts.push((part, file));
    }
    parts.sort_by_key(|(p, _)| *p);
    let Some((Part::Primary, primary)) = parts.first() else {
        return Err(ListError::Files(
            "OFAC's data set needs its primary list (sdn.csv: 12 columns a row)".into(),
        ));
    };
    let mut entries = Vec::new();
    let mut at: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for (line, record) in records(primary, 12)? {
        let id = field(&record, 0).ok_or_else(|| parse_error(primary, line, "no entry number"))?;
        let name = field(&record, 1).ok_or_else(|| parse_error(primary, line, "no name"))?;
        let kind = match field(&record, 2).as_deref() {
            Some("individual") => EntryKind::Person,
            _ => EntryKind::Entity,
        };
        let mut entry = Entry {
            id: id.clone(),
            kind,
            names: vec![name],
            births: Vec::new(),
            nationalities: Vec::new(),
            documents: Vec::new(),
            listed_on: None,
        };
        if let Some(remarks) = field(&record, 11) {
            read_remarks(&remarks, &mut entry);
        }
        at.insert(id, entries.len());
        entries.push(entry);
    }
    if let Some((_, aliases)) = parts.iter().find(|(p, _)| *p == Part::Aliases) {
        for (line, record) in records(aliases, 5)? {
            let id =
                field(&record, 0).ok_or_else(|| parse_error(aliases, line, "no entry number"))?;
            let Some(name) = field(&record, 3) else {
                continue;
            };
            match at.get(&id) {
                Some(&i) => entries[i].names.push(name),
                None => {
                    return Err(parse_error(
                        aliases,
                        line,
                        &format!("entry {id} is not in the SDN list"),
                    ));
                }
            }
        }
    }
    let ordered = parts.iter().map(|(_, f)| f.bytes).collect();
    Ok((entries, ordered))
}

fn parse_error(file: &ListFile<'_>, line: usize, problem: &str) -> ListError {
    ListError::Parse {
        file: file.name.to_owned(),
        line,
        problem: problem.to_owned(),
    }
}

fn reader(bytes: &[u8]) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes)
}

fn part_of(file: &ListFile<'_>) -> Result<Part, ListError> {
    let wrong = || {
        ListError::WrongSource(format!(
            "{}: not one of OFAC's SDN CSV files (sdn.csv, alt.csv, add.csv)",
            file.name
        ))
    };
    let first = reader(file.bytes)
        .records()
        .next()
        .ok_or_else(wrong)?
        .map_err(|_| wrong())?;
    let numbered = first
        .get(0)
        .is_some_and(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()));
    match first.len() {
        12 if numbered => Ok(Part::Primary),
        5 if numbered => Ok(Part::Aliases),
        6 if numbered => Ok(Part::Addresses),
        _ => Err(wrong()),
    }
}

/// Every record with its line, each of `columns` fields; the data set ends with a line of a
/// single end-of-file mark (`\x1a`), which is not a record.
fn records(
    file: &ListFile<'_>,
    columns: usize,
) -> Result<Vec<(usize, csv::StringRecord)>, ListError> {
    let mut out = Vec::new();
    for record in reader(file.bytes).records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line() as usize);
            parse_error(file, line, &format!("not CSV: {e}"))
        })?;
        let line = record.position().map_or(0, |p| p.line() as usize);
        if record.len() == 1
            && record
                .get(0)
                .is_some_and(|f| f.trim_matches(['\u{1a}', ' ']).is_empty())
        {
            continue;
        }
        if record.len() != columns {
            return Err(parse_error(
                file,
                line,
                &format!("{} fields where this file has {columns}", record.len()),
            ));
        }
        out.push((line, record));
    }
    Ok(out)
}

/// A field, or None for OFAC's empty mark `-0-`.
fn field(record: &csv::StringRecord, i: usize) -> Option<String> {
    let f = record.get(i)?.trim();
    (!f.is_empty() && f != "-0-").then(|| f.to_owned())
}

fn read_remarks(remarks: &str, entry: &mut Entry) {
    for part in remarks.trim_end_matches('.').split(';') {
        let part = part.trim();
        let part = part.strip_prefix("alt. ").unwrap_or(part).trim();
        if let Some(dob) = part.strip_prefix("DOB ") {
            entry.births.extend(birth(dob.trim_end_matches('.')));
        } else if let Some(c) = part
            .strip_prefix("nationality ")
            .or_else(|| part.strip_prefix("citizen "))
        {
            if let Some(code) = country_code(c.trim_end_matches('.')) {
                if !entry.nationalities.contains(&code) {
                    entry.nationalities.push(code);
                }
            }
        } else {
            for kind in [
                "Passport",
                "National ID No.",
                "Cedula No.",
                "Identification Number",
                "D.N.I.",
            ] {
                if let Some(rest) = part.strip_prefix(kind).filter(|r| r.starts_with(' ')) {
                    let (number, country) = match rest.split_once('(') {
                        Some((n, c)) => (n.trim(), c.split(')').next().and_then(country_code)),
                        None => (rest.trim(), None),
                    };
                    if !number.is_empty() {
                        entry.documents.push(ListedDocument {
                            kind: kind.trim_end_matches(['.', ' ']).to_owned(),
                            number: number.to_owned(),
                            country,
                        });
                    }
                }
            }
        }
    }
}

/// `10 Dec 1948`, `Dec 1948`, `1948`, `circa 1948`, `1948 to 1950`, `01 Jan 1960 to 31 Dec 1962`.
fn birth(s: &str) -> Option<ListedBirth> {
    let s = s.trim();
    if let Some((from, to)) = s.split_once(" to ") {
        let (from, to) = (last_year(from)?, last_year(to)?);
        return Some(ListedBirth::Between { from, to });
    }
    if let Some(rest) = s.strip_prefix("circa ") {
        let y = last_year(rest)?;
        return Some(ListedBirth::Between {
            from: y - 1,
            to: y + 1,
        });
    }
    if let Ok(date) = NaiveDate::parse_from_str(s, "%d %b %Y") {
        return Some(ListedBirth::Date { date });
    }
    last_year(s).map(|year| ListedBirth::Year { year })
}

fn last_year(s: &str) -> Option<i32> {
    s.split_whitespace()
        .last()?
        .parse::<i32>()
        .ok()
        .filter(|y| (1850..=2100).contains(y))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SDN: &str = "2676,\"AL ZAWAHIRI, Dr. Ayman\",\"individual\",\"SDGT\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,\"DOB 19 Jun 1951; POB Giza, Egypt; Passport 1084010 (Egypt); alt. Passport 19820215; nationality Egypt.\"\n36,\"AEROCARIBBEAN AIRLINES\",-0- ,\"CUBA\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \n\u{1a}\n";
    const ALT: &str = "2676,1,\"aka\",\"AL-ZAWAHIRI, Ayman\",-0- \n";
    const ADD: &str = "36,25,-0- ,\"Havana\",\"Cuba\",-0- \n";

    fn file<'a>(name: &'a str, s: &'a str) -> ListFile<'a> {
        ListFile {
            name,
            bytes: s.as_bytes(),
        }
    }

    #[test]
    fn the_three_files_in_any_order_and_under_any_name() {
        let (entries, ordered) =
            parse(&[file("b.csv", ADD), file("c.csv", ALT), file("a.csv", SDN)])
                .unwrap_or_default();
        assert_eq!(ordered, [SDN.as_bytes(), ALT.as_bytes(), ADD.as_bytes()]);
        let e = &entries[0];
        assert_eq!(e.kind, EntryKind::Person);
        assert_eq!(e.names, ["AL ZAWAHIRI, Dr. Ayman", "AL-ZAWAHIRI, Ayman"]);
        assert_eq!(
            e.births,
            [ListedBirth::Date {
                date: NaiveDate::from_ymd_opt(1951, 6, 19).unwrap()
            }]
        );
        assert_eq!(e.nationalities, ["EGY"]);
        assert_eq!(e.documents.len(), 2);
        assert_eq!(e.documents[0].country.as_deref(), Some("EGY"));
        assert_eq!(entries[1].kind, EntryKind::Entity);
    }

    #[test]
    fn what_is_not_the_data_set_is_refused() {
        assert!(matches!(
            parse(&[file("alt.csv", ALT)]),
            Err(ListError::Files(_))
        ));
        assert!(matches!(
            parse(&[file("un.xml", "<CONSOLIDATED_LIST/>")]),
            Err(ListError::WrongSource(_))
        ));
        let broken = format!("{SDN}37,\"X\",\"individual\"\n");
        match parse(&[file("sdn.csv", &broken)]) {
            Err(ListError::Parse { line, .. }) => assert_eq!(line, 4),
            other => panic!("{other:?}"),
        }
        let orphan = "9999,1,\"aka\",\"NOBODY\",-0- \n";
        assert!(matches!(
            parse(&[file("sdn.csv", SDN), file("alt.csv", orphan)]),
            Err(ListError::Parse { .. })
        ));
    }

    #[test]
    fn dates_of_birth_as_ofac_writes_them() {
        assert_eq!(birth("1948"), Some(ListedBirth::Year { year: 1948 }));
        assert_eq!(
            birth("circa 1960"),
            Some(ListedBirth::Between {
                from: 1959,
                to: 1961
            })
        );
        assert_eq!(
            birth("01 Jan 1960 to 31 Dec 1962"),
            Some(ListedBirth::Between {
                from: 1960,
                to: 1962
            })
        );
        assert_eq!(birth("Dec 1948"), Some(ListedBirth::Year { year: 1948 }));
        assert_eq!(birth("unknown"), None);
    }
}
