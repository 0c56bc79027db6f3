//! The steps of a soak around its faults: who the users are and where they start, how
//! they get in (each room made on its own node first), and the wait at the end for the
//! last answers and deliveries.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::nodes::{NodeTable, Nodes};
use super::quiet::{self, QuietPoint};
use super::roster::{Roster, UserSpec};
use super::user::{self, Mode};
use super::{deliveries, ledger, ChaosConfig};

/// `3 nodes, 12 users in 2 rooms, one NATS, ...`: the soak in one line.
pub fn setup_line(config: &ChaosConfig) -> String {
    let kinds: Vec<&str> = config.kinds.iter().map(|k| k.key()).collect();
    format!(
        "{} nodes, {} users in {} rooms, {} NATS, a fault every ~{} s x {} ({}), seed {}",
        config.nodes,
        config.users,
        config.rooms,
        if config.nats_cluster { "three" } else { "one" },
        config.fault_every.as_secs_f64(),
        config.faults,
        kinds.join(", "),
        config.seed
    )
}

/// The users: `u00`, `u01`, ... in rooms taken round-robin, and on home nodes taken
/// round-robin within each room (user `i` is the `i / rooms`-th of its room), so that
/// every room has members on every node even when rooms and nodes are as many.
pub fn users(config: &ChaosConfig) -> Vec<UserSpec> {
    let width = if config.users > 100 { 3 } else { 2 };
    (0..config.users)
        .map(|i| UserSpec {
            name: format!("u{i:0width$}"),
            room: i % config.rooms,
            home: (i % config.rooms + i / config.rooms) % config.nodes,
        })
        .collect()
}

/// The rooms: `#chaos0`, `#chaos1`, ...
pub fn rooms(config: &ChaosConfig) -> Vec<String> {
    (0..config.rooms).map(|r| format!("#chaos{r}")).collect()
}

/// Starts every user's task. Room r's first user goes alone at first and makes it on
/// node r (mod nodes): the rooms start out run by different nodes, and the first
/// faults hit the nodes running them.
pub async fn start_users(
    config: &ChaosConfig,
    roster: &Arc<Roster>,
    nodes: &NodeTable,
    told: &watch::Receiver<Mode>,
) -> Vec<JoinHandle<()>> {
    let spawn = |u: usize| {
        let seed = config.seed ^ (u as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let (roster, nodes, told) = (roster.clone(), nodes.clone(), told.clone());
        tokio::spawn(user::run(roster, nodes, u, told, seed))
    };
    let makers: Vec<usize> = (0..config.rooms.min(config.users)).collect();
    let mut tasks: Vec<_> = makers.iter().map(|&u| spawn(u)).collect();
    quiet::wait_in(roster, &makers, Duration::from_secs(30)).await;
    tasks.extend((makers.len()..config.users).map(spawn));
    tasks
}

/// Fails, saying why as far as the sessions tell, if someone never got in at the start.
///
/// # Errors
/// Someone is not in.
pub fn everyone_in(roster: &Roster, first: &QuietPoint) -> anyhow::Result<()> {
    if first.not_back.is_empty() {
        return Ok(());
    }
    let snap = roster.snapshot();
    let why: Vec<String> = first
        .not_back
        .iter()
        .filter_map(|name| roster.index_of(name))
        .map(|u| {
            let tries = &snap.sessions[u];
            let last = tries.last().map(|s| {
                let (welcomed, closed) = (s.welcomed.is_some(), s.closed.is_some());
                format!("welcomed {welcomed}, closed {closed}, {:?}", s.refusal)
            });
            let name = &snap.users[u].name;
            format!("{name} ({} tries; last: {last:?})", tries.len())
        })
        .collect();
    anyhow::bail!("users never got into their rooms: {}", why.join(", "))
}

/// `#chaos0: n1 2, n2 2, n3 2; ...`: how many of each room's users start on each node.
pub fn spread(roster: &Roster, nodes: usize) -> String {
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

/// Waits until every line typed has been answered and has reached every receiver
/// present throughout, or its 5 s (answer) and 5 s (delivery) bounds are over.
pub async fn drain(roster: &Roster) {
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
