//! The remote screen as the console holds it: the newest frame received, and snapshots of it
//! written as PNG. Frames from the agent are decoded with size limits and re-encoded, so a
//! snapshot is always a well-formed image of the size the frame header claimed.

use std::path::Path;

use bytes::Bytes;
use tether_protocol::{HEADER_LEN, ScreenEncoding, ScreenFrame};

/// The newest frame.
#[derive(Debug, Clone)]
pub struct Latest {
    /// Sequence number.
    pub seq: u32,
    /// Pixels.
    pub width: u16,
    /// Pixels.
    pub height: u16,
    encoding: ScreenEncoding,
    /// The whole websocket message; the image starts after both headers.
    message: Bytes,
}

impl Latest {
    /// Reads a `screen` frame message (channel header included).
    pub fn from_message(message: Bytes) -> Result<Latest, String> {
        let frame = ScreenFrame::decode(&message[HEADER_LEN..]).map_err(|e| e.to_string())?;
        Ok(Latest {
            seq: frame.seq,
            width: frame.width,
            height: frame.height,
            encoding: frame.encoding,
            message: message.clone(),
        })
    }

    /// Decodes the image to RGBA, refusing anything not of the announced size.
    pub fn decode_rgba(&self) -> Result<Vec<u8>, String> {
        let ScreenEncoding::Png = self.encoding else {
            return Err("unsupported screen encoding".into());
        };
        let data = &self.message[HEADER_LEN + tether_protocol::SCREEN_HEADER_LEN..];
        let expected = usize::from(self.width) * usize::from(self.height) * 4;
        let mut decoder =
            png::Decoder::new_with_limits(data, png::Limits { bytes: expected + 1024 });
        decoder.set_transformations(png::Transformations::normalize_to_color8());
        let mut reader = decoder.read_info().map_err(|e| format!("bad PNG: {e}"))?;
        let (w, h) = (reader.info().width, reader.info().height);
        if (w, h) != (u32::from(self.width), u32::from(self.height)) {
            return Err(format!("frame says {}x{} but holds {w}x{h}", self.width, self.height));
        }
        let mut buf = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buf).map_err(|e| format!("bad PNG: {e}"))?;
        buf.truncate(info.buffer_size());
        match info.color_type {
            png::ColorType::Rgba => Ok(buf),
            png::ColorType::Rgb => {
                Ok(buf.chunks_exact(3).flat_map(|p| [p[0], p[1], p[2], 255]).collect())
            }
            other => Err(format!("unsupported PNG colour type {other:?}")),
        }
    }

    /// Writes this frame to `path` as a PNG.
    pub fn write_png(&self, path: &Path) -> Result<(), String> {
        let rgba = self.decode_rgba()?;
        let file = std::fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut encoder = png::Encoder::new(
            std::io::BufWriter::new(file),
            u32::from(self.width),
            u32::from(self.height),
        );
        encoder.set_color(png::ColorType::Rgba);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(|e| e.to_string())?;
        writer.write_image_data(&rgba).map_err(|e| e.to_string())?;
        writer.finish().map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use tether_protocol::{Channel, Frame};

    use super::*;

    fn png_of(width: u32, height: u32) -> Vec<u8> {
        let mut out = Vec::new();
        let mut e = png::Encoder::new(&mut out, width, height);
        e.set_color(png::ColorType::Rgb);
        e.set_depth(png::BitDepth::Eight);
        let mut w = e.write_header().unwrap();
        w.write_image_data(&vec![7u8; (width * height * 3) as usize]).unwrap();
        drop(w);
        out
    }

    fn message(width: u16, height: u16, data: &[u8]) -> Bytes {
        let payload =
            ScreenFrame { seq: 3, width, height, encoding: ScreenEncoding::Png, data }.encode();
        Frame::encode(Channel::Screen, 0, &payload).unwrap()
    }

    #[test]
    fn writes_a_valid_png() {
        let dir = tempfile::tempdir().unwrap();
        let latest = Latest::from_message(message(8, 4, &png_of(8, 4))).unwrap();
        let path = dir.path().join("s.png");
        latest.write_png(&path).unwrap();
        let file = std::fs::File::open(&path).unwrap();
        let reader = png::Decoder::new(std::io::BufReader::new(file)).read_info().unwrap();
        assert_eq!((reader.info().width, reader.info().height), (8, 4));
    }

    #[test]
    fn refuses_lying_or_broken_frames() {
        let lying = Latest::from_message(message(16, 16, &png_of(8, 4))).unwrap();
        assert!(lying.decode_rgba().unwrap_err().contains("holds 8x4"));
        let broken = Latest::from_message(message(8, 4, b"not a png")).unwrap();
        assert!(broken.decode_rgba().is_err());
        assert!(Latest::from_message(Frame::encode(Channel::Screen, 0, b"x").unwrap()).is_err());
    }
}
