//! Tile updates: the screen cut into square tiles, only the tiles that changed since the picture
//! the console holds sent, their pixels (RGB) compressed together with zstd. A keyframe starts
//! a fresh picture; a delta applies only to the picture it was made against (`base`), so a
//! lost update is noticed, never drawn wrong.
//!
//! Update layout, after the screen header (big-endian): `flags: u8` (bit 0: keyframe),
//! `tile: u16`, `base: u32`, `count: u32`, `count` × (`column: u16`, `row: u16`), then the
//! zstd-compressed pixels of those tiles in that order, each tile's rows top to bottom, clipped
//! at the screen's right and bottom edges.
//!
//! [`Framebuffer`] is the picture both ends keep: the console draws into it; the agent keeps
//! one as its model of what the console holds, to know which tiles changed.

use crate::screen::{MAX_PIXELS, SCREEN_HEADER_LEN, ScreenEncoding, ScreenError, ScreenFrame};

/// The tile edge the agent uses.
pub const TILE: u16 = 64;
/// Tile edges a decoder accepts.
const TILE_RANGE: std::ops::RangeInclusive<u16> = 16..=256;
/// The colour of a picture not yet drawn (a keyframe sent in parts shows it briefly).
pub const BLANK: [u8; 4] = [32, 32, 32, 255];
/// Bytes of the fixed part of an update.
const UPDATE_HEADER_LEN: usize = 11;

/// A tile's place: column and row in the tile grid.
pub type TileIndex = (u16, u16);

/// A screen picture, 8-bit RGBA, rows top to bottom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Framebuffer {
    /// Pixels.
    pub width: u16,
    /// Pixels.
    pub height: u16,
    /// `width * height * 4` bytes.
    pub rgba: Vec<u8>,
    /// The sequence number of the last update drawn.
    pub seq: u32,
}

/// What an update decodes to before it is drawn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TileUpdate {
    /// Starts a fresh picture.
    pub keyframe: bool,
    /// Tile edge.
    pub tile: u16,
    /// The picture a delta applies to.
    pub base: u32,
    /// Tiles, in the order of the pixels.
    pub tiles: Vec<TileIndex>,
    /// Their RGB pixels.
    pub rgb: Vec<u8>,
}

/// Why an update could not be made or drawn.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TileError {
    /// The frame itself is malformed.
    #[error(transparent)]
    Screen(#[from] ScreenError),
    /// The update is malformed.
    #[error("bad tile update: {0}")]
    Malformed(&'static str),
    /// A delta for a picture this side does not hold: ask for a keyframe.
    #[error("update against picture {base}, but the picture held is {held:?}")]
    WrongBase {
        /// What the update applies to.
        base: u32,
        /// What is held.
        held: Option<u32>,
    },
    /// The compressed pixels did not inflate to the tiles' size.
    #[error("tile pixels do not decompress to the tiles' size")]
    BadPixels,
    /// The encoded update is larger than the budget given.
    #[error("the update is {0} bytes, over its budget")]
    TooLarge(usize),
}

/// The pixel rectangle of tile `(col, row)`: x, y, width, height.
fn rect(tile: u16, width: u16, height: u16, (col, row): TileIndex) -> (usize, usize, usize, usize) {
    let (t, w, h) = (usize::from(tile), usize::from(width), usize::from(height));
    let (x, y) = (usize::from(col) * t, usize::from(row) * t);
    (x, y, t.min(w - x), t.min(h - y))
}

/// Columns and rows of the grid.
pub fn grid(tile: u16, width: u16, height: u16) -> (u16, u16) {
    (width.div_ceil(tile), height.div_ceil(tile))
}

/// Every tile, row by row.
pub fn all_tiles(tile: u16, width: u16, height: u16) -> Vec<TileIndex> {
    let (cols, rows) = grid(tile, width, height);
    (0..rows).flat_map(|r| (0..cols).map(move |c| (c, r))).collect()
}

impl Framebuffer {
    /// A blank picture.
    pub fn blank(width: u16, height: u16, seq: u32) -> Framebuffer {
        let pixels = usize::from(width) * usize::from(height);
        Framebuffer { width, height, rgba: BLANK.repeat(pixels), seq }
    }

    /// The tiles where `rgba` (a `width`×`height` picture) differs from this one: all of them
    /// if the size differs.
    pub fn changed_tiles(&self, rgba: &[u8], width: u16, height: u16) -> Vec<TileIndex> {
        if (width, height) != (self.width, self.height) || rgba.len() != self.rgba.len() {
            return all_tiles(TILE, width, height);
        }
        let stride = usize::from(width) * 4;
        all_tiles(TILE, width, height)
            .into_iter()
            .filter(|&t| {
                let (x, y, w, h) = rect(TILE, width, height, t);
                (y..y + h).any(|row| {
                    let at = row * stride + x * 4;
                    rgba[at..at + w * 4] != self.rgba[at..at + w * 4]
                })
            })
            .collect()
    }

    /// Copies `tiles` of `rgba` (a picture of this size) into this one.
    pub fn copy_tiles(&mut self, rgba: &[u8], tiles: &[TileIndex]) {
        let stride = usize::from(self.width) * 4;
        for &t in tiles {
            let (x, y, w, h) = rect(TILE, self.width, self.height, t);
            for row in y..y + h {
                let at = row * stride + x * 4;
                self.rgba[at..at + w * 4].copy_from_slice(&rgba[at..at + w * 4]);
            }
        }
    }

    /// Draws a decoded update of frame `frame` (whose header says its size and sequence).
    pub fn apply(
        held: &mut Option<Framebuffer>,
        frame: &ScreenFrame<'_>,
        update: &TileUpdate,
    ) -> Result<(), TileError> {
        if !update.keyframe {
            let ok = held.as_ref().is_some_and(|fb| {
                fb.seq == update.base && (fb.width, fb.height) == (frame.width, frame.height)
            });
            if !ok {
                return Err(TileError::WrongBase {
                    base: update.base,
                    held: held.as_ref().map(|fb| fb.seq),
                });
            }
        }
        let fb = match held {
            Some(fb) if !update.keyframe => fb,
            _ => held.insert(Framebuffer::blank(frame.width, frame.height, frame.seq)),
        };
        let stride = usize::from(fb.width) * 4;
        let mut pixels = update.rgb.chunks_exact(3);
        for &t in &update.tiles {
            let (x, y, w, h) = rect(update.tile, fb.width, fb.height, t);
            for row in y..y + h {
                let at = row * stride + x * 4;
                for px in fb.rgba[at..at + w * 4].chunks_exact_mut(4) {
                    let rgb = pixels.next().ok_or(TileError::BadPixels)?;
                    px.copy_from_slice(&[rgb[0], rgb[1], rgb[2], 255]);
                }
            }
        }
        fb.seq = frame.seq;
        Ok(())
    }
}

/// Encodes an update of `tiles` of `rgba` (a `width`×`height` RGBA picture) as a whole
/// `screen` payload, compressed at zstd `level`; fails with [`TileError::TooLarge`] if it
/// would exceed `budget` bytes.
#[allow(clippy::too_many_arguments)]
pub fn encode_update(
    seq: u32,
    width: u16,
    height: u16,
    rgba: &[u8],
    keyframe: bool,
    base: u32,
    tiles: &[TileIndex],
    level: i32,
    budget: usize,
) -> Result<Vec<u8>, TileError> {
    let stride = usize::from(width) * 4;
    let mut rgb = Vec::with_capacity(tiles.len() * usize::from(TILE) * usize::from(TILE) * 3);
    for &t in tiles {
        let (x, y, w, h) = rect(TILE, width, height, t);
        for row in y..y + h {
            let at = row * stride + x * 4;
            for px in rgba[at..at + w * 4].chunks_exact(4) {
                rgb.extend_from_slice(&px[..3]);
            }
        }
    }
    let compressed = zstd::bulk::compress(&rgb, level).map_err(|_| TileError::BadPixels)?;
    let mut data = Vec::with_capacity(UPDATE_HEADER_LEN + tiles.len() * 4 + compressed.len());
    data.push(u8::from(keyframe));
    data.extend_from_slice(&TILE.to_be_bytes());
    data.extend_from_slice(&base.to_be_bytes());
    data.extend_from_slice(&(tiles.len() as u32).to_be_bytes());
    for &(c, r) in tiles {
        data.extend_from_slice(&c.to_be_bytes());
        data.extend_from_slice(&r.to_be_bytes());
    }
    data.extend_from_slice(&compressed);
    let total = SCREEN_HEADER_LEN + data.len();
    if total > budget {
        return Err(TileError::TooLarge(total));
    }
    Ok(ScreenFrame { seq, width, height, encoding: ScreenEncoding::Tiles, data: &data }.encode())
}

/// Decodes the update a frame carries, checking every index and inflating the pixels to
/// exactly the tiles' size (never more).
pub fn decode_update(frame: &ScreenFrame<'_>) -> Result<TileUpdate, TileError> {
    let d = frame.data;
    if d.len() < UPDATE_HEADER_LEN {
        return Err(TileError::Malformed("shorter than its header"));
    }
    let flags = d[0];
    if flags & !1 != 0 {
        return Err(TileError::Malformed("unknown flags"));
    }
    let tile = u16::from_be_bytes([d[1], d[2]]);
    if !TILE_RANGE.contains(&tile) {
        return Err(TileError::Malformed("tile size out of range"));
    }
    let base = u32::from_be_bytes([d[3], d[4], d[5], d[6]]);
    let count = u32::from_be_bytes([d[7], d[8], d[9], d[10]]) as usize;
    let (cols, rows) = grid(tile, frame.width, frame.height);
    if count == 0 || count > usize::from(cols) * usize::from(rows) {
        return Err(TileError::Malformed("tile count out of range"));
    }
    let index_end = UPDATE_HEADER_LEN + count * 4;
    if d.len() <= index_end {
        return Err(TileError::Malformed("truncated tile list"));
    }
    let mut tiles = Vec::with_capacity(count);
    let mut expected = 0usize;
    for i in d[UPDATE_HEADER_LEN..index_end].chunks_exact(4) {
        let t = (u16::from_be_bytes([i[0], i[1]]), u16::from_be_bytes([i[2], i[3]]));
        if t.0 >= cols || t.1 >= rows {
            return Err(TileError::Malformed("tile outside the screen"));
        }
        let (_, _, w, h) = rect(tile, frame.width, frame.height, t);
        expected += w * h * 3;
        tiles.push(t);
    }
    if expected > MAX_PIXELS * 3 {
        return Err(TileError::Malformed("more pixels than a screen"));
    }
    let rgb =
        zstd::bulk::decompress(&d[index_end..], expected).map_err(|_| TileError::BadPixels)?;
    if rgb.len() != expected {
        return Err(TileError::BadPixels);
    }
    Ok(TileUpdate { keyframe: flags & 1 != 0, tile, base, tiles, rgb })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// A 200×130 picture (edge tiles clipped) with a gradient.
    fn picture(shift: u8) -> Vec<u8> {
        (0..200usize * 130).flat_map(|i| [(i % 200) as u8, (i / 200) as u8, shift, 255]).collect()
    }

    fn decode_and_apply(held: &mut Option<Framebuffer>, payload: &[u8]) -> Result<(), TileError> {
        let frame = ScreenFrame::decode(payload)?;
        let update = decode_update(&frame)?;
        Framebuffer::apply(held, &frame, &update)
    }

    #[test]
    fn a_keyframe_then_a_delta_rebuild_the_picture() {
        let (a, mut b) = (picture(0), picture(0));
        // Change one pixel in the tile at column 1, row 1, and one in the clipped corner tile.
        b[(70 * 200 + 70) * 4] = 99;
        b[(129 * 200 + 199) * 4 + 1] = 7;
        let all = all_tiles(TILE, 200, 130);
        assert_eq!(all.len(), 4 * 3);
        let key = encode_update(1, 200, 130, &a, true, 0, &all, 1, 1 << 20).unwrap();
        let mut console = None;
        decode_and_apply(&mut console, &key).unwrap();
        assert_eq!(console.as_ref().unwrap().rgba, a);

        let model = console.clone().unwrap();
        let changed = model.changed_tiles(&b, 200, 130);
        assert_eq!(changed, vec![(1, 1), (3, 2)]);
        let delta = encode_update(2, 200, 130, &b, false, 1, &changed, 1, 1 << 20).unwrap();
        assert!(delta.len() < key.len());
        decode_and_apply(&mut console, &delta).unwrap();
        assert_eq!(console.as_ref().unwrap().rgba, b);
        assert_eq!(console.as_ref().unwrap().seq, 2);

        let mut copied = model;
        copied.copy_tiles(&b, &changed);
        assert_eq!(copied.rgba, b, "the agent's model follows what it sent");
    }

    #[test]
    fn a_delta_against_another_picture_is_refused() {
        let a = picture(0);
        let all = all_tiles(TILE, 200, 130);
        let delta = encode_update(5, 200, 130, &a, false, 4, &all, 1, 1 << 20).unwrap();
        let mut none = None;
        assert_eq!(
            decode_and_apply(&mut none, &delta),
            Err(TileError::WrongBase { base: 4, held: None })
        );
        let mut held = Some(Framebuffer::blank(200, 130, 3));
        assert!(matches!(decode_and_apply(&mut held, &delta), Err(TileError::WrongBase { .. })));
        assert_eq!(held.unwrap().seq, 3, "nothing drawn");
    }

    #[test]
    fn budgets_and_hostile_updates() {
        let a = picture(1);
        let all = all_tiles(TILE, 200, 130);
        assert!(matches!(
            encode_update(1, 200, 130, &a, true, 0, &all, 1, 100),
            Err(TileError::TooLarge(_))
        ));
        let good = encode_update(1, 200, 130, &a, true, 0, &all, 1, 1 << 20).unwrap();
        let frame = ScreenFrame::decode(&good).unwrap();
        let mut data = frame.data.to_vec();
        // A tile outside the grid.
        data[UPDATE_HEADER_LEN..UPDATE_HEADER_LEN + 2].copy_from_slice(&9u16.to_be_bytes());
        let bad = ScreenFrame { data: &data, ..frame };
        assert_eq!(decode_update(&bad), Err(TileError::Malformed("tile outside the screen")));
        // Pixels that inflate to more than the tiles hold (a bomb) or fewer.
        let mut data = frame.data[..UPDATE_HEADER_LEN + all.len() * 4].to_vec();
        data.extend(zstd::bulk::compress(&vec![0u8; 200 * 130 * 3 + 1], 1).unwrap());
        let bomb = ScreenFrame { data: &data, ..frame };
        assert_eq!(decode_update(&bomb), Err(TileError::BadPixels));
        let mut data = frame.data[..UPDATE_HEADER_LEN + all.len() * 4].to_vec();
        data.extend(zstd::bulk::compress(&[0u8; 30], 1).unwrap());
        let short = ScreenFrame { data: &data, ..frame };
        assert_eq!(decode_update(&short), Err(TileError::BadPixels));
    }

    proptest! {
        #[test]
        fn arbitrary_updates_never_panic(data in proptest::collection::vec(any::<u8>(), 0..200)) {
            let frame = ScreenFrame {
                seq: 1, width: 100, height: 100, encoding: ScreenEncoding::Tiles, data: &data,
            };
            if let Ok(update) = decode_update(&frame) {
                let mut held = Some(Framebuffer::blank(100, 100, 0));
                let _ = Framebuffer::apply(&mut held, &frame, &update);
            }
        }
    }
}
