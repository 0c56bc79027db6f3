//! What a room tells about itself: the newcomer's welcome, the user list, the names for
//! Tab completion.

use super::state::{RoomState, USERS_LISTED};
use super::{Delivery, ParticipantId};
use crate::chat::line::{ChatLine, SharedLine};

impl RoomState {
    /// The newcomer's welcome: history, the message of the day, who is here. It goes out
    /// as one delivery, so however long it is it takes one place in the outbox.
    pub(super) fn welcome(&mut self, id: ParticipantId) {
        let Some(me) = self.find(id) else { return };
        let mut lines: Vec<SharedLine> = self.history.iter().cloned().collect();
        lines.extend(
            self.config
                .motd
                .iter()
                .map(|l| ChatLine::server(l).shared()),
        );
        lines.push(
            ChatLine::server(format!(
                "Welcome to {}, {}! Type /help for the list of commands.",
                self.config.name, me.who.nick
            ))
            .shared(),
        );
        if let Some(notice) = &self.rules.notice {
            lines.push(ChatLine::notice(notice).shared());
        }
        lines.push(self.users_line().shared());
        if me.admin {
            lines.push(ChatLine::server("You are the admin of this room.").shared());
        }
        self.deliver(id, Delivery::Lines(lines.into_boxed_slice()));
    }

    /// Every participant's nickname, in join order.
    pub fn names(&self) -> Vec<String> {
        self.members
            .iter()
            .map(|p| p.who.nick.to_string())
            .collect()
    }

    /// `[Server]: Users (3/10): Alice, Bob, Charlie`; in a very big room the first
    /// [`USERS_LISTED`] names and how many more.
    pub fn users_line(&self) -> ChatLine {
        self.users_line_marking(|_| false)
    }

    /// The members the user list shows: id and nickname.
    pub(super) fn listed(&self) -> Vec<(ParticipantId, String)> {
        let listed = self.members.iter().take(USERS_LISTED);
        listed.map(|p| (p.who.id, p.who.nick.to_string())).collect()
    }

    /// The user list with `(away)` after those `away` says are (SPEC §12).
    pub fn users_line_marking(&self, away: impl Fn(ParticipantId) -> bool) -> ChatLine {
        let names: Vec<std::borrow::Cow<'_, str>> = self
            .members
            .iter()
            .take(USERS_LISTED)
            .map(|p| match away(p.who.id) {
                true => format!("{} (away)", p.who.nick).into(),
                false => p.who.nick.as_str().into(),
            })
            .collect();
        let count = self.members.len();
        let more = match count.saturating_sub(USERS_LISTED) {
            0 => String::new(),
            n => format!(" and {n} more"),
        };
        ChatLine::server(format!(
            "Users ({count}/{}): {}{more}",
            self.config.capacity,
            names.join(", ")
        ))
    }
}
