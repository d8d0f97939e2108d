//! The commands a technician types in a session (or a script sends with `--batch`), parsed
//! into types before anything is sent.

use std::path::PathBuf;

use tether_protocol::{Action, Capability, HelperMode, InputEvent, KeyCombo, MouseButton};

/// One session command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Send a chat message.
    Chat(String),
    /// Ask the customer for a capability.
    Request(Capability),
    /// Give a capability back.
    Release(Capability),
    /// Input events to send, in order.
    Input(Vec<InputEvent>),
    /// Put text on the customer's clipboard.
    Clipboard(String),
    /// Write the next screen frame to a PNG file.
    Snapshot(PathBuf),
    /// A note for the ticket's documentation.
    Note(String),
    /// The resolution; the customer is asked to confirm it.
    Resolve(String),
    /// Share the screen despite a failed bandwidth check, for this reason.
    OverrideBandwidth(String),
    /// Ask the customer to let another technician watch or help.
    InviteTechnician(String, HelperMode),
    /// Ask the customer to be handed over to another technician.
    Transfer(String),
    /// Send a local file to the customer.
    SendFile(PathBuf),
    /// Fetch a file from the customer's machine into a local folder.
    GetFile(String, PathBuf),
    /// Open a shell on the customer's machine (interactive: take over the terminal).
    ShellOpen,
    /// Type a line into the shell (batch).
    ShellSend(String),
    /// Close the shell.
    ShellClose,
    /// Tell how many screen updates came through the broker and how many direct.
    Path,
    /// End the session.
    Quit,
}

/// The commands, for `help` and error messages.
pub const USAGE: &str = "commands: chat TEXT | request view|control|files|shell | release CAP | \
                         mouse X Y [click|double|down|up|right|middle] | wheel DX DY | key COMBO | \
                         type TEXT | clipboard TEXT | snapshot FILE.png | note TEXT | resolve TEXT | \
                         override bandwidth REASON | invite-tech NAME watch|help | \
                         transfer NAME | send-file LOCAL | get-file REMOTE [LOCAL_DIR] | \
                         shell [open|send TEXT|close] | path | quit";

/// `type TEXT`: a key click per character.
fn typing(text: &str) -> Result<Vec<InputEvent>, String> {
    text.chars()
        .map(|c| {
            let key = if c == ' ' { "space".to_string() } else { c.to_string() };
            let combo: KeyCombo = key.parse().map_err(|e| format!("{e}"))?;
            Ok(InputEvent::Key { combo, action: Action::Click })
        })
        .collect()
}

/// Parses one line. Blank lines are `Ok(None)`.
pub fn parse(line: &str) -> Result<Option<Command>, String> {
    let line = line.trim();
    if line.is_empty() {
        return Ok(None);
    }
    let (word, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
    let rest = rest.trim();
    let args: Vec<&str> = rest.split_whitespace().collect();
    let cmd = match word {
        "chat" | "say" => {
            if rest.is_empty() {
                return Err("chat needs some text".into());
            }
            Command::Chat(rest.to_string())
        }
        "request" => Command::Request(one_capability(&args)?),
        "release" => Command::Release(one_capability(&args)?),
        "mouse" => Command::Input(mouse(&args)?),
        "wheel" => match args.as_slice() {
            [dx, dy] => Command::Input(vec![InputEvent::Wheel { dx: int(dx)?, dy: int(dy)? }]),
            _ => return Err("usage: wheel DX DY".into()),
        },
        "key" => match args.as_slice() {
            [combo] => {
                let combo: KeyCombo = combo.parse().map_err(|e| format!("{e}"))?;
                Command::Input(vec![InputEvent::Key { combo, action: Action::Click }])
            }
            _ => return Err("usage: key COMBO (for example ctrl+alt+t)".into()),
        },
        "type" if rest.is_empty() => return Err("type needs some text".into()),
        "type" => Command::Input(typing(rest)?),
        "clipboard" if rest.is_empty() => return Err("clipboard needs some text".into()),
        "clipboard" => Command::Clipboard(rest.to_string()),
        "snapshot" => match args.as_slice() {
            [path] => Command::Snapshot(PathBuf::from(path)),
            _ => return Err("usage: snapshot FILE.png".into()),
        },
        "note" | "resolve" if rest.is_empty() => return Err(format!("{word} needs some text")),
        "note" => Command::Note(rest.to_string()),
        "resolve" => Command::Resolve(rest.to_string()),
        "override" => match rest.split_once(char::is_whitespace) {
            Some(("bandwidth", reason)) if !reason.trim().is_empty() => {
                Command::OverrideBandwidth(reason.trim().to_string())
            }
            _ => return Err("usage: override bandwidth REASON".into()),
        },
        "invite-tech" => match args.as_slice() {
            [name, "watch"] => Command::InviteTechnician(name.to_string(), HelperMode::Watch),
            [name, "help"] => Command::InviteTechnician(name.to_string(), HelperMode::Help),
            _ => return Err("usage: invite-tech NAME watch|help".into()),
        },
        "transfer" => match args.as_slice() {
            [name] => Command::Transfer(name.to_string()),
            _ => return Err("usage: transfer NAME".into()),
        },
        "send-file" => match args.as_slice() {
            // A remote folder may be named, but the customer's side always saves into its
            // receiving folder: a technician does not choose where files land.
            [local] | [local, _] => Command::SendFile(PathBuf::from(local)),
            _ => return Err("usage: send-file LOCAL".into()),
        },
        "get-file" => match args.as_slice() {
            [remote] => Command::GetFile(remote.to_string(), PathBuf::from(".")),
            [remote, local] => Command::GetFile(remote.to_string(), PathBuf::from(local)),
            _ => return Err("usage: get-file REMOTE_PATH [LOCAL_DIR]".into()),
        },
        "shell" => match rest.split_once(char::is_whitespace).unwrap_or((rest, "")) {
            ("" | "open", _) => Command::ShellOpen,
            ("send", text) => Command::ShellSend(text.to_string()),
            ("close", _) => Command::ShellClose,
            _ => return Err("usage: shell [open|send TEXT|close]".into()),
        },
        "path" => Command::Path,
        "quit" | "exit" => Command::Quit,
        other => return Err(format!("unknown command {other:?}; {USAGE}")),
    };
    Ok(Some(cmd))
}

fn one_capability(args: &[&str]) -> Result<Capability, String> {
    match args {
        [cap] => cap.parse(),
        _ => Err("name one capability: view, control, files or shell".into()),
    }
}

fn int<T: std::str::FromStr>(s: &str) -> Result<T, String> {
    s.parse().map_err(|_| format!("{s:?} is not a number in range"))
}

fn mouse(args: &[&str]) -> Result<Vec<InputEvent>, String> {
    let (x, y, what) = match args {
        [x, y] => (x, y, None),
        [x, y, what] => (x, y, Some(*what)),
        _ => return Err("usage: mouse X Y [click|double|down|up|right|middle]".into()),
    };
    let mut events = vec![InputEvent::MouseMove { x: int(x)?, y: int(y)? }];
    let press = |button, action| InputEvent::MouseButton { button, action };
    match what {
        None => {}
        Some("click") => events.push(press(MouseButton::Left, Action::Click)),
        Some("double") => {
            events.push(press(MouseButton::Left, Action::Click));
            events.push(press(MouseButton::Left, Action::Click));
        }
        Some("down") => events.push(press(MouseButton::Left, Action::Press)),
        Some("up") => events.push(press(MouseButton::Left, Action::Release)),
        Some("right") => events.push(press(MouseButton::Right, Action::Click)),
        Some("middle") => events.push(press(MouseButton::Middle, Action::Click)),
        Some(other) => return Err(format!("unknown mouse action {other:?}")),
    }
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_command() {
        assert_eq!(parse("chat hello there").unwrap(), Some(Command::Chat("hello there".into())));
        assert_eq!(parse("request control").unwrap(), Some(Command::Request(Capability::Control)));
        assert_eq!(parse("release view").unwrap(), Some(Command::Release(Capability::View)));
        assert_eq!(
            parse("mouse 10 20 click").unwrap(),
            Some(Command::Input(vec![
                InputEvent::MouseMove { x: 10, y: 20 },
                InputEvent::MouseButton { button: MouseButton::Left, action: Action::Click },
            ]))
        );
        assert_eq!(
            parse("key ctrl+alt+t").unwrap(),
            Some(Command::Input(vec![InputEvent::Key {
                combo: "ctrl+alt+t".parse().unwrap(),
                action: Action::Click
            }]))
        );
        assert_eq!(
            parse("wheel 0 -3").unwrap(),
            Some(Command::Input(vec![InputEvent::Wheel { dx: 0, dy: -3 }]))
        );
        assert_eq!(
            parse("snapshot /tmp/a.png").unwrap(),
            Some(Command::Snapshot("/tmp/a.png".into()))
        );
        assert_eq!(
            parse("note checked the cable").unwrap(),
            Some(Command::Note("checked the cable".into()))
        );
        assert_eq!(
            parse("resolve replaced toner").unwrap(),
            Some(Command::Resolve("replaced toner".into()))
        );
        assert_eq!(
            parse("override bandwidth the customer accepts a slow picture").unwrap(),
            Some(Command::OverrideBandwidth("the customer accepts a slow picture".into()))
        );
        assert_eq!(
            parse("invite-tech bob watch").unwrap(),
            Some(Command::InviteTechnician("bob".into(), HelperMode::Watch))
        );
        assert_eq!(parse("transfer carol").unwrap(), Some(Command::Transfer("carol".into())));
        assert_eq!(
            parse("send-file /tmp/a.log").unwrap(),
            Some(Command::SendFile("/tmp/a.log".into()))
        );
        assert_eq!(
            parse("get-file /var/log/syslog out").unwrap(),
            Some(Command::GetFile("/var/log/syslog".into(), "out".into()))
        );
        assert_eq!(parse("shell").unwrap(), Some(Command::ShellOpen));
        assert_eq!(
            parse("shell send echo $((6*7))").unwrap(),
            Some(Command::ShellSend("echo $((6*7))".into()))
        );
        assert_eq!(parse("shell close").unwrap(), Some(Command::ShellClose));
        let Some(Command::Input(typed)) = parse("type Hi there").unwrap() else { panic!() };
        let keys: Vec<String> = typed
            .iter()
            .map(|e| match e {
                InputEvent::Key { combo, .. } => combo.to_string(),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(keys, ["H", "i", "space", "t", "h", "e", "r", "e"]);
        assert_eq!(parse("clipboard a b").unwrap(), Some(Command::Clipboard("a b".into())));
        assert_eq!(parse("quit").unwrap(), Some(Command::Quit));
        assert_eq!(parse("path").unwrap(), Some(Command::Path));
        assert_eq!(parse("   ").unwrap(), None);
    }

    #[test]
    fn refuses_bad_commands_with_a_reason() {
        for bad in [
            "chat",
            "request root",
            "request",
            "mouse 1",
            "mouse -1 5",
            "mouse 1 2 kick",
            "key hyper+x",
            "key",
            "snapshot",
            "note",
            "resolve  ",
            "override bandwidth",
            "override screen because",
            "invite-tech bob",
            "invite-tech bob drive",
            "transfer",
            "dance",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
