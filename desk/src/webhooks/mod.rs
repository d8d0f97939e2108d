//! Outbound webhooks: every desk event a hook subscribes to is POSTed to it as JSON, signed
//! with HMAC-SHA256 of the body under the hook's secret (`X-Tether-Signature: sha256=<hex>`),
//! retried with doubling backoff (1 s, 2 s, 4 s...) up to the hook's attempts, failures
//! logged. Events wait in a bounded queue ([`QUEUE`]); at most [`IN_FLIGHT`] deliveries run at
//! once, and a full queue drops the event with an error in the log rather than grow.

mod client;

use std::sync::Arc;
use std::time::Duration;

use ring::hmac;
use tether_protocol::DeskEvent;
use tokio::sync::{Semaphore, mpsc};
use tokio_util::task::TaskTracker;

pub use client::ClientError;

use crate::settings::WebhookSettings;

/// Events waiting for delivery at most.
pub const QUEUE: usize = 10_000;
/// Deliveries (with their retries) under way at once at most.
pub const IN_FLIGHT: usize = 64;

/// One receiver with its client.
#[derive(Debug)]
struct Hook {
    settings: WebhookSettings,
    client: reqwest::Client,
}

/// Where the desk's bus sends events for delivery.
#[derive(Debug, Clone)]
pub struct Webhooks {
    queue: mpsc::Sender<DeskEvent>,
}

impl Webhooks {
    /// Builds each hook's client (TLS set up once, here) and starts delivering on `tracker`.
    pub fn start(
        hooks: &[WebhookSettings],
        tracker: &TaskTracker,
    ) -> Result<Webhooks, ClientError> {
        let hooks = hooks
            .iter()
            .map(|h| {
                let client = client::client(h.ca_file.as_deref())?;
                Ok(Arc::new(Hook { settings: h.clone(), client }))
            })
            .collect::<Result<Vec<_>, ClientError>>()?;
        let (queue, events) = mpsc::channel(QUEUE);
        tracker.spawn(deliver(hooks, events, tracker.clone()));
        Ok(Webhooks { queue })
    }

    /// Queues `event`; a full queue drops it (and says so).
    pub fn send(&self, event: DeskEvent) {
        match self.queue.try_send(event) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(event)) => tracing::error!(
                kind = %event.kind, ticket.id = %event.ticket,
                "webhook queue full; event dropped"
            ),
            Err(mpsc::error::TrySendError::Closed(_)) => {}
        }
    }
}

/// Delivers events from `events` until the queue closes.
async fn deliver(
    hooks: Vec<Arc<Hook>>,
    mut events: mpsc::Receiver<DeskEvent>,
    tracker: TaskTracker,
) {
    let in_flight = Arc::new(Semaphore::new(IN_FLIGHT));
    let mut delivery: u64 = 0;
    while let Some(event) = events.recv().await {
        // Plain data: serialisation cannot fail.
        let body = Arc::new(serde_json::to_vec(&event).unwrap_or_default());
        let wanted = hooks
            .iter()
            .filter(|h| h.settings.events.is_empty() || h.settings.events.contains(&event.kind));
        for hook in wanted {
            let Ok(permit) = in_flight.clone().acquire_owned().await else { return };
            delivery += 1;
            let (hook, body, kind) = (hook.clone(), body.clone(), event.kind.clone());
            tracker.spawn(async move {
                post_with_retries(&hook, &body, &kind, delivery).await;
                drop(permit);
            });
        }
    }
}

async fn post_with_retries(hook: &Hook, body: &[u8], kind: &str, delivery: u64) {
    let s = &hook.settings;
    let key = hmac::Key::new(hmac::HMAC_SHA256, s.secret.as_bytes());
    let signature = tether_protocol::hex(hmac::sign(&key, body).as_ref());
    let mut backoff = Duration::from_secs(1);
    for attempt in 1..=s.attempts {
        let sent = hook
            .client
            .post(&s.url)
            .header("Content-Type", "application/json")
            .header("X-Tether-Event", kind)
            .header("X-Tether-Delivery", delivery.to_string())
            .header("X-Tether-Signature", format!("sha256={signature}"))
            .body(body.to_vec())
            .send()
            .await;
        match sent {
            Ok(r) if r.status().is_success() => {
                tracing::info!(url = %s.url, kind, delivery, attempt, "webhook delivered");
                return;
            }
            Ok(r) => {
                let status = r.status().as_u16();
                tracing::warn!(url = %s.url, kind, delivery, attempt, status, "webhook refused");
            }
            Err(err) => {
                // The error's chain names the cause (refused, TLS, timeout) without the body.
                let err = error_chain(&err);
                tracing::warn!(url = %s.url, kind, delivery, attempt, %err, "webhook failed");
            }
        }
        if attempt < s.attempts {
            tokio::time::sleep(backoff).await;
            backoff *= 2;
        }
    }
    tracing::error!(url = %s.url, kind, delivery, attempts = s.attempts, "webhook given up");
}

/// An error and its causes, one line.
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        out.push_str(": ");
        out.push_str(&cause.to_string());
        source = cause.source();
    }
    out
}
