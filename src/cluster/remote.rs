//! A room as a session on any node sees it in a cluster (the NATS side of `RoomBus`):
//! requests to whichever node runs the room's actor, over `chat.room.<key>.in`. A typed
//! line that cannot reach the room (NATS unreachable, the room moving between nodes for
//! too long) is refused with a `[Server]:` line, never lost silently (SPEC §10).

use std::sync::Arc;
use std::time::Duration;

use async_nats::RequestErrorKind;
use futures_util::future::BoxFuture;
use tokio::sync::oneshot;
use tokio::time::Instant;

use super::membership::Membership;
use super::placement::Placement;
use super::retry::{self, Again};
use super::sequence::Resent;
use super::wire::{RoomKey, RoomReply, RoomRequest};
use super::{Cluster, REQUEST_TIMEOUT};
use crate::chat::line::ChatLine;
use crate::metrics::Refusal;
use crate::room::{Delivery, Entrant, JoinError, Joined, ParticipantId, RoomBus};

/// What someone whose line could not reach its room is told.
pub const NOT_SENT: &str =
    "Your line was not sent: the chat servers cannot reach each other right now. Please try again in a moment.";
/// How long a departure keeps being retried while its room moves between nodes.
const LEAVE_FOR: Duration = Duration::from_secs(10);
/// Pause before a departure the room could not be told is told again.
const TELL_AGAIN_AFTER: Duration = Duration::from_millis(500);
/// Pause between tries while nobody runs the room.
const RETRY_EVERY: Duration = Duration::from_millis(100);
/// How often a request waiting for its answer looks whether the room left its node.
const HOLDER_CHECK_EVERY: Duration = Duration::from_millis(20);

/// A room of the cluster, wherever its actor runs.
#[derive(Clone)]
pub struct RemoteRoom {
    cluster: Arc<Cluster>,
    /// Who runs the room (and the room itself, when it runs here).
    placement: Arc<Placement>,
    /// This node's members, told when their line cannot reach the room.
    here: Arc<Membership>,
    room: RoomKey,
    subject: Arc<str>,
}

/// The room could not be reached.
#[derive(Debug)]
pub struct Unreachable;

impl RemoteRoom {
    pub(super) fn new(
        cluster: Arc<Cluster>,
        (placement, here): (Arc<Placement>, Arc<Membership>),
        room: RoomKey,
    ) -> RemoteRoom {
        let subject = room.requests().into();
        RemoteRoom {
            cluster,
            placement,
            here,
            room,
            subject,
        }
    }

    /// The room's keys.
    pub(super) fn room(&self) -> &RoomKey {
        &self.room
    }

    /// Asks the room, trying again for `patience` while nobody runs it (it is moving
    /// to another node, or has just been made).
    async fn ask(
        &self,
        request: &RoomRequest,
        patience: Duration,
    ) -> Result<RoomReply, Unreachable> {
        let give_up = Instant::now() + patience;
        // Made when first needed: a room on this node is asked without it.
        let payload = std::sync::OnceLock::new();
        let once = || async {
            let answer = self.ask_once(request, &payload).await;
            if answer.is_err() && Instant::now() < give_up {
                // Nobody runs the room, or it is moving: take it if it is free.
                self.placement.ensure_running(&self.room).await;
            }
            answer
        };
        match retry::until(give_up, retry::every(RETRY_EVERY), once).await {
            Ok(answer) => answer,
            Err(Again) => Err(Unreachable),
        }
    }

    /// One try of [`RemoteRoom::ask`]: the room's answer, or that it cannot be reached
    /// (both final), or [`Again`] while nobody runs it, or it is moving.
    async fn ask_once(
        &self,
        request: &RoomRequest,
        payload: &std::sync::OnceLock<Option<bytes::Bytes>>,
    ) -> Result<Result<RoomReply, Unreachable>, Again> {
        if !self.cluster.is_connected() {
            return Ok(Err(Unreachable));
        }
        // The room runs on this node: straight to its actor.
        if let Some(reply) = self.placement.ask_here(self.room.key(), request).await {
            return Ok(Ok(reply));
        }
        let encoded = payload.get_or_init(|| serde_json::to_vec(request).ok().map(Into::into));
        let Some(encoded) = encoded.clone() else {
            return Ok(Err(Unreachable));
        };
        match self.request(encoded).await {
            Ok(Some(reply)) => match serde_json::from_slice(&reply.payload) {
                Ok(RoomReply::Moved) => Err(Again),
                Ok(reply) => Ok(Ok(reply)),
                Err(_) => Ok(Err(Unreachable)),
            },
            // The room left the node asked before it took the request.
            Ok(None) => Err(Again),
            Err(e) if e.kind() == RequestErrorKind::NoResponders => Err(Again),
            Err(error) => {
                tracing::debug!(%error, room = %self.room.name(), "a room request failed");
                Ok(Err(Unreachable))
            }
        }
    }

    /// One request to whichever node runs the room. A node that hands the room on
    /// answers what it took before it lets the lease go, but a request on its way when
    /// it stops listening is dropped unanswered (the NATS client forgets the
    /// subscription before the server does): once the lease has left the node asked,
    /// and its answer is not in, the request was not taken there: `None`, to be asked
    /// again like a [`RoomReply::Moved`].
    async fn request(
        &self,
        payload: bytes::Bytes,
    ) -> Result<Option<async_nats::Message>, async_nats::RequestError> {
        let client = &self.cluster.client;
        let key = self.room.bucket();
        let holder = self.placement.holder(key);
        let asked = client.request(self.subject.to_string(), payload);
        tokio::pin!(asked);
        let Some(holder) = holder else {
            return asked.await.map(Some);
        };
        tokio::select! {
            biased;
            answer = &mut asked => return answer.map(Some),
            () = async {
                while self.placement.holder(key).as_deref() == Some(&holder) {
                    tokio::time::sleep(HOLDER_CHECK_EVERY).await;
                }
            } => {}
        }
        // The node published any answer before giving the lease up, so it has reached
        // this client before the lease's change did: a round trip to NATS makes sure
        // it has been read.
        let _ = tokio::time::timeout(REQUEST_TIMEOUT, client.flush()).await;
        futures_util::FutureExt::now_or_never(&mut asked).map_or(Ok(None), |a| a.map(Some))
    }

    /// How many are in the room, and how many fit.
    pub async fn occupancy(&self) -> Option<(usize, usize)> {
        match self.ask(&RoomRequest::Occupancy, REQUEST_TIMEOUT).await {
            Ok(RoomReply::Occupancy(n, capacity)) => Some((n, capacity)),
            _ => None,
        }
    }

    /// Asks to join.
    ///
    /// # Errors
    /// The room refused, or could not be reached ([`JoinError::Unreachable`]).
    pub async fn join(&self, entrant: Entrant) -> Result<Joined, JoinError> {
        match self.ask(&RoomRequest::Join(entrant), REQUEST_TIMEOUT).await {
            Ok(RoomReply::Joined(joined)) => joined,
            _ => Err(JoinError::Unreachable),
        }
    }

    /// One typed line; `handled` is told once the room has handled it (whether it was
    /// taken), or the typist has been told it was not sent.
    pub fn input(&self, id: ParticipantId, line: String, handled: oneshot::Sender<bool>) {
        let room = self.clone();
        tokio::spawn(async move {
            let token = rand::random::<u64>() | 1;
            let request = RoomRequest::Input { id, line, token };
            let taken = match room.ask(&request, REQUEST_TIMEOUT).await {
                Ok(RoomReply::Handled(taken)) => taken,
                _ => {
                    room.here.metrics().refused(Refusal::Unreachable);
                    room.here.tell(id, NOT_SENT);
                    false
                }
            };
            let _ = handled.send(taken);
        });
    }

    /// Participant `id` has gone; said until the room hears it, even while it moves.
    pub fn leave(&self, id: ParticipantId) {
        self.tell_room(RoomRequest::Leave { id });
    }

    /// Participant `id` could not be handed a line on this node.
    pub fn dropped(&self, id: ParticipantId, session_ended: bool) {
        self.tell_room(RoomRequest::Dropped { id, session_ended });
    }

    fn tell_room(&self, request: RoomRequest) {
        let room = self.clone();
        tokio::spawn(async move {
            let give_up = Instant::now() + LEAVE_FOR;
            let told = || room.ask(&request, LEAVE_FOR);
            let _ = retry::until(give_up, retry::every(TELL_AGAIN_AFTER), told).await;
        });
    }

    /// The room's numbered batches asked for by `request` ([`RoomRequest::Since`] or
    /// [`RoomRequest::Tip`]), waiting at most `patience` for someone to run the room.
    pub(super) async fn resent(&self, request: &RoomRequest, patience: Duration) -> Option<Resent> {
        match self.ask(request, patience).await {
            Ok(RoomReply::Resent(resent)) => Some(resent),
            _ => None,
        }
    }

    /// The `/user` line.
    pub async fn users(&self) -> Option<ChatLine> {
        match self.ask(&RoomRequest::Users, REQUEST_TIMEOUT).await {
            Ok(RoomReply::Users(line)) => Some(line),
            _ => None,
        }
    }

    /// Everyone's nickname, for Tab completion.
    pub async fn names(&self) -> Option<Vec<String>> {
        match self.ask(&RoomRequest::Names, REQUEST_TIMEOUT).await {
            Ok(RoomReply::Names(names)) => Some(names),
            _ => None,
        }
    }
}

/// The cluster's side of the bus from sessions to a room's actor.
impl RoomBus for RemoteRoom {
    fn occupancy(&self) -> BoxFuture<'_, Option<(usize, usize)>> {
        Box::pin(RemoteRoom::occupancy(self))
    }

    fn input(&self, id: ParticipantId, line: String, handled: oneshot::Sender<bool>) {
        RemoteRoom::input(self, id, line, handled);
    }

    fn leave(&self, id: ParticipantId) {
        RemoteRoom::leave(self, id);
    }

    fn users(&self) -> BoxFuture<'_, Option<ChatLine>> {
        Box::pin(RemoteRoom::users(self))
    }

    fn names(&self) -> BoxFuture<'_, Option<Vec<String>>> {
        Box::pin(RemoteRoom::names(self))
    }
}

/// `request` as JSON, encoded once into `cache`.
/// A line for one participant of this node, outside any room's order.
pub(super) fn server_line(text: &str) -> Delivery {
    Delivery::Line(ChatLine::server(text).shared())
}
