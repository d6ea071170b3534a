//! The conformance cases of applications, drafts, submits and status changes.

use super::*;

/// Many writes at once, half of them refused: each caller hears its own outcome, and a
/// refused write takes nothing else down with it (SQLite commits concurrent writes together).
pub async fn concurrent_writes_answer_each_their_own(store: DynStore) {
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..80 {
        let store = Arc::clone(&store);
        tasks.spawn(async move {
            let login = format!("user{}@example.com", n / 2);
            let outcome = store
                .create_account(&Account {
                    id: Uuid::new_v4(),
                    login: login.clone(),
                    password_hash: "$argon2id$x".into(),
                    role: Role::User,
                    created_at: t0(),
                })
                .await;
            (login, outcome)
        });
    }
    let mut stored = std::collections::BTreeMap::<String, u32>::new();
    while let Some(joined) = tasks.join_next().await {
        let (login, outcome) = joined.unwrap();
        match outcome {
            Ok(()) => *stored.entry(login).or_default() += 1,
            Err(e) => assert_eq!(e, StoreError::Conflict("login".into())),
        }
    }
    assert_eq!(stored.len(), 40, "every login was created once");
    assert!(stored.values().all(|&n| n == 1));
    for login in stored.keys() {
        assert!(store.account_by_login(login).await.unwrap().is_some());
    }
}

pub async fn an_account_has_one_open_application(store: DynStore) {
    let id = account(&store, "one@example.com").await;
    let app = draft(&store, id, &[]).await;
    let second = store
        .create_application(&NewApplication {
            id: Uuid::new_v4(),
            account_id: id,
            form: vec![1],
            document_hashes: vec![],
            warnings: "[]".into(),
            consent: Consent {
                at: t0(),
                version: "v1".into(),
                address: "::1".into(),
            },
            at: t0(),
            livemode: false,
        })
        .await;
    assert_eq!(
        second,
        Err(StoreError::Conflict("application_in_progress".into()))
    );
    assert_eq!(
        store
            .apply(&change(app, Status::Draft, Event::Cancel, t0()))
            .await
            .unwrap(),
        Applied::Done
    );
    let after = draft(&store, id, &[]).await;
    let list = store.applications_of(id).await.unwrap();
    assert_eq!(
        list.iter().map(|a| a.id).collect::<Vec<_>>(),
        [after, app],
        "newest first"
    );
    let stored = store.application(app).await.unwrap().unwrap();
    assert_eq!(stored.status, Status::Cancelled);
    assert_eq!(
        stored.events.iter().map(|e| e.status).collect::<Vec<_>>(),
        [Status::Draft, Status::Cancelled]
    );
    assert_eq!(stored.card.as_ref().map(|c| c.bank.as_str()), Some("ICBC"));
}

pub async fn drafts_change_only_while_draft(store: DynStore) {
    let id = account(&store, "d@example.com").await;
    let app = draft(&store, id, &[b"doc-a"]).await;
    let meta = ImageMeta {
        slot: "stay_permit".into(),
        content_type: "image/png".into(),
        bytes: 3,
        sha256: "abc".into(),
    };
    let updated = store
        .update_draft(app, b"form 2", &[b"doc-b".to_vec()], "[]", t0())
        .await
        .unwrap()
        .expect("still a draft");
    assert_eq!(
        updated,
        store.application(app).await.unwrap().unwrap(),
        "the update answers the application as stored"
    );
    assert_eq!(updated.form, b"form 2");
    assert_eq!(
        store.put_image(app, &meta, b"png", t0()).await.unwrap(),
        Applied::Done
    );
    assert_eq!(
        store.put_image(app, &meta, b"png2", t0()).await.unwrap(),
        Applied::Done,
        "a slot is replaced"
    );
    let (stored_meta, bytes) = store.image(app, "stay_permit").await.unwrap().unwrap();
    assert_eq!(
        (stored_meta.content_type.as_str(), bytes.as_slice()),
        ("image/png", &b"png2"[..])
    );
    assert!(
        store
            .image(app, "passport_photo_page")
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        store.application(app).await.unwrap().unwrap().form,
        b"form 2"
    );

    assert_eq!(
        store
            .submit(&submit_command(app, id, b"card-1", &[b"doc-b"], t0()))
            .await
            .unwrap(),
        SubmitOutcome::Submitted
    );
    assert_eq!(
        store
            .update_draft(app, b"form 3", &[], "[]", t0())
            .await
            .unwrap(),
        None,
        "a submitted application is no longer a draft"
    );
    assert_eq!(
        store.put_image(app, &meta, b"x", t0()).await.unwrap(),
        Applied::Moved
    );
    let card = StoredCard {
        bank: "CMB".into(),
        sealed: vec![1],
        card_hash: vec![2],
    };
    assert_eq!(
        store.set_card(app, &card, t0()).await.unwrap(),
        Applied::Moved
    );
    let stored = store.application(app).await.unwrap().unwrap();
    assert_eq!(
        (stored.form.as_slice(), stored.card.unwrap().bank.as_str()),
        (&b"form 2"[..], "ICBC")
    );
}

pub async fn concurrent_submits_make_one_deposit(store: DynStore) {
    let id = account(&store, "c@example.com").await;
    let app = draft(&store, id, &[]).await;
    let command = submit_command(app, id, b"card-1", &[], t0());
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let (store, command) = (store.clone(), command.clone());
            tokio::spawn(async move { store.submit(&command).await.unwrap() })
        })
        .collect();
    let mut outcomes = Vec::new();
    for t in tasks {
        outcomes.push(t.await.unwrap());
    }
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| **o == SubmitOutcome::Submitted)
            .count(),
        1
    );
    assert!(
        outcomes
            .iter()
            .all(|o| matches!(o, SubmitOutcome::Submitted | SubmitOutcome::Moved))
    );
    let stored = store.application(app).await.unwrap().unwrap();
    assert_eq!(stored.status, Status::DepositPending);
    assert_eq!(
        stored.deposit.unwrap().end_to_end_id,
        format!("RN{}", app.simple())
    );
    let jobs = store.claim_jobs(t0(), 60, 100).await.unwrap();
    assert_eq!(
        jobs.iter()
            .filter(|j| j.application_id == Some(app) && j.kind == JobKind::PayDeposit)
            .count(),
        1
    );
}

pub async fn submit_checks_card_history_and_limits(store: DynStore) {
    // A card the bank returned is refused; so is a card another account has submitted.
    let a = account(&store, "a@example.com").await;
    let returned = draft_with_card(&store, a, &[], b"card-r").await;
    assert_eq!(
        store
            .submit(&submit_command(returned, a, b"card-r", &[], t0()))
            .await
            .unwrap(),
        SubmitOutcome::Submitted
    );
    let back = change(
        returned,
        Status::DepositPending,
        Event::DepositReturned {
            reason: "AC04".into(),
        },
        t0(),
    );
    assert_eq!(store.apply(&back).await.unwrap(), Applied::Done);
    let failed = store.application(returned).await.unwrap().unwrap();
    assert_eq!(
        failed.failure.map(|f| (f.code, f.bank_reason)),
        Some((Code::DepositReturned, Some("AC04".into())))
    );
    let b = account(&store, "b@example.com").await;
    assert!(
        store
            .card_history(b, b"card-r")
            .await
            .unwrap()
            .returned_by_bank
    );
    let other = draft(&store, b, &[]).await;
    assert_eq!(
        store
            .submit(&submit_command(other, b, b"card-r", &[], t0()))
            .await
            .unwrap(),
        SubmitOutcome::CardReturnedByBank
    );
    let history = store.card_history(b, b"card-1").await.unwrap();
    assert!(!history.returned_by_bank && !history.bound_to_another_account);

    let c = account(&store, "c@example.com").await;
    let held = draft_with_card(&store, c, &[], b"card-h").await;
    assert_eq!(
        store
            .submit(&submit_command(held, c, b"card-h", &[], t0()))
            .await
            .unwrap(),
        SubmitOutcome::Submitted
    );
    assert!(
        store
            .card_history(b, b"card-h")
            .await
            .unwrap()
            .bound_to_another_account
    );
    assert!(
        !store
            .card_history(c, b"card-h")
            .await
            .unwrap()
            .bound_to_another_account
    );
    assert_eq!(
        store
            .submit(&submit_command(other, b, b"card-h", &[], t0()))
            .await
            .unwrap(),
        SubmitOutcome::CardInUse
    );

    // Three rounds per document within the window, then no more until it passes.
    let d = account(&store, "d@example.com").await;
    for round in 0..3u8 {
        let app = draft(&store, d, &[b"doc-x"]).await;
        let card = [b'k', round];
        assert_eq!(
            store
                .submit(&submit_command(app, d, &card, &[b"doc-x"], t0()))
                .await
                .unwrap(),
            SubmitOutcome::Submitted
        );
        let settle = change(app, Status::DepositPending, Event::DepositSettled, t0());
        store.apply(&settle).await.unwrap();
        store
            .apply(&change(
                app,
                Status::AwaitingAmount,
                Event::DepositExpired,
                t0(),
            ))
            .await
            .unwrap();
    }
    let app = draft(&store, d, &[b"doc-x"]).await;
    assert_eq!(
        store
            .submit(&submit_command(app, d, b"k9", &[b"doc-x"], t0()))
            .await
            .unwrap(),
        SubmitOutcome::DepositLimitReached
    );
    assert_eq!(
        store.application(app).await.unwrap().unwrap().status,
        Status::Draft
    );
    let later = t0() + TimeDelta::days(31);
    assert_eq!(
        store
            .submit(&submit_command(app, d, b"k9", &[b"doc-x"], later))
            .await
            .unwrap(),
        SubmitOutcome::Submitted
    );
}

pub async fn transitions_are_guarded_and_write_their_effects(store: DynStore) {
    let id = account(&store, "t@example.com").await;
    let app = settled(&store, id, b"card-1").await;
    let stored = store.application(app).await.unwrap().unwrap();
    let deposit = stored.deposit.unwrap();
    assert_eq!(
        (deposit.settled_at, deposit.expires_at),
        (Some(t0()), Some(t0() + TimeDelta::days(10)))
    );
    assert_eq!(
        store
            .deposit_application(&deposit.end_to_end_id)
            .await
            .unwrap(),
        Some((app, Status::AwaitingAmount))
    );
    assert_eq!(store.deposit_application("RNnothing").await.unwrap(), None);
    // A repeated notice finds the application moved and writes nothing.
    let again = change(app, Status::DepositPending, Event::DepositSettled, t0());
    assert_eq!(store.apply(&again).await.unwrap(), Applied::Moved);
    assert_eq!(
        store.application(app).await.unwrap().unwrap().events.len(),
        3
    );

    let accepted = change(app, Status::AwaitingAmount, Event::AmountAccepted, t0());
    assert_eq!(store.apply(&accepted).await.unwrap(), Applied::Done);
    let cases = store
        .review_cases(CaseFilter::Open, None, t0(), None, 10)
        .await
        .unwrap();
    assert_eq!(cases.len(), 1);
    assert_eq!(
        (cases[0].application_id, cases[0].due_at),
        (app, t0() + TimeDelta::days(2))
    );
    // The expiry job finds nothing to do once the amount was accepted, but it exists.
    let due = store
        .claim_jobs(t0() + TimeDelta::days(10), 60, 10)
        .await
        .unwrap();
    assert!(
        due.iter()
            .any(|j| j.application_id == Some(app) && j.kind == JobKind::ExpireDeposit)
    );
}

pub async fn wrong_answers_are_counted_once_each(store: DynStore) {
    let id = account(&store, "w@example.com").await;
    let app = settled(&store, id, b"card-1").await;
    assert_eq!(
        store.record_wrong_answer(app, 0, t0()).await.unwrap(),
        Applied::Done
    );
    assert_eq!(
        store.record_wrong_answer(app, 0, t0()).await.unwrap(),
        Applied::Moved,
        "a stale count loses"
    );
    assert_eq!(
        store.record_wrong_answer(app, 1, t0()).await.unwrap(),
        Applied::Done
    );
    assert_eq!(
        store
            .application(app)
            .await
            .unwrap()
            .unwrap()
            .deposit
            .unwrap()
            .attempts_used,
        2
    );
    let exhausted = change(
        app,
        Status::AwaitingAmount,
        Event::AttemptsExhausted { attempts_used: 3 },
        t0(),
    );
    assert_eq!(store.apply(&exhausted).await.unwrap(), Applied::Done);
    let stored = store.application(app).await.unwrap().unwrap();
    assert_eq!(
        (stored.status, stored.deposit.unwrap().attempts_used),
        (Status::Failed, 3)
    );
    assert_eq!(
        store.record_wrong_answer(app, 3, t0()).await.unwrap(),
        Applied::Moved,
        "not while failed"
    );
}

pub async fn the_per_card_round_limit_counts_every_account(store: DynStore) {
    // Three rounds to one card, each by another account and each with its own document.
    for n in 0..3u8 {
        let who = account(&store, &format!("p{n}@example.com")).await;
        let doc = [b'd', n];
        assert_eq!(
            spent_round(&store, who, b"card-p", &[&doc]).await,
            SubmitOutcome::Submitted
        );
    }
    let late = account(&store, "p9@example.com").await;
    assert_eq!(
        spent_round(&store, late, b"card-p", &[b"d9"]).await,
        SubmitOutcome::DepositLimitReached
    );
    // Another card is not limited by this one's rounds.
    assert_eq!(
        spent_round(&store, late, b"card-q", &[b"d9"]).await,
        SubmitOutcome::Submitted
    );
}

pub async fn same_document_submits_with_different_cards_share_one_limit(store: DynStore) {
    // Two rounds already spent on the passport; eight accounts holding the same passport,
    // each with its own card, submit at the same moment: only one more round may be paid.
    let first = account(&store, "s0@example.com").await;
    for n in 0..2u8 {
        assert_eq!(
            spent_round(&store, first, &[b'c', n], &[b"passport-s"]).await,
            SubmitOutcome::Submitted
        );
    }
    let mut commands = Vec::new();
    for n in 0..8u8 {
        let who = account(&store, &format!("s{}@example.com", n + 1)).await;
        let card = [b'x', n];
        let app = draft_with_card(&store, who, &[b"passport-s"], &card).await;
        commands.push(submit_command(app, who, &card, &[b"passport-s"], t0()));
    }
    let tasks: Vec<_> = commands
        .into_iter()
        .map(|command| {
            let store = store.clone();
            tokio::spawn(async move { store.submit(&command).await.unwrap() })
        })
        .collect();
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.unwrap());
    }
    let submitted = outcomes
        .iter()
        .filter(|o| **o == SubmitOutcome::Submitted)
        .count();
    assert_eq!(submitted, 1, "{outcomes:?}");
    assert!(outcomes.iter().all(|o| matches!(
        o,
        SubmitOutcome::Submitted | SubmitOutcome::DepositLimitReached
    )));
}
