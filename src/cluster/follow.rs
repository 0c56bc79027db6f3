//! A node following one room's events for its members: each batch carried out once and
//! in the room's order, and what a NATS blip dropped fetched again from the room's node
//! (see [`super::sequence`]). What cannot be fetched any more is said plainly to the
//! members here: a silent hole is never left.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;

use super::membership::Membership;
use super::mirror::RoomMirror;
use super::remote::RemoteRoom;
use super::sequence::{Check, Order, Resent};
use super::wire::{Batch, RoomRequest, WireEvent};
use super::REQUEST_TIMEOUT;

/// What the members of a node that missed some of a room's lines are told.
pub const MISSED: &str =
    "Some lines of this room may be missing above: the chat servers lost contact for a moment.";

/// How long a node that may have missed batches (it just reconnected) waits for the
/// room's node, which may be reconnecting too: if it has sent anything meanwhile, it
/// says so itself once back (a tip).
const LOOK_FOR: Duration = Duration::from_millis(500);

/// Carries out the room's batches from `sub` for `mirror`'s members, in order from
/// `order`; batches of this node are skipped (it carries them out as it runs the room;
/// NATS does not echo them, but one sent again after a gap can be among those fetched).
pub(super) async fn follow(
    here: Arc<Membership>,
    remote: RemoteRoom,
    mirror: Arc<RoomMirror>,
    mut sub: async_nats::Subscriber,
    order: Order,
) {
    let _counted = crate::metrics::Held::on(&here.metrics().rooms_followed);
    let mut follower = Follower {
        here,
        remote,
        mirror,
        order,
    };
    let mut resyncs = follower.here.resyncs();
    loop {
        let msg = tokio::select! {
            msg = sub.next() => match msg {
                Some(msg) => msg,
                None => return,
            },
            changed = resyncs.changed() => {
                if changed.is_err() {
                    return;
                }
                follower.look_for_gaps().await;
                continue;
            }
        };
        let Ok(batch) = serde_json::from_slice::<Batch>(&msg.payload) else {
            tracing::warn!("an undecodable room event was skipped");
            continue;
        };
        if batch.from != follower.here.node() {
            follower.take(batch).await;
        }
    }
}

struct Follower {
    here: Arc<Membership>,
    remote: RemoteRoom,
    mirror: Arc<RoomMirror>,
    order: Order,
}

impl Follower {
    /// One batch (or tip) as it arrived.
    async fn take(&mut self, batch: Batch) {
        if batch.events.is_empty() {
            // A tip: the room's node says what it has sent.
            if let Check::Missed { term, after } = self.order.check_upto(batch.term, batch.seq) {
                self.fill(term, after, batch.seq).await;
            }
            return;
        }
        if let Check::Missed { term, after } = self.order.check(batch.term, batch.seq) {
            self.fill(term, after, batch.seq - 1).await;
        }
        self.carry(batch);
    }

    /// Carries `batch` out if it is next in order (else it is old, or given up on).
    /// A batch this node sent itself (it ran the room then; one sent again after a
    /// gap, say) counts in the order but is not carried out again: the room's actor
    /// carried it out for the members here when it happened.
    fn carry(&mut self, batch: Batch) {
        if self.order.check(batch.term, batch.seq) != Check::Next {
            return;
        }
        self.order.carried(batch.term, batch.seq);
        if batch.from == self.here.node() {
            return;
        }
        let events = batch
            .events
            .into_iter()
            .map(WireEvent::into_event)
            .collect();
        for r in self.mirror.carry_out(events, &self.here) {
            self.remote.dropped(r.id, r.session_ended);
        }
    }

    /// Batches after `after` up to `upto` of run `term` were missed: fetched from the
    /// room's node and carried out, or, if they cannot be, the members told.
    async fn fill(&mut self, term: u64, after: u64, upto: u64) {
        let ask = RoomRequest::Since { term, after };
        if let Some(resent) = self.remote.resent(&ask, REQUEST_TIMEOUT).await {
            self.carry_resent(resent);
        }
        if let Check::Missed { .. } = self.order.check_upto(term, upto) {
            self.give_up(term, upto);
        }
    }

    /// After a chance of missed messages with nothing known missing: asks the room's
    /// node what it has sent since the last batch here.
    async fn look_for_gaps(&mut self) {
        let Some((term, after)) = self.order.position() else {
            return;
        };
        let ask = RoomRequest::Since { term, after };
        let Some(resent) = self.remote.resent(&ask, LOOK_FOR).await else {
            return;
        };
        let (term, last) = (resent.term, resent.last);
        self.carry_resent(resent);
        if let Check::Missed { .. } = self.order.check_upto(term, last) {
            self.give_up(term, last);
        }
    }

    /// Carries out the batches the room's node sent again; the members are told first
    /// if those before them are no longer kept.
    fn carry_resent(&mut self, resent: Resent) {
        for batch in resent.batches {
            if let Check::Missed { term, .. } = self.order.check(batch.term, batch.seq) {
                self.give_up(term, batch.seq - 1);
            }
            self.carry(Arc::unwrap_or_clone(batch));
        }
    }

    /// The batches up to `upto` of run `term` cannot be had: the members here are told,
    /// and the room goes on from there.
    fn give_up(&mut self, term: u64, upto: u64) {
        let room = self.mirror.name();
        tracing::warn!(%room, term, upto, "room events were missed and cannot be fetched");
        self.here.event(
            "CLUSTER",
            format!("{room}: events missed here could not be fetched again; members told"),
        );
        for id in self.mirror.ids() {
            self.here.tell(id, MISSED);
        }
        self.order.carried(term, upto);
    }
}
