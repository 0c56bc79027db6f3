//! The actor's side of the bus for a room this node runs (the NATS side of `RoomLink`):
//! its events carried out here for this node's members and published to
//! `chat.room.<key>.ev` for the others, whispers to the target's node, the room's
//! snapshot and its public lines kept for a next owner, and scheduled messages claimed
//! in `chat_fired` before they are sent.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_nats::jetstream::kv::CreateErrorKind;
use bytes::Bytes;
use futures_util::future::BoxFuture;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use super::membership::Membership;
use super::sequence::Sent;
use super::snapshots::{keep_snapshots, Versioned};
use super::whisper::{Outgoing, Whispers};
use super::wire::{Batch, RoomKey, Whisper, WireEvent};
use super::{history, lock, Cluster};
use crate::chat::line::SharedLine;
use crate::room::schedule::{ScheduleBook, ScheduledMessage};
use crate::room::{LocalMember, Refused, RoomEvent, RoomLink, RoomState, Sinks};

/// The actor's side of the bus: events to `chat.room.<key>.ev`, whispers to
/// `chat.whisper`, snapshots to the keeper, claims of scheduled messages in `chat_fired`.
pub(super) struct Link {
    /// This node's members of the room, for whom it carries out its events itself.
    here: Arc<Membership>,
    node: Arc<str>,
    room_key: String,
    client: async_nats::Client,
    events: String,
    fired: async_nats::jetstream::kv::Store,
    room: String,
    /// Where its public lines go to be kept.
    history: mpsc::Sender<SharedLine>,
    /// The last public line kept (or found in the room's history when it started here).
    kept_line: Option<SharedLine>,
    /// Public lines to keep, after the events they came with.
    lines_to_keep: Vec<SharedLine>,
    keep: watch::Sender<Versioned>,
    kept: watch::Receiver<u64>,
    /// The batches sent in this run of the room, numbered and the latest kept.
    sent: Arc<Mutex<Sent>>,
    whispers: Outgoing,
    /// Events taken from the room, not yet carried.
    outgoing: Vec<RoomEvent>,
    /// The state changed since it was last kept.
    dirty: bool,
    /// The change must be stored before anyone is told of it: the scheduled messages
    /// or the membership changed (a next owner must know exactly who is in the room:
    /// a member it missed would be connected and unknown to it, one it kept a ghost).
    durable: bool,
}

/// How long a change that must not be lost (a join, a leave, a scheduled message)
/// waits for its snapshot to be stored: well under
/// [`REQUEST_TIMEOUT`](super::REQUEST_TIMEOUT), so that whoever asked for it hears back
/// rather than taking it for lost.
const KEEP_WAIT: Duration = Duration::from_secs(1);

impl Link {
    /// The link of `room` over `cluster`, reaching the members `here` and sending
    /// whispers through `whispers`, numbering its batches in `sent`, with its snapshot
    /// keeper and its tips started (ended by `stop`). `last_line` is the last line of
    /// the room's history (kept already).
    pub(super) fn start(
        cluster: &Arc<Cluster>,
        (here, whispers): (&Arc<Membership>, &Arc<Whispers>),
        (room, last_line): (&RoomKey, Option<SharedLine>),
        sent: Arc<Mutex<Sent>>,
        stop: CancellationToken,
    ) -> Link {
        let (keep, keep_rx) = watch::channel((0, false, None));
        let (kept_tx, kept) = watch::channel(0);
        tokio::spawn(keep_snapshots(
            cluster.clone(),
            room.clone(),
            keep_rx,
            kept_tx,
            stop.clone(),
        ));
        let events = room.events();
        tokio::spawn(tips(cluster.clone(), events.clone(), sent.clone(), stop));
        Link {
            here: here.clone(),
            node: cluster.node.clone(),
            room_key: room.key().to_string(),
            client: cluster.client.clone(),
            events,
            fired: cluster.fired.clone(),
            room: room.name().to_string(),
            history: history::keeper(cluster.client.clone(), room.history()),
            kept_line: last_line,
            lines_to_keep: Vec::new(),
            keep,
            kept,
            sent,
            whispers: Outgoing::start(whispers),
            outgoing: Vec::new(),
            dirty: true,
            durable: false,
        }
    }

    /// Queues the lines of `history` after the last one kept, to be kept.
    fn note_new_lines(&mut self, history: &VecDeque<SharedLine>) {
        let after = first_new_line(history, self.kept_line.as_ref());
        if after < history.len() {
            self.lines_to_keep.extend(history.range(after..).cloned());
            self.kept_line = history.back().cloned();
        }
    }

    /// Carries out `events` for this node's members of the room.
    fn carry_here(&self, events: Vec<RoomEvent>) -> Vec<Refused> {
        let mirror = self.here.mirror(&self.room_key);
        mirror.map_or_else(Vec::new, |m| m.carry_out(events, &self.here))
    }

    /// Carries out `events` here, publishes those for the other nodes, and returns the
    /// members here who could not be handed theirs.
    async fn carry_events(&self, events: Vec<RoomEvent>) -> Vec<Refused> {
        let mut wire = Vec::with_capacity(events.len());
        let mut here = Vec::with_capacity(events.len());
        for event in events {
            if let RoomEvent::Whisper {
                to,
                from,
                nick,
                line,
            } = event
            {
                let whisper = Whisper::new(to, line);
                self.whispers.send(whisper, &nick, from);
            } else if let Some(w) = WireEvent::from_event(&event) {
                wire.push(w);
                here.push(event);
            }
        }
        if wire.is_empty() {
            return Vec::new();
        }
        // This node's members first, straight from the actor; the others through
        // NATS (which does not echo them to this node).
        let refused = self.carry_here(here);
        let (term, seq) = {
            let sent = lock(&self.sent);
            (sent.term(), sent.next())
        };
        let batch = Arc::new(Batch {
            from: self.node.to_string(),
            term,
            seq,
            events: wire,
        });
        let payload = serde_json::to_vec(&*batch).unwrap_or_default();
        let now = tokio::time::Instant::now();
        lock(&self.sent).push(batch, payload.len(), now);
        let _ = self
            .client
            .publish(self.events.clone(), payload.into())
            .await;
        refused
    }
}

impl RoomLink for Link {
    /// Logs here, and queues the rest for [`Link::carry`] (a member who cannot be handed
    /// a line is reported back by their node as a [`crate::room::RoomCommand::Dropped`]).
    fn take(
        &mut self,
        events: Vec<RoomEvent>,
        sinks: &Sinks<'_>,
        _: &ScheduleBook,
    ) -> Vec<Refused> {
        self.dirty = true;
        for event in events {
            match event {
                RoomEvent::Log { kind, text } => {
                    sinks.log.event(kind, format!("{} {text}", sinks.room));
                }
                RoomEvent::SaveSchedules => self.durable = true,
                gone @ RoomEvent::Gone { .. } => {
                    self.durable = true;
                    self.outgoing.push(gone);
                }
                other => self.outgoing.push(other),
            }
        }
        Vec::new()
    }

    /// A new member is stored before anyone hears of them: their node keeps them in
    /// its mirror from now on, so a next owner must know them.
    fn admit(&mut self, _local: Option<LocalMember>) {
        self.durable = true;
    }

    fn keep(
        &mut self,
        state: &RoomState,
        held: &[ScheduledMessage],
        now: bool,
    ) -> Option<BoxFuture<'_, ()>> {
        self.note_new_lines(state.history());
        if !std::mem::take(&mut self.dirty) && !now {
            return None;
        }
        // The history is kept line by line instead (see `carry`).
        let mut snapshot = state.snapshot_without_history();
        for m in held {
            snapshot.schedules.push(m.clone());
            if let Some(session) = m.author_session {
                snapshot.authors.push((m.id, session));
            }
        }
        let durably = std::mem::take(&mut self.durable) || now;
        let version = self.keep.borrow().0 + 1;
        self.keep.send_replace((version, durably, Some(snapshot)));
        if !durably {
            return None;
        }
        Some(Box::pin(async move {
            let stored = self.kept.wait_for(|kept| *kept >= version);
            let _ = tokio::time::timeout(KEEP_WAIT, stored).await;
        }))
    }

    fn carry(&mut self) -> Option<BoxFuture<'_, Vec<Refused>>> {
        if self.outgoing.is_empty() && self.lines_to_keep.is_empty() {
            return None;
        }
        let events = std::mem::take(&mut self.outgoing);
        let lines = std::mem::take(&mut self.lines_to_keep);
        Some(Box::pin(async move {
            let refused = self.carry_events(events).await;
            for line in lines {
                if self.history.try_send(line).is_err() {
                    tracing::debug!(room = %self.room, "a line was not kept: too many waiting");
                }
            }
            refused
        }))
    }

    fn claim_due(&self, due: Vec<u64>) -> BoxFuture<'_, (Vec<u64>, Vec<u64>)> {
        Box::pin(async move {
            let (mut sent, mut unsure) = (Vec::new(), Vec::new());
            for id in due {
                let value: Bytes = self.room.clone().into();
                match self.fired.create(id.to_string(), value).await {
                    Ok(_) => {}
                    Err(e) if e.kind() == CreateErrorKind::AlreadyExists => sent.push(id),
                    Err(error) => {
                        tracing::warn!(%error, "cannot claim a scheduled message; holding it");
                        unsure.push(id);
                    }
                }
            }
            (sent, unsure)
        })
    }
}

/// Where the lines of `history` not kept yet start: after `kept`, the last line kept
/// (all of them when it is not there: none kept yet, or more lines came than the
/// history holds).
fn first_new_line(history: &VecDeque<SharedLine>, kept: Option<&SharedLine>) -> usize {
    kept.and_then(|kept| history.iter().rposition(|l| Arc::ptr_eq(l, kept)))
        .map_or(0, |i| i + 1)
}

/// How often a room's node drops the kept batches that are too old.
const PRUNE_EVERY: Duration = Duration::from_secs(5);

/// Says where the room's numbering is (a tip: a batch without events) each time this
/// node is back in contact with NATS: what it published while away may have reached
/// nobody, and the others ask for what they missed. Drops old batches meanwhile.
async fn tips(
    cluster: Arc<Cluster>,
    subject: String,
    sent: Arc<Mutex<Sent>>,
    stop: CancellationToken,
) {
    let mut resyncs = cluster.resyncs();
    let mut prune = tokio::time::interval(PRUNE_EVERY);
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = prune.tick() => {
                lock(&sent).prune(tokio::time::Instant::now());
                continue;
            }
            changed = resyncs.changed() => if changed.is_err() { return },
        }
        let tip = {
            let sent = lock(&sent);
            Batch {
                from: cluster.node.to_string(),
                term: sent.term(),
                seq: sent.next() - 1,
                events: Vec::new(),
            }
        };
        let payload = serde_json::to_vec(&tip).unwrap_or_default();
        let _ = cluster
            .client
            .publish(subject.clone(), payload.into())
            .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::line::ChatLine;

    fn lines(n: usize) -> VecDeque<SharedLine> {
        (0..n)
            .map(|i| ChatLine::server(format!("line {i}")).shared())
            .collect()
    }

    #[test]
    fn the_lines_after_the_last_kept_are_new() {
        let history = lines(4);
        assert_eq!(first_new_line(&history, None), 0);
        assert_eq!(first_new_line(&history, Some(&history[1])), 2);
        assert_eq!(first_new_line(&history, Some(&history[3])), 4);
        // The same words are another line: only the line kept counts.
        let same_words = ChatLine::server("line 3").shared();
        assert_eq!(first_new_line(&history, Some(&same_words)), 0);
    }
}
