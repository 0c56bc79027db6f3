//! A node's mirror of one room: the members connected to this node, and a subscription
//! to the room's events, which it carries out for them as a lone server's room would
//! (outboxes with `try_send`, transcripts). A member whose outbox refuses is reported to
//! the room, which drops them.

use std::sync::{Arc, Mutex, MutexGuard};

use futures_util::StreamExt;
use tokio::task::AbortHandle;

use super::remote::RemoteRoom;
use super::rooms::Shared;
use super::wire::{room_events, Batch, WireEvent};
use crate::chat::room_name::RoomName;
use crate::room::{LocalMember, LocalMembers, ParticipantId, Refused, RoomEvent, Sinks};

/// This node's members of one room.
pub struct RoomMirror {
    members: Mutex<LocalMembers>,
    /// The room's name as shown, for the few lines that name it.
    name: Mutex<String>,
    task: Mutex<Option<AbortHandle>>,
}

impl RoomMirror {
    /// A mirror of `room`, subscribed to its events.
    pub(super) async fn start(shared: &Arc<Shared>, room: &RoomName) -> Arc<RoomMirror> {
        let mirror = Arc::new(RoomMirror {
            members: Mutex::default(),
            name: Mutex::new(room.to_string()),
            task: Mutex::new(None),
        });
        match shared
            .cluster
            .client
            .subscribe(room_events(room.key()))
            .await
        {
            Ok(sub) => {
                let task =
                    tokio::spawn(carry_out(shared.clone(), room.clone(), mirror.clone(), sub));
                *lock(&mirror.task) = Some(task.abort_handle());
            }
            Err(error) => tracing::warn!(%error, %room, "cannot follow the room's events"),
        }
        mirror
    }

    pub fn add(&self, member: LocalMember) {
        lock(&self.members).add(member);
    }

    /// Carries out `events` for the members here; returns those whose outbox refused.
    pub(super) fn carry_out(&self, events: Vec<RoomEvent>, shared: &Shared) -> Vec<Refused> {
        let name = lock(&self.name).clone();
        let sinks = Sinks {
            log: &shared.maker.log,
            room: &name,
            names: &shared.maker.names,
            metrics: &shared.maker.metrics,
        };
        lock(&self.members).dispatch(events, &sinks).0
    }

    /// The members here.
    pub fn ids(&self) -> Vec<ParticipantId> {
        lock(&self.members).ids()
    }

    pub fn set_name(&self, name: &str) {
        *lock(&self.name) = name.to_string();
    }

    /// Takes member `id` out; true (and the subscription ended) when none is left.
    pub fn remove(&self, id: ParticipantId) -> bool {
        let mut members = lock(&self.members);
        members.remove(id);
        let empty = members.is_empty();
        if empty {
            if let Some(task) = lock(&self.task).take() {
                task.abort();
            }
        }
        empty
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Carries out the room's events for this node's members, in the room's order: the
/// batches of other nodes (a node running the room carries out its own directly).
async fn carry_out(
    shared: Arc<Shared>,
    room: RoomName,
    mirror: Arc<RoomMirror>,
    mut sub: async_nats::Subscriber,
) {
    let remote = RemoteRoom::new(shared.clone(), room);
    while let Some(msg) = sub.next().await {
        let Ok(batch) = serde_json::from_slice::<Batch>(&msg.payload) else {
            tracing::warn!("an undecodable room event was skipped");
            continue;
        };
        if batch.from == *shared.cluster.node {
            continue;
        }
        let events = batch
            .events
            .into_iter()
            .map(WireEvent::into_event)
            .collect();
        for r in mirror.carry_out(events, &shared) {
            remote.dropped(r.id, r.session_ended);
        }
    }
}
