//! Which of the other side's addresses this side will send connectivity checks to. A
//! customer's agent is anonymous: unchecked, its ICE candidates could make a technician's
//! console probe the technician's own network (loopback, private and link-local addresses)
//! with STUN. Each side takes the other's candidates on public addresses only, plus the
//! networks the broker's operator names (`p2p.peer_networks`, such as an office LAN where
//! both sides sit); everything else, and a candidate named by host name (mDNS), is dropped,
//! from trickled candidates and from those inside a session description alike.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;

/// The addresses of the other side this side may contact.
#[derive(Debug, Clone, Default)]
pub struct Reach {
    networks: Vec<IpNet>,
}

impl Reach {
    /// Public addresses, and those in `networks` (CIDR, such as `10.20.0.0/16`); an entry
    /// that does not parse is left out with a warning (the broker checks them at start).
    pub fn new(networks: &[String]) -> Reach {
        let networks = networks
            .iter()
            .filter_map(|n| match n.parse::<IpNet>() {
                Ok(net) => Some(net),
                Err(_) => {
                    tracing::warn!(network = %n, "not a network; left out of the direct path");
                    None
                }
            })
            .collect();
        Reach { networks }
    }

    /// Whether a connectivity check may go to `ip`.
    pub fn allows(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        is_public(ip) || self.networks.iter().any(|n| n.contains(&ip))
    }

    /// Whether the candidate line (`candidate:…`, with or without `a=`) names an address
    /// this side may contact. An empty candidate (the end of candidates) is kept.
    pub fn allows_candidate(&self, candidate: &str) -> bool {
        let line = candidate.trim().trim_start_matches("a=");
        if line.is_empty() {
            return true;
        }
        // candidate:<foundation> <component> <transport> <priority> <address> <port> typ …
        match line.split_whitespace().nth(4).map(str::parse::<IpAddr>) {
            Some(Ok(ip)) => self.allows(ip),
            // A host name (mDNS) or a malformed line: nothing this side can vouch for.
            _ => false,
        }
    }

    /// `sdp` without the candidate lines this side may not contact.
    pub fn filter_sdp(&self, sdp: &str) -> String {
        let mut out = String::with_capacity(sdp.len());
        for line in sdp.split_inclusive('\n') {
            let candidate = line.trim_end().strip_prefix("a=");
            match candidate {
                Some(c) if c.starts_with("candidate:") && !self.allows_candidate(c) => {
                    tracing::debug!(candidate = c, "dropped a candidate outside the allowed reach");
                }
                _ => out.push_str(line),
            }
        }
        out
    }
}

/// An IPv4 address mapped into IPv6 counts as the IPv4 address it is.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Unicast on the public internet: not loopback, private, link-local, shared (CGNAT),
/// unspecified, broadcast, multicast or documentation space.
fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    let shared = a == 100 && (64..128).contains(&b);
    let this_network = a == 0;
    let documentation = matches!((a, b, c), (192, 0, 2) | (198, 51, 100) | (203, 0, 113));
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || documentation
        || shared
        || this_network)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    let unique_local = first & 0xfe00 == 0xfc00;
    let link_local = first & 0xffc0 == 0xfe80;
    let documentation = first == 0x2001 && ip.segments()[1] == 0x0db8;
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || unique_local
        || link_local
        || documentation)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(address: &str) -> String {
        format!("candidate:1 1 udp 2130706431 {address} 50000 typ host")
    }

    #[test]
    fn only_public_addresses_unless_a_network_is_named() {
        let reach = Reach::default();
        for blocked in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.9",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
        ] {
            assert!(!reach.allows_candidate(&line(blocked)), "{blocked}");
        }
        for public in ["8.8.8.8", "81.2.69.160", "2a00:1450:4001::1", "::ffff:8.8.4.4"] {
            assert!(reach.allows_candidate(&line(public)), "{public}");
        }
        assert!(!reach.allows_candidate(&line("0a1b2c3d-uuid.local")), "mDNS names");
        assert!(!reach.allows_candidate("candidate:garbage"), "malformed");
        assert!(reach.allows_candidate(""), "the end of candidates");

        let office = Reach::new(&["10.20.0.0/16".into(), "fd12::/16".into(), "nonsense".into()]);
        assert!(office.allows_candidate(&line("10.20.5.5")));
        assert!(office.allows_candidate(&format!("a={}", line("fd12::7"))));
        assert!(!office.allows_candidate(&line("10.21.0.1")), "only the named network");
        assert!(!office.allows_candidate(&line("127.0.0.1")));
    }

    #[test]
    fn a_description_loses_the_candidates_it_may_not_contact() {
        let sdp = format!(
            "v=0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na={}\r\na={}\r\n\
             a=end-of-candidates\r\n",
            line("192.168.1.5"),
            line("81.2.69.160")
        );
        let kept = Reach::default().filter_sdp(&sdp);
        assert!(!kept.contains("192.168.1.5"), "{kept}");
        assert!(kept.contains("81.2.69.160") && kept.contains("a=end-of-candidates\r\n"));
        assert!(kept.starts_with("v=0\r\nm=application"));
    }

    proptest::proptest! {
        #[test]
        fn any_candidate_line_is_judged_without_panicking(line: String) {
            let _ = Reach::default().allows_candidate(&line);
            let _ = Reach::default().filter_sdp(&line);
        }
    }
}
