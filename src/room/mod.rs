//! The room actor: one task owns a room's participants, history and schedule, and the
//! rest of the server talks to it through a cloneable [`RoomHandle`]. The actor never
//! awaits a participant: it hands lines to bounded outboxes with `try_send` and drops
//! whoever has stopped reading.

mod actor;
mod admin;
mod ban;
mod clock;
mod commands;
pub mod directory;
#[cfg(test)]
mod directory_tests;
mod enter_error;
mod event;
mod handle;
mod link;
mod maker;
mod members;
mod notices;
mod placement;
pub mod rate;
mod resolve;
mod rooms_here;
pub mod schedule;
mod snapshot;
mod state;
#[cfg(test)]
mod state_tests;
mod task;
#[cfg(test)]
mod tests;
mod welcome;

use std::collections::HashSet;
use std::net::SocketAddr;

use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

pub use crate::delivery::{Delivery, Outbox};
pub use crate::participant::{new_participant_id, ParticipantId};
pub use actor::Room;
pub use clock::{Clock, ManualClock};
pub use directory::{RoomDirectory, RoomMaker};
pub use enter_error::EnterError;
pub use event::{Now, RoomEvent};
pub use handle::{InputSlot, LocalRoom, RoomBus, RoomHandle};
pub use link::RoomLink;
pub use members::{LocalMember, LocalMembers, Refused, Sinks};
pub use placement::{Entered, RoomPlacement};
pub use rooms_here::RoomsHere;
pub use snapshot::RoomSnapshot;
pub use state::{Member, NameService, Newcomer, RoomConfig, RoomState};
pub use task::run as run_actor;

use crate::chat::line::ChatLine;
use crate::chat::nickname::NicknameError;

/// Everything the room needs to let someone in.
#[derive(Debug, Clone)]
pub struct JoinRequest {
    /// The participant's id, the same in every room they visit.
    pub id: ParticipantId,
    pub nickname: String,
    /// SHA256 fingerprint of the verified key, if the client signed in with one.
    pub key: Option<String>,
    pub addr: Option<SocketAddr>,
    pub outbox: Outbox,
    /// Cancelled by the room to cut a participant off (its socket is shut down).
    pub kill: CancellationToken,
    /// The participant's transcript, which follows them from room to room.
    pub transcript: std::sync::Arc<str>,
    /// They are creating the room (and so become its admin).
    pub creator: bool,
}

impl JoinRequest {
    /// The entrant as every server can know them, connected to `node`.
    pub fn entrant(&self, node: &str) -> Entrant {
        Entrant {
            id: self.id,
            nick: self.nickname.clone(),
            key: self.key.clone(),
            addr: self.addr,
            creator: self.creator,
            node: node.to_string(),
        }
    }

    /// Their connection, as the room delivers to it.
    pub fn local_member(&self) -> LocalMember {
        LocalMember::new(
            self.id,
            self.outbox.clone(),
            self.kill.clone(),
            self.transcript.clone(),
        )
    }
}

/// Someone entering a room, their nickname already claimed: what any server can send.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Entrant {
    pub id: ParticipantId,
    pub nick: String,
    pub key: Option<String>,
    pub addr: Option<SocketAddr>,
    pub creator: bool,
    pub node: String,
}

/// A successful join.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Joined {
    pub id: ParticipantId,
    pub nickname: String,
}

/// Why a join was refused; `Display` is the text after `[Server]: `.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize, serde::Deserialize)]
pub enum JoinError {
    #[error("The chat room is full ({count}/{capacity}). Please try again later.")]
    Full { count: usize, capacity: usize },
    #[error("{0}")]
    Nickname(NicknameError),
    #[error("You were kicked from {room}; you may come back after {until}.")]
    Banned { room: String, until: String },
    #[error("The server is shutting down.")]
    Closed,
    #[error("{}", crate::chat::nickname::UNREACHABLE)]
    Unreachable,
}

/// What a room's actor is asked to do.
pub enum RoomCommand {
    Occupancy {
        respond_to: oneshot::Sender<(usize, usize)>,
    },
    Join {
        entrant: Entrant,
        /// Their connection, when it is on this server and the room delivers to it.
        local: Option<LocalMember>,
        respond_to: oneshot::Sender<Result<Joined, JoinError>>,
    },
    /// A member's server could not hand them a line: they are gone, or cut off.
    Dropped {
        id: ParticipantId,
        session_ended: bool,
        /// Answered once the room has handled it (in a cluster: stored it); dropped
        /// unanswered if the room stopped first.
        handled: Option<oneshot::Sender<()>>,
    },
    /// A server of the cluster died: its participants have left.
    NodeGone {
        node: String,
    },
    /// The servers the members are connected to.
    MemberNodes {
        respond_to: oneshot::Sender<Vec<String>>,
    },
    Input {
        id: ParticipantId,
        line: String,
        /// Told once the room has handled the line: whether it was taken (false: it was
        /// refused, and the typist told why).
        handled: Option<oneshot::Sender<bool>>,
    },
    Leave {
        id: ParticipantId,
        /// Answered once the room has handled it (in a cluster: stored it); dropped
        /// unanswered if the room stopped first.
        handled: Option<oneshot::Sender<()>>,
    },
    Users {
        respond_to: oneshot::Sender<ChatLine>,
    },
    Names {
        respond_to: oneshot::Sender<Vec<String>>,
    },
    SetAdminKeys {
        keys: HashSet<String>,
    },
    Pending {
        respond_to: oneshot::Sender<usize>,
    },
    Shutdown {
        respond_to: oneshot::Sender<()>,
    },
    /// The room carries on elsewhere: stop without a word to anyone.
    Abandon,
    /// This node stops and the room moves on: its latest snapshot is stored, then it
    /// stops without a word (answering once the snapshot is stored, or given up on).
    HandOver {
        respond_to: oneshot::Sender<()>,
    },
}
