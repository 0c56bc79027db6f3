//! Waiting, at most [`WAIT`], for what a person or an operator would see: the text of a
//! client's session (a russh client's or a real `ssh`'s [`Transcript`]), or a line in a
//! server's log file ([`wait_for_log_line`]).

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;

use crate::strip_colours;

/// How long any expected text may take to arrive.
pub const WAIT: Duration = Duration::from_secs(10);

/// Everything a session received so far, shared with the task that reads it: the raw
/// bytes and, kept up to date as bytes arrive, the text with colour codes removed.
#[derive(Clone, Default)]
pub struct Transcript {
    received: Arc<Mutex<Received>>,
    /// Woken whenever the reading task has handled something, and when it ends.
    changed: Arc<Notify>,
    /// Told once when the session is closed.
    closed: Arc<Notify>,
}

#[derive(Default)]
struct Received {
    raw: String,
    plain: String,
    /// The start of an escape sequence cut off at the end of the last packet.
    carry: String,
}

impl Transcript {
    /// Adds `bytes` as they arrived (a packet may end inside an escape sequence).
    ///
    /// # Panics
    /// The lock was poisoned by a panic in another task.
    pub fn push(&self, bytes: &[u8]) {
        let mut r = self.received.lock().unwrap();
        let chunk = String::from_utf8_lossy(bytes);
        r.raw.push_str(&chunk);
        let mut pending = std::mem::take(&mut r.carry);
        pending.push_str(&chunk);
        // Hold back a trailing, possibly incomplete `ESC [ digits ;` sequence.
        let cut = match pending.rfind('\x1b') {
            Some(at)
                if pending[at + 1..]
                    .chars()
                    .all(|c| c == '[' || c.is_ascii_digit() || c == ';') =>
            {
                at
            }
            _ => pending.len(),
        };
        r.carry = pending[cut..].to_string();
        let stripped = strip_colours(&pending[..cut]);
        r.plain.push_str(&stripped);
    }

    /// Wakes whoever waits for text: the reading task has handled something (or ended).
    pub fn wake(&self) {
        self.changed.notify_waiters();
    }

    /// The session is closed (see [`Transcript::expect_closed`]).
    pub fn close(&self) {
        self.closed.notify_one();
    }

    /// Everything received, byte for byte.
    ///
    /// # Panics
    /// The lock was poisoned by a panic in another task.
    pub fn raw(&self) -> String {
        self.received.lock().unwrap().raw.clone()
    }

    /// Everything received with colour codes (SGR sequences) removed: SPEC's lines are
    /// byte-exact "colour codes aside".
    ///
    /// # Panics
    /// The lock was poisoned by a panic in another task.
    pub fn text(&self) -> String {
        self.received.lock().unwrap().plain.clone()
    }

    /// Whether the colour-free text contains `needle` at or after byte `from`; returns
    /// the end of the match.
    fn find_from(&self, from: usize, needle: &str) -> Option<usize> {
        let r = self.received.lock().unwrap();
        r.plain
            .get(from..)?
            .find(needle)
            .map(|pos| from + pos + needle.len())
    }

    /// Whether the colour-free text contains `needle`.
    pub fn contains(&self, needle: &str) -> bool {
        self.find_from(0, needle).is_some()
    }

    /// Waits (at most [`WAIT`]) until the text contains `needle` after byte offset
    /// `*from`; moves `*from` past the match and returns the text up to it.
    ///
    /// # Panics
    /// `needle` does not arrive in time (the message shows what did).
    pub async fn expect_from(&self, from: &mut usize, needle: &str) -> String {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let notified = self.changed.notified();
            if let Some(end) = self.find_from(*from, needle) {
                let seen = self.received.lock().unwrap().plain[*from..end].to_string();
                *from = end;
                return seen;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                let text = self.text();
                panic!(
                    "timed out waiting for {needle:?}; received after offset {from}:\n{:?}",
                    text.get(*from..).unwrap_or_default()
                );
            }
        }
    }

    /// Waits (at most [`WAIT`]) until the session is closed.
    ///
    /// # Panics
    /// It is not closed in time; the message says `what` was expected.
    pub async fn expect_closed(&self, what: &str) {
        tokio::time::timeout(WAIT, self.closed.notified())
            .await
            .expect(what);
    }
}

/// Waits (at most [`WAIT`]) for a line containing `needle` in the log file at `path`,
/// and returns it.
///
/// # Panics
/// No such line is written in time (the message shows the file).
pub async fn wait_for_log_line(path: &Path, needle: &str) -> String {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let log = std::fs::read_to_string(path).unwrap_or_default();
        if let Some(line) = log.lines().find(|l| l.contains(needle)) {
            return line.to_string();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no {needle:?} in {}:\n{log}",
            path.display()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
