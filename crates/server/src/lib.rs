//! `realname serve`: the HTTP service, its workers and its configuration. `App::build` binds
//! and wires everything; `main` only calls it.

pub mod api;
pub mod auth;
pub mod client;
pub mod config;
pub mod edge;
pub mod error;
pub mod extract;
pub mod idempotency;
pub mod keys;
pub mod openapi;
pub mod pages;
pub mod rail;
pub mod rotation;
pub mod screening;
pub mod staff;
pub mod state;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use realname_app::{Parts, Service, SystemClock, workers};
use realname_core::platform::{KeyMode, ModeCheck, mode_refusal};
use realname_core::policy::Policy;
use realname_core::ports::{PayoutRail, SandboxLedger};
use realname_core::risk::RiskPolicy;
use realname_core::store::Store;
use realname_rails::SandboxBank;
use realname_store_postgres::{PgStore, PoolSettings};
use realname_store_sqlite::SqliteStore;
use realname_vault::KeyError;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::config::{Config, Rail};
use crate::state::{AppState, Shared};

/// Why the service could not start, in one line.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    #[error("{0}")]
    Key(#[from] KeyError),
    #[error("policy_file: {0}")]
    Policy(String),
    #[error("risk_policy_file: {0}")]
    RiskPolicy(String),
    #[error("database_url: {0}")]
    Store(String),
    #[error("listen: {0}")]
    Listen(String),
    #[error("{0}")]
    Webhooks(String),
    /// `realname key rotate` cannot go on (the reason, in one line).
    #[error("key rotate: {0}")]
    Rotate(String),
    /// The store is of the other mode (CONTRACT 9).
    #[error("{0}")]
    Mode(&'static str),
    /// A live rail with nothing to screen against (CONTRACT 12).
    #[error("screening: {0}")]
    Screening(&'static str),
}

/// Refuses a store of the other mode than the rail's (CONTRACT 9). `serve` writes the mode,
/// stamped `write_at` by the service's clock; every other command only reads it (`None`).
pub async fn settle_mode(
    store: &dyn Store,
    wanted: KeyMode,
    write_at: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<(), StartError> {
    let store_error = |e: realname_core::store::StoreError| StartError::Store(e.to_string());
    let facts = store.mode_facts().await.map_err(store_error)?;
    match facts.check(wanted) {
        ModeCheck::Refused(mode) => Err(StartError::Mode(mode_refusal(mode))),
        ModeCheck::Agrees => Ok(()),
        ModeCheck::Write => {
            let Some(at) = write_at else {
                return Ok(());
            };
            match store
                .write_mode(wanted, facts.written, at)
                .await
                .map_err(store_error)?
            {
                Some(held) if held != wanted => Err(StartError::Mode(mode_refusal(held))),
                _ => Ok(()),
            }
        }
    }
}

pub use keys::DEFAULT_KEY_FILE;

pub fn load_policy(config: &Config) -> Result<Policy, StartError> {
    let Some(path) = &config.policy_file else {
        return Ok(Policy::default_policy());
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| StartError::Policy(format!("{}: {e}", path.display())))?;
    Policy::from_toml(&text).map_err(|errors| {
        let first = errors.first().map(ToString::to_string).unwrap_or_default();
        StartError::Policy(format!("{}: {first}", path.display()))
    })
}

/// The risk policy in force: `risk_policy_file`, or the one compiled in.
pub fn load_risk_policy(config: &Config) -> Result<RiskPolicy, StartError> {
    let Some(path) = &config.risk_policy_file else {
        return Ok(RiskPolicy::default_policy());
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| StartError::RiskPolicy(format!("{}: {e}", path.display())))?;
    RiskPolicy::from_toml(&text).map_err(|errors| {
        let first = errors.first().map(ToString::to_string).unwrap_or_default();
        StartError::RiskPolicy(format!("{}: {first}", path.display()))
    })
}

/// The ISO 20022 rail's settings, once what it needs outside the configuration is there: its
/// two folders, and a BIC and CNAPS code for every bank the policy supports.
pub fn iso20022_settings(
    config: &Config,
    policy: &Policy,
) -> Result<realname_rails::iso20022::Settings, StartError> {
    let Some(settings) = config.iso20022.clone() else {
        return Err(StartError::Config(config::ConfigError {
            key: "rail".into(),
            problem: "iso20022 needs the iso20022.* keys".into(),
        }));
    };
    for (key, dir) in [
        ("iso20022.outbox_dir", &settings.outbox_dir),
        ("iso20022.inbox_dir", &settings.inbox_dir),
    ] {
        if !dir.is_dir() {
            return Err(StartError::Config(config::ConfigError {
                key: key.into(),
                problem: format!("{} is not a folder", dir.display()),
            }));
        }
    }
    if let Some(bank) = policy
        .supported_banks()
        .find(|b| b.bic.is_none() || b.cnaps.is_none())
    {
        return Err(StartError::Policy(format!(
            "bank {} has no bic and cnaps, which the iso20022 rail needs for every supported bank",
            bank.code
        )));
    }
    Ok(settings)
}

/// A store, and the rails' ledgers kept beside it in the same database.
pub struct Stores {
    pub store: Arc<dyn Store>,
    pub ledger: Arc<dyn SandboxLedger>,
    pub transfers: Arc<dyn realname_core::ports::TransferLedger>,
}

/// Opens the store the URL names and applies its migrations.
pub async fn open_store(config: &Config) -> Result<Stores, StartError> {
    let url = &config.database_url;
    if url.starts_with("sqlite:") {
        let store = SqliteStore::open(realname_store_sqlite::path_of_url(url))
            .map_err(|e| StartError::Store(e.to_string()))?;
        let store = Arc::new(store);
        Ok(Stores {
            store: store.clone(),
            ledger: store.clone(),
            transfers: store,
        })
    } else {
        let settings = PoolSettings {
            max_connections: config.max_connections,
            acquire_timeout: config
                .acquire_timeout
                .to_std()
                .unwrap_or(std::time::Duration::from_secs(5)),
        };
        let store = PgStore::connect(url, settings)
            .await
            .map_err(|e| StartError::Store(e.to_string()))?;
        let store = Arc::new(store);
        Ok(Stores {
            store: store.clone(),
            ledger: store.clone(),
            transfers: store,
        })
    }
}

/// The application layer's settings, from the configuration.
pub fn settings(config: &Config) -> realname_app::Settings {
    realname_app::Settings {
        deposit: config.deposit,
        review_sla: config.review_sla,
        claim_ttl: config.claim_ttl,
        session_ttl: config.session_ttl,
        consent_version: config.consent_version.clone(),
        public_url: config
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", config.listen)),
        link_ttl: config.link_ttl,
        return_origins: config.return_origins.clone(),
        limits: config.limits,
        retention: config.retention,
        screening: config.screening.clone(),
        risk: config.risk,
    }
}

pub struct App {
    listener: TcpListener,
    state: AppState,
}

impl App {
    /// Loads the key, the policy and the store, builds the rail the configuration names, and
    /// binds the listener (port 0 picks a free port, as tests do).
    pub async fn build(config: Config) -> Result<App, StartError> {
        let parts = App::parts(&config).await?;
        App::with_parts(config, parts).await
    }

    /// Everything the service is made of, as the configuration says: a caller may replace a
    /// part (a test, the rail) before [`App::with_parts`].
    pub async fn parts(config: &Config) -> Result<Parts, StartError> {
        let policy = load_policy(config)?;
        let risk_policy = load_risk_policy(config)?;
        let opened = open_store(config).await?;
        let keys = keys::open(config, opened.store.as_ref()).await?;
        let mode = KeyMode::of_rail(config.rail == Rail::Sandbox);
        settle_mode(opened.store.as_ref(), mode, None).await?;
        if let Some(path) = &keys.created {
            tracing::info!(path = %path.display(), "created a new key file for a new store; back it up");
        }
        let vault: Arc<dyn realname_core::ports::Vault> = Arc::new(keys.into_keyring());
        let (rail, sandbox): (Arc<dyn PayoutRail>, _) = match config.rail {
            Rail::Sandbox => {
                let bank = Arc::new(SandboxBank::new(
                    opened.ledger,
                    Arc::clone(&vault),
                    config.settle_after,
                ));
                (bank.clone(), Some(bank))
            }
            Rail::Iso20022 => {
                let settings = iso20022_settings(config, &policy)?;
                let rail = realname_rails::Iso20022Rail::new(
                    settings,
                    opened.transfers,
                    Arc::clone(&vault),
                    Arc::new(policy.clone()),
                );
                (Arc::new(rail), None)
            }
        };
        let allow = realname_webhooks::AddressPolicy::parse(&config.webhook_allow_cidrs)
            .map_err(|e| StartError::Webhooks(e.to_string()))?;
        Ok(Parts {
            store: opened.store,
            vault,
            clock: Arc::new(SystemClock),
            rail,
            sandbox,
            policy,
            risk_policy,
            settings: settings(config),
            webhooks: Arc::new(realname_webhooks::Outbound::new(allow)),
        })
    }

    /// The service over parts the caller made: a test hands it a rail that fails, is slow or
    /// answers twice, or a clock of its own.
    pub async fn with_parts(config: Config, mut parts: Parts) -> Result<App, StartError> {
        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(|e| StartError::Listen(format!("{}: {e}", config.listen)))?;
        // Without a public_url, links name the address actually bound (port 0 picks one).
        if config.public_url.is_none()
            && let Ok(bound) = listener.local_addr()
        {
            parts.settings.public_url = format!("http://{bound}");
        }
        let mode = KeyMode::of_rail(parts.sandbox.is_some());
        settle_mode(parts.store.as_ref(), mode, Some(parts.clock.now())).await?;
        if parts.sandbox.is_none() && config.screening.enabled {
            let versions = parts
                .store
                .list_versions()
                .await
                .map_err(|e| StartError::Store(e.to_string()))?;
            if versions.is_empty() {
                return Err(StartError::Screening(
                    "no list is loaded: import one (realname screening import un FILE) before \
                     serving a live rail, or set screening.enabled = false on purpose",
                ));
            }
        }
        let app = Service::new(parts)
            .await
            .map_err(|e| StartError::Store(format!("{:?}", e.code)))?;
        let state = AppState(Arc::new(Shared {
            app: Arc::new(app),
            config,
        }));
        Ok(App { listener, state })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` completes, then lets in-flight requests finish and stops the
    /// workers.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let (stop_tx, stop_rx) = watch::channel(false);
        let follow = tokio::spawn(keys::follow(Arc::clone(&self.state.app), stop_rx.clone()));
        let worker = tokio::spawn(workers::run(Arc::clone(&self.state.app), stop_rx));
        let router = edge::bounded(api::router(self.state.clone()));
        let config = &self.state.config;
        let per_address = edge::PerAddress::new(
            config.connections_per_address,
            config.trusted_proxies.clone(),
        );
        let served = edge::serve(self.listener, router, per_address, shutdown).await;
        let _ = stop_tx.send(true);
        let _ = worker.await;
        let _ = follow.await;
        served
    }
}

/// Completes on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

pub use uuid::Uuid;

/// Logs to standard error, as text or JSON lines; `RUST_LOG` filters (default `info`, with the
/// database driver's notices left out: PostgreSQL's "already exists, skipping" at every start is
/// no news to an operator).
pub fn init_logging(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        let _ = builder.json().try_init();
    } else {
        let _ = builder.try_init();
    }
}
