//! Room placement across the cluster (the NATS side of `RoomPlacement`): a room's actor
//! runs on the node holding its lease (`chat_leases`, renewed every second, lapsing
//! after [`LEASE`](super::LEASE)); every node keeps a mirror of its own members per
//! room and carries out the room's events for them. A room whose node dies is taken
//! over from its snapshot.

use std::collections::HashSet;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use super::membership::Membership;
use super::names::Online;
use super::nodes::Liveness;
use super::placement::{self, Placement};
use super::remote::RemoteRoom;
use super::whisper::Whispers;
use super::wire::RoomKey;
use super::{Cluster, ClusterNames, Mirror, NodeClaim};
use crate::bans::Ban;
use crate::chat::room_name::RoomName;
use crate::delivery::Reach;
use crate::room::directory::RoomMaker;
use crate::room::{
    EnterError, Entered, Entrant, JoinError, Listed, LocalMember, ParticipantId, RoomCommand,
    RoomHandle, RoomPlacement,
};

/// The cluster side of the room directory: this node's part of the cluster, each piece
/// behind its own handle.
pub struct ClusterRooms {
    cluster: Arc<Cluster>,
    /// Which rooms run where, and the rooms this node runs.
    placement: Arc<Placement>,
    /// This node's people and its mirror of each room they are in.
    here: Arc<Membership>,
    /// Which nodes live, and this node's presence.
    liveness: Arc<Liveness>,
    /// Who is online on which node.
    online: Online,
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
        let leases = Mirror::watch(&cluster.leases, Some(lease_tx)).await?;
        let nodes = Mirror::watch(&cluster.nodes, Some(node_tx)).await?;
        let online = Online::new(names, Mirror::watch(&cluster.online, None).await?);
        let cluster = Arc::new(cluster);
        let stopping = CancellationToken::new();
        // This node's admins file is the cluster's list from now on.
        let admins = maker.admin_keys();
        let here = Arc::new(Membership::new(cluster.clone(), &maker));
        let log = maker.log.clone();
        let liveness = Arc::new(Liveness::new(cluster.clone(), nodes, log, stopping.clone()));
        let whispers = Arc::new(Whispers::new(&cluster, online.clone(), here.clone()));
        let placement = Arc::new(Placement::new(
            cluster.clone(),
            (maker, default_room),
            leases,
            stopping,
            liveness.clone(),
            here.clone(),
            whispers.clone(),
        ));
        super::nodes::start(&liveness, &placement, &online, claim, lease_rx, node_rx).await?;
        tokio::spawn(super::whisper::serve(whispers));
        if let Err(error) = super::admins::publish(&cluster, &admins).await {
            tracing::warn!(%error, "cannot publish the admins file to the cluster");
        }
        let settings = cluster.settings.clone();
        tokio::spawn(super::admins::follow(settings, placement.clone()));
        tokio::spawn(outage_notices(cluster.connection_changes(), here.clone()));
        Ok(Arc::new(ClusterRooms {
            cluster,
            placement,
            here,
            liveness,
            online,
            max_rooms,
        }))
    }

    /// The bus to `room`'s actor, wherever it runs.
    fn remote(&self, room: RoomKey) -> RemoteRoom {
        let parts = (self.placement.clone(), self.here.clone());
        RemoteRoom::new(self.cluster.clone(), parts, room)
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
        let room = &RoomKey::of(name);
        let id = entrant.who.id;
        entrant.creator = placement::make_if_missing(&self.placement, room, self.max_rooms).await?;
        let member = LocalMember::new(id, reach);
        let remote = self.remote(room.clone());
        let Some(mirror) = self.here.join(&remote, member).await else {
            return Err(EnterError::Join(JoinError::Unreachable));
        };
        match remote.join(entrant).await {
            Ok(joined) => {
                let shown = self.shown(room);
                mirror.set_name(&shown.to_string());
                Ok((RoomHandle::elsewhere(Arc::new(remote)), joined, shown))
            }
            Err(refused) => {
                self.here.forget(room.key(), id);
                Err(EnterError::refused(refused, &self.shown(room).to_string()))
            }
        }
    }

    /// The room's name as it spells itself.
    fn shown(&self, room: &RoomKey) -> RoomName {
        self.placement
            .lease(room)
            .and_then(|l| RoomName::parse(&l.room).ok())
            .unwrap_or_else(|| room.name().clone())
    }

    /// Participant `id` leaves `room`.
    fn leave_room(&self, room: &RoomName, id: ParticipantId) {
        self.here.forget(room.key(), id);
        self.remote(RoomKey::of(room)).leave(id);
    }

    /// New server admin keys (SIGHUP), for every room of the cluster: published to
    /// every node. Without NATS they hold on this node until the next reload.
    async fn publish_admins(&self, keys: HashSet<String>) {
        if let Err(error) = super::admins::publish(&self.cluster, &keys).await {
            tracing::warn!(%error, "the new admins reach this node's rooms only");
            self.placement.set_admin_keys(keys).await;
        }
    }

    /// This node stops: its participants are told and closed, they leave their rooms
    /// at once, and the rooms it runs are handed on (see [`super::stop`]).
    async fn stop_node(&self) {
        // As a lone server's rooms do (theirs end here; a node's are handed on).
        let node = &self.cluster.node;
        self.here.event(
            "SHUTDOWN",
            format!("server stopping (node {node}; its rooms are handed on)"),
        );
        self.here
            .close_everyone("The server is shutting down. Goodbye!");
        let (placement, here) = (&self.placement, &self.here);
        super::stop::stop(&self.cluster, placement, &self.liveness, here, &self.online).await;
    }
}

/// The cluster's side of room placement: each room runs on the node holding its lease.
impl RoomPlacement for ClusterRooms {
    fn node(&self) -> &str {
        &self.cluster.node
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
        self.placement.lease(&room)?;
        Some(RoomHandle::elsewhere(Arc::new(self.remote(room))))
    }

    /// Every room of the cluster; the default room always, as on a lone server (until
    /// someone enters it, nobody runs it yet).
    fn rooms(&self) -> Vec<Listed> {
        self.placement.listed()
    }

    fn set_admin_keys(&self, keys: HashSet<String>) -> BoxFuture<'_, ()> {
        Box::pin(self.publish_admins(keys))
    }

    fn enforce(&self, ban: Ban, told: String) -> BoxFuture<'_, ()> {
        // Every node hears of the ban; each puts people out of the rooms it runs.
        Box::pin(async move {
            for actor in self.placement.actors() {
                let (ban, told) = (ban.clone(), told.clone());
                let _ = actor.send(RoomCommand::Enforce { ban, told }).await;
            }
        })
    }

    fn shutdown(&self) -> BoxFuture<'_, ()> {
        Box::pin(self.stop_node())
    }
}

/// Tells everyone here, once, when this node loses and regains NATS (`changes`).
async fn outage_notices(mut changes: watch::Receiver<bool>, here: Arc<Membership>) {
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
        here.event(
            "CLUSTER",
            if now {
                "reconnected to NATS"
            } else {
                "lost NATS"
            },
        );
        here.tell_everyone(text);
    }
}
