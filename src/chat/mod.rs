//! The chat's pure vocabulary: nickname rules, the command parser, the exact lines the
//! room prints and the cleaning of user text. No I/O, no async.

pub mod comfort;
pub mod command;
pub mod duration;
pub mod line;
pub mod mention;
pub mod moderation;
pub mod nickname;
pub mod room_name;
pub mod text;
