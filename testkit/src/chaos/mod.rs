//! A chaos soak of the cluster (issue 17): real nodes (the `ssh-chatroom` binary), a
//! real `nats-server` (or three), real SSH clients, and faults applied in turn while
//! every user types a numbered line about once a second. Four checks:
//!
//! 1. every line is echoed or refused (`[Server]: ...`) at its sender within 5 s;
//! 2. it reaches every member present throughout exactly once, in the room's order;
//! 3. `/user`, asked at each quiet point and at the end, names exactly who is there;
//! 4. after each fault, each room's next line reaches everyone within 5 s.
//!
//! - [`roster`]: what each user did and saw; [`session`]: one SSH session's recorder;
//!   [`user`]: a user's typing and reconnecting.
//! - [`nodes`], [`broker`]: the node processes and NATS; [`faults`]: what is done to them.
//! - [`quiet`] (check 3), [`ledger`] (check 1), [`deliveries`] (check 2), [`recovery`]
//!   (check 4); [`report`] (with its summary), [`findings`] and [`evidence`] say what
//!   was found. `soak` holds the steps around the faults.

pub mod broker;
pub mod deliveries;
pub mod evidence;
pub mod faults;
pub mod findings;
pub mod ledger;
pub mod nodes;
pub mod quiet;
pub mod recovery;
pub mod report;
pub mod roster;
pub mod session;
mod soak;
mod summary;
pub mod user;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use tokio::sync::watch;

use broker::Broker;
use nodes::Nodes;
use report::Report;
use roster::Roster;
use user::Mode;

/// How a soak is run.
#[derive(Clone, Debug)]
pub struct ChaosConfig {
    /// The `ssh-chatroom` binary the nodes run.
    pub binary: PathBuf,
    /// Where NATS and the nodes keep their files (kept for the evidence).
    pub dir: PathBuf,
    pub nodes: usize,
    pub users: usize,
    pub rooms: usize,
    /// Three NATS servers as one cluster (nodes with `--cluster-replicas 3`).
    pub nats_cluster: bool,
    /// About this long from one fault to the next (±10 %).
    pub fault_every: Duration,
    pub faults: usize,
    /// The kinds of fault, applied in this order over and over.
    pub kinds: Vec<faults::FaultKind>,
    /// Chat before the first fault.
    pub warmup: Duration,
    /// Makes the pauses, fault lengths and users' timings reproducible.
    pub seed: u64,
    /// More arguments for every node.
    pub node_args: Vec<String>,
    /// Say each step on stderr as it happens.
    pub progress: bool,
}

impl ChaosConfig {
    /// Three nodes, one NATS, 12 users in 2 rooms, 5 faults 12 s apart (the test's).
    pub fn new(binary: PathBuf, dir: PathBuf) -> ChaosConfig {
        ChaosConfig {
            binary,
            dir,
            nodes: 3,
            users: 12,
            rooms: 2,
            nats_cluster: false,
            fault_every: Duration::from_secs(12),
            faults: 5,
            kinds: faults::FaultKind::CYCLE.to_vec(),
            warmup: Duration::from_secs(3),
            seed: rand::random(),
            node_args: Vec::new(),
            progress: false,
        }
    }
}

/// Applies the faults in turn, each after a quiet point (check 3) and about
/// `fault_every` after the previous one.
async fn faults_in_turn(
    config: &ChaosConfig,
    roster: &Arc<Roster>,
    nodes: &mut Nodes,
    broker: &mut Broker,
    quiet_points: &mut Vec<quiet::QuietPoint>,
    say: &impl Fn(String),
) -> anyhow::Result<Vec<faults::Fault>> {
    let mut rng = StdRng::seed_from_u64(config.seed);
    let mut faults = Vec::new();
    for k in 0..config.faults {
        if k > 0 {
            quiet_points.push(quiet::check(roster).await);
        }
        let (kind, target) = faults::plan(k, &config.kinds, config.nodes, broker.len());
        let fault = faults::apply(kind, target, nodes, broker, &mut rng).await?;
        say(format!(
            "fault {}: {} {}: {}",
            k + 1,
            kind.describe(),
            fault.target,
            fault.note
        ));
        let next = fault.at + config.fault_every.mul_f64(rng.random_range(0.9..1.1));
        faults.push(fault);
        tokio::time::sleep_until(next.into()).await;
    }
    Ok(faults)
}

/// Runs the soak and reports what it found (the checks' verdicts are in the report).
///
/// # Errors
/// The harness could not do its part: NATS or a node does not start or come back,
/// users cannot get in at the start.
pub async fn run(config: &ChaosConfig) -> anyhow::Result<Report> {
    anyhow::ensure!(config.nodes > 0 && config.users > 0 && config.rooms > 0);
    anyhow::ensure!(!config.kinds.is_empty(), "no kind of fault to apply");
    let t0 = Instant::now();
    let wall0 = chrono::Utc::now();
    let say = |text: String| {
        if config.progress {
            eprintln!("[{:7.3} s] {text}", t0.elapsed().as_secs_f64());
        }
    };
    let setup = soak::setup_line(config);
    say(format!("{setup}; files in {}", config.dir.display()));
    let mut broker = Broker::start(&config.dir, config.nats_cluster).await?;
    let mut nodes = Nodes::start(
        &config.binary,
        &config.dir,
        &broker.urls(),
        config.nodes,
        config.users + 10,
        &config.node_args,
    )
    .await?;
    say(format!("NATS and {} nodes up", config.nodes));
    let roster = Arc::new(Roster::new(soak::users(config), soak::rooms(config)));
    let (mode, told) = watch::channel(Mode::Typing);
    let tasks = soak::start_users(config, &roster, &nodes.table(), &told).await;
    let mut quiet_points = vec![quiet::check(&roster).await];
    soak::everyone_in(&roster, &quiet_points[0])?;
    say(format!("all {} users in; chatting", config.users));
    say(soak::spread(&roster, config.nodes));
    tokio::time::sleep(config.warmup).await;
    let faults = faults_in_turn(
        config,
        &roster,
        &mut nodes,
        &mut broker,
        &mut quiet_points,
        &say,
    )
    .await?;
    quiet_points.push(quiet::check(&roster).await);
    say("final /user check done; waiting for the last answers".into());
    mode.send_replace(Mode::Quiet);
    soak::drain(&roster).await;
    let end = Instant::now();
    let snap = roster.snapshot();
    mode.send_replace(Mode::Stop);
    for task in tasks {
        let _ = tokio::time::timeout(Duration::from_secs(10), task).await;
    }
    let dirs: Vec<PathBuf> = (0..nodes.len()).map(|i| nodes.dir_of(i)).collect();
    drop(nodes);
    let run = report::Run {
        setup,
        t0,
        wall0,
        end,
        dirs,
    };
    let report = Report::new(config, run, snap, &faults, quiet_points);
    Ok(report)
}
