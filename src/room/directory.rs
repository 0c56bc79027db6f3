//! The rooms of a server (SPEC §8): the default room always exists, any other is made by
//! its first `/join` and ends when it is empty with nothing scheduled, at most
//! `--max-rooms` in all. Where a room runs is its [`RoomPlacement`]'s business (this
//! process for a lone server, one node of the cluster otherwise); the directory claims
//! the entrant's nickname chat-wide first and counts what is refused, the same for both.

use std::collections::HashSet;
use std::sync::Arc;

pub use super::maker::RoomMaker;
use super::placement::{Entered, RoomPlacement};
use super::rooms_here::RoomsHere;
use super::{EnterError, Entrant, JoinError, JoinRequest, ParticipantId, RoomHandle};
use crate::chat::line::ChatLine;
use crate::chat::room_name::RoomName;
use crate::metrics::Refusal;
use crate::names::Claim;
use crate::participant::Identity;

/// Most rooms `/rooms` names before it counts the rest.
pub const ROOMS_LISTED: usize = 20;

/// Every room of the chat, as this server reaches them.
pub struct RoomDirectory {
    maker: RoomMaker,
    default_room: RoomName,
    placement: Arc<dyn RoomPlacement>,
}

impl RoomDirectory {
    /// A lone server's directory: every room runs in this process, at most `max_rooms`,
    /// the default room and every room that has messages pending from before a restart
    /// made at once.
    pub fn start(maker: RoomMaker, max_rooms: usize, default_room: RoomName) -> Arc<Self> {
        let here = RoomsHere::start(maker.clone(), max_rooms, default_room.clone());
        RoomDirectory::new(maker, default_room, here)
    }

    /// The directory over the rooms `placement` runs (a cluster node's: the cluster's).
    pub fn new(
        maker: RoomMaker,
        default_room: RoomName,
        placement: Arc<dyn RoomPlacement>,
    ) -> Arc<Self> {
        Arc::new(RoomDirectory {
            maker,
            default_room,
            placement,
        })
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
        request: JoinRequest,
    ) -> Result<Entered, EnterError> {
        if let Some(refused) = self.banned(room, &request) {
            self.maker.metrics.refused(Refusal::Banned);
            return Err(refused);
        }
        let names = &self.maker.names;
        let claim = Claim {
            id: request.id,
            nick: String::new(),
            room: room.to_string(),
            key: request.key.clone(),
            node: self.node().to_string(),
            addr: request.addr.map(|a| a.ip()),
            away: None,
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
        let (id, reach) = (request.id, request.reach());
        let who = Identity {
            id,
            nick: nick.clone(),
            key: request.key,
            addr: request.addr,
            node: self.node().to_string(),
        };
        let entrant = Entrant {
            who,
            creator: false,
            code: request.code,
        };
        let entered = self.placement.enter(room, entrant, reach.clone()).await;
        match &entered {
            Ok((_, _, shown)) => {
                if fresh {
                    self.maker.connections.add(id, reach);
                }
                if shown.to_string() != room.to_string() {
                    names.moved(&nick, id, &shown.to_string()).await;
                }
            }
            Err(_) if fresh => names.release(nick.as_str(), id).await,
            Err(_) => {}
        }
        if let Err(refused) = &entered {
            self.maker.metrics.refused(refused.refusal());
        }
        entered
    }

    /// Why `request` may not enter `room`: a server ban, or a kick-ban from the room
    /// that outlived it. Logged.
    fn banned(&self, room: &RoomName, request: &JoinRequest) -> Option<EnterError> {
        let ip = request.addr.map(|a| a.ip());
        let now = self.maker.clock.now();
        let bans = &self.maker.bans;
        let ban = bans.check(Some(room.key()), request.key.as_deref(), ip, now)?;
        let who = request.addr.map(|a| a.to_string()).unwrap_or_default();
        self.maker
            .log
            .event("REFUSED", format!("{room} {who} banned ({})", ban.label()));
        let refused = match (&ban.room, ban.until) {
            (Some(_), Some(until)) => {
                let up = until + chrono::Duration::seconds(59);
                let tz = self.maker.template.tz;
                JoinError::Banned {
                    room: room.to_string(),
                    until: up.with_timezone(&tz).format("%H:%M").to_string(),
                }
            }
            _ => JoinError::ServerBanned(bans.refusal(&ban)),
        };
        Some(EnterError::Join(refused))
    }

    /// A server ban came into force: every room puts out whoever it is on.
    pub async fn enforce(&self, ban: crate::bans::Ban) {
        let told = self.maker.bans.refusal(&ban);
        self.placement.enforce(ban, told).await;
    }

    /// The server's bans.
    pub fn bans(&self) -> &crate::bans::BanList {
        &self.maker.bans
    }

    /// This server's name in the cluster (empty for a lone server).
    pub fn node(&self) -> &str {
        self.placement.node()
    }

    /// Participant `id` leaves `room`; a room other than the default one ends when the
    /// last member has left and nothing is scheduled in it.
    pub async fn leave(&self, room: &RoomName, id: ParticipantId) {
        self.placement.leave(room, id).await;
    }

    /// `(participants, capacity)` of `room`, if it exists and answers.
    pub async fn occupancy(&self, room: &RoomName) -> Option<(usize, usize)> {
        let handle = self.placement.handle(room)?;
        handle.occupancy().await
    }

    /// The handle of `room`, if it exists.
    pub async fn handle(&self, room: &RoomName) -> Option<RoomHandle> {
        self.placement.handle(room)
    }

    /// `[Server]: Rooms (3): #lobby (4/10), #rust (2/10), #go (1/10)`: fullest first,
    /// then by name; past [`ROOMS_LISTED`] the rest are counted.
    pub async fn rooms_line(&self) -> ChatLine {
        let mut list = self.placement.rooms();
        list.sort_by(|a, b| {
            let fuller = b.participants.cmp(&a.participants);
            fuller.then_with(|| a.name.cmp(&b.name))
        });
        let capacity = self.maker.template.capacity;
        let shown: Vec<String> = list
            .iter()
            .take(ROOMS_LISTED)
            .map(|room| {
                let (name, n) = (&room.name, room.participants);
                let locked = if room.locked { ", locked" } else { "" };
                format!("{name} ({n}/{capacity}{locked})")
            })
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
        self.placement.set_admin_keys(keys).await;
    }

    /// Tells everyone in every room that the server stops, and saves what is pending.
    pub async fn shutdown(&self) {
        self.placement.shutdown().await;
    }
}
