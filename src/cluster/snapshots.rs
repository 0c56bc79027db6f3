//! The keeper of a room's snapshot in `chat_rooms`, for the node that runs the room
//! next: the latest version written whenever it changes, at a pace, or at once when a
//! change must not be lost (see [`super::link`], which hands it each version).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::wire::RoomKey;
use super::{retry, Cluster, LEASE};
use crate::room::RoomSnapshot;

/// A snapshot, its version (counting up), and whether it must be stored at once.
pub(super) type Versioned = (u64, bool, Option<RoomSnapshot>);

/// Snapshots of a busy room are stored at most this often, unless one must be stored at
/// once: a node's death costs at most this much of a room's other changes (its rules,
/// say; its history is kept line by line, see [`super::history`]).
const SNAPSHOT_EVERY: Duration = Duration::from_millis(250);
/// Pause before a snapshot NATS did not take is stored again.
const STORE_AGAIN_AFTER: Duration = Duration::from_millis(500);

/// Writes the room's latest snapshot whenever it changes (a burst of changes is one
/// write: only the latest is kept; one the same as the last written is not written
/// again), and reports the version written in `kept`.
pub(super) async fn keep_snapshots(
    cluster: Arc<Cluster>,
    room: RoomKey,
    mut latest: watch::Receiver<Versioned>,
    kept: watch::Sender<u64>,
    stop: CancellationToken,
) {
    let mut written = 0;
    let mut stored_bytes = Vec::new();
    loop {
        // Anything newer than what is stored (`wait_for` looks at the current value
        // first, so a change made during the pause below is not missed).
        let newer = latest.wait_for(|(v, _, _)| *v > written);
        tokio::select! {
            newer = newer => if newer.is_err() { return },
            () = stop.cancelled() => return,
        }
        let (version, _, Some(snapshot)) = latest.borrow().clone() else {
            return;
        };
        let Ok(bytes) = serde_json::to_vec(&snapshot) else {
            return;
        };
        if bytes == stored_bytes {
            // Only its history changed, which is kept apart.
            written = version;
            kept.send_replace(version);
            continue;
        }
        // Tried again for a lease; then said, and tried again from the top (the room
        // still has a state to keep), until the room stops here.
        let snapshots = &cluster.snapshots;
        let store = || async {
            let stored = snapshots.put(room.bucket(), bytes.clone().into()).await;
            if let Err(error) = &stored {
                tracing::debug!(%error, room = %room.name(), "keeping the snapshot failed");
            }
            stored
        };
        let within = tokio::time::Instant::now() + LEASE;
        let stored = tokio::select! {
            stored = retry::until(within, retry::every(STORE_AGAIN_AFTER), store) => stored,
            () = stop.cancelled() => return,
        };
        if let Err(error) = stored {
            tracing::warn!(%error, room = %room.name(), "the room's snapshot could not be kept for a lease; trying on");
            continue;
        }
        written = version;
        kept.send_replace(version);
        stored_bytes = bytes;
        // A while before the next write, unless a change must be stored at once.
        let durable = latest.wait_for(|(v, durable, _)| *v > written && *durable);
        tokio::select! {
            () = tokio::time::sleep(SNAPSHOT_EVERY) => {}
            _ = durable => {}
            () = stop.cancelled() => return,
        }
    }
}
