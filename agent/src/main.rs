//! `tether-agent`: parses the command line and runs a session.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use tether_agent::consent::ConsentPolicy;
use tether_agent::display::{self, DisplayCapture, Origin};
use tether_agent::files::FileService;
use tether_agent::inject::EnigoSink;
use tether_agent::input::{InputSink, JsonLinesSink};
use tether_agent::output::AgentEvent;
use tether_agent::screen::{ScreenSource, TestPattern};
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
    /// List this display's monitors (for `--monitor`).
    Monitors,
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
    /// What to do with the technician's input: carry it out on this display, write it to
    /// `--input-log`, or neither. `auto` carries it out when there is a display.
    #[arg(long, value_enum, default_value_t = InputChoice::Auto)]
    input: InputChoice,
    /// Write received input events to this file as JSON lines (implies `--input log`).
    #[arg(long)]
    input_log: Option<PathBuf>,
    /// What the technician sees: this display, or a moving test pattern. `auto` captures the
    /// display when there is one.
    #[arg(long, value_enum, default_value_t = ScreenChoice::Auto)]
    screen: ScreenChoice,
    /// Which monitor to share, numbered from 0 as `tether-agent monitors` lists them
    /// [default: the primary, else the first].
    #[arg(long)]
    monitor: Option<usize>,
    /// Frames per second at most.
    #[arg(long, default_value_t = 30)]
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
    /// Keep screen and input on the broker's relay: never try a direct path.
    #[arg(long)]
    no_p2p: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ScreenChoice {
    /// The display if there is one, else the test pattern.
    Auto,
    /// This display (X11 or Wayland).
    Display,
    /// Moving colour bars, 640x400.
    TestPattern,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum InputChoice {
    /// Inject when there is a display, else nothing.
    Auto,
    /// Inject into this display.
    Inject,
    /// Write to `--input-log`.
    Log,
    /// Carry out nothing.
    None,
}

fn main() -> ExitCode {
    tether_certs::install_provider();
    tether_client::init_logging();
    let cli = Cli::parse();
    let (common, start) = match cli.command {
        Command::Check { endpoint, json } => return check(endpoint, json),
        Command::Monitors => return monitors(),
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
                let event = AgentEvent::error(code, format!("{err:#}"));
                Printer::new(true).emit(&event);
            }
            eprintln!("tether-agent: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn start_agent(common: Common, start: Start) -> anyhow::Result<()> {
    let printer = Printer::new(common.json);
    let notice = |message: String| printer.emit(&AgentEvent::notice(message));
    // The screen first: injection works in the captured monitor's coordinates.
    let use_display = match common.screen {
        ScreenChoice::Display => true,
        ScreenChoice::TestPattern => false,
        ScreenChoice::Auto => display::available(),
    };
    let (screen, origin): (Box<dyn ScreenSource>, Origin) = if use_display {
        match DisplayCapture::open(common.monitor) {
            Ok(capture) => {
                let origin = capture.origin();
                (Box::new(capture), origin)
            }
            Err(e) if common.screen == ScreenChoice::Auto => {
                notice(format!("Sharing a test pattern: {e}."));
                (Box::new(TestPattern::new(640, 400)), Origin::default())
            }
            Err(e) => anyhow::bail!("cannot capture the display: {e}"),
        }
    } else {
        (Box::new(TestPattern::new(640, 400)), Origin::default())
    };
    let choice = match (common.input, &common.input_log) {
        (InputChoice::Auto, Some(_)) => InputChoice::Log,
        (InputChoice::Auto, None) if use_display => InputChoice::Inject,
        (InputChoice::Auto, None) => InputChoice::None,
        (choice, _) => choice,
    };
    let input: Option<Box<dyn InputSink>> = match choice {
        InputChoice::Log => {
            let path = common
                .input_log
                .as_ref()
                .ok_or_else(|| anyhow::anyhow!("--input log needs --input-log FILE"))?;
            Some(Box::new(
                JsonLinesSink::open(path).map_err(|e| {
                    anyhow::anyhow!("cannot open input log {}: {e}", path.display())
                })?,
            ))
        }
        InputChoice::Inject => match EnigoSink::open(origin) {
            Ok(sink) => Some(Box::new(sink)),
            Err(e) if common.input == InputChoice::Auto => {
                notice(format!("The technician will not be able to control this computer: {e}."));
                None
            }
            Err(e) => anyhow::bail!(e),
        },
        InputChoice::None | InputChoice::Auto => None,
    };
    let opts = AgentOptions {
        broker: common.endpoint.broker,
        ca: common.endpoint.ca,
        policy: common.consent,
        input,
        screen,
        fps: common.fps,
        output: printer,
        files_dir: common.receive_dir.unwrap_or_else(FileService::default_dir),
        max_file_size: common.max_file_size,
        clipboard: use_display,
        p2p: !common.no_p2p,
    };
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(run(opts, start))?;
    Ok(())
}

/// `tether-agent monitors`: the display's monitors, one a line.
fn monitors() -> ExitCode {
    match display::list() {
        Ok(lines) => {
            for line in lines {
                println!("{line}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("tether-agent: {e}");
            ExitCode::FAILURE
        }
    }
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
                printer.emit(&AgentEvent::error("agent", format!("{err:#}")));
            }
            eprintln!("tether-agent: {err:#}");
            ExitCode::FAILURE
        }
    }
}
