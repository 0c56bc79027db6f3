//! `bench chaos`: the long form of the cluster's chaos soak (`tests/cluster_chaos.rs`
//! is the short one; both run `testkit::chaos`). It starts its own NATS (one server, or
//! three with `--nats-cluster`) and nodes (the real binary, `--node-binary`), puts the
//! users in their rooms, and applies a fault about every `--fault-every` seconds for
//! `--minutes`: a node SIGKILLed and restarted 3–5 s later, a node SIGTERMed and
//! restarted at once, NATS (or one of the three) SIGKILLed for 2–4 s. Then it prints the
//! human summary, every failure with its evidence, and one JSON line; the exit status is
//! 1 if any of the four checks failed.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use testkit::chaos::{self, ChaosConfig};

/// Arguments of `bench chaos`.
#[derive(Debug, Args)]
pub struct ChaosArgs {
    /// Minutes of faults (the soak ends one fault interval after the last one).
    #[arg(long, default_value_t = 10.0)]
    pub minutes: f64,
    /// Users, in rooms and on home nodes taken round-robin; each types a line about
    /// once a second.
    #[arg(long, default_value_t = 30)]
    pub users: usize,
    /// Rooms (`#chaos0`, ...), each made on its own node when there are enough.
    #[arg(long, default_value_t = 3)]
    pub rooms: usize,
    /// Nodes (`n1`, ...); node faults take them in turn.
    #[arg(long, default_value_t = 3)]
    pub nodes: usize,
    /// Seconds from one fault to the next (each interval ±10 %).
    #[arg(long, default_value_t = 20.0)]
    pub fault_every: f64,
    /// The kinds of fault, applied in this order over and over: `node_kill`,
    /// `node_term`, `nats_kill`, comma-separated.
    #[arg(long, default_value = "node_kill,node_term,nats_kill")]
    pub faults: String,
    /// Three NATS servers as one cluster, nodes with `--cluster-replicas 3`; the NATS
    /// fault then kills one of them.
    #[arg(long)]
    pub nats_cluster: bool,
    /// The `ssh-chatroom` binary the nodes run.
    #[arg(long, default_value = "target/release/ssh-chatroom")]
    pub node_binary: PathBuf,
    /// Seed of the pauses, fault lengths and timings (default: random; printed).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Folder for NATS's and the nodes' files (default: a new one in the temp folder,
    /// removed after a run that passed).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// More arguments for every node, e.g. `--node-arg=--history=50` (repeatable).
    #[arg(long = "node-arg", allow_hyphen_values = true)]
    pub node_args: Vec<String>,
}

/// Runs the soak and prints the report.
///
/// # Errors
/// Bad arguments, the harness could not do its part (NATS or a node would not start),
/// or a check failed (after the report is printed).
pub async fn run(args: ChaosArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.users > 0 && args.rooms > 0 && args.nodes > 0);
    anyhow::ensure!(
        args.minutes.is_finite() && args.minutes > 0.0,
        "--minutes must be > 0"
    );
    anyhow::ensure!(
        args.fault_every.is_finite() && args.fault_every >= 5.0,
        "--fault-every must be at least 5 s (a killed node stays down up to 5 s)"
    );
    let binary = std::fs::canonicalize(&args.node_binary).with_context(|| {
        format!(
            "no node binary at {} (cargo build --release, or --node-binary)",
            args.node_binary.display()
        )
    })?;
    let (dir, temporary) = match &args.dir {
        Some(dir) => (dir.clone(), false),
        None => (
            std::env::temp_dir().join(format!(
                "ssh-chatroom-chaos-{}-{:x}",
                std::process::id(),
                rand::random::<u32>()
            )),
            true,
        ),
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut config = ChaosConfig::new(binary, dir.clone());
    config.nodes = args.nodes;
    config.users = args.users;
    config.rooms = args.rooms;
    config.nats_cluster = args.nats_cluster;
    config.fault_every = Duration::from_secs_f64(args.fault_every);
    config.faults = ((args.minutes * 60.0 / args.fault_every).round() as usize).max(1);
    config.node_args = args.node_args.clone();
    config.kinds = chaos::faults::parse_kinds(&args.faults).map_err(anyhow::Error::msg)?;
    config.progress = true;
    if let Some(seed) = args.seed {
        config.seed = seed;
    }
    let report = chaos::run(&config).await?;
    println!("{}", report.summary());
    let failures = report.failures();
    for failure in &failures {
        println!("  {failure}");
    }
    println!("{}", report.json());
    if report.passed() {
        if temporary {
            let _ = std::fs::remove_dir_all(&dir);
        }
        return Ok(());
    }
    eprintln!(
        "the soak failed its checks; the nodes' logs are in {} (rerun with --seed {})",
        dir.display(),
        config.seed
    );
    std::process::exit(1)
}
