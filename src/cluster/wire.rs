//! What travels between the nodes of a cluster, as JSON: requests to a room's actor and
//! its replies, the room's events for the members' nodes, whispers, and the lease that
//! says where a room runs. Subjects: `chat.room.<key>.in` (to the actor),
//! `chat.room.<key>.ev` (from it), `chat.history.<key>` (its public lines, kept),
//! `chat.whisper.<node key>` (to a node's people).

use serde::{Deserialize, Serialize};

use super::key_of;
use super::sequence::Resent;
use crate::chat::line::{ChatLine, SharedLine};
use crate::chat::room_name::RoomName;
use crate::room::{Delivery, Entrant, JoinError, Joined, ParticipantId, RoomEvent};

/// The version of what travels between nodes (this module and the buckets' values).
/// Nodes of two versions never share a cluster: a node is refused at start while a
/// node of another version is live (version 0: before versions were written). Version
/// 2 added moderation (SPEC §11: codes, bans, a room's rules in its snapshot) and the
/// personal comforts (SPEC §12: a line carries who sent it (`from`), `/me` lines are a
/// kind of their own, and a name's claim carries the address and whether they are away).
/// Version 3 keeps a room's history in the stream `chat_history` instead of its
/// snapshot, and a node no longer hears its own messages.
pub const WIRE_VERSION: u32 = 3;

/// A room as the cluster keys it, worked out once from its name: its look-alike key
/// (this node's tables of rooms), that key in hex (the buckets' keys, the subjects).
#[derive(Debug, Clone)]
pub struct RoomKey {
    name: RoomName,
    bucket: String,
}

impl RoomKey {
    /// The keys of room `name`.
    pub fn of(name: &RoomName) -> RoomKey {
        RoomKey {
            name: name.clone(),
            bucket: key_of(name.key()),
        }
    }

    /// The room's name.
    pub fn name(&self) -> &RoomName {
        &self.name
    }

    /// Its look-alike key: the same for every spelling of the name.
    pub fn key(&self) -> &str {
        self.name.key()
    }

    /// Its key in the buckets (leases, snapshots).
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The subject its actor takes requests on.
    pub fn requests(&self) -> String {
        format!("chat.room.{}.in", self.bucket)
    }

    /// The subject its actor sends its events on.
    pub fn events(&self) -> String {
        format!("chat.room.{}.ev", self.bucket)
    }

    /// The subject its history is kept under (see [`super::history`]).
    pub fn history(&self) -> String {
        format!("chat.history.{}", self.bucket)
    }
}

/// Where whispers to the participants connected to `node` go.
pub fn whispers_to(node: &str) -> String {
    format!("chat.whisper.{}", key_of(node))
}

/// A request to a room's actor.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum RoomRequest {
    Join(Entrant),
    Input {
        id: ParticipantId,
        line: String,
        /// Tells this line from the same line typed again: a line asked again of the
        /// node that took it already (its answer was not in when the asker saw the room
        /// move) gets the first answer, and is not said twice. 0: none.
        #[serde(default)]
        token: u64,
    },
    Leave {
        id: ParticipantId,
    },
    Dropped {
        id: ParticipantId,
        session_ended: bool,
    },
    Occupancy,
    Users,
    Names,
    /// The batches after number `after` of run `term` (a node missed some).
    Since {
        term: u64,
        after: u64,
    },
    /// Where the room's numbering is (a node starting to follow it).
    Tip,
}

impl RoomRequest {
    /// Whether it may change who is in the room.
    pub fn changes_membership(&self) -> bool {
        matches!(
            self,
            RoomRequest::Join(_) | RoomRequest::Leave { .. } | RoomRequest::Dropped { .. }
        )
    }
}

/// The actor's answer.
#[derive(Debug, Serialize, Deserialize)]
pub enum RoomReply {
    Joined(Result<Joined, JoinError>),
    Done,
    /// A typed line was handled: whether it was taken (false: refused, the typist told).
    Handled(bool),
    Occupancy(usize, usize),
    Users(ChatLine),
    Names(Vec<String>),
    /// To [`RoomRequest::Since`] and [`RoomRequest::Tip`] (the latter without batches).
    Resent(Resent),
    /// The room no longer runs on the node asked (it is moving): ask again.
    Moved,
}

/// One command's events, from the node running the room (which has already carried
/// them out for its own members), numbered within its run of the room (see
/// [`super::sequence`]). A batch without events is a *tip*: it says that `seq` was the
/// last one sent, so that a node that missed batches while the room was quiet notices.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Batch {
    pub from: String,
    /// The run of the room: the lease revision its node started at.
    pub term: u64,
    pub seq: u64,
    pub events: Vec<WireEvent>,
}

/// A room event as the members' nodes carry it out.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum WireEvent {
    ToOne {
        to: ParticipantId,
        delivery: Delivery,
    },
    ToAll {
        line: SharedLine,
        except: Vec<ParticipantId>,
    },
    Close {
        to: ParticipantId,
    },
    Cut {
        to: ParticipantId,
    },
    Gone {
        id: ParticipantId,
    },
}

impl WireEvent {
    /// The wire form of `event`, if it is for the members' nodes.
    pub fn from_event(event: &RoomEvent) -> Option<WireEvent> {
        Some(match event {
            RoomEvent::ToOne { to, delivery } => WireEvent::ToOne {
                to: *to,
                delivery: delivery.clone(),
            },
            RoomEvent::ToAll { line, except } => WireEvent::ToAll {
                line: line.clone(),
                except: except.clone(),
            },
            RoomEvent::Close { to } => WireEvent::Close { to: *to },
            RoomEvent::Cut { to } => WireEvent::Cut { to: *to },
            RoomEvent::Gone { id } => WireEvent::Gone { id: *id },
            RoomEvent::Whisper { .. }
            | RoomEvent::Log { .. }
            | RoomEvent::SaveSchedules
            | RoomEvent::KickBanned(_) => return None,
        })
    }

    /// The room event a member's node carries out.
    pub fn into_event(self) -> RoomEvent {
        match self {
            WireEvent::ToOne { to, delivery } => RoomEvent::ToOne { to, delivery },
            WireEvent::ToAll { line, except } => RoomEvent::ToAll { line, except },
            WireEvent::Close { to } => RoomEvent::Close { to },
            WireEvent::Cut { to } => RoomEvent::Cut { to },
            WireEvent::Gone { id } => RoomEvent::Gone { id },
        }
    }
}

/// A whisper for participant `to`, on the node holding their connection, which
/// acknowledges it; `id` tells a whisper sent again (its acknowledgement was lost) from
/// a new one.
#[derive(Debug, Serialize, Deserialize)]
pub struct Whisper {
    pub id: u64,
    pub to: ParticipantId,
    pub line: SharedLine,
}

impl Whisper {
    pub fn new(to: ParticipantId, line: SharedLine) -> Whisper {
        Whisper {
            id: rand::random(),
            to,
            line,
        }
    }
}

/// A room's lease: which node runs it, and what `/rooms` shows of it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Lease {
    pub node: String,
    /// As shown (`#rust`).
    pub room: String,
    pub members: usize,
    pub capacity: usize,
    /// It needs a code to enter (added in wire version 2).
    #[serde(default)]
    pub locked: bool,
}

/// A node's presence.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Presence {
    /// When it started (RFC 3339): also tells one run of a node from the next.
    pub since: String,
    /// It is stopping cleanly: its rooms are handed on at once, its people have left.
    #[serde(default)]
    pub stopping: bool,
    /// The [`WIRE_VERSION`] it speaks.
    #[serde(default)]
    pub wire: u32,
}

impl Presence {
    /// The presence of a node starting now.
    pub fn now() -> Presence {
        Presence {
            since: chrono::Utc::now().to_rfc3339(),
            stopping: false,
            wire: WIRE_VERSION,
        }
    }
}
