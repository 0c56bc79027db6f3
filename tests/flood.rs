//! A client that types as fast as it can while never reading its own output is cut off,
//! and the server's memory stays flat. Alone in its file: it measures this process's
//! memory, which other tests running beside it would disturb.

mod common;

use std::process::Stdio;

use common::{user_key, write_openssh_key, OpenSsh, TestClient, TestServer, WAIT};
use tokio::io::AsyncWriteExt;

/// The resident memory of this process (the test and the server in it), in bytes.
fn rss() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    let kib: usize = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib * 1024
}

/// Most the flooder is let send before the test calls it a failure (before the bound,
/// the server kept all of it: 200 MiB in 3 s).
const GIVE_UP_AFTER: usize = 128 << 20;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_types_without_reading_is_cut_and_memory_stays_flat() {
    let server = TestServer::start().await;
    let mut bystander = TestClient::joined(server.port(), "bystander").await;
    let key = write_openssh_key(server.dir.path(), "k", &user_key());
    // A real `ssh -tt` whose output nobody reads: once its window is full, every echo the
    // server owes it waits, while the keystrokes keep coming.
    let mut flooder = OpenSsh::command(server.port(), &key, &["-tt"], "flooder", None)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("ssh runs");
    bystander
        .expect("[Server]: flooder has joined the chat.")
        .await;
    let before = rss();
    let mut stdin = flooder.stdin.take().unwrap();
    // Keystrokes that each cost an echo but never make a line: type, then Ctrl-U.
    let chunk = b"abcdefgh\x15".repeat(7_000);
    let mut sent = 0;
    let cut = loop {
        match tokio::time::timeout(WAIT, stdin.write_all(&chunk)).await {
            Ok(Ok(())) => sent += chunk.len(),
            Ok(Err(_)) => break true,
            Err(_) => panic!("ssh stopped taking input after {sent} bytes, but was not cut"),
        }
        assert!(
            sent < GIVE_UP_AFTER,
            "{sent} bytes sent and still connected"
        );
    };
    assert!(cut);
    let grown = rss().saturating_sub(before);
    assert!(
        grown < 32 << 20,
        "memory grew {grown} bytes while {sent} were sent"
    );
    bystander
        .expect("[Server]: flooder has left the chat.")
        .await;
    bystander.send_line("still fine").await;
    bystander.expect("bystander >> still fine").await;
    let status = tokio::time::timeout(WAIT, flooder.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(!status.success(), "ssh saw its connection cut");
    let dropped = common::wait_for_log_line(&server.path("logs/server.txt"), " DROPPED ").await;
    assert!(
        dropped.contains("user=flooder (") && dropped.contains(" KiB of input piled up)"),
        "{dropped}"
    );
    eprintln!("flooder cut after {sent} bytes; memory grew {grown} bytes");
}
