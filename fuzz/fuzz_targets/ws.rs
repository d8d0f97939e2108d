//! The broker's websocket reader: arbitrary client bytes in arbitrary pieces, and fragmented
//! messages that must come back whole (see `tether_fuzz::ws::check_ws`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tether_fuzz::ws::check_ws(data));
