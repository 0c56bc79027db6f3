//! Behind a TCP load balancer (issue 16 item 4): a real HAProxy sends the PROXY protocol
//! to two servers that trust 127.0.0.1. Clients connect from other loopback addresses
//! (127.0.0.2, 127.0.0.3, ...; Linux routes all of 127/8 on lo), so the per-address cap,
//! kick-bans and `server.txt` can be seen to name the client, not the balancer.

mod common;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::Arc;

use common::{user_key, wait_for_log_line, Mode, OpenSsh, TestClient, TestServer, WAIT};
use russh::client;
use russh::keys::{PrivateKey, PrivateKeyWithHashAlg};
use ssh_chatroom::config::Config;
use ssh_chatroom::room::Clock;
use testkit::{AcceptAll, HaProxy, SendProxy};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

const TOO_MANY: &str =
    "[Server]: Too many connections from your address (max 3). Close one and try again.";

/// A server that trusts 127.0.0.1 (where HAProxy connects from) with the default cap.
async fn node() -> TestServer {
    node_with(|_| {}).await
}

async fn node_with(configure: impl FnOnce(&mut Config)) -> TestServer {
    let setup = |c: &mut Config| {
        c.trusted_proxy = vec!["127.0.0.1".parse().unwrap()];
        c.max_conns_per_ip = 3;
        configure(c);
    };
    TestServer::start_with(setup, Clock::System).await
}

async fn haproxy(dir: &Path, nodes: &[&TestServer], send: SendProxy) -> HaProxy {
    let ports: Vec<u16> = nodes.iter().map(|n| n.port()).collect();
    HaProxy::start(dir, &ports, send).await
}

/// A TCP connection to 127.0.0.1:`port` from 127.0.0.`source`.
async fn tcp_from(source: u8, port: u16) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket
        .bind(SocketAddr::from((Ipv4Addr::new(127, 0, 0, source), 0)))
        .unwrap();
    socket
        .connect(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
        .await
        .unwrap()
}

/// `user` with a pty from 127.0.0.`source`, with `key` or (None) keyboard-interactive.
async fn connect_from(source: u8, port: u16, user: &str, key: Option<PrivateKey>) -> TestClient {
    let stream = tcp_from(source, port).await;
    let config = Arc::new(client::Config::default());
    let mut session = client::connect_stream(config, stream, AcceptAll)
        .await
        .expect("the SSH handshake goes through");
    let success = match key {
        Some(key) => {
            let key = PrivateKeyWithHashAlg::new(Arc::new(key), None);
            session
                .authenticate_publickey(user, key)
                .await
                .unwrap()
                .success()
        }
        None => matches!(
            session
                .authenticate_keyboard_interactive_start(user, None)
                .await
                .unwrap(),
            client::KeyboardInteractiveAuthResponse::Success
        ),
    };
    assert!(success, "{user} is let in");
    let channel = session.channel_open_session().await.unwrap();
    TestClient::start_shell(session, channel, Mode::Pty).await
}

async fn joined_from(source: u8, port: u16, user: &str) -> TestClient {
    let mut client = connect_from(source, port, user, Some(user_key())).await;
    client.expect("Type /help").await;
    client
}

/// Both nodes' server.txt, joined.
fn logs(nodes: &[&TestServer]) -> String {
    let read = |n: &&TestServer| std::fs::read_to_string(n.path("logs/server.txt"));
    nodes.iter().filter_map(|n| read(n).ok()).collect()
}

/// Waits for a line containing every one of `needles` in either node's server.txt.
async fn wait_for_line(nodes: &[&TestServer], needles: &[&str]) -> String {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let all = logs(nodes);
        if let Some(line) = all.lines().find(|l| needles.iter().all(|n| l.contains(n))) {
            return line.to_string();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no line with {needles:?} in:\n{all}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// Whether a line other than the start banner names 127.0.0.1, where HAProxy connects
/// from.
fn names_the_balancer(log: &str) -> bool {
    log.lines()
        .filter(|l| !l.contains(" START "))
        .any(|l| l.contains("127.0.0.1:"))
}

/// Reads until the server closes; panics if it does not within [`WAIT`].
async fn expect_closed(stream: &mut TcpStream) {
    let mut sink = [0u8; 1024];
    let closed = tokio::time::timeout(WAIT, async {
        while let Ok(n) = stream.read(&mut sink).await {
            if n == 0 {
                break;
            }
        }
    });
    closed.await.expect("the server closes the connection");
}

#[tokio::test]
async fn the_per_address_cap_counts_each_client_behind_the_balancer() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (node().await, node().await);
    let lb = haproxy(dir.path(), &[&a, &b], SendProxy::V2).await;
    let port = lb.port();
    // Six people through one balancer address, three of them from one office.
    let mut office = Vec::new();
    for name in ["ann", "amy", "abe"] {
        office.push(joined_from(2, port, name).await);
    }
    let _bob = joined_from(3, port, "bob").await;
    let _cid = joined_from(4, port, "cid").await;
    let key = common::write_openssh_key(dir.path(), "dee_key", &user_key());
    let mut dee = OpenSsh::spawn(port, &key, &["-tt", "-b", "127.0.0.5"], "dee", None);
    dee.expect("Type /help").await;
    // The office's fourth is refused with the usual line; others still get in.
    let mut fourth = connect_from(2, port, "ali", Some(user_key())).await;
    fourth.expect(TOO_MANY).await;
    fourth.expect_closed().await;
    let _bea = joined_from(3, port, "bea").await;
    office[0].send_line("still here").await;
    office[0].expect("ann >> still here").await;

    let nodes = [&a, &b];
    wait_for_line(&nodes, &[" JOIN ", "ann ", "from=127.0.0.2:"]).await;
    wait_for_line(&nodes, &[" JOIN ", "dee ", "from=127.0.0.5:"]).await;
    wait_for_line(&nodes, &[" REFUSED ", "127.0.0.2:", "too many connections"]).await;
    let all = logs(&nodes);
    assert!(!names_the_balancer(&all), "the balancer is named:\n{all}");
    assert!(
        lb.output().lines().all(|l| !l.contains("DOWN")),
        "{}",
        lb.output()
    );
}

#[tokio::test]
async fn a_kick_ban_without_a_key_holds_the_client_address_not_the_balancer() {
    let dir = tempfile::tempdir().unwrap();
    let server = node().await;
    let lb = haproxy(dir.path(), &[&server], SendProxy::V2).await;
    let boss = joined_from(5, lb.port(), "boss").await;
    let mut victim = connect_from(2, lb.port(), "victim", None).await;
    victim.expect("Type /help").await;
    boss.send_line("/kick victim").await;
    victim.expect_closed().await;
    let mut back = connect_from(2, lb.port(), "victim", None).await;
    back.expect("[Server]: You were kicked from #lobby; you may come back after")
        .await;
    back.expect_closed().await;
    let mut neighbour = connect_from(3, lb.port(), "neighbour", None).await;
    neighbour.expect("Welcome to #lobby, neighbour!").await;
    let log = server.path("logs/server.txt");
    wait_for_log_line(&log, "127.0.0.2:").await;
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(!names_the_balancer(&text), "{text}");
}

#[tokio::test]
async fn the_text_header_of_send_proxy_works_too() {
    let dir = tempfile::tempdir().unwrap();
    let server = node().await;
    let lb = haproxy(dir.path(), &[&server], SendProxy::V1).await;
    let mut eve = joined_from(6, lb.port(), "eve").await;
    eve.send_line("hello").await;
    eve.expect("eve >> hello").await;
    wait_for_log_line(&server.path("logs/server.txt"), "from=127.0.0.6:").await;
}

#[tokio::test]
async fn direct_connections_from_other_addresses_work_as_before() {
    let server = node().await;
    let mut operator = joined_from(2, server.port(), "operator").await;
    operator.send_line("direct").await;
    operator.expect("operator >> direct").await;
    wait_for_log_line(&server.path("logs/server.txt"), "from=127.0.0.2:").await;
}

#[tokio::test]
async fn a_header_from_an_untrusted_address_is_refused() {
    let server = node().await;
    let log = server.path("logs/server.txt");
    let v2 = b"\r\n\r\n\0\r\nQUIT\n\x21\x11\x00\x0c\x06\x06\x06\x06\x7f\0\0\x01\x00\x50\x00\x51";
    for (source, header) in [
        (
            2,
            &b"PROXY TCP4 6.6.6.6 127.0.0.1 80 81\r\nSSH-2.0-x\r\n"[..],
        ),
        (3, &v2[..]),
    ] {
        let mut stream = tcp_from(source, server.port()).await;
        stream.write_all(header).await.unwrap();
        expect_closed(&mut stream).await;
        let line = wait_for_log_line(&log, &format!("REFUSED 127.0.0.{source}:")).await;
        assert!(line.contains("not a trusted proxy"), "{line}");
    }
    assert!(!std::fs::read_to_string(&log).unwrap().contains("6.6.6.6"));
    joined_from(2, server.port(), "after").await;
}

/// From the trusted address: a missing, malformed, endless or slow header gets a clean
/// close and one line; the server reads no more than a header's bound of it; a flood of
/// them leaves the node open to everyone; `LOCAL` (a health check) is no error at all.
#[tokio::test]
async fn bad_headers_from_the_trusted_address_are_closed_and_cost_nothing() {
    // Every flooder gets its line: none is evicted by the handshake cap first.
    let server = node_with(|c| c.max_handshakes = 1000).await;
    let (port, log) = (server.port(), server.path("logs/server.txt"));
    for (header, logged) in [
        (&b"SSH-2.0-OpenSSH_9.2\r\n"[..], "no PROXY header"),
        (
            b"PROXY TCP4 banana 127.0.0.1 1 2\r\n",
            "malformed PROXY header",
        ),
        (b"PROXY TCP4 127.0.0.9 127.0.0.1 1", "closed in the middle"),
    ] {
        let mut stream = tcp_from(1, port).await;
        stream.write_all(header).await.unwrap();
        stream.shutdown().await.unwrap();
        expect_closed(&mut stream).await;
        let line = wait_for_log_line(&log, logged).await;
        assert!(line.contains("REFUSED 127.0.0.1:"), "{line}");
    }
    // A v2 header announcing 65535 bytes, then 16 MiB: refused after its first 16 bytes,
    // so the rest cannot be written (the server closed without reading it).
    let mut endless = tcp_from(1, port).await;
    let mut huge = b"\r\n\r\n\0\r\nQUIT\n\x21\x11\xff\xff".to_vec();
    huge.resize(16 << 20, 0);
    let write = tokio::time::timeout(WAIT, endless.write_all(&huge)).await;
    assert!(matches!(write, Ok(Err(_))), "the server kept reading");
    wait_for_log_line(&log, "PROXY header longer than 536 bytes").await;

    // A health check: LOCAL, then gone. Nothing to log.
    let mut check = tcp_from(1, port).await;
    let check_port = check.local_addr().unwrap().port();
    check
        .write_all(b"\r\n\r\n\0\r\nQUIT\n\x20\x00\x00\x00")
        .await
        .unwrap();
    check.shutdown().await.unwrap();
    expect_closed(&mut check).await;

    // A flood from the balancer's address, all open at once: garbage, and headers too
    // long (v1 without its end, v2 announcing 65535 bytes).
    let mut flood = Vec::new();
    for n in 0..150u32 {
        let mut stream = tcp_from(1, port).await;
        let bytes = match n % 3 {
            0 => format!("GET /{n} HTTP/1.0\r\n\r\n").into_bytes(),
            1 => [&b"PROXY TCP4 "[..], &[b'1'; 200]].concat(),
            _ => huge[..4096].to_vec(),
        };
        stream.write_all(&bytes).await.unwrap();
        flood.push(stream);
    }
    for stream in &mut flood {
        expect_closed(stream).await;
    }
    // Silence: refused once the header's time is up.
    let mut silent = tcp_from(1, port).await;
    expect_closed(&mut silent).await;
    wait_for_log_line(&log, "no complete PROXY header within 5 s").await;

    let text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(text.matches("no PROXY header").count(), 51, "{text}");
    assert_eq!(text.matches("longer than 107 bytes").count(), 50, "{text}");
    assert_eq!(text.matches("longer than 536 bytes").count(), 51, "{text}");
    assert!(!text.contains(&format!("127.0.0.1:{check_port}")), "{text}");
    // Then a real client behind the balancer, and one direct, get in as ever.
    let dir = tempfile::tempdir().unwrap();
    let lb = haproxy(dir.path(), &[&server], SendProxy::V2).await;
    joined_from(2, lb.port(), "real").await;
    joined_from(3, port, "direct").await;
}
