//! Per-room schedules and logs (SPEC §8): a schedule fires in the room it was made in,
//! even after its author moved on and across a restart; every server.txt event names
//! its room; a transcript follows its participant; bad room names get one clear line
//! and never reach the disk.

mod common;

use common::{user_key, Mode, TestClient, TestServer};
use ssh_chatroom::room::Clock;

fn utc(s: &str) -> chrono::DateTime<chrono::Utc> {
    s.parse().unwrap()
}

#[tokio::test]
async fn a_schedule_fires_in_its_room_after_its_author_moved_on_and_a_restart() {
    let (clock, _) = Clock::manual(utc("2026-11-24T15:00:00Z"));
    let server = TestServer::start_with(|_| {}, clock).await;
    let mut carol = TestClient::joined(server.port(), "carol").await;
    carol.send_line("/join rust").await;
    carol.expect("Welcome to #rust, carol!").await;
    carol.send_line("/schedule 15:30 standup in rust").await;
    carol
        .expect("[Server]: Message scheduled for 15:30 (2026-11-24, UTC).")
        .await;
    carol.send_line("/leave").await;
    carol.expect("Welcome to #lobby, carol!").await;
    // #rust is empty but has a message pending: it lives on, and across a restart
    carol.send_line("/rooms").await;
    carol
        .expect("[Server]: Rooms (2): #lobby (1/10), #rust (0/10)")
        .await;
    let (dir, config) = server.stop().await;
    let (clock, hands) = Clock::manual(utc("2026-11-24T15:29:00Z"));
    let server = TestServer::start_in(dir, config, clock).await;
    let mut lobby = TestClient::joined(server.port(), "lobbyist").await;
    let mut dev = TestClient::joined(server.port(), "dev").await;
    dev.send_line("/join rust").await;
    dev.expect("Welcome to #rust, dev!").await;
    hands.set(utc("2026-11-24T15:30:00Z"));
    dev.expect("[Scheduled by carol] standup in rust").await;
    // the lobby heard nothing of it: a marker sent after the firing arrives alone
    dev.send_line("/whisper lobbyist marker").await;
    let seen = lobby.expect("[Whisper from dev] marker").await;
    assert!(!seen.contains("standup"), "{seen}");
}

#[tokio::test]
async fn logs_name_rooms_and_a_transcript_follows_its_person() {
    let server = TestServer::start().await;
    let mut alice = TestClient::joined(server.port(), "alice").await;
    alice.send_line("hello lobby").await;
    alice.expect("alice >> hello lobby").await;
    alice.send_line("/join rust").await;
    alice.expect("Welcome to #rust, alice!").await;
    alice.send_line("hello rust").await;
    alice.expect("alice >> hello rust").await;
    let (dir, _) = server.stop().await;
    let log = std::fs::read_to_string(dir.path().join("logs/server.txt")).unwrap();
    for needle in [
        "JOIN #lobby alice",
        "MESSAGE #lobby alice >> hello lobby",
        "COMMAND #lobby alice: /join rust => done",
        "JOIN #rust alice",
        "LEAVE #lobby alice",
        "MESSAGE #rust alice >> hello rust",
    ] {
        assert!(log.contains(needle), "{needle:?} missing from\n{log}");
    }
    let transcript =
        std::fs::read_to_string(dir.path().join("logs/users/alice_chat_log.txt")).unwrap();
    assert!(transcript.contains("alice >> hello lobby"), "{transcript}");
    assert!(
        transcript.contains("Welcome to #rust, alice!"),
        "{transcript}"
    );
    assert!(transcript.contains("alice >> hello rust"), "{transcript}");
}

#[tokio::test]
async fn bad_room_names_get_one_clear_line_and_never_reach_the_disk() {
    let server = TestServer::start().await;
    // Without a pty, so hidden characters reach the server as typed (a pty's line
    // editor drops them before they are sent).
    let mut eve = TestClient::connect(server.port(), "eve", Some(user_key()), Mode::Plain).await;
    eve.expect("Type /help").await;
    let letters = "A room name may contain only letters, digits, \"_\", \"-\" and \".\".";
    let long = "x".repeat(300);
    let cases: Vec<(&str, String)> = vec![
        ("../../etc", letters.into()),
        ("a/b", letters.into()),
        ("semi;colon", letters.into()),
        ("bi\u{202E}di", letters.into()),
        ("zero\u{200B}width", letters.into()),
        (&long, "A room name can have at most 24 characters.".into()),
        ("rooms", "The room name \"rooms\" is reserved.".into()),
        (
            "аbc",
            "A room name may not mix alphabets (such as Latin and Cyrillic).".into(),
        ),
    ];
    for (name, reply) in &cases {
        eve.send(format!("/join {name}\n").as_bytes()).await;
        eve.expect(&format!("[Server]: {reply}")).await;
    }
    // a look-alike of an existing room is that room
    eve.send(b"/join #LOBBY\n").await;
    eve.expect("[Server]: You are already in #lobby.").await;
    let (dir, _) = server.stop().await;
    let mut top: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    top.sort();
    assert_eq!(
        top,
        ["data", "keys", "logs"],
        "nothing made but logs, data and the host key"
    );
    let data: Vec<String> = std::fs::read_dir(dir.path().join("data"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(data, ["schedules.json"]);
    let users: Vec<String> = std::fs::read_dir(dir.path().join("logs/users"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(users, ["eve_chat_log.txt"]);
}
