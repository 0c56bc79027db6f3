//! A node's mirror of one room: the members connected to this node, and a subscription
//! to the room's events, which it carries out for them as a lone server's room would
//! (outboxes with `try_send`, transcripts). A member whose outbox refuses is reported to
//! the room, which drops them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::task::AbortHandle;

use super::follow::follow;
use super::lock;
use super::membership::Membership;
use super::remote::RemoteRoom;
use super::sequence::Order;
use super::wire::{RoomKey, RoomRequest};
use crate::room::{LocalMember, LocalMembers, ParticipantId, Refused, RoomEvent};

/// How long a new mirror waits to learn where the room's numbering is (else it starts
/// at the first batch it receives).
const FIND_TIP_FOR: std::time::Duration = std::time::Duration::from_millis(500);

/// This node's mirrors, by the rooms' look-alike keys. A mirror is found and added to,
/// and emptied and ended, under one lock, so a member is never added to a mirror that
/// has just ended; of two made at once, one is kept.
#[derive(Default)]
pub struct Mirrors(Mutex<HashMap<String, Arc<RoomMirror>>>);

impl Mirrors {
    /// The mirror of the room with look-alike key `room_key`, if this node has one.
    pub fn get(&self, room_key: &str) -> Option<Arc<RoomMirror>> {
        lock(&self.0).get(room_key).cloned()
    }

    /// Every mirror of this node.
    pub fn all(&self) -> Vec<Arc<RoomMirror>> {
        lock(&self.0).values().cloned().collect()
    }

    /// Adds `member` to this node's mirror of `remote`'s room, made (and subscribed) if
    /// missing, for the members of `here`; `None` if it cannot be made.
    pub(super) async fn join(
        &self,
        here: &Arc<Membership>,
        remote: &RemoteRoom,
        member: LocalMember,
    ) -> Option<Arc<RoomMirror>> {
        let key = remote.room().key();
        if let Some(m) = lock(&self.0).get(key) {
            m.add(member);
            return Some(m.clone());
        }
        let made = RoomMirror::start(here, remote).await?;
        let mut mirrors = lock(&self.0);
        if let Some(m) = mirrors.get(key) {
            made.stop();
            m.add(member);
            return Some(m.clone());
        }
        made.add(member);
        mirrors.insert(key.to_string(), made.clone());
        Some(made)
    }

    /// Takes participant `id` out of the mirror of the room with look-alike key
    /// `room_key`; one left empty is ended and removed at once.
    pub fn forget(&self, room_key: &str, id: ParticipantId) {
        let mut mirrors = lock(&self.0);
        if let Some(m) = mirrors.get(room_key) {
            if m.remove(id) {
                mirrors.remove(room_key);
            }
        }
    }
}

/// This node's members of one room.
pub struct RoomMirror {
    members: Mutex<LocalMembers>,
    /// The room's name as shown, for the few lines that name it.
    name: Mutex<String>,
    room: RoomKey,
    task: Mutex<Option<AbortHandle>>,
}

impl RoomMirror {
    /// A mirror of `remote`'s room, subscribed to its events from the room's next batch
    /// on; `None` when NATS would not take the subscription.
    async fn start(here: &Arc<Membership>, remote: &RemoteRoom) -> Option<Arc<RoomMirror>> {
        let room = remote.room();
        let mirror = Arc::new(RoomMirror {
            members: Mutex::default(),
            name: Mutex::new(room.name().to_string()),
            room: room.clone(),
            task: Mutex::new(None),
        });
        match here.subscribe(room.events()).await {
            Ok(sub) => {
                // Subscribed first: every batch after the tip reaches the subscription.
                let remote = remote.clone();
                let tip = remote.resent(&RoomRequest::Tip, FIND_TIP_FOR).await;
                let order = tip.map_or_else(Order::default, |t| Order::at(t.term, t.last));
                let task = tokio::spawn(follow(here.clone(), remote, mirror.clone(), sub, order));
                *lock(&mirror.task) = Some(task.abort_handle());
                Some(mirror)
            }
            Err(error) => {
                tracing::warn!(%error, room = %room.name(), "cannot follow the room's events");
                None
            }
        }
    }

    /// Ends the subscription (a mirror made twice at once: one is kept).
    fn stop(&self) {
        if let Some(task) = lock(&self.task).take() {
            task.abort();
        }
    }

    pub fn add(&self, member: LocalMember) {
        lock(&self.members).add(member);
    }

    /// Carries out `events` for the members here; returns those whose outbox refused.
    pub(super) fn carry_out(&self, events: Vec<RoomEvent>, here: &Membership) -> Vec<Refused> {
        let name = lock(&self.name).clone();
        let sinks = here.sinks(&name);
        lock(&self.members).dispatch(events, &sinks).0
    }

    /// The room's keys.
    pub fn room(&self) -> &RoomKey {
        &self.room
    }

    /// The members here.
    pub fn ids(&self) -> Vec<ParticipantId> {
        lock(&self.members).ids()
    }

    /// The room's name as shown.
    pub fn name(&self) -> String {
        lock(&self.name).clone()
    }

    pub fn set_name(&self, name: &str) {
        *lock(&self.name) = name.to_string();
    }

    /// Takes member `id` out; true (and the subscription ended) when none is left.
    pub fn remove(&self, id: ParticipantId) -> bool {
        let empty = {
            let mut members = lock(&self.members);
            members.remove(id);
            members.is_empty()
        };
        if empty {
            self.stop();
        }
        empty
    }
}
