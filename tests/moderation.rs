//! Moderation as people see it (SPEC §11), with the real `ssh` where it matters: co-admins,
//! mutes, the pinned notice, rooms with a code, kick-bans that outlive their room and a
//! restart, and server bans by name, key and address.

mod common;

use common::{key_fingerprint, user_key, write_openssh_key, Mode, OpenSsh, TestClient, TestServer};
use ssh_chatroom::room::Clock;

/// Whatever `ssh ... command` prints (stdout and stderr) and its exit status.
async fn run(
    port: u16,
    key: &std::path::Path,
    args: &[&str],
    user: &str,
    command: &str,
) -> (String, Option<i32>) {
    let out = OpenSsh::command(port, key, args, user, Some(command))
        .output()
        .await
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (text, out.status.code())
}

#[tokio::test]
async fn co_admins_mute_and_pin_a_notice_and_a_mute_follows_the_key() {
    let server = TestServer::start().await;
    let port = server.port();
    let files = tempfile::tempdir().unwrap();
    // alice makes #rust with the real ssh
    let alice_key = write_openssh_key(files.path(), "alice", &user_key());
    let mut alice = OpenSsh::spawn(port, &alice_key, &["-tt"], "alice", Some("rust"));
    alice.expect("You are the admin of this room.").await;
    let mut bob = TestClient::join(port, "bob").await;
    bob.send_line("/join rust").await;
    bob.expect("Type /help").await;
    let carol_key = user_key();
    let mut carol = TestClient::connect(port, "carol", Some(carol_key.clone()), Mode::Pty).await;
    carol.send_line("/join rust").await;
    carol.expect("Type /help").await;

    carol.send_line("/op bob").await;
    carol
        .expect("[Server]: Only the room's admin can use /op.")
        .await;
    alice.send(b"/op bob\r").await;
    alice.expect("[Server]: bob is now a co-admin.").await;
    carol.expect("[Server]: bob is now a co-admin.").await;

    bob.send_line("/kick alice").await;
    bob.expect("[Server]: You cannot kick alice.").await;
    bob.send_line("/mute carol 5x").await;
    bob.expect("[Server]: Invalid duration \"5x\".").await;
    bob.send_line("/mute carol 2h").await;
    alice
        .expect("[Server]: carol has been muted for 2 hours.")
        .await;
    carol.send_line("can anyone hear me").await;
    let refused = carol
        .expect("[Server]: You are muted in #rust until ")
        .await;
    assert!(!refused.contains("carol >> can anyone"), "{refused}");
    // whispers still work
    carol.send_line("/whisper alice please").await;
    alice.expect("[Whisper from carol] please").await;

    // the mute follows her key through a reconnect under another name
    drop(carol);
    alice.expect("[Server]: carol has left the chat.").await;
    let mut caro = TestClient::connect(port, "caro", Some(carol_key), Mode::Pty).await;
    caro.send_line("/join rust").await;
    caro.expect("Type /help").await;
    caro.send_line("me again").await;
    caro.expect("[Server]: You are muted in #rust until ").await;

    // the notice: pinned now, in every newcomer's welcome, and on asking
    bob.send_line("/notice Be kind, no spam").await;
    alice.expect("[Notice] Be kind, no spam").await;
    caro.send_line("/notice").await;
    caro.expect("[Server]: Notice of #rust: Be kind, no spam")
        .await;
    let mut dave = TestClient::joined(port, "dave").await;
    dave.send_line("/join rust").await;
    let welcome = dave.expect("Users (4/10)").await;
    let at = |needle: &str| {
        welcome
            .find(needle)
            .unwrap_or_else(|| panic!("{needle} in {welcome:?}"))
    };
    assert!(at("Welcome to #rust, dave!") < at("[Notice] Be kind, no spam"));
    bob.send_line("/unmute caro").await;
    alice.expect("[Server]: caro is no longer muted.").await;
    caro.send_line("thanks").await;
    alice.expect("caro >> thanks").await;
    bob.send_line("/notice -").await;
    bob.expect("[Server]: The notice of #rust was removed.")
        .await;

    // /help lists what each may use
    dave.send_line("/help").await;
    let help = dave.expect("/quit").await;
    assert!(!help.contains("/mute") && !help.contains("/lock"), "{help}");
    alice.send(b"/help\r").await;
    let help = alice.expect("/quit").await;
    assert!(
        help.contains("/op <nickname>") && !help.contains("/bans"),
        "{help}"
    );

    // written in order by the log's own thread: once the last is there, all are
    let path = server.path("logs/server.txt");
    common::wait_for_log_line(&path, "UNMUTE #rust caro by bob").await;
    let log = std::fs::read_to_string(&path).unwrap();
    for line in [
        "OP #rust bob by alice",
        "MUTE #rust carol for 2 hours by bob",
        "UNMUTE #rust caro by bob",
        "NOTICE #rust Be kind, no spam (by bob)",
    ] {
        assert!(log.contains(line), "{line} in:\n{log}");
    }
}

#[tokio::test]
async fn a_locked_room_takes_its_code_by_join_and_by_exec_and_never_shows_it() {
    let server = TestServer::start().await;
    let port = server.port();
    let mut alice = TestClient::join(port, "alice").await;
    alice.send_line("/lock s3cret").await;
    alice.expect("[Server]: #lobby cannot be locked.").await;
    alice.send_line("/join rust").await;
    alice.expect("You are the admin of this room.").await;
    alice.send_line("/lock two words").await;
    alice
        .expect("[Server]: A room's code is one word, with no spaces.")
        .await;
    alice.send_line("/lock s3cret").await;
    alice
        .expect("[Server]: #rust now needs a code to enter.")
        .await;

    let mut bob = TestClient::joined(port, "bob").await;
    bob.send_line("/rooms").await;
    bob.expect("[Server]: Rooms (2): #lobby (1/10), #rust (1/10, locked)")
        .await;
    bob.send_line("/join rust").await;
    bob.expect("[Server]: #rust needs a code: /join rust CODE")
        .await;
    bob.send_line("/join rust guess").await;
    bob.expect("[Server]: Wrong code for #rust.").await;
    bob.send_line("/join rust s3cret").await;
    bob.expect("Welcome to #rust, bob!").await;
    alice.expect("[Server]: bob has joined the chat.").await;

    // by exec, with the real ssh: without the code a bot is refused with status 1
    let files = tempfile::tempdir().unwrap();
    let key = write_openssh_key(files.path(), "ci", &user_key());
    let (text, status) = run(port, &key, &["-T"], "ci", "rust").await;
    assert_eq!(status, Some(1), "{text}");
    assert!(
        text.contains("[Server]: #rust needs a code: /join rust CODE"),
        "{text}"
    );
    let (text, status) = run(port, &key, &["-T"], "ci", "rust nope").await;
    assert_eq!(
        (status, text.trim()),
        (Some(1), "[Server]: Wrong code for #rust.")
    );
    let mut ci = OpenSsh::spawn(port, &key, &["-tt"], "ci", Some("rust s3cret"));
    ci.expect("Welcome to #rust, ci!").await;
    alice.expect("[Server]: ci has joined the chat.").await;

    alice.send_line("/unlock").await;
    alice
        .expect("[Server]: #rust is open to everyone again.")
        .await;
    // the log is written by its own thread: the last line first, then all of it
    let path = server.path("logs/server.txt");
    common::wait_for_log_line(&path, "UNLOCK #rust the code removed by alice").await;
    let log = std::fs::read_to_string(&path).unwrap();
    assert!(log.contains("LOCK #rust a code set by alice"), "{log}");
    assert!(log.contains("/join rust (code hidden)"), "{log}");
    assert!(!log.contains("s3cret") && !log.contains("guess"), "{log}");
    for transcript in std::fs::read_dir(server.path("logs/users")).unwrap() {
        let text = std::fs::read_to_string(transcript.unwrap().path()).unwrap();
        assert!(!text.contains("s3cret"), "{text}");
    }
}

#[tokio::test]
async fn a_kick_ban_outlives_its_room_and_a_restart() {
    let server = TestServer::start().await;
    let port = server.port();
    let bob_key = user_key();
    let mut alice = TestClient::joined(port, "alice").await;
    alice.send_line("/join rust").await;
    alice.expect("You are the admin of this room.").await;
    let mut bob = TestClient::connect(port, "bob", Some(bob_key.clone()), Mode::Pty).await;
    bob.send_line("/join rust").await;
    alice.expect("[Server]: bob has joined the chat.").await;
    alice.send_line("/kick bob").await;
    bob.expect("[Server]: You have been kicked from the chat.")
        .await;
    // alice leaves: the room ends, and bob may still not make it anew
    alice.send_line("/leave").await;
    alice.expect("Welcome to #lobby").await;
    let mut again = TestClient::connect(port, "bobby", Some(bob_key.clone()), Mode::Pty).await;
    again.expect("Type /help").await;
    again.send_line("/join rust").await;
    again
        .expect("[Server]: You were kicked from #rust; you may come back after ")
        .await;
    drop(again);
    drop(alice);

    let (dir, config) = server.stop().await;
    let server = TestServer::start_in(dir, config, Clock::System).await;
    let mut after = TestClient::connect(server.port(), "bob", Some(bob_key), Mode::Pty).await;
    after.expect("Type /help").await;
    after.send_line("/join rust").await;
    after
        .expect("[Server]: You were kicked from #rust; you may come back after ")
        .await;
    after.send_line("/join go").await;
    after.expect("Welcome to #go, bob!").await;
}

#[tokio::test]
async fn a_server_ban_holds_by_key_and_address_until_lifted_and_survives_a_restart() {
    let admin_key = user_key();
    let server = TestServer::start_with(
        |c| c.admin_keys = vec![key_fingerprint(&admin_key)],
        Clock::System,
    )
    .await;
    let port = server.port();
    let mut root = TestClient::connect(port, "root", Some(admin_key.clone()), Mode::Pty).await;
    root.expect("Type /help").await;
    let mut alice = TestClient::joined(port, "alice").await;
    // bob, with the real ssh, from another address (127.0.0.2)
    let files = tempfile::tempdir().unwrap();
    let bob_user_key = user_key();
    let bob_fingerprint = key_fingerprint(&bob_user_key);
    let bob_key = write_openssh_key(files.path(), "bob", &bob_user_key);
    let from_two = ["-tt", "-b", "127.0.0.2"];
    let mut bob = OpenSsh::spawn(port, &bob_key, &from_two, "bob", None);
    bob.expect("Welcome to #lobby, bob!").await;
    root.expect("[Server]: bob has joined the chat.").await;

    alice.send_line("/ban bob").await;
    alice
        .expect("[Server]: Only a server admin can use /ban.")
        .await;
    root.send_line("/ban root").await;
    root.expect("[Server]: You cannot ban yourself.").await;
    root.send_line("/ban bob -1m").await;
    root.expect("[Server]: Invalid duration \"-1m\".").await;
    root.send_line("/ban bob 2h spam bot").await;
    bob.expect("[Server]: You are banned from this server until ")
        .await;
    bob.expect(" UTC (spam bot).").await;
    assert!(bob.wait_exit().await.is_some(), "bob's ssh ends");
    alice.expect("[Server]: bob has been banned.").await;
    root.expect(&format!(
        "[Server]: bob (SHA256:{}, 127.0.0.2) is banned until ",
        bob_fingerprint.trim_start_matches("SHA256:")
    ))
    .await;

    // again: refused at connect, before a nickname is asked; exec commands too
    let mut back = OpenSsh::spawn(port, &bob_key, &from_two, "bob", None);
    back.expect("[Server]: You are banned from this server until ")
        .await;
    assert_eq!(back.wait_exit().await, Some(1));
    assert!(!back.transcript.contains("Nickname"));
    let (text, status) = run(port, &bob_key, &["-T", "-b", "127.0.0.2"], "bob", "rooms").await;
    assert_eq!(status, Some(1), "{text}");
    assert!(text.contains("You are banned from this server"), "{text}");
    // another key from his address, and his key from another address
    let other = write_openssh_key(files.path(), "other", &user_key());
    let (text, status) = run(port, &other, &["-T", "-b", "127.0.0.2"], "zed", "rooms").await;
    assert_eq!(status, Some(1), "{text}");
    let (text, status) = run(port, &bob_key, &["-T"], "bob", "rooms").await;
    assert_eq!(status, Some(1), "{text}");
    let (text, status) = run(port, &other, &["-T"], "zed", "rooms").await;
    assert_eq!(
        (status, text.contains("Rooms (1)")),
        (Some(0), true),
        "{text}"
    );

    root.send_line("/bans").await;
    root.expect(&format!(
        "[Server]: Bans (1): bob ({bob_fingerprint}, 127.0.0.2) until "
    ))
    .await;
    root.expect(", spam bot").await;

    // it survives a restart
    drop((root, alice, back));
    let (dir, config) = server.stop().await;
    let server = TestServer::start_in(dir, config, Clock::System).await;
    let port = server.port();
    let (text, status) = run(port, &bob_key, &["-T"], "bob", "rooms").await;
    assert_eq!(status, Some(1), "{text}");
    let mut root = TestClient::connect(port, "root", Some(admin_key), Mode::Pty).await;
    root.expect("Type /help").await;
    root.send_line("/unban carol").await;
    root.expect("[Server]: carol is not banned.").await;
    root.send_line("/unban bob").await;
    root.expect("[Server]: bob is no longer banned.").await;
    let (text, status) = run(port, &bob_key, &["-T", "-b", "127.0.0.2"], "bob", "rooms").await;
    assert_eq!(status, Some(0), "{text}");
    let path = server.path("logs/server.txt");
    common::wait_for_log_line(&path, "UNBAN bob (SHA256:").await;
    let log = std::fs::read_to_string(&path).unwrap();
    assert!(log.contains("BAN bob (SHA256:"), "{log}");
    assert!(log.contains("by root: spam bot"), "{log}");
    assert!(log.contains("UNBAN bob (SHA256:"), "{log}");
}
