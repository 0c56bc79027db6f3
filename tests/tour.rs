//! The newcomer's tour (issue 16): the README's own three terminals and its one-liners
//! work as written with the default limits, `help` explains instead of making a room,
//! and the small surprises are gone.

mod common;

use common::{user_key, write_openssh_key, Mode, OpenSsh, TestClient, TestServer};
use ssh_chatroom::room::Clock;

/// The README's tour: three people in terminals, then `ssh HOST rooms`, `users` and
/// `help` from the same address, under the default cap of 3 connections per address.
#[tokio::test]
async fn the_readmes_three_terminals_and_its_one_liners_work_with_the_default_cap() {
    let server = TestServer::start_with(|c| c.max_conns_per_ip = 3, Clock::System).await;
    let key = write_openssh_key(server.dir.path(), "k", &user_key());
    let mut terminals = Vec::new();
    for name in ["Alice", "Bob", "Charlie"] {
        let mut t = OpenSsh::spawn(server.port(), &key, &["-tt"], name, None);
        t.expect(&format!("Welcome to #lobby, {name}!")).await;
        terminals.push(t);
    }
    let mut rooms = OpenSsh::spawn(server.port(), &key, &[], "x", Some("rooms"));
    assert_eq!(rooms.wait_exit().await, Some(0));
    assert_eq!(
        rooms.transcript.raw(),
        "[Server]: Rooms (1): #lobby (3/10)\n"
    );
    let mut users = OpenSsh::spawn(server.port(), &key, &[], "x", Some("users"));
    assert_eq!(users.wait_exit().await, Some(0));
    assert_eq!(
        users.transcript.raw(),
        "[Server]: Users (3/10): Alice, Bob, Charlie\n"
    );
    // Entering the chat is still capped.
    let mut fourth = OpenSsh::spawn(server.port(), &key, &["-tt"], "Dave", None);
    fourth
        .expect("[Server]: Too many connections from your address (max 3).")
        .await;
    assert_eq!(fourth.wait_exit().await, Some(1));
}

#[tokio::test]
async fn help_prints_usage_instead_of_making_a_room() {
    let server = TestServer::start().await;
    let key = write_openssh_key(server.dir.path(), "k", &user_key());
    let mut help = OpenSsh::spawn(server.port(), &key, &[], "x", Some("help"));
    assert_eq!(help.wait_exit().await, Some(0));
    let text = help.transcript.raw();
    assert!(text.starts_with("Usage: ssh -p "), "{text}");
    assert!(
        text.contains("users [ROOM]") && text.contains("rooms"),
        "{text}"
    );
    let mut rooms = OpenSsh::spawn(server.port(), &key, &[], "x", Some("rooms"));
    assert_eq!(rooms.wait_exit().await, Some(0));
    assert_eq!(
        rooms.transcript.raw(),
        "[Server]: Rooms (1): #lobby (0/10)\n"
    );
    let mut alice = TestClient::joined(server.port(), "alice").await;
    alice.send_line("/join help").await;
    alice
        .expect("[Server]: The room name \"help\" is reserved.")
        .await;
}

#[tokio::test]
async fn join_with_spaces_help_and_the_end_of_a_session_say_what_they_mean() {
    let server = TestServer::start().await;
    let mut alice = TestClient::joined(server.port(), "alice").await;
    alice.send_line("/join my room").await;
    alice
        .expect("[Server]: Room names have no spaces: try /join my-room")
        .await;
    alice.send_line("/help").await;
    let help = alice.expect("/quit").await;
    let rest = alice.expect("\n").await;
    assert!(rest.contains("leave the chat"), "{help}{rest}");

    // After /quit the prompt row is blanked, so the shell's prompt starts clean.
    let key = write_openssh_key(server.dir.path(), "k", &user_key());
    let mut bobby = OpenSsh::spawn(server.port(), &key, &["-tt"], "Bobby", None);
    bobby.expect("Bobby> ").await;
    bobby.send(b"half typed\x15/quit\r").await;
    assert_eq!(bobby.wait_exit().await, Some(0));
    let raw = bobby.transcript.raw();
    assert!(raw.ends_with("\r\x1b[K\x1b[?2004l"), "{raw:?}");
}

#[tokio::test]
async fn a_key_whose_names_are_all_in_use_is_told_why_before_the_prompt() {
    let server = TestServer::start().await;
    let key = user_key();
    let mut alice = TestClient::connect(server.port(), "alice", Some(key.clone()), Mode::Pty).await;
    alice.expect("Type /help").await;
    alice.send_line("/register").await;
    alice.expect("is now registered to your key").await;
    let mut again = TestClient::connect(server.port(), "chat", Some(key), Mode::Pty).await;
    let before_prompt = again.expect("Nickname: ").await;
    assert!(
        before_prompt.contains(
            "[Server]: Your key's registered nicknames (alice) are all in use. Please choose \
             another nickname."
        ),
        "{before_prompt:?}"
    );
}
