//! The product logs of SPEC §5: `server.txt` (one line per event) and each participant's
//! transcript in `users/<nickname>_chat_log.txt`. A dedicated thread does the file I/O,
//! so the room never waits on a disk; it flushes whenever its queue runs dry.

mod writer;

use std::path::PathBuf;
use std::sync::mpsc;
use std::sync::Arc;

use chrono_tz::Tz;

use crate::chat::line::SharedLine;

pub use writer::transcript_file_name;

/// Where the logs go; `None` switches a log off.
#[derive(Debug, Clone)]
pub struct LogConfig {
    pub server_log: Option<PathBuf>,
    pub transcripts_dir: Option<PathBuf>,
    pub tz: Tz,
}

enum LogRecord {
    Event(String),
    Transcript { owner: Arc<str>, line: SharedLine },
    CloseTranscript(Arc<str>),
    Reopen,
    Flush(mpsc::SyncSender<()>),
}

/// A cheap, cloneable handle that queues log records without blocking.
#[derive(Clone)]
pub struct LogSink {
    tx: Option<mpsc::Sender<LogRecord>>,
    transcripts: bool,
}

impl LogSink {
    /// Starts the writer thread.
    ///
    /// # Errors
    /// The log directories cannot be created or the thread cannot start.
    pub fn start(config: LogConfig) -> std::io::Result<LogSink> {
        let transcripts = config.transcripts_dir.is_some();
        if config.server_log.is_none() && !transcripts {
            return Ok(LogSink::disabled());
        }
        let (tx, rx) = mpsc::channel();
        let mut writer = writer::LogWriter::open(config)?;
        std::thread::Builder::new()
            .name("log-writer".into())
            .spawn(move || writer.run(rx))?;
        Ok(LogSink {
            tx: Some(tx),
            transcripts,
        })
    }

    /// A sink that drops everything.
    pub fn disabled() -> LogSink {
        LogSink {
            tx: None,
            transcripts: false,
        }
    }

    fn send(&self, record: LogRecord) {
        if let Some(tx) = &self.tx {
            let _ = tx.send(record);
        }
    }

    /// Logs one server event; `text` must already have its user parts escaped.
    pub fn event(&self, kind: &str, text: impl AsRef<str>) {
        if self.tx.is_some() {
            self.send(LogRecord::Event(format!("{kind} {}", text.as_ref())));
        }
    }

    /// Appends a line to `owner`'s transcript (`owner` is the nickname at join).
    pub fn transcript(&self, owner: &Arc<str>, line: &SharedLine) {
        if self.transcripts {
            self.send(LogRecord::Transcript {
                owner: owner.clone(),
                line: line.clone(),
            });
        }
    }

    /// Closes `owner`'s transcript file (the participant left).
    pub fn close_transcript(&self, owner: &Arc<str>) {
        if self.transcripts {
            self.send(LogRecord::CloseTranscript(owner.clone()));
        }
    }

    /// Closes and reopens every log file (after `logrotate` moved them).
    pub fn reopen(&self) {
        self.send(LogRecord::Reopen);
    }

    /// Waits until everything queued so far is on disk.
    pub fn flush(&self) {
        let (tx, rx) = mpsc::sync_channel(1);
        self.send(LogRecord::Flush(tx));
        if self.tx.is_some() {
            let _ = rx.recv_timeout(std::time::Duration::from_secs(3));
        }
    }
}
