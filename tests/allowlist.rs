//! A private server (SPEC §11): with `--allowlist FILE` only its keys and the server
//! admins get in; anyone else, key or no key, gets one line and is disconnected, for a
//! shell and for every exec command alike. SIGHUP re-reads the file. Real `ssh`.

mod common;

use common::{user_key, write_openssh_key, Mode, OpenSsh, TestClient, TestServer};
use ssh_chatroom::room::Clock;

const NOT_ALLOWED: &str = "[Server]: This server is private; your key is not on its allowlist.";

/// `key`'s line in authorized_keys format.
fn public_line(key: &russh::keys::PrivateKey) -> String {
    format!("{}\n", key.public_key().to_openssh().unwrap())
}

#[tokio::test]
async fn only_the_allowlisted_and_the_admins_get_in_and_sighup_rereads_it() {
    let files = tempfile::tempdir().unwrap();
    let list = files.path().join("allowlist");
    let (alice, mallory, admin) = (user_key(), user_key(), user_key());
    std::fs::write(&list, public_line(&alice)).unwrap();
    let server = TestServer::start_with(
        |c| {
            c.allowlist = Some(list.clone());
            c.admin_keys = vec![common::key_fingerprint(&admin)];
        },
        Clock::System,
    )
    .await;
    let port = server.port();

    let mut alice_in = TestClient::connect(port, "alice", Some(alice), Mode::Pty).await;
    alice_in.expect("Welcome to #lobby, alice!").await;
    let mut admin_in = TestClient::connect(port, "root", Some(admin), Mode::Pty).await;
    admin_in.expect("Welcome to #lobby, root!").await;

    // Mallory's shell: the line, and the session ends with status 1.
    let key = write_openssh_key(files.path(), "mallory", &mallory);
    let mut shell = OpenSsh::spawn(port, &key, &["-tt"], "mallory", None);
    shell.expect(NOT_ALLOWED).await;
    assert_eq!(shell.wait_exit().await, Some(1));
    // The exec commands show nothing either.
    for command in ["rooms", "users", "help", "lobby"] {
        let out = OpenSsh::command(port, &key, &["-T"], "mallory", Some(command))
            .output()
            .await
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{command}: {text}");
        assert!(text.contains(NOT_ALLOWED), "{command}: {text}");
        assert!(!text.contains("alice"), "{command}: {text}");
    }
    // Without a key.
    let mut nobody = TestClient::connect(port, "nobody", None, Mode::Pty).await;
    nobody.expect(NOT_ALLOWED).await;
    nobody.expect_closed().await;
    // Written in order by the log's own thread: once the last refusal is there, all are.
    let path = server.path("logs/server.txt");
    common::wait_for_log_line(&path, "key=none not on the allowlist").await;
    let log = std::fs::read_to_string(&path).unwrap();
    let mallorys = format!(
        "key={} not on the allowlist",
        common::key_fingerprint(&mallory)
    );
    assert!(log.contains(&mallorys), "{log}");
    assert!(!log.contains("JOIN #lobby mallory"), "{log}");

    // Mallory is added, and a SIGHUP lets her in.
    std::fs::write(&list, public_line(&mallory) + &public_line(&user_key())).unwrap();
    server.reload().await;
    let mut again = OpenSsh::spawn(port, &key, &["-tt"], "mallory", None);
    again.expect("Welcome to #lobby, mallory!").await;
    alice_in
        .expect("[Server]: mallory has joined the chat.")
        .await;
}

/// A private server never opens by mistake: a missing allowlist stops the start.
#[test]
fn a_missing_allowlist_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ssh-chatroom"))
        .current_dir(dir.path())
        .args(["--listen=127.0.0.1:0", "--allowlist=missing"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--allowlist missing: no such file"), "{err}");
    assert!(!dir.path().join("keys").exists(), "nothing written: {err}");
}
