//! Node presence and what follows a node's death: each node keeps a key in `chat_nodes`
//! alive (renewed every second, lapsing after [`LEASE`]); when one lapses, the others
//! take its participants out of their rooms and free their names. A room whose lease
//! lapsed is taken over from its snapshot by placement (see
//! [`super::placement::on_lapsed_leases`]), which asks this part whether its node lives.

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::context::PublishErrorKind;
use async_nats::jetstream::kv::Operation;
use async_nats::jetstream::message::PublishMessage;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::bucket::{Mirror, Removed};
use super::names::Online;
use super::placement::{self, Placement};
use super::wire::Presence;
use super::{key_of, name_of, Cluster, NodeClaim, LEASE, NODES, RENEW_EVERY};
use crate::log::LogSink;
use crate::room::RoomCommand;

/// How long a vanished node or lease may take to come back before the others act: the
/// time for everyone to reconnect after a NATS outage (the reconnect delay is 100 ms).
pub(super) const GRACE: Duration = Duration::from_secs(1);

/// Which nodes live, and this node's own presence.
pub(super) struct Liveness {
    cluster: Arc<Cluster>,
    /// A live copy of `chat_nodes`.
    nodes: Mirror,
    log: LogSink,
    /// Cancelled when this node starts to stop: its presence is no longer renewed.
    stopping: CancellationToken,
    /// Cancelled once this node's presence is no longer renewed (after `stopping`): only
    /// then may the stop write it, or a renewal in flight could make it again after the
    /// stop deleted it.
    presence_done: CancellationToken,
}

impl Liveness {
    /// The nodes as the live copy `nodes` shows them; this node's presence is renewed
    /// until `stopping`.
    pub fn new(
        cluster: Arc<Cluster>,
        nodes: Mirror,
        log: LogSink,
        stopping: CancellationToken,
    ) -> Liveness {
        Liveness {
            cluster,
            nodes,
            log,
            stopping,
            presence_done: CancellationToken::new(),
        }
    }

    /// Whether node `node` is present and not stopping.
    pub fn node_runs(&self, node: &str) -> bool {
        self.nodes
            .get(&key_of(node))
            .and_then(|v| serde_json::from_slice::<Presence>(&v).ok())
            .is_some_and(|p| !p.stopping)
    }

    /// Whether node `node` is present (stopping or not).
    pub fn is_present(&self, node: &str) -> bool {
        self.nodes.contains(&key_of(node))
    }

    /// Waits until this node's view of the others can be trusted (see
    /// [`Cluster::unsettled_for`]).
    pub async fn settle(&self) {
        loop {
            let wait = self.cluster.unsettled_for();
            if wait.is_zero() {
                return;
            }
            tokio::time::sleep(wait).await;
        }
    }

    /// Waits until this node's presence is no longer renewed (after `stopping`).
    pub async fn renewals_ended(&self) {
        self.presence_done.cancelled().await;
    }

    /// Marks this node's presence as stopping: the others then take its rooms without
    /// waiting, and log it `stopped` when the presence goes.
    pub async fn say_stopping(&self) {
        let presence = Presence {
            stopping: true,
            ..Presence::now()
        };
        let Ok(value) = serde_json::to_vec(&presence) else {
            return;
        };
        // Not at a revision: the renewals have ended, and this must land whatever they did.
        let message = PublishMessage::build().payload(value.into()).ttl(LEASE);
        let subject = format!("$KV.{NODES}.{}", key_of(&self.cluster.node));
        if let Ok(ack) = self.cluster.js.send_publish(subject, message).await {
            let _ = ack.await;
        }
    }

    /// Deletes this node's presence (a clean stop: a restart is let in at once).
    pub async fn delete_presence(&self) {
        let _ = self.cluster.nodes.delete(key_of(&self.cluster.node)).await;
    }
}

/// Keeps this node's presence (made by the start checks, [`NodeClaim`]) and starts the
/// watches for dead nodes and lapsed rooms; takes over the rooms left without a node (a
/// cluster restarted with messages pending).
///
/// # Errors
/// None today; kept for the watches that may fail to start.
pub(super) async fn start(
    liveness: &Arc<Liveness>,
    placement: &Arc<Placement>,
    online: &Online,
    claim: NodeClaim,
    leases: mpsc::Receiver<Removed>,
    nodes: mpsc::Receiver<Removed>,
) -> anyhow::Result<()> {
    tokio::spawn(keep_present(liveness.clone(), claim.value, claim.revision));
    let lapsed = on_lapsed_nodes(liveness.clone(), placement.clone(), online.clone(), nodes);
    tokio::spawn(lapsed);
    tokio::spawn(placement::on_lapsed_leases(placement.clone(), leases));
    tokio::spawn(placement::adopt_orphans(placement.clone()));
    Ok(())
}

/// Renews this node's presence every second; after an outage longer than the lease it
/// is made again.
async fn keep_present(liveness: Arc<Liveness>, value: bytes::Bytes, mut revision: u64) {
    // The stop waits for this to end before it writes the presence itself.
    let _done = liveness.presence_done.clone().drop_guard();
    let cluster = &liveness.cluster;
    let key = key_of(&cluster.node);
    let mut every = tokio::time::interval(RENEW_EVERY);
    let mut connection = cluster.connection_changes();
    loop {
        // Renewed at once on reconnecting, so that the others' grace covers an outage.
        tokio::select! {
            biased;
            // The stop says so itself, and then deletes the presence.
            () = liveness.stopping.cancelled() => return,
            _ = every.tick() => {}
            Ok(()) = connection.changed() => {}
        }
        let renewed = cluster.renew(NODES, &key, value.clone(), revision);
        match renewed.await {
            Ok(r) => revision = r,
            Err(e) if e.kind() == PublishErrorKind::WrongLastSequence => {
                // A renewal sent during an outage was stored late, or the key lapsed.
                let store = &cluster.nodes;
                revision = match store.entry(&key).await {
                    Ok(Some(e)) if e.operation == Operation::Put => e.revision,
                    _ => cluster
                        .create_with_ttl(store, &key, value.clone())
                        .await
                        .unwrap_or(revision),
                };
            }
            Err(error) => tracing::debug!(%error, "presence renewal failed"),
        }
    }
}

/// A node whose presence lapsed and did not come back within [`GRACE`] is dead (`lost`),
/// and one that deleted its presence while stopping has `stopped` (at once, no grace):
/// either way its participants leave the rooms this node runs, and its names are freed.
async fn on_lapsed_nodes(
    liveness: Arc<Liveness>,
    placement: Arc<Placement>,
    online: Online,
    mut lapsed: mpsc::Receiver<Removed>,
) {
    while let Some((key, last)) = lapsed.recv().await {
        let last = last.and_then(|v| serde_json::from_slice::<Presence>(&v).ok());
        let stopped = last.as_ref().is_some_and(|p| p.stopping);
        let (liveness, placement, online) = (liveness.clone(), placement.clone(), online.clone());
        tokio::spawn(async move {
            if !stopped {
                tokio::time::sleep(GRACE).await;
                liveness.settle().await;
                // Back as the same run: it was an outage. A new run (restarted under
                // its name, which waits for this to be done) means the old one died.
                let now = liveness.nodes.get(&key);
                let now = now.and_then(|v| serde_json::from_slice::<Presence>(&v).ok());
                if now.is_some_and(|p| last.as_ref().is_none_or(|l| l.since == p.since)) {
                    return;
                }
            }
            let Some(node) = name_of(&key) else { return };
            if node == *liveness.cluster.node {
                return;
            }
            let how = if stopped { "stopped" } else { "lost" };
            liveness.log.event("CLUSTER", format!("node {node} {how}"));
            for actor in placement.actors() {
                let gone = RoomCommand::NodeGone { node: node.clone() };
                let _ = actor.send(gone).await;
            }
            online.free_node(&node).await;
        });
    }
}
