//! Check 2: every line delivered exactly once to every member present throughout (in
//! its room from before the line was typed until after the room carried it out), and
//! in the room's order: each sender's lines in increasing order at every receiver, and
//! any two receivers agreeing on the order of the lines both saw. A refused line must
//! reach nobody.

use std::collections::HashMap;
use std::time::Duration;

use super::ledger::{Answer, Ledger, LineRecord, ANSWER_WITHIN};
use super::roster::{LineId, SessionLog, Snapshot};

/// How long after the room carried a line out a receiver must still be connected to be
/// counted as present throughout: a node killed a moment after the echo elsewhere may
/// rightly never have shown it.
pub const PRESENT_FOR: Duration = ANSWER_WITHIN;

/// Whether the session was in the room throughout `line`'s life.
pub fn present(log: &SessionLog, line: &LineRecord) -> bool {
    let Some(carried) = line.room_time() else {
        return false;
    };
    log.welcomed.is_some_and(|w| w <= line.sent)
        && log.closed.is_none_or(|c| c >= carried + PRESENT_FOR)
}

/// A line a receiver present throughout never got.
#[derive(Clone, Copy, Debug)]
pub struct Missing {
    pub line: LineId,
    pub user: usize,
    pub session: usize,
}

/// Two lines a receiver saw in the wrong order: `later` arrived before `earlier`, where
/// the sender's numbering (`other` = None) or another receiver (`other`) had them the
/// other way round.
#[derive(Clone, Copy, Debug)]
pub struct Disorder {
    pub user: usize,
    pub other: Option<usize>,
    pub earlier: LineId,
    pub later: LineId,
}

/// What check 2 found.
#[derive(Clone, Debug, Default)]
pub struct Deliveries {
    /// (line, receiver present throughout) pairs.
    pub expected: usize,
    /// Arrivals of numbered lines, all counted.
    pub arrivals: usize,
    pub missing: Vec<Missing>,
    /// A line and a receiver that got it more than once, with how many copies.
    pub duplicates: Vec<(LineId, usize, usize)>,
    /// A refused line and a receiver that got it.
    pub refused_delivered: Vec<(LineId, usize)>,
    /// A sender's lines out of their numbering.
    pub out_of_order: Vec<Disorder>,
    /// Two receivers disagreeing on the order of two lines.
    pub disagreements: Vec<Disorder>,
}

impl Deliveries {
    /// How many distinct lines some present member missed.
    pub fn missing_lines(&self) -> usize {
        let mut lines: Vec<LineId> = self.missing.iter().map(|m| m.line).collect();
        lines.sort_unstable();
        lines.dedup();
        lines.len()
    }
}

/// Runs check 2 over every line of the ledger.
pub fn check(snap: &Snapshot, ledger: &Ledger) -> Deliveries {
    let mut found = Deliveries::default();
    for line in ledger.lines.values() {
        found.arrivals += line.receipts.len();
        let room_users = (0..snap.users.len()).filter(|&u| snap.users[u].room == line.room);
        for user in room_users {
            for (session, log) in snap.sessions[user].iter().enumerate() {
                if !present(log, line) {
                    continue;
                }
                found.expected += 1;
                let got = line
                    .receipts
                    .iter()
                    .any(|r| (r.user, r.session) == (user, session));
                if !got {
                    found.missing.push(Missing {
                        line: line.id,
                        user,
                        session,
                    });
                }
            }
        }
        let mut copies: HashMap<usize, usize> = HashMap::new();
        for r in &line.receipts {
            *copies.entry(r.user).or_insert(0) += 1;
        }
        let mut doubled: Vec<_> = copies.into_iter().filter(|&(_, n)| n > 1).collect();
        doubled.sort_unstable();
        found
            .duplicates
            .extend(doubled.into_iter().map(|(user, n)| (line.id, user, n)));
        if matches!(line.answer, Answer::Refused(_)) {
            if let Some(r) = line.receipts.first() {
                found.refused_delivered.push((line.id, r.user));
            }
        }
    }
    let sequences: Vec<Vec<LineId>> = snap.sessions.iter().map(|s| sequence(s)).collect();
    for (user, seq) in sequences.iter().enumerate() {
        found.out_of_order.extend(numbering(user, seq));
    }
    for room in 0..snap.rooms.len() {
        let members: Vec<usize> = (0..snap.users.len())
            .filter(|&u| snap.users[u].room == room)
            .collect();
        for (i, &a) in members.iter().enumerate() {
            for &b in &members[i + 1..] {
                found
                    .disagreements
                    .extend(disagreements(a, &sequences[a], b, &sequences[b]));
            }
        }
    }
    found
}

/// The lines a user saw over all its sessions, in order, each once (its first arrival).
fn sequence(sessions: &[SessionLog]) -> Vec<LineId> {
    let mut seen = std::collections::HashSet::new();
    sessions
        .iter()
        .flat_map(|s| s.received.iter().map(|(id, _)| *id))
        .filter(|id| seen.insert(*id))
        .collect()
}

/// Where a user saw a sender's line after a higher-numbered one of the same sender.
fn numbering(user: usize, seq: &[LineId]) -> Vec<Disorder> {
    let mut highest: HashMap<usize, u64> = HashMap::new();
    let mut found = Vec::new();
    for &(sender, n) in seq {
        match highest.get(&sender) {
            Some(&top) if top > n => found.push(Disorder {
                user,
                other: None,
                earlier: (sender, n),
                later: (sender, top),
            }),
            _ => {
                highest.insert(sender, n);
            }
        }
    }
    found
}

/// Where `a` saw, of the lines both saw, one after a line that `b` saw after it.
fn disagreements(a: usize, seq_a: &[LineId], b: usize, seq_b: &[LineId]) -> Vec<Disorder> {
    let at_b: HashMap<LineId, usize> = seq_b.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    let mut found = Vec::new();
    // The line of `a`'s so far that comes latest in `b`'s order.
    let mut latest: Option<(usize, LineId)> = None;
    for id in seq_a {
        let Some(&pos) = at_b.get(id) else { continue };
        match latest {
            Some((top, top_id)) if top > pos => found.push(Disorder {
                user: a,
                other: Some(b),
                earlier: *id,
                later: top_id,
            }),
            _ => latest = Some((pos, *id)),
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_senders_numbering_and_two_receivers_orders_are_compared() {
        let seq = [(1, 0), (2, 0), (1, 2), (1, 1), (2, 1)];
        let found = numbering(0, &seq);
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].earlier, found[0].later), ((1, 1), (1, 2)));
        let other = [(2, 0), (1, 0), (1, 1), (1, 2)];
        let found = disagreements(0, &seq, 3, &other);
        // (1,0) then (2,0) against (2,0) then (1,0); (1,2) then (1,1) against the reverse.
        assert_eq!(found.len(), 2);
        assert_eq!((found[0].earlier, found[0].later), ((2, 0), (1, 0)));
        assert_eq!((found[1].earlier, found[1].later), ((1, 1), (1, 2)));
        assert!(disagreements(0, &seq, 3, &seq).is_empty());
    }
}
