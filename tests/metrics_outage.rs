//! `/healthz` and the log through a NATS outage (issue 16 items 5 and 6), on the real
//! binary: 200 while in contact, 503 within seconds of NATS going down, 200 again once
//! it is back; `ssh_chatroom_nats_connected` follows; the log says once that contact
//! was lost and once that it is back, instead of an error ten times a second.
//!
//! The only test in its binary: while its NATS server is down, a server another test
//! started could take the freed port, and the restart would then join the wrong one.

mod cluster;
mod common;

use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;

use scrape::{wait_for, wait_for_health};

mod scrape;

#[tokio::test]
async fn healthz_follows_the_nats_connection_and_the_log_says_it_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut nats = testkit::NatsServer::start(dir.path()).await;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_ssh-chatroom"))
        .args(cluster::node_args(&nats, "n1", dir.path()))
        .arg("--metrics=127.0.0.1:0")
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let addr = metrics_addr(&mut child).await;
    let up = Duration::from_secs(10);
    wait_for_health(addr, 200, up).await;
    wait_for(addr, |s| {
        s.value("ssh_chatroom_nats_connected", None) == 1.0
    })
    .await;

    nats.kill();
    // The client notices at its next read or ping (every 2 s).
    wait_for_health(addr, 503, up).await;
    wait_for(addr, |s| {
        s.value("ssh_chatroom_nats_connected", None) == 0.0
    })
    .await;
    // An outage of a few seconds: the client retries every 100 ms meanwhile, and each
    // failed try used to be logged.
    tokio::time::sleep(Duration::from_secs(2)).await;
    nats.restart().await;
    wait_for_health(addr, 200, up).await;
    wait_for(addr, |s| {
        s.value("ssh_chatroom_nats_connected", None) == 1.0
    })
    .await;

    let pid = child.id().unwrap().to_string();
    std::process::Command::new("kill")
        .args(["-s", "TERM", &pid])
        .status()
        .unwrap();
    let out = tokio::time::timeout(common::WAIT, child.wait_with_output())
        .await
        .expect("it stops")
        .unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert_eq!(log.matches("lost contact with NATS").count(), 1, "{log}");
    assert_eq!(log.matches("back in contact with NATS").count(), 1, "{log}");
    assert!(
        log.matches("IO error").count() <= 1,
        "the outage is logged once:\n{log}"
    );
    assert!(!log.contains("\x1b["), "colour codes in the log:\n{log}");
}

/// The metrics address the binary's banner gives; its stdout is read on afterwards.
async fn metrics_addr(child: &mut tokio::process::Child) -> SocketAddr {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let addr = tokio::time::timeout(common::WAIT, async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(rest) = line.strip_prefix("metrics: http://") {
                return rest.split('/').next().unwrap().parse().unwrap();
            }
        }
        panic!("no metrics address in the banner");
    })
    .await
    .expect("the server starts");
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    addr
}
