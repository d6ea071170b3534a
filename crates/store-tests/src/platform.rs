//! The conformance cases of the platform's keys, users, sessions, links, events and webhook endpoints.

use super::*;

pub async fn api_keys_are_found_by_hash_listed_revoked_and_touched(store: DynStore) {
    let key = |prefix: &str, hash: &[u8], at: DateTime<Utc>| ApiKey {
        prefix: prefix.into(),
        key_hash: hash.to_vec(),
        name: "checkout".into(),
        mode: KeyMode::Test,
        scopes: vec![Scope::SessionsWrite, Scope::EventsRead],
        created_at: at,
        last_used_at: None,
        revoked_at: None,
    };
    let first = key("rn_test_aaaa", b"hash-a", t0());
    store.create_api_key(&first).await.unwrap();
    store
        .create_api_key(&key(
            "rn_test_bbbb",
            b"hash-b",
            t0() + TimeDelta::seconds(1),
        ))
        .await
        .unwrap();
    assert_eq!(
        store
            .create_api_key(&key("rn_test_aaaa", b"hash-c", t0()))
            .await,
        Err(StoreError::Conflict("api_key".into())),
        "a prefix names one key"
    );
    assert_eq!(store.api_key(b"hash-a").await.unwrap(), Some(first.clone()));
    assert_eq!(store.api_key(b"nothing").await.unwrap(), None);
    let listed: Vec<String> = store
        .api_keys()
        .await
        .unwrap()
        .into_iter()
        .map(|k| k.prefix)
        .collect();
    assert_eq!(listed, ["rn_test_aaaa", "rn_test_bbbb"]);

    // Use is recorded at most once a minute.
    store.touch_api_key("rn_test_aaaa", t0()).await.unwrap();
    store
        .touch_api_key("rn_test_aaaa", t0() + TimeDelta::seconds(30))
        .await
        .unwrap();
    let used = store.api_key(b"hash-a").await.unwrap().unwrap();
    assert_eq!(used.last_used_at, Some(t0()));
    store
        .touch_api_key("rn_test_aaaa", t0() + TimeDelta::seconds(61))
        .await
        .unwrap();
    let used = store.api_key(b"hash-a").await.unwrap().unwrap();
    assert_eq!(used.last_used_at, Some(t0() + TimeDelta::seconds(61)));

    let later = t0() + TimeDelta::hours(1);
    assert!(store.revoke_api_key("rn_test_aaaa", later).await.unwrap());
    assert!(!store.revoke_api_key("rn_test_aaaa", later).await.unwrap());
    assert!(!store.revoke_api_key("rn_test_none", later).await.unwrap());
    let revoked = store.api_key(b"hash-a").await.unwrap().unwrap();
    assert_eq!(revoked.revoked_at, Some(later));
    assert_eq!(revoked.scopes, [Scope::SessionsWrite, Scope::EventsRead]);
}

pub async fn platform_users_sessions_and_single_use_links(store: DynStore) {
    // Eight first sessions for one platform user at once reach one account.
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                let account = Account {
                    id: Uuid::new_v4(),
                    login: "platform:ext-42".into(),
                    password_hash: String::new(),
                    role: Role::User,
                    created_at: t0(),
                };
                store.link_platform_user("ext-42", &account).await.unwrap()
            })
        })
        .collect();
    let mut reached = Vec::new();
    for task in tasks {
        reached.push(task.await.unwrap());
    }
    reached.dedup();
    assert_eq!(reached.len(), 1, "one account for one platform user");
    let account = reached[0];
    assert_eq!(
        store.platform_account("ext-42").await.unwrap(),
        Some(account)
    );
    assert_eq!(store.platform_account("ext-43").await.unwrap(), None);
    assert_eq!(
        store.external_user_of(account).await.unwrap().as_deref(),
        Some("ext-42")
    );

    let session = PlatformSession {
        id: Uuid::new_v4(),
        account_id: account,
        external_user_id: "ext-42".into(),
        return_url: Some("https://pay.example.com/done".into()),
        locale: Some("en".into()),
        metadata: "{\"order\":\"7\"}".into(),
        mode: KeyMode::Test,
        created_at: t0(),
        purpose: realname_core::platform::SessionPurpose::Renewal,
    };
    let link = |hash: &[u8], expires: i64| LinkToken {
        token_hash: hash.to_vec(),
        session_id: session.id,
        expires_at: t0() + TimeDelta::minutes(expires),
    };
    store
        .create_platform_session(&session, &link(b"link-1", 15))
        .await
        .unwrap();
    assert_eq!(
        store.platform_session(session.id).await.unwrap(),
        Some(session.clone())
    );
    store.add_link(&link(b"link-2", 15)).await.unwrap();
    store.add_link(&link(b"link-old", -1)).await.unwrap();

    // A preview only looks; of several uses at once, one finds the link good.
    assert_eq!(
        store.link(b"link-1", t0()).await.unwrap(),
        Some((session.clone(), true))
    );
    assert_eq!(
        store.link(b"link-1", t0()).await.unwrap(),
        Some((session.clone(), true))
    );
    let uses: Vec<_> = (0..4)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.use_link(b"link-1", t0()).await.unwrap() })
        })
        .collect();
    let mut used = 0;
    for task in uses {
        match task.await.unwrap() {
            LinkUse::Used(found) => {
                assert_eq!(found, session);
                used += 1;
            }
            other => assert_eq!(other, LinkUse::Spent),
        }
    }
    assert_eq!(used, 1);
    assert_eq!(
        store.link(b"link-1", t0()).await.unwrap(),
        Some((session.clone(), false)),
        "a used link still names its session, to offer the way back"
    );
    assert_eq!(store.link(b"nothing", t0()).await.unwrap(), None);
    assert!(matches!(
        store.use_link(b"link-2", t0()).await.unwrap(),
        LinkUse::Used(_)
    ));
    assert_eq!(
        store.use_link(b"link-old", t0()).await.unwrap(),
        LinkUse::Spent,
        "an expired link is spent"
    );
    assert_eq!(
        store.use_link(b"nothing", t0()).await.unwrap(),
        LinkUse::Unknown
    );

    // The session a link opens is the pages'; the JSON API never sees it.
    let later = t0() + TimeDelta::hours(1);
    store
        .create_page_session(b"page-token", account, later)
        .await
        .unwrap();
    assert_eq!(
        store.session_account(b"page-token", t0()).await.unwrap(),
        None
    );
    assert_eq!(
        store
            .page_session_account(b"page-token", t0())
            .await
            .unwrap()
            .map(|a| a.id),
        Some(account)
    );
    assert_eq!(
        store
            .page_session_account(b"page-token", later)
            .await
            .unwrap(),
        None,
        "it expires"
    );
}

pub async fn every_status_change_makes_one_event_in_its_sequence(store: DynStore) {
    let id = account(&store, "e@example.com").await;
    let app = settled(&store, id, b"card-e").await;
    // A change that loses its race writes no event.
    let late = change(app, Status::DepositPending, Event::DepositSettled, t0());
    assert_eq!(store.apply(&late).await.unwrap(), Applied::Moved);
    store
        .apply(&change(
            app,
            Status::AwaitingAmount,
            Event::AmountAccepted,
            t0(),
        ))
        .await
        .unwrap();
    let other = account(&store, "f@example.com").await;
    let second = draft(&store, other, &[]).await;
    let query = |application_id: Option<Uuid>,
                 event_type: Option<EventType>,
                 before: Option<i64>| EventQuery {
        event_type,
        application_id,
        since: t0() - TimeDelta::days(30),
        livemode: false,
        before,
        limit: 100,
    };
    let mine = store.events(&query(Some(app), None, None)).await.unwrap();
    let types: Vec<(&str, u32)> = mine
        .iter()
        .map(|e| (e.event_type.as_str(), e.sequence))
        .collect();
    assert_eq!(
        types,
        [
            ("verification.under_review", 4),
            ("verification.awaiting_amount", 3),
            ("verification.submitted", 2),
            ("verification.created", 1)
        ],
        "newest first, counted from 1"
    );
    assert!(mine.iter().all(|e| e.id.starts_with("evt_") && !e.livemode));
    assert_eq!(mine[0].status, Status::UnderReview);

    let all = store.events(&query(None, None, None)).await.unwrap();
    assert_eq!(all.len(), 5);
    assert_eq!(
        all[0].application_id, second,
        "the newest event of all first"
    );
    let created = store
        .events(&query(None, Some(EventType::Created), None))
        .await
        .unwrap();
    assert_eq!(created.len(), 2);
    // Paging: events before a position.
    let older = store
        .events(&query(None, None, Some(all[1].position)))
        .await
        .unwrap();
    assert_eq!(older, all[2..].to_vec());
    let found = store.event(&mine[0].id).await.unwrap().unwrap();
    assert_eq!(found, mine[0]);
    assert_eq!(store.event("evt_nothing").await.unwrap(), None);

    // A failure travels with its event; the feed keeps 30 days.
    let back = change(
        second,
        Status::Draft,
        Event::Cancel,
        t0() + TimeDelta::days(40),
    );
    store.apply(&back).await.unwrap();
    let recent = EventQuery {
        since: t0() + TimeDelta::days(10),
        ..query(None, None, None)
    };
    let kept = store.events(&recent).await.unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].event_type, EventType::Cancelled);
    assert_eq!(kept[0].sequence, 2);
    let live = EventQuery {
        livemode: true,
        ..query(None, None, None)
    };
    assert!(
        store.events(&live).await.unwrap().is_empty(),
        "a live key sees no test events"
    );
}

pub async fn events_are_dispatched_only_when_an_endpoint_listens(store: DynStore) {
    let dispatches = |jobs: &[Job]| {
        jobs.iter()
            .filter(|j| j.kind == JobKind::DispatchEvent)
            .count()
    };
    let id = account(&store, "d@example.com").await;
    draft(&store, id, &[]).await;
    let now = t0() + TimeDelta::minutes(1);
    assert_eq!(
        dispatches(&store.claim_jobs(now, 60, 100).await.unwrap()),
        0
    );

    // A live endpoint does not listen to test events; a test one does.
    for livemode in [true, false] {
        store
            .create_webhook_endpoint(&WebhookEndpoint {
                id: Uuid::new_v4(),
                url: "https://hooks.example.com/".into(),
                events: vec!["*".into()],
                description: None,
                enabled: true,
                secret: b"sealed".to_vec(),
                previous_secret: None,
                previous_expires_at: None,
                livemode,
                created_at: t0(),
            })
            .await
            .unwrap();
        let other = account(&store, &format!("d-{livemode}@example.com")).await;
        draft(&store, other, &[]).await;
        let jobs = store.claim_jobs(now, 60, 100).await.unwrap();
        assert_eq!(
            dispatches(&jobs),
            usize::from(!livemode),
            "live endpoint: {livemode}"
        );
        let job = jobs.iter().find(|j| j.kind == JobKind::DispatchEvent);
        if let Some(job) = job {
            let event = job.subject.as_deref().unwrap();
            assert!(
                store.event(event).await.unwrap().is_some(),
                "the job names its event"
            );
        }
    }
}
