//! The room actor: one task owns a room — its pure [`RoomState`], its members'
//! connections on this server, and the server's log, names and clock — and carries out
//! every command in arrival order. It never awaits a participant.

use std::collections::HashSet;

use tokio::sync::mpsc;
use tokio::time::Instant;

use super::event::Now;
use super::members::{LocalMember, LocalMembers, Sinks};
use super::schedule::ScheduleBook;
use super::state::{Newcomer, RoomConfig, RoomState, RoomStats};
use super::{Clock, JoinError, JoinRequest, Joined, ParticipantId, RoomCommand};
use crate::chat::line::ChatLine;
use crate::log::LogSink;
use crate::names::{NameRegistry, Online};

/// A room as its actor runs it.
pub struct Room {
    state: RoomState,
    local: LocalMembers,
    log: LogSink,
    clock: Clock,
    names: NameRegistry,
}

impl Room {
    /// A room with no one in it yet.
    pub fn new(
        config: RoomConfig,
        schedules: ScheduleBook,
        log: LogSink,
        clock: Clock,
        names: NameRegistry,
    ) -> Room {
        let now = now(&clock);
        Room {
            state: RoomState::new(config, schedules, now),
            local: LocalMembers::default(),
            log,
            clock,
            names,
        }
    }

    /// Applies `change` to the state at the current time and carries out what it
    /// causes.
    fn apply<T>(&mut self, change: impl FnOnce(&mut RoomState, &NameRegistry) -> T) -> T {
        let now = now(&self.clock);
        let out = change(self.state.at(now), &self.names);
        self.settle();
        out
    }

    /// Carries out the state's events, and what dropping any reader they found stalled
    /// causes in turn.
    fn settle(&mut self) {
        loop {
            let events = self.state.take_events();
            if events.is_empty() {
                return;
            }
            let sinks = Sinks {
                log: &self.log,
                room: self.state.name(),
                names: &self.names,
            };
            let (refused, save) = self.local.dispatch(events, &sinks);
            if save {
                if let Err(error) = self.state.schedules().save() {
                    tracing::warn!(%error, "saving the schedule failed");
                }
            }
            for r in refused {
                self.state.dropped(r.id, r.session_ended);
            }
        }
    }

    /// Lets someone in: capacity and bans, then their nickname claimed server-wide,
    /// then the welcome.
    ///
    /// # Errors
    /// [`JoinError::Full`], [`JoinError::Banned`] or [`JoinError::Nickname`]; nobody
    /// inside notices any of them.
    pub fn join(&mut self, request: JoinRequest) -> Result<Joined, JoinError> {
        let (key, addr) = (request.key.as_deref(), request.addr);
        self.apply(|state, _| state.admit(key, addr))?;
        let online = Online {
            id: request.id,
            nick: String::new(),
            room: self.state.name().to_string(),
            key: request.key.clone(),
            outbox: request.outbox.clone(),
            kill: request.kill.clone(),
            transcript: request.transcript.clone(),
        };
        let nick = self.names.claim(&request.nickname, online).map_err(|e| {
            let who = addr.map(|a| a.to_string()).unwrap_or_default();
            let text = format!("{who} nickname \"{}\": {e}", request.nickname);
            self.apply(|state, _| state.log("REFUSED", text));
            JoinError::Nickname(e)
        })?;
        let member = LocalMember::new(request.id, request.outbox, request.kill, request.transcript);
        self.local.add(member);
        let nickname = nick.to_string();
        let newcomer = Newcomer {
            id: request.id,
            nick,
            key: request.key,
            addr: request.addr,
            creator: request.creator,
        };
        self.apply(|state, _| state.join(newcomer));
        Ok(Joined {
            id: request.id,
            nickname,
        })
    }

    /// One line typed by participant `id`.
    pub fn input(&mut self, id: ParticipantId, line: &str) {
        self.apply(|state, names| state.input(id, line, names));
    }

    /// Participant `id` has gone.
    pub fn leave(&mut self, id: ParticipantId) {
        self.apply(|state, _| state.leave(id));
    }

    /// Does what has fallen due: scheduled messages, gathered notices.
    pub fn tick(&mut self) {
        self.apply(|state, _| state.tick());
    }

    /// Replaces the server admins' keys.
    pub fn set_admin_keys(&mut self, keys: HashSet<String>) {
        self.apply(|state, _| state.set_admin_keys(keys));
    }

    /// Tells everyone the server stops, saves the schedule and flushes the logs.
    pub fn shutdown(&mut self) {
        self.apply(|state, _| state.shutdown());
        self.log.flush();
    }

    /// The room has ended.
    pub fn end(&mut self) {
        self.apply(|state, _| state.end());
    }

    /// (participants, capacity)
    pub fn occupancy(&self) -> (usize, usize) {
        self.state.occupancy()
    }

    /// The counts since the last call, which resets them.
    pub fn take_stats(&mut self) -> RoomStats {
        self.state.take_stats()
    }

    /// The `/user` line.
    pub fn users_line(&self) -> ChatLine {
        self.state.users_line()
    }

    /// Everyone's nickname, in join order.
    pub fn names(&self) -> Vec<String> {
        self.state.names()
    }
}

#[cfg(test)]
impl Room {
    /// The state, for tests that set it up or look into it.
    pub(super) fn state(&mut self) -> &mut RoomState {
        &mut self.state
    }

    /// Sends the gathered notices now.
    pub(super) fn flush_notices(&mut self) {
        self.apply(|state, _| state.flush_notices());
    }
}

fn now(clock: &Clock) -> Now {
    Now {
        wall: clock.now(),
        instant: clock.instant(),
    }
}

/// Longest single sleep of the ticker, so a wall-clock step is noticed within the hour.
const MAX_TICK_SLEEP: std::time::Duration = std::time::Duration::from_secs(3600);
/// How often the room logs its one-line summary.
const SUMMARY_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// When the room next has something to do by itself: a scheduled message falls due, or
/// gathered join and leave notices are to be sent.
fn next_wake(room: &Room) -> Instant {
    let clock = &room.clock;
    let schedule = room
        .state
        .next_deadline()
        .map_or(MAX_TICK_SLEEP, |due| clock.until(due));
    let notices = room
        .state
        .notices_due()
        .map_or(MAX_TICK_SLEEP, |due| clock.until_instant(due));
    Instant::now() + schedule.min(notices).min(MAX_TICK_SLEEP)
}

/// The actor's loop: commands in order, the ticker, the minute's summary.
pub(super) async fn run(mut room: Room, mut rx: mpsc::Receiver<RoomCommand>) {
    let start = Instant::now() + SUMMARY_EVERY;
    let mut summary = tokio::time::interval_at(start, SUMMARY_EVERY);
    let timer = tokio::time::sleep(MAX_TICK_SLEEP);
    tokio::pin!(timer);
    // A test's manual clock wakes the room whenever it is moved.
    let mut clock_moves = room.clock.moves();
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
                log_summary(&mut room);
                continue;
            }
        };
        // Every handle is gone: the room has ended (it was empty), or the server stopped.
        let Some(command) = command else { break };
        handle(&mut room, command);
    }
    room.end();
}

/// The minute's summary; quiet rooms say nothing (a thousand of them would flood the
/// log).
fn log_summary(room: &mut Room) {
    let stats = room.take_stats();
    if stats.messages == 0 && stats.drops == 0 {
        return;
    }
    tracing::info!(
        room = %room.state.name(),
        participants = room.occupancy().0,
        messages_per_min = stats.messages,
        drops = stats.drops,
        "room summary"
    );
}

fn handle(room: &mut Room, command: RoomCommand) {
    match command {
        RoomCommand::Occupancy { respond_to } => {
            let _ = respond_to.send(room.occupancy());
        }
        RoomCommand::Join {
            request,
            respond_to,
        } => {
            let _ = respond_to.send(room.join(request));
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
            let _ = respond_to.send(room.state.schedules().items().len());
        }
        RoomCommand::Shutdown { respond_to } => {
            room.shutdown();
            let _ = respond_to.send(());
        }
    }
}
