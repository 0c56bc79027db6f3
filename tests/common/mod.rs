//! Test harness: a server on port 0 in temp folders, a russh client and a real OpenSSH
//! client, each able to wait (with a timeout) for the text a person would see.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use russh::client;
use russh::keys::{PrivateKey, PrivateKeyWithHashAlg};
use russh::ChannelMsg;
use ssh_chatroom::config::Config;
use ssh_chatroom::keys::fingerprint;
use ssh_chatroom::room::Clock;
use ssh_chatroom::server::{start, RunningServer};
pub use testkit::{AcceptAll, Transcript, WAIT};
// Each test file uses some of these.
#[allow(unused_imports)]
pub use testkit::{strip_colours, wait_for_log_line};

mod openssh;

// Each test file uses some of these.
#[allow(unused_imports)]
pub use openssh::{write_openssh_key, OpenSsh};

/// A server listening on 127.0.0.1:0 with its files in a temp folder.
pub struct TestServer {
    pub dir: tempfile::TempDir,
    pub config: Config,
    running: Option<RunningServer>,
}

impl TestServer {
    pub async fn start() -> TestServer {
        TestServer::start_with(|_| {}, Clock::System).await
    }

    pub async fn start_with(configure: impl FnOnce(&mut Config), clock: Clock) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let mut config = test_config(dir.path());
        configure(&mut config);
        TestServer::start_in(dir, config, clock).await
    }

    /// Starts a server on an existing folder (for restart tests).
    pub async fn start_in(dir: tempfile::TempDir, config: Config, clock: Clock) -> TestServer {
        // On the heap: a cluster node's start is a big future for a test thread's stack.
        let running = Box::pin(start(config.clone(), clock))
            .await
            .expect("server starts");
        TestServer {
            dir,
            config,
            running: Some(running),
        }
    }

    pub fn port(&self) -> u16 {
        self.running.as_ref().unwrap().local_addr.port()
    }

    /// Where it serves `/metrics` and `/healthz` (started with `config.metrics` set).
    pub fn metrics_addr(&self) -> std::net::SocketAddr {
        let running = self.running.as_ref().unwrap();
        running.metrics_addr.expect("started with --metrics")
    }

    /// The token that starts its shutdown when cancelled.
    pub fn shutdown_token(&self) -> tokio_util::sync::CancellationToken {
        self.running.as_ref().unwrap().shutdown_token()
    }

    /// What SIGHUP does: the admins file re-read, the logs reopened.
    pub async fn reload(&self) {
        let reloader = self.running.as_ref().unwrap().reloader();
        reloader.reload().await.expect("the admins file is read");
    }

    /// SHA256 fingerprint of its host key.
    pub fn host_key_fingerprint(&self) -> &str {
        &self.running.as_ref().unwrap().host_key_fingerprint
    }

    pub fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    /// Graceful stop; returns the folder so a new server can start on it.
    pub async fn stop(mut self) -> (tempfile::TempDir, Config) {
        self.running.take().unwrap().shutdown().await;
        (self.dir, self.config)
    }
}

/// The settings of a test server with its files under `dir` (testkit's flags, the
/// same the real binary is given).
pub fn test_config(dir: &Path) -> Config {
    Config::from_flags(testkit::server_flags(dir)).expect("the test flags parse")
}

/// Node `name`'s connection to `nats` and its buckets, without a server around it: what
/// a seam's NATS side is opened on in a contract test.
pub async fn nats_node(
    dir: &Path,
    nats: &testkit::NatsServer,
    name: &str,
) -> ssh_chatroom::cluster::Cluster {
    let mut config = test_config(dir);
    config.cluster = vec![nats.url()];
    config.node_name = Some(name.into());
    ssh_chatroom::cluster::Cluster::connect(&config)
        .await
        .expect("the node connects")
}

/// The port a server run as the real binary (with stdout piped) says it listens on;
/// its stdout is read on afterwards, so it never writes into a closed pipe.
pub async fn listening_port(child: &mut tokio::process::Child) -> u16 {
    listening_port_within(child, WAIT).await
}

/// [`listening_port`], waiting at most `bound` for the banner.
pub async fn listening_port_within(
    child: &mut tokio::process::Child,
    bound: std::time::Duration,
) -> u16 {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let mut lines = BufReader::new(child.stdout.take().expect("stdout piped")).lines();
    let port = tokio::time::timeout(bound, async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(rest) = line.strip_prefix("ssh-chatroom listening on ") {
                let addr = rest.split(' ').next().unwrap();
                return addr.rsplit(':').next().unwrap().parse::<u16>().unwrap();
            }
        }
        panic!("the server ended without saying where it listens");
    })
    .await
    .unwrap_or_else(|_| panic!("the server never said where it listens within {bound:?}"));
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    port
}

/// A fresh Ed25519 user key.
pub use testkit::user_key;

pub fn key_fingerprint(key: &PrivateKey) -> String {
    fingerprint(key.public_key())
}

/// A chat participant driven by the russh client.
pub struct TestClient {
    pub transcript: Transcript,
    seen: usize,
    writer: russh::ChannelWriteHalf<client::Msg>,
    exit: Arc<Mutex<Option<u32>>>,
    _session: client::Handle<AcceptAll>,
}

/// How a [`TestClient`] asks for its session.
#[derive(Clone, Copy)]
pub enum Mode {
    Pty,
    /// A pty whose TERM is `dumb`.
    Dumb,
    Plain,
}

impl TestClient {
    /// Connects as `user` with a fresh key and opens a pty shell.
    pub async fn join(port: u16, user: &str) -> TestClient {
        TestClient::connect(port, user, Some(user_key()), Mode::Pty).await
    }

    /// Joins as `user` and waits for the end of the welcome.
    pub async fn joined(port: u16, user: &str) -> TestClient {
        let mut client = TestClient::join(port, user).await;
        client.expect("Type /help").await;
        client
    }

    pub async fn connect(port: u16, user: &str, key: Option<PrivateKey>, mode: Mode) -> TestClient {
        let (session, channel) = TestClient::open(port, user, key).await;
        TestClient::start_shell(session, channel, mode).await
    }

    /// Asks for a pty as `mode` says and a shell on an opened session channel.
    pub async fn start_shell(
        session: client::Handle<AcceptAll>,
        channel: russh::Channel<client::Msg>,
        mode: Mode,
    ) -> TestClient {
        let term = match mode {
            Mode::Pty => Some("xterm"),
            Mode::Dumb => Some("dumb"),
            Mode::Plain => None,
        };
        if let Some(term) = term {
            channel
                .request_pty(true, term, 80, 24, 0, 0, &[])
                .await
                .unwrap();
        }
        channel.request_shell(true).await.unwrap();
        TestClient::from_channel(session, channel)
    }

    /// Runs `command` as an exec request and returns everything printed and the status.
    pub async fn exec(port: u16, user: &str, command: &str) -> (String, Option<u32>) {
        let (session, channel) = TestClient::open(port, user, Some(user_key())).await;
        channel.exec(true, command).await.unwrap();
        let client = TestClient::from_channel(session, channel);
        client.transcript.expect_closed("exec ends").await;
        let status = *client.exit.lock().unwrap();
        (client.transcript.text(), status)
    }

    async fn open(
        port: u16,
        user: &str,
        key: Option<PrivateKey>,
    ) -> (client::Handle<AcceptAll>, russh::Channel<client::Msg>) {
        let config = Arc::new(client::Config::default());
        let mut session = client::connect(config, ("127.0.0.1", port), AcceptAll)
            .await
            .expect("connects");
        match key {
            Some(key) => {
                let key = PrivateKeyWithHashAlg::new(Arc::new(key), None);
                let result = session.authenticate_publickey(user, key).await.unwrap();
                assert!(result.success(), "public key auth accepted");
            }
            None => {
                let reply = session
                    .authenticate_keyboard_interactive_start(user, None)
                    .await
                    .unwrap();
                assert!(matches!(
                    reply,
                    client::KeyboardInteractiveAuthResponse::Success
                ));
            }
        }
        let channel = session.channel_open_session().await.unwrap();
        (session, channel)
    }

    fn from_channel(
        session: client::Handle<AcceptAll>,
        channel: russh::Channel<client::Msg>,
    ) -> TestClient {
        let transcript = Transcript::default();
        let exit = Arc::new(Mutex::new(None));
        let (mut reader, writer) = channel.split();
        let (t, e) = (transcript.clone(), exit.clone());
        tokio::spawn(async move {
            while let Some(msg) = reader.wait().await {
                match msg {
                    ChannelMsg::Data { data } => t.push(&data),
                    ChannelMsg::ExitStatus { exit_status } => {
                        *e.lock().unwrap() = Some(exit_status)
                    }
                    ChannelMsg::Close => break,
                    _ => {}
                }
                t.wake();
            }
            t.wake();
            t.close();
        });
        TestClient {
            transcript,
            seen: 0,
            writer,
            exit,
            _session: session,
        }
    }

    /// Asks for a second session channel and a direct-tcpip (`ssh -L`) channel on this
    /// connection; returns whether each was granted.
    pub async fn try_extra_channels(&self) -> (bool, bool) {
        let second = self._session.channel_open_session().await.is_ok();
        let tunnel = self
            ._session
            .channel_open_direct_tcpip("127.0.0.1", 22, "127.0.0.1", 5555)
            .await
            .is_ok();
        (second, tunnel)
    }

    /// Reports a terminal resize.
    pub async fn resize(&self, cols: u32, rows: u32) {
        self.writer.window_change(cols, rows, 0, 0).await.unwrap();
    }

    /// Sends raw bytes as if typed.
    pub async fn send(&self, bytes: &[u8]) {
        self.writer.data_bytes(bytes.to_vec()).await.unwrap();
    }

    /// Types `line` and presses Enter.
    pub async fn send_line(&self, line: &str) {
        self.send(format!("{line}\r").as_bytes()).await;
    }

    /// Sends EOF (end of piped input).
    pub async fn eof(&self) {
        self.writer.eof().await.unwrap();
    }

    /// Waits for `text` to appear after what was already matched; returns the output
    /// from the previous match up to and including it.
    pub async fn expect(&mut self, text: &str) -> String {
        self.transcript.expect_from(&mut self.seen, text).await
    }

    /// Waits until the server closes the channel.
    pub async fn expect_closed(&self) {
        self.transcript
            .expect_closed("the server closes the session")
            .await;
    }
}
