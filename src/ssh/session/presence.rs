//! Where a participant is: their id, name, transcript and current room, which the
//! session task keeps as they move from room to room.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::chat::room_name::RoomName;
use crate::room::{JoinRequest, Outbox, ParticipantId, RoomHandle};
use crate::ssh::SessionDeps;

/// A participant who has joined.
pub(super) struct Presence {
    pub id: ParticipantId,
    pub nickname: String,
    pub key: Option<String>,
    pub addr: Option<SocketAddr>,
    pub outbox: Outbox,
    pub kill: CancellationToken,
    /// Follows them from room to room.
    pub transcript: Arc<str>,
    pub room: RoomName,
    pub handle: RoomHandle,
}

impl Presence {
    /// A request to enter another room as who they are.
    pub fn request(&self) -> JoinRequest {
        JoinRequest {
            id: self.id,
            nickname: self.nickname.clone(),
            key: self.key.clone(),
            addr: self.addr,
            outbox: self.outbox.clone(),
            kill: self.kill.clone(),
            transcript: self.transcript.clone(),
            creator: false,
        }
    }

    /// Leaves the chat for good: their room, their name, their transcript.
    pub async fn leave_chat(&self, deps: &SessionDeps) {
        deps.rooms.leave(&self.room, self.id).await;
        deps.names.release(&self.nickname, self.id).await;
        deps.connections.remove(self.id);
        deps.log.close_transcript(&self.transcript);
    }

    /// Logs a command the session ran itself in `room`, in the rooms' format.
    pub fn log_command(&self, deps: &SessionDeps, room: &RoomName, line: &str, outcome: &str) {
        let text = format!("{room} {}: {line} => {outcome}", self.nickname);
        deps.log.event("COMMAND", text);
    }
}
