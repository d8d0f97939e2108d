//! Screen sources: the [`ScreenSource`] seam and the moving test pattern used where there is no
//! display (and by tests). Real capture arrives with its own implementation of the trait.

use tether_protocol::MAX_DIMENSION;

/// One captured frame, 8-bit RGBA, rows top to bottom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    /// Width in pixels.
    pub width: u16,
    /// Height in pixels.
    pub height: u16,
    /// `width * height * 4` bytes.
    pub rgba: Vec<u8>,
}

/// Why a capture failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CaptureError {
    /// The source cannot capture now.
    #[error("screen capture failed: {0}")]
    Failed(String),
    /// Encoding the frame failed.
    #[error("encoding the frame failed: {0}")]
    Encode(String),
}

/// Something that produces screen images.
pub trait ScreenSource: Send {
    /// Captures the current screen.
    fn capture(&mut self) -> Result<Image, CaptureError>;
}

/// The colour bars of the test pattern, left to right.
pub const TEST_BARS: [[u8; 3]; 8] = [
    [255, 255, 255],
    [255, 255, 0],
    [0, 255, 255],
    [0, 255, 0],
    [255, 0, 255],
    [255, 0, 0],
    [0, 0, 255],
    [0, 0, 0],
];

/// Colour bars over the top two thirds; below them a white block that moves one step right
/// with every frame over a dark grey band, so that two frames are never alike.
#[derive(Debug, Clone)]
pub struct TestPattern {
    width: u16,
    height: u16,
    frame: u64,
}

impl TestPattern {
    /// A pattern of the given size (clamped to 16..=MAX_DIMENSION).
    pub fn new(width: u16, height: u16) -> TestPattern {
        let clamp = |v: u16| v.clamp(16, MAX_DIMENSION);
        TestPattern { width: clamp(width), height: clamp(height), frame: 0 }
    }

    /// Where the moving block starts in frame `frame`, and how wide it is.
    pub fn block(width: u16, frame: u64) -> (u16, u16) {
        let block = (width / 16).max(1);
        let steps = u64::from(width / block);
        (((frame % steps) as u16) * block, block)
    }
}

impl ScreenSource for TestPattern {
    fn capture(&mut self) -> Result<Image, CaptureError> {
        let (w, h) = (usize::from(self.width), usize::from(self.height));
        let bars_end = h * 2 / 3;
        let (block_x, block_w) = TestPattern::block(self.width, self.frame);
        let (block_x, block_w) = (usize::from(block_x), usize::from(block_w));
        let mut rgba = Vec::with_capacity(w * h * 4);
        for y in 0..h {
            for x in 0..w {
                let rgb = if y < bars_end {
                    TEST_BARS[x * TEST_BARS.len() / w]
                } else if (block_x..block_x + block_w).contains(&x) {
                    [255, 255, 255]
                } else {
                    [40, 40, 40]
                };
                rgba.extend_from_slice(&[rgb[0], rgb[1], rgb[2], 255]);
            }
        }
        self.frame += 1;
        Ok(Image { width: self.width, height: self.height, rgba })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pattern_has_bars_and_moves() {
        let mut p = TestPattern::new(320, 180);
        let a = p.capture().unwrap();
        let b = p.capture().unwrap();
        assert_eq!(a.rgba.len(), 320 * 180 * 4);
        assert_ne!(a, b, "consecutive frames differ");
        let px = |img: &Image, x: usize, y: usize| {
            let i = (y * usize::from(img.width) + x) * 4;
            [img.rgba[i], img.rgba[i + 1], img.rgba[i + 2]]
        };
        for (k, bar) in TEST_BARS.iter().enumerate() {
            assert_eq!(px(&a, k * 40 + 20, 10), *bar);
        }
        assert_eq!(px(&a, 5, 170), [255, 255, 255], "block at the left in frame 0");
        assert_eq!(px(&b, 5, 170), [40, 40, 40], "block moved in frame 1");
    }
}
