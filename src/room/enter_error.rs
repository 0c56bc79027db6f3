//! Why someone could not enter a room, as they are told it (SPEC §8).

use super::JoinError;
use crate::metrics::Refusal;

/// Why someone could not enter a room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnterError {
    /// The room is full; `room` as the room spells itself.
    Full {
        room: String,
        count: usize,
        capacity: usize,
    },
    /// The room refused them otherwise.
    Join(JoinError),
    /// The room does not exist and there are already `--max-rooms`.
    TooManyRooms(usize),
}

impl EnterError {
    /// What the refusal counts as.
    pub fn refusal(&self) -> Refusal {
        match self {
            EnterError::Full { .. } | EnterError::Join(JoinError::Full { .. }) => Refusal::RoomFull,
            EnterError::Join(JoinError::Nickname(_)) => Refusal::NameRefused,
            EnterError::Join(JoinError::Banned { .. } | JoinError::ServerBanned(_)) => {
                Refusal::Banned
            }
            EnterError::Join(
                JoinError::NeedsCode { .. }
                | JoinError::WrongCode { .. }
                | JoinError::NoSuchRoom(_),
            ) => Refusal::Locked,
            EnterError::Join(JoinError::Closed) => Refusal::ShuttingDown,
            EnterError::Join(JoinError::Unreachable) => Refusal::Unreachable,
            EnterError::TooManyRooms(_) => Refusal::TooManyRooms,
        }
    }

    /// `refused` as said when entering the room shown as `room`.
    pub fn refused(refused: JoinError, room: &str) -> EnterError {
        match refused {
            JoinError::Full { count, capacity } => EnterError::Full {
                room: room.to_string(),
                count,
                capacity,
            },
            other => EnterError::Join(other),
        }
    }
}

impl std::fmt::Display for EnterError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EnterError::Full {
                room,
                count,
                capacity,
            } => write!(f, "{room} is full ({count}/{capacity})."),
            EnterError::Join(e) => e.fmt(f),
            EnterError::TooManyRooms(max) => write!(
                f,
                "There are too many rooms ({max}). Please join an existing one."
            ),
        }
    }
}
