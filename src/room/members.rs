//! Local delivery: the connections of a room's members on this server, and the turning
//! of [`RoomEvent`]s into `try_send`s (the in-process side of the room's link, and what
//! a cluster node's mirror of a room delivers with). A full outbox means
//! its reader stopped reading: it gets nothing more, and the room is told to drop it.

use tokio::sync::mpsc::error::TrySendError;

use super::event::RoomEvent;
use super::{Delivery, ParticipantId};
use crate::chat::line::SharedLine;
use crate::delivery::{Connections, Reach};
use crate::log::LogSink;
use crate::metrics::{Cut, Metrics};

/// One member's connection, as the room delivers to it.
pub struct LocalMember {
    pub id: ParticipantId,
    pub reach: Reach,
    /// Its outbox overflowed or closed: it gets nothing more.
    stalled: bool,
}

impl LocalMember {
    /// Member `id`, reached through `reach`.
    pub fn new(id: ParticipantId, reach: Reach) -> LocalMember {
        LocalMember {
            id,
            reach,
            stalled: false,
        }
    }
}

/// A member whose outbox refused a delivery; `session_ended` if it was closed rather
/// than full.
pub struct Refused {
    pub id: ParticipantId,
    pub session_ended: bool,
}

/// The members of one room on this server.
#[derive(Default)]
pub struct LocalMembers {
    members: Vec<LocalMember>,
}

/// Where events go besides the members: the log, everyone connected here (whispers to
/// other rooms), and the counts.
pub struct Sinks<'a> {
    pub log: &'a LogSink,
    pub room: &'a str,
    pub connections: &'a Connections,
    pub metrics: &'a Metrics,
}

/// What one dispatch handed over and cut, added to the metrics once per batch.
#[derive(Default)]
struct Tally {
    delivered: u64,
    slow: u64,
}

impl LocalMembers {
    pub fn add(&mut self, member: LocalMember) {
        self.members.push(member);
    }

    /// Takes member `id` out (they left this room).
    pub fn remove(&mut self, id: ParticipantId) {
        self.members.retain(|m| m.id != id);
    }

    /// Who they are.
    pub fn ids(&self) -> Vec<ParticipantId> {
        self.members.iter().map(|m| m.id).collect()
    }

    /// Whether no member is left.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// Carries out `events`; returns the members whose outbox refused a delivery and
    /// whether the schedule is to be saved.
    pub fn dispatch(&mut self, events: Vec<RoomEvent>, sinks: &Sinks<'_>) -> (Vec<Refused>, bool) {
        let mut refused = Vec::new();
        let mut save = false;
        let mut tally = Tally::default();
        for event in events {
            match event {
                RoomEvent::ToOne { to, delivery } => {
                    if let Some(at) = self.position(to) {
                        self.deliver_at(at, delivery, sinks.log, &mut refused, &mut tally);
                    }
                }
                RoomEvent::ToAll { line, except } => {
                    for at in 0..self.members.len() {
                        if !except.contains(&self.members[at].id) {
                            let delivery = Delivery::Line(line.clone());
                            self.deliver_at(at, delivery, sinks.log, &mut refused, &mut tally);
                        }
                    }
                }
                RoomEvent::Whisper { to, line, .. } => {
                    self.whisper(to, line, sinks, &mut refused, &mut tally);
                }
                RoomEvent::Close { to } => {
                    if let Some(m) = self.find(to) {
                        if m.reach.outbox.try_send(Delivery::Close).is_err() {
                            m.reach.kill.cancel();
                        }
                    }
                }
                RoomEvent::Cut { to } => {
                    if let Some(m) = self.find(to) {
                        tracing::info!("dropped: stopped reading");
                        m.reach.kill.cancel();
                    }
                }
                RoomEvent::Gone { id } => self.members.retain(|m| m.id != id),
                RoomEvent::Log { kind, text } => {
                    sinks.log.event(kind, format!("{} {text}", sinks.room));
                }
                RoomEvent::SaveSchedules => save = true,
                // Kept by the room's actor before its events reach its members.
                RoomEvent::KickBanned(_) => {}
            }
        }
        if tally.delivered > 0 {
            sinks.metrics.deliveries.inc_by(tally.delivered);
        }
        sinks.metrics.cut_by(Cut::SlowReader, tally.slow);
        (refused, save)
    }

    fn find(&self, id: ParticipantId) -> Option<&LocalMember> {
        self.members.iter().find(|m| m.id == id)
    }

    fn position(&self, id: ParticipantId) -> Option<usize> {
        self.members.iter().position(|m| m.id == id)
    }

    /// Hands `delivery` to the member at `at` and records its lines in their
    /// transcript; a refusal marks them stalled.
    fn deliver_at(
        &mut self,
        at: usize,
        delivery: Delivery,
        log: &LogSink,
        refused: &mut Vec<Refused>,
        tally: &mut Tally,
    ) {
        let m = &mut self.members[at];
        if m.stalled {
            return;
        }
        // What goes in the transcript once the delivery is in the outbox.
        let logged = log.keeps_transcripts().then(|| delivery.clone());
        match m.reach.outbox.try_send(delivery) {
            Ok(()) => {
                tally.delivered += 1;
                for line in logged.as_ref().map_or(&[][..], Delivery::lines) {
                    log.transcript(&m.reach.transcript, line);
                }
            }
            Err(TrySendError::Full(_) | TrySendError::Closed(_)) => {
                m.stalled = true;
                let session_ended = m.reach.outbox.is_closed();
                tally.slow += u64::from(!session_ended);
                refused.push(Refused {
                    id: m.id,
                    session_ended,
                });
            }
        }
    }

    /// A whisper: to a member here, or to someone connected here in another room.
    fn whisper(
        &mut self,
        to: ParticipantId,
        line: SharedLine,
        sinks: &Sinks<'_>,
        refused: &mut Vec<Refused>,
        tally: &mut Tally,
    ) {
        if let Some(at) = self.position(to) {
            self.deliver_at(at, Delivery::Line(line), sinks.log, refused, tally);
            return;
        }
        sinks.connections.whisper(sinks.log, to, &line);
    }
}
