//! Three terminals on three nodes chat as one room (SPEC §10), driven by the real
//! OpenSSH client: the nodes share one host key, as behind a load balancer.

mod cluster;
mod common;

use cluster::Cluster;
use common::{user_key, write_openssh_key, OpenSsh};

#[tokio::test]
async fn three_terminals_on_three_nodes_are_one_room() {
    let keys = tempfile::tempdir().unwrap();
    let host_key = keys.path().join("ssh_host_ed25519_key");
    let cluster = Cluster::start(3, |c| c.host_key = host_key.clone()).await;
    let fingerprints: Vec<&str> = cluster
        .nodes
        .iter()
        .map(|n| n.host_key_fingerprint())
        .collect();
    assert!(
        fingerprints.windows(2).all(|w| w[0] == w[1]),
        "{fingerprints:?}"
    );
    let ssh = |node: usize, user: &str, args: &[&str], command: Option<&str>| {
        let key = write_openssh_key(keys.path(), &format!("{user}.key"), &user_key());
        OpenSsh::spawn(cluster.port(node), &key, args, user, command)
    };
    let mut alice = ssh(0, "alice", &["-tt"], None);
    alice.expect("Welcome to #lobby, alice!").await;
    let mut bob = ssh(1, "bob", &["-tt"], None);
    bob.expect("Welcome to #lobby, bob!").await;
    let mut carol = ssh(2, "carol", &["-tt"], None);
    carol.expect("Welcome to #lobby, carol!").await;
    alice.expect("[Server]: carol has joined the chat.").await;
    carol.send(b"hello from node three\r").await;
    for who in [&mut alice, &mut bob, &mut carol] {
        who.expect("carol >> hello from node three").await;
    }
    // a bot's one-liner through node two
    let mut ci = ssh(1, "ci", &[], None);
    ci.send(b"build passed\n").await;
    ci.close_stdin();
    assert_eq!(ci.wait_exit().await, Some(0));
    alice.expect("ci >> build passed").await;
    carol.expect("[Server]: ci has left the chat.").await;
    let mut rooms = ssh(2, "x", &[], Some("rooms"));
    assert_eq!(rooms.wait_exit().await, Some(0));
    assert_eq!(
        rooms.transcript.raw(),
        "[Server]: Rooms (1): #lobby (3/10)\n"
    );
}
