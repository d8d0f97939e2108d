//! From the viewer window's events to the protocol's input events: where the pointer is on
//! the remote screen (the picture is drawn scaled to fit), which key combination a key press
//! is, how far the wheel turned. Pure functions, tested without a window.

use eframe::egui::{self, Key, Modifiers, MouseWheelUnit, Pos2, Rect, Vec2};
use tether_protocol::{Action, InputEvent, KeyCombo, MouseButton};

/// Points of wheel movement that make one notch.
const POINTS_PER_NOTCH: f32 = 40.0;

/// The remote pixel under `pos`, for a `width`×`height` picture drawn into `rect`.
pub fn remote_point(pos: Pos2, rect: Rect, width: u16, height: u16) -> Option<(u32, u32)> {
    if !rect.contains(pos) || rect.width() <= 0.0 || rect.height() <= 0.0 {
        return None;
    }
    let x = (pos.x - rect.min.x) / rect.width() * f32::from(width);
    let y = (pos.y - rect.min.y) / rect.height() * f32::from(height);
    let clamp = |v: f32, max: u16| (v.max(0.0) as u32).min(u32::from(max).saturating_sub(1));
    Some((clamp(x, width), clamp(y, height)))
}

/// Where a `width`×`height` picture goes to fit `space`, keeping its shape, centred.
pub fn fit(space: Rect, width: u16, height: u16) -> Rect {
    let (w, h) = (f32::from(width), f32::from(height));
    let scale = (space.width() / w).min(space.height() / h).max(0.01);
    Rect::from_center_size(space.center(), Vec2::new(w * scale, h * scale))
}

/// The protocol's button for an egui button.
pub fn button(b: egui::PointerButton) -> Option<MouseButton> {
    match b {
        egui::PointerButton::Primary => Some(MouseButton::Left),
        egui::PointerButton::Secondary => Some(MouseButton::Right),
        egui::PointerButton::Middle => Some(MouseButton::Middle),
        _ => None,
    }
}

/// Whole notches for a wheel movement (positive is down and right, as the protocol has it;
/// egui's positive is up and left).
pub fn notches(unit: MouseWheelUnit, delta: Vec2) -> (i32, i32) {
    let per = match unit {
        MouseWheelUnit::Point => POINTS_PER_NOTCH,
        MouseWheelUnit::Line => 1.0,
        MouseWheelUnit::Page => 1.0 / 10.0,
    };
    let n = |v: f32| -(v / per).round() as i32;
    (n(delta.x), n(delta.y))
}

/// A key that types no text (or is held with ctrl, alt or the command key) as a combination;
/// `None` for keys whose text arrives as a text event instead.
pub fn key_combo(key: Key, modifiers: Modifiers) -> Option<KeyCombo> {
    let named = match key {
        Key::Enter => Some("enter"),
        Key::Tab => Some("tab"),
        Key::Escape => Some("escape"),
        Key::Backspace => Some("backspace"),
        Key::Delete => Some("delete"),
        Key::Insert => Some("insert"),
        Key::Home => Some("home"),
        Key::End => Some("end"),
        Key::PageUp => Some("pageup"),
        Key::PageDown => Some("pagedown"),
        Key::ArrowUp => Some("up"),
        Key::ArrowDown => Some("down"),
        Key::ArrowLeft => Some("left"),
        Key::ArrowRight => Some("right"),
        Key::F1 => Some("f1"),
        Key::F2 => Some("f2"),
        Key::F3 => Some("f3"),
        Key::F4 => Some("f4"),
        Key::F5 => Some("f5"),
        Key::F6 => Some("f6"),
        Key::F7 => Some("f7"),
        Key::F8 => Some("f8"),
        Key::F9 => Some("f9"),
        Key::F10 => Some("f10"),
        Key::F11 => Some("f11"),
        Key::F12 => Some("f12"),
        _ => None,
    };
    let shortcut = modifiers.ctrl || modifiers.alt || modifiers.mac_cmd;
    let name = match named {
        Some(name) => name.to_string(),
        // A printable key types through the text event unless it is a shortcut.
        None if shortcut => {
            let symbol = key.symbol_or_name();
            let mut chars = symbol.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) if c.is_ascii_graphic() => c.to_ascii_lowercase().to_string(),
                _ => return None,
            }
        }
        None => return None,
    };
    let mut combo = String::new();
    for (held, m) in [
        (modifiers.ctrl, "ctrl"),
        (modifiers.alt, "alt"),
        (modifiers.shift, "shift"),
        (modifiers.mac_cmd, "meta"),
    ] {
        if held {
            combo.push_str(m);
            combo.push('+');
        }
    }
    if name == "+" {
        combo.push('+');
    }
    combo.push_str(&name);
    combo.parse().ok()
}

/// Typed text as key clicks.
pub fn text(text: &str) -> Vec<InputEvent> {
    text.chars()
        .filter(|c| !c.is_control())
        .filter_map(|c| {
            let name = if c == ' ' { "space".to_string() } else { c.to_string() };
            name.parse().ok().map(|combo| InputEvent::Key { combo, action: Action::Click })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pointer_maps_to_remote_pixels() {
        let rect = Rect::from_min_size(Pos2::new(10.0, 20.0), Vec2::new(400.0, 300.0));
        assert_eq!(remote_point(Pos2::new(10.0, 20.0), rect, 800, 600), Some((0, 0)));
        assert_eq!(remote_point(Pos2::new(210.0, 170.0), rect, 800, 600), Some((400, 300)));
        assert_eq!(remote_point(Pos2::new(410.0, 320.0), rect, 800, 600), Some((799, 599)));
        assert_eq!(remote_point(Pos2::new(5.0, 20.0), rect, 800, 600), None);
        let space = Rect::from_min_size(Pos2::ZERO, Vec2::new(1000.0, 400.0));
        let fitted = fit(space, 800, 600);
        assert!((fitted.width() - 1600.0 / 3.0).abs() < 0.01 && fitted.height() == 400.0);
        assert_eq!(fitted.center(), space.center());
    }

    #[test]
    fn keys_become_combinations_and_text_becomes_clicks() {
        let none = Modifiers::NONE;
        let ctrl = Modifiers { ctrl: true, ..Modifiers::NONE };
        let combo = |k, m| key_combo(k, m).map(|c| c.to_string());
        assert_eq!(combo(Key::Enter, none).as_deref(), Some("enter"));
        assert_eq!(combo(Key::ArrowLeft, ctrl).as_deref(), Some("ctrl+left"));
        assert_eq!(combo(Key::C, ctrl).as_deref(), Some("ctrl+c"));
        assert_eq!(combo(Key::C, none), None, "typed as text");
        assert_eq!(combo(Key::Plus, ctrl).as_deref(), Some("ctrl++"));
        let typed: Vec<String> = text("a B!")
            .iter()
            .map(|e| match e {
                InputEvent::Key { combo, .. } => combo.to_string(),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(typed, ["a", "space", "B", "!"]);
        assert_eq!(notches(MouseWheelUnit::Line, Vec2::new(0.0, -2.0)), (0, 2), "down");
        assert_eq!(notches(MouseWheelUnit::Point, Vec2::new(40.0, 0.0)), (-1, 0));
    }
}
