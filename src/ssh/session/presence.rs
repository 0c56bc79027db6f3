//! Where a participant is: their id, name, transcript and current room, which the
//! session task keeps as they move from room to room.

use crate::chat::room_name::RoomName;
use crate::delivery::Reach;
use crate::room::{JoinRequest, ParticipantId, RoomHandle};
use crate::ssh::SessionDeps;
use std::net::SocketAddr;

/// A participant who has joined.
pub(super) struct Presence {
    pub id: ParticipantId,
    pub nickname: String,
    pub key: Option<String>,
    pub addr: Option<SocketAddr>,
    /// How to reach them (their transcript follows them from room to room).
    pub reach: Reach,
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
            outbox: self.reach.outbox.clone(),
            kill: self.reach.kill.clone(),
            transcript: self.reach.transcript.clone(),
            creator: false,
        }
    }

    /// Leaves the chat for good: their room, their name, their transcript.
    pub async fn leave_chat(&self, deps: &SessionDeps) {
        deps.rooms.leave(&self.room, self.id).await;
        deps.names.release(&self.nickname, self.id).await;
        deps.connections.remove(self.id);
        deps.log.close_transcript(&self.reach.transcript);
    }

    /// Logs a command the session ran itself in `room`, in the rooms' format.
    pub fn log_command(&self, deps: &SessionDeps, room: &RoomName, line: &str, outcome: &str) {
        let text = format!("{room} {}: {line} => {outcome}", self.nickname);
        deps.log.event("COMMAND", text);
    }
}
