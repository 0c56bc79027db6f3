//! The rooms of a server (SPEC §8): the default room always exists, any other is made by
//! its first `/join` and ends when it is empty with nothing scheduled, at most
//! `--max-rooms` in all. Every room's actor runs in this process (the in-process side of
//! room placement).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock, Weak};
use std::time::Duration;

use tokio::sync::Mutex;

use super::schedule::ScheduleStore;
use super::{Clock, JoinError, JoinRequest, Joined, ParticipantId, Room, RoomConfig, RoomHandle};
use crate::chat::line::ChatLine;
use crate::chat::room_name::RoomName;
use crate::log::LogSink;
use crate::names::NameRegistry;

/// Most rooms `/rooms` names before it counts the rest.
pub const ROOMS_LISTED: usize = 20;
/// How often rooms left empty once their scheduled messages went out are ended.
const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// What every new room is made from.
pub struct RoomMaker {
    /// Settings shared by every room (the name and `creator_is_admin` are set per room).
    pub template: RoomConfig,
    pub log: LogSink,
    pub clock: Clock,
    pub names: NameRegistry,
    pub schedules: ScheduleStore,
}

impl RoomMaker {
    fn make(&self, name: &RoomName, made_by_join: bool) -> RoomHandle {
        let mut config = self.template.clone();
        config.name = name.to_string();
        config.creator_is_admin = made_by_join;
        let schedules = self.schedules.book(&config.name);
        let room = Room::new(
            config,
            schedules,
            self.log.clone(),
            self.clock.clone(),
            self.names.clone(),
        );
        RoomHandle::spawn(room)
    }
}

/// Why someone could not enter a room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnterError {
    /// The room is full; `room` as the room spells itself.
    Full {
        room: String,
        count: usize,
        capacity: usize,
    },
    /// The room refused them otherwise.
    Join(JoinError),
    /// The room does not exist and there are already `--max-rooms`.
    TooManyRooms(usize),
}

impl std::fmt::Display for EnterError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EnterError::Full {
                room,
                count,
                capacity,
            } => write!(f, "{room} is full ({count}/{capacity})."),
            EnterError::Join(e) => e.fmt(f),
            EnterError::TooManyRooms(max) => write!(
                f,
                "There are too many rooms ({max}). Please join an existing one."
            ),
        }
    }
}

struct Entry {
    name: RoomName,
    handle: RoomHandle,
    /// Sessions that have entered and not yet left.
    members: usize,
}

/// Every room of the server, by look-alike key.
pub struct RoomDirectory {
    rooms: Mutex<HashMap<String, Entry>>,
    maker: RoomMaker,
    max_rooms: usize,
    default_room: RoomName,
    /// Server admins' key fingerprints, admins in every room.
    admin_keys: RwLock<HashSet<String>>,
}

impl RoomDirectory {
    /// The directory with its default room, and every room that has messages pending
    /// from before a restart.
    pub fn start(maker: RoomMaker, max_rooms: usize, default_room: RoomName) -> Arc<Self> {
        let mut rooms = HashMap::new();
        let mut open = |name: RoomName| {
            let handle = maker.make(&name, false);
            let key = name.key().to_string();
            rooms.entry(key).or_insert(Entry {
                name,
                handle,
                members: 0,
            });
        };
        open(default_room.clone());
        for saved in maker.schedules.rooms() {
            if let Ok(name) = RoomName::parse(&saved) {
                open(name);
            }
        }
        let admin_keys = RwLock::new(maker.template.admin_keys.clone());
        let directory = Arc::new(RoomDirectory {
            rooms: Mutex::new(rooms),
            maker,
            max_rooms,
            default_room,
            admin_keys,
        });
        tokio::spawn(sweep_now_and_then(Arc::downgrade(&directory)));
        directory
    }

    /// The room everyone lands in (`#lobby`).
    pub fn default_room(&self) -> &RoomName {
        &self.default_room
    }

    /// Whether `key` is a server admin's.
    pub fn is_server_admin(&self, key: Option<&str>) -> bool {
        let keys = self.admin_keys.read().unwrap_or_else(|e| e.into_inner());
        key.is_some_and(|k| keys.contains(k))
    }

    /// Enters `room`, making it (with the asker as admin) if it does not exist. Returns
    /// the room's handle, the join, and its name as the room spells it.
    ///
    /// # Errors
    /// The room refused (full, banned, nickname), or there are too many rooms.
    pub async fn enter(
        &self,
        room: &RoomName,
        mut request: JoinRequest,
    ) -> Result<(RoomHandle, Joined, RoomName), EnterError> {
        let mut rooms = self.rooms.lock().await;
        let made = !rooms.contains_key(room.key());
        if made {
            if rooms.len() >= self.max_rooms {
                return Err(EnterError::TooManyRooms(self.max_rooms));
            }
            let handle = self.maker.make(room, true);
            let entry = Entry {
                name: room.clone(),
                handle,
                members: 0,
            };
            rooms.insert(room.key().to_string(), entry);
        }
        request.creator = made;
        let entry = rooms.get_mut(room.key()).expect("present or just made");
        match entry.handle.join(request).await {
            Ok(joined) => {
                entry.members += 1;
                Ok((entry.handle.clone(), joined, entry.name.clone()))
            }
            Err(refused) => {
                let refused = match refused {
                    JoinError::Full { count, capacity } => EnterError::Full {
                        room: entry.name.to_string(),
                        count,
                        capacity,
                    },
                    other => EnterError::Join(other),
                };
                if made {
                    rooms.remove(room.key());
                }
                Err(refused)
            }
        }
    }

    /// Participant `id` leaves `room`; a room other than the default one ends when the
    /// last member has left and nothing is scheduled in it.
    pub async fn leave(&self, room: &RoomName, id: ParticipantId) {
        let mut rooms = self.rooms.lock().await;
        let Some(entry) = rooms.get_mut(room.key()) else {
            return;
        };
        entry.handle.leave(id).await;
        entry.members = entry.members.saturating_sub(1);
        if self.is_over(room.key(), entry).await {
            rooms.remove(room.key());
        }
    }

    /// `(participants, capacity)` of `room`, if it exists.
    pub async fn occupancy(&self, room: &RoomName) -> Option<(usize, usize)> {
        let handle = self.handle(room).await?;
        handle.occupancy().await
    }

    /// The handle of `room`, if it exists.
    pub async fn handle(&self, room: &RoomName) -> Option<RoomHandle> {
        let rooms = self.rooms.lock().await;
        rooms.get(room.key()).map(|e| e.handle.clone())
    }

    /// `[Server]: Rooms (3): #lobby (4/10), #rust (2/10), #go (1/10)`: fullest first,
    /// then by name; past [`ROOMS_LISTED`] the rest are counted.
    pub async fn rooms_line(&self) -> ChatLine {
        let rooms = self.rooms.lock().await;
        let mut list: Vec<(usize, String)> = rooms
            .values()
            .map(|e| (e.members, e.name.to_string()))
            .collect();
        drop(rooms);
        list.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        let capacity = self.maker.template.capacity;
        let shown: Vec<String> = list
            .iter()
            .take(ROOMS_LISTED)
            .map(|(n, name)| format!("{name} ({n}/{capacity})"))
            .collect();
        let more = match list.len().saturating_sub(ROOMS_LISTED) {
            0 => String::new(),
            n => format!(", and {n} more"),
        };
        let count = list.len();
        ChatLine::server(format!("Rooms ({count}): {}{more}", shown.join(", ")))
    }

    /// New server admin keys, for every room.
    pub async fn set_admin_keys(&self, keys: HashSet<String>) {
        *self.admin_keys.write().unwrap_or_else(|e| e.into_inner()) = keys.clone();
        for handle in self.handles().await {
            handle.set_admin_keys(keys.clone()).await;
        }
    }

    /// Tells everyone in every room that the server stops, and saves what is pending.
    pub async fn shutdown(&self) {
        for handle in self.handles().await {
            handle.shutdown().await;
        }
    }

    /// Every room's handle, taken without holding the lock while they are used.
    async fn handles(&self) -> Vec<RoomHandle> {
        let rooms = self.rooms.lock().await;
        rooms.values().map(|e| e.handle.clone()).collect()
    }

    /// Whether the room `key` is over: not the default room, nobody in it, nothing
    /// scheduled.
    async fn is_over(&self, key: &str, entry: &Entry) -> bool {
        entry.members == 0
            && key != self.default_room.key()
            && entry.handle.pending_schedules().await == Some(0)
    }

    /// Ends the rooms that are empty and have nothing scheduled any more.
    async fn sweep(&self) {
        let mut rooms = self.rooms.lock().await;
        let mut ended = Vec::new();
        for (key, entry) in rooms.iter() {
            if self.is_over(key, entry).await {
                ended.push(key.clone());
            }
        }
        for key in ended {
            rooms.remove(&key);
        }
    }
}

async fn sweep_now_and_then(directory: Weak<RoomDirectory>) {
    let mut every = tokio::time::interval(SWEEP_EVERY);
    every.tick().await;
    loop {
        every.tick().await;
        let Some(directory) = directory.upgrade() else {
            return;
        };
        directory.sweep().await;
    }
}
