//! Unit tests of a room's moderation (SPEC §11): roles, co-admins, mutes, the notice and
//! the code, fed to the pure room state.

use super::event::{Now, RoomEvent};
use super::schedule::ScheduleBook;
use super::state::{RoomConfig, RoomState};
use super::state_tests::{config, lines_for, logs, newcomer, on, start, Online};
use super::JoinError;

fn roomy() -> RoomConfig {
    RoomConfig {
        capacity: 10,
        message_rate: 0.0,
        max_co_admins: 2,
        ..config()
    }
}

/// `#rust` made by alice (1), with bob (2), carol (3) and dave (4) in it.
fn room_of_four() -> RoomState {
    let mut room = RoomState::new(roomy(), ScheduleBook::default(), start());
    for (id, name) in [(1, "alice"), (2, "bob"), (3, "carol"), (4, "dave")] {
        room.join(newcomer(id, name, id == 1));
    }
    room.take_events();
    room
}

const ALL: [u128; 4] = [1, 2, 3, 4];

/// What `id` typing `line` makes participant `to` see.
fn says(room: &mut RoomState, id: u128, line: &str, to: u128) -> Vec<String> {
    room.input(id, line, &Online::default());
    lines_for(&room.take_events(), to, &ALL)
}

#[test]
fn the_admin_names_co_admins_up_to_the_limit_and_only_the_admin_may() {
    let mut room = room_of_four();
    assert_eq!(
        says(&mut room, 2, "/op carol", 2),
        ["[Server]: Only the room's admin can use /op."]
    );
    assert_eq!(
        says(&mut room, 1, "/op bob", 4),
        ["[Server]: bob is now a co-admin."]
    );
    assert_eq!(
        says(&mut room, 1, "/op BOB", 1),
        ["[Server]: bob is already a co-admin."]
    );
    assert_eq!(
        says(&mut room, 1, "/op alice", 1),
        ["[Server]: You cannot op yourself."]
    );
    assert_eq!(
        says(&mut room, 1, "/op zed", 1),
        ["[Server]: No user named \"zed\" is in the room."]
    );
    says(&mut room, 1, "/op carol", 1);
    assert_eq!(
        says(&mut room, 1, "/op dave", 1),
        ["[Server]: #rust already has 2 co-admins."]
    );
    assert_eq!(
        says(&mut room, 1, "/deop bob", 3),
        ["[Server]: bob is no longer a co-admin."]
    );
    assert_eq!(
        says(&mut room, 1, "/deop bob", 1),
        ["[Server]: bob is not a co-admin."]
    );
    room.input(1, "/op dave", &Online::default());
    assert!(logs(&room.take_events()).contains(&"OP dave by alice".to_string()));
}

#[test]
fn a_co_admin_kicks_and_mutes_members_but_not_admins_or_other_co_admins() {
    let mut room = room_of_four();
    says(&mut room, 1, "/op bob", 1);
    says(&mut room, 1, "/op carol", 1);
    assert_eq!(
        says(&mut room, 2, "/kick alice", 2),
        ["[Server]: You cannot kick alice."]
    );
    assert_eq!(
        says(&mut room, 2, "/kick carol", 2),
        ["[Server]: You cannot kick carol."]
    );
    assert_eq!(
        says(&mut room, 2, "/mute carol", 2),
        ["[Server]: You cannot mute carol."]
    );
    assert_eq!(
        says(&mut room, 2, "/deop carol", 2),
        ["[Server]: Only the room's admin can use /deop."]
    );
    assert_eq!(
        says(&mut room, 2, "/kick dave", 1),
        ["[Server]: dave has been kicked from the chat."]
    );
    assert_eq!(
        says(&mut room, 4, "/mute bob", 4),
        Vec::<String>::new(),
        "dave is gone"
    );
}

#[test]
fn a_mute_refuses_chat_lines_until_it_ends_and_follows_the_person() {
    let mut room = room_of_four();
    assert_eq!(
        says(&mut room, 3, "/mute dave", 3),
        ["[Server]: Only an admin or co-admin can use /mute."]
    );
    assert_eq!(
        says(&mut room, 1, "/mute dave", 2),
        ["[Server]: dave has been muted for 10 minutes."]
    );
    assert_eq!(
        says(&mut room, 4, "hello", 4),
        ["[Server]: You are muted in #rust until 15:10."]
    );
    assert!(says(&mut room, 4, "hello", 2).is_empty(), "nobody hears it");
    assert_eq!(
        says(&mut room, 4, "/me waves", 4),
        ["[Server]: You are muted in #rust until 15:10."],
        "a mute refuses /me too"
    );
    assert!(!room.input(4, "hello", &Online::default()), "refused");
    room.take_events();
    // whispers and commands still work
    assert_eq!(
        says(&mut room, 4, "/user", 4),
        ["[Server]: Users (4/10): alice, bob, carol, dave"]
    );
    // the same key under another name, after a reconnect
    room.leave(4);
    room.join(newcomer(5, "dave", false));
    room.take_events();
    room.input(5, "hi again", &Online::default());
    let events = room.take_events();
    assert_eq!(
        lines_for(&events, 5, &[5]),
        ["[Server]: You are muted in #rust until 15:10."]
    );
    // ten minutes on, it has ended
    let later = Now {
        wall: "2026-11-24T15:10:01Z".parse().unwrap(),
        instant: start().instant,
    };
    room.at(later).input(5, "free", &Online::default());
    assert_eq!(lines_for(&room.take_events(), 5, &[5]), ["dave >> free"]);
}

#[test]
fn unmute_and_a_mute_for_days_and_for_ever() {
    let mut room = room_of_four();
    says(&mut room, 1, "/mute bob 2d spam", 1);
    assert_eq!(
        says(&mut room, 2, "x", 2),
        ["[Server]: You are muted in #rust until 2026-11-26 15:00."]
    );
    assert_eq!(
        says(&mut room, 1, "/unmute bob", 3),
        ["[Server]: bob is no longer muted."]
    );
    assert_eq!(
        says(&mut room, 1, "/unmute bob", 1),
        ["[Server]: bob is not muted."]
    );
    // a muted co-admin cannot lift their own mute
    says(&mut room, 1, "/op bob", 1);
    says(&mut room, 1, "/mute bob", 1);
    assert_eq!(
        says(&mut room, 2, "/unmute bob", 2),
        ["[Server]: You cannot unmute yourself."]
    );
    says(&mut room, 1, "/deop bob", 1);
    says(&mut room, 1, "/unmute bob", 1);
    assert_eq!(
        says(&mut room, 1, "/mute bob forever", 3),
        ["[Server]: bob has been muted."]
    );
    assert_eq!(
        says(&mut room, 2, "x", 2),
        ["[Server]: You are muted in #rust."]
    );
    assert!(says(&mut room, 1, "/mute bob 5x", 1)[0].starts_with("[Server]: Invalid duration"));
}

#[test]
fn a_notice_is_pinned_shown_to_newcomers_and_removed() {
    let mut room = room_of_four();
    assert_eq!(
        says(&mut room, 3, "/notice", 3),
        ["[Server]: No notice in #rust."]
    );
    assert_eq!(
        says(&mut room, 3, "/notice hi", 3),
        ["[Server]: Only an admin or co-admin can use /notice."]
    );
    assert_eq!(
        says(&mut room, 1, "/notice Be \x1b[31mkind", 3),
        ["[Notice] Be [31mkind"]
    );
    room.join(newcomer(5, "erin", false));
    let welcome = lines_for(&room.take_events(), 5, &[5]);
    assert_eq!(
        welcome,
        [
            "[Server]: Welcome to #rust, erin! Type /help for the list of commands.",
            "[Notice] Be [31mkind",
            "[Server]: Users (5/10): alice, bob, carol, dave, erin",
        ]
    );
    assert_eq!(
        says(&mut room, 3, "/notice", 3),
        ["[Server]: Notice of #rust: Be [31mkind"]
    );
    let long = format!("/notice {}", "x".repeat(1025));
    assert_eq!(
        says(&mut room, 1, &long, 1),
        ["[Server]: Message too long (max 1024 bytes)."]
    );
    assert_eq!(
        says(&mut room, 1, "/notice -", 1),
        ["[Server]: The notice of #rust was removed."]
    );
    assert_eq!(
        says(&mut room, 1, "/notice", 1),
        ["[Server]: No notice in #rust."]
    );
}

#[test]
fn a_locked_room_takes_its_code_and_never_logs_it() {
    let mut room = room_of_four();
    assert_eq!(
        says(&mut room, 2, "/lock s3cret", 2),
        ["[Server]: Only the room's admin can use /lock."]
    );
    room.input(1, "/lock s3cret", &Online::default());
    let events = room.take_events();
    assert_eq!(
        lines_for(&events, 1, &[]),
        ["[Server]: #rust now needs a code to enter."]
    );
    assert!(
        logs(&events).iter().all(|l| !l.contains("s3cret")),
        "{:?}",
        logs(&events)
    );
    assert!(room.is_locked());
    let mut erin = newcomer(5, "erin", false);
    assert_eq!(
        room.admit(&erin).unwrap_err(),
        JoinError::NeedsCode {
            room: "#rust".into(),
            bare: "rust".into()
        }
    );
    erin.code = Some("guess".into());
    assert_eq!(
        room.admit(&erin).unwrap_err().to_string(),
        "Wrong code for #rust."
    );
    erin.code = Some("s3cret".into());
    assert!(room.admit(&erin).is_ok());
    assert!(logs(&room.take_events())
        .iter()
        .all(|l| !l.contains("s3cret")));
    assert_eq!(
        says(&mut room, 1, "/unlock", 1),
        ["[Server]: #rust is open to everyone again."]
    );
    assert!(room.admit(&on(6, "fred", "")).is_ok());
    assert_eq!(
        says(&mut room, 1, "/unlock", 1),
        ["[Server]: #rust needs no code."]
    );
}

#[test]
fn the_lobby_cannot_be_locked_and_a_code_for_no_room_hints_at_spaces() {
    let mut room = RoomState::new(
        RoomConfig {
            name: "#lobby".into(),
            ..roomy()
        },
        ScheduleBook::default(),
        start(),
    );
    room.join(newcomer(1, "alice", true));
    room.take_events();
    room.input(1, "/lock x", &Online::default());
    assert_eq!(
        lines_for(&room.take_events(), 1, &[1]),
        ["[Server]: #lobby cannot be locked."]
    );
    let mut made = RoomState::new(roomy(), ScheduleBook::default(), start());
    let mut maker = newcomer(1, "alice", true);
    maker.code = Some("room".into());
    assert_eq!(
        made.admit(&maker).unwrap_err().to_string(),
        "Room names have no spaces: try /join rust-room"
    );
}

#[test]
fn the_admin_role_passes_to_the_longest_present_co_admin() {
    let mut room = room_of_four();
    says(&mut room, 1, "/op dave", 1);
    room.leave(1);
    let events = room.take_events();
    assert_eq!(
        lines_for(&events, 2, &ALL),
        [
            "[Server]: alice has left the chat.",
            "[Server]: dave is now the admin."
        ]
    );
    // dave is the admin now, no longer a co-admin: he may op again
    assert_eq!(
        says(&mut room, 4, "/op bob", 3),
        ["[Server]: bob is now a co-admin."]
    );
}

#[test]
fn help_lists_what_the_asker_may_use() {
    let mut room = room_of_four();
    let help = |room: &mut RoomState, id| says(room, id, "/help", id).join("\n");
    let member = help(&mut room, 3);
    assert!(member.contains("/whisper") && !member.contains("/kick") && !member.contains("/ban"));
    says(&mut room, 1, "/op carol", 1);
    let co_admin = help(&mut room, 3);
    assert!(co_admin.contains("/kick") && co_admin.contains("/mute"));
    assert!(!co_admin.contains("/lock") && !co_admin.contains("/op "));
    let admin = help(&mut room, 1);
    assert!(admin.contains("/lock") && admin.contains("/op ") && !admin.contains("/bans"));
}

#[test]
fn the_rules_travel_in_the_snapshot() {
    let mut room = room_of_four();
    for line in ["/op bob", "/mute dave", "/notice hi", "/lock c0de"] {
        room.input(1, line, &Online::default());
    }
    let saved = serde_json::to_string(&room.snapshot()).unwrap();
    let saved = serde_json::from_str(&saved).unwrap();
    let mut back = RoomState::restore(roomy(), saved, start());
    assert!(back.is_locked());
    assert_eq!(
        says(&mut back, 4, "hi", 4),
        ["[Server]: You are muted in #rust until 15:10."]
    );
    assert_eq!(
        says(&mut back, 2, "/kick dave", 3),
        ["[Server]: dave has been kicked from the chat."]
    );
    assert!(matches!(
        back.take_events().first(),
        None | Some(RoomEvent::Log { .. })
    ));
}
