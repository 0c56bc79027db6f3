//! The command parser: one typed line in, a [`Input`] or a [`ParseError`] out.

use std::fmt;

pub use super::comfort::Comfort;
use super::moderation::{self, Moderation};
use super::text::sanitize;

/// A wall-clock time of day, `HH:MM` on a 24-hour clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ClockTime {
    pub hour: u32,
    pub minute: u32,
}

impl ClockTime {
    /// Parses exactly `HH:MM` (two digits each, 00:00 to 23:59).
    pub fn parse(s: &str) -> Option<ClockTime> {
        let (h, m) = s.split_once(':')?;
        let two_digits = |t: &str| t.len() == 2 && t.bytes().all(|b| b.is_ascii_digit());
        if !two_digits(h) || !two_digits(m) {
            return None;
        }
        let (hour, minute) = (h.parse().ok()?, m.parse().ok()?);
        (hour < 24 && minute < 60).then_some(ClockTime { hour, minute })
    }
}

impl fmt::Display for ClockTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.hour, self.minute)
    }
}

/// A slash command with its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Rename {
        nickname: String,
    },
    Whisper {
        to: String,
        text: String,
    },
    Schedule {
        at: ClockTime,
        text: String,
    },
    ListSchedules,
    Unschedule {
        number: usize,
    },
    Kick {
        nickname: String,
    },
    Users,
    Help,
    Quit,
    /// Move to room `room` (created if missing), with its code if it is locked.
    Join {
        room: String,
        code: Option<String>,
    },
    /// Back to the default room.
    Leave,
    Rooms,
    Register,
    Unregister {
        nickname: Option<String>,
    },
    Whois {
        nickname: String,
    },
    /// A moderation command (SPEC §11).
    Moderate(Moderation),
    /// The personal comforts of SPEC §12 (see [`super::comfort`]).
    Comfort(Comfort),
}

impl Command {
    /// Whether the session itself runs this command (it spans rooms or the server)
    /// rather than the participant's room.
    pub fn is_beyond_the_room(&self) -> bool {
        matches!(
            self,
            Command::Join { .. }
                | Command::Leave
                | Command::Rooms
                | Command::Register
                | Command::Unregister { .. }
                | Command::Whois { .. }
        ) || matches!(self, Command::Moderate(m) if m.is_server_wide())
            || matches!(self, Command::Comfort(c) if c.is_beyond_the_room())
    }
}

/// What one line of input means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// Nothing but whitespace: ignored.
    Empty,
    Message(String),
    Command(Command),
}

/// Why a line could not be understood; `Display` is the text after `[Server]: `.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    Usage(&'static str),
    InvalidTime(String),
    InvalidNumber(String),
    Unknown(String),
    /// `/join` with more than two words: room names have no spaces.
    RoomWithSpaces(String),
    /// An argument that is wrong in the way the text says.
    Invalid(String),
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::Usage(usage) => write!(f, "Usage: {usage}"),
            ParseError::InvalidTime(t) => write!(
                f,
                "Invalid time \"{t}\". Use HH:MM on a 24-hour clock (00:00 to 23:59)."
            ),
            ParseError::InvalidNumber(n) => write!(
                f,
                "Invalid number \"{n}\". Use /unschedule N with N from /schedule."
            ),
            ParseError::Unknown(name) => {
                write!(f, "Unknown command \"{name}\". Type /help for the list.")
            }
            ParseError::Invalid(text) => write!(f, "{text}"),
            ParseError::RoomWithSpaces(words) => write!(
                f,
                "Room names have no spaces: try /join {}",
                words.split_whitespace().collect::<Vec<_>>().join("-")
            ),
        }
    }
}

/// Each command's syntax and what it does, for `/help`.
pub const HELP: &[(&str, &str)] = &[
    ("/rename <nickname>", "change your nickname"),
    ("/whisper <nickname> <message>", "send a private message"),
    (
        "/schedule HH:MM <message>",
        "send a message to the room at HH:MM",
    ),
    ("/schedule", "list your scheduled messages"),
    ("/unschedule <N>", "cancel scheduled message N"),
    ("/user", "list who is in the room"),
    (
        "/join <room> [code]",
        "move to a room (made if it does not exist)",
    ),
    ("/leave", "go back to the lobby"),
    ("/rooms", "list the rooms"),
    ("/register", "register your nickname to your SSH key"),
    (
        "/unregister [nickname]",
        "free a nickname registered to your key",
    ),
    (
        "/whois <nickname>",
        "where someone is and whether their name is theirs",
    ),
    ("/me <action>", "tell the room what you do: * you waves"),
    (
        "/reply <message>",
        "whisper to whoever last whispered to you (/r)",
    ),
    (
        "/away [reason]",
        "say you are away (until you chat or /back)",
    ),
    ("/back", "say you are back"),
    (
        "/ignore [nickname]",
        "stop seeing someone (alone: who you ignore)",
    ),
    ("/unignore <nickname>", "see someone again"),
    ("/bell [mentions|all|off]", "when the terminal bell rings"),
    ("/timestamp [on|off]", "show HH:MM before each line"),
    ("/help", "show this list"),
    ("/quit", "leave the chat (Ctrl-D works too)"),
];

const USAGE_RENAME: &str = "/rename <nickname>";
const USAGE_WHISPER: &str = "/whisper <nickname> <message>";
const USAGE_SCHEDULE: &str = "/schedule HH:MM <message>";
const USAGE_UNSCHEDULE: &str = "/unschedule <N>";
const USAGE_KICK: &str = "/kick <nickname>";
const USAGE_JOIN: &str = "/join <room> [code]";
const USAGE_WHOIS: &str = "/whois <nickname>";
const USAGE_UNREGISTER: &str = "/unregister [nickname]";

/// Parses one line of input. Lines not starting with `/` are messages; `//text` sends
/// the message `/text`.
///
/// # Errors
/// A [`ParseError`] for unknown commands and commands with missing or bad arguments.
pub fn parse_input(line: &str) -> Result<Input, ParseError> {
    let line = line.trim();
    if line.is_empty() {
        return Ok(Input::Empty);
    }
    if let Some(escaped) = line.strip_prefix("//") {
        return Ok(Input::Message(format!("/{escaped}")));
    }
    let Some(rest) = line.strip_prefix('/') else {
        return Ok(Input::Message(line.to_string()));
    };
    let (name, args) = split_word(rest);
    let command = match name.to_ascii_lowercase().as_str() {
        "rename" | "nick" => Command::Rename {
            nickname: single_word(args, USAGE_RENAME)?,
        },
        "whisper" | "w" | "msg" => {
            let (to, text) = split_word(args);
            if to.is_empty() || text.is_empty() {
                return Err(ParseError::Usage(USAGE_WHISPER));
            }
            Command::Whisper {
                to: to.to_string(),
                text: text.to_string(),
            }
        }
        "schedule" => parse_schedule(args)?,
        "unschedule" => {
            let n = single_word(args, USAGE_UNSCHEDULE)?;
            match n.parse::<usize>() {
                Ok(number) if number > 0 => Command::Unschedule { number },
                _ => return Err(ParseError::InvalidNumber(n)),
            }
        }
        "kick" => Command::Kick {
            nickname: single_word(args, USAGE_KICK)?,
        },
        "user" | "users" | "who" => Command::Users,
        "help" | "?" => Command::Help,
        "quit" | "exit" => Command::Quit,
        "join" => match args.split_whitespace().collect::<Vec<_>>()[..] {
            [] => return Err(ParseError::Usage(USAGE_JOIN)),
            [room] => Command::Join {
                room: room.to_string(),
                code: None,
            },
            [room, code] => Command::Join {
                room: room.to_string(),
                code: Some(code.to_string()),
            },
            _ => {
                let shown = sanitize(args).chars().take(64).collect();
                return Err(ParseError::RoomWithSpaces(shown));
            }
        },
        "leave" => Command::Leave,
        "rooms" => Command::Rooms,
        "register" => Command::Register,
        "unregister" => Command::Unregister {
            nickname: match args {
                "" => None,
                _ => Some(single_word(args, USAGE_UNREGISTER)?),
            },
        },
        "whois" => Command::Whois {
            nickname: single_word(args, USAGE_WHOIS)?,
        },
        lower => match moderation::parse(lower, args) {
            Some(parsed) => Command::Moderate(parsed?),
            None => match super::comfort::parse(lower, args)? {
                Some(comfort) => Command::Comfort(comfort),
                None => return Err(ParseError::Unknown(format!("/{name}"))),
            },
        },
    };
    Ok(Input::Command(command))
}

fn parse_schedule(args: &str) -> Result<Command, ParseError> {
    if args.is_empty() {
        return Ok(Command::ListSchedules);
    }
    let (time, text) = split_word(args);
    let at = ClockTime::parse(time).ok_or_else(|| ParseError::InvalidTime(time.to_string()))?;
    if text.is_empty() {
        return Err(ParseError::Usage(USAGE_SCHEDULE));
    }
    Ok(Command::Schedule {
        at,
        text: text.to_string(),
    })
}

/// Splits off the first whitespace-separated word; the rest is trimmed.
fn split_word(s: &str) -> (&str, &str) {
    match s.split_once(char::is_whitespace) {
        Some((word, rest)) => (word, rest.trim()),
        None => (s, ""),
    }
}

fn single_word(args: &str, usage: &'static str) -> Result<String, ParseError> {
    match split_word(args) {
        (word, "") if !word.is_empty() => Ok(word.to_string()),
        _ => Err(ParseError::Usage(usage)),
    }
}

#[cfg(test)]
#[path = "command_tests.rs"]
mod tests;
