//! A paired session that an attack test keeps chatting over between attacks, to show the
//! broker kept serving everyone else.

use crate::broker::Broker;
use crate::proc::{Agent, BatchConsole};

/// A technician and a customer in a session, chatting on demand.
#[derive(Debug)]
pub struct Bystander {
    /// The technician's batch console.
    pub console: BatchConsole,
    /// The customer's agent.
    pub agent: Agent,
    round: u32,
}

impl Bystander {
    /// Pairs technician `alice` with customer `bob`, who grants view.
    pub fn start(broker: &Broker) -> Bystander {
        let alice = broker.technician("alice");
        let mut agent = broker.request("bob", "view");
        let ticket = agent.wait_event("ticket")["ticket"].as_str().unwrap().to_string();
        let mut console = alice.join(&ticket);
        console.wait_event("paired");
        agent.wait_event("paired");
        Bystander { console, agent, round: 0 }
    }

    /// One chat message each way, each checked on arrival.
    pub fn chat(&mut self) {
        self.round += 1;
        let n = self.round;
        self.console.send(&format!("chat ping {n}"));
        assert_eq!(self.agent.wait_event("chat")["text"], format!("ping {n}"));
        self.agent.send(&format!("pong {n}"));
        assert_eq!(self.console.wait_event("chat")["text"], format!("pong {n}"));
    }

    /// Ends the session from the technician's side; both ends exit cleanly.
    pub fn finish(mut self) {
        self.console.send("quit");
        self.console.wait_event("ended");
        assert!(self.agent.finish().0.success(), "the customer's agent failed");
        assert!(self.console.finish().0.success(), "the technician's console failed");
    }
}
