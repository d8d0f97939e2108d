//! Arbitrary bytes (as lossy UTF-8) as a text websocket message: client and server control
//! messages, `hello` and version negotiation, with round trips (see
//! `tether_fuzz::checks::check_control`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tether_fuzz::checks::check_control(data));
