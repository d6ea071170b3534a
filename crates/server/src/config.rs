//! Configuration (CONTRACT 6): a TOML file, overridden by `REALNAME_*` environment variables,
//! overridden by flags. Every key is checked at start; a bad one is refused in one line that
//! names it.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use chrono::TimeDelta;
use realname_core::deposit::DepositRules;

/// Every key the service knows, with its default.
const KEYS: &[(&str, Option<&str>)] = &[
    ("listen", Some("127.0.0.1:8080")),
    ("database_url", Some("sqlite://realname.db")),
    ("data_key", None),
    ("data_key_file", None),
    ("policy_file", None),
    ("risk_policy_file", None),
    ("rail", Some("sandbox")),
    ("sandbox.settle_after", Some("0s")),
    ("deposit.max_attempts", Some("3")),
    ("deposit.expires_after", Some("10d")),
    ("deposit.max_rounds", Some("3")),
    ("deposit.rounds_window", Some("30d")),
    ("review.sla", Some("2d")),
    ("review.claim_ttl", Some("30m")),
    ("review.second_approval", Some("risk")),
    ("review.second_approval_sample", Some("0.05")),
    ("risk.review_every.low", Some("none")),
    ("risk.review_every.medium", Some("730d")),
    ("risk.review_every.high", Some("182d")),
    ("session.ttl", Some("12h")),
    ("consent.version", Some("2026-11")),
    ("log.format", Some("text")),
    ("database.max_connections", Some("10")),
    ("database.acquire_timeout", Some("5s")),
    ("public_url", None),
    ("platform.link_ttl", Some("15m")),
    ("platform.return_origins", Some("")),
    ("webhooks.allow_cidrs", Some("")),
    ("trusted_proxies", Some("")),
    ("limits.sessions_per_minute", Some("30")),
    ("limits.accounts_per_minute", Some("10")),
    ("limits.links_per_minute", Some("30")),
    ("limits.platform_per_minute", Some("600")),
    ("limits.connections_per_address", Some("64")),
    ("iso20022.outbox_dir", None),
    ("iso20022.inbox_dir", None),
    ("iso20022.debtor_name", None),
    ("iso20022.debtor_account", None),
    ("iso20022.debtor_agent", None),
    ("iso20022.batch_every", Some("15m")),
    ("iso20022.batch_max", Some("1000")),
    ("iso20022.retry_after", Some("1h")),
    ("iso20022.overdue_after", Some("2h")),
    ("retention.failed_after", Some("90d")),
    ("retention.draft_after", Some("30d")),
    ("retention.fraud_hold", Some("1825d")),
    ("retention.verified_after", Some("1825d")),
    ("screening.enabled", Some("true")),
    ("screening.threshold", Some("0.85")),
    ("screening.near_miss", Some("0.1")),
];

/// `screening.action.SOURCE` keys: one per source named (`screening.action.un`,
/// `screening.action."national:mps"`), so not in [`KEYS`].
const ACTION_PREFIX: &str = "screening.action.";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rail {
    Sandbox,
    /// The platform's bank, through ISO 20022 files (CONTRACT 10).
    Iso20022,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub database_url: String,
    pub data_key: Option<String>,
    pub data_key_file: Option<PathBuf>,
    /// Which approvals need a second approver (CONTRACT 2.7).
    pub risk: realname_app::risk::Settings,
    pub policy_file: Option<PathBuf>,
    /// The risk policy (CONTRACT 14); the compiled-in default when absent.
    pub risk_policy_file: Option<PathBuf>,
    pub rail: Rail,
    pub settle_after: TimeDelta,
    /// The `iso20022.*` keys, when that is the rail.
    pub iso20022: Option<realname_rails::iso20022::Settings>,
    /// How long a file sent may wait for its status report before `rail status` calls it out.
    pub overdue_after: TimeDelta,
    pub deposit: DepositRules,
    pub review_sla: TimeDelta,
    pub claim_ttl: TimeDelta,
    pub session_ttl: TimeDelta,
    pub consent_version: String,
    pub log_json: bool,
    /// PostgreSQL pool size, per node.
    pub max_connections: u32,
    /// How long a request waits for a database connection before it gets a 503.
    pub acquire_timeout: TimeDelta,
    /// The address users' browsers reach the service at (no trailing slash); links the
    /// service hands out start with it. None: `http://` and the address it listens on.
    pub public_url: Option<String>,
    /// How long a platform session's link may be used.
    pub link_ttl: TimeDelta,
    /// The origins (`https://pay.example.com`) a platform session's `return_url` may lead to.
    pub return_origins: Vec<String>,
    /// Networks a webhook may be delivered into although they are not public (tests, an
    /// internal receiver), as CIDRs.
    pub webhook_allow_cidrs: Vec<String>,
    /// Proxies whose `X-Forwarded-For` names the client (CONTRACT 4); none by default.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    pub limits: realname_app::limits::Limits,
    /// How many connections one client address may hold open at once (CONTRACT 4).
    pub connections_per_address: usize,
    /// How long personal data is kept (CONTRACT 11).
    pub retention: realname_core::retention::RetentionRules,
    /// List screening (CONTRACT 12).
    pub screening: realname_app::screening::Settings,
}

/// One line that names the key and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("config: {key}: {problem}")]
pub struct ConfigError {
    pub key: String,
    pub problem: String,
}

fn problem(key: &str, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        key: key.to_owned(),
        problem: problem.into(),
    }
}

/// `30s`, `10m`, `12h`, `2d`.
pub fn parse_duration(text: &str) -> Option<TimeDelta> {
    let text = text.trim();
    let unit = text.chars().last()?;
    let number: i64 = text[..text.len() - unit.len_utf8()]
        .parse()
        .ok()
        .filter(|n| *n >= 0)?;
    let seconds = match unit {
        's' => number,
        'm' => number.checked_mul(60)?,
        'h' => number.checked_mul(3600)?,
        'd' => number.checked_mul(86_400)?,
        _ => return None,
    };
    TimeDelta::try_seconds(seconds)
}

fn flatten(
    prefix: &str,
    table: &toml::Table,
    out: &mut BTreeMap<String, String>,
) -> Result<(), ConfigError> {
    for (name, value) in table {
        let key = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}.{name}")
        };
        match value {
            toml::Value::Table(inner) => flatten(&key, inner, out)?,
            toml::Value::String(s) => {
                out.insert(key, s.clone());
            }
            toml::Value::Integer(i) => {
                out.insert(key, i.to_string());
            }
            toml::Value::Boolean(b) => {
                out.insert(key, b.to_string());
            }
            toml::Value::Float(f) => {
                out.insert(key, f.to_string());
            }
            // A list is written as the environment writes it: comma-separated.
            toml::Value::Array(items) => {
                let texts: Option<Vec<&str>> = items.iter().map(toml::Value::as_str).collect();
                let texts = texts.ok_or_else(|| problem(&key, "must be a list of strings"))?;
                out.insert(key, texts.join(","));
            }
            _ => return Err(problem(&key, "must be a string or a number")),
        }
    }
    Ok(())
}

/// The environment variable for a key: `deposit.max_attempts` → `REALNAME_DEPOSIT_MAX_ATTEMPTS`.
pub fn env_name(key: &str) -> String {
    format!("REALNAME_{}", key.replace('.', "_").to_ascii_uppercase())
}

impl Config {
    /// Reads the layers: `file_text` (the TOML of `--config`), then `env`, then `flags`
    /// (key → value), each overriding the one before.
    pub fn load(
        file_text: Option<&str>,
        env: impl Fn(&str) -> Option<String>,
        flags: &[(&str, String)],
    ) -> Result<Config, ConfigError> {
        let mut values = BTreeMap::new();
        if let Some(text) = file_text {
            let table: toml::Table =
                toml::from_str(text).map_err(|e| problem("--config", e.message().to_owned()))?;
            flatten("", &table, &mut values)?;
        }
        if let Some(unknown) = values
            .keys()
            .find(|k| !KEYS.iter().any(|(known, _)| known == k) && !k.starts_with(ACTION_PREFIX))
        {
            return Err(problem(unknown, "is not a configuration key"));
        }
        for (key, _) in KEYS {
            if let Some(value) = env(&env_name(key)) {
                values.insert((*key).to_owned(), value);
            }
        }
        for (key, value) in flags {
            values.insert((*key).to_owned(), value.clone());
        }
        let get = |key: &str| -> Option<String> {
            values.get(key).cloned().or_else(|| {
                KEYS.iter()
                    .find(|(k, _)| *k == key)
                    .and_then(|(_, default)| default.map(str::to_owned))
            })
        };
        let required = |key: &str| get(key).ok_or_else(|| problem(key, "is required"));
        let duration = |key: &str| {
            let text = required(key)?;
            parse_duration(&text).ok_or_else(|| {
                problem(
                    key,
                    format!("{text:?} is not a duration like 30s, 10m, 12h or 2d"),
                )
            })
        };
        let count = |key: &str, max: u32| {
            let text = required(key)?;
            text.trim()
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=max).contains(n))
                .ok_or_else(|| {
                    problem(
                        key,
                        format!("{text:?} must be a whole number from 1 to {max}"),
                    )
                })
        };

        let listen_text = required("listen")?;
        let listen = listen_text.parse().map_err(|_| {
            problem(
                "listen",
                format!("{listen_text:?} is not an address like 127.0.0.1:8080"),
            )
        })?;
        let database_url = required("database_url")?;
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            return Err(problem(
                "database_url",
                "must start with sqlite:// or postgres://",
            ));
        }
        let rail = match required("rail")?.as_str() {
            "sandbox" => Rail::Sandbox,
            "iso20022" => Rail::Iso20022,
            other => {
                return Err(problem(
                    "rail",
                    format!("{other:?} is not a payout rail this build has (sandbox, iso20022)"),
                ));
            }
        };
        let iso20022 = if rail == Rail::Iso20022 {
            let needed = |key: &str| {
                get(key)
                    .map(|v| v.trim().to_owned())
                    .filter(|v| !v.is_empty())
                    .ok_or_else(|| problem(key, "is required when rail is iso20022"))
            };
            let debtor_agent = needed("iso20022.debtor_agent")?;
            if !realname_core::policy::is_bic(&debtor_agent) {
                return Err(problem(
                    "iso20022.debtor_agent",
                    format!("{debtor_agent:?} is not a BIC like BKCHCNBJ"),
                ));
            }
            let debtor_account = needed("iso20022.debtor_account")?;
            if debtor_account.len() > 34
                || !debtor_account.bytes().all(|b| b.is_ascii_alphanumeric())
            {
                return Err(problem(
                    "iso20022.debtor_account",
                    "must be an IBAN or the bank's account id: up to 34 letters or digits",
                ));
            }
            let debtor_name = needed("iso20022.debtor_name")?;
            if debtor_name.chars().count() > 140 {
                return Err(problem(
                    "iso20022.debtor_name",
                    "is longer than 140 characters",
                ));
            }
            let batch_every = duration("iso20022.batch_every")?;
            if batch_every < TimeDelta::seconds(1) {
                return Err(problem("iso20022.batch_every", "must be at least 1s"));
            }
            Some(realname_rails::iso20022::Settings {
                outbox_dir: PathBuf::from(needed("iso20022.outbox_dir")?),
                inbox_dir: PathBuf::from(needed("iso20022.inbox_dir")?),
                debtor: realname_rails::iso20022::Debtor {
                    name: debtor_name,
                    account: debtor_account,
                    agent_bic: debtor_agent,
                },
                batch_every,
                batch_max: count("iso20022.batch_max", 100_000)?,
                retry_after: duration("iso20022.retry_after")?,
            })
        } else {
            None
        };
        let max_rounds = count("deposit.max_rounds", 100)?;
        let deposit = DepositRules {
            max_attempts: count("deposit.max_attempts", 10)?,
            expires_after: duration("deposit.expires_after")?,
            max_rounds_per_card: max_rounds,
            max_rounds_per_document: max_rounds,
            rounds_window: duration("deposit.rounds_window")?,
        };
        let log_json = match required("log.format")?.as_str() {
            "text" => false,
            "json" => true,
            other => {
                return Err(problem(
                    "log.format",
                    format!("{other:?} must be text or json"),
                ));
            }
        };
        let list = |key: &str| -> Vec<String> {
            get(key)
                .unwrap_or_default()
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        };
        let public_url = get("public_url")
            .map(|u| u.trim().trim_end_matches('/').to_owned())
            .filter(|u| !u.is_empty());
        if public_url
            .as_deref()
            .is_some_and(|u| realname_app::platform::sessions::origin_of(u).is_none())
        {
            return Err(problem(
                "public_url",
                "must be an absolute URL like https://verify.example.com",
            ));
        }
        let return_origins = list("platform.return_origins");
        if let Some(bad) = return_origins
            .iter()
            .find(|o| realname_app::platform::sessions::origin_of(o).as_deref() != Some(o.as_str()))
        {
            return Err(problem(
                "platform.return_origins",
                format!("{bad:?} is not an origin like https://pay.example.com"),
            ));
        }
        let webhook_allow_cidrs = list("webhooks.allow_cidrs");
        if let Some(bad) = webhook_allow_cidrs
            .iter()
            .find(|c| c.parse::<ipnet::IpNet>().is_err())
        {
            return Err(problem(
                "webhooks.allow_cidrs",
                format!("{bad:?} is not a CIDR like 10.0.0.0/8"),
            ));
        }
        let mut trusted_proxies = Vec::new();
        for text in list("trusted_proxies") {
            trusted_proxies.push(text.parse::<ipnet::IpNet>().map_err(|_| {
                problem(
                    "trusted_proxies",
                    format!("{text:?} is not a CIDR like 10.0.0.0/8"),
                )
            })?);
        }
        let limits = realname_app::limits::Limits {
            sessions_per_minute: count("limits.sessions_per_minute", 1_000_000)?,
            accounts_per_minute: count("limits.accounts_per_minute", 1_000_000)?,
            links_per_minute: count("limits.links_per_minute", 1_000_000)?,
            platform_per_minute: count("limits.platform_per_minute", 1_000_000)?,
        };
        let connections_per_address = count(
            "limits.connections_per_address",
            crate::edge::MAX_CONNECTIONS as u32,
        )? as usize;
        let fraction = |key: &str| {
            let text = required(key)?;
            text.trim()
                .parse::<f64>()
                .ok()
                .filter(|n| (0.0..=1.0).contains(n))
                .ok_or_else(|| problem(key, format!("{text:?} must be a number from 0 to 1")))
        };
        let mut actions = Vec::new();
        for (key, value) in values.iter().filter(|(k, _)| k.starts_with(ACTION_PREFIX)) {
            let name = &key[ACTION_PREFIX.len()..];
            let source = realname_screening::Source::parse(name)
                .ok_or_else(|| problem(key, "names no list source (un, ofac or national:NAME)"))?;
            let action = realname_screening::Action::parse(value.trim())
                .ok_or_else(|| problem(key, format!("{value:?} must be hold or flag")))?;
            actions.push((source, action));
        }
        let screening = realname_app::screening::Settings {
            enabled: match required("screening.enabled")?.trim() {
                "true" => true,
                "false" => false,
                other => {
                    return Err(problem(
                        "screening.enabled",
                        format!("{other:?} must be true or false"),
                    ));
                }
            },
            threshold: fraction("screening.threshold")?,
            near_miss: fraction("screening.near_miss")?,
            actions,
        };
        let risk = realname_app::risk::Settings {
            second_approval: {
                let value = required("review.second_approval")?;
                realname_app::risk::SecondApprovalMode::parse(value.trim()).ok_or_else(|| {
                    problem(
                        "review.second_approval",
                        format!("{value:?} must be risk or all"),
                    )
                })?
            },
            sample: fraction("review.second_approval_sample")?,
            review_every: {
                // `none`: the grade's renewals are its reviews.
                let every = |key: &str| match required(key)?.trim() {
                    "none" => Ok(None),
                    _ => duration(key).map(Some),
                };
                [
                    every("risk.review_every.low")?,
                    every("risk.review_every.medium")?,
                    every("risk.review_every.high")?,
                ]
            },
        };
        Ok(Config {
            risk,
            screening,
            trusted_proxies,
            limits,
            connections_per_address,
            public_url,
            link_ttl: duration("platform.link_ttl")?,
            return_origins,
            webhook_allow_cidrs,
            listen,
            database_url,
            data_key: get("data_key").filter(|k| !k.is_empty()),
            data_key_file: get("data_key_file")
                .filter(|k| !k.is_empty())
                .map(PathBuf::from),
            policy_file: get("policy_file")
                .filter(|k| !k.is_empty())
                .map(PathBuf::from),
            risk_policy_file: get("risk_policy_file")
                .filter(|k| !k.is_empty())
                .map(PathBuf::from),
            rail,
            iso20022,
            overdue_after: duration("iso20022.overdue_after")?,
            settle_after: duration("sandbox.settle_after")?,
            deposit,
            review_sla: duration("review.sla")?,
            claim_ttl: duration("review.claim_ttl")?,
            session_ttl: duration("session.ttl")?,
            consent_version: required("consent.version")?,
            log_json,
            max_connections: count("database.max_connections", 1000)?,
            acquire_timeout: duration("database.acquire_timeout")?,
            retention: realname_core::retention::RetentionRules {
                failed_after: duration("retention.failed_after")?,
                draft_after: duration("retention.draft_after")?,
                fraud_hold: duration("retention.fraud_hold")?,
                verified_after: duration("retention.verified_after")?,
            },
        })
    }

    /// The defaults alone: what `realname serve` runs with on a fresh machine.
    pub fn defaults() -> Result<Config, ConfigError> {
        Config::load(None, |_| None, &[])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30s"), Some(TimeDelta::seconds(30)));
        assert_eq!(parse_duration("10m"), Some(TimeDelta::minutes(10)));
        assert_eq!(parse_duration("12h"), Some(TimeDelta::hours(12)));
        assert_eq!(parse_duration("2d"), Some(TimeDelta::days(2)));
        for bad in ["", "s", "10", "-1s", "1w", "1.5h", "99999999999999999d"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn defaults_are_the_contract_defaults() {
        let c = Config::defaults().unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.database_url, "sqlite://realname.db");
        assert_eq!(c.deposit.max_attempts, 3);
        assert_eq!(c.deposit.expires_after, TimeDelta::days(10));
        assert_eq!(c.review_sla, TimeDelta::days(2));
        assert_eq!(c.claim_ttl, TimeDelta::minutes(30));
        assert_eq!(c.session_ttl, TimeDelta::hours(12));
        assert_eq!(c.settle_after, TimeDelta::zero());
        assert_eq!(c.rail, Rail::Sandbox);
        assert_eq!(
            c.retention,
            realname_core::retention::RetentionRules::default()
        );
    }

    #[test]
    fn layers_override_in_order() {
        let file =
            "listen = \"127.0.0.1:9000\"\n[deposit]\nmax_attempts = 5\n[review]\nsla = \"1d\"\n";
        let env = |name: &str| (name == "REALNAME_DEPOSIT_MAX_ATTEMPTS").then(|| "4".to_owned());
        let c = Config::load(Some(file), env, &[("listen", "127.0.0.1:9001".into())]).unwrap();
        assert_eq!(c.listen.port(), 9001);
        assert_eq!(c.deposit.max_attempts, 4);
        assert_eq!(c.review_sla, TimeDelta::days(1));
    }

    #[test]
    fn a_bad_value_names_its_key() {
        let err = |file: &str| {
            Config::load(Some(file), |_| None, &[])
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            err("[deposit]\nmax_attempts = 0\n"),
            "config: deposit.max_attempts: \"0\" must be a whole number from 1 to 10"
        );
        assert!(err("[review]\nsla = \"two days\"\n").starts_with("config: review.sla:"));
        assert!(err("listen = \"localhost\"\n").starts_with("config: listen:"));
        assert!(
            err("colour = \"blue\"\n").starts_with("config: colour: is not a configuration key")
        );
        assert!(err("rail = \"swift\"\n").starts_with("config: rail:"));
        assert!(err("database_url = \"mysql://x\"\n").starts_with("config: database_url:"));
        assert!(err("listen = [1]\n").starts_with("config: listen:"));
        assert!(err("not toml").starts_with("config: --config:"));
        let iso = "rail = \"iso20022\"\n[iso20022]\noutbox_dir = \"out\"\ninbox_dir = \"in\"\ndebtor_name = \"Realname Ltd\"\ndebtor_account = \"110060123456789012\"\ndebtor_agent = \"BKCHCNBJ\"\n";
        let c = Config::load(Some(iso), |_| None, &[]).unwrap();
        let settings = c.iso20022.unwrap();
        assert_eq!(
            (
                settings.batch_every,
                settings.batch_max,
                settings.retry_after
            ),
            (TimeDelta::minutes(15), 1000, TimeDelta::hours(1)),
            "the contract's defaults"
        );
        for (missing, key) in [
            ("outbox_dir", "iso20022.outbox_dir"),
            ("inbox_dir", "iso20022.inbox_dir"),
            ("debtor_name", "iso20022.debtor_name"),
            ("debtor_account", "iso20022.debtor_account"),
            ("debtor_agent", "iso20022.debtor_agent"),
        ] {
            let without: String = iso
                .lines()
                .filter(|l| !l.starts_with(missing))
                .map(|l| format!("{l}\n"))
                .collect();
            let message = err(&without);
            assert_eq!(
                message,
                format!("config: {key}: is required when rail is iso20022")
            );
            assert!(!message.contains('\n'));
        }
        assert!(
            err(&iso.replace("BKCHCNBJ", "BANK OF CHINA"))
                .starts_with("config: iso20022.debtor_agent:")
        );
        assert!(
            err(&format!("{iso}batch_every = \"soon\"\n"))
                .starts_with("config: iso20022.batch_every:")
        );
        let env = |name: &str| (name == "REALNAME_SESSION_TTL").then(|| "forever".to_owned());
        assert!(
            Config::load(None, env, &[])
                .unwrap_err()
                .to_string()
                .starts_with("config: session.ttl:")
        );
    }
}
