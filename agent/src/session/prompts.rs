//! The customer's side of every question: consent requests answered by policy or asked at the
//! terminal one at a time, approvals of second technicians and hand-overs, the confirmation of
//! the resolution with rating and comment, and what stops when a capability is taken back.

use tether_client::{ClientError, SessionEvent};
use tether_protocol::{Approval, Capability, ClientMessage};

use super::Agent;
use crate::files::{Answer, FileQuestion};
use crate::output::AgentEvent;
use crate::shell::Close;

/// A question waiting for the customer's y/n.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Prompt {
    /// May the technician have this capability?
    Consent(Capability),
    /// Is the problem solved, as the technician says?
    Resolution(String),
    /// How would you rate the help (after answering the resolution)?
    Rating { solved: bool },
    /// Any comment?
    Comment { solved: bool, rating: Option<u8> },
    /// May a second technician join, or the session be handed over?
    Approval { id: u32, what: Approval },
    /// May this file come in, or go out?
    File(FileQuestion),
}

impl Agent {
    pub(super) async fn asked(&mut self, cap: Capability) -> Result<(), ClientError> {
        if self.consent.holds(cap) {
            return self.send_consent(cap, true).await;
        }
        if cap == Capability::Control && !self.input.can_inject() {
            self.out.emit(&AgentEvent::notice(
                "Remote control is not available on this computer; refused.",
            ));
            return self.send_consent(cap, false).await;
        }
        match self.policy.preset(cap) {
            Some(answer) => self.decide(cap, answer).await,
            None if !self.stdin_open => self.decide(cap, false).await,
            None => {
                self.prompt(Prompt::Consent(cap));
                Ok(())
            }
        }
    }

    /// Queues a question for the customer; asks it now if it is the only one.
    pub(super) fn prompt(&mut self, prompt: Prompt) {
        if !self.prompts.contains(&prompt) {
            self.prompts.push(prompt);
            if self.prompts.len() == 1 {
                self.ask_next();
            }
        }
    }

    pub(super) fn ask_next(&self) {
        match self.prompts.first() {
            Some(Prompt::Consent(cap)) => self.out.emit(&AgentEvent::ConsentAsked {
                capability: *cap,
                technician: self.technician.clone(),
            }),
            Some(Prompt::Resolution(text)) => self.out.emit(&AgentEvent::ResolutionProposed {
                technician: self.technician.clone(),
                text: text.clone(),
            }),
            Some(Prompt::Rating { .. }) => self.out.emit(&AgentEvent::RatingAsked),
            Some(Prompt::Approval { what, .. }) => self.out.emit(&AgentEvent::ApprovalAsked {
                technician: self.technician.clone(),
                what: what.clone(),
            }),
            Some(Prompt::File(q)) => self.out.emit(&AgentEvent::FileAsked {
                technician: self.technician.clone(),
                question: q.clone(),
            }),
            Some(Prompt::Comment { .. }) => self.out.emit(&AgentEvent::CommentAsked),
            None => {}
        }
    }

    /// Answers the oldest question with the line the customer typed.
    pub(super) async fn answer(&mut self, prompt: Prompt, line: &str) -> Result<(), ClientError> {
        let yes = matches!(line.to_ascii_lowercase().as_str(), "y" | "yes");
        match prompt {
            Prompt::Consent(cap) => self.decide(cap, yes).await,
            // The answer is followed by a rating and a comment, both optional.
            Prompt::Resolution(_) => {
                self.prompts.insert(0, Prompt::Rating { solved: yes });
                Ok(())
            }
            Prompt::Rating { solved } => {
                let rating = line.trim().parse::<u8>().ok().filter(|r| (1..=5).contains(r));
                self.prompts.insert(0, Prompt::Comment { solved, rating });
                Ok(())
            }
            Prompt::Comment { solved, rating } => {
                let comment = Some(line.trim().to_string()).filter(|c| !c.is_empty());
                self.confirm(solved, rating, comment).await
            }
            Prompt::Approval { id, .. } => self.approve(id, yes).await,
            Prompt::File(q) => {
                let step = self.files.answer(&q, Answer::parse(line)).await;
                self.apply(step).await
            }
        }
    }

    pub(super) async fn approve(&self, id: u32, allowed: bool) -> Result<(), ClientError> {
        self.sender.control(&ClientMessage::Approve { id, allowed }).await
    }

    pub(super) async fn confirm(
        &self,
        solved: bool,
        rating: Option<u8>,
        comment: Option<String>,
    ) -> Result<(), ClientError> {
        self.out.emit(&AgentEvent::from(SessionEvent::Confirmed { solved }));
        self.sender.control(&ClientMessage::Confirm { solved, rating, comment }).await
    }

    pub(super) async fn decide(
        &mut self,
        cap: Capability,
        granted: bool,
    ) -> Result<(), ClientError> {
        self.consent.decide(cap, granted);
        self.consent_changed(cap, true);
        self.send_consent(cap, granted).await?;
        self.withdrawn().await
    }

    /// What stops when the customer takes a capability back: transfers, the shell.
    pub(super) async fn withdrawn(&mut self) -> Result<(), ClientError> {
        // The broker closes both channels at once and tells the technician; here only the
        // local side stops (a cancel frame would be refused).
        if !self.consent.holds(Capability::Files) {
            let step = self.files.cancel_all("the customer withdrew permission for file transfers");
            for message in step.notices {
                self.out.emit(&AgentEvent::notice(message));
            }
        }
        if !self.consent.holds(Capability::Shell) {
            self.close_shell("the customer withdrew permission for the shell", Close::Withdrawn)
                .await?;
        }
        Ok(())
    }

    pub(super) async fn send_consent(
        &self,
        capability: Capability,
        granted: bool,
    ) -> Result<(), ClientError> {
        self.sender.control(&ClientMessage::Consent { capability, granted }).await
    }

    /// Streams while view is held and the bandwidth gate is open.
    pub(super) fn update_stream(&self) {
        self.stream.allow(self.consent.holds(Capability::View) && !self.screen_blocked);
    }

    pub(super) fn consent_changed(&mut self, cap: Capability, announce: bool) {
        self.update_stream();
        if announce || !self.consent.holds(cap) {
            self.out.emit(&AgentEvent::from(SessionEvent::Consent {
                capability: cap,
                granted: self.consent.holds(cap),
            }));
        }
    }
}
