//! Replays the fuzzers' seeds and every crash reproducer kept in `fuzz/regressions/` through the
//! same checks the `frame`, `control` and `ws` fuzz targets run, so a decoder bug the fuzzer once found
//! stays fixed under plain `cargo test`. The checks live in `fuzz/src/checks.rs`, included here
//! as is (`fuzz/src/ws.rs` for the websocket reader); they need only `tether-protocol`,
//! `tether-broker` and `tokio`.

use std::path::{Path, PathBuf};

#[allow(unreachable_pub)]
#[path = "../../fuzz/src/checks.rs"]
mod checks;

#[allow(unreachable_pub)]
#[path = "../../fuzz/src/ws.rs"]
mod ws;

/// The files directly in `dir` (none if it does not exist), skipping hidden ones.
fn inputs(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("reading a corpus directory").path())
        .filter(|p| {
            p.is_file() && !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .collect();
    files.sort();
    files
}

/// Runs `check` on every seed and reproducer of `target`; returns how many seeds there were.
fn replay(target: &str, check: fn(&[u8])) -> usize {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    let seeds = inputs(&fuzz.join("seeds").join(target));
    let regressions = inputs(&fuzz.join("regressions").join(target));
    for file in seeds.iter().chain(&regressions) {
        let data = std::fs::read(file).expect("reading a fuzz input");
        // A panic names the file, so a failing reproducer is easy to find.
        eprintln!("replaying {}", file.display());
        check(&data);
    }
    seeds.len()
}

#[test]
fn frame_seeds_and_reproducers_pass_the_frame_checks() {
    assert!(replay("frame", checks::check_frame) > 0, "no frame seeds: the replay proves nothing");
}

#[test]
fn control_seeds_and_reproducers_pass_the_control_checks() {
    assert!(
        replay("control", checks::check_control) > 0,
        "no control seeds: the replay proves nothing"
    );
}

#[test]
fn ws_seeds_and_reproducers_pass_the_websocket_reader_checks() {
    assert!(replay("ws", ws::check_ws) > 0, "no ws seeds: the replay proves nothing");
}
