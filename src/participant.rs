//! Who a participant is, as every part of the server names them: a random 128-bit id,
//! the same in every room they visit and on every node of a cluster, and their
//! [`Identity`] (nickname, key, address, node). How to reach their connection is
//! [`crate::delivery::Reach`]. It imports only the pure `chat` rules, so the rooms, the
//! names and the cluster can all name participants.

use std::fmt;
use std::net::{IpAddr, SocketAddr};

use serde::{Deserialize, Serialize};

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
    /// The person behind the session, as moderation knows them.
    pub fn person(&self) -> Option<Person> {
        Person::of(self.key.as_deref(), self.addr)
    }

    /// The person behind the participant as one string, for lists that need one for
    /// everyone (`/ignore`, SPEC §12): their [`Person`] as text, or else, with neither
    /// key nor address, this participant alone.
    pub fn person_text(&self) -> String {
        person_of(self.key.as_deref(), self.addr.map(|a| a.ip()), self.id)
    }
}

/// A person as moderation and personal settings know them (SPEC §11): their key's
/// fingerprint, or their address when they signed in without a key. A rename or a
/// reconnect does not change it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Person {
    Key(String),
    Addr(IpAddr),
}

impl Person {
    /// The person signed in with `key` from `addr`: the key if there is one.
    pub fn of(key: Option<&str>, addr: Option<SocketAddr>) -> Option<Person> {
        match (key, addr) {
            (Some(key), _) => Some(Person::Key(key.to_string())),
            (None, Some(addr)) => Some(Person::Addr(addr.ip())),
            (None, None) => None,
        }
    }
}

impl fmt::Display for Person {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Person::Key(key) => write!(f, "{key}"),
            Person::Addr(ip) => write!(f, "{ip}"),
        }
    }
}

/// See [`Identity::person_text`].
pub fn person_of(key: Option<&str>, addr: Option<IpAddr>, id: ParticipantId) -> String {
    let addr = addr.map(|ip| SocketAddr::new(ip, 0));
    match Person::of(key, addr) {
        Some(person) => person.to_string(),
        None => format!("#{id:x}"),
    }
}
