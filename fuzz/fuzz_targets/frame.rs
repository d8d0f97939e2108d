//! Arbitrary bytes as a binary websocket message: the frame header and every channel's
//! payload decoders, with round trips (see `tether_fuzz::checks::check_frame`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tether_fuzz::checks::check_frame(data));
