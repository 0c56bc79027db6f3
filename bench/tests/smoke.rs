//! Smoke run of the `bench` load generator (seconds, debug build), so the benchmark
//! cannot rot: a small fanout and a small connect run against an in-process server;
//! the same spread over two separate servers started by the test (not a cluster: each
//! room stays on one of them); and `takeover` against one server, killing a stand-in
//! process instead of a node; and `bench floor`, the bare relay, one room and many.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ssh_chatroom::config::Config;
use ssh_chatroom::room::Clock;
use ssh_chatroom::server::{start, RunningServer};

/// How long one bench run may take in a debug build before the test fails.
const LIMIT: Duration = Duration::from_secs(120);

/// Runs `bench ARGS`, checks it succeeds within [`LIMIT`], and returns its JSON line.
fn bench(args: &[&str]) -> serde_json::Value {
    let exe = env!("CARGO_BIN_EXE_bench");
    let mut child = Command::new(exe)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("bench starts");
    let started = Instant::now();
    while child.try_wait().expect("bench can be waited for").is_none() {
        if started.elapsed() > LIMIT {
            let _ = child.kill();
            panic!("bench {args:?} still running after {LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let output = child.wait_with_output().expect("bench output");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "bench {args:?} failed:\n{stdout}");
    let line = stdout
        .lines()
        .last()
        .expect("bench prints a JSON line last");
    serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line:?}"))
}

#[test]
fn fanout_delivers_every_line_and_measures_latency() {
    let report = bench(&[
        "fanout",
        "--self-serve",
        "--users",
        "5",
        "--senders",
        "2",
        "--messages",
        "20",
        "--rate",
        "100",
        "--drain-timeout",
        "20",
    ]);
    assert_eq!(report["bench"], "fanout");
    assert_eq!(report["expected"], 100);
    assert_eq!(report["delivered"], 100, "{report}");
    assert_eq!(report["missing"], 0, "{report}");
    assert_eq!(report["duplicates"], 0, "{report}");
    for key in ["p50_ms", "p90_ms", "p99_ms", "max_ms", "deliveries_per_s"] {
        let value = report[key]
            .as_f64()
            .unwrap_or_else(|| panic!("{key} missing: {report}"));
        assert!(value > 0.0, "{key} = {value}");
    }
    assert!(report["p50_ms"].as_f64() <= report["p99_ms"].as_f64());
}

/// Many rooms: each line reaches only its sender's room.
#[test]
fn fanout_over_rooms_delivers_each_line_to_its_room_only() {
    let report = bench(&[
        "fanout",
        "--self-serve",
        "--users",
        "12",
        "--rooms",
        "4",
        "--senders",
        "4",
        "--messages",
        "40",
        "--rate",
        "200",
        "--drain-timeout",
        "20",
    ]);
    assert_eq!(report["rooms"], 4);
    assert_eq!(
        report["expected"], 120,
        "40 lines × 3 in each room: {report}"
    );
    assert_eq!(report["delivered"], 120, "{report}");
    assert_eq!(
        report["unmatched"], 0,
        "nothing from another room: {report}"
    );
    assert_eq!(report["duplicates"], 0, "{report}");
}

#[test]
fn connect_opens_every_session() {
    let report = bench(&[
        "connect",
        "--self-serve",
        "--sessions",
        "8",
        "--concurrency",
        "4",
        "--settle",
        "0",
    ]);
    assert_eq!(report["bench"], "connect");
    assert_eq!(report["opened"], 8, "{report}");
    assert_eq!(report["failed"], 0, "{report}");
    assert!(report["setup_p99_ms"].as_f64().is_some(), "{report}");
    assert!(
        report["sessions_per_s"].as_f64().unwrap_or(0.0) > 0.0,
        "{report}"
    );
}

/// Separate servers in this process, on 127.0.0.1:0 with the limits off (as
/// `--self-serve` has them), shut down and removed when dropped.
struct Servers {
    runtime: tokio::runtime::Runtime,
    running: Vec<(RunningServer, PathBuf)>,
}

impl Servers {
    fn start(count: usize) -> Servers {
        let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
        let running = (0..count)
            .map(|_| {
                let dir = std::env::temp_dir().join(format!(
                    "ssh-chatroom-bench-smoke-{}-{:x}",
                    std::process::id(),
                    rand::random::<u32>()
                ));
                let config = Config {
                    capacity: 64,
                    max_handshakes: 0,
                    no_user_logs: true,
                    ..Config::from_flags(testkit::server_flags(&dir)).expect("the flags parse")
                };
                let server = runtime
                    .block_on(start(config, Clock::System))
                    .expect("server starts");
                (server, dir)
            })
            .collect();
        Servers { runtime, running }
    }

    /// `127.0.0.1:A,127.0.0.1:B`, for `--addr`.
    fn addr_list(&self) -> String {
        let addrs: Vec<SocketAddr> = self.running.iter().map(|(s, _)| s.local_addr).collect();
        let addrs: Vec<String> = addrs.iter().map(ToString::to_string).collect();
        addrs.join(",")
    }
}

impl Drop for Servers {
    fn drop(&mut self) {
        for (server, dir) in self.running.drain(..) {
            self.runtime.block_on(server.shutdown());
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// Two servers that are not a cluster: users alternate between them, so with two
/// rooms each room is all on one server and every line still reaches its room.
#[test]
fn fanout_and_connect_spread_users_over_two_addresses() {
    let servers = Servers::start(2);
    let addrs = servers.addr_list();
    let report = bench(&[
        "fanout",
        "--addr",
        &addrs,
        "--users",
        "8",
        "--rooms",
        "2",
        "--senders",
        "2",
        "--messages",
        "20",
        "--rate",
        "100",
        "--drain-timeout",
        "20",
    ]);
    let listed: Vec<&str> = addrs.split(',').collect();
    assert_eq!(report["addrs"], serde_json::json!(listed), "{report}");
    assert_eq!(
        report["users_per_addr"],
        serde_json::json!([4, 4]),
        "{report}"
    );
    assert_eq!(
        report["expected"], 80,
        "20 lines × 4 in each room: {report}"
    );
    assert_eq!(report["delivered"], 80, "{report}");
    assert_eq!(report["unmatched"], 0, "{report}");

    let report = bench(&[
        "connect",
        "--addr",
        &addrs,
        "--sessions",
        "7",
        "--concurrency",
        "4",
        "--settle",
        "0",
    ]);
    assert_eq!(report["opened"], 7, "{report}");
    assert_eq!(
        report["sessions_per_addr"],
        serde_json::json!([4, 3]),
        "{report}"
    );
}

/// Without a cluster nothing moves: killing a stand-in process leaves the room as it
/// was, so the first line typed after the kill arrives at once, and nothing is lost.
#[test]
fn takeover_against_one_server_recovers_at_once() {
    let servers = Servers::start(1);
    let mut stand_in = Command::new("sleep")
        .arg("60")
        .spawn()
        .expect("sleep starts");
    let pid = stand_in.id().to_string();
    let report = bench(&[
        "takeover",
        "--addr",
        &servers.addr_list(),
        "--room",
        "#smoke",
        "--users",
        "3",
        "--kill-pid",
        &pid,
        "--interval-ms",
        "20",
        "--before",
        "0.5",
        "--timeout",
        "5",
    ]);
    let status = stand_in.wait().expect("the stand-in can be waited for");
    assert!(!status.success(), "the stand-in was killed: {status}");
    assert_eq!(report["bench"], "takeover");
    assert_eq!(report["recovered"], true, "{report}");
    assert!(report["typed_before"].as_u64() > Some(5), "{report}");
    assert_eq!(report["incomplete_before"], 0, "{report}");
    assert!(report["typed_after"].as_u64() > Some(5), "{report}");
    assert_eq!(report["lost"], 0, "{report}");
    assert_eq!(report["refused"], 0, "{report}");
    assert_eq!(report["partial_after"], 0, "{report}");
    let recovery = report["recovery_ms"].as_f64().expect("recovery_ms");
    assert!(recovery < 2000.0, "{report}");
}

/// `bench floor` as a child process, killed when dropped.
struct Floor(std::process::Child, String);

impl Floor {
    fn start() -> Floor {
        let mut child = Command::new(env!("CARGO_BIN_EXE_bench"))
            .args(["floor", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("bench floor starts");
        let stdout = child.stdout.take().expect("its stdout");
        let mut first = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut first)
            .expect("it says where it listens");
        let addr = first
            .trim()
            .rsplit(' ')
            .next()
            .unwrap_or_default()
            .to_string();
        assert!(first.starts_with("floor listening on "), "{first:?}");
        Floor(child, addr)
    }
}

impl Drop for Floor {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The floor relays a line to everyone, or, entered by room name, to that room only.
#[test]
fn the_floor_relays_to_everyone_or_to_a_room() {
    let floor = Floor::start();
    let fanout = |users: &str, rooms: &str, senders: &str, messages: &str| {
        bench(&[
            "fanout",
            "--addr",
            &floor.1,
            "--users",
            users,
            "--rooms",
            rooms,
            "--senders",
            senders,
            "--messages",
            messages,
            "--rate",
            "100",
            "--drain-timeout",
            "20",
        ])
    };
    let everyone = fanout("4", "1", "2", "10");
    assert_eq!(everyone["expected"], 40, "{everyone}");
    assert_eq!(everyone["delivered"], 40, "{everyone}");
    let rooms = fanout("6", "3", "3", "12");
    assert_eq!(rooms["expected"], 24, "12 lines × 2 in each room: {rooms}");
    assert_eq!(rooms["delivered"], 24, "{rooms}");
    assert_eq!(rooms["unmatched"], 0, "nothing from another room: {rooms}");
    assert_eq!(rooms["duplicates"], 0, "{rooms}");
}
