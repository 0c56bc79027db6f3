//! Moderation across a cluster (SPEC §10–§11), three nodes on a real nats-server: a ban
//! made on one node puts its target out and refuses them on the others; a co-admin, a
//! mute, a notice and a code set through one node hold for members on the others, and
//! after the room moves to another node.

mod cluster;
mod common;

use std::time::Duration;

use cluster::Cluster;
use common::{key_fingerprint, user_key, Mode, TestClient};

/// Long enough for any machine; what must hold is that it happens at all.
const WITHIN: Duration = Duration::from_secs(10);

/// Asks `/rooms` until the answer contains `wanted` (a lease is renewed every second,
/// and `/rooms` reads the leases).
async fn rooms_until(client: &mut TestClient, wanted: &str) {
    let deadline = tokio::time::Instant::now() + WITHIN;
    loop {
        client.send_line("/rooms").await;
        let line = client.expect("[Server]: Rooms (").await;
        let rest = client.expect("\n").await;
        if rest.contains(wanted) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no {wanted:?} in /rooms: {line}{rest}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn rules_set_through_one_node_hold_on_the_others_and_after_a_move() {
    // On the heap: the whole story is too big a future for a test thread's stack.
    Box::pin(rules_hold_across_nodes()).await;
}

async fn rules_hold_across_nodes() {
    let mut cluster = Cluster::start(3, |_| {}).await;
    let mut alice = TestClient::joined(cluster.port(0), "alice").await;
    alice.send_line("/join rust").await;
    alice.expect("You are the admin of this room.").await;
    let mut bob = TestClient::joined(cluster.port(1), "bob").await;
    bob.send_line("/join rust").await;
    bob.expect("Welcome to #rust, bob!").await;
    let mut carol = TestClient::joined(cluster.port(2), "carol").await;
    carol.send_line("/join rust").await;
    carol.expect("Welcome to #rust, carol!").await;

    alice.send_line("/op bob").await;
    carol.expect("[Server]: bob is now a co-admin.").await;
    bob.send_line("/mute carol").await;
    carol
        .expect("[Server]: carol has been muted for 10 minutes.")
        .await;
    carol.send_line("hello?").await;
    carol
        .expect("[Server]: You are muted in #rust until ")
        .await;
    bob.send_line("/notice Welcome to the Rust room").await;
    carol.expect("[Notice] Welcome to the Rust room").await;
    alice.send_line("/lock s3cret").await;
    alice
        .expect("[Server]: #rust now needs a code to enter.")
        .await;

    let mut dave = TestClient::joined(cluster.port(2), "dave").await;
    rooms_until(&mut dave, "#rust (3/10, locked)").await;
    dave.send_line("/join rust").await;
    dave.expect("[Server]: #rust needs a code: /join rust CODE")
        .await;

    // alice's node stops: the room moves on with its rules
    let first = cluster.nodes.remove(0);
    first.stop().await;
    bob.expect("[Server]: alice has left the chat.").await;
    bob.expect("[Server]: bob is now the admin.").await;
    carol.send_line("still muted?").await;
    carol
        .expect("[Server]: You are muted in #rust until ")
        .await;
    dave.send_line("/join rust wrong").await;
    dave.expect("[Server]: Wrong code for #rust.").await;
    dave.send_line("/join rust s3cret").await;
    let welcome = dave.expect("Users (").await;
    assert!(
        welcome.contains("[Notice] Welcome to the Rust room"),
        "{welcome}"
    );
}

#[tokio::test]
async fn a_ban_made_on_one_node_puts_out_and_refuses_on_the_others() {
    Box::pin(a_ban_holds_on_every_node()).await;
}

async fn a_ban_holds_on_every_node() {
    let root_key = user_key();
    let admins = vec![key_fingerprint(&root_key)];
    let cluster = Cluster::start(3, move |c| c.admin_keys = admins.clone()).await;
    let mut root = TestClient::connect(cluster.port(0), "root", Some(root_key), Mode::Pty).await;
    root.expect("Type /help").await;
    let bob_key = user_key();
    let mut bob =
        TestClient::connect(cluster.port(1), "bob", Some(bob_key.clone()), Mode::Pty).await;
    bob.expect("Type /help").await;
    root.expect("[Server]: bob has joined the chat.").await;

    root.send_line("/ban SHA256:nobody 30m").await;
    root.expect("[Server]: SHA256:nobody is banned until ")
        .await;
    // by key: every test client connects from 127.0.0.1, which a ban by name would
    // take in too (tests/moderation.rs bans an address of its own)
    let bob_fingerprint = key_fingerprint(&bob_key);
    root.send_line(&format!("/ban {bob_fingerprint} 1h flood"))
        .await;
    bob.expect("[Server]: You are banned from this server until ")
        .await;
    bob.expect(" (flood).").await;
    bob.expect_closed().await;
    root.expect("[Server]: bob has been banned.").await;

    // his key is refused on every node; the third node never saw him
    for port in [cluster.port(2), cluster.port(1)] {
        let mut again = TestClient::connect(port, "bob2", Some(bob_key.clone()), Mode::Pty).await;
        again
            .expect("[Server]: You are banned from this server until ")
            .await;
        again.expect_closed().await;
    }
    let mut carol = TestClient::joined(cluster.port(2), "carol").await;
    carol.send_line("/whois bob").await;
    carol
        .expect("[Server]: No user named \"bob\" is online.")
        .await;

    root.send_line("/bans").await;
    root.expect("[Server]: Bans (2): SHA256:").await;
    root.send_line(&format!("/unban {bob_fingerprint}")).await;
    root.expect(&format!("[Server]: {bob_fingerprint} is no longer banned."))
        .await;
    let deadline = tokio::time::Instant::now() + WITHIN;
    loop {
        let mut again =
            TestClient::connect(cluster.port(2), "bob", Some(bob_key.clone()), Mode::Pty).await;
        let seen = again.expect("[Server]: ").await;
        if !again.transcript.contains("banned") {
            again.expect("Welcome to #lobby, bob!").await;
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{seen}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
