//! The seam that decides where rooms run: [`RoomPlacement`]. A lone server runs every
//! room's actor in this process ([`super::RoomsHere`]); a cluster node runs each room on
//! the one node holding its lease (the cluster's side, in `cluster/rooms.rs`). The
//! [`super::RoomDirectory`] above it claims nicknames and counts refusals the same way
//! for both.

use std::collections::HashSet;

use futures_util::future::BoxFuture;

use super::{EnterError, Entrant, Joined, ParticipantId, RoomHandle};
use crate::bans::Ban;
use crate::chat::room_name::RoomName;
use crate::delivery::Reach;

/// A room as `/rooms` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub participants: usize,
    /// As shown (`#rust`).
    pub name: String,
    /// It needs a code to enter.
    pub locked: bool,
}

/// A room entered: its handle, the join, and its name as the room spells it.
pub type Entered = (RoomHandle, Joined, RoomName);

/// Where the rooms run, and how they are made, entered, left and ended.
pub trait RoomPlacement: Send + Sync + 'static {
    /// This server's name in the cluster (empty for a lone server).
    fn node(&self) -> &str;

    /// Enters `room` as `entrant` (their nickname already claimed, their node this one),
    /// reached through `reach`, making it, with the entrant as its admin, if nobody runs
    /// it.
    ///
    /// # Errors
    /// The room refused, cannot be reached, or there are too many rooms.
    fn enter<'a>(
        &'a self,
        room: &'a RoomName,
        entrant: Entrant,
        reach: Reach,
    ) -> BoxFuture<'a, Result<Entered, EnterError>>;

    /// Participant `id` leaves `room`; a room other than the default one ends when the
    /// last member has left and nothing is scheduled in it.
    fn leave<'a>(&'a self, room: &'a RoomName, id: ParticipantId) -> BoxFuture<'a, ()>;

    /// The handle of `room`, if it exists.
    fn handle(&self, room: &RoomName) -> Option<RoomHandle>;

    /// Every room, as `/rooms` lists it.
    fn rooms(&self) -> Vec<Listed>;

    /// A server ban came into force: every room running here puts out whoever it is on,
    /// telling them `told`.
    fn enforce(&self, ban: Ban, told: String) -> BoxFuture<'_, ()>;

    /// New server admin keys (SIGHUP), for every room running now.
    fn set_admin_keys(&self, keys: HashSet<String>) -> BoxFuture<'_, ()>;

    /// The server stops: everyone is told, what is pending saved or handed on.
    fn shutdown(&self) -> BoxFuture<'_, ()>;
}
