//! What every room of a server is made from: the settings shared by all rooms, the
//! server admins as they are now (SIGHUP changes them), and the log, clock, names,
//! schedules and counts every room uses.

use std::collections::HashSet;
use std::sync::{Arc, RwLock};

use super::schedule::{ScheduleBook, ScheduleStore};
use super::{Clock, LocalRoom, Room, RoomConfig, RoomState};
use crate::bans::BanList;
use crate::chat::room_name::RoomName;
use crate::delivery::Connections;
use crate::log::LogSink;
use crate::metrics::Metrics;
use crate::names::NameRegistry;

/// What every new room is made from.
#[derive(Clone)]
pub struct RoomMaker {
    /// Settings shared by every room (the name and `creator_is_admin` are set per room).
    pub template: RoomConfig,
    pub log: LogSink,
    pub clock: Clock,
    pub names: NameRegistry,
    pub schedules: ScheduleStore,
    /// Everyone connected to this server.
    pub connections: Connections,
    /// The server's counts, which every room adds to.
    pub metrics: Arc<Metrics>,
    /// Server admins' key fingerprints, admins in every room: those of the template
    /// at first, then as SIGHUP re-reads them.
    pub server_admins: Arc<RwLock<HashSet<String>>>,
    /// The server's bans, where rooms keep their kick-bans beyond their own life.
    pub bans: BanList,
}

impl RoomMaker {
    /// The settings of a room made now: the template with the server admins as they
    /// are now (SIGHUP changes them).
    pub fn config(&self) -> RoomConfig {
        let mut config = self.template.clone();
        config.admin_keys = self.admin_keys();
        config
    }

    /// The server admins' key fingerprints as they are now.
    pub fn admin_keys(&self) -> HashSet<String> {
        let keys = self.server_admins.read().unwrap_or_else(|e| e.into_inner());
        keys.clone()
    }

    /// Whether `key` is a server admin's.
    pub fn is_server_admin(&self, key: Option<&str>) -> bool {
        let keys = self.server_admins.read().unwrap_or_else(|e| e.into_inner());
        key.is_some_and(|k| keys.contains(k))
    }

    /// Server admins from now on (for rooms made or rebuilt after this).
    pub fn set_admin_keys(&self, keys: HashSet<String>) {
        *self
            .server_admins
            .write()
            .unwrap_or_else(|e| e.into_inner()) = keys;
    }

    pub(super) fn make(&self, name: &RoomName, made_by_join: bool) -> LocalRoom {
        let schedules = self.schedules.book(&name.to_string());
        LocalRoom::spawn(self.room(name, made_by_join, schedules))
    }

    /// A new room `name`, not yet running, with `schedules` as its pending messages.
    pub fn room(&self, name: &RoomName, made_by_join: bool, schedules: ScheduleBook) -> Room {
        let mut config = self.config();
        config.name = name.to_string();
        config.creator_is_admin = made_by_join;
        let now = super::Now {
            wall: self.clock.now(),
            instant: self.clock.instant(),
        };
        self.restored(RoomState::new(config, schedules, now))
    }

    /// A room carrying on from `state` (rebuilt from a snapshot), not yet running.
    pub fn restored(&self, state: RoomState) -> Room {
        Room::with_state(
            state,
            self.log.clone(),
            self.clock.clone(),
            self.names.clone(),
        )
        .counted(self.metrics.clone())
        .reaching(self.connections.clone())
        .banning(self.bans.clone())
    }
}
