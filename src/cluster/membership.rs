//! This node's people in the cluster's rooms: everyone connected here, and this node's
//! mirror of each room they are in ([`super::mirror`]). The other parts reach them only
//! through this handle: a `[Server]:` line to one or to everyone, a room's events
//! carried out for the members here, a whisper handed to its target here.

use std::sync::Arc;

use tokio::sync::watch;

use super::mirror::{Mirrors, RoomMirror};
use super::remote::{server_line, RemoteRoom};
use super::Cluster;
use crate::chat::line::SharedLine;
use crate::delivery::Connections;
use crate::log::LogSink;
use crate::metrics::Metrics;
use crate::room::directory::RoomMaker;
use crate::room::{Delivery, LocalMember, ParticipantId, Sinks};

/// This node's connections and its members per room.
pub(super) struct Membership {
    cluster: Arc<Cluster>,
    /// Everyone connected to this node (the room maker's connections).
    connections: Connections,
    log: LogSink,
    metrics: Arc<Metrics>,
    /// This node's members, per room.
    mirrors: Mirrors,
}

impl Membership {
    /// The members of this node, reached through `maker`'s connections.
    pub fn new(cluster: Arc<Cluster>, maker: &RoomMaker) -> Membership {
        Membership {
            cluster,
            connections: maker.connections.clone(),
            log: maker.log.clone(),
            metrics: maker.metrics.clone(),
            mirrors: Mirrors::default(),
        }
    }

    /// This node's name.
    pub fn node(&self) -> &str {
        &self.cluster.node
    }

    /// Tells participant `id`, if connected here, `text` as a `[Server]:` line.
    pub fn tell(&self, id: ParticipantId, text: &str) {
        if let Some(reach) = self.connections.get(id) {
            let _ = reach.outbox.try_send(server_line(text));
        }
    }

    /// Tells everyone connected here `text` as a `[Server]:` line.
    pub fn tell_everyone(&self, text: &str) {
        for reach in self.connections.everyone() {
            let _ = reach.outbox.try_send(server_line(text));
        }
    }

    /// Tells everyone connected here `text` as a `[Server]:` line, then closes them.
    pub fn close_everyone(&self, text: &str) {
        for reach in self.connections.everyone() {
            let _ = reach.outbox.try_send(server_line(text));
            let _ = reach.outbox.try_send(Delivery::Close);
        }
    }

    /// An event of the server log.
    pub fn event(&self, kind: &str, text: impl AsRef<str>) {
        self.log.event(kind, text);
    }

    /// Hands whisper `line` to participant `to`, if connected here.
    pub fn whisper_here(&self, to: ParticipantId, line: &SharedLine) {
        self.connections.whisper(&self.log, to, line);
    }

    /// The server's counts.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Where a room's events for the members here go, room `room` as shown.
    pub fn sinks<'a>(&'a self, room: &'a str) -> Sinks<'a> {
        Sinks {
            log: &self.log,
            room,
            connections: &self.connections,
            metrics: &self.metrics,
        }
    }

    /// Subscribes to `subject` (a room's events).
    ///
    /// # Errors
    /// NATS would not take the subscription.
    pub async fn subscribe(
        &self,
        subject: String,
    ) -> Result<async_nats::Subscriber, async_nats::SubscribeError> {
        self.cluster.client.subscribe(subject).await
    }

    /// Wakes whenever this node may have missed messages (see [`Cluster::resyncs`]).
    pub fn resyncs(&self) -> watch::Receiver<u64> {
        self.cluster.resyncs()
    }

    /// Adds `member` to this node's mirror of `remote`'s room, made (and subscribed) if
    /// missing; `None` if it cannot be made.
    pub async fn join(
        self: &Arc<Self>,
        remote: &RemoteRoom,
        member: LocalMember,
    ) -> Option<Arc<RoomMirror>> {
        self.mirrors.join(self, remote, member).await
    }

    /// Takes participant `id` out of this node's mirror of the room with look-alike key
    /// `room_key` (see [`Mirrors::forget`]).
    pub fn forget(&self, room_key: &str, id: ParticipantId) {
        self.mirrors.forget(room_key, id);
    }

    /// This node's mirror of the room with look-alike key `room_key`, if it has one.
    pub fn mirror(&self, room_key: &str) -> Option<Arc<RoomMirror>> {
        self.mirrors.get(room_key)
    }

    /// Every mirror of this node.
    pub fn mirrors(&self) -> Vec<Arc<RoomMirror>> {
        self.mirrors.all()
    }
}
