//! The transcript writer: one task per session that chains, buffers and fsyncs records off the
//! relay path. Records are written and fsynced at least every second and at the end, when the
//! transcript is sealed with the broker's key; between writes the writer holds no buffer, so an
//! idle session costs no more than its task. Senders wait (a bounded number of records in flight) rather
//! than let a slow disk grow memory. A file is open only while it is written, and at most
//! [`FILES_AT_ONCE`] across the broker, so a session costs no descriptor for its transcript; a
//! broker briefly out of descriptors keeps the records and tries again. If anything cannot be
//! written, the writer reports the failure once and stops accepting records, so that the
//! session can end instead of running unrecorded.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::sync::{Semaphore, mpsc, oneshot};

use crate::record::{Actor, Entry, GENESIS, SEAL_EVENT, hash_line, seal_message};
use crate::signing::SigningKey;

/// Records queued for the writer at most before `record` waits.
const IN_FLIGHT: usize = 4096;
/// How often buffered records are flushed and fsynced.
const SYNC_EVERY: Duration = Duration::from_secs(1);
/// Transcript files open at once across the broker, at most.
pub const FILES_AT_ONCE: usize = 32;
/// How long a writer keeps its records and retries while the process is out of descriptors
/// before the recording counts as failed.
const SHORT_OF_FILES_FOR: Duration = Duration::from_secs(10);

static OPEN_FILES: Semaphore = Semaphore::const_new(FILES_AT_ONCE);

/// Whether opening failed for want of a descriptor (the process's or the system's): a state
/// that passes, unlike a full or failing disk.
fn out_of_descriptors(err: &std::io::Error) -> bool {
    // EMFILE and ENFILE.
    matches!(err.raw_os_error(), Some(24) | Some(23))
}

/// Why writing out failed.
enum WriteFailure {
    /// The file could not be opened; nothing was written, and here are the records back.
    Open(std::io::Error, Vec<u8>),
    /// Writing or syncing failed.
    Write(std::io::Error),
}

/// What a sealed transcript ended as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seal {
    /// Records written, the seal included.
    pub records: u64,
    /// Hex SHA-256 of the seal record.
    pub hash: String,
}

enum Cmd {
    Entry(Entry),
    Finish(Vec<Entry>, oneshot::Sender<Result<Seal, String>>),
}

/// A session's transcript, or none when recording is disabled.
#[derive(Debug)]
pub struct Transcript {
    inner: Option<Inner>,
}

#[derive(Debug)]
struct Inner {
    tx: mpsc::UnboundedSender<Cmd>,
    permits: Arc<Semaphore>,
}

impl std::fmt::Debug for Cmd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Cmd::Entry(_) => "Entry",
            Cmd::Finish(..) => "Finish",
        })
    }
}

impl Transcript {
    /// No transcript: records are dropped (recording disabled by configuration).
    pub fn disabled() -> Transcript {
        Transcript { inner: None }
    }

    /// Starts writing a new transcript at `path` (which must not exist) for `session`, its
    /// first records `first`. The receiver resolves with a reason if writing ever fails.
    pub fn open(
        path: PathBuf,
        session: String,
        key: Arc<SigningKey>,
        first: Vec<Entry>,
    ) -> (Transcript, oneshot::Receiver<String>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let permits = Arc::new(Semaphore::new(IN_FLIGHT));
        let (failed_tx, failed_rx) = oneshot::channel();
        let task = run(path, session, key, first, rx, permits.clone());
        tokio::spawn(async move {
            if let Err(reason) = task.await {
                let _ = failed_tx.send(reason);
            }
        });
        (Transcript { inner: Some(Inner { tx, permits }) }, failed_rx)
    }

    /// Appends an event, waiting if the writer is far behind. After a failure this returns at
    /// once (the session is being ended).
    pub async fn record(&self, entry: Entry) {
        let Some(inner) = &self.inner else { return };
        match inner.permits.acquire().await {
            Ok(permit) => permit.forget(),
            Err(_) => return,
        }
        let _ = inner.tx.send(Cmd::Entry(entry));
    }

    /// Writes the final `entries`, seals and fsyncs. `None` when recording is disabled.
    pub fn finish(&self, entries: Vec<Entry>) -> Option<oneshot::Receiver<Result<Seal, String>>> {
        let inner = self.inner.as_ref()?;
        let (done, rx) = oneshot::channel();
        let _ = inner.tx.send(Cmd::Finish(entries, done));
        Some(rx)
    }
}

/// The chain as written so far.
struct Chain {
    /// The file, opened for each write from the blocking pool and closed after it: an idle
    /// session holds no descriptor for its transcript.
    path: Arc<PathBuf>,
    /// Records not yet written.
    pending: Vec<u8>,
    /// Records written but not yet fsynced.
    unsynced: bool,
    /// Since when opening the file has failed for want of descriptors.
    short_of_files: Option<Instant>,
    seq: u64,
    prev: String,
}

/// Pending bytes beyond which records are written out before the next fsync.
const WRITE_AT: usize = 64 * 1024;

impl Chain {
    async fn append(&mut self, entry: Entry) -> std::io::Result<()> {
        let record = entry.into_record(self.seq, std::mem::take(&mut self.prev));
        // Records are plain data with string keys: serialisation cannot fail.
        let line = serde_json::to_string(&record).map_err(std::io::Error::other)?;
        self.pending.extend_from_slice(line.as_bytes());
        self.pending.push(b'\n');
        self.prev = hash_line(line.as_bytes());
        self.seq += 1;
        if self.pending.len() >= WRITE_AT {
            self.write_out(false).await?;
        }
        Ok(())
    }

    /// Writes what is pending and fsyncs it.
    async fn sync(&mut self) -> std::io::Result<()> {
        self.write_out(true).await
    }

    /// Writes what is pending (and fsyncs, if `durable`); the buffer is released. Out of
    /// descriptors, the records are kept for the next try.
    async fn write_out(&mut self, durable: bool) -> std::io::Result<()> {
        if self.pending.is_empty() && !(durable && self.unsynced) {
            return Ok(());
        }
        let (path, pending) = (self.path.clone(), std::mem::take(&mut self.pending));
        let _open = OPEN_FILES.acquire().await.map_err(std::io::Error::other)?;
        let written = tokio::task::spawn_blocking(move || {
            // Not created again: a transcript removed mid-session is a recording failure.
            let mut file = match std::fs::OpenOptions::new().append(true).open(&*path) {
                Ok(file) => file,
                Err(err) => return Err(WriteFailure::Open(err, pending)),
            };
            file.write_all(&pending).map_err(WriteFailure::Write)?;
            if durable { file.sync_data().map_err(WriteFailure::Write) } else { Ok(()) }
        })
        .await
        .map_err(std::io::Error::other)?;
        match written {
            Ok(()) => {
                self.unsynced = !durable;
                self.short_of_files = None;
                Ok(())
            }
            Err(WriteFailure::Open(err, mut pending)) if out_of_descriptors(&err) => {
                let since = *self.short_of_files.get_or_insert_with(Instant::now);
                if since.elapsed() > SHORT_OF_FILES_FOR {
                    return Err(err);
                }
                tracing::warn!(%err, "transcript kept in memory until a descriptor is free");
                // Before whatever was recorded meanwhile, so the chain stays in order.
                pending.extend_from_slice(&self.pending);
                self.pending = pending;
                Ok(())
            }
            Err(WriteFailure::Open(err, _) | WriteFailure::Write(err)) => Err(err),
        }
    }
}

/// Creates the transcript file, which must not exist yet.
async fn create(path: Arc<PathBuf>) -> std::io::Result<()> {
    let _open = OPEN_FILES.acquire().await.map_err(std::io::Error::other)?;
    tokio::task::spawn_blocking(move || {
        // Transcripts hold the conversation and the shell: readable by the broker's user only.
        std::os::unix::fs::OpenOptionsExt::mode(
            std::fs::OpenOptions::new().write(true).create_new(true),
            0o600,
        )
        .open(&*path)
        .map(drop)
    })
    .await
    .map_err(std::io::Error::other)?
}

async fn run(
    path: PathBuf,
    session: String,
    key: Arc<SigningKey>,
    first: Vec<Entry>,
    mut rx: mpsc::UnboundedReceiver<Cmd>,
    permits: Arc<Semaphore>,
) -> Result<(), String> {
    let fail = |what: &str, e: std::io::Error| format!("{what} {}: {e}", path.display());
    let opened = Arc::new(path.clone());
    let created = create(opened.clone()).await.map_err(|e| fail("cannot create", e));
    let mut chain = match created {
        Ok(()) => Chain {
            path: opened,
            pending: Vec::new(),
            unsynced: false,
            short_of_files: None,
            seq: 0,
            prev: GENESIS.into(),
        },
        Err(reason) => {
            permits.close();
            return Err(reason);
        }
    };
    let result = async {
        for entry in first {
            chain.append(entry).await.map_err(|e| fail("cannot write", e))?;
        }
        chain.sync().await.map_err(|e| fail("cannot write", e))?;
        let mut tick = tokio::time::interval(SYNC_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                cmd = rx.recv() => match cmd {
                    Some(Cmd::Entry(entry)) => {
                        permits.add_permits(1);
                        chain.append(entry).await.map_err(|e| fail("cannot write", e))?;
                    }
                    Some(Cmd::Finish(entries, done)) => {
                        let sealed = seal(&mut chain, &session, &key, entries).await;
                        let sealed = sealed.map_err(|e| fail("cannot seal", e));
                        let _ = done.send(sealed.clone());
                        return sealed.map(|_| ());
                    }
                    // Every handle dropped without finishing: keep what was written.
                    None => return chain.sync().await.map_err(|e| fail("cannot write", e)),
                },
                _ = tick.tick() => chain.sync().await.map_err(|e| fail("cannot write", e))?,
            }
        }
    }
    .await;
    if result.is_err() {
        permits.close();
    }
    result
}

async fn seal(
    chain: &mut Chain,
    session: &str,
    key: &SigningKey,
    entries: Vec<Entry>,
) -> std::io::Result<Seal> {
    for entry in entries {
        chain.append(entry).await?;
    }
    let signature = key.sign(&seal_message(session, chain.seq, &chain.prev));
    let records = chain.seq;
    let data = json!({
        "session": session,
        "records": records,
        "key": key.verifying_key().fingerprint(),
        "signature": signature,
    });
    chain.append(Entry::now(Actor::broker(), SEAL_EVENT, data)).await?;
    chain.sync().await?;
    Ok(Seal { records: chain.seq, hash: chain.prev.clone() })
}
