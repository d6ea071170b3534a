//! The conformance cases of the screening lists.

use super::*;

fn import(source: &str, version: &str, ids: &[&str]) -> ListImport {
    ListImport {
        version: ListVersionRecord {
            source: source.into(),
            version: version.into(),
            entries: ids.len() as u32,
            imported_at: t0(),
        },
        entries: ids
            .iter()
            .map(|id| StoredEntry {
                entry_id: (*id).into(),
                data: format!("{{\"id\":\"{id}\",\"names\":[\"名字 {id}\"]}}"),
            })
            .collect(),
    }
}

pub async fn a_list_version_replaces_its_own_source_only_and_once(store: DynStore) {
    assert!(store.list_versions().await.unwrap().is_empty());
    let un = import("un", "v1", &["1", "2"]);
    assert_eq!(
        store.import_list(&un).await.unwrap(),
        Imported::New { replaced: None }
    );
    let mps = import("national:mps", "m1", &["1"]);
    store.import_list(&mps).await.unwrap();
    assert_eq!(store.import_list(&un).await.unwrap(), Imported::Unchanged);

    let un2 = import("un", "v2", &["2", "3", "4"]);
    assert_eq!(
        store.import_list(&un2).await.unwrap(),
        Imported::New {
            replaced: Some("v1".into())
        }
    );
    let versions = store.list_versions().await.unwrap();
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[1], un2.version);
    assert_eq!(versions[0], mps.version);

    let entries = store.listed_entries().await.unwrap();
    let ids: Vec<(&str, &str)> = entries
        .iter()
        .map(|(s, e)| (s.as_str(), e.entry_id.as_str()))
        .collect();
    assert_eq!(
        ids,
        [("national:mps", "1"), ("un", "2"), ("un", "3"), ("un", "4")]
    );
    assert_eq!(
        entries[1].1, un2.entries[0],
        "the data comes back as written"
    );

    // A large version goes in whole.
    let many: Vec<String> = (0..4500).map(|i| format!("e{i}")).collect();
    let refs: Vec<&str> = many.iter().map(String::as_str).collect();
    store
        .import_list(&import("ofac", "o1", &refs))
        .await
        .unwrap();
    assert_eq!(store.listed_entries().await.unwrap().len(), 4 + 4500);
}
