//! A room's events numbered, so that no node misses one silently: core NATS drops what
//! is published while a subscriber's client reconnects (NATS-NOTES.md). The node running
//! a room numbers its batches within its run of the room (the *term*: the lease
//! revision it started at, larger for every later run) and keeps the latest
//! ([`Sent`]); each member's node checks the numbers it receives ([`Order`]) and asks
//! the room's node again for what it missed.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::wire::Batch;

/// How long the room's node keeps a batch for a node that missed it.
pub const KEPT_FOR: Duration = Duration::from_secs(30);
/// At most this many bytes of batches are kept per room (about 300 chat lines): a
/// busy room keeps its last seconds, enough for a blip of NATS.
pub const KEPT_BYTES: usize = 64 * 1024;

/// The batches a room's node has sent in this run, the latest kept.
#[derive(Debug)]
pub struct Sent {
    term: u64,
    last: u64,
    kept: VecDeque<(Instant, usize, Arc<Batch>)>,
    bytes: usize,
}

/// What the room's node answers a node that asks for the batches after one it has.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Resent {
    pub term: u64,
    /// The number of the last batch sent.
    pub last: u64,
    /// The batches asked for that are still kept, in order.
    pub batches: Vec<Arc<Batch>>,
    /// Whether `batches` holds every batch asked for.
    pub complete: bool,
}

impl Sent {
    /// A room's run that started at lease revision `term`.
    pub fn new(term: u64) -> Sent {
        Sent {
            term,
            last: 0,
            kept: VecDeque::new(),
            bytes: 0,
        }
    }

    pub fn term(&self) -> u64 {
        self.term
    }

    /// The number of the next batch.
    pub fn next(&self) -> u64 {
        self.last + 1
    }

    /// Keeps `batch` (numbered [`Sent::next`], `size` bytes encoded), dropping what is
    /// older than [`KEPT_FOR`] or over [`KEPT_BYTES`].
    pub fn push(&mut self, batch: Arc<Batch>, size: usize, now: Instant) {
        self.last = batch.seq;
        self.kept.push_back((now, size, batch));
        self.bytes += size;
        self.prune(now);
    }

    /// Drops what is too old or too much.
    pub fn prune(&mut self, now: Instant) {
        while let Some((at, size, _)) = self.kept.front() {
            let old = now.saturating_duration_since(*at) > KEPT_FOR;
            if !old && self.bytes <= KEPT_BYTES {
                break;
            }
            self.bytes -= size;
            self.kept.pop_front();
        }
    }

    /// The batches after number `after` of run `term` (of an earlier run: all of this
    /// run's), as far as they are kept.
    pub fn since(&self, term: u64, after: u64) -> Resent {
        let after = if term == self.term { after } else { 0 };
        let batches: Vec<Arc<Batch>> = self
            .kept
            .iter()
            .filter(|(_, _, b)| b.seq > after)
            .map(|(_, _, b)| b.clone())
            .collect();
        let first = batches.first().map_or(self.last + 1, |b| b.seq);
        Resent {
            term: self.term,
            last: self.last,
            complete: after >= self.last || first == after + 1,
            batches,
        }
    }
}

/// Where a node is in a room's numbered events.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Order {
    /// The run and number of the last batch carried out; `None` before the first.
    at: Option<(u64, u64)>,
}

/// What to do with batch number `seq` of run `term`.
#[derive(Debug, PartialEq, Eq)]
pub enum Check {
    /// Next in order: carry it out.
    Next,
    /// Carried out already, or from a run that has ended: skip it.
    Old,
    /// Batches of run `term` after `after` and before this one were missed.
    Missed { term: u64, after: u64 },
}

impl Order {
    /// Starting at batch `last` of run `term` (nothing before it is wanted).
    pub fn at(term: u64, last: u64) -> Order {
        Order {
            at: Some((term, last)),
        }
    }

    pub fn position(&self) -> Option<(u64, u64)> {
        self.at
    }

    /// Where batch `seq` of run `term` stands.
    pub fn check(&self, term: u64, seq: u64) -> Check {
        let Some((at_term, last)) = self.at else {
            return Check::Next;
        };
        // A new run numbers from 1.
        let last = match term.cmp(&at_term) {
            std::cmp::Ordering::Less => return Check::Old,
            std::cmp::Ordering::Equal => last,
            std::cmp::Ordering::Greater => 0,
        };
        if seq <= last {
            Check::Old
        } else if seq == last + 1 {
            Check::Next
        } else {
            Check::Missed { term, after: last }
        }
    }

    /// Whether every batch up to `last` of run `term` has been carried out (what a
    /// room's node says it has sent: missed ones are asked for).
    pub fn check_upto(&self, term: u64, last: u64) -> Check {
        match self.check(term, last + 1) {
            Check::Next => Check::Old,
            other => other,
        }
    }

    /// Batch `seq` of run `term` has been carried out (or given up on).
    pub fn carried(&mut self, term: u64, seq: u64) {
        self.at = Some((term, seq));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(seq: u64) -> Arc<Batch> {
        Arc::new(Batch {
            from: "n1".into(),
            term: 7,
            seq,
            events: Vec::new(),
        })
    }

    #[test]
    fn batches_in_order_are_next_and_repeats_are_old() {
        let mut order = Order::default();
        assert_eq!(
            order.check(7, 5),
            Check::Next,
            "the first seen sets the place"
        );
        order.carried(7, 5);
        assert_eq!(order.check(7, 6), Check::Next);
        assert_eq!(order.check(7, 5), Check::Old);
        assert_eq!(order.check(7, 2), Check::Old);
    }

    #[test]
    fn a_jump_is_a_gap_after_the_last_carried() {
        let order = Order::at(7, 5);
        assert_eq!(order.check(7, 9), Check::Missed { term: 7, after: 5 });
    }

    #[test]
    fn a_later_run_counts_from_one_and_an_earlier_run_is_over() {
        let order = Order::at(7, 40);
        assert_eq!(order.check(9, 1), Check::Next);
        assert_eq!(order.check(9, 3), Check::Missed { term: 9, after: 0 });
        assert_eq!(order.check(6, 41), Check::Old);
    }

    #[test]
    fn what_the_room_says_it_sent_shows_a_quiet_gap() {
        let order = Order::at(7, 5);
        assert_eq!(order.check_upto(7, 5), Check::Old, "nothing missed");
        assert_eq!(order.check_upto(7, 4), Check::Old);
        assert_eq!(order.check_upto(7, 6), Check::Missed { term: 7, after: 5 });
        assert_eq!(
            order.check_upto(8, 0),
            Check::Old,
            "a new run, nothing sent"
        );
        assert_eq!(order.check_upto(8, 2), Check::Missed { term: 8, after: 0 });
        assert_eq!(Order::default().check_upto(7, 3), Check::Old);
    }

    #[test]
    fn the_kept_batches_after_one_are_resent_and_say_whether_all_are_there() {
        let now = Instant::now();
        let mut sent = Sent::new(7);
        for seq in 1..=5 {
            sent.push(batch(seq), 100, now);
        }
        let resent = sent.since(7, 2);
        let seqs: Vec<u64> = resent.batches.iter().map(|b| b.seq).collect();
        assert_eq!(seqs, [3, 4, 5]);
        assert!(resent.complete);
        assert_eq!(resent.last, 5);
        let nothing = sent.since(7, 5);
        assert!(nothing.batches.is_empty() && nothing.complete);
        let earlier_run = sent.since(3, 99);
        assert_eq!(earlier_run.batches.len(), 5, "all of this run");
        assert!(earlier_run.complete);
    }

    #[test]
    fn what_is_old_or_too_much_is_dropped_and_then_reported_incomplete() {
        let start = Instant::now();
        let mut sent = Sent::new(7);
        sent.push(batch(1), 100, start);
        sent.push(batch(2), 100, start + KEPT_FOR / 2);
        sent.push(batch(3), 100, start + KEPT_FOR + Duration::from_secs(1));
        let resent = sent.since(7, 0);
        let seqs: Vec<u64> = resent.batches.iter().map(|b| b.seq).collect();
        assert_eq!(seqs, [2, 3], "the first is older than it is kept for");
        assert!(!resent.complete);
        assert!(sent.since(7, 1).complete);
        let mut big = Sent::new(7);
        for seq in 1..=3 {
            big.push(batch(seq), KEPT_BYTES / 2, start);
        }
        assert_eq!(big.since(7, 0).batches.len(), 2, "at most KEPT_BYTES");
    }
}
