//! `tether-broker`: parses the command line, sets up logging and calls the library.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use tether_broker::logging::{self, LogFormat};
use tether_broker::{Config, ConfigError, DataDir, RunError, cli};
use tether_protocol::UserRole;
use tether_protocol::admin_cli::AdminVerb;
use tokio_util::sync::CancellationToken;

/// The tether remote-support broker.
#[derive(Debug, Parser)]
#[command(name = "tether-broker", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Args)]
struct DataDirArg {
    /// The broker's data directory (certificates, keys, database).
    #[arg(long, env = "TETHER_DATA_DIR")]
    data_dir: PathBuf,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create the CA, server certificate, keys and database in an empty data directory.
    Init {
        #[command(flatten)]
        dir: DataDirArg,
        /// A DNS name or IP address the server certificate must cover (repeatable).
        /// Default: localhost and 127.0.0.1.
        #[arg(long = "hostname")]
        hostnames: Vec<String>,
    },
    /// Serve agents and consoles (initialising the data directory first if it is empty).
    Run {
        #[command(flatten)]
        dir: DataDirArg,
        /// Address to listen on [default: from the config, else 127.0.0.1:7443].
        #[arg(long, env = "TETHER_LISTEN")]
        listen: Option<SocketAddr>,
        /// Configuration file [default: DATA_DIR/broker.toml when it exists].
        #[arg(long, env = "TETHER_CONFIG")]
        config: Option<PathBuf>,
        /// Log line format.
        #[arg(long, value_enum, default_value_t = LogFormat::Text, env = "TETHER_LOG_FORMAT")]
        log_format: LogFormat,
    },
    /// Manage technician, dispatcher and admin accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Review session transcripts: list, show, verify, export.
    Admin {
        /// The broker's data directory.
        #[arg(long, env = "TETHER_DATA_DIR", global = true)]
        data_dir: Option<PathBuf>,
        #[command(subcommand)]
        verb: AdminVerb,
    },
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Add an account; the password is read from standard input.
    Add {
        /// Login name.
        name: String,
        #[command(flatten)]
        dir: DataDirArg,
        /// technician, dispatcher or admin.
        #[arg(long)]
        role: UserRole,
        /// Skill tags, comma-separated (e.g. printers,vpn).
        #[arg(long, value_delimiter = ',')]
        skills: Vec<String>,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List accounts.
    List {
        #[command(flatten)]
        dir: DataDirArg,
    },
    /// Disable an account and revoke its tokens.
    Disable {
        /// Login name.
        name: String,
        #[command(flatten)]
        dir: DataDirArg,
    },
    /// Re-enable a disabled account.
    Enable {
        /// Login name.
        name: String,
        #[command(flatten)]
        dir: DataDirArg,
    },
    /// Lift the lock of an account locked after failed sign-ins.
    Unlock {
        /// Login name.
        name: String,
        #[command(flatten)]
        dir: DataDirArg,
    },
    /// Change an account's role; its open connections are cut, to sign in again.
    Role {
        /// Login name.
        name: String,
        /// technician, dispatcher or admin.
        role: UserRole,
        #[command(flatten)]
        dir: DataDirArg,
    },
    /// List an account's live bearer tokens (by id: the start of each token's hash).
    Tokens {
        /// Login name.
        name: String,
        #[command(flatten)]
        dir: DataDirArg,
    },
    /// Revoke one of an account's tokens (by id, or a unique start of it), or all of them.
    Revoke {
        /// Login name.
        name: String,
        /// The token's id.
        #[arg(required_unless_present = "all")]
        token: Option<String>,
        /// Every token of the account.
        #[arg(long, conflicts_with = "token")]
        all: bool,
        #[command(flatten)]
        dir: DataDirArg,
    },
}

fn main() -> ExitCode {
    tether_certs::install_provider();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run { dir, listen, config, log_format } => {
            logging::init(log_format);
            run(dir.data_dir, listen, config).map(|()| ExitCode::SUCCESS)
        }
        Command::Admin { data_dir, verb } => {
            logging::init(LogFormat::Text);
            admin(data_dir, verb)
        }
        other => {
            logging::init(LogFormat::Text);
            offline(other).map(|()| ExitCode::SUCCESS)
        }
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("tether-broker: {err:#}");
            let config_error = err.chain().any(|e| {
                e.is::<ConfigError>()
                    || e.downcast_ref::<RunError>()
                        .is_some_and(|r| matches!(r, RunError::Config(_)))
            });
            // EX_USAGE for a configuration the operator must fix.
            if config_error { ExitCode::from(64) } else { ExitCode::FAILURE }
        }
    }
}

fn run(
    data_dir: PathBuf,
    listen: Option<SocketAddr>,
    config: Option<PathBuf>,
) -> anyhow::Result<()> {
    let data_dir = DataDir::new(data_dir);
    let config_path = config.or_else(|| Some(data_dir.config_file()).filter(|p| p.exists()));
    let mut config = match &config_path {
        Some(path) => Config::from_file(path)?,
        None => Config::default(),
    };
    if let Some(listen) = listen {
        config.listen = listen;
    }
    config.validate()?;
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        let addr = listener.local_addr()?;
        let shutdown = CancellationToken::new();
        tokio::spawn(signals(shutdown.clone()));
        // Scripts and tests read the first line to learn the port (for example with
        // --listen :0). Nobody reading standard output is no reason to stop serving.
        let announced = (|| {
            let mut out = std::io::stdout().lock();
            writeln!(out, "tether-broker listening on wss://{addr}/v1/ws")?;
            writeln!(out, "give agents and consoles {}", data_dir.certs().ca_cert.display())?;
            writeln!(out, "the JSON API is at https://{addr}/api/v1/")?;
            out.flush()
        })();
        if let Err(e) = announced {
            tracing::warn!(%e, "could not write the start-up lines to standard output");
        }
        tether_broker::run(listener, &data_dir, config, shutdown).await?;
        Ok(())
    })
}

async fn signals(shutdown: CancellationToken) {
    use tokio::signal::unix::{SignalKind, signal};
    let Ok(mut term) = signal(SignalKind::terminate()) else {
        tracing::error!("cannot listen for SIGTERM");
        return;
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT received"),
        _ = term.recv() => tracing::info!("SIGTERM received"),
    }
    shutdown.cancel();
}

fn offline(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Init { dir, hostnames } => {
            let data_dir = DataDir::new(dir.data_dir);
            let report = data_dir.init(&hostnames)?;
            if report.created.is_empty() {
                println!("{} is already initialised; nothing changed", data_dir.root().display());
            }
            for path in report.created {
                println!("created {}", path.display());
            }
            Ok(())
        }
        Command::User { command } => user(command),
        Command::Run { .. } | Command::Admin { .. } => unreachable!("handled by main"),
    }
}

fn user(command: UserCommand) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    match command {
        UserCommand::Add { name, dir, role, skills, password_stdin } => {
            if !password_stdin {
                bail!("pass --password-stdin and give the password on standard input");
            }
            let password = tether_access::accounts::read_password(&mut std::io::stdin().lock())
                .context("reading the password from standard input")?;
            let dir = DataDir::new(dir.data_dir);
            runtime.block_on(cli::add_user(&dir, &name, role, &skills, &password))?;
            println!("added {} {name}", role.name());
        }
        UserCommand::List { dir } => {
            print!("{}", runtime.block_on(cli::list_users(&DataDir::new(dir.data_dir)))?);
        }
        UserCommand::Disable { name, dir } => {
            runtime.block_on(cli::set_disabled(&DataDir::new(dir.data_dir), &name, true))?;
            println!("disabled {name}; its tokens are revoked");
        }
        UserCommand::Enable { name, dir } => {
            runtime.block_on(cli::set_disabled(&DataDir::new(dir.data_dir), &name, false))?;
            println!("enabled {name}");
        }
        UserCommand::Unlock { name, dir } => {
            runtime.block_on(cli::unlock(&DataDir::new(dir.data_dir), &name))?;
            println!("unlocked {name}");
        }
        UserCommand::Role { name, role, dir } => {
            runtime.block_on(cli::set_role(&DataDir::new(dir.data_dir), &name, role))?;
            println!("{name} is now {}; its open connections are cut", role.name());
        }
        UserCommand::Tokens { name, dir } => {
            print!("{}", runtime.block_on(cli::tokens(&DataDir::new(dir.data_dir), &name))?);
        }
        UserCommand::Revoke { name, token, all: _, dir } => {
            let id = token.unwrap_or_default();
            let n = runtime.block_on(cli::revoke(&DataDir::new(dir.data_dir), &name, &id))?;
            println!("revoked {n} token{} of {name}", if n == 1 { "" } else { "s" });
        }
    }
    Ok(())
}

fn admin(data_dir: Option<PathBuf>, verb: AdminVerb) -> anyhow::Result<ExitCode> {
    let data_dir = DataDir::new(data_dir.context("admin needs --data-dir")?);
    let now = tether_protocol::unix_seconds(std::time::SystemTime::now());
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    let printed = runtime.block_on(cli::admin(&data_dir, verb, now))?;
    if let Some((path, doc)) = &printed.file {
        std::fs::write(path, doc).with_context(|| path.display().to_string())?;
    }
    print!("{}", printed.stdout);
    Ok(ExitCode::from(printed.exit))
}
