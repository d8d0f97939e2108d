//! `tether-agent`: parses the command line and runs a session.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use tether_agent::consent::ConsentPolicy;
use tether_agent::files::FileService;
use tether_agent::input::{InputSink, JsonLinesSink};
use tether_agent::output::AgentEvent;
use tether_agent::screen::TestPattern;
use tether_agent::session::{AgentError, AgentOptions, Start, run};
use tether_client::BrokerAddr;
use tether_client::Printer;
use tether_client::check_ui::check_with_progress;
use tether_protocol::{Credential, Priority, Role, Secret, SupportRequest, Verdict};

/// The customer's side of tether: ask for remote help, or join a technician with a code.
#[derive(Debug, Parser)]
#[command(name = "tether-agent", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Ask for help: log a ticket and wait for a technician.
    Request {
        #[command(flatten)]
        common: Common,
        /// Your name.
        #[arg(long)]
        name: String,
        /// How the help desk can reach you (phone or e-mail).
        #[arg(long, default_value = "")]
        contact: String,
        /// What is wrong, in your words.
        #[arg(long)]
        issue: String,
        /// critical, high, medium or low.
        #[arg(long, default_value = "medium")]
        priority: Priority,
    },
    /// Check this computer's connection to the broker (round trips, download, upload) and
    /// say whether it is good enough for remote support. Exits non-zero on a fail.
    Check {
        #[command(flatten)]
        endpoint: Endpoint,
        /// Print JSON events instead of a progress bar and a table.
        #[arg(long)]
        json: bool,
    },
    /// Join the technician who gave you a code.
    Join {
        /// The nine-digit code (spaces and dashes are fine).
        code: String,
        #[command(flatten)]
        common: Common,
    },
}

#[derive(Debug, Args)]
struct Endpoint {
    /// The broker, e.g. wss://help.example.com:7443.
    #[arg(long, env = "TETHER_BROKER")]
    broker: BrokerAddr,
    /// The broker's CA certificate (ca.pem from its data directory).
    #[arg(long, env = "TETHER_CA")]
    ca: PathBuf,
}

#[derive(Debug, Args)]
struct Common {
    #[command(flatten)]
    endpoint: Endpoint,
    /// How to answer the technician's requests: ask each time, or answer in advance.
    #[arg(long, value_enum, default_value_t = ConsentPolicy::Ask)]
    consent: ConsentPolicy,
    /// Write received input events to this file as JSON lines instead of carrying them out.
    #[arg(long)]
    input_log: Option<PathBuf>,
    /// Screen source. Only the moving test pattern exists so far.
    #[arg(long, value_enum, default_value_t = ScreenChoice::TestPattern)]
    screen: ScreenChoice,
    /// Frames per second at most.
    #[arg(long, default_value_t = 10)]
    fps: u32,
    /// Print one JSON event per line instead of sentences.
    #[arg(long)]
    json: bool,
    /// Where files the technician sends are saved [default: ~/Downloads/tether-received, or
    /// ~/tether-received].
    #[arg(long, env = "TETHER_RECEIVE_DIR")]
    receive_dir: Option<PathBuf>,
    /// The largest file accepted, in bytes.
    #[arg(long, default_value_t = 4 << 30)]
    max_file_size: u64,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum ScreenChoice {
    /// Moving colour bars, 640x400.
    TestPattern,
}

fn main() -> ExitCode {
    tether_certs::install_provider();
    tether_client::init_logging();
    let cli = Cli::parse();
    let (common, start) = match cli.command {
        Command::Check { endpoint, json } => return check(endpoint, json),
        Command::Request { common, name, contact, issue, priority } => {
            (common, Start::Request(SupportRequest { name, contact, issue, priority }))
        }
        Command::Join { code, common } => (common, Start::Code(Secret::new(code))),
    };
    let json = common.json;
    match start_agent(common, start) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            let code = err
                .downcast_ref::<AgentError>()
                .and_then(|e| match e {
                    AgentError::Client(c) => c.code(),
                    _ => None,
                })
                .map_or("agent", |c| c.name());
            if json {
                let event = AgentEvent::Error { code: code.into(), message: format!("{err:#}") };
                Printer::new(true).emit(&event);
            }
            eprintln!("tether-agent: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn start_agent(common: Common, start: Start) -> anyhow::Result<()> {
    let input: Option<Box<dyn InputSink>> = match &common.input_log {
        Some(path) => Some(Box::new(
            JsonLinesSink::open(path)
                .map_err(|e| anyhow::anyhow!("cannot open input log {}: {e}", path.display()))?,
        )),
        None => None,
    };
    let screen = match common.screen {
        ScreenChoice::TestPattern => Box::new(TestPattern::new(640, 400)),
    };
    let opts = AgentOptions {
        broker: common.endpoint.broker,
        ca: common.endpoint.ca,
        policy: common.consent,
        input,
        screen,
        fps: common.fps,
        output: Printer::new(common.json),
        files_dir: common.receive_dir.unwrap_or_else(FileService::default_dir),
        max_file_size: common.max_file_size,
    };
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(run(opts, start))?;
    Ok(())
}

/// `tether-agent check`: the bandwidth check on its own.
fn check(endpoint: Endpoint, json: bool) -> ExitCode {
    let printer = Printer::new(json);
    let run = async {
        let tls = tether_certs::client_config(&endpoint.ca)?;
        let (mut conn, _) =
            tether_client::connect(&endpoint.broker, tls, Role::Agent, Credential::None).await?;
        let result = check_with_progress(&mut conn, printer).await?;
        conn.close().await;
        anyhow::Ok(result)
    };
    let outcome =
        tokio::runtime::Runtime::new().map_err(anyhow::Error::from).and_then(|rt| rt.block_on(run));
    match outcome {
        Ok(result) if result.verdict == Verdict::Fail => ExitCode::FAILURE,
        Ok(_) => ExitCode::SUCCESS,
        Err(err) => {
            if json {
                printer
                    .emit(&AgentEvent::Error { code: "agent".into(), message: format!("{err:#}") });
            }
            eprintln!("tether-agent: {err:#}");
            ExitCode::FAILURE
        }
    }
}
