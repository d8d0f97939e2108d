//! The remote screen as the console holds it: the picture that updates are drawn into (shared
//! with the viewer window), the requests that pull the next update once one is drawn, and
//! snapshots of the picture written as PNG.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bytes::Bytes;
use tether_protocol::tiles::{Framebuffer, TileError, decode_update};
use tether_protocol::{Channel, Frame, HEADER_LEN, ScreenFrame, ScreenRequest, screen_flags};

/// How long a snapshot waits for a fresh picture.
pub const SNAPSHOT_WAIT: Duration = Duration::from_secs(15);
/// With no update for this long, the last request is repeated (an update may have been lost).
const STALL: Duration = Duration::from_secs(2);

/// The picture, shared between the session and the viewer.
pub type SharedPicture = Arc<Mutex<Option<Framebuffer>>>;

/// Locks the shared picture (a panic elsewhere leaves it usable).
pub fn lock(picture: &SharedPicture) -> MutexGuard<'_, Option<Framebuffer>> {
    picture.lock().unwrap_or_else(|p| p.into_inner())
}

/// A snapshot written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// The file.
    pub path: PathBuf,
    /// Pixels.
    pub width: u16,
    /// Pixels.
    pub height: u16,
    /// The picture's sequence number.
    pub seq: u32,
}

/// The remote screen.
#[derive(Debug)]
pub struct RemoteScreen {
    picture: SharedPicture,
    /// The picture last written as a snapshot.
    snapshotted: Option<u32>,
    /// Snapshots waiting for a fresh picture.
    waiting: Vec<(PathBuf, Instant)>,
    /// When an update last arrived or a request last went out.
    last_heard: Instant,
}

impl Default for RemoteScreen {
    fn default() -> Self {
        RemoteScreen {
            picture: Arc::new(Mutex::new(None)),
            snapshotted: None,
            waiting: Vec::new(),
            last_heard: Instant::now(),
        }
    }
}

impl RemoteScreen {
    /// A screen drawing into `picture` (shared with the viewer).
    pub fn sharing(picture: SharedPicture) -> RemoteScreen {
        RemoteScreen { picture, ..RemoteScreen::default() }
    }

    /// The picture's sequence number, if there is one.
    pub fn seq(&self) -> Option<u32> {
        lock(&self.picture).as_ref().map(|fb| fb.seq)
    }

    /// Draws an update (a whole `screen` message); returns the picture's size when it is new
    /// or changed. On an error nothing is drawn and the caller asks for a keyframe.
    pub fn draw(&mut self, message: &[u8]) -> Result<Option<(u16, u16)>, TileError> {
        self.last_heard = Instant::now();
        let frame = ScreenFrame::decode(&message[HEADER_LEN..])?;
        let update = decode_update(&frame)?;
        let mut picture = lock(&self.picture);
        let before = picture.as_ref().map(|fb| (fb.width, fb.height));
        Framebuffer::apply(&mut picture, &frame, &update)?;
        let size = (frame.width, frame.height);
        Ok((before != Some(size)).then_some(size))
    }

    /// The request for the next update (a keyframe if asked, or if there is no picture).
    pub fn request(&mut self, keyframe: bool) -> Bytes {
        self.last_heard = Instant::now();
        let have = self.seq();
        let request = ScreenRequest { have, keyframe: keyframe || have.is_none() };
        // Five bytes: always within the screen channel's limit.
        Frame::encode(Channel::Screen, screen_flags::REQUEST, &request.encode()).unwrap_or_default()
    }

    /// Whether no update has come for a while since the last request.
    pub fn stalled(&self, now: Instant) -> bool {
        now.saturating_duration_since(self.last_heard) >= STALL
    }

    /// `snapshot PATH`: written now if the picture is newer than the last snapshot, else when
    /// the next update is drawn.
    pub fn snapshot(&mut self, path: PathBuf) -> Option<Result<Snapshot, String>> {
        let fresh = self.seq().is_some_and(|seq| Some(seq) != self.snapshotted);
        if fresh {
            return Some(self.write(path));
        }
        self.waiting.push((path, Instant::now() + SNAPSHOT_WAIT));
        None
    }

    /// Writes the snapshots that were waiting for a fresh picture.
    pub fn drawn(&mut self) -> Vec<Result<Snapshot, String>> {
        std::mem::take(&mut self.waiting).into_iter().map(|(path, _)| self.write(path)).collect()
    }

    /// The snapshots that waited too long.
    pub fn expired(&mut self, now: Instant) -> Vec<PathBuf> {
        let (expired, waiting): (Vec<_>, Vec<_>) =
            std::mem::take(&mut self.waiting).into_iter().partition(|(_, at)| *at <= now);
        self.waiting = waiting;
        expired.into_iter().map(|(path, _)| path).collect()
    }

    fn write(&mut self, path: PathBuf) -> Result<Snapshot, String> {
        let picture = lock(&self.picture);
        let fb = picture.as_ref().ok_or("no picture yet")?;
        write_png(fb, &path)?;
        self.snapshotted = Some(fb.seq);
        Ok(Snapshot { path, width: fb.width, height: fb.height, seq: fb.seq })
    }
}

/// Writes a picture as a PNG.
pub fn write_png(fb: &Framebuffer, path: &Path) -> Result<(), String> {
    let file = std::fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut encoder =
        png::Encoder::new(std::io::BufWriter::new(file), u32::from(fb.width), u32::from(fb.height));
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(|e| e.to_string())?;
    writer.write_image_data(&fb.rgba).map_err(|e| e.to_string())?;
    writer.finish().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use tether_protocol::tiles::{TILE, all_tiles, encode_update};

    use super::*;

    fn update(seq: u32, keyframe: bool, base: u32, rgba: &[u8]) -> Bytes {
        let tiles = all_tiles(TILE, 8, 4);
        let payload = encode_update(seq, 8, 4, rgba, keyframe, base, &tiles, 1, 1 << 20).unwrap();
        Frame::encode(Channel::Screen, screen_flags::UPDATE, &payload).unwrap()
    }

    #[test]
    fn draws_updates_pulls_the_next_and_writes_snapshots() {
        let dir = tempfile::tempdir().unwrap();
        let mut screen = RemoteScreen::default();
        let first = screen.request(false);
        assert_eq!(
            ScreenRequest::decode(&first[HEADER_LEN..]),
            Some(ScreenRequest { have: None, keyframe: true }),
            "no picture: a keyframe"
        );
        let path = dir.path().join("s.png");
        assert!(screen.snapshot(path.clone()).is_none(), "waits for a picture");
        assert_eq!(screen.draw(&update(1, true, 0, &[7; 8 * 4 * 4])).unwrap(), Some((8, 4)));
        let written = screen.drawn();
        assert_eq!(written.len(), 1);
        assert_eq!(written[0].as_ref().unwrap().seq, 1);
        let reader =
            png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&path).unwrap()))
                .read_info()
                .unwrap();
        assert_eq!((reader.info().width, reader.info().height), (8, 4));

        assert_eq!(screen.draw(&update(2, false, 1, &[9; 8 * 4 * 4])).unwrap(), None);
        let next = screen.request(false);
        assert_eq!(
            ScreenRequest::decode(&next[HEADER_LEN..]),
            Some(ScreenRequest { have: Some(2), keyframe: false })
        );
        // A delta against a picture this console does not hold is refused, nothing drawn.
        assert!(matches!(
            screen.draw(&update(4, false, 3, &[1; 8 * 4 * 4])),
            Err(TileError::WrongBase { base: 3, held: Some(2) })
        ));
        assert!(screen.draw(&Frame::encode(Channel::Screen, 0, b"x").unwrap()).is_err());
        assert_eq!(screen.seq(), Some(2));
    }
}
