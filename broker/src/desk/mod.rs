//! The support desk around the sessions: the business calendar and deadlines, routing,
//! deadline alerts, the deadline review, desk operations, live events and webhooks.
//!
//! Pure parts ([`calendar`], [`routing`], [`alerts`], [`report`]) take time and data as
//! arguments and are tested without sockets; [`ops`] applies requests to the store;
//! [`events`] publishes what happened (ticket history, watchers, webhooks); [`webhooks`]
//! delivers; [`monitor`] raises deadline alerts on the broker's clock.

pub mod alerts;
pub mod calendar;
pub mod events;
pub mod monitor;
pub mod onsite;
pub mod ops;
pub mod report;
pub mod routing;
pub mod webhooks;
