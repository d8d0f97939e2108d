//! Broker addresses: `wss://host[:port][/path]`, with the port defaulting to 7443 and the path
//! to the broker's websocket path.

use std::fmt;
use std::str::FromStr;

use tether_protocol::WS_PATH;

/// The broker's default port.
pub const DEFAULT_PORT: u16 = 7443;

/// Where a broker listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerAddr {
    /// Host name or IP address (without IPv6 brackets), also the TLS server name.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// Websocket path.
    pub path: String,
}

impl BrokerAddr {
    /// The URL for the websocket request.
    pub fn url(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for BrokerAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "wss://[{}]:{}{}", self.host, self.port, self.path)
        } else {
            write!(f, "wss://{}:{}{}", self.host, self.port, self.path)
        }
    }
}

impl FromStr for BrokerAddr {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |why: &str| format!("broker URL {s:?} {why}; expected wss://HOST[:PORT]");
        let rest = s.strip_prefix("wss://").ok_or_else(|| bad("does not start with wss://"))?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        let path = if path.is_empty() || path == "/" { WS_PATH.to_string() } else { path.into() };
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (host, after) = v6.split_once(']').ok_or_else(|| bad("has an unclosed '['"))?;
            (host, after.strip_prefix(':'))
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (authority, None),
            }
        };
        if host.is_empty() {
            return Err(bad("has no host"));
        }
        let port = match port {
            Some(p) => p.parse().map_err(|_| bad("has a bad port"))?,
            None => DEFAULT_PORT,
        };
        Ok(BrokerAddr { host: host.into(), port, path })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_hosts_ports_and_paths() {
        let a: BrokerAddr = "wss://localhost:9000".parse().unwrap();
        assert_eq!((a.host.as_str(), a.port, a.path.as_str()), ("localhost", 9000, WS_PATH));
        let a: BrokerAddr = "wss://help.example.com".parse().unwrap();
        assert_eq!(a.port, DEFAULT_PORT);
        let a: BrokerAddr = "wss://[::1]:7000/x".parse().unwrap();
        assert_eq!((a.host.as_str(), a.port, a.path.as_str()), ("::1", 7000, "/x"));
        assert_eq!(a.url(), "wss://[::1]:7000/x");
        for bad in ["http://x", "wss://", "wss://:80", "wss://h:port", "wss://[::1"] {
            assert!(bad.parse::<BrokerAddr>().is_err(), "{bad}");
        }
    }
}
