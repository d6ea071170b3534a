//! The conformance cases of accounts, sessions, sign-in throttles, idempotency keys and rate windows.

use super::*;

pub async fn accounts_are_unique_by_login(store: DynStore) {
    account(&store, "anna@example.com").await;
    let again = store
        .create_account(&Account {
            id: Uuid::new_v4(),
            login: "anna@example.com".into(),
            password_hash: "x".into(),
            role: Role::Admin,
            created_at: t0(),
        })
        .await;
    assert_eq!(again, Err(StoreError::Conflict("login".into())));
    let found = store
        .account_by_login("anna@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((found.role, found.created_at), (Role::User, t0()));
    assert!(store.account_by_login("nobody").await.unwrap().is_none());
    store.ping().await.unwrap();
}

pub async fn sessions_expire_and_can_be_deleted(store: DynStore) {
    let id = account(&store, "s@example.com").await;
    store
        .create_session(b"hash-1", id, t0() + TimeDelta::hours(12))
        .await
        .unwrap();
    assert_eq!(
        store
            .session_account(b"hash-1", t0())
            .await
            .unwrap()
            .map(|a| a.id),
        Some(id)
    );
    assert!(
        store
            .session_account(b"hash-1", t0() + TimeDelta::hours(12))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .session_account(b"hash-2", t0())
            .await
            .unwrap()
            .is_none()
    );
    store.delete_session(b"hash-1").await.unwrap();
    assert!(
        store
            .session_account(b"hash-1", t0())
            .await
            .unwrap()
            .is_none()
    );
}

pub async fn failed_logins_are_counted_and_cleared(store: DynStore) {
    let policy = ThrottlePolicy::default();
    assert_eq!(store.throttle("k").await.unwrap(), Throttle::default());
    for n in 1..=4 {
        let t = store
            .record_login_failure("k", t0(), &policy)
            .await
            .unwrap();
        assert_eq!((t.failures, t.locked_until), (n, None));
    }
    let t = store
        .record_login_failure("k", t0(), &policy)
        .await
        .unwrap();
    assert_eq!(t.locked_until, Some(t0() + TimeDelta::seconds(30)));
    assert_eq!(store.throttle("k").await.unwrap(), t);
    store.clear_login_failures("k").await.unwrap();
    assert_eq!(store.throttle("k").await.unwrap(), Throttle::default());

    // With a window, a failure long after the one before counts from one again.
    let hourly = ThrottlePolicy::across_addresses();
    for minutes in [0, 10, 20] {
        let at = t0() + TimeDelta::minutes(minutes);
        store.record_login_failure("w", at, &hourly).await.unwrap();
    }
    let at = t0() + TimeDelta::minutes(30);
    let t = store.record_login_failure("w", at, &hourly).await.unwrap();
    assert_eq!(t.failures, 4);
    let later = at + TimeDelta::minutes(61);
    let t = store
        .record_login_failure("w", later, &hourly)
        .await
        .unwrap();
    assert_eq!(t.failures, 1, "an hour apart");

    // The clients an account signed in from are known for as long as asked.
    let anna = account(&store, "anna@example.com").await;
    let (home, phone) = (b"address:home".to_vec(), b"browser:phone".to_vec());
    assert!(
        !store
            .knows_client(anna, std::slice::from_ref(&home), t0())
            .await
            .unwrap()
    );
    store
        .remember_clients(anna, &[home.clone(), phone.clone()], t0())
        .await
        .unwrap();
    let since = t0() - TimeDelta::days(30);
    assert!(
        store
            .knows_client(anna, &[b"x".to_vec(), phone.clone()], since)
            .await
            .unwrap()
    );
    assert!(
        !store
            .knows_client(anna, &[b"x".to_vec()], since)
            .await
            .unwrap()
    );
    let after = t0() + TimeDelta::seconds(1);
    assert!(
        !store
            .knows_client(anna, std::slice::from_ref(&home), after)
            .await
            .unwrap()
    );
    store
        .remember_clients(anna, std::slice::from_ref(&home), after)
        .await
        .unwrap();
    assert!(store.knows_client(anna, &[home], after).await.unwrap());
}

pub async fn idempotency_keys_move_through_their_states(store: DynStore) {
    assert_eq!(
        store.begin_idempotent("a", "k", b"h1", t0()).await.unwrap(),
        Idempotency::New
    );
    assert_eq!(
        store.begin_idempotent("a", "k", b"h1", t0()).await.unwrap(),
        Idempotency::InProgress
    );
    assert_eq!(
        store.begin_idempotent("a", "k", b"h2", t0()).await.unwrap(),
        Idempotency::Mismatch
    );
    store.finish_idempotent("a", "k", 201, b"{}").await.unwrap();
    assert_eq!(
        store.begin_idempotent("a", "k", b"h1", t0()).await.unwrap(),
        Idempotency::Replay {
            status: 201,
            body: b"{}".to_vec()
        }
    );
    assert_eq!(
        store.begin_idempotent("b", "k", b"h1", t0()).await.unwrap(),
        Idempotency::New,
        "keys are per scope"
    );
    store.abandon_idempotent("b", "k").await.unwrap();
    assert_eq!(
        store.begin_idempotent("b", "k", b"h9", t0()).await.unwrap(),
        Idempotency::New,
        "an abandoned key is free"
    );
    assert_eq!(
        store
            .purge_idempotent(t0() + TimeDelta::seconds(1))
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        store.begin_idempotent("a", "k", b"h2", t0()).await.unwrap(),
        Idempotency::New
    );
}

pub async fn lapsed_sessions_and_quiet_counters_are_purged(store: DynStore) {
    let owner = account(&store, "purge@example.com").await;
    store
        .create_session(b"lapsed", owner, t0() - TimeDelta::minutes(1))
        .await
        .unwrap();
    store
        .create_session(b"live", owner, t0() + TimeDelta::hours(1))
        .await
        .unwrap();
    let policy = ThrottlePolicy::default();
    let yesterday = t0() - TimeDelta::hours(25);
    store
        .record_login_failure("quiet", yesterday, &policy)
        .await
        .unwrap();
    store
        .record_login_failure("recent", t0(), &policy)
        .await
        .unwrap();
    for _ in 0..9 {
        // Locked until well after now, though its last failure was long ago.
        store
            .record_login_failure("locked", yesterday + TimeDelta::hours(24), &policy)
            .await
            .unwrap();
    }
    let purged = store
        .purge_lapsed(t0(), t0() - TimeDelta::hours(24), t0())
        .await
        .unwrap();
    assert_eq!(purged, 2, "the lapsed session and the quiet counter");
    assert!(
        store
            .session_account(b"lapsed", t0() - TimeDelta::hours(1))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .session_account(b"live", t0())
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(store.throttle("quiet").await.unwrap().failures, 0);
    assert_eq!(store.throttle("recent").await.unwrap().failures, 1);
    assert_eq!(store.throttle("locked").await.unwrap().failures, 9);
}

pub async fn a_second_factor_step_is_taken_once_and_disabling_ends_every_session(store: DynStore) {
    let staff = account(&store, "rita").await;
    assert_eq!(store.second_factor(staff).await.unwrap(), None);
    assert!(
        !store.take_second_factor_step(staff, 100).await.unwrap(),
        "no factor, no step"
    );
    assert!(store.set_second_factor(staff, b"sealed-1").await.unwrap());
    assert_eq!(
        store.second_factor(staff).await.unwrap().as_deref(),
        Some(&b"sealed-1"[..])
    );
    assert!(store.take_second_factor_step(staff, 100).await.unwrap());
    assert!(
        !store.take_second_factor_step(staff, 100).await.unwrap(),
        "the same step"
    );
    assert!(
        !store.take_second_factor_step(staff, 99).await.unwrap(),
        "an earlier step"
    );
    assert!(store.take_second_factor_step(staff, 101).await.unwrap());
    // Taken at once from many callers (nodes), a step goes to one of them.
    let mut takers = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let store = Arc::clone(&store);
        takers.spawn(async move { store.take_second_factor_step(staff, 102).await.unwrap() });
    }
    let taken = takers.join_all().await;
    assert_eq!(taken.iter().filter(|t| **t).count(), 1);
    // A new factor starts with no step used.
    assert!(store.set_second_factor(staff, b"sealed-2").await.unwrap());
    assert!(store.take_second_factor_step(staff, 50).await.unwrap());

    for token in [&b"api"[..], b"pages"] {
        store
            .create_session(token, staff, t0() + TimeDelta::hours(1))
            .await
            .unwrap();
    }
    assert!(store.session_account(b"api", t0()).await.unwrap().is_some());
    assert!(store.disable_account(staff, t0()).await.unwrap());
    assert!(!store.disable_account(staff, t0()).await.unwrap(), "once");
    assert_eq!(store.session_account(b"api", t0()).await.unwrap(), None);
    assert_eq!(
        store.page_session_account(b"pages", t0()).await.unwrap(),
        None
    );
    assert_eq!(store.account_by_login("rita").await.unwrap(), None);
    assert!(
        !store.set_second_factor(staff, b"sealed-3").await.unwrap(),
        "a disabled account gets no new factor"
    );
}
