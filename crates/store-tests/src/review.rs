//! The conformance cases of review cases, claims, decisions and the audit trail.

use super::*;

pub async fn claims_and_decisions(store: DynStore) {
    let id = account(&store, "r@example.com").await;
    let app = settled(&store, id, b"card-1").await;
    let accepted = change(app, Status::AwaitingAmount, Event::AmountAccepted, t0());
    store.apply(&accepted).await.unwrap();
    let case = store
        .review_cases(CaseFilter::Open, None, t0(), None, 10)
        .await
        .unwrap()[0]
        .id;
    assert_eq!(
        store.review_case_of(app).await.unwrap().map(|c| c.id),
        Some(case)
    );
    assert_eq!(store.review_case_of(Uuid::new_v4()).await.unwrap(), None);
    let (rita, rob) = (Uuid::new_v4(), Uuid::new_v4());
    let until = t0() + TimeDelta::minutes(30);
    let (x, y) = tokio::join!(
        store.claim_case(case, rita, t0(), until),
        store.claim_case(case, rob, t0(), until)
    );
    let mut outcomes = [x.unwrap(), y.unwrap()];
    outcomes.sort_by_key(|o| format!("{o:?}"));
    assert_eq!(outcomes, [CaseWrite::Done, CaseWrite::HeldByAnother]);
    let holder = store
        .review_case(case)
        .await
        .unwrap()
        .unwrap()
        .claimed_by
        .unwrap();
    let other = if holder == rita { rob } else { rita };
    assert_eq!(
        store
            .review_cases(CaseFilter::Claimed, None, t0(), None, 10)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(
        store
            .review_cases(CaseFilter::Open, None, t0(), None, 10)
            .await
            .unwrap()
            .is_empty()
    );

    let approve = change(
        app,
        Status::UnderReview,
        Event::Approve,
        t0() + TimeDelta::minutes(1),
    );
    let audit = AuditEntry {
        id: Uuid::new_v4(),
        at: approve.at,
        actor: other,
        action: "decide".into(),
        application_id: Some(app),
        detail: "{}".into(),
    };
    assert_eq!(
        store
            .decide_case(case, other, &approve, &audit)
            .await
            .unwrap(),
        CaseWrite::HeldByAnother
    );
    // The claim lapses; the other reviewer takes it and decides.
    let later = t0() + TimeDelta::minutes(31);
    assert_eq!(
        store
            .review_cases(CaseFilter::Open, None, later, None, 10)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        store
            .claim_case(case, other, later, later + TimeDelta::minutes(30))
            .await
            .unwrap(),
        CaseWrite::Done
    );
    let approve = change(app, Status::UnderReview, Event::Approve, later);
    let audit = AuditEntry { at: later, ..audit };
    assert_eq!(
        store
            .decide_case(case, other, &approve, &audit)
            .await
            .unwrap(),
        CaseWrite::Done
    );
    // The transition's effect closed the case with the decision's outcome, once.
    let decided = store.review_case(case).await.unwrap().unwrap();
    assert_eq!(decided.outcome.as_deref(), Some("approve"));
    assert!(decided.decided_at.is_some());
    assert_eq!(
        store
            .decide_case(case, other, &approve, &audit)
            .await
            .unwrap(),
        CaseWrite::Decided
    );
    assert_eq!(
        store.claim_case(case, rita, later, later).await.unwrap(),
        CaseWrite::Decided
    );
    assert_eq!(
        store
            .claim_case(Uuid::new_v4(), rita, later, later)
            .await
            .unwrap(),
        CaseWrite::NotFound
    );
    assert_eq!(
        store.application(app).await.unwrap().unwrap().status,
        Status::Verified
    );
    let decided = store
        .review_cases(CaseFilter::Decided, None, later, None, 10)
        .await
        .unwrap();
    assert_eq!(decided[0].outcome.as_deref(), Some("approve"));
    assert_eq!(store.audit_trail(Some(app), 10).await.unwrap().len(), 1);
}

pub async fn duplicate_documents_are_found_across_accounts(store: DynStore) {
    let a = account(&store, "a@example.com").await;
    let b = account(&store, "b@example.com").await;
    let c = account(&store, "c@example.com").await;
    let first = draft(&store, a, &[b"passport-1"]).await;
    let facts = |ids: Vec<Uuid>| {
        let store = store.clone();
        async move {
            let mut found = store.case_facts(&ids).await.unwrap();
            found.sort_by_key(|f| ids.iter().position(|i| *i == f.application_id));
            found
                .into_iter()
                .map(|f| (f.application_id, f.duplicate_of))
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        facts(vec![first]).await,
        [(first, None)],
        "one's own is no duplicate"
    );
    let second = draft(&store, b, &[b"passport-1", b"x"]).await;
    let other = draft(&store, c, &[b"passport-2"]).await;
    let unknown = Uuid::new_v4();
    assert_eq!(
        facts(vec![first, second, other, unknown]).await,
        [(first, Some(second)), (second, Some(first)), (other, None)],
        "both holders of a document see the other's application; an unknown id is left out"
    );
    let logins = store.logins(&[a, c, Uuid::new_v4()]).await.unwrap();
    assert_eq!(logins.len(), 2, "an unknown account is left out");
    assert_eq!(logins[&a], "a@example.com");
    assert_eq!(logins[&c], "c@example.com");
    let stored = store.case_facts(&[second]).await.unwrap();
    assert_eq!(stored[0].form.as_deref(), Some(&b"sealed form"[..]));
    assert!(store.case_facts(&[]).await.unwrap().is_empty());
}

pub async fn the_audit_trail_filters_by_application(store: DynStore) {
    let (actor, app) = (Uuid::new_v4(), Uuid::new_v4());
    for (n, target) in [(0, Some(app)), (1, None), (2, Some(app))] {
        let entry = AuditEntry {
            id: Uuid::new_v4(),
            at: t0() + TimeDelta::seconds(n),
            actor,
            action: format!("a{n}"),
            application_id: target,
            detail: "{\"slot\":\"stay_permit\"}".into(),
        };
        store.append_audit(&entry).await.unwrap();
    }
    let mine = store.audit_trail(Some(app), 10).await.unwrap();
    assert_eq!(
        mine.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
        ["a0", "a2"]
    );
    assert_eq!(store.audit_trail(None, 10).await.unwrap().len(), 3);
    assert_eq!(store.audit_trail(None, 2).await.unwrap().len(), 2);
}

pub async fn the_review_queue_pages_in_order(store: DynStore) {
    // Five cases falling due one hour apart, written out of order.
    let mut expected = Vec::new();
    for n in [3i64, 0, 4, 1, 2] {
        let who = account(&store, &format!("q{n}@example.com")).await;
        let app = settled(&store, who, &[b'q', n as u8]).await;
        let at = t0() + TimeDelta::hours(n);
        store
            .apply(&change(
                app,
                Status::AwaitingAmount,
                Event::AmountAccepted,
                at,
            ))
            .await
            .unwrap();
        expected.push((at + TimeDelta::days(2), app));
    }
    expected.sort();
    // The first three are overdue by then; overdue cases come first because they fell due
    // first.
    let now = t0() + TimeDelta::days(2) + TimeDelta::minutes(150);
    let mut seen = Vec::new();
    let mut after = None;
    for _ in 0..10 {
        let page = store
            .review_cases(CaseFilter::Open, None, now, after, 2)
            .await
            .unwrap();
        if page.is_empty() {
            break;
        }
        assert!(page.len() <= 2);
        after = page.last().map(|c| (c.due_at, c.id));
        seen.extend(page.iter().map(|c| (c.due_at, c.application_id)));
    }
    assert_eq!(seen, expected, "every case once, oldest first");
    let overdue = seen.iter().take_while(|(due, _)| *due < now).count();
    assert_eq!(overdue, 3);
}

/// The first of two approvals is kept on the case, lets its claim go and leaves the
/// application under review; the case must be as the approver read it.
pub async fn a_first_approval_waits_for_a_second_approver(store: DynStore) {
    let id = account(&store, "first@example.com").await;
    let app = settled(&store, id, b"card-first").await;
    let accepted = change(app, Status::AwaitingAmount, Event::AmountAccepted, t0());
    store.apply(&accepted).await.unwrap();
    let case = store.review_case_of(app).await.unwrap().unwrap();
    let (rita, sam) = (Uuid::new_v4(), Uuid::new_v4());
    let until = t0() + TimeDelta::minutes(30);
    store.claim_case(case.id, rita, t0(), until).await.unwrap();
    let held = store.review_case(case.id).await.unwrap().unwrap();
    let audit = |actor: Uuid| AuditEntry {
        id: Uuid::new_v4(),
        at: t0() + TimeDelta::minutes(1),
        actor,
        action: "decide".into(),
        application_id: Some(app),
        detail: "{\"step\":\"first\"}".into(),
    };
    // Not held by sam, and not as rita read it before her claim.
    assert_eq!(
        store.first_approval(&held, sam, &audit(sam)).await.unwrap(),
        CaseWrite::HeldByAnother
    );
    assert_eq!(
        store
            .first_approval(&case, rita, &audit(rita))
            .await
            .unwrap(),
        CaseWrite::HeldByAnother
    );
    assert_eq!(
        store
            .first_approval(&held, rita, &audit(rita))
            .await
            .unwrap(),
        CaseWrite::Done
    );
    let after = store.review_case(case.id).await.unwrap().unwrap();
    let first = after.first.clone().unwrap();
    assert_eq!((first.by, first.outcome.as_str()), (rita, "approve"));
    assert_eq!((after.claimed_by, after.decided_at), (None, None));
    assert_eq!(
        store.application(app).await.unwrap().unwrap().status,
        Status::UnderReview
    );
    let trail = store.audit_trail(Some(app), 10).await.unwrap();
    assert_eq!(trail.iter().filter(|e| e.action == "decide").count(), 1);
    // A second first approval is refused.
    store.claim_case(case.id, sam, t0(), until).await.unwrap();
    let again = store.review_case(case.id).await.unwrap().unwrap();
    assert_eq!(
        store
            .first_approval(&again, sam, &audit(sam))
            .await
            .unwrap(),
        CaseWrite::HeldByAnother
    );
}

/// Every grading is kept; the latest of each application is its grade.
pub async fn risk_grades_are_kept_and_the_latest_is_read(store: DynStore) {
    use realname_core::risk::{Factor, Grade};
    let id = account(&store, "graded@example.com").await;
    let app = draft(&store, id, &[b"doc-graded"]).await;
    let other = draft(
        &store,
        account(&store, "ungraded@example.com").await,
        &[b"doc-u"],
    )
    .await;
    let grade = |grade: Grade, factors: Vec<(Factor, u32)>, minutes: i64| RiskGradeRecord {
        id: Uuid::new_v4(),
        application_id: app,
        grade,
        score: factors.iter().map(|(_, p)| p).sum(),
        factors,
        policy_version: "2026-02-13".into(),
        graded_at: t0() + TimeDelta::minutes(minutes),
        next_review_at: (grade == Grade::High).then(|| t0() + TimeDelta::days(182)),
    };
    let medium = grade(
        Grade::Medium,
        vec![(Factor::FatfIncreasedMonitoring, 25)],
        1,
    );
    let high = grade(
        Grade::High,
        vec![(Factor::Pep, 50), (Factor::ProofOfStay, 5)],
        2,
    );
    store.record_grade(&high, false).await.unwrap();
    store.record_grade(&medium, false).await.unwrap();
    assert_eq!(store.grades_of(&[app, other]).await.unwrap(), [high]);
    assert!(store.grades_of(&[]).await.unwrap().is_empty());
}

/// A verified customer never graded is found until graded; its review falls due when its
/// grade says, once.
pub async fn ungraded_customers_and_reviews_due_are_found(store: DynStore) {
    use realname_core::risk::Grade;
    let id = account(&store, "old@example.com").await;
    let app = settled(&store, id, b"card-old").await;
    for (from, event) in [
        (Status::AwaitingAmount, Event::AmountAccepted),
        (Status::UnderReview, Event::Approve),
    ] {
        store.apply(&change(app, from, event, t0())).await.unwrap();
    }
    assert_eq!(store.ungraded(10).await.unwrap(), [app]);
    let review_at = t0() + TimeDelta::days(182);
    let grade = RiskGradeRecord {
        id: Uuid::new_v4(),
        application_id: app,
        grade: Grade::High,
        score: 60,
        factors: vec![(realname_core::risk::Factor::FatfCallForAction, 60)],
        policy_version: "2026-02-13".into(),
        graded_at: t0(),
        next_review_at: Some(review_at),
    };
    store.record_grade(&grade, false).await.unwrap();
    assert!(store.ungraded(10).await.unwrap().is_empty());
    assert!(
        store
            .reviews_due(review_at - TimeDelta::seconds(1), 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.reviews_due(review_at, 10).await.unwrap(), [app]);
    let due = review_at + TimeDelta::days(2);
    assert!(
        store
            .open_periodic(Uuid::new_v4(), app, review_at, due)
            .await
            .unwrap()
    );
    assert!(
        !store
            .open_periodic(Uuid::new_v4(), app, review_at, due)
            .await
            .unwrap()
    );
    assert!(store.reviews_due(review_at, 10).await.unwrap().is_empty());
    let open = store
        .review_cases(
            CaseFilter::Open,
            Some(CaseKind::Periodic),
            review_at,
            None,
            10,
        )
        .await
        .unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].application_id, app);
}
