//! Screen frames: the payload of `screen` channel frames, agent to console, and the console's
//! requests for the next one (flag [`screen_flags::REQUEST`], console to agent).
//!
//! Frame layout (big-endian): `seq: u32`, `width: u16`, `height: u16`, `encoding: u8`, then the
//! encoded update (see [`crate::tiles`]). The header is fixed, checked before anything is
//! allocated, and the update's bytes are borrowed, not copied.

/// Fixed header length of a screen frame payload.
pub const SCREEN_HEADER_LEN: usize = 9;

/// The largest width or height accepted.
pub const MAX_DIMENSION: u16 = 16_384;
/// The most pixels a screen may have (an 8K display): bounds what a frame makes anyone
/// allocate.
pub const MAX_PIXELS: usize = 7680 * 4320;

/// `screen` frame flags.
pub mod screen_flags {
    /// Agent to console: a screen update.
    pub const UPDATE: u8 = 0;
    /// Console to agent: a [`super::ScreenRequest`].
    pub const REQUEST: u8 = 1;
}

/// How the update bytes are encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
#[non_exhaustive]
pub enum ScreenEncoding {
    /// Changed tiles, compressed (see [`crate::tiles`]).
    Tiles = 1,
}

/// A decoded screen frame borrowing its image bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScreenFrame<'a> {
    /// Increases by one per frame the agent produces.
    pub seq: u32,
    /// Width in pixels.
    pub width: u16,
    /// Height in pixels.
    pub height: u16,
    /// Image encoding.
    pub encoding: ScreenEncoding,
    /// Encoded image.
    pub data: &'a [u8],
}

/// Why a screen frame was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ScreenError {
    /// Shorter than the header.
    #[error("screen frame of {0} bytes is shorter than its header")]
    Truncated(usize),
    /// Zero or oversized dimensions.
    #[error("screen size {0}x{1} is out of range")]
    BadSize(u16, u16),
    /// Unknown encoding byte.
    #[error("unknown screen encoding {0}")]
    UnknownEncoding(u8),
    /// No image bytes.
    #[error("screen frame has no image data")]
    Empty,
}

impl<'a> ScreenFrame<'a> {
    /// Decodes a `screen` frame payload.
    pub fn decode(payload: &'a [u8]) -> Result<ScreenFrame<'a>, ScreenError> {
        if payload.len() < SCREEN_HEADER_LEN {
            return Err(ScreenError::Truncated(payload.len()));
        }
        let (head, data) = payload.split_at(SCREEN_HEADER_LEN);
        let seq = u32::from_be_bytes([head[0], head[1], head[2], head[3]]);
        let width = u16::from_be_bytes([head[4], head[5]]);
        let height = u16::from_be_bytes([head[6], head[7]]);
        if width == 0
            || height == 0
            || width > MAX_DIMENSION
            || height > MAX_DIMENSION
            || usize::from(width) * usize::from(height) > MAX_PIXELS
        {
            return Err(ScreenError::BadSize(width, height));
        }
        let encoding = match head[8] {
            1 => ScreenEncoding::Tiles,
            other => return Err(ScreenError::UnknownEncoding(other)),
        };
        if data.is_empty() {
            return Err(ScreenError::Empty);
        }
        Ok(ScreenFrame { seq, width, height, encoding, data })
    }

    /// Encodes this frame as a `screen` payload.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(SCREEN_HEADER_LEN + self.data.len());
        out.extend_from_slice(&self.seq.to_be_bytes());
        out.extend_from_slice(&self.width.to_be_bytes());
        out.extend_from_slice(&self.height.to_be_bytes());
        out.push(self.encoding as u8);
        out.extend_from_slice(self.data);
        out
    }
}

/// The console's request for the next update: sent when it has drawn the last one, so that a
/// slow link gets fewer, fresher frames instead of a backlog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScreenRequest {
    /// The sequence number of the picture the console holds, if any: the next update is a
    /// delta against it (or a keyframe if the agent no longer knows it).
    pub have: Option<u32>,
    /// Send a full picture.
    pub keyframe: bool,
}

/// Length of a request's payload.
pub const SCREEN_REQUEST_LEN: usize = 5;

impl ScreenRequest {
    /// Encodes the payload.
    pub fn encode(&self) -> [u8; SCREEN_REQUEST_LEN] {
        let flags = u8::from(self.keyframe) | (u8::from(self.have.is_some()) << 1);
        let have = self.have.unwrap_or(0).to_be_bytes();
        [flags, have[0], have[1], have[2], have[3]]
    }

    /// Decodes a payload; `None` unless it is exactly a request.
    pub fn decode(payload: &[u8]) -> Option<ScreenRequest> {
        let [flags, a, b, c, d] = *payload else { return None };
        if flags & !0b11 != 0 {
            return None;
        }
        let have = (flags & 0b10 != 0).then(|| u32::from_be_bytes([a, b, c, d]));
        Some(ScreenRequest { have, keyframe: flags & 1 != 0 })
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn round_trips() {
        let f = ScreenFrame {
            seq: 7,
            width: 640,
            height: 360,
            encoding: ScreenEncoding::Tiles,
            data: b"tiles...",
        };
        assert_eq!(ScreenFrame::decode(&f.encode()).unwrap(), f);
        for r in [
            ScreenRequest { have: None, keyframe: true },
            ScreenRequest { have: Some(7), keyframe: false },
        ] {
            assert_eq!(ScreenRequest::decode(&r.encode()), Some(r));
        }
        assert_eq!(ScreenRequest::decode(&[4, 0, 0, 0, 0]), None, "unknown flags");
        assert_eq!(ScreenRequest::decode(&[0; 6]), None, "wrong length");
    }

    #[test]
    fn refuses_bad_headers() {
        assert_eq!(ScreenFrame::decode(&[0; 4]), Err(ScreenError::Truncated(4)));
        let mut p = ScreenFrame {
            seq: 1,
            width: 1,
            height: 1,
            encoding: ScreenEncoding::Tiles,
            data: b"x",
        }
        .encode();
        p[8] = 9;
        assert_eq!(ScreenFrame::decode(&p), Err(ScreenError::UnknownEncoding(9)));
        p[8] = 1;
        p[4] = 0;
        p[5] = 0;
        assert_eq!(ScreenFrame::decode(&p), Err(ScreenError::BadSize(0, 1)));
        p[5] = 1;
        assert_eq!(ScreenFrame::decode(&p[..SCREEN_HEADER_LEN]), Err(ScreenError::Empty));
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = ScreenFrame::decode(&bytes);
        }
    }
}
