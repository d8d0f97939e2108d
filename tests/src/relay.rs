//! A TCP relay in front of the broker that a test can cut, as a dropped Wi-Fi or a pulled cable
//! would: the `tether-delay-line` helper, killed to cut every connection through it at once.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use crate::bins::bin;
use crate::broker::Broker;

/// A running relay to a broker.
#[derive(Debug)]
pub struct Relay {
    child: Option<Child>,
    /// The URL that reaches the broker through the relay.
    pub url: String,
    /// Where it forwards to, and how it shapes the link.
    target: String,
    shape: Vec<String>,
}

impl Relay {
    /// Starts a relay on a free loopback port to `broker`, adding `delay_ms` to each round
    /// trip (which also slows window-limited transfers to a pace a test can catch mid-way).
    pub fn to(broker: &Broker, delay_ms: u64) -> Relay {
        Relay::start(broker, &[delay_ms.to_string()])
    }

    /// A relay that also limits both directions to `kbit` kbit/s, with a deep buffer in front
    /// of what the client sends: a customer's slow connection.
    pub fn limited(broker: &Broker, delay_ms: u64, kbit: u64) -> Relay {
        Relay::start(broker, &[delay_ms.to_string(), kbit.to_string()])
    }

    fn start(broker: &Broker, shape: &[String]) -> Relay {
        let target = format!("{}:{}", broker.host, broker.port);
        let (child, address) = spawn("127.0.0.1:0", &target, shape);
        Relay { child: Some(child), url: format!("wss://{address}"), target, shape: shape.to_vec() }
    }

    /// Starts a cut relay again on the same address, as when the network comes back: clients
    /// that reconnect to the same URL get through again.
    pub fn restore(&mut self) {
        assert!(self.child.is_none(), "the relay is running");
        let address = self.url.trim_start_matches("wss://").to_string();
        let (child, bound) = spawn(&address, &self.target, &self.shape);
        assert_eq!(bound, address, "the relay came back on its old address");
        self.child = Some(child);
    }

    /// Freezes the relay (SIGSTOP): every connection through it falls silent without closing,
    /// as when a laptop is suspended or a cable pulled.
    pub fn freeze(&self) {
        if let Some(child) = &self.child {
            let pid = child.id().to_string();
            let status = Command::new("kill").args(["-STOP", &pid]).status().expect("kill -STOP");
            assert!(status.success(), "freezing the relay");
        }
    }

    /// Cuts every connection through the relay (and stops it).
    pub fn cut(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.cut();
    }
}

/// Starts the delay line on `listen` to `target`; returns it and the address it listens on.
fn spawn(listen: &str, target: &str, shape: &[String]) -> (Child, String) {
    let mut child = Command::new(bin("tether-delay-line"))
        .args([listen, target])
        .args(shape)
        .stdout(Stdio::piped())
        .spawn()
        .expect("starting the relay");
    let mut line = String::new();
    let stdout = child.stdout.take().expect("relay stdout");
    BufReader::new(stdout).read_line(&mut line).expect("relay address");
    let address = line
        .trim()
        .strip_prefix("delay line listening on ")
        .unwrap_or_else(|| panic!("unexpected relay output {line:?}"))
        .to_string();
    (child, address)
}
