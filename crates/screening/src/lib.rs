//! List screening: the sanctions and terrorist lists a payment institution must check its
//! customers against, read into entries, and a matcher that scores an identity against every
//! listed person and says which features matched.
//!
//! Pure like the core: files come in as bytes, hits go out as values. The app loads the
//! versions from the store, keeps each node's [`Index`] current and records the runs.

mod fold;
mod index;
mod national;
mod ofac;
mod source;
mod t2s;
mod un;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use fold::{Folded, fold};
pub use index::{Hit, Index, Subject, THRESHOLD};
pub use source::{Action, Source};

/// Whether a listed entry is a person; organisations, vessels and aircraft are kept with
/// their source's version but never matched to a person.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    Person,
    Entity,
}

/// A date of birth as the lists give it: a day, a year, or a span of years.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum ListedBirth {
    Date { date: NaiveDate },
    Year { year: i32 },
    Between { from: i32, to: i32 },
}

impl ListedBirth {
    fn years(self) -> (i32, i32) {
        match self {
            ListedBirth::Date { date } => {
                let y = chrono::Datelike::year(&date);
                (y, y)
            }
            ListedBirth::Year { year } => (year, year),
            ListedBirth::Between { from, to } => (from.min(to), from.max(to)),
        }
    }
}

/// An identity document a list names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListedDocument {
    pub kind: String,
    pub number: String,
    /// ISO 3166-1 alpha-3, when the list names a country the core knows.
    pub country: Option<String>,
}

/// One listed person or entity of one source.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub id: String,
    pub kind: EntryKind,
    /// The name as listed first, then every alias, in the list's own spelling and scripts.
    pub names: Vec<String>,
    pub births: Vec<ListedBirth>,
    /// ISO 3166-1 alpha-3 codes.
    pub nationalities: Vec<String>,
    pub documents: Vec<ListedDocument>,
    pub listed_on: Option<NaiveDate>,
}

impl Entry {
    /// The entry's own version: a digest of everything that is matched against, so a
    /// dismissed hit is raised again when its entry changes and not when only the file does.
    pub fn digest(&self) -> String {
        let mut h = Sha256::new();
        h.update(serde_json::to_vec(self).unwrap_or_default());
        hex(&h.finalize())[..16].to_owned()
    }
}

/// A new version of one source, parsed whole: its entries and its identity (the SHA-256 of
/// its files).
#[derive(Clone, Debug)]
pub struct ListVersion {
    pub source: Source,
    pub version: String,
    pub entries: Vec<Entry>,
}

/// Why a list file is refused; nothing of it is kept.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ListError {
    #[error("{0}")]
    WrongSource(String),
    #[error("{file}: line {line}: {problem}")]
    Parse {
        file: String,
        line: usize,
        problem: String,
    },
    #[error("{0}")]
    Files(String),
}

/// A file handed to an import: its name (for error messages only) and its bytes.
pub struct ListFile<'a> {
    pub name: &'a str,
    pub bytes: &'a [u8],
}

/// Parses the files of one source's new version. The version is the SHA-256 of the files'
/// own digests in the order the source reads them, so the same files give the same version
/// whatever they are called and in whatever order they are named.
pub fn parse(source: &Source, files: &[ListFile<'_>]) -> Result<ListVersion, ListError> {
    let (entries, ordered) = match source {
        Source::Un => {
            let [file] = files else {
                return Err(ListError::Files("the UN list is one XML file".into()));
            };
            (un::parse(file)?, vec![file.bytes])
        }
        Source::Ofac => ofac::parse(files)?,
        Source::National(_) => {
            let [file] = files else {
                return Err(ListError::Files(
                    "a national list is one JSON Lines file".into(),
                ));
            };
            (national::parse(file)?, vec![file.bytes])
        }
    };
    let mut h = Sha256::new();
    for bytes in ordered {
        h.update(Sha256::digest(bytes));
    }
    Ok(ListVersion {
        source: source.clone(),
        version: hex(&h.finalize()),
        entries,
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The alpha-3 code of a country as the lists write it in English ("Iran (Islamic Republic
/// of)", "Russian Federation", "Syria"), or None when it names no country the core knows.
pub fn country_code(name: &str) -> Option<String> {
    let key = country_key(name);
    if key.is_empty() {
        return None;
    }
    if let Some((_, code)) = COUNTRY_ALIASES.iter().find(|(alias, _)| *alias == key) {
        return Some((*code).to_owned());
    }
    realname_core::applicant::Nationality::countries()
        .find(|n| country_key(n.name_en()) == key || n.code().eq_ignore_ascii_case(name.trim()))
        .map(|n| n.code().to_owned())
}

fn country_key(name: &str) -> String {
    let folded = fold::latin_letters(name);
    folded
        .split_whitespace()
        .filter(|w| *w != "the")
        .collect::<Vec<_>>()
        .join(" ")
}

/// Names the UN and OFAC lists use for countries whose ISO short name differs.
const COUNTRY_ALIASES: &[(&str, &str)] = &[
    ("iran islamic republic of", "IRN"),
    ("iran", "IRN"),
    ("syria", "SYR"),
    ("syrian arab republic", "SYR"),
    ("russia", "RUS"),
    ("russian federation", "RUS"),
    ("democratic republic of congo", "COD"),
    ("democratic republic of congo drc", "COD"),
    ("congo democratic republic of", "COD"),
    ("republic of congo", "COG"),
    ("democratic people s republic of korea", "PRK"),
    ("korea north", "PRK"),
    ("north korea", "PRK"),
    ("republic of korea", "KOR"),
    ("korea south", "KOR"),
    ("south korea", "KOR"),
    (
        "united kingdom of great britain and northern ireland",
        "GBR",
    ),
    ("united kingdom", "GBR"),
    ("united states of america", "USA"),
    ("united states", "USA"),
    ("venezuela bolivarian republic of", "VEN"),
    ("venezuela", "VEN"),
    ("bolivia plurinational state of", "BOL"),
    ("tanzania", "TZA"),
    ("united republic of tanzania", "TZA"),
    ("viet nam", "VNM"),
    ("vietnam", "VNM"),
    ("lao people s democratic republic", "LAO"),
    ("laos", "LAO"),
    ("turkey", "TUR"),
    ("turkiye", "TUR"),
    ("burma", "MMR"),
    ("myanmar", "MMR"),
    ("palestine", "PSE"),
    ("state of palestine", "PSE"),
    ("west bank", "PSE"),
    ("gaza", "PSE"),
    ("moldova", "MDA"),
    ("republic of moldova", "MDA"),
    ("cote d ivoire", "CIV"),
    ("ivory coast", "CIV"),
    ("libyan arab jamahiriya", "LBY"),
    ("sudan", "SDN"),
    ("south sudan", "SSD"),
    ("brunei", "BRN"),
    ("macedonia", "MKD"),
    ("north macedonia", "MKD"),
    ("netherlands kingdom of", "NLD"),
    ("belgium", "BEL"),
    ("china", "CHN"),
    ("hong kong", "HKG"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn countries_as_the_lists_write_them() {
        assert_eq!(
            country_code("Iran (Islamic Republic of)").as_deref(),
            Some("IRN")
        );
        assert_eq!(
            country_code("Democratic Republic of the Congo").as_deref(),
            Some("COD")
        );
        assert_eq!(country_code("Afghanistan").as_deref(), Some("AFG"));
        assert_eq!(country_code("Pakistan").as_deref(), Some("PAK"));
        assert_eq!(country_code("Russian Federation").as_deref(), Some("RUS"));
        assert_eq!(country_code("Atlantis"), None);
    }
}
