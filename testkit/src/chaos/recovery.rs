//! Check 4: after each fault, each room's next line is delivered within 5 s: the time
//! from the fault to the first line typed after it that reached every member present
//! throughout, counted at the last of those arrivals.

use std::time::{Duration, Instant};

use super::deliveries::present;
use super::ledger::Ledger;
use super::roster::{LineId, Snapshot};

/// The SPEC's bound (§10: a dead node's rooms carry on within 5 s).
pub const RECOVER_WITHIN: Duration = Duration::from_secs(5);

/// How one room came back after one fault.
#[derive(Clone, Copy, Debug)]
pub struct RoomRecovery {
    pub room: usize,
    /// From the fault until the line below reached its last present member; `None`
    /// when no line typed before the next fault reached them all.
    pub after: Option<Duration>,
    /// The first line typed after the fault that reached every present member.
    pub line: Option<LineId>,
    /// Lines typed in the room after the fault before that one (refused, cut, or
    /// missing somewhere).
    pub before_it: usize,
}

impl RoomRecovery {
    /// Whether the room came back within [`RECOVER_WITHIN`].
    pub fn in_time(&self) -> bool {
        self.after.is_some_and(|d| d <= RECOVER_WITHIN)
    }
}

/// Each room's recovery from a fault counted from `from`, looking at the lines typed
/// before `until` (the next fault, or the end).
pub fn recoveries(
    snap: &Snapshot,
    ledger: &Ledger,
    from: Instant,
    until: Instant,
) -> Vec<RoomRecovery> {
    (0..snap.rooms.len())
        .map(|room| {
            let mut lines: Vec<_> = ledger
                .lines
                .values()
                .filter(|l| l.room == room && l.sent >= from && l.sent < until)
                .collect();
            lines.sort_by_key(|l| l.sent);
            let mut recovery = RoomRecovery {
                room,
                after: None,
                line: None,
                before_it: 0,
            };
            for line in lines {
                let mut last = None;
                let mut everyone = line.room_time().is_some();
                for user in (0..snap.users.len()).filter(|&u| snap.users[u].room == room) {
                    for (session, log) in snap.sessions[user].iter().enumerate() {
                        if !everyone || !present(log, line) {
                            continue;
                        }
                        let got = line
                            .receipts
                            .iter()
                            .find(|r| (r.user, r.session) == (user, session));
                        match got {
                            Some(r) => last = last.max(Some(r.at)),
                            None => everyone = false,
                        }
                    }
                }
                match last {
                    Some(at) if everyone => {
                        recovery.after = Some(at.saturating_duration_since(from));
                        recovery.line = Some(line.id);
                        break;
                    }
                    _ => recovery.before_it += 1,
                }
            }
            recovery
        })
        .collect()
}
