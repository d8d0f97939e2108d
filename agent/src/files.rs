//! File transfers on the customer's side. Files the technician sends land in the receiving
//! folder (`tether-received` in Downloads, else in the home folder) under sanitised, never
//! overwriting names, only while the customer holds `files` open and accepted the transfer (or
//! allowed all for the session); files the technician asks for are read only with the same
//! consent. Every file is checked against the SHA-256 its sender announced.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use tether_client::progress::TransferProgress;
use tether_client::transfer::{Incoming, Outgoing, control_frame};
use tether_client::{Printer, shown};
use tether_protocol::{Direction, FileMsg, decode_data, safe_file_name};

/// What the customer is asked about a transfer.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FileQuestion {
    /// Accept this file?
    Offer {
        /// Transfer id.
        id: u32,
        /// Its (sanitised) name.
        name: String,
        /// Its size.
        size: u64,
    },
    /// Send this file?
    Request {
        /// Transfer id.
        id: u32,
        /// The path asked for.
        path: String,
    },
}

/// What handling a file frame produced.
#[derive(Debug, Default)]
pub struct Step {
    /// Frames to send back.
    pub frames: Vec<Bytes>,
    /// A question for the customer.
    pub ask: Option<FileQuestion>,
    /// Things to tell the customer.
    pub notices: Vec<String>,
}

impl Step {
    fn send(msg: FileMsg) -> Step {
        Step { frames: vec![control_frame(&msg)], ..Step::default() }
    }

    fn refuse(id: u32, reason: impl Into<String>) -> Step {
        Step::send(FileMsg::Refuse { id, reason: reason.into() })
    }
}

#[derive(Debug)]
struct Offer {
    name: String,
    size: u64,
    sha256: String,
}

/// The agent's transfers.
#[derive(Debug)]
pub struct FileService {
    printer: Printer,
    dir: PathBuf,
    max_size: u64,
    allow_all: bool,
    offers: HashMap<u32, Offer>,
    requests: HashMap<u32, String>,
    incoming: HashMap<u32, (Incoming, TransferProgress)>,
    outgoing: HashMap<u32, (Outgoing, Option<TransferProgress>)>,
}

impl FileService {
    /// Files are received into `dir`, at most `max_size` bytes each; progress is shown the way
    /// `printer` prints.
    pub fn new(printer: Printer, dir: PathBuf, max_size: u64) -> FileService {
        FileService {
            printer,
            dir,
            max_size,
            allow_all: false,
            offers: HashMap::new(),
            requests: HashMap::new(),
            incoming: HashMap::new(),
            outgoing: HashMap::new(),
        }
    }

    /// The default receiving folder: `~/Downloads/tether-received`, else `~/tether-received`.
    pub fn default_dir() -> PathBuf {
        let home =
            std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("."));
        let downloads = home.join("Downloads");
        if downloads.is_dir() {
            downloads.join("tether-received")
        } else {
            home.join("tether-received")
        }
    }

    /// The receiving folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A control message from the technician. `allowed` is whether the customer holds `files`
    /// open; `preset` answers questions in advance (`None`: ask).
    pub async fn control(&mut self, msg: FileMsg, allowed: bool, preset: Option<bool>) -> Step {
        let id = msg.id();
        match msg {
            FileMsg::Offer { id, name, size, sha256, direction: Direction::ToAgent } => {
                if !allowed {
                    return Step::refuse(id, "the customer has not allowed file transfers");
                }
                let Some(name) = safe_file_name(&name) else {
                    return Step::refuse(
                        id,
                        format!(
                            "refused the unsafe file name {:?}",
                            name.chars().take(80).collect::<String>()
                        ),
                    );
                };
                if size > self.max_size {
                    return Step::refuse(
                        id,
                        format!("{size} bytes is over this computer's limit of {}", self.max_size),
                    );
                }
                self.offers.insert(id, Offer { name: name.clone(), size, sha256 });
                self.decide_or_ask(FileQuestion::Offer { id, name, size }, preset).await
            }
            FileMsg::Request { id, path } => {
                if !allowed {
                    return Step::refuse(id, "the customer has not allowed file transfers");
                }
                self.requests.insert(id, path.clone());
                self.decide_or_ask(FileQuestion::Request { id, path }, preset).await
            }
            FileMsg::Accept { id, offset } => match self.outgoing.get_mut(&id) {
                Some((out, progress)) => match out.start(offset).await {
                    Ok(()) => {
                        *progress =
                            Some(TransferProgress::new(self.printer, &out.name, out.size, offset));
                        self.pump().await
                    }
                    Err(e) => self.cancel(id, e.to_string()),
                },
                None => Step::default(),
            },
            FileMsg::Ack { id, received } => {
                let mut notices = Vec::new();
                if let Some((out, Some(progress))) = self.outgoing.get_mut(&id) {
                    out.acked(received);
                    if progress.update(received) {
                        notices.push(percent("Sending", &out.name, received, out.size));
                    }
                }
                let mut step = self.pump().await;
                step.notices.extend(notices);
                step
            }
            FileMsg::Result { id, ok, detail, .. } => {
                if let Some((_, Some(progress))) = self.outgoing.remove(&id) {
                    progress.finish();
                }
                let verdict = if ok { "arrived intact" } else { "failed" };
                Step {
                    notices: vec![format!(
                        "The file the technician asked for {verdict}: {}",
                        shown(&detail)
                    )],
                    ..Step::default()
                }
            }
            FileMsg::Refuse { .. } | FileMsg::Cancel { .. } => {
                self.forget(id);
                Step::default()
            }
            FileMsg::Offer { id, .. } => {
                Step::refuse(id, "an agent only receives offers of files sent to it")
            }
        }
    }

    async fn decide_or_ask(&mut self, q: FileQuestion, preset: Option<bool>) -> Step {
        match (self.allow_all, preset) {
            (true, _) => self.answer(&q, Answer::Yes).await,
            (false, Some(yes)) => self.answer(&q, if yes { Answer::Yes } else { Answer::No }).await,
            (false, None) => Step { ask: Some(q), ..Step::default() },
        }
    }

    /// The customer's answer to a question.
    pub async fn answer(&mut self, q: &FileQuestion, answer: Answer) -> Step {
        if answer == Answer::All {
            self.allow_all = true;
        }
        match (q, answer) {
            (FileQuestion::Offer { id, .. }, Answer::No)
            | (FileQuestion::Request { id, .. }, Answer::No) => {
                self.forget(*id);
                Step::refuse(*id, "the customer refused this file")
            }
            (FileQuestion::Offer { id, .. }, _) => {
                let Some(offer) = self.offers.remove(id) else { return Step::default() };
                match Incoming::begin(*id, &offer.name, offer.size, &offer.sha256, &self.dir).await
                {
                    Ok((incoming, offset)) => {
                        let progress =
                            TransferProgress::new(self.printer, &offer.name, offer.size, offset);
                        self.incoming.insert(*id, (incoming, progress));
                        let mut step = Step::send(FileMsg::Accept { id: *id, offset });
                        if offset > 0 {
                            step.notices.push(format!(
                                "Resuming {} at {offset} bytes.",
                                shown(&offer.name)
                            ));
                        }
                        step
                    }
                    Err(e) => Step::refuse(*id, e.to_string()),
                }
            }
            (FileQuestion::Request { id, path }, _) => {
                self.requests.remove(id);
                match Outgoing::open(*id, Path::new(path)).await {
                    Ok(out) => {
                        let offer = out.offer(Direction::ToConsole);
                        self.outgoing.insert(*id, (out, None));
                        Step::send(offer)
                    }
                    Err(e) => Step::refuse(*id, format!("cannot read {path}: {e}")),
                }
            }
        }
    }

    /// A data frame. Nothing is written unless `allowed`.
    pub async fn data(&mut self, payload: &[u8], allowed: bool) -> Step {
        let Some((id, offset, bytes)) = decode_data(payload) else { return Step::default() };
        if !allowed {
            return self.cancel(id, "the customer withdrew permission for file transfers".into());
        }
        let Some((incoming, progress)) = self.incoming.get_mut(&id) else {
            return Step::default();
        };
        match incoming.write(offset, bytes).await {
            Ok(received) if incoming.complete() => {
                let Some((done, progress)) = self.incoming.remove(&id) else {
                    return Step::default();
                };
                progress.finish();
                let name = done.name.clone();
                match done.finish().await {
                    Ok((path, sha)) => {
                        let detail = path.display().to_string();
                        let mut step = Step::send(FileMsg::Ack { id, received });
                        step.frames.push(control_frame(&FileMsg::Result {
                            id,
                            ok: true,
                            sha256: sha,
                            detail: detail.clone(),
                        }));
                        step.notices.push(format!(
                            "Received {}, saved as {}.",
                            shown(&name),
                            shown(&detail)
                        ));
                        step
                    }
                    Err(e) => Step::send(FileMsg::Result {
                        id,
                        ok: false,
                        sha256: String::new(),
                        detail: e.to_string(),
                    }),
                }
            }
            Ok(received) => {
                let mut step = Step::send(FileMsg::Ack { id, received });
                if progress.update(received) {
                    step.notices.push(percent(
                        "Receiving",
                        &incoming.name,
                        received,
                        incoming.size,
                    ));
                }
                step
            }
            Err(e) => self.cancel(id, e.to_string()),
        }
    }

    /// Sends what the windows of outgoing files allow.
    pub async fn pump(&mut self) -> Step {
        let mut step = Step::default();
        let mut failed = Vec::new();
        for (id, (out, _)) in &mut self.outgoing {
            match out.ready_frames().await {
                Ok(frames) => step.frames.extend(frames),
                Err(e) => failed.push((*id, e.to_string())),
            }
        }
        for (id, reason) in failed {
            step.frames.extend(self.cancel(id, reason).frames);
        }
        step
    }

    /// Stops every transfer (consent withdrawn or session over).
    pub fn cancel_all(&mut self, reason: &str) -> Step {
        let ids: Vec<u32> = self.incoming.keys().chain(self.outgoing.keys()).copied().collect();
        let mut step = Step::default();
        if !ids.is_empty() {
            step.notices.push(format!("File transfers stopped: {}.", shown(reason)));
        }
        for id in ids {
            step.frames.extend(self.cancel(id, reason.into()).frames);
        }
        self.offers.clear();
        self.requests.clear();
        self.allow_all = false;
        step
    }

    fn cancel(&mut self, id: u32, reason: String) -> Step {
        self.forget(id);
        Step::send(FileMsg::Cancel { id, reason })
    }

    fn forget(&mut self, id: u32) {
        self.offers.remove(&id);
        self.requests.remove(&id);
        if let Some((_, progress)) = self.incoming.remove(&id) {
            progress.finish();
        }
        if let Some((_, Some(progress))) = self.outgoing.remove(&id) {
            progress.finish();
        }
    }
}

fn percent(doing: &str, name: &str, done: u64, size: u64) -> String {
    format!("{doing} {}: {}% ({done} of {size} bytes)", shown(name), done * 100 / size.max(1))
}

/// The customer's answer to a file question.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// This one.
    Yes,
    /// Not this one.
    No,
    /// This one and every other for the rest of the session.
    All,
}

impl Answer {
    /// Reads y, n or a.
    pub fn parse(line: &str) -> Answer {
        match line.trim().to_ascii_lowercase().as_str() {
            "y" | "yes" => Answer::Yes,
            "a" | "all" => Answer::All,
            _ => Answer::No,
        }
    }
}

#[cfg(test)]
mod tests {
    use tether_protocol::{FileMsg, HEADER_LEN};

    use super::*;

    fn msgs(step: &Step) -> Vec<FileMsg> {
        step.frames.iter().filter_map(|f| FileMsg::decode(&f[HEADER_LEN..]).ok()).collect()
    }

    fn offer(name: &str, size: u64) -> FileMsg {
        FileMsg::Offer {
            id: 1,
            name: name.into(),
            size,
            sha256: "0".repeat(64),
            direction: Direction::ToAgent,
        }
    }

    #[tokio::test]
    async fn unsafe_names_big_files_and_missing_consent_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut files = FileService::new(Printer::new(true), dir.path().join("in"), 100);
        for (msg, allowed, why) in [
            (offer("../../etc/passwd", 1), true, "unsafe"),
            (offer("/etc/passwd", 1), true, "unsafe"),
            (offer("big.iso", 1000), true, "limit"),
            (offer("ok.txt", 1), false, "not allowed"),
        ] {
            let step = files.control(msg, allowed, Some(true)).await;
            match msgs(&step).as_slice() {
                [FileMsg::Refuse { reason, .. }] => assert!(reason.contains(why), "{reason}"),
                other => panic!("expected a refusal, got {other:?}"),
            }
        }
        assert!(!dir.path().join("in").exists(), "nothing was written");
    }

    #[tokio::test]
    async fn the_customer_is_asked_unless_they_allowed_all() {
        let dir = tempfile::tempdir().unwrap();
        let mut files = FileService::new(Printer::new(true), dir.path().to_path_buf(), 100);
        let step = files.control(offer("a.txt", 1), true, None).await;
        let q = step.ask.clone().expect("a question");
        let step = files.answer(&q, Answer::All).await;
        assert!(matches!(msgs(&step).as_slice(), [FileMsg::Accept { id: 1, offset: 0 }]));
        let mut second = offer("b.txt", 1);
        if let FileMsg::Offer { id, .. } = &mut second {
            *id = 2;
        }
        let step = files.control(second, true, None).await;
        assert!(step.ask.is_none(), "allowed for the whole session");
        assert!(matches!(msgs(&step).as_slice(), [FileMsg::Accept { id: 2, .. }]));
        // Withdrawing consent stops writing.
        let mut payload = tether_protocol::encode_data_header(2, 0).to_vec();
        payload.push(b'x');
        let step = files.data(&payload, false).await;
        assert!(matches!(msgs(&step).as_slice(), [FileMsg::Cancel { id: 2, .. }]));
    }
}
