//! The UN Security Council Consolidated List, as published in XML (`CONSOLIDATED_LIST` with
//! `INDIVIDUALS` and `ENTITIES`), read as a stream so an error names its line.

use chrono::NaiveDate;
use quick_xml::Reader;
use quick_xml::events::Event;

use crate::{Entry, EntryKind, ListError, ListFile, ListedBirth, ListedDocument, country_code};

pub(crate) fn parse(file: &ListFile<'_>) -> Result<Vec<Entry>, ListError> {
    let mut reader = Reader::from_reader(file.bytes);
    reader.config_mut().trim_text(true);
    let line = |pos: u64| {
        let end = (pos as usize).min(file.bytes.len());
        file.bytes[..end].iter().filter(|b| **b == b'\n').count() + 1
    };
    let fail = |pos: u64, problem: String| ListError::Parse {
        file: file.name.to_owned(),
        line: line(pos),
        problem,
    };
    let mut path: Vec<String> = Vec::new();
    let mut text = String::new();
    let mut entries = Vec::new();
    let mut current: Option<Builder> = None;
    let mut root_seen = false;
    let mut buf = Vec::new();
    loop {
        let event = reader
            .read_event_into(&mut buf)
            .map_err(|e| fail(reader.error_position(), format!("not well-formed XML: {e}")))?;
        let at = reader.buffer_position();
        match event {
            Event::Start(e) | Event::Empty(e) if path.is_empty() && !root_seen => {
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                if name != "CONSOLIDATED_LIST" {
                    return Err(ListError::WrongSource(format!(
                        "{}: not the UN Consolidated List (its root element is {name}, not CONSOLIDATED_LIST)",
                        file.name
                    )));
                }
                root_seen = true;
                path.push(name);
            }
            Event::Start(e) => {
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                if path.len() == 2 && (name == "INDIVIDUAL" || name == "ENTITY") {
                    current = Some(Builder::new(if name == "INDIVIDUAL" {
                        EntryKind::Person
                    } else {
                        EntryKind::Entity
                    }));
                }
                if let Some(b) = current.as_mut() {
                    b.open(&name);
                }
                path.push(name);
                text.clear();
            }
            Event::Empty(e) => {
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                if let Some(b) = current.as_mut() {
                    b.open(&name);
                    b.close(&path, &name, "");
                }
            }
            Event::Text(t) => {
                let s = t
                    .xml10_content()
                    .map_err(|e| fail(at, format!("bad text: {e}")))?;
                text.push_str(&s);
            }
            Event::CData(t) => {
                let s = t.decode().map_err(|e| fail(at, format!("bad text: {e}")))?;
                text.push_str(&s);
            }
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) => Some(c),
                    _ => match r.decode().as_deref() {
                        Ok("amp") => Some('&'),
                        Ok("lt") => Some('<'),
                        Ok("gt") => Some('>'),
                        Ok("quot") => Some('"'),
                        Ok("apos") => Some('\''),
                        _ => None,
                    },
                };
                match resolved {
                    Some(c) => text.push(c),
                    None => return Err(fail(at, "an unknown entity reference".into())),
                }
            }
            Event::End(_) => {
                let Some(name) = path.pop() else {
                    return Err(fail(at, "a closing tag without its opening".into()));
                };
                if let Some(b) = current.as_mut() {
                    b.close(&path, &name, text.trim());
                }
                if path.len() == 2 && (name == "INDIVIDUAL" || name == "ENTITY") {
                    if let Some(b) = current.take() {
                        entries.push(b.finish().map_err(|p| fail(at, format!("{name}: {p}")))?);
                    }
                }
                text.clear();
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if !root_seen {
        return Err(ListError::WrongSource(format!(
            "{}: not the UN Consolidated List (no CONSOLIDATED_LIST element)",
            file.name
        )));
    }
    if !path.is_empty() {
        return Err(fail(
            reader.buffer_position(),
            format!("{} is not closed", path.join("/")),
        ));
    }
    Ok(entries)
}

/// One INDIVIDUAL or ENTITY as its elements close.
struct Builder {
    kind: EntryKind,
    id: Option<String>,
    name_parts: Vec<String>,
    names: Vec<String>,
    births: Vec<ListedBirth>,
    nationalities: Vec<String>,
    documents: Vec<ListedDocument>,
    listed_on: Option<NaiveDate>,
    // The group being read (an alias, a date of birth, a document).
    alias: (String, String),
    birth: BirthParts,
    document: (String, String, String),
}

#[derive(Default)]
struct BirthParts {
    kind: String,
    date: String,
    year: String,
    from: String,
    to: String,
}

impl Builder {
    fn new(kind: EntryKind) -> Builder {
        Builder {
            kind,
            id: None,
            name_parts: Vec::new(),
            names: Vec::new(),
            births: Vec::new(),
            nationalities: Vec::new(),
            documents: Vec::new(),
            listed_on: None,
            alias: Default::default(),
            birth: BirthParts::default(),
            document: Default::default(),
        }
    }

    fn open(&mut self, name: &str) {
        match name {
            "INDIVIDUAL_ALIAS" | "ENTITY_ALIAS" => self.alias = Default::default(),
            "INDIVIDUAL_DATE_OF_BIRTH" => self.birth = BirthParts::default(),
            "INDIVIDUAL_DOCUMENT" => self.document = Default::default(),
            _ => {}
        }
    }

    /// `parent` is the path above the element that closes.
    fn close(&mut self, parent: &[String], name: &str, text: &str) {
        let within = parent.last().map(String::as_str).unwrap_or("");
        let t = text.to_owned();
        match (within, name) {
            ("INDIVIDUAL" | "ENTITY", "DATAID") => self.id = Some(t),
            (
                "INDIVIDUAL" | "ENTITY",
                "FIRST_NAME" | "SECOND_NAME" | "THIRD_NAME" | "FOURTH_NAME",
            ) if !t.is_empty() => self.name_parts.push(t),
            ("INDIVIDUAL" | "ENTITY", "NAME_ORIGINAL_SCRIPT") if !t.is_empty() => {
                self.names.push(t)
            }
            ("INDIVIDUAL" | "ENTITY", "LISTED_ON") => self.listed_on = t.parse().ok(),
            ("NATIONALITY", "VALUE") => {
                if let Some(code) = country_code(&t) {
                    if !self.nationalities.contains(&code) {
                        self.nationalities.push(code);
                    }
                }
            }
            ("INDIVIDUAL_ALIAS" | "ENTITY_ALIAS", "QUALITY") => self.alias.0 = t,
            ("INDIVIDUAL_ALIAS" | "ENTITY_ALIAS", "ALIAS_NAME") => self.alias.1 = t,
            (_, "INDIVIDUAL_ALIAS" | "ENTITY_ALIAS") => {
                let (quality, name) = std::mem::take(&mut self.alias);
                // A "Low" quality alias is a nickname or a single word the Committee itself
                // calls too weak to identify anyone by.
                if !name.is_empty() && !quality.eq_ignore_ascii_case("low") {
                    self.names.push(name);
                }
            }
            ("INDIVIDUAL_DATE_OF_BIRTH", "TYPE_OF_DATE") => self.birth.kind = t,
            ("INDIVIDUAL_DATE_OF_BIRTH", "DATE") => self.birth.date = t,
            ("INDIVIDUAL_DATE_OF_BIRTH", "YEAR") => self.birth.year = t,
            ("INDIVIDUAL_DATE_OF_BIRTH", "FROM_YEAR") => self.birth.from = t,
            ("INDIVIDUAL_DATE_OF_BIRTH", "TO_YEAR") => self.birth.to = t,
            (_, "INDIVIDUAL_DATE_OF_BIRTH") => {
                let b = std::mem::take(&mut self.birth);
                if let Some(birth) = birth(&b) {
                    self.births.push(birth);
                }
            }
            ("INDIVIDUAL_DOCUMENT", "TYPE_OF_DOCUMENT") => self.document.0 = t,
            ("INDIVIDUAL_DOCUMENT", "NUMBER") => self.document.1 = t,
            ("INDIVIDUAL_DOCUMENT", "ISSUING_COUNTRY" | "COUNTRY_OF_ISSUE")
                if self.document.2.is_empty() =>
            {
                self.document.2 = t
            }
            (_, "INDIVIDUAL_DOCUMENT") => {
                let (kind, number, country) = std::mem::take(&mut self.document);
                if !number.is_empty() {
                    self.documents.push(ListedDocument {
                        kind,
                        number,
                        country: country_code(&country),
                    });
                }
            }
            _ => {}
        }
    }

    fn finish(mut self) -> Result<Entry, String> {
        let id = self
            .id
            .filter(|i| !i.is_empty())
            .ok_or("without a DATAID")?;
        if !self.name_parts.is_empty() {
            self.names.insert(0, self.name_parts.join(" "));
        }
        if self.names.is_empty() {
            return Err(format!("{id} has no name"));
        }
        Ok(Entry {
            id,
            kind: self.kind,
            names: self.names,
            births: self.births,
            nationalities: self.nationalities,
            documents: self.documents,
            listed_on: self.listed_on,
        })
    }
}

fn birth(b: &BirthParts) -> Option<ListedBirth> {
    let year = |s: &str| {
        s.trim()
            .parse::<i32>()
            .ok()
            .filter(|y| (1850..=2100).contains(y))
    };
    if let Ok(date) = b.date.trim().parse::<NaiveDate>() {
        return Some(ListedBirth::Date { date });
    }
    if let (Some(from), Some(to)) = (year(&b.from), year(&b.to)) {
        return Some(ListedBirth::Between { from, to });
    }
    let y = year(&b.year).or_else(|| year(b.date.get(..4).unwrap_or("")))?;
    if b.kind.eq_ignore_ascii_case("APPROXIMATELY") {
        Some(ListedBirth::Between {
            from: y - 1,
            to: y + 1,
        })
    } else {
        Some(ListedBirth::Year { year: y })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(s: &str) -> Result<Vec<Entry>, ListError> {
        parse(&ListFile {
            name: "un.xml",
            bytes: s.as_bytes(),
        })
    }

    #[test]
    fn individuals_and_entities_with_their_details() {
        let xml = r#"<?xml version="1.0"?>
<CONSOLIDATED_LIST dateGenerated="2026-02-27">
 <INDIVIDUALS>
  <INDIVIDUAL>
   <DATAID>1</DATAID><FIRST_NAME>ERIC</FIRST_NAME><SECOND_NAME>BADEGE</SECOND_NAME>
   <LISTED_ON>2012-12-31</LISTED_ON>
   <NATIONALITY><VALUE>Democratic Republic of the Congo</VALUE></NATIONALITY>
   <INDIVIDUAL_ALIAS><QUALITY>Good</QUALITY><ALIAS_NAME>Eric B&amp;adege</ALIAS_NAME></INDIVIDUAL_ALIAS>
   <INDIVIDUAL_ALIAS><QUALITY>Low</QUALITY><ALIAS_NAME>Rick</ALIAS_NAME></INDIVIDUAL_ALIAS>
   <INDIVIDUAL_ALIAS><QUALITY/><ALIAS_NAME/></INDIVIDUAL_ALIAS>
   <INDIVIDUAL_DATE_OF_BIRTH><TYPE_OF_DATE>EXACT</TYPE_OF_DATE><YEAR>1971</YEAR></INDIVIDUAL_DATE_OF_BIRTH>
   <INDIVIDUAL_DATE_OF_BIRTH><TYPE_OF_DATE>APPROXIMATELY</TYPE_OF_DATE><YEAR>1975</YEAR></INDIVIDUAL_DATE_OF_BIRTH>
   <INDIVIDUAL_DOCUMENT><TYPE_OF_DOCUMENT>Passport</TYPE_OF_DOCUMENT><NUMBER>OB 0243318</NUMBER><ISSUING_COUNTRY>Democratic Republic of the Congo</ISSUING_COUNTRY></INDIVIDUAL_DOCUMENT>
  </INDIVIDUAL>
 </INDIVIDUALS>
 <ENTITIES><ENTITY><DATAID>2</DATAID><FIRST_NAME>SOME GROUP</FIRST_NAME></ENTITY></ENTITIES>
</CONSOLIDATED_LIST>"#;
        let entries = parse_str(xml).unwrap_or_default();
        assert_eq!(entries.len(), 2);
        let e = &entries[0];
        assert_eq!(e.names, ["ERIC BADEGE", "Eric B&adege"]);
        assert_eq!(e.nationalities, ["COD"]);
        assert_eq!(
            e.births,
            [
                ListedBirth::Year { year: 1971 },
                ListedBirth::Between {
                    from: 1974,
                    to: 1976
                }
            ]
        );
        assert_eq!(e.documents[0].country.as_deref(), Some("COD"));
        assert_eq!(e.listed_on, NaiveDate::from_ymd_opt(2012, 12, 31));
        assert_eq!(entries[1].kind, EntryKind::Entity);
    }

    #[test]
    fn broken_and_foreign_files_are_refused_with_their_line() {
        let broken =
            "<CONSOLIDATED_LIST>\n<INDIVIDUALS>\n<INDIVIDUAL><DATAID>1</DATAID></INDIVIDUALS>";
        match parse_str(broken) {
            Err(ListError::Parse { line, .. }) => assert_eq!(line, 3),
            other => panic!("{other:?}"),
        }
        let nameless = "<CONSOLIDATED_LIST>\n<INDIVIDUALS>\n<INDIVIDUAL><DATAID>7</DATAID>\n</INDIVIDUAL></INDIVIDUALS></CONSOLIDATED_LIST>";
        match parse_str(nameless) {
            Err(ListError::Parse { line, problem, .. }) => {
                assert_eq!(line, 4);
                assert!(problem.contains("INDIVIDUAL: 7 has no name"), "{problem}");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            parse_str("<sdnList></sdnList>"),
            Err(ListError::WrongSource(_))
        ));
        assert!(matches!(
            parse_str("36,\"AEROCARIBBEAN\",-0- "),
            Err(ListError::WrongSource(_))
        ));
    }
}
