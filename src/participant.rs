//! Who a participant is, as every part of the server names them: a random 128-bit id,
//! the same in every room they visit and on every node of a cluster, and their
//! [`Identity`] (nickname, key, address, node). How to reach their connection is
//! [`crate::delivery::Reach`]. It imports only the pure `chat` rules, so the rooms, the
//! names and the cluster can all name participants.

use std::net::{IpAddr, SocketAddr};

use crate::chat::nickname::Nickname;

/// Identifies a participant: random 128 bits, so ids never collide between rooms, runs
/// or servers.
pub type ParticipantId = u128;

/// A fresh participant id.
pub fn new_participant_id() -> ParticipantId {
    rand::random()
}

/// Who a participant is, as every room and node of the chat can know them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub id: ParticipantId,
    /// Their nickname, claimed chat-wide.
    pub nick: Nickname,
    /// SHA256 fingerprint of the verified key, if the client signed in with one.
    pub key: Option<String>,
    pub addr: Option<SocketAddr>,
    /// The server holding their connection (empty for a lone server).
    pub node: String,
}

impl Identity {
    /// The person behind the participant, as `/ignore` (SPEC §12) names them: their key's
    /// fingerprint, or else their address (without the port, so a reconnect is the same
    /// person), or else, with neither, this participant alone.
    pub fn person(&self) -> String {
        person_of(self.key.as_deref(), self.addr.map(|a| a.ip()), self.id)
    }
}

/// See [`Identity::person`].
pub fn person_of(key: Option<&str>, addr: Option<IpAddr>, id: ParticipantId) -> String {
    match (key, addr) {
        (Some(key), _) => key.to_string(),
        (None, Some(addr)) => addr.to_string(),
        (None, None) => format!("#{id:x}"),
    }
}
