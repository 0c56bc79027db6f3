//! A room's lease while this node runs it: renewed every second (and at once when the
//! membership changes or NATS comes back), the room ended when it has been empty a
//! while, members of dead nodes dropped, and the room given up without a word when
//! another node holds the lease (on a stop, [`crate::cluster::stop`] hands every room on).
//! Until the lease is surely this node's ([`HeldUntil`]) the room answers nothing: a
//! node cut off from NATS for longer than a lease may find another running the room.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_nats::jetstream::context::PublishErrorKind;
use async_nats::jetstream::kv::CreateErrorKind;
use bytes::Bytes;
use tokio::sync::{mpsc, oneshot, Notify};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::owner::lease_of;
use super::Placement;
use crate::cluster::wire::{Lease, RoomKey};
use crate::cluster::{history, lock, LEASE, LEASES, RENEW_EVERY};
use crate::metrics::Held;
use crate::room::RoomCommand;

/// Until when this node surely holds a room's lease: a lease written at `t` lapses no
/// earlier than `t + LEASE` (its TTL counts from when NATS stored it, after it was
/// sent). Past that, after an outage, another node may have taken the room over: this
/// node's copy answers nothing (the asker hears the room moved, and asks again) until a
/// renewal has gone through, or the renewal finds the lease another's and steps down.
#[derive(Clone)]
pub struct HeldUntil(Arc<Mutex<Instant>>);

impl HeldUntil {
    /// A lease written (sent) at `written`.
    pub fn written_at(written: Instant) -> HeldUntil {
        HeldUntil(Arc::new(Mutex::new(written + LEASE)))
    }

    /// Renewed by a write sent at `sent`.
    fn renewed(&self, sent: Instant) {
        let mut until = lock(&self.0);
        *until = (*until).max(sent + LEASE);
    }

    /// Whether the lease is surely still this node's.
    pub fn holds(&self) -> bool {
        Instant::now() < *lock(&self.0)
    }
}

/// How long a room stays empty with nothing scheduled before it ends.
const END_AFTER: Duration = Duration::from_secs(2);

/// Renews the lease every second (and at once when the membership changes, so `/rooms`
/// is current), ends the room when it is over, and steps down if another node holds the
/// lease (after an outage longer than the lease).
pub(super) async fn renew(
    placement: Arc<Placement>,
    room: RoomKey,
    actor: mpsc::Sender<RoomCommand>,
    (mut revision, held, locked): (u64, HeldUntil, Arc<AtomicBool>),
    changed: Arc<Notify>,
    (stop, released): (CancellationToken, CancellationToken),
) {
    // The lease is this node's for as long as this renews it.
    let _held = Held::on(&placement.maker.metrics.leases_held);
    let _released = released.drop_guard();
    let key = room.bucket();
    let mut every = tokio::time::interval(RENEW_EVERY);
    let mut connection = placement.cluster.connection_changes();
    let mut empty_since: Option<tokio::time::Instant> = None;
    let mut suspects = HashSet::new();
    loop {
        // Renewed at once on reconnecting, so the others' grace covers an outage.
        tokio::select! {
            biased;
            () = stop.cancelled() => return,
            _ = every.tick() => {}
            () = changed.notified() => {}
            Ok(()) = connection.changed() => {}
        }
        let Some((members, pending)) = census(&actor).await else {
            return;
        };
        drop_lost_nodes(&placement, &actor, &mut suspects).await;
        let idle = members == 0 && pending == 0 && room.key() != placement.default_room.key();
        // Empty for a while, not just made: a room is made before its maker is in it.
        let since = *empty_since.get_or_insert_with(tokio::time::Instant::now);
        if !idle {
            empty_since = None;
        } else if since.elapsed() >= END_AFTER {
            return end_room(&placement, &room, &actor).await;
        }
        let locked = locked.load(Ordering::Relaxed);
        let lease = lease_of(&placement, &room.name().to_string(), members, locked);
        let sent = Instant::now();
        let renewed = placement
            .cluster
            .renew(LEASES, key, lease.clone(), revision);
        match renewed.await {
            Ok(r) => {
                revision = r;
                held.renewed(sent);
            }
            Err(e) if e.kind() == PublishErrorKind::WrongLastSequence => {
                // The lease changed under us: a renewal sent during an outage was stored
                // late (it is still ours), or it lapsed, or another node holds it now.
                match reclaim(&placement, key, lease).await {
                    Reclaim::Held(r, written) => {
                        revision = r;
                        if let Some(sent) = written {
                            held.renewed(sent);
                        }
                    }
                    Reclaim::Lost => return step_down(&placement, &room, &actor).await,
                    Reclaim::Unknown => {}
                }
            }
            Err(error) => tracing::debug!(%error, room = %room.name(), "lease renewal failed"),
        }
    }
}

enum Reclaim {
    /// This node holds the lease, at this revision; written again now (sent at this
    /// time), or found as an earlier write stored late (none: when, is not known).
    Held(u64, Option<Instant>),
    /// Another node holds it.
    Lost,
    /// NATS did not say.
    Unknown,
}

/// Who holds the lease `key` now that a renewal found it changed; takes it again if it
/// lapsed.
async fn reclaim(placement: &Placement, key: &str, lease: Bytes) -> Reclaim {
    let leases = &placement.cluster.leases;
    let sent = Instant::now();
    match leases.entry(key).await {
        Ok(Some(e)) if e.operation == async_nats::jetstream::kv::Operation::Put => {
            let holder = serde_json::from_slice::<Lease>(&e.value).map(|l| l.node);
            if holder.is_ok_and(|n| *n == *placement.cluster.node) {
                Reclaim::Held(e.revision, None)
            } else {
                Reclaim::Lost
            }
        }
        Ok(_) => match placement.cluster.create_with_ttl(leases, key, lease).await {
            Ok(r) => Reclaim::Held(r, Some(sent)),
            Err(e) if e.kind() == CreateErrorKind::AlreadyExists => Reclaim::Lost,
            Err(_) => Reclaim::Unknown,
        },
        Err(_) => Reclaim::Unknown,
    }
}

/// Members connected to a node whose presence is gone, at two checks in a row (a
/// second apart, so a node renewing after an outage is not taken for dead), have left.
/// Checked against the state rather than on the event of a lapse, so a room taken over
/// just before or after its members' node lapsed is cleaned up either way.
async fn drop_lost_nodes(
    placement: &Placement,
    actor: &mpsc::Sender<RoomCommand>,
    suspects: &mut HashSet<String>,
) {
    let (tx, rx) = oneshot::channel();
    if actor
        .send(RoomCommand::MemberNodes { respond_to: tx })
        .await
        .is_err()
    {
        return;
    }
    let Ok(nodes) = rx.await else { return };
    if !placement.cluster.unsettled_for().is_zero() {
        suspects.clear();
        return;
    }
    let absent: HashSet<String> = nodes
        .into_iter()
        .filter(|n| !n.is_empty() && !placement.liveness.is_present(n))
        .collect();
    for node in absent.intersection(suspects) {
        let _ = actor
            .send(RoomCommand::NodeGone { node: node.clone() })
            .await;
    }
    *suspects = absent;
}

/// (participants, pending scheduled messages), or `None` once the actor has stopped.
async fn census(actor: &mpsc::Sender<RoomCommand>) -> Option<(usize, usize)> {
    let (tx, rx) = oneshot::channel();
    actor
        .send(RoomCommand::Occupancy { respond_to: tx })
        .await
        .ok()?;
    let (members, _) = rx.await.ok()?;
    let (tx, rx) = oneshot::channel();
    actor
        .send(RoomCommand::Pending { respond_to: tx })
        .await
        .ok()?;
    Some((members, rx.await.ok()?))
}

/// The room is over: its actor ends, then its snapshot and its lease go.
async fn end_room(placement: &Arc<Placement>, room: &RoomKey, actor: &mpsc::Sender<RoomCommand>) {
    let owned = placement.owned.remove(room.key());
    if let Some(owned) = owned {
        owned.stop.cancel();
    }
    // The actor ends (and logs it) once the last sender is gone.
    let _ = actor;
    let _ = placement.cluster.snapshots.purge(room.bucket()).await;
    history::forget(&placement.cluster, room).await;
    let _ = placement.cluster.leases.purge(room.bucket()).await;
}

/// Another node runs the room now: stop here without a word to anyone.
async fn step_down(placement: &Arc<Placement>, room: &RoomKey, actor: &mpsc::Sender<RoomCommand>) {
    tracing::info!(room = %room.name(), "another node runs the room now");
    if let Some(owned) = placement.owned.remove(room.key()) {
        owned.stop.cancel();
    }
    let _ = actor.send(RoomCommand::Abandon).await;
}
