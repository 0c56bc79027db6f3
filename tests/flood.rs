//! Clients that send as fast as they can. One that types without end is read at a
//! bounded pace (its `ssh` blocks), so it costs the server neither a core nor memory and
//! the room goes on; one that also never reads what it asked for is cut off. Alone in its
//! file: it measures this process's memory, which other tests running beside it would
//! disturb.

mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{user_key, write_openssh_key, OpenSsh, TestClient, TestServer, WAIT};
use ssh_chatroom::ssh::pace::{INPUT_BURST_BYTES, INPUT_BYTES_PER_SECOND, INPUT_WINDOW_BYTES};
use tokio::io::AsyncWriteExt;

/// The resident memory of this process (the test and the server in it), in bytes.
fn rss() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    let kib: usize = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib * 1024
}

/// What may sit between the test's writes and the server's reads: the SSH window in
/// flight, `ssh`'s own channel buffer (at most one window) and the pipe to it (64 KiB),
/// with room to spare.
const BUFFERED: u64 = 2 * INPUT_WINDOW_BYTES as u64 + (512 << 10);

/// Starts a real `ssh -tt` as `user` whose stdin the test writes; its output is read
/// (and thrown away) only if `reads`.
fn ssh_typist(server: &TestServer, user: &str, reads: bool) -> tokio::process::Child {
    let key = write_openssh_key(server.dir.path(), user, &user_key());
    let stdout = match reads {
        true => Stdio::null(),
        // A pipe nobody reads: once it and the SSH windows are full, every byte the
        // server owes this client waits.
        false => Stdio::piped(),
    };
    OpenSsh::command(server.port(), &key, &["-tt"], user, None)
        .stdin(Stdio::piped())
        .stdout(stdout)
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("ssh runs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_typing_as_fast_as_it_can_is_read_at_a_bounded_pace() {
    let server = TestServer::start().await;
    let mut bystander = TestClient::joined(server.port(), "bystander").await;
    let mut flooder = ssh_typist(&server, "flooder", true);
    bystander
        .expect("[Server]: flooder has joined the chat.")
        .await;
    let before = rss();
    let mut stdin = flooder.stdin.take().unwrap();
    // Keystrokes that each cost an echo but never make a line: type, then Ctrl-U.
    let chunk = b"abcdefgh\x15".repeat(7_000);
    let started = Instant::now();
    let (mut sent, mut at) = (0u64, 0);
    // Type for a few seconds: every byte written is input the server took or that waits
    // in the buffers between us.
    while started.elapsed() < Duration::from_secs(4) {
        let write = stdin.write(&chunk[at..]);
        match tokio::time::timeout(Duration::from_millis(100), write).await {
            Ok(Ok(n)) => (sent, at) = (sent + n as u64, (at + n) % chunk.len()),
            Ok(Err(error)) => panic!("the typist was cut after {sent} bytes: {error}"),
            // Blocked: the server is pacing us.
            Err(_) => {}
        }
    }
    let elapsed = started.elapsed();
    // At most the burst plus the pace over the time typed, plus what the window, `ssh`
    // and the pipe hold.
    let paced = INPUT_BURST_BYTES + INPUT_BYTES_PER_SECOND * elapsed.as_millis() as u64 / 1000;
    let most = paced + BUFFERED;
    assert!(
        sent <= most,
        "{sent} bytes taken in {elapsed:?}; the pace allows {paced} (and {most} with buffers)"
    );
    // Meanwhile the room goes on.
    bystander.send_line("still fine").await;
    bystander.expect("bystander >> still fine").await;
    let grown = rss().saturating_sub(before);
    assert!(grown < 32 << 20, "memory grew {grown} bytes");
    // The typist is throttled, not cut: once what it typed is read, its line goes
    // through.
    stdin.write_all(b"\x15done typing\r").await.unwrap();
    bystander.expect("flooder >> done typing").await;
    drop(stdin);
    eprintln!("typist took {sent} bytes in {elapsed:?}; memory grew {grown} bytes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_sends_without_reading_is_cut_and_memory_stays_flat() {
    // No message rate: every `/help` is answered, and the answers pile up unread.
    let server =
        TestServer::start_with(|c| c.message_rate = 0.0, ssh_chatroom::room::Clock::System).await;
    let mut bystander = TestClient::joined(server.port(), "bystander").await;
    let mut flooder = ssh_typist(&server, "flooder", false);
    bystander
        .expect("[Server]: flooder has joined the chat.")
        .await;
    let before = rss();
    let mut stdin = flooder.stdin.take().unwrap();
    // Each `/help` costs six bytes and is answered with the whole command list.
    let chunk = b"/help\r".repeat(10_000);
    let started = Instant::now();
    let mut sent = 0;
    let cut = loop {
        match tokio::time::timeout(WAIT, stdin.write_all(&chunk)).await {
            Ok(Ok(())) => sent += chunk.len(),
            Ok(Err(_)) => break true,
            Err(_) => break false,
        }
    };
    assert!(
        cut,
        "ssh stopped taking input after {sent} bytes in {:?} but was not cut",
        started.elapsed()
    );
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
