//! The configuration's defaults, the documented example, and refusals of bad values.

use super::*;

#[test]
fn the_example_file_is_the_defaults() {
    let parsed: Config = toml::from_str(EXAMPLE).unwrap();
    assert_eq!(parsed, Config::default());
    let uncommented: String = EXAMPLE
        .lines()
        .map(|l| l.strip_prefix("# ").filter(|r| r.contains(" = ")).unwrap_or(l))
        .map(|l| l.split(" #").next().unwrap_or(l))
        .filter(|l| {
            // Examples of repeated tables, not defaults.
            !l.contains("[[webhooks]]")
                && !l.contains("[[p2p.ice_servers]]")
                && !l.starts_with("urls =")
                && !l.starts_with("username =")
                && !l.starts_with("credential =")
                && !l.starts_with("url =")
                && !l.starts_with("secret =")
                && !l.starts_with("events =")
                && !l.starts_with("attempts =")
        })
        .collect::<Vec<_>>()
        .join("\n");
    let mut with_values: Config = toml::from_str(&uncommented).unwrap();
    with_values.tls.cert = None;
    with_values.tls.key = None;
    with_values.transcripts.dir = None;
    for (role, base) in [
        (tether_protocol::Role::Agent, Thresholds::AGENT),
        (tether_protocol::Role::Console, Thresholds::CONSOLE),
    ] {
        assert_eq!(with_values.bandwidth.thresholds(role), base, "documented {role:?} limits");
    }
    with_values.bandwidth.agent = ThresholdSettings::default();
    with_values.bandwidth.console = ThresholdSettings::default();
    assert_eq!(with_values, Config::default(), "documented defaults are the real ones");
    Config::default().validate().unwrap();
}

#[test]
fn the_example_ice_server_parses() {
    let start = EXAMPLE.find("# [[p2p.ice_servers]]").unwrap();
    let block: String = EXAMPLE[start..]
        .lines()
        .take(2)
        .map(|l| l.trim_start_matches("# ").split(" #").next().unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n");
    let mut config: Config = toml::from_str(&block).unwrap();
    let server = &config.p2p.ice_servers[0];
    assert_eq!(server.urls.len(), 2);
    assert!(config.validate().is_err(), "a TURN server needs the secret");
    config.p2p.turn_secret = Some(tether_protocol::Secret::new("shared".into()));
    config.validate().unwrap();
}

#[test]
fn static_turn_credentials_are_refused() {
    let text = "[p2p]\nturn_secret = \"s\"\n[[p2p.ice_servers]]\nurls = [\"turn:t.example:3478\"]\n\
                username = \"tether\"\ncredential = \"secret\"\n";
    let c: Config = toml::from_str(text).unwrap();
    let err = c.validate().unwrap_err().to_string();
    assert!(err.contains("static TURN"), "{err}");
}

#[test]
fn peer_networks_must_be_networks() {
    let c: Config =
        toml::from_str("[p2p]\npeer_networks = [\"10.20.0.0/16\", \"fd00::/8\"]").unwrap();
    c.validate().unwrap();
    assert!(Config::default().p2p.peer_networks.is_empty(), "public addresses only by default");
    let c: Config = toml::from_str("[p2p]\npeer_networks = [\"the office\"]").unwrap();
    let err = c.validate().unwrap_err().to_string();
    assert!(err.contains("p2p.peer_networks") && err.contains("the office"), "{err}");
}

#[test]
fn a_partial_threshold_override_keeps_the_other_defaults() {
    let c: Config = toml::from_str("[bandwidth.agent]\nmin_upload_mbps = 0.5").unwrap();
    c.validate().unwrap();
    let t = c.bandwidth.thresholds(tether_protocol::Role::Agent);
    assert_eq!((t.min_upload_mbps, t.warn_upload_mbps, t.max_rtt_ms), (0.5, 3.0, 300.0));
    assert_eq!(c.bandwidth.thresholds(tether_protocol::Role::Console), Thresholds::CONSOLE);
}

#[test]
fn rejects_bad_values_and_unknown_keys() {
    for text in [
        "[tls]\nmin_version = \"1.1\"",
        "[codes]\nttl_secs = 0",
        "[tls]\ncert = \"a.pem\"",
        "[limits]\nping_interval_secs = 100\nidle_timeout_secs = 50",
        "[limits]\nmax_queued_bytes = 10",
        "[bandwidth.agent]\nmin_upload_mbps = 5.0",
        "[bandwidth]\npings = 1",
    ] {
        let c: Config = toml::from_str(text).unwrap();
        assert!(c.validate().is_err(), "{text}");
    }
    assert!(toml::from_str::<Config>("[codes]\nttl = 5").is_err());
    assert!(toml::from_str::<Config>("lisen = \"1.2.3.4:5\"").is_err());
}
