//! Running a room for the cluster: the node that wins a room's lease (or takes a lapsed
//! one over from the room's snapshot) runs its actor and answers the requests on
//! `chat.room.<key>.in` in arrival order. The lease's upkeep is in [`super::lease`],
//! taking a room over in [`super::takeover`], the actor's side of the bus in
//! [`crate::cluster::link`].

use std::sync::{Arc, Mutex};

use async_nats::jetstream::kv::CreateErrorKind;
use bytes::Bytes;
use futures_util::StreamExt;
use tokio::sync::{mpsc, oneshot, Notify};
use tokio_util::sync::CancellationToken;

use super::lease::{renew, HeldUntil};
use super::takeover::take_over;
use super::Placement;
use crate::cluster::link::Link;
use crate::cluster::sequence::Sent;
use crate::cluster::wire::{Lease, RoomKey, RoomReply, RoomRequest};
use crate::cluster::{history, lock};
use crate::room::{run_actor, EnterError, JoinError, Room, RoomCommand};

/// A room this node runs.
#[derive(Clone)]
pub struct Owned {
    pub actor: mpsc::Sender<RoomCommand>,
    /// Ends the serving, renewing and snapshot tasks.
    pub stop: CancellationToken,
    /// Ends only the serving of requests (a stop hands the room on after it).
    pub serving: CancellationToken,
    /// Cancelled once the requests are no longer taken here.
    pub served: CancellationToken,
    /// Cancelled once the lease is no longer renewed here (after `stop`): a stop gives
    /// the lease up only then, or a renewal in flight could take it back.
    pub released: CancellationToken,
    /// Wakes the lease renewal when the membership changed (`/rooms` shows it).
    pub changed: Arc<Notify>,
    /// The room's batches sent in this run, for a node that missed some.
    pub sent: Arc<Mutex<Sent>>,
    /// Until when the lease is surely this node's: past it, nothing is answered here.
    pub held: HeldUntil,
}

impl Owned {
    /// The actor's answer to `request` from this node, without a round trip through
    /// NATS; `None` once the actor has stopped, or while this node may no longer hold
    /// the lease (the asker asks whoever holds it).
    pub async fn answer(&self, request: RoomRequest) -> Option<RoomReply> {
        if !self.held.holds() {
            return None;
        }
        if let Some(resent) = resend(&self.sent, &request) {
            return Some(resent);
        }
        let membership = request.changes_membership();
        let reply = answer(&self.actor, request).await?;
        if membership {
            self.changed.notify_one();
        }
        Some(reply)
    }
}

/// Makes `room` (this node then runs it) unless someone runs it already or it can be
/// taken over from a snapshot. Returns whether it was made now.
///
/// # Errors
/// There are already `max_rooms` rooms.
pub(in crate::cluster) async fn make_if_missing(
    placement: &Arc<Placement>,
    room: &RoomKey,
    max_rooms: usize,
) -> Result<bool, EnterError> {
    let key = room.bucket();
    if placement.stopping.is_cancelled() {
        return Err(EnterError::Join(JoinError::Closed));
    }
    if placement.leases.contains(key) || placement.owned.contains(room.key()) {
        return Ok(false);
    }
    if take_over(placement, room.key()).await {
        return Ok(false);
    }
    // The default room always exists: counted before it is first made, never refused.
    let made_by_join = room.key() != placement.default_room.key();
    if made_by_join && placement.rooms_counted() >= max_rooms {
        return Err(EnterError::TooManyRooms(max_rooms));
    }
    let lease = lease_of(placement, &room.name().to_string(), 0, false);
    let sent = tokio::time::Instant::now();
    match placement
        .cluster
        .create_with_ttl(&placement.cluster.leases, key, lease)
        .await
    {
        Ok(revision) => {
            // A room of this name that ended may have left lines behind.
            history::forget(&placement.cluster, room).await;
            let state_room = placement
                .maker
                .room(room.name(), made_by_join, Default::default());
            let leased = (revision, HeldUntil::written_at(sent));
            run(placement, room.clone(), state_room, leased, None).await;
            Ok(made_by_join)
        }
        Err(e) if e.kind() == CreateErrorKind::AlreadyExists => Ok(false),
        Err(error) => {
            tracing::warn!(%error, room = %room.name(), "cannot lease the room");
            Err(EnterError::Join(JoinError::Unreachable))
        }
    }
}

pub(super) fn lease_of(placement: &Placement, room: &str, members: usize, locked: bool) -> Bytes {
    let lease = Lease {
        node: placement.cluster.node.to_string(),
        room: room.to_string(),
        members,
        capacity: placement.maker.template.capacity,
        locked,
    };
    serde_json::to_vec(&lease).unwrap_or_default().into()
}

/// Starts running `room` on this node, holding its lease at `revision` (`held` until
/// when, surely); `taken_over` names the nodes found dead when it was rebuilt from a
/// snapshot.
pub(super) async fn run(
    placement: &Arc<Placement>,
    key: RoomKey,
    room: Room,
    (revision, held): (u64, HeldUntil),
    taken_over: Option<Vec<String>>,
) {
    let cluster = &placement.cluster;
    let sub = match cluster.client.subscribe(key.requests()).await {
        Ok(sub) => sub,
        Err(error) => {
            tracing::warn!(%error, room = %key.name(), "cannot serve the room");
            return;
        }
    };
    let stop = CancellationToken::new();
    let sent = Arc::new(Mutex::new(Sent::new(revision)));
    let reach = (&placement.here, &placement.whispers);
    let link = Link::start(
        cluster,
        reach,
        (&key, room.last_public_line()),
        sent.clone(),
        stop.clone(),
    );
    let mut room = room.linked(Box::new(link));
    if let Some(gone) = taken_over {
        placement.maker.metrics.takeovers.inc();
        room.took_over(&cluster.node);
        for node in gone {
            room.node_gone(&node);
        }
    }
    let (actor, rx) = mpsc::channel(1024);
    let locked = room.locked();
    tokio::spawn(run_actor(room, rx));
    let changed = Arc::new(Notify::new());
    let (serving, served) = (stop.child_token(), CancellationToken::new());
    let released = CancellationToken::new();
    tokio::spawn(serve(
        cluster.client.clone(),
        sub,
        (actor.clone(), sent.clone(), held.clone()),
        changed.clone(),
        (serving.clone(), served.clone()),
    ));
    tokio::spawn(renew(
        placement.clone(),
        key.clone(),
        actor.clone(),
        (revision, held.clone(), locked),
        changed.clone(),
        (stop.clone(), released.clone()),
    ));
    placement.owned.insert(
        key.key().to_string(),
        Owned {
            actor,
            stop,
            serving,
            served,
            released,
            changed,
            sent,
            held,
        },
    );
}

/// The answer to a request for the room's numbered batches, from what this node keeps
/// (not the actor's business); `None` for any other request.
fn resend(sent: &Mutex<Sent>, request: &RoomRequest) -> Option<RoomReply> {
    let sent = lock(sent);
    Some(RoomReply::Resent(match *request {
        RoomRequest::Since { term, after } => sent.since(term, after),
        RoomRequest::Tip => sent.since(sent.term(), u64::MAX),
        _ => return None,
    }))
}

/// Answers the room's requests in arrival order until `serving` ends (then cancels
/// `served`). A request the actor cannot take (it stopped: the room is moving), or that
/// comes while the lease may be another's (`held` has passed), is answered
/// [`RoomReply::Moved`], and so are those still queued when serving ends, so that the
/// asker asks again rather than waiting for nothing.
async fn serve(
    client: async_nats::Client,
    mut sub: async_nats::Subscriber,
    (actor, sent, held): (mpsc::Sender<RoomCommand>, Arc<Mutex<Sent>>, HeldUntil),
    changed: Arc<Notify>,
    (serving, served): (CancellationToken, CancellationToken),
) {
    // The answers to the last lines taken, by token, for a line asked again.
    let mut answered: std::collections::VecDeque<(u64, bytes::Bytes)> = Default::default();
    let moved: bytes::Bytes = serde_json::to_vec(&RoomReply::Moved)
        .unwrap_or_default()
        .into();
    loop {
        let msg = tokio::select! {
            msg = sub.next() => msg,
            () = serving.cancelled() => None,
        };
        let Some(msg) = msg else { break };
        let (Some(reply_to), Ok(request)) = (
            msg.reply.clone(),
            serde_json::from_slice::<RoomRequest>(&msg.payload),
        ) else {
            continue;
        };
        if !held.holds() {
            let _ = client.publish(reply_to, moved.clone()).await;
            continue;
        }
        if let Some(resent) = resend(&sent, &request) {
            let payload = serde_json::to_vec(&resent).unwrap_or_default();
            let _ = client.publish(reply_to, payload.into()).await;
            continue;
        }
        let token = match request {
            RoomRequest::Input { token, .. } if token != 0 => Some(token),
            _ => None,
        };
        if let Some((_, before)) = answered.iter().find(|(t, _)| Some(*t) == token) {
            let _ = client.publish(reply_to, before.clone()).await;
            continue;
        }
        let membership = request.changes_membership();
        let reply = answer(&actor, request).await.unwrap_or(RoomReply::Moved);
        if membership {
            changed.notify_one();
        }
        let payload: bytes::Bytes = serde_json::to_vec(&reply).unwrap_or_default().into();
        if let (Some(token), RoomReply::Handled(_)) = (token, &reply) {
            if answered.len() >= ANSWERS_KEPT {
                answered.pop_front();
            }
            answered.push_back((token, payload.clone()));
        }
        // A reply lost to an outage is the asker's timeout, and they say so.
        let _ = client.publish(reply_to, payload).await;
    }
    let _ = sub.unsubscribe().await;
    // What arrived before the unsubscription: not taken here, to be asked again.
    while let Ok(Some(msg)) = tokio::time::timeout(DRAIN, sub.next()).await {
        if let Some(reply_to) = msg.reply {
            let _ = client.publish(reply_to, moved.clone()).await;
        }
    }
    let _ = client.flush().await;
    served.cancel();
}

/// How many answers to lines a room keeps for lines asked again.
const ANSWERS_KEPT: usize = 256;

/// How long a room that stops serving waits for requests still on their way.
const DRAIN: std::time::Duration = std::time::Duration::from_millis(20);

/// What the actor answers to `request`; `None` once it has stopped.
async fn answer(actor: &mpsc::Sender<RoomCommand>, request: RoomRequest) -> Option<RoomReply> {
    async fn ask<T>(
        actor: &mpsc::Sender<RoomCommand>,
        make: impl FnOnce(oneshot::Sender<T>) -> RoomCommand,
    ) -> Option<T> {
        let (tx, rx) = oneshot::channel();
        actor.send(make(tx)).await.ok()?;
        rx.await.ok()
    }
    Some(match request {
        RoomRequest::Join(entrant) => RoomReply::Joined(
            ask(actor, |respond_to| RoomCommand::Join {
                entrant,
                local: None,
                respond_to,
            })
            .await?,
        ),
        RoomRequest::Input { id, line, .. } => {
            let (handled, done) = oneshot::channel();
            let input = RoomCommand::Input {
                id,
                line,
                handled: Some(handled),
            };
            actor.send(input).await.ok()?;
            // Dropped unanswered: the actor stopped before the line (the room is
            // moving), which is asked again of the next node, not refused.
            RoomReply::Handled(done.await.ok()?)
        }
        // Answered once the room has stored the departure (so it survives this node);
        // one the actor stopped before handling is `Moved`, asked of the next node.
        RoomRequest::Leave { id } => {
            let (handled, done) = oneshot::channel();
            let leave = RoomCommand::Leave {
                id,
                handled: Some(handled),
            };
            actor.send(leave).await.ok()?;
            done.await.ok()?;
            RoomReply::Done
        }
        RoomRequest::Dropped { id, session_ended } => {
            let (handled, done) = oneshot::channel();
            let dropped = RoomCommand::Dropped {
                id,
                session_ended,
                handled: Some(handled),
            };
            actor.send(dropped).await.ok()?;
            done.await.ok()?;
            RoomReply::Done
        }
        RoomRequest::Occupancy => {
            let (n, capacity) =
                ask(actor, |respond_to| RoomCommand::Occupancy { respond_to }).await?;
            RoomReply::Occupancy(n, capacity)
        }
        RoomRequest::Users => {
            RoomReply::Users(ask(actor, |respond_to| RoomCommand::Users { respond_to }).await?)
        }
        RoomRequest::Names => {
            RoomReply::Names(ask(actor, |respond_to| RoomCommand::Names { respond_to }).await?)
        }
        // Answered from the kept batches before the actor is asked.
        RoomRequest::Since { .. } | RoomRequest::Tip => return None,
    })
}
