//! Unit tests of the pure room logic: commands in, events out. No channels, no actor,
//! no clock but the times the tests give.

use std::time::Duration;

use super::event::{Now, RoomEvent};
use super::schedule::ScheduleBook;
use super::state::{NameService, RoomConfig, RoomState};
use super::ParticipantId;
use super::{Entrant, Identity};
use crate::chat::nickname::{Nickname, NicknameError};

pub(super) fn config() -> RoomConfig {
    RoomConfig {
        name: "#rust".into(),
        capacity: 3,
        admin_keys: Default::default(),
        max_message_bytes: 1024,
        history: 2,
        max_schedules_per_user: 5,
        tz: chrono_tz::UTC,
        message_rate: 1.0,
        message_burst: 2,
        motd: Vec::new(),
        creator_is_admin: true,
        kick_ban: Duration::from_secs(600),
        batch_notices_above: 0,
        max_co_admins: 5,
        default_room: "#lobby".into(),
    }
}

pub(super) fn start() -> Now {
    Now {
        wall: "2026-11-24T15:00:00Z".parse().unwrap(),
        instant: tokio::time::Instant::now(),
    }
}

pub(super) fn newcomer(id: ParticipantId, name: &str, creator: bool) -> Entrant {
    let who = Identity {
        id,
        nick: Nickname::parse(name).unwrap(),
        key: Some(format!("SHA256:{name}")),
        addr: None,
        node: String::new(),
    };
    Entrant {
        who,
        creator,
        code: None,
    }
}

/// `newcomer` without a key, connected to `node`.
pub(super) fn on(id: ParticipantId, name: &str, node: &str) -> Entrant {
    let mut entrant = newcomer(id, name, false);
    entrant.who.node = node.to_string();
    entrant.who.key = None;
    entrant
}

/// The text of every line an event hands to participant `id` (everyone in the room is
/// `everyone`).
pub(super) fn lines_for(
    events: &[RoomEvent],
    id: ParticipantId,
    everyone: &[ParticipantId],
) -> Vec<String> {
    let mut out = Vec::new();
    for event in events {
        match event {
            RoomEvent::ToOne { to, delivery } if *to == id => {
                out.extend(delivery.lines().iter().map(|l| l.text.clone()));
            }
            RoomEvent::ToAll { line, except }
                if everyone.contains(&id) && !except.contains(&id) =>
            {
                out.push(line.text.clone());
            }
            RoomEvent::Whisper { to, line, .. } if *to == id => out.push(line.text.clone()),
            _ => {}
        }
    }
    out
}

pub(super) fn logs(events: &[RoomEvent]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            RoomEvent::Log { kind, text } => Some(format!("{kind} {text}")),
            _ => None,
        })
        .collect()
}

#[test]
fn the_creator_is_welcomed_as_admin_and_the_next_one_is_announced() {
    let mut room = RoomState::new(config(), ScheduleBook::default(), start());
    room.join(newcomer(1, "alice", true));
    let events = room.take_events();
    assert_eq!(
        lines_for(&events, 1, &[1]),
        [
            "[Server]: Welcome to #rust, alice! Type /help for the list of commands.",
            "[Server]: Users (1/3): alice",
            "[Server]: You are the admin of this room."
        ]
    );
    assert_eq!(
        logs(&events),
        ["JOIN alice key=SHA256:alice from= admin=true"]
    );
    room.join(newcomer(2, "bob", false));
    let events = room.take_events();
    // the notice went out before bob was in: only alice hears it
    assert_eq!(
        lines_for(&events, 1, &[1]),
        ["[Server]: bob has joined the chat."]
    );
    assert!(!lines_for(&events, 2, &[2])
        .iter()
        .any(|l| l.contains("has joined")));
}

#[test]
fn a_full_room_and_a_kicked_key_are_refused_with_no_event_for_anyone_inside() {
    let mut room = RoomState::new(config(), ScheduleBook::default(), start());
    let names = Online::default();
    for (id, name) in [(1, "alice"), (2, "bob"), (3, "carol")] {
        room.join(newcomer(id, name, id == 1));
    }
    room.take_events();
    let full = room.admit(&on(9, "zed", "")).unwrap_err();
    assert_eq!(
        full.to_string(),
        "The chat room is full (3/3). Please try again later."
    );
    room.input(1, "/kick bob", &names);
    let events = room.take_events();
    assert!(matches!(
        events.iter().find(|e| matches!(e, RoomEvent::Close { .. })),
        Some(RoomEvent::Close { to: 2 })
    ));
    assert!(events
        .iter()
        .any(|e| matches!(e, RoomEvent::Gone { id: 2 })));
    assert_eq!(
        lines_for(&events, 3, &[1, 3]),
        ["[Server]: bob has been kicked from the chat."]
    );
    let banned = room.admit(&newcomer(9, "bob", false)).unwrap_err();
    assert_eq!(
        banned.to_string(),
        "You were kicked from #rust; you may come back after 15:10."
    );
    // ten minutes later the ban is over
    let later = Now {
        wall: "2026-11-24T15:10:01Z".parse().unwrap(),
        instant: start().instant + Duration::from_secs(601),
    };
    assert!(room.at(later).admit(&newcomer(9, "bob", false)).is_ok());
}

#[test]
fn the_rate_limit_runs_on_the_time_each_line_brings() {
    let mut room = RoomState::new(config(), ScheduleBook::default(), start());
    let names = Online::default();
    room.join(newcomer(1, "alice", true));
    room.take_events();
    for text in ["one", "two", "three"] {
        room.input(1, text, &names);
    }
    let events = room.take_events();
    assert_eq!(
        lines_for(&events, 1, &[1]),
        [
            "alice >> one",
            "alice >> two",
            "[Server]: You are sending messages too fast. Please wait a moment."
        ]
    );
    let next_second = Now {
        wall: start().wall + chrono::Duration::seconds(1),
        instant: start().instant + Duration::from_secs(1),
    };
    room.at(next_second).input(1, "four", &names);
    assert_eq!(lines_for(&room.take_events(), 1, &[1]), ["alice >> four"]);
}

#[test]
fn a_stalled_reader_is_cut_and_announced_and_a_whisper_leaves_the_room() {
    let mut room = RoomState::new(config(), ScheduleBook::default(), start());
    room.join(newcomer(1, "alice", true));
    room.join(newcomer(2, "bob", false));
    room.take_events();
    room.dropped(2, false);
    let events = room.take_events();
    assert!(events.iter().any(|e| matches!(e, RoomEvent::Cut { to: 2 })));
    assert_eq!(logs(&events), ["DROPPED bob (stopped reading)"]);
    assert_eq!(
        lines_for(&events, 1, &[1]),
        ["[Server]: bob has left the chat."]
    );
    assert_eq!(room.take_stats().drops, 1);
    // someone in another room, found through the names
    let names = Online(vec![(9, "dave")]);
    room.input(1, "/whisper dave psst", &names);
    let events = room.take_events();
    assert!(matches!(
        &events[0],
        RoomEvent::Whisper { to: 9, nick, line, .. } if nick == "dave" && line.text == "[Whisper from alice] psst"
    ));
    assert_eq!(lines_for(&events, 1, &[1]), ["[Whisper to dave] psst"]);
}

/// The name store as the room's logic sees it: who is online elsewhere; renames are
/// granted when the name is valid.
#[derive(Default)]
pub(super) struct Online(Vec<(ParticipantId, &'static str)>);

impl NameService for Online {
    fn rename(&self, _old: &Nickname, raw: &str) -> Result<Nickname, NicknameError> {
        Nickname::parse(raw)
    }

    fn find(&self, raw: &str) -> Option<(ParticipantId, String)> {
        let (id, nick) = self.0.iter().find(|(_, n)| n.eq_ignore_ascii_case(raw))?;
        Some((*id, nick.to_string()))
    }
}

#[test]
fn a_room_rebuilt_from_its_snapshot_carries_on_and_drops_a_dead_nodes_people() {
    let mut room = RoomState::new(config(), ScheduleBook::default(), start());
    let names = Online::default();
    room.join(on(1, "alice", "n1"));
    room.join(on(2, "bob", "n2"));
    room.join(on(3, "carol", "n1"));
    room.input(1, "before", &names);
    room.input(2, "/schedule 23:59 later", &names);
    let saved: super::RoomSnapshot =
        serde_json::from_slice(&serde_json::to_vec(&room.snapshot()).unwrap()).unwrap();

    let mut again = RoomState::restore(config(), saved, start());
    assert_eq!(
        again.users_line().text,
        "[Server]: Users (3/3): alice, bob, carol"
    );
    assert_eq!(again.nodes(), ["n1", "n2"]);
    // keyless bob still owns his pending message
    again.take_events();
    again.input(2, "/schedule", &names);
    let listed = lines_for(&again.take_events(), 2, &[1, 2, 3]);
    assert!(listed[1].ends_with("later"), "{listed:?}");
    // n1 died: alice (the admin) and carol leave; bob, there longest, is the admin now
    again.node_gone("n1");
    let events = again.take_events();
    assert_eq!(
        lines_for(&events, 2, &[2]),
        [
            "[Server]: alice has left the chat.",
            "[Server]: carol has left the chat.",
            "[Server]: bob is now the admin."
        ]
    );
    assert_eq!(again.users_line().text, "[Server]: Users (1/3): bob");
    // the history came along
    again.join(on(4, "dave", "n2"));
    let welcome = lines_for(&again.take_events(), 4, &[2, 4]);
    assert!(
        welcome.contains(&"alice >> before".to_string()),
        "{welcome:?}"
    );
}

#[test]
fn a_dead_nodes_people_leave_and_the_admin_role_passes_on_once() {
    let config = RoomConfig {
        capacity: 10,
        ..config()
    };
    let mut room = RoomState::new(config, ScheduleBook::default(), start());
    // The admin and the next three longest present are all on n1.
    for (id, name) in [(1, "alice"), (2, "bob"), (3, "carol"), (4, "dave")] {
        room.join(on(id, name, "n1"));
    }
    room.join(on(5, "erin", "n2"));
    room.join(on(6, "frank", "n2"));
    room.take_events();
    room.node_gone("n1");
    let lines = lines_for(&room.take_events(), 5, &[5, 6]);
    let admins: Vec<&String> = lines.iter().filter(|l| l.contains("admin")).collect();
    assert_eq!(admins, ["[Server]: erin is now the admin."], "{lines:?}");
    assert_eq!(lines.last().unwrap(), "[Server]: erin is now the admin.");
    assert_eq!(
        room.users_line().text,
        "[Server]: Users (2/10): erin, frank"
    );
}
