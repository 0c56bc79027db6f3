//! Room placement in the cluster, one concept in two files: which node runs a room is
//! whoever holds its lease in `chat_leases`. [`owner`] wins the lease (making the room,
//! or taking it over from its snapshot when the lease lapsed) and runs the room's actor,
//! answering `chat.room.<key>.in`; [`lease`] keeps the lease while the room runs here
//! (renewing it, ending an empty room, stepping down when another node holds it);
//! [`OwnedRooms`] is the table of the rooms this node runs.

mod lease;
mod owned;
mod owner;

pub(super) use owned::OwnedRooms;
pub(super) use owner::{make_if_missing, take_over};
