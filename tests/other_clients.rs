//! Other real SSH clients join and chat: PuTTY's `plink` (with and without a pty) and
//! the Python SSH library paramiko (a shell with a pty, and the `users` exec command).
//!
//! Needs `plink` and `puttygen` (Debian package `putty-tools`) and `python3` with
//! `paramiko` (`python3-paramiko`, or `pip install paramiko`). A missing tool fails the
//! test with the command that installs it.

mod common;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};

use common::{strip_colours, user_key, write_openssh_key, TestClient, TestServer, WAIT};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

/// Fails, saying what to install, unless `program args...` runs and succeeds.
fn require(program: &str, args: &[&str], install: &str) {
    let ok = std::process::Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map(|out| out.status.success());
    match ok {
        Ok(true) => {}
        Ok(false) => panic!(
            "`{program} {}` failed; install it: {install}",
            args.join(" ")
        ),
        Err(e) => panic!("`{program}` cannot run ({e}); install it: {install}"),
    }
}

/// The SHA256 fingerprint of the test server's host key, as `SHA256:...`.
fn host_fingerprint(server: &TestServer) -> String {
    let key = russh::keys::PrivateKey::read_openssh_file(&server.config.host_key)
        .expect("the server wrote its host key");
    ssh_chatroom::keys::fingerprint(key.public_key())
}

/// A fresh user key in OpenSSH format; returns its path.
fn openssh_key(server: &TestServer, name: &str) -> PathBuf {
    write_openssh_key(server.dir.path(), name, &user_key())
}

/// Converts an OpenSSH private key to PuTTY's .ppk format.
fn ppk_key(openssh: &Path) -> PathBuf {
    require("puttygen", &["--version"], "apt-get install -y putty-tools");
    let ppk = openssh.with_extension("ppk");
    let out = std::process::Command::new("puttygen")
        .arg(openssh)
        .args(["-O", "private", "-o"])
        .arg(&ppk)
        .stdin(Stdio::null())
        .output()
        .expect("puttygen runs");
    assert!(
        out.status.success(),
        "puttygen failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    ppk
}

/// Output of a child process collected as it arrives.
#[derive(Clone, Default)]
struct Output {
    bytes: Arc<Mutex<Vec<u8>>>,
    notify: Arc<tokio::sync::Notify>,
}

impl Output {
    fn text(&self) -> String {
        strip_colours(&String::from_utf8_lossy(&self.bytes.lock().unwrap()))
    }

    fn raw(&self) -> Vec<u8> {
        self.bytes.lock().unwrap().clone()
    }

    fn collect(
        &self,
        mut from: impl AsyncRead + Unpin + Send + 'static,
    ) -> tokio::task::JoinHandle<()> {
        let this = self.clone();
        tokio::spawn(async move {
            let mut buf = [0u8; 4096];
            while let Ok(len) = from.read(&mut buf).await {
                if len == 0 {
                    break;
                }
                this.bytes.lock().unwrap().extend_from_slice(&buf[..len]);
                this.notify.notify_waiters();
            }
            this.notify.notify_waiters();
        })
    }
}

/// A client program with piped stdin, stdout and stderr.
struct Piped {
    name: String,
    child: tokio::process::Child,
    stdin: Option<tokio::process::ChildStdin>,
    stdout: Output,
    stderr: Output,
    readers: Vec<tokio::task::JoinHandle<()>>,
    seen: usize,
}

impl Piped {
    fn spawn(mut cmd: tokio::process::Command) -> Piped {
        let name = format!("{:?}", cmd.as_std());
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = cmd.spawn().unwrap_or_else(|e| panic!("{name} runs: {e}"));
        let (stdout, stderr) = (Output::default(), Output::default());
        let readers = vec![
            stdout.collect(child.stdout.take().unwrap()),
            stderr.collect(child.stderr.take().unwrap()),
        ];
        Piped {
            name,
            stdin: child.stdin.take(),
            child,
            stdout,
            stderr,
            readers,
            seen: 0,
        }
    }

    fn report(&self) -> String {
        format!(
            "{}\nstdout: {:?}\nstderr: {:?}",
            self.name,
            self.stdout.text(),
            self.stderr.text()
        )
    }

    async fn send(&mut self, bytes: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        stdin.write_all(bytes).await.unwrap();
        stdin.flush().await.unwrap();
    }

    fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// Waits until stdout (colours removed) shows `text` after the previous match.
    async fn expect(&mut self, text: &str) {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let notified = self.stdout.notify.notified();
            let all = self.stdout.text();
            if let Some(pos) = all[self.seen..].find(text) {
                self.seen += pos + text.len();
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                // It ended: wait until its output is read to the end, then judge for good.
                for reader in self.readers.drain(..) {
                    let _ = tokio::time::timeout(WAIT, reader).await;
                }
                if self.stdout.text()[self.seen..].contains(text) {
                    continue;
                }
                panic!(
                    "waiting for {text:?}, the client exited ({status}): {}",
                    self.report()
                );
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                panic!("timed out waiting for {text:?}: {}", self.report());
            }
        }
    }

    /// Waits for the process to exit and its output to end; returns its exit code.
    async fn wait_exit(&mut self) -> Option<i32> {
        let status = match tokio::time::timeout(WAIT, self.child.wait()).await {
            Ok(status) => status.unwrap(),
            Err(_) => panic!("the client did not exit: {}", self.report()),
        };
        for reader in self.readers.drain(..) {
            tokio::time::timeout(WAIT, reader)
                .await
                .expect("output ends")
                .unwrap();
        }
        status.code()
    }
}

fn plink(server: &TestServer, ppk: &Path, pty: bool, user: &str) -> Piped {
    require("plink", &["-V"], "apt-get install -y putty-tools");
    let mut cmd = tokio::process::Command::new("plink");
    cmd.args([
        "-ssh",
        "-batch",
        "-noagent",
        "-P",
        &server.port().to_string(),
    ])
    .args(["-hostkey", &host_fingerprint(server)])
    .arg("-i")
    .arg(ppk)
    .arg(if pty { "-t" } else { "-T" })
    .arg(format!("{user}@127.0.0.1"))
    .env("TERM", "xterm");
    Piped::spawn(cmd)
}

#[tokio::test]
async fn plink_with_a_pty_joins_and_chats() {
    let server = TestServer::start().await;
    let mut alice = TestClient::join(server.port(), "alice").await;
    alice.expect("Type /help for the list of commands.").await;
    let ppk = ppk_key(&openssh_key(&server, "bob_key"));
    let mut bob = plink(&server, &ppk, true, "bob");
    bob.expect("[Server]: Welcome to #lobby, bob!").await;
    bob.expect("Type /help for the list of commands.").await;
    bob.expect("[Server]: Users (2/10): alice, bob").await;
    alice.expect("[Server]: bob has joined the chat.").await;

    bob.send("hello from plink, 안녕\r".as_bytes()).await;
    alice.expect("bob >> hello from plink, 안녕\r\n").await;
    bob.expect("bob >> hello from plink, 안녕").await;
    alice.send_line("hi plink").await;
    bob.expect("alice >> hi plink").await;
    // with a pty the server edits the line: the prompt comes back after each line
    bob.expect("bob> ").await;

    bob.send(b"/quit\r").await;
    assert_eq!(bob.wait_exit().await, Some(0), "{}", bob.report());
    alice.expect("[Server]: bob has left the chat.").await;
}

#[tokio::test]
async fn plink_without_a_pty_sends_and_receives_plain_lines() {
    let server = TestServer::start().await;
    let mut alice = TestClient::join(server.port(), "alice").await;
    alice.expect("Type /help for the list of commands.").await;
    let ppk = ppk_key(&openssh_key(&server, "bob_key"));
    let mut bob = plink(&server, &ppk, false, "bob");
    bob.expect("Type /help for the list of commands.\n").await;
    alice.expect("[Server]: bob has joined the chat.").await;

    bob.send(b"piped through plink\n/user\n").await;
    alice.expect("bob >> piped through plink\r\n").await;
    bob.expect("[Server]: Users (2/10): alice, bob\n").await;
    alice.send_line("hi plain plink").await;
    bob.expect("alice >> hi plain plink\n").await;

    // end of input leaves the room
    bob.close_stdin();
    assert_eq!(bob.wait_exit().await, Some(0), "{}", bob.report());
    alice.expect("[Server]: bob has left the chat.").await;
    assert!(
        !bob.stdout.raw().contains(&0x1b),
        "no escape codes without a pty: {}",
        bob.report()
    );
}

/// The paramiko client: connects with the key, pins the host key by fingerprint, opens
/// a shell with a pty, chats, then runs the `users` and an unknown exec command on
/// separate connections, leaves with /quit and reports each step on stdout.
const PARAMIKO_CLIENT: &str = r#"
import base64, codecs, hashlib, re, socket, sys, time
import paramiko

port, keyfile, fingerprint = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ANSI = re.compile(r'\x1b\[[0-9;?]*[A-Za-z]')

class Pin(paramiko.MissingHostKeyPolicy):
    def missing_host_key(self, client, hostname, key):
        got = 'SHA256:' + base64.b64encode(hashlib.sha256(key.asbytes()).digest()).decode().rstrip('=')
        if got != fingerprint:
            raise paramiko.SSHException('host key %s is not the pinned %s' % (got, fingerprint))

def connect(user):
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(Pin())
    client.connect('127.0.0.1', port=port, username=user,
                   pkey=paramiko.Ed25519Key.from_private_key_file(keyfile),
                   look_for_keys=False, allow_agent=False,
                   timeout=10, banner_timeout=10, auth_timeout=10)
    return client

def run(user, command):
    client = connect(user)
    _, stdout, _ = client.exec_command(command, timeout=10)
    out = stdout.read().decode()
    status = stdout.channel.recv_exit_status()
    client.close()
    return out, status

shell = connect('python')
chan = shell.invoke_shell(term='xterm', width=80, height=24)
chan.settimeout(0.1)
decoder = codecs.getincrementaldecoder('utf-8')('replace')
seen = ''
closed = False

def pump():
    global seen, closed
    try:
        data = chan.recv(4096)
    except socket.timeout:
        return
    if not data:
        closed = True
    seen += decoder.decode(data)

def wait_for(text):
    deadline = time.time() + 10
    while text not in ANSI.sub('', seen):
        if closed or time.time() > deadline:
            print('FAILED waiting for %r; saw %r' % (text, ANSI.sub('', seen)), flush=True)
            sys.exit(2)
        pump()

wait_for('Type /help for the list of commands.')
wait_for('Users (2/10): alice, python')
print('JOINED', flush=True)
chan.sendall('hello from python, 파이썬\r'.encode())
wait_for('python >> hello from python, 파이썬')
wait_for('alice >> hi python')
print('RECEIVED alice >> hi python', flush=True)

out, status = run('x', 'users')
print('USERS %r %d' % (out, status), flush=True)
out, status = run('x', 'rm -rf /')
print('OTHER %r %d' % (out, status), flush=True)

chan.sendall(b'/quit\r')
deadline = time.time() + 10
while not closed and time.time() < deadline:
    pump()
print('CLOSED' if closed else 'STILL OPEN', flush=True)
shell.close()
"#;

#[tokio::test]
async fn paramiko_shell_chats_and_exec_prints_the_users() {
    require(
        "python3",
        &["-c", "import paramiko"],
        "apt-get install -y python3-paramiko (or: pip install paramiko)",
    );
    let server = TestServer::start().await;
    let mut alice = TestClient::join(server.port(), "alice").await;
    alice.expect("Type /help for the list of commands.").await;
    let key = openssh_key(&server, "python_key");
    let script = server.path("paramiko_client.py");
    std::fs::write(&script, PARAMIKO_CLIENT).unwrap();
    let mut cmd = tokio::process::Command::new("python3");
    cmd.arg(&script)
        .arg(server.port().to_string())
        .arg(&key)
        .arg(host_fingerprint(&server));
    let mut python = Piped::spawn(cmd);

    python.expect("JOINED\n").await;
    alice.expect("[Server]: python has joined the chat.").await;
    alice
        .expect("python >> hello from python, 파이썬\r\n")
        .await;
    alice.send_line("hi python").await;
    python.expect("RECEIVED alice >> hi python\n").await;
    assert_eq!(python.wait_exit().await, Some(0), "{}", python.report());
    alice.expect("[Server]: python has left the chat.").await;

    let out = python.stdout.text();
    assert!(
        out.contains("USERS '[Server]: Users (2/10): alice, python\\n' 0\n"),
        "{}",
        python.report()
    );
    // any other exec command: one line, exit status 1
    let other = out
        .lines()
        .find(|l| l.starts_with("OTHER "))
        .unwrap_or_else(|| panic!("{}", python.report()));
    assert!(
        other.ends_with("\\n' 1") && other.matches("\\n").count() == 1,
        "{}",
        python.report()
    );
    assert!(out.ends_with("CLOSED\n"), "{}", python.report());
}
