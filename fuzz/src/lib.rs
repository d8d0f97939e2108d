//! Code shared by tether's fuzz targets (`fuzz_targets/`):
//! - [`checks`]: what the `frame` and `control` targets check on one input; the workspace test
//!   `tests/tests/fuzz_regressions.rs` includes the same file to replay seeds and reproducers.
//! - [`ws`]: what the `ws` target checks (the broker's websocket reader); replayed by the same
//!   test.
//! - [`script`]: the `broker_conn` input, a script of websocket messages.
//! - [`broker`]: the in-process broker the scripts are played against.
#![forbid(unsafe_code)]

pub mod broker;
pub mod checks;
pub mod script;
pub mod ws;
