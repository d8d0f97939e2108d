//! The customer's consent on this machine: what is held, and how a request is answered,
//! either by a policy given in advance (`--consent`) or by asking at the terminal.

use tether_protocol::{Approval, Capability, ConsentSet, HelperMode};

/// How requests are answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ConsentPolicy {
    /// Ask the customer at the terminal for each capability.
    Ask,
    /// Allow viewing; refuse everything else.
    View,
    /// Allow viewing and control; refuse files and shell.
    Control,
    /// Allow everything: view, control, files and shell (and each file transfer).
    All,
    /// Refuse everything.
    Deny,
}

impl ConsentPolicy {
    /// The answer given in advance, or `None` to ask the customer.
    pub fn preset(self, cap: Capability) -> Option<bool> {
        match self {
            ConsentPolicy::Ask => None,
            ConsentPolicy::View => Some(cap == Capability::View),
            ConsentPolicy::Control => Some(matches!(cap, Capability::View | Capability::Control)),
            ConsentPolicy::All => Some(true),
            ConsentPolicy::Deny => Some(false),
        }
    }
}

impl ConsentPolicy {
    /// The answer given in advance to letting a second technician in or handing over: as the
    /// policy would answer the capability it implies (watching needs view; helping and taking
    /// over need control).
    pub fn approve(self, what: &Approval) -> Option<bool> {
        let needs = match what {
            Approval::SecondTechnician { mode: HelperMode::Watch, .. } => Capability::View,
            Approval::SecondTechnician { mode: HelperMode::Help, .. }
            | Approval::Transfer { .. } => Capability::Control,
        };
        self.preset(needs)
    }
}

/// The consent this agent enforces. Only the customer's own decisions grant; the broker's
/// news can only take away (when the technician releases a capability).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LocalConsent(ConsentSet);

impl LocalConsent {
    /// Whether `cap` is held.
    pub fn holds(self, cap: Capability) -> bool {
        self.0.holds(cap)
    }

    /// The customer decided. Revoking view also revokes control.
    pub fn decide(&mut self, cap: Capability, granted: bool) {
        self.0 = self.0.with(cap, granted);
        if cap == Capability::View && !granted {
            self.0 = self.0.with(Capability::Control, false);
        }
    }

    /// The broker reports a change: only a revocation is applied.
    pub fn heard(&mut self, cap: Capability, granted: bool) {
        if !granted {
            self.decide(cap, false);
        }
    }

    /// What `revoke` with no capability takes back: control if held, else view.
    pub fn default_revoke(self) -> Option<Capability> {
        [Capability::Control, Capability::View].into_iter().find(|c| self.holds(*c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_answer_in_advance() {
        assert_eq!(ConsentPolicy::Ask.preset(Capability::View), None);
        assert_eq!(ConsentPolicy::View.preset(Capability::View), Some(true));
        assert_eq!(ConsentPolicy::View.preset(Capability::Control), Some(false));
        assert_eq!(ConsentPolicy::Control.preset(Capability::Control), Some(true));
        assert_eq!(ConsentPolicy::Control.preset(Capability::Shell), Some(false));
        assert_eq!(ConsentPolicy::Deny.preset(Capability::View), Some(false));
    }

    #[test]
    fn approvals_follow_the_policy() {
        let watch = Approval::SecondTechnician { name: "bob".into(), mode: HelperMode::Watch };
        let transfer = Approval::Transfer { to: "bob".into() };
        assert_eq!(ConsentPolicy::Ask.approve(&watch), None);
        assert_eq!(ConsentPolicy::View.approve(&watch), Some(true));
        assert_eq!(ConsentPolicy::View.approve(&transfer), Some(false));
        assert_eq!(ConsentPolicy::Control.approve(&transfer), Some(true));
        assert_eq!(ConsentPolicy::Deny.approve(&watch), Some(false));
    }

    #[test]
    fn only_the_customer_grants() {
        let mut c = LocalConsent::default();
        c.heard(Capability::Control, true);
        assert!(!c.holds(Capability::Control), "broker news never grants");
        c.decide(Capability::View, true);
        c.decide(Capability::Control, true);
        assert_eq!(c.default_revoke(), Some(Capability::Control));
        c.heard(Capability::Control, false);
        assert!(!c.holds(Capability::Control));
        assert_eq!(c.default_revoke(), Some(Capability::View));
        c.decide(Capability::Control, true);
        c.decide(Capability::View, false);
        assert!(!c.holds(Capability::Control), "revoking view revokes control");
        assert_eq!(c.default_revoke(), None);
    }
}
