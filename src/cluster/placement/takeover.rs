//! Taking over the rooms left without a node: a room whose lease lapsed (its node died,
//! or stopped and handed it on) is taken over from its snapshot by one of the others,
//! and at start the rooms with a snapshot and no lease (every node was down). Whether a
//! holder still lives is asked of [`Liveness`](crate::cluster::nodes::Liveness).

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::mpsc;

use super::lease::HeldUntil;
use super::owner::{lease_of, run};
use super::Placement;
use crate::chat::room_name::RoomName;
use crate::cluster::bucket::Removed;
use crate::cluster::nodes::GRACE;
use crate::cluster::wire::{Lease, RoomKey};
use crate::cluster::{history, key_of, name_of};
use crate::room::{RoomSnapshot, RoomState};

/// Takes over the room with key `room_key` from its snapshot, if it has one and nobody
/// holds its lease. Returns whether this node now runs it.
pub(super) async fn take_over(placement: &Arc<Placement>, room_key: &str) -> bool {
    let key = key_of(room_key);
    // This node runs it already (its lease lapsed in an outage and is being renewed).
    if placement.owned.contains(room_key) {
        return true;
    }
    // A node that is stopping never takes a room.
    if placement.stopping.is_cancelled() {
        return false;
    }
    let Ok(Some(saved)) = placement.cluster.snapshots.get(&key).await else {
        return false;
    };
    let Ok(mut saved) = serde_json::from_slice::<RoomSnapshot>(&saved) else {
        tracing::warn!(room = room_key, "a damaged room snapshot was skipped");
        return false;
    };
    let Ok(name) = RoomName::parse(&saved.name) else {
        return false;
    };
    let locked = saved.rules.code.is_some();
    let lease = lease_of(placement, &saved.name, saved.members.len(), locked);
    let sent = tokio::time::Instant::now();
    let created = placement
        .cluster
        .create_with_ttl(&placement.cluster.leases, &key, lease);
    let Ok(revision) = created.await else {
        return false;
    };
    if placement.stopping.is_cancelled() {
        let _ = placement.cluster.leases.purge(&key).await;
        return false;
    }
    let maker = &placement.maker;
    // Its history is kept apart (a snapshot of an earlier version carries its own).
    let keys = RoomKey::of(&name);
    let lines = history::read(&placement.cluster, &keys, maker.config().history).await;
    if !lines.is_empty() {
        saved.history = lines;
    }
    let now = crate::room::Now {
        wall: maker.clock.now(),
        instant: maker.clock.instant(),
    };
    let state = RoomState::restore(maker.config(), saved, now);
    // Right after an outage the others' presence is not back yet: the owner's checks
    // drop the dead nodes' members later instead.
    let settled = placement.cluster.unsettled_for().is_zero();
    let gone: Vec<String> = state
        .nodes()
        .into_iter()
        .filter(|n| settled && !placement.liveness.is_present(n))
        .collect();
    let room = maker.restored(state);
    let leased = (revision, HeldUntil::written_at(sent));
    run(placement, keys, room, leased, Some(gone)).await;
    true
}

/// A room whose lease lapsed is taken over by one of the others: at once when its node
/// is dead or stopping, after [`GRACE`] when it is alive (an outage: it renews first if
/// it can). The node that ran it renews it itself.
pub(in crate::cluster) async fn on_lapsed_leases(
    placement: Arc<Placement>,
    mut lapsed: mpsc::Receiver<Removed>,
) {
    while let Some((key, last)) = lapsed.recv().await {
        let holder = last
            .and_then(|v| serde_json::from_slice::<Lease>(&v).ok())
            .map(|l| l.node);
        if holder.as_deref() == Some(&*placement.cluster.node) {
            continue;
        }
        let placement = placement.clone();
        tokio::spawn(async move {
            // After an outage, every node gets time to renew what it holds first.
            placement.liveness.settle().await;
            // A live holder gets time to renew; a stopping one gave the room up.
            if holder.is_some_and(|n| placement.liveness.node_runs(&n)) {
                tokio::time::sleep(GRACE).await;
            }
            // Spread the contenders a little: one wins, the others find the lease taken.
            let jitter = Duration::from_millis(rand::random::<u64>() % 200);
            tokio::time::sleep(jitter).await;
            if placement.leases.contains(&key) {
                return;
            }
            if let Some(room_key) = name_of(&key) {
                if !placement.owned.contains(&room_key) {
                    take_over(&placement, &room_key).await;
                }
            }
        });
    }
}

/// Rooms with a snapshot and no lease (every node was down) are taken over at start.
pub(in crate::cluster) async fn adopt_orphans(placement: Arc<Placement>) {
    tokio::time::sleep(GRACE).await;
    let Ok(mut keys) = placement.cluster.snapshots.keys().await else {
        return;
    };
    let mut orphans = Vec::new();
    while let Some(Ok(key)) = keys.next().await {
        if !placement.leases.contains(&key) {
            orphans.push(key);
        }
    }
    for key in orphans {
        if let Some(room_key) = name_of(&key) {
            take_over(&placement, &room_key).await;
        }
    }
}
