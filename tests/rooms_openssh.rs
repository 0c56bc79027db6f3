//! Rooms from the `ssh` command line (SPEC §8), driven by the real OpenSSH client:
//! `ssh -t host rust` (interactive, with the line editor), `echo ... | ssh host rust`
//! (a bot's one-liner), `ssh host rooms` and `ssh host users rust`.

mod common;

use common::{user_key, write_openssh_key, OpenSsh, TestServer};

/// Runs the real `ssh` as `user` with a fresh key of its own.
fn ssh(server: &TestServer, args: &[&str], user: &str, command: Option<&str>) -> OpenSsh {
    let key = write_openssh_key(server.dir.path(), &format!("{user}.key"), &user_key());
    OpenSsh::spawn(server.port(), &key, args, user, command)
}

#[tokio::test]
async fn a_room_name_on_the_command_line_enters_that_room() {
    let server = TestServer::start().await;
    // `ssh -t` with a room: interactive, the server's line editor at work
    let mut dev = ssh(&server, &["-tt"], "dev", Some("rust"));
    dev.expect("[Server]: Welcome to #rust, dev! Type /help for the list of commands.")
        .await;
    dev.expect("[Server]: You are the admin of this room.")
        .await;
    // typed out of order and fixed with Ctrl-A: the editor runs in this session
    dev.send(b"world\x01hello \r").await;
    dev.expect("dev >> hello world").await;

    // a bot's one-liner: line mode, one message, then it leaves
    let mut ci = ssh(&server, &[], "ci", Some("rust"));
    ci.send(b"build passed\n").await;
    ci.close_stdin();
    assert_eq!(ci.wait_exit().await, Some(0));
    dev.expect("[Server]: ci has joined the chat.").await;
    dev.expect("ci >> build passed").await;
    dev.expect("[Server]: ci has left the chat.").await;
    let plain = ci.transcript.raw();
    assert!(plain.contains("ci >> build passed\n"), "{plain:?}");
    assert!(
        !plain.contains('\x1b'),
        "line mode has no escape codes: {plain:?}"
    );

    // the listings print and exit
    let mut rooms = ssh(&server, &[], "x", Some("rooms"));
    assert_eq!(rooms.wait_exit().await, Some(0));
    assert_eq!(
        rooms.transcript.raw(),
        "[Server]: Rooms (2): #rust (1/10), #lobby (0/10)\n"
    );
    let mut users = ssh(&server, &[], "x", Some("users rust"));
    assert_eq!(users.wait_exit().await, Some(0));
    assert_eq!(users.transcript.raw(), "[Server]: Users (1/10): dev\n");
    let mut nowhere = ssh(&server, &[], "x", Some("users nowhere"));
    assert_eq!(nowhere.wait_exit().await, Some(1));
    assert_eq!(
        nowhere.transcript.raw(),
        "[Server]: There is no room \"nowhere\". Type \"rooms\" for the list.\n"
    );
}
