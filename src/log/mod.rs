//! The product logs of SPEC §5: `server.txt` (one line per event) and each participant's
//! transcript in `users/<nickname>_chat_log.txt`. A dedicated thread does the file I/O,
//! so the room never waits on a disk. A record that comes while the writer is idle is
//! on disk at once; records that follow it are gathered and written together at most
//! [`GATHER`] later, so a busy room does not wake the writer and write the disk once per
//! line (each record keeps the time it was queued). The queue is bounded: when the disk
//! stalls, records past the bound are counted and lost (the count is logged once the
//! writer catches up), never held in memory.

mod transcripts;
mod writer;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, TrySendError};
use std::sync::Arc;
use std::thread::Thread;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::chat::line::SharedLine;

pub use transcripts::TranscriptNames;
pub use writer::transcript_file_name;

/// Most records waiting for the writer thread (about 200 bytes each).
pub const LOG_QUEUE_RECORDS: usize = 65_536;
/// How long the writer gathers the records that follow one it has just written.
pub const GATHER: Duration = Duration::from_secs(1);
/// Records queued at which a gathering writer is woken early: far below the bound, or
/// at half of a smaller one, so records are never lost to the writer's gathering.
const WAKE_AT: usize = 1024;

/// Where the logs go; `None` switches a log off.
#[derive(Debug, Clone)]
pub struct LogConfig {
    pub server_log: Option<PathBuf>,
    pub transcripts_dir: Option<PathBuf>,
    pub tz: Tz,
    /// Most records queued for the writer; see [`LOG_QUEUE_RECORDS`].
    pub queue_records: usize,
}

enum LogRecord {
    Event {
        at: DateTime<Utc>,
        text: String,
    },
    Transcript {
        at: DateTime<Utc>,
        owner: Arc<str>,
        line: SharedLine,
    },
    CloseTranscript(Arc<str>),
    /// Wakes the writer to look at [`Shared::reopen`].
    Reopen,
    Flush(mpsc::SyncSender<()>),
}

/// What the sinks and the writer thread share besides the queue.
#[derive(Default)]
struct Shared {
    /// Records refused because the queue was full, not yet reported.
    lost: AtomicU64,
    /// The files are to be reopened (SIGHUP after logrotate).
    reopen: AtomicBool,
    /// Records queued and not yet taken by the writer.
    queued: AtomicUsize,
    /// How many queued records wake a gathering writer (see [`WAKE_AT`]).
    wake_at: usize,
}

/// A cheap, cloneable handle that queues log records without blocking.
#[derive(Clone)]
pub struct LogSink {
    tx: Option<mpsc::SyncSender<LogRecord>>,
    /// The writer thread, woken early for a flush, a reopen or a long queue.
    writer: Option<Thread>,
    shared: Arc<Shared>,
    transcripts: Option<TranscriptNames>,
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
        let (tx, rx) = mpsc::sync_channel(config.queue_records.max(1));
        let shared = Arc::new(Shared {
            wake_at: config.queue_records.div_ceil(2).clamp(1, WAKE_AT),
            ..Shared::default()
        });
        let mut writer = writer::LogWriter::open(config)?;
        let for_writer = shared.clone();
        let thread = std::thread::Builder::new()
            .name("log-writer".into())
            .spawn(move || writer.run(rx, &for_writer))?;
        Ok(LogSink {
            tx: Some(tx),
            writer: Some(thread.thread().clone()),
            shared,
            transcripts: transcripts.then(TranscriptNames::default),
        })
    }

    /// A sink that drops everything.
    pub fn disabled() -> LogSink {
        LogSink {
            tx: None,
            writer: None,
            shared: Arc::default(),
            transcripts: None,
        }
    }

    /// Queues `record`; a full queue (a stalled disk) loses it and counts the loss.
    fn send(&self, record: LogRecord) {
        if let Err(TrySendError::Full(_)) = self.queue(record) {
            self.shared.lost.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Tries to queue `record`, waking a gathering writer once the queue grows long. The
    /// count goes up before the record is queued, so the writer never takes away more
    /// than was put in.
    fn queue(&self, record: LogRecord) -> Result<(), TrySendError<LogRecord>> {
        let Some(tx) = &self.tx else { return Ok(()) };
        let queued = self.shared.queued.fetch_add(1, Ordering::Relaxed) + 1;
        let result = tx.try_send(record);
        if result.is_err() {
            self.shared.queued.fetch_sub(1, Ordering::Relaxed);
        } else if queued == self.shared.wake_at {
            self.wake_writer();
        }
        result
    }

    fn wake_writer(&self) {
        if let Some(writer) = &self.writer {
            writer.unpark();
        }
    }

    /// Logs one server event; `text` must already have its user parts escaped.
    pub fn event(&self, kind: &str, text: impl AsRef<str>) {
        if self.tx.is_some() {
            self.send(LogRecord::Event {
                at: Utc::now(),
                text: format!("{kind} {}", text.as_ref()),
            });
        }
    }

    /// Picks the transcript of a participant who joins as `nickname`: named after it,
    /// unless another live participant already writes that file (see
    /// [`TranscriptNames`]). Give the result back with [`LogSink::close_transcript`].
    pub fn open_transcript(&self, nickname: &str) -> Arc<str> {
        match &self.transcripts {
            Some(names) => names.claim(nickname),
            None => Arc::from(nickname),
        }
    }

    /// Whether transcripts are written at all.
    pub fn keeps_transcripts(&self) -> bool {
        self.transcripts.is_some()
    }

    /// Appends a line to the transcript `owner` (from [`LogSink::open_transcript`]).
    pub fn transcript(&self, owner: &Arc<str>, line: &SharedLine) {
        if self.transcripts.is_some() {
            self.send(LogRecord::Transcript {
                at: Utc::now(),
                owner: owner.clone(),
                line: line.clone(),
            });
        }
    }

    /// Closes the transcript `owner` (the participant left) and frees its name.
    pub fn close_transcript(&self, owner: &Arc<str>) {
        if let Some(names) = &self.transcripts {
            names.release(owner);
            self.send(LogRecord::CloseTranscript(owner.clone()));
        }
    }

    /// Closes and reopens every log file (after `logrotate` moved them).
    pub fn reopen(&self) {
        self.shared.reopen.store(true, Ordering::SeqCst);
        self.send(LogRecord::Reopen);
        self.wake_writer();
    }

    /// Waits (at most a few seconds) until everything queued so far is on disk.
    pub fn flush(&self) {
        if self.tx.is_none() {
            return;
        }
        let (done, rx) = mpsc::sync_channel(1);
        let deadline = Instant::now() + Duration::from_secs(3);
        let mut record = LogRecord::Flush(done);
        loop {
            match self.queue(record) {
                Ok(()) => {
                    self.wake_writer();
                    break;
                }
                Err(TrySendError::Full(back)) if Instant::now() < deadline => {
                    record = back;
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err(_) => return,
            }
        }
        let _ = rx.recv_timeout(deadline.saturating_duration_since(Instant::now()));
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;

    use super::*;

    /// Records queued from many threads while the writer takes them are all written, in
    /// each thread's order, and a flush puts them on disk at once (not a gathering later).
    #[test]
    fn records_from_many_threads_are_all_written_and_a_flush_is_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("server.txt");
        let sink = LogSink::start(LogConfig {
            server_log: Some(path.clone()),
            transcripts_dir: None,
            tz: chrono_tz::UTC,
            queue_records: LOG_QUEUE_RECORDS,
        })
        .unwrap();
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let sink = sink.clone();
                std::thread::spawn(move || {
                    for i in 0..5_000 {
                        sink.event("MESSAGE", format!("t{t} {i}"));
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        sink.flush();
        let text = std::fs::read_to_string(&path).unwrap();
        for t in 0..4 {
            let own: Vec<usize> = text
                .lines()
                .filter_map(|l| l.split_once(&format!(" MESSAGE t{t} ")))
                .map(|(_, i)| i.parse().unwrap())
                .collect();
            assert_eq!(own, (0..5_000).collect::<Vec<_>>(), "thread {t}");
        }
        // The writer has just written, so it has begun a gathering: one more record and
        // a flush (one record's work at any machine's speed) must not wait it out.
        sink.event("MESSAGE", "last");
        let asked = Instant::now();
        sink.flush();
        assert!(
            asked.elapsed() < GATHER / 2,
            "the flush waited for a gathering"
        );
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.ends_with(" MESSAGE last\n"), "{text}");
    }

    /// A FIFO that is open for reading but never read is a disk that stalls: the writer
    /// blocks once the pipe's 64 KiB are full.
    #[test]
    fn a_stalled_disk_costs_counted_records_never_memory() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("server.txt");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        assert!(made.unwrap().success());
        let mut disk = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&fifo)
            .unwrap();
        let sink = LogSink::start(LogConfig {
            server_log: Some(fifo),
            transcripts_dir: None,
            tz: chrono_tz::UTC,
            queue_records: 100,
        })
        .unwrap();
        let sent = 20_000;
        for i in 0..sent {
            sink.event("MESSAGE", format!("line {i} {}", "x".repeat(100)));
        }
        // The disk comes back: the writer catches up and says how many were lost. Every
        // record is either written or counted.
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut text = Vec::new();
        let mut buf = [0u8; 65536];
        loop {
            let (written, counted) = account(&String::from_utf8_lossy(&text));
            if written + counted == sent {
                // Only the queue, the writer's buffer and the pipe's 64 KiB (about a
                // thousand lines) got through while the disk stalled.
                assert!(written <= 2_000, "{written} written");
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{written} written, {counted} lost"
            );
            match disk.read(&mut buf) {
                Ok(n) => text.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(e) => panic!("{e}"),
            }
        }
    }

    /// (MESSAGE lines, the sum of the LOST reports) in a log's text.
    fn account(log: &str) -> (u64, u64) {
        let written = log.lines().filter(|l| l.contains(" MESSAGE line ")).count();
        let lost = log
            .lines()
            .filter_map(|l| {
                l.split(" LOST ")
                    .nth(1)?
                    .split(' ')
                    .next()?
                    .parse::<u64>()
                    .ok()
            })
            .sum();
        (written as u64, lost)
    }
}
