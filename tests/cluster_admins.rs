//! The server admins of a cluster are one list (issue 18): a node's SIGHUP reaches the
//! rooms every node runs, and the rooms made afterwards anywhere.

mod cluster;
mod common;

use cluster::Cluster;
use common::{user_key, Mode, TestClient};

#[tokio::test]
async fn a_reload_on_one_node_makes_admins_in_rooms_other_nodes_run() {
    let cluster = Cluster::start(2, |_| {}).await;
    // The lobby runs on n1, where its first member is.
    let mut alice = TestClient::joined(cluster.port(0), "alice").await;
    alice
        .expect("[Server]: You are the admin of this room.")
        .await;
    let bob_key = user_key();
    let bob_public = bob_key.public_key().to_openssh().unwrap();
    let (n2, port2) = (&cluster.nodes[1], cluster.port(1));
    let mut bob = TestClient::connect(port2, "bob", Some(bob_key), Mode::Pty).await;
    bob.expect("Type /help").await;
    alice.expect("[Server]: bob has joined the chat.").await;

    // bob's key goes into n2's admins file, and n2 alone re-reads it.
    std::fs::create_dir_all(n2.path("keys")).unwrap();
    std::fs::write(n2.path("keys/admins"), format!("{bob_public}\n")).unwrap();
    n2.reload().await;
    alice.expect("[Server]: bob is now the admin.").await;
    alice.send_line("/kick bob").await;
    alice.expect("[Server]: Only an admin can use /kick.").await;

    // A room made on n1 afterwards knows him too.
    alice.send_line("/join #go").await;
    alice
        .expect("[Server]: You are the admin of this room.")
        .await;
    bob.send_line("/join #go").await;
    alice.expect("[Server]: bob has joined the chat.").await;
    bob.send_line("/kick alice").await;
    alice
        .expect("[Server]: You have been kicked from the chat.")
        .await;
}
