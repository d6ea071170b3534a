//! The store's ports, implemented once for every engine: each method runs its operation,
//! written in this crate's module for its concern, on the engine's transactions.

/// Implements `Store`, `SandboxLedger` and `TransferLedger` for an engine:
/// `impl_store!(SqliteStore);`.
#[macro_export]
macro_rules! impl_store {
    ($engine:ty) => {
        $crate::forward! { $engine; Store;
            lifecycle::ping() -> ();
            accounts::create_account(account: &Account) -> ();
            accounts::account_by_login(login: &str) -> Option<Account>;
            accounts::logins(account_ids: &[Uuid]) -> HashMap<Uuid, String>;
            accounts::create_session(token_hash: &[u8], account_id: Uuid, expires_at: DateTime<Utc>) -> ();
            accounts::session_account(token_hash: &[u8], now: DateTime<Utc>) -> Option<Account>;
            accounts::delete_session(token_hash: &[u8]) -> ();
            accounts::set_second_factor(account_id: Uuid, sealed_secret: &[u8]) -> bool;
            accounts::second_factor(account_id: Uuid) -> Option<Vec<u8>>;
            accounts::take_second_factor_step(account_id: Uuid, step: i64) -> bool;
            accounts::disable_account(account_id: Uuid, at: DateTime<Utc>) -> bool;
            accounts::throttle(login_key: &str) -> Throttle;
            accounts::record_login_failure(login_key: &str, now: DateTime<Utc>, policy: &ThrottlePolicy) -> Throttle;
            accounts::remember_clients(account_id: Uuid, clients: &[Vec<u8>], at: DateTime<Utc>) -> ();
            accounts::knows_client(account_id: Uuid, clients: &[Vec<u8>], since: DateTime<Utc>) -> bool;
            accounts::clear_login_failures(login_key: &str) -> ();
            accounts::begin_idempotent(scope: &str, key: &str, request_hash: &[u8], now: DateTime<Utc>) -> Idempotency;
            accounts::finish_idempotent(scope: &str, key: &str, status: u16, body: &[u8]) -> ();
            accounts::abandon_idempotent(scope: &str, key: &str) -> ();
            accounts::purge_idempotent(before: DateTime<Utc>) -> u64;
            accounts::count_hits(bucket: &str, window: DateTime<Utc>, hits: u32) -> u32;
            accounts::purge_lapsed(sessions_before: DateTime<Utc>, throttles_before: DateTime<Utc>, now: DateTime<Utc>) -> u64;
            lifecycle::purge_history(forget: &Forget) -> Forgotten;
            lifecycle::erase(erasure: &Erasure) -> Erased;
            lifecycle::retention_due(due: &Due, limit: u32) -> Vec<RetentionCandidate>;
            lifecycle::settle_erasures() -> ();
            lifecycle::account_closed_at(account_id: Uuid) -> Option<DateTime<Utc>>;
            lifecycle::close_platform_user(closure: &Closure) -> Closed;
            applications::create_application(application: &NewApplication) -> ();
            applications::application(app: Uuid) -> Option<ApplicationRecord>;
            applications::applications_of(account_id: Uuid) -> Vec<ApplicationRecord>;
            applications::update_draft(app: Uuid, form: &[u8], document_hashes: &[Vec<u8>], warnings: &str, at: DateTime<Utc>) -> Option<ApplicationRecord>;
            applications::set_card(app: Uuid, card: &StoredCard, at: DateTime<Utc>) -> Applied;
            applications::put_image(app: Uuid, meta: &ImageMeta, sealed: &[u8], at: DateTime<Utc>) -> Applied;
            applications::image(app: Uuid, slot: &str) -> Option<(ImageMeta, Vec<u8>)>;
            applications::card_history(account_id: Uuid, card_hash: &[u8]) -> CardHistory;
            applications::submit(command: &SubmitCommand) -> SubmitOutcome;
            applications::apply(change: &StateChange) -> Applied;
            rail::apply_bank_message(message: &BankMessage, changes: &[StateChange], unmatched: &[UnmatchedEntry], at: DateTime<Utc>) -> MessageApplied;
            applications::record_wrong_answer(app: Uuid, attempts_before: u32, at: DateTime<Utc>) -> Applied;
            jobs::queue_job(job: &NewJob) -> bool;
            jobs::claim_jobs(now: DateTime<Utc>, lease_seconds: i64, limit: u32) -> Vec<Job>;
            jobs::finish_job(job: &Job, at: DateTime<Utc>) -> ();
            jobs::retry_job(job: &Job, due_at: DateTime<Utc>) -> ();
            jobs::mark_deposit_paid(app: Uuid, at: DateTime<Utc>) -> ();
            jobs::deposit_application(end_to_end_id: &str) -> Option<(Uuid, Status)>;
            jobs::deposit_applications(end_to_end_ids: &[String]) -> HashMap<String, (Uuid, Status)>;
            review::review_cases(filter: CaseFilter, now: DateTime<Utc>, after: Option<(DateTime<Utc>, Uuid)>, limit: u32) -> Vec<CaseRecord>;
            review::review_case(case: Uuid) -> Option<CaseRecord>;
            review::review_case_of(application: Uuid) -> Option<CaseRecord>;
            review::case_facts(application_ids: &[Uuid]) -> Vec<CaseFacts>;
            review::claim_case(case: Uuid, reviewer: Uuid, now: DateTime<Utc>, until: DateTime<Utc>) -> CaseWrite;
            review::decide_case(case: Uuid, reviewer: Uuid, change: &StateChange, audit: &AuditEntry) -> CaseWrite;
            review::append_audit(entry: &AuditEntry) -> ();
            review::audit_trail(application_id: Option<Uuid>, limit: u32) -> Vec<AuditEntry>;
            platform::create_api_key(key: &ApiKey) -> ();
            platform::api_key(key_hash: &[u8]) -> Option<ApiKey>;
            platform::api_keys() -> Vec<ApiKey>;
            platform::revoke_api_key(prefix: &str, at: DateTime<Utc>) -> bool;
            platform::touch_api_key(prefix: &str, at: DateTime<Utc>) -> ();
            platform::platform_account(external_user_id: &str) -> Option<Uuid>;
            platform::link_platform_user(external_user_id: &str, account: &Account) -> Uuid;
            platform::external_user_of(account_id: Uuid) -> Option<String>;
            platform::create_platform_session(session: &PlatformSession, link: &LinkToken) -> ();
            platform::platform_session(session: Uuid) -> Option<PlatformSession>;
            platform::add_link(link: &LinkToken) -> ();
            platform::use_link(token_hash: &[u8], now: DateTime<Utc>) -> LinkUse;
            platform::link(token_hash: &[u8], now: DateTime<Utc>) -> Option<(PlatformSession, bool)>;
            platform::create_page_session(token_hash: &[u8], account_id: Uuid, expires_at: DateTime<Utc>) -> ();
            platform::page_session_account(token_hash: &[u8], now: DateTime<Utc>) -> Option<Account>;
            platform::events(query: &EventQuery) -> Vec<PlatformEvent>;
            platform::event(event_id: &str) -> Option<PlatformEvent>;
            webhooks::create_webhook_endpoint(endpoint: &WebhookEndpoint) -> ();
            webhooks::webhook_endpoints() -> Vec<WebhookEndpoint>;
            webhooks::webhook_endpoint(endpoint: Uuid) -> Option<WebhookEndpoint>;
            webhooks::update_webhook_endpoint(endpoint: &WebhookEndpoint) -> bool;
            webhooks::rotate_webhook_secret(endpoint: Uuid, secret: &[u8], previous_expires_at: DateTime<Utc>) -> bool;
            webhooks::delete_webhook_endpoint(endpoint: Uuid) -> bool;
            webhooks::record_delivery_attempt(attempt: &DeliveryAttempt) -> ();
            webhooks::delivery_attempts(endpoint: Uuid, before: Option<i64>, limit: u32) -> Vec<DeliveryAttempt>;
            keys::vault_keys() -> Option<SealedKeys>;
            keys::init_vault_keys(keys: &SealedKeys) -> SealedKeys;
            keys::replace_vault_keys(expected: &SealedKeys, keys: &SealedKeys) -> bool;
            keys::sealed_values(column: SealedColumn, current: &[u8], after: Option<&[String]>, limit: u32) -> Vec<SealedValue>;
            keys::reseal_values(column: SealedColumn, values: Vec<Resealed>) -> u64;
            keys::count_sealed(column: SealedColumn, prefix: &[u8]) -> u64;
            keys::holds_data() -> bool;
            keys::sample_sealed() -> Option<(Uuid, Vec<u8>)>;
            sandbox::sandbox_offset() -> i64;
            sandbox::advance_sandbox_clock(seconds: i64, at_most: i64) -> Option<i64>;
            sandbox::mode_facts() -> ModeFacts;
            sandbox::write_mode(mode: KeyMode, seen: Option<KeyMode>, at: DateTime<Utc>) -> Option<KeyMode>;
        }
        $crate::forward! { $engine; SandboxLedger;
            sandbox::pay(payout: &SandboxPayout) -> ();
            sandbox::statement(card_hash: &[u8], now: DateTime<Utc>) -> Vec<SandboxTransaction>;
            sandbox::due(now: DateTime<Utc>) -> Vec<SandboxPayout>;
            sandbox::acknowledge(end_to_end_ids: &[String]) -> ();
        }
        $crate::forward! { $engine; TransferLedger;
            rail::hold(transfer: &HeldTransfer, due_at: DateTime<Utc>) -> ();
            rail::take_batch(msg_id: &str, now: DateTime<Utc>, max: u32) -> Vec<HeldTransfer>;
            rail::unwritten() -> Vec<OutgoingFile>;
            rail::written(msg_id: &str, at: DateTime<Utc>) -> ();
            rail::rail_report() -> RailReport;
        }
    };
}

/// Implements a port for an engine, each method calling `module::method(engine, args…)`.
#[doc(hidden)]
#[macro_export]
macro_rules! forward {
    ($engine:ty; $port:ident; $($module:ident :: $name:ident ( $($arg:ident : $ty:ty),* ) -> $ret:ty;)*) => {
        const _: () = {
            use $crate::prelude::*;

            #[async_trait]
            impl $port for $engine {
                $(
                    async fn $name(&self, $($arg: $ty),*) -> StoreResult<$ret> {
                        $crate::$module::$name(self, $($arg),*).await
                    }
                )*
            }
        };
    };
}
