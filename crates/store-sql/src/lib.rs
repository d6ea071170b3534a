//! realname's storage operations, written once, a module per role of the core's `Store`. Each
//! is a plain `async fn` over [`db::Db`], a connection inside the transaction an engine gives
//! it; the engines (SQLite, PostgreSQL) bind parameters, read rows and own transactions,
//! connections and migrations. [`impl_store!`] makes an engine a `Store`. The operations
//! persist and read; what a change means is decided in the core.

pub mod accounts;
pub mod applications;
pub mod changes;
pub mod db;
pub mod jobs;
pub mod keys;
pub mod lifecycle;
pub mod platform;
pub mod rail;
pub mod review;
pub mod risk;
pub mod sandbox;
pub mod screening;
mod store;
pub mod webhooks;

pub use db::{Dialect, Engine};

/// The migrations of the engine that names them, in order: its `src/schema.sql` and
/// `src/schema_N.sql`. Both engines hold the same versions, each in its own SQL; a new one is
/// a file in each and a line here.
#[macro_export]
macro_rules! migrations {
    () => {
        $crate::migrations!(@files "schema.sql", "schema_2.sql", "schema_3.sql", "schema_4.sql",
            "schema_5.sql", "schema_6.sql", "schema_7.sql", "schema_8.sql", "schema_9.sql",
            "schema_10.sql", "schema_11.sql", "schema_12.sql", "schema_13.sql", "schema_14.sql",
            "schema_15.sql", "schema_16.sql", "schema_17.sql", "schema_18.sql", "schema_19.sql",
            "schema_20.sql")
    };
    (@files $($file:literal),*) => {
        &[$(include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/", $file))),*]
    };
}

/// Names a broken unique key for the caller: `Conflict(what)`.
pub(crate) fn conflict_as(
    what: &'static str,
) -> impl Fn(realname_core::store::StoreError) -> realname_core::store::StoreError {
    move |e| match e {
        realname_core::store::StoreError::Conflict(_) => {
            realname_core::store::StoreError::Conflict(what.to_owned())
        }
        other => other,
    }
}

/// What [`impl_store!`] names, for the crates it expands in.
#[doc(hidden)]
pub mod prelude {
    pub use async_trait::async_trait;
    pub use chrono::{DateTime, Utc};
    pub use realname_core::application::CardHistory;
    pub use realname_core::platform::{
        ApiKey, DeliveryAttempt, EventQuery, KeyMode, LinkToken, LinkUse, ModeFacts, PlatformEvent,
        PlatformSession, WebhookEndpoint,
    };
    pub use realname_core::ports::{
        BankMessage, HeldTransfer, OutgoingFile, RailReport, SandboxLedger, SandboxPayout,
        SandboxTransaction, TransferLedger, UnmatchedEntry,
    };
    pub use realname_core::retention::Due;
    pub use realname_core::state::Status;
    pub use realname_core::store::{
        Account, Accounts, ApplicationRecord, Applications, Applied, AuditEntry, CaseFacts,
        CaseFilter, CaseKind, CaseRecord, CaseWrite, Closed, Closure, Erased, Erasure, Forget,
        Forgotten, Idempotency, ImageMeta, Imported, Job, Jobs, Keys, Lifecycle, ListImport,
        ListVersionRecord, MessageApplied, NewApplication, NewJob, Platform, RescreenBatch,
        RescreenCandidate, Resealed, RetentionCandidate, Review, RiskGradeRecord, Sandbox,
        Screening, ScreeningDecision, ScreeningRun, ScreeningSubject, SealedColumn, SealedKeys,
        SealedValue, StateChange, Store, StoreResult, StoredCard, StoredEntry, SubmitCommand,
        SubmitOutcome, Throttle, ThrottlePolicy, Webhooks,
    };
    pub use std::collections::HashMap;
    pub use uuid::Uuid;
}
