//! The in-process side of [`RoomPlacement`]: a lone server runs every room's actor in
//! this process. The default room always exists, any other is made by its first
//! `/join` and ends when it is empty with nothing scheduled. The lock on the rooms is
//! never held while a room's actor is waited for: a slow room delays only its own joins.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Weak};
use std::time::Duration;

use futures_util::future::BoxFuture;

use super::placement::{Entered, Listed, RoomPlacement};
use super::{EnterError, Entrant, LocalRoom, ParticipantId, RoomHandle, RoomMaker};
use crate::bans::Ban;
use crate::chat::room_name::RoomName;
use crate::delivery::Reach;

/// How often rooms left empty once their scheduled messages went out are ended.
const SWEEP_EVERY: Duration = Duration::from_secs(60);

struct Entry {
    name: RoomName,
    room: LocalRoom,
    /// Sessions entering or entered, and not yet left.
    members: usize,
    /// Entries so far: a room found over is ended only if nobody came meanwhile.
    entries: u64,
}

/// Every room of a lone server, by look-alike key.
pub struct RoomsHere {
    rooms: std::sync::Mutex<HashMap<String, Entry>>,
    maker: RoomMaker,
    max_rooms: usize,
    default_room: RoomName,
}

impl RoomsHere {
    /// The rooms with the default room, and every room that has messages pending from
    /// before a restart; at most `max_rooms`.
    pub fn start(maker: RoomMaker, max_rooms: usize, default_room: RoomName) -> Arc<Self> {
        let mut rooms = HashMap::new();
        let mut open = |name: RoomName| {
            let room = maker.make(&name, false);
            let key = name.key().to_string();
            rooms.entry(key).or_insert(Entry {
                name,
                room,
                members: 0,
                entries: 0,
            });
        };
        open(default_room.clone());
        for saved in maker.schedules.rooms() {
            if let Ok(name) = RoomName::parse(&saved) {
                open(name);
            }
        }
        let here = Arc::new(RoomsHere {
            rooms: std::sync::Mutex::new(rooms),
            maker,
            max_rooms,
            default_room,
        });
        tokio::spawn(sweep_now_and_then(Arc::downgrade(&here)));
        here
    }

    /// Enters a room run in this process. The entrant counts as a member from the
    /// start, so that the room is not ended meanwhile.
    async fn enter_here(
        &self,
        room: &RoomName,
        mut entrant: Entrant,
        reach: Reach,
    ) -> Result<Entered, EnterError> {
        let (local, name, made) = {
            let mut rooms = self.locked();
            let made = !rooms.contains_key(room.key());
            if made && rooms.len() >= self.max_rooms {
                return Err(EnterError::TooManyRooms(self.max_rooms));
            }
            let entry = rooms
                .entry(room.key().to_string())
                .or_insert_with(|| Entry {
                    name: room.clone(),
                    room: self.maker.make(room, true),
                    members: 0,
                    entries: 0,
                });
            entry.members += 1;
            entry.entries += 1;
            (entry.room.clone(), entry.name.clone(), made)
        };
        entrant.creator = made;
        match local.enter(entrant, reach).await {
            Ok(joined) => Ok((local.into(), joined, name)),
            Err(refused) => {
                self.left(room, made).await;
                Err(EnterError::refused(refused, &name.to_string()))
            }
        }
    }

    async fn leave_here(&self, room: &RoomName, id: ParticipantId) {
        let Some(local) = self.locked().get(room.key()).map(|e| e.room.clone()) else {
            return;
        };
        local.leave(id).await;
        self.left(room, false).await;
    }

    /// One member fewer in `room`; it ends if it is over (at once when `made` for an
    /// entrant it refused: nothing can be scheduled in it).
    async fn left(&self, room: &RoomName, made: bool) {
        let key = room.key();
        let (local, entries) = {
            let mut rooms = self.locked();
            let Some(entry) = rooms.get_mut(key) else {
                return;
            };
            entry.members = entry.members.saturating_sub(1);
            if entry.members > 0 || key == self.default_room.key() {
                return;
            }
            if made {
                rooms.remove(key);
                return;
            }
            (entry.room.clone(), entry.entries)
        };
        self.end_if_over(key, &local, entries).await;
    }

    /// Ends room `key` if nothing is scheduled in it and nobody has entered it since
    /// its `entries`-th entry (its actor is asked without the lock).
    async fn end_if_over(&self, key: &str, local: &LocalRoom, entries: u64) {
        if local.pending_schedules().await == Some(0) {
            let mut rooms = self.locked();
            if rooms
                .get(key)
                .is_some_and(|e| e.entries == entries && e.members == 0)
            {
                rooms.remove(key);
            }
        }
    }

    /// Adds room `name` run by `room` (a test's actor).
    #[cfg(test)]
    pub(super) fn add_room(&self, name: &RoomName, room: LocalRoom) {
        let entry = Entry {
            name: name.clone(),
            room,
            members: 0,
            entries: 0,
        };
        self.locked().insert(name.key().to_string(), entry);
    }

    /// Every room's actor, taken without holding the lock while they are used.
    fn actors(&self) -> Vec<LocalRoom> {
        self.locked().values().map(|e| e.room.clone()).collect()
    }

    /// The rooms, locked for a moment: never across an await.
    fn locked(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.rooms.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Ends the rooms that are empty and have nothing scheduled any more.
    async fn sweep(&self) {
        let empty: Vec<(String, LocalRoom, u64)> = self
            .locked()
            .iter()
            .filter(|(key, e)| e.members == 0 && *key != self.default_room.key())
            .map(|(key, e)| (key.clone(), e.room.clone(), e.entries))
            .collect();
        for (key, local, entries) in empty {
            self.end_if_over(&key, &local, entries).await;
        }
    }
}

impl RoomPlacement for RoomsHere {
    fn node(&self) -> &str {
        ""
    }

    fn enter<'a>(
        &'a self,
        room: &'a RoomName,
        entrant: Entrant,
        reach: Reach,
    ) -> BoxFuture<'a, Result<Entered, EnterError>> {
        Box::pin(self.enter_here(room, entrant, reach))
    }

    fn leave<'a>(&'a self, room: &'a RoomName, id: ParticipantId) -> BoxFuture<'a, ()> {
        Box::pin(self.leave_here(room, id))
    }

    fn handle(&self, room: &RoomName) -> Option<RoomHandle> {
        self.locked().get(room.key()).map(|e| e.room.clone().into())
    }

    fn rooms(&self) -> Vec<Listed> {
        let rooms = self.locked();
        rooms
            .values()
            .map(|e| Listed {
                participants: e.members,
                name: e.name.to_string(),
                locked: e.room.is_locked(),
            })
            .collect()
    }

    fn set_admin_keys(&self, keys: HashSet<String>) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            for local in self.actors() {
                local.set_admin_keys(keys.clone()).await;
            }
        })
    }

    fn enforce(&self, ban: Ban, told: String) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            for local in self.actors() {
                local.enforce(ban.clone(), told.clone()).await;
            }
        })
    }

    fn shutdown(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            for local in self.actors() {
                local.shutdown().await;
            }
        })
    }
}

async fn sweep_now_and_then(here: Weak<RoomsHere>) {
    let mut every = tokio::time::interval(SWEEP_EVERY);
    every.tick().await;
    loop {
        every.tick().await;
        let Some(here) = here.upgrade() else {
            return;
        };
        here.sweep().await;
    }
}
