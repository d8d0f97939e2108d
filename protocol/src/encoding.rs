//! Small encodings every tether crate shares: lower-case hex (digests, signatures), Unix
//! seconds (how times are stored and sent) to and from `SystemTime` and RFC 3339, and a
//! one-time code grouped for reading aloud. Pure: the clock is read by callers, never here.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        // Writing to a String cannot fail.
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// The bytes a hex string spells (either case); `None` for odd lengths or other characters.
pub fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

/// `t` as Unix seconds (0 before 1970).
pub fn unix_seconds(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// Unix seconds as a `SystemTime` (1970 for negative values).
pub fn system_time(unix: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(unix.max(0) as u64)
}

/// Unix seconds as RFC 3339 in UTC, to the second.
pub fn rfc3339(unix: i64) -> String {
    humantime::format_rfc3339_seconds(system_time(unix)).to_string()
}

/// A code as people read it aloud: `123 456 789`.
pub fn group_code(code: &str) -> String {
    let digits: Vec<char> = code.chars().collect();
    digits.chunks(3).map(|c| c.iter().collect::<String>()).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips_and_refuses_what_is_not_hex() {
        assert_eq!(hex(&[0, 0xab, 0xff]), "00abff");
        assert_eq!(unhex("00abFF"), Some(vec![0, 0xab, 0xff]));
        assert_eq!(unhex("abc"), None);
        assert_eq!(unhex("zz"), None);
        assert_eq!(unhex("é1"), None, "a multi-byte character is not a digit pair");
    }

    #[test]
    fn unix_seconds_convert_both_ways() {
        assert_eq!(unix_seconds(system_time(1_700_000_000)), 1_700_000_000);
        assert_eq!(system_time(-5), UNIX_EPOCH);
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
    }

    #[test]
    fn codes_are_grouped_by_three() {
        assert_eq!(group_code("123456789"), "123 456 789");
        assert_eq!(group_code("1234"), "123 4");
    }
}
