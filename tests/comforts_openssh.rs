//! Personal comforts (SPEC §12) with the real OpenSSH `ssh`: mentions that ring and
//! highlight, `/bell`, `/ignore` through renames and reconnects, `/reply`, `/away`,
//! `/me`, `/timestamp`, and a registered key's settings kept across sessions and a
//! restart.

mod common;

use std::path::PathBuf;

use common::{user_key, write_openssh_key, Mode, OpenSsh, TestClient, TestServer};
use ssh_chatroom::room::Clock;

/// The key file of `user` in the server's folder (made on first use, then the same).
fn key_of(server: &TestServer, user: &str) -> PathBuf {
    let path = server.dir.path().join(format!("{user}.key"));
    if !path.exists() {
        write_openssh_key(server.dir.path(), &format!("{user}.key"), &user_key());
    }
    path
}

/// `ssh -tt` (a pty, TERM=xterm) as `user` with their own key, past the welcome.
async fn pty(server: &TestServer, user: &str) -> OpenSsh {
    let mut ssh = OpenSsh::spawn(server.port(), &key_of(server, user), &["-tt"], user, None);
    ssh.expect("Type /help").await;
    ssh
}

/// How many times the bell rang in what `ssh` received.
fn bells(ssh: &OpenSsh) -> usize {
    ssh.transcript.raw().matches('\x07').count()
}

#[tokio::test]
async fn a_mention_rings_and_highlights_the_name_and_bell_chooses_when() {
    let server = TestServer::start().await;
    let mut alice = pty(&server, "alice").await;
    let mut bob = pty(&server, "bob").await;
    alice.expect("bob has joined").await;

    alice.send(b"hi @BOB, look\r").await;
    bob.expect("alice >> hi @BOB, look").await;
    let raw = bob.transcript.raw();
    assert!(raw.contains("@\x1b[0m\x1b[1;7mBOB\x1b[0m, look"), "{raw:?}");
    assert_eq!(bells(&bob), 1);
    alice.expect("alice >> hi @BOB, look").await;
    assert_eq!(bells(&alice), 0, "your own line never rings");

    // A line that does not name you, and bobby is not bob.
    alice.send(b"hello bobby\r").await;
    bob.expect("alice >> hello bobby").await;
    assert_eq!(bells(&bob), 1);
    // A whisper rings.
    alice.send(b"/whisper bob psst\r").await;
    bob.expect("[Whisper from alice] psst").await;
    assert_eq!(bells(&bob), 2);

    bob.send(b"/bell\r").await;
    bob.expect("[Server]: Bell: mentions and whispers.").await;
    bob.send(b"/bell off\r").await;
    bob.expect("[Server]: Bell: off.").await;
    alice.send(b"bob?\r").await;
    bob.expect("alice >> bob?").await;
    assert_eq!(bells(&bob), 2);
    bob.send(b"/bell all\r").await;
    bob.expect("[Server]: Bell: every line.").await;
    alice.send(b"anyone\r").await;
    bob.expect("alice >> anyone").await;
    assert_eq!(bells(&bob), 3);

    // The history shown on join never rings (it names bob twice).
    drop(bob);
    alice.expect("bob has left").await;
    let mut bob = pty(&server, "bob").await;
    let history = bob.transcript.text();
    assert!(history.contains("alice >> hi @BOB, look"), "{history:?}");
    bob.send(b"/user\r").await;
    bob.expect("[Server]: Users (2/10)").await;
    assert_eq!(bells(&bob), 0);
}

#[tokio::test]
async fn no_escape_without_a_pty_and_on_a_dumb_terminal_only_the_bell() {
    let server = TestServer::start().await;
    let mut alice = pty(&server, "alice").await;
    // `ssh -T`: plain lines, no escape and no bell.
    let mut bot = OpenSsh::spawn(server.port(), &key_of(&server, "bot"), &["-T"], "bot", None);
    bot.expect("Type /help").await;
    // A pty with TERM=dumb: no escape codes, but the bell (a character) rings.
    let mut dumb = TestClient::connect(server.port(), "dumb", Some(user_key()), Mode::Dumb).await;
    dumb.expect("Type /help").await;
    alice.expect("dumb has joined").await;
    alice.send(b"bot and dumb: \x1b[31mred\r").await;
    bot.expect("alice >> bot and dumb: red").await;
    dumb.expect("alice >> bot and dumb: red").await;
    let plain = bot.transcript.raw();
    assert!(
        !plain.contains('\x1b') && !plain.contains('\x07'),
        "{plain:?}"
    );
    let raw = dumb.transcript.raw();
    assert!(!raw.contains('\x1b'), "{raw:?}");
    assert_eq!(raw.matches('\x07').count(), 1, "{raw:?}");
}

#[tokio::test]
async fn ignore_hides_a_person_through_renames_reconnects_whispers_and_history() {
    let server = TestServer::start().await;
    let mut alice = pty(&server, "alice").await;
    let mut bob = pty(&server, "bob").await;
    let mut troll = pty(&server, "troll").await;
    alice.expect("troll has joined").await;

    alice.send(b"/ignore alice\r").await;
    alice.expect("[Server]: You cannot ignore yourself.").await;
    alice.send(b"/ignore nobody\r").await;
    alice
        .expect("[Server]: No user named \"nobody\" is online.")
        .await;
    alice.send(b"/ignore\r").await;
    alice.expect("[Server]: You are not ignoring anyone.").await;
    alice.send(b"/ignore Troll\r").await;
    alice
        .expect("[Server]: You no longer see messages from troll.")
        .await;

    troll.send(b"spam one\r").await;
    bob.expect("troll >> spam one").await;
    troll.send(b"/whisper alice psst\r").await;
    troll.expect("[Whisper to alice] psst").await;
    troll.send(b"/rename troll2\r").await;
    troll.expect("Your nickname is now \"troll2\"").await;
    // The rename notice is a server line: still shown.
    alice
        .expect("[Server]: User \"troll\" has changed their nickname to \"troll2\".")
        .await;
    // Listed by the name used now, even before it says anything.
    alice.send(b"/ignore\r").await;
    alice.expect("[Server]: Ignoring (1): troll2").await;
    troll.send(b"spam two\r").await;
    bob.expect("troll2 >> spam two").await;
    bob.send(b"marker one\r").await;
    alice.expect("bob >> marker one").await;
    let seen = alice.transcript.text();
    assert!(!seen.contains("spam") && !seen.contains("psst"), "{seen:?}");

    // A reconnect with the same key under another name is still the same person.
    drop(troll);
    alice.expect("troll2 has left").await;
    let mut troll = OpenSsh::spawn(
        server.port(),
        &key_of(&server, "troll"),
        &["-tt"],
        "imp",
        None,
    );
    troll.expect("Type /help").await;
    troll.send(b"spam three\r").await;
    bob.expect("imp >> spam three").await;
    // Moving rooms: the history of #lobby shown on the way back hides it too.
    alice.send(b"/join rust\r").await;
    alice.expect("Welcome to #rust").await;
    alice.send(b"/leave\r").await;
    let welcome = alice.expect("Welcome to #lobby").await;
    assert!(welcome.contains("bob >> marker one"), "{welcome:?}");
    assert!(!welcome.contains("spam"), "{welcome:?}");

    alice.send(b"/unignore imp\r").await;
    alice
        .expect("[Server]: You see messages from imp again.")
        .await;
    troll.send(b"not spam\r").await;
    alice.expect("imp >> not spam").await;
    alice.send(b"/unignore imp\r").await;
    alice
        .expect("[Server]: You are not ignoring \"imp\".")
        .await;
}

#[tokio::test]
async fn reply_away_me_and_timestamps() {
    let server = TestServer::start().await;
    let mut alice = pty(&server, "alice").await;
    let mut bob = pty(&server, "bob").await;
    let mut carol = pty(&server, "carol").await;
    alice.expect("carol has joined").await;

    carol.send(b"/r anyone?\r").await;
    carol
        .expect("[Server]: Nobody has whispered to you yet.")
        .await;
    bob.send(b"/whisper alice hi\r").await;
    alice.expect("[Whisper from bob] hi").await;
    alice.send(b"/r hey\r").await;
    bob.expect("[Whisper from alice] hey").await;
    alice.expect("[Whisper to bob] hey").await;
    // Wherever they are now, under whatever name.
    bob.send(b"/rename bobby\r").await;
    bob.expect("Your nickname is now \"bobby\"").await;
    bob.send(b"/join rust\r").await;
    bob.expect("Welcome to #rust").await;
    alice.send(b"/reply again\r").await;
    bob.expect("[Whisper from alice] again").await;
    alice.expect("[Whisper to bobby] again").await;
    bob.send(b"/leave\r").await;
    bob.expect("Welcome to #lobby").await;

    alice.send(b"/away lunch\r").await;
    alice.expect("[Server]: You are away: lunch").await;
    carol.send(b"/user\r").await;
    carol
        .expect("[Server]: Users (3/10): alice (away), carol, bobby")
        .await;
    bob.send(b"/w alice are you there?\r").await;
    bob.expect("[Whisper to alice] are you there?").await;
    bob.expect("[Server]: alice is away: lunch").await;
    // A chat line ends it.
    alice.send(b"back now\r").await;
    alice.expect("[Server]: Welcome back.").await;
    carol.expect("alice >> back now").await;
    carol.send(b"/user\r").await;
    carol
        .expect("[Server]: Users (3/10): alice, carol, bobby")
        .await;
    alice.send(b"/away\r").await;
    alice.expect("[Server]: You are away.").await;
    alice.send(b"/back\r").await;
    alice.expect("[Server]: Welcome back.").await;
    alice.send(b"/back\r").await;
    alice.expect("[Server]: You are not away.").await;

    alice.send(b"/me waves\r").await;
    carol.expect("* alice waves").await;
    bob.expect("* alice waves").await;
    common::wait_for_log_line(
        &server.path("logs/server.txt"),
        "MESSAGE #lobby * alice waves",
    )
    .await;

    carol.send(b"/timestamp\r").await;
    carol.expect("[Server]: Timestamps off.").await;
    carol.send(b"/timestamp on\r").await;
    carol.expect("[Server]: Timestamps on.").await;
    let before = chrono::Utc::now().format("%H:%M ").to_string();
    alice.send(b"tick\r").await;
    let seen = carol.expect("alice >> tick").await;
    let after = chrono::Utc::now().format("%H:%M ").to_string();
    let stamped = |t: &str| seen.ends_with(&format!("{t}alice >> tick"));
    assert!(stamped(&before) || stamped(&after), "{seen:?}");
    let plain = alice.expect("alice >> tick").await;
    assert!(
        !plain.ends_with(&format!("{before}alice >> tick")),
        "{plain:?}"
    );
}

#[tokio::test]
async fn a_registered_keys_settings_come_back_and_go_with_its_last_name() {
    let server = TestServer::start().await;
    let mut troll = pty(&server, "troll").await;
    let mut alice = pty(&server, "alice").await;
    alice.send(b"/register\r").await;
    alice.expect("is now registered to your key").await;
    for (typed, said) in [
        ("/bell all", "Bell: every line."),
        ("/timestamp on", "Timestamps on."),
        ("/ignore troll", "You no longer see messages from troll."),
    ] {
        alice.send(format!("{typed}\r").as_bytes()).await;
        alice.expect(said).await;
    }
    // Someone without a registered name keeps nothing.
    troll.send(b"/bell off\r").await;
    troll.expect("[Server]: Bell: off.").await;
    drop(troll);
    let mut troll = pty(&server, "troll").await;
    troll.send(b"/bell\r").await;
    troll.expect("[Server]: Bell: mentions and whispers.").await;

    // Kept in the data directory across sessions and a restart.
    drop(alice);
    drop(troll);
    let (dir, config) = server.stop().await;
    assert!(dir.path().join("data/preferences.json").exists());
    let server = TestServer::start_in(dir, config, Clock::System).await;
    let mut alice = pty(&server, "alice").await;
    for (typed, said) in [
        ("/bell", "[Server]: Bell: every line."),
        ("/timestamp", "[Server]: Timestamps on."),
        ("/ignore", "[Server]: Ignoring (1): troll"),
    ] {
        alice.send(format!("{typed}\r").as_bytes()).await;
        alice.expect(said).await;
    }
    alice.send(b"/unregister\r").await;
    alice.expect("is no longer registered").await;
    drop(alice);
    let mut alice = pty(&server, "alice").await;
    alice.send(b"/bell\r").await;
    alice.expect("[Server]: Bell: mentions and whispers.").await;
    alice.send(b"/ignore\r").await;
    alice.expect("[Server]: You are not ignoring anyone.").await;
}

#[tokio::test]
async fn help_lists_the_comforts() {
    let server = TestServer::start().await;
    let mut alice = pty(&server, "alice").await;
    alice.send(b"/help\r").await;
    for syntax in [
        "/me <action>",
        "/reply <message>",
        "/away [reason]",
        "/back",
        "/ignore [nickname]",
        "/unignore <nickname>",
        "/bell [mentions|all|off]",
        "/timestamp [on|off]",
    ] {
        alice.expect(syntax).await;
    }
}
