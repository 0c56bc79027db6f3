//! The room actor: one task owns a room — its pure [`RoomState`], its members'
//! connections on this server (or, run for a cluster, its [`RoomLink`]), and the
//! server's log, names and clock — and carries out every command in arrival order
//! (the loop is in `task.rs`). It never awaits a participant.

use std::collections::HashSet;
use std::sync::Arc;

use futures_util::future::BoxFuture;

use super::event::{Now, RoomEvent};
use super::members::{LocalMember, LocalMembers, Refused, Sinks};
use super::resolve::Resolved;
use super::schedule::{ScheduleBook, ScheduledMessage};
use super::snapshot::RoomSnapshot;
use super::state::{Newcomer, RoomConfig, RoomState, RoomStats};
use super::{Clock, Entrant, JoinError, Joined, ParticipantId};
use crate::chat::line::ChatLine;
use crate::chat::nickname::Nickname;
use crate::log::LogSink;
use crate::metrics::{Cut, Metrics, Refusal};
use crate::names::NameRegistry;

/// Where a room run for a cluster sends what it causes: its members are connected to
/// any server, so their deliveries travel, and its state is kept for a next owner.
pub trait RoomLink: Send + Sync + 'static {
    /// Carries `events` (deliveries, closes, departures) to every server, in order;
    /// returns the members of this server whose outbox refused a delivery.
    fn carry(&mut self, events: Vec<RoomEvent>) -> BoxFuture<'_, Vec<Refused>>;
    /// Keeps `snapshot` for whoever runs the room next; `durably`: returns once it is
    /// stored (a change that must survive the node, such as a scheduled message).
    fn keep(&mut self, snapshot: RoomSnapshot, durably: bool) -> BoxFuture<'_, ()>;
    /// Claims scheduled message `id` for sending: `Some(true)` this room sends it,
    /// `Some(false)` it was sent already, `None` nobody can tell now (try again later).
    fn claim(&self, id: u64) -> BoxFuture<'_, Option<bool>>;
}

/// A room as its actor runs it.
pub struct Room {
    pub(super) state: RoomState,
    local: LocalMembers,
    log: LogSink,
    pub(super) clock: Clock,
    names: NameRegistry,
    /// Set when the room is run for a cluster.
    link: Option<Box<dyn RoomLink>>,
    /// Events for the link, not yet carried.
    outgoing: Vec<RoomEvent>,
    /// The state changed since the link last kept it.
    dirty: bool,
    /// The change must be stored before anyone is told of it: the scheduled messages
    /// or the membership changed (a next owner must know exactly who is in the room:
    /// a member it missed would be connected and unknown to it, one it kept a ghost).
    durable: bool,
    /// Scheduled messages due whose claim could not be made yet (NATS unreachable).
    pub(super) held: Vec<ScheduledMessage>,
    /// The server's counts; the state's own are moved there as they happen.
    pub(super) metrics: Arc<Metrics>,
    /// The state's counts since the last summary.
    summary: RoomStats,
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
            local: LocalMembers::default(),
            log,
            clock,
            names,
            link: None,
            outgoing: Vec::new(),
            dirty: true,
            durable: false,
            held: Vec::new(),
            metrics: Metrics::detached(),
            summary: RoomStats::default(),
        }
    }

    /// Counts into the server's `metrics` (a room made outside a server counts into
    /// nothing).
    pub fn counted(mut self, metrics: Arc<Metrics>) -> Room {
        self.metrics = metrics;
        self
    }

    /// Runs the room for a cluster: its events go through `link`.
    pub fn linked(mut self, link: Box<dyn RoomLink>) -> Room {
        self.link = Some(link);
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
        loop {
            self.count();
            let events = self.state.take_events();
            if events.is_empty() {
                return;
            }
            if self.link.is_some() {
                self.route(events);
                continue;
            }
            let sinks = Sinks {
                log: &self.log,
                room: self.state.name(),
                names: &self.names,
                metrics: &self.metrics,
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
        m.cut_by(Cut::Flooding, stats.flooders);
        self.summary.add(stats);
    }

    /// A linked room logs here and hands the rest to the link (a member who cannot be
    /// handed a line is reported back by their server as a [`RoomCommand::Dropped`]).
    fn route(&mut self, events: Vec<RoomEvent>) {
        self.dirty = true;
        for event in events {
            match event {
                RoomEvent::Log { kind, text } => {
                    self.log
                        .event(kind, format!("{} {text}", self.state.name()));
                }
                RoomEvent::SaveSchedules => self.durable = true,
                gone @ RoomEvent::Gone { .. } => {
                    self.durable = true;
                    self.outgoing.push(gone);
                }
                other => self.outgoing.push(other),
            }
        }
    }

    /// Hands the link the state if it changed, then what the last commands caused. A
    /// change to the scheduled messages or the membership is stored before anyone
    /// hears of it.
    pub(super) async fn flush(&mut self) {
        let Some(link) = self.link.as_mut() else {
            return;
        };
        if std::mem::take(&mut self.dirty) {
            let mut snapshot = self.state.snapshot();
            for m in &self.held {
                snapshot.schedules.push(m.clone());
                if let Some(session) = m.author_session {
                    snapshot.authors.push((m.id, session));
                }
            }
            let durably = std::mem::take(&mut self.durable);
            link.keep(snapshot, durably).await;
        }
        loop {
            let events = std::mem::take(&mut self.outgoing);
            let Some(link) = self.link.as_mut().filter(|_| !events.is_empty()) else {
                return;
            };
            let refused = link.carry(events).await;
            for r in refused {
                self.state_now().dropped(r.id, r.session_ended);
            }
            self.settle();
        }
    }

    /// Stores the room's latest snapshot now, for the node that runs it next.
    pub(super) async fn keep_now(&mut self) {
        self.dirty = true;
        self.durable = true;
        self.flush().await;
    }

    /// Lets `entrant` in (their nickname already claimed): capacity and bans, then the
    /// welcome. `local` is their connection when the room delivers to it itself.
    ///
    /// # Errors
    /// [`JoinError::Full`], [`JoinError::Banned`] or [`JoinError::Nickname`]; nobody
    /// inside notices any of them.
    pub fn join(
        &mut self,
        entrant: Entrant,
        local: Option<LocalMember>,
    ) -> Result<Joined, JoinError> {
        let (key, addr) = (entrant.key.as_deref(), entrant.addr);
        self.apply(|state| state.admit(key, addr))?;
        let nick = Nickname::parse(&entrant.nick).map_err(JoinError::Nickname)?;
        if let Some(member) = local {
            self.local.add(member);
        }
        // A linked room stores its new member before anyone hears of them: their node
        // keeps them in its mirror from now on, so a next owner must know them.
        self.durable |= self.link.is_some();
        let nickname = nick.to_string();
        let newcomer = Newcomer {
            id: entrant.id,
            nick,
            key: entrant.key,
            addr: entrant.addr,
            creator: entrant.creator,
            node: entrant.node,
        };
        self.apply(|state| state.join(newcomer));
        Ok(Joined {
            id: entrant.id,
            nickname,
        })
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

    /// Does what has fallen due: scheduled messages, gathered notices. A linked room
    /// first claims each due message, so that it goes out once however often the room
    /// moves between servers.
    pub async fn tick(&mut self) {
        let due = self.state_now().due_schedules();
        if let Some(link) = self.link.as_ref().filter(|_| !due.is_empty()) {
            let (mut sent, mut unsure) = (Vec::new(), Vec::new());
            for id in due {
                match link.claim(id).await {
                    Some(true) => {}
                    Some(false) => sent.push(id),
                    None => unsure.push(id),
                }
            }
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
