//! The room actor: one task owns a room — its pure [`RoomState`], its [`RoomLink`] (its
//! members' connections on this server, or the cluster's bus), and the server's log,
//! names and clock — and carries out every command in arrival order (the loop is in
//! `task.rs`). It never awaits a participant.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::event::{Now, RoomEvent};
use super::link::RoomLink;
use super::members::{LocalMember, LocalMembers, Sinks};
use super::resolve::Resolved;
use super::schedule::{ScheduleBook, ScheduledMessage};
use super::state::{RoomConfig, RoomState, RoomStats};
use super::{Clock, Entrant, JoinError, Joined, ParticipantId};
use crate::bans::{Ban, BanList};
use crate::chat::line::{ChatLine, SharedLine};
use crate::delivery::Connections;
use crate::log::LogSink;
use crate::metrics::{Cut, Metrics, Refusal};
use crate::names::NameRegistry;

/// A room as its actor runs it.
pub struct Room {
    pub(super) state: RoomState,
    log: LogSink,
    pub(super) clock: Clock,
    names: NameRegistry,
    /// Everyone connected to this server (a whisper to someone in another room).
    connections: Connections,
    /// Where its events go: its members here (a lone server's room), or the cluster.
    link: Box<dyn RoomLink>,
    /// Scheduled messages due whose claim could not be made yet (NATS unreachable).
    pub(super) held: Vec<ScheduledMessage>,
    /// The server's counts; the state's own are moved there as they happen.
    pub(super) metrics: Arc<Metrics>,
    /// The state's counts since the last summary.
    summary: RoomStats,
    /// Where kick-bans are kept beyond the room's life.
    bans: BanList,
    /// Whether the room needs a code, for `/rooms` (set after every command).
    locked: Arc<AtomicBool>,
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
        Room::with_state(RoomState::new(config, schedules, now), log, clock, names)
    }

    /// A room carrying on from `state` (rebuilt from a snapshot).
    pub fn with_state(state: RoomState, log: LogSink, clock: Clock, names: NameRegistry) -> Room {
        Room {
            state,
            log,
            clock,
            names,
            connections: Connections::default(),
            link: Box::new(LocalMembers::default()),
            held: Vec::new(),
            metrics: Metrics::detached(),
            summary: RoomStats::default(),
            bans: BanList::default(),
            locked: Arc::default(),
        }
    }

    /// Keeps its kick-bans in `bans` too, so they hold after the room has ended.
    pub fn banning(mut self, bans: BanList) -> Room {
        self.bans = bans;
        self
    }

    /// Whether the room needs a code, as it is after each command.
    pub fn locked(&self) -> Arc<AtomicBool> {
        self.locked.clone()
    }

    /// Counts into the server's `metrics` (a room made outside a server counts into
    /// nothing).
    pub fn counted(mut self, metrics: Arc<Metrics>) -> Room {
        self.metrics = metrics;
        self
    }

    /// Reaches `connections`, everyone connected to this server, with whispers from the
    /// room (a room made outside a server reaches only its own members).
    pub fn reaching(mut self, connections: Connections) -> Room {
        self.connections = connections;
        self
    }

    /// Runs the room with `link` instead of delivering to its members itself (a room
    /// run for a cluster).
    pub fn linked(mut self, link: Box<dyn RoomLink>) -> Room {
        self.link = link;
        self
    }

    /// The room's state at this moment, for the caller to change.
    pub fn state_now(&mut self) -> &mut RoomState {
        let now = now(&self.clock);
        self.state.at(now)
    }

    /// Applies `change` to the state at the current time and carries out what it
    /// causes.
    pub(super) fn apply<T>(&mut self, change: impl FnOnce(&mut RoomState) -> T) -> T {
        let out = change(self.state_now());
        self.settle();
        out
    }

    /// Carries out the state's events, and what dropping any reader they found stalled
    /// causes in turn.
    fn settle(&mut self) {
        self.locked.store(self.state.is_locked(), Ordering::Relaxed);
        loop {
            self.count();
            let mut events = self.state.take_events();
            events.retain(|event| match event {
                RoomEvent::KickBanned(ban) => {
                    let (bans, ban, now) = (self.bans.clone(), ban.clone(), self.clock.now());
                    tokio::spawn(async move { bans.add(ban, now).await });
                    false
                }
                _ => true,
            });
            if events.is_empty() {
                return;
            }
            let sinks = Sinks {
                log: &self.log,
                room: self.state.name(),
                connections: &self.connections,
                metrics: &self.metrics,
            };
            let refused = self.link.take(events, &sinks, self.state.schedules());
            for r in refused {
                self.state.dropped(r.id, r.session_ended);
            }
        }
    }

    /// Moves what the state counted into the metrics and the summary.
    fn count(&mut self) {
        let stats = self.state.take_stats();
        if stats == RoomStats::default() {
            return;
        }
        let m = &self.metrics;
        m.lines.inc_by(stats.messages);
        m.schedule_firings.inc_by(stats.scheduled);
        m.refused_by(Refusal::RateLimited, stats.rate_limited);
        m.refused_by(Refusal::TooLong, stats.too_long);
        m.refused_by(Refusal::Muted, stats.muted);
        m.cut_by(Cut::Flooding, stats.flooders);
        self.summary.add(stats);
    }

    /// Hands the link the state if it changed, then what the last commands caused. A
    /// change to the scheduled messages or the membership is stored before anyone
    /// hears of it.
    pub(super) async fn flush(&mut self) {
        self.keep(false).await;
        loop {
            let Some(carried) = self.link.carry() else {
                return;
            };
            let refused = carried.await;
            for r in refused {
                self.state_now().dropped(r.id, r.session_ended);
            }
            self.settle();
        }
    }

    /// Has the link keep the state if it changed (`now`: anyway, durably).
    async fn keep(&mut self, now: bool) {
        if let Some(kept) = self.link.keep(&self.state, &self.held, now) {
            kept.await;
        }
    }

    /// Stores the room's latest snapshot now, for the node that runs it next.
    pub(super) async fn keep_now(&mut self) {
        self.keep(true).await;
        self.flush().await;
    }

    /// Lets `entrant` in (their nickname already claimed): capacity and bans, then the
    /// welcome. `local` is their connection when the room delivers to it itself.
    ///
    /// # Errors
    /// [`JoinError::Full`] or [`JoinError::Banned`]; nobody
    /// inside notices any of them.
    pub fn join(
        &mut self,
        entrant: Entrant,
        local: Option<LocalMember>,
    ) -> Result<Joined, JoinError> {
        self.apply(|state| state.admit(&entrant))?;
        self.link.admit(local);
        let joined = Joined {
            id: entrant.who.id,
            nickname: entrant.who.nick.clone(),
        };
        self.apply(|state| state.join(entrant));
        Ok(joined)
    }

    /// One line typed by participant `id`; the names it needs are looked up first.
    /// Returns false if the line was refused.
    pub async fn input(&mut self, id: ParticipantId, line: &str) -> bool {
        let resolved = Resolved::for_line(&self.state, &self.names, id, line).await;
        let taken = self.apply(|state| state.input(id, line, &resolved));
        resolved.undo_unused(&self.state, &self.names, id).await;
        taken
    }

    /// This node has taken the room over from a snapshot.
    pub fn took_over(&mut self, node: &str) {
        self.apply(|state| state.log("ROOM", format!("taken over by {node}")));
    }

    /// Server `node` has died: its participants have left.
    pub fn node_gone(&mut self, node: &str) {
        self.apply(|state| state.node_gone(node));
    }

    /// Participant `id` has gone.
    pub fn leave(&mut self, id: ParticipantId) {
        self.apply(|state| state.leave(id));
    }

    /// Does what has fallen due: scheduled messages, gathered notices. Each due message
    /// is claimed through the link first, so that it goes out once however often the
    /// room moves between servers.
    pub async fn tick(&mut self) {
        let due = self.state_now().due_schedules();
        if !due.is_empty() {
            let (sent, unsure) = self.link.claim_due(due).await;
            self.apply(|state| state.forget_schedules(&sent));
            let held = self.state.hold_schedules(&unsure);
            self.held.extend(held);
        }
        self.apply(RoomState::tick);
    }

    /// Puts back the scheduled messages held for want of a claim, to try again.
    pub(super) fn retry_held(&mut self) {
        for m in std::mem::take(&mut self.held) {
            self.state.add_schedule(m);
        }
    }

    /// A server ban came into force: whoever it is on is put out, told `told`.
    pub fn enforce(&mut self, ban: &Ban, told: &str) {
        self.apply(|state| state.put_out(ban, told));
    }

    /// Replaces the server admins' keys.
    pub fn set_admin_keys(&mut self, keys: HashSet<String>) {
        self.apply(|state| state.set_admin_keys(keys));
    }

    /// Tells everyone the server stops, saves the schedule and flushes the logs.
    pub fn shutdown(&mut self) {
        self.apply(RoomState::shutdown);
        self.log.flush();
    }

    /// The room has ended.
    pub fn end(&mut self) {
        self.apply(RoomState::end);
    }

    /// (participants, capacity)
    pub fn occupancy(&self) -> (usize, usize) {
        self.state.occupancy()
    }

    /// The counts since the last call, which resets them.
    pub fn take_stats(&mut self) -> RoomStats {
        self.count();
        std::mem::take(&mut self.summary)
    }

    /// The `/user` line.
    pub fn users_line(&self) -> ChatLine {
        self.state.users_line()
    }

    /// Everyone's nickname, in join order.
    pub fn names(&self) -> Vec<String> {
        self.state.names()
    }

    /// The last line of its history.
    pub fn last_public_line(&self) -> Option<SharedLine> {
        self.state.history().back().cloned()
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
        self.apply(RoomState::flush_notices);
    }
}

fn now(clock: &Clock) -> Now {
    Now {
        wall: clock.now(),
        instant: clock.instant(),
    }
}
