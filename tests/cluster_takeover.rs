//! A room taken over by the node that holds its only remaining member (SPEC §10), with
//! two nodes: the node running the room is SIGKILLed right after people joined and left
//! it. The survivor rebuilds the room from its snapshot, which must know exactly who is
//! in it: a member who joined just before the crash is still in the room (they see the
//! leave, become admin, and their lines are echoed), and one who left just before it is
//! not back as a ghost.

mod cluster;
mod common;

use std::time::Instant;

use common::TestClient;
use testkit::NatsServer;

#[tokio::test]
async fn the_survivor_keeps_who_joined_and_left_just_before_the_owner_died() {
    let dir = tempfile::tempdir().unwrap();
    let nats = NatsServer::start(dir.path()).await;
    let (mut n1, port1) = cluster::spawn_node(&nats, "n1", &dir.path().join("n1")).await;
    let n2 = cluster::node(&nats, "n2", &|_| {}).await;
    // #den is made on n1 by alice, its admin; carol (on n2) is in it too.
    let mut alice = TestClient::joined(port1, "alice").await;
    alice.send_line("/join den").await;
    alice
        .expect("[Server]: You are the admin of this room.")
        .await;
    let mut bob = TestClient::joined(n2.port(), "bob").await;
    let mut carol = TestClient::joined(n2.port(), "carol").await;
    carol.send_line("/join den").await;
    alice.expect("[Server]: carol has joined the chat.").await;

    // Right after alice talks (n1 stores a snapshot of #den, the latest at most every
    // 250 ms unless a change must be kept at once): bob (on n2 too) enters #den, and
    // carol leaves it.
    alice.send_line("last words").await;
    bob.send_line("/join den").await;
    alice.expect("[Server]: bob has joined the chat.").await;
    bob.expect("[Server]: Welcome to #den, bob!").await;
    carol.send_line("/leave").await;
    alice.expect("[Server]: carol has left the chat.").await;
    bob.expect("[Server]: carol has left the chat.").await;
    // n1 dies the moment it has told them: n2 takes #den over from its snapshot.
    let killed = Instant::now();
    n1.start_kill().unwrap();
    bob.expect("[Server]: alice has left the chat.").await;
    let seen_leaving = killed.elapsed();
    bob.expect("[Server]: bob is now the admin.").await;
    bob.send_line("after the crash").await;
    bob.expect("bob >> after the crash").await;
    assert!(
        seen_leaving < cluster::node_gone_within(),
        "leaving seen after {seen_leaving:?}"
    );
    // carol left before the crash: not back in #den as a ghost
    bob.send_line("/user").await;
    bob.expect("[Server]: Users (1/10): bob").await;
    carol.send_line("/user").await;
    carol.expect("[Server]: Users (1/10): carol").await;
}
