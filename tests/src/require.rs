//! What the end-to-end tests need from the machine, checked before it is used: root (network
//! namespaces, a tmpfs) and programs (Xvfb and the X tools, iproute2, Chromium). A test binary
//! that lacks one says so in one line and exits, instead of each of its tests failing with a
//! wall of errors. `.ci/run` installs the programs and runs as root.

use std::sync::Once;

/// Exits with one line unless the tests run as root; `for_what` says why they need it.
pub fn root(for_what: &str) {
    if !is_root() {
        missing(&format!("root ({for_what}); run the tests as root, as .ci/run does"));
    }
}

/// Exits with one line unless every `(program, Debian package)` is on the `PATH`.
pub fn programs(needed: &[(&str, &str)]) {
    for (program, package) in needed {
        if !on_path(program) {
            missing(&format!(
                "the program {program} (Debian package {package}; .ci/run installs it)"
            ));
        }
    }
}

/// Whether this process runs as root, from `/proc/self/status` (no libc needed).
pub fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|status| {
        status
            .lines()
            .find_map(|l| l.strip_prefix("Uid:"))
            .and_then(|ids| ids.split_whitespace().nth(1))
            == Some("0")
    })
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
}

/// Says what is missing, once for the whole test binary, and exits.
fn missing(what: &str) -> ! {
    static SAID: Once = Once::new();
    SAID.call_once(|| {
        // Straight to standard error: the test harness captures eprintln!, and would never
        // show what it captured from a process that exits.
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), "tether-e2e: this test binary needs {what}");
        std::process::exit(2);
    });
    // Another test thread got here first and is exiting the process.
    loop {
        std::thread::park();
    }
}
