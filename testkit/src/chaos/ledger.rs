//! Check 1, and the ledger the other checks read: every numbered line with its sender's
//! session, when it was typed, how its sender was answered (the room's echo, a
//! `[Server]:` refusal, nothing because the session was cut, or nothing at all), and
//! each of its arrivals anywhere.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use super::roster::{LineId, SessionLog, Snapshot, Typed};

/// How long a line may wait for its echo or refusal before it counts as lost.
pub const ANSWER_WITHIN: Duration = Duration::from_secs(5);

/// How a line's sender was answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// The room's echo, within [`ANSWER_WITHIN`].
    Echoed(Instant),
    /// A `[Server]:` refusal, within [`ANSWER_WITHIN`].
    Refused(Instant),
    /// An echo or refusal, but later than [`ANSWER_WITHIN`]: lost.
    Late(Instant),
    /// Nothing, and the session ended within [`ANSWER_WITHIN`] of the typing.
    Cut,
    /// Nothing, while the session stayed open.
    Lost,
}

/// One arrival of a line.
#[derive(Clone, Copy, Debug)]
pub struct Receipt {
    pub user: usize,
    /// The receiver's session (index among its sessions).
    pub session: usize,
    pub at: Instant,
}

/// Everything about one numbered line.
#[derive(Clone, Debug)]
pub struct LineRecord {
    pub id: LineId,
    pub room: usize,
    /// The sender's session and its node.
    pub session: usize,
    pub node: usize,
    pub sent: Instant,
    pub answer: Answer,
    /// When the sender's session showed the echo, however late.
    pub echo: Option<Instant>,
    /// The refusal's text, when refused.
    pub refusal: Option<String>,
    pub receipts: Vec<Receipt>,
}

impl LineRecord {
    /// When the room carried the line out, as far as anyone saw: its echo at the
    /// sender, else its first arrival anywhere; `None` if nobody ever saw it.
    pub fn room_time(&self) -> Option<Instant> {
        self.echo
            .or_else(|| self.receipts.iter().map(|r| r.at).min())
    }
}

/// Every line, and the refusals.
#[derive(Clone, Debug, Default)]
pub struct Ledger {
    pub lines: BTreeMap<LineId, LineRecord>,
    /// Each refusal's text and how many lines it answered.
    pub refusals: BTreeMap<String, usize>,
    /// Refusals no unanswered line typed before them could account for: user, when,
    /// text (a line refused and yet echoed would leave one).
    pub unmatched_refusals: Vec<(usize, Instant, String)>,
    /// Arrivals of lines nobody typed.
    pub strays: usize,
}

/// Whether a `[Server]:` line shown after the welcome answers something its user typed,
/// rather than telling of the room or the cluster.
pub fn is_refusal(line: &str) -> bool {
    const NOTICE_ENDS: [&str; 6] = [
        " joined the chat.",
        " left the chat.",
        " is now the admin.",
        "You are the admin of this room.",
        " been kicked from the chat.",
        " been banned.",
    ];
    const NOTICE_STARTS: [&str; 3] = [
        "[Server]: Lost contact with the other chat servers",
        "[Server]: Back in contact with the other chat servers",
        "[Server]: The server is shutting down",
    ];
    !NOTICE_ENDS.iter().any(|end| line.ends_with(end))
        && !NOTICE_STARTS.iter().any(|start| line.starts_with(start))
}

/// Builds the ledger from what every session recorded.
pub fn build(snap: &Snapshot) -> Ledger {
    let mut ledger = Ledger::default();
    for (user, sessions) in snap.sessions.iter().enumerate() {
        for (s, log) in sessions.iter().enumerate() {
            let room = snap.users[user].room;
            answer_session(&mut ledger, user, room, s, log);
        }
    }
    for (user, sessions) in snap.sessions.iter().enumerate() {
        for (session, log) in sessions.iter().enumerate() {
            for &(id, at) in &log.received {
                match ledger.lines.get_mut(&id) {
                    Some(line) => line.receipts.push(Receipt { user, session, at }),
                    None => ledger.strays += 1,
                }
            }
        }
    }
    ledger
}

/// Pairs what session `s` of `user` typed with its answers, and adds its lines.
fn answer_session(ledger: &mut Ledger, user: usize, room: usize, s: usize, log: &SessionLog) {
    let mut echo: HashMap<u64, Instant> = HashMap::new();
    for &((sender, n), at) in &log.received {
        if sender == user {
            echo.entry(n).or_insert(at);
        }
    }
    // What answered each typed item: (when, the refusal's text if it was one).
    let mut answered: Vec<Option<(Instant, Option<String>)>> = vec![None; log.sent.len()];
    for (at, _) in &log.users {
        let first = (0..log.sent.len()).find(|&i| {
            answered[i].is_none() && log.sent[i].what == Typed::Users && log.sent[i].at <= *at
        });
        if let Some(i) = first {
            answered[i] = Some((*at, None));
        }
    }
    // A refusal answers the oldest item typed before it that nothing else answers.
    for (at, text) in log.notices.iter().filter(|(_, l)| is_refusal(l)) {
        let first = (0..log.sent.len()).find(|&i| {
            let echoed = matches!(log.sent[i].what, Typed::Line(n) if echo.contains_key(&n));
            answered[i].is_none() && !echoed && log.sent[i].at <= *at
        });
        match first {
            Some(i) => answered[i] = Some((*at, Some(text.clone()))),
            None => ledger.unmatched_refusals.push((user, *at, text.clone())),
        }
    }
    for (i, sent) in log.sent.iter().enumerate() {
        let Typed::Line(n) = sent.what else { continue };
        let echoed = echo.get(&n).copied();
        let refusal = answered[i]
            .as_ref()
            .and_then(|(at, t)| Some((*at, t.clone()?)));
        let refused = refusal.as_ref().map(|(at, _)| *at);
        let within = |at: Instant| at.saturating_duration_since(sent.at) <= ANSWER_WITHIN;
        let answer = match (echoed, refused) {
            (Some(at), _) if within(at) => Answer::Echoed(at),
            (None, Some(at)) if within(at) => Answer::Refused(at),
            (Some(at), _) | (None, Some(at)) => Answer::Late(at),
            (None, None) if log.closed.is_some_and(|c| c < sent.at + ANSWER_WITHIN) => Answer::Cut,
            (None, None) => Answer::Lost,
        };
        if let (Answer::Refused(_), Some((_, text))) = (answer, &refusal) {
            *ledger.refusals.entry(text.clone()).or_insert(0) += 1;
        }
        ledger.lines.insert(
            (user, n),
            LineRecord {
                id: (user, n),
                room,
                session: s,
                node: log.node,
                sent: sent.at,
                answer,
                echo: echoed,
                refusal: refusal.map(|(_, text)| text),
                receipts: Vec::new(),
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chaos::roster::{Sent, UserSpec};

    #[test]
    fn echoes_refusals_cuts_and_losses_are_told_apart() {
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        let line = |n, ms| Sent {
            what: Typed::Line(n),
            at: at(ms),
        };
        let refusal = "[Server]: Your line was not sent: the chat servers cannot reach each other right now. Please try again in a moment.";
        let log = SessionLog {
            node: 0,
            opened: t0,
            welcomed: Some(t0),
            closed: Some(at(20_000)),
            refusal: None,
            sent: vec![
                line(0, 100),
                line(1, 1100),
                line(2, 2100),
                line(3, 3100),
                line(4, 16_000),
            ],
            // 0 echoed; 1 refused; 2 echoed after 6 s; 3 never answered; 4 cut.
            received: vec![((0, 0), at(105)), ((0, 2), at(8100))],
            notices: vec![
                (at(200), "[Server]: u01 has left the chat.".into()),
                (at(1500), refusal.into()),
            ],
            users: Vec::new(),
        };
        let snap = Snapshot {
            users: vec![UserSpec {
                name: "u00".into(),
                room: 0,
                home: 0,
            }],
            rooms: vec!["#chaos0".into()],
            sessions: vec![vec![log]],
        };
        let ledger = build(&snap);
        let answers: Vec<Answer> = ledger.lines.values().map(|l| l.answer).collect();
        assert_eq!(
            answers,
            [
                Answer::Echoed(at(105)),
                Answer::Refused(at(1500)),
                Answer::Late(at(8100)),
                Answer::Lost,
                Answer::Cut
            ]
        );
        assert_eq!(ledger.refusals[refusal], 1);
        assert!(ledger.unmatched_refusals.is_empty());
        assert_eq!(ledger.lines[&(0, 0)].receipts.len(), 1);
    }
}
