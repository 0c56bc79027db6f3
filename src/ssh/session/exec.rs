//! Exec requests (SPEC §4, §8): `users [ROOM]` and `rooms` print and exit; a room name
//! enters that room (interactive with `ssh -t`, line mode without); anything else gets
//! a one-line error.

use crate::chat::line::ChatLine;
use crate::chat::room_name::RoomName;
use crate::chat::text::sanitize;

use super::{run_shell, SessionSetup};

/// Runs the exec request `command`.
pub async fn run_exec(mut setup: SessionSetup, command: String) {
    let words: Vec<&str> = command.split_whitespace().collect();
    let deps = setup.deps.clone();
    let (line, status) = match words.as_slice() {
        _ if setup.refusal.is_some() => (
            ChatLine::server(setup.refusal.as_deref().unwrap_or_default()),
            1,
        ),
        ["users" | "user"] => users(&setup, deps.rooms.default_room().bare()).await,
        ["users" | "user", room] => users(&setup, room).await,
        ["rooms"] => (deps.rooms.rooms_line().await, 0),
        [room] => match RoomName::parse(room) {
            Ok(room) => return run_shell(setup, Some(room)).await,
            Err(_) => unknown(&command),
        },
        _ => unknown(&command),
    };
    setup.joined.cancel();
    let channel = setup.channel();
    let newline = if setup.pty.is_some() { "\r\n" } else { "\n" };
    channel.write(format!("{}{newline}", line.text)).await;
    channel.finish(status, &mut setup.events).await;
}

/// The `/user` line of `room`.
async fn users(setup: &SessionSetup, room: &str) -> (ChatLine, u32) {
    let Ok(name) = RoomName::parse(room) else {
        return unknown_room(room);
    };
    match setup.deps.rooms.handle(&name).await {
        Some(handle) => match handle.users().await {
            Some(line) => (line, 0),
            None => (ChatLine::server("The server is shutting down."), 1),
        },
        None => unknown_room(room),
    }
}

fn unknown_room(room: &str) -> (ChatLine, u32) {
    let shown: String = sanitize(room).chars().take(64).collect();
    let text = format!("There is no room \"{shown}\". Type \"rooms\" for the list.");
    (ChatLine::server(text), 1)
}

fn unknown(command: &str) -> (ChatLine, u32) {
    let shown: String = sanitize(command).chars().take(64).collect();
    let text =
        format!("Unknown command \"{shown}\". Use a room name, \"users [ROOM]\" or \"rooms\".");
    (ChatLine::server(text), 1)
}
