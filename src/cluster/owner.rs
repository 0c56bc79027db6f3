//! Running a room for the cluster: the node that wins a room's lease runs its actor,
//! answers the requests on `chat.room.<key>.in`, publishes its events, keeps its snapshot
//! for a next owner, renews the lease every second and ends the room when it is over.
//! A node that finds the lease taken by another steps down without a word.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::context::PublishErrorKind;
use async_nats::jetstream::kv::CreateErrorKind;
use async_nats::jetstream::message::PublishMessage;
use bytes::Bytes;
use futures_util::future::BoxFuture;
use futures_util::StreamExt;
use tokio::sync::{mpsc, oneshot, watch, Notify};
use tokio_util::sync::CancellationToken;

use super::rooms::Shared;
use super::wire::{
    room_events, room_in, Batch, Lease, RoomReply, RoomRequest, Whisper, WireEvent, WHISPERS,
};
use super::{key_of, LEASE, RENEW_EVERY};
use crate::chat::room_name::RoomName;
use crate::room::{
    run_actor, EnterError, JoinError, Refused, Room, RoomCommand, RoomEvent, RoomLink,
    RoomSnapshot, RoomState,
};

/// A room this node runs.
#[derive(Clone)]
pub struct Owned {
    pub actor: mpsc::Sender<RoomCommand>,
    /// Ends the serving, renewing and snapshot tasks.
    pub stop: CancellationToken,
    /// Wakes the lease renewal when the membership changed (`/rooms` shows it).
    pub changed: Arc<Notify>,
}

impl Owned {
    /// The actor's answer to `request` from this node, without a round trip through
    /// NATS; `None` once the actor has stopped.
    pub async fn answer(&self, request: RoomRequest) -> Option<RoomReply> {
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
pub(super) async fn make_if_missing(
    shared: &Arc<Shared>,
    room: &RoomName,
    max_rooms: usize,
) -> Result<bool, EnterError> {
    let key = key_of(room.key());
    if shared.leases.contains(&key) || shared.owned().contains_key(room.key()) {
        return Ok(false);
    }
    if take_over(shared, room.key()).await {
        return Ok(false);
    }
    if shared.leases.len() >= max_rooms {
        return Err(EnterError::TooManyRooms(max_rooms));
    }
    let made_by_join = room.key() != shared.default_room.key();
    let lease = lease_of(shared, &room.to_string(), 0);
    match shared
        .cluster
        .leases
        .create_with_ttl(&key, lease, LEASE)
        .await
    {
        Ok(revision) => {
            let state_room = shared.maker.room(room, made_by_join, Default::default());
            run(shared, room.clone(), state_room, revision, None).await;
            Ok(made_by_join)
        }
        Err(e) if e.kind() == CreateErrorKind::AlreadyExists => Ok(false),
        Err(error) => {
            tracing::warn!(%error, %room, "cannot lease the room");
            Err(EnterError::Join(JoinError::Unreachable))
        }
    }
}

fn lease_of(shared: &Shared, room: &str, members: usize) -> Bytes {
    let lease = Lease {
        node: shared.cluster.node.to_string(),
        room: room.to_string(),
        members,
        capacity: shared.maker.template.capacity,
    };
    serde_json::to_vec(&lease).unwrap_or_default().into()
}

/// Takes over the room with key `room_key` from its snapshot, if it has one and nobody
/// holds its lease. Returns whether this node now runs it.
pub(super) async fn take_over(shared: &Arc<Shared>, room_key: &str) -> bool {
    let key = key_of(room_key);
    // This node runs it already (its lease lapsed in an outage and is being renewed).
    if shared.owned().contains_key(room_key) {
        return true;
    }
    let Ok(Some(saved)) = shared.cluster.snapshots.get(&key).await else {
        return false;
    };
    let Ok(saved) = serde_json::from_slice::<RoomSnapshot>(&saved) else {
        tracing::warn!(room = room_key, "a damaged room snapshot was skipped");
        return false;
    };
    let Ok(name) = RoomName::parse(&saved.name) else {
        return false;
    };
    let lease = lease_of(shared, &saved.name, saved.members.len());
    let created = shared.cluster.leases.create_with_ttl(&key, lease, LEASE);
    let Ok(revision) = created.await else {
        return false;
    };
    let maker = &shared.maker;
    let now = crate::room::Now {
        wall: maker.clock.now(),
        instant: maker.clock.instant(),
    };
    let state = RoomState::restore(maker.template.clone(), saved, now);
    let gone: Vec<String> = state
        .nodes()
        .into_iter()
        .filter(|n| !shared.nodes.contains(&key_of(n)))
        .collect();
    let room = Room::with_state(
        state,
        maker.log.clone(),
        maker.clock.clone(),
        maker.names.clone(),
    );
    run(shared, name, room, revision, Some(gone)).await;
    true
}

/// Starts running `room` on this node, holding its lease at `revision`; `taken_over`
/// names the nodes found dead when it was rebuilt from a snapshot.
async fn run(
    shared: &Arc<Shared>,
    name: RoomName,
    room: Room,
    revision: u64,
    taken_over: Option<Vec<String>>,
) {
    let cluster = &shared.cluster;
    let sub = match cluster.client.subscribe(room_in(name.key())).await {
        Ok(sub) => sub,
        Err(error) => {
            tracing::warn!(%error, room = %name, "cannot serve the room");
            return;
        }
    };
    let stop = CancellationToken::new();
    let (keep_tx, keep_rx) = watch::channel((0, false, None));
    let (kept_tx, kept_rx) = watch::channel(0);
    let link = Link {
        shared: shared.clone(),
        room_key: name.key().to_string(),
        client: cluster.client.clone(),
        events: room_events(name.key()),
        fired: cluster.fired.clone(),
        room: name.to_string(),
        keep: keep_tx,
        kept: kept_rx,
    };
    let mut room = room.linked(Box::new(link));
    if let Some(gone) = taken_over {
        room.took_over(&cluster.node);
        for node in gone {
            room.node_gone(&node);
        }
    }
    let (actor, rx) = mpsc::channel(1024);
    tokio::spawn(run_actor(room, rx));
    let changed = Arc::new(Notify::new());
    tokio::spawn(keep_snapshots(
        shared.clone(),
        name.clone(),
        keep_rx,
        kept_tx,
        stop.clone(),
    ));
    tokio::spawn(serve(
        cluster.client.clone(),
        sub,
        actor.clone(),
        changed.clone(),
        stop.clone(),
    ));
    tokio::spawn(renew(
        shared.clone(),
        name.clone(),
        actor.clone(),
        revision,
        changed.clone(),
        stop.clone(),
    ));
    shared.owned().insert(
        name.key().to_string(),
        Owned {
            actor,
            stop,
            changed,
        },
    );
}

/// Answers the room's requests in arrival order.
async fn serve(
    client: async_nats::Client,
    mut sub: async_nats::Subscriber,
    actor: mpsc::Sender<RoomCommand>,
    changed: Arc<Notify>,
    stop: CancellationToken,
) {
    loop {
        let msg = tokio::select! {
            msg = sub.next() => msg,
            () = stop.cancelled() => None,
        };
        let Some(msg) = msg else { break };
        let Some(reply_to) = msg.reply.clone() else {
            continue;
        };
        let Ok(request) = serde_json::from_slice::<RoomRequest>(&msg.payload) else {
            continue;
        };
        let membership = request.changes_membership();
        let Some(reply) = answer(&actor, request).await else {
            break;
        };
        if membership {
            changed.notify_one();
        }
        let payload = serde_json::to_vec(&reply).unwrap_or_default();
        // A reply lost to an outage is the asker's timeout, and they say so.
        let _ = client.publish(reply_to, payload.into()).await;
    }
    let _ = sub.unsubscribe().await;
}

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
        RoomRequest::Input { id, line } => {
            let (handled, done) = oneshot::channel();
            let input = RoomCommand::Input {
                id,
                line,
                handled: Some(handled),
            };
            actor.send(input).await.ok()?;
            let _ = done.await;
            RoomReply::Done
        }
        RoomRequest::Leave { id } => {
            actor.send(RoomCommand::Leave { id }).await.ok()?;
            RoomReply::Done
        }
        RoomRequest::Dropped { id, session_ended } => {
            actor
                .send(RoomCommand::Dropped { id, session_ended })
                .await
                .ok()?;
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
    })
}

/// How long a room stays empty with nothing scheduled before it ends.
const END_AFTER: Duration = Duration::from_secs(2);

/// Renews the lease every second (and at once when the membership changes, so `/rooms`
/// is current), ends the room when it is over, and steps down if another node holds the
/// lease (after an outage longer than the lease).
async fn renew(
    shared: Arc<Shared>,
    name: RoomName,
    actor: mpsc::Sender<RoomCommand>,
    mut revision: u64,
    changed: Arc<Notify>,
    stop: CancellationToken,
) {
    let key = key_of(name.key());
    let subject = format!("$KV.{}.{key}", "chat_leases");
    let mut every = tokio::time::interval(RENEW_EVERY);
    let mut connection = shared.cluster.connection_changes();
    let mut empty_since: Option<tokio::time::Instant> = None;
    let mut suspects = HashSet::new();
    loop {
        // Renewed at once on reconnecting, so the others' grace covers an outage.
        tokio::select! {
            _ = every.tick() => {}
            () = changed.notified() => {}
            Ok(()) = connection.changed() => {}
            () = stop.cancelled() => return,
        }
        let Some((members, pending)) = census(&actor).await else {
            return;
        };
        drop_lost_nodes(&shared, &actor, &mut suspects).await;
        let idle = members == 0 && pending == 0 && name.key() != shared.default_room.key();
        // Empty for a while, not just made: a room is made before its maker is in it.
        let since = *empty_since.get_or_insert_with(tokio::time::Instant::now);
        if !idle {
            empty_since = None;
        } else if since.elapsed() >= END_AFTER {
            return end_room(&shared, &name, &actor).await;
        }
        let lease = lease_of(&shared, &name.to_string(), members);
        let renewal = PublishMessage::build()
            .payload(lease.clone())
            .ttl(LEASE)
            .expected_last_subject_sequence(revision);
        let acked = match shared
            .cluster
            .js
            .send_publish(subject.clone(), renewal)
            .await
        {
            Ok(ack) => ack.await,
            Err(e) => Err(e),
        };
        match acked {
            Ok(ack) => revision = ack.sequence,
            Err(e) if e.kind() == PublishErrorKind::WrongLastSequence => {
                // The lease changed under us: a renewal sent during an outage was stored
                // late (it is still ours), or it lapsed, or another node holds it now.
                match reclaim(&shared, &key, lease).await {
                    Reclaim::Held(r) => revision = r,
                    Reclaim::Lost => return step_down(&shared, &name, &actor).await,
                    Reclaim::Unknown => {}
                }
            }
            Err(error) => tracing::debug!(%error, room = %name, "lease renewal failed"),
        }
    }
}

enum Reclaim {
    /// This node holds the lease, at this revision.
    Held(u64),
    /// Another node holds it.
    Lost,
    /// NATS did not say.
    Unknown,
}

/// Who holds the lease `key` now that a renewal found it changed; takes it again if it
/// lapsed.
async fn reclaim(shared: &Shared, key: &str, lease: Bytes) -> Reclaim {
    let leases = &shared.cluster.leases;
    match leases.entry(key).await {
        Ok(Some(e)) if e.operation == async_nats::jetstream::kv::Operation::Put => {
            let holder = serde_json::from_slice::<Lease>(&e.value).map(|l| l.node);
            if holder.is_ok_and(|n| *n == *shared.cluster.node) {
                Reclaim::Held(e.revision)
            } else {
                Reclaim::Lost
            }
        }
        Ok(_) => match leases.create_with_ttl(key, lease, LEASE).await {
            Ok(r) => Reclaim::Held(r),
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
    shared: &Shared,
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
    let absent: HashSet<String> = nodes
        .into_iter()
        .filter(|n| !n.is_empty() && !shared.nodes.contains(&key_of(n)))
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
async fn end_room(shared: &Arc<Shared>, name: &RoomName, actor: &mpsc::Sender<RoomCommand>) {
    let owned = shared.owned().remove(name.key());
    if let Some(owned) = owned {
        owned.stop.cancel();
    }
    // The actor ends (and logs it) once the last sender is gone.
    let _ = actor;
    let key = key_of(name.key());
    let _ = shared.cluster.snapshots.purge(&key).await;
    let _ = shared.cluster.leases.purge(&key).await;
}

/// Another node runs the room now: stop here without a word to anyone.
async fn step_down(shared: &Arc<Shared>, name: &RoomName, actor: &mpsc::Sender<RoomCommand>) {
    tracing::info!(room = %name, "another node runs the room now");
    if let Some(owned) = shared.owned().remove(name.key()) {
        owned.stop.cancel();
    }
    let _ = actor.send(RoomCommand::Abandon).await;
}

/// This node stops: every room it runs is handed on (snapshot kept, lease given up, so
/// another node takes it over at once). Bounded: with NATS unreachable the leases are
/// left to lapse.
pub(super) async fn hand_on_all(shared: &Arc<Shared>) {
    let owned: Vec<(String, Owned)> = shared.owned().drain().collect();
    let mut give_up = Vec::new();
    for (room_key, owned) in owned {
        owned.stop.cancel();
        let _ = owned.actor.send(RoomCommand::Abandon).await;
        give_up.push(async move {
            let _ = shared.cluster.leases.purge(key_of(&room_key)).await;
        });
    }
    if shared.cluster.is_connected() {
        let all = futures_util::future::join_all(give_up);
        let _ = tokio::time::timeout(HAND_ON_WAIT, all).await;
    }
}

/// The longest a stopping node waits to give up its leases.
const HAND_ON_WAIT: Duration = Duration::from_secs(2);

/// A snapshot, its version (counting up), and whether it must be stored at once.
type Versioned = (u64, bool, Option<RoomSnapshot>);

/// Snapshots of a busy room are stored at most this often, unless one must be stored at
/// once: a node's death costs at most this much of a room's history.
const SNAPSHOT_EVERY: Duration = Duration::from_millis(250);

/// Writes the room's latest snapshot whenever it changes (a burst of changes is one
/// write: only the latest is kept), and reports the version written in `kept`.
async fn keep_snapshots(
    shared: Arc<Shared>,
    name: RoomName,
    mut latest: watch::Receiver<Versioned>,
    kept: watch::Sender<u64>,
    stop: CancellationToken,
) {
    let key = key_of(name.key());
    let mut written = 0;
    loop {
        // Anything newer than what is stored (`wait_for` looks at the current value
        // first, so a change made during the pause below is not missed).
        let newer = latest.wait_for(|(v, _, _)| *v > written);
        tokio::select! {
            newer = newer => if newer.is_err() { return },
            () = stop.cancelled() => return,
        }
        let (version, _, Some(snapshot)) = latest.borrow().clone() else {
            return;
        };
        let Ok(bytes) = serde_json::to_vec(&snapshot) else {
            return;
        };
        while let Err(error) = shared
            .cluster
            .snapshots
            .put(&key, bytes.clone().into())
            .await
        {
            tracing::debug!(%error, room = %name, "keeping the snapshot failed; trying again");
            tokio::select! {
                () = tokio::time::sleep(Duration::from_millis(500)) => {}
                () = stop.cancelled() => return,
            }
        }
        written = version;
        kept.send_replace(version);
        // A while before the next write, unless a change must be stored at once.
        let durable = latest.wait_for(|(v, durable, _)| *v > written && *durable);
        tokio::select! {
            () = tokio::time::sleep(SNAPSHOT_EVERY) => {}
            _ = durable => {}
            () = stop.cancelled() => return,
        }
    }
}

/// The actor's side of the bus: events to `chat.room.<key>.ev`, whispers to
/// `chat.whisper`, snapshots to the keeper, claims of scheduled messages in `chat_fired`.
struct Link {
    shared: Arc<Shared>,
    room_key: String,
    client: async_nats::Client,
    events: String,
    fired: async_nats::jetstream::kv::Store,
    room: String,
    keep: watch::Sender<Versioned>,
    kept: watch::Receiver<u64>,
}

/// How long a change that must not be lost waits for its snapshot to be stored.
const KEEP_WAIT: Duration = Duration::from_secs(2);

impl Link {
    /// Carries out `events` for this node's members of the room.
    fn carry_here(&self, events: Vec<RoomEvent>) -> Vec<Refused> {
        let mirror = self.shared.mirrors().get(&self.room_key).cloned();
        mirror.map_or_else(Vec::new, |m| m.carry_out(events, &self.shared))
    }
}

impl RoomLink for Link {
    fn carry(&mut self, events: Vec<RoomEvent>) -> BoxFuture<'_, Vec<Refused>> {
        Box::pin(async move {
            let mut wire = Vec::with_capacity(events.len());
            let mut here = Vec::with_capacity(events.len());
            for event in events {
                if let RoomEvent::Whisper { to, line, .. } = event {
                    let whisper = serde_json::to_vec(&Whisper { to, line }).unwrap_or_default();
                    let _ = self.client.publish(WHISPERS, whisper.into()).await;
                } else if let Some(w) = WireEvent::from_event(&event) {
                    wire.push(w);
                    here.push(event);
                }
            }
            if wire.is_empty() {
                return Vec::new();
            }
            // This node's members first, straight from the actor; the others through
            // NATS (their nodes skip nothing: this node skips its own batches).
            let refused = self.carry_here(here);
            let batch = Batch {
                from: self.shared.cluster.node.to_string(),
                events: wire,
            };
            let payload = serde_json::to_vec(&batch).unwrap_or_default();
            let _ = self
                .client
                .publish(self.events.clone(), payload.into())
                .await;
            refused
        })
    }

    fn keep(&mut self, snapshot: RoomSnapshot, durably: bool) -> BoxFuture<'_, ()> {
        let version = self.keep.borrow().0 + 1;
        self.keep.send_replace((version, durably, Some(snapshot)));
        Box::pin(async move {
            if durably {
                let stored = self.kept.wait_for(|kept| *kept >= version);
                let _ = tokio::time::timeout(KEEP_WAIT, stored).await;
            }
        })
    }

    fn claim(&self, id: u64) -> BoxFuture<'_, Option<bool>> {
        Box::pin(async move {
            let value: Bytes = self.room.clone().into();
            match self.fired.create(id.to_string(), value).await {
                Ok(_) => Some(true),
                Err(e) if e.kind() == CreateErrorKind::AlreadyExists => Some(false),
                Err(error) => {
                    tracing::warn!(%error, "cannot claim a scheduled message; holding it");
                    None
                }
            }
        })
    }
}
