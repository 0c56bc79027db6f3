//! The room actor: one task owns a room's participants, history and schedule, and the
//! rest of the server talks to it through a cloneable [`RoomHandle`]. The actor never
//! awaits a participant: it hands lines to bounded outboxes with `try_send` and drops
//! whoever has stopped reading.

mod admin;
mod ban;
mod clock;
mod commands;
pub mod directory;
mod notices;
pub mod rate;
pub mod schedule;
mod state;
#[cfg(test)]
mod tests;
mod welcome;

use std::collections::HashSet;
use std::net::SocketAddr;

use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

pub use clock::{Clock, ManualClock};
pub use directory::{EnterError, RoomDirectory, RoomMaker};
pub use state::{Room, RoomConfig};

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

enum RoomCommand {
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
        tokio::spawn(run(room, rx));
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

/// Longest single sleep of the ticker, so a wall-clock step is noticed within the hour.
const MAX_TICK_SLEEP: std::time::Duration = std::time::Duration::from_secs(3600);

/// When the room next has something to do by itself: a scheduled message falls due, or
/// gathered join and leave notices are to be sent.
fn next_wake(room: &Room) -> tokio::time::Instant {
    let clock = room.clock();
    let schedule = room
        .next_deadline()
        .map_or(MAX_TICK_SLEEP, |due| clock.until(due));
    let notices = room
        .notices_due()
        .map_or(MAX_TICK_SLEEP, |due| clock.until_instant(due));
    tokio::time::Instant::now() + schedule.min(notices).min(MAX_TICK_SLEEP)
}

/// How often the room logs its one-line summary.
const SUMMARY_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

async fn run(mut room: Room, mut rx: mpsc::Receiver<RoomCommand>) {
    let start = tokio::time::Instant::now() + SUMMARY_EVERY;
    let mut summary = tokio::time::interval_at(start, SUMMARY_EVERY);
    let timer = tokio::time::sleep(MAX_TICK_SLEEP);
    tokio::pin!(timer);
    // A test's manual clock wakes the room whenever it is moved.
    let mut clock_moves = room.clock().moves();
    loop {
        // Re-armed only when it must fire sooner (or has fired): re-arming a timer for
        // every command costs. Firing early is harmless, nothing is due yet then.
        let wake = next_wake(&room);
        if wake < timer.deadline() || timer.is_elapsed() {
            timer.as_mut().reset(wake);
        }
        let command = tokio::select! {
            command = rx.recv() => command,
            () = &mut timer => {
                room.tick();
                continue;
            }
            Ok(()) = async { clock_moves.as_mut().expect("guarded").changed().await },
                if clock_moves.is_some() =>
            {
                room.tick();
                continue;
            }
            _ = summary.tick() => {
                let stats = room.take_stats();
                // Quiet rooms say nothing: a thousand of them would flood the log.
                if stats.messages == 0 && stats.drops == 0 {
                    continue;
                }
                tracing::info!(
                    room = %room.name(),
                    participants = room.occupancy().0,
                    messages_per_min = stats.messages,
                    drops = stats.drops,
                    "room summary"
                );
                continue;
            }
        };
        // Every handle is gone: the room has ended (it was empty), or the server stopped.
        let Some(command) = command else { break };
        match command {
            RoomCommand::Occupancy { respond_to } => {
                let _ = respond_to.send(room.occupancy());
            }
            RoomCommand::Join {
                request,
                respond_to,
            } => {
                let result = room.join(request);
                let _ = respond_to.send(result);
            }
            RoomCommand::Input { id, line, handled } => {
                room.input(id, &line);
                drop(handled);
            }
            RoomCommand::Leave { id } => room.leave(id),
            RoomCommand::Users { respond_to } => {
                let _ = respond_to.send(room.users_line());
            }
            RoomCommand::Names { respond_to } => {
                let _ = respond_to.send(room.names());
            }
            RoomCommand::SetAdminKeys { keys } => room.set_admin_keys(keys),
            RoomCommand::Pending { respond_to } => {
                let _ = respond_to.send(room.schedules.items().len());
            }
            RoomCommand::Shutdown { respond_to } => {
                room.shutdown();
                let _ = respond_to.send(());
            }
        }
    }
    room.end();
}
