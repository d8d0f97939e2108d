//! File transfers as both ends run them: an [`Outgoing`] file announces its size and SHA-256,
//! starts at the offset the receiver asks for, and keeps unacknowledged only what its
//! delay-based [`Window`] allows; an [`Incoming`] file is written in order to a partial file named after the
//! announced SHA-256 (so an interrupted transfer resumes where it stopped), checked against
//! that SHA-256, and only then given its final, never-overwriting name.

use std::path::{Path, PathBuf};
use std::time::Instant;

use bytes::{BufMut, Bytes, BytesMut};
use ring::digest::{Context, SHA256};
use tether_protocol::{
    Channel, Direction, FILE_DATA_HEADER, FileMsg, HEADER_LEN, encode_data_header, file_flags,
};
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

use crate::window::Window;

/// Why a transfer failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransferError {
    /// Reading or writing a file failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The sender broke the protocol (data out of order, beyond the size...).
    #[error("{0}")]
    Protocol(String),
    /// The file arrived but is not the one announced.
    #[error("SHA-256 mismatch: announced {expected}, received {actual}")]
    Mismatch {
        /// Announced.
        expected: String,
        /// Computed.
        actual: String,
    },
}

/// A control frame on the `file` channel.
pub fn control_frame(msg: &FileMsg) -> Bytes {
    // A file message is a few hundred bytes at most: within any frame limit.
    tether_protocol::Frame::encode(Channel::File, file_flags::CONTROL, &msg.encode())
        .unwrap_or_default()
}

/// The SHA-256 (hex) and size of the file at `path`, read on the blocking pool.
pub async fn digest_file(path: &Path) -> std::io::Result<(String, u64)> {
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let mut file = std::fs::File::open(&path)?;
        let mut ctx = Context::new(&SHA256);
        let mut buf = vec![0u8; 1 << 20];
        let mut size = 0u64;
        loop {
            let n = std::io::Read::read(&mut file, &mut buf)?;
            if n == 0 {
                break;
            }
            ctx.update(&buf[..n]);
            size += n as u64;
        }
        Ok((tether_protocol::hex(ctx.finish().as_ref()), size))
    })
    .await
    .map_err(std::io::Error::other)?
}

/// A file being sent.
#[derive(Debug)]
pub struct Outgoing {
    /// Transfer id.
    pub id: u32,
    /// File name.
    pub name: String,
    /// Bytes.
    pub size: u64,
    /// Hex SHA-256.
    pub sha256: String,
    file: tokio::fs::File,
    next: u64,
    acked: u64,
    started: bool,
    window: Window,
}

impl Outgoing {
    /// Opens `path` and computes what the offer announces.
    pub async fn open(id: u32, path: &Path) -> Result<Outgoing, TransferError> {
        let meta = tokio::fs::metadata(path).await?;
        if !meta.is_file() {
            return Err(TransferError::Protocol(format!(
                "{} is not a regular file",
                path.display()
            )));
        }
        let (sha256, size) = digest_file(path).await?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "file".into());
        let file = tokio::fs::File::open(path).await?;
        Ok(Outgoing {
            id,
            name,
            size,
            sha256,
            file,
            next: 0,
            acked: 0,
            started: false,
            window: Window::new(0),
        })
    }

    /// The offer for this file.
    pub fn offer(&self, direction: Direction) -> FileMsg {
        FileMsg::Offer {
            id: self.id,
            name: self.name.clone(),
            size: self.size,
            sha256: self.sha256.clone(),
            direction,
        }
    }

    /// The receiver accepted from `offset`.
    pub async fn start(&mut self, offset: u64) -> Result<(), TransferError> {
        if offset > self.size {
            return Err(TransferError::Protocol(format!(
                "resume offset {offset} beyond the file's {} bytes",
                self.size
            )));
        }
        self.file.seek(std::io::SeekFrom::Start(offset)).await?;
        self.next = offset;
        self.acked = offset;
        self.started = true;
        self.window = Window::new(offset);
        Ok(())
    }

    /// The receiver has this many bytes.
    pub fn acked(&mut self, received: u64) {
        self.acked = self.acked.max(received.min(self.next));
        self.window.acked(self.acked, Instant::now());
    }

    /// Bytes sent so far (including a resumed start).
    pub fn sent(&self) -> u64 {
        self.next
    }

    /// Whether every byte has been sent.
    pub fn all_sent(&self) -> bool {
        self.started && self.next >= self.size
    }

    /// Every data frame the window allows now.
    pub async fn ready_frames(&mut self) -> Result<Vec<Bytes>, TransferError> {
        let mut frames = Vec::new();
        while let Some(frame) = self.next_frame().await? {
            frames.push(frame);
        }
        Ok(frames)
    }

    /// The next data frame, if the window allows one.
    pub async fn next_frame(&mut self) -> Result<Option<Bytes>, TransferError> {
        if !self.started || self.next >= self.size || self.next - self.acked >= self.window.size() {
            return Ok(None);
        }
        let len = ((self.size - self.next) as usize).min(self.window.chunk());
        let mut buf = BytesMut::with_capacity(HEADER_LEN + FILE_DATA_HEADER + len);
        buf.put_u8(Channel::File.as_u8());
        buf.put_u8(file_flags::DATA);
        buf.put_slice(&encode_data_header(self.id, self.next));
        let start = buf.len();
        buf.resize(start + len, 0);
        self.file.read_exact(&mut buf[start..]).await?;
        self.next += len as u64;
        self.window.sent(self.next, Instant::now());
        Ok(Some(buf.freeze()))
    }
}

/// A file being received.
pub struct Incoming {
    /// Transfer id.
    pub id: u32,
    /// The announced (already sanitised) name.
    pub name: String,
    /// Announced bytes.
    pub size: u64,
    /// Announced SHA-256.
    pub sha256: String,
    dir: PathBuf,
    partial: PathBuf,
    file: tokio::fs::File,
    received: u64,
    hasher: Context,
}

impl std::fmt::Debug for Incoming {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Incoming")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("size", &self.size)
            .field("received", &self.received)
            .finish()
    }
}

impl Incoming {
    /// Prepares to receive into `dir`, resuming an earlier partial copy of the same file;
    /// returns the offset to ask for.
    pub async fn begin(
        id: u32,
        name: &str,
        size: u64,
        sha256: &str,
        dir: &Path,
    ) -> Result<(Incoming, u64), TransferError> {
        if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(TransferError::Protocol("the offer's SHA-256 is not 64 hex digits".into()));
        }
        tokio::fs::create_dir_all(dir).await?;
        let partial = dir.join(format!(".tether-partial-{}", sha256.to_ascii_lowercase()));
        let mut hasher = Context::new(&SHA256);
        let mut received = 0u64;
        if let Ok(mut existing) = tokio::fs::File::open(&partial).await {
            let mut buf = vec![0u8; 1 << 20];
            loop {
                let n = existing.read(&mut buf).await?;
                if n == 0 || received + n as u64 > size {
                    break;
                }
                hasher.update(&buf[..n]);
                received += n as u64;
            }
        }
        let mut file = tokio::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(false)
            .open(&partial)
            .await?;
        file.set_len(received).await?;
        file.seek(std::io::SeekFrom::Start(received)).await?;
        let incoming = Incoming {
            id,
            name: name.into(),
            size,
            sha256: sha256.to_ascii_lowercase(),
            dir: dir.into(),
            partial,
            file,
            received,
            hasher,
        };
        Ok((incoming, received))
    }

    /// Writes a chunk that must start where the last ended; returns the bytes received.
    pub async fn write(&mut self, offset: u64, data: &[u8]) -> Result<u64, TransferError> {
        if offset != self.received {
            return Err(TransferError::Protocol(format!(
                "data at {offset}, expected {}",
                self.received
            )));
        }
        if self.received + data.len() as u64 > self.size {
            return Err(TransferError::Protocol("more data than the file's announced size".into()));
        }
        self.file.write_all(data).await?;
        self.hasher.update(data);
        self.received += data.len() as u64;
        Ok(self.received)
    }

    /// Bytes received so far.
    pub fn received(&self) -> u64 {
        self.received
    }

    /// Whether every announced byte arrived.
    pub fn complete(&self) -> bool {
        self.received == self.size
    }

    /// Checks the SHA-256 and gives the file its final name (a new one if taken: nothing is
    /// overwritten). On a mismatch the partial copy is deleted.
    pub async fn finish(mut self) -> Result<(PathBuf, String), TransferError> {
        self.file.flush().await?;
        self.file.sync_all().await?;
        drop(self.file);
        let actual = tether_protocol::hex(self.hasher.finish().as_ref());
        if actual != self.sha256 {
            let _ = tokio::fs::remove_file(&self.partial).await;
            return Err(TransferError::Mismatch { expected: self.sha256, actual });
        }
        let target = unique_path(&self.dir, &self.name);
        tokio::fs::rename(&self.partial, &target).await?;
        Ok((target, actual))
    }
}

/// `dir/name`, or `dir/stem (1).ext`, `(2)`... whichever does not exist yet.
pub fn unique_path(dir: &Path, name: &str) -> PathBuf {
    let first = dir.join(name);
    if !first.exists() {
        return first;
    }
    let (stem, ext) = match name.rsplit_once('.') {
        Some((s, e)) if !s.is_empty() => (s.to_string(), format!(".{e}")),
        _ => (name.to_string(), String::new()),
    };
    (1..).map(|n| dir.join(format!("{stem} ({n}){ext}"))).find(|p| !p.exists()).unwrap_or(first)
}

#[cfg(test)]
mod tests {
    use tether_protocol::FILE_CHUNK;
    use tether_protocol::decode_data;

    use super::*;

    async fn send_all(out: &mut Outgoing, inc: &mut Incoming, stop_after: Option<usize>) -> usize {
        let mut frames = 0;
        loop {
            let Some(frame) = out.next_frame().await.unwrap() else { break };
            let (id, offset, data) = decode_data(&frame[HEADER_LEN..]).unwrap();
            assert_eq!(id, out.id);
            let got = inc.write(offset, data).await.unwrap();
            out.acked(got);
            frames += 1;
            if Some(frames) == stop_after {
                break;
            }
        }
        frames
    }

    #[tokio::test]
    async fn a_file_arrives_verified_and_an_interrupted_one_resumes() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("big.bin");
        let data: Vec<u8> = (0..(3 * FILE_CHUNK + 123)).map(|i| (i * 7 % 251) as u8).collect();
        std::fs::write(&src, &data).unwrap();
        let inbox = dir.path().join("inbox");

        // First attempt: two chunks, then the connection "drops".
        let mut out = Outgoing::open(1, &src).await.unwrap();
        let (mut inc, offset) =
            Incoming::begin(1, "big.bin", out.size, &out.sha256, &inbox).await.unwrap();
        assert_eq!(offset, 0);
        out.start(offset).await.unwrap();
        send_all(&mut out, &mut inc, Some(2)).await;
        let kept = inc.received();
        assert!(kept > 0 && kept < out.size);
        drop(inc);

        // Second attempt resumes where the first stopped (the receiver rejects data at any
        // other offset).
        let mut out = Outgoing::open(2, &src).await.unwrap();
        let (mut inc, offset) =
            Incoming::begin(2, "big.bin", out.size, &out.sha256, &inbox).await.unwrap();
        assert_eq!(offset, kept);
        out.start(offset).await.unwrap();
        send_all(&mut out, &mut inc, None).await;
        assert!(inc.complete() && out.all_sent());
        let (path, sha) = inc.finish().await.unwrap();
        assert_eq!(path, inbox.join("big.bin"));
        assert_eq!(sha, out.sha256);
        assert_eq!(std::fs::read(&path).unwrap(), data);
        assert_eq!(std::fs::read_dir(&inbox).unwrap().count(), 1, "no partial left behind");
    }

    #[tokio::test]
    async fn the_window_bounds_what_is_in_flight() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("f");
        std::fs::write(&src, vec![1u8; 4 << 20]).unwrap();
        let mut out = Outgoing::open(1, &src).await.unwrap();
        out.start(0).await.unwrap();
        let mut frames = 0;
        while out.next_frame().await.unwrap().is_some() {
            frames += 1;
        }
        let window = out.window.size();
        assert_eq!(frames as u64 * out.window.chunk() as u64, window, "a window's worth");
        out.acked(FILE_CHUNK as u64);
        assert!(out.next_frame().await.unwrap().is_some());
    }

    #[tokio::test]
    async fn bad_data_and_wrong_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let sha = "a".repeat(64);
        let (mut inc, _) = Incoming::begin(1, "x", 4, &sha, dir.path()).await.unwrap();
        assert!(inc.write(1, b"ab").await.is_err(), "out of order");
        assert!(inc.write(0, b"abcdef").await.is_err(), "beyond the size");
        inc.write(0, b"abcd").await.unwrap();
        assert!(matches!(inc.finish().await, Err(TransferError::Mismatch { .. })));
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "a wrong file is not kept");
        assert!(Incoming::begin(1, "x", 4, "nothex", dir.path()).await.is_err());
    }

    #[test]
    fn names_never_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.txt"), "1").unwrap();
        std::fs::write(dir.path().join("a (1).txt"), "2").unwrap();
        assert_eq!(unique_path(dir.path(), "a.txt"), dir.path().join("a (2).txt"));
        assert_eq!(unique_path(dir.path(), "b"), dir.path().join("b"));
    }
}
