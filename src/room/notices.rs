//! Join and leave notices. In a room of ordinary size each one is a line of its own, sent
//! at once; in a crowded room they are gathered for up to a second and sent as one
//! summary line each, so a thousand people arriving do not cost a million deliveries.

use std::time::Duration;

use tokio::time::Instant;

use super::state::RoomState;
use super::ParticipantId;
use crate::chat::line::ChatLine;

/// How long a crowded room gathers notices before sending them.
pub const GATHER_FOR: Duration = Duration::from_secs(1);

/// Names a summary line spells out before it counts the rest.
const NAMES_SHOWN: usize = 3;

/// What a notice announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    Joined,
    Left,
}

impl Notice {
    fn verb(self) -> &'static str {
        match self {
            Notice::Joined => "joined",
            Notice::Left => "left",
        }
    }
}

/// The gathered notices, ready to send.
#[derive(Debug)]
pub struct Taken {
    pub newcomers: Vec<ParticipantId>,
    pub joined: Option<ChatLine>,
    pub left: Option<ChatLine>,
}

/// Notices waiting to be sent in a crowded room.
#[derive(Debug, Default)]
pub struct PendingNotices {
    /// Newcomers not announced yet: they are not told about themselves.
    joined: Vec<(ParticipantId, String)>,
    left: Vec<String>,
    /// When the oldest waiting notice is due.
    due: Option<Instant>,
}

impl PendingNotices {
    /// Holds back the notice that `name` (participant `id`) has joined.
    pub fn joined(&mut self, id: ParticipantId, name: &str, now: Instant) {
        self.joined.push((id, name.to_string()));
        self.due.get_or_insert(now + GATHER_FOR);
    }

    /// Holds back the notice that `name` has left. Someone who leaves before their
    /// arrival was announced is not announced at all.
    pub fn left(&mut self, id: ParticipantId, name: &str, now: Instant) {
        if let Some(at) = self.joined.iter().position(|(j, _)| *j == id) {
            self.joined.remove(at);
            if self.joined.is_empty() && self.left.is_empty() {
                self.due = None;
            }
            return;
        }
        self.left.push(name.to_string());
        self.due.get_or_insert(now + GATHER_FOR);
    }

    /// When the waiting notices are due, if any wait.
    pub fn due(&self) -> Option<Instant> {
        self.due
    }

    /// Takes what is waiting: the newcomers' ids with the line announcing them (for
    /// everyone else), and the line announcing who left (for everyone).
    pub fn take(&mut self) -> Taken {
        self.due = None;
        let joined = std::mem::take(&mut self.joined);
        let left = std::mem::take(&mut self.left);
        let (newcomers, names): (Vec<_>, Vec<_>) = joined.into_iter().unzip();
        Taken {
            newcomers,
            joined: (!names.is_empty()).then(|| summary(&names, Notice::Joined)),
            left: (!left.is_empty()).then(|| summary(&left, Notice::Left)),
        }
    }
}

impl RoomState {
    /// Announces that participant `id`, `name`, has joined or left the chat: at once, or
    /// gathered if the room is crowded. Called while they are not in the list: before
    /// a newcomer is added, after a leaver is removed.
    pub(super) fn announce(&mut self, notice: Notice, id: ParticipantId, name: &str) {
        let crowd = self.config.batch_notices_above;
        let count = self.members.len() + 1;
        if crowd == 0 || count <= crowd {
            // Not to the newcomer, whose connection may already be among the members'.
            let line = summary(&[name.to_string()], notice).shared();
            self.broadcast_but(&line, vec![id]);
        } else if notice == Notice::Joined {
            self.notices.joined(id, name, self.now.instant);
        } else {
            self.notices.left(id, name, self.now.instant);
        }
    }

    /// Does what has fallen due by now: scheduled messages, gathered notices.
    pub fn tick(&mut self) {
        self.fire_due();
        if self
            .notices_due()
            .is_some_and(|due| due <= self.now.instant)
        {
            self.flush_notices();
        }
    }

    /// When the gathered notices are due, if any are waiting.
    pub fn notices_due(&self) -> Option<tokio::time::Instant> {
        self.notices.due()
    }

    /// Sends the gathered notices: who joined to everyone but the newcomers, who left to
    /// everyone.
    pub fn flush_notices(&mut self) {
        if self.notices.due().is_none() {
            return;
        }
        let taken = self.notices.take();
        if let Some(line) = taken.joined.map(ChatLine::shared) {
            self.send_to_all_but(&line, taken.newcomers);
        }
        if let Some(line) = taken.left.map(ChatLine::shared) {
            self.send_to_all_but(&line, Vec::new());
        }
    }
}

/// The line announcing that `names` have joined or left the chat; for one name it is
/// the very line an ordinary room sends.
pub fn summary(names: &[String], notice: Notice) -> ChatLine {
    let what = notice.verb();
    let text = match names {
        [one] => format!("{one} has {what} the chat."),
        [init @ .., last] if names.len() <= NAMES_SHOWN => {
            format!("{} and {last} have {what} the chat.", init.join(", "))
        }
        _ => format!(
            "{} and {} others have {what} the chat.",
            names[..NAMES_SHOWN].join(", "),
            names.len() - NAMES_SHOWN
        ),
    };
    ChatLine::server(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: usize) -> Vec<String> {
        (1..=n).map(|i| format!("u{i}")).collect()
    }

    fn text(line: &ChatLine) -> &str {
        &line.text
    }

    #[test]
    fn summaries_name_up_to_three_and_count_the_rest() {
        assert_eq!(
            text(&summary(&names(1), Notice::Joined)),
            "[Server]: u1 has joined the chat."
        );
        assert_eq!(
            text(&summary(&names(2), Notice::Left)),
            "[Server]: u1 and u2 have left the chat."
        );
        assert_eq!(
            text(&summary(&names(3), Notice::Joined)),
            "[Server]: u1, u2 and u3 have joined the chat."
        );
        assert_eq!(
            text(&summary(&names(40), Notice::Joined)),
            "[Server]: u1, u2, u3 and 37 others have joined the chat."
        );
    }

    #[test]
    fn notices_are_due_a_second_after_the_first() {
        let mut pending = PendingNotices::default();
        assert_eq!(pending.due(), None);
        let start = Instant::now();
        pending.joined(1, "a", start);
        pending.left(9, "z", start + Duration::from_millis(400));
        assert_eq!(pending.due(), Some(start + GATHER_FOR));
        let taken = pending.take();
        assert_eq!(taken.newcomers, [1]);
        assert_eq!(
            taken.joined.as_ref().map(text),
            Some("[Server]: a has joined the chat.")
        );
        assert_eq!(
            taken.left.as_ref().map(text),
            Some("[Server]: z has left the chat.")
        );
        assert_eq!(pending.due(), None);
    }

    #[test]
    fn leaving_before_being_announced_announces_nothing() {
        let mut pending = PendingNotices::default();
        let now = Instant::now();
        pending.joined(1, "a", now);
        pending.joined(2, "b", now);
        pending.left(1, "a", now);
        let taken = pending.take();
        assert_eq!(taken.newcomers, [2]);
        assert_eq!(
            taken.joined.as_ref().map(text),
            Some("[Server]: b has joined the chat.")
        );
        assert!(taken.left.is_none());
        pending.joined(3, "c", now);
        pending.left(3, "c", now);
        assert_eq!(pending.due(), None);
        let taken = pending.take();
        assert!(taken.joined.is_none() && taken.left.is_none());
    }
}
