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
mod event;
mod members;
mod notices;
pub mod rate;
pub mod schedule;
mod state;
#[cfg(test)]
mod state_tests;
#[cfg(test)]
mod tests;
mod welcome;

use std::collections::HashSet;
use std::net::SocketAddr;

use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

pub use actor::Room;
pub use clock::{Clock, ManualClock};
pub use directory::{EnterError, RoomDirectory, RoomMaker};
pub use event::{Now, RoomEvent};
pub use state::{Member, NameService, Newcomer, RoomConfig, RoomState};

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
#[derive(Debug, Clone)]
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
#[derive(Debug)]
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

/// A successful join.
#[derive(Debug, Clone)]
pub struct Joined {
    pub id: ParticipantId,
    pub nickname: String,
}

/// Why a join was refused; `Display` is the text after `[Server]: `.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JoinError {
    #[error("The chat room is full ({count}/{capacity}). Please try again later.")]
    Full { count: usize, capacity: usize },
    #[error("{0}")]
    Nickname(NicknameError),
    #[error("You were kicked from {room}; you may come back after {until}.")]
    Banned { room: String, until: String },
    #[error("The server is shutting down.")]
    Closed,
}

pub(super) enum RoomCommand {
    Occupancy {
        respond_to: oneshot::Sender<(usize, usize)>,
    },
    Join {
        request: JoinRequest,
        respond_to: oneshot::Sender<Result<Joined, JoinError>>,
    },
    Input {
        id: ParticipantId,
        line: String,
        /// Dropped once the room has handled the line.
        handled: Option<oneshot::Sender<()>>,
    },
    Leave {
        id: ParticipantId,
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
}

/// A cloneable handle to a running room; the room stops when every handle is gone.
#[derive(Clone)]
pub struct RoomHandle {
    tx: mpsc::Sender<RoomCommand>,
}

impl RoomHandle {
    /// Spawns the actor that owns `room`.
    pub fn spawn(room: Room) -> RoomHandle {
        let (tx, rx) = mpsc::channel(1024);
        tokio::spawn(actor::run(room, rx));
        RoomHandle { tx }
    }

    async fn ask<T>(&self, make: impl FnOnce(oneshot::Sender<T>) -> RoomCommand) -> Option<T> {
        let (respond_to, rx) = oneshot::channel();
        self.tx.send(make(respond_to)).await.ok()?;
        rx.await.ok()
    }

    /// How many are in the room, and how many fit.
    pub async fn occupancy(&self) -> Option<(usize, usize)> {
        self.ask(|respond_to| RoomCommand::Occupancy { respond_to })
            .await
    }

    /// Asks to join; the welcome arrives in the request's outbox.
    ///
    /// # Errors
    /// The room is full, the nickname is refused, or the room has stopped.
    pub async fn join(&self, request: JoinRequest) -> Result<Joined, JoinError> {
        self.ask(|respond_to| RoomCommand::Join {
            request,
            respond_to,
        })
        .await
        .unwrap_or(Err(JoinError::Closed))
    }

    /// One line typed by participant `id` (a message or a command).
    pub async fn input(&self, id: ParticipantId, line: String) {
        let command = RoomCommand::Input {
            id,
            line,
            handled: None,
        };
        let _ = self.tx.send(command).await;
    }

    /// Waits for room in the room's queue; the slot then takes one typed line without
    /// waiting, so a session can keep draining its outbox while it has input to hand in.
    pub async fn input_slot(&self) -> Option<InputSlot<'_>> {
        self.tx.reserve().await.ok().map(InputSlot)
    }

    /// Participant `id` has gone (Ctrl-D, end of input, lost connection).
    pub async fn leave(&self, id: ParticipantId) {
        let _ = self.tx.send(RoomCommand::Leave { id }).await;
    }

    /// The `/user` line, for the `users` exec command.
    pub async fn users(&self) -> Option<ChatLine> {
        self.ask(|respond_to| RoomCommand::Users { respond_to })
            .await
    }

    /// Everyone's nickname, for Tab completion.
    pub async fn names(&self) -> Option<Vec<String>> {
        self.ask(|respond_to| RoomCommand::Names { respond_to })
            .await
    }

    /// How many scheduled messages wait to be sent in this room.
    pub async fn pending_schedules(&self) -> Option<usize> {
        self.ask(|respond_to| RoomCommand::Pending { respond_to })
            .await
    }

    /// Replaces the configured admin keys (SIGHUP re-read the admins file).
    pub async fn set_admin_keys(&self, keys: HashSet<String>) {
        let _ = self.tx.send(RoomCommand::SetAdminKeys { keys }).await;
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
pub struct InputSlot<'a>(mpsc::Permit<'a, RoomCommand>);

impl InputSlot<'_> {
    /// Hands the line `line` typed by participant `id` to the room; the receiver
    /// completes once the room has handled it. A session waits for that before handing
    /// in its next line, so one typist can never flood the others' outboxes faster than
    /// their sessions get to run.
    pub fn send(self, id: ParticipantId, line: String) -> oneshot::Receiver<()> {
        let (handled, rx) = oneshot::channel();
        self.0.send(RoomCommand::Input {
            id,
            line,
            handled: Some(handled),
        });
        rx
    }
}
