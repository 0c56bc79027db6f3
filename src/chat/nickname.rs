//! Nickname rules (SPEC §2): 1–16 letters or digits of any one script plus `_ - .`,
//! NFC-normalised, unique ignoring case and look-alikes, `Server` reserved.

use std::fmt;

use unicode_normalization::UnicodeNormalization;
use unicode_security::{confusable_detection::skeleton, GeneralSecurityProfile, MixedScript};

/// Most characters a nickname may have.
pub const MAX_CHARS: usize = 16;

/// Names nobody may take (compared by look-alike key).
const RESERVED: &[&str] = &["server", "admin", "system"];

/// A nickname that passed every rule. `key` is what uniqueness compares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nickname {
    name: String,
    key: String,
}

/// What a user is told when the cluster's shared state cannot be reached.
pub const UNREACHABLE: &str =
    "The chat servers cannot reach each other right now. Please try again in a moment.";

/// Why a nickname was refused; `Display` is the text after `[Server]: `.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum NicknameError {
    Empty,
    TooLong,
    BadCharacter,
    NoLetterOrDigit,
    MixedScripts,
    Reserved(String),
    Taken(String),
    /// Registered (SPEC §9) to a key other than the asker's.
    RegisteredToOther(String),
    /// The cluster's name store cannot be reached (SPEC §10: a NATS outage).
    Unavailable,
}

impl fmt::Display for NicknameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NicknameError::Empty => write!(f, "A nickname cannot be empty."),
            NicknameError::TooLong => {
                write!(f, "A nickname can have at most {MAX_CHARS} characters.")
            }
            NicknameError::BadCharacter => write!(
                f,
                "A nickname may contain only letters, digits, \"_\", \"-\" and \".\"."
            ),
            NicknameError::NoLetterOrDigit => {
                write!(f, "A nickname needs at least one letter or digit.")
            }
            NicknameError::MixedScripts => write!(
                f,
                "A nickname may not mix alphabets (such as Latin and Cyrillic)."
            ),
            NicknameError::Reserved(name) => write!(f, "The nickname \"{name}\" is reserved."),
            NicknameError::Taken(name) => {
                write!(f, "The nickname \"{name}\" is already taken.")
            }
            NicknameError::RegisteredToOther(name) => {
                write!(f, "The nickname \"{name}\" is registered to another key.")
            }
            NicknameError::Unavailable => write!(f, "{UNREACHABLE}"),
        }
    }
}

/// Written as the name itself.
impl serde::Serialize for Nickname {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.name)
    }
}

/// Read back under the same rules as [`Nickname::parse`].
impl<'de> serde::Deserialize<'de> for Nickname {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Nickname::parse(&raw).map_err(serde::de::Error::custom)
    }
}

impl Nickname {
    /// Checks `raw` against every rule except uniqueness (the room checks that with
    /// [`Nickname::key`]).
    ///
    /// # Errors
    /// The first rule the name breaks.
    pub fn parse(raw: &str) -> Result<Nickname, NicknameError> {
        let (name, key) = check_name(raw, MAX_CHARS, RESERVED)?;
        Ok(Nickname { name, key })
    }

    /// The nickname as shown.
    pub fn as_str(&self) -> &str {
        &self.name
    }

    /// The comparison key: two names with the same key may not both be in a room.
    pub fn key(&self) -> &str {
        &self.key
    }
}

impl fmt::Display for Nickname {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

/// The rules nicknames and room names share: NFC, `max` characters of one script (letters,
/// digits, `_ - .`), at least one letter or digit, none of `reserved`. Returns the name
/// and its look-alike key.
///
/// # Errors
/// The first rule the name breaks.
pub fn check_name(
    raw: &str,
    max: usize,
    reserved: &[&str],
) -> Result<(String, String), NicknameError> {
    let name: String = raw.nfc().collect();
    let count = name.chars().count();
    if count == 0 {
        return Err(NicknameError::Empty);
    }
    if !name.chars().all(is_allowed_char) {
        return Err(NicknameError::BadCharacter);
    }
    if count > max {
        return Err(NicknameError::TooLong);
    }
    if !name.chars().any(char::is_alphanumeric) {
        return Err(NicknameError::NoLetterOrDigit);
    }
    if !name.as_str().is_single_script() {
        return Err(NicknameError::MixedScripts);
    }
    let key = look_alike_key(&name);
    if reserved.iter().any(|r| look_alike_key(r) == key) {
        return Err(NicknameError::Reserved(name));
    }
    Ok((name, key))
}

fn is_allowed_char(c: char) -> bool {
    matches!(c, '_' | '-' | '.') || (c.is_alphanumeric() && c.identifier_allowed())
}

/// Case-folded confusable skeleton (UTS #39): `Alice`, `ALICE` and `Аlice` (Cyrillic А)
/// share a key.
fn look_alike_key(name: &str) -> String {
    let lower = name.to_lowercase();
    skeleton(&lower).collect::<String>().to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_latin_korean_and_punctuation() {
        for ok in [
            "alice",
            "Alice123",
            "개똥이",
            "a.b-c_d",
            "Ω",
            "x",
            "東京タワー",
        ] {
            assert_eq!(
                Nickname::parse(ok).map(|n| n.to_string()),
                Ok(ok.to_string())
            );
        }
        assert!(Nickname::parse("abcdefghijklmnop").is_ok());
    }

    #[test]
    fn refuses_bad_names_with_reasons() {
        assert_eq!(Nickname::parse(""), Err(NicknameError::Empty));
        assert_eq!(
            Nickname::parse("abcdefghijklmnopq"),
            Err(NicknameError::TooLong)
        );
        for bad in [
            "a b",
            "a\u{200B}b",
            "a\u{202E}b",
            "[Server]",
            "../x",
            "a/b",
            "a\0",
        ] {
            assert_eq!(
                Nickname::parse(bad),
                Err(NicknameError::BadCharacter),
                "{bad:?}"
            );
        }
        assert_eq!(Nickname::parse("..."), Err(NicknameError::NoLetterOrDigit));
        // Latin "a" + Cyrillic "ра"
        assert_eq!(Nickname::parse("aра"), Err(NicknameError::MixedScripts));
        assert!(matches!(
            Nickname::parse("SERVER"),
            Err(NicknameError::Reserved(_))
        ));
    }

    #[test]
    fn keys_ignore_case_and_look_alikes() {
        let key = |s: &str| Nickname::parse(s).unwrap().key().to_string();
        assert_eq!(key("Alice"), key("alice"));
        assert_eq!(key("Alice"), key("ALICE"));
        // all-Cyrillic "асе" looks like Latin "ace"
        assert_eq!(key("асе"), key("ace"));
        assert_ne!(key("alice"), key("bob"));
    }

    #[test]
    fn normalises_to_nfc() {
        // "é" as e + combining acute becomes one character
        let n = Nickname::parse("e\u{301}").unwrap();
        assert_eq!(n.as_str(), "\u{e9}");
    }
}
