//! [`Recorder`]: where new transcripts are written and with which key they are sealed, and
//! whether sessions may run when their transcript cannot be written.

use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::oneshot;

use crate::{Entry, SigningKey, Transcript};

/// How sessions are recorded.
#[derive(Debug)]
pub struct Recorder {
    dir: PathBuf,
    key: Arc<SigningKey>,
    enabled: bool,
    required: bool,
}

/// A transcript just opened.
#[derive(Debug)]
pub struct Opened {
    /// The writer's handle.
    pub transcript: Transcript,
    /// Resolves with a reason if writing ever fails; `None` when recording is disabled.
    pub failed: Option<oneshot::Receiver<String>>,
    /// The file's name in the transcript directory; `None` when recording is disabled.
    pub file: Option<String>,
}

impl Recorder {
    /// Transcripts written into `dir` and sealed with `key`; `enabled` false records nothing;
    /// `required` ends a session whose transcript fails.
    pub fn new(dir: PathBuf, key: SigningKey, enabled: bool, required: bool) -> Recorder {
        Recorder { dir, key: Arc::new(key), enabled, required }
    }

    /// Whether a session whose transcript fails must end.
    pub fn required(&self) -> bool {
        self.required
    }

    /// Starts the transcript of `session` with `first` as its first records.
    pub fn open(&self, session: &str, first: Vec<Entry>) -> Opened {
        if !self.enabled {
            return Opened { transcript: Transcript::disabled(), failed: None, file: None };
        }
        let file = format!("{session}.jsonl");
        let (transcript, failed) =
            Transcript::open(self.dir.join(&file), session.to_string(), self.key.clone(), first);
        Opened { transcript, failed: Some(failed), file: Some(file) }
    }
}
