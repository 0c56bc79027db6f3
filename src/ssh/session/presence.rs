//! Where a participant is: their id, name, transcript and current room, which the
//! session task keeps as they move from room to room.

use super::comforts::Comforts;
use crate::chat::room_name::RoomName;
use crate::delivery::Reach;
use crate::participant::Identity;
use crate::room::{JoinRequest, RoomHandle};
use crate::ssh::SessionDeps;

/// A participant who has joined.
pub(super) struct Presence {
    pub who: Identity,
    /// How to reach them (their transcript follows them from room to room).
    pub reach: Reach,
    pub room: RoomName,
    pub handle: RoomHandle,
    /// Their own view and settings (SPEC §12).
    pub comforts: Comforts,
}

impl Presence {
    /// A request to enter another room as who they are.
    pub fn request(&self) -> JoinRequest {
        JoinRequest {
            id: self.who.id,
            nickname: self.who.nick.to_string(),
            key: self.who.key.clone(),
            addr: self.who.addr,
            outbox: self.reach.outbox.clone(),
            kill: self.reach.kill.clone(),
            transcript: self.reach.transcript.clone(),
            creator: false,
            code: None,
        }
    }

    /// Leaves the chat for good: their room, their name, their transcript.
    pub async fn leave_chat(&self, deps: &SessionDeps) {
        let id = self.who.id;
        deps.rooms.leave(&self.room, id).await;
        deps.names.release(self.who.nick.as_str(), id).await;
        deps.connections.remove(id);
        deps.log.close_transcript(&self.reach.transcript);
    }

    /// Logs a command the session ran itself in `room`, in the rooms' format.
    pub fn log_command(&self, deps: &SessionDeps, room: &RoomName, line: &str, outcome: &str) {
        let text = format!("{room} {}: {line} => {outcome}", self.who.nick);
        deps.log.event("COMMAND", text);
    }
}
