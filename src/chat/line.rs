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
    /// `* Alice waves` (`/me`); the `nick_len` bytes after `* ` are the actor's nickname.
    Action { nick_len: usize },
}

/// Who sent a line, for the recipient's own view (SPEC §12): their participant id (is
/// it my own line? whom do I `/reply` to?) and the person (`key` fingerprint, or the
/// address without a key), which `/ignore` names.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Sender {
    pub id: u128,
    pub person: String,
}

/// One finished line of room output (without a line ending). Between servers it
/// travels as its kind and text; the colours are made again where it is shown.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ChatLine {
    pub kind: LineKind,
    pub text: String,
    /// Who sent it: set on chat lines, `/me`, scheduled messages and whispers, never on
    /// `[Server]:` lines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<Sender>,
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
            from: None,
            coloured: OnceLock::new(),
        }
    }

    /// `[Notice] {text}`: a room's pinned notice.
    pub fn notice(text: &str) -> Self {
        ChatLine {
            kind: LineKind::Server,
            text: format!("[Notice] {text}"),
            from: None,
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
            from: None,
            coloured: OnceLock::new(),
        }
    }

    /// `[Whisper from {from}] {message}`
    pub fn whisper_from(from: &str, message: &str) -> Self {
        ChatLine {
            kind: LineKind::Whisper,
            text: format!("[Whisper from {from}] {message}"),
            from: None,
            coloured: OnceLock::new(),
        }
    }

    /// `[Whisper to {to}] {message}`
    pub fn whisper_to(to: &str, message: &str) -> Self {
        ChatLine {
            kind: LineKind::Whisper,
            text: format!("[Whisper to {to}] {message}"),
            from: None,
            coloured: OnceLock::new(),
        }
    }

    /// `[Scheduled by {author}] {message}`
    pub fn scheduled(author: &str, message: &str) -> Self {
        ChatLine {
            kind: LineKind::Scheduled,
            text: format!("[Scheduled by {author}] {message}"),
            from: None,
            coloured: OnceLock::new(),
        }
    }

    /// `* {nick} {action}` (`/me`)
    pub fn action(nick: &str, action: &str) -> Self {
        ChatLine {
            kind: LineKind::Action {
                nick_len: nick.len(),
            },
            text: format!("* {nick} {action}"),
            from: None,
            coloured: OnceLock::new(),
        }
    }

    /// The same line, marked as sent by `from`.
    pub fn by(mut self, from: Sender) -> Self {
        self.from = Some(from);
        self
    }

    /// Where the words of the line start, after who said it (`Alice >> `,
    /// `[Whisper from Bob] `, `* Alice `): the part a mention is looked for in.
    pub fn body_start(&self) -> usize {
        match self.kind {
            LineKind::Chat { nick_len } => (nick_len + " >> ".len()).min(self.text.len()),
            LineKind::Action { nick_len } => (nick_len + "* ".len() + 1).min(self.text.len()),
            LineKind::Server | LineKind::Whisper | LineKind::Scheduled => {
                // A nickname has no `]`, so the first `] ` ends the tag.
                self.text.find("] ").map_or(0, |at| at + 2)
            }
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
        assert_eq!(ChatLine::action("Alice", "waves").text, "* Alice waves");
        assert_eq!(
            ChatLine::server("Bob has been kicked from the chat.").text,
            "[Server]: Bob has been kicked from the chat."
        );
    }

    #[test]
    fn the_body_starts_after_who_said_it() {
        let body = |l: ChatLine| l.text[l.body_start()..].to_string();
        assert_eq!(body(ChatLine::chat("Alice", "hi bob")), "hi bob");
        assert_eq!(body(ChatLine::action("Alice", "waves")), "waves");
        assert_eq!(body(ChatLine::whisper_from("Bob", "hi")), "hi");
        assert_eq!(body(ChatLine::scheduled("Charlie", "go")), "go");
    }

    #[test]
    fn a_line_without_a_sender_travels_as_before() {
        let line = ChatLine::server("hi");
        let json = serde_json::to_string(&line).unwrap();
        assert!(!json.contains("from"), "{json}");
        let sent = ChatLine::chat("a", "b").by(Sender {
            id: 7,
            person: "SHA256:k".into(),
        });
        let back: ChatLine = serde_json::from_str(&serde_json::to_string(&sent).unwrap()).unwrap();
        assert_eq!(back, sent);
    }
}
