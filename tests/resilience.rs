//! A participant that stops reading is dropped without slowing anyone else; logs keep one
//! event per line whatever users type.

mod common;

use common::{user_key, Mode, StalledClient, TestClient, TestServer};
use ssh_chatroom::room::Clock;

#[tokio::test]
async fn a_client_that_stops_reading_is_dropped_and_the_room_goes_on() {
    let server = TestServer::start_with(|c| c.outbox_size = 64, Clock::System).await;
    let alice = TestClient::joined(server.port(), "Alice").await;
    let mut bob = TestClient::joined(server.port(), "Bob").await;
    let _stalled = StalledClient::join(server.port(), "Stalled").await;
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
        "JOIN Alice",
        "MESSAGE Piped >> evil]0;pwned text",
        "COMMAND Alice: /whisper Piped psst => whisper to Piped: psst",
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
        "[Server]: Unknown command \"rm -rf /\". The only command is \"users\".\n"
    );
    assert_eq!(status, Some(1));
}
