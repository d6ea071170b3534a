//! The application layer: what the JSON API, the pages, the workers and the CLI share. It
//! knows who is calling ([`Principal`]) and decides what they may do, runs the journey and
//! the casework through the store, seals what is personal through the vault, pays through the
//! rail it was given, and answers in its own error type ([`AppError`]), which the HTTP layer
//! maps to statuses once. It knows no HTTP.
//!
//! [`Service::new`] takes everything that talks to the world — store, vault, clock, rail —
//! so a test can hand it a bank that fails, is slow or answers twice.

pub mod accounts;
pub mod auth;
pub mod casework;
pub mod erasure;
pub mod error;
pub mod journey;
pub mod limits;
pub mod platform;
pub mod principal;
pub mod risk;
pub mod screening;
pub mod second_factor;
pub mod security;
pub mod views;
pub mod workers;

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use realname_core::applicant::china_today;
use realname_core::deposit::{DepositRules, Fen};
use realname_core::policy::Policy;
use realname_core::ports::{Clock, PayoutRail, SealContext, Vault};
use realname_core::state::Moment;
use realname_core::store::Store;
use realname_rails::SandboxBank;
use tokio::sync::Notify;
use uuid::Uuid;

pub use error::{AppError, AppResult};
pub use principal::Principal;

/// The settings the application layer runs by (CONTRACT 6).
#[derive(Debug, Clone)]
pub struct Settings {
    pub deposit: DepositRules,
    pub review_sla: TimeDelta,
    pub claim_ttl: TimeDelta,
    pub session_ttl: TimeDelta,
    pub consent_version: String,
    /// Where users' browsers reach the service, without a trailing slash.
    pub public_url: String,
    /// How long a platform session's link may be used.
    pub link_ttl: TimeDelta,
    /// The origins a platform session's `return_url` may lead to.
    pub return_origins: Vec<String>,
    pub limits: limits::Limits,
    /// How long personal data is kept (CONTRACT 11).
    pub retention: realname_core::retention::RetentionRules,
    /// List screening (CONTRACT 12).
    pub screening: screening::Settings,
    /// The second approval (CONTRACT 2.7, 14).
    pub risk: risk::Settings,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            deposit: DepositRules::default(),
            review_sla: TimeDelta::days(2),
            claim_ttl: TimeDelta::minutes(30),
            session_ttl: TimeDelta::hours(12),
            consent_version: "2026-11".into(),
            public_url: "http://127.0.0.1:8080".into(),
            link_ttl: TimeDelta::minutes(15),
            return_origins: Vec::new(),
            limits: limits::Limits::default(),
            retention: realname_core::retention::RetentionRules::default(),
            screening: screening::Settings::default(),
            risk: risk::Settings::default(),
        }
    }
}

/// Real time.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// What the service is built from: everything that talks to the world.
pub struct Parts {
    pub store: Arc<dyn Store>,
    pub vault: Arc<dyn Vault>,
    /// The base clock; the service adds the sandbox's offset to it.
    pub clock: Arc<dyn Clock>,
    pub rail: Arc<dyn PayoutRail>,
    /// The sandbox bank, when it is the rail: its statement is what users read amounts from.
    pub sandbox: Option<Arc<SandboxBank>>,
    pub policy: Policy,
    /// The risk policy customers are graded under (CONTRACT 14).
    pub risk_policy: realname_core::risk::RiskPolicy,
    pub settings: Settings,
    /// How webhook deliveries leave the service.
    pub webhooks: Arc<dyn platform::webhooks::WebhookSender>,
}

pub struct Service {
    pub store: Arc<dyn Store>,
    pub vault: Arc<dyn Vault>,
    clock: Arc<dyn Clock>,
    /// The sandbox clock's offset, which lives in the database so every node agrees on it;
    /// with a real rail it stays 0.
    offset_seconds: AtomicI64,
    pub rail: Arc<dyn PayoutRail>,
    pub sandbox: Option<Arc<SandboxBank>>,
    pub policy: Policy,
    pub risk_policy: realname_core::risk::RiskPolicy,
    pub settings: Settings,
    pub webhooks: Arc<dyn platform::webhooks::WebhookSender>,
    /// Wakes the workers when new work was queued.
    pub wake: Notify,
    /// One worker pass at a time in this process, so that the sandbox clock's "run what fell
    /// due" waits for a pass already under way instead of finding its jobs leased.
    pub(crate) work: tokio::sync::Mutex<()>,
    /// Platform keys' request counts between syncs with the store.
    pub(crate) key_counts: limits::KeyCounts,
    /// The screening lists this node checks against, kept current by its worker.
    pub lists: screening::Lists,
}

impl Service {
    /// The service over its parts, with the sandbox clock's offset read from the store.
    pub async fn new(parts: Parts) -> AppResult<Service> {
        // A live store has no sandbox clock (CONTRACT 9): its service clock is real time.
        let offset = match parts.sandbox {
            Some(_) => parts.store.sandbox_offset().await?,
            None => 0,
        };
        let lists = screening::Lists::default();
        lists.refresh(parts.store.as_ref()).await?;
        Ok(Service {
            lists,
            store: parts.store,
            vault: parts.vault,
            clock: parts.clock,
            offset_seconds: AtomicI64::new(offset),
            rail: parts.rail,
            sandbox: parts.sandbox,
            policy: parts.policy,
            risk_policy: parts.risk_policy,
            settings: parts.settings,
            webhooks: parts.webhooks,
            wake: Notify::new(),
            work: tokio::sync::Mutex::new(()),
            key_counts: limits::KeyCounts::default(),
        })
    }

    /// An application's status changed: its event may be waiting for delivery, its payout
    /// for the bank. Wakes this node's worker rather than leaving the work to its next tick.
    pub fn status_changed(&self) {
        self.wake.notify_one();
    }

    /// The service's time: the base clock moved forward by the sandbox's offset.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now() + TimeDelta::seconds(self.offset_seconds.load(Ordering::SeqCst))
    }

    /// Real time, without the sandbox offset: what TOTP codes and rate-limit windows follow.
    pub fn real_now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    pub fn today(&self) -> NaiveDate {
        china_today(self.now())
    }

    pub(crate) fn set_offset(&self, seconds: i64) {
        self.offset_seconds.store(seconds, Ordering::SeqCst);
    }

    /// What a transition of `application_id` at `at` needs to give its effects their data.
    pub(crate) fn moment(&self, application_id: Uuid, at: DateTime<Utc>) -> Moment {
        Moment {
            application_id,
            at,
            deposit: self.settings.deposit,
            review_sla: self.settings.review_sla,
            livemode: self.mode() == realname_core::platform::KeyMode::Live,
        }
    }

    pub(crate) fn seal(&self, context: SealContext, plaintext: &[u8]) -> AppResult<Vec<u8>> {
        Ok(self.vault.seal(context, plaintext)?)
    }

    pub(crate) fn open(&self, context: SealContext, sealed: &[u8]) -> AppResult<Vec<u8>> {
        Ok(self.vault.open(context, sealed)?)
    }

    /// What a page carries to the next in the browser's cookie, sealed so that the browser
    /// holds no personal data in the clear and cannot forge it.
    pub fn seal_flash(&self, plaintext: &[u8]) -> AppResult<Vec<u8>> {
        self.seal(SealContext::PageFlash, plaintext)
    }

    /// A flash cookie's contents; none when it is not one this deployment sealed.
    pub fn open_flash(&self, sealed: &[u8]) -> Option<Vec<u8>> {
        self.vault.open(SealContext::PageFlash, sealed).ok()
    }

    /// The deposit amount, sealed: a secret between the platform and the bank.
    pub(crate) fn seal_amount(&self, id: Uuid, amount: Fen) -> AppResult<Vec<u8>> {
        self.seal(
            SealContext::DepositAmount(id),
            amount.value().to_string().as_bytes(),
        )
    }

    pub fn open_amount(&self, id: Uuid, sealed: &[u8]) -> AppResult<Fen> {
        let bytes = self.open(SealContext::DepositAmount(id), sealed)?;
        std::str::from_utf8(&bytes)
            .ok()
            .and_then(|a| a.parse::<i64>().ok())
            .map(Fen::new)
            .ok_or_else(|| AppError::internal("deposit amount", "unreadable"))
    }
}
