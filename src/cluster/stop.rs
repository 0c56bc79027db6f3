//! A clean stop of a node (SIGTERM), which the others must not take for a crash: the
//! node stops taking rooms, says it is stopping (its presence), has its participants
//! leave their rooms at once, hands each room it runs on (snapshot stored, lease given
//! up, so another node takes it at the first request), frees its names and deletes its
//! presence, so a restart under the same name is let in at once. The others log the
//! node `stopped`, not `lost`. Bounded by [`STOP_WITHIN`]: with NATS away, leases and
//! presence are left to lapse.

use std::time::Duration;

use futures_util::future::join_all;
use tokio::sync::oneshot;

use super::membership::Membership;
use super::names::Online;
use super::nodes::Liveness;
use super::placement::Placement;
use super::wire::{RoomKey, RoomRequest};
use super::Cluster;
use crate::room::{ParticipantId, RoomCommand};

/// The longest a stopping node spends on its cluster duties.
pub const STOP_WITHIN: Duration = Duration::from_secs(2);

/// Stops this node's part of the cluster (its sessions are closed by the caller): every
/// part has its say, so this takes each.
pub(super) async fn stop(
    cluster: &Cluster,
    placement: &Placement,
    liveness: &Liveness,
    here: &Membership,
    online: &Online,
) {
    // The same token ends the renewals of this node's presence.
    placement.stop_taking();
    if !cluster.is_connected() {
        tracing::warn!("stopping without NATS: the others will see this node lapse");
        return;
    }
    let started = tokio::time::Instant::now();
    let duties = async {
        // A renewal still on its way would land after the stop's own writes (and
        // could make the presence again after its deletion).
        liveness.renewals_ended().await;
        liveness.say_stopping().await;
        let left = leave_everywhere(&cluster.client, placement, here).await;
        let rooms = hand_on_all(placement).await;
        online.free_node(&cluster.node).await;
        liveness.delete_presence().await;
        (left, rooms)
    };
    match tokio::time::timeout(STOP_WITHIN, duties).await {
        Ok((left, rooms)) => here.event(
            "CLUSTER",
            format!(
                "stopped: {rooms} room(s) handed on, {left} leave(s) sent for people still in a room, in {} ms",
                started.elapsed().as_millis()
            ),
        ),
        Err(_) => tracing::warn!("the stop's cluster duties took too long; the rest will lapse"),
    }
}

/// Every participant of this node still in a room (their sessions, closed just before,
/// may have left already) leaves it now: in a room this node runs, through its actor;
/// elsewhere, by a request to the room's node. Returns how many.
async fn leave_everywhere(
    client: &async_nats::Client,
    placement: &Placement,
    here: &Membership,
) -> usize {
    let mirrors: Vec<(RoomKey, Vec<ParticipantId>)> = here
        .mirrors()
        .iter()
        .map(|mirror| (mirror.room().clone(), mirror.ids()))
        .collect();
    let mut asks = Vec::new();
    let mut count = 0;
    for (room, ids) in mirrors {
        count += ids.len();
        match placement.actor_of(room.key()) {
            Some(actor) => {
                for id in ids {
                    let leave = RoomCommand::Leave { id, handled: None };
                    let _ = actor.send(leave).await;
                }
            }
            None => {
                for id in ids {
                    asks.push(ask_to_leave(client, room.clone(), id));
                }
            }
        }
    }
    join_all(asks).await;
    count
}

/// Asks the node running `room` to let participant `id` leave. A room between nodes is
/// not waited for: the presence's end makes its next node drop them.
async fn ask_to_leave(client: &async_nats::Client, room: RoomKey, id: ParticipantId) {
    let Ok(payload) = serde_json::to_vec(&RoomRequest::Leave { id }) else {
        return;
    };
    let asked = client.request(room.requests(), payload.into());
    if let Err(error) = asked.await {
        tracing::debug!(%error, room = %room.name(), "a leave on stopping was not answered");
    }
}

/// Hands on every room this node runs: its latest snapshot stored (the leaves
/// included), its actor stopped, its lease given up, so another node takes it over at
/// once. Returns how many.
async fn hand_on_all(placement: &Placement) -> usize {
    let owned = placement.drain();
    let count = owned.len();
    let hand_on = owned.into_iter().map(|(room_key, owned)| async move {
        // No request reaches the actor once it is told to hand over (it would be
        // dropped unanswered): they are answered "moved" and asked again.
        owned.serving.cancel();
        let _ = tokio::time::timeout(STOP_WITHIN, owned.served.cancelled()).await;
        let (tx, rx) = oneshot::channel();
        if owned
            .actor
            .send(RoomCommand::HandOver { respond_to: tx })
            .await
            .is_ok()
        {
            let _ = rx.await;
        }
        owned.stop.cancel();
        // A renewal on its way would take the lease back after the purge (a lease
        // held by nobody, until it lapsed: the room stuck meanwhile).
        let _ = tokio::time::timeout(STOP_WITHIN, owned.released.cancelled()).await;
        placement.give_up(&room_key).await;
    });
    join_all(hand_on).await;
    count
}
