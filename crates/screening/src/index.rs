//! The matcher: every listed person's names folded once into an index, and an identity scored
//! against the few names that share a word with it.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};

use rustc_hash::{FxHashMap, FxHasher};

use chrono::{Datelike, NaiveDate};

use crate::fold::{PARTICLES, fold, skeleton, spelling};
use crate::{Entry, EntryKind, ListedBirth, Source};

/// Who is screened: the names on the form (and other spellings of them), the date of birth,
/// the nationality and the document numbers.
#[derive(Clone, Debug, Default)]
pub struct Subject {
    pub names: Vec<String>,
    pub date_of_birth: Option<NaiveDate>,
    /// ISO 3166-1 alpha-3.
    pub nationality: Option<String>,
    /// Document numbers with the country that issued each, when known.
    pub documents: Vec<(String, Option<String>)>,
}

/// A listed person an identity may be: the entry, the score from 0 to 1, and the features
/// that matched (`name`, `date_of_birth`, `year_of_birth`, `nationality`, `document`).
#[derive(Clone, Debug, PartialEq)]
pub struct Hit {
    pub source: Source,
    pub entry_id: String,
    /// The entry's own version ([`Entry::digest`]), so a dismissal is remembered for it.
    pub entry_version: String,
    pub score: f64,
    pub names: Vec<String>,
    /// The listed name the identity's name came closest to.
    pub matched_name: Option<String>,
    pub matched: Vec<&'static str>,
}

#[derive(Clone, Debug)]
struct Token {
    spelling: String,
    skeleton: String,
    weight: f32,
    /// The spelling's number among listed words (`u32::MAX` for a word no list has), so a
    /// query compares itself with each listed word once however many names share it.
    id: u32,
}

struct Name {
    entry: u32,
    /// Which of the entry's names (an index into `Entry::names`).
    which: u16,
    tokens: Vec<Token>,
}

struct Listed {
    source: Source,
    entry: Entry,
    version: String,
}

/// Every person of the loaded versions, folded, with a map from word keys to names and one
/// from document numbers to entries. Built once per change of any version, then only read.
pub struct Index {
    listed: Vec<Listed>,
    names: Vec<Name>,
    keys: FxHashMap<u64, Vec<u32>>,
    documents: HashMap<String, Vec<(u32, Option<String>)>>,
    /// How often each spelling occurs across listed names: rare words weigh more.
    frequency: HashMap<String, u32>,
    words: HashMap<String, u32>,
    name_count: u32,
    entities: usize,
    /// Every entry of the versions, persons and entities, by source and id.
    ids: std::collections::HashSet<(Source, String)>,
}

/// At or above it a hit is a potential match: calibrated on the labelled set
/// (tests/labelled.rs), where it finds at least 98 % of listed persons and flags at most 1 % of
/// ordinary applicants.
pub const THRESHOLD: f64 = 0.85;

/// A score this far under the floor cannot reach it by date of birth and nationality.
const BEST_BONUS: f64 = 0.12;

impl Index {
    /// Builds the index of the given versions' persons; entities are counted, not indexed.
    pub fn build<'a>(versions: impl IntoIterator<Item = (&'a Source, &'a [Entry])>) -> Index {
        let mut index = Index {
            listed: Vec::new(),
            names: Vec::new(),
            keys: FxHashMap::default(),
            documents: HashMap::new(),
            frequency: HashMap::new(),
            words: HashMap::new(),
            name_count: 0,
            entities: 0,
            ids: std::collections::HashSet::new(),
        };
        let mut folded_names = Vec::new();
        for (source, entries) in versions {
            for entry in entries {
                index.ids.insert((source.clone(), entry.id.clone()));
                if entry.kind != EntryKind::Person {
                    index.entities += 1;
                    continue;
                }
                let at = index.listed.len() as u32;
                for (which, name) in entry.names.iter().enumerate().take(u16::MAX as usize) {
                    let tokens: Vec<String> =
                        fold(name).tokens.iter().map(|t| spelling(t)).collect();
                    if tokens.is_empty() {
                        continue;
                    }
                    let mut seen: Vec<&String> = Vec::new();
                    for t in &tokens {
                        if !seen.contains(&t) {
                            *index.frequency.entry(t.clone()).or_default() += 1;
                            seen.push(t);
                        }
                        let next = index.words.len() as u32;
                        index.words.entry(t.clone()).or_insert(next);
                    }
                    folded_names.push((at, which as u16, tokens));
                }
                for doc in &entry.documents {
                    let number = document_key(&doc.number);
                    if number.len() >= 5 {
                        index
                            .documents
                            .entry(number)
                            .or_default()
                            .push((at, doc.country.clone()));
                    }
                }
                index.listed.push(Listed {
                    source: source.clone(),
                    version: entry.digest(),
                    entry: entry.clone(),
                });
            }
        }
        index.name_count = folded_names.len() as u32;
        for (entry, which, spellings) in folded_names {
            let id = index.names.len() as u32;
            let tokens: Vec<Token> = spellings.iter().map(|s| index.token(s)).collect();
            for (key, _) in keys(&tokens) {
                let list = index.keys.entry(key).or_default();
                if list.last() != Some(&id) {
                    list.push(id);
                }
            }
            index.names.push(Name {
                entry,
                which,
                tokens,
            });
        }
        index
    }

    /// Persons indexed.
    pub fn persons(&self) -> usize {
        self.listed.len()
    }

    /// Whether the versions hold this entry still (a confirmed match's entry that a new
    /// version no longer holds was delisted).
    pub fn contains(&self, source: &Source, entry_id: &str) -> bool {
        self.ids.contains(&(source.clone(), entry_id.to_owned()))
    }

    /// Entities kept but never matched.
    pub fn entities(&self) -> usize {
        self.entities
    }

    fn token(&self, spelling: &str) -> Token {
        let weight = if PARTICLES.contains(&spelling) {
            0.15
        } else {
            let n = f64::from(self.name_count.max(1)) + 1.0;
            let df = f64::from(self.frequency.get(spelling).copied().unwrap_or(0)) + 1.0;
            (0.3 + 0.7 * ((n / df).ln() / n.ln()).clamp(0.0, 1.0)) as f32
        };
        let id = self.words.get(spelling).copied().unwrap_or(u32::MAX);
        Token {
            spelling: spelling.to_owned(),
            skeleton: skeleton(spelling),
            weight,
            id,
        }
    }

    /// Every listed person the subject scores at least `floor` against, highest first, one hit
    /// per entry.
    pub fn screen(&self, subject: &Subject, floor: f64) -> Vec<Hit> {
        let queries: Vec<Vec<Token>> = subject
            .names
            .iter()
            .map(|n| {
                fold(n)
                    .tokens
                    .iter()
                    .map(|t| self.token(&spelling(t)))
                    .collect::<Vec<_>>()
            })
            .filter(|t: &Vec<Token>| !t.is_empty())
            .collect();
        // (best name score, which name) per entry.
        let mut best: FxHashMap<u32, (f64, u16)> = FxHashMap::default();
        let mut shared: FxHashMap<u32, u64> = FxHashMap::default();
        let mut alike: FxHashMap<(usize, u32), f64> = FxHashMap::default();
        for query in &queries {
            shared.clear();
            alike.clear();
            for (key, words) in keys(query) {
                let Some(ids) = self.keys.get(&key) else {
                    continue;
                };
                for &id in ids {
                    *shared.entry(id).or_default() |= words;
                }
            }
            // A name that shares only one word with a name of several is not looked at.
            let need = substantive(query).clamp(1, 2);
            for (&id, words) in &shared {
                if words.count_ones() < need {
                    continue;
                }
                let name = &self.names[id as usize];
                let score = name_score(query, &name.tokens, &mut alike);
                if score + BEST_BONUS < floor {
                    continue;
                }
                let slot = best.entry(name.entry).or_insert((0.0, name.which));
                if score > slot.0 {
                    *slot = (score, name.which);
                }
            }
        }
        let mut documents: HashMap<u32, ()> = HashMap::new();
        for (number, country) in &subject.documents {
            let Some(listed) = self.documents.get(&document_key(number)) else {
                continue;
            };
            for (entry, listed_country) in listed {
                let same_country = match (country, listed_country) {
                    (Some(a), Some(b)) => a == b,
                    _ => true,
                };
                if same_country {
                    documents.insert(*entry, ());
                    best.entry(*entry).or_insert((0.0, u16::MAX));
                }
            }
        }
        let mut hits: Vec<Hit> = best
            .into_iter()
            .filter_map(|(at, (name, which))| {
                let listed = &self.listed[at as usize];
                let mut matched = Vec::new();
                if name > 0.0 {
                    matched.push("name");
                }
                let mut score = name + birth(subject, &listed.entry, &mut matched);
                score += nationality(subject, &listed.entry, &mut matched);
                if documents.contains_key(&at) {
                    matched.push("document");
                    score = 1.0;
                }
                let score = (score.clamp(0.0, 1.0) * 1000.0).round() / 1000.0;
                (score >= floor).then(|| Hit {
                    source: listed.source.clone(),
                    entry_id: listed.entry.id.clone(),
                    entry_version: listed.version.clone(),
                    score,
                    names: listed.entry.names.clone(),
                    matched_name: listed.entry.names.get(which as usize).cloned(),
                    matched,
                })
            })
            .collect();
        hits.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| a.entry_id.cmp(&b.entry_id))
        });
        hits
    }
}

/// The keys a name is found by, each with the words (bits by position) it stands for: each
/// word's consonant skeleton and first four letters, so one wrong letter still leaves a way
/// in, and the same for two neighbouring words written as one ("Weiming", 伟明). Particles
/// (al, bin, van…) find nothing.
fn keys(tokens: &[Token]) -> Vec<(u64, u64)> {
    let mut out = Vec::with_capacity(tokens.len() * 4);
    let word = |spelling: &str, skeleton: &str, bits: u64, out: &mut Vec<(u64, u64)>| {
        // The skeleton's letters sorted, so two consonants swapped by a typo still meet.
        let mut letters: Vec<char> = skeleton.chars().collect();
        if letters.len() >= 2 {
            letters[1..].sort_unstable();
            out.push((key(b's', letters.into_iter()), bits));
        }
        if spelling.chars().nth(1).is_some() {
            out.push((key(b'p', spelling.chars().take(4)), bits));
        }
    };
    let substantive: Vec<(usize, &Token)> = tokens
        .iter()
        .enumerate()
        .filter(|(i, t)| *i < 64 && t.weight > 0.2)
        .collect();
    for (i, t) in &substantive {
        word(&t.spelling, &t.skeleton, 1 << i, &mut out);
        // "Alzawahiri": the particle written joined to the name.
        if let Some(rest) = t.spelling.strip_prefix("al").filter(|r| r.len() >= 4) {
            word(rest, &skeleton(rest), 1 << i, &mut out);
        }
    }
    for pair in substantive.windows(2) {
        let ((i, a), (j, b)) = (pair[0], pair[1]);
        let joined = format!("{}{}", a.spelling, b.spelling);
        word(&joined, &skeleton(&joined), (1 << i) | (1 << j), &mut out);
    }
    out
}

fn key(kind: u8, chars: impl Iterator<Item = char>) -> u64 {
    let mut h = FxHasher::default();
    kind.hash(&mut h);
    for c in chars {
        c.hash(&mut h);
    }
    h.finish()
}

fn substantive(tokens: &[Token]) -> u32 {
    tokens.iter().filter(|t| t.weight > 0.2).count() as u32
}

fn document_key(number: &str) -> String {
    number
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// How alike two words are, 0 to 1: the same spelling, an initial for a name, the same
/// consonants in a long word, or Jaro-Winkler over the spellings, stretched so that only
/// near spellings count (0.95 → 0.9; under 0.84, or 0.9 for short words, nothing).
fn similarity(a: &Token, b: &Token) -> f64 {
    if a.spelling == b.spelling {
        return 1.0;
    }
    let (la, lb) = (a.spelling.len(), b.spelling.len());
    if la == 1 || lb == 1 {
        return if a.spelling.chars().next() == b.spelling.chars().next() {
            0.85
        } else {
            0.0
        };
    }
    let mut s = strsim::jaro_winkler(&a.spelling, &b.spelling);
    if a.skeleton == b.skeleton && la.min(lb) >= 5 {
        s = s.max(0.95);
    }
    // "Alzawahiri" for "Al Zawahiri" (the particle dropped, or written joined).
    for (x, y) in [(&a.spelling, &b.spelling), (&b.spelling, &a.spelling)] {
        if let Some(rest) = x.strip_prefix("al").filter(|r| r.len() >= 4) {
            s = s.max(if rest == y.as_str() {
                0.97
            } else {
                strsim::jaro_winkler(rest, y) - 0.03
            });
        }
    }
    let cut = if la.min(lb) <= 4 { 0.9 } else { 0.84 };
    if s < cut { 0.0 } else { 1.0 - 2.0 * (1.0 - s) }
}

/// How alike two names are, word order aside: words paired greedily by similarity, each
/// side's rare words weighing more; the shorter name must be covered, the longer one's
/// missing words (a middle name left out) cost little. Names written as one word on one
/// side and several on the other ("Zhang Weiming", 张伟明) are compared joined.
fn name_score(q: &[Token], e: &[Token], alike: &mut FxHashMap<(usize, u32), f64>) -> f64 {
    let mut pairs: Vec<(f64, usize, usize)> = Vec::with_capacity(q.len() * e.len());
    for (i, a) in q.iter().enumerate() {
        for (j, b) in e.iter().enumerate() {
            let s = *alike.entry((i, b.id)).or_insert_with(|| similarity(a, b));
            if s > 0.0 {
                pairs.push((s, i, j));
            }
        }
    }
    pairs.sort_by(|x, y| y.0.total_cmp(&x.0));
    let mut used_q = [false; 16];
    let mut used_e = [false; 16];
    let (mut got_q, mut got_e, mut count) = (0.0, 0.0, 0);
    for (s, i, j) in pairs {
        if i >= 16 || j >= 16 || used_q[i] || used_e[j] {
            continue;
        }
        used_q[i] = true;
        used_e[j] = true;
        got_q += s * f64::from(q[i].weight);
        got_e += s * f64::from(e[j].weight);
        count += 1;
    }
    let total_q: f64 = q.iter().map(|t| f64::from(t.weight)).sum();
    let total_e: f64 = e.iter().map(|t| f64::from(t.weight)).sum();
    let (cov_q, cov_e) = (got_q / total_q, got_e / total_e);
    let words = score_words(q, e, cov_q, cov_e, count);
    if words >= 0.96 {
        words
    } else {
        words.max(joined(q, e))
    }
}

fn score_words(q: &[Token], e: &[Token], cov_q: f64, cov_e: f64, count: usize) -> f64 {
    let substantive = |ts: &[Token]| ts.iter().filter(|t| t.weight > 0.2).count();
    let (nq, ne) = (substantive(q).max(1), substantive(e).max(1));
    if nq.min(ne) == 1 {
        return (cov_q + cov_e) / 2.0;
    }
    let (short, long) = if nq <= ne {
        (cov_q, cov_e)
    } else {
        (cov_e, cov_q)
    };
    let score = 0.6 * short + 0.4 * long;
    // One shared word of two or more is not the same name.
    if count < 2 { score * 0.7 } else { score }
}

/// The names written without spaces, the listed one turned through each word order.
fn joined(q: &[Token], e: &[Token]) -> f64 {
    if q.len() == e.len() && q.len() > 1 {
        return 0.0;
    }
    let (ql, el): (usize, usize) = (
        q.iter().map(|t| t.spelling.len()).sum(),
        e.iter().map(|t| t.spelling.len()).sum(),
    );
    if ql < 6 || ql.abs_diff(el) > 2 {
        return 0.0;
    }
    let query: String = q.iter().map(|t| t.spelling.as_str()).collect();
    let mut best: f64 = 0.0;
    for turn in 0..e.len() {
        let listed: String = e[turn..]
            .iter()
            .chain(&e[..turn])
            .map(|t| t.spelling.as_str())
            .collect();
        best = best.max(strsim::jaro_winkler(&query, &listed));
    }
    if best >= 0.96 { best } else { 0.0 }
}

fn birth(subject: &Subject, entry: &Entry, matched: &mut Vec<&'static str>) -> f64 {
    let Some(dob) = subject.date_of_birth else {
        return 0.0;
    };
    if entry.births.is_empty() {
        return 0.0;
    }
    if entry
        .births
        .iter()
        .any(|b| matches!(b, ListedBirth::Date { date } if *date == dob))
    {
        matched.push("date_of_birth");
        return 0.08;
    }
    let year = dob.year();
    if entry.births.iter().any(|b| {
        let (from, to) = b.years();
        (from..=to).contains(&year)
    }) {
        matched.push("year_of_birth");
        return 0.04;
    }
    -0.2
}

fn nationality(subject: &Subject, entry: &Entry, matched: &mut Vec<&'static str>) -> f64 {
    let Some(n) = &subject.nationality else {
        return 0.0;
    };
    if entry.nationalities.is_empty() {
        return 0.0;
    }
    if entry.nationalities.contains(n) {
        matched.push("nationality");
        0.04
    } else {
        -0.06
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ListedDocument;

    fn person(id: &str, names: &[&str], year: Option<i32>, nat: Option<&str>) -> Entry {
        Entry {
            id: id.into(),
            kind: EntryKind::Person,
            names: names.iter().map(|s| (*s).to_owned()).collect(),
            births: year
                .map(|year| ListedBirth::Year { year })
                .into_iter()
                .collect(),
            nationalities: nat.map(str::to_owned).into_iter().collect(),
            documents: vec![],
            listed_on: None,
        }
    }

    fn index(entries: &[Entry]) -> Index {
        Index::build([(&Source::Un, entries)])
    }

    fn subject(name: &str, dob: Option<&str>, nat: Option<&str>) -> Subject {
        Subject {
            names: vec![name.into()],
            date_of_birth: dob.map(|d| d.parse().unwrap_or_default()),
            nationality: nat.map(str::to_owned),
            documents: vec![],
        }
    }

    fn top(index: &Index, s: &Subject) -> f64 {
        index.screen(s, 0.0).first().map_or(0.0, |h| h.score)
    }

    fn listed() -> Vec<Entry> {
        vec![
            person("1", &["AL ZAWAHIRI, Dr. Ayman"], Some(1951), Some("EGY")),
            person("2", &["Ivan Sergeyevich PETROV"], Some(1970), Some("RUS")),
            person("3", &["ZHANG Weiming", "張偉明"], Some(1965), None),
            person("4", &["Emma Daniels"], None, None),
        ]
    }

    #[test]
    fn the_forms_people_write_a_listed_name_in_score_high() {
        let index = index(&listed());
        for (name, dob) in [
            ("Ayman al-Zawahiri", "1951-06-19"),
            ("AYMAN ALZAWAHIRI", "1951-06-19"),
            ("Aiman Zawahiri", "1951-06-19"),
            ("PETROV Ivan", "1970-01-01"),
            ("Ivan S. Petrov", "1970-01-01"),
            ("Iwan Petrow", "1970-01-01"),
            ("张伟明", "1965-03-02"),
            ("Weiming Zhang", "1965-03-02"),
            ("Zhang Wei Ming", "1965-03-02"),
        ] {
            let score = top(&index, &subject(name, Some(dob), None));
            assert!(score >= 0.85, "{name}: {score}");
        }
    }

    #[test]
    fn ordinary_names_and_other_years_score_low() {
        let index = index(&listed());
        for (name, dob) in [
            ("Emma Watson", "1990-04-15"),
            ("Ayman Haddad", "1951-01-01"),
            ("Ivan Ivanov", "1970-01-01"),
            ("Zhang Wei", "1990-01-01"),
            ("Maria Petrova Smith", "1985-01-01"),
        ] {
            let score = top(&index, &subject(name, Some(dob), None));
            assert!(score < 0.85, "{name}: {score}");
        }
        // The right name with another known year of birth counts against.
        let same = top(
            &index,
            &subject("Ivan Sergeyevich Petrov", Some("1970-05-05"), None),
        );
        let other = top(
            &index,
            &subject("Ivan Sergeyevich Petrov", Some("1992-05-05"), None),
        );
        assert!(other < same - 0.15, "{same} {other}");
    }

    #[test]
    fn an_entity_is_never_a_person() {
        let mut e = person("9", &["EMMA LLC"], None, None);
        e.kind = EntryKind::Entity;
        let index = index(&[e]);
        assert_eq!(index.persons(), 0);
        assert!(
            index
                .screen(&subject("Emma Daniels", None, None), 0.0)
                .is_empty()
        );
    }

    #[test]
    fn a_listed_passport_of_the_same_country_is_a_hit_whatever_the_name() {
        let mut e = person("5", &["Someone Else"], None, None);
        e.documents.push(ListedDocument {
            kind: "Passport".into(),
            number: "OB 0243318".into(),
            country: Some("COD".into()),
        });
        let index = index(&[e]);
        let mut s = subject("Jean Dupont", None, None);
        s.documents.push(("OB0243318".into(), Some("COD".into())));
        let hits = index.screen(&s, 0.85);
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].matched, ["document"]);
        assert!((hits[0].score - 1.0).abs() < 1e-9);
        s.documents[0].1 = Some("FRA".into());
        assert!(index.screen(&s, 0.85).is_empty());
    }

    #[test]
    fn a_hit_says_what_matched() {
        let index = index(&listed());
        let hits = index.screen(
            &subject("Ivan Petrov", Some("1970-02-02"), Some("RUS")),
            0.85,
        );
        assert_eq!(hits[0].entry_id, "2");
        assert_eq!(hits[0].matched, ["name", "year_of_birth", "nationality"]);
        assert_eq!(
            hits[0].matched_name.as_deref(),
            Some("Ivan Sergeyevich PETROV")
        );
    }
}
