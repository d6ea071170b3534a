//! The store conformance suite: every behaviour the service relies on, written once against
//! the `Store` trait. `tests/sqlite.rs` and `tests/postgres.rs` run it on each backend; a
//! backend that passes it is a backend.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use realname_core::Code;
use realname_core::deposit::DepositRules;
use realname_core::platform::{
    ApiKey, DeliveryAttempt, DeliveryState, EventQuery, EventType, KeyMode, LinkToken, LinkUse,
    PlatformSession, Scope, WebhookEndpoint,
};
use realname_core::ports::{
    BankMessage, FileAnswer, HeldTransfer, MessageKey, PayoutNotice, SandboxLedger, SandboxPayout,
    TransferLedger, UnmatchedEntry,
};
use realname_core::state::{Event, Moment, Status, transition};
use realname_core::store::*;
use uuid::Uuid;

pub mod backends;
mod erasure;
pub mod fixtures;
mod rotation;

pub use erasure::*;
pub use rotation::*;

/// What a backend gives the service: the store, and the rails' ledgers beside it.
pub trait Backend: Store + SandboxLedger + TransferLedger {}
impl<T: Store + SandboxLedger + TransferLedger> Backend for T {}

pub type DynStore = Arc<dyn Backend>;

/// Generates one `#[tokio::test]` per case for a backend; `$make` is an async expression that
/// yields a fresh, empty `DynStore`.
#[macro_export]
macro_rules! conformance {
    ($make:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let store: $crate::DynStore = $make.await;
                $crate::$case(store).await;
            }
        )*
    };
}

/// Every case, for `conformance!`.
#[macro_export]
macro_rules! all_cases {
    ($make:expr) => {
        $crate::conformance!($make;
            accounts_are_unique_by_login,
            concurrent_writes_answer_each_their_own,
            sessions_expire_and_can_be_deleted,
            failed_logins_are_counted_and_cleared,
            idempotency_keys_move_through_their_states,
            an_account_has_one_open_application,
            drafts_change_only_while_draft,
            concurrent_submits_make_one_deposit,
            submit_checks_card_history_and_limits,
            transitions_are_guarded_and_write_their_effects,
            wrong_answers_are_counted_once_each,
            jobs_are_leased_lapse_and_finish,
            claims_and_decisions,
            duplicate_documents_are_found_across_accounts,
            the_audit_trail_filters_by_application,
            the_sandbox_ledger_and_clock,
            jobs_are_keyed_and_may_be_about_no_application,
            the_per_card_round_limit_counts_every_account,
            same_document_submits_with_different_cards_share_one_limit,
            the_review_queue_pages_in_order,
            api_keys_are_found_by_hash_listed_revoked_and_touched,
            platform_users_sessions_and_single_use_links,
            every_status_change_makes_one_event_in_its_sequence,
            events_are_dispatched_only_when_an_endpoint_listens,
            the_vault_keys_are_written_once,
            lapsed_sessions_and_quiet_counters_are_purged,
            old_events_deliveries_jobs_and_links_are_purged,
            a_second_factor_step_is_taken_once_and_disabling_ends_every_session,
            a_file_rail_puts_each_payout_in_one_file_at_a_time,
            a_bank_message_is_applied_once_and_all_or_nothing,
            a_bank_message_moves_many_applications_as_each_would_move_alone,
            erasure_takes_the_sealed_parts_and_keeps_the_history_and_hashes,
            the_sweep_finds_what_is_due_to_the_second,
            closing_a_platform_user_cancels_its_draft_and_frees_its_id,
            a_rotation_lists_what_is_not_under_the_current_key_and_reseals_it_guarded,
            an_endpoint_update_leaves_its_secrets_as_stored,
            a_store_tells_its_mode_and_keeps_the_first_written,
        );
    };
}

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-26T08:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

async fn account(store: &DynStore, login: &str) -> Uuid {
    let id = Uuid::new_v4();
    store
        .create_account(&Account {
            id,
            login: login.into(),
            password_hash: "$argon2id$x".into(),
            role: Role::User,
            created_at: t0(),
        })
        .await
        .unwrap();
    id
}

async fn draft(store: &DynStore, account_id: Uuid, documents: &[&[u8]]) -> Uuid {
    draft_with_card(store, account_id, documents, b"card-1").await
}

/// The moment of the next draft: a microsecond after the one before, from `t0()` on, so that
/// drafts made one after another are ordered and every case runs on its own clock, whatever
/// the real date is.
fn next_moment() -> DateTime<Utc> {
    use std::sync::atomic::{AtomicI64, Ordering};
    static STEP: AtomicI64 = AtomicI64::new(0);
    t0() + TimeDelta::microseconds(STEP.fetch_add(1, Ordering::Relaxed) + 1)
}

/// A draft whose bound card has the keyed hash `card`, created at `next_moment()`.
async fn draft_with_card(
    store: &DynStore,
    account_id: Uuid,
    documents: &[&[u8]],
    card: &[u8],
) -> Uuid {
    let id = Uuid::new_v4();
    store
        .create_application(&NewApplication {
            id,
            account_id,
            form: b"sealed form".to_vec(),
            document_hashes: documents.iter().map(|d| d.to_vec()).collect(),
            warnings: "[]".into(),
            consent: Consent {
                at: t0(),
                version: "v1".into(),
                address: "127.0.0.1".into(),
            },
            at: next_moment(),
            livemode: false,
        })
        .await
        .unwrap();
    let card = StoredCard {
        bank: "ICBC".into(),
        sealed: b"sealed card".to_vec(),
        card_hash: card.to_vec(),
    };
    store.set_card(id, &card, t0()).await.unwrap();
    id
}

fn submit_command(
    app: Uuid,
    account: Uuid,
    card: &[u8],
    documents: &[&[u8]],
    at: DateTime<Utc>,
) -> SubmitCommand {
    SubmitCommand {
        application_id: app,
        account_id: account,
        transition: transition(Status::Draft, &Event::Submit, &moment(app, at)).unwrap(),
        at,
        card_hash: card.to_vec(),
        document_hashes: documents.iter().map(|d| d.to_vec()).collect(),
        warnings: "[]".into(),
        limits: DepositRules::default().round_limits(at),
        end_to_end_id: format!("RN{}", app.simple()),
        sealed_amount: b"sealed 37".to_vec(),
    }
}

/// The default settings: deposits expire after 10 days, cases are due after 2.
fn moment(app: Uuid, at: DateTime<Utc>) -> Moment {
    Moment {
        application_id: app,
        at,
        deposit: DepositRules::default(),
        review_sla: TimeDelta::days(2),
        livemode: false,
    }
}

fn change(app: Uuid, from: Status, event: Event, at: DateTime<Utc>) -> StateChange {
    StateChange::new(
        app,
        from,
        transition(from, &event, &moment(app, at)).unwrap(),
        at,
    )
}

/// Takes a draft to `awaiting_amount`, deadline 10 days on.
async fn settled(store: &DynStore, account_id: Uuid, card: &[u8]) -> Uuid {
    let app = draft(store, account_id, &[b"doc-settled"]).await;
    assert_eq!(
        store
            .submit(&submit_command(app, account_id, card, &[], t0()))
            .await
            .unwrap(),
        SubmitOutcome::Submitted
    );
    let c = change(app, Status::DepositPending, Event::DepositSettled, t0());
    assert_eq!(store.apply(&c).await.unwrap(), Applied::Done);
    app
}

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
        .review_cases(CaseFilter::Open, t0(), None, 10)
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

pub async fn jobs_are_leased_lapse_and_finish(store: DynStore) {
    // Six jobs of their own, so that no job a transition queues (payouts, event dispatch)
    // is in the way of what is counted.
    for n in 0..6u8 {
        let queued = store
            .queue_job(&NewJob {
                key: format!("lease-{n}"),
                kind: JobKind::PayDeposit,
                application_id: None,
                subject: None,
                due_at: t0(),
            })
            .await
            .unwrap();
        assert!(queued);
    }
    assert!(
        store
            .claim_jobs(t0() - TimeDelta::seconds(1), 60, 10)
            .await
            .unwrap()
            .is_empty(),
        "not due yet"
    );
    // Two workers at once take disjoint jobs.
    let (a, b) = tokio::join!(store.claim_jobs(t0(), 60, 3), store.claim_jobs(t0(), 60, 3));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.len() + b.len(), 6);
    assert!(a.iter().all(|j| !b.iter().any(|k| k.id == j.id)));
    assert!(
        store
            .claim_jobs(t0() + TimeDelta::seconds(30), 60, 10)
            .await
            .unwrap()
            .is_empty(),
        "leased"
    );
    for job in &a {
        store.finish_job(job, t0()).await.unwrap();
    }
    store
        .retry_job(&b[0], t0() + TimeDelta::seconds(10))
        .await
        .unwrap();
    // After the lease lapses, unfinished jobs come back; finished ones never do.
    let again = store
        .claim_jobs(t0() + TimeDelta::seconds(61), 60, 10)
        .await
        .unwrap();
    assert_eq!(again.len(), b.len());
    assert!(again.iter().all(|j| b.iter().any(|k| k.id == j.id)));
    assert!(again.iter().all(|j| j.attempts == 2));
    let id = account(&store, "j@example.com").await;
    let paid = draft(&store, id, &[]).await;
    store
        .submit(&submit_command(paid, id, b"j-paid", &[], t0()))
        .await
        .unwrap();
    store.mark_deposit_paid(paid, t0()).await.unwrap();
    store
        .mark_deposit_paid(paid, t0() + TimeDelta::hours(1))
        .await
        .unwrap();
    assert_eq!(
        store
            .application(paid)
            .await
            .unwrap()
            .unwrap()
            .deposit
            .unwrap()
            .paid_at,
        Some(t0()),
        "the first payment time stays"
    );
}

pub async fn claims_and_decisions(store: DynStore) {
    let id = account(&store, "r@example.com").await;
    let app = settled(&store, id, b"card-1").await;
    let accepted = change(app, Status::AwaitingAmount, Event::AmountAccepted, t0());
    store.apply(&accepted).await.unwrap();
    let case = store
        .review_cases(CaseFilter::Open, t0(), None, 10)
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
            .review_cases(CaseFilter::Claimed, t0(), None, 10)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(
        store
            .review_cases(CaseFilter::Open, t0(), None, 10)
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
            .review_cases(CaseFilter::Open, later, None, 10)
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
        .review_cases(CaseFilter::Decided, later, None, 10)
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

pub async fn jobs_are_keyed_and_may_be_about_no_application(store: DynStore) {
    let id = account(&store, "k@example.com").await;
    let app = draft(&store, id, &[]).await;
    let job = |key: &str, application_id: Option<Uuid>| NewJob {
        key: key.into(),
        kind: JobKind::PayDeposit,
        application_id,
        subject: Some(format!("about {key}")),
        due_at: t0(),
    };
    assert!(store.queue_job(&job("one", Some(app))).await.unwrap());
    assert!(
        !store.queue_job(&job("one", Some(app))).await.unwrap(),
        "a key is queued once"
    );
    assert!(
        store.queue_job(&job("two", Some(app))).await.unwrap(),
        "an application may have many jobs of a kind"
    );
    assert!(store.queue_job(&job("batch", None)).await.unwrap());
    let jobs = store.claim_jobs(t0(), 60, 10).await.unwrap();
    assert!(
        jobs.iter()
            .all(|j| j.subject.as_deref() == Some(format!("about {}", j.key).as_str())),
        "a job keeps what it is about"
    );
    let mut keys: Vec<(&str, Option<Uuid>)> = jobs
        .iter()
        .map(|j| (j.key.as_str(), j.application_id))
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        [("batch", None), ("one", Some(app)), ("two", Some(app))]
    );
    // A transition's job is keyed as the core names it, so writing it twice queues it once.
    store
        .apply(&change(app, Status::Draft, Event::Cancel, t0()))
        .await
        .unwrap();
    let submitted = draft(&store, id, &[]).await;
    store
        .submit(&submit_command(submitted, id, b"card-k", &[], t0()))
        .await
        .unwrap();
    assert!(
        !store
            .queue_job(&NewJob::pay_deposit(submitted, t0()))
            .await
            .unwrap()
    );
}

/// Takes a fresh draft of `account` through a round with `card` and `documents` that ends in
/// an expired deposit, so the card and documents are free again but the round counts.
async fn spent_round(
    store: &DynStore,
    account: Uuid,
    card: &[u8],
    documents: &[&[u8]],
) -> SubmitOutcome {
    let app = draft_with_card(store, account, documents, card).await;
    let outcome = store
        .submit(&submit_command(app, account, card, documents, t0()))
        .await
        .unwrap();
    if outcome == SubmitOutcome::Submitted {
        store
            .apply(&change(
                app,
                Status::DepositPending,
                Event::DepositSettled,
                t0(),
            ))
            .await
            .unwrap();
        store
            .apply(&change(
                app,
                Status::AwaitingAmount,
                Event::DepositExpired,
                t0(),
            ))
            .await
            .unwrap();
    } else {
        store
            .apply(&change(app, Status::Draft, Event::Cancel, t0()))
            .await
            .unwrap();
    }
    outcome
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
            .review_cases(CaseFilter::Open, now, after, 2)
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

pub async fn the_vault_keys_are_written_once(store: DynStore) {
    use realname_core::store::SealedKeys;
    assert_eq!(store.vault_keys().await.unwrap(), None);
    assert!(
        !store.holds_data().await.unwrap(),
        "a new store holds nothing"
    );
    assert_eq!(store.sample_sealed().await.unwrap(), None);
    let keys = |n: u8| SealedKeys {
        kek_check: vec![n; 32],
        data_key: vec![n; 60],
        lookup_key: vec![n + 1; 60],
        retired_data_key: None,
        data_key_id: Some(vec![n; 4]),
        created_at: t0(),
    };
    assert_eq!(store.init_vault_keys(&keys(1)).await.unwrap(), keys(1));
    // A second node starting at the same moment gets the first one's keys, not its own.
    assert_eq!(store.init_vault_keys(&keys(2)).await.unwrap(), keys(1));
    assert_eq!(store.vault_keys().await.unwrap(), Some(keys(1)));

    // A rotation replaces them only if they are still the keys it started from.
    assert!(!store.replace_vault_keys(&keys(9), &keys(3)).await.unwrap());
    assert!(store.replace_vault_keys(&keys(1), &keys(3)).await.unwrap());
    assert_eq!(store.vault_keys().await.unwrap(), Some(keys(3)));
    assert!(
        !store.replace_vault_keys(&keys(1), &keys(4)).await.unwrap(),
        "a second rotation from the old key finds it gone"
    );
    // A data-key rotation keeps the retired key until it ends, and is guarded by it too.
    let rotating = SealedKeys {
        data_key: vec![5; 60],
        retired_data_key: Some(keys(3).data_key),
        data_key_id: Some(vec![5; 4]),
        ..keys(3)
    };
    assert!(store.replace_vault_keys(&keys(3), &rotating).await.unwrap());
    assert_eq!(store.vault_keys().await.unwrap(), Some(rotating.clone()));
    let other = SealedKeys {
        retired_data_key: None,
        ..rotating.clone()
    };
    assert!(
        !store.replace_vault_keys(&other, &keys(4)).await.unwrap(),
        "the same data key but not its retired one is not the stored keys"
    );
    assert!(store.replace_vault_keys(&rotating, &other).await.unwrap());
    assert_eq!(store.vault_keys().await.unwrap(), Some(other));

    // Accounts alone are no key's data; an application is.
    let owner = account(&store, "keys@example.com").await;
    assert!(!store.holds_data().await.unwrap());
    let id = draft(&store, owner, &[b"doc"]).await;
    assert!(store.holds_data().await.unwrap());
    assert_eq!(
        store.sample_sealed().await.unwrap(),
        Some((id, b"sealed form".to_vec()))
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

fn held(e2e: &str) -> HeldTransfer {
    HeldTransfer {
        end_to_end_id: e2e.into(),
        application_id: Uuid::new_v4(),
        sealed: format!("sealed {e2e}").into_bytes(),
    }
}

fn message(
    kind: &str,
    msg_id: &str,
    notices: Vec<PayoutNotice>,
    resend_at: DateTime<Utc>,
) -> BankMessage {
    BankMessage {
        key: Some(MessageKey {
            kind: kind.into(),
            msg_id: msg_id.into(),
        }),
        source: format!("{msg_id}.xml"),
        notices,
        resend_at,
    }
}

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
