//! The rooms of a server (SPEC §8): the default room always exists, any other is made by
//! its first `/join` and ends when it is empty with nothing scheduled, at most
//! `--max-rooms` in all. A lone server runs every room's actor in this process (the
//! in-process side of room placement); a cluster node hands placement to
//! [`ClusterRooms`], which runs each room on one node of the cluster.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Weak};
use std::time::Duration;

pub use super::maker::RoomMaker;
use super::{EnterError, JoinError, JoinRequest, Joined, ParticipantId, RoomHandle};
use crate::chat::line::ChatLine;
use crate::chat::room_name::RoomName;
use crate::cluster::ClusterRooms;
use crate::metrics::Refusal;
use crate::names::{Claim, Reach};

/// Most rooms `/rooms` names before it counts the rest.
pub const ROOMS_LISTED: usize = 20;
/// How often rooms left empty once their scheduled messages went out are ended.
const SWEEP_EVERY: Duration = Duration::from_secs(60);

struct Entry {
    name: RoomName,
    handle: RoomHandle,
    /// Sessions entering or entered, and not yet left.
    members: usize,
    /// Entries so far: a room found over is ended only if nobody came meanwhile.
    entries: u64,
}

/// Every room of the server, by look-alike key.
pub struct RoomDirectory {
    rooms: std::sync::Mutex<HashMap<String, Entry>>,
    maker: RoomMaker,
    max_rooms: usize,
    default_room: RoomName,
    /// Set on a cluster node: rooms are placed across the cluster.
    cluster: Option<Arc<ClusterRooms>>,
}

impl RoomDirectory {
    /// The directory with its default room, and every room that has messages pending
    /// from before a restart.
    pub fn start(maker: RoomMaker, max_rooms: usize, default_room: RoomName) -> Arc<Self> {
        RoomDirectory::start_with(maker, max_rooms, default_room, None)
    }

    /// The directory of a cluster node: `cluster` places the rooms.
    pub fn start_clustered(
        maker: RoomMaker,
        max_rooms: usize,
        default_room: RoomName,
        cluster: Arc<ClusterRooms>,
    ) -> Arc<Self> {
        RoomDirectory::start_with(maker, max_rooms, default_room, Some(cluster))
    }

    fn start_with(
        maker: RoomMaker,
        max_rooms: usize,
        default_room: RoomName,
        cluster: Option<Arc<ClusterRooms>>,
    ) -> Arc<Self> {
        let mut rooms = HashMap::new();
        let mut open = |name: RoomName| {
            let handle = maker.make(&name, false);
            let key = name.key().to_string();
            rooms.entry(key).or_insert(Entry {
                name,
                handle,
                members: 0,
                entries: 0,
            });
        };
        if cluster.is_none() {
            open(default_room.clone());
            for saved in maker.schedules.rooms() {
                if let Ok(name) = RoomName::parse(&saved) {
                    open(name);
                }
            }
        }
        let directory = Arc::new(RoomDirectory {
            rooms: std::sync::Mutex::new(rooms),
            maker,
            max_rooms,
            default_room,
            cluster,
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
        self.maker.is_server_admin(key)
    }

    /// Enters `room`, making it (with the asker as admin) if it does not exist: claims
    /// the nickname chat-wide first (kept on a move, freed again if the room refuses a
    /// newcomer). Returns the room's handle, the join, and its name as the room spells
    /// it.
    ///
    /// # Errors
    /// The nickname is refused, the room refused (full, banned), or there are too many
    /// rooms.
    pub async fn enter(
        &self,
        room: &RoomName,
        mut request: JoinRequest,
    ) -> Result<(RoomHandle, Joined, RoomName), EnterError> {
        let names = &self.maker.names;
        let claim = Claim {
            id: request.id,
            nick: String::new(),
            room: room.to_string(),
            key: request.key.clone(),
            node: self.node().to_string(),
        };
        let (nick, fresh) = match names.claim(&request.nickname, claim).await {
            Ok(claimed) => claimed,
            Err(e) => {
                let who = request.addr.map(|a| a.to_string()).unwrap_or_default();
                let text = format!("{room} {who} nickname \"{}\": {e}", request.nickname);
                self.maker.log.event("REFUSED", text);
                self.maker.metrics.refused(Refusal::NameRefused);
                return Err(EnterError::Join(JoinError::Nickname(e)));
            }
        };
        request.nickname = nick.to_string();
        let reach = Reach {
            outbox: request.outbox.clone(),
            kill: request.kill.clone(),
            transcript: request.transcript.clone(),
        };
        let id = request.id;
        let entered = match &self.cluster {
            Some(cluster) => cluster.enter(room, request, self.max_rooms).await,
            None => self.enter_here(room, request).await,
        };
        match &entered {
            Ok((_, _, shown)) => {
                if fresh {
                    names.add_reach(id, reach);
                }
                if shown.to_string() != room.to_string() {
                    names.moved(&nick, id, &shown.to_string()).await;
                }
            }
            Err(_) if fresh => names.release(nick.as_str(), id).await,
            Err(_) => {}
        }
        if let Err(refused) = &entered {
            self.maker.metrics.refused(Refusal::of(refused));
        }
        entered
    }

    /// This server's name in the cluster (empty for a lone server).
    pub fn node(&self) -> &str {
        self.cluster.as_ref().map_or("", |c| c.node())
    }

    /// Enters a room run in this process. The directory's lock is never held while a
    /// room's actor is waited for: a slow room delays only its own joins. The entrant
    /// counts as a member from the start, so that the room is not ended meanwhile.
    async fn enter_here(
        &self,
        room: &RoomName,
        mut request: JoinRequest,
    ) -> Result<(RoomHandle, Joined, RoomName), EnterError> {
        let (handle, name, made) = {
            let mut rooms = self.rooms();
            let made = !rooms.contains_key(room.key());
            if made && rooms.len() >= self.max_rooms {
                return Err(EnterError::TooManyRooms(self.max_rooms));
            }
            let entry = rooms
                .entry(room.key().to_string())
                .or_insert_with(|| Entry {
                    name: room.clone(),
                    handle: self.maker.make(room, true),
                    members: 0,
                    entries: 0,
                });
            entry.members += 1;
            entry.entries += 1;
            (entry.handle.clone(), entry.name.clone(), made)
        };
        request.creator = made;
        match handle.join(request).await {
            Ok(joined) => Ok((handle, joined, name)),
            Err(refused) => {
                self.left(room, made).await;
                Err(EnterError::refused(refused, &name.to_string()))
            }
        }
    }

    /// Participant `id` leaves `room`; a room other than the default one ends when the
    /// last member has left and nothing is scheduled in it.
    pub async fn leave(&self, room: &RoomName, id: ParticipantId) {
        if let Some(cluster) = &self.cluster {
            return cluster.leave(room, id).await;
        }
        let Some(handle) = self.rooms().get(room.key()).map(|e| e.handle.clone()) else {
            return;
        };
        handle.leave(id).await;
        self.left(room, false).await;
    }

    /// One member fewer in `room`; it ends if it is over (at once when `made` for an
    /// entrant it refused: nothing can be scheduled in it).
    async fn left(&self, room: &RoomName, made: bool) {
        let key = room.key();
        let (handle, entries) = {
            let mut rooms = self.rooms();
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
            (entry.handle.clone(), entry.entries)
        };
        self.end_if_over(key, &handle, entries).await;
    }

    /// Ends room `key` if nothing is scheduled in it and nobody has entered it since
    /// its `entries`-th entry (its actor is asked without the directory's lock).
    async fn end_if_over(&self, key: &str, handle: &RoomHandle, entries: u64) {
        if handle.pending_schedules().await == Some(0) {
            let mut rooms = self.rooms();
            if rooms
                .get(key)
                .is_some_and(|e| e.entries == entries && e.members == 0)
            {
                rooms.remove(key);
            }
        }
    }

    /// `(participants, capacity)` of `room`, if it exists.
    pub async fn occupancy(&self, room: &RoomName) -> Option<(usize, usize)> {
        if let Some(cluster) = &self.cluster {
            return cluster.occupancy(room).await;
        }
        let handle = self.handle(room).await?;
        handle.occupancy().await
    }

    /// The handle of `room`, if it exists.
    pub async fn handle(&self, room: &RoomName) -> Option<RoomHandle> {
        if let Some(cluster) = &self.cluster {
            return cluster.handle(room);
        }
        self.rooms().get(room.key()).map(|e| e.handle.clone())
    }

    /// `[Server]: Rooms (3): #lobby (4/10), #rust (2/10), #go (1/10)`: fullest first,
    /// then by name; past [`ROOMS_LISTED`] the rest are counted.
    pub async fn rooms_line(&self) -> ChatLine {
        let mut list: Vec<(usize, String)> = match &self.cluster {
            Some(cluster) => cluster.rooms(),
            None => self
                .rooms()
                .values()
                .map(|e| (e.members, e.name.to_string()))
                .collect(),
        };
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

    /// New server admin keys, for every room, and every room made from now on.
    pub async fn set_admin_keys(&self, keys: HashSet<String>) {
        self.maker.set_admin_keys(keys.clone());
        if let Some(cluster) = &self.cluster {
            cluster.set_admin_keys(keys.clone()).await;
        }
        for handle in self.handles().await {
            handle.set_admin_keys(keys.clone()).await;
        }
    }

    /// Tells everyone in every room that the server stops, and saves what is pending.
    pub async fn shutdown(&self) {
        if let Some(cluster) = &self.cluster {
            cluster.shutdown().await;
        }
        for handle in self.handles().await {
            handle.shutdown().await;
        }
    }

    /// Adds room `name` run by `handle` (a test's actor).
    #[cfg(test)]
    pub(super) fn add_room(&self, name: &RoomName, handle: RoomHandle) {
        let entry = Entry {
            name: name.clone(),
            handle,
            members: 0,
            entries: 0,
        };
        self.rooms().insert(name.key().to_string(), entry);
    }

    /// Every room's handle, taken without holding the lock while they are used.
    async fn handles(&self) -> Vec<RoomHandle> {
        self.rooms().values().map(|e| e.handle.clone()).collect()
    }

    /// The rooms, locked for a moment: never across an await.
    fn rooms(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.rooms.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Ends the rooms that are empty and have nothing scheduled any more.
    async fn sweep(&self) {
        let empty: Vec<(String, RoomHandle, u64)> = self
            .rooms()
            .iter()
            .filter(|(key, e)| e.members == 0 && *key != self.default_room.key())
            .map(|(key, e)| (key.clone(), e.handle.clone(), e.entries))
            .collect();
        for (key, handle, entries) in empty {
            self.end_if_over(&key, &handle, entries).await;
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
