//! Harness for the cluster tests: a real `nats-server -js` on a free port and several
//! nodes joined to it, each a server of its own (in this process, or the real binary
//! when a test kills it).
#![allow(dead_code)]

use std::path::Path;
use std::time::Duration;

use ssh_chatroom::cluster::{LEASE, RENEW_EVERY};
use ssh_chatroom::room::Clock;
use testkit::NatsServer;

use crate::common::TestServer;

/// How soon SPEC §10 wants a dead node's people seen leaving and its rooms taken over.
pub const SPEC_TAKEOVER: Duration = Duration::from_secs(5);

/// How long after a killed node's last renewal the others have dropped it: its presence
/// lapses a lease after it, and its members are dropped at the second of two checks a
/// renewal apart. SPEC's bound holds only if this is within it.
pub fn node_gone_within() -> Duration {
    let bound = LEASE + RENEW_EVERY * 2;
    assert!(bound <= SPEC_TAKEOVER, "the lease outlasts SPEC's bound");
    bound
}

/// A NATS server and the nodes of one cluster.
pub struct Cluster {
    pub nats: NatsServer,
    pub nodes: Vec<TestServer>,
    _dir: tempfile::TempDir,
}

impl Cluster {
    /// NATS and `n` nodes named `n1`, `n2`, ... (settings changed by `configure`).
    pub async fn start(n: usize, configure: impl Fn(&mut ssh_chatroom::config::Config)) -> Cluster {
        let dir = tempfile::tempdir().unwrap();
        let nats = NatsServer::start(dir.path()).await;
        let mut nodes = Vec::new();
        for i in 1..=n {
            nodes.push(node(&nats, &format!("n{i}"), &configure).await);
        }
        Cluster {
            nats,
            nodes,
            _dir: dir,
        }
    }

    /// The SSH port of node `i` (from 0).
    pub fn port(&self, i: usize) -> u16 {
        self.nodes[i].port()
    }
}

/// A node named `name` joined to `nats`.
pub async fn node(
    nats: &NatsServer,
    name: &str,
    configure: &impl Fn(&mut ssh_chatroom::config::Config),
) -> TestServer {
    node_with(nats, name, configure, Clock::System).await
}

/// A node named `name` of `nats`'s cluster that reaches NATS at `url` (a relay).
pub async fn node_via(nats: &NatsServer, url: &str, name: &str) -> TestServer {
    let url = url.to_string();
    node_with(
        nats,
        name,
        &|c| c.cluster = vec![url.clone()],
        Clock::System,
    )
    .await
}

async fn node_with(
    nats: &NatsServer,
    name: &str,
    configure: &impl Fn(&mut ssh_chatroom::config::Config),
    clock: Clock,
) -> TestServer {
    let url = nats.url();
    let host_key = shared_host_key(nats);
    TestServer::start_with(
        |c| {
            c.cluster = vec![url];
            c.node_name = Some(name.to_string());
            c.host_key = host_key;
            configure(c);
        },
        clock,
    )
    .await
}

/// The host key every node of `nats`'s cluster shares (the cluster refuses another):
/// made by the first node to start.
pub fn shared_host_key(nats: &NatsServer) -> std::path::PathBuf {
    nats.dir().join("ssh_host_ed25519_key")
}

/// The `--cluster` arguments of a node run as the real binary.
pub fn node_args(nats: &NatsServer, name: &str, dir: &Path) -> Vec<String> {
    let mut args = testkit::server_flags(dir);
    args.extend([
        format!("--cluster={}", nats.url()),
        format!("--node-name={name}"),
        format!("--host-key={}", shared_host_key(nats).display()),
    ]);
    args
}

/// A node run as the real binary (so a test can SIGKILL it), and its SSH port.
pub async fn spawn_node(nats: &NatsServer, name: &str, dir: &Path) -> (tokio::process::Child, u16) {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_ssh-chatroom"))
        .args(node_args(nats, name, dir))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let port = crate::common::listening_port(&mut child).await;
    (child, port)
}

/// A node named `name` on `clock` (a test's manual clock, shared by the nodes).
pub async fn node_on(nats: &NatsServer, name: &str, clock: Clock) -> TestServer {
    node_with(nats, name, &|_| {}, clock).await
}
