//! End to end with the real OpenSSH client: `ssh -tt` (the server's line editor over a
//! pty), `ssh -T` with piped input, the `users` exec command and the nickname prompt.

mod common;

use common::{user_key, write_openssh_key, OpenSsh, TestServer};

/// Runs the real `ssh` as `user` with a fresh key of its own.
fn ssh(server: &TestServer, args: &[&str], user: &str, command: Option<&str>) -> OpenSsh {
    let key = write_openssh_key(server.dir.path(), &format!("{user}.key"), &user_key());
    OpenSsh::spawn(server.port(), &key, args, user, command)
}

#[tokio::test]
async fn two_people_chat_through_ssh_with_a_pty() {
    let server = TestServer::start().await;
    let mut alice = ssh(&server, &["-tt"], "alice", None);
    alice.expect("Type /help").await;
    let mut bob = ssh(&server, &["-tt"], "bob", None);
    bob.expect("Users (2/10): alice, bob").await;
    alice.expect("[Server]: bob has joined the chat.").await;
    alice.send(b"Hello everyone!\r").await;
    bob.expect("alice >> Hello everyone!\r\n").await;
    alice.expect("alice >> Hello everyone!\r\n").await;
    bob.send(b"/quit\r").await;
    assert_eq!(bob.wait_exit().await, Some(0));
    alice.expect("[Server]: bob has left the chat.").await;
}

#[tokio::test]
async fn half_typed_korean_input_survives_incoming_messages() {
    let server = TestServer::start().await;
    let mut alice = ssh(&server, &["-tt"], "alice", None);
    alice.expect("Type /help").await;
    let mut bob = ssh(&server, &["-tt"], "bob", None);
    bob.expect("Type /help").await;
    bob.send("안녕하".as_bytes()).await;
    bob.expect("bob> 안녕하").await;
    alice.send(b"interrupting\r").await;
    // the message is printed on a cleared row, then the prompt and the input come back
    bob.expect("\r\x1b[Kalice >> interrupting\r\n\rbob> 안녕하\x1b[K")
        .await;
    bob.send("세요\r".as_bytes()).await;
    alice.expect("bob >> 안녕하세요").await;
}

#[tokio::test]
async fn piped_session_without_a_pty_is_plain_lines() {
    let server = TestServer::start().await;
    let mut alice = ssh(&server, &["-tt"], "alice", None);
    alice.expect("Type /help").await;
    let mut pipe = ssh(&server, &["-T"], "piper", None);
    pipe.expect("Type /help for the list of commands.\n").await;
    pipe.send(b"from a script\n/user\n").await;
    alice.expect("piper >> from a script").await;
    pipe.expect("[Server]: Users (2/10): alice, piper\n").await;
    pipe.close_stdin();
    assert_eq!(pipe.wait_exit().await, Some(0));
    alice.expect("[Server]: piper has left the chat.").await;
    assert!(
        !pipe.transcript.raw().contains('\x1b'),
        "escape codes without a pty"
    );
}

#[tokio::test]
async fn exec_users_prints_the_list_and_exits() {
    let server = TestServer::start().await;
    let mut alice = ssh(&server, &["-tt"], "alice", None);
    alice.expect("Type /help").await;
    let mut users = ssh(&server, &[], "x", Some("users"));
    assert_eq!(users.wait_exit().await, Some(0));
    assert_eq!(users.transcript.raw(), "[Server]: Users (1/10): alice\n");
}

#[tokio::test]
async fn generic_login_answers_the_nickname_prompt_in_korean() {
    let server = TestServer::start().await;
    let mut guest = ssh(&server, &["-tt"], "chat", None);
    guest.expect("Nickname: ").await;
    guest.send("개똥이\r".as_bytes()).await;
    guest.expect("Welcome to #lobby, 개똥이!").await;
    guest.send(b"/user\r").await;
    guest.expect("[Server]: Users (1/10): 개똥이").await;
    // Ctrl-D on an empty line leaves
    guest.send(b"\x04").await;
    assert_eq!(guest.wait_exit().await, Some(0));
}
