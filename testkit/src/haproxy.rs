//! A real HAProxy (Debian's `haproxy`) in TCP mode in front of test servers, sending
//! the PROXY protocol: started in the foreground (`-db`) with a config written to its
//! own folder, on a free loopback port (a port taken meanwhile by someone else is
//! retried on another), and killed when dropped. Found as `$HAPROXY`, else `haproxy`
//! on `PATH`, else `/usr/sbin/haproxy`. A missing haproxy is a failure, never a skip:
//! `.ci/run` installs it. Starting waits on the caller's tokio runtime, never by
//! blocking one of its threads.

use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tokio::time::Instant;

/// Which PROXY protocol version HAProxy sends to the servers.
#[derive(Debug, Clone, Copy)]
pub enum SendProxy {
    /// `send-proxy`: the text header.
    V1,
    /// `send-proxy-v2`: the binary header (health checks send `LOCAL`).
    V2,
}

/// A running HAProxy.
pub struct HaProxy {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl HaProxy {
    /// Starts HAProxy on a free 127.0.0.1 port in front of the servers on `backends`
    /// (ports on 127.0.0.1), balancing by the client's source address and health
    /// checking them, its files under `dir`.
    ///
    /// # Panics
    /// No haproxy is installed, or it does not listen within 10 s.
    pub async fn start(dir: &Path, backends: &[u16], send: SendProxy) -> HaProxy {
        let binary = find_binary();
        for _ in 0..10 {
            let port = free_port();
            let config = dir.join("haproxy.cfg");
            std::fs::write(&config, config_text(port, backends, send))
                .expect("writing haproxy.cfg");
            let log = dir.join("haproxy.log");
            let stderr = std::fs::File::create(&log).expect("creating haproxy.log");
            let child = Command::new(&binary)
                .arg("-db")
                .arg("-f")
                .arg(&config)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(stderr)
                .spawn()
                .unwrap_or_else(|e| panic!("starting {}: {e}", binary.display()));
            let mut proxy = HaProxy { child, port, log };
            if proxy.wait_listening().await {
                return proxy;
            }
            // It exited: most likely the port was taken between our probe and its bind.
        }
        panic!("haproxy did not start in 10 tries; see {}", dir.display());
    }

    /// The port clients connect to.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// What HAProxy wrote to stderr (its warnings and alerts).
    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Whether it listens (true) or exited first (false).
    async fn wait_listening(&mut self) -> bool {
        let until = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            if listening(self.port).await {
                return true;
            }
            assert!(
                Instant::now() < until,
                "haproxy did not listen on {} within 10 s:\n{}",
                self.port,
                self.output()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

impl Drop for HaProxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn config_text(port: u16, backends: &[u16], send: SendProxy) -> String {
    let send = match send {
        SendProxy::V1 => "send-proxy",
        SendProxy::V2 => "send-proxy-v2",
    };
    let mut text = format!(
        "global\n    maxconn 200\n\
         defaults\n    mode tcp\n    timeout connect 5s\n    timeout client 1m\n    timeout server 1m\n\
         frontend chat\n    bind 127.0.0.1:{port}\n    default_backend nodes\n\
         backend nodes\n    balance source\n"
    );
    for (n, backend) in backends.iter().enumerate() {
        text.push_str(&format!(
            "    server node{n} 127.0.0.1:{backend} {send} check inter 500ms\n"
        ));
    }
    text
}

/// A port nobody listened on a moment ago.
fn free_port() -> u16 {
    let probe = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("a free port");
    probe.local_addr().expect("its address").port()
}

/// Whether something accepts on 127.0.0.1:`port` (the connection goes through to a
/// backend and is closed at once: a header and nothing more).
async fn listening(port: u16) -> bool {
    let connect = tokio::net::TcpStream::connect((Ipv4Addr::LOCALHOST, port));
    matches!(
        tokio::time::timeout(Duration::from_millis(200), connect).await,
        Ok(Ok(_))
    )
}

/// The `haproxy` binary to run.
///
/// # Panics
/// None is installed.
pub fn find_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("HAPROXY") {
        return PathBuf::from(path);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin")])
        .map(|dir| dir.join("haproxy"))
        .find(|candidate| candidate.is_file())
        .expect("haproxy is not installed: run .ci/run (apt-get install haproxy), or set HAPROXY")
}
