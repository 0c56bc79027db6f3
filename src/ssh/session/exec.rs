//! Exec requests (SPEC §4, §8): `users [ROOM]`, `rooms` and `help` print and exit (even
//! over the per-address cap: they hold no place; not for someone a private server does
//! not let in); a room name enters that room (interactive with `ssh -t`, line mode
//! without); anything else gets a one-line error.

use std::future::Future;

use futures_util::future::Either;

use crate::chat::line::ChatLine;
use crate::chat::room_name::RoomName;
use crate::chat::text::sanitize;

use super::{run_shell, SessionSetup};

/// Runs the exec request `command`. Whether it enters a room is decided before any
/// future is made: a session entered by exec is then the very future a shell's is (an
/// `async fn` around it would keep a second copy of `setup` for the whole session).
pub fn run_exec(mut setup: SessionSetup, command: String) -> impl Future<Output = ()> + Send {
    match entered_room(&setup, &command) {
        Some((room, code)) => {
            setup.code = code;
            Either::Left(run_shell(setup, Some(room)))
        }
        None => Either::Right(answer(setup, command)),
    }
}

/// The room (and its code) that `command` enters, if it names one.
fn entered_room(setup: &SessionSetup, command: &str) -> Option<(RoomName, Option<String>)> {
    // Not on a private server's allowlist: nothing is entered, whatever is asked.
    if setup.denied {
        return None;
    }
    let words: Vec<&str> = command.split_whitespace().collect();
    match words.as_slice() {
        ["users" | "user" | "rooms" | "help"] | ["users" | "user", _] => None,
        [room] => Some((RoomName::parse(room).ok()?, None)),
        // A locked room and its code.
        [room, code] => Some((RoomName::parse(room).ok()?, Some((*code).to_string()))),
        _ => None,
    }
}

/// Answers an exec request that enters no room, then ends the channel.
async fn answer(mut setup: SessionSetup, command: String) {
    let words: Vec<&str> = command.split_whitespace().collect();
    let deps = setup.deps.clone();
    let (text, status) = match words.as_slice() {
        // Not on a private server's allowlist: nothing is shown, whatever is asked.
        _ if setup.denied => {
            let refusal = setup.refusal.clone().unwrap_or_default();
            (ChatLine::server(refusal).text, 1)
        }
        ["users" | "user"] => users(&setup, deps.rooms.default_room().bare()).await,
        ["users" | "user", room] => users(&setup, room).await,
        ["rooms"] => (deps.rooms.rooms_line().await.text, 0),
        ["help"] => (usage(deps.config.listen.port()), 0),
        // Not a command, and not a room's name (entering one is `run_exec`'s).
        _ => unknown(&command),
    };
    setup.joined.cancel();
    let channel = setup.channel();
    let newline = if setup.pty.is_some() { "\r\n" } else { "\n" };
    let mut out = text.replace('\n', newline);
    out.push_str(newline);
    channel.write(out).await;
    channel.finish(status, &mut setup.events).await;
}

/// The `/user` line of `room`.
async fn users(setup: &SessionSetup, room: &str) -> (String, u32) {
    let Ok(name) = RoomName::parse(room) else {
        return unknown_room(room);
    };
    match setup.deps.rooms.handle(&name).await {
        Some(handle) => match handle.users().await {
            Some(line) => (line.text, 0),
            None => (ChatLine::server("The server is shutting down.").text, 1),
        },
        None => unknown_room(room),
    }
}

/// What `ssh HOST help` prints: how to use the exec commands.
fn usage(port: u16) -> String {
    format!(
        "Usage: ssh -p {port} [NICKNAME@]HOST [ROOM | users [ROOM] | rooms | help]\n\
         \x20 (nothing)     chat in #lobby\n\
         \x20 ROOM          chat in #ROOM, made if missing (ssh -t for a terminal; piped\n\
         \x20               input posts each line, exit status 1 if one was refused)\n\
         \x20 users [ROOM]  who is in #lobby (or #ROOM)\n\
         \x20 rooms         the rooms and how full they are\n\
         \x20 help          this text\n\
         In the chat, /help lists the commands."
    )
}

fn unknown_room(room: &str) -> (String, u32) {
    let shown: String = sanitize(room).chars().take(64).collect();
    let text = format!("There is no room \"{shown}\". Type \"rooms\" for the list.");
    (ChatLine::server(text).text, 1)
}

fn unknown(command: &str) -> (String, u32) {
    let shown: String = sanitize(command).chars().take(64).collect();
    let text = format!(
        "Unknown command \"{shown}\". Use a room name, \"users [ROOM]\", \"rooms\" or \"help\"."
    );
    (ChatLine::server(text).text, 1)
}
