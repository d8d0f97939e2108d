//! The real desktop under Xvfb: the agent captures an X display the test has drawn on and the
//! console's snapshot holds the display's own pixels; the technician's mouse and keys reach
//! real X windows; text copied on either side reaches the other's clipboard while control is
//! held.

use tether_e2e::broker::Broker;
use tether_e2e::proc::{Agent, BatchConsole, quit_session};
use tether_e2e::wait_until;
use tether_e2e::xvfb::{Picture, Xvfb};

/// A session with an agent on `x` holding `consent`, view granted.
fn session(broker: &Broker, x: &Xvfb, consent: &str) -> (Agent, BatchConsole) {
    let alice = broker.technician("alice");
    let mut agent = Agent::request_on_display(broker, "bob", consent, &x.display);
    let ticket = agent.wait_event("ticket")["ticket"].as_str().unwrap().to_string();
    let mut console = alice.join(&ticket);
    console.wait_for("view", |e| e["event"] == "consent" && e["capability"] == "view");
    (agent, console)
}

fn control(console: &mut BatchConsole) {
    console.send("request control");
    console.wait_for("control", |e| {
        e["event"] == "consent" && e["capability"] == "control" && e["granted"] == true
    });
}

#[test]
fn the_console_snapshot_holds_the_displays_own_pixels() {
    let mut x = Xvfb::start(800, 600);
    x.run("xsetroot", &["-solid", "#3366cc"]);
    x.spawn(
        "xterm",
        &[
            "-T",
            "tether-capture",
            "-bg",
            "#aa2200",
            "-fg",
            "white",
            "-geometry",
            "40x8+60+80",
            "-e",
            "sh",
            "-c",
            "echo TETHER CAPTURE; exec sleep 600",
        ],
    );
    x.wait_window("tether-capture");
    // The display as ImageMagick reads it, once the terminal has drawn its background.
    let dir = tempfile::tempdir().unwrap();
    let reference = dir.path().join("reference.png");
    wait_until("the terminal is drawn", || {
        x.screenshot("root", &reference);
        Picture::read(&reference).count([0xaa, 0x22, 0x00], 0) > 10_000
    });
    let expected = Picture::read(&reference);

    let broker = Broker::start();
    let (agent, mut console) = session(&broker, &x, "view");
    let screen = console.wait_event("screen");
    assert_eq!((screen["width"].as_u64(), screen["height"].as_u64()), (Some(800), Some(600)));
    let snapshot = broker.scratch().join("snapshot.png");
    console.send(&format!("snapshot {}", snapshot.display()));
    console.wait_event("snapshot");
    let got = Picture::read(&snapshot);
    assert_eq!((got.width, got.height), (800, 600));
    // Tiles are lossless: every pixel is the display's own.
    let same = got.rgb.chunks(3).zip(expected.rgb.chunks(3)).filter(|(a, b)| a == b).count();
    assert!(same >= 800 * 600 * 999 / 1000, "{same} of 480000 pixels match");
    assert_eq!(got.at(5, 5), [0x33, 0x66, 0xcc], "the root window's colour");
    assert_eq!(got.at(70, 150), [0xaa, 0x22, 0x00], "the terminal's background");
    quit_session(agent, console);
}

fn pointer(x: &Xvfb) -> (u32, u32) {
    let out = x.run("xdotool", &["getmouselocation", "--shell"]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in {text}"))
    };
    (field("X="), field("Y="))
}

#[test]
fn the_technicians_mouse_and_keys_reach_real_x() {
    let mut x = Xvfb::start(800, 600);
    let typed = tempfile::NamedTempFile::new().unwrap();
    let path = typed.path().display().to_string();
    x.spawn(
        "xterm",
        &[
            "-T",
            "tether-input",
            "-geometry",
            "80x24+0+0",
            "-e",
            "sh",
            "-c",
            &format!("cat > {path}"),
        ],
    );
    x.wait_window("tether-input");
    let broker = Broker::start();
    let (agent, mut console) = session(&broker, &x, "control");
    control(&mut console);

    console.send("mouse 321 234 click");
    wait_until("the pointer is where the technician put it", || pointer(&x) == (321, 234));
    // Without a window manager, keys go to the window under the pointer: the terminal.
    console.send("type Hello tether 42!");
    console.send("key enter");
    wait_until("the terminal's cat wrote the line", || {
        std::fs::read_to_string(typed.path()).unwrap_or_default() == "Hello tether 42!\n"
    });

    // Revoked, nothing more arrives: the agent refuses what the broker would let through.
    console.send("release control");
    console.wait_for("control released", |e| {
        e["event"] == "consent" && e["capability"] == "control" && e["granted"] == false
    });
    console.send("mouse 10 10");
    assert_eq!(console.wait_event("error")["code"], "consent_required");
    assert_eq!(pointer(&x), (321, 234));
    quit_session(agent, console);
}

#[test]
fn clipboard_text_crosses_both_ways_while_control_is_held() {
    let x = Xvfb::start(640, 480);
    let broker = Broker::start();
    let (agent, mut console) = session(&broker, &x, "control");
    control(&mut console);

    console.send("clipboard from the technician");
    wait_until("the customer's clipboard holds the text", || {
        let out = x.command("xclip").args(["-o", "-selection", "clipboard"]).output().unwrap();
        out.status.success() && out.stdout == b"from the technician"
    });

    // Copied on the customer's machine (xclip serves the selection until it is taken).
    let mut copy = x
        .command("xclip")
        .args(["-quiet", "-i", "-selection", "clipboard"])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut copy.stdin.take().unwrap(), b"from the customer").unwrap();
    let got = console.wait_event("clipboard");
    assert_eq!(got["text"], "from the customer");
    let _ = copy.kill();
    let _ = copy.wait();
    quit_session(agent, console);
}
