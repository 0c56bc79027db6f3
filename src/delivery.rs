//! Delivery to the participants connected to this server: what a session receives
//! ([`Delivery`], through its bounded [`Outbox`]), how one participant is reached from
//! anywhere on this server ([`Reach`]: outbox, kill switch, transcript), and the table
//! of everyone connected here ([`Connections`]), which whispers across rooms, the
//! cluster's notices and a node's stop go through. The rooms and the cluster both use
//! it; it knows nothing of either.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::chat::line::SharedLine;
use crate::chat::nickname::Nickname;
use crate::log::LogSink;
use crate::participant::ParticipantId;

/// What a participant's session receives, in order.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub enum Delivery {
    /// A line to show.
    Line(SharedLine),
    /// Several lines to show, taking one place in the outbox (the welcome).
    Lines(Box<[SharedLine]>),
    /// The participant's nickname changed (the prompt shows it). Boxed, like the lines
    /// above, so that a delivery is three words and an idle outbox's first block small.
    Renamed(Box<Nickname>),
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

/// How to reach a participant connected to this server, from any room.
#[derive(Debug, Clone)]
pub struct Reach {
    pub outbox: Outbox,
    /// Cancelled to cut the participant off (their socket is shut down).
    pub kill: CancellationToken,
    /// Their transcript, which follows them from room to room.
    pub transcript: Arc<str>,
}

/// Everyone connected to this server, by id; clones share the table.
#[derive(Clone, Default)]
pub struct Connections {
    table: Arc<Mutex<HashMap<ParticipantId, Reach>>>,
}

impl Connections {
    fn table(&self) -> MutexGuard<'_, HashMap<ParticipantId, Reach>> {
        self.table.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Participant `id` is connected here and reachable so.
    pub fn add(&self, id: ParticipantId, reach: Reach) {
        self.table().insert(id, reach);
    }

    /// Participant `id` has left this server.
    pub fn remove(&self, id: ParticipantId) {
        self.table().remove(&id);
    }

    /// How to reach participant `id`, if they are connected here.
    pub fn get(&self, id: ParticipantId) -> Option<Reach> {
        self.table().get(&id).cloned()
    }

    /// Everyone connected here.
    pub fn everyone(&self) -> Vec<Reach> {
        self.table().values().cloned().collect()
    }

    /// Hands a whisper to participant `to` if they are connected to this server, in
    /// whatever room they are, and records it in their transcript.
    pub fn whisper(&self, log: &LogSink, to: ParticipantId, line: &SharedLine) {
        let Some(target) = self.get(to) else {
            return;
        };
        if target.outbox.try_send(Delivery::Line(line.clone())).is_ok() {
            log.transcript(&target.transcript, line);
        } else {
            // Their outbox is full: they stopped reading, and their own room drops them.
            target.kill.cancel();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every outbox holds a first block of 32 deliveries from the start, idle or not: at
    /// three words a delivery, that block is 768 bytes a session (it was 1,792).
    #[test]
    fn a_delivery_is_three_words() {
        assert!(std::mem::size_of::<Delivery>() <= 3 * std::mem::size_of::<usize>());
    }
}
