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
//!   (check 4); [`report`], [`findings`] and [`evidence`] say what was found.

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
pub mod user;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use tokio::sync::watch;

use broker::Broker;
use nodes::Nodes;
use report::{FaultOutcome, Report};
use roster::{Roster, UserSpec};
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
    let kinds: Vec<&str> = config.kinds.iter().map(|k| k.key()).collect();
    let setup = format!(
        "{} nodes, {} users in {} rooms, {} NATS, a fault every ~{} s x {} ({}), seed {}",
        config.nodes,
        config.users,
        config.rooms,
        if config.nats_cluster { "three" } else { "one" },
        config.fault_every.as_secs_f64(),
        config.faults,
        kinds.join(", "),
        config.seed
    );
    say(format!("{setup}; files in {}", config.dir.display()));
    let mut broker = Broker::start(&config.dir, config.nats_cluster).await?;
    let capacity = config.users + 10;
    let mut nodes = Nodes::start(
        &config.binary,
        &config.dir,
        &broker.urls(),
        config.nodes,
        capacity,
        &config.node_args,
    )
    .await?;
    say(format!("NATS and {} nodes up", config.nodes));
    let roster = Arc::new(Roster::new(users(config), rooms(config)));
    let (mode, told) = watch::channel(Mode::Typing);
    let spawn = |u: usize| {
        let seed = config.seed ^ (u as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        tokio::spawn(user::run(
            roster.clone(),
            nodes.table(),
            u,
            told.clone(),
            seed,
        ))
    };
    // Room r's first user, alone at first, makes it on node r (mod nodes): the rooms
    // start out run by different nodes, and the first faults hit the nodes running them.
    let makers: Vec<usize> = (0..config.rooms.min(config.users)).collect();
    let mut tasks: Vec<_> = makers.iter().map(|&u| spawn(u)).collect();
    quiet::wait_in(&roster, &makers, Duration::from_secs(30)).await;
    tasks.extend((makers.len()..config.users).map(spawn));
    let mut quiet_points = vec![quiet::check(&roster).await];
    if !quiet_points[0].not_back.is_empty() {
        let snap = roster.snapshot();
        let why: Vec<String> = quiet_points[0]
            .not_back
            .iter()
            .filter_map(|name| roster.index_of(name))
            .map(|u| {
                let tries = &snap.sessions[u];
                let last = tries.last().map(|s| {
                    let welcomed = s.welcomed.is_some();
                    format!(
                        "welcomed {welcomed}, closed {}, {:?}",
                        s.closed.is_some(),
                        s.refusal
                    )
                });
                format!(
                    "{} ({} tries; last: {last:?})",
                    snap.users[u].name,
                    tries.len()
                )
            })
            .collect();
        anyhow::bail!("users never got into their rooms: {}", why.join(", "));
    }
    say(format!("all {} users in; chatting", config.users));
    say(spread(&roster, config.nodes));
    tokio::time::sleep(config.warmup).await;
    let mut rng = StdRng::seed_from_u64(config.seed);
    let mut faults = Vec::new();
    for k in 0..config.faults {
        if k > 0 {
            quiet_points.push(quiet::check(&roster).await);
        }
        let (kind, target) = faults::plan(k, &config.kinds, config.nodes, broker.len());
        let fault = faults::apply(kind, target, &mut nodes, &mut broker, &mut rng).await?;
        say(format!(
            "fault {}: {} {}: {}",
            k + 1,
            kind.describe(),
            fault.target,
            fault.note
        ));
        let every = config.fault_every.mul_f64(rng.random_range(0.9..1.1));
        let next = fault.at + every;
        faults.push(fault);
        tokio::time::sleep_until(next.into()).await;
    }
    quiet_points.push(quiet::check(&roster).await);
    say("final /user check done; waiting for the last answers".into());
    mode.send_replace(Mode::Quiet);
    drain(&roster).await;
    let end = Instant::now();
    let snap = roster.snapshot();
    mode.send_replace(Mode::Stop);
    for task in tasks {
        let _ = tokio::time::timeout(Duration::from_secs(10), task).await;
    }
    let dirs: Vec<PathBuf> = (0..nodes.len()).map(|i| nodes.dir_of(i)).collect();
    drop(nodes);
    let ledger = ledger::build(&snap);
    let deliveries = deliveries::check(&snap, &ledger);
    let mut outcomes = Vec::new();
    for (k, fault) in faults.iter().enumerate() {
        let until = faults.get(k + 1).map_or(end, |next| next.at);
        let rooms = recovery::recoveries(&snap, &ledger, fault.from, until);
        outcomes.push(FaultOutcome {
            fault: fault.clone(),
            rooms,
        });
    }
    Ok(Report {
        setup,
        seed: config.seed,
        nodes: config.nodes,
        nats_cluster: config.nats_cluster,
        duration: end - t0,
        snap,
        ledger,
        deliveries,
        faults: outcomes,
        quiet: quiet_points,
        evidence: evidence::Evidence::new(t0, wall0, &dirs),
        dir: config.dir.clone(),
    })
}

/// The users: `u00`, `u01`, ... in rooms taken round-robin, and on home nodes taken
/// round-robin within each room (user `i` is the `i / rooms`-th of its room), so that
/// every room has members on every node even when rooms and nodes are as many.
fn users(config: &ChaosConfig) -> Vec<UserSpec> {
    let width = if config.users > 100 { 3 } else { 2 };
    (0..config.users)
        .map(|i| UserSpec {
            name: format!("u{i:0width$}"),
            room: i % config.rooms,
            home: (i % config.rooms + i / config.rooms) % config.nodes,
        })
        .collect()
}

/// `#chaos0: n1 2, n2 2, n3 2; ...`: how many of each room's users start on each node.
fn spread(roster: &Roster, nodes: usize) -> String {
    let rooms: Vec<String> = (0..roster.rooms.len())
        .map(|r| {
            let counts: Vec<String> = (0..nodes)
                .map(|n| {
                    let here = roster.users.iter().filter(|u| u.room == r && u.home == n);
                    format!("{} {}", Nodes::name(n), here.count())
                })
                .collect();
            format!("{}: {}", roster.rooms[r], counts.join(", "))
        })
        .collect();
    format!("users per room and node: {}", rooms.join("; "))
}

/// The rooms: `#chaos0`, `#chaos1`, ...
fn rooms(config: &ChaosConfig) -> Vec<String> {
    (0..config.rooms).map(|r| format!("#chaos{r}")).collect()
}

/// Waits until every line typed has been answered and has reached every receiver
/// present throughout, or its 5 s (answer) and 5 s (delivery) bounds are over.
async fn drain(roster: &Roster) {
    let give_up = Instant::now() + ledger::ANSWER_WITHIN + deliveries::PRESENT_FOR;
    while Instant::now() < give_up {
        let snap = roster.snapshot();
        let ledger = ledger::build(&snap);
        let now = Instant::now();
        let waiting = ledger.lines.values().any(|l| {
            matches!(l.answer, ledger::Answer::Lost) && now < l.sent + ledger::ANSWER_WITHIN
        });
        let owed = deliveries::check(&snap, &ledger).missing.iter().any(|m| {
            let line = &ledger.lines[&m.line];
            line.room_time()
                .is_some_and(|t| now < t + deliveries::PRESENT_FOR)
        });
        if !waiting && !owed {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
