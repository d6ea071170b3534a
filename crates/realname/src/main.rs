//! The `realname` command (CONTRACT 5). Exit codes: 0 ok, 2 usage or bad input, 1 runtime
//! failure; errors in one line, no backtrace.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use realname_app::auth;
use realname_core::policy::Policy;
use realname_core::store::{Account, Role};
use realname_server::config::Config;
use realname_server::{App, StartError, load_policy, open_store};

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
    /// Check or print the bank policy.
    Policy {
        #[command(subcommand)]
        command: PolicyCommand,
    },
    /// Apply database migrations.
    Migrate,
}

#[derive(Subcommand)]
enum StaffCommand {
    /// Create a staff account; the password is read from standard input.
    Add {
        login: String,
        #[arg(long, value_parser = ["reviewer", "admin"])]
        role: String,
    },
}

#[derive(Subcommand)]
enum PolicyCommand {
    /// Validate a policy file, explaining every error with its line.
    Check { file: PathBuf },
    /// Print the policy in force.
    Show,
}

enum Failure {
    Usage(String),
    Runtime(String),
}

impl From<StartError> for Failure {
    fn from(e: StartError) -> Failure {
        match e {
            StartError::Config(_) | StartError::Key(_) | StartError::Policy(_) => {
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
        Command::Staff {
            command: StaffCommand::Add { login, role },
        } => {
            let config = config(&cli, None)?;
            let role = Role::parse(role)
                .ok_or_else(|| Failure::Usage("--role must be reviewer or admin".into()))?;
            let login = auth::normalise_staff_login(login).map_err(|_| {
                Failure::Usage(
                    "LOGIN must be 3-64 letters, digits, '.', '_' or '-', an e-mail or a phone"
                        .into(),
                )
            })?;
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
            runtime()?.block_on(async {
                let store = open_store(&config).await?.store;
                let account = Account {
                    id: uuid_v4(),
                    login: login.clone(),
                    password_hash: auth::hash_password(password)
                        .await
                        .map_err(|_| Failure::Runtime("password hashing failed".into()))?,
                    role,
                    created_at: chrono_now(),
                };
                store.create_account(&account).await.map_err(|e| match e {
                    realname_core::store::StoreError::Conflict(_) => {
                        Failure::Usage(format!("login {login} is taken"))
                    }
                    other => Failure::Runtime(other.to_string()),
                })?;
                println!("created {} {login}", role.as_str());
                Ok(())
            })
        }
        Command::Policy {
            command: PolicyCommand::Check { file },
        } => {
            let text = std::fs::read_to_string(file)
                .map_err(|e| Failure::Usage(format!("{}: {e}", file.display())))?;
            match Policy::from_toml(&text) {
                Ok(policy) => {
                    let supported = policy.supported_banks().count();
                    println!(
                        "{}: ok, {} banks, {supported} supported",
                        file.display(),
                        policy.banks().len()
                    );
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
            command: PolicyCommand::Show,
        } => {
            let config = config(&cli, None)?;
            let policy = load_policy(&config)?;
            print!("{}", policy.source());
            Ok(())
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

fn uuid_v4() -> realname_server::Uuid {
    realname_server::Uuid::new_v4()
}

fn chrono_now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
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
