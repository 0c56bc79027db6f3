//! The rooms this node runs, by look-alike key: one lock, taken for a moment by each
//! call and never across an await, so no caller can hold the table while it waits.

use std::collections::HashMap;
use std::sync::Mutex;

use tokio::sync::mpsc;

use super::owner::Owned;
use crate::cluster::lock;
use crate::room::RoomCommand;

/// The rooms this node runs.
#[derive(Default)]
pub struct OwnedRooms(Mutex<HashMap<String, Owned>>);

impl OwnedRooms {
    /// The room with look-alike key `room_key`, if this node runs it.
    pub fn get(&self, room_key: &str) -> Option<Owned> {
        lock(&self.0).get(room_key).cloned()
    }

    /// Whether this node runs the room with look-alike key `room_key`.
    pub fn contains(&self, room_key: &str) -> bool {
        lock(&self.0).contains_key(room_key)
    }

    /// This node runs the room with look-alike key `room_key` from now on.
    pub fn insert(&self, room_key: String, owned: Owned) {
        lock(&self.0).insert(room_key, owned);
    }

    /// This node no longer runs the room with look-alike key `room_key`.
    pub fn remove(&self, room_key: &str) -> Option<Owned> {
        lock(&self.0).remove(room_key)
    }

    /// Every room this node runs, taken out of the table (a stop hands them on).
    pub fn drain(&self) -> Vec<(String, Owned)> {
        lock(&self.0).drain().collect()
    }

    /// The actors of every room this node runs.
    pub fn actors(&self) -> Vec<mpsc::Sender<RoomCommand>> {
        lock(&self.0).values().map(|o| o.actor.clone()).collect()
    }
}
