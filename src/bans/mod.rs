//! Bans that outlast a room, a restart and a node (SPEC §11): server bans by key and
//! address (`/ban`), and the kick-bans of single rooms. [`BanList`] keeps every ban in
//! this process, indexed so a connection is checked in O(1), over a [`BanStore`] that
//! keeps them: a file in the data directory alone ([`FileBans`]), a key-value bucket in a
//! cluster (the NATS side, in `cluster/bans.rs`, which also tells every node's list of
//! each change).

mod ban;
mod file;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use futures_util::future::BoxFuture;
use tokio::sync::broadcast;

pub use ban::Ban;
pub use file::FileBans;

use crate::participant::Person;

/// Bans `/bans` lists before it counts the rest.
pub const BANS_LISTED: usize = 20;

/// Where bans are kept. Each change is whole: a ban is stored or it is not.
pub trait BanStore: Send + Sync + 'static {
    /// Keeps `ban` under `id` (replacing any ban of that id).
    fn put<'a>(&'a self, id: &'a str, ban: &'a Ban) -> BoxFuture<'a, Result<(), NotKept>>;
    /// Forgets the ban `id`.
    fn delete<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<(), NotKept>>;
}

/// The store could not keep a change (a full disk, NATS unreachable).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotKept;

/// Why a ban was not made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotBanned {
    /// The list holds `--max-bans` already.
    Full(usize),
    NotKept,
}

impl std::fmt::Display for NotBanned {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NotBanned::Full(max) => write!(
                f,
                "The ban list is full ({max} bans). Lift some with /unban first."
            ),
            NotBanned::NotKept => write!(f, "The ban could not be saved; try again."),
        }
    }
}

/// Every ban, in this process, with the store that keeps them.
#[derive(Clone)]
pub struct BanList {
    inner: Arc<Inner>,
}

struct Inner {
    index: RwLock<Index>,
    store: Box<dyn BanStore>,
    /// Server bans as they come into force, for the rooms to put their people out.
    added: broadcast::Sender<Ban>,
    max: usize,
    tz: Tz,
}

/// Bans by id, and the ids of the bans on each (scope, person).
#[derive(Default)]
struct Index {
    all: HashMap<String, Ban>,
    by_person: HashMap<(Option<String>, Person), Vec<String>>,
}

impl Index {
    fn insert(&mut self, id: &str, ban: Ban) {
        self.remove(id);
        for person in ban.people() {
            let ids = self
                .by_person
                .entry((ban.room.clone(), person))
                .or_default();
            ids.push(id.to_string());
        }
        self.all.insert(id.to_string(), ban);
    }

    fn remove(&mut self, id: &str) -> Option<Ban> {
        let ban = self.all.remove(id)?;
        for person in ban.people() {
            let key = (ban.room.clone(), person);
            if let Some(ids) = self.by_person.get_mut(&key) {
                ids.retain(|i| i != id);
                if ids.is_empty() {
                    self.by_person.remove(&key);
                }
            }
        }
        Some(ban)
    }

    /// A ban in force at `now` on `person` in `scope`.
    fn on(&self, scope: Option<&str>, person: Person, now: DateTime<Utc>) -> Option<&Ban> {
        let ids = self.by_person.get(&(scope.map(str::to_string), person))?;
        ids.iter()
            .filter_map(|id| self.all.get(id))
            .find(|b| b.in_force(now))
    }
}

impl Default for BanList {
    /// A list kept in memory only (a room made outside a server).
    fn default() -> Self {
        BanList::new(
            FileBans::in_memory(),
            Vec::new(),
            usize::MAX,
            chrono_tz::UTC,
        )
    }
}

impl BanList {
    /// The list over `store`, holding `bans` at first, at most `max` in force, its times
    /// said in `tz`.
    pub fn new(store: impl BanStore, bans: Vec<Ban>, max: usize, tz: Tz) -> BanList {
        let mut index = Index::default();
        for ban in bans {
            index.insert(&ban.id(), ban);
        }
        let (added, _) = broadcast::channel(256);
        BanList {
            inner: Arc::new(Inner {
                index: RwLock::new(index),
                store: Box::new(store),
                added,
                max,
                tz,
            }),
        }
    }

    fn index(&self) -> std::sync::RwLockReadGuard<'_, Index> {
        self.inner.index.read().unwrap_or_else(|e| e.into_inner())
    }

    fn index_mut(&self) -> std::sync::RwLockWriteGuard<'_, Index> {
        self.inner.index.write().unwrap_or_else(|e| e.into_inner())
    }

    /// The ban in force at `now` on someone with `key` from `ip`: a server ban, or with
    /// `room` (its look-alike key) a kick-ban from that room.
    pub fn check(
        &self,
        room: Option<&str>,
        key: Option<&str>,
        ip: Option<IpAddr>,
        now: DateTime<Utc>,
    ) -> Option<Ban> {
        let index = self.index();
        if index.all.is_empty() {
            return None;
        }
        let people: Vec<Person> = key
            .map(|k| Person::Key(k.to_string()))
            .into_iter()
            .chain(ip.map(Person::Addr))
            .collect();
        // The server's scope first, then the room's.
        let scopes = std::iter::once(None).chain(room.map(Some));
        scopes.into_iter().find_map(|scope| {
            people
                .iter()
                .find_map(|p| index.on(scope, p.clone(), now))
                .cloned()
        })
    }

    /// Makes `ban` (made at `now`); a server ban is then enforced in every room.
    ///
    /// # Errors
    /// The list is full, or the store did not keep it.
    pub async fn add(&self, ban: Ban, now: DateTime<Utc>) -> Result<(), NotBanned> {
        self.forget_ended(now).await;
        let id = ban.id();
        let in_force = self.index().all.len();
        if in_force >= self.inner.max && !self.index().all.contains_key(&id) {
            return Err(NotBanned::Full(self.inner.max));
        }
        self.inner
            .store
            .put(&id, &ban)
            .await
            .map_err(|_| NotBanned::NotKept)?;
        self.applied(ban);
        Ok(())
    }

    /// Forgets the bans that have ended (in the store too).
    async fn forget_ended(&self, now: DateTime<Utc>) {
        let ended: Vec<String> = {
            let index = self.index();
            let ended = index.all.iter().filter(|(_, b)| !b.in_force(now));
            ended.map(|(id, _)| id.clone()).collect()
        };
        for id in ended {
            if self.inner.store.delete(&id).await.is_ok() {
                self.index_mut().remove(&id);
            }
        }
    }

    /// Lifts every server ban on `target` (as it was banned, or the name it was banned
    /// under); returns those lifted.
    ///
    /// # Errors
    /// The store did not keep the change.
    pub async fn lift(&self, target: &str) -> Result<Vec<Ban>, NotKept> {
        let hits: Vec<(String, Ban)> = {
            let index = self.index();
            let hits = index.all.iter().filter(|(_, b)| b.room.is_none());
            hits.filter(|(_, b)| b.is_on(target))
                .map(|(id, b)| (id.clone(), b.clone()))
                .collect()
        };
        let mut lifted = Vec::new();
        for (id, ban) in hits {
            self.inner.store.delete(&id).await?;
            // In a cluster the watch may have taken it out of the list already.
            self.removed(&id);
            lifted.push(ban);
        }
        Ok(lifted)
    }

    /// A ban the store holds now (made here or, in a cluster, by another node).
    pub fn applied(&self, ban: Ban) {
        let server_ban = ban.room.is_none();
        self.index_mut().insert(&ban.id(), ban.clone());
        if server_ban {
            let _ = self.inner.added.send(ban);
        }
    }

    /// A ban the store no longer holds.
    pub fn removed(&self, id: &str) -> Option<Ban> {
        self.index_mut().remove(id)
    }

    /// Server bans as they come into force.
    pub fn added(&self) -> broadcast::Receiver<Ban> {
        self.inner.added.subscribe()
    }

    /// The server bans in force at `now`, by label.
    pub fn server_bans(&self, now: DateTime<Utc>) -> Vec<Ban> {
        let index = self.index();
        let mut bans: Vec<Ban> = index
            .all
            .values()
            .filter(|b| b.room.is_none() && b.in_force(now))
            .cloned()
            .collect();
        bans.sort_by_key(Ban::label);
        bans
    }

    /// How many bans (of either kind) are kept.
    pub fn len(&self) -> usize {
        self.index().all.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `until 2026-12-02 15:42 UTC` in the server's time zone, or `forever`.
    pub fn until(&self, ban: &Ban) -> String {
        match ban.until {
            Some(until) => {
                let up = (until + chrono::Duration::seconds(59)).with_timezone(&self.inner.tz);
                format!(
                    "until {} {}",
                    up.format("%Y-%m-%d %H:%M"),
                    self.inner.tz.name()
                )
            }
            None => "forever".into(),
        }
    }

    /// What someone banned from the server is told.
    pub fn refusal(&self, ban: &Ban) -> String {
        let until = match ban.until {
            Some(_) => format!(" {}", self.until(ban)),
            None => String::new(),
        };
        let why = match ban.reason.as_str() {
            "" => String::new(),
            reason => format!(" ({reason})"),
        };
        format!("You are banned from this server{until}{why}.")
    }

    /// `/bans`: `Bans (2): Bob (SHA256:..., 203.0.113.7) until ..., spam; ...`
    pub fn list_line(&self, now: DateTime<Utc>) -> String {
        let bans = self.server_bans(now);
        let shown: Vec<String> = bans
            .iter()
            .take(BANS_LISTED)
            .map(|b| {
                let why = match b.reason.as_str() {
                    "" => String::new(),
                    reason => format!(", {reason}"),
                };
                format!("{} {}{why}", b.label(), self.until(b))
            })
            .collect();
        let more = match bans.len().saturating_sub(BANS_LISTED) {
            0 => String::new(),
            n => format!("; and {n} more"),
        };
        format!("Bans ({}): {}{more}", bans.len(), shown.join("; "))
    }
}
