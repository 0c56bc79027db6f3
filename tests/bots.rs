//! Bots and line mode never lose a line silently (SPEC §4, issue 16): the real `ssh`
//! with piped input. Lines that all went in end with exit status 0; a refused nickname,
//! a full room or a refused line gives one line on stderr (or the refusal in the room's
//! output) and exit status 1, and the piped text never becomes a nickname.

mod common;

use std::process::Stdio;

use common::{user_key, write_openssh_key, OpenSsh, TestClient, TestServer, WAIT};
use ssh_chatroom::room::Clock;
use tokio::io::AsyncWriteExt;

/// What a finished `ssh` printed and how it exited.
struct Ran {
    stdout: String,
    stderr: String,
    status: Option<i32>,
}

/// `printf INPUT | ssh USER@host [COMMAND]` without a pty, as a bot runs it.
async fn pipe(server: &TestServer, user: &str, command: Option<&str>, input: &str) -> Ran {
    let key = write_openssh_key(server.dir.path(), &format!("{user}.key"), &user_key());
    pipe_with_key(server, &key, user, command, input).await
}

async fn pipe_with_key(
    server: &TestServer,
    key: &std::path::Path,
    user: &str,
    command: Option<&str>,
    input: &str,
) -> Ran {
    let mut child = OpenSsh::command(server.port(), key, &["-T"], user, command)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("ssh runs");
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input.as_bytes()).await.unwrap();
    drop(stdin);
    let out = tokio::time::timeout(WAIT, child.wait_with_output())
        .await
        .expect("ssh exits")
        .unwrap();
    Ran {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        status: out.status.code(),
    }
}

/// A participant in #ops, watching what the bots do there.
async fn watcher_in_ops(server: &TestServer) -> TestClient {
    let mut watcher = TestClient::joined(server.port(), "watcher").await;
    watcher.send_line("/join ops").await;
    watcher.expect("Welcome to #ops, watcher!").await;
    watcher
}

#[tokio::test]
async fn a_bots_lines_are_posted_and_ssh_exits_0() {
    let server = TestServer::start().await;
    let mut watcher = watcher_in_ops(&server).await;
    let ran = pipe(&server, "ci", Some("ops"), "build passed\ndeployed\n").await;
    watcher.expect("ci >> build passed").await;
    watcher.expect("ci >> deployed").await;
    assert_eq!(ran.status, Some(0), "{}", ran.stderr);
    assert_eq!(ran.stderr, "");
    assert!(ran.stdout.contains("ci >> deployed"), "{}", ran.stdout);
}

#[tokio::test]
async fn a_taken_nickname_is_one_line_on_stderr_and_the_piped_text_never_a_name() {
    let server = TestServer::start().await;
    let mut watcher = watcher_in_ops(&server).await;
    let _ci = TestClient::joined(server.port(), "ci").await;
    let ran = pipe(&server, "ci", Some("ops"), "deployed\n").await;
    assert_eq!(ran.status, Some(1));
    assert_eq!(
        ran.stderr,
        "[Server]: The nickname \"ci\" is already taken.\n"
    );
    assert_eq!(ran.stdout, "", "no prompt, no welcome");
    // Nothing reached the room: the watcher's own next line is the next thing it sees.
    watcher.send_line("anyone?").await;
    let seen = watcher.expect("watcher >> anyone?").await;
    assert!(!seen.contains("deployed"), "{seen:?}");
}

#[tokio::test]
async fn a_generic_login_without_a_terminal_is_told_to_name_itself() {
    let server = TestServer::start().await;
    let mut watcher = TestClient::joined(server.port(), "watcher").await;
    let ran = pipe(&server, "chat", None, "deployed\n").await;
    assert_eq!(ran.status, Some(1));
    assert_eq!(
        ran.stderr,
        "[Server]: \"chat\" is the name for choosing a nickname at a prompt, which needs a \
         terminal: connect as NICKNAME@host.\n"
    );
    assert!(!ran.stdout.contains("Nickname:"), "{}", ran.stdout);
    watcher.send_line("anyone?").await;
    let seen = watcher.expect("watcher >> anyone?").await;
    assert!(!seen.contains("deployed"), "{seen:?}");
}

#[tokio::test]
async fn a_full_room_is_one_line_on_stderr_and_status_1() {
    let server = TestServer::start_with(|c| c.capacity = 1, Clock::System).await;
    let _alone = TestClient::joined(server.port(), "alone").await;
    let ran = pipe(&server, "ci", None, "deployed\n").await;
    assert_eq!(ran.status, Some(1));
    assert_eq!(
        ran.stderr,
        "[Server]: The chat room is full (1/1). Please try again later.\n"
    );
}

#[tokio::test]
async fn a_refused_line_makes_the_bot_exit_1() {
    // One line a second after a burst of two.
    let server = TestServer::start_with(
        |c| {
            c.message_rate = 1.0;
            c.message_burst = 2;
        },
        Clock::System,
    )
    .await;
    let mut watcher = watcher_in_ops(&server).await;
    let ran = pipe(&server, "ci", Some("ops"), "one\ntwo\nthree\n").await;
    watcher.expect("ci >> two").await;
    assert_eq!(ran.status, Some(1), "{}", ran.stdout);
    assert!(
        ran.stdout
            .contains("[Server]: You are sending messages too fast. Please wait a moment."),
        "{}",
        ran.stdout
    );
    // A command that fails is a refused line too; one that works is not.
    let ran = pipe(&server, "ci", Some("ops"), "/whisper nobody hi\n").await;
    assert_eq!(ran.status, Some(1), "{} / {}", ran.stdout, ran.stderr);
    let ran = pipe(&server, "ci", Some("ops"), "/user\n").await;
    assert_eq!(ran.status, Some(0), "{}", ran.stdout);
}
