//! Peer text made safe to show: what a customer or technician typed (chat, clipboard, a
//! resolution, a reason) reaches the other side's terminal, window and the exported
//! documentation, where control characters would act instead of showing (clear the screen,
//! set a window title, fake a line). [`visible`] keeps the text readable and turns every
//! control character into a visible stand-in.

use std::borrow::Cow;

/// `text` with control characters shown instead of acting: C0 controls and DEL as their
/// Unicode control pictures (ESC as `␛`), C1 controls and the bidirectional overrides that
/// can disguise text as `\u{…}`. Newlines and tabs stay, when `keep_newlines`.
pub fn visible(text: &str, keep_newlines: bool) -> Cow<'_, str> {
    let acts = |c: char| match c {
        '\n' | '\t' if keep_newlines => false,
        _ => c.is_control() || is_bidi_control(c),
    };
    if !text.chars().any(acts) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            c if !acts(c) => out.push(c),
            // U+2400..U+241F picture U+0000..U+001F; U+2421 pictures DEL.
            '\0'..='\x1f' => out.push(char::from_u32(0x2400 + c as u32).unwrap_or('\u{fffd}')),
            '\x7f' => out.push('\u{2421}'),
            c => out.push_str(&c.escape_unicode().to_string()),
        }
    }
    Cow::Owned(out)
}

/// Characters that reorder how text displays (the "Trojan Source" characters).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_show_instead_of_acting() {
        assert!(matches!(visible("plain text", false), Cow::Borrowed(_)), "no copy when clean");
        assert_eq!(visible("\x1b[2J\x1b]0;owned\x07", false), "␛[2J␛]0;owned␇");
        assert_eq!(visible("a\r\nb\tc", true), "a␍\nb\tc");
        assert_eq!(visible("a\nb", false), "a␊b");
        assert_eq!(visible("x\u{9b}y\u{7f}", false), "x\\u{9b}y␡");
        assert_eq!(visible("admin\u{202e}gnp.exe", false), "admin\\u{202e}gnp.exe");
        assert_eq!(visible("Grüße, 日本", false), "Grüße, 日本", "text stays readable");
    }

    proptest::proptest! {
        #[test]
        fn nothing_that_acts_survives(text: String) {
            let shown = visible(&text, true);
            let acts = |c: char| (c.is_control() && c != '\n' && c != '\t') || is_bidi_control(c);
            proptest::prop_assert!(!shown.chars().any(acts), "{:?} still acts", shown);
        }
    }
}
