//! Harness for the cluster tests: a real `nats-server -js` on a free port and several
//! nodes joined to it, each a server of its own (in this process, or the real binary
//! when a test kills it).
#![allow(dead_code)]

use std::path::Path;

use ssh_chatroom::room::Clock;
use testkit::NatsServer;

use crate::common::TestServer;

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
        let nats = NatsServer::start(dir.path());
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
    let d = dir.display();
    vec![
        format!("--cluster={}", nats.url()),
        format!("--node-name={name}"),
        format!("--log-dir={d}/logs"),
        format!("--data-dir={d}/data"),
        format!("--host-key={}", shared_host_key(nats).display()),
        format!("--admins-file={d}/keys/admins"),
        "--timezone=UTC".into(),
        "--max-conns-per-ip=0".into(),
        "--listen=127.0.0.1:0".into(),
    ]
}

/// A node run as the real binary (so a test can SIGKILL it), and its SSH port.
pub async fn spawn_node(nats: &NatsServer, name: &str, dir: &Path) -> (tokio::process::Child, u16) {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_ssh-chatroom"))
        .args(node_args(nats, name, dir))
        .arg("--message-rate=0")
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
