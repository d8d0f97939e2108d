//! Input events: the payload of `input` channel frames, console to agent, as compact JSON.
//!
//! Key combinations are parsed into [`KeyCombo`] at the edge (`ctrl+alt+t`), so an agent only
//! ever sees well-formed keys.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The largest input event payload accepted, in bytes. Real events are a few dozen bytes.
pub const MAX_INPUT_EVENT_BYTES: usize = 1024;

/// One input event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum InputEvent {
    /// Pointer to an absolute position in remote screen pixels.
    MouseMove {
        /// Column.
        x: u32,
        /// Row.
        y: u32,
    },
    /// A mouse button.
    MouseButton {
        /// Which button.
        button: MouseButton,
        /// Press, release or both.
        action: Action,
    },
    /// Wheel movement in notches; positive is down and right.
    Wheel {
        /// Horizontal.
        dx: i32,
        /// Vertical.
        dy: i32,
    },
    /// A key with its modifiers.
    Key {
        /// The combination.
        combo: KeyCombo,
        /// Press, release or both.
        action: Action,
    },
}

/// A mouse button.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MouseButton {
    /// Primary.
    Left,
    /// Secondary.
    Right,
    /// Wheel button.
    Middle,
}

/// What happens to a button or key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Down.
    Press,
    /// Up.
    Release,
    /// Down, then up.
    Click,
}

/// Why an input payload was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    /// Over [`MAX_INPUT_EVENT_BYTES`].
    #[error("input event of {0} bytes exceeds the limit")]
    TooLarge(usize),
    /// Not a valid event.
    #[error("malformed input event: {0}")]
    Malformed(String),
    /// A key combination that does not parse.
    #[error("bad key combination {0:?}: {1}")]
    BadKey(String, &'static str),
}

impl InputEvent {
    /// Decodes an `input` frame payload.
    pub fn decode(payload: &[u8]) -> Result<InputEvent, InputError> {
        if payload.len() > MAX_INPUT_EVENT_BYTES {
            return Err(InputError::TooLarge(payload.len()));
        }
        serde_json::from_slice(payload).map_err(|e| InputError::Malformed(e.to_string()))
    }

    /// Encodes as an `input` frame payload.
    pub fn encode(&self) -> Vec<u8> {
        // Plain data with string keys: serialisation cannot fail.
        serde_json::to_vec(self).expect("input events always serialise")
    }

    /// The kind as the `input` frame's flags byte, so that the broker can count events per
    /// kind for the transcript without parsing them (and never sees which key was typed).
    pub fn kind_flag(&self) -> u8 {
        match self {
            InputEvent::MouseMove { .. } => 1,
            InputEvent::MouseButton { .. } => 2,
            InputEvent::Wheel { .. } => 3,
            InputEvent::Key { .. } => 4,
        }
    }

    /// The kind name for a flags byte from [`InputEvent::kind_flag`].
    pub fn kind_of_flag(flag: u8) -> &'static str {
        match flag {
            1 => "mouse_move",
            2 => "mouse_button",
            3 => "wheel",
            4 => "key",
            _ => "other",
        }
    }

    /// A short kind name, for per-kind counts.
    pub fn kind(&self) -> &'static str {
        match self {
            InputEvent::MouseMove { .. } => "mouse_move",
            InputEvent::MouseButton { .. } => "mouse_button",
            InputEvent::Wheel { .. } => "wheel",
            InputEvent::Key { .. } => "key",
        }
    }
}

/// A modifier key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Modifier {
    /// Control.
    Ctrl,
    /// Alt / Option.
    Alt,
    /// Shift.
    Shift,
    /// Super / Windows / Command.
    Meta,
}

impl Modifier {
    fn name(self) -> &'static str {
        match self {
            Modifier::Ctrl => "ctrl",
            Modifier::Alt => "alt",
            Modifier::Shift => "shift",
            Modifier::Meta => "meta",
        }
    }

    fn parse(s: &str) -> Option<Modifier> {
        match s {
            "ctrl" | "control" => Some(Modifier::Ctrl),
            "alt" | "option" => Some(Modifier::Alt),
            "shift" => Some(Modifier::Shift),
            "meta" | "super" | "win" | "cmd" => Some(Modifier::Meta),
            _ => None,
        }
    }
}

/// Named keys accepted besides single printable characters.
pub const NAMED_KEYS: &[&str] = &[
    "enter",
    "tab",
    "escape",
    "backspace",
    "delete",
    "insert",
    "home",
    "end",
    "pageup",
    "pagedown",
    "up",
    "down",
    "left",
    "right",
    "space",
    "f1",
    "f2",
    "f3",
    "f4",
    "f5",
    "f6",
    "f7",
    "f8",
    "f9",
    "f10",
    "f11",
    "f12",
    "capslock",
    "printscreen",
];

/// A key and its modifiers, written `ctrl+alt+t`. Modifiers are kept sorted and unique; the key
/// is one printable character or one of [`NAMED_KEYS`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct KeyCombo {
    modifiers: Vec<Modifier>,
    key: String,
}

impl KeyCombo {
    /// The modifiers, sorted.
    pub fn modifiers(&self) -> &[Modifier] {
        &self.modifiers
    }

    /// The key: one character, or a name from [`NAMED_KEYS`].
    pub fn key(&self) -> &str {
        &self.key
    }
}

impl FromStr for KeyCombo {
    type Err = InputError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |why| InputError::BadKey(s.chars().take(64).collect(), why);
        if s.len() > 64 {
            return Err(bad("too long"));
        }
        // A lone "+" is the plus key; "ctrl++" is ctrl and plus.
        let (mods, key) = match s.strip_suffix("++") {
            Some(rest) => (rest, "+"),
            None if s == "+" => ("", "+"),
            None => s.rsplit_once('+').unwrap_or(("", s)),
        };
        let mut modifiers = Vec::new();
        for part in mods.split('+').filter(|p| !p.is_empty()) {
            let m = Modifier::parse(&part.to_ascii_lowercase()).ok_or(bad("unknown modifier"))?;
            if !modifiers.contains(&m) {
                modifiers.push(m);
            }
        }
        modifiers.sort();
        let key = if key.chars().count() == 1 {
            let c = key.chars().next().ok_or(bad("no key"))?;
            if c.is_control() {
                return Err(bad("control character"));
            }
            key.to_string()
        } else {
            let lower = key.to_ascii_lowercase();
            let lower = match lower.as_str() {
                "return" => "enter".to_string(),
                "esc" => "escape".to_string(),
                _ => lower,
            };
            if !NAMED_KEYS.contains(&lower.as_str()) {
                return Err(bad(if key.is_empty() { "no key" } else { "unknown key name" }));
            }
            lower
        };
        Ok(KeyCombo { modifiers, key })
    }
}

impl TryFrom<String> for KeyCombo {
    type Error = InputError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<KeyCombo> for String {
    fn from(k: KeyCombo) -> String {
        k.to_string()
    }
}

impl fmt::Display for KeyCombo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for m in &self.modifiers {
            write!(f, "{}+", m.name())?;
        }
        f.write_str(&self.key)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn key_combos_parse_and_normalise() {
        let k: KeyCombo = "Shift+ctrl+T".parse().unwrap();
        assert_eq!(k.modifiers(), &[Modifier::Ctrl, Modifier::Shift]);
        assert_eq!(k.key(), "T");
        assert_eq!(k.to_string(), "ctrl+shift+T");
        assert_eq!("ctrl+Return".parse::<KeyCombo>().unwrap().to_string(), "ctrl+enter");
        assert_eq!("+".parse::<KeyCombo>().unwrap().key(), "+");
        assert_eq!("ctrl++".parse::<KeyCombo>().unwrap().to_string(), "ctrl++");
        assert_eq!("a".parse::<KeyCombo>().unwrap().modifiers(), &[]);
        for bad in ["", "ctrl+", "hyper+a", "ctrl+notakey", "\u{7}"] {
            assert!(bad.parse::<KeyCombo>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn events_round_trip() {
        let events = [
            InputEvent::MouseMove { x: 10, y: 20 },
            InputEvent::MouseButton { button: MouseButton::Left, action: Action::Click },
            InputEvent::Wheel { dx: 0, dy: -3 },
            InputEvent::Key { combo: "ctrl+c".parse().unwrap(), action: Action::Click },
        ];
        for e in events {
            assert_eq!(InputEvent::kind_of_flag(e.kind_flag()), e.kind());
            assert_eq!(InputEvent::decode(&e.encode()).unwrap(), e);
        }
    }

    #[test]
    fn refuses_bad_payloads() {
        assert!(
            InputEvent::decode(br#"{"kind":"key","combo":"hyper+x","action":"click"}"#).is_err()
        );
        assert!(InputEvent::decode(br#"{"kind":"teleport"}"#).is_err());
        assert!(matches!(
            InputEvent::decode(&vec![b' '; MAX_INPUT_EVENT_BYTES + 1]),
            Err(InputError::TooLarge(_))
        ));
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..128)) {
            let _ = InputEvent::decode(&bytes);
        }

        #[test]
        fn arbitrary_combos_never_panic(s in ".{0,80}") {
            if let Ok(k) = s.parse::<KeyCombo>() {
                // A parsed combo prints to a string that parses to itself.
                prop_assert_eq!(k.to_string().parse::<KeyCombo>().unwrap(), k);
            }
        }
    }
}
