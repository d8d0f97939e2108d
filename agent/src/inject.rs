//! Input carried out for real, with enigo on this machine's display: pointer moves in the
//! captured monitor's pixels (offset by its place on the desktop), buttons, the wheel, and keys
//! with their modifiers held around them. Only ever reached through the
//! [`crate::input::InputGate`], which passes nothing without `control`.

use enigo::{Axis, Button, Coordinate, Direction, Enigo, Key, Keyboard, Mouse, Settings};
use tether_protocol::{Action, InputEvent, KeyCombo, Modifier, MouseButton};

use crate::display::Origin;
use crate::input::InputSink;

/// Injects into the display.
pub struct EnigoSink {
    enigo: Enigo,
    origin: Origin,
}

impl std::fmt::Debug for EnigoSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnigoSink").field("origin", &self.origin.get()).finish()
    }
}

impl EnigoSink {
    /// Connects to the display; coordinates are relative to `origin`.
    pub fn open(origin: Origin) -> Result<EnigoSink, String> {
        let settings = Settings { release_keys_when_dropped: true, ..Settings::default() };
        let enigo = Enigo::new(&settings).map_err(|e| format!("cannot inject input: {e}"))?;
        Ok(EnigoSink { enigo, origin })
    }
}

fn direction(action: Action) -> Direction {
    match action {
        Action::Press => Direction::Press,
        Action::Release => Direction::Release,
        Action::Click => Direction::Click,
    }
}

/// The enigo key for a combination's key name (see [`tether_protocol::NAMED_KEYS`]).
pub fn key_of(name: &str) -> Option<Key> {
    let mut chars = name.chars();
    if let (Some(c), None) = (chars.next(), chars.next()) {
        return Some(Key::Unicode(c));
    }
    Some(match name {
        "enter" => Key::Return,
        "tab" => Key::Tab,
        "escape" => Key::Escape,
        "backspace" => Key::Backspace,
        "delete" => Key::Delete,
        "insert" => Key::Insert,
        "home" => Key::Home,
        "end" => Key::End,
        "pageup" => Key::PageUp,
        "pagedown" => Key::PageDown,
        "up" => Key::UpArrow,
        "down" => Key::DownArrow,
        "left" => Key::LeftArrow,
        "right" => Key::RightArrow,
        "space" => Key::Space,
        "capslock" => Key::CapsLock,
        "printscreen" => Key::PrintScr,
        "f1" => Key::F1,
        "f2" => Key::F2,
        "f3" => Key::F3,
        "f4" => Key::F4,
        "f5" => Key::F5,
        "f6" => Key::F6,
        "f7" => Key::F7,
        "f8" => Key::F8,
        "f9" => Key::F9,
        "f10" => Key::F10,
        "f11" => Key::F11,
        "f12" => Key::F12,
        _ => return None,
    })
}

fn modifier(m: Modifier) -> Key {
    match m {
        Modifier::Ctrl => Key::Control,
        Modifier::Alt => Key::Alt,
        Modifier::Shift => Key::Shift,
        Modifier::Meta => Key::Meta,
    }
}

impl EnigoSink {
    fn combo(&mut self, combo: &KeyCombo, action: Action) -> Result<(), enigo::InputError> {
        let Some(key) = key_of(combo.key()) else {
            tracing::debug!(key = combo.key(), "no such key here");
            return Ok(());
        };
        if matches!(action, Action::Press | Action::Click) {
            for &m in combo.modifiers() {
                self.enigo.key(modifier(m), Direction::Press)?;
            }
        }
        self.enigo.key(key, direction(action))?;
        if matches!(action, Action::Release | Action::Click) {
            for &m in combo.modifiers().iter().rev() {
                self.enigo.key(modifier(m), Direction::Release)?;
            }
        }
        Ok(())
    }
}

impl InputSink for EnigoSink {
    fn inject(&mut self, event: &InputEvent) -> std::io::Result<()> {
        let done = match event {
            InputEvent::MouseMove { x, y } => {
                let (ox, oy) = self.origin.get();
                let x = ox.saturating_add(i32::try_from(*x).unwrap_or(i32::MAX));
                let y = oy.saturating_add(i32::try_from(*y).unwrap_or(i32::MAX));
                self.enigo.move_mouse(x, y, Coordinate::Abs)
            }
            InputEvent::MouseButton { button, action } => {
                let button = match button {
                    MouseButton::Left => Button::Left,
                    MouseButton::Right => Button::Right,
                    MouseButton::Middle => Button::Middle,
                };
                self.enigo.button(button, direction(*action))
            }
            InputEvent::Wheel { dx, dy } => {
                let vertical =
                    if *dy != 0 { self.enigo.scroll(*dy, Axis::Vertical) } else { Ok(()) };
                vertical.and_then(|()| {
                    if *dx != 0 { self.enigo.scroll(*dx, Axis::Horizontal) } else { Ok(()) }
                })
            }
            InputEvent::Key { combo, action } => self.combo(combo, *action),
        };
        done.map_err(std::io::Error::other)
    }
}

#[cfg(test)]
mod tests {
    use tether_protocol::NAMED_KEYS;

    use super::*;

    #[test]
    fn every_named_key_and_any_character_has_a_key() {
        for name in NAMED_KEYS {
            assert!(key_of(name).is_some(), "{name}");
        }
        assert_eq!(key_of("a"), Some(Key::Unicode('a')));
        assert_eq!(key_of("é"), Some(Key::Unicode('é')));
        assert_eq!(key_of("nosuchkey"), None);
    }
}
