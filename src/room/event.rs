//! What a room's logic decides, as plain values: [`RoomState`](super::RoomState) turns
//! each command into events, and the room actor turns events into deliveries, log lines
//! and saved files. The time comes in with each command as a [`Now`].

use chrono::{DateTime, Utc};
use tokio::time::Instant;

use super::{Delivery, ParticipantId};
use crate::bans::Ban;
use crate::chat::line::SharedLine;

/// The time a command happens at: the wall clock (schedules, bans) and the monotonic
/// clock (rate limits, gathered notices).
#[derive(Debug, Clone, Copy)]
pub struct Now {
    pub wall: DateTime<Utc>,
    pub instant: Instant,
}

/// One consequence of a command.
#[derive(Debug, Clone)]
pub enum RoomEvent {
    /// `delivery` for participant `to`.
    ToOne {
        to: ParticipantId,
        delivery: Delivery,
    },
    /// `line` for everyone in the room but `except`.
    ToAll {
        line: SharedLine,
        except: Vec<ParticipantId>,
    },
    /// A whisper for `nick` (participant `to`), who may be in another room.
    Whisper {
        to: ParticipantId,
        /// Who whispered (told if it cannot be delivered).
        from: ParticipantId,
        nick: String,
        line: SharedLine,
    },
    /// End participant `to`'s session: what came before is shown, then it closes.
    Close { to: ParticipantId },
    /// Cut participant `to`'s connection at once (it stopped reading).
    Cut { to: ParticipantId },
    /// Participant `id` is no longer in the room.
    Gone { id: ParticipantId },
    /// A `server.txt` event; the room's name goes in front of `text`.
    Log { kind: &'static str, text: String },
    /// The pending scheduled messages changed and are to be saved.
    SaveSchedules,
    /// Someone was kicked: the ban is kept server-wide too, so it holds after the room
    /// has ended.
    KickBanned(Ban),
}
