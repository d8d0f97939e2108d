//! `tether-bench instructions`: the relays' CPU cost in instructions instead of seconds. Each
//! relay runs under valgrind's callgrind with instrumentation off; once a pair is set up it
//! is switched on, the pair pushes the same volume of file frames one way, and it is switched
//! off again, so that start-up and pairing are left out. Instruction counts repeat to the
//! instruction whatever else the machine is doing, where CPU seconds move 10-20 % from run to
//! run; they count user space only (the kernel's share of sending is the same for both).

use std::process::Command;

use anyhow::Context;

use crate::procs::Relay;
use crate::{load, target};

/// What `instructions` is asked.
#[derive(Debug)]
pub(crate) struct InstructionsRun {
    /// MiB pushed through each relay.
    pub(crate) mib: u64,
}

/// Counts both relays' instructions for the same push and prints them as a table.
pub(crate) async fn run(run: InstructionsRun) -> anyhow::Result<()> {
    which("valgrind")?;
    which("callgrind_control")?;
    let dir = tempfile::tempdir()?;
    let mut counts = Vec::new();
    for tether in [false, true] {
        let name = if tether { "tether" } else { "baseline" };
        let out = dir.path().join(format!("{name}.%p"));
        let wrapper: Vec<String> = [
            "valgrind",
            "--tool=callgrind",
            "--instr-atstart=no",
            &format!("--callgrind-out-file={}", out.display()),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let mut relay = if tether {
            Relay::broker_under(&wrapper, "127.0.0.1", "")?
        } else {
            Relay::baseline_under(&wrapper)?
        };
        let (target, tls) = target(&relay, tether).await?;
        let (mut pair, failed, _) = load::set_up(&target, tls, 0, 1, 1).await;
        anyhow::ensure!(failed == 0, "{name}: pairing failed");
        let pid = relay.pid().to_string();
        control(&["--instr=on", &pid])?;
        eprintln!("{name}: {} MiB one way under callgrind", run.mib);
        let mbps = load::throughput(&mut pair, run.mib << 20, false).await;
        control(&["--instr=off", &pid])?;
        drop(pair);
        relay.stop()?;
        let file = dir.path().join(format!("{name}.{pid}"));
        let text = std::fs::read_to_string(&file).with_context(|| file.display().to_string())?;
        let total: u64 = text
            .lines()
            .find_map(|l| l.strip_prefix("totals: "))
            .and_then(|t| t.split_whitespace().next())
            .and_then(|t| t.parse().ok())
            .context("no totals in the callgrind output")?;
        counts.push((name, total, mbps));
    }
    println!("Instructions for {} MiB one way over one pair (callgrind, user space):\n", run.mib);
    println!("| relay | instructions | per MiB | MB/s under valgrind |");
    println!("| --- | ---: | ---: | ---: |");
    for (name, total, mbps) in &counts {
        println!("| {name} | {total} | {:.0} | {mbps:.1} |", *total as f64 / run.mib as f64);
    }
    let (base, tether) = (counts[0].1 as f64, counts[1].1 as f64);
    println!("\ntether / baseline: {:.3}", tether / base);
    Ok(())
}

fn control(args: &[&str]) -> anyhow::Result<()> {
    let out = Command::new("callgrind_control").args(args).output()?;
    anyhow::ensure!(out.status.success(), "callgrind_control {args:?} failed");
    Ok(())
}

fn which(program: &str) -> anyhow::Result<()> {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .is_ok_and(|o| o.status.success());
    anyhow::ensure!(found, "{program} is needed (Debian package valgrind)");
    Ok(())
}
