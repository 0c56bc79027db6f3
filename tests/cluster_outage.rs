//! A NATS outage (SPEC §10): the NATS server is killed for several seconds and started
//! again on the same port. No node exits; everyone is told once; a line typed meanwhile
//! gets a `[Server]:` refusal within 3 s and never shows up later; the nodes recover by
//! themselves without anyone reconnecting.
//!
//! This is the only test in its binary: while its NATS server is down, a server another
//! test started could take the freed port, and the restart would then join the wrong one.

mod cluster;
mod common;

use std::time::{Duration, Instant};

use cluster::Cluster;
use common::TestClient;

const LOST: &str = "[Server]: Lost contact with the other chat servers; what you type now is not sent. Reconnecting...";
const BACK: &str = "[Server]: Back in contact with the other chat servers.";
const NOT_SENT: &str =
    "[Server]: Your line was not sent: the chat servers cannot reach each other right now.";

#[tokio::test]
async fn a_nats_outage_refuses_lines_and_recovers_by_itself() {
    let mut cluster = Cluster::start(2, |_| {}).await;
    let mut alice = TestClient::joined(cluster.port(0), "alice").await;
    let mut bob = TestClient::joined(cluster.port(1), "bob").await;
    alice.expect("[Server]: bob has joined the chat.").await;

    cluster.nats.kill();
    alice.expect(LOST).await;
    bob.expect(LOST).await;
    let typed = Instant::now();
    alice.send_line("typed during the outage").await;
    alice.expect(NOT_SENT).await;
    assert!(
        typed.elapsed() < Duration::from_secs(3),
        "refused after {:?}",
        typed.elapsed()
    );
    // A bot's one-liner meanwhile is refused: one line on stderr, exit status 1, and
    // its piped text is never taken for a nickname.
    let bot = bot_one_liner(cluster.port(1), cluster.nodes[1].dir.path()).await;
    assert_eq!(bot.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&bot.stderr);
    assert!(
        stderr.starts_with("[Server]: ") && stderr.lines().count() == 1,
        "{stderr}"
    );
    assert!(!String::from_utf8_lossy(&bot.stdout).contains("deployed"));
    // The outage outlasts every lease: the nodes must take their rooms back calmly.
    let outage = ssh_chatroom::cluster::LEASE + Duration::from_secs(1);
    tokio::time::sleep(outage.saturating_sub(typed.elapsed())).await;

    cluster.nats.restart().await;
    let restarted = Instant::now();
    alice.expect(BACK).await;
    bob.expect(BACK).await;
    alice.send_line("after the outage").await;
    bob.expect("alice >> after the outage").await;
    assert!(
        restarted.elapsed() < Duration::from_secs(15),
        "recovered after {:?}",
        restarted.elapsed()
    );
    bob.send_line("/user").await;
    bob.expect("[Server]: Users (2/10): alice, bob").await;
    for who in [&alice, &bob] {
        let seen = who.transcript.text();
        assert_eq!(seen.matches(LOST).count(), 1, "told once: {seen}");
        assert!(!seen.contains("alice >> typed during the outage"), "{seen}");
        assert!(!seen.contains("deployed"), "{seen}");
    }
}

/// `echo deployed | ssh ci@node ops`, as a bot runs it.
async fn bot_one_liner(port: u16, dir: &std::path::Path) -> std::process::Output {
    let key = common::write_openssh_key(dir, "bot", &common::user_key());
    let mut child = common::OpenSsh::command(port, &key, &["-T"], "ci", Some("ops"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("ssh runs");
    let mut stdin = child.stdin.take().unwrap();
    tokio::io::AsyncWriteExt::write_all(&mut stdin, b"deployed\n")
        .await
        .unwrap();
    drop(stdin);
    tokio::time::timeout(common::WAIT, child.wait_with_output())
        .await
        .expect("the bot's ssh exits")
        .unwrap()
}
