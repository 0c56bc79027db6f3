//! The lines the room sends, in the seed's exact formats. A [`ChatLine`] is rendered once
//! and shared by every recipient; the terminal layer decides on colours from its kind.

use std::sync::{Arc, OnceLock};

/// What a line is, so a terminal can style it; the text itself is already final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum LineKind {
    /// `Alice >> Hello`; the first `nick_len` bytes are the sender's nickname.
    Chat { nick_len: usize },
    /// `[Server]: ...`
    Server,
    /// `[Whisper from Bob] ...` or `[Whisper to Charlie] ...`
    Whisper,
    /// `[Scheduled by Charlie] ...`
    Scheduled,
}

/// One finished line of room output (without a line ending). Between servers it
/// travels as its kind and text; the colours are made again where it is shown.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ChatLine {
    pub kind: LineKind,
    pub text: String,
    /// The line with colours, made once by the first recipient that needs it and
    /// shared by the rest.
    #[serde(skip)]
    coloured: OnceLock<String>,
}

/// A line shared between every participant it goes to.
pub type SharedLine = Arc<ChatLine>;

impl ChatLine {
    /// `[Server]: {text}`
    pub fn server(text: impl AsRef<str>) -> Self {
        ChatLine {
            kind: LineKind::Server,
            text: format!("[Server]: {}", text.as_ref()),
            coloured: OnceLock::new(),
        }
    }

    /// `[Notice] {text}`: a room's pinned notice.
    pub fn notice(text: &str) -> Self {
        ChatLine {
            kind: LineKind::Server,
            text: format!("[Notice] {text}"),
            coloured: OnceLock::new(),
        }
    }

    /// `{nick} >> {message}`
    pub fn chat(nick: &str, message: &str) -> Self {
        ChatLine {
            kind: LineKind::Chat {
                nick_len: nick.len(),
            },
            text: format!("{nick} >> {message}"),
            coloured: OnceLock::new(),
        }
    }

    /// `[Whisper from {from}] {message}`
    pub fn whisper_from(from: &str, message: &str) -> Self {
        ChatLine {
            kind: LineKind::Whisper,
            text: format!("[Whisper from {from}] {message}"),
            coloured: OnceLock::new(),
        }
    }

    /// `[Whisper to {to}] {message}`
    pub fn whisper_to(to: &str, message: &str) -> Self {
        ChatLine {
            kind: LineKind::Whisper,
            text: format!("[Whisper to {to}] {message}"),
            coloured: OnceLock::new(),
        }
    }

    /// `[Scheduled by {author}] {message}`
    pub fn scheduled(author: &str, message: &str) -> Self {
        ChatLine {
            kind: LineKind::Scheduled,
            text: format!("[Scheduled by {author}] {message}"),
            coloured: OnceLock::new(),
        }
    }

    /// The line as `paint` colours it, computed on first use.
    pub fn coloured(&self, paint: impl FnOnce(&ChatLine) -> String) -> &str {
        self.coloured.get_or_init(|| paint(self))
    }

    /// Wraps the line for sharing between recipients.
    pub fn shared(self) -> SharedLine {
        Arc::new(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_formats_are_byte_exact() {
        assert_eq!(
            ChatLine::chat("Alice", "Hello everyone!").text,
            "Alice >> Hello everyone!"
        );
        assert_eq!(
            ChatLine::whisper_from("Bob", "Hi, Charlie!").text,
            "[Whisper from Bob] Hi, Charlie!"
        );
        assert_eq!(
            ChatLine::whisper_to("Charlie", "Hi, Charlie!").text,
            "[Whisper to Charlie] Hi, Charlie!"
        );
        assert_eq!(
            ChatLine::scheduled("Charlie", "Meeting starts soon").text,
            "[Scheduled by Charlie] Meeting starts soon"
        );
        assert_eq!(
            ChatLine::server("Bob has been kicked from the chat.").text,
            "[Server]: Bob has been kicked from the chat."
        );
    }
}
