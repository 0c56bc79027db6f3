//! `--metrics` (issue 16 item 5): scraped with a real HTTP client (curl) and read with a
//! Prometheus text-format parser; `/healthz` 200 while serving and 503 once the shutdown
//! began; a flood of scrapes leaves the chat working; a cluster node counts its leases
//! and takeovers. And the service log (item 6): no colour codes when stderr is not a
//! terminal, and a banner that names the node and the cluster.

mod cluster;
mod common;

use std::net::SocketAddr;
use std::process::Stdio;

use common::{Mode, TestClient, TestServer, WAIT};
use ssh_chatroom::config::Config;
use ssh_chatroom::room::Clock;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

mod scrape;
use scrape::{get, wait_for};

fn with_metrics(c: &mut Config) {
    c.metrics = Some("127.0.0.1:0".parse().unwrap());
}

#[tokio::test]
async fn a_scrape_shows_participants_lines_deliveries_and_refusals() {
    let server = TestServer::start_with(
        |c| {
            with_metrics(c);
            c.max_conns_per_ip = 2;
        },
        Clock::System,
    )
    .await;
    let addr = server.metrics_addr();
    let mut alice = TestClient::joined(server.port(), "alice").await;
    let mut bob = TestClient::joined(server.port(), "bob").await;
    alice.expect("[Server]: bob has joined the chat.").await;
    const N: usize = 5;
    for i in 0..N {
        alice.send_line(&format!("line {i}")).await;
        bob.expect(&format!("alice >> line {i}")).await;
    }
    // A third connection from 127.0.0.1 is over the cap of 2.
    let mut third = TestClient::connect(server.port(), "carol", None, Mode::Pty).await;
    third.expect("Too many connections from your address").await;

    let scrape = wait_for(addr, |s| {
        s.value("ssh_chatroom_refusals_total", Some("per_ip_cap")) >= 1.0
            && s.value("ssh_chatroom_deliveries_total", None) >= (N * 2) as f64
    })
    .await;
    assert_eq!(scrape.value("ssh_chatroom_participants", None), 2.0);
    assert_eq!(scrape.value("ssh_chatroom_rooms", None), 1.0);
    assert!(scrape.value("ssh_chatroom_lines_total", None) >= N as f64);
    assert_eq!(
        scrape.value("ssh_chatroom_refusals_total", Some("per_ip_cap")),
        1.0
    );
    assert_eq!(
        scrape.value("ssh_chatroom_refusals_total", Some("room_full")),
        0.0
    );
    for name in [
        "ssh_chatroom_drops_total",
        "ssh_chatroom_handshakes_in_flight",
        "ssh_chatroom_schedule_firings_total",
    ] {
        assert!(scrape.has(name), "{name} missing:\n{}", scrape.text);
    }
    assert!(
        !scrape.has("ssh_chatroom_nats_connected"),
        "a lone server has no cluster metrics"
    );

    // A refusal by the room, and a line refused for its length, each under its reason.
    bob.send_line(&"x".repeat(2000)).await;
    bob.expect("Message too long").await;
    let (status, _) = get(addr, "/nothing-here").await;
    assert_eq!(status, 404);
    let scrape = wait_for(addr, |s| {
        s.value("ssh_chatroom_refusals_total", Some("too_long")) >= 1.0
    })
    .await;
    assert_eq!(scrape.value("ssh_chatroom_participants", None), 2.0);
    drop(third);
}

#[tokio::test]
async fn healthz_is_200_while_serving_and_503_once_the_shutdown_began() {
    let server = TestServer::start_with(with_metrics, Clock::System).await;
    let addr = server.metrics_addr();
    let (status, body) = get(addr, "/healthz").await;
    assert_eq!((status, body.trim()), (200, "ok"));
    // A connection that never finishes its handshake: the shutdown waits (a bounded
    // while) for it, and the health check says 503 meanwhile.
    let mut idle = tokio::net::TcpStream::connect(("127.0.0.1", server.port()))
        .await
        .unwrap();
    let mut banner = [0u8; 4];
    idle.read_exact(&mut banner).await.unwrap();
    server.shutdown_token().cancel();
    let (status, body) = get(addr, "/healthz").await;
    assert_eq!((status, body.trim()), (503, "unavailable"));
    drop(idle);
    server.stop().await;
}

#[tokio::test]
async fn a_flood_of_scrapes_leaves_the_chat_working() {
    let server = TestServer::start_with(with_metrics, Clock::System).await;
    let addr = server.metrics_addr();
    let mut alice = TestClient::joined(server.port(), "alice").await;
    let flood = tokio::spawn(async move {
        let scrapes = (0..200).map(|_| tokio::spawn(raw_scrape(addr)));
        let answered = futures_util::future::join_all(scrapes).await;
        answered
            .into_iter()
            .filter(|a| matches!(a, Ok(true)))
            .count()
    });
    // The chat goes on during the flood, within the usual wait.
    for i in 0..5 {
        alice.send_line(&format!("during the flood {i}")).await;
        alice
            .expect(&format!("alice >> during the flood {i}"))
            .await;
    }
    let answered = tokio::time::timeout(WAIT * 3, flood)
        .await
        .expect("the scrapes end")
        .unwrap();
    assert!(answered >= 16, "only {answered} of 200 scrapes answered");
    // Still serving both sides afterwards.
    let (status, _) = get(addr, "/healthz").await;
    assert_eq!(status, 200);
    alice.send_line("after the flood").await;
    alice.expect("alice >> after the flood").await;
}

/// One scrape by hand; true if it was answered 200 (over the cap it is closed instead).
async fn raw_scrape(addr: SocketAddr) -> bool {
    let Ok(mut stream) = tokio::net::TcpStream::connect(addr).await else {
        return false;
    };
    let request = b"GET /metrics HTTP/1.1\r\nHost: test\r\n\r\n";
    if stream.write_all(request).await.is_err() {
        return false;
    }
    let mut answer = Vec::new();
    let read = tokio::time::timeout(WAIT, stream.read_to_end(&mut answer)).await;
    matches!(read, Ok(Ok(_))) && answer.starts_with(b"HTTP/1.1 200")
}

#[tokio::test]
async fn a_cluster_node_counts_its_leases_and_takeovers() {
    let dir = tempfile::tempdir().unwrap();
    let nats = testkit::NatsServer::start(dir.path()).await;
    // #lobby is made on n1 (the real binary, so it can be killed) by its first member.
    let (mut n1, port1) = cluster::spawn_node(&nats, "n1", &dir.path().join("n1")).await;
    let n2 = cluster::node(&nats, "n2", &with_metrics).await;
    let second = n2.metrics_addr();
    let mut alice = TestClient::joined(port1, "alice").await;
    let mut bob = TestClient::joined(n2.port(), "bob").await;
    alice.expect("[Server]: bob has joined the chat.").await;
    let scrape = wait_for(second, |s| s.has("ssh_chatroom_takeovers_total")).await;
    assert_eq!(scrape.value("ssh_chatroom_nats_connected", None), 1.0);
    assert_eq!(scrape.value("ssh_chatroom_participants", None), 1.0);
    assert_eq!(scrape.value("ssh_chatroom_leases_held", None), 0.0);
    assert_eq!(scrape.value("ssh_chatroom_takeovers_total", None), 0.0);

    // n1 dies: n2 takes #lobby over from its snapshot once the lease lapses.
    n1.start_kill().unwrap();
    bob.expect("[Server]: alice has left the chat.").await;
    let scrape = wait_for(second, |s| {
        s.value("ssh_chatroom_takeovers_total", None) >= 1.0
            && s.value("ssh_chatroom_leases_held", None) == 1.0
    })
    .await;
    assert_eq!(scrape.value("ssh_chatroom_rooms", None), 1.0);
    assert_eq!(scrape.value("ssh_chatroom_participants", None), 1.0);
    // (The chat after a takeover is tests/cluster_failover.rs's to show.)
    let (status, _) = get(second, "/healthz").await;
    assert_eq!(status, 200);
    drop(alice);
}

/// The real binary with stderr a pipe: no colour codes in its log; its banner names
/// the node, the cluster and the metrics address.
#[tokio::test]
async fn the_log_has_no_colour_codes_and_the_banner_names_node_and_cluster() {
    let dir = tempfile::tempdir().unwrap();
    let nats = testkit::NatsServer::start(dir.path()).await;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_ssh-chatroom"))
        .args(cluster::node_args(&nats, "banner-node", dir.path()))
        .arg("--metrics=127.0.0.1:0")
        .env_remove("NO_COLOR")
        .env("RUST_LOG", "debug,russh=warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let banner = read_until(stdout, "metrics: ").await;
    assert!(
        banner.contains(&format!("cluster: node banner-node of {}", nats.url())),
        "{banner}"
    );
    let metrics = banner
        .lines()
        .find_map(|l| l.strip_prefix("metrics: http://"))
        .and_then(|rest| rest.split('/').next())
        .expect("the metrics address")
        .parse::<SocketAddr>()
        .unwrap();
    let scrape = wait_for(metrics, |s| {
        s.value("ssh_chatroom_nats_connected", None) == 1.0
    })
    .await;
    assert!(scrape.has("ssh_chatroom_leases_held"));
    let pid = child.id().unwrap().to_string();
    std::process::Command::new("kill")
        .args(["-s", "TERM", &pid])
        .status()
        .unwrap();
    let out = tokio::time::timeout(WAIT, child.wait_with_output())
        .await
        .expect("it stops")
        .unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(log.contains("started"), "{log}");
    assert!(!log.contains("\x1b["), "colour codes in the log:\n{log}");
}

/// Reads `stream` until a line starting with `prefix` (within [`WAIT`]); returns all
/// read so far, and drains the rest in the background.
async fn read_until(stream: tokio::process::ChildStdout, prefix: &str) -> String {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let mut lines = BufReader::new(stream).lines();
    let mut seen = String::new();
    tokio::time::timeout(WAIT, async {
        while let Some(line) = lines.next_line().await.unwrap() {
            seen.push_str(&line);
            seen.push('\n');
            if line.starts_with(prefix) {
                return;
            }
        }
        panic!("no {prefix:?} line in:\n{seen}");
    })
    .await
    .expect("the banner comes");
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    seen
}
