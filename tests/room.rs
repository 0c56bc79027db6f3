//! The room end to end over SSH with the russh client: every row of SPEC §3, joining,
//! capacity, nicknames, admins, logs.

mod common;

use common::{key_fingerprint, user_key, Mode, TestClient, TestServer};
use ssh_chatroom::room::Clock;

#[tokio::test]
async fn chat_reaches_everyone_including_the_sender() {
    let server = TestServer::start().await;
    let mut alice = TestClient::joined(server.port(), "Alice").await;
    let mut bob = TestClient::join(server.port(), "Bob").await;
    bob.expect("Users (2/10): Alice, Bob").await;
    alice.expect("[Server]: Bob has joined the chat.").await;
    let mut charlie = TestClient::join(server.port(), "Charlie").await;
    charlie.expect("Users (3/10)").await;
    alice.send_line("Hello everyone!").await;
    for client in [&mut alice, &mut bob, &mut charlie] {
        client.expect("Alice >> Hello everyone!\r\n").await;
    }
}

#[tokio::test]
async fn rename_tells_others_and_the_renamer() {
    let server = TestServer::start().await;
    let mut alice = TestClient::joined(server.port(), "Alice").await;
    let mut bob = TestClient::joined(server.port(), "Bob").await;
    alice.send_line("/rename Alice123").await;
    alice
        .expect("[Server]: Your nickname is now \"Alice123\".")
        .await;
    bob.expect("[Server]: User \"Alice\" has changed their nickname to \"Alice123\".")
        .await;
    // the new name is used from now on, and a taken name changes nothing
    bob.send_line("/rename alice123").await;
    bob.expect("[Server]: The nickname \"alice123\" is already taken.")
        .await;
    bob.send_line("/rename bad name").await;
    bob.expect("[Server]: Usage: /rename <nickname>").await;
    bob.send_line("/user").await;
    bob.expect("[Server]: Users (2/10): Alice123, Bob").await;
}

#[tokio::test]
async fn whisper_reaches_only_its_target() {
    let server = TestServer::start().await;
    let mut alice = TestClient::joined(server.port(), "Alice").await;
    let mut bob = TestClient::joined(server.port(), "Bob").await;
    let mut charlie = TestClient::joined(server.port(), "Charlie").await;
    bob.send_line("/whisper Charlie Hi, Charlie!").await;
    charlie.expect("[Whisper from Bob] Hi, Charlie!").await;
    bob.expect("[Whisper to Charlie] Hi, Charlie!").await;
    bob.send_line("/whisper nobody hi").await;
    bob.expect("[Server]: No user named \"nobody\" is online.")
        .await;
    bob.send_line("/whisper Bob hi").await;
    bob.expect("[Server]: You cannot whisper to yourself.")
        .await;
    bob.send_line("/whisper Charlie").await;
    bob.expect("[Server]: Usage: /whisper <nickname> <message>")
        .await;
    // Alice saw none of it: her next line is the marker that follows
    charlie.send_line("marker").await;
    let seen = alice.expect("Charlie >> marker").await;
    assert!(!seen.contains("Whisper"), "Alice saw a whisper: {seen:?}");
}

#[tokio::test]
async fn first_joiner_is_admin_and_kicks() {
    let server = TestServer::start().await;
    let mut alice = TestClient::join(server.port(), "Alice").await;
    alice.expect("You are the admin of this room.").await;
    let mut bob = TestClient::join(server.port(), "Bob").await;
    let welcome = bob.expect("Type /help").await;
    assert!(!welcome.contains("admin"));
    let mut charlie = TestClient::joined(server.port(), "Charlie").await;
    charlie.send_line("/kick Bob").await;
    charlie
        .expect("[Server]: Only an admin can use /kick.")
        .await;
    alice.send_line("/kick Bob").await;
    bob.expect("[Server]: You have been kicked from the chat.")
        .await;
    bob.expect_closed().await;
    alice
        .expect("[Server]: Bob has been kicked from the chat.")
        .await;
    let seen = charlie
        .expect("[Server]: Bob has been kicked from the chat.")
        .await;
    assert!(!seen.contains("has left"));
    alice.send_line("/user").await;
    alice.expect("Users (2/10): Alice, Charlie").await;
}

#[tokio::test]
async fn admin_role_passes_to_the_longest_present() {
    let server = TestServer::start().await;
    let mut alice = TestClient::join(server.port(), "Alice").await;
    alice.expect("You are the admin").await;
    let bob = TestClient::joined(server.port(), "Bob").await;
    let mut charlie = TestClient::joined(server.port(), "Charlie").await;
    alice.send_line("/quit").await;
    alice.expect_closed().await;
    charlie.expect("[Server]: Alice has left the chat.").await;
    charlie.expect("[Server]: Bob is now the admin.").await;
    bob.send_line("/kick Charlie").await;
    charlie
        .expect("[Server]: You have been kicked from the chat.")
        .await;
}

#[tokio::test]
async fn admin_comes_from_a_configured_key_only() {
    let admin_key = user_key();
    let fp = key_fingerprint(&admin_key);
    let server = TestServer::start_with(|c| c.admin_keys = vec![fp], Clock::System).await;
    let mut first = TestClient::joined(server.port(), "First").await;
    let mut boss = TestClient::connect(server.port(), "Boss", Some(admin_key), Mode::Pty).await;
    boss.expect("You are the admin of this room.").await;
    first.send_line("/kick Boss").await;
    first.expect("[Server]: Only an admin can use /kick.").await;
    boss.send_line("/kick First").await;
    first
        .expect("[Server]: You have been kicked from the chat.")
        .await;
}

#[tokio::test]
async fn admins_file_in_authorized_keys_format() {
    let admin_key = user_key();
    let line = admin_key.public_key().to_openssh().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut config = common::test_config(dir.path());
    std::fs::create_dir_all(dir.path().join("keys")).unwrap();
    std::fs::write(
        dir.path().join("keys/admins"),
        format!("{line} boss@laptop\n"),
    )
    .unwrap();
    config.capacity = 10;
    let server = TestServer::start_in(dir, config, Clock::System).await;
    let mut boss = TestClient::connect(server.port(), "Boss", Some(admin_key), Mode::Pty).await;
    boss.expect("You are the admin of this room.").await;
}

#[tokio::test]
async fn user_help_quit_and_unknown_commands() {
    let server = TestServer::start().await;
    let mut alice = TestClient::joined(server.port(), "Alice").await;
    let mut bob = TestClient::joined(server.port(), "Bob").await;
    alice.send_line("/user").await;
    alice.expect("[Server]: Users (2/10): Alice, Bob\r\n").await;
    alice.send_line("/help").await;
    let help = alice.expect("/quit").await;
    for command in [
        "/rename",
        "/whisper",
        "/schedule HH:MM",
        "/unschedule",
        "/user",
        "/kick",
    ] {
        assert!(help.contains(command), "{command} missing from {help:?}");
    }
    // Bob is no admin: his list leaves out what he may not use
    bob.send_line("/help").await;
    let help = bob.expect("/quit").await;
    assert!(
        help.contains("/whisper") && !help.contains("/kick"),
        "{help:?}"
    );
    alice.send_line("/anything-else").await;
    alice
        .expect("[Server]: Unknown command \"/anything-else\". Type /help for the list.")
        .await;
    bob.send_line("/quit").await;
    bob.expect_closed().await;
    alice.expect("[Server]: Bob has left the chat.").await;
}

#[tokio::test]
async fn the_eleventh_is_refused_and_nobody_notices() {
    let server = TestServer::start().await;
    let mut clients = Vec::new();
    for n in 0..10 {
        let c = TestClient::joined(server.port(), &format!("user{n}")).await;
        clients.push(c);
    }
    let mut late = TestClient::join(server.port(), "late").await;
    late.expect("[Server]: The chat room is full (10/10). Please try again later.")
        .await;
    late.expect_closed().await;
    clients[9].send_line("still here").await;
    let seen = clients[0].expect("user9 >> still here").await;
    assert!(!seen.contains("late"), "someone noticed: {seen:?}");
}

#[tokio::test]
async fn ctrl_d_and_lost_connections_announce_leaving() {
    let server = TestServer::start().await;
    let mut alice = TestClient::joined(server.port(), "Alice").await;
    let bob = TestClient::joined(server.port(), "Bob").await;
    bob.send(b"\x04").await;
    bob.expect_closed().await;
    alice.expect("[Server]: Bob has left the chat.").await;
    let carol = TestClient::join(server.port(), "Carol").await;
    alice.expect("Carol has joined").await;
    drop(carol);
    alice.expect("[Server]: Carol has left the chat.").await;
}

#[tokio::test]
async fn long_messages_are_refused_with_the_limit() {
    let server = TestServer::start().await;
    let mut alice = TestClient::joined(server.port(), "Alice").await;
    alice.send_line(&"x".repeat(1025)).await;
    alice
        .expect("[Server]: Message too long (max 1024 bytes).")
        .await;
    alice.send_line(&"y".repeat(1024)).await;
    alice
        .expect(&format!("Alice >> {}", "y".repeat(1024)))
        .await;
}

#[tokio::test]
async fn newcomers_see_recent_history() {
    let server = TestServer::start().await;
    let mut alice = TestClient::joined(server.port(), "Alice").await;
    alice.send_line("earlier words").await;
    alice.expect("Alice >> earlier words").await;
    let mut bob = TestClient::join(server.port(), "Bob").await;
    let welcome = bob.expect("Type /help").await;
    assert!(welcome.contains("Alice >> earlier words"), "{welcome:?}");
}

#[tokio::test]
async fn pty_lines_are_coloured_and_plain_sessions_have_no_escapes() {
    let server = TestServer::start().await;
    let mut alice = TestClient::joined(server.port(), "Alice").await;
    let mut plain =
        TestClient::connect(server.port(), "Plain", Some(user_key()), Mode::Plain).await;
    plain.expect("Type /help").await;
    alice.send_line("colours?").await;
    alice.expect("Alice >> colours?").await;
    plain.expect("Alice >> colours?\n").await;
    assert!(alice.transcript.raw().contains("\x1b[1;38;5;"));
    assert!(
        alice.transcript.raw().contains("\x1b[?2004h"),
        "bracketed paste turned on"
    );
    assert!(
        !plain.transcript.raw().contains('\x1b'),
        "{:?}",
        plain.transcript.raw()
    );
}

#[tokio::test]
async fn tab_completes_nicknames_and_commands() {
    let server = TestServer::start().await;
    let mut alice = TestClient::joined(server.port(), "alice").await;
    let mut bob = TestClient::joined(server.port(), "bob").await;
    bob.send(b"/wh\t").await;
    bob.expect("bob> /whisper \x1b[K").await;
    bob.send(b"al\t").await;
    bob.expect("bob> /whisper alice \x1b[K").await;
    bob.send(b"psst\r").await;
    alice.expect("[Whisper from bob] psst").await;
}

#[tokio::test]
async fn dumb_terminal_and_motd() {
    let dir = tempfile::tempdir().unwrap();
    let motd = dir.path().join("motd.txt");
    std::fs::write(&motd, "Welcome to the seed room\nBe kind \x1b[31m!\n").unwrap();
    let server = TestServer::start_with(|c| c.motd = Some(motd), Clock::System).await;
    let mut dumb = TestClient::connect(server.port(), "dumb", Some(user_key()), Mode::Dumb).await;
    dumb.expect("[Server]: Welcome to the seed room\r\n[Server]: Be kind [31m!\r\n")
        .await;
    dumb.expect("Type /help").await;
    dumb.send_line("plain as can be").await;
    dumb.expect("dumb >> plain as can be\r\n").await;
    assert!(
        !dumb.transcript.raw().contains('\x1b'),
        "{:?}",
        dumb.transcript.raw()
    );
}

/// Past `--batch-notices-above` the room is crowded: an arrival is announced by the room's
/// own timer a second later, with nobody typing in between; a departure too. The clock
/// stands still until the test moves it, so the order is certain.
#[tokio::test]
async fn a_crowded_room_announces_arrivals_and_departures_a_moment_later() {
    let (clock, hands) = Clock::manual("2026-11-24T12:00:00Z".parse().unwrap());
    let server = TestServer::start_with(|c| c.batch_notices_above = 1, clock).await;
    let mut alice = TestClient::joined(server.port(), "alice").await;
    let bob = TestClient::joined(server.port(), "bob").await;
    // A whisper is not held back: it overtakes the gathered notice.
    bob.send_line("/whisper alice first").await;
    let seen = alice.expect("[Whisper from bob] first").await;
    assert!(!seen.contains("bob has joined"), "{seen}");
    hands.advance(std::time::Duration::from_secs(1));
    alice.expect("[Server]: bob has joined the chat.").await;
    bob.send_line("/whisper alice bye").await;
    alice.expect("[Whisper from bob] bye").await;
    bob.eof().await;
    drop(bob);
    // Gone for certain once the room has logged it; the notice still waits.
    common::wait_for_log_line(&server.path("logs/server.txt"), "LEAVE #lobby bob").await;
    assert!(!alice.transcript.contains("bob has left"));
    hands.advance(std::time::Duration::from_secs(1));
    alice.expect("[Server]: bob has left the chat.").await;
}
