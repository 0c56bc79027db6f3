//! Room names (SPEC §8): `#` and 1–24 characters under the nickname rules, typed with
//! or without the `#`, always shown with it; `users`, `rooms` and `help` are reserved
//! (they are exec commands).

use std::fmt;

use super::nickname::{check_name, NicknameError};

/// Most characters of a room name, without the `#`.
pub const MAX_ROOM_CHARS: usize = 24;

const RESERVED: &[&str] = &["users", "user", "rooms", "server", "help"];

/// A room name that passed every rule.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RoomName {
    /// Without the `#`.
    name: String,
    key: String,
}

/// Why a room name was refused; `Display` is the text after `[Server]: `.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomNameError(NicknameError);

impl fmt::Display for RoomNameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            NicknameError::Empty => write!(f, "A room name cannot be empty."),
            NicknameError::TooLong => write!(
                f,
                "A room name can have at most {MAX_ROOM_CHARS} characters."
            ),
            NicknameError::BadCharacter => write!(
                f,
                "A room name may contain only letters, digits, \"_\", \"-\" and \".\"."
            ),
            NicknameError::NoLetterOrDigit => {
                write!(f, "A room name needs at least one letter or digit.")
            }
            NicknameError::MixedScripts => write!(
                f,
                "A room name may not mix alphabets (such as Latin and Cyrillic)."
            ),
            NicknameError::Reserved(name) => write!(f, "The room name \"{name}\" is reserved."),
            NicknameError::Taken(name) | NicknameError::RegisteredToOther(name) => {
                write!(f, "The room name \"{name}\" is taken.")
            }
            NicknameError::Unavailable => self.0.fmt(f),
        }
    }
}

impl RoomName {
    /// Checks `raw` (with or without a leading `#`).
    ///
    /// # Errors
    /// The first rule the name breaks.
    pub fn parse(raw: &str) -> Result<RoomName, RoomNameError> {
        let bare = raw.strip_prefix('#').unwrap_or(raw);
        let (name, key) = check_name(bare, MAX_ROOM_CHARS, RESERVED).map_err(RoomNameError)?;
        Ok(RoomName { name, key })
    }

    /// The name without the `#`.
    pub fn bare(&self) -> &str {
        &self.name
    }

    /// What makes two names the same room: case and look-alikes ignored.
    pub fn key(&self) -> &str {
        &self.key
    }
}

impl fmt::Display for RoomName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_is_optional_on_input_and_always_shown() {
        let rust = RoomName::parse("rust").unwrap();
        assert_eq!(rust.to_string(), "#rust");
        assert_eq!(RoomName::parse("#rust").unwrap(), rust);
        assert_eq!(
            RoomName::parse("#한국어방").unwrap().to_string(),
            "#한국어방"
        );
    }

    #[test]
    fn look_alikes_and_case_are_one_room() {
        let key = |s: &str| RoomName::parse(s).unwrap().key().to_string();
        assert_eq!(key("Rust"), key("#rust"));
        // all-Cyrillic "асе" looks like Latin "ace"
        assert_eq!(key("асе"), key("ace"));
    }

    #[test]
    fn bad_names_get_one_clear_reason() {
        let err = |s: &str| RoomName::parse(s).unwrap_err().to_string();
        assert_eq!(err(""), "A room name cannot be empty.");
        assert_eq!(err("#"), "A room name cannot be empty.");
        assert_eq!(
            err(&"x".repeat(300)),
            "A room name can have at most 24 characters."
        );
        for hostile in [
            "../etc",
            "a/b",
            "a\u{202E}b",
            "a\u{200B}b",
            "\x1b[2J",
            "a b",
        ] {
            assert_eq!(
                err(hostile),
                "A room name may contain only letters, digits, \"_\", \"-\" and \".\".",
                "{hostile:?}"
            );
        }
        assert_eq!(err("rooms"), "The room name \"rooms\" is reserved.");
        assert_eq!(err("USERS"), "The room name \"USERS\" is reserved.");
        assert!(err("aра").contains("mix alphabets"));
    }
}
