//! The conformance cases of the sandbox's ledger and clock, and the store's mode.

use super::*;

pub async fn the_sandbox_ledger_and_clock(store: DynStore) {
    assert_eq!(store.sandbox_offset().await.unwrap(), 0);
    assert_eq!(
        store.advance_sandbox_clock(60, 100).await.unwrap(),
        Some(60)
    );
    assert_eq!(
        store.advance_sandbox_clock(40, 100).await.unwrap(),
        Some(100)
    );
    assert_eq!(
        store.advance_sandbox_clock(1, 100).await.unwrap(),
        None,
        "never past the bound"
    );
    assert_eq!(store.sandbox_offset().await.unwrap(), 100);
    let payout = |e2e: &str, settle: i64, reason: Option<&str>| SandboxPayout {
        end_to_end_id: e2e.into(),
        card_hash: b"card".to_vec(),
        amount_fen: 37,
        memo: "memo".into(),
        paid_at: t0(),
        settle_at: t0() + TimeDelta::seconds(settle),
        return_reason: reason.map(Into::into),
    };
    store.pay(&payout("RN1", 0, None)).await.unwrap();
    store.pay(&payout("RN1", 999, None)).await.unwrap();
    store.pay(&payout("RN2", 10, Some("AC04"))).await.unwrap();
    store.pay(&payout("RN3", 100, None)).await.unwrap();
    let lines = store
        .statement(b"card", t0() + TimeDelta::seconds(50))
        .await
        .unwrap();
    assert_eq!(
        lines.len(),
        1,
        "returned and future payouts are not on the statement"
    );
    assert_eq!((lines[0].amount_fen, lines[0].at), (37, t0()));
    let due = store.due(t0() + TimeDelta::seconds(50)).await.unwrap();
    assert_eq!(
        due.iter()
            .map(|p| p.end_to_end_id.as_str())
            .collect::<Vec<_>>(),
        ["RN1", "RN2"]
    );
    store
        .acknowledge(&["RN1".into(), "RN2".into()])
        .await
        .unwrap();
    assert!(
        store
            .due(t0() + TimeDelta::seconds(50))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .due(t0() + TimeDelta::seconds(100))
            .await
            .unwrap()
            .len(),
        1
    );
}

pub async fn a_store_tells_its_mode_and_keeps_the_first_written(store: DynStore) {
    use realname_core::platform::ModeFacts;
    let facts = |written, holds_data, sandbox_traces| ModeFacts {
        written,
        holds_data,
        sandbox_traces,
    };
    assert_eq!(
        store.mode_facts().await.unwrap(),
        facts(None, false, false),
        "a new store"
    );
    // A staff account is the operator's, not data of either mode.
    store
        .create_account(&Account {
            id: Uuid::new_v4(),
            login: "rita".into(),
            password_hash: "$argon2id$x".into(),
            role: Role::Reviewer,
            created_at: t0(),
        })
        .await
        .unwrap();
    assert_eq!(store.mode_facts().await.unwrap(), facts(None, false, false));
    let anna = account(&store, "anna@example.com").await;
    assert_eq!(store.mode_facts().await.unwrap(), facts(None, true, false));
    // A moved sandbox clock is a trace of the sandbox; so are a test key and a test-mode
    // event, which every application made under the sandbox rail has at once.
    store.advance_sandbox_clock(60, 100).await.unwrap();
    assert_eq!(store.mode_facts().await.unwrap(), facts(None, true, true));
    store.advance_sandbox_clock(-60, 100).await.unwrap();
    assert!(!store.mode_facts().await.unwrap().sandbox_traces);
    draft(&store, anna, &[]).await;
    assert!(store.mode_facts().await.unwrap().sandbox_traces);

    // The first write wins; a second node that saw nothing learns the mode it lost to.
    let live = Some(KeyMode::Live);
    assert_eq!(
        store.write_mode(KeyMode::Test, None, t0()).await.unwrap(),
        Some(KeyMode::Test)
    );
    assert_eq!(
        store.write_mode(KeyMode::Live, None, t0()).await.unwrap(),
        Some(KeyMode::Test)
    );
    assert_eq!(
        store.mode_facts().await.unwrap().written,
        Some(KeyMode::Test)
    );
    // Replacing needs the mode the caller saw.
    assert_eq!(
        store.write_mode(KeyMode::Live, live, t0()).await.unwrap(),
        Some(KeyMode::Test)
    );
    assert_eq!(
        store
            .write_mode(KeyMode::Live, Some(KeyMode::Test), t0())
            .await
            .unwrap(),
        live
    );
}
