//! The conformance cases of the file rail's ledger and the bank's messages.

use super::*;

pub async fn a_file_rail_puts_each_payout_in_one_file_at_a_time(store: DynStore) {
    for e2e in ["RN1", "RN2", "RN3"] {
        store.hold(&held(e2e), t0()).await.unwrap();
    }
    // Held again (a retried job): still one payout.
    store.hold(&held("RN1"), t0()).await.unwrap();
    store
        .hold(&held("RN9"), t0() + TimeDelta::hours(1))
        .await
        .unwrap();
    let first = store.take_batch("MSG-A", t0(), 2).await.unwrap();
    let second = store.take_batch("MSG-B", t0(), 2).await.unwrap();
    assert_eq!((first.len(), second.len()), (2, 1));
    assert_eq!(first[0].sealed, b"sealed RN1", "the first holding is kept");
    assert!(
        store.take_batch("MSG-C", t0(), 2).await.unwrap().is_empty(),
        "RN9 is not due"
    );
    let unwritten = store.unwritten().await.unwrap();
    let ids: Vec<(&str, usize)> = unwritten
        .iter()
        .map(|f| (f.msg_id.as_str(), f.transfers.len()))
        .collect();
    assert_eq!(
        ids,
        [("MSG-A", 2), ("MSG-B", 1)],
        "no file is made of nothing"
    );
    store.written("MSG-A", t0()).await.unwrap();
    assert_eq!(store.unwritten().await.unwrap().len(), 1);
    let report = store.rail_report().await.unwrap();
    assert_eq!(report.awaiting_report.len(), 1);
    assert_eq!(report.awaiting_report[0].msg_id, "MSG-A");
    assert_eq!((report.held, report.sent), (1, 3));

    // Many nodes making files at once take each payout once.
    for n in 0..6 {
        store.hold(&held(&format!("RNC{n}")), t0()).await.unwrap();
    }
    let takers = (0..8).map(|n| {
        let store = store.clone();
        tokio::spawn(async move {
            store
                .take_batch(&format!("MSG-P{n}"), t0(), 1)
                .await
                .unwrap()
        })
    });
    let mut taken: Vec<String> = Vec::new();
    for t in takers {
        taken.extend(t.await.unwrap().into_iter().map(|h| h.end_to_end_id));
    }
    taken.sort();
    assert_eq!(taken, ["RNC0", "RNC1", "RNC2", "RNC3", "RNC4", "RNC5"]);
}

pub async fn a_bank_message_is_applied_once_and_all_or_nothing(store: DynStore) {
    let user = account(&store, "m@example.com").await;
    let app = settled(&store, user, b"card-m").await;
    let e2e = store
        .application(app)
        .await
        .unwrap()
        .unwrap()
        .deposit
        .unwrap()
        .end_to_end_id;
    for t in ["RNA", "RNB"] {
        store.hold(&held(t), t0()).await.unwrap();
    }
    store
        .hold(
            &HeldTransfer {
                end_to_end_id: e2e.clone(),
                application_id: app,
                sealed: b"s".to_vec(),
            },
            t0(),
        )
        .await
        .unwrap();
    assert_eq!(store.take_batch("OUT-1", t0(), 10).await.unwrap().len(), 3);
    store.written("OUT-1", t0()).await.unwrap();
    let later = t0() + TimeDelta::hours(1);

    // A change that no longer fits the application: nothing of the message is written.
    let stale = change(app, Status::DepositPending, Event::DepositSettled, t0());
    let refused = message(
        "pain.002.001.10",
        "IN-1",
        vec![
            PayoutNotice::File {
                msg_id: "OUT-1".into(),
                answer: FileAnswer::Received {
                    status: "PART".into(),
                },
            },
            PayoutNotice::Refused {
                end_to_end_id: "RNA".into(),
                reason: "AM04".into(),
            },
        ],
        later,
    );
    assert_eq!(
        store
            .apply_bank_message(&refused, &[stale], &[], t0())
            .await
            .unwrap(),
        MessageApplied::Moved
    );
    let report = store.rail_report().await.unwrap();
    assert_eq!(report.awaiting_report.len(), 1, "rolled back");
    assert!(report.waiting_to_resend.is_empty());

    // Worked out again, it is applied; a second time, it is known.
    let returned = change(
        app,
        Status::AwaitingAmount,
        Event::DepositReturned {
            reason: "AC04".into(),
        },
        t0(),
    );
    let mut with_return = refused.clone();
    with_return.notices.push(PayoutNotice::Returned {
        end_to_end_id: e2e.clone(),
        reason: "AC04".into(),
        at: t0(),
    });
    with_return.notices.push(PayoutNotice::Unnamed {
        what: "a debit without an end-to-end id".into(),
    });
    let kept = UnmatchedEntry {
        message: with_return.key.clone(),
        source: with_return.source.clone(),
        reference: Some("RNX".into()),
        what: "no payout has this end-to-end id".into(),
        at: t0(),
    };
    assert_eq!(
        store
            .apply_bank_message(
                &with_return,
                std::slice::from_ref(&returned),
                std::slice::from_ref(&kept),
                t0()
            )
            .await
            .unwrap(),
        MessageApplied::Applied
    );
    assert_eq!(
        store
            .apply_bank_message(&with_return, &[], &[], t0())
            .await
            .unwrap(),
        MessageApplied::AlreadyApplied
    );
    let stored = store.application(app).await.unwrap().unwrap();
    assert_eq!(stored.status, Status::Failed);
    let report = store.rail_report().await.unwrap();
    assert!(report.awaiting_report.is_empty(), "the file has its report");
    assert_eq!(report.returned, 1);
    assert_eq!(report.waiting_to_resend.len(), 1);
    assert_eq!(
        (
            report.waiting_to_resend[0].end_to_end_id.as_str(),
            report.waiting_to_resend[0].reason.as_str()
        ),
        ("RNA", "AM04")
    );
    assert_eq!(report.waiting_to_resend[0].due_at, later);
    let mut unmatched: Vec<Option<&str>> = report
        .unmatched
        .iter()
        .map(|u| u.reference.as_deref())
        .collect();
    unmatched.sort();
    assert_eq!(unmatched, [None, Some("RNX")]);
    // Refused payouts go again from `resend_at`, not before.
    assert!(
        store
            .take_batch("OUT-2", t0(), 10)
            .await
            .unwrap()
            .is_empty()
    );
    let again = store.take_batch("OUT-2", later, 10).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].end_to_end_id, "RNA");

    // A file refused as a whole: every payout still in it goes again; a duplicate changes
    // nothing.
    store.written("OUT-2", later).await.unwrap();
    let whole = message(
        "pain.002.001.10",
        "IN-2",
        vec![PayoutNotice::File {
            msg_id: "OUT-1".into(),
            answer: FileAnswer::Refused {
                reason: "FF01".into(),
            },
        }],
        later,
    );
    assert_eq!(
        store
            .apply_bank_message(&whole, &[], &[], t0())
            .await
            .unwrap(),
        MessageApplied::Applied
    );
    let report = store.rail_report().await.unwrap();
    let mut waiting: Vec<&str> = report
        .waiting_to_resend
        .iter()
        .map(|w| w.end_to_end_id.as_str())
        .collect();
    waiting.sort();
    assert_eq!(
        waiting,
        ["RNB"],
        "RNA is in OUT-2 now; the returned payout stays returned"
    );
    let dupl = message(
        "pain.002.001.10",
        "IN-3",
        vec![PayoutNotice::File {
            msg_id: "OUT-2".into(),
            answer: FileAnswer::Duplicate,
        }],
        later,
    );
    assert_eq!(
        store
            .apply_bank_message(&dupl, &[], &[], t0())
            .await
            .unwrap(),
        MessageApplied::Applied
    );
    assert_eq!(
        store.rail_report().await.unwrap().awaiting_report.len(),
        1,
        "OUT-2 still awaits its own report"
    );

    // Eight nodes applying one message: once.
    let settle = message(
        "camt.054.001.08",
        "IN-4",
        vec![PayoutNotice::Settled {
            end_to_end_id: "RNA".into(),
            at: later,
        }],
        later,
    );
    let appliers = (0..8).map(|_| {
        let (store, settle) = (store.clone(), settle.clone());
        tokio::spawn(async move {
            store
                .apply_bank_message(&settle, &[], &[], later)
                .await
                .unwrap()
        })
    });
    let mut outcomes = Vec::new();
    for a in appliers {
        outcomes.push(a.await.unwrap());
    }
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| **o == MessageApplied::Applied)
            .count(),
        1,
        "{outcomes:?}"
    );
    assert_eq!(store.rail_report().await.unwrap().settled, 1);
}

/// A notification settles thousands at once (PostgreSQL writes them in bulk): what is written
/// for each is what one change alone writes, and one stale change writes nothing of any.
pub async fn a_bank_message_moves_many_applications_as_each_would_move_alone(store: DynStore) {
    let mut apps = Vec::new();
    for n in 0..20 {
        let user = account(&store, &format!("bulk{n}@example.com")).await;
        let app = draft_with_card(
            &store,
            user,
            &[format!("doc-bulk-{n}").as_bytes()],
            format!("card-bulk-{n}").as_bytes(),
        )
        .await;
        assert_eq!(
            store
                .submit(&submit_command(
                    app,
                    user,
                    format!("card-bulk-{n}").as_bytes(),
                    &[],
                    t0()
                ))
                .await
                .unwrap(),
            SubmitOutcome::Submitted
        );
        apps.push(app);
    }
    let settle = |at: DateTime<Utc>| -> Vec<StateChange> {
        apps.iter()
            .map(|a| change(*a, Status::DepositPending, Event::DepositSettled, at))
            .collect()
    };
    let mut stale = settle(t0());
    stale[19] = change(
        apps[19],
        Status::AwaitingAmount,
        Event::AmountAccepted,
        t0(),
    );
    let empty = |id: &str| message("camt.054.001.08", id, Vec::new(), t0());
    assert_eq!(
        store
            .apply_bank_message(&empty("BULK-0"), &stale, &[], t0())
            .await
            .unwrap(),
        MessageApplied::Moved
    );
    for app in &apps {
        assert_eq!(
            store.application(*app).await.unwrap().unwrap().status,
            Status::DepositPending,
            "nothing written"
        );
    }
    assert_eq!(
        store
            .apply_bank_message(&empty("BULK-1"), &settle(t0()), &[], t0())
            .await
            .unwrap(),
        MessageApplied::Applied
    );
    for app in &apps {
        let stored = store.application(*app).await.unwrap().unwrap();
        assert_eq!(stored.status, Status::AwaitingAmount);
        let deposit = stored.deposit.unwrap();
        assert_eq!(
            (deposit.settled_at, deposit.expires_at),
            (Some(t0()), Some(t0() + TimeDelta::days(10)))
        );
        let statuses: Vec<Status> = stored.events.iter().map(|e| e.status).collect();
        assert_eq!(
            statuses,
            [
                Status::Draft,
                Status::DepositPending,
                Status::AwaitingAmount
            ]
        );
        let feed = store
            .events(&realname_core::platform::EventQuery {
                event_type: None,
                application_id: Some(*app),
                since: t0() - TimeDelta::days(1),
                livemode: false,
                before: None,
                limit: 10,
            })
            .await
            .unwrap();
        let mut sequences: Vec<i64> = feed.iter().map(|e| i64::from(e.sequence)).collect();
        sequences.sort();
        assert_eq!(
            sequences,
            [1, 2, 3],
            "created, submitted, settled, in its own sequence: {feed:?}"
        );
    }
    let expiring = store
        .claim_jobs(t0() + TimeDelta::days(10), 60, 100)
        .await
        .unwrap();
    for app in &apps {
        assert!(
            expiring
                .iter()
                .any(|j| j.application_id == Some(*app) && j.kind == JobKind::ExpireDeposit)
        );
    }
    // Returned in bulk: every card is refused from then on.
    let returned: Vec<StateChange> = apps
        .iter()
        .map(|a| {
            change(
                *a,
                Status::AwaitingAmount,
                Event::DepositReturned {
                    reason: "AC04".into(),
                },
                t0(),
            )
        })
        .collect();
    assert_eq!(
        store
            .apply_bank_message(&empty("BULK-2"), &returned, &[], t0())
            .await
            .unwrap(),
        MessageApplied::Applied
    );
    let other = account(&store, "bulk-other@example.com").await;
    let history = store.card_history(other, b"card-bulk-7").await.unwrap();
    assert!(history.returned_by_bank);
}
