//! Nodes started together on a fresh three-server NATS cluster with `--cluster-replicas
//! 3` all come up (issue 17 item 5): each one's buckets are made or opened however the
//! others' requests race with it, retried within the start's bound. Real binaries (one
//! per NATS server, started at the same moment), a real three-server NATS cluster.

mod cluster;
mod common;

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::TestClient;
use testkit::NatsCluster;

const BIN: &str = env!("CARGO_BIN_EXE_ssh-chatroom");

/// Node `name` of the cluster at `url` with `--cluster-replicas 3`, its files in `dir`,
/// started now (its port read later).
fn start_node(url: &str, name: &str, dir: &Path, host_key: &Path) -> tokio::process::Child {
    tokio::process::Command::new(BIN)
        .args(testkit::server_flags(dir))
        .arg(format!("--cluster={url}"))
        .arg(format!("--node-name={name}"))
        .arg("--cluster-replicas=3")
        .arg(format!("--host-key={}", host_key.display()))
        .env(
            "RUST_LOG",
            std::env::var("NODE_LOG").unwrap_or("warn".into()),
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .unwrap()
}

/// The SSH port a node prints in its banner, read within 30 s (the start's bound for
/// NATS and its buckets).
async fn listening_port(child: &mut tokio::process::Child) -> u16 {
    common::listening_port_within(child, Duration::from_secs(30)).await
}

#[tokio::test]
async fn three_nodes_started_together_on_a_fresh_nats_cluster_all_come_up() {
    let test = async {
        let dir = tempfile::tempdir().unwrap();
        let nats = NatsCluster::start(dir.path()).await;
        // The nodes share a host key (the deploy recipe copies the first node's).
        let host_key = dir.path().join("ssh_host_ed25519_key");
        common::user_key()
            .write_openssh_file(&host_key, russh::keys::ssh_key::LineEnding::LF)
            .unwrap();
        let urls = nats.urls();
        let started = Instant::now();
        let mut nodes: Vec<tokio::process::Child> = (0..3)
            .map(|i| {
                let name = format!("n{}", i + 1);
                start_node(&urls[i], &name, &dir.path().join(&name), &host_key)
            })
            .collect();
        let (a, b, c) = match &mut nodes[..] {
            [a, b, c] => (a, b, c),
            _ => unreachable!(),
        };
        let (p1, p2, p3) = tokio::join!(listening_port(a), listening_port(b), listening_port(c));
        println!("all three nodes up after {:?}", started.elapsed());
        let mut alice = TestClient::joined(p1, "alice").await;
        let _bob = TestClient::joined(p2, "bob").await;
        alice.expect("[Server]: bob has joined the chat.").await;
        let carol = TestClient::joined(p3, "carol").await;
        alice.expect("[Server]: carol has joined the chat.").await;
        carol.send_line("hello from n3").await;
        alice.expect("carol >> hello from n3").await;
        drop(nodes);
    };
    tokio::time::timeout(Duration::from_secs(40), test)
        .await
        .expect("done within 40 s");
}
