//! The room actor: one task owns a room's participants, history and schedule, and the
//! rest of the server talks to it through a cloneable [`RoomHandle`]. The actor never
//! awaits a participant: it hands lines to bounded outboxes with `try_send` and drops
//! whoever has stopped reading. The room core defines the seams a cluster implements:
//! [`RoomPlacement`] (where rooms run), [`RoomLink`] (where a room's events go) and
//! [`RoomBus`] (how a session reaches a room run elsewhere).

mod actor;
mod admin;
mod ban;
mod clock;
mod comforts;
mod commands;
pub mod directory;
#[cfg(test)]
mod directory_tests;
mod enter_error;
mod entrant;
mod event;
mod handle;
mod link;
mod maker;
mod members;
mod moderation;
#[cfg(test)]
mod moderation_tests;
mod notices;
mod placement;
pub mod rate;
mod resolve;
mod rooms_here;
mod rules;
pub mod schedule;
mod schedule_commands;
mod snapshot;
mod state;
#[cfg(test)]
mod state_tests;
mod task;
#[cfg(test)]
mod tests;
mod welcome;

use std::collections::HashSet;

use tokio::sync::oneshot;

pub use crate::delivery::{Delivery, Outbox};
pub use crate::participant::{new_participant_id, Identity, ParticipantId};
pub use actor::Room;
pub use clock::{Clock, ManualClock};
pub use directory::{RoomDirectory, RoomMaker};
pub use enter_error::EnterError;
pub use entrant::{Entrant, JoinRequest};
pub use event::{Now, RoomEvent};
pub use handle::{InputSlot, LocalRoom, RoomBus, RoomHandle};
pub use link::RoomLink;
pub use members::{LocalMember, LocalMembers, Refused, Sinks};
pub use placement::{Entered, Listed, RoomPlacement};
pub use rooms_here::RoomsHere;
pub use snapshot::RoomSnapshot;
pub use state::{Member, NameService, RoomConfig, RoomState};
pub use task::run as run_actor;

use crate::chat::line::ChatLine;
use crate::chat::nickname::{Nickname, NicknameError};

/// A successful join.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Joined {
    pub id: ParticipantId,
    pub nickname: Nickname,
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
    #[error("{room} needs a code: /join {bare} CODE")]
    NeedsCode { room: String, bare: String },
    #[error("Wrong code for {room}.")]
    WrongCode { room: String },
    /// A code given for a room that does not exist: most likely a name with a space.
    #[error("Room names have no spaces: try /join {0}")]
    NoSuchRoom(String),
    /// Banned from the whole server: the line says until when and why.
    #[error("{0}")]
    ServerBanned(String),
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
    /// A server ban came into force: whoever it is on is put out, told `told`.
    Enforce {
        ban: crate::bans::Ban,
        told: String,
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
