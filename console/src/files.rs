//! File transfers on the technician's side: `send-file` offers a local file to the customer
//! and streams it within the window the customer's acknowledgements open; `get-file` asks for
//! a file from the customer's machine and receives it into a local folder, resuming an earlier
//! partial copy, verified against the SHA-256 the customer's side announced.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use serde::Serialize;
use tether_client::progress::TransferProgress;
use tether_client::transfer::{Incoming, Outgoing, control_frame};
use tether_client::{Printer, Sentence, shown};
use tether_protocol::{Direction, FileMsg, decode_data, safe_file_name};

/// What a transfer reports.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum FileEvent {
    /// An offer or request went out.
    FileStarted {
        /// Transfer id.
        id: u32,
        /// The file.
        name: String,
        /// Which way.
        direction: Direction,
    },
    /// The customer's side accepted, from this offset (above zero when resuming).
    FileAccepted {
        /// Transfer id.
        id: u32,
        /// Where it starts.
        offset: u64,
        /// Bytes in all.
        size: u64,
    },
    /// Progress, at each quarter.
    FileProgress {
        /// Transfer id.
        id: u32,
        /// Bytes so far.
        bytes: u64,
        /// Bytes in all.
        size: u64,
    },
    /// Done: verified (or not).
    FileDone {
        /// Transfer id.
        id: u32,
        /// The file.
        name: String,
        /// Verified and kept.
        ok: bool,
        /// The SHA-256 the receiver computed.
        sha256: String,
        /// Where it was kept, or why not.
        detail: String,
    },
    /// Refused or cancelled.
    FileFailed {
        /// Transfer id.
        id: u32,
        /// Why.
        reason: String,
    },
}

/// What handling a step produced.
#[derive(Debug, Default)]
pub struct Step {
    /// Frames to send.
    pub frames: Vec<Bytes>,
    /// Things to report.
    pub events: Vec<FileEvent>,
}

/// The console's transfers.
#[derive(Debug)]
pub struct Transfers {
    printer: Printer,
    next_id: u32,
    sending: HashMap<u32, (Outgoing, Option<TransferProgress>)>,
    requested: HashMap<u32, PathBuf>,
    receiving: HashMap<u32, (Incoming, TransferProgress)>,
}

impl Transfers {
    /// No transfers yet; progress is shown the way `printer` prints.
    pub fn new(printer: Printer) -> Transfers {
        Transfers {
            printer,
            next_id: 0,
            sending: HashMap::new(),
            requested: HashMap::new(),
            receiving: HashMap::new(),
        }
    }

    fn id(&mut self) -> u32 {
        self.next_id += 1;
        self.next_id
    }

    /// `send-file LOCAL`: offers the file.
    pub async fn send(&mut self, local: &Path) -> Step {
        let id = self.id();
        match Outgoing::open(id, local).await {
            Ok(out) => {
                let offer = out.offer(Direction::ToAgent);
                let name = out.name.clone();
                self.sending.insert(id, (out, None));
                Step {
                    frames: vec![control_frame(&offer)],
                    events: vec![FileEvent::FileStarted {
                        id,
                        name,
                        direction: Direction::ToAgent,
                    }],
                }
            }
            Err(e) => Step {
                events: vec![FileEvent::FileFailed {
                    id,
                    reason: format!("{}: {e}", local.display()),
                }],
                ..Step::default()
            },
        }
    }

    /// `get-file REMOTE [LOCAL_DIR]`: asks for the file.
    pub fn get(&mut self, remote: &str, local_dir: PathBuf) -> Step {
        let id = self.id();
        self.requested.insert(id, local_dir);
        let name = remote.rsplit(['/', '\\']).next().unwrap_or(remote).to_string();
        Step {
            frames: vec![control_frame(&FileMsg::Request { id, path: remote.into() })],
            events: vec![FileEvent::FileStarted { id, name, direction: Direction::ToConsole }],
        }
    }

    /// A control message from the customer's side.
    pub async fn control(&mut self, msg: FileMsg) -> Step {
        let mut step = Step::default();
        match msg {
            FileMsg::Accept { id, offset } => {
                if let Some((out, progress)) = self.sending.get_mut(&id) {
                    step.events.push(FileEvent::FileAccepted { id, offset, size: out.size });
                    *progress =
                        Some(TransferProgress::new(self.printer, &out.name, out.size, offset));
                    if let Err(e) = out.start(offset).await {
                        return self.fail(id, e.to_string(), true);
                    }
                }
                step.frames.extend(self.pump().await.frames);
            }
            FileMsg::Ack { id, received } => {
                if let Some((out, Some(progress))) = self.sending.get_mut(&id) {
                    out.acked(received);
                    if progress.update(received) {
                        step.events.push(FileEvent::FileProgress {
                            id,
                            bytes: received,
                            size: out.size,
                        });
                    }
                }
                step.frames.extend(self.pump().await.frames);
            }
            FileMsg::Result { id, ok, sha256, detail } => {
                if let Some((out, progress)) = self.sending.remove(&id) {
                    if let Some(progress) = progress {
                        progress.finish();
                    }
                    let ok = ok && sha256 == out.sha256;
                    step.events.push(FileEvent::FileDone {
                        id,
                        name: out.name,
                        ok,
                        sha256,
                        detail,
                    });
                }
            }
            FileMsg::Offer { id, name, size, sha256, direction: Direction::ToConsole } => {
                let Some(dir) = self.requested.remove(&id) else { return step };
                let Some(name) = safe_file_name(&name) else {
                    return self.fail(id, "unsafe file name".into(), true);
                };
                match Incoming::begin(id, &name, size, &sha256, &dir).await {
                    Ok((incoming, offset)) => {
                        let progress = TransferProgress::new(self.printer, &name, size, offset);
                        self.receiving.insert(id, (incoming, progress));
                        step.events.push(FileEvent::FileAccepted { id, offset, size });
                        step.frames.push(control_frame(&FileMsg::Accept { id, offset }));
                    }
                    Err(e) => return self.fail(id, e.to_string(), true),
                }
            }
            FileMsg::Refuse { id, reason } | FileMsg::Cancel { id, reason } => {
                return self.fail(id, reason, false);
            }
            other => tracing::debug!(?other, "ignored file message"),
        }
        step
    }

    /// A data frame of a file being received.
    pub async fn data(&mut self, payload: &[u8]) -> Step {
        let Some((id, offset, bytes)) = decode_data(payload) else { return Step::default() };
        let Some((incoming, progress)) = self.receiving.get_mut(&id) else {
            return Step::default();
        };
        let received = match incoming.write(offset, bytes).await {
            Ok(n) => n,
            Err(e) => return self.fail(id, e.to_string(), true),
        };
        let mut step = Step {
            frames: vec![control_frame(&FileMsg::Ack { id, received })],
            events: Vec::new(),
        };
        if progress.update(received) {
            step.events.push(FileEvent::FileProgress { id, bytes: received, size: incoming.size });
        }
        if incoming.complete() {
            let Some((done, progress)) = self.receiving.remove(&id) else { return step };
            progress.finish();
            let name = done.name.clone();
            let (ok, sha256, detail) = match done.finish().await {
                Ok((path, sha)) => (true, sha, path.display().to_string()),
                Err(e) => (false, String::new(), e.to_string()),
            };
            step.frames.push(control_frame(&FileMsg::Result {
                id,
                ok,
                sha256: sha256.clone(),
                detail: detail.clone(),
            }));
            step.events.push(FileEvent::FileDone { id, name, ok, sha256, detail });
        }
        step
    }

    /// Sends what the windows allow.
    pub async fn pump(&mut self) -> Step {
        let mut step = Step::default();
        let mut failed = Vec::new();
        for (id, (out, _)) in &mut self.sending {
            match out.ready_frames().await {
                Ok(frames) => step.frames.extend(frames),
                Err(e) => failed.push((*id, e.to_string())),
            }
        }
        for (id, reason) in failed {
            let f = self.fail(id, reason, true);
            step.frames.extend(f.frames);
            step.events.extend(f.events);
        }
        step
    }

    /// Whether anything is still moving.
    pub fn busy(&self) -> bool {
        !(self.sending.is_empty() && self.requested.is_empty() && self.receiving.is_empty())
    }

    /// Stops every transfer without telling the other side (which stopped them itself: the
    /// customer withdrew `files`, or the session is over).
    pub fn drop_all(&mut self, reason: &str) -> Vec<FileEvent> {
        let ids: Vec<u32> = self
            .sending
            .keys()
            .chain(self.requested.keys())
            .chain(self.receiving.keys())
            .copied()
            .collect();
        ids.into_iter().flat_map(|id| self.fail(id, reason.into(), false).events).collect()
    }

    fn fail(&mut self, id: u32, reason: String, tell: bool) -> Step {
        if let Some((_, Some(progress))) = self.sending.remove(&id) {
            progress.finish();
        }
        self.requested.remove(&id);
        if let Some((_, progress)) = self.receiving.remove(&id) {
            progress.finish();
        }
        let frames = if tell {
            vec![control_frame(&FileMsg::Cancel { id, reason: reason.clone() })]
        } else {
            Vec::new()
        };
        Step { frames, events: vec![FileEvent::FileFailed { id, reason }] }
    }
}

impl Sentence for FileEvent {
    fn sentence(&self) -> String {
        match self {
            FileEvent::FileStarted { name, direction: Direction::ToAgent, .. } => {
                format!("Offering {} to the customer...", shown(name))
            }
            FileEvent::FileStarted { name, .. } => {
                format!("Asking the customer for {}...", shown(name))
            }
            FileEvent::FileAccepted { offset: 0, size, .. } => {
                format!("Accepted; {size} bytes to go.")
            }
            FileEvent::FileAccepted { offset, size, .. } => {
                format!("Accepted; resuming at {offset} of {size} bytes.")
            }
            FileEvent::FileProgress { bytes, size, .. } => {
                format!("{}% ({bytes} of {size} bytes)", bytes * 100 / (*size).max(1))
            }
            FileEvent::FileDone { name, ok: true, detail, .. } => {
                format!("{} arrived intact ({}).", shown(name), shown(detail))
            }
            FileEvent::FileDone { name, detail, .. } => {
                format!("{} failed: {}", shown(name), shown(detail))
            }
            FileEvent::FileFailed { reason, .. } => format!("Transfer stopped: {}", shown(reason)),
        }
    }
}
