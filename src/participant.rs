//! How every part of the server names a participant: a random 128-bit id, the same in
//! every room they visit and on every node of a cluster. A leaf: it imports nothing of
//! the crate, so the rooms, the names and the cluster can all name participants.

/// Identifies a participant: random 128 bits, so ids never collide between rooms, runs
/// or servers.
pub type ParticipantId = u128;

/// A fresh participant id.
pub fn new_participant_id() -> ParticipantId {
    rand::random()
}
