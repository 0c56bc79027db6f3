//! Abuse and bad input: each test checks the outcome for the attacker and that a
//! bystander still chats normally.

mod common;

use std::time::Duration;

use common::{user_key, write_openssh_key, OpenSsh, TestClient, TestServer};
use ssh_chatroom::room::Clock;
use tokio::io::AsyncReadExt;

async fn joined(server: &TestServer, name: &str) -> TestClient {
    TestClient::joined(server.port(), name).await
}

/// The bystander can still talk and be heard.
async fn still_chatting(bystander: &mut TestClient, name: &str) {
    bystander.send_line("still fine").await;
    bystander.expect(&format!("{name} >> still fine")).await;
}

#[tokio::test]
async fn rate_limit_refuses_the_excess_with_one_notice() {
    // The room's clock stands still: the bucket cannot refill between the lines however
    // slowly this machine runs them.
    let (clock, hands) = Clock::manual("2026-11-24T12:00:00Z".parse().unwrap());
    let server = TestServer::start_with(|c| c.message_rate = 1.0, clock).await;
    let mut fast = joined(&server, "fast").await;
    let mut calm = joined(&server, "calm").await;
    let burst: String = (1..=7).map(|n| format!("burst {n}\r")).collect();
    fast.send(burst.as_bytes()).await;
    fast.expect("[Server]: You are sending messages too fast. Please wait a moment.")
        .await;
    let seen = calm.expect("fast >> burst 5").await;
    assert!(!seen.contains("too fast"));
    // the sixth and seventh never reach anyone: the next line calm sees is its own
    calm.send_line("marker").await;
    let seen = calm.expect("calm >> marker").await;
    assert!(
        !seen.contains("burst 6") && !seen.contains("burst 7"),
        "{seen:?}"
    );
    let notices = fast.transcript.text().matches("too fast").count();
    assert_eq!(notices, 1);
    // a second later there is room for one more line
    hands.advance(Duration::from_secs(1));
    fast.send_line("a second later").await;
    calm.expect("fast >> a second later").await;
}

#[tokio::test]
async fn sustained_flooding_disconnects_the_flooder() {
    let (clock, _hands) = Clock::manual("2026-11-24T12:00:00Z".parse().unwrap());
    let server = TestServer::start_with(|c| c.message_rate = 1.0, clock).await;
    let mut flooder = joined(&server, "flooder").await;
    let mut calm = joined(&server, "calm").await;
    let flood: String = (0..40).map(|n| format!("spam {n}\r")).collect();
    flooder.send(flood.as_bytes()).await;
    flooder
        .expect("[Server]: You have been disconnected for flooding.")
        .await;
    flooder.expect_closed().await;
    calm.expect("[Server]: flooder was disconnected for flooding.")
        .await;
    still_chatting(&mut calm, "calm").await;
}

#[tokio::test]
async fn connections_per_ip_are_capped_with_a_clear_refusal() {
    let server = TestServer::start_with(|c| c.max_conns_per_ip = 3, Clock::System).await;
    let mut first = joined(&server, "one").await;
    let _two = joined(&server, "two").await;
    let _three = joined(&server, "three").await;
    let mut fourth = TestClient::join(server.port(), "four").await;
    fourth
        .expect(
            "[Server]: Too many connections from your address (max 3). Close one and try again.",
        )
        .await;
    fourth.expect_closed().await;
    still_chatting(&mut first, "one").await;
    let seen = first.transcript.text();
    assert!(
        !seen.contains("four"),
        "the refused one never joined: {seen:?}"
    );
}

#[tokio::test]
async fn a_flood_of_silent_connections_does_not_lock_out_a_real_user() {
    let server = TestServer::start_with(|c| c.max_handshakes = 5, Clock::System).await;
    let mut bystander = joined(&server, "bystander").await;
    let mut silent = Vec::new();
    for _ in 0..50 {
        silent.push(
            tokio::net::TcpStream::connect(("127.0.0.1", server.port()))
                .await
                .unwrap(),
        );
    }
    let mut real = TestClient::join(server.port(), "real").await;
    real.expect("Welcome to #lobby, real!").await;
    still_chatting(&mut bystander, "bystander").await;
}

/// The grace is measured on a clock the test moves: the bystander's own login can take
/// as long as it takes, and the silent ones are closed once the clock says so.
#[tokio::test]
async fn login_grace_closes_connections_that_never_join() {
    let (clock, hands) = Clock::manual("2026-11-24T12:00:00Z".parse().unwrap());
    let server = TestServer::start_with(|c| c.login_grace = 30, clock).await;
    let mut bystander = joined(&server, "bystander").await;
    let mut silent = tokio::net::TcpStream::connect(("127.0.0.1", server.port()))
        .await
        .unwrap();
    // The server has seen the connection once it sends its version line.
    let mut banner = [0u8; 4];
    silent.read_exact(&mut banner).await.unwrap();
    assert_eq!(&banner, b"SSH-");
    hands.advance(Duration::from_secs(30));
    let mut sink = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), silent.read_to_end(&mut sink)).await;
    assert!(read.is_ok(), "the server closed the silent connection");
    // one that logs in but never answers the nickname prompt is closed too
    let mut dawdler = TestClient::join(server.port(), "chat").await;
    dawdler.expect("Nickname: ").await;
    hands.advance(Duration::from_secs(30));
    dawdler.expect_closed().await;
    still_chatting(&mut bystander, "bystander").await;
}

#[tokio::test]
async fn a_megabyte_without_enter_leaves_the_server_responsive() {
    let server = TestServer::start().await;
    let mut typist = joined(&server, "typist").await;
    let mut bystander = joined(&server, "bystander").await;
    for _ in 0..16 {
        typist.send(&[b'a'; 65536]).await;
    }
    typist.send(b"\x03/user\r").await;
    typist
        .expect("[Server]: Users (2/10): typist, bystander")
        .await;
    still_chatting(&mut bystander, "bystander").await;
}

#[tokio::test]
async fn forwarding_agent_x11_and_subsystems_are_refused() {
    let server = TestServer::start().await;
    let mut bystander = joined(&server, "bystander").await;
    let key = write_openssh_key(server.dir.path(), "k", &user_key());
    // -R: the server refuses to listen for the client
    let args = [
        "-o",
        "ExitOnForwardFailure=yes",
        "-N",
        "-R",
        "0:127.0.0.1:22",
    ];
    let mut remote = OpenSsh::spawn(server.port(), &key, &args, "fwd", None);
    assert_ne!(remote.wait_exit().await, Some(0), "-R was not refused");
    // -L opens a direct-tcpip channel per use; a second session channel is refused too
    let tunneller = joined(&server, "tunneller").await;
    assert_eq!(tunneller.try_extra_channels().await, (false, false));
    let mut sftp = OpenSsh::spawn(server.port(), &key, &["-s"], "sub", Some("sftp"));
    assert_ne!(sftp.wait_exit().await, Some(0));
    // agent and X11 forwarding requests are refused, the chat itself still works
    let mut with_agent = OpenSsh::spawn(server.port(), &key, &["-tt", "-A", "-X"], "agent", None);
    with_agent.expect("Welcome to #lobby, agent!").await;
    still_chatting(&mut bystander, "bystander").await;
    let seen = bystander.transcript.text();
    for name in ["fwd", "sub"] {
        assert!(!seen.contains(&format!("{name} has joined")), "{seen:?}");
    }
}

#[tokio::test]
async fn a_planted_symlink_never_redirects_a_transcript() {
    let server = TestServer::start().await;
    let victim = server.path("victim.txt");
    std::fs::write(&victim, "untouched\n").unwrap();
    let users = server.path("logs/users");
    std::fs::create_dir_all(&users).unwrap();
    std::os::unix::fs::symlink(&victim, users.join("mallory_chat_log.txt")).unwrap();
    // a directory where a transcript should be makes that transcript fail to open
    std::fs::create_dir_all(users.join("blocked_chat_log.txt")).unwrap();
    let mut bystander = joined(&server, "bystander").await;
    let mallory = joined(&server, "mallory").await;
    let mut blocked = joined(&server, "blocked").await;
    mallory.send_line("write this into victim.txt").await;
    blocked
        .expect("mallory >> write this into victim.txt")
        .await;
    bystander
        .expect("mallory >> write this into victim.txt")
        .await;
    still_chatting(&mut bystander, "bystander").await;
    let (dir, _) = server.stop().await;
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "untouched\n");
    let own =
        std::fs::read_to_string(dir.path().join("logs/users/bystander_chat_log.txt")).unwrap();
    assert!(own.contains("still fine"), "other transcripts keep working");
}

#[tokio::test]
async fn absurd_resizes_and_invalid_utf8_are_harmless() {
    let server = TestServer::start().await;
    let mut bystander = joined(&server, "bystander").await;
    let odd = joined(&server, "odd").await;
    odd.send("안녕".as_bytes()).await;
    for (cols, rows) in [(0, 0), (65535, 65535), (1, 1), (u32::MAX, u32::MAX)] {
        odd.resize(cols, rows).await;
    }
    odd.send(b"\xff\xfe\xc3 ok \xe2\x82\r").await;
    bystander.expect("odd >> 안녕 ok").await;
    still_chatting(&mut bystander, "bystander").await;
}

#[tokio::test]
async fn garbage_and_abrupt_disconnects_mid_handshake_are_harmless() {
    use tokio::io::AsyncWriteExt;
    let server = TestServer::start().await;
    let mut bystander = joined(&server, "bystander").await;
    for garbage in [
        &b"GET / HTTP/1.1\r\n\r\n"[..],
        b"SSH-2.0-x\r\n\x00\x00\xff\xff\xff\xff",
        b"",
    ] {
        let mut tcp = tokio::net::TcpStream::connect(("127.0.0.1", server.port()))
            .await
            .unwrap();
        tcp.write_all(garbage).await.unwrap();
        drop(tcp);
    }
    // a client that leaves in the middle of a line is simply gone
    let half = TestClient::join(server.port(), "half").await;
    half.send(b"never finish").await;
    drop(half);
    bystander.expect("[Server]: half has left the chat.").await;
    still_chatting(&mut bystander, "bystander").await;
}

#[tokio::test]
async fn a_sigstopped_ssh_is_dropped_within_ten_seconds_and_nobody_waits() {
    let server = TestServer::start().await;
    let talker = joined(&server, "talker").await;
    let mut listener = joined(&server, "listener").await;
    let key = write_openssh_key(server.dir.path(), "frozen", &user_key());
    let mut frozen = OpenSsh::spawn(server.port(), &key, &["-tt"], "frozen", None);
    frozen.expect("Type /help").await;
    let pid = frozen.child.id().unwrap().to_string();
    let stop = std::process::Command::new("kill")
        .args(["-STOP", &pid])
        .status()
        .unwrap();
    assert!(stop.success());
    // Several megabytes of chat: more than the frozen client's SSH window and socket
    // buffers can hold, so its outbox fills and the room cuts it off.
    let line = "x".repeat(1000);
    let started = std::time::Instant::now();
    let mut sent = 0;
    while !listener.transcript.contains("frozen has left the chat.") {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "not dropped within 10 s"
        );
        let batch: String = (0..200).map(|n| format!("{sent}-{n} {line}\r")).collect();
        talker.send(batch.as_bytes()).await;
        sent += 1;
        // everyone else keeps receiving while the frozen client holds nothing up
        listener.expect(&format!("{}-199 ", sent - 1)).await;
    }
    eprintln!("dropped after {sent} batches in {:?}", started.elapsed());
    still_chatting(&mut listener, "listener").await;
    let _ = std::process::Command::new("kill")
        .args(["-CONT", &pid])
        .status();
}

/// Claims to sign with a key it does not hold: an all-zero Ed25519 signature.
struct ForgedSigner;

impl russh::Signer for ForgedSigner {
    type Error = russh::SendError;

    async fn auth_sign(
        &mut self,
        _key: &russh::keys::agent::AgentIdentity,
        _hash_alg: Option<russh::keys::HashAlg>,
        mut to_sign: Vec<u8>,
    ) -> Result<Vec<u8>, Self::Error> {
        let algorithm = b"ssh-ed25519";
        let signature = [0u8; 64];
        let total = 4 + algorithm.len() + 4 + signature.len();
        to_sign.extend((total as u32).to_be_bytes());
        to_sign.extend((algorithm.len() as u32).to_be_bytes());
        to_sign.extend(algorithm);
        to_sign.extend((signature.len() as u32).to_be_bytes());
        to_sign.extend(signature);
        Ok(to_sign)
    }
}

#[tokio::test]
async fn an_admin_key_offered_without_its_signature_gives_no_rights() {
    use russh::client;
    use std::sync::Arc;
    let admin = user_key();
    let fingerprint = common::key_fingerprint(&admin);
    let server = TestServer::start_with(|c| c.admin_keys = vec![fingerprint], Clock::System).await;
    let mut bystander = joined(&server, "bystander").await;
    let config = Arc::new(client::Config::default());
    let mut session = client::connect(config, ("127.0.0.1", server.port()), common::AcceptAll)
        .await
        .unwrap();
    let forged = session
        .authenticate_publickey_with("boss", admin.public_key().clone(), None, &mut ForgedSigner)
        .await;
    assert!(
        !matches!(forged, Ok(russh::client::AuthResult::Success)),
        "a forged signature was accepted"
    );
    // on the same connection the impostor can still come in anonymously, not as admin
    let anonymous = session
        .authenticate_keyboard_interactive_start("boss", None)
        .await
        .unwrap();
    assert!(matches!(
        anonymous,
        client::KeyboardInteractiveAuthResponse::Success
    ));
    let channel = session.channel_open_session().await.unwrap();
    let mut impostor = TestClient::start_shell(session, channel, common::Mode::Pty).await;
    // the welcome ends where the prompt is first drawn
    let welcome = impostor.expect("boss> ").await;
    assert!(!welcome.contains("admin"), "{welcome:?}");
    impostor.send_line("/kick bystander").await;
    impostor
        .expect("[Server]: Only an admin can use /kick.")
        .await;
    still_chatting(&mut bystander, "bystander").await;
}
