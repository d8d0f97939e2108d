//! Screen frames: the payload of `screen` channel frames, agent to console.
//!
//! Layout (big-endian): `seq: u32`, `width: u16`, `height: u16`, `encoding: u8`, then the
//! encoded image. The header is fixed, checked before anything is allocated, and the image
//! bytes are borrowed, not copied.

/// Fixed header length of a screen frame payload.
pub const SCREEN_HEADER_LEN: usize = 9;

/// The largest width or height accepted.
pub const MAX_DIMENSION: u16 = 16_384;

/// How the image bytes are encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
#[non_exhaustive]
pub enum ScreenEncoding {
    /// A whole frame as one PNG image.
    Png = 1,
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
        if width == 0 || height == 0 || width > MAX_DIMENSION || height > MAX_DIMENSION {
            return Err(ScreenError::BadSize(width, height));
        }
        let encoding = match head[8] {
            1 => ScreenEncoding::Png,
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
            encoding: ScreenEncoding::Png,
            data: b"\x89PNG...",
        };
        assert_eq!(ScreenFrame::decode(&f.encode()).unwrap(), f);
    }

    #[test]
    fn refuses_bad_headers() {
        assert_eq!(ScreenFrame::decode(&[0; 4]), Err(ScreenError::Truncated(4)));
        let mut p =
            ScreenFrame { seq: 1, width: 1, height: 1, encoding: ScreenEncoding::Png, data: b"x" }
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
