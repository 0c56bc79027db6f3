//! A cluster refuses a bad setup at start (issue 16 item 2), with one line on stderr and
//! exit status 1, before it writes anything: a bad `--cluster` address (no host key
//! made), NATS without JetStream (says `-js`), NATS not running (an answer within the
//! start bound, not a hang), a second live node under one `--node-name`, a host key
//! other than the cluster's (names `--host-key`). A node restarted under its name after
//! a clean stop, or after a SIGKILL, is let in. Real binary, real `nats-server`.

mod cluster;
mod common;

use std::path::Path;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use testkit::NatsServer;

const BIN: &str = env!("CARGO_BIN_EXE_ssh-chatroom");

/// Runs a node to its end (it is expected to refuse), with `--cluster` `url`.
async fn refused(dir: &Path, url: &str, name: &str, host_key: &Path) -> Output {
    let d = dir.display();
    let run = tokio::process::Command::new(BIN)
        .arg(format!("--cluster={url}"))
        .arg(format!("--node-name={name}"))
        .arg(format!("--host-key={}", host_key.display()))
        .arg(format!("--log-dir={d}/logs"))
        .arg(format!("--data-dir={d}/data"))
        .arg("--listen=127.0.0.1:0")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .output();
    // The start checks give up on NATS after 10 s.
    tokio::time::timeout(Duration::from_secs(20), run)
        .await
        .expect("a refused node ends, never hangs")
        .unwrap()
}

/// The refusal: exit status 1, and its one line (the last on stderr) containing every
/// one of `needles`.
fn assert_refused(out: &Output, needles: &[&str]) -> String {
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{err}");
    let line = err.trim().lines().last().unwrap_or_default().to_string();
    assert!(line.starts_with("ssh-chatroom: "), "{err}");
    for needle in needles {
        assert!(line.contains(needle), "{needle:?} not in {line:?}");
    }
    line
}

fn signal(child: &tokio::process::Child, name: &str) {
    let pid = child.id().unwrap().to_string();
    let sent = std::process::Command::new("kill")
        .args(["-s", name, &pid])
        .status()
        .unwrap();
    assert!(sent.success());
}

#[tokio::test]
async fn a_bad_address_is_refused_before_a_host_key_is_made() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("keys/host");
    for url in ["http://127.0.0.1:4222", "nats://", "nats://127.0.0.1:port"] {
        let out = refused(dir.path(), url, "n1", &key).await;
        assert_refused(&out, &["--cluster", url, "nats://HOST:PORT"]);
        assert!(!key.exists(), "a host key was made for {url}");
        assert!(
            !dir.path().join("logs").exists(),
            "logs were made for {url}"
        );
    }
}

#[tokio::test]
async fn nats_without_jetstream_is_refused_saying_js() {
    let dir = tempfile::tempdir().unwrap();
    let nats = NatsServer::start_without_jetstream(dir.path()).await;
    let key = dir.path().join("keys/host");
    let out = refused(dir.path(), &nats.url(), "n1", &key).await;
    assert_refused(&out, &["JetStream", "-js"]);
}

#[tokio::test]
async fn no_nats_at_all_gets_an_answer_within_the_bound() {
    let dir = tempfile::tempdir().unwrap();
    // A port nobody listens on: bound, then let go.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("nats://127.0.0.1:{port}");
    let started = Instant::now();
    let out = refused(dir.path(), &url, "n1", &dir.path().join("keys/host")).await;
    let took = started.elapsed();
    assert_refused(&out, &["cannot reach NATS", &url, "within 10 s"]);
    assert!(took < Duration::from_secs(15), "answered after {took:?}");
    assert!(!dir.path().join("keys/host").exists());
}

#[tokio::test]
async fn a_second_live_node_under_one_name_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let nats = NatsServer::start(dir.path()).await;
    let (_n1, _) = cluster::spawn_node(&nats, "n1", &dir.path().join("n1")).await;
    let key = cluster::shared_host_key(&nats);
    let started = Instant::now();
    let out = refused(&dir.path().join("again"), &nats.url(), "n1", &key).await;
    assert_refused(&out, &["node n1", "already running", "--node-name"]);
    // Told from a killed run by its renewals, so before a lease has passed.
    assert!(started.elapsed() < ssh_chatroom::cluster::LEASE);
    assert!(!dir.path().join("again/logs").exists(), "it wrote logs");
}

#[tokio::test]
async fn another_host_key_is_refused_naming_host_key() {
    let dir = tempfile::tempdir().unwrap();
    let nats = NatsServer::start(dir.path()).await;
    let (_n1, _) = cluster::spawn_node(&nats, "n1", &dir.path().join("n1")).await;
    let theirs = std::fs::read(cluster::shared_host_key(&nats)).unwrap();
    let theirs = russh::keys::PrivateKey::from_openssh(theirs).unwrap();
    let theirs = common::key_fingerprint(&theirs);
    // A key of its own...
    let own = dir.path().join("own_key");
    let key = common::user_key();
    key.write_openssh_file(&own, russh::keys::ssh_key::LineEnding::LF)
        .unwrap();
    let out = refused(&dir.path().join("n2"), &nats.url(), "n2", &own).await;
    let line = assert_refused(&out, &["--host-key", &theirs]);
    assert!(line.contains(&common::key_fingerprint(&key)), "{line}");
    // ...or none yet: not made, since the cluster has one.
    let missing = dir.path().join("n3/keys/host");
    let out = refused(&dir.path().join("n3"), &nats.url(), "n3", &missing).await;
    assert_refused(&out, &["--host-key", &theirs]);
    assert!(!missing.exists(), "a host key was made");
}

#[tokio::test]
async fn a_node_restarted_under_its_name_is_let_in() {
    let dir = tempfile::tempdir().unwrap();
    let nats = NatsServer::start(dir.path()).await;
    let node_dir = dir.path().join("n1");
    // After a clean stop: at once (the stop deleted its presence).
    let (mut n1, _) = cluster::spawn_node(&nats, "n1", &node_dir).await;
    signal(&n1, "TERM");
    let stopped = tokio::time::timeout(Duration::from_secs(5), n1.wait())
        .await
        .expect("stops within 5 s")
        .unwrap();
    assert!(stopped.success());
    let restarted = Instant::now();
    let (mut n1, _) = cluster::spawn_node(&nats, "n1", &node_dir).await;
    let took = restarted.elapsed();
    assert!(
        took < Duration::from_secs(2),
        "restart let in after {took:?}"
    );
    // After a SIGKILL: once its presence has lapsed and the others have dropped that
    // run, and a renewal's time to start.
    n1.start_kill().unwrap();
    n1.wait().await.unwrap();
    let restarted = Instant::now();
    let (_n1, _) = cluster::spawn_node(&nats, "n1", &node_dir).await;
    let took = restarted.elapsed();
    let bound = cluster::node_gone_within() + ssh_chatroom::cluster::RENEW_EVERY;
    assert!(took < bound, "restart let in after {took:?}");
}

#[tokio::test]
async fn nats_that_comes_up_during_the_start_is_waited_for() {
    let dir = tempfile::tempdir().unwrap();
    let mut nats = NatsServer::start(dir.path()).await;
    nats.kill();
    let node_dir = dir.path().join("n1");
    let starting = tokio::spawn({
        let args = cluster::node_args(&nats, "n1", &node_dir);
        async move {
            let mut child = tokio::process::Command::new(BIN)
                .args(args)
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .kill_on_drop(true)
                .spawn()
                .unwrap();
            let port = common::listening_port(&mut child).await;
            (child, port)
        }
    });
    tokio::time::sleep(Duration::from_secs(1)).await;
    nats.restart().await;
    let (_n1, port) = starting.await.unwrap();
    let _alice = common::TestClient::joined(port, "alice").await;
}

#[tokio::test]
async fn buckets_made_with_other_harmless_settings_are_opened() {
    let dir = tempfile::tempdir().unwrap();
    let nats = NatsServer::start(dir.path()).await;
    // n1 makes the buckets with one replica; n2 asks for three, which a single NATS
    // server cannot keep: it uses the buckets as they are.
    let (_n1, _) = cluster::spawn_node(&nats, "n1", &dir.path().join("n1")).await;
    let started = Instant::now();
    let mut n2 = tokio::process::Command::new(BIN)
        .args(cluster::node_args(&nats, "n2", &dir.path().join("n2")))
        .arg("--cluster-replicas=3")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let port = common::listening_port(&mut n2).await;
    assert!(started.elapsed() < Duration::from_secs(10));
    let _alice = common::TestClient::joined(port, "alice").await;
}

/// The names of the JetStream streams on `url` (a bucket `b` is the stream `KV_b`).
async fn streams(url: &str) -> Vec<String> {
    use futures_util::StreamExt;
    let client = async_nats::connect(url).await.unwrap();
    let js = async_nats::jetstream::new(client);
    let mut names: Vec<String> = js.stream_names().map(|n| n.unwrap()).collect().await;
    names.sort();
    names
}

/// `check --cluster` only reads (issue 18): on a NATS no node has used it makes no
/// bucket, and it reports what a running node made without changing it.
#[tokio::test]
async fn check_of_a_cluster_only_reads() {
    let dir = tempfile::tempdir().unwrap();
    let nats = NatsServer::start(dir.path()).await;
    let check = || {
        std::process::Command::new(BIN)
            .current_dir(dir.path())
            .args(["check", &format!("--cluster={}", nats.url())])
            .output()
            .unwrap()
    };
    let out = check();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("0 node(s), 0 room(s), 0 participant(s)"),
        "{text}"
    );
    assert_eq!(
        streams(&nats.url()).await,
        Vec::<String>::new(),
        "nothing made"
    );

    let node = cluster::node(&nats, "n1", &|_| {}).await;
    let made = streams(&nats.url()).await;
    let out = check();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(text.contains("node n1 (up since"), "{text}");
    assert_eq!(streams(&nats.url()).await, made);
    drop(node);
}

/// Nodes of two versions never share a cluster (issue 18): while a node of another
/// wire version is live, a node is refused at start with a line naming it; once that
/// node is gone, it starts.
#[tokio::test]
async fn a_node_of_another_version_is_refused_while_one_is_live() {
    let dir = tempfile::tempdir().unwrap();
    let nats = NatsServer::start(dir.path()).await;
    let first = cluster::node(&nats, "n1", &|_| {}).await;
    // The presence a node of the first version writes: no version in it.
    let client = async_nats::connect(nats.url()).await.unwrap();
    let nodes = async_nats::jetstream::new(client)
        .get_key_value("chat_nodes")
        .await
        .unwrap();
    let old = ssh_chatroom::cluster::key_of("n0");
    let presence = r#"{"since":"2026-11-30T10:00:00+00:00","stopping":false}"#;
    nodes.put(&old, presence.into()).await.unwrap();

    let key = cluster::shared_host_key(&nats);
    let out = refused(&dir.path().join("n2"), &nats.url(), "n2", &key).await;
    assert_refused(
        &out,
        &["node n0", "wire version 0", "one version at a time"],
    );
    nodes.delete(&old).await.unwrap();
    let second = cluster::node(&nats, "n2", &|_| {}).await;
    let mut alice = common::TestClient::joined(second.port(), "alice").await;
    alice.send_line("/user").await;
    alice.expect("[Server]: Users (1/10): alice").await;
    drop(first);
}
