//! The personal comforts of SPEC §12 as commands: what `/me`, `/reply`, `/away`,
//! `/back`, `/ignore`, `/unignore`, `/bell` and `/timestamp` parse to, and the replies
//! that say a setting.

use serde::{Deserialize, Serialize};

use super::command::ParseError;
use super::text::sanitize;

/// Most characters of an away reason kept.
pub const MAX_AWAY_REASON: usize = 100;

/// When a person's terminal bell rings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Bell {
    /// A room line from someone else naming you, and a whisper to you.
    #[default]
    Mentions,
    /// Every line from someone else.
    All,
    Off,
}

impl Bell {
    /// The reply that says this setting: `Bell: mentions and whispers.`
    pub fn said(self) -> &'static str {
        match self {
            Bell::Mentions => "Bell: mentions and whispers.",
            Bell::All => "Bell: every line.",
            Bell::Off => "Bell: off.",
        }
    }
}

/// A comfort command with its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Comfort {
    /// `/me waves`: `* Alice waves` to the room (the room runs it).
    Me {
        action: String,
    },
    /// `/reply TEXT`, `/r TEXT`.
    Reply {
        text: String,
    },
    /// `/away [REASON]`, the reason cleaned and cut to [`MAX_AWAY_REASON`].
    Away {
        reason: Option<String>,
    },
    Back,
    Ignore {
        nickname: String,
    },
    /// `/ignore` alone.
    ListIgnored,
    Unignore {
        nickname: String,
    },
    /// `/bell` alone: `None`, say the setting.
    Bell {
        mode: Option<Bell>,
    },
    /// `/timestamp` alone: `None`, say the setting.
    Timestamp {
        on: Option<bool>,
    },
}

impl Comfort {
    /// Whether the session runs it (all but `/me`, which is a room line).
    pub fn is_beyond_the_room(&self) -> bool {
        !matches!(self, Comfort::Me { .. })
    }
}

const USAGE_ME: &str = "/me <action>";
const USAGE_REPLY: &str = "/reply <message>";
const USAGE_IGNORE: &str = "/ignore [nickname]";
const USAGE_UNIGNORE: &str = "/unignore <nickname>";
const USAGE_BELL: &str = "/bell [mentions|all|off]";
const USAGE_TIMESTAMP: &str = "/timestamp [on|off]";

/// The comfort named `name` (lower case, no `/`) with `args`; `Ok(None)` if `name` is
/// not one.
///
/// # Errors
/// A usage line when the arguments do not fit.
pub fn parse(name: &str, args: &str) -> Result<Option<Comfort>, ParseError> {
    let one_word = |usage| match args.split_whitespace().collect::<Vec<_>>()[..] {
        [word] => Ok(word.to_string()),
        _ => Err(ParseError::Usage(usage)),
    };
    let comfort = match name {
        "me" if args.is_empty() => return Err(ParseError::Usage(USAGE_ME)),
        "me" => Comfort::Me {
            action: args.to_string(),
        },
        "reply" | "r" if args.is_empty() => return Err(ParseError::Usage(USAGE_REPLY)),
        "reply" | "r" => Comfort::Reply {
            text: args.to_string(),
        },
        "away" => {
            let reason: String = sanitize(args)
                .trim()
                .chars()
                .take(MAX_AWAY_REASON)
                .collect();
            Comfort::Away {
                reason: (!reason.is_empty()).then_some(reason),
            }
        }
        "back" => Comfort::Back,
        "ignore" if args.is_empty() => Comfort::ListIgnored,
        "ignore" => Comfort::Ignore {
            nickname: one_word(USAGE_IGNORE)?,
        },
        "unignore" => Comfort::Unignore {
            nickname: one_word(USAGE_UNIGNORE)?,
        },
        "bell" => Comfort::Bell {
            mode: match args.to_ascii_lowercase().as_str() {
                "" => None,
                "mentions" | "on" => Some(Bell::Mentions),
                "all" => Some(Bell::All),
                "off" => Some(Bell::Off),
                _ => return Err(ParseError::Usage(USAGE_BELL)),
            },
        },
        "timestamp" | "timestamps" => Comfort::Timestamp {
            on: match args.to_ascii_lowercase().as_str() {
                "" => None,
                "on" => Some(true),
                "off" => Some(false),
                _ => return Err(ParseError::Usage(USAGE_TIMESTAMP)),
            },
        },
        _ => return Ok(None),
    };
    Ok(Some(comfort))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::command::{parse_input, Command, Input};

    fn comfort(line: &str) -> Comfort {
        match parse_input(line) {
            Ok(Input::Command(Command::Comfort(c))) => c,
            other => panic!("{line:?} parsed as {other:?}"),
        }
    }

    fn err(line: &str) -> String {
        parse_input(line).unwrap_err().to_string()
    }

    #[test]
    fn every_comfort_parses() {
        let me = Comfort::Me {
            action: "waves at bob".into(),
        };
        assert_eq!(comfort("/me waves at bob"), me);
        let reply = Comfort::Reply { text: "hi".into() };
        assert_eq!(comfort("/reply hi"), reply);
        assert_eq!(comfort("/r hi"), reply);
        assert_eq!(
            comfort("/away lunch"),
            Comfort::Away {
                reason: Some("lunch".into())
            }
        );
        assert_eq!(comfort("/away"), Comfort::Away { reason: None });
        assert_eq!(comfort("/back"), Comfort::Back);
        assert_eq!(
            comfort("/ignore Bob"),
            Comfort::Ignore {
                nickname: "Bob".into()
            }
        );
        assert_eq!(comfort("/ignore"), Comfort::ListIgnored);
        assert_eq!(
            comfort("/unignore Bob"),
            Comfort::Unignore {
                nickname: "Bob".into()
            }
        );
        assert_eq!(comfort("/bell"), Comfort::Bell { mode: None });
        assert_eq!(
            comfort("/bell ALL"),
            Comfort::Bell {
                mode: Some(Bell::All)
            }
        );
        assert_eq!(
            comfort("/timestamp on"),
            Comfort::Timestamp { on: Some(true) }
        );
        assert_eq!(comfort("/timestamp"), Comfort::Timestamp { on: None });
        assert!(!comfort("/me x").is_beyond_the_room());
        assert!(comfort("/bell").is_beyond_the_room());
    }

    #[test]
    fn bad_arguments_say_the_usage() {
        assert_eq!(err("/me"), "Usage: /me <action>");
        assert_eq!(err("/r"), "Usage: /reply <message>");
        assert_eq!(err("/ignore a b"), "Usage: /ignore [nickname]");
        assert_eq!(err("/unignore"), "Usage: /unignore <nickname>");
        assert_eq!(err("/bell loud"), "Usage: /bell [mentions|all|off]");
        assert_eq!(err("/timestamp 1"), "Usage: /timestamp [on|off]");
    }

    #[test]
    fn an_away_reason_is_cleaned_and_cut() {
        let Comfort::Away { reason: Some(r) } = comfort("/away \x1b]0;pwned\x07 lunch") else {
            panic!()
        };
        assert!(!r.contains('\x1b') && !r.contains('\x07'), "{r:?}");
        let long = format!("/away {}", "x".repeat(500));
        let Comfort::Away { reason: Some(r) } = comfort(&long) else {
            panic!()
        };
        assert_eq!(r.chars().count(), MAX_AWAY_REASON);
        assert_eq!(Bell::default().said(), "Bell: mentions and whispers.");
    }
}
