//! The matcher judged on the labelled set (tests/labelled/, made by
//! scripts/screening-labelled-set): listed persons as applicants type them must be found as
//! their entry, ordinary applicants must not be flagged. Prints the figures; run with
//! `cargo test --release -p realname-screening --test labelled -- --nocapture`.

use std::time::Instant;

use realname_screening::{Index, ListFile, Source, Subject, THRESHOLD, parse};
use serde::Deserialize;

#[derive(Deserialize)]
struct Labelled {
    name: String,
    dob: String,
    nationality: Option<String>,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    entry_id: Option<String>,
    #[serde(default)]
    how: Option<String>,
    #[serde(default)]
    kind: Option<String>,
}

fn read(path: &str) -> Vec<u8> {
    std::fs::read(format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap_or_default()
}

fn set(name: &str) -> Result<Vec<Labelled>, serde_json::Error> {
    String::from_utf8(read(&format!("tests/labelled/{name}")))
        .unwrap_or_default()
        .lines()
        .map(serde_json::from_str)
        .collect()
}

fn subject(l: &Labelled) -> Subject {
    Subject {
        names: vec![l.name.clone()],
        date_of_birth: l.dob.parse().ok(),
        nationality: l.nationality.clone(),
        documents: vec![],
    }
}

#[test]
fn listed_persons_are_found_and_ordinary_applicants_are_not() {
    let un = read("lists/un-consolidated-2026-02-27.xml");
    let (sdn, alt) = (read("lists/ofac-sdn.csv"), read("lists/ofac-alt.csv"));
    let un = parse(
        &Source::Un,
        &[ListFile {
            name: "un",
            bytes: &un,
        }],
    )
    .unwrap();
    let ofac = parse(
        &Source::Ofac,
        &[
            ListFile {
                name: "sdn",
                bytes: &sdn,
            },
            ListFile {
                name: "alt",
                bytes: &alt,
            },
        ],
    )
    .unwrap();
    let started = Instant::now();
    let index = Index::build([
        (&un.source, &un.entries[..]),
        (&ofac.source, &ofac.entries[..]),
    ]);
    let built = started.elapsed();

    let listed = set("listed.jsonl").unwrap();
    let ordinary = set("ordinary.jsonl").unwrap();
    assert!(listed.len() > 3000 && ordinary.len() > 3000);
    let started = Instant::now();
    let mut missed = Vec::new();
    for l in &listed {
        let source = Source::parse(l.source.as_deref().unwrap_or_default()).unwrap();
        let hits = index.screen(&subject(l), THRESHOLD);
        let found = hits
            .iter()
            .any(|h| h.source == source && Some(&h.entry_id) == l.entry_id.as_ref());
        if !found {
            let best = index
                .screen(&subject(l), 0.0)
                .into_iter()
                .find(|h| Some(&h.entry_id) == l.entry_id.as_ref());
            missed.push((l, best.map(|h| (h.score, h.matched_name))));
        }
    }
    let listed_ms = started.elapsed().as_secs_f64() * 1000.0 / listed.len() as f64;
    let ordinary_started = Instant::now();
    let mut flagged = Vec::new();
    for l in &ordinary {
        if let Some(h) = index.screen(&subject(l), THRESHOLD).into_iter().next() {
            flagged.push((l, h));
        }
    }
    let ordinary_ms = ordinary_started.elapsed().as_secs_f64() * 1000.0 / ordinary.len() as f64;
    let queries = listed.len() + ordinary.len();
    let per_query = started.elapsed().as_secs_f64() * 1000.0 / queries as f64;
    let recall = 1.0 - missed.len() as f64 / listed.len() as f64;
    let false_positives = flagged.len() as f64 / ordinary.len() as f64;
    eprintln!(
        "labelled set: {} listed, {} ordinary; index of {} persons built in {:.0} ms",
        listed.len(),
        ordinary.len(),
        index.persons(),
        built.as_secs_f64() * 1000.0
    );
    eprintln!(
        "threshold {THRESHOLD}: recall {:.2} % ({} missed), false positives {:.2} % ({}), {per_query:.3} ms a query ({listed_ms:.3} listed, {ordinary_ms:.3} ordinary)",
        recall * 100.0,
        missed.len(),
        false_positives * 100.0,
        flagged.len()
    );
    for (l, best) in missed.iter().take(40) {
        eprintln!(
            "  missed [{}] {:?} as {:?}: {:?}",
            l.how.as_deref().unwrap_or(""),
            l.name,
            l.entry_id,
            best
        );
    }
    for (l, h) in flagged.iter().take(40) {
        eprintln!(
            "  flagged [{}] {:?} {} {}: {} {:?} {:?}",
            l.kind.as_deref().unwrap_or(""),
            l.name,
            l.dob,
            l.nationality.as_deref().unwrap_or("-"),
            h.score,
            h.matched_name,
            h.matched
        );
    }
    assert!(recall >= 0.98, "recall {recall}");
    assert!(false_positives <= 0.01, "false positives {false_positives}");
}
