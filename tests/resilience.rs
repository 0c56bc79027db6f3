//! A participant that stops reading is dropped without slowing anyone else; logs keep one
//! event per line whatever users type.

mod common;

use common::{user_key, Mode, TestClient, TestServer};
use ssh_chatroom::room::Clock;

#[tokio::test]
async fn a_client_that_stops_reading_is_dropped_and_the_room_goes_on() {
    let server = TestServer::start_with(|c| c.outbox_size = 64, Clock::System).await;
    let alice = TestClient::joined(server.port(), "Alice").await;
    let mut bob = TestClient::joined(server.port(), "Bob").await;
    let addr = ([127, 0, 0, 1], server.port()).into();
    let _stalled = testkit::join_stalled(addr, "Stalled").await.unwrap();
    bob.expect("Stalled has joined").await;
    let mut batch = String::new();
    for n in 0..1500 {
        batch.push_str(&format!("message number {n}\r"));
    }
    alice.send(batch.as_bytes()).await;
    let seen = bob.expect("Alice >> message number 1499\r\n").await;
    let delivered = (0..1500)
        .filter(|n| seen.contains(&format!("Alice >> message number {n}\r\n")))
        .count();
    assert_eq!(delivered, 1500, "Bob missed messages");
    // the stalled participant is dropped, during the burst or right after it
    let left = "[Server]: Stalled has left the chat.";
    if !seen.contains(left) {
        bob.expect(left).await;
    }
    bob.send_line("/user").await;
    bob.expect("[Server]: Users (2/10): Alice, Bob").await;
}

#[tokio::test]
async fn logs_keep_one_event_per_line_and_transcripts_per_user() {
    let server = TestServer::start().await;
    let mut alice = TestClient::joined(server.port(), "Alice").await;
    let mut piped =
        TestClient::connect(server.port(), "Piped", Some(user_key()), Mode::Plain).await;
    piped.expect("Type /help").await;
    // terminal escapes and bidi controls in piped input are stripped before anyone sees them
    piped.send(b"evil\x1b]0;pwned\x07 \xe2\x80\xaetext\n").await;
    alice.expect("Piped >> evil]0;pwned text").await;
    alice.send_line("/whisper Piped psst").await;
    piped.expect("[Whisper from Alice] psst").await;
    // a refused username with a newline must not split a log line
    let mut weird = TestClient::join(server.port(), "bad\nname").await;
    weird.expect("Nickname: ").await;
    let (dir, _) = server.stop().await;

    let log = std::fs::read_to_string(dir.path().join("logs/server.txt")).unwrap();
    for line in log.lines() {
        let stamp = line.split(' ').next().unwrap();
        assert!(
            chrono::DateTime::parse_from_rfc3339(stamp).is_ok(),
            "{line:?}"
        );
        assert!(!line.chars().any(|c| c.is_control()), "{line:?}");
    }
    for needle in [
        "JOIN #lobby Alice",
        "MESSAGE #lobby Piped >> evil]0;pwned text",
        "COMMAND #lobby Alice: /whisper Piped psst => whisper to Piped: psst",
        "REFUSED",
        "bad\\nname",
        "LEAVE",
    ] {
        assert!(log.contains(needle), "{needle:?} missing from\n{log}");
    }
    let alice_log =
        std::fs::read_to_string(dir.path().join("logs/users/Alice_chat_log.txt")).unwrap();
    assert!(alice_log.contains("Piped >> evil]0;pwned text"));
    assert!(alice_log.contains("[Whisper to Piped] psst"));
    let piped_log =
        std::fs::read_to_string(dir.path().join("logs/users/Piped_chat_log.txt")).unwrap();
    assert!(piped_log.contains("[Whisper from Alice] psst"));
    assert!(!piped_log.contains("Whisper to"));
}

#[tokio::test]
async fn shutdown_tells_participants_and_closes_sessions() {
    let server = TestServer::start().await;
    let mut alice = TestClient::joined(server.port(), "Alice").await;
    server.stop().await;
    alice
        .expect("[Server]: The server is shutting down. Goodbye!")
        .await;
    alice.expect_closed().await;
}

#[tokio::test]
async fn exec_users_prints_the_list_and_other_commands_fail() {
    let server = TestServer::start().await;
    let _alice = TestClient::joined(server.port(), "Alice").await;
    let (out, status) = TestClient::exec(server.port(), "x", "users").await;
    assert_eq!(out, "[Server]: Users (1/10): Alice\n");
    assert_eq!(status, Some(0));
    let (out, status) = TestClient::exec(server.port(), "x", "rm -rf /").await;
    assert_eq!(
        out,
        "[Server]: Unknown command \"rm -rf /\". Use a room name, \"users [ROOM]\", \"rooms\" or \"help\".\n"
    );
    assert_eq!(status, Some(1));
}

/// A renamer keeps the transcript they joined with; a newcomer taking their old name gets
/// a file of their own, so one person's whispers never land in another's file.
#[tokio::test]
async fn two_people_never_share_a_transcript() {
    let server = TestServer::start().await;
    let mut first = TestClient::joined(server.port(), "Alice").await;
    first.send_line("/rename Alice2").await;
    first
        .expect("[Server]: Your nickname is now \"Alice2\".")
        .await;
    let mut second = TestClient::joined(server.port(), "Alice").await;
    let bob = TestClient::joined(server.port(), "Bob").await;
    bob.send_line("/whisper Alice2 for the first only").await;
    first.expect("[Whisper from Bob] for the first only").await;
    bob.send_line("/whisper Alice for the second only").await;
    second
        .expect("[Whisper from Bob] for the second only")
        .await;
    let (dir, _) = server.stop().await;

    let users = dir.path().join("logs/users");
    let first_file = std::fs::read_to_string(users.join("Alice_chat_log.txt")).unwrap();
    let second_file = std::fs::read_to_string(users.join("Alice~2_chat_log.txt")).unwrap();
    assert!(first_file.contains("[Whisper from Bob] for the first only"));
    assert!(!first_file.contains("for the second only"), "{first_file}");
    assert!(second_file.contains("[Whisper from Bob] for the second only"));
    assert!(!second_file.contains("for the first only"), "{second_file}");
}

/// A welcome longer than the outbox (a long history) is one delivery: the newcomer is
/// welcomed, not dropped for overflowing on their own welcome.
#[tokio::test]
async fn a_welcome_longer_than_the_outbox_still_lets_the_newcomer_in() {
    let server = TestServer::start_with(
        |c| {
            c.outbox_size = 64;
            c.history = 200;
        },
        Clock::System,
    )
    .await;
    let mut alice = TestClient::joined(server.port(), "Alice").await;
    let batch: String = (0..150).map(|n| format!("history line {n}\r")).collect();
    alice.send(batch.as_bytes()).await;
    alice.expect("Alice >> history line 149\r\n").await;
    let mut late = TestClient::joined(server.port(), "Late").await;
    late.expect("[Server]: Users (2/10): Alice, Late").await;
    let welcome = late.transcript.text();
    assert!(welcome.contains("Alice >> history line 0\r\n"), "{welcome}");
    late.send_line("made it").await;
    alice.expect("Late >> made it").await;
}
