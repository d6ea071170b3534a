//! The store's ports, implemented once for every engine: each method runs its operation on
//! the engine's transactions.

/// Implements `Store` and `SandboxLedger` for an engine: `impl_store!(SqliteStore);`.
#[macro_export]
macro_rules! impl_store {
    ($engine:ty) => {
        const _: () = {
            use $crate::prelude::*;

            #[async_trait]
            impl Store for $engine {
                async fn ping(&self) -> StoreResult<()> {
                    $crate::lifecycle::ping(self).await
                }

                async fn create_account(&self, account: &Account) -> StoreResult<()> {
                    $crate::accounts::create_account(self, account).await
                }

                async fn account_by_login(&self, login: &str) -> StoreResult<Option<Account>> {
                    $crate::accounts::account_by_login(self, login).await
                }

                async fn logins(
                    &self,
                    account_ids: &[Uuid],
                ) -> StoreResult<std::collections::HashMap<Uuid, String>> {
                    $crate::accounts::logins(self, account_ids).await
                }

                async fn create_session(
                    &self,
                    token_hash: &[u8],
                    account_id: Uuid,
                    expires_at: DateTime<Utc>,
                ) -> StoreResult<()> {
                    $crate::accounts::create_session(self, token_hash, account_id, expires_at).await
                }

                async fn session_account(
                    &self,
                    token_hash: &[u8],
                    now: DateTime<Utc>,
                ) -> StoreResult<Option<Account>> {
                    $crate::accounts::session_account(self, token_hash, now).await
                }

                async fn delete_session(&self, token_hash: &[u8]) -> StoreResult<()> {
                    $crate::accounts::delete_session(self, token_hash).await
                }

                async fn set_second_factor(
                    &self,
                    account_id: Uuid,
                    sealed_secret: &[u8],
                ) -> StoreResult<bool> {
                    $crate::accounts::set_second_factor(self, account_id, sealed_secret).await
                }

                async fn second_factor(&self, account_id: Uuid) -> StoreResult<Option<Vec<u8>>> {
                    $crate::accounts::second_factor(self, account_id).await
                }

                async fn take_second_factor_step(
                    &self,
                    account_id: Uuid,
                    step: i64,
                ) -> StoreResult<bool> {
                    $crate::accounts::take_second_factor_step(self, account_id, step).await
                }

                async fn disable_account(
                    &self,
                    account_id: Uuid,
                    at: DateTime<Utc>,
                ) -> StoreResult<bool> {
                    $crate::accounts::disable_account(self, account_id, at).await
                }

                async fn throttle(&self, login_key: &str) -> StoreResult<Throttle> {
                    $crate::accounts::throttle(self, login_key).await
                }

                async fn record_login_failure(
                    &self,
                    login_key: &str,
                    now: DateTime<Utc>,
                    policy: &ThrottlePolicy,
                ) -> StoreResult<Throttle> {
                    $crate::accounts::record_login_failure(self, login_key, now, policy).await
                }

                async fn remember_clients(
                    &self,
                    account_id: Uuid,
                    clients: &[Vec<u8>],
                    at: DateTime<Utc>,
                ) -> StoreResult<()> {
                    $crate::accounts::remember_clients(self, account_id, clients, at).await
                }

                async fn knows_client(
                    &self,
                    account_id: Uuid,
                    clients: &[Vec<u8>],
                    since: DateTime<Utc>,
                ) -> StoreResult<bool> {
                    $crate::accounts::knows_client(self, account_id, clients, since).await
                }

                async fn clear_login_failures(&self, login_key: &str) -> StoreResult<()> {
                    $crate::accounts::clear_login_failures(self, login_key).await
                }

                async fn begin_idempotent(
                    &self,
                    scope: &str,
                    key: &str,
                    request_hash: &[u8],
                    now: DateTime<Utc>,
                ) -> StoreResult<Idempotency> {
                    $crate::accounts::begin_idempotent(self, scope, key, request_hash, now).await
                }

                async fn finish_idempotent(
                    &self,
                    scope: &str,
                    key: &str,
                    status: u16,
                    body: &[u8],
                ) -> StoreResult<()> {
                    $crate::accounts::finish_idempotent(self, scope, key, status, body).await
                }

                async fn abandon_idempotent(&self, scope: &str, key: &str) -> StoreResult<()> {
                    $crate::accounts::abandon_idempotent(self, scope, key).await
                }

                async fn purge_idempotent(&self, before: DateTime<Utc>) -> StoreResult<u64> {
                    $crate::accounts::purge_idempotent(self, before).await
                }

                async fn count_hits(
                    &self,
                    bucket: &str,
                    window: DateTime<Utc>,
                    hits: u32,
                ) -> StoreResult<u32> {
                    $crate::accounts::count_hits(self, bucket, window, hits).await
                }

                async fn purge_lapsed(
                    &self,
                    sessions_before: DateTime<Utc>,
                    throttles_before: DateTime<Utc>,
                    now: DateTime<Utc>,
                ) -> StoreResult<u64> {
                    $crate::accounts::purge_lapsed(self, sessions_before, throttles_before, now)
                        .await
                }

                async fn purge_history(&self, forget: &Forget) -> StoreResult<Forgotten> {
                    $crate::lifecycle::purge_history(self, forget).await
                }

                async fn erase(&self, erasure: &Erasure) -> StoreResult<Erased> {
                    $crate::lifecycle::erase(self, erasure).await
                }

                async fn retention_due(
                    &self,
                    due: &realname_core::retention::Due,
                    limit: u32,
                ) -> StoreResult<Vec<RetentionCandidate>> {
                    $crate::lifecycle::retention_due(self, due, limit).await
                }

                async fn settle_erasures(&self) -> StoreResult<()> {
                    $crate::db::Engine::settle_erasures(self).await
                }

                async fn account_closed_at(
                    &self,
                    account_id: Uuid,
                ) -> StoreResult<Option<DateTime<Utc>>> {
                    $crate::lifecycle::account_closed_at(self, account_id).await
                }

                async fn close_platform_user(&self, closure: &Closure) -> StoreResult<Closed> {
                    $crate::lifecycle::close_platform_user(self, closure).await
                }

                async fn create_application(
                    &self,
                    application: &NewApplication,
                ) -> StoreResult<()> {
                    $crate::applications::create_application(self, application).await
                }

                async fn application(&self, app: Uuid) -> StoreResult<Option<ApplicationRecord>> {
                    $crate::applications::application(self, app).await
                }

                async fn applications_of(
                    &self,
                    account_id: Uuid,
                ) -> StoreResult<Vec<ApplicationRecord>> {
                    $crate::applications::applications_of(self, account_id).await
                }

                async fn update_draft(
                    &self,
                    app: Uuid,
                    form: &[u8],
                    document_hashes: &[Vec<u8>],
                    warnings: &str,
                    at: DateTime<Utc>,
                ) -> StoreResult<Option<ApplicationRecord>> {
                    $crate::applications::update_draft(
                        self,
                        app,
                        form,
                        document_hashes,
                        warnings,
                        at,
                    )
                    .await
                }

                async fn set_card(
                    &self,
                    app: Uuid,
                    card: &StoredCard,
                    at: DateTime<Utc>,
                ) -> StoreResult<Applied> {
                    $crate::applications::set_card(self, app, card, at).await
                }

                async fn put_image(
                    &self,
                    app: Uuid,
                    meta: &ImageMeta,
                    sealed: &[u8],
                    at: DateTime<Utc>,
                ) -> StoreResult<Applied> {
                    $crate::applications::put_image(self, app, meta, sealed, at).await
                }

                async fn image(
                    &self,
                    app: Uuid,
                    slot: &str,
                ) -> StoreResult<Option<(ImageMeta, Vec<u8>)>> {
                    $crate::applications::image(self, app, slot).await
                }

                async fn card_history(
                    &self,
                    account_id: Uuid,
                    card_hash: &[u8],
                ) -> StoreResult<CardHistory> {
                    $crate::applications::card_history(self, account_id, card_hash).await
                }

                async fn submit(&self, command: &SubmitCommand) -> StoreResult<SubmitOutcome> {
                    $crate::applications::submit(self, command).await
                }

                async fn apply(&self, change: &StateChange) -> StoreResult<Applied> {
                    $crate::applications::apply(self, change).await
                }

                async fn apply_bank_message(
                    &self,
                    message: &BankMessage,
                    changes: &[StateChange],
                    unmatched: &[UnmatchedEntry],
                    at: DateTime<Utc>,
                ) -> StoreResult<MessageApplied> {
                    $crate::db::Engine::apply_bank_message(self, message, changes, unmatched, at)
                        .await
                }

                async fn record_wrong_answer(
                    &self,
                    app: Uuid,
                    attempts_before: u32,
                    at: DateTime<Utc>,
                ) -> StoreResult<Applied> {
                    $crate::applications::record_wrong_answer(self, app, attempts_before, at).await
                }

                async fn queue_job(&self, job: &NewJob) -> StoreResult<bool> {
                    $crate::jobs::queue_job(self, job).await
                }

                async fn claim_jobs(
                    &self,
                    now: DateTime<Utc>,
                    lease_seconds: i64,
                    limit: u32,
                ) -> StoreResult<Vec<Job>> {
                    $crate::jobs::claim_jobs(self, now, lease_seconds, limit).await
                }

                async fn finish_job(&self, job: &Job, at: DateTime<Utc>) -> StoreResult<()> {
                    $crate::jobs::finish_job(self, job, at).await
                }

                async fn retry_job(&self, job: &Job, due_at: DateTime<Utc>) -> StoreResult<()> {
                    $crate::jobs::retry_job(self, job, due_at).await
                }

                async fn mark_deposit_paid(&self, app: Uuid, at: DateTime<Utc>) -> StoreResult<()> {
                    $crate::jobs::mark_deposit_paid(self, app, at).await
                }

                async fn deposit_application(
                    &self,
                    end_to_end_id: &str,
                ) -> StoreResult<Option<(Uuid, Status)>> {
                    $crate::jobs::deposit_application(self, end_to_end_id).await
                }

                async fn deposit_applications(
                    &self,
                    end_to_end_ids: &[String],
                ) -> StoreResult<std::collections::HashMap<String, (Uuid, Status)>> {
                    $crate::jobs::deposit_applications(self, end_to_end_ids).await
                }

                async fn review_cases(
                    &self,
                    filter: CaseFilter,
                    now: DateTime<Utc>,
                    after: Option<(DateTime<Utc>, Uuid)>,
                    limit: u32,
                ) -> StoreResult<Vec<CaseRecord>> {
                    $crate::review::review_cases(self, filter, now, after, limit).await
                }

                async fn review_case(&self, case: Uuid) -> StoreResult<Option<CaseRecord>> {
                    $crate::review::review_case(self, case).await
                }

                async fn review_case_of(
                    &self,
                    application: Uuid,
                ) -> StoreResult<Option<CaseRecord>> {
                    $crate::review::review_case_of(self, application).await
                }

                async fn case_facts(
                    &self,
                    application_ids: &[Uuid],
                ) -> StoreResult<Vec<CaseFacts>> {
                    $crate::review::case_facts(self, application_ids).await
                }

                async fn claim_case(
                    &self,
                    case: Uuid,
                    reviewer: Uuid,
                    now: DateTime<Utc>,
                    until: DateTime<Utc>,
                ) -> StoreResult<CaseWrite> {
                    $crate::review::claim_case(self, case, reviewer, now, until).await
                }

                async fn decide_case(
                    &self,
                    case: Uuid,
                    reviewer: Uuid,
                    change: &StateChange,
                    audit: &AuditEntry,
                ) -> StoreResult<CaseWrite> {
                    $crate::review::decide_case(self, case, reviewer, change, audit).await
                }

                async fn append_audit(&self, entry: &AuditEntry) -> StoreResult<()> {
                    $crate::review::append_audit(self, entry).await
                }

                async fn audit_trail(
                    &self,
                    application_id: Option<Uuid>,
                    limit: u32,
                ) -> StoreResult<Vec<AuditEntry>> {
                    $crate::review::audit_trail(self, application_id, limit).await
                }

                async fn create_api_key(&self, key: &ApiKey) -> StoreResult<()> {
                    $crate::platform::create_api_key(self, key).await
                }

                async fn api_key(&self, key_hash: &[u8]) -> StoreResult<Option<ApiKey>> {
                    $crate::platform::api_key(self, key_hash).await
                }

                async fn api_keys(&self) -> StoreResult<Vec<ApiKey>> {
                    $crate::platform::api_keys(self).await
                }

                async fn revoke_api_key(
                    &self,
                    prefix: &str,
                    at: DateTime<Utc>,
                ) -> StoreResult<bool> {
                    $crate::platform::revoke_api_key(self, prefix, at).await
                }

                async fn touch_api_key(&self, prefix: &str, at: DateTime<Utc>) -> StoreResult<()> {
                    $crate::platform::touch_api_key(self, prefix, at).await
                }

                async fn platform_account(
                    &self,
                    external_user_id: &str,
                ) -> StoreResult<Option<Uuid>> {
                    $crate::platform::platform_account(self, external_user_id).await
                }

                async fn link_platform_user(
                    &self,
                    external_user_id: &str,
                    account: &Account,
                ) -> StoreResult<Uuid> {
                    $crate::platform::link_platform_user(self, external_user_id, account).await
                }

                async fn external_user_of(&self, account_id: Uuid) -> StoreResult<Option<String>> {
                    $crate::platform::external_user_of(self, account_id).await
                }

                async fn create_platform_session(
                    &self,
                    session: &PlatformSession,
                    link: &LinkToken,
                ) -> StoreResult<()> {
                    $crate::platform::create_platform_session(self, session, link).await
                }

                async fn platform_session(
                    &self,
                    session: Uuid,
                ) -> StoreResult<Option<PlatformSession>> {
                    $crate::platform::platform_session(self, session).await
                }

                async fn add_link(&self, link: &LinkToken) -> StoreResult<()> {
                    $crate::platform::add_link(self, link).await
                }

                async fn use_link(
                    &self,
                    token_hash: &[u8],
                    now: DateTime<Utc>,
                ) -> StoreResult<LinkUse> {
                    $crate::platform::use_link(self, token_hash, now).await
                }

                async fn link(
                    &self,
                    token_hash: &[u8],
                    now: DateTime<Utc>,
                ) -> StoreResult<Option<(PlatformSession, bool)>> {
                    $crate::platform::link(self, token_hash, now).await
                }

                async fn create_page_session(
                    &self,
                    token_hash: &[u8],
                    account_id: Uuid,
                    expires_at: DateTime<Utc>,
                ) -> StoreResult<()> {
                    $crate::platform::create_page_session(self, token_hash, account_id, expires_at)
                        .await
                }

                async fn page_session_account(
                    &self,
                    token_hash: &[u8],
                    now: DateTime<Utc>,
                ) -> StoreResult<Option<Account>> {
                    $crate::platform::page_session_account(self, token_hash, now).await
                }

                async fn events(&self, query: &EventQuery) -> StoreResult<Vec<PlatformEvent>> {
                    $crate::platform::events(self, query).await
                }

                async fn event(&self, event_id: &str) -> StoreResult<Option<PlatformEvent>> {
                    $crate::platform::event(self, event_id).await
                }

                async fn create_webhook_endpoint(
                    &self,
                    endpoint: &WebhookEndpoint,
                ) -> StoreResult<()> {
                    $crate::webhooks::create_webhook_endpoint(self, endpoint).await
                }

                async fn webhook_endpoints(&self) -> StoreResult<Vec<WebhookEndpoint>> {
                    $crate::webhooks::webhook_endpoints(self).await
                }

                async fn webhook_endpoint(
                    &self,
                    endpoint: Uuid,
                ) -> StoreResult<Option<WebhookEndpoint>> {
                    $crate::webhooks::webhook_endpoint(self, endpoint).await
                }

                async fn update_webhook_endpoint(
                    &self,
                    endpoint: &WebhookEndpoint,
                ) -> StoreResult<bool> {
                    $crate::webhooks::update_webhook_endpoint(self, endpoint).await
                }

                async fn rotate_webhook_secret(
                    &self,
                    endpoint: Uuid,
                    secret: &[u8],
                    previous_expires_at: DateTime<Utc>,
                ) -> StoreResult<bool> {
                    $crate::webhooks::rotate_webhook_secret(
                        self,
                        endpoint,
                        secret,
                        previous_expires_at,
                    )
                    .await
                }

                async fn delete_webhook_endpoint(&self, endpoint: Uuid) -> StoreResult<bool> {
                    $crate::webhooks::delete_webhook_endpoint(self, endpoint).await
                }

                async fn record_delivery_attempt(
                    &self,
                    attempt: &DeliveryAttempt,
                ) -> StoreResult<()> {
                    $crate::webhooks::record_delivery_attempt(self, attempt).await
                }

                async fn delivery_attempts(
                    &self,
                    endpoint: Uuid,
                    before: Option<i64>,
                    limit: u32,
                ) -> StoreResult<Vec<DeliveryAttempt>> {
                    $crate::webhooks::delivery_attempts(self, endpoint, before, limit).await
                }

                async fn vault_keys(&self) -> StoreResult<Option<SealedKeys>> {
                    $crate::keys::vault_keys(self).await
                }

                async fn init_vault_keys(&self, keys: &SealedKeys) -> StoreResult<SealedKeys> {
                    $crate::keys::init_vault_keys(self, keys).await
                }

                async fn replace_vault_keys(
                    &self,
                    expected: &SealedKeys,
                    keys: &SealedKeys,
                ) -> StoreResult<bool> {
                    $crate::keys::replace_vault_keys(self, expected, keys).await
                }

                async fn sealed_values(
                    &self,
                    column: SealedColumn,
                    current: &[u8],
                    after: Option<&[String]>,
                    limit: u32,
                ) -> StoreResult<Vec<SealedValue>> {
                    $crate::keys::sealed_values(self, column, current, after, limit).await
                }

                async fn reseal_values(
                    &self,
                    column: SealedColumn,
                    values: Vec<Resealed>,
                ) -> StoreResult<u64> {
                    $crate::keys::reseal_values(self, column, values).await
                }

                async fn count_sealed(
                    &self,
                    column: SealedColumn,
                    prefix: &[u8],
                ) -> StoreResult<u64> {
                    $crate::keys::count_sealed(self, column, prefix).await
                }

                async fn holds_data(&self) -> StoreResult<bool> {
                    $crate::keys::holds_data(self).await
                }

                async fn sample_sealed(&self) -> StoreResult<Option<(Uuid, Vec<u8>)>> {
                    $crate::keys::sample_sealed(self).await
                }

                async fn sandbox_offset(&self) -> StoreResult<i64> {
                    $crate::sandbox::sandbox_offset(self).await
                }

                async fn advance_sandbox_clock(
                    &self,
                    seconds: i64,
                    at_most: i64,
                ) -> StoreResult<Option<i64>> {
                    $crate::sandbox::advance_sandbox_clock(self, seconds, at_most).await
                }

                async fn mode_facts(&self) -> StoreResult<ModeFacts> {
                    $crate::sandbox::mode_facts(self).await
                }

                async fn write_mode(
                    &self,
                    mode: KeyMode,
                    seen: Option<KeyMode>,
                    at: DateTime<Utc>,
                ) -> StoreResult<Option<KeyMode>> {
                    $crate::sandbox::write_mode(self, mode, seen, at).await
                }
            }

            #[async_trait]
            impl SandboxLedger for $engine {
                async fn pay(&self, payout: &SandboxPayout) -> StoreResult<()> {
                    $crate::sandbox::pay(self, payout).await
                }

                async fn statement(
                    &self,
                    card_hash: &[u8],
                    now: DateTime<Utc>,
                ) -> StoreResult<Vec<SandboxTransaction>> {
                    $crate::sandbox::statement(self, card_hash, now).await
                }

                async fn due(&self, now: DateTime<Utc>) -> StoreResult<Vec<SandboxPayout>> {
                    $crate::sandbox::due(self, now).await
                }

                async fn acknowledge(&self, end_to_end_ids: &[String]) -> StoreResult<()> {
                    $crate::sandbox::acknowledge(self, end_to_end_ids).await
                }
            }
        };
    };
}
