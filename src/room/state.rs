//! A room's logic as a pure state machine: membership, delivering lines, admin
//! succession. No channels, files or clock reads inside: each command brings its time,
//! and what it causes comes out as [`RoomEvent`]s. Unit tests feed it directly.

use std::collections::{HashSet, VecDeque};

use chrono_tz::Tz;

use super::ban::Ban;
use super::event::{Now, RoomEvent};
use super::notices::{Notice, PendingNotices};
use super::rate::RateLimiter;
use super::rules::RoomRules;
use super::schedule::ScheduleBook;
use super::{Delivery, Entrant, Identity, ParticipantId};
use crate::chat::line::{ChatLine, SharedLine};
use crate::chat::nickname::{Nickname, NicknameError};

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
    /// Most co-admins the room's admin may name.
    pub max_co_admins: usize,
    /// The room everyone lands in (as shown): it cannot be locked.
    pub default_room: String,
}

/// Where the room finds people by name, server-wide: renames are claimed there and
/// whispers look their target up there.
pub trait NameService {
    /// Renames `old` to `raw`, if the name is free and allowed.
    ///
    /// # Errors
    /// The rule it breaks, or why it is not free.
    fn rename(&self, old: &Nickname, raw: &str) -> Result<Nickname, NicknameError>;
    /// Who is online as `raw`: their id and nickname.
    fn find(&self, raw: &str) -> Option<(ParticipantId, String)>;
    /// Participant `id`'s away reason (`Some("")`: away with none), if they are away
    /// and it was looked up for this line (SPEC §12).
    fn away(&self, _id: ParticipantId) -> Option<String> {
        None
    }
}

/// Someone in the room.
#[derive(Debug)]
pub struct Member {
    pub who: Identity,
    pub admin: bool,
    pub limiter: RateLimiter,
}

/// What happened since the counts were last taken: for the periodic summary and the
/// metrics.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RoomStats {
    /// Public messages sent (typed or scheduled).
    pub messages: u64,
    /// Participants dropped for not reading.
    pub drops: u64,
    /// Lines refused over the message rate.
    pub rate_limited: u64,
    /// Lines refused for their length.
    pub too_long: u64,
    /// Participants disconnected for flooding.
    pub flooders: u64,
    /// Scheduled messages sent.
    pub scheduled: u64,
    /// Lines refused because their typist is muted.
    pub muted: u64,
}

impl RoomStats {
    /// Adds `other`'s counts to these.
    pub fn add(&mut self, other: RoomStats) {
        self.messages += other.messages;
        self.drops += other.drops;
        self.rate_limited += other.rate_limited;
        self.too_long += other.too_long;
        self.flooders += other.flooders;
        self.scheduled += other.scheduled;
        self.muted += other.muted;
    }
}

/// All state of one room.
pub struct RoomState {
    pub(super) config: RoomConfig,
    pub(super) members: Vec<Member>,
    /// Who was kicked and may not come back yet.
    pub(super) bans: Vec<Ban>,
    /// Co-admins, mutes, the notice and the code.
    pub(super) rules: RoomRules,
    pub(super) history: VecDeque<SharedLine>,
    pub(super) schedules: ScheduleBook,
    pub(super) stats: RoomStats,
    /// Join and leave notices a crowded room has not sent yet.
    pub(super) notices: PendingNotices,
    /// The time of the command being applied.
    pub(super) now: Now,
    /// What the commands applied so far have caused, not yet taken.
    events: Vec<RoomEvent>,
    /// Set by the first shutdown or end; later ones do nothing.
    closed: bool,
    /// The line being handled was refused (its typist was told why).
    pub(super) refused: bool,
}

impl RoomState {
    /// A room with no one in it yet, made at `now`.
    pub fn new(config: RoomConfig, schedules: ScheduleBook, now: Now) -> RoomState {
        RoomState {
            config,
            members: Vec::new(),
            bans: Vec::new(),
            rules: RoomRules::default(),
            history: VecDeque::new(),
            schedules,
            stats: RoomStats::default(),
            notices: PendingNotices::default(),
            now,
            events: Vec::new(),
            closed: false,
            refused: false,
        }
    }

    /// Sets the time of the next commands.
    pub fn at(&mut self, now: Now) -> &mut RoomState {
        self.now = now;
        self
    }

    /// Everything caused since the last call, in order.
    pub fn take_events(&mut self) -> Vec<RoomEvent> {
        std::mem::take(&mut self.events)
    }

    pub(super) fn emit(&mut self, event: RoomEvent) {
        self.events.push(event);
    }

    /// The counts since the last call, which resets them.
    pub fn take_stats(&mut self) -> RoomStats {
        std::mem::take(&mut self.stats)
    }

    /// The room's name as shown (`#lobby`).
    pub fn name(&self) -> &str {
        &self.config.name
    }

    /// The room's pending scheduled messages.
    pub fn schedules(&self) -> &ScheduleBook {
        &self.schedules
    }

    /// (participants, capacity)
    pub fn occupancy(&self) -> (usize, usize) {
        (self.members.len(), self.config.capacity)
    }

    pub(super) fn find(&self, id: ParticipantId) -> Option<&Member> {
        self.members.iter().find(|p| p.who.id == id)
    }

    pub(super) fn find_mut(&mut self, id: ParticipantId) -> Option<&mut Member> {
        self.members.iter_mut().find(|p| p.who.id == id)
    }

    /// The member whose nickname matches `name` ignoring case and look-alikes.
    pub(super) fn find_by_name(&self, name: &str) -> Option<&Member> {
        let wanted = Nickname::parse(name).ok()?;
        self.members
            .iter()
            .find(|p| p.who.nick.key() == wanted.key())
    }

    /// Logs a room event.
    pub(super) fn log(&mut self, kind: &'static str, text: impl Into<String>) {
        let text = text.into();
        self.emit(RoomEvent::Log { kind, text });
    }

    /// Lets `who` in, who was already admitted (see [`RoomState::admit`]): the welcome
    /// to them, the join notice to everyone else.
    pub fn join(&mut self, entrant: Entrant) {
        let admin = self.admin_at_join(&entrant);
        let who = entrant.who;
        let name = who.nick.to_string();
        let key = who.key.as_deref().unwrap_or("none");
        let from = who.addr.map(|a| a.to_string()).unwrap_or_default();
        self.log(
            "JOIN",
            format!("{name} key={key} from={from} admin={admin}"),
        );
        // Before the newcomer is in: the notice is for everyone else.
        self.announce(Notice::Joined, who.id, &name);
        let limiter = RateLimiter::new(
            self.config.message_rate,
            self.config.message_burst,
            self.now.instant,
        );
        let id = who.id;
        self.members.push(Member {
            who,
            admin,
            limiter,
        });
        self.welcome(id);
    }

    /// Participant `id` has left; everyone else is told. Unknown ids are ignored (the
    /// room may have removed them already).
    pub fn leave(&mut self, id: ParticipantId) {
        if let Some(p) = self.remove(id) {
            self.emit(RoomEvent::Gone { id });
            self.log("LEAVE", p.who.nick.as_str());
            self.announce(Notice::Left, p.who.id, p.who.nick.as_str());
            self.pass_admin_on(&p);
        }
    }

    /// Participant `id` could not be handed a line: it stopped reading and is cut off,
    /// or (`session_ended`) its session is already gone and its leave is on the way.
    pub fn dropped(&mut self, id: ParticipantId, session_ended: bool) {
        let Some(p) = self.remove(id) else { return };
        if session_ended {
            self.log("LEAVE", p.who.nick.as_str());
        } else {
            self.emit(RoomEvent::Cut { to: id });
            self.stats.drops += 1;
            self.log("DROPPED", format!("{} (stopped reading)", p.who.nick));
        }
        self.emit(RoomEvent::Gone { id });
        self.announce(Notice::Left, p.who.id, p.who.nick.as_str());
        self.pass_admin_on(&p);
    }

    /// Takes a member out of the room's list; the caller says [`RoomEvent::Gone`] once
    /// whatever was still to reach them (a kick's line, a close) is said.
    pub(super) fn remove(&mut self, id: ParticipantId) -> Option<Member> {
        let at = self.members.iter().position(|p| p.who.id == id)?;
        Some(self.members.remove(at))
    }

    /// Tells member `id` `why`, closes their session and takes them out of the room
    /// (kick, flooding); the caller announces it.
    pub(super) fn expel(&mut self, id: ParticipantId, why: ChatLine) -> Option<Member> {
        self.send_line(id, &why.shared());
        let gone = self.remove(id)?;
        self.close(id);
        self.emit(RoomEvent::Gone { id });
        Some(gone)
    }

    /// Sends `line` to everyone in the room, after any notices still waiting, so that
    /// nobody reads a newcomer's words before their arrival.
    pub(super) fn broadcast(&mut self, line: &SharedLine) {
        self.broadcast_but(line, Vec::new());
    }

    /// [`RoomState::broadcast`] to everyone but `except`.
    pub(super) fn broadcast_but(&mut self, line: &SharedLine, except: Vec<ParticipantId>) {
        self.flush_notices();
        self.send_to_all_but(line, except);
    }

    /// Sends `line` to everyone but `except`.
    pub(super) fn send_to_all_but(&mut self, line: &SharedLine, except: Vec<ParticipantId>) {
        let line = line.clone();
        self.emit(RoomEvent::ToAll { line, except });
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
        self.deliver(id, Delivery::Line(line.clone()));
    }

    /// Hands `delivery` to one participant.
    pub(super) fn deliver(&mut self, to: ParticipantId, delivery: Delivery) {
        self.emit(RoomEvent::ToOne { to, delivery });
    }

    /// Ends a participant's session from the room's side (kick, /quit, shutdown).
    pub(super) fn close(&mut self, to: ParticipantId) {
        self.emit(RoomEvent::Close { to });
    }

    /// The room has ended (empty, nothing pending) or its server has stopped.
    pub fn end(&mut self) {
        if !std::mem::replace(&mut self.closed, true) {
            self.log("ROOM", "ended");
        }
    }

    /// Tells everyone the server is stopping, closes every session and asks for the
    /// schedule to be saved.
    pub fn shutdown(&mut self) {
        if std::mem::replace(&mut self.closed, true) {
            return;
        }
        let line = ChatLine::server("The server is shutting down. Goodbye!").shared();
        self.broadcast(&line);
        for p in std::mem::take(&mut self.members) {
            self.close(p.who.id);
            self.emit(RoomEvent::Gone { id: p.who.id });
            self.log("LEAVE", format!("{} (server shutdown)", p.who.nick));
        }
        self.emit(RoomEvent::SaveSchedules);
        self.log("SHUTDOWN", "server stopping");
    }
}
