//! Getting a new session into its first room: refusals, capacity, bans, and the
//! nickname (asked for with `Nickname: ` until a valid free one is given). Without a pty
//! nothing is asked: a bot's piped text must never become its nickname, so a refusal is
//! one line on stderr and exit status 1.

use crate::chat::line::ChatLine;
use crate::chat::room_name::RoomName;
use crate::chat::text::sanitize;
use crate::metrics::Refusal;
use crate::participant::Identity;
use crate::room::{new_participant_id, EnterError, JoinError, JoinRequest, Outbox};
use crate::ssh::SessionEvent;
use crate::term::editor::EditorAction;
use crate::term::screen::Screen;

use super::channel::Channel;
use super::presence::Presence;
use super::SessionSetup;

/// Enters `room`, or refuses and says why: `Err` holds the exit status (1 when
/// refused, 0 when the user went away).
pub(super) async fn join(
    setup: &mut SessionSetup,
    room: &RoomName,
    screen: &mut Screen,
    channel: &Channel,
    outbox: Outbox,
) -> Result<Presence, u32> {
    let line_mode = !screen.is_pty();
    let say = |screen: &Screen, text: String| screen.print([&ChatLine::server(text)]);
    // A refusal: on stderr without a pty, where stdout is the room's lines.
    let refuse = |screen: &Screen, text: String| {
        let text = say(screen, text);
        async move {
            match line_mode {
                true => channel.write_stderr(text).await,
                false => channel.write(text).await,
            };
            Err(1)
        }
    };
    if let Some(refusal) = refused_at_once(setup, room).await {
        return refuse(screen, refusal).await;
    }
    let deps = setup.deps.clone();
    let mut candidate = match first_nickname(setup).await {
        Ok(name) => Some(name),
        Err(why) if line_mode => return refuse(screen, why).await,
        Err(why) if why.is_empty() => None,
        Err(why) => {
            let text = format!("{why} Please choose another nickname.");
            channel.write(say(screen, text)).await;
            None
        }
    };
    let id = new_participant_id();
    loop {
        let nickname = match candidate.take() {
            Some(name) => name,
            None => {
                channel.write(screen.ask("Nickname: ")).await;
                read_line(setup, screen, channel).await.ok_or(0u32)?
            }
        };
        let transcript = deps.log.open_transcript(&nickname);
        let request = JoinRequest {
            id,
            nickname,
            key: setup.key.clone(),
            addr: setup.addr,
            outbox: outbox.clone(),
            kill: setup.kill.clone(),
            transcript: transcript.clone(),
            creator: false,
            code: setup.code.clone(),
        };
        let reach = request.reach();
        match deps.rooms.enter(room, request).await {
            Ok((handle, joined, room)) => {
                let who = Identity {
                    id,
                    nick: joined.nickname,
                    key: setup.key.clone(),
                    addr: setup.addr,
                    node: deps.rooms.node().to_string(),
                };
                return Ok(Presence {
                    who,
                    reach,
                    room,
                    handle,
                    comforts: Default::default(),
                });
            }
            Err(refused) => {
                deps.log.close_transcript(&transcript);
                match refusal(refused, line_mode) {
                    (text, true) => channel.write(say(screen, text)).await,
                    (text, false) => return refuse(screen, text).await,
                };
            }
        }
    }
}

/// What to tell someone the room refused, and whether to ask for another nickname
/// (never without a pty).
fn refusal(refused: EnterError, line_mode: bool) -> (String, bool) {
    match refused {
        EnterError::Join(JoinError::Nickname(reason)) if line_mode => (reason.to_string(), false),
        EnterError::Join(JoinError::Nickname(reason)) => {
            (format!("{reason} Please choose another nickname."), true)
        }
        // The seed's own line, as when the room was full before asking.
        EnterError::Full {
            count, capacity, ..
        } => (JoinError::Full { count, capacity }.to_string(), false),
        other => (other.to_string(), false),
    }
}

/// Why the connection may not even ask for a nickname: refused at connect (too many from
/// one address), or the room is full.
async fn refused_at_once(setup: &SessionSetup, room: &RoomName) -> Option<String> {
    if let Some(refusal) = &setup.refusal {
        return Some(refusal.clone());
    }
    let (count, capacity) = setup.deps.rooms.occupancy(room).await?;
    let full = count >= capacity;
    if full {
        setup.deps.metrics.refused(Refusal::RoomFull);
    }
    full.then(|| JoinError::Full { count, capacity }.to_string())
}

/// The SSH username, unless it is generic: then the first free name registered to the
/// user's key. `Err` when there is none: why, for the prompt to say first (empty when
/// there is nothing to explain).
async fn first_nickname(setup: &SessionSetup) -> Result<String, String> {
    let deps = &setup.deps;
    if !deps.config.is_generic_user(&setup.user) {
        return Ok(setup.user.clone());
    }
    let registered = match setup.key.as_deref() {
        Some(key) => match deps.names.free_registered_name(key).await {
            Ok(name) => return Ok(name),
            Err(all_in_use) => all_in_use,
        },
        None => Vec::new(),
    };
    Err(match registered.is_empty() {
        true if setup.pty.is_some() => String::new(),
        true => format!(
            "\"{}\" is the name for choosing a nickname at a prompt, which needs a terminal: \
             connect as NICKNAME@host.",
            sanitize(&setup.user)
        ),
        false => format!(
            "Your key's registered nicknames ({}) are all in use.",
            registered.join(", ")
        ),
    })
}

/// Reads one line before joining (the nickname answer), echoing in pty mode.
async fn read_line(
    setup: &mut SessionSetup,
    screen: &mut Screen,
    channel: &Channel,
) -> Option<String> {
    loop {
        let event = tokio::select! {
            event = setup.events.recv() => event?,
            () = setup.kill.cancelled() => return None,
        };
        match event {
            SessionEvent::Data(bytes) => {
                let actions = screen.feed(&bytes);
                let mut answer = None;
                for action in actions {
                    match action {
                        EditorAction::Submit(line) if answer.is_none() => answer = Some(line),
                        EditorAction::Eof => return None,
                        _ => {}
                    }
                }
                if !channel.write(screen.redraw()).await {
                    return None;
                }
                if answer.is_some() {
                    return answer;
                }
            }
            SessionEvent::Resize { cols, .. } => {
                channel.write(screen.resize(cols)).await;
            }
            SessionEvent::Eof | SessionEvent::Close => return None,
        }
    }
}
