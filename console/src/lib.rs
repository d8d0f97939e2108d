//! tether-console: the technician's side of tether.
//!
//! [`desk`] holds the one-shot commands (login, queue, invite), [`admin`] transcript review,
//! and [`profile`] the saved login;
//! [`session`] runs a joined session, driven by [`commands`] typed or piped in and reporting
//! [`events`]; [`screen`] keeps the newest remote frame and writes snapshots, [`files`] moves
//! files both ways and [`shell`] drives the remote shell; [`viewer`] is the window.
#![forbid(unsafe_code)]

pub mod admin;
pub mod commands;
pub mod desk;
pub mod desk_cmd;
pub mod events;
pub mod files;
pub mod profile;
pub mod screen;
pub mod session;
pub mod shell;
pub mod viewer;
