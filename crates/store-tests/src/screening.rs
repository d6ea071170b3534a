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

/// A held submit, as the app writes it: the run, the subject's standing, its case and event.
fn held_submit(app: Uuid, account: Uuid, card: &[u8], documents: &[&[u8]]) -> SubmitCommand {
    let mut command = submit_command(app, account, card, documents, t0());
    command.transition = transition(Status::Draft, &Event::SubmitHeld, &moment(app, t0())).unwrap();
    command.screening = Some(NewScreening {
        run: ScreeningRun {
            id: Uuid::new_v4(),
            application_id: app,
            at: t0(),
            trigger: "submit".into(),
            list_versions: r#"[{"source":"un","version":"v1"}]"#.into(),
            status: ScreeningStatus::PotentialMatch,
            hits: "[]".into(),
        },
        held: true,
        flagged: false,
        case: Some((Uuid::new_v4(), t0() + TimeDelta::days(2))),
        livemode: false,
    });
    command
}

pub async fn a_held_submit_opens_a_screening_case_that_two_decide(store: DynStore) {
    let account = account(&store, "held@example.com").await;
    let app = draft(&store, account, &[b"doc-held"]).await;
    let command = held_submit(app, account, b"card-held", &[b"doc-held"]);
    assert_eq!(
        store.submit(&command).await.unwrap(),
        SubmitOutcome::Submitted
    );
    let subject = store.screening_of(&[app, Uuid::new_v4()]).await.unwrap();
    assert_eq!(subject.len(), 1);
    assert_eq!(
        (subject[0].status, subject[0].held),
        (ScreeningStatus::PotentialMatch, true)
    );
    let runs = store.screening_runs(app).await.unwrap();
    assert_eq!(runs, [command.screening.clone().unwrap().run]);
    // No payout job: the hold keeps it back.
    let jobs = store
        .claim_jobs(t0() + TimeDelta::days(1), 60, 10)
        .await
        .unwrap();
    assert!(
        jobs.iter().all(|j| j.application_id != Some(app)),
        "{jobs:?}"
    );

    let open = store
        .review_cases(CaseFilter::Open, Some(CaseKind::Screening), t0(), None, 10)
        .await
        .unwrap();
    assert_eq!(open.len(), 1);
    let case = open[0].clone();
    assert_eq!(
        (case.kind, case.run_id),
        (CaseKind::Screening, Some(runs[0].id))
    );
    assert!(
        store
            .review_cases(
                CaseFilter::Open,
                Some(CaseKind::Application),
                t0(),
                None,
                10
            )
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store.review_case_of(app).await.unwrap(),
        None,
        "no application case yet"
    );

    let (rita, sam) = (Uuid::new_v4(), Uuid::new_v4());
    let until = t0() + TimeDelta::minutes(30);
    assert_eq!(
        store.claim_case(case.id, rita, t0(), until).await.unwrap(),
        CaseWrite::Done
    );
    let claimed = store.review_case(case.id).await.unwrap().unwrap();
    let audit = |actor: Uuid| AuditEntry {
        id: Uuid::new_v4(),
        at: t0(),
        actor,
        action: "screening_decision".into(),
        application_id: Some(app),
        detail: "{}".into(),
    };
    let first = ScreeningDecision {
        case: claimed.clone(),
        reviewer: rita,
        at: t0(),
        step: ScreeningStep::First {
            outcome: "confirm".into(),
            report_reference: Some("STR-1".into()),
        },
        audit: audit(rita),
    };
    // Only while the case is as it was read, and held by its decider.
    let stale = ScreeningDecision {
        case: case.clone(),
        ..first.clone()
    };
    assert_eq!(
        store.decide_screening(&stale).await.unwrap(),
        CaseWrite::HeldByAnother
    );
    assert_eq!(
        store.decide_screening(&first).await.unwrap(),
        CaseWrite::Done
    );
    let waiting = store
        .review_cases(CaseFilter::AwaitingSecondApproval, None, t0(), None, 10)
        .await
        .unwrap();
    assert_eq!(waiting.len(), 1);
    let first_decision = waiting[0].first.clone().unwrap();
    assert_eq!(
        (first_decision.by, first_decision.outcome.as_str()),
        (rita, "confirm")
    );
    assert_eq!(waiting[0].claimed_by, None);

    assert_eq!(
        store.claim_case(case.id, sam, t0(), until).await.unwrap(),
        CaseWrite::Done
    );
    let claimed = store.review_case(case.id).await.unwrap().unwrap();
    let fail = transition(
        Status::DepositPending,
        &Event::ScreeningConfirmed,
        &moment(app, t0()),
    )
    .unwrap();
    let second = ScreeningDecision {
        case: claimed,
        reviewer: sam,
        at: t0(),
        step: ScreeningStep::Confirm {
            report_reference: None,
            change: Some(StateChange::new(app, Status::DepositPending, fail, t0())),
            list_versions: r#"[{"source":"un","version":"v1"}]"#.into(),
            livemode: false,
        },
        audit: audit(sam),
    };
    assert_eq!(
        store.decide_screening(&second).await.unwrap(),
        CaseWrite::Done
    );
    let decided = store.review_case(case.id).await.unwrap().unwrap();
    assert_eq!(decided.outcome.as_deref(), Some("confirm"));
    assert_eq!(decided.report_reference.as_deref(), Some("STR-1"));
    assert_eq!(
        store.decide_screening(&second).await.unwrap(),
        CaseWrite::Decided
    );
    let record = store.application(app).await.unwrap().unwrap();
    assert_eq!(record.status, Status::Failed);
    let subject = store.screening_of(&[app]).await.unwrap();
    assert_eq!(
        (subject[0].status, subject[0].held),
        (ScreeningStatus::Confirmed, true)
    );
    let events = store
        .events(&EventQuery {
            since: t0() - TimeDelta::days(1),
            event_type: None,
            application_id: Some(app),
            before: None,
            limit: 20,
            livemode: false,
        })
        .await
        .unwrap();
    let types: Vec<EventType> = events.iter().map(|e| e.event_type).collect();
    assert!(
        types.contains(&EventType::ScreeningPotentialMatch),
        "{types:?}"
    );
    assert!(types.contains(&EventType::ScreeningConfirmed), "{types:?}");
    assert!(types.contains(&EventType::Failed), "{types:?}");
    let confirmed = events
        .iter()
        .find(|e| e.event_type == EventType::ScreeningConfirmed)
        .unwrap();
    assert_eq!(
        confirmed.list_versions.as_deref(),
        Some(r#"[{"source":"un","version":"v1"}]"#)
    );
    // The sequence counts every event of the application, screening ones too.
    let mut sequences: Vec<u32> = events.iter().map(|e| e.sequence).collect();
    sequences.sort_unstable();
    sequences.dedup();
    assert_eq!(sequences.len(), events.len());
}

pub async fn a_dismissal_releases_the_payout_and_is_remembered(store: DynStore) {
    let account = account(&store, "dismissed@example.com").await;
    let app = draft(&store, account, &[b"doc-dismissed"]).await;
    store
        .submit(&held_submit(
            app,
            account,
            b"card-dismissed",
            &[b"doc-dismissed"],
        ))
        .await
        .unwrap();
    let case = store
        .review_cases(CaseFilter::Open, Some(CaseKind::Screening), t0(), None, 10)
        .await
        .unwrap()[0]
        .clone();
    let rita = Uuid::new_v4();
    store
        .claim_case(case.id, rita, t0(), t0() + TimeDelta::minutes(30))
        .await
        .unwrap();
    let claimed = store.review_case(case.id).await.unwrap().unwrap();
    let release = transition(
        Status::DepositPending,
        &Event::ScreeningReleased,
        &moment(app, t0()),
    )
    .unwrap();
    let decision = ScreeningDecision {
        case: claimed,
        reviewer: rita,
        at: t0(),
        step: ScreeningStep::Dismiss {
            identity_hash: b"identity".to_vec(),
            entries: vec![("un".into(), "6908045".into(), "abc".into())],
            change: Some(StateChange::new(app, Status::DepositPending, release, t0())),
            list_versions: "[]".into(),
            livemode: false,
        },
        audit: AuditEntry {
            id: Uuid::new_v4(),
            at: t0(),
            actor: rita,
            action: "screening_decision".into(),
            application_id: Some(app),
            detail: "{}".into(),
        },
    };
    assert_eq!(
        store.decide_screening(&decision).await.unwrap(),
        CaseWrite::Done
    );
    let subject = store.screening_of(&[app]).await.unwrap();
    assert_eq!(
        (subject[0].status, subject[0].held),
        (ScreeningStatus::Dismissed, false)
    );
    assert_eq!(
        store.dismissals(b"identity").await.unwrap(),
        [("un".to_owned(), "6908045".to_owned(), "abc".to_owned())]
    );
    assert!(store.dismissals(b"another").await.unwrap().is_empty());
    let jobs = store
        .claim_jobs(t0() + TimeDelta::days(1), 60, 10)
        .await
        .unwrap();
    assert!(
        jobs.iter()
            .any(|j| j.application_id == Some(app) && j.kind == JobKind::PayDeposit),
        "the payout is released: {jobs:?}"
    );
}
