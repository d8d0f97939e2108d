//! The binaries under test, built once per test process with the same profile as the tests.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

/// The path of `tether-broker`, `tether-agent`, `tether-console` or the test helper
/// `tether-delay-line`, building them first.
pub fn bin(name: &str) -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    let dir = BUILT.get_or_init(|| {
        // target/<profile>/deps/<test binary>: the binaries live in target/<profile>.
        let exe = std::env::current_exe().expect("test executable path");
        let profile_dir =
            exe.parent().and_then(|d| d.parent()).expect("target profile dir").to_path_buf();
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut cmd = Command::new(cargo);
        cmd.args([
            "build",
            "--quiet",
            "--bins",
            "-p",
            "tether-broker",
            "-p",
            "tether-agent",
            "-p",
            "tether-console",
        ]);
        if profile_dir.file_name().is_some_and(|n| n == "release") {
            cmd.arg("--release");
        }
        if let Some(target) = profile_dir.parent() {
            cmd.arg("--target-dir").arg(target);
        }
        // `cargo test` sets CARGO_MANIFEST_DIR and friends for the test process; build scripts
        // (ring's) treat them as inputs, so passing them on would rebuild the world each time.
        for (key, _) in std::env::vars_os() {
            let key = key.to_string_lossy();
            if key.starts_with("CARGO_") && key != "CARGO_HOME" && key != "CARGO_TARGET_DIR" {
                cmd.env_remove(key.as_ref());
            }
        }
        let status = cmd.status().expect("running cargo build for the binaries");
        assert!(status.success(), "building the binaries failed");
        profile_dir
    });
    let path = dir.join(name);
    assert!(path.exists(), "{} was not built", path.display());
    path
}

/// A command running the binary `name` in network namespace `netns`, or here.
pub fn command_in(netns: Option<&str>, name: &str) -> Command {
    match netns {
        Some(ns) => {
            let mut c = Command::new("ip");
            c.args(["netns", "exec", ns]).arg(bin(name));
            c
        }
        None => Command::new(bin(name)),
    }
}
