//! Smoke run of the `bench` load generator (seconds, debug build), so the benchmark
//! cannot rot: a small fanout and a small connect run against an in-process server.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

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
