//! What every soak user did and saw, shared by the users' tasks, their sessions'
//! handlers and the checks: one record per SSH session, each event with its instant.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use russh::{client, ChannelWriteHalf};
use tokio::sync::watch;

/// A numbered line: its sender's index and its number (`chaos u07 15` is `(7, 15)`).
pub type LineId = (usize, u64);

/// What a user typed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Typed {
    /// The numbered chat line `chaos <name> <n>`.
    Line(u64),
    /// `/user`.
    Users,
}

/// Something typed, and when.
#[derive(Clone, Debug)]
pub struct Sent {
    pub what: Typed,
    pub at: Instant,
}

/// One SSH session of a user, from the connection to its end.
#[derive(Clone, Debug)]
pub struct SessionLog {
    /// The node it was opened on (an index into the nodes).
    pub node: usize,
    pub opened: Instant,
    /// When the room's welcome arrived: from then on the user is in the room.
    pub welcomed: Option<Instant>,
    /// When the server closed it or the connection broke.
    pub closed: Option<Instant>,
    /// The last `[Server]:` line before the welcome: why it was refused.
    pub refusal: Option<String>,
    pub sent: Vec<Sent>,
    /// Numbered lines as they arrived after the welcome (history on join excluded).
    pub received: Vec<(LineId, Instant)>,
    /// `[Server]:` lines after the welcome, except `/user` answers.
    pub notices: Vec<(Instant, String)>,
    /// `[Server]: Users (...)` lines after the welcome's own.
    pub users: Vec<(Instant, String)>,
}

impl SessionLog {
    /// Whether the user was in the room through this session at `at`.
    pub fn is_in_at(&self, at: Instant) -> bool {
        self.welcomed.is_some_and(|w| w <= at) && self.closed.is_none_or(|c| c > at)
    }
}

/// Who a user is: its nickname, its room and the node it connects to first.
#[derive(Clone, Debug)]
pub struct UserSpec {
    pub name: String,
    /// An index into the rooms.
    pub room: usize,
    /// An index into the nodes.
    pub home: usize,
}

/// Everything the checks read, frozen.
#[derive(Clone, Debug)]
pub struct Snapshot {
    pub users: Vec<UserSpec>,
    pub rooms: Vec<String>,
    /// Each user's sessions, oldest first.
    pub sessions: Vec<Vec<SessionLog>>,
}

/// A user's writer, while its session is open.
type Writer = Arc<ChannelWriteHalf<client::Msg>>;

struct UserState {
    sessions: Vec<SessionLog>,
    /// The open session (index into `sessions`) and its writer.
    current: Option<(usize, Writer)>,
}

/// Every user's record, shared.
pub struct Roster {
    pub users: Vec<UserSpec>,
    pub rooms: Vec<String>,
    by_name: HashMap<String, usize>,
    states: Vec<Mutex<UserState>>,
    /// Bumped whenever someone enters a room, a session ends or a user's open session
    /// changes.
    changes: watch::Sender<u64>,
}

impl Roster {
    pub fn new(users: Vec<UserSpec>, rooms: Vec<String>) -> Roster {
        let by_name = users
            .iter()
            .enumerate()
            .map(|(i, u)| (u.name.clone(), i))
            .collect();
        let states = users
            .iter()
            .map(|_| {
                Mutex::new(UserState {
                    sessions: Vec::new(),
                    current: None,
                })
            })
            .collect();
        Roster {
            users,
            rooms,
            by_name,
            states,
            changes: watch::Sender::new(0),
        }
    }

    /// The index of the user named `name`.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    fn state(&self, user: usize) -> MutexGuard<'_, UserState> {
        self.states[user].lock().expect("no panics while locked")
    }

    /// Starts the record of a new session on `node`; returns its index.
    pub fn open_session(&self, user: usize, node: usize) -> usize {
        let mut state = self.state(user);
        state.sessions.push(SessionLog {
            node,
            opened: Instant::now(),
            welcomed: None,
            closed: None,
            refusal: None,
            sent: Vec::new(),
            received: Vec::new(),
            notices: Vec::new(),
            users: Vec::new(),
        });
        state.sessions.len() - 1
    }

    /// Changes session `s` of `user`.
    pub fn update<R>(&self, user: usize, s: usize, f: impl FnOnce(&mut SessionLog) -> R) -> R {
        f(&mut self.state(user).sessions[s])
    }

    /// The session's welcome arrived at `at`.
    pub fn welcomed(&self, user: usize, s: usize, at: Instant) {
        self.update(user, s, |log| log.welcomed = Some(at));
        self.changes.send_modify(|n| *n += 1);
    }

    /// The session ended at `at` (the first end counts).
    pub fn closed(&self, user: usize, s: usize, at: Instant) {
        let first = self.update(user, s, |log| log.closed.get_or_insert(at) == &at);
        if first {
            self.changes.send_modify(|n| *n += 1);
        }
    }

    /// Session `s` is the user's open one, typed into through `writer` (or none).
    pub fn set_current(&self, user: usize, current: Option<(usize, Writer)>) {
        self.state(user).current = current;
        // Whoever waits for everyone to be in looks again.
        self.changes.send_modify(|n| *n += 1);
    }

    /// The user's session while it is in the room: its index, node and writer.
    pub fn current(&self, user: usize) -> Option<(usize, usize, Writer)> {
        let state = self.state(user);
        let (s, writer) = state.current.as_ref()?;
        let log = &state.sessions[*s];
        (log.welcomed.is_some() && log.closed.is_none()).then(|| (*s, log.node, writer.clone()))
    }

    /// Whether session `s` of `user` has ended.
    pub fn is_closed(&self, user: usize, s: usize) -> bool {
        self.state(user).sessions[s].closed.is_some()
    }

    /// Records `what` as typed now into session `s` and types it (with Enter).
    pub async fn type_into(&self, user: usize, s: usize, writer: &Writer, what: Typed) {
        let text = match what {
            Typed::Line(n) => line_text(&self.users[user].name, n),
            Typed::Users => "/user".to_string(),
        };
        let at = Instant::now();
        self.update(user, s, |log| log.sent.push(Sent { what, at }));
        // A session that has just ended: its end is recorded by its handler.
        let _ = writer.data_bytes(format!("{text}\r").into_bytes()).await;
    }

    /// A receiver of the changes counter: woken when someone enters or leaves.
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }

    /// How many entries and ends there have been so far.
    pub fn generation(&self) -> u64 {
        *self.changes.borrow()
    }

    /// The names of the users in room `room` now, by their open sessions.
    pub fn members(&self, room: usize) -> Vec<String> {
        (0..self.users.len())
            .filter(|&u| self.users[u].room == room && self.current(u).is_some())
            .map(|u| self.users[u].name.clone())
            .collect()
    }

    /// The `/user` answers session `s` of `user` got at or after `since`.
    pub fn users_answers(&self, user: usize, s: usize, since: Instant) -> Vec<String> {
        self.update(user, s, |log| {
            log.users
                .iter()
                .filter(|(at, _)| *at >= since)
                .map(|(_, line)| line.clone())
                .collect()
        })
    }

    /// A frozen copy of every record.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            users: self.users.clone(),
            rooms: self.rooms.clone(),
            sessions: (0..self.users.len())
                .map(|u| self.state(u).sessions.clone())
                .collect(),
        }
    }
}

/// The text of line `n` of the user named `name`.
pub fn line_text(name: &str, n: u64) -> String {
    format!("chaos {name} {n}")
}

/// The numbered line a visible line of chat carries (`u07 >> chaos u07 15`), if any:
/// the sender's name (as shown and as written in the text) and the number.
pub fn parse_line(line: &str) -> Option<(&str, u64)> {
    let (shown, text) = line.split_once(" >> ")?;
    let (name, n) = text.strip_prefix("chaos ")?.split_once(' ')?;
    (name == shown).then_some(())?;
    Some((name, n.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbered_lines_are_recognised() {
        assert_eq!(parse_line("u07 >> chaos u07 15"), Some(("u07", 15)));
        assert_eq!(parse_line(&line_text("u01", 3)), None, "no sender shown");
        assert_eq!(
            parse_line("u03 >> chaos u07 15"),
            None,
            "someone else's text"
        );
        assert_eq!(parse_line("u07 >> chaos u07 x"), None);
        assert_eq!(parse_line("[Server]: u07 has joined the chat."), None);
    }
}
