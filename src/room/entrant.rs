//! Someone entering a room: the session's [`JoinRequest`] (who they are and how to
//! reach them), and the [`Entrant`] every node can be sent (who they are, and whether
//! they make the room).

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use super::{Outbox, ParticipantId};
use crate::chat::nickname::{Nickname, NicknameError};
use crate::delivery::Reach;
use crate::participant::Identity;

/// Everything the room needs to let someone in.
#[derive(Debug, Clone)]
pub struct JoinRequest {
    /// The participant's id, the same in every room they visit.
    pub id: ParticipantId,
    pub nickname: String,
    /// SHA256 fingerprint of the verified key, if the client signed in with one.
    pub key: Option<String>,
    pub addr: Option<SocketAddr>,
    pub outbox: Outbox,
    /// Cancelled by the room to cut a participant off (its socket is shut down).
    pub kill: CancellationToken,
    /// The participant's transcript, which follows them from room to room.
    pub transcript: std::sync::Arc<str>,
    /// They are creating the room (and so become its admin).
    pub creator: bool,
    /// The code they give for a locked room.
    pub code: Option<String>,
}

impl JoinRequest {
    /// The entrant as every server can know them, connected to `node`.
    ///
    /// # Errors
    /// The nickname breaks a rule.
    pub fn entrant(&self, node: &str) -> Result<Entrant, NicknameError> {
        let who = Identity {
            id: self.id,
            nick: Nickname::parse(&self.nickname)?,
            key: self.key.clone(),
            addr: self.addr,
            node: node.to_string(),
        };
        Ok(Entrant {
            who,
            creator: self.creator,
            code: self.code.clone(),
        })
    }

    /// How to reach their connection.
    pub fn reach(&self) -> Reach {
        Reach {
            outbox: self.outbox.clone(),
            kill: self.kill.clone(),
            transcript: self.transcript.clone(),
        }
    }
}

/// Someone entering a room, their nickname already claimed: what any server can send.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(from = "EntrantOnWire", into = "EntrantOnWire")]
pub struct Entrant {
    pub who: Identity,
    /// They made the room (and so become its admin).
    pub creator: bool,
    /// The code they give for a locked room.
    pub code: Option<String>,
}

/// An [`Entrant`] as nodes send it: one flat object (the shape of wire version 1).
#[derive(Serialize, Deserialize)]
struct EntrantOnWire {
    id: ParticipantId,
    nick: Nickname,
    key: Option<String>,
    addr: Option<SocketAddr>,
    creator: bool,
    node: String,
    /// Added in wire version 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    code: Option<String>,
}

impl From<EntrantOnWire> for Entrant {
    fn from(w: EntrantOnWire) -> Entrant {
        let who = Identity {
            id: w.id,
            nick: w.nick,
            key: w.key,
            addr: w.addr,
            node: w.node,
        };
        Entrant {
            who,
            creator: w.creator,
            code: w.code,
        }
    }
}

impl From<Entrant> for EntrantOnWire {
    fn from(e: Entrant) -> EntrantOnWire {
        let Identity {
            id,
            nick,
            key,
            addr,
            node,
        } = e.who;
        EntrantOnWire {
            id,
            nick,
            key,
            addr,
            creator: e.creator,
            node,
            code: e.code,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The entrant as wire version 1 defined it.
    #[derive(Serialize)]
    struct Version1 {
        id: ParticipantId,
        nick: String,
        key: Option<String>,
        addr: Option<SocketAddr>,
        creator: bool,
        node: String,
    }

    #[test]
    fn an_entrant_travels_in_the_flat_shape_of_wire_version_1() {
        let who = Identity {
            id: u128::MAX - 1,
            nick: Nickname::parse("alice").unwrap(),
            key: Some("SHA256:k".into()),
            addr: Some("10.0.0.1:22".parse().unwrap()),
            node: "n1".into(),
        };
        let entrant = Entrant {
            who,
            creator: true,
            code: None,
        };
        let version1 = Version1 {
            id: u128::MAX - 1,
            nick: "alice".into(),
            key: Some("SHA256:k".into()),
            addr: Some("10.0.0.1:22".parse().unwrap()),
            creator: true,
            node: "n1".into(),
        };
        let json = serde_json::to_string(&entrant).unwrap();
        assert_eq!(json, serde_json::to_string(&version1).unwrap());
        let back: Entrant = serde_json::from_str(&json).unwrap();
        assert_eq!(back.who, entrant.who);
        assert!(back.creator);
    }
}
