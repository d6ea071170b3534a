//! The store's ports, implemented once for every engine: each method runs its operation,
//! written in this crate's module for its concern, on the engine's transactions.

/// Implements every role of `Store`, and `SandboxLedger` and `TransferLedger`, for an engine:
/// `impl_store!(SqliteStore);`.
#[macro_export]
macro_rules! impl_store {
    ($engine:ty) => {
        $crate::forward! { $engine; Accounts;
            write_once accounts::create_account(account: &Account) -> ();
            read accounts::account_by_login(login: &str) -> Option<Account>;
            read accounts::logins(account_ids: &[Uuid]) -> HashMap<Uuid, String>;
            write_once accounts::create_session(token_hash: &[u8], account_id: Uuid, expires_at: DateTime<Utc>) -> ();
            read accounts::session_account(token_hash: &[u8], now: DateTime<Utc>) -> Option<Account>;
            write_once accounts::delete_session(token_hash: &[u8]) -> ();
            write_once accounts::set_second_factor(account_id: Uuid, sealed_secret: &[u8]) -> bool;
            read accounts::second_factor(account_id: Uuid) -> Option<Vec<u8>>;
            write_once accounts::take_second_factor_step(account_id: Uuid, step: i64) -> bool;
            write accounts::disable_account(account_id: Uuid, at: DateTime<Utc>) -> bool;
            read accounts::throttle(login_key: &str) -> Throttle;
            write accounts::record_login_failure(login_key: &str, now: DateTime<Utc>, policy: &ThrottlePolicy) -> Throttle;
            write_once accounts::clear_login_failures(login_key: &str) -> ();
            write accounts::remember_clients(account_id: Uuid, clients: &[Vec<u8>], at: DateTime<Utc>) -> ();
            read accounts::knows_client(account_id: Uuid, clients: &[Vec<u8>], since: DateTime<Utc>) -> bool;
            write_once accounts::begin_idempotent(scope: &str, key: &str, request_hash: &[u8], now: DateTime<Utc>) -> Idempotency;
            write_once accounts::finish_idempotent(scope: &str, key: &str, status: u16, body: &[u8]) -> ();
            write_once accounts::abandon_idempotent(scope: &str, key: &str) -> ();
            write_once accounts::purge_idempotent(before: DateTime<Utc>) -> u64;
            write_once accounts::count_hits(bucket: &str, window: DateTime<Utc>, hits: u32) -> u32;
            write accounts::purge_lapsed(sessions_before: DateTime<Utc>, throttles_before: DateTime<Utc>, now: DateTime<Utc>) -> u64;
        }
        $crate::forward! { $engine; Applications;
            write applications::create_application(application: &NewApplication) -> ();
            read applications::application(app: Uuid) -> Option<ApplicationRecord>;
            read applications::applications_of(account_id: Uuid) -> Vec<ApplicationRecord>;
            write_once applications::update_draft(app: Uuid, form: &[u8], document_hashes: &[Vec<u8>], warnings: &str, at: DateTime<Utc>) -> Option<ApplicationRecord>;
            write_once applications::set_card(app: Uuid, card: &StoredCard, at: DateTime<Utc>) -> Applied;
            write applications::put_image(app: Uuid, meta: &ImageMeta, sealed: &[u8], at: DateTime<Utc>) -> Applied;
            read_long applications::image(app: Uuid, slot: &str) -> Option<(ImageMeta, Vec<u8>)>;
            read applications::card_history(account_id: Uuid, card_hash: &[u8]) -> CardHistory;
            write applications::submit(command: &SubmitCommand) -> SubmitOutcome;
            write_once applications::apply(change: &StateChange) -> Applied;
            engine rail::apply_bank_message(message: &BankMessage, changes: &[StateChange], unmatched: &[UnmatchedEntry], at: DateTime<Utc>) -> MessageApplied;
            write applications::record_wrong_answer(app: Uuid, attempts_before: u32, at: DateTime<Utc>) -> Applied;
        }
        $crate::forward! { $engine; Jobs;
            write_once jobs::queue_job(job: &NewJob) -> bool;
            write_once jobs::claim_jobs(now: DateTime<Utc>, lease_seconds: i64, limit: u32) -> Vec<Job>;
            write_once jobs::finish_job(job: &Job, at: DateTime<Utc>) -> ();
            write_once jobs::retry_job(job: &Job, due_at: DateTime<Utc>) -> ();
            write_once jobs::mark_deposit_paid(app: Uuid, at: DateTime<Utc>) -> ();
            read jobs::deposit_application(end_to_end_id: &str) -> Option<(Uuid, Status)>;
            read_long jobs::deposit_applications(end_to_end_ids: &[String]) -> HashMap<String, (Uuid, Status)>;
        }
        $crate::forward! { $engine; Review;
            read review::review_cases(filter: CaseFilter, kind: Option<CaseKind>, now: DateTime<Utc>, after: Option<(DateTime<Utc>, Uuid)>, limit: u32) -> Vec<CaseRecord>;
            read review::review_case(case: Uuid) -> Option<CaseRecord>;
            read review::review_case_of(application: Uuid) -> Option<CaseRecord>;
            read review::case_facts(application_ids: &[Uuid]) -> Vec<CaseFacts>;
            write_once review::claim_case(case: Uuid, reviewer: Uuid, now: DateTime<Utc>, until: DateTime<Utc>) -> CaseWrite;
            write_once review::decide_case(case: Uuid, reviewer: Uuid, change: &StateChange, audit: &AuditEntry) -> CaseWrite;
            write review::first_approval(case: &CaseRecord, reviewer: Uuid, audit: &AuditEntry) -> CaseWrite;
            write risk::record_grade(grade: &RiskGradeRecord, livemode: bool) -> ();
            read risk::grades_of(application_ids: &[Uuid]) -> Vec<RiskGradeRecord>;
            read risk::reviews_due(now: DateTime<Utc>, limit: u32) -> Vec<Uuid>;
            read risk::ungraded(limit: u32) -> Vec<Uuid>;
            write_once risk::open_periodic(case: Uuid, application: Uuid, at: DateTime<Utc>, due_at: DateTime<Utc>) -> bool;
            write risk::close_periodic(case: &CaseRecord, reviewer: Uuid, audit: &AuditEntry) -> CaseWrite;
            write_once review::append_audit(entry: &AuditEntry) -> ();
            read_long review::audit_trail(application_id: Option<Uuid>, limit: u32) -> Vec<AuditEntry>;
        }
        $crate::forward! { $engine; Platform;
            write_once platform::create_api_key(key: &ApiKey) -> ();
            read platform::api_key(key_hash: &[u8]) -> Option<ApiKey>;
            read platform::api_keys() -> Vec<ApiKey>;
            write_once platform::revoke_api_key(prefix: &str, at: DateTime<Utc>) -> bool;
            write_once platform::touch_api_key(prefix: &str, at: DateTime<Utc>) -> ();
            read platform::platform_account(external_user_id: &str) -> Option<Uuid>;
            write platform::link_platform_user(external_user_id: &str, account: &Account) -> Uuid;
            read platform::external_user_of(account_id: Uuid) -> Option<String>;
            write platform::create_platform_session(session: &PlatformSession, link: &LinkToken) -> ();
            read platform::platform_session(session: Uuid) -> Option<PlatformSession>;
            write_once platform::add_link(link: &LinkToken) -> ();
            write_once platform::use_link(token_hash: &[u8], now: DateTime<Utc>) -> LinkUse;
            read platform::link(token_hash: &[u8], now: DateTime<Utc>) -> Option<(PlatformSession, bool)>;
            write_once platform::create_page_session(token_hash: &[u8], account_id: Uuid, expires_at: DateTime<Utc>) -> ();
            read platform::page_session_account(token_hash: &[u8], now: DateTime<Utc>) -> Option<Account>;
            read platform::events(query: &EventQuery) -> Vec<PlatformEvent>;
            read platform::event(event_id: &str) -> Option<PlatformEvent>;
        }
        $crate::forward! { $engine; Webhooks;
            write_once webhooks::create_webhook_endpoint(endpoint: &WebhookEndpoint) -> ();
            read webhooks::webhook_endpoints() -> Vec<WebhookEndpoint>;
            read webhooks::webhook_endpoint(endpoint: Uuid) -> Option<WebhookEndpoint>;
            write_once webhooks::update_webhook_endpoint(endpoint: &WebhookEndpoint) -> bool;
            write_once webhooks::rotate_webhook_secret(endpoint: Uuid, secret: &[u8], previous_expires_at: DateTime<Utc>) -> bool;
            write_once webhooks::delete_webhook_endpoint(endpoint: Uuid) -> bool;
            write_once webhooks::record_delivery_attempt(attempt: &DeliveryAttempt) -> ();
            read webhooks::delivery_attempts(endpoint: Uuid, before: Option<i64>, limit: u32) -> Vec<DeliveryAttempt>;
        }
        $crate::forward! { $engine; Keys;
            read keys::vault_keys() -> Option<SealedKeys>;
            write keys::init_vault_keys(keys: &SealedKeys) -> SealedKeys;
            write_once keys::replace_vault_keys(expected: &SealedKeys, keys: &SealedKeys) -> bool;
            read keys::sealed_values(column: SealedColumn, current: &[u8], after: Option<&[String]>, limit: u32) -> Vec<SealedValue>;
            write keys::reseal_values(column: SealedColumn, values: Vec<Resealed>) -> u64;
            read keys::count_sealed(column: SealedColumn, prefix: &[u8]) -> u64;
            read keys::holds_data() -> bool;
            read keys::sample_sealed() -> Option<(Uuid, Vec<u8>)>;
        }
        $crate::forward! { $engine; Lifecycle;
            read lifecycle::ping() -> ();
            write lifecycle::erase(erasure: &Erasure) -> Erased;
            read_long lifecycle::retention_due(due: &Due, limit: u32) -> Vec<RetentionCandidate>;
            engine lifecycle::settle_erasures() -> ();
            read lifecycle::account_closed_at(account_id: Uuid) -> Option<DateTime<Utc>>;
            write lifecycle::close_platform_user(closure: &Closure) -> Closed;
            write lifecycle::purge_history(forget: &Forget) -> Forgotten;
        }
        $crate::forward! { $engine; Sandbox;
            read sandbox::sandbox_offset() -> i64;
            write_once sandbox::advance_sandbox_clock(seconds: i64, at_most: i64) -> Option<i64>;
            read sandbox::mode_facts() -> ModeFacts;
            write sandbox::write_mode(mode: KeyMode, seen: Option<KeyMode>, at: DateTime<Utc>) -> Option<KeyMode>;
        }
        $crate::forward! { $engine; Screening;
            read screening::list_versions() -> Vec<ListVersionRecord>;
            write screening::import_list(import: &ListImport) -> Imported;
            read_long screening::listed_entries() -> Vec<(String, StoredEntry)>;
            read screening::dismissals(identity_hash: &[u8]) -> Vec<(String, String, String)>;
            read screening::screening_of(applications: &[Uuid]) -> Vec<ScreeningSubject>;
            read screening::screening_runs(application: Uuid) -> Vec<ScreeningRun>;
            write screening::decide_screening(decision: &ScreeningDecision) -> CaseWrite;
            read screening::rescreen_candidates(shard: u8, after: Option<Uuid>, limit: u32) -> Vec<RescreenCandidate>;
            write screening::rescreen_batch(batch: &RescreenBatch) -> ();
        }
        $crate::forward! { $engine; SandboxLedger;
            write_once sandbox::pay(payout: &SandboxPayout) -> ();
            read sandbox::statement(card_hash: &[u8], now: DateTime<Utc>) -> Vec<SandboxTransaction>;
            read sandbox::due(now: DateTime<Utc>) -> Vec<SandboxPayout>;
            write sandbox::acknowledge(end_to_end_ids: &[String]) -> ();
        }
        $crate::forward! { $engine; TransferLedger;
            write_once rail::hold(transfer: &HeldTransfer, due_at: DateTime<Utc>) -> ();
            write rail::take_batch(msg_id: &str, now: DateTime<Utc>, max: u32) -> Vec<HeldTransfer>;
            read_long rail::unwritten() -> Vec<OutgoingFile>;
            write_once rail::written(msg_id: &str, at: DateTime<Utc>) -> ();
            read_long rail::rail_report() -> RailReport;
        }
    };
}

/// Implements a port for an engine: each method runs `module::method(db, args…)` as the work
/// its kind names.
#[doc(hidden)]
#[macro_export]
macro_rules! forward {
    ($engine:ty; $port:ident; $($kind:ident $module:ident :: $name:ident ( $($arg:ident : $ty:ty),* ) -> $ret:ty;)*) => {
        const _: () = {
            use $crate::prelude::*;

            #[async_trait]
            impl $port for $engine {
                $(
                    async fn $name(&self, $($arg: $ty),*) -> StoreResult<$ret> {
                        $crate::run!($kind, self, $module::$name($($arg: $ty),*))
                    }
                )*
            }
        };
    };
}

/// One port method's body: the engine's own (`engine`), or an operation run as a `write`, a
/// `write_once` (one statement), a `read` or a `read_long` of the engine, on owned copies of
/// the arguments.
#[doc(hidden)]
#[macro_export]
macro_rules! run {
    (engine, $engine:expr, $module:ident :: $name:ident ($($arg:ident : $ty:ty),*)) => {
        $crate::$module::$name($engine $(, $arg)*).await
    };
    ($kind:ident, $engine:expr, $module:ident :: $name:ident ($($arg:ident : $ty:ty),*)) => {{
        $(let $arg = <$ty as $crate::db::Arg>::own($arg);)*
        $crate::db::Engine::$kind(
            $engine,
            $crate::db::work(move |db| {
                Box::pin(async move {
                    $crate::$module::$name(db $(, <$ty as $crate::db::Arg>::view(&$arg))*).await
                })
            }),
        )
        .await
    }};
}
