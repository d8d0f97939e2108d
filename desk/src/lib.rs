//! tether-desk: the support desk around the sessions, as one service ([`Desk`]) that every
//! entry point calls. It knows nothing about websockets: it takes typed requests, asks the
//! access policy, changes the store and publishes what happened.
//!
//! Map:
//! - [`service`]: [`Desk`] itself, what it is made of, and [`Live`], what it asks the relay;
//! - [`intake`]: the budgets of customers' requests for help;
//! - [`portal`]: customers without an account: the portal's requests and the link to their
//!   own ticket, where they follow it and confirm it solved;
//! - [`tickets`]: logging, routing, claiming, assigning, acknowledging, priorities, closing,
//!   follow-ups, listing and showing; [`escalation`]; [`onsite`] visits; [`staff`]:
//!   who is at the desk, their availability and location;
//! - [`requests`]: desk requests as entry points send them, each answered by one call;
//! - [`sessions`]: what sessions tell the desk (start, end, checks, resolution, confirmation);
//! - [`review`]: listing sessions and reading, verifying and exporting their transcripts;
//! - [`report`]: the deadline review;
//! - [`monitor`]: deadline warnings and breaches on the clock, from [`alerts`];
//! - [`bus`]: events into the ticket's history, to watchers and to [`webhooks`];
//! - pure parts, tested without sockets: [`calendar`] (business hours and deadlines),
//!   [`routing`] (who takes a ticket), [`alerts`], `report::compute`;
//! - [`settings`]: the `[desk]` and `[[webhooks]]` configuration; [`error`]: [`DeskError`].
#![forbid(unsafe_code)]

pub mod alerts;
pub mod bus;
pub mod calendar;
pub mod error;
pub mod escalation;
pub mod intake;
pub mod monitor;
pub mod onsite;
pub mod portal;
pub mod report;
pub mod requests;
pub mod review;
pub mod routing;
pub mod service;
pub mod sessions;
pub mod settings;
pub mod staff;
pub mod tickets;
pub mod webhooks;

pub use bus::Bus;
pub use error::DeskError;
pub use onsite::Visit;
pub use portal::CustomerAnswer;
pub use service::{Desk, Live, NoSessions, Parts};
pub use settings::{DeskSettings, WebhookSettings};
pub use staff::StaffMember;
pub use tickets::{CustomerRequest, Intake};
pub use webhooks::Webhooks;
