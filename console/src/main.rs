//! `tether-console`: parses the command line and runs one command.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tether_client::BrokerAddr;
use tether_client::Printer;
use tether_client::check_ui::check_with_progress;
use tether_console::desk::{self, Target};
use tether_console::desk_cmd::{self, OnsiteCmd, SlaArgs, TicketCmd};
use tether_console::events::Event;
use tether_console::session;
use tether_console::viewer::{self, ViewerLink};
use tether_protocol::admin_cli::AdminVerb;
use tether_protocol::{AccountReply, AccountRequest, Availability, Secret, TicketId, Verdict};

/// The technician's side of tether.
#[derive(Debug, Parser)]
#[command(name = "tether-console", version, about)]
struct Cli {
    /// The broker, e.g. wss://help.example.com:7443 [default: the one you logged in to].
    #[arg(long, global = true, env = "TETHER_BROKER")]
    broker: Option<BrokerAddr>,
    /// The broker's CA certificate [default: the one you logged in with].
    #[arg(long, global = true, env = "TETHER_CA")]
    ca: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Log in and save a token for the other commands.
    Login {
        /// Account name.
        #[arg(long)]
        user: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Sign out: the saved token is revoked at the broker and forgotten here.
    Logout,
    /// List the live tokens of your account (admins: of any account).
    Tokens {
        /// Whose [default: yours].
        #[arg(long)]
        user: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a token of your account (admins: of any account) by its id, or all of them.
    Revoke {
        /// The token's id (or a unique start of it), from `tokens`.
        #[arg(required_unless_present = "all")]
        id: Option<String>,
        /// Every token of the account (yours: you are signed out everywhere).
        #[arg(long, conflicts_with = "id")]
        all: bool,
        /// Whose [default: yours].
        #[arg(long)]
        user: Option<String>,
    },
    /// Show the open tickets, most urgent first.
    Queue {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Issue a one-time code for a customer to join with.
    Invite {
        /// The ticket the customer joins [default: a new ticket].
        #[arg(long)]
        ticket: Option<TicketId>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Review session transcripts (admins and dispatchers: all; technicians: their own).
    Admin {
        #[command(subcommand)]
        verb: AdminVerb,
    },
    /// Tickets: new, show, list, assign, claim, ack, priority, escalate, close, follow-up.
    Ticket {
        #[command(subcommand)]
        cmd: TicketCmd,
        /// Print JSON.
        #[arg(long, global = true)]
        json: bool,
    },
    /// Set your availability: available, busy, away or offline.
    Status {
        /// The new availability.
        availability: Availability,
    },
    /// Set your location, for onsite dispatch.
    Location {
        /// Latitude, degrees.
        #[arg(allow_negative_numbers = true)]
        lat: f64,
        /// Longitude, degrees.
        #[arg(allow_negative_numbers = true)]
        lon: f64,
    },
    /// Stream desk events (new tickets, assignments, deadline warnings and breaches...).
    Watch {
        /// Print JSON lines.
        #[arg(long)]
        json: bool,
    },
    /// Onsite visits: schedule, dispatch, eta, log, sign-off.
    Onsite {
        #[command(subcommand)]
        cmd: OnsiteCmd,
        /// Print JSON.
        #[arg(long, global = true)]
        json: bool,
    },
    /// Reports.
    Report {
        #[command(subcommand)]
        report: ReportKind,
    },
    /// Check this console's connection to the broker. Exits non-zero on a fail.
    Check {
        /// Print JSON events instead of a progress bar and a table.
        #[arg(long)]
        json: bool,
    },
    /// Join a ticket (or a code you issued) and work the session.
    Join {
        /// Ticket (T12) or nine-digit code.
        target: String,
        /// Read commands from standard input, one a line, and print JSON events.
        #[arg(long)]
        batch: bool,
        /// Work in the terminal only, without the viewer window.
        #[arg(long)]
        no_window: bool,
        /// Keep screen and input on the broker's relay: never try a direct path.
        #[arg(long)]
        no_p2p: bool,
    },
}

#[derive(Debug, Subcommand)]
enum ReportKind {
    /// The deadline review: per priority, breaches, per technician.
    Sla(SlaArgs),
}

fn main() -> ExitCode {
    tether_certs::install_provider();
    tether_client::init_logging();
    let cli = Cli::parse();
    let batch = matches!(cli.command, Command::Join { batch: true, .. });
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("tether-console: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    // A joined session shows the customer's screen in a window when there is a display; the
    // window needs the main thread, so the session runs beside it.
    let window = match &cli.command {
        Command::Join { target, batch: false, no_window: false, .. }
            if viewer::display_available() =>
        {
            Some(format!("tether: {target}"))
        }
        _ => None,
    };
    let outcome = match window {
        Some(title) => {
            let (session_end, window_end) = viewer::link();
            let session = std::thread::spawn(move || runtime.block_on(run(cli, Some(session_end))));
            if let Err(e) = viewer::run(&title, window_end) {
                eprintln!("tether-console: no window ({e}); the session goes on here");
            }
            session.join().unwrap_or_else(|_| Err(anyhow::anyhow!("the session failed")))
        }
        None => runtime.block_on(run(cli, None)),
    };
    match outcome {
        Ok(code) => code,
        Err(err) => {
            if batch {
                Printer::new(true).emit(&Event::error("console", format!("{err:#}")));
            }
            eprintln!("tether-console: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli, viewer: Option<ViewerLink>) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Login { user, password_stdin } => {
            let (Some(broker), Some(ca)) = (cli.broker, cli.ca) else {
                anyhow::bail!("login needs --broker and --ca");
            };
            if !password_stdin {
                anyhow::bail!("pass --password-stdin and give the password on standard input");
            }
            let mut line = String::new();
            std::io::stdin().read_line(&mut line)?;
            let password = Secret::new(line.trim_end_matches(['\r', '\n']).to_string());
            let (path, failed) = desk::login(broker, &ca, &user, password).await?;
            println!("logged in as {user}; token saved in {}", path.display());
            if let Some(failed) = failed {
                println!("warning: {failed}");
            }
        }
        Command::Logout => {
            desk::logout(&Target::resolve(cli.broker, cli.ca)?).await?;
            println!("signed out; the token is revoked");
        }
        Command::Tokens { user, json } => {
            let target = Target::resolve(cli.broker, cli.ca)?;
            let reply = desk::account(&target, AccountRequest::Tokens { user }).await?;
            let AccountReply::Tokens { tokens } = reply else {
                anyhow::bail!("unexpected answer {reply:?}");
            };
            if json {
                println!("{}", serde_json::to_string_pretty(&tokens)?);
            } else {
                println!("{:<14} {:<21} {:<21} last used", "id", "created", "expires");
                for t in tokens {
                    let used = t.last_used_at.map(tether_protocol::rfc3339);
                    println!(
                        "{:<14} {:<21} {:<21} {}",
                        t.id,
                        tether_protocol::rfc3339(t.created_at),
                        tether_protocol::rfc3339(t.expires_at),
                        used.unwrap_or_else(|| "never".into())
                    );
                }
            }
        }
        Command::Revoke { id, all: _, user } => {
            let target = Target::resolve(cli.broker, cli.ca)?;
            let reply = desk::account(&target, AccountRequest::Revoke { user, token: id }).await?;
            let AccountReply::Revoked { count } = reply else {
                anyhow::bail!("unexpected answer {reply:?}");
            };
            println!("revoked {count} token{}", if count == 1 { "" } else { "s" });
        }
        Command::Queue { json } => {
            let target = Target::resolve(cli.broker, cli.ca)?;
            let tickets = desk::queue(&target).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&tickets)?);
            } else {
                let now = tether_protocol::unix_seconds(std::time::SystemTime::now());
                print!("{}", desk::queue_table(&tickets, now));
            }
        }
        Command::Invite { ticket, json } => {
            let target = Target::resolve(cli.broker, cli.ca)?;
            let info = desk::invite(&target, ticket).await?;
            if json {
                println!(
                    "{}",
                    serde_json::json!({
                        "code": info.code.expose(),
                        "ticket": info.ticket.to_string(),
                        "expires_at": info.expires_at,
                    })
                );
            } else {
                let code = info.code.expose();
                println!(
                    "Code {} for ticket {}, valid until {}.",
                    tether_protocol::group_code(code),
                    info.ticket,
                    desk::format_time(info.expires_at)
                );
                println!(
                    "The customer runs: tether-agent join {code} --broker {} --ca ca.pem",
                    target.broker
                );
                println!("Then you run:      tether-console join {}", info.ticket);
            }
        }
        Command::Join { target: what, batch, no_p2p, .. } => {
            let join = session::parse_target(&what).map_err(anyhow::Error::msg)?;
            let target = Target::resolve(cli.broker, cli.ca)?;
            session::join(&target, join, Printer::new(batch), viewer, !no_p2p).await?;
        }
        Command::Ticket { cmd, json } => {
            desk_cmd::ticket(&Target::resolve(cli.broker, cli.ca)?, cmd, json).await?
        }
        Command::Status { availability } => {
            desk_cmd::status(&Target::resolve(cli.broker, cli.ca)?, availability, false).await?
        }
        Command::Location { lat, lon } => {
            desk_cmd::location(&Target::resolve(cli.broker, cli.ca)?, lat, lon, false).await?
        }
        Command::Watch { json } => {
            desk_cmd::watch(&Target::resolve(cli.broker, cli.ca)?, Printer::new(json)).await?
        }
        Command::Onsite { cmd, json } => {
            desk_cmd::onsite(&Target::resolve(cli.broker, cli.ca)?, cmd, json).await?
        }
        Command::Report { report: ReportKind::Sla(args) } => {
            desk_cmd::report(&Target::resolve(cli.broker, cli.ca)?, args).await?
        }
        Command::Check { json } => {
            let target = Target::resolve(cli.broker, cli.ca)?;
            let (mut conn, _) = target.connect().await?;
            let result = check_with_progress(&mut conn, Printer::new(json)).await?;
            conn.close().await;
            if result.verdict == Verdict::Fail {
                return Ok(ExitCode::FAILURE);
            }
        }
        Command::Admin { verb } => {
            let target = Target::resolve(cli.broker, cli.ca)?;
            return admin(&target, verb).await;
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn admin(target: &Target, verb: AdminVerb) -> anyhow::Result<ExitCode> {
    let now = tether_protocol::unix_seconds(std::time::SystemTime::now());
    let command = verb.command(now).map_err(anyhow::Error::msg)?;
    let answer = tether_console::admin::ask(target, command.request.clone()).await?;
    let printed = command.print(answer);
    if let Some((path, doc)) = &printed.file {
        std::fs::write(path, doc)?;
    }
    print!("{}", printed.stdout);
    Ok(ExitCode::from(printed.exit))
}
