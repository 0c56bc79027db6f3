//! Several servers, one chat (SPEC §10) against a real `nats-server -js`: people
//! connected to different nodes share a room byte for byte and in one order; capacity,
//! nicknames, whispers, `/user`, `/rooms` and `/whois` see the whole cluster.

mod cluster;
mod common;

use cluster::Cluster;
use common::TestClient;

#[tokio::test]
async fn three_nodes_chat_as_one_room() {
    let cluster = Cluster::start(3, |c| c.capacity = 3).await;
    let mut alice = TestClient::joined(cluster.port(0), "alice").await;
    let mut bob = TestClient::joined(cluster.port(1), "bob").await;
    alice.expect("[Server]: bob has joined the chat.").await;
    let mut carol = TestClient::joined(cluster.port(2), "carol").await;
    bob.expect("[Server]: carol has joined the chat.").await;
    carol.send_line("/user").await;
    carol
        .expect("[Server]: Users (3/3): alice, bob, carol")
        .await;
    // one order for everyone, the sender's own copy included
    alice.send_line("one from alice").await;
    bob.send_line("two from bob").await;
    carol.send_line("three from carol").await;
    for who in [&mut alice, &mut bob, &mut carol] {
        who.expect("carol >> three from carol").await;
    }
    let order = |c: &TestClient| {
        let text = c.transcript.text();
        let mut lines: Vec<&str> = ["alice >> one", "bob >> two", "carol >> three"]
            .into_iter()
            .collect();
        lines.sort_by_key(|l| text.rfind(l));
        lines.join(" | ")
    };
    assert_eq!(order(&alice), order(&bob));
    assert_eq!(order(&bob), order(&carol));
    // capacity counts the whole room; a nickname is one person's cluster-wide
    let mut dave = TestClient::join(cluster.port(1), "dave").await;
    dave.expect("[Server]: The chat room is full (3/3). Please try again later.")
        .await;
    carol.send_line("/join rust").await;
    carol.expect("[Server]: Welcome to #rust, carol!").await;
    let mut alice2 = TestClient::join(cluster.port(2), "Alice").await;
    alice2
        .expect(
            "[Server]: The nickname \"Alice\" is already taken. Please choose another nickname.",
        )
        .await;
    // whispers, /rooms and /whois reach across nodes and rooms
    bob.send_line("/whisper carol psst").await;
    carol.expect("[Whisper from bob] psst").await;
    bob.expect("[Whisper to carol] psst").await;
    alice.send_line("/rooms").await;
    alice
        .expect("[Server]: Rooms (2): #lobby (2/3), #rust (1/3)")
        .await;
    alice.send_line("/whois carol").await;
    alice
        .expect("[Server]: carol is in #rust; key SHA256:")
        .await;
}
