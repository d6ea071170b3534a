//! The store conformance suite: every behaviour the service relies on, written once against
//! the `Store` port, a file per role. `tests/sqlite.rs` and `tests/postgres.rs` run it on each backend; a
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

mod accounts;
mod applications;
pub mod backends;
mod erasure;
pub mod fixtures;
mod jobs;
mod keys;
mod lifecycle;
mod platform;
mod rail;
mod review;
mod rotation;
mod sandbox;
mod screening;

pub use accounts::*;
pub use applications::*;
pub use erasure::*;
pub use jobs::*;
pub use keys::*;
pub use lifecycle::*;
pub use platform::*;
pub use rail::*;
pub use review::*;
pub use rotation::*;
pub use sandbox::*;
pub use screening::*;

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
            // accounts.rs
            accounts_are_unique_by_login,
            sessions_expire_and_can_be_deleted,
            failed_logins_are_counted_and_cleared,
            idempotency_keys_move_through_their_states,
            lapsed_sessions_and_quiet_counters_are_purged,
            a_second_factor_step_is_taken_once_and_disabling_ends_every_session,

            // applications.rs
            concurrent_writes_answer_each_their_own,
            an_account_has_one_open_application,
            drafts_change_only_while_draft,
            concurrent_submits_make_one_deposit,
            submit_checks_card_history_and_limits,
            transitions_are_guarded_and_write_their_effects,
            wrong_answers_are_counted_once_each,
            the_per_card_round_limit_counts_every_account,
            same_document_submits_with_different_cards_share_one_limit,

            // jobs.rs
            jobs_are_leased_lapse_and_finish,
            jobs_are_keyed_and_may_be_about_no_application,

            // review.rs
            claims_and_decisions,
            duplicate_documents_are_found_across_accounts,
            the_audit_trail_filters_by_application,
            the_review_queue_pages_in_order,
            a_first_approval_waits_for_a_second_approver,
            risk_grades_are_kept_and_the_latest_is_read,
            ungraded_customers_and_reviews_due_are_found,

            // platform.rs
            api_keys_are_found_by_hash_listed_revoked_and_touched,
            platform_users_sessions_and_single_use_links,
            every_status_change_makes_one_event_in_its_sequence,
            events_are_dispatched_only_when_an_endpoint_listens,

            // rotation.rs
            a_rotation_lists_what_is_not_under_the_current_key_and_reseals_it_guarded,
            an_endpoint_update_leaves_its_secrets_as_stored,

            // keys.rs
            the_vault_keys_are_written_once,

            // erasure.rs
            erasure_takes_the_sealed_parts_and_keeps_the_history_and_hashes,
            the_sweep_finds_what_is_due_to_the_second,
            closing_a_platform_user_cancels_its_draft_and_frees_its_id,

            // lifecycle.rs
            old_events_deliveries_jobs_and_links_are_purged,

            // sandbox.rs
            the_sandbox_ledger_and_clock,
            a_store_tells_its_mode_and_keeps_the_first_written,

            // screening.rs
            a_list_version_replaces_its_own_source_only_and_once,
            a_held_submit_opens_a_screening_case_that_two_decide,
            a_dismissal_releases_the_payout_and_is_remembered,

            // rail.rs
            a_file_rail_puts_each_payout_in_one_file_at_a_time,
            a_bank_message_is_applied_once_and_all_or_nothing,
            a_bank_message_moves_many_applications_as_each_would_move_alone,
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
        screening: None,
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
