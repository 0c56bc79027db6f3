//! The chat nodes of a soak: real `ssh-chatroom` processes joined to the soak's NATS,
//! each with its own folder and a fixed `--node-name`, started, SIGKILLed, SIGTERMed and
//! started again; and the table of where each one listens while it is up.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// How long a node may take to say where it listens: its start waits up to 10 s for
/// NATS and 30 s for its buckets, and after a SIGKILL for its old presence to lapse.
const BANNER_WITHIN: Duration = Duration::from_secs(45);
/// How long a SIGTERMed node is waited for before it is SIGKILLed (SPEC §7 says 5 s).
const STOP_WITHIN: Duration = Duration::from_secs(15);

/// Where each node listens while it is up (`None` while it is down), shared with the
/// users who connect to them.
#[derive(Clone, Default)]
pub struct NodeTable(Arc<Mutex<Vec<Option<u16>>>>);

impl NodeTable {
    fn set(&self, node: usize, port: Option<u16>) {
        self.0.lock().expect("no panics while locked")[node] = port;
    }

    /// Node `home` if it is up, else the next one up after it: its index and address.
    pub fn pick(&self, home: usize) -> Option<(usize, SocketAddr)> {
        let ports = self.0.lock().expect("no panics while locked");
        let n = ports.len();
        (0..n).map(|k| (home + k) % n).find_map(|i| {
            let port = ports[i]?;
            Some((i, SocketAddr::from(([127, 0, 0, 1], port))))
        })
    }
}

/// The node processes.
pub struct Nodes {
    binary: PathBuf,
    /// Every argument but the per-node ones.
    common: Vec<String>,
    dir: PathBuf,
    children: Vec<Option<Child>>,
    table: NodeTable,
}

impl Nodes {
    /// Starts `count` nodes named `n1`, `n2`, ... of the cluster at `urls`, each in
    /// `dir/nN`, with the host key `dir/ssh_host_ed25519_key` (made here), the limits a
    /// load generator would hit switched off, rooms of `capacity`, and `extra` arguments.
    ///
    /// # Errors
    /// A node does not start or never says where it listens.
    pub async fn start(
        binary: &Path,
        dir: &Path,
        urls: &[String],
        count: usize,
        capacity: usize,
        extra: &[String],
    ) -> anyhow::Result<Nodes> {
        let host_key = dir.join("ssh_host_ed25519_key");
        let key =
            russh::keys::PrivateKey::random(&mut rand::rng(), russh::keys::Algorithm::Ed25519)?;
        key.write_openssh_file(&host_key, russh::keys::ssh_key::LineEnding::LF)?;
        let mut common = vec![
            format!("--cluster={}", urls.join(",")),
            format!("--host-key={}", host_key.display()),
            format!("--capacity={capacity}"),
            "--max-handshakes=0".into(),
        ];
        if urls.len() > 1 {
            common.push(format!("--cluster-replicas={}", urls.len().min(3)));
        }
        common.extend(extra.iter().cloned());
        let mut nodes = Nodes {
            binary: binary.to_path_buf(),
            common,
            dir: dir.to_path_buf(),
            children: (0..count).map(|_| None).collect(),
            table: NodeTable(Arc::new(Mutex::new(vec![None; count]))),
        };
        let spawned: Vec<_> = (0..count)
            .map(|i| nodes.spawn(i))
            .collect::<Result<_, _>>()?;
        for (i, child) in spawned.into_iter().enumerate() {
            nodes.listening(i, child).await?;
        }
        Ok(nodes)
    }

    /// The table users pick their node from.
    pub fn table(&self) -> NodeTable {
        self.table.clone()
    }

    /// The name of node `i`.
    pub fn name(i: usize) -> String {
        format!("n{}", i + 1)
    }

    /// Node `i`'s folder (its `logs/server.txt`, and `stderr.txt`, its service log).
    pub fn dir_of(&self, i: usize) -> PathBuf {
        self.dir.join(Nodes::name(i))
    }

    /// How many nodes there are.
    pub fn len(&self) -> usize {
        self.children.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.children.is_empty()
    }

    fn spawn(&self, i: usize) -> anyhow::Result<Child> {
        let dir = self.dir_of(i);
        std::fs::create_dir_all(&dir)?;
        let stderr = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("stderr.txt"))?;
        Command::new(&self.binary)
            .args(crate::server_flags(&dir))
            .args(&self.common)
            .arg(format!("--node-name={}", Nodes::name(i)))
            .stdout(Stdio::piped())
            .stderr(stderr)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", self.binary.display()))
    }

    /// Reads the port from a started node's banner, then keeps reading its stdout so it
    /// never writes into a closed pipe; marks the node up.
    async fn listening(&mut self, i: usize, mut child: Child) -> anyhow::Result<u16> {
        let stdout = child.stdout.take().context("stdout piped")?;
        let mut lines = BufReader::new(stdout).lines();
        let banner = tokio::time::timeout(BANNER_WITHIN, async {
            while let Some(line) = lines.next_line().await? {
                if let Some(rest) = line.strip_prefix("ssh-chatroom listening on ") {
                    return Ok(rest.to_string());
                }
            }
            anyhow::bail!("it ended without saying where it listens")
        })
        .await;
        let name = Nodes::name(i);
        let log = self.dir_of(i).join("stderr.txt");
        let banner = banner
            .with_context(|| format!("node {name} did not listen within {BANNER_WITHIN:?}"))?
            .with_context(|| format!("node {name} (see {})", log.display()))?;
        let addr = banner.split(' ').next().unwrap_or_default();
        let port: u16 = addr
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .with_context(|| format!("node {name}'s banner: {banner}"))?;
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        self.children[i] = Some(child);
        self.table.set(i, Some(port));
        Ok(port)
    }

    /// Starts node `i` again under its name; returns how long until it listened.
    ///
    /// # Errors
    /// As [`Nodes::start`].
    pub async fn restart(&mut self, i: usize) -> anyhow::Result<Duration> {
        let started = Instant::now();
        let child = self.spawn(i)?;
        self.listening(i, child).await?;
        Ok(started.elapsed())
    }

    /// SIGKILLs node `i` and waits for it to be gone.
    pub async fn kill(&mut self, i: usize) {
        self.table.set(i, None);
        if let Some(mut child) = self.children[i].take() {
            let _ = child.start_kill();
            let _ = child.wait().await;
        }
    }

    /// SIGTERMs node `i` and waits for it to exit (SIGKILL after 15 s); returns how
    /// long it took and whether it exited with success.
    ///
    /// # Errors
    /// The signal cannot be sent.
    pub async fn terminate(&mut self, i: usize) -> anyhow::Result<(Duration, bool)> {
        self.table.set(i, None);
        let Some(mut child) = self.children[i].take() else {
            return Ok((Duration::ZERO, false));
        };
        let signalled = Instant::now();
        if let Some(pid) = child.id() {
            // `kill` the command: the workspace forbids the `unsafe` of `libc::kill`.
            let status = Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status()
                .await?;
            anyhow::ensure!(status.success(), "kill -TERM {pid} failed");
        }
        let clean = match tokio::time::timeout(STOP_WITHIN, child.wait()).await {
            Ok(status) => status.is_ok_and(|s| s.success()),
            Err(_) => {
                let _ = child.start_kill();
                let _ = child.wait().await;
                false
            }
        };
        Ok((signalled.elapsed(), clean))
    }
}
