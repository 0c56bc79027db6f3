//! A minute of chaos (issue 17): three real nodes on one real NATS server, 12 users in
//! two rooms typing a numbered line about once a second, and a fault every ~12 s in turn
//! (a node SIGKILLed and restarted 3–5 s later; a node SIGTERMed and restarted at once;
//! NATS SIGKILLed for 2–4 s), five faults in all. Every line is echoed or refused at its
//! sender, reaches every member present throughout exactly once and in the room's order,
//! `/user` never shows a ghost, and each room carries on within 5 s of each fault. The
//! engine is `testkit::chaos`; `bench chaos` runs the long form.
//!
//! This is the only test in its binary: while its NATS server is down, a server another
//! test started could take the freed port, and the restart would then fail.

use std::time::Duration;

use testkit::chaos::{self, ChaosConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_minute_of_faults_loses_no_line_and_leaves_no_ghost() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = ChaosConfig::new(
        env!("CARGO_BIN_EXE_ssh-chatroom").into(),
        dir.path().to_path_buf(),
    );
    config.progress = true;
    if let Ok(seed) = std::env::var("CHAOS_SEED") {
        config.seed = seed.parse().expect("CHAOS_SEED is a number");
    }
    // The soak's own bounds are inside; this only stops a harness that hangs.
    let ran = tokio::time::timeout(Duration::from_secs(240), chaos::run(&config))
        .await
        .expect("the soak ends");
    let report = match ran {
        Ok(report) => report,
        Err(e) => panic!(
            "the harness failed: {e:#} (files kept in {})",
            dir.keep().display()
        ),
    };
    println!("{}", report.summary());
    println!("{}", report.json());
    let failures = report.failures();
    if !failures.is_empty() {
        // Kept for the evidence: the nodes' server.txt and service logs.
        let kept = dir.keep();
        panic!(
            "the soak found {} failures (node logs kept in {}; rerun with CHAOS_SEED={}):\n{}",
            failures.len(),
            kept.display(),
            config.seed,
            failures.join("\n")
        );
    }
    // Each kind of fault happened.
    let kinds: Vec<_> = report.faults.iter().map(|f| f.fault.kind).collect();
    for kind in chaos::faults::FaultKind::CYCLE {
        assert!(kinds.contains(&kind), "{kinds:?}");
    }
    assert!(report.passed());
}
