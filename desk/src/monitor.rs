//! The deadline monitor: every few seconds it asks [`crate::alerts::due`] which open tickets
//! crossed their warning threshold or their deadline, marks each (so it is raised once) and
//! publishes `deadline_warning` or `deadline_breached` to watchers and webhooks.

use std::time::Duration;

use tether_protocol::TicketFilter;
use tether_store::unix_now;
use tokio_util::sync::CancellationToken;

use crate::alerts::{Alert, due};
use crate::{Desk, DeskError};

impl Desk {
    /// One round of the monitor at `now`.
    pub async fn check_deadlines(&self, now: i64) -> Result<usize, DeskError> {
        let open = self.store.list_tickets(&TicketFilter::default(), now).await?;
        let alerts = due(&open, now, self.settings.warn_at);
        for alert in &alerts {
            let (id, breached) = match *alert {
                Alert::Warning(id) => (id, false),
                Alert::Breach(id) => (id, true),
            };
            self.store.mark_alerted(id, breached, now).await?;
            let Some(t) = open.iter().find(|t| t.id == id) else { continue };
            let deadline = t.deadline_at.unwrap_or_default();
            let owner = t.assigned_to.as_deref().unwrap_or("nobody");
            if breached {
                self.publish(
                    "deadline_breached",
                    t,
                    "broker",
                    format!("no response by the deadline ({deadline}); assigned to {owner}"),
                );
            } else {
                let left = tether_protocol::format_duration(deadline - now);
                self.publish(
                    "deadline_warning",
                    t,
                    "broker",
                    format!("{left} left to respond; assigned to {owner}"),
                );
            }
        }
        Ok(alerts.len())
    }

    /// Runs the monitor until `shutdown`.
    pub async fn monitor_deadlines(&self, shutdown: CancellationToken) {
        let mut tick = tokio::time::interval(Duration::from_secs(self.settings.monitor_secs));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tick.tick() => {
                    if let Err(err) = self.check_deadlines(unix_now()).await {
                        tracing::error!(%err, "deadline check failed");
                    }
                }
            }
        }
    }
}
