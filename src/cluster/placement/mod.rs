//! Room placement in the cluster, one concept in a few files: which node runs a room is
//! whoever holds its lease in `chat_leases`. [`owner`] wins the lease (making the room,
//! or taking it over from its snapshot when the lease lapsed, [`takeover`]) and runs the
//! room's actor, answering `chat.room.<key>.in`; [`lease`] keeps the lease while the
//! room runs here (renewing it, ending an empty room, stepping down when another node
//! holds it); [`OwnedRooms`] is the table of the rooms this node runs. [`Placement`] is
//! the handle the rest of the cluster holds.

mod lease;
mod owned;
mod owner;
mod takeover;

use std::collections::HashSet;
use std::sync::Arc;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::bucket::Mirror;
use super::membership::Membership;
use super::nodes::Liveness;
use super::whisper::Whispers;
use super::wire::{Lease, RoomKey, RoomReply, RoomRequest};
use super::{key_of, Cluster};
use crate::chat::room_name::RoomName;
use crate::room::directory::RoomMaker;
use crate::room::{Listed, RoomCommand};

use owned::OwnedRooms;
pub(super) use owner::make_if_missing;
use owner::Owned;
pub(super) use takeover::{adopt_orphans, on_lapsed_leases};

/// Which rooms run where, and the rooms this node runs.
pub(super) struct Placement {
    cluster: Arc<Cluster>,
    /// What this node's rooms are made from.
    maker: RoomMaker,
    default_room: RoomName,
    /// A live copy of the leases: who runs which room.
    leases: Mirror,
    /// The rooms this node runs.
    owned: OwnedRooms,
    /// Cancelled when this node starts to stop: from then on it takes no room.
    stopping: CancellationToken,
    /// Which nodes live (a dead node's room is taken over, its members dropped).
    liveness: Arc<Liveness>,
    /// This node's members, for whom a room run here carries out its events.
    here: Arc<Membership>,
    /// Where a room run here sends its whispers.
    whispers: Arc<Whispers>,
}

impl Placement {
    /// Placement over `cluster`, the leases as the live copy `leases` shows them; rooms
    /// are made by `maker`, and none is taken once `stopping` is cancelled.
    pub fn new(
        cluster: Arc<Cluster>,
        (maker, default_room): (RoomMaker, RoomName),
        leases: Mirror,
        stopping: CancellationToken,
        liveness: Arc<Liveness>,
        here: Arc<Membership>,
        whispers: Arc<Whispers>,
    ) -> Placement {
        Placement {
            cluster,
            maker,
            default_room,
            leases,
            owned: OwnedRooms::default(),
            stopping,
            liveness,
            here,
            whispers,
        }
    }

    /// The answer of room `room_key`'s actor when it runs on this node.
    pub async fn ask_here(&self, room_key: &str, request: &RoomRequest) -> Option<RoomReply> {
        let owned = self.owned.get(room_key)?;
        owned.answer(request.clone()).await
    }

    /// How many rooms the cluster has: those leased, and the default room, which always
    /// exists (as on a lone server), leased or not yet.
    pub fn rooms_counted(&self) -> usize {
        let default = RoomKey::of(&self.default_room);
        self.leases.len() + usize::from(!self.leases.contains(default.bucket()))
    }

    /// Makes sure someone runs `room`: a room with a snapshot and no lease is taken
    /// over (its node died, or the whole cluster restarted).
    pub async fn ensure_running(self: &Arc<Self>, room: &RoomKey) {
        if !self.leases.contains(room.bucket()) && !self.stopping.is_cancelled() {
            let _ = make_if_missing(self, room, usize::MAX).await;
        }
    }

    /// The lease of `room`, as this node last saw it.
    pub fn lease(&self, room: &RoomKey) -> Option<Lease> {
        let value = self.leases.get(room.bucket())?;
        serde_json::from_slice(&value).ok()
    }

    /// The node holding the lease `key` (a room's bucket key), as this node last saw it.
    pub fn holder(&self, key: &str) -> Option<String> {
        let lease = self.leases.get(key)?;
        serde_json::from_slice::<Lease>(&lease).ok().map(|l| l.node)
    }

    /// Every room of the cluster; the default room always, as on a lone server (until
    /// someone enters it, nobody runs it yet).
    pub fn listed(&self) -> Vec<Listed> {
        let leases = self.leases.values::<Lease>();
        let mut rooms: Vec<Listed> = leases
            .into_iter()
            .map(|(_, l)| Listed {
                participants: l.members,
                name: l.room,
                locked: l.locked,
            })
            .collect();
        let default = &self.default_room;
        if !self.leases.contains(RoomKey::of(default).bucket()) {
            rooms.push(Listed {
                participants: 0,
                name: default.to_string(),
                locked: false,
            });
        }
        rooms
    }

    /// The actors of every room this node runs.
    pub fn actors(&self) -> Vec<mpsc::Sender<RoomCommand>> {
        self.owned.actors()
    }

    /// The actor of the room with look-alike key `room_key`, if this node runs it.
    pub fn actor_of(&self, room_key: &str) -> Option<mpsc::Sender<RoomCommand>> {
        self.owned.get(room_key).map(|owned| owned.actor)
    }

    /// `keys` for the rooms this node runs and makes.
    pub async fn set_admin_keys(&self, keys: HashSet<String>) {
        self.maker.set_admin_keys(keys.clone());
        for actor in self.owned.actors() {
            let keys = keys.clone();
            let _ = actor.send(RoomCommand::SetAdminKeys { keys }).await;
        }
    }

    /// This node takes no room from now on (it is stopping).
    pub fn stop_taking(&self) {
        self.stopping.cancel();
    }

    /// Every room this node runs, taken out of the table (a stop hands them on).
    pub fn drain(&self) -> Vec<(String, Owned)> {
        self.owned.drain()
    }

    /// Gives up the lease of the room with look-alike key `room_key` (handed on).
    pub async fn give_up(&self, room_key: &str) {
        let _ = self.cluster.leases.purge(key_of(room_key)).await;
    }
}
