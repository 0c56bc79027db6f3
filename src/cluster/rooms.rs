//! Room placement across the cluster (the NATS side of `RoomPlacement`): a room's actor
//! runs on the node holding its lease (`chat_leases`, renewed every second, lapsing
//! after [`LEASE`](super::LEASE)); every node keeps a mirror of its own members per
//! room and carries out the room's events for them. A room whose node dies is taken
//! over from its snapshot.

use std::collections::HashSet;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::mirror::Mirrors;
use super::placement::{self, OwnedRooms};
use super::remote::{server_line, RemoteRoom};
use super::wire::{Lease, Presence, RoomKey, RoomReply, RoomRequest};
use super::{key_of, Cluster, ClusterNames, Mirror, NodeClaim};
use crate::bans::Ban;
use crate::chat::room_name::RoomName;
use crate::delivery::Reach;
use crate::room::directory::RoomMaker;
use crate::room::{
    EnterError, Entered, Entrant, JoinError, Listed, LocalMember, ParticipantId, RoomCommand,
    RoomHandle, RoomPlacement,
};

/// What a node's rooms share.
pub(super) struct Shared {
    pub cluster: Cluster,
    pub maker: RoomMaker,
    pub default_room: RoomName,
    pub names: ClusterNames,
    /// Live copies of the leases, the nodes and the online names.
    pub leases: Mirror,
    pub nodes: Mirror,
    pub online: Mirror,
    /// The rooms this node runs.
    pub owned: OwnedRooms,
    /// This node's members, per room.
    pub mirrors: Mirrors,
    /// Cancelled when this node starts to stop: from then on it takes no room.
    pub stopping: CancellationToken,
    /// Cancelled once this node's presence is no longer renewed (after `stopping`): only
    /// then may the stop write it, or a renewal in flight could make it again after the
    /// stop deleted it.
    pub presence_done: CancellationToken,
}

impl Shared {
    /// The answer of room `room_key`'s actor when it runs on this node.
    pub async fn ask_here(&self, room_key: &str, request: &RoomRequest) -> Option<RoomReply> {
        let owned = self.owned.get(room_key)?;
        owned.answer(request.clone()).await
    }

    /// Whether node `node` is present and not stopping.
    pub fn node_runs(&self, node: &str) -> bool {
        self.nodes
            .get(&key_of(node))
            .and_then(|v| serde_json::from_slice::<Presence>(&v).ok())
            .is_some_and(|p| !p.stopping)
    }

    /// Tells participant `id`, if connected here, `text` as a `[Server]:` line.
    pub fn tell(&self, id: ParticipantId, text: &str) {
        if let Some(reach) = self.maker.connections.get(id) {
            let _ = reach.outbox.try_send(server_line(text));
        }
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
            let _ = placement::make_if_missing(self, room, usize::MAX).await;
        }
    }
}

/// The cluster side of the room directory.
pub struct ClusterRooms {
    shared: Arc<Shared>,
    /// Most rooms in the whole cluster.
    max_rooms: usize,
}

impl ClusterRooms {
    /// Starts this node's part of the cluster: presence (kept from `claim`), the watches
    /// that notice dead nodes and lapsed rooms, whispers, and the outage notices.
    ///
    /// # Errors
    /// The buckets cannot be watched.
    pub async fn start(
        cluster: Cluster,
        claim: NodeClaim,
        names: ClusterNames,
        maker: RoomMaker,
        default_room: RoomName,
        max_rooms: usize,
    ) -> anyhow::Result<Arc<ClusterRooms>> {
        let (lease_tx, lease_rx) = mpsc::channel(4096);
        let (node_tx, node_rx) = mpsc::channel(256);
        let shared = Arc::new(Shared {
            names,
            leases: Mirror::watch(&cluster.leases, Some(lease_tx)).await?,
            nodes: Mirror::watch(&cluster.nodes, Some(node_tx)).await?,
            online: Mirror::watch(&cluster.online, None).await?,
            cluster,
            maker,
            default_room,
            owned: OwnedRooms::default(),
            mirrors: Mirrors::default(),
            stopping: CancellationToken::new(),
            presence_done: CancellationToken::new(),
        });
        super::nodes::start(&shared, claim, lease_rx, node_rx).await?;
        tokio::spawn(super::whisper::serve(shared.clone()));
        // This node's admins file is the cluster's list from now on.
        let admins = shared.maker.admin_keys();
        if let Err(error) = super::admins::publish(&shared.cluster, &admins).await {
            tracing::warn!(%error, "cannot publish the admins file to the cluster");
        }
        tokio::spawn(super::admins::follow(shared.clone()));
        tokio::spawn(outage_notices(shared.clone()));
        Ok(Arc::new(ClusterRooms { shared, max_rooms }))
    }

    /// Enters `room` (nickname already claimed), making it if nobody runs it.
    ///
    /// # Errors
    /// The room refused, cannot be reached, or there are too many rooms.
    async fn enter_room(
        &self,
        name: &RoomName,
        mut entrant: Entrant,
        reach: Reach,
    ) -> Result<Entered, EnterError> {
        let shared = &self.shared;
        let room = &RoomKey::of(name);
        let id = entrant.who.id;
        entrant.creator = placement::make_if_missing(shared, room, self.max_rooms).await?;
        let member = LocalMember::new(id, reach);
        let Some(mirror) = shared.mirrors.join(shared, room, member).await else {
            return Err(EnterError::Join(JoinError::Unreachable));
        };
        let remote = RemoteRoom::new(shared.clone(), room.clone());
        match remote.join(entrant).await {
            Ok(joined) => {
                let shown = self.shown(room);
                mirror.set_name(&shown.to_string());
                Ok((RoomHandle::elsewhere(Arc::new(remote)), joined, shown))
            }
            Err(refused) => {
                shared.mirrors.forget(room.key(), id);
                Err(EnterError::refused(refused, &self.shown(room).to_string()))
            }
        }
    }

    /// The room's name as it spells itself.
    fn shown(&self, room: &RoomKey) -> RoomName {
        self.lease(room)
            .and_then(|l| RoomName::parse(&l.room).ok())
            .unwrap_or_else(|| room.name().clone())
    }

    fn lease(&self, room: &RoomKey) -> Option<Lease> {
        let value = self.shared.leases.get(room.bucket())?;
        serde_json::from_slice(&value).ok()
    }

    /// Participant `id` leaves `room`.
    fn leave_room(&self, room: &RoomName, id: ParticipantId) {
        self.shared.mirrors.forget(room.key(), id);
        RemoteRoom::new(self.shared.clone(), RoomKey::of(room)).leave(id);
    }

    /// New server admin keys (SIGHUP), for every room of the cluster: published to
    /// every node. Without NATS they hold on this node until the next reload.
    async fn publish_admins(&self, keys: HashSet<String>) {
        if let Err(error) = super::admins::publish(&self.shared.cluster, &keys).await {
            tracing::warn!(%error, "the new admins reach this node's rooms only");
            super::admins::apply(&self.shared, keys).await;
        }
    }

    /// This node stops: its participants are told and closed, they leave their rooms
    /// at once, and the rooms it runs are handed on (see [`super::stop`]).
    async fn stop_node(&self) {
        // As a lone server's rooms do (theirs end here; a node's are handed on).
        let node = &self.shared.cluster.node;
        self.shared.maker.log.event(
            "SHUTDOWN",
            format!("server stopping (node {node}; its rooms are handed on)"),
        );
        for reach in self.shared.maker.connections.everyone() {
            let _ = reach
                .outbox
                .try_send(server_line("The server is shutting down. Goodbye!"));
            let _ = reach.outbox.try_send(crate::room::Delivery::Close);
        }
        super::stop::stop(&self.shared).await;
    }
}

/// The cluster's side of room placement: each room runs on the node holding its lease.
impl RoomPlacement for ClusterRooms {
    fn node(&self) -> &str {
        &self.shared.cluster.node
    }

    fn enter<'a>(
        &'a self,
        room: &'a RoomName,
        entrant: Entrant,
        reach: Reach,
    ) -> BoxFuture<'a, Result<Entered, EnterError>> {
        Box::pin(self.enter_room(room, entrant, reach))
    }

    fn leave<'a>(&'a self, room: &'a RoomName, id: ParticipantId) -> BoxFuture<'a, ()> {
        self.leave_room(room, id);
        Box::pin(std::future::ready(()))
    }

    /// The handle of `room`, if someone runs it.
    fn handle(&self, room: &RoomName) -> Option<RoomHandle> {
        let room = RoomKey::of(room);
        self.lease(&room)?;
        let remote = RemoteRoom::new(self.shared.clone(), room);
        Some(RoomHandle::elsewhere(Arc::new(remote)))
    }

    /// Every room of the cluster; the default room always, as on a lone server (until
    /// someone enters it, nobody runs it yet).
    fn rooms(&self) -> Vec<Listed> {
        let leases = self.shared.leases.values::<Lease>();
        let mut rooms: Vec<Listed> = leases
            .into_iter()
            .map(|(_, l)| Listed {
                participants: l.members,
                name: l.room,
                locked: l.locked,
            })
            .collect();
        let default = &self.shared.default_room;
        if !self.shared.leases.contains(RoomKey::of(default).bucket()) {
            rooms.push(Listed {
                participants: 0,
                name: default.to_string(),
                locked: false,
            });
        }
        rooms
    }

    fn set_admin_keys(&self, keys: HashSet<String>) -> BoxFuture<'_, ()> {
        Box::pin(self.publish_admins(keys))
    }

    fn enforce(&self, ban: Ban, told: String) -> BoxFuture<'_, ()> {
        // Every node hears of the ban; each puts people out of the rooms it runs.
        Box::pin(async move {
            for actor in self.shared.owned.actors() {
                let (ban, told) = (ban.clone(), told.clone());
                let _ = actor.send(RoomCommand::Enforce { ban, told }).await;
            }
        })
    }

    fn shutdown(&self) -> BoxFuture<'_, ()> {
        Box::pin(self.stop_node())
    }
}

/// Tells everyone here, once, when this node loses and regains NATS.
async fn outage_notices(shared: Arc<Shared>) {
    let mut changes = shared.cluster.connection_changes();
    let mut was = true;
    while changes.changed().await.is_ok() {
        let now = *changes.borrow_and_update();
        if now == was {
            continue;
        }
        was = now;
        let text = if now {
            "Back in contact with the other chat servers."
        } else {
            "Lost contact with the other chat servers; what you type now is not sent. Reconnecting..."
        };
        shared.maker.log.event(
            "CLUSTER",
            if now {
                "reconnected to NATS"
            } else {
                "lost NATS"
            },
        );
        for reach in shared.maker.connections.everyone() {
            let _ = reach.outbox.try_send(server_line(text));
        }
    }
}
