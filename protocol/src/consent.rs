//! Consent: the capabilities a customer grants one by one, and the set currently held.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A capability the customer grants or refuses separately.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Capability {
    /// See the screen.
    View,
    /// Drive mouse, keyboard and clipboard.
    Control,
    /// Move files.
    Files,
    /// Open a shell.
    Shell,
}

impl Capability {
    /// Every capability.
    pub const ALL: [Capability; 4] =
        [Capability::View, Capability::Control, Capability::Files, Capability::Shell];

    /// Lower-case name, as on the wire.
    pub fn name(self) -> &'static str {
        match self {
            Capability::View => "view",
            Capability::Control => "control",
            Capability::Files => "files",
            Capability::Shell => "shell",
        }
    }

    fn bit(self) -> u8 {
        match self {
            Capability::View => 1,
            Capability::Control => 2,
            Capability::Files => 4,
            Capability::Shell => 8,
        }
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Capability {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Capability::ALL.into_iter().find(|c| c.name() == s).ok_or_else(|| {
            format!("unknown capability {s:?}; expected view, control, files or shell")
        })
    }
}

/// The set of capabilities currently held, as a small bit set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConsentSet(u8);

impl ConsentSet {
    /// Nothing granted.
    pub const NONE: ConsentSet = ConsentSet(0);

    /// Whether `cap` is held.
    pub fn holds(self, cap: Capability) -> bool {
        self.0 & cap.bit() != 0
    }

    /// The set after granting or revoking `cap`.
    pub fn with(self, cap: Capability, granted: bool) -> ConsentSet {
        if granted { ConsentSet(self.0 | cap.bit()) } else { ConsentSet(self.0 & !cap.bit()) }
    }

    /// The raw bits, for atomics.
    pub fn bits(self) -> u8 {
        self.0
    }

    /// A set from raw bits; unknown bits are dropped.
    pub fn from_bits(bits: u8) -> ConsentSet {
        ConsentSet(bits & 0x0f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grant_and_revoke_are_independent() {
        let s = ConsentSet::NONE.with(Capability::View, true).with(Capability::Control, true);
        assert!(s.holds(Capability::View) && s.holds(Capability::Control));
        let s = s.with(Capability::Control, false);
        assert!(s.holds(Capability::View) && !s.holds(Capability::Control));
        assert!(!s.holds(Capability::Files));
        assert_eq!(ConsentSet::from_bits(s.bits()), s);
        assert_eq!(ConsentSet::from_bits(0xff).bits(), 0x0f);
    }

    #[test]
    fn parses_names() {
        for c in Capability::ALL {
            assert_eq!(c.name().parse::<Capability>(), Ok(c));
        }
        assert!("root".parse::<Capability>().is_err());
    }
}
