//! What a room's next owner needs to carry on when the server running it dies (SPEC
//! §10): who is in it and where they are connected, the admin, the history, the bans and
//! the pending scheduled messages. Rate limits and gathered notices start afresh.

use std::collections::VecDeque;
use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

use super::ban::Ban;
use super::event::{Now, RoomEvent};
use super::notices::Notice;
use super::rate::RateLimiter;
use super::rules::RoomRules;
use super::schedule::{ScheduleBook, ScheduledMessage};
use super::state::{Member, RoomConfig, RoomState};
use super::{Identity, ParticipantId};
use crate::chat::line::SharedLine;
use crate::chat::nickname::Nickname;

/// A member as the snapshot keeps them: one flat object, the stored shape (a nickname
/// that no longer passes the rules is left out on the way back, not the whole room).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SavedMember {
    pub id: ParticipantId,
    pub nick: String,
    pub key: Option<String>,
    pub addr: Option<SocketAddr>,
    pub admin: bool,
    pub node: String,
}

/// A room's state as its next owner rebuilds it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RoomSnapshot {
    /// As shown (`#rust`).
    pub name: String,
    pub creator_is_admin: bool,
    pub members: Vec<SavedMember>,
    /// Empty where the history is kept apart (a cluster's, from wire version 3).
    pub history: Vec<SharedLine>,
    pub bans: Vec<Ban>,
    pub schedules: Vec<ScheduledMessage>,
    /// Which participant wrote each pending message (by message id), so an author
    /// without a key can still list and cancel theirs after a takeover.
    #[serde(default)]
    pub authors: Vec<(u64, ParticipantId)>,
    /// Co-admins, mutes, the notice and the code.
    #[serde(default)]
    pub rules: RoomRules,
}

impl RoomState {
    /// The room's public lines kept for the welcome, oldest first.
    pub fn history(&self) -> &VecDeque<SharedLine> {
        &self.history
    }

    /// The room as a snapshot.
    pub fn snapshot(&self) -> RoomSnapshot {
        RoomSnapshot {
            history: self.history.iter().cloned().collect(),
            ..self.snapshot_without_history()
        }
    }

    /// The room as a snapshot, its history left out (a cluster keeps that line by line).
    pub fn snapshot_without_history(&self) -> RoomSnapshot {
        let members = self
            .members
            .iter()
            .map(|m| SavedMember {
                id: m.who.id,
                nick: m.who.nick.to_string(),
                key: m.who.key.clone(),
                addr: m.who.addr,
                admin: m.admin,
                node: m.who.node.clone(),
            })
            .collect();
        RoomSnapshot {
            name: self.config.name.clone(),
            creator_is_admin: self.config.creator_is_admin,
            members,
            history: Vec::new(),
            bans: self.bans.clone(),
            rules: self.rules.clone(),
            schedules: self.schedules.items().to_vec(),
            authors: self
                .schedules
                .items()
                .iter()
                .filter_map(|m| Some((m.id, m.author_session?)))
                .collect(),
        }
    }

    /// The room rebuilt from `saved` with `config`'s settings, at `now`.
    pub fn restore(mut config: RoomConfig, saved: RoomSnapshot, now: Now) -> RoomState {
        config.name = saved.name;
        config.creator_is_admin = saved.creator_is_admin;
        let mut schedules = ScheduleBook::default();
        for mut m in saved.schedules {
            let author = saved.authors.iter().find(|(id, _)| *id == m.id);
            m.author_session = author.map(|(_, session)| *session);
            schedules.add(m);
        }
        let mut state = RoomState::new(config, schedules, now);
        state.history = VecDeque::from(saved.history);
        state.bans = saved.bans;
        state.rules = saved.rules;
        for m in saved.members {
            let Ok(nick) = Nickname::parse(&m.nick) else {
                continue;
            };
            let limiter = RateLimiter::new(
                state.config.message_rate,
                state.config.message_burst,
                now.instant,
            );
            let who = Identity {
                id: m.id,
                nick,
                key: m.key,
                addr: m.addr,
                node: m.node,
            };
            state.members.push(Member {
                who,
                admin: m.admin,
                limiter,
            });
        }
        state
    }

    /// The servers the members are connected to.
    pub fn nodes(&self) -> Vec<String> {
        let mut nodes: Vec<String> = self.members.iter().map(|m| m.who.node.clone()).collect();
        nodes.sort();
        nodes.dedup();
        nodes
    }

    /// Server `node` has died: everyone connected to it has left.
    pub fn node_gone(&mut self, node: &str) {
        let gone: Vec<ParticipantId> = self
            .members
            .iter()
            .filter(|m| m.who.node == node)
            .map(|m| m.who.id)
            .collect();
        // Everyone of that node leaves first, then the admin role passes on once: to
        // one who is still here, not to each of the departed in turn.
        let mut admin_gone = None;
        for id in gone {
            if let Some(p) = self.remove(id) {
                self.emit(RoomEvent::Gone { id });
                self.log("LEAVE", format!("{} (server {node} lost)", p.who.nick));
                self.announce(Notice::Left, p.who.id, p.who.nick.as_str());
                if p.admin && admin_gone.is_none() {
                    admin_gone = Some(p);
                }
            }
        }
        if let Some(p) = admin_gone {
            self.pass_admin_on(&p);
        }
    }

    /// The ids of the scheduled messages due now.
    pub fn due_schedules(&self) -> Vec<u64> {
        let now = self.now.wall;
        let items = self.schedules.items();
        items
            .iter()
            .take_while(|m| m.due <= now)
            .map(|m| m.id)
            .collect()
    }

    /// Takes the scheduled messages `ids` out, to be put back later.
    pub fn hold_schedules(&mut self, ids: &[u64]) -> Vec<ScheduledMessage> {
        if ids.is_empty() {
            return Vec::new();
        }
        self.schedules.take_where(|m| ids.contains(&m.id))
    }

    /// Puts a scheduled message (back) in the room's book.
    pub fn add_schedule(&mut self, message: ScheduledMessage) {
        self.schedules.add(message);
    }

    /// Drops the scheduled messages `ids` without sending them (sent elsewhere).
    pub fn forget_schedules(&mut self, ids: &[u64]) {
        if self.schedules.remove_where(|m| ids.contains(&m.id)) > 0 {
            self.emit(RoomEvent::SaveSchedules);
        }
    }
}
