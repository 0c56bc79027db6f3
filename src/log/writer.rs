//! The log writer thread: buffered files, RFC 3339 timestamps, escaping, safe paths.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::Arc;

use chrono::{DateTime, SecondsFormat, Utc};
use chrono_tz::Tz;

use std::sync::atomic::Ordering;

use super::{LogConfig, LogRecord, Shared, GATHER};
use crate::chat::text::escape_for_log;

pub(super) struct LogWriter {
    tz: Tz,
    server_path: Option<PathBuf>,
    server: Option<BufWriter<File>>,
    transcripts_dir: Option<PathBuf>,
    transcripts: HashMap<Arc<str>, BufWriter<File>>,
    warned: bool,
}

/// The transcript file name for a nickname: `<nickname>_chat_log.txt`, with anything
/// that could leave the folder (separators, NUL, a leading dot) replaced by `_`.
pub fn transcript_file_name(nickname: &str) -> String {
    let safe: String = nickname
        .chars()
        .take(64)
        .enumerate()
        .map(|(i, c)| match c {
            '/' | '\\' | '\0' => '_',
            '.' if i == 0 => '_',
            c if c.is_control() => '_',
            c => c,
        })
        .collect();
    format!("{safe}_chat_log.txt")
}

fn open_append(path: &Path) -> std::io::Result<File> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o640)
        // Never follow a symlink planted where a log should be.
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
}

impl LogWriter {
    pub(super) fn open(config: LogConfig) -> std::io::Result<LogWriter> {
        let server = match &config.server_log {
            Some(path) => {
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir)?;
                }
                Some(BufWriter::new(open_append(path)?))
            }
            None => None,
        };
        if let Some(dir) = &config.transcripts_dir {
            std::fs::create_dir_all(dir)?;
        }
        Ok(LogWriter {
            tz: config.tz,
            server_path: config.server_log,
            server,
            transcripts_dir: config.transcripts_dir,
            transcripts: HashMap::new(),
            warned: false,
        })
    }

    /// Writes records until every sink is gone: one that comes while idle at once, the
    /// ones that follow it gathered for [`GATHER`] (or until a sink wakes the writer)
    /// and written together, until a gathering brings nothing.
    pub(super) fn run(&mut self, rx: mpsc::Receiver<LogRecord>, shared: &Shared) {
        while let Ok(first) = rx.recv() {
            self.handle(first);
            let mut taken = 1 + self.take_queued(&rx);
            while taken > 0 {
                shared.queued.fetch_sub(taken, Ordering::Relaxed);
                self.write_out(shared);
                std::thread::park_timeout(GATHER);
                taken = self.take_queued(&rx);
            }
        }
        self.flush_all();
    }

    /// Handles every record queued now; returns how many.
    fn take_queued(&mut self, rx: &mpsc::Receiver<LogRecord>) -> usize {
        let mut taken = 0;
        while let Ok(record) = rx.try_recv() {
            self.handle(record);
            taken += 1;
        }
        taken
    }

    /// Puts what was handled on disk, after saying what was lost and reopening the files
    /// if asked.
    fn write_out(&mut self, shared: &Shared) {
        self.report_lost(shared);
        if shared.reopen.swap(false, Ordering::SeqCst) {
            if let Err(e) = self.reopen() {
                self.warn(&e);
            }
        }
        self.flush_all();
    }

    /// Records were lost to a full queue: say how many, once caught up. Their transcript
    /// closes may be among them, so every transcript is closed (reopened on its next line).
    fn report_lost(&mut self, shared: &Shared) {
        let lost = shared.lost.swap(0, Ordering::Relaxed);
        if lost == 0 {
            return;
        }
        tracing::warn!(lost, "the log disk was too slow; log records were lost");
        self.flush_all();
        self.transcripts.clear();
        let text = format!("LOST {lost} log records (the log disk was too slow)");
        self.handle(LogRecord::Event {
            at: Utc::now(),
            text,
        });
    }

    fn stamp(&self, at: DateTime<Utc>) -> String {
        at.with_timezone(&self.tz)
            .to_rfc3339_opts(SecondsFormat::Millis, true)
    }

    fn handle(&mut self, record: LogRecord) {
        let result = match record {
            LogRecord::Event { at, text } => {
                let stamp = self.stamp(at);
                match &mut self.server {
                    Some(w) => writeln!(w, "{stamp} {}", escape_for_log(&text)),
                    None => Ok(()),
                }
            }
            LogRecord::Transcript { at, owner, line } => {
                let stamp = self.stamp(at);
                match self.transcript(&owner) {
                    Ok(w) => writeln!(w, "{stamp} {}", escape_for_log(&line.text)),
                    Err(e) => Err(e),
                }
            }
            LogRecord::CloseTranscript(owner) => match self.transcripts.remove(&owner) {
                Some(mut w) => w.flush(),
                None => Ok(()),
            },
            // A wake-up only: the flag is looked at once the queue runs dry.
            LogRecord::Reopen => Ok(()),
            LogRecord::Flush(done) => {
                self.flush_all();
                let _ = done.send(());
                Ok(())
            }
        };
        if let Err(e) = result {
            self.warn(&e);
        }
    }

    fn transcript(&mut self, owner: &Arc<str>) -> std::io::Result<&mut BufWriter<File>> {
        if !self.transcripts.contains_key(owner) {
            let dir = self
                .transcripts_dir
                .as_ref()
                .ok_or(std::io::ErrorKind::NotFound)?;
            let file = open_append(&dir.join(transcript_file_name(owner)))?;
            self.transcripts.insert(owner.clone(), BufWriter::new(file));
        }
        Ok(self.transcripts.get_mut(owner).expect("inserted above"))
    }

    /// Flushes and closes every file; the server log is reopened at once, transcripts on
    /// their next line.
    fn reopen(&mut self) -> std::io::Result<()> {
        self.flush_all();
        self.transcripts.clear();
        self.server = None;
        self.warned = false;
        if let Some(path) = &self.server_path {
            self.server = Some(BufWriter::new(open_append(path)?));
        }
        Ok(())
    }

    fn flush_all(&mut self) {
        let mut failure = None;
        if let Some(w) = &mut self.server {
            failure = w.flush().err();
        }
        for w in self.transcripts.values_mut() {
            if let Err(e) = w.flush() {
                failure = Some(e);
            }
        }
        if let Some(e) = failure {
            self.warn(&e);
        }
    }

    /// The operator hears about a failing log once; the chat goes on regardless.
    fn warn(&mut self, error: &std::io::Error) {
        if !self.warned {
            self.warned = true;
            tracing::warn!(%error, "writing the chat logs failed; the chat goes on without them");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transcript_names_stay_in_their_folder() {
        assert_eq!(transcript_file_name("alice"), "alice_chat_log.txt");
        assert_eq!(transcript_file_name("개똥이"), "개똥이_chat_log.txt");
        for hostile in ["../../etc/passwd", "/abs", "a\0b", "..", "."] {
            let name = transcript_file_name(hostile);
            let path = Path::new(&name);
            assert_eq!(path.components().count(), 1, "{hostile:?}");
            assert!(!name.starts_with('.'), "{hostile:?}");
            assert!(!name.contains('/') && !name.contains('\0'));
        }
        assert!(transcript_file_name(&"x".repeat(10_000)).len() < 100);
    }
}
