//! Running the real binary: settings precedence, `check`, refusal of bad settings,
//! SIGHUP (admins reloaded, nobody dropped) and a graceful SIGTERM.

mod common;

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use common::{user_key, Mode, TestClient};
use tokio::process::{Child, Command};

const BIN: &str = env!("CARGO_BIN_EXE_ssh-chatroom");

fn base_args(dir: &Path) -> Vec<String> {
    testkit::server_flags(dir)
}

/// Starts the binary on a free port; returns the child and the port it printed.
async fn spawn_server(dir: &Path, listen: &str) -> (Child, u16) {
    let mut child = Command::new(BIN)
        .args(base_args(dir))
        .arg(format!("--listen={listen}"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let port = common::listening_port(&mut child).await;
    (child, port)
}

fn signal(child: &Child, name: &str) {
    let pid = child.id().unwrap().to_string();
    let status = std::process::Command::new("kill")
        .args(["-s", name, &pid])
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn precedence_is_flag_then_env_then_file_then_default() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("c.toml");
    std::fs::write(&file, "capacity = 7\nhistory = 3\nmessage-burst = 9\n").unwrap();
    let out = std::process::Command::new(BIN)
        .args(base_args(dir.path()))
        // Settings may follow the subcommand: `check --config FILE`.
        .arg("check")
        .arg(format!("--config={}", file.display()))
        .args(["--history", "4"])
        .env("SSH_CHATROOM_CAPACITY", "5")
        .env("SSH_CHATROOM_HISTORY", "6")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    for line in [
        "capacity = 5",
        "history = 4",
        "message-burst = 9",
        "max-message-bytes = 1024",
    ] {
        assert!(text.lines().any(|l| l == line), "{line:?} not in\n{text}");
    }
    assert!(text.contains("generated on first start"), "{text}");
    assert!(text.contains("# configuration OK"));
}

#[test]
fn bad_settings_are_refused_with_one_line_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("c.toml");
    std::fs::write(&file, "outbox-size = -3\n").unwrap();
    let out = std::process::Command::new(BIN)
        .arg(format!("--config={}", file.display()))
        .arg("check")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("key \"outbox-size\""), "{err}");
    std::fs::write(&file, "colour = true\n").unwrap();
    let out = std::process::Command::new(BIN)
        .arg(format!("--config={}", file.display()))
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown key \"colour\""));
}

#[tokio::test]
async fn sighup_reloads_admins_without_dropping_anyone_and_for_rooms_made_later() {
    let dir = tempfile::tempdir().unwrap();
    let (server, port) = spawn_server(dir.path(), "127.0.0.1:0").await;
    let mut alice = TestClient::join(port, "alice").await;
    alice.expect("You are the admin of this room.").await;
    let bob_key = user_key();
    let bob_public = bob_key.public_key().to_openssh().unwrap();
    let mut bob = TestClient::connect(port, "bob", Some(bob_key), Mode::Pty).await;
    bob.expect("Type /help").await;
    std::fs::create_dir_all(dir.path().join("keys")).unwrap();
    std::fs::write(dir.path().join("keys/admins"), format!("{bob_public}\n")).unwrap();
    signal(&server, "HUP");
    alice.expect("[Server]: bob is now the admin.").await;
    alice.send_line("/kick bob").await;
    alice.expect("[Server]: Only an admin can use /kick.").await;
    bob.send_line("/user").await;
    bob.expect("[Server]: Users (2/10): alice, bob").await;
    // A room made after the reload knows bob as a server admin too.
    alice.send_line("/join #go").await;
    alice.expect("You are the admin of this room.").await;
    bob.send_line("/join #go").await;
    alice.expect("[Server]: bob has joined the chat.").await;
    bob.send_line("/kick alice").await;
    alice
        .expect("[Server]: You have been kicked from the chat.")
        .await;
    bob.expect("[Server]: alice has been kicked from the chat.")
        .await;
}

#[tokio::test]
async fn sigterm_tells_everyone_keeps_schedules_and_frees_the_port() {
    let dir = tempfile::tempdir().unwrap();
    let (mut server, port) = spawn_server(dir.path(), "127.0.0.1:0").await;
    let mut alice = TestClient::join(port, "alice").await;
    alice.expect("Type /help").await;
    alice.send_line("/schedule 23:59 see you").await;
    alice.expect("Message scheduled").await;
    let stopping = std::time::Instant::now();
    signal(&server, "TERM");
    alice
        .expect("[Server]: The server is shutting down. Goodbye!")
        .await;
    let status = tokio::time::timeout(Duration::from_secs(5), server.wait()).await;
    assert!(status.is_ok(), "exited within 5 s");
    assert!(stopping.elapsed() < Duration::from_secs(5));
    let log = std::fs::read_to_string(dir.path().join("logs/server.txt")).unwrap();
    assert!(log.contains("SHUTDOWN"), "{log}");
    let transcript =
        std::fs::read_to_string(dir.path().join("logs/users/alice_chat_log.txt")).unwrap();
    assert!(transcript.contains("shutting down"), "{transcript}");
    let pending = std::fs::read_to_string(dir.path().join("data/schedules.json")).unwrap();
    assert!(pending.contains("see you"));
    // the same port can be bound again at once
    let (_again, again_port) = spawn_server(dir.path(), &format!("127.0.0.1:{port}")).await;
    assert_eq!(again_port, port);
}

#[test]
fn the_example_config_lists_valid_defaults() {
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/ssh-chatroom.toml");
    let dir = tempfile::tempdir().unwrap();
    let with_file = std::process::Command::new(BIN)
        .current_dir(dir.path())
        .args(["--config", example, "check"])
        .output()
        .unwrap();
    assert!(
        with_file.status.success(),
        "{}",
        String::from_utf8_lossy(&with_file.stderr)
    );
    let without = std::process::Command::new(BIN)
        .current_dir(dir.path())
        .arg("check")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&with_file.stdout),
        String::from_utf8_lossy(&without.stdout),
        "the example file must hold exactly the defaults"
    );
}

/// A damaged registrations file is reported by `check` and stops the start, naming the
/// file; it is never emptied (SPEC §9: registrations survive).
#[test]
fn a_damaged_names_file_is_reported_and_kept() {
    a_damaged_data_file_stops_the_start("names.json", "[{\"name\": \"alice\", \"name_key\": \"al");
}

#[test]
fn a_damaged_bans_file_is_reported_and_kept() {
    a_damaged_data_file_stops_the_start("bans.json", "[{\"name\": \"bob\", \"key\": \"SHA2");
}

#[test]
fn a_damaged_preferences_file_is_reported_and_kept() {
    a_damaged_data_file_stops_the_start("preferences.json", "{\"SHA256:k\": {\"bell\": \"al");
}

/// `check` and the start both refuse a torn `data/FILE` and leave it as it was.
fn a_damaged_data_file_stops_the_start(file: &str, torn: &str) {
    let dir = tempfile::tempdir().unwrap();
    let names = dir.path().join("data").join(file);
    std::fs::create_dir_all(names.parent().unwrap()).unwrap();
    std::fs::write(&names, torn).unwrap();
    for args in [
        vec!["check".to_string()],
        vec!["--listen=127.0.0.1:0".to_string()],
    ] {
        let out = std::process::Command::new(BIN)
            .args(base_args(dir.path()))
            .args(&args)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} went ahead");
        assert!(
            err.contains(&format!("{file} is damaged")) && err.contains("fix or remove it"),
            "{args:?}: {err}"
        );
        assert_eq!(
            std::fs::read_to_string(&names).unwrap(),
            torn,
            "kept as it was"
        );
    }
}
