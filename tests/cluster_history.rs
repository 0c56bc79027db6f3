//! A room's history across nodes (SPEC §8, §10): kept line by line for the node that
//! takes the room over, the newest lines, in order, as many as the history holds; and
//! gone with the room, so a room of the same name made later starts without it.

mod cluster;
mod common;

use common::TestClient;
use testkit::NatsServer;

#[tokio::test]
async fn the_next_node_shows_the_newest_lines_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let nats = NatsServer::start(dir.path()).await;
    let (mut n1, port1) = cluster::spawn_node(&nats, "n1", &dir.path().join("n1")).await;
    let n2 = cluster::node(&nats, "n2", &|_| {}).await;
    // #lobby is made on n1; the history holds 20 lines (the default)
    let alice = TestClient::joined(port1, "alice").await;
    let mut bob = TestClient::joined(n2.port(), "bob").await;
    for i in 1..=25 {
        alice.send_line(&format!("line {i}.")).await;
    }
    bob.expect("alice >> line 25.").await;

    n1.start_kill().unwrap();
    bob.expect("[Server]: bob is now the admin.").await;
    let mut carol = TestClient::join(n2.port(), "carol").await;
    let welcome = carol.expect("Type /help").await;
    let shown: Vec<&str> = welcome
        .lines()
        .filter_map(|l| l.split("alice >> ").nth(1))
        .collect();
    let expected: Vec<String> = (6..=25).map(|i| format!("line {i}.")).collect();
    assert_eq!(shown, expected, "{welcome}");
}

#[tokio::test]
async fn a_room_made_again_starts_without_the_old_ones_lines() {
    let dir = tempfile::tempdir().unwrap();
    let nats = NatsServer::start(dir.path()).await;
    let n1 = cluster::node(&nats, "n1", &|_| {}).await;
    let n2 = cluster::node(&nats, "n2", &|_| {}).await;
    let mut alice = TestClient::joined(n1.port(), "alice").await;
    alice.send_line("/join talk").await;
    alice.expect("[Server]: Welcome to #talk, alice!").await;
    alice.send_line("old words").await;
    alice.expect("alice >> old words").await;
    // the last one leaves: #talk ends
    alice.send_line("/join lobby").await;
    alice.expect("[Server]: Welcome to #lobby, alice!").await;
    common::wait_for_log_line(&n1.path("logs/server.txt"), "#talk ended").await;

    let mut bob = TestClient::joined(n2.port(), "bob").await;
    bob.send_line("/join talk").await;
    let welcome = bob.expect("[Server]: Welcome to #talk, bob!").await;
    bob.send_line("new words").await;
    let seen = bob.expect("bob >> new words").await;
    let all = format!("{welcome}{seen}");
    assert!(!all.contains("old words"), "{all}");
}
