//! How the rest of the server reaches a room. [`LocalRoom`] is the queue of a room's
//! actor in this process, with every command its placement needs; [`RoomHandle`] is what
//! a session holds: the room wherever it runs, through its actor's queue or (a room run
//! by another node) the [`RoomBus`] the cluster implements. Every call a handle offers
//! is carried out on both sides or answers that it could not be; none quietly does
//! nothing.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use futures_util::future::BoxFuture;
use tokio::sync::{mpsc, oneshot};

use super::{
    Entrant, JoinError, JoinRequest, Joined, LocalMember, ParticipantId, Room, RoomCommand,
};
use crate::chat::line::ChatLine;
use crate::delivery::Reach;

/// A room run by another node, as a session reaches it (the cluster's side of the bus
/// from sessions to a room's actor). `None` answers: the room could not be reached.
pub trait RoomBus: Send + Sync + 'static {
    /// How many are in the room, and how many fit.
    fn occupancy(&self) -> BoxFuture<'_, Option<(usize, usize)>>;
    /// One line typed by participant `id`; `handled` is told once the room has handled
    /// it (whether it was taken), or the typist has been told it was not sent.
    fn input(&self, id: ParticipantId, line: String, handled: oneshot::Sender<bool>);
    /// Participant `id` has gone; said until the room hears it, even while it moves.
    fn leave(&self, id: ParticipantId);
    /// The `/user` line.
    fn users(&self) -> BoxFuture<'_, Option<ChatLine>>;
    /// Everyone's nickname, for Tab completion.
    fn names(&self) -> BoxFuture<'_, Option<Vec<String>>>;
}

/// The queue of a room's actor in this process. The actor stops when every queue
/// handle is gone.
#[derive(Clone)]
pub struct LocalRoom(
    pub(super) mpsc::Sender<RoomCommand>,
    /// Whether the room needs a code, as its actor last said.
    pub(super) Arc<AtomicBool>,
);

impl LocalRoom {
    /// Spawns the actor that owns `room`.
    pub fn spawn(room: Room) -> LocalRoom {
        let (tx, rx) = mpsc::channel(1024);
        let locked = room.locked();
        tokio::spawn(super::task::run(room, rx));
        LocalRoom(tx, locked)
    }

    /// The actor's answer; `None` if it has stopped.
    async fn ask<T>(&self, make: impl FnOnce(oneshot::Sender<T>) -> RoomCommand) -> Option<T> {
        let (respond_to, rx) = oneshot::channel();
        self.0.send(make(respond_to)).await.ok()?;
        rx.await.ok()
    }

    /// Whether the room needs a code to enter (for `/rooms`).
    pub fn is_locked(&self) -> bool {
        self.1.load(Ordering::Relaxed)
    }

    /// How many are in the room, and how many fit.
    pub async fn occupancy(&self) -> Option<(usize, usize)> {
        self.ask(|respond_to| RoomCommand::Occupancy { respond_to })
            .await
    }

    /// Lets `request` in; the welcome arrives in the request's outbox.
    ///
    /// # Errors
    /// The room is full, the nickname is refused, or the room has stopped.
    pub async fn join(&self, request: JoinRequest) -> Result<Joined, JoinError> {
        let entrant = request.entrant("").map_err(JoinError::Nickname)?;
        self.enter(entrant, request.reach()).await
    }

    /// Lets `entrant` in, reached through `reach`; the welcome arrives in its outbox.
    ///
    /// # Errors
    /// The room is full or refuses them, or it has stopped.
    pub async fn enter(&self, entrant: Entrant, reach: Reach) -> Result<Joined, JoinError> {
        let local = Some(LocalMember::new(entrant.who.id, reach));
        self.ask(|respond_to| RoomCommand::Join {
            entrant,
            local,
            respond_to,
        })
        .await
        .unwrap_or(Err(JoinError::Closed))
    }

    /// Participant `id` has gone (a stopped room has nobody left to tell).
    pub async fn leave(&self, id: ParticipantId) {
        let _ = self.0.send(RoomCommand::Leave { id, handled: None }).await;
    }

    /// How many scheduled messages wait to be sent in this room; `None` if it stopped.
    pub async fn pending_schedules(&self) -> Option<usize> {
        self.ask(|respond_to| RoomCommand::Pending { respond_to })
            .await
    }

    /// Replaces the configured admin keys (SIGHUP re-read the admins file); a stopped
    /// room has no admins to change.
    pub async fn set_admin_keys(&self, keys: HashSet<String>) {
        let _ = self.0.send(RoomCommand::SetAdminKeys { keys }).await;
    }

    /// A server ban came into force: whoever it is on is put out (a stopped room has
    /// nobody in it).
    pub async fn enforce(&self, ban: crate::bans::Ban, told: String) {
        let _ = self.0.send(RoomCommand::Enforce { ban, told }).await;
    }

    /// Tells everyone the server is stopping, closes their sessions, saves the schedule
    /// and flushes the logs; returns once done (at once if the room has stopped).
    pub async fn shutdown(&self) {
        let _ = self
            .ask(|respond_to| RoomCommand::Shutdown { respond_to })
            .await;
    }
}

/// A room as a session reaches it, wherever its actor runs.
#[derive(Clone)]
pub struct RoomHandle(Via);

/// The two sides of the bus to a room's actor: kept as an enum rather than behind the
/// trait so that reserving a place for a typed line (asked on every turn of a session's
/// loop) costs no allocation.
#[derive(Clone)]
enum Via {
    Here(LocalRoom),
    Elsewhere(Arc<dyn RoomBus>),
}

impl From<LocalRoom> for RoomHandle {
    fn from(room: LocalRoom) -> RoomHandle {
        RoomHandle(Via::Here(room))
    }
}

impl RoomHandle {
    /// Spawns the actor that owns `room`, in this process.
    pub fn spawn(room: Room) -> RoomHandle {
        LocalRoom::spawn(room).into()
    }

    /// A room run by another node, reached over `bus`.
    pub fn elsewhere(bus: Arc<dyn RoomBus>) -> RoomHandle {
        RoomHandle(Via::Elsewhere(bus))
    }

    /// How many are in the room, and how many fit; `None`: it could not be asked.
    pub async fn occupancy(&self) -> Option<(usize, usize)> {
        match &self.0 {
            Via::Here(room) => room.occupancy().await,
            Via::Elsewhere(bus) => bus.occupancy().await,
        }
    }

    /// Asks a room in this process to let `request` in; the welcome arrives in the
    /// request's outbox.
    ///
    /// # Errors
    /// The room is full, the nickname is refused, or the room has stopped; a room run by
    /// another node answers [`JoinError::Unreachable`]: it is entered through its
    /// placement, which connects the entrant's node to it first.
    pub async fn join(&self, request: JoinRequest) -> Result<Joined, JoinError> {
        match &self.0 {
            Via::Here(room) => room.join(request).await,
            Via::Elsewhere(_) => Err(JoinError::Unreachable),
        }
    }

    /// Waits for room in the room's queue; the slot then takes one typed line without
    /// waiting, so a session can keep draining its outbox while it has input to hand in.
    /// `None`: the room has stopped.
    pub async fn input_slot(&self) -> Option<InputSlot<'_>> {
        match &self.0 {
            Via::Here(room) => room.0.reserve().await.ok().map(InputSlot::Here),
            Via::Elsewhere(bus) => Some(InputSlot::Elsewhere(bus.as_ref())),
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
        match &self.0 {
            Via::Here(room) => room.leave(id).await,
            Via::Elsewhere(bus) => bus.leave(id),
        }
    }

    /// The `/user` line, for the `users` exec command; `None`: it could not be asked.
    pub async fn users(&self) -> Option<ChatLine> {
        match &self.0 {
            Via::Here(room) => {
                room.ask(|respond_to| RoomCommand::Users { respond_to })
                    .await
            }
            Via::Elsewhere(bus) => bus.users().await,
        }
    }

    /// Everyone's nickname, for Tab completion; `None`: it could not be asked.
    pub async fn names(&self) -> Option<Vec<String>> {
        match &self.0 {
            Via::Here(room) => {
                room.ask(|respond_to| RoomCommand::Names { respond_to })
                    .await
            }
            Via::Elsewhere(bus) => bus.names().await,
        }
    }
}

/// A reserved place in the room's queue for one typed line.
pub enum InputSlot<'a> {
    Here(mpsc::Permit<'a, RoomCommand>),
    Elsewhere(&'a dyn RoomBus),
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
            InputSlot::Here(permit) => permit.send(RoomCommand::Input {
                id,
                line,
                handled: Some(handled),
            }),
            InputSlot::Elsewhere(bus) => bus.input(id, line, handled),
        }
        rx
    }
}
