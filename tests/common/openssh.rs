//! The real OpenSSH `ssh` as a test client: spawned with piped stdin and stdout, its
//! output collected as it arrives.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use russh::keys::PrivateKey;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{Transcript, WAIT};

/// A real OpenSSH `ssh` process with piped stdin and stdout.
pub struct OpenSsh {
    pub child: tokio::process::Child,
    stdin: Option<tokio::process::ChildStdin>,
    pub transcript: Transcript,
    seen: usize,
    reader: Option<tokio::task::JoinHandle<()>>,
}

/// Writes `key` where OpenSSH can use it (mode 0600) and returns the path.
pub fn write_openssh_key(dir: &Path, name: &str, key: &PrivateKey) -> PathBuf {
    let path = dir.join(name);
    key.write_openssh_file(&path, russh::keys::ssh_key::LineEnding::LF)
        .unwrap();
    path
}

impl OpenSsh {
    /// The `ssh` command line for `user` with `key` and `args` (before the destination)
    /// against the test server, non-interactive about host keys and passwords.
    pub fn command(
        port: u16,
        key: &Path,
        args: &[&str],
        user: &str,
        command: Option<&str>,
    ) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::new("ssh");
        cmd.args(["-p", &port.to_string()])
            .args([
                "-o",
                "StrictHostKeyChecking=no",
                "-o",
                "UserKnownHostsFile=/dev/null",
            ])
            .args([
                "-o",
                "LogLevel=ERROR",
                "-o",
                "IdentitiesOnly=yes",
                "-o",
                "BatchMode=yes",
            ])
            .arg("-i")
            .arg(key)
            .args(args)
            .arg(format!("{user}@127.0.0.1"));
        if let Some(command) = command {
            cmd.arg(command);
        }
        cmd.env("TERM", "xterm");
        cmd
    }

    /// Runs `ssh` with `args` (before the destination) against the test server.
    pub fn spawn(
        port: u16,
        key: &Path,
        args: &[&str],
        user: &str,
        command: Option<&str>,
    ) -> OpenSsh {
        let mut cmd = OpenSsh::command(port, key, args, user, command);
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = cmd.spawn().expect("ssh runs");
        let transcript = Transcript::default();
        let mut stdout = child.stdout.take().unwrap();
        let t = transcript.clone();
        let reader = tokio::spawn(async move {
            let mut buf = [0u8; 4096];
            while let Ok(len) = stdout.read(&mut buf).await {
                if len == 0 {
                    break;
                }
                t.push(&buf[..len]);
                t.wake();
            }
            t.wake();
        });
        let stdin = child.stdin.take();
        OpenSsh {
            child,
            stdin,
            transcript,
            seen: 0,
            reader: Some(reader),
        }
    }

    pub async fn send(&mut self, bytes: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        stdin.write_all(bytes).await.unwrap();
        stdin.flush().await.unwrap();
    }

    /// Closes stdin (end of input).
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    pub async fn expect(&mut self, text: &str) -> String {
        self.transcript.expect_from(&mut self.seen, text).await
    }

    /// Waits for the process to exit and for all its output to be read; returns its
    /// status code.
    pub async fn wait_exit(&mut self) -> Option<i32> {
        let status = tokio::time::timeout(WAIT, self.child.wait())
            .await
            .expect("ssh exits")
            .ok()
            .and_then(|s| s.code());
        if let Some(reader) = self.reader.take() {
            tokio::time::timeout(WAIT, reader)
                .await
                .expect("stdout reaches its end")
                .unwrap();
        }
        status
    }
}
