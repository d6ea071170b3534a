//! The conformance cases of the history kept only for a while.

use super::*;

pub async fn old_events_deliveries_jobs_and_links_are_purged(store: DynStore) {
    let later = t0() + TimeDelta::days(40);
    let id = account(&store, "purge@example.com").await;
    // Three events at t0 (created, submitted, awaiting_amount), one 40 days on.
    let app = settled(&store, id, b"card-purge").await;
    store
        .apply(&change(
            app,
            Status::AwaitingAmount,
            Event::AmountAccepted,
            later,
        ))
        .await
        .unwrap();
    let endpoint = Uuid::new_v4();
    let attempt = |at: DateTime<Utc>| DeliveryAttempt {
        id: Uuid::new_v4(),
        position: 0,
        endpoint_id: endpoint,
        event_id: "evt_x".into(),
        attempt: 1,
        state: DeliveryState::Delivered,
        status_code: Some(200),
        error: None,
        at,
        next_attempt_at: None,
        livemode: false,
    };
    store.record_delivery_attempt(&attempt(t0())).await.unwrap();
    store
        .record_delivery_attempt(&attempt(later))
        .await
        .unwrap();
    // One job finished long ago; the transitions' own jobs are not finished.
    let job = NewJob {
        key: "purge-me".into(),
        kind: JobKind::SendPayouts,
        application_id: None,
        due_at: t0(),
        subject: None,
    };
    assert!(store.queue_job(&job).await.unwrap());
    let claimed = store.claim_jobs(t0(), 60, 100).await.unwrap();
    let mine = claimed
        .iter()
        .find(|j| j.kind == JobKind::SendPayouts)
        .unwrap();
    store.finish_job(mine, t0()).await.unwrap();
    let session = PlatformSession {
        id: Uuid::new_v4(),
        account_id: id,
        external_user_id: "ext-purge".into(),
        return_url: None,
        locale: None,
        metadata: "{}".into(),
        mode: KeyMode::Test,
        created_at: t0(),
        purpose: realname_core::platform::SessionPurpose::Renewal,
    };
    let link = |hash: &[u8], expires_at| LinkToken {
        token_hash: hash.to_vec(),
        session_id: session.id,
        expires_at,
    };
    store
        .create_platform_session(&session, &link(b"purge-old", t0()))
        .await
        .unwrap();
    store.add_link(&link(b"purge-new", later)).await.unwrap();

    let horizon = t0() + TimeDelta::days(10);
    let forget = Forget {
        events_before: horizon,
        jobs_before: horizon,
        links_before: horizon,
    };
    let gone = store.purge_history(&forget).await.unwrap();
    assert_eq!(
        gone,
        Forgotten {
            events: 3,
            deliveries: 1,
            jobs: 1,
            links: 1
        }
    );
    assert_eq!(
        store.purge_history(&forget).await.unwrap(),
        Forgotten::default(),
        "a second purge finds nothing"
    );
    let events_of_app = |limit: u32| EventQuery {
        event_type: None,
        application_id: Some(app),
        since: t0() - TimeDelta::days(1),
        livemode: false,
        before: None,
        limit,
    };
    let kept = store.events(&events_of_app(100)).await.unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].sequence, 4);
    let attempts = store.delivery_attempts(endpoint, None, 10).await.unwrap();
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0].at, later);
    assert_eq!(store.link(b"purge-old", later).await.unwrap(), None);
    assert!(store.link(b"purge-new", t0()).await.unwrap().is_some());
    // The status history stays whole, and the next event goes on counting; the consent the
    // application was made under reads back as given.
    let stored = store.application(app).await.unwrap().unwrap();
    assert_eq!(stored.events.len(), 4);
    assert_eq!(
        stored.consent,
        Consent {
            at: t0(),
            version: "v1".into(),
            address: "127.0.0.1".into()
        }
    );
    store
        .apply(&change(app, Status::UnderReview, Event::Approve, later))
        .await
        .unwrap();
    let next = store.events(&events_of_app(1)).await.unwrap();
    assert_eq!(next[0].sequence, 5);
}
