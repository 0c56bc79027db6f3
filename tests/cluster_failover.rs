//! A node that dies (SPEC §10): SIGKILL of a real node process costs only its own
//! connections; the others see its people leave within 5 s, and the room it ran is taken
//! over with its history, its admin succession and its pending scheduled messages. A
//! node told to stop while NATS is down still stops within 5 s.

mod cluster;
mod common;

use std::time::{Duration, Instant};

use common::TestClient;
use testkit::NatsServer;

/// A time two hours from now, `HH:MM` in UTC (the nodes' time zone).
fn later() -> String {
    (chrono::Utc::now() + chrono::Duration::hours(2))
        .format("%H:%M")
        .to_string()
}

#[tokio::test]
async fn a_killed_node_costs_only_its_own_connections() {
    let dir = tempfile::tempdir().unwrap();
    let nats = NatsServer::start(dir.path()).await;
    let (mut n1, port1) = cluster::spawn_node(&nats, "n1", &dir.path().join("n1")).await;
    let n2 = cluster::node(&nats, "n2", &|_| {}).await;
    let n3 = cluster::node(&nats, "n3", &|_| {}).await;
    // #lobby is made on n1 by its first participant, who is its admin
    let mut alice = TestClient::joined(port1, "alice").await;
    alice
        .expect("[Server]: You are the admin of this room.")
        .await;
    alice.send_line("/register").await;
    alice
        .expect("[Server]: The nickname \"alice\" is now registered to your key")
        .await;
    let _erin_on_n1 = TestClient::joined(port1, "erin").await;
    let mut bob = TestClient::joined(n2.port(), "bob").await;
    let mut carol = TestClient::joined(n3.port(), "carol").await;
    alice.send_line("before the crash").await;
    carol.expect("alice >> before the crash").await;
    let at = later();
    bob.send_line(&format!("/schedule {at} still here")).await;
    bob.expect("[Server]: Message scheduled for").await;

    let killed = Instant::now();
    n1.start_kill().unwrap();
    bob.expect("[Server]: alice has left the chat.").await;
    carol.expect("[Server]: alice has left the chat.").await;
    let seen_leaving = killed.elapsed();
    bob.expect("[Server]: bob is now the admin.").await;
    bob.send_line("after the crash").await;
    carol.expect("bob >> after the crash").await;
    let room_goes_on = killed.elapsed();
    assert!(
        seen_leaving < cluster::node_gone_within(),
        "leaving seen after {seen_leaving:?}"
    );
    assert!(
        room_goes_on < cluster::SPEC_TAKEOVER,
        "room back after {room_goes_on:?}"
    );

    // the room's history, admin and pending message came through the takeover
    let mut dave = TestClient::join(n3.port(), "dave").await;
    let welcome = dave.expect("Type /help").await;
    assert!(welcome.contains("alice >> before the crash"), "{welcome}");
    assert!(welcome.contains("bob >> after the crash"), "{welcome}");
    dave.expect("[Server]: Users (3/10): bob, carol, dave")
        .await;
    bob.send_line("/schedule").await;
    bob.expect("[Server]: Your scheduled messages:").await;
    bob.expect("still here").await;
    // once the others know n1 is gone, its people's names are free again, and the
    // registration made on n1 holds
    common::wait_for_log_line(&n2.path("logs/server.txt"), "node n1 lost").await;
    let _erin = TestClient::joined(n2.port(), "erin").await;
    let mut not_alice = TestClient::join(n2.port(), "alice").await;
    not_alice
        .expect("[Server]: The nickname \"alice\" is registered to another key.")
        .await;
}

#[tokio::test]
async fn a_node_told_to_stop_while_nats_is_down_stops_within_5_s() {
    let dir = tempfile::tempdir().unwrap();
    let mut nats = testkit::NatsServer::start(dir.path()).await;
    let (mut node, port) = cluster::spawn_node(&nats, "n1", &dir.path().join("n1")).await;
    // the node runs three rooms
    let mut alice = TestClient::joined(port, "alice").await;
    for room in ["one", "two"] {
        alice.send_line(&format!("/join {room}")).await;
        alice
            .expect(&format!("[Server]: Welcome to #{room}, alice!"))
            .await;
    }
    nats.kill();
    alice
        .expect("[Server]: Lost contact with the other chat servers")
        .await;
    let pid = node.id().unwrap().to_string();
    let told = Instant::now();
    let signalled = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(signalled.success());
    let status = tokio::time::timeout(Duration::from_secs(5), node.wait())
        .await
        .expect("the node stops within 5 s")
        .unwrap();
    assert!(status.success(), "{status:?} after {:?}", told.elapsed());
    alice
        .expect("[Server]: The server is shutting down. Goodbye!")
        .await;
}
