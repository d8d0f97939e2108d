//! The broker's per-connection state machine: each input is a short script of websocket
//! messages over up to three real TLS connections to one in-process broker; afterwards a fresh
//! connection must still be welcomed (see `tether_fuzz::broker`).
#![no_main]

use tether_fuzz::broker::Harness;
use tether_fuzz::script::Script;

libfuzzer_sys::fuzz_target!(|data: &[u8]| Harness::get().play(&Script::from_bytes(data)));
