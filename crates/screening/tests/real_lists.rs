//! The lists as published parse whole, with the counts their publishers give.

use realname_screening::{EntryKind, ListFile, Source, parse};

fn read(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/lists/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap_or_default()
}

#[test]
fn the_un_list_of_2026_02_27() {
    let bytes = read("un-consolidated-2026-02-27.xml");
    let v = parse(
        &Source::Un,
        &[ListFile {
            name: "un.xml",
            bytes: &bytes,
        }],
    )
    .unwrap();
    let persons = v
        .entries
        .iter()
        .filter(|e| e.kind == EntryKind::Person)
        .count();
    assert_eq!((persons, v.entries.len() - persons), (730, 273));
    let with_nationality = v
        .entries
        .iter()
        .filter(|e| e.kind == EntryKind::Person && !e.nationalities.is_empty())
        .count();
    let with_birth = v.entries.iter().filter(|e| !e.births.is_empty()).count();
    eprintln!(
        "un: {persons} persons, {with_nationality} with a nationality read, {with_birth} with a date of birth"
    );
    assert!(with_nationality > 600, "{with_nationality}");
    let again = parse(
        &Source::Un,
        &[ListFile {
            name: "other-name.xml",
            bytes: &bytes,
        }],
    )
    .unwrap();
    assert_eq!(again.version, v.version);
}

#[test]
fn ofac_s_sdn_data_set() {
    let (sdn, alt, add) = (
        read("ofac-sdn.csv"),
        read("ofac-alt.csv"),
        read("ofac-add.csv"),
    );
    let files = [
        ListFile {
            name: "1.csv",
            bytes: &add,
        },
        ListFile {
            name: "2.csv",
            bytes: &sdn,
        },
        ListFile {
            name: "3.csv",
            bytes: &alt,
        },
    ];
    let v = parse(&Source::Ofac, &files).unwrap();
    let persons: Vec<_> = v
        .entries
        .iter()
        .filter(|e| e.kind == EntryKind::Person)
        .collect();
    assert_eq!(persons.len(), 4620);
    let aliases: usize = v.entries.iter().map(|e| e.names.len() - 1).sum();
    assert_eq!(aliases, 11_910);
    let born = persons.iter().filter(|e| !e.births.is_empty()).count();
    let documents = persons.iter().filter(|e| !e.documents.is_empty()).count();
    eprintln!(
        "ofac: {} persons, {born} with a date of birth, {documents} with a document",
        persons.len()
    );
    let reordered = [
        ListFile {
            name: "alt.csv",
            bytes: &alt,
        },
        ListFile {
            name: "sdn.csv",
            bytes: &sdn,
        },
        ListFile {
            name: "add.csv",
            bytes: &add,
        },
    ];
    let reordered = parse(&Source::Ofac, &reordered);
    assert_eq!(reordered.map(|r| r.version).ok(), Some(v.version));
}
