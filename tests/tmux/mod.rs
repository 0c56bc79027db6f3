//! A real terminal for the screen tests: `tmux` running the real OpenSSH `ssh`, driven
//! with `send-keys` and read with `capture-pane` and the cursor position.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::common::{user_key, write_openssh_key, TestClient, TestServer, WAIT};

/// What the terminal shows at one moment: its rows (trailing blanks trimmed) and the
/// cursor, column and row counted from 0.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub rows: Vec<String>,
    pub cursor: (usize, usize),
    pub width: usize,
}

impl Snapshot {
    /// The row the cursor is on.
    pub fn cursor_row(&self) -> &str {
        self.rows.get(self.cursor.1).map_or("", String::as_str)
    }

    /// Whether the cursor row is exactly `row` and the cursor is at column `x` in it.
    pub fn input_is(&self, row: &str, x: usize) -> bool {
        self.cursor_row() == row && self.cursor.0 == x
    }

    /// The rows that are not blank.
    pub fn non_blank(&self) -> Vec<&str> {
        self.rows
            .iter()
            .map(String::as_str)
            .filter(|r| !r.is_empty())
            .collect()
    }

    pub fn contains_row(&self, row: &str) -> bool {
        self.rows.iter().any(|r| r == row)
    }

    pub fn show(&self) -> String {
        let mut out = format!(
            "cursor at column {}, row {} (width {}):\n",
            self.cursor.0, self.cursor.1, self.width
        );
        out.push_str(&format!("+{}+\n", "-".repeat(self.width)));
        for (i, row) in self.rows.iter().enumerate() {
            let mark = if i == self.cursor.1 { " <- cursor" } else { "" };
            out.push_str(&format!("|{row}{mark}\n"));
        }
        out.push_str(&format!("+{}+", "-".repeat(self.width)));
        out
    }
}

/// A detached tmux server of its own (its socket in a temp folder of its own) with one
/// session `s` whose only pane runs `ssh`; killed when dropped, also when the test
/// panics.
pub struct Tmux {
    socket: PathBuf,
    _dir: tempfile::TempDir,
}

impl Tmux {
    /// Starts `ssh -tt` into the chat as `user` in a `width`×`height` pane.
    pub async fn ssh(port: u16, key: &Path, user: &str, width: u16, height: u16) -> Tmux {
        for (program, arg, package) in [("tmux", "-V", "tmux"), ("ssh", "-V", "openssh-client")] {
            if let Err(e) = std::process::Command::new(program).arg(arg).output() {
                panic!(
                    "`{program}` cannot run ({e}): the screen tests need it \
                     (apt-get install -y {package})"
                );
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let tmux = Tmux {
            socket: dir.path().join("tmux"),
            _dir: dir,
        };
        // When ssh ends, the pane keeps showing why instead of disappearing.
        let command = format!(
            "ssh -tt -p {port} -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
             -o LogLevel=ERROR -o IdentitiesOnly=yes -o BatchMode=yes -i '{}' {user}@127.0.0.1; \
             echo \"[ssh exited with status $?]\"; sleep 600",
            key.display()
        );
        tmux.run(&[
            "new-session",
            "-d",
            "-x",
            &width.to_string(),
            "-y",
            &height.to_string(),
            "-s",
            "s",
            &command,
        ])
        .await;
        tmux
    }

    pub fn command(&self) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::new("tmux");
        // -f /dev/null: no user configuration; -u and the locale: UTF-8 and Unicode
        // widths whatever the environment running the tests says.
        cmd.args(["-u", "-f", "/dev/null", "-S"])
            .arg(&self.socket)
            .env("LC_ALL", "C.UTF-8")
            .env("TERM", "xterm-256color")
            .kill_on_drop(true);
        cmd
    }

    pub async fn run(&self, args: &[&str]) -> String {
        let out = self.command().args(args).output().await.expect("tmux runs");
        assert!(
            out.status.success(),
            "tmux {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("tmux prints UTF-8")
    }

    /// Types `text` literally.
    pub async fn type_text(&self, text: &str) {
        self.run(&["send-keys", "-t", "s", "-l", text]).await;
    }

    /// Presses keys by tmux name: `Left`, `Home`, `BSpace`, `C-a`, `Enter`...
    pub async fn press(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "s"];
        args.extend_from_slice(keys);
        self.run(&args).await;
    }

    /// The screen and the cursor, taken in one tmux command so they belong together.
    pub async fn snapshot(&self) -> Snapshot {
        let out = self
            .run(&[
                "capture-pane",
                "-p",
                "-t",
                "s",
                ";",
                "display-message",
                "-p",
                "-t",
                "s",
                "#{cursor_x} #{cursor_y} #{pane_width} #{pane_height}",
            ])
            .await;
        let mut lines: Vec<&str> = out.lines().collect();
        let info = lines.pop().expect("cursor line");
        let nums: Vec<usize> = info
            .split(' ')
            .map(|n| n.parse().expect("a number"))
            .collect();
        let height = nums[3];
        let mut rows: Vec<String> = lines.iter().map(|r| r.trim_end().to_string()).collect();
        rows.resize(height, String::new());
        Snapshot {
            rows,
            cursor: (nums[0], nums[1]),
            width: nums[2],
        }
    }

    /// Polls the screen until `ok` holds; fails showing the last screen.
    pub async fn wait_until(&self, what: &str, ok: impl Fn(&Snapshot) -> bool) -> Snapshot {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let snap = self.snapshot().await;
            if ok(&snap) {
                return snap;
            }
            if tokio::time::Instant::now() >= deadline {
                panic!("timed out waiting for {what}; last screen, {}", snap.show());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits until the cursor row reads exactly `row` with the cursor at column `x`.
    pub async fn expect_input(&self, row: &str, x: usize) -> Snapshot {
        self.wait_until(
            &format!("input row {row:?} with the cursor at column {x}"),
            |s| s.input_is(row, x),
        )
        .await
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = std::process::Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .arg("kill-server")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
    }
}

/// The display width of the prompt `bob> `.
pub const PROMPT: usize = 5;

/// Starts a server with `alice` (a russh client) in the room, then `bob` with the real
/// `ssh` in an 80×24 tmux pane, and waits for bob's empty input row.
pub async fn alice_and_bob(width: u16) -> (TestServer, TestClient, Tmux) {
    let server = TestServer::start().await;
    let mut alice = TestClient::join(server.port(), "alice").await;
    alice.expect("Type /help for the list of commands.").await;
    let key = write_openssh_key(server.dir.path(), "bob_key", &user_key());
    let bob = Tmux::ssh(server.port(), &key, "bob", width, 24).await;
    bob.wait_until("bob's welcome and an empty input row", |s| {
        s.rows
            .iter()
            .any(|r| r.contains("Type /help for the list of commands."))
            && s.rows
                .iter()
                .any(|r| r.contains("Users (2/10): alice, bob"))
            && s.input_is("bob>", PROMPT)
    })
    .await;
    alice.expect("[Server]: bob has joined the chat.").await;
    (server, alice, bob)
}

/// The input row of a snapshot fits the terminal: it is the cursor row, holds the
/// prompt and a contiguous piece of `input`, is narrower than the pane and the cursor
/// is inside it.
pub fn input_row_fits(s: &Snapshot, input: &str) -> bool {
    let row = s.cursor_row();
    let Some(shown) = row.strip_prefix("bob> ") else {
        return false;
    };
    !shown.is_empty()
        && input.contains(shown)
        && row.chars().count() < s.width
        && s.cursor.0 < s.width
}

/// Rows other than the cursor row that show a piece of the input row: the prompt, or a
/// run of five digits (the long input below is all digits; no other line has such runs).
pub fn stray_input_rows(s: &Snapshot) -> Vec<String> {
    s.rows
        .iter()
        .enumerate()
        .filter(|(i, r)| {
            let digits = r
                .as_bytes()
                .windows(5)
                .any(|w| w.iter().all(u8::is_ascii_digit));
            *i != s.cursor.1 && (r.starts_with("bob> ") || digits)
        })
        .map(|(_, r)| r.clone())
        .collect()
}
