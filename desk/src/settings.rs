//! The `[desk]` and `[[webhooks]]` sections of `broker.toml`: business hours and deadlines,
//! routing, the deadline monitor, and where desk events are POSTed (and which CA their
//! receivers' certificates come from). Defaults here; the broker's
//! configuration embeds these types and calls [`DeskSettings::validate`] and
//! [`WebhookSettings::validate`] once at start-up.

use std::path::PathBuf;

use serde::Deserialize;
use tether_protocol::DeskEvent;

use crate::calendar::Calendar;

/// Support desk settings.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeskSettings {
    /// IANA time zone of the desk's business hours.
    pub timezone: String,
    /// Opening hours, local, `HH:MM-HH:MM`.
    pub business_hours: String,
    /// Working days (mon..sun).
    pub working_days: Vec<String>,
    /// Days off, `YYYY-MM-DD`.
    pub holidays: Vec<String>,
    /// Critical tickets are due this many hours after logging, day and night.
    pub critical_hours: f64,
    /// Medium tickets are due after this many business days.
    pub medium_days: u32,
    /// Low tickets are due after this many business days.
    pub low_days: u32,
    /// Dispatchers are warned when this share of a response window has passed.
    pub warn_at: f64,
    /// Offer new tickets to the best available technician at once.
    pub auto_assign: bool,
    /// Sessions a technician can be in at once before showing as busy.
    pub max_sessions: usize,
    /// Seconds between deadline checks.
    pub monitor_secs: u64,
}

impl Default for DeskSettings {
    fn default() -> Self {
        DeskSettings {
            timezone: "UTC".into(),
            business_hours: "09:00-17:00".into(),
            working_days: ["mon", "tue", "wed", "thu", "fri"]
                .iter()
                .map(|d| d.to_string())
                .collect(),
            holidays: Vec::new(),
            critical_hours: 2.0,
            medium_days: 2,
            low_days: 5,
            warn_at: 0.75,
            auto_assign: true,
            max_sessions: 1,
            monitor_secs: 30,
        }
    }
}

impl DeskSettings {
    /// The business calendar these settings describe.
    pub fn calendar(&self) -> Result<Calendar, String> {
        Calendar::new(
            &self.timezone,
            &self.business_hours,
            &self.working_days,
            &self.holidays,
            self.critical_hours,
            self.medium_days,
            self.low_days,
        )
        .map_err(|e| e.to_string())
    }

    /// Checks every value is usable; the message names the key.
    pub fn validate(&self) -> Result<(), String> {
        self.calendar()?;
        if !(0.0..1.0).contains(&self.warn_at) || self.warn_at == 0.0 {
            return Err("desk.warn_at must lie between 0 and 1".into());
        }
        if self.max_sessions == 0 || self.monitor_secs == 0 {
            return Err("desk.max_sessions and desk.monitor_secs must be greater than 0".into());
        }
        Ok(())
    }
}

/// One outbound webhook.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookSettings {
    /// `http://` or `https://` URL receiving JSON POSTs.
    pub url: String,
    /// Key for the `X-Tether-Signature: sha256=HMAC` header.
    pub secret: String,
    /// Event kinds to send; all when empty.
    #[serde(default)]
    pub events: Vec<String>,
    /// Delivery attempts before giving up.
    #[serde(default = "default_attempts")]
    pub attempts: u32,
    /// A PEM bundle of CAs trusted for this `https://` receiver beside the system's roots
    /// (for a receiver whose certificate comes from an operator's own CA).
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
}

fn default_attempts() -> u32 {
    5
}

impl std::fmt::Debug for WebhookSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookSettings")
            .field("url", &self.url)
            .field("secret", &"[redacted]")
            .field("events", &self.events)
            .field("attempts", &self.attempts)
            .field("ca_file", &self.ca_file)
            .finish()
    }
}

impl WebhookSettings {
    /// Checks every value is usable; the message names what is wrong.
    pub fn validate(&self) -> Result<(), String> {
        let url = reqwest::Url::parse(&self.url)
            .map_err(|e| format!("webhook url {:?} is not a URL: {e}", self.url))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(format!("webhook url {:?} is not http(s)", self.url));
        }
        if self.secret.len() < 16 {
            return Err("a webhook secret must be at least 16 characters".into());
        }
        if let Some(kind) = self.events.iter().find(|k| !DeskEvent::KINDS.contains(&k.as_str())) {
            return Err(format!("webhook event {kind:?} is not one of {:?}", DeskEvent::KINDS));
        }
        if self.attempts == 0 {
            return Err("webhook attempts must be at least 1".into());
        }
        Ok(())
    }
}
