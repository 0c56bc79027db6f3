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
mod link;
mod maker;
mod members;
mod notices;
pub mod rate;
mod resolve;
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

use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

pub use actor::Room;
pub use clock::{Clock, ManualClock};
pub use directory::{RoomDirectory, RoomMaker};
pub use enter_error::EnterError;
pub use event::{Now, RoomEvent};
pub use link::RoomLink;
pub use members::{whisper_here, LocalMember, LocalMembers, Refused, Sinks};
pub use snapshot::RoomSnapshot;
pub use state::{Member, NameService, Newcomer, RoomConfig, RoomState};
pub use task::run as run_actor;

use crate::chat::line::{ChatLine, SharedLine};
use crate::chat::nickname::NicknameError;

/// Identifies a participant: random 128 bits, so ids never collide between rooms, runs
/// or (later) servers.
pub type ParticipantId = u128;

/// A fresh participant id.
pub fn new_participant_id() -> ParticipantId {
    rand::random()
}

/// What a participant's session receives from the room, in order.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub enum Delivery {
    /// A line to show.
    Line(SharedLine),
    /// Several lines to show, taking one place in the outbox (the welcome).
    Lines(Vec<SharedLine>),
    /// The participant's nickname changed (the prompt shows it).
    Renamed(String),
    /// The room is done with this participant: show what came before, then close.
    Close,
}

impl Delivery {
    /// The lines this delivery shows, in order (none for a rename or a close).
    pub fn lines(&self) -> &[SharedLine] {
        match self {
            Delivery::Line(line) => std::slice::from_ref(line),
            Delivery::Lines(lines) => lines,
            Delivery::Renamed(_) | Delivery::Close => &[],
        }
    }
}

/// The sending side of a participant's bounded outbox.
pub type Outbox = mpsc::Sender<Delivery>;

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

/// A cloneable handle to a room: its actor in this process, or (in a cluster) the room
/// wherever its actor runs. A local room stops when every handle is gone.
#[derive(Clone)]
pub enum RoomHandle {
    Local(mpsc::Sender<RoomCommand>),
    Remote(crate::cluster::RemoteRoom),
}

impl RoomHandle {
    /// Spawns the actor that owns `room`.
    pub fn spawn(room: Room) -> RoomHandle {
        let (tx, rx) = mpsc::channel(1024);
        tokio::spawn(task::run(room, rx));
        RoomHandle::Local(tx)
    }

    async fn ask<T>(&self, make: impl FnOnce(oneshot::Sender<T>) -> RoomCommand) -> Option<T> {
        let RoomHandle::Local(tx) = self else {
            return None;
        };
        let (respond_to, rx) = oneshot::channel();
        tx.send(make(respond_to)).await.ok()?;
        rx.await.ok()
    }

    async fn tell(&self, command: RoomCommand) {
        if let RoomHandle::Local(tx) = self {
            let _ = tx.send(command).await;
        }
    }

    /// How many are in the room, and how many fit.
    pub async fn occupancy(&self) -> Option<(usize, usize)> {
        match self {
            RoomHandle::Remote(r) => r.occupancy().await,
            RoomHandle::Local(_) => {
                self.ask(|respond_to| RoomCommand::Occupancy { respond_to })
                    .await
            }
        }
    }

    /// Asks a room in this process to let `request` in; the welcome arrives in the
    /// request's outbox.
    ///
    /// # Errors
    /// The room is full, the nickname is refused, or the room has stopped.
    pub async fn join(&self, request: JoinRequest) -> Result<Joined, JoinError> {
        let entrant = request.entrant("");
        let local = Some(request.local_member());
        self.ask(|respond_to| RoomCommand::Join {
            entrant,
            local,
            respond_to,
        })
        .await
        .unwrap_or(Err(JoinError::Closed))
    }

    /// Waits for room in the room's queue; the slot then takes one typed line without
    /// waiting, so a session can keep draining its outbox while it has input to hand in.
    pub async fn input_slot(&self) -> Option<InputSlot<'_>> {
        match self {
            RoomHandle::Local(tx) => tx.reserve().await.ok().map(InputSlot::Local),
            RoomHandle::Remote(r) => Some(InputSlot::Remote(r)),
        }
    }

    /// One line typed by participant `id` (a message or a command); returns once the
    /// room has handled it.
    pub async fn input(&self, id: ParticipantId, line: String) {
        if let Some(slot) = self.input_slot().await {
            let _ = slot.send(id, line).await;
        }
    }

    /// Participant `id` has gone (Ctrl-D, end of input, lost connection).
    pub async fn leave(&self, id: ParticipantId) {
        match self {
            RoomHandle::Remote(r) => r.leave(id),
            RoomHandle::Local(_) => self.tell(RoomCommand::Leave { id, handled: None }).await,
        }
    }

    /// The `/user` line, for the `users` exec command.
    pub async fn users(&self) -> Option<ChatLine> {
        match self {
            RoomHandle::Remote(r) => r.users().await,
            RoomHandle::Local(_) => {
                self.ask(|respond_to| RoomCommand::Users { respond_to })
                    .await
            }
        }
    }

    /// Everyone's nickname, for Tab completion.
    pub async fn names(&self) -> Option<Vec<String>> {
        match self {
            RoomHandle::Remote(r) => r.names().await,
            RoomHandle::Local(_) => {
                self.ask(|respond_to| RoomCommand::Names { respond_to })
                    .await
            }
        }
    }

    /// How many scheduled messages wait to be sent in this room.
    pub async fn pending_schedules(&self) -> Option<usize> {
        self.ask(|respond_to| RoomCommand::Pending { respond_to })
            .await
    }

    /// Replaces the configured admin keys (SIGHUP re-read the admins file).
    pub async fn set_admin_keys(&self, keys: HashSet<String>) {
        self.tell(RoomCommand::SetAdminKeys { keys }).await;
    }

    /// Tells everyone the server is stopping, closes their sessions, saves the schedule
    /// and flushes the logs.
    pub async fn shutdown(&self) {
        let _ = self
            .ask(|respond_to| RoomCommand::Shutdown { respond_to })
            .await;
    }
}

/// A reserved place in the room's queue for one typed line.
pub enum InputSlot<'a> {
    Local(mpsc::Permit<'a, RoomCommand>),
    Remote(&'a crate::cluster::RemoteRoom),
}

impl InputSlot<'_> {
    /// Hands the line `line` typed by participant `id` to the room; the receiver
    /// completes once the room has handled it: with true if it was taken, false (or
    /// closed) if it was refused, the typist told why. A session waits for that before
    /// handing in its next line, so one typist can never flood the others' outboxes
    /// faster than their sessions get to run.
    pub fn send(self, id: ParticipantId, line: String) -> oneshot::Receiver<bool> {
        let (handled, rx) = oneshot::channel();
        match self {
            InputSlot::Local(permit) => permit.send(RoomCommand::Input {
                id,
                line,
                handled: Some(handled),
            }),
            InputSlot::Remote(room) => room.input(id, line, handled),
        }
        rx
    }
}
