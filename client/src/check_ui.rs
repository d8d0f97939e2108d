//! The bandwidth check as people and scripts see it: a progress bar (indicatif) while it runs
//! and a table of results after, or one JSON event per phase and one for the result.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use tether_protocol::{CheckResult, ProbePhase, Verdict};

use crate::check::{Progress, run_check};
use crate::{ClientError, Connection, Printer, Sentence};

/// What the check reports.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum CheckEvent {
    /// A phase began.
    CheckPhase {
        /// Which.
        phase: ProbePhase,
        /// Its time limit, seconds.
        max_secs: f64,
    },
    /// The result.
    Check {
        /// Pass, warn or fail.
        verdict: Verdict,
        /// Median round trip, ms.
        rtt_ms: f64,
        /// Jitter, ms.
        jitter_ms: f64,
        /// Mbit/s.
        download_mbps: f64,
        /// Mbit/s.
        upload_mbps: f64,
        /// Why, when not a pass.
        reasons: Vec<String>,
    },
}

impl CheckEvent {
    /// The result as an event.
    pub fn result(r: &CheckResult) -> CheckEvent {
        let m = &r.measurement;
        CheckEvent::Check {
            verdict: r.verdict,
            rtt_ms: round(m.rtt_ms),
            jitter_ms: round(m.jitter_ms),
            download_mbps: round(m.download_mbps),
            upload_mbps: round(m.upload_mbps),
            reasons: r.reasons.clone(),
        }
    }
}

fn round(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

impl Sentence for CheckEvent {
    fn sentence(&self) -> String {
        match self {
            CheckEvent::CheckPhase { phase, .. } => format!("Measuring {}...", phase_name(*phase)),
            CheckEvent::Check {
                verdict,
                rtt_ms,
                jitter_ms,
                download_mbps,
                upload_mbps,
                reasons,
            } => {
                let mut out = format!(
                    "Bandwidth check\n  round trip  {rtt_ms:>9.1} ms (jitter {jitter_ms:.1} ms)\n  \
                     download    {download_mbps:>9.2} Mbit/s\n  upload      {upload_mbps:>9.2} Mbit/s\n  \
                     verdict     {}",
                    verdict.name().to_uppercase()
                );
                for r in reasons {
                    out.push_str(&format!("\n              {r}"));
                }
                out
            }
        }
    }
}

fn phase_name(p: ProbePhase) -> &'static str {
    match p {
        ProbePhase::Rtt => "round trips",
        ProbePhase::Download => "download",
        ProbePhase::Upload => "upload",
    }
}

/// Runs the check on `conn`, showing progress: a bar on a terminal, events for scripts.
pub async fn check_with_progress(
    conn: &mut Connection,
    printer: Printer,
) -> Result<CheckResult, ClientError> {
    let bar = (!printer.is_json()).then(|| {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} bandwidth check: {msg} [{elapsed}]")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.enable_steady_tick(Duration::from_millis(100));
        bar
    });
    let result = run_check(conn, |p: &Progress| match &bar {
        Some(bar) => {
            bar.set_message(format!("{} (up to {:.0} s)", phase_name(p.phase), p.max_secs))
        }
        None => printer.emit(&CheckEvent::CheckPhase { phase: p.phase, max_secs: p.max_secs }),
    })
    .await;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let result = result?;
    printer.emit(&CheckEvent::result(&result));
    Ok(result)
}
