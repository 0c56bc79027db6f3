//! Unit tests of the command parser: every command, its errors, schedule times.

use super::*;

fn cmd(line: &str) -> Command {
    match parse_input(line) {
        Ok(Input::Command(c)) => c,
        other => panic!("{line:?} parsed as {other:?}"),
    }
}

#[test]
fn messages_and_empty_lines() {
    assert_eq!(parse_input("   "), Ok(Input::Empty));
    assert_eq!(
        parse_input(" Hello everyone! "),
        Ok(Input::Message("Hello everyone!".into()))
    );
    assert_eq!(parse_input("//me"), Ok(Input::Message("/me".into())));
}

#[test]
fn every_command_parses() {
    assert_eq!(
        cmd("/rename Alice123"),
        Command::Rename {
            nickname: "Alice123".into()
        }
    );
    assert_eq!(
        cmd("/whisper Charlie Hi, Charlie!"),
        Command::Whisper {
            to: "Charlie".into(),
            text: "Hi, Charlie!".into()
        }
    );
    assert_eq!(
        cmd("/schedule 15:30 Meeting starts soon"),
        Command::Schedule {
            at: ClockTime {
                hour: 15,
                minute: 30
            },
            text: "Meeting starts soon".into()
        }
    );
    assert_eq!(cmd("/schedule"), Command::ListSchedules);
    assert_eq!(cmd("/unschedule 2"), Command::Unschedule { number: 2 });
    assert_eq!(
        cmd("/kick Bob"),
        Command::Kick {
            nickname: "Bob".into()
        }
    );
    assert_eq!(cmd("/user"), Command::Users);
    assert_eq!(cmd("/USER"), Command::Users);
    assert_eq!(cmd("/help"), Command::Help);
    assert_eq!(cmd("/quit"), Command::Quit);
}

#[test]
fn room_and_name_commands_parse() {
    assert_eq!(
        cmd("/join #rust"),
        Command::Join {
            room: "#rust".into(),
            code: None
        }
    );
    assert_eq!(
        cmd("/join rust s3cret"),
        Command::Join {
            room: "rust".into(),
            code: Some("s3cret".into())
        }
    );
    assert_eq!(cmd("/leave"), Command::Leave);
    assert_eq!(cmd("/rooms"), Command::Rooms);
    assert_eq!(cmd("/register"), Command::Register);
    assert_eq!(cmd("/unregister"), Command::Unregister { nickname: None });
    assert_eq!(
        cmd("/unregister al"),
        Command::Unregister {
            nickname: Some("al".into())
        }
    );
    assert_eq!(
        cmd("/whois bob"),
        Command::Whois {
            nickname: "bob".into()
        }
    );
    assert!(cmd("/join x").is_beyond_the_room() && !cmd("/user").is_beyond_the_room());
    assert_eq!(
        parse_input("/join").unwrap_err().to_string(),
        "Usage: /join <room> [code]"
    );
    assert_eq!(
        parse_input("/join my big room").unwrap_err().to_string(),
        "Room names have no spaces: try /join my-big-room"
    );
}

#[test]
fn errors_say_what_was_wrong() {
    let err = |l: &str| parse_input(l).unwrap_err().to_string();
    assert_eq!(
        err("/anything-else now"),
        "Unknown command \"/anything-else\". Type /help for the list."
    );
    assert_eq!(err("/rename"), "Usage: /rename <nickname>");
    assert_eq!(err("/rename a b"), "Usage: /rename <nickname>");
    assert_eq!(err("/whisper Bob"), "Usage: /whisper <nickname> <message>");
    assert_eq!(err("/schedule 15:30"), "Usage: /schedule HH:MM <message>");
    assert_eq!(err("/unschedule x").split('"').nth(1), Some("x"));
    assert_eq!(err("/unschedule 0").split('"').nth(1), Some("0"));
}

#[test]
fn schedule_times() {
    for bad in [
        "24:00", "9:5", "ab:cd", "12:60", "1230", "12:3", "+1:30", "12:30:00",
    ] {
        assert_eq!(
            parse_input(&format!("/schedule {bad} hi")),
            Err(ParseError::InvalidTime(bad.into())),
            "{bad}"
        );
    }
    assert_eq!(
        ClockTime::parse("00:00"),
        Some(ClockTime { hour: 0, minute: 0 })
    );
    assert_eq!(ClockTime::parse("23:59").unwrap().to_string(), "23:59");
}
