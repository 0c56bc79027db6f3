//! Personal comforts across a cluster (SPEC §10, §12) on a real `nats-server`, with the
//! real OpenSSH `ssh`: a mention from another node rings and highlights, a person on
//! another node is ignored through a rename, `/reply` and away reach across nodes, and
//! a registered key's settings come back after reconnecting to another node.

mod cluster;
mod common;

use std::path::Path;

use common::{user_key, write_openssh_key, OpenSsh};

/// `ssh -tt` as `user` with the key in `key`, to the node on `port`, past the welcome.
async fn pty(port: u16, key: &Path, user: &str) -> OpenSsh {
    let mut ssh = OpenSsh::spawn(port, key, &["-tt"], user, None);
    ssh.expect("Type /help").await;
    ssh
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn comforts_hold_across_nodes() {
    let cluster = cluster::Cluster::start(3, |_| {}).await;
    let dir = tempfile::tempdir().unwrap();
    let key = |name: &str| write_openssh_key(dir.path(), name, &user_key());
    let (alice_key, bob_key, troll_key) = (key("alice"), key("bob"), key("troll"));
    let mut alice = pty(cluster.port(0), &alice_key, "alice").await;
    let mut bob = pty(cluster.port(1), &bob_key, "bob").await;
    let mut troll = pty(cluster.port(2), &troll_key, "troll").await;
    alice.expect("troll has joined").await;

    // A mention from another node rings and is highlighted.
    bob.send(b"hey alice\r").await;
    alice.expect("bob >> hey alice").await;
    let raw = alice.transcript.raw();
    assert!(raw.contains("hey \x1b[0m\x1b[1;7malice\x1b[0m"), "{raw:?}");
    assert_eq!(raw.matches('\x07').count(), 1);

    // Someone on another node, ignored through a rename; not told.
    alice.send(b"/ignore troll\r").await;
    alice
        .expect("[Server]: You no longer see messages from troll.")
        .await;
    troll.send(b"/rename goblin\r").await;
    troll.expect("Your nickname is now \"goblin\"").await;
    troll.send(b"spam alice\r").await;
    troll.send(b"/whisper alice psst\r").await;
    troll.expect("[Whisper to alice] psst").await;
    bob.expect("goblin >> spam alice").await;
    bob.send(b"marker\r").await;
    let seen = alice.expect("bob >> marker").await;
    assert!(!seen.contains("spam") && !seen.contains("psst"), "{seen:?}");
    assert_eq!(alice.transcript.raw().matches('\x07').count(), 1);

    // Away, and a reply, across nodes.
    alice.send(b"/away lunch\r").await;
    alice.expect("[Server]: You are away: lunch").await;
    bob.send(b"/w alice hungry?\r").await;
    bob.expect("[Server]: alice is away: lunch").await;
    bob.send(b"/user\r").await;
    bob.expect("alice (away)").await;
    alice.expect("[Whisper from bob] hungry?").await;
    alice.send(b"/r yes\r").await;
    bob.expect("[Whisper from alice] yes").await;
    // A chat line (not a whisper) ends being away.
    alice.send(b"back\r").await;
    alice.expect("[Server]: Welcome back.").await;
    bob.send(b"/user\r").await;
    bob.expect("[Server]: Users (3/10): alice, bob, goblin")
        .await;

    // A registered key's settings come back on another node.
    // Set before registering: `/register` keeps what is set so far.
    alice.send(b"/timestamp on\r").await;
    alice.expect("[Server]: Timestamps on.").await;
    alice.send(b"/register\r").await;
    alice.expect("is now registered to your key").await;
    drop(alice);
    bob.expect("alice has left").await;
    let mut alice = pty(cluster.port(2), &alice_key, "alice").await;
    alice.send(b"/ignore\r").await;
    alice.expect("[Server]: Ignoring (1): goblin").await;
    alice.send(b"/timestamp\r").await;
    alice.expect("[Server]: Timestamps on.").await;
    troll.send(b"still spam\r").await;
    bob.expect("goblin >> still spam").await;
    bob.send(b"marker two\r").await;
    let seen = alice.expect("bob >> marker two").await;
    assert!(!seen.contains("still spam"), "{seen:?}");
}
