//! A soak user: connects to its home node (or the next one up), enters its room, types
//! a numbered line about once a second, and when its session is cut (its node killed or
//! stopped) or refused (its name still held by the run that died) connects again, until
//! the soak tells it to stop.

use std::sync::Arc;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use russh::keys::{Algorithm, PrivateKey};
use tokio::sync::watch;
use tokio::time::Instant;

use super::nodes::NodeTable;
use super::roster::{Roster, Typed};
use super::session;

/// What the users are told to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Type numbered lines (and stay connected).
    Typing,
    /// Stay connected, type nothing more: the last answers are awaited.
    Quiet,
    /// Leave.
    Stop,
}

/// Runs user `user` until told [`Mode::Stop`]. `seed` makes its pauses reproducible.
pub async fn run(
    roster: Arc<Roster>,
    nodes: NodeTable,
    user: usize,
    mut mode: watch::Receiver<Mode>,
    seed: u64,
) {
    let mut rng = StdRng::seed_from_u64(seed);
    let Ok(key) = PrivateKey::random(&mut rand::rng(), Algorithm::Ed25519) else {
        return;
    };
    let home = roster.users[user].home;
    let mut next = 0u64;
    while !stopped(&mode) {
        let Some((node, addr)) = nodes.pick(home) else {
            pause(&mut mode, Duration::from_millis(100)).await;
            continue;
        };
        let live = match session::open(&roster, user, node, addr, &key).await {
            Ok(live) => live,
            Err(_) => {
                // Refused (a name still held), or the node went down meanwhile.
                let wait = Duration::from_millis(rng.random_range(200..500));
                pause(&mut mode, wait).await;
                continue;
            }
        };
        let s = live.session;
        roster.set_current(user, Some((s, live.writer.clone())));
        let mut changes = roster.changes();
        // The first line comes at a random point of the first second.
        let mut due = Instant::now() + Duration::from_millis(rng.random_range(0..1000));
        loop {
            tokio::select! {
                () = tokio::time::sleep_until(due) => {}
                _ = changes.changed() => {}
                _ = mode.changed() => {}
            }
            if roster.is_closed(user, s) || stopped(&mode) {
                break;
            }
            let now = Instant::now();
            if now < due {
                continue;
            }
            if *mode.borrow() == Mode::Quiet {
                due = now + Duration::from_millis(200);
                continue;
            }
            roster
                .type_into(user, s, &live.writer, Typed::Line(next))
                .await;
            next += 1;
            due = now + Duration::from_millis(rng.random_range(700..1300));
        }
        roster.set_current(user, None);
        drop(live);
    }
}

/// Whether the users are told to stop (or nobody tells them anything any more).
fn stopped(mode: &watch::Receiver<Mode>) -> bool {
    mode.has_changed().is_err() || *mode.borrow() == Mode::Stop
}

/// Sleeps for `wait`, or less if the mode changes.
async fn pause(mode: &mut watch::Receiver<Mode>, wait: Duration) {
    tokio::select! {
        () = tokio::time::sleep(wait) => {}
        _ = mode.changed() => {}
    }
}
