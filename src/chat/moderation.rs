//! The moderation commands of SPEC §11 as typed: `/op`, `/deop`, `/mute`, `/unmute`,
//! `/notice`, `/lock`, `/unlock`, `/ban`, `/unban`, `/bans`. Parsing only; who may use
//! them is the room's (and the server's) business.

use super::command::ParseError;
use super::duration::Lasting;

/// Longest room code, in characters.
pub const MAX_CODE_CHARS: usize = 32;

/// A moderation command with its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Moderation {
    Op {
        nickname: String,
    },
    Deop {
        nickname: String,
    },
    /// `lasting` is `None` when not given (the default applies).
    Mute {
        nickname: String,
        lasting: Option<Lasting>,
        reason: String,
    },
    Unmute {
        nickname: String,
    },
    Notice(NoticeChange),
    Lock {
        code: String,
    },
    Unlock,
    /// `target` is a nickname, a key's `SHA256:...` fingerprint or an IP address.
    Ban {
        target: String,
        lasting: Option<Lasting>,
        reason: String,
    },
    Unban {
        target: String,
    },
    Bans,
}

/// What `/notice` asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoticeChange {
    /// `/notice` alone: show it.
    Show,
    /// `/notice TEXT`: pin TEXT.
    Set(String),
    /// `/notice -`: unpin it.
    Remove,
}

impl Moderation {
    /// Whether it acts server-wide (run by the session, not the room).
    pub fn is_server_wide(&self) -> bool {
        matches!(
            self,
            Moderation::Ban { .. } | Moderation::Unban { .. } | Moderation::Bans
        )
    }
}

/// Each moderation command's syntax and what it does, for `/help`, with who may use it.
pub const HELP: &[(Role, &str, &str)] = &[
    (Role::RoomAdmin, "/op <nickname>", "make someone a co-admin"),
    (
        Role::RoomAdmin,
        "/deop <nickname>",
        "take a co-admin's role",
    ),
    (
        Role::CoAdmin,
        "/kick <nickname>",
        "remove someone from the room",
    ),
    (
        Role::CoAdmin,
        "/mute <nickname> [30m|2h|7d]",
        "stop someone's lines in the room",
    ),
    (Role::CoAdmin, "/unmute <nickname>", "undo a mute"),
    (
        Role::CoAdmin,
        "/notice <text>|-",
        "pin a notice to the room (- removes it)",
    ),
    (
        Role::RoomAdmin,
        "/lock <code>",
        "make the room need a code to enter",
    ),
    (
        Role::RoomAdmin,
        "/unlock",
        "open the room to everyone again",
    ),
    (
        Role::ServerAdmin,
        "/ban <who> [30m|2h|7d|forever] [reason]",
        "ban a name, SHA256:key or IP",
    ),
    (Role::ServerAdmin, "/unban <who>", "lift a ban"),
    (Role::ServerAdmin, "/bans", "list the bans"),
];

/// How much a participant may do, least first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    Member,
    CoAdmin,
    RoomAdmin,
    ServerAdmin,
}

const USAGE_OP: &str = "/op <nickname>";
const USAGE_DEOP: &str = "/deop <nickname>";
const USAGE_MUTE: &str = "/mute <nickname> [duration]";
const USAGE_UNMUTE: &str = "/unmute <nickname>";
const USAGE_LOCK: &str = "/lock <code>";
const USAGE_BAN: &str = "/ban <nickname|SHA256:key|IP> [duration] [reason]";
const USAGE_UNBAN: &str = "/unban <nickname|SHA256:key|IP>";

/// Parses the moderation command `name` (lower case) with `args`; `None` if `name` is
/// not one.
pub fn parse(name: &str, args: &str) -> Option<Result<Moderation, ParseError>> {
    let one = |usage: &'static str| match args.split_whitespace().collect::<Vec<_>>()[..] {
        [word] => Ok(word.to_string()),
        _ => Err(ParseError::Usage(usage)),
    };
    let parsed = match name {
        "op" => one(USAGE_OP).map(|nickname| Moderation::Op { nickname }),
        "deop" => one(USAGE_DEOP).map(|nickname| Moderation::Deop { nickname }),
        "mute" => {
            with_lasting(args, USAGE_MUTE).map(|(nickname, lasting, reason)| Moderation::Mute {
                nickname,
                lasting,
                reason,
            })
        }
        "unmute" => one(USAGE_UNMUTE).map(|nickname| Moderation::Unmute { nickname }),
        "notice" => Ok(Moderation::Notice(match args {
            "" => NoticeChange::Show,
            "-" => NoticeChange::Remove,
            text => NoticeChange::Set(text.to_string()),
        })),
        "lock" => lock(args),
        "unlock" => Ok(Moderation::Unlock),
        "ban" => with_lasting(args, USAGE_BAN).map(|(target, lasting, reason)| Moderation::Ban {
            target,
            lasting,
            reason,
        }),
        "unban" => one(USAGE_UNBAN).map(|target| Moderation::Unban { target }),
        "bans" => Ok(Moderation::Bans),
        _ => return None,
    };
    Some(parsed)
}

/// `TARGET [DURATION] [REASON]`.
fn with_lasting(
    args: &str,
    usage: &'static str,
) -> Result<(String, Option<Lasting>, String), ParseError> {
    let (target, rest) = args.split_once(char::is_whitespace).unwrap_or((args, ""));
    if target.is_empty() {
        return Err(ParseError::Usage(usage));
    }
    let rest = rest.trim();
    let (first, after) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    let (lasting, reason) = match Lasting::parse(first) {
        Some(parsed) => (
            Some(parsed.map_err(|e| ParseError::Invalid(e.to_string()))?),
            after.trim(),
        ),
        None => (None, rest),
    };
    Ok((target.to_string(), lasting, reason.to_string()))
}

/// `/lock CODE`: one word of at most [`MAX_CODE_CHARS`] characters.
fn lock(args: &str) -> Result<Moderation, ParseError> {
    if args.is_empty() {
        return Err(ParseError::Usage(USAGE_LOCK));
    }
    if args.contains(char::is_whitespace) {
        return Err(ParseError::Invalid(
            "A room's code is one word, with no spaces.".into(),
        ));
    }
    if args.chars().count() > MAX_CODE_CHARS {
        return Err(ParseError::Invalid(format!(
            "A room's code is at most {MAX_CODE_CHARS} characters."
        )));
    }
    Ok(Moderation::Lock {
        code: args.to_string(),
    })
}

/// `line` as the logs may show it: a room's code is never written anywhere.
pub fn without_code(line: &str) -> String {
    let trimmed = line.trim_start();
    let (name, args) = trimmed
        .strip_prefix('/')
        .map(|r| r.split_once(char::is_whitespace).unwrap_or((r, "")))
        .unwrap_or(("", ""));
    match name.to_ascii_lowercase().as_str() {
        "lock" if !args.trim().is_empty() => format!("/{name} (code hidden)"),
        "join" => match args.split_whitespace().collect::<Vec<_>>()[..] {
            [room, _code] => format!("/{name} {room} (code hidden)"),
            _ => line.to_string(),
        },
        _ => line.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn parsed(line: &str) -> Result<Moderation, ParseError> {
        let rest = line.strip_prefix('/').unwrap();
        let (name, args) = rest.split_once(' ').unwrap_or((rest, ""));
        parse(name, args.trim()).expect("a moderation command")
    }

    #[test]
    fn every_command_parses() {
        assert_eq!(
            parsed("/op Bob"),
            Ok(Moderation::Op {
                nickname: "Bob".into()
            })
        );
        assert_eq!(
            parsed("/mute Bob 2h flooding"),
            Ok(Moderation::Mute {
                nickname: "Bob".into(),
                lasting: Some(Lasting::For(Duration::from_secs(7200))),
                reason: "flooding".into()
            })
        );
        assert_eq!(
            parsed("/mute Bob"),
            Ok(Moderation::Mute {
                nickname: "Bob".into(),
                lasting: None,
                reason: String::new()
            })
        );
        assert_eq!(
            parsed("/ban SHA256:abc forever spam bot"),
            Ok(Moderation::Ban {
                target: "SHA256:abc".into(),
                lasting: Some(Lasting::Forever),
                reason: "spam bot".into()
            })
        );
        assert_eq!(
            parsed("/ban 203.0.113.7 spam"),
            Ok(Moderation::Ban {
                target: "203.0.113.7".into(),
                lasting: None,
                reason: "spam".into()
            })
        );
        assert_eq!(
            parsed("/notice"),
            Ok(Moderation::Notice(NoticeChange::Show))
        );
        assert_eq!(
            parsed("/notice -"),
            Ok(Moderation::Notice(NoticeChange::Remove))
        );
        assert_eq!(
            parsed("/notice Be nice"),
            Ok(Moderation::Notice(NoticeChange::Set("Be nice".into())))
        );
        assert_eq!(
            parsed("/lock s3cret"),
            Ok(Moderation::Lock {
                code: "s3cret".into()
            })
        );
        assert!(parsed("/bans").unwrap().is_server_wide());
        assert!(!parsed("/unlock").unwrap().is_server_wide());
        assert_eq!(parse("kick", "Bob"), None);
    }

    #[test]
    fn misuse_says_what_was_wrong() {
        let err = |line: &str| parsed(line).unwrap_err().to_string();
        assert_eq!(err("/op"), "Usage: /op <nickname>");
        assert_eq!(err("/op a b"), "Usage: /op <nickname>");
        assert!(err("/mute Bob 5x").starts_with("Invalid duration \"5x\""));
        assert!(err("/ban Bob -1m").starts_with("Invalid duration \"-1m\""));
        assert!(err("/ban Bob 99999d").starts_with("Invalid duration \"99999d\""));
        assert_eq!(err("/lock"), "Usage: /lock <code>");
        assert_eq!(
            err("/lock two words"),
            "A room's code is one word, with no spaces."
        );
        assert_eq!(
            err(&format!("/lock {}", "x".repeat(33))),
            "A room's code is at most 32 characters."
        );
        assert!(parsed(&format!("/lock {}", "가".repeat(32))).is_ok());
    }

    #[test]
    fn codes_never_reach_a_log() {
        assert_eq!(without_code("/lock s3cret"), "/lock (code hidden)");
        assert_eq!(without_code("/LOCK s3cret"), "/LOCK (code hidden)");
        assert_eq!(
            without_code("/join rust s3cret"),
            "/join rust (code hidden)"
        );
        assert_eq!(without_code("/join rust"), "/join rust");
        assert_eq!(without_code("hello /lock x"), "hello /lock x");
    }
}
