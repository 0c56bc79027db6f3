//! A room's state and its membership logic: joining, leaving, delivering lines, admin
//! succession. Synchronous: unit tests drive it directly with plain channels.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;

use chrono_tz::Tz;
use tokio::sync::mpsc::error::TrySendError;
use tokio_util::sync::CancellationToken;

use super::ban::Ban;
use super::notices::{Notice, PendingNotices};
use super::rate::RateLimiter;
use super::schedule::ScheduleBook;
use super::{Clock, Delivery, JoinError, JoinRequest, Joined, Outbox, ParticipantId};
use crate::chat::line::{ChatLine, SharedLine};
use crate::chat::nickname::Nickname;
use crate::log::LogSink;
use crate::names::{NameRegistry, Online};

/// Most names the user list shows; a bigger room lists these and counts the rest.
pub const USERS_LISTED: usize = 100;

/// A room's settings.
#[derive(Debug, Clone)]
pub struct RoomConfig {
    /// As shown: `#lobby`.
    pub name: String,
    pub capacity: usize,
    /// Key fingerprints of admins; empty = the first participant is admin.
    pub admin_keys: HashSet<String>,
    pub max_message_bytes: usize,
    pub history: usize,
    pub max_schedules_per_user: usize,
    pub tz: Tz,
    /// Lines per second per participant (0 = no limit) and the burst allowed.
    pub message_rate: f64,
    pub message_burst: u32,
    /// Message of the day, shown first in every welcome.
    pub motd: Vec<String>,
    /// A room made by `/join`: its creator is its admin, and the role passes on even
    /// where server admins are configured.
    pub creator_is_admin: bool,
    /// How long a kicked participant may not come back (0 = no ban).
    pub kick_ban: std::time::Duration,
    /// In a room of more than this many, join and leave notices are gathered and sent
    /// once a second (0 = always one line each, at once).
    pub batch_notices_above: usize,
}

/// Someone in the room.
#[derive(Debug)]
pub(super) struct Participant {
    pub id: ParticipantId,
    pub nick: Nickname,
    pub key: Option<String>,
    pub addr: Option<std::net::SocketAddr>,
    pub admin: bool,
    pub(super) outbox: Outbox,
    kill: CancellationToken,
    /// The participant's transcript (it follows them from room to room).
    pub transcript: Arc<str>,
    pub limiter: RateLimiter,
    /// Its outbox overflowed: it is about to be removed and gets nothing more.
    stalled: bool,
}

/// Counts for the periodic summary.
#[derive(Debug, Default, Clone, Copy)]
pub struct RoomStats {
    /// Public messages sent since the last summary.
    pub messages: u64,
    /// Participants dropped for not reading since the last summary.
    pub drops: u64,
}

/// All state of one room.
pub struct Room {
    pub(super) config: RoomConfig,
    pub(super) participants: Vec<Participant>,
    /// Who is online server-wide: nicknames are claimed here, whispers found here.
    pub(super) names: NameRegistry,
    /// Who was kicked and may not come back yet.
    pub(super) bans: Vec<Ban>,
    pub(super) history: VecDeque<SharedLine>,
    pub(super) schedules: ScheduleBook,
    pub(super) log: LogSink,
    clock: Clock,
    /// Participants whose outbox overflowed, to be removed when the current operation
    /// is done.
    stalled: Vec<ParticipantId>,
    stats: RoomStats,
    /// Join and leave notices a crowded room has not sent yet.
    pub(super) notices: PendingNotices,
    /// Set by the first shutdown; later ones do nothing.
    closed: bool,
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
        Room {
            config,
            participants: Vec::new(),
            names,
            bans: Vec::new(),
            history: VecDeque::new(),
            schedules,
            log,
            clock,
            stalled: Vec::new(),
            stats: RoomStats::default(),
            notices: PendingNotices::default(),
            closed: false,
        }
    }

    /// The counts since the last call, which resets them.
    pub fn take_stats(&mut self) -> RoomStats {
        std::mem::take(&mut self.stats)
    }

    pub(super) fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The room's name as shown (`#lobby`).
    pub fn name(&self) -> &str {
        &self.config.name
    }

    /// (participants, capacity)
    pub fn occupancy(&self) -> (usize, usize) {
        (self.participants.len(), self.config.capacity)
    }

    pub(super) fn find(&self, id: ParticipantId) -> Option<&Participant> {
        self.participants.iter().find(|p| p.id == id)
    }

    pub(super) fn find_mut(&mut self, id: ParticipantId) -> Option<&mut Participant> {
        self.participants.iter_mut().find(|p| p.id == id)
    }

    /// The participant whose nickname matches `name` ignoring case.
    pub(super) fn find_by_name(&self, name: &str) -> Option<&Participant> {
        let wanted = Nickname::parse(name).ok()?;
        self.participants
            .iter()
            .find(|p| p.nick.as_str().to_lowercase() == wanted.as_str().to_lowercase())
    }

    /// Lets someone in: checks capacity, bans and nickname (claimed server-wide), sends
    /// the welcome to the newcomer and the join notice to everyone else.
    ///
    /// # Errors
    /// [`JoinError::Full`], [`JoinError::Banned`] or [`JoinError::Nickname`]; nobody
    /// inside notices any of them.
    pub fn join(&mut self, request: JoinRequest) -> Result<Joined, JoinError> {
        let (count, capacity) = self.occupancy();
        let who = request.addr.map(|a| a.to_string()).unwrap_or_default();
        if count >= capacity {
            self.event("REFUSED", format!("{who} room full ({count}/{capacity})"));
            return Err(JoinError::Full { count, capacity });
        }
        if let Some(until) = self.banned_until(&request) {
            self.event("REFUSED", format!("{who} kicked until {until}"));
            let room = self.config.name.clone();
            return Err(JoinError::Banned { room, until });
        }
        let online = Online {
            id: request.id,
            nick: String::new(),
            room: self.config.name.clone(),
            key: request.key.clone(),
            outbox: request.outbox.clone(),
            kill: request.kill.clone(),
            transcript: request.transcript.clone(),
        };
        let nick = self.names.claim(&request.nickname, online).map_err(|e| {
            let text = format!("{who} nickname \"{}\": {e}", request.nickname);
            self.event("REFUSED", text);
            JoinError::Nickname(e)
        })?;
        let id = request.id;
        let admin = self.admin_at_join(&request);
        let name = nick.as_str().to_string();
        let key = request.key.as_deref().unwrap_or("none");
        self.event("JOIN", format!("{name} key={key} from={who} admin={admin}"));
        // Before the newcomer is in: the notice is for everyone else.
        self.announce(Notice::Joined, id, &name);
        self.participants.push(Participant {
            id,
            transcript: request.transcript,
            nick,
            key: request.key,
            addr: request.addr,
            admin,
            outbox: request.outbox,
            kill: request.kill,
            limiter: RateLimiter::new(self.config.message_rate, self.config.message_burst),
            stalled: false,
        });
        self.welcome(id);
        self.reap_stalled();
        Ok(Joined { id, nickname: name })
    }

    /// Participant `id` has left; everyone else is told. Unknown ids are ignored (the
    /// room may have removed them already).
    pub fn leave(&mut self, id: ParticipantId) {
        if let Some(p) = self.remove(id) {
            self.event("LEAVE", p.nick.as_str());
            self.announce(Notice::Left, p.id, p.nick.as_str());
            self.pass_admin_on(&p);
        }
        self.reap_stalled();
    }

    /// Takes a participant out of the room and closes its transcript.
    pub(super) fn remove(&mut self, id: ParticipantId) -> Option<Participant> {
        let at = self.participants.iter().position(|p| p.id == id)?;
        Some(self.participants.remove(at))
    }

    /// Sends `line` to everyone in the room, after any notices still waiting, so that
    /// nobody reads a newcomer's words before their arrival.
    pub(super) fn broadcast(&mut self, line: &SharedLine) {
        self.flush_notices();
        for at in 0..self.participants.len() {
            self.deliver_line_at(at, line);
        }
    }

    /// Public lines are also kept for the welcome of later arrivals.
    pub(super) fn broadcast_public(&mut self, line: ChatLine) {
        self.stats.messages += 1;
        let line = line.shared();
        if self.config.history > 0 {
            if self.history.len() == self.config.history {
                self.history.pop_front();
            }
            self.history.push_back(line.clone());
        }
        self.broadcast(&line);
    }

    /// Sends one line to one participant.
    pub(super) fn send_line(&mut self, id: ParticipantId, line: &SharedLine) {
        if let Some(at) = self.position(id) {
            self.deliver_line_at(at, line);
        }
    }

    /// Sends one line to the participant at `at` and records it in their transcript.
    pub(super) fn deliver_line_at(&mut self, at: usize, line: &SharedLine) {
        if self.deliver_at(at, Delivery::Line(line.clone())) {
            self.log.transcript(&self.participants[at].transcript, line);
        }
    }

    /// Hands `delivery` to a participant's outbox without waiting.
    pub(super) fn deliver(&mut self, id: ParticipantId, delivery: Delivery) -> bool {
        self.position(id)
            .is_some_and(|at| self.deliver_at(at, delivery))
    }

    /// A full (or closed) outbox means the participant stopped reading: it gets nothing
    /// more and is marked for removal.
    pub(super) fn deliver_at(&mut self, at: usize, delivery: Delivery) -> bool {
        let p = &mut self.participants[at];
        if p.stalled {
            return false;
        }
        match p.outbox.try_send(delivery) {
            Ok(()) => true,
            Err(TrySendError::Full(_) | TrySendError::Closed(_)) => {
                p.stalled = true;
                self.stalled.push(p.id);
                false
            }
        }
    }

    pub(super) fn position(&self, id: ParticipantId) -> Option<usize> {
        self.participants.iter().position(|p| p.id == id)
    }

    /// Removes participants that could not keep up, cutting their connections.
    pub(super) fn reap_stalled(&mut self) {
        while let Some(id) = self.stalled.pop() {
            if let Some(p) = self.remove(id) {
                p.kill.cancel();
                // A closed outbox is a session that already ended: its leave is on the
                // way, it did not stall.
                if p.outbox.is_closed() {
                    self.event("LEAVE", p.nick.as_str());
                } else {
                    self.stats.drops += 1;
                    tracing::info!(nickname = %p.nick, "dropped: stopped reading");
                    self.event("DROPPED", format!("{} (stopped reading)", p.nick));
                }
                self.announce(Notice::Left, p.id, p.nick.as_str());
                self.pass_admin_on(&p);
            }
        }
    }

    /// Ends a participant's session from the room's side (kick, /quit, shutdown).
    pub(super) fn close(&self, p: &Participant) {
        if p.outbox.try_send(Delivery::Close).is_err() {
            p.kill.cancel();
        }
    }

    /// Logs a room event: every one names its room (SPEC §8).
    pub(super) fn event(&self, kind: &str, text: impl AsRef<str>) {
        self.log
            .event(kind, format!("{} {}", self.config.name, text.as_ref()));
    }

    /// The room has ended (empty, nothing pending) or its server has stopped.
    pub fn end(&mut self) {
        if !std::mem::replace(&mut self.closed, true) {
            self.event("ROOM", "ended");
        }
    }

    /// Tells everyone the server is stopping, closes every session, saves the schedule
    /// and flushes the logs.
    pub fn shutdown(&mut self) {
        if std::mem::replace(&mut self.closed, true) {
            return;
        }
        let line = ChatLine::server("The server is shutting down. Goodbye!").shared();
        self.broadcast(&line);
        for p in std::mem::take(&mut self.participants) {
            self.close(&p);
            self.event("LEAVE", format!("{} (server shutdown)", p.nick));
        }
        self.stalled.clear();
        if let Err(e) = self.schedules.save() {
            tracing::warn!(%e, "saving the schedule failed");
        }
        self.event("SHUTDOWN", "server stopping");
        self.log.flush();
    }
}
