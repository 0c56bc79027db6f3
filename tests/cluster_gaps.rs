//! Nothing lost silently when NATS blips for one node (issue 17, items 3 and 4): core
//! NATS drops what is published while a node's connection is away. One node reaches NATS
//! through a relay that cuts or swallows its traffic, a real network fault between real
//! nodes and a real `nats-server`. The lines the room said meanwhile reach that node's
//! members once, in order, after it is back; what cannot be fetched any more is said.

mod cluster;
mod common;

use cluster::node_via;
use common::TestClient;
use testkit::{NatsServer, Partition};

const LOST: &str = "[Server]: Lost contact with the other chat servers";
const BACK: &str = "[Server]: Back in contact with the other chat servers.";
const MISSED: &str =
    "[Server]: Some lines of this room may be missing above: the chat servers lost contact for a moment.";

/// NATS, node `n1` straight to it and node `n2` through a relay; `alice` on n1 (which
/// runs the lobby, as its first member's node) and `bob` on n2, both in.
struct TwoNodes {
    relay: Partition,
    alice: TestClient,
    bob: TestClient,
    _nodes: Vec<common::TestServer>,
    _nats: NatsServer,
    _dir: tempfile::TempDir,
}

/// As [`TwoNodes`], with the relay in front of n1 (the room's node) when
/// `relay_the_room` is set, else in front of n2 (the member's node).
async fn two_nodes(relay_the_room: bool) -> TwoNodes {
    let dir = tempfile::tempdir().unwrap();
    let nats = NatsServer::start(dir.path()).await;
    let addr = nats.url().trim_start_matches("nats://").parse().unwrap();
    let relay = Partition::start(addr).await;
    let (url1, url2) = if relay_the_room {
        (relay.url(), nats.url())
    } else {
        (nats.url(), relay.url())
    };
    let n1 = node_via(&nats, &url1, "n1").await;
    let n2 = node_via(&nats, &url2, "n2").await;
    let mut alice = TestClient::joined(n1.port(), "alice").await;
    let bob = TestClient::joined(n2.port(), "bob").await;
    alice.expect("[Server]: bob has joined the chat.").await;
    TwoNodes {
        relay,
        alice,
        bob,
        _nodes: vec![n1, n2],
        _nats: nats,
        _dir: dir,
    }
}

#[tokio::test]
async fn lines_said_while_a_members_node_was_away_reach_it_once_in_order() {
    // Bound whole: the nodes and NATS live to the end of the test.
    let two = two_nodes(false).await;
    let (relay, mut alice, mut bob) = (&two.relay, two.alice, two.bob);
    alice.send_line("before").await;
    bob.expect("alice >> before").await;

    relay.cut();
    bob.expect(LOST).await;
    for n in 1..=3 {
        alice
            .send_line(&format!("while bob's server was away {n}"))
            .await;
        alice
            .expect(&format!("alice >> while bob's server was away {n}"))
            .await;
    }
    relay.heal();
    // Fetched again once bob's node is back (its notice may come first or not).
    for n in 1..=3 {
        bob.expect(&format!("alice >> while bob's server was away {n}"))
            .await;
    }
    alice.send_line("after").await;
    bob.expect("alice >> after").await;

    let seen = bob.transcript.text();
    assert_eq!(seen.matches(BACK).count(), 1, "{seen}");
    for n in 1..=3 {
        let line = format!("alice >> while bob's server was away {n}");
        assert_eq!(seen.matches(&line).count(), 1, "once: {seen}");
    }
    assert!(
        !seen.contains(MISSED),
        "nothing was beyond fetching: {seen}"
    );
}

#[tokio::test]
async fn a_line_the_rooms_node_sent_into_a_dead_route_reaches_the_others_once_it_is_back() {
    // Bound whole: the nodes and NATS live to the end of the test.
    let two = two_nodes(true).await;
    let (relay, mut alice, mut bob) = (&two.relay, two.alice, two.bob);
    alice.send_line("before").await;
    bob.expect("alice >> before").await;

    // The route to NATS dies without a word: the room's node takes the line (nothing
    // tells it yet that it is cut off) and publishes it into the void.
    relay.swallow();
    alice.send_line("into the void").await;
    alice.expect("alice >> into the void").await;
    // Then the connection is seen to be gone, and comes back.
    relay.cut();
    alice.expect(LOST).await;
    relay.heal();
    alice.expect(BACK).await;
    bob.expect("alice >> into the void").await;
    alice.send_line("after").await;
    bob.expect("alice >> after").await;

    let seen = bob.transcript.text();
    assert_eq!(seen.matches("alice >> into the void").count(), 1, "{seen}");
    assert!(!seen.contains(MISSED), "{seen}");
}

#[tokio::test]
async fn lines_that_can_no_longer_be_fetched_are_said_to_be_missing() {
    // Bound whole: the nodes and NATS live to the end of the test.
    let two = two_nodes(false).await;
    let (relay, mut alice, mut bob) = (&two.relay, two.alice, two.bob);
    relay.cut();
    bob.expect(LOST).await;
    // More than the room's node keeps (64 KiB): the first of them are gone for good.
    let long = "x".repeat(900);
    for n in 1..=100 {
        alice.send_line(&format!("{n:03} {long}")).await;
    }
    alice.expect("alice >> 100 xxx").await;
    relay.heal();
    bob.expect(MISSED).await;
    // What is still kept follows the notice, in order, up to the last.
    bob.expect("alice >> 100 xxx").await;
    alice.send_line("after").await;
    bob.expect("alice >> after").await;

    let seen = bob.transcript.text();
    assert_eq!(seen.matches(MISSED).count(), 1, "said once: {seen}");
    assert_eq!(seen.matches(BACK).count(), 1, "{seen}");
    assert!(
        !seen.contains("alice >> 001 "),
        "the first are gone: {seen}"
    );
    let numbers: Vec<u32> = seen
        .lines()
        .filter_map(|l| l.split("alice >> ").nth(1))
        .filter_map(|rest| rest.get(..3)?.parse().ok())
        .collect();
    assert!(
        numbers.windows(2).all(|w| w[1] == w[0] + 1),
        "kept ones in order, each once: {numbers:?}"
    );
    assert_eq!(numbers.last(), Some(&100));
}

#[tokio::test]
async fn a_whisper_to_a_member_whose_node_is_away_arrives_once_it_is_back() {
    let two = two_nodes(false).await;
    let (relay, mut alice, mut bob) = (&two.relay, two.alice, two.bob);
    relay.cut();
    bob.expect(LOST).await;
    alice.send_line("/whisper bob psst").await;
    alice.expect("[Whisper to bob] psst").await;
    // Back within the whisper's patience (5 s) and well before bob's node would be
    // taken for dead (3 s without its presence renewed).
    relay.heal();
    bob.expect("[Whisper from alice] psst").await;
    alice.send_line("/whisper bob again").await;
    bob.expect("[Whisper from alice] again").await;
    let seen = bob.transcript.text();
    assert_eq!(
        seen.matches("[Whisper from alice] psst").count(),
        1,
        "{seen}"
    );
    assert!(!alice.transcript.text().contains("may not have arrived"));
}
