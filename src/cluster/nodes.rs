//! Node presence and what follows a node's death: each node keeps a key in `chat_nodes`
//! alive (renewed every second, lapsing after [`LEASE`](super::LEASE)); when one lapses, the others
//! take its participants out of their rooms and free their names, and a room whose
//! lease lapsed is taken over from its snapshot.

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::context::PublishErrorKind;
use async_nats::jetstream::kv::Operation;
use futures_util::StreamExt;
use tokio::sync::mpsc;

use super::bucket::Removed;
use super::rooms::Shared;
use super::wire::{Lease, Presence};
use super::NodeClaim;
use super::{key_of, name_of, placement, NODES, RENEW_EVERY};
use crate::room::RoomCommand;

/// How long a vanished node or lease may take to come back before the others act: the
/// time for everyone to reconnect after a NATS outage (the reconnect delay is 100 ms).
pub(super) const GRACE: Duration = Duration::from_secs(1);

/// Keeps this node's presence (made by the start checks, [`NodeClaim`]) and starts the
/// watches for dead nodes and lapsed rooms; takes over the rooms left without a node (a
/// cluster restarted with messages pending).
///
/// # Errors
/// None today; kept for the watches that may fail to start.
pub(super) async fn start(
    shared: &Arc<Shared>,
    claim: NodeClaim,
    leases: mpsc::Receiver<Removed>,
    nodes: mpsc::Receiver<Removed>,
) -> anyhow::Result<()> {
    tokio::spawn(keep_present(shared.clone(), claim.value, claim.revision));
    tokio::spawn(on_lapsed_nodes(shared.clone(), nodes));
    tokio::spawn(on_lapsed_leases(shared.clone(), leases));
    tokio::spawn(adopt_orphans(shared.clone()));
    Ok(())
}

/// Renews this node's presence every second; after an outage longer than the lease it
/// is made again.
async fn keep_present(shared: Arc<Shared>, value: bytes::Bytes, mut revision: u64) {
    // The stop waits for this to end before it writes the presence itself.
    let _done = shared.presence_done.clone().drop_guard();
    let key = key_of(&shared.cluster.node);
    let mut every = tokio::time::interval(RENEW_EVERY);
    let mut connection = shared.cluster.connection_changes();
    loop {
        // Renewed at once on reconnecting, so that the others' grace covers an outage.
        tokio::select! {
            biased;
            // The stop says so itself, and then deletes the presence.
            () = shared.stopping.cancelled() => return,
            _ = every.tick() => {}
            Ok(()) = connection.changed() => {}
        }
        let renewed = shared.cluster.renew(NODES, &key, value.clone(), revision);
        match renewed.await {
            Ok(r) => revision = r,
            Err(e) if e.kind() == PublishErrorKind::WrongLastSequence => {
                // A renewal sent during an outage was stored late, or the key lapsed.
                let store = &shared.cluster.nodes;
                revision = match store.entry(&key).await {
                    Ok(Some(e)) if e.operation == Operation::Put => e.revision,
                    _ => shared
                        .cluster
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
async fn on_lapsed_nodes(shared: Arc<Shared>, mut lapsed: mpsc::Receiver<Removed>) {
    while let Some((key, last)) = lapsed.recv().await {
        let last = last.and_then(|v| serde_json::from_slice::<Presence>(&v).ok());
        let stopped = last.as_ref().is_some_and(|p| p.stopping);
        let shared = shared.clone();
        tokio::spawn(async move {
            if !stopped {
                tokio::time::sleep(GRACE).await;
                settle(&shared).await;
                // Back as the same run: it was an outage. A new run (restarted under
                // its name, which waits for this to be done) means the old one died.
                let now = shared.nodes.get(&key);
                let now = now.and_then(|v| serde_json::from_slice::<Presence>(&v).ok());
                if now.is_some_and(|p| last.as_ref().is_none_or(|l| l.since == p.since)) {
                    return;
                }
            }
            let Some(node) = name_of(&key) else { return };
            if node == *shared.cluster.node {
                return;
            }
            let how = if stopped { "stopped" } else { "lost" };
            shared
                .maker
                .log
                .event("CLUSTER", format!("node {node} {how}"));
            for actor in shared.owned.actors() {
                let gone = RoomCommand::NodeGone { node: node.clone() };
                let _ = actor.send(gone).await;
            }
            shared.names.free_node(&node, &shared.online).await;
        });
    }
}

/// A room whose lease lapsed is taken over by one of the others: at once when its node
/// is dead or stopping, after [`GRACE`] when it is alive (an outage: it renews first if
/// it can). The node that ran it renews it itself.
async fn on_lapsed_leases(shared: Arc<Shared>, mut lapsed: mpsc::Receiver<Removed>) {
    while let Some((key, last)) = lapsed.recv().await {
        let holder = last
            .and_then(|v| serde_json::from_slice::<Lease>(&v).ok())
            .map(|l| l.node);
        if holder.as_deref() == Some(&*shared.cluster.node) {
            continue;
        }
        let shared = shared.clone();
        tokio::spawn(async move {
            // After an outage, every node gets time to renew what it holds first.
            settle(&shared).await;
            // A live holder gets time to renew; a stopping one gave the room up.
            if holder.is_some_and(|n| shared.node_runs(&n)) {
                tokio::time::sleep(GRACE).await;
            }
            // Spread the contenders a little: one wins, the others find the lease taken.
            let jitter = Duration::from_millis(rand::random::<u64>() % 200);
            tokio::time::sleep(jitter).await;
            if shared.leases.contains(&key) {
                return;
            }
            if let Some(room_key) = name_of(&key) {
                if !shared.owned.contains(&room_key) {
                    placement::take_over(&shared, &room_key).await;
                }
            }
        });
    }
}

/// Waits until this node's view of the others can be trusted (see
/// [`Cluster::unsettled_for`](super::Cluster::unsettled_for)).
async fn settle(shared: &Shared) {
    loop {
        let wait = shared.cluster.unsettled_for();
        if wait.is_zero() {
            return;
        }
        tokio::time::sleep(wait).await;
    }
}

/// Rooms with a snapshot and no lease (every node was down) are taken over at start.
async fn adopt_orphans(shared: Arc<Shared>) {
    tokio::time::sleep(GRACE).await;
    let Ok(mut keys) = shared.cluster.snapshots.keys().await else {
        return;
    };
    let mut orphans = Vec::new();
    while let Some(Ok(key)) = keys.next().await {
        if !shared.leases.contains(&key) {
            orphans.push(key);
        }
    }
    for key in orphans {
        if let Some(room_key) = name_of(&key) {
            placement::take_over(&shared, &room_key).await;
        }
    }
}
