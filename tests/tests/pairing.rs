//! Pairing under load: many sessions paired at once, each customer answering the instant it
//! hears `paired`. Whichever side arrives second tells both; the waiting side's connection may
//! not have woken yet when the answer arrives, and the answer must still count.

use tether_e2e::PATIENCE;
use tether_e2e::broker::Broker;
use tether_e2e::raw;
use tether_protocol::{Capability, ClientMessage, ServerMessage};

const PAIRS: usize = 60;

#[test]
fn a_customer_answering_the_instant_it_is_paired_is_heard() {
    // Sixty customers from one address at once: more than its default budgets of
    // connections and bandwidth checks, which are not what this test is about.
    let broker = Broker::start_with_config(
        "[limits]\nmax_connections_per_source = 1000\n[bandwidth]\nmax_checks_per_source = 1000\n",
    );
    let token = broker.technician("alice").token();
    let (url, ca) = (broker.url(), broker.ca());
    let rt = tokio::runtime::Runtime::new().unwrap();
    let heard = rt.block_on(async {
        let tasks: Vec<_> = (0..PAIRS)
            .map(|_| {
                let (url, ca, token) = (url.clone(), ca.clone(), token.clone());
                tokio::spawn(async move {
                    let (mut agent, mut console) = raw::paired(&url, &ca, &token).await;
                    let grant =
                        ClientMessage::Consent { capability: Capability::View, granted: true };
                    agent.send(&grant).await.expect("consent");
                    let granted = async {
                        loop {
                            match console.recv_control().await {
                                Ok(ServerMessage::ConsentChanged {
                                    capability: Capability::View,
                                    granted,
                                }) => {
                                    return granted;
                                }
                                Ok(_) => {}
                                Err(_) => return false,
                            }
                        }
                    };
                    tokio::time::timeout(PATIENCE, granted).await.unwrap_or(false)
                })
            })
            .collect();
        let mut heard = 0;
        for t in tasks {
            if t.await.unwrap() {
                heard += 1;
            }
        }
        heard
    });
    assert_eq!(heard, PAIRS, "every customer's first answer reached its technician");
}
