//! A clean stop is not a crash (issue 16 item 3): on SIGTERM of a node, the others see
//! its people leave at once (well inside the 3 s lease), the rooms it ran carry on for
//! the rest, nobody stays behind as a ghost in `/user`, and the others log the node
//! `stopped`, not `lost`. A restart under the same name right after (what `systemctl
//! restart` does) leaves no ghosts either, nor (in rooms the survivors run) does one
//! right after a SIGKILL. A stopped node logs SHUTDOWN, as a lone server does. The
//! stopped node is the real binary.

mod cluster;
mod common;

use std::time::{Duration, Instant};

use common::TestClient;
use testkit::NatsServer;

fn terminate(child: &tokio::process::Child) {
    let pid = child.id().unwrap().to_string();
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(sent.success());
}

/// Waits for a node's process to end (within SPEC §7's 5 s) and says it exited cleanly.
async fn stopped(child: &mut tokio::process::Child) {
    let status = tokio::time::timeout(Duration::from_secs(5), child.wait())
        .await
        .expect("the node stops within 5 s")
        .unwrap();
    assert!(status.success(), "{status:?}");
}

#[tokio::test]
async fn a_stopped_nodes_people_leave_at_once_and_its_rooms_carry_on() {
    let dir = tempfile::tempdir().unwrap();
    let nats = NatsServer::start(dir.path()).await;
    let n1_dir = dir.path().join("n1");
    let (mut n1, port1) = cluster::spawn_node(&nats, "n1", &n1_dir).await;
    let n2 = cluster::node(&nats, "n2", &|_| {}).await;
    let n3 = cluster::node(&nats, "n3", &|_| {}).await;
    // #lobby runs on n1 (its first member is there); #side runs on n2.
    let mut alice = TestClient::joined(port1, "alice").await;
    let mut carol = TestClient::joined(n3.port(), "carol").await;
    let mut dave = TestClient::joined(n2.port(), "dave").await;
    let mut bob = TestClient::joined(n2.port(), "bob").await;
    bob.send_line("/join side").await;
    bob.expect("[Server]: Welcome to #side, bob!").await;
    let mut erin = TestClient::joined(port1, "erin").await;
    erin.send_line("/join side").await;
    erin.expect("[Server]: Welcome to #side, erin!").await;
    bob.expect("[Server]: erin has joined the chat.").await;
    carol.send_line("before the stop").await;
    alice.expect("carol >> before the stop").await;

    let signalled = Instant::now();
    terminate(&n1);
    // in the room n1 ran, and in the room another node runs
    carol.expect("[Server]: alice has left the chat.").await;
    dave.expect("[Server]: alice has left the chat.").await;
    let lobby_saw = signalled.elapsed();
    bob.expect("[Server]: erin has left the chat.").await;
    let side_saw = signalled.elapsed();
    // the room n1 ran carries on for the others, with nobody left behind
    carol.send_line("after the stop").await;
    dave.expect("carol >> after the stop").await;
    let lobby_goes_on = signalled.elapsed();
    stopped(&mut n1).await;
    let exited = signalled.elapsed();
    carol.send_line("/user").await;
    carol.expect("[Server]: Users (2/10): carol, dave").await;
    bob.send_line("/user").await;
    bob.expect("[Server]: Users (1/10): bob").await;
    println!("leaves seen after {lobby_saw:?} (#lobby, ran on n1) and {side_saw:?} (#side); n1 exited after {exited:?}; #lobby echoed again after {lobby_goes_on:?}");
    // The lease is 3 s: a crash is seen after it, a stop well before.
    for (what, took) in [("#lobby leave", lobby_saw), ("#side leave", side_saw)] {
        assert!(took < Duration::from_secs(2), "{what} seen after {took:?}");
    }
    assert!(
        lobby_goes_on < Duration::from_secs(2),
        "#lobby back after {lobby_goes_on:?}"
    );
    // the others say stopped, not lost; the stopping node took no room back
    common::wait_for_log_line(&n2.path("logs/server.txt"), "node n1 stopped").await;
    common::wait_for_log_line(&n3.path("logs/server.txt"), "node n1 stopped").await;
    for log in [n2.path("logs/server.txt"), n3.path("logs/server.txt")] {
        let text = std::fs::read_to_string(&log).unwrap();
        assert!(!text.contains("node n1 lost"), "{text}");
        assert!(!text.contains("(server n1 lost)"), "{text}");
    }
    let own = std::fs::read_to_string(n1_dir.join("logs/server.txt")).unwrap();
    assert!(!own.contains("taken over by n1"), "{own}");
    assert!(own.contains("CLUSTER stopped: "), "{own}");
}

#[tokio::test]
async fn a_stopped_node_logs_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let nats = NatsServer::start(dir.path()).await;
    let n1_dir = dir.path().join("n1");
    let (mut n1, port1) = cluster::spawn_node(&nats, "n1", &n1_dir).await;
    let _alice = TestClient::joined(port1, "alice").await;
    terminate(&n1);
    stopped(&mut n1).await;
    let own = std::fs::read_to_string(n1_dir.join("logs/server.txt")).unwrap();
    let shutdown = own
        .lines()
        .find(|l| l.split(' ').nth(1) == Some("SHUTDOWN"));
    assert!(shutdown.is_some_and(|l| l.contains("node n1")), "{own}");
}

#[tokio::test]
async fn a_node_restarted_at_once_under_its_name_leaves_no_ghosts() {
    let dir = tempfile::tempdir().unwrap();
    let nats = NatsServer::start(dir.path()).await;
    let n1_dir = dir.path().join("n1");
    let (mut n1, port1) = cluster::spawn_node(&nats, "n1", &n1_dir).await;
    let n2 = cluster::node(&nats, "n2", &|_| {}).await;
    let n3 = cluster::node(&nats, "n3", &|_| {}).await;
    let mut alice = TestClient::joined(port1, "alice").await;
    let _erin = TestClient::joined(port1, "erin").await;
    let mut carol = TestClient::joined(n3.port(), "carol").await;
    let _dave = TestClient::joined(n2.port(), "dave").await;
    alice.expect("[Server]: dave has joined the chat.").await;

    // `systemctl restart`: SIGTERM, then the same command at once
    terminate(&n1);
    stopped(&mut n1).await;
    let restarted = Instant::now();
    let (_n1, port1) = cluster::spawn_node(&nats, "n1", &n1_dir).await;
    let took = restarted.elapsed();
    let _alice = TestClient::joined(port1, "alice").await;
    let mut erin = TestClient::joined(port1, "erin").await;
    erin.send_line("/user").await;
    erin.expect("[Server]: Users (4/10): carol, dave, alice, erin")
        .await;
    carol.send_line("/user").await;
    carol
        .expect("[Server]: Users (4/10): carol, dave, alice, erin")
        .await;
    println!("restarted node let in after {took:?}");
    assert!(took < Duration::from_secs(2), "let in after {took:?}");
}

#[tokio::test]
async fn a_node_killed_and_restarted_at_once_leaves_no_ghosts() {
    let dir = tempfile::tempdir().unwrap();
    let nats = NatsServer::start(dir.path()).await;
    let n1_dir = dir.path().join("n1");
    let (mut n1, port1) = cluster::spawn_node(&nats, "n1", &n1_dir).await;
    let n2 = cluster::node(&nats, "n2", &|_| {}).await;
    // #lobby runs on n2 (its first member is there). Left for issue 17: a room the
    // killed node ran itself, taken over after the new run is up, still keeps the old
    // run's people (members are tagged with a node's name, not its run).
    let mut carol = TestClient::joined(n2.port(), "carol").await;
    let _killed_alice = TestClient::joined(port1, "alice").await;
    carol.expect("[Server]: alice has joined the chat.").await;

    // a crash, and a supervisor that starts it again at once
    n1.start_kill().unwrap();
    n1.wait().await.unwrap();
    let (_n1, port1) = cluster::spawn_node(&nats, "n1", &n1_dir).await;
    carol.expect("[Server]: alice has left the chat.").await;
    let mut alice = TestClient::joined(port1, "alice").await;
    alice.send_line("/user").await;
    alice.expect("[Server]: Users (2/10): carol, alice").await;
    carol.send_line("/user").await;
    carol.expect("[Server]: Users (2/10): carol, alice").await;
    let log = common::wait_for_log_line(&n2.path("logs/server.txt"), "node n1 lost").await;
    assert!(!log.is_empty());
}
