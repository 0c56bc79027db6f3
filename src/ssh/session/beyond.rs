//! The commands a session runs itself because they reach beyond its room (SPEC §8, §9):
//! `/join`, `/leave`, `/rooms`, `/register`, `/unregister`, `/whois`, and the server
//! admins' `/ban`, `/unban`, `/bans`.

use crate::chat::command::{parse_input, Comfort, Command, Input};
use crate::chat::line::ChatLine;
use crate::chat::moderation::without_code;
use crate::chat::room_name::RoomName;
use crate::chat::text::sanitize;
use crate::room::rate::{RateLimiter, Verdict};
use crate::room::Delivery;
use crate::ssh::SessionDeps;

use super::personal;
use super::presence::Presence;

/// The command in `line`, if it is one the session runs itself. Its arguments are as
/// typed, so a room name with a hidden control character is refused, not cleaned into
/// another name.
pub(super) fn beyond_the_room(line: &str, away: bool) -> Option<Command> {
    match parse_input(line) {
        Ok(Input::Command(command)) if command.is_beyond_the_room() => Some(command),
        // A chat line ends being away first (SPEC §12), then goes on to the room.
        _ if away && personal::ends_away(line) => Some(Command::Comfort(Comfort::Back)),
        _ => None,
    }
}

/// Runs `command` (typed as `line`) for `me`; replies go through their own outbox, so
/// they keep their place among the room's lines.
pub(super) async fn run(
    me: &mut Presence,
    deps: &SessionDeps,
    limiter: &mut RateLimiter,
    line: &str,
    command: Command,
) {
    let typed_in = me.room.clone();
    let outcome = match limiter.check(tokio::time::Instant::now()) {
        Verdict::Allowed => reply_to(me, deps, line, command).await,
        Verdict::Refused { notify: false } => return,
        Verdict::Refused { notify: true } | Verdict::Flooding => {
            Some("You are sending messages too fast. Please wait a moment.".to_string())
        }
    };
    let logged = outcome.as_deref().unwrap_or("done");
    me.log_command(deps, &typed_in, &without_code(&sanitize(line)), logged);
    if let Some(text) = outcome {
        let line = ChatLine::server(text).shared();
        if me
            .reach
            .outbox
            .try_send(Delivery::Line(line.clone()))
            .is_ok()
        {
            deps.log.transcript(&me.reach.transcript, &line);
        }
    }
}

/// The reply to `command`, if there is one (a move answers with the new room's welcome).
async fn reply_to(
    me: &mut Presence,
    deps: &SessionDeps,
    line: &str,
    command: Command,
) -> Option<String> {
    match command {
        Command::Comfort(comfort) => personal::run(me, deps, line, comfort).await,
        Command::Join { room, code } => match RoomName::parse(&room) {
            Ok(room) => move_to(me, deps, room, code).await,
            Err(e) => Some(e.to_string()),
        },
        Command::Leave => {
            let lobby = deps.rooms.default_room().clone();
            if me.room.key() == lobby.key() {
                return Some(format!("You are in {lobby}; /quit leaves the chat."));
            }
            move_to(me, deps, lobby, None).await
        }
        Command::Rooms => Some(strip_server(deps.rooms.rooms_line().await)),
        Command::Register => {
            let said = deps
                .names
                .register(&me.who.nick, me.who.key.as_deref())
                .await;
            // From now on, what this key sets for itself is kept.
            personal::keep_once_registered(me, deps).await;
            Some(said)
        }
        Command::Unregister { nickname } => {
            let name = nickname.unwrap_or_else(|| me.who.nick.to_string());
            let admin = deps.rooms.is_server_admin(me.who.key.as_deref());
            let owner = deps.names.owner_of(&name).await;
            let said = deps
                .names
                .unregister(&name, me.who.key.as_deref(), admin)
                .await;
            if let Some(owner) = owner {
                personal::forget_unless_registered(deps, &owner).await;
            }
            Some(said)
        }
        Command::Whois { nickname } => Some(match deps.names.whois(&nickname).await {
            Ok(text) | Err(text) => text,
        }),
        Command::Moderate(m) => Some(super::server_bans::run(me, deps, m).await),
        _ => None,
    }
}

/// Moves `me` to `room`: they enter it first (so a full room leaves them where they
/// were), then leave their old one.
async fn move_to(
    me: &mut Presence,
    deps: &SessionDeps,
    room: RoomName,
    code: Option<String>,
) -> Option<String> {
    if room.key() == me.room.key() {
        return Some(format!("You are already in {}.", me.room));
    }
    let mut request = me.request();
    request.code = code;
    match deps.rooms.enter(&room, request).await {
        Ok((handle, _, room)) => {
            let old = std::mem::replace(&mut me.room, room);
            me.handle = handle;
            deps.rooms.leave(&old, me.who.id).await;
            if me.comforts.away.is_some() {
                personal::tell_names_away(me, deps).await;
            }
            None
        }
        Err(refused) => Some(refused.to_string()),
    }
}

fn strip_server(line: ChatLine) -> String {
    line.text
        .strip_prefix("[Server]: ")
        .unwrap_or(&line.text)
        .to_string()
}
