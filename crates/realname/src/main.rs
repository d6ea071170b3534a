//! The `realname` command (CONTRACT 5). Exit codes: 0 ok, 2 usage or bad input, 1 runtime
//! failure; errors in one line, no backtrace.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use realname_app::auth;
use realname_core::policy::Policy;
use realname_core::risk::RiskPolicy;
use realname_core::store::Role;
use realname_server::config::Config;
use realname_server::staff::{self, StaffError};
use realname_server::{App, StartError, keys, load_policy, load_risk_policy, open_store, rotation};
use realname_vault::KeyError;

#[derive(Parser)]
#[command(
    name = "realname",
    version,
    about = "Real-name authentication for foreign users"
)]
struct Cli {
    /// A TOML configuration file.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// sqlite://PATH or postgres://…
    #[arg(long, global = true, value_name = "URL")]
    database: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the service.
    Serve {
        /// Address to listen on, e.g. 127.0.0.1:8080.
        #[arg(long, value_name = "ADDR")]
        listen: Option<String>,
    },
    /// Manage staff accounts.
    Staff {
        #[command(subcommand)]
        command: StaffCommand,
    },
    /// Check or print the bank policy or the risk policy.
    Policy {
        #[command(subcommand)]
        command: PolicyCommand,
    },
    /// Apply database migrations.
    Migrate,
    /// Manage the platform's API keys (CONTRACT 9).
    Apikey {
        #[command(subcommand)]
        command: ApikeyCommand,
    },
    /// The ISO 20022 payout rail (CONTRACT 10).
    Rail {
        #[command(subcommand)]
        command: RailCommand,
    },
    /// The keys the store's data is sealed under (CONTRACT 11).
    Key {
        #[command(subcommand)]
        command: KeyCommand,
    },
    /// The sanctions and terrorist lists every customer is screened against (CONTRACT 12).
    Screening {
        #[command(subcommand)]
        command: ScreeningCommand,
    },
}

#[derive(Subcommand)]
enum ScreeningCommand {
    /// Put a new version of one list source in force: `un` (the UN Consolidated List's XML),
    /// `ofac` (one to three of OFAC's SDN CSV files) or `national:NAME` (JSON Lines).
    Import {
        source: String,
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Each source's version in force, its entries and when it was imported.
    Lists,
    /// The hits an identity would get (audited).
    Check {
        /// The name; repeat for its other spellings.
        #[arg(long = "name", value_name = "NAME", required_unless_present = "file")]
        names: Vec<String>,
        /// Date of birth, YYYY-MM-DD.
        #[arg(long, value_name = "DATE")]
        dob: Option<String>,
        /// ISO 3166-1 alpha-3.
        #[arg(long, value_name = "CODE")]
        nationality: Option<String>,
        /// A document number.
        #[arg(long, value_name = "NUMBER")]
        document: Option<String>,
        /// One JSON object: {"hits": [...]}.
        #[arg(long)]
        json: bool,
        /// Screen many identities, one {name, dob, nationality, document} a line, answering
        /// one {"hits": [...]} a line in order.
        #[arg(long, value_name = "FILE", conflicts_with_all = ["names", "dob", "nationality", "document"])]
        file: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum RailCommand {
    /// Hand a file from the bank (a pain.002 or camt.054) to the inbox by hand, and apply it.
    Import { file: PathBuf },
    /// Files sent and awaiting a report, payouts settled, returned and pending, payouts
    /// waiting to be sent again, and unmatched entries.
    Status,
}

#[derive(Subcommand)]
enum KeyCommand {
    /// Say which key-encryption key the store's keys are sealed under, whether the
    /// configured key opens them, and whether any value is still under a retired data key.
    Check,
    /// Make a new key-encryption key: the store's keys are sealed anew under it, the new key
    /// file written and the old one kept as FILE.retired.
    Rotate {
        /// Make a new data key instead, and re-seal every sealed value under it while the
        /// service runs; run it again after a crash to carry on.
        #[arg(long)]
        data: bool,
        /// Values read and re-sealed per transaction (with --data).
        #[arg(long, default_value_t = 500, requires = "data", value_parser = clap::value_parser!(u32).range(1..=10_000))]
        batch: u32,
        /// Milliseconds to wait after each batch, leaving the database to the service
        /// (with --data).
        #[arg(long, default_value_t = 0, requires = "data")]
        pause_ms: u64,
    },
}

#[derive(Subcommand)]
enum ApikeyCommand {
    /// Make a key and print it, once: only its hash is kept.
    Create {
        name: String,
        /// A scope the key has; repeat for several. None: all but verifications:read_pii
        /// and verifications:redact.
        #[arg(long = "scope", value_name = "SCOPE")]
        scopes: Vec<String>,
        /// A test key (`rn_test_…`), for the sandbox rail.
        #[arg(long)]
        test: bool,
    },
    /// List the keys: prefix, name, mode, scopes, created, last used, revoked.
    List,
    /// End a key at once, on every node.
    Revoke { prefix: String },
}

#[derive(Subcommand)]
enum StaffCommand {
    /// Create a staff account; the password is read from standard input. Prints, once, the
    /// otpauth:// URI of its second factor for an authenticator app.
    Add {
        login: String,
        #[arg(long, value_parser = ["reviewer", "admin"])]
        role: String,
    },
    /// Give a staff account a new second factor (printing its URI); the old codes stop at once.
    Totp { login: String },
    /// End a staff account's sign-ins and sessions at once, on every node.
    Disable { login: String },
}

#[derive(Subcommand)]
enum PolicyCommand {
    /// Validate a bank or risk policy file (told apart by its tables), explaining every error
    /// with its line.
    Check { file: PathBuf },
    /// Print the bank policy in force, or with --risk the risk policy.
    Show {
        #[arg(long)]
        risk: bool,
    },
}

enum Failure {
    Usage(String),
    Runtime(String),
}

impl From<StartError> for Failure {
    fn from(e: StartError) -> Failure {
        match e {
            StartError::Config(_)
            | StartError::Policy(_)
            | StartError::RiskPolicy(_)
            | StartError::Key(KeyError::Malformed | KeyError::MalformedFile { .. }) => {
                Failure::Usage(e.to_string())
            }
            _ => Failure::Runtime(e.to_string()),
        }
    }
}

fn config(cli: &Cli, listen: Option<&String>) -> Result<Config, Failure> {
    let text = match &cli.config {
        Some(path) => Some(
            std::fs::read_to_string(path)
                .map_err(|e| Failure::Usage(format!("--config {}: {e}", path.display())))?,
        ),
        None => None,
    };
    let mut flags = Vec::new();
    if let Some(url) = &cli.database {
        flags.push(("database_url", url.clone()));
    }
    if let Some(listen) = listen {
        flags.push(("listen", listen.clone()));
    }
    Config::load(text.as_deref(), |name| std::env::var(name).ok(), &flags)
        .map_err(|e| Failure::Usage(e.to_string()))
}

/// The application layer over the configured store, for commands that act through it.
async fn service(config: &Config) -> Result<realname_app::Service, Failure> {
    let parts = App::parts(config).await?;
    realname_app::Service::new(parts)
        .await
        .map_err(|e| Failure::Runtime(format!("store: {}", e.code)))
}

fn time(at: Option<chrono::DateTime<chrono::Utc>>) -> String {
    at.map_or_else(
        || "-".to_owned(),
        |t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
    )
}

async fn apikey(config: Config, command: &ApikeyCommand) -> Result<(), Failure> {
    use realname_app::platform::keys;
    use realname_core::platform::{KeyMode, Scope};
    let app = service(&config).await?;
    let failed =
        |e: realname_app::AppError| Failure::Runtime(format!("{}: {}", e.code, e.message_en()));
    match command {
        ApikeyCommand::Create { name, scopes, test } => {
            let scopes = scopes
                .iter()
                .map(|s| {
                    Scope::parse(s).ok_or_else(|| {
                        let known: Vec<&str> = Scope::ALL.iter().map(|s| s.as_str()).collect();
                        Failure::Usage(format!("--scope {s}: one of {}", known.join(", ")))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            if name.trim().is_empty() {
                return Err(Failure::Usage("NAME must not be empty".into()));
            }
            let mode = if *test { KeyMode::Test } else { KeyMode::Live };
            // A store is of one mode for life (CONTRACT 9): a key of the other would never work.
            if mode != app.mode() {
                return Err(Failure::Usage(match mode {
                    KeyMode::Test => {
                        "--test: a test key works only under the sandbox rail, and this one is live"
                            .into()
                    }
                    KeyMode::Live => {
                        "a live key works only under a live rail, and this one is the sandbox: add --test"
                            .into()
                    }
                }));
            }
            let made = keys::create(&app, name, &scopes, mode)
                .await
                .map_err(failed)?;
            println!("{}", made.key);
            eprintln!(
                "created {} key {} ({}): shown once, keep it secret",
                mode.as_str(),
                made.record.prefix,
                made.record.scopes_text()
            );
            Ok(())
        }
        ApikeyCommand::List => {
            println!("prefix\tname\tmode\tscopes\tcreated\tlast_used\trevoked");
            for key in keys::list(&app).await.map_err(failed)? {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    key.prefix,
                    key.name,
                    key.mode.as_str(),
                    key.scopes_text().replace(' ', ","),
                    time(Some(key.created_at)),
                    time(key.last_used_at),
                    time(key.revoked_at)
                );
            }
            Ok(())
        }
        ApikeyCommand::Revoke { prefix } => {
            if keys::revoke(&app, prefix).await.map_err(failed)? {
                println!("revoked {prefix}");
                Ok(())
            } else {
                Err(Failure::Usage(format!(
                    "no live key has the prefix {prefix}"
                )))
            }
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Runtime(format!("cannot start the runtime: {e}")))
}

fn run(cli: Cli) -> Result<(), Failure> {
    match &cli.command {
        Command::Serve { listen } => {
            let config = config(&cli, listen.as_ref())?;
            realname_server::init_logging(config.log_json);
            runtime()?.block_on(async {
                let app = App::build(config).await?;
                let addr = app.local_addr().map(|a| a.to_string()).unwrap_or_default();
                tracing::info!(%addr, "realname is listening");
                println!("realname listening on http://{addr}");
                app.run_until_stopped(realname_server::shutdown_signal())
                    .await
                    .map_err(|e| Failure::Runtime(format!("serve: {e}")))
            })
        }
        Command::Staff { command } => {
            let config = config(&cli, None)?;
            runtime()?.block_on(staff(config, command))
        }
        Command::Apikey { command } => {
            let config = config(&cli, None)?;
            runtime()?.block_on(apikey(config, command))
        }
        Command::Rail { command } => {
            let config = config(&cli, None)?;
            runtime()?.block_on(rail(config, command))
        }
        Command::Screening { command } => {
            let config = config(&cli, None)?;
            runtime()?.block_on(screening(config, command))
        }
        Command::Policy {
            command: PolicyCommand::Check { file },
        } => {
            let text = std::fs::read_to_string(file)
                .map_err(|e| Failure::Usage(format!("{}: {e}", file.display())))?;
            let checked = if realname_core::risk::is_risk_policy(&text) {
                RiskPolicy::from_toml(&text).map(|policy| {
                    let (medium, high) = policy.thresholds();
                    format!(
                        "risk policy {}, {} factors, medium from {medium} points, high from {high}",
                        policy.version(),
                        policy.rules().len()
                    )
                })
            } else {
                Policy::from_toml(&text).map(|policy| {
                    let supported = policy.supported_banks().count();
                    format!("{} banks, {supported} supported", policy.banks().len())
                })
            };
            match checked {
                Ok(summary) => {
                    println!("{}: ok, {summary}", file.display());
                    Ok(())
                }
                Err(errors) => {
                    for e in &errors {
                        eprintln!("{}:{e}", file.display());
                    }
                    Err(Failure::Usage(format!(
                        "{}: {} error(s)",
                        file.display(),
                        errors.len()
                    )))
                }
            }
        }
        Command::Policy {
            command: PolicyCommand::Show { risk },
        } => {
            let config = config(&cli, None)?;
            if *risk {
                print!("{}", load_risk_policy(&config)?.source());
            } else {
                print!("{}", load_policy(&config)?.source());
            }
            Ok(())
        }
        Command::Key {
            command: KeyCommand::Check,
        } => {
            let config = config(&cli, None)?;
            runtime()?.block_on(async {
                let store = open_store(&config).await?.store;
                let opened = keys::open(&config, store.as_ref()).await?;
                let left = rotation::left(store.as_ref(), &opened.vault).await?;
                let under = match (left.retired, opened.vault.rotating()) {
                    (0, false) => "no value is sealed under a retired data key".to_owned(),
                    (0, true) => "a data-key rotation is under way and no value is left under the retired data key; run `realname key rotate --data` to end it".to_owned(),
                    (n, _) => format!(
                        "{n} value(s) are still sealed under a retired data key; run `realname key rotate --data` to re-seal them"
                    ),
                };
                println!(
                    "key-encryption key {}: opens the store's data key and look-up key; {under}",
                    opened.fingerprint
                );
                if left.unknown > 0 {
                    println!(
                        "{} value(s) are sealed under no key of this store and do not open",
                        left.unknown
                    );
                }
                Ok(())
            })
        }
        Command::Key {
            command:
                KeyCommand::Rotate {
                    data: true,
                    batch,
                    pause_ms,
                },
        } => {
            let config = config(&cli, None)?;
            runtime()?.block_on(async {
                let store = open_store(&config).await?.store;
                let pace = rotation::Pace {
                    batch: *batch,
                    pause: std::time::Duration::from_millis(*pause_ms),
                };
                let rotated = rotation::rotate_data(&config, store.as_ref(), pace, &mut |line| {
                    println!("{line}")
                })
                .await?;
                println!(
                    "data key replaced: {} value(s) re-sealed under the new data key{}; the retired data key is forgotten",
                    rotated.resealed,
                    if rotated.resumed { " (a rotation resumed)" } else { "" }
                );
                if rotated.unknown > 0 {
                    println!(
                        "{} value(s) are sealed under no key of this store and do not open; they were left as they are",
                        rotated.unknown
                    );
                }
                Ok(())
            })
        }
        Command::Key {
            command: KeyCommand::Rotate { data: false, .. },
        } => {
            let config = config(&cli, None)?;
            runtime()?.block_on(async {
                let store = open_store(&config).await?.store;
                let rotated = keys::rotate(&config, store.as_ref()).await?;
                println!(
                    "key-encryption key {} replaced by {}; the old key is kept in {}; copy {} to every node before it restarts",
                    rotated.old,
                    rotated.new,
                    rotated.retired.display(),
                    rotated.file.display()
                );
                Ok(())
            })
        }
        Command::Migrate => {
            let config = config(&cli, None)?;
            runtime()?.block_on(async {
                open_store(&config).await?;
                println!("migrations applied");
                Ok(())
            })
        }
    }
}

async fn rail(config: Config, command: &RailCommand) -> Result<(), Failure> {
    use realname_server::rail::{self, RailCliError};
    let failure = |e: RailCliError| match e {
        RailCliError::Start(e) => Failure::from(e),
        RailCliError::Usage(e) => Failure::Usage(e),
        RailCliError::Failed(e) => Failure::Runtime(e),
    };
    match command {
        RailCommand::Import { file } => {
            let (name, applied) = rail::import(&config, file).await.map_err(failure)?;
            println!("handed {name} to the inbox; {applied} message(s) applied now");
        }
        RailCommand::Status => print!("{}", rail::status(&config).await.map_err(failure)?),
    }
    Ok(())
}

async fn screening(config: Config, command: &ScreeningCommand) -> Result<(), Failure> {
    use realname_server::screening::{self, Identity, ScreeningCliError};
    let failure = |e: ScreeningCliError| match e {
        ScreeningCliError::Start(e) => Failure::from(e),
        ScreeningCliError::Usage(e) => Failure::Usage(e),
        ScreeningCliError::Failed(e) => Failure::Runtime(e),
    };
    match command {
        ScreeningCommand::Import { source, files } => {
            println!(
                "{}",
                screening::import(&config, source, files)
                    .await
                    .map_err(failure)?
            );
        }
        ScreeningCommand::Lists => print!("{}", screening::lists(&config).await.map_err(failure)?),
        ScreeningCommand::Check {
            names,
            dob,
            nationality,
            document,
            json,
            file,
        } => {
            let (identities, json) = match file {
                Some(path) => {
                    let text = std::fs::read_to_string(path)
                        .map_err(|e| Failure::Usage(format!("{}: {e}", path.display())))?;
                    let identities = text
                        .lines()
                        .enumerate()
                        .filter(|(_, l)| !l.trim().is_empty())
                        .map(|(i, l)| Identity::from_json_line(l, i + 1))
                        .collect::<Result<Vec<_>, _>>()
                        .map_err(|e| Failure::Usage(format!("{}: {e}", path.display())))?;
                    (identities, true)
                }
                None => (
                    vec![Identity {
                        names: names.clone(),
                        dob: dob.clone(),
                        nationality: nationality.clone(),
                        document: document.clone(),
                    }],
                    *json,
                ),
            };
            print!(
                "{}",
                screening::check(&config, &identities, json)
                    .await
                    .map_err(failure)?
            );
        }
    }
    Ok(())
}

fn staff_login(login: &str) -> Result<String, Failure> {
    auth::normalise_staff_login(login).map_err(|_| {
        Failure::Usage(
            "LOGIN must be 3-64 letters, digits, '.', '_' or '-', an e-mail or a phone".into(),
        )
    })
}

async fn staff(config: Config, command: &StaffCommand) -> Result<(), Failure> {
    let failure = |e: StaffError| match e {
        StaffError::Start(e) => Failure::from(e),
        e @ (StaffError::Taken(_) | StaffError::NoSuchStaff(_)) => Failure::Usage(e.to_string()),
        e @ StaffError::Failed(_) => Failure::Runtime(e.to_string()),
    };
    match command {
        StaffCommand::Add { login, role } => {
            let role = Role::parse(role)
                .ok_or_else(|| Failure::Usage("--role must be reviewer or admin".into()))?;
            let login = staff_login(login)?;
            let mut input = String::new();
            std::io::stdin()
                .read_to_string(&mut input)
                .map_err(|e| Failure::Runtime(format!("stdin: {e}")))?;
            let password = input.lines().next().unwrap_or("").to_owned();
            auth::check_password(&password).map_err(|_| {
                Failure::Usage(format!(
                    "the password must have at least {} characters",
                    auth::MIN_PASSWORD_CHARS
                ))
            })?;
            let uri = staff::add(&config, &login, role, password)
                .await
                .map_err(failure)?;
            println!("created {} {login}", role.as_str());
            println!("second factor (shown once; add it to an authenticator app): {uri}");
        }
        StaffCommand::Totp { login } => {
            let login = staff_login(login)?;
            let uri = staff::new_second_factor(&config, &login)
                .await
                .map_err(failure)?;
            println!(
                "new second factor for {login} (shown once; the old codes no longer work): {uri}"
            );
        }
        StaffCommand::Disable { login } => {
            let login = staff_login(login)?;
            staff::disable(&config, &login).await.map_err(failure)?;
            println!("disabled {login}: its sessions are ended and it can no longer sign in");
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(message)) => {
            eprintln!("realname: {message}");
            ExitCode::from(2)
        }
        Err(Failure::Runtime(message)) => {
            eprintln!("realname: {message}");
            ExitCode::from(1)
        }
    }
}
