//! One room participant of the fanout benchmark: the [`Output`] of its session, which
//! notices its welcome and the sync line and timestamps every benchmark line.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::{oneshot, Semaphore};

use crate::client::{LineBuf, Output};
use crate::stats::nanos;

/// State shared by the senders, the receivers and the driver of one run.
pub struct Shared {
    /// `#<run>:`, the prefix of every line this run sends (older runs' lines in the
    /// room's history carry another).
    pub tag: String,
    /// The clock origin of `sent` and of every receive time.
    pub base: Instant,
    /// When message `g` was written: nanoseconds since `base`, plus one (0 = not yet).
    pub sent: Vec<AtomicU64>,
    /// How many senders there are (message `g` is sent by user `g % senders`).
    pub senders: usize,
    /// Deliveries of benchmark lines so far, over all receivers.
    pub delivered: AtomicU64,
    /// Receivers that have seen the sync line.
    pub synced: AtomicUsize,
    /// Receivers whose session was closed by the server.
    pub closed: AtomicUsize,
    /// Closed-loop mode: permits per sender, returned when it sees its own line.
    pub window: Vec<Semaphore>,
    /// Nickname prefix of the stalled participants.
    pub stalled_prefix: String,
    /// Stalled participants the room announced as gone (seen by user 0).
    pub stalled_left: AtomicUsize,
    /// `/ignore`s the server has confirmed (`--ignorers`).
    pub ignoring: AtomicUsize,
    /// What follows message `g`'s number (`--mention-share`: a user's nickname, or
    /// nothing), by `g`; empty when no line names anyone.
    pub suffixes: Vec<String>,
}

impl Shared {
    /// A run sending `messages` lines from `senders` users; `window` permits each in
    /// closed-loop mode (0 = paced, no permits).
    pub fn new(run: &str, messages: usize, senders: usize, window: usize) -> Shared {
        Shared {
            tag: format!("#{run}:"),
            base: Instant::now(),
            sent: (0..messages).map(|_| AtomicU64::new(0)).collect(),
            senders,
            delivered: AtomicU64::new(0),
            synced: AtomicUsize::new(0),
            closed: AtomicUsize::new(0),
            window: (0..if window > 0 { senders } else { 0 })
                .map(|_| Semaphore::new(window))
                .collect(),
            stalled_prefix: format!("z{run}_"),
            stalled_left: AtomicUsize::new(0),
            ignoring: AtomicUsize::new(0),
            suffixes: Vec::new(),
        }
    }

    /// Records that message `g` is being written now.
    pub fn mark_sent(&self, g: usize) {
        let at = nanos(self.base.elapsed()) + 1;
        self.sent[g].store(at, Ordering::Release);
    }
}

/// What one receiver saw.
#[derive(Default)]
pub struct Received {
    /// Latency of each delivery, in nanoseconds.
    pub latencies: Vec<u64>,
    /// Distinct benchmark lines received.
    pub count: usize,
    /// Benchmark lines received more than once.
    pub duplicates: usize,
    /// Lines with this run's tag that could not be matched to a sent message.
    pub unmatched: usize,
    /// The server closed the session.
    pub closed: bool,
    /// When the last benchmark line arrived.
    pub last: Option<Instant>,
}

/// A receiver: what user `index` sees, fed by its session as packets arrive.
pub struct Receiver {
    pub index: usize,
    pub shared: Arc<Shared>,
    pub welcomed: Option<oneshot::Sender<()>>,
    lines: LineBuf,
    seen: Vec<u64>,
    synced: bool,
    out: Received,
}

impl Output for Receiver {
    fn data(&mut self, data: &[u8]) {
        let now = Instant::now();
        let mut lines = std::mem::take(&mut self.lines);
        lines.push(data, |line| self.line(line, now));
        self.lines = lines;
    }

    fn closed(&mut self) {
        if !self.out.closed {
            self.out.closed = true;
            self.shared.closed.fetch_add(1, Ordering::AcqRel);
        }
    }
}

impl Receiver {
    pub fn new(index: usize, shared: Arc<Shared>, welcomed: oneshot::Sender<()>) -> Receiver {
        let words = shared.sent.len().div_ceil(64);
        Receiver {
            index,
            shared,
            welcomed: Some(welcomed),
            lines: LineBuf::default(),
            seen: vec![0; words],
            synced: false,
            out: Received::default(),
        }
    }

    /// What was received so far; the session goes on counting into a fresh record.
    pub fn take(&mut self) -> Received {
        std::mem::take(&mut self.out)
    }

    fn line(&mut self, line: &str, now: Instant) {
        let Some(at) = line.find(&self.shared.tag) else {
            self.other_line(line);
            return;
        };
        if !line[..at].ends_with(" >> ") {
            return;
        }
        let rest = &line[at + self.shared.tag.len()..];
        if rest.starts_with("sync") {
            if !self.synced {
                self.synced = true;
                self.shared.synced.fetch_add(1, Ordering::AcqRel);
            }
            return;
        }
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        match rest[..digits].parse::<usize>() {
            Ok(g) if g < self.shared.sent.len() => self.delivery(g, now),
            _ => self.out.unmatched += 1,
        }
    }

    /// A line that is not one of this run's: the welcome, or (user 0 counts them) the
    /// room announcing that stalled participants left, one by one or gathered.
    fn other_line(&mut self, line: &str) {
        if line.contains("[Server]: You no longer see messages from ") {
            self.shared.ignoring.fetch_add(1, Ordering::AcqRel);
        } else if self.welcomed.is_some() && line.contains("Welcome to ") {
            let _ = self.welcomed.take().map(|w| w.send(()));
        } else if self.index == 0 && line.contains(" left the chat.") {
            let prefix = &self.shared.stalled_prefix;
            let named = line.matches(prefix.as_str()).count();
            // "a, b, c and 12 others have left the chat.": in this benchmark only
            // stalled participants leave, so the others are stalled ones too.
            let others = line
                .rsplit_once(" and ")
                .and_then(|(_, tail)| tail.split_once(" others "))
                .and_then(|(n, _)| n.parse::<usize>().ok())
                .filter(|_| named > 0)
                .unwrap_or(0);
            self.shared
                .stalled_left
                .fetch_add(named + others, Ordering::AcqRel);
        }
    }

    fn delivery(&mut self, g: usize, now: Instant) {
        let shared = &self.shared;
        let (word, bit) = (g / 64, 1u64 << (g % 64));
        if self.seen[word] & bit != 0 {
            self.out.duplicates += 1;
            return;
        }
        let sent = shared.sent[g].load(Ordering::Acquire);
        if sent == 0 {
            self.out.unmatched += 1;
            return;
        }
        self.seen[word] |= bit;
        let received = nanos(now.saturating_duration_since(shared.base)) + 1;
        self.out.latencies.push(received.saturating_sub(sent));
        self.out.count += 1;
        self.out.last = Some(now);
        shared.delivered.fetch_add(1, Ordering::AcqRel);
        if !shared.window.is_empty() && g % shared.senders == self.index {
            shared.window[self.index].add_permits(1);
        }
    }
}
