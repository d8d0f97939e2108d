//! Websocket frames on the wire (RFC 6455 §5): reading a frame header with every rule the
//! server enforces, writing the unmasked headers a server sends, unmasking payloads, and close
//! frames' code and reason. Pure functions over bytes, so they are unit-tested and fuzzed
//! without sockets.

use super::{CloseFrame, WsError};

/// The largest control frame payload.
pub const MAX_CONTROL: usize = 125;

/// What a frame carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opcode {
    /// The next part of a fragmented message.
    Continuation,
    /// UTF-8 text (or its first fragment).
    Text,
    /// Bytes (or their first fragment).
    Binary,
    /// The closing handshake.
    Close,
    /// Asks for a pong.
    Ping,
    /// Answers a ping.
    Pong,
}

impl Opcode {
    fn from_bits(bits: u8) -> Option<Opcode> {
        Some(match bits {
            0x0 => Opcode::Continuation,
            0x1 => Opcode::Text,
            0x2 => Opcode::Binary,
            0x8 => Opcode::Close,
            0x9 => Opcode::Ping,
            0xA => Opcode::Pong,
            _ => return None,
        })
    }

    fn bits(self) -> u8 {
        match self {
            Opcode::Continuation => 0x0,
            Opcode::Text => 0x1,
            Opcode::Binary => 0x2,
            Opcode::Close => 0x8,
            Opcode::Ping => 0x9,
            Opcode::Pong => 0xA,
        }
    }

    /// Close, ping and pong: at most 125 bytes, never fragmented.
    pub fn is_control(self) -> bool {
        matches!(self, Opcode::Close | Opcode::Ping | Opcode::Pong)
    }
}

/// A parsed frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// The last frame of its message.
    pub fin: bool,
    /// What the frame carries.
    pub opcode: Opcode,
    /// The masking key (every client frame has one, no server frame does).
    pub mask: Option<[u8; 4]>,
    /// Header bytes, mask key included.
    pub header_len: usize,
    /// Payload bytes.
    pub payload_len: usize,
}

impl Header {
    /// Header and payload together.
    pub fn frame_len(&self) -> usize {
        self.header_len + self.payload_len
    }
}

/// What the start of a buffer holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parsed {
    /// A whole header.
    Header(Header),
    /// Not yet a whole header: at least this many bytes are needed.
    Incomplete(usize),
}

/// Reads the frame header at the start of `buf`. A payload longer than `max_payload` is
/// refused from its header, before any of it is read.
pub fn parse_header(buf: &[u8], max_payload: usize) -> Result<Parsed, WsError> {
    let [b0, b1, ..] = *buf else {
        return Ok(Parsed::Incomplete(2));
    };
    if b0 & 0x70 != 0 {
        return Err(WsError::Protocol("reserved bits set without an extension"));
    }
    let fin = b0 & 0x80 != 0;
    let opcode =
        Opcode::from_bits(b0 & 0x0F).ok_or(WsError::Protocol("unknown websocket opcode"))?;
    let masked = b1 & 0x80 != 0;
    let short = b1 & 0x7F;
    if opcode.is_control() {
        if !fin {
            return Err(WsError::Protocol("fragmented control frame"));
        }
        if usize::from(short) > MAX_CONTROL {
            return Err(WsError::Protocol("control frame longer than 125 bytes"));
        }
    }
    let extra = match short {
        126 => 2,
        127 => 8,
        _ => 0,
    };
    let header_len = 2 + extra + if masked { 4 } else { 0 };
    if buf.len() < header_len {
        return Ok(Parsed::Incomplete(header_len));
    }
    let len = match short {
        126 => u64::from(u16::from_be_bytes([buf[2], buf[3]])),
        127 => {
            let len = u64::from_be_bytes(buf[2..10].try_into().expect("eight bytes"));
            if len >> 63 != 0 {
                return Err(WsError::Protocol("frame length has its top bit set"));
            }
            len
        }
        n => u64::from(n),
    };
    if len > max_payload as u64 {
        return Err(WsError::TooLarge { size: len });
    }
    let mask = masked.then(|| {
        let at = 2 + extra;
        [buf[at], buf[at + 1], buf[at + 2], buf[at + 3]]
    });
    Ok(Parsed::Header(Header { fin, opcode, mask, header_len, payload_len: len as usize }))
}

/// The header of an unmasked, final frame of `opcode` carrying `len` bytes (what a server
/// sends), and how many of the array's bytes it uses.
pub fn encode_header(opcode: Opcode, len: usize) -> ([u8; 10], usize) {
    let mut head = [0u8; 10];
    head[0] = 0x80 | opcode.bits();
    let used = if len < 126 {
        head[1] = len as u8;
        2
    } else if let Ok(len) = u16::try_from(len) {
        head[1] = 126;
        head[2..4].copy_from_slice(&len.to_be_bytes());
        4
    } else {
        head[1] = 127;
        head[2..10].copy_from_slice(&(len as u64).to_be_bytes());
        10
    };
    (head, used)
}

/// XORs `data` with the mask `key`, 64 bytes at a time (a loop the compiler vectorizes).
pub fn unmask(data: &mut [u8], key: [u8; 4]) {
    let mut wide = [0u8; 64];
    for (i, b) in wide.iter_mut().enumerate() {
        *b = key[i % 4];
    }
    let mut chunks = data.chunks_exact_mut(64);
    for chunk in &mut chunks {
        for (b, k) in chunk.iter_mut().zip(wide) {
            *b ^= k;
        }
    }
    // What is left starts at a multiple of 64, so the key lines up from its first byte.
    for (b, k) in chunks.into_remainder().iter_mut().zip(wide) {
        *b ^= k;
    }
}

/// Reads a close frame's payload: empty, or a valid code and a UTF-8 reason.
pub fn parse_close(payload: &[u8]) -> Result<Option<CloseFrame>, WsError> {
    match payload {
        [] => Ok(None),
        [_] => Err(WsError::Protocol("close frame with a one-byte payload")),
        [hi, lo, reason @ ..] => {
            let code = u16::from_be_bytes([*hi, *lo]);
            let valid = matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999);
            if !valid {
                return Err(WsError::Protocol("close frame with an invalid code"));
            }
            let reason = std::str::from_utf8(reason).map_err(|_| WsError::Utf8)?;
            Ok(Some(CloseFrame { code, reason: reason.to_owned() }))
        }
    }
}

/// A close frame's payload: the code, then the reason cut on a character boundary so that
/// the whole fits a control frame.
pub fn close_payload(frame: &CloseFrame) -> Vec<u8> {
    let mut end = frame.reason.len().min(MAX_CONTROL - 2);
    while !frame.reason.is_char_boundary(end) {
        end -= 1;
    }
    let mut out = Vec::with_capacity(2 + end);
    out.extend_from_slice(&frame.code.to_be_bytes());
    out.extend_from_slice(&frame.reason.as_bytes()[..end]);
    out
}

/// The frame a client sends (masked with `key`; final unless `fin` is false), for tests.
#[cfg(test)]
pub fn client_frame(fin: bool, opcode: Opcode, payload: &[u8], key: [u8; 4]) -> Vec<u8> {
    let (head, used) = encode_header(opcode, payload.len());
    let mut out = head[..used].to_vec();
    if !fin {
        out[0] &= 0x7F;
    }
    out[1] |= 0x80;
    out.extend_from_slice(&key);
    let mut body = payload.to_vec();
    unmask(&mut body, key);
    out.extend_from_slice(&body);
    out
}

/// The frames a server wrote, as (opcode, payload), checking each is final and unmasked; for
/// tests.
#[cfg(test)]
pub fn server_frames(mut wire: &[u8]) -> Vec<(Opcode, Vec<u8>)> {
    let mut out = Vec::new();
    while !wire.is_empty() {
        let Ok(Parsed::Header(h)) = parse_header(wire, usize::MAX) else {
            panic!("not a whole frame: {wire:?}");
        };
        assert!(h.fin && h.mask.is_none(), "{h:?}");
        out.push((h.opcode, wire[h.header_len..h.frame_len()].to_vec()));
        wire = &wire[h.frame_len()..];
    }
    out
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn header(buf: &[u8]) -> Header {
        match parse_header(buf, 1 << 20).unwrap() {
            Parsed::Header(h) => h,
            other => panic!("expected a header, got {other:?}"),
        }
    }

    #[test]
    fn reads_each_length_form() {
        for (len, header_len) in [(0, 6), (125, 6), (126, 8), (65535, 8), (65536, 14)] {
            let frame = client_frame(true, Opcode::Binary, &vec![1; len], [1, 2, 3, 4]);
            let h = header(&frame);
            assert_eq!((h.payload_len, h.header_len), (len, header_len), "{len}");
            assert_eq!(h.mask, Some([1, 2, 3, 4]));
            assert_eq!(h.frame_len(), frame.len());
        }
    }

    #[test]
    fn asks_for_more_until_the_header_is_whole() {
        let frame = client_frame(true, Opcode::Binary, &[0; 70000], [9; 4]);
        assert_eq!(parse_header(&frame[..0], 100_000).unwrap(), Parsed::Incomplete(2));
        assert_eq!(parse_header(&frame[..1], 100_000).unwrap(), Parsed::Incomplete(2));
        assert_eq!(parse_header(&frame[..2], 100_000).unwrap(), Parsed::Incomplete(14));
        assert_eq!(parse_header(&frame[..13], 100_000).unwrap(), Parsed::Incomplete(14));
        assert!(matches!(parse_header(&frame[..14], 100_000).unwrap(), Parsed::Header(_)));
    }

    #[test]
    fn refuses_what_the_rfc_forbids() {
        let protocol = |buf: &[u8]| matches!(parse_header(buf, 1 << 20), Err(WsError::Protocol(_)));
        assert!(protocol(&[0x80 | 0x40 | 0x2, 0x80]), "reserved bit");
        assert!(protocol(&[0x80 | 0x3, 0x80]), "unknown opcode");
        assert!(protocol(&[0x9, 0x80]), "fragmented ping");
        assert!(protocol(&[0x89, 0x80 | 126]), "ping over 125 bytes");
        let mut huge = vec![0x82, 0x80 | 127];
        huge.extend_from_slice(&u64::MAX.to_be_bytes());
        huge.extend_from_slice(&[0; 4]);
        assert!(protocol(&huge), "top bit of a 64-bit length");
        let mut big = vec![0x82, 0x80 | 127];
        big.extend_from_slice(&(2u64 << 20).to_be_bytes());
        big.extend_from_slice(&[0; 4]);
        assert_eq!(
            parse_header(&big, 1 << 20).unwrap_err(),
            WsError::TooLarge { size: 2 << 20 },
            "too large is known from the header alone"
        );
    }

    #[test]
    fn close_frames_carry_a_valid_code_and_a_utf8_reason() {
        assert_eq!(parse_close(&[]).unwrap(), None);
        let frame = CloseFrame { code: 4001, reason: "no".into() };
        assert_eq!(parse_close(&close_payload(&frame)).unwrap(), Some(frame));
        assert!(parse_close(&[3]).is_err());
        for bad in [999u16, 1004, 1005, 1006, 1015, 2999, 5000] {
            assert!(parse_close(&bad.to_be_bytes()).is_err(), "{bad}");
        }
        assert_eq!(parse_close(&[0x03, 0xE8, 0xC3, 0x28]).unwrap_err(), WsError::Utf8);
        let long = CloseFrame { code: 1000, reason: "é".repeat(100) };
        let payload = close_payload(&long);
        assert!(payload.len() <= MAX_CONTROL);
        assert!(parse_close(&payload).is_ok(), "cut on a character boundary");
    }

    proptest! {
        #[test]
        fn unmasking_twice_gives_the_bytes_back(data: Vec<u8>, key: [u8; 4]) {
            let mut masked = data.clone();
            unmask(&mut masked, key);
            let slow: Vec<u8> = data.iter().enumerate().map(|(i, b)| b ^ key[i % 4]).collect();
            prop_assert_eq!(&masked, &slow);
            unmask(&mut masked, key);
            prop_assert_eq!(masked, data);
        }

        #[test]
        fn any_header_written_reads_back(len in 0usize..200_000, binary: bool) {
            let opcode = if binary { Opcode::Binary } else { Opcode::Text };
            let (head, used) = encode_header(opcode, len);
            let h = header(&head[..used]);
            prop_assert_eq!((h.fin, h.opcode, h.mask, h.payload_len), (true, opcode, None, len));
            prop_assert_eq!(h.header_len, used);
        }

        #[test]
        fn arbitrary_bytes_never_panic(buf: Vec<u8>, max in 0usize..2_000_000) {
            if let Ok(Parsed::Header(h)) = parse_header(&buf, max) {
                prop_assert!(h.payload_len <= max);
                // 2 bytes, an 8-byte length, a 4-byte mask key.
                prop_assert!(h.header_len <= 14);
            }
        }
    }
}
