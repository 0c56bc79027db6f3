//! Getting a new session into its first room: refusals, capacity, bans, and the
//! nickname (asked for with `Nickname: ` until a valid free one is given).

use crate::chat::line::ChatLine;
use crate::chat::room_name::RoomName;
use crate::metrics::Refusal;
use crate::room::{new_participant_id, EnterError, JoinError, JoinRequest, Outbox};
use crate::ssh::SessionEvent;
use crate::term::editor::EditorAction;
use crate::term::screen::Screen;

use super::channel::Channel;
use super::presence::Presence;
use super::SessionSetup;

/// Enters `room` (or refuses and says why). `None` when refused or the user went away.
pub(super) async fn join(
    setup: &mut SessionSetup,
    room: &RoomName,
    screen: &mut Screen,
    channel: &Channel,
    outbox: Outbox,
) -> Option<Presence> {
    let say = |screen: &Screen, text: String| screen.print([&ChatLine::server(text)]);
    if let Some(refusal) = refused_at_once(setup, room).await {
        channel.write(say(screen, refusal)).await;
        return None;
    }
    let deps = setup.deps.clone();
    let mut candidate = first_nickname(setup).await;
    let id = new_participant_id();
    loop {
        let nickname = match candidate.take() {
            Some(name) => name,
            None => {
                channel.write(screen.ask("Nickname: ")).await;
                read_line(setup, screen, channel).await?
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
        };
        match deps.rooms.enter(room, request).await {
            Ok((handle, joined, room)) => {
                return Some(Presence {
                    id,
                    nickname: joined.nickname,
                    key: setup.key.clone(),
                    addr: setup.addr,
                    outbox,
                    kill: setup.kill.clone(),
                    transcript,
                    room,
                    handle,
                });
            }
            Err(refused) => {
                deps.log.close_transcript(&transcript);
                let (text, ask_again) = refusal(refused);
                channel.write(say(screen, text)).await;
                if !ask_again {
                    return None;
                }
            }
        }
    }
}

/// What to tell someone the room refused, and whether to ask for another nickname.
fn refusal(refused: EnterError) -> (String, bool) {
    match refused {
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
/// user's key, else nothing (the prompt asks).
async fn first_nickname(setup: &SessionSetup) -> Option<String> {
    let deps = &setup.deps;
    if !deps.config.is_generic_user(&setup.user) {
        return Some(setup.user.clone());
    }
    let key = setup.key.as_deref()?;
    deps.names.free_registered_name(key).await
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
