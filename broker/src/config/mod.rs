//! The broker's typed configuration: a TOML file (every key optional, defaults below),
//! overridden by command-line flags, validated once at start-up.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
pub use tether_access::{AuthSettings, CodeSettings};
use tether_certs::TlsVersion;
pub use tether_desk::{DeskSettings, WebhookSettings};
use tether_protocol::Thresholds;

mod example;
#[cfg(test)]
mod tests;

pub use example::EXAMPLE;

/// Why the configuration is unusable. The binary exits with status 64 on any of these.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not valid TOML for this schema.
    #[error("config {path}: {source}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: Box<toml::de::Error>,
    },
    /// A value is out of range.
    #[error("config: {0}")]
    Invalid(String),
}

/// Everything `tether-broker run` can be told.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// TLS settings.
    pub tls: TlsSettings,
    /// Technician logins and tokens.
    pub auth: AuthSettings,
    /// One-time customer codes.
    pub codes: CodeSettings,
    /// Connection and queue limits.
    pub limits: Limits,
    /// Session transcripts.
    pub transcripts: TranscriptSettings,
    /// The bandwidth check and live quality.
    pub bandwidth: BandwidthSettings,
    /// The support desk: business hours, deadlines, routing, escalation.
    pub desk: DeskSettings,
    /// Outbound webhooks for ticket events.
    pub webhooks: Vec<WebhookSettings>,
    /// The direct path between agent and console.
    pub p2p: P2pSettings,
}

/// The direct (WebRTC) path: whether sessions may try one, with which STUN and TURN servers,
/// and how long they wait for it before staying on the relay.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct P2pSettings {
    /// Let sessions try a direct path (false: everything goes through the broker).
    pub enabled: bool,
    /// Seconds a session waits for the direct path before staying on the relay.
    pub connect_timeout_secs: u64,
    /// STUN and TURN servers handed to both sides; none means host candidates only. TURN
    /// servers are given without credentials here: each session gets its own, from
    /// `turn_secret`.
    pub ice_servers: Vec<tether_protocol::IceServer>,
    /// The secret shared with the TURN servers (coturn's `static-auth-secret`), from which
    /// each session's TURN credentials are made.
    pub turn_secret: Option<tether_protocol::Secret<String>>,
    /// How long a session's TURN credentials work, seconds.
    pub turn_ttl_secs: u64,
    /// Networks (CIDR) beside the public internet where each side may contact the other's
    /// addresses directly, such as an office LAN both sit in. Loopback, private and
    /// link-local candidates outside them are dropped: an anonymous customer cannot make a
    /// console probe its own network.
    pub peer_networks: Vec<String>,
}

impl Default for P2pSettings {
    fn default() -> Self {
        P2pSettings {
            enabled: true,
            connect_timeout_secs: 5,
            ice_servers: Vec::new(),
            turn_secret: None,
            turn_ttl_secs: 12 * 3600,
            peer_networks: Vec::new(),
        }
    }
}

/// Bandwidth check settings.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BandwidthSettings {
    /// Pings per check.
    pub pings: u32,
    /// Seconds each direction is measured at most.
    pub max_secs: f64,
    /// Bytes each direction is measured at most.
    pub max_bytes: u64,
    /// Limits for agents (the customer sends the screen: upload matters); unset keys keep
    /// the agent defaults.
    pub agent: ThresholdSettings,
    /// Limits for consoles (the technician receives the screen: download matters); unset
    /// keys keep the console defaults.
    pub console: ThresholdSettings,
    /// Seconds between live quality samples during a session.
    pub quality_interval_secs: u64,
    /// Consecutive samples over the round-trip limit before both sides are warned.
    pub quality_warn_after: u32,
    /// Checks one address may run as a customer (without signing in) within
    /// `check_window_secs`: each sends up to `max_bytes` both ways.
    pub max_checks_per_source: u32,
    /// The window for counting them, seconds.
    pub check_window_secs: u64,
}

/// Threshold overrides for one role; each unset key keeps that role's default.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ThresholdSettings {
    /// Upload below this fails, Mbit/s.
    pub min_upload_mbps: Option<f64>,
    /// Upload below this warns, Mbit/s.
    pub warn_upload_mbps: Option<f64>,
    /// Download below this fails, Mbit/s.
    pub min_download_mbps: Option<f64>,
    /// Download below this warns, Mbit/s.
    pub warn_download_mbps: Option<f64>,
    /// Round trips above this fail, milliseconds.
    pub max_rtt_ms: Option<f64>,
    /// Round trips above this warn, milliseconds.
    pub warn_rtt_ms: Option<f64>,
}

impl ThresholdSettings {
    /// `base` with these overrides applied.
    pub fn over(&self, base: Thresholds) -> Thresholds {
        Thresholds {
            min_upload_mbps: self.min_upload_mbps.unwrap_or(base.min_upload_mbps),
            warn_upload_mbps: self.warn_upload_mbps.unwrap_or(base.warn_upload_mbps),
            min_download_mbps: self.min_download_mbps.unwrap_or(base.min_download_mbps),
            warn_download_mbps: self.warn_download_mbps.unwrap_or(base.warn_download_mbps),
            max_rtt_ms: self.max_rtt_ms.unwrap_or(base.max_rtt_ms),
            warn_rtt_ms: self.warn_rtt_ms.unwrap_or(base.warn_rtt_ms),
        }
    }
}

impl BandwidthSettings {
    /// The thresholds for `role`.
    pub fn thresholds(&self, role: tether_protocol::Role) -> Thresholds {
        match role {
            tether_protocol::Role::Agent => self.agent.over(Thresholds::AGENT),
            tether_protocol::Role::Console => self.console.over(Thresholds::CONSOLE),
        }
    }
}

impl Default for BandwidthSettings {
    fn default() -> Self {
        BandwidthSettings {
            pings: 10,
            max_secs: 2.0,
            max_bytes: 8 << 20,
            agent: ThresholdSettings::default(),
            console: ThresholdSettings::default(),
            quality_interval_secs: 5,
            quality_warn_after: 3,
            max_checks_per_source: 20,
            check_window_secs: 600,
        }
    }
}

/// Session transcript settings.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TranscriptSettings {
    /// Record every session. Off means sessions leave no documentation; for benchmarks only.
    pub enabled: bool,
    /// End a session whose transcript cannot be written, rather than run it unrecorded.
    pub required: bool,
    /// Where transcripts go [default: DATA_DIR/transcripts].
    pub dir: Option<PathBuf>,
}

impl Default for TranscriptSettings {
    fn default() -> Self {
        TranscriptSettings { enabled: true, required: true, dir: None }
    }
}

/// TLS settings.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TlsSettings {
    /// Oldest TLS version accepted: "1.3" (default) or "1.2".
    pub min_version: String,
    /// An operator's own certificate chain (PEM); with `key`, replaces the self-made one.
    pub cert: Option<PathBuf>,
    /// The private key for `cert` (PEM).
    pub key: Option<PathBuf>,
}

/// Connection and queue limits.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Connections served at once; further ones wait in the kernel's backlog.
    pub max_connections: usize,
    /// Connections one address (IPv6: one /64) may hold at once; more are closed at once.
    pub max_connections_per_source: u32,
    /// Of `max_connections`, how many only signed-in staff may use: a flood of anonymous
    /// connections never locks technicians out.
    pub staff_reserve: usize,
    /// Seconds a customer waits for a technician before being told to ask again.
    pub customer_wait_secs: u64,
    /// Seconds allowed for TLS, the websocket upgrade and `hello` together.
    pub handshake_timeout_secs: u64,
    /// Seconds without a single byte from a peer after which it is taken for gone and its
    /// connection closed (the broker's pings make every live peer answer well within it).
    pub idle_timeout_secs: u64,
    /// Seconds between the broker's websocket pings.
    pub ping_interval_secs: u64,
    /// Bytes a peer's never-dropped queues (control, chat, input...) may hold before the
    /// session ends with an overflow error.
    pub max_queued_bytes: usize,
    /// Messages those queues may hold.
    pub max_queued_messages: usize,
    /// Seconds a full queue waits for its peer to read before the session ends: a slow peer
    /// slows its sender down; a peer that reads nothing this long ends the session.
    pub stall_timeout_secs: u64,
    /// Seconds sessions get to finish after a shutdown signal.
    pub shutdown_grace_secs: u64,
    /// Seconds a session waits for a customer whose connection dropped to reconnect with its
    /// resume token; 0 ends the session at once.
    pub resume_grace_secs: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 7443)),
            tls: TlsSettings::default(),
            auth: AuthSettings::default(),
            codes: CodeSettings::default(),
            limits: Limits::default(),
            transcripts: TranscriptSettings::default(),
            bandwidth: BandwidthSettings::default(),
            desk: DeskSettings::default(),
            webhooks: Vec::new(),
            p2p: P2pSettings::default(),
        }
    }
}

impl Default for TlsSettings {
    fn default() -> Self {
        TlsSettings { min_version: "1.3".into(), cert: None, key: None }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 10_000,
            max_connections_per_source: 64,
            staff_reserve: 100,
            customer_wait_secs: 3600,
            handshake_timeout_secs: 10,
            idle_timeout_secs: 15,
            ping_interval_secs: 5,
            max_queued_bytes: 8 << 20,
            max_queued_messages: 4096,
            stall_timeout_secs: 10,
            shutdown_grace_secs: 5,
            resume_grace_secs: 30,
        }
    }
}

impl Config {
    /// Reads `path` (every key optional) and validates it.
    pub fn from_file(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ConfigError::Read { path: path.into(), source })?;
        let config: Config = toml::from_str(&text)
            .map_err(|source| ConfigError::Parse { path: path.into(), source: Box::new(source) })?;
        config.validate()?;
        Ok(config)
    }

    /// Checks every value is usable.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |m: &str| Err(ConfigError::Invalid(m.into()));
        self.min_tls_version()?;
        if self.tls.cert.is_some() != self.tls.key.is_some() {
            return bad("tls.cert and tls.key must be given together");
        }
        let limits = [
            ("limits.handshake_timeout_secs", self.limits.handshake_timeout_secs),
            ("limits.idle_timeout_secs", self.limits.idle_timeout_secs),
            ("limits.ping_interval_secs", self.limits.ping_interval_secs),
            ("limits.max_connections", self.limits.max_connections as u64),
            ("limits.max_connections_per_source", self.limits.max_connections_per_source.into()),
            ("limits.customer_wait_secs", self.limits.customer_wait_secs),
            ("limits.max_queued_messages", self.limits.max_queued_messages as u64),
            ("limits.stall_timeout_secs", self.limits.stall_timeout_secs),
            ("p2p.connect_timeout_secs", self.p2p.connect_timeout_secs),
            ("bandwidth.max_checks_per_source", self.bandwidth.max_checks_per_source.into()),
            ("bandwidth.check_window_secs", self.bandwidth.check_window_secs),
        ];
        let positive = self.auth.positive().into_iter().chain(self.codes.positive()).chain(limits);
        if let Some((name, _)) = positive.into_iter().find(|(_, v)| *v == 0) {
            return Err(ConfigError::Invalid(format!("{name} must be greater than 0")));
        }
        if self.limits.staff_reserve >= self.limits.max_connections {
            return bad("limits.staff_reserve must be smaller than limits.max_connections");
        }
        if self.limits.max_queued_bytes < tether_protocol::MAX_MESSAGE_BYTES {
            return bad("limits.max_queued_bytes must hold at least one maximum-size message");
        }
        self.desk.validate().map_err(ConfigError::Invalid)?;
        for hook in &self.webhooks {
            hook.validate().map_err(ConfigError::Invalid)?;
        }
        for server in &self.p2p.ice_servers {
            if !server.username.is_empty() || server.credential.is_some() {
                return bad(
                    "p2p.ice_servers: a static TURN user name or credential would be handed to \
                     every customer; leave them out and set p2p.turn_secret (the TURN REST \
                     scheme, coturn's use-auth-secret), from which each session gets its own",
                );
            }
            if crate::ice::is_turn(server) && self.p2p.turn_secret.is_none() {
                return bad("p2p.ice_servers names a TURN server: set p2p.turn_secret");
            }
        }
        if let Some(bad_net) =
            self.p2p.peer_networks.iter().find(|n| n.parse::<ipnet::IpNet>().is_err())
        {
            return Err(ConfigError::Invalid(format!(
                "p2p.peer_networks: {bad_net:?} is not a network such as \"10.20.0.0/16\""
            )));
        }
        if self.p2p.turn_ttl_secs < 60 {
            return bad("p2p.turn_ttl_secs must be at least 60");
        }
        let b = &self.bandwidth;
        if b.pings < 3 || b.pings > 100 {
            return bad("bandwidth.pings must be 3 to 100");
        }
        if !(0.1..=60.0).contains(&b.max_secs) || b.max_bytes < 64 * 1024 {
            return bad(
                "bandwidth.max_secs must be 0.1 to 60 and bandwidth.max_bytes at least 65536",
            );
        }
        if b.quality_interval_secs == 0 || b.quality_warn_after == 0 {
            return bad(
                "bandwidth.quality_interval_secs and quality_warn_after must be greater than 0",
            );
        }
        for role in [tether_protocol::Role::Agent, tether_protocol::Role::Console] {
            b.thresholds(role)
                .validate()
                .map_err(|e| ConfigError::Invalid(format!("bandwidth.{}: {e}", role.name())))?;
        }
        if self.limits.ping_interval_secs >= self.limits.idle_timeout_secs {
            return bad("limits.ping_interval_secs must be shorter than limits.idle_timeout_secs");
        }
        Ok(())
    }

    /// The oldest TLS version accepted.
    pub fn min_tls_version(&self) -> Result<TlsVersion, ConfigError> {
        match self.tls.min_version.as_str() {
            "1.3" => Ok(TlsVersion::Tls13),
            "1.2" => Ok(TlsVersion::Tls12),
            other => Err(ConfigError::Invalid(format!(
                "tls.min_version {other:?} is not \"1.2\" or \"1.3\""
            ))),
        }
    }

    /// `limits.handshake_timeout_secs` as a duration.
    pub fn handshake_timeout(&self) -> Duration {
        Duration::from_secs(self.limits.handshake_timeout_secs)
    }
}
