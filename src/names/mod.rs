//! Nicknames across the whole chat: who is online under which name (unique ignoring
//! case and look-alikes across every room, and every server of a cluster, SPEC §2, §10)
//! and which names are registered to which key (SPEC §9). The store is in this process
//! for a lone server, or the cluster's key-value buckets; the rules and replies are the
//! same for both.

mod comforts;
mod memory;
mod registrations;
mod store;

use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

pub use memory::MemoryNames;
pub use registrations::{Registration, Registrations};
pub use store::NameStore;

use crate::chat::nickname::{Nickname, NicknameError};
use crate::participant::ParticipantId;

/// Someone online, as every server of the chat can know them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claim {
    pub id: ParticipantId,
    pub nick: String,
    /// The room they are in, as shown (`#rust`).
    pub room: String,
    pub key: Option<String>,
    /// The server holding their connection (empty for a lone server).
    pub node: String,
    /// Their address, for `/ignore` of someone without a key (SPEC §12).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub addr: Option<std::net::IpAddr>,
    /// Set while they are away (SPEC §12): the reason, empty when none was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub away: Option<String>,
}

/// The shared store could not be reached (a cluster's NATS outage).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unavailable;

impl From<Unavailable> for NicknameError {
    fn from(_: Unavailable) -> Self {
        NicknameError::Unavailable
    }
}

/// The names of the chat; clones share them.
#[derive(Clone)]
pub struct NameRegistry {
    store: Arc<dyn NameStore>,
    max_per_key: usize,
}

impl NameRegistry {
    /// A lone server's registry, its registrations in `path` (`None`: memory only), at
    /// most `max_per_key` names per key (0 = no limit).
    ///
    /// # Errors
    /// The registrations file is unreadable or damaged.
    pub fn load(path: Option<PathBuf>, max_per_key: usize) -> anyhow::Result<NameRegistry> {
        let store = MemoryNames::new(Registrations::load(path)?);
        Ok(NameRegistry::new(store, max_per_key))
    }

    /// A registry kept in `store` (a cluster node's: the cluster's buckets), at most
    /// `max_per_key` names per key (0 = no limit).
    pub fn new(store: impl NameStore, max_per_key: usize) -> NameRegistry {
        NameRegistry {
            store: Arc::new(store),
            max_per_key,
        }
    }

    async fn online(&self, name_key: &str) -> Result<Option<Claim>, Unavailable> {
        self.store.online(name_key).await
    }

    async fn registration(&self, name_key: &str) -> Result<Option<Registration>, Unavailable> {
        self.store.registration(name_key).await
    }

    /// Refuses `nick` to someone with `key` if it is registered to another key.
    async fn check_registered(
        &self,
        nick: &Nickname,
        key: Option<&str>,
    ) -> Result<(), NicknameError> {
        match self.registration(nick.key()).await? {
            Some(r) if Some(r.key.as_str()) != key => {
                Err(NicknameError::RegisteredToOther(nick.to_string()))
            }
            _ => Ok(()),
        }
    }

    /// Takes `raw` as the nickname of `who` (whose `nick` is filled in), if the rules
    /// allow it, nobody else online has it and it is not registered to another key.
    /// Returns the name and whether it was newly taken (not already theirs).
    ///
    /// # Errors
    /// The rule it breaks, [`NicknameError::Taken`], [`NicknameError::RegisteredToOther`]
    /// or [`NicknameError::Unavailable`].
    pub async fn claim(
        &self,
        raw: &str,
        mut who: Claim,
    ) -> Result<(Nickname, bool), NicknameError> {
        let nick = Nickname::parse(raw)?;
        self.check_registered(&nick, who.key.as_deref()).await?;
        who.nick = nick.to_string();
        match self.store.take(nick.key(), who).await? {
            Ok(fresh) => Ok((nick, fresh)),
            Err(()) => Err(NicknameError::Taken(nick.to_string())),
        }
    }

    /// Renames participant `id` from `old` to `raw` under the same rules as a claim.
    ///
    /// # Errors
    /// As [`NameRegistry::claim`].
    pub async fn rename(
        &self,
        id: ParticipantId,
        old: &Nickname,
        raw: &str,
    ) -> Result<Nickname, NicknameError> {
        let Some(mine) = self.online(old.key()).await?.filter(|c| c.id == id) else {
            return Err(NicknameError::Taken(raw.to_string()));
        };
        let (nick, _) = self.claim(raw, mine).await?;
        if nick.key() != old.key() {
            self.store.free(old.key(), id).await;
        }
        Ok(nick)
    }

    /// Participant `id` no longer uses `name` (they left).
    pub async fn release(&self, name: &str, id: ParticipantId) {
        if let Ok(nick) = Nickname::parse(name) {
            self.store.free(nick.key(), id).await;
        }
    }

    /// Participant `id`, online as `nick`, is now in `room`.
    pub async fn moved(&self, nick: &Nickname, id: ParticipantId, room: &str) {
        if let Ok(Some(mut mine)) = self.online(nick.key()).await {
            if mine.id == id {
                mine.room = room.to_string();
                let _ = self.store.take(nick.key(), mine).await;
            }
        }
    }

    /// Whoever is online as `raw` (ignoring case and look-alikes).
    pub async fn find(&self, raw: &str) -> Option<Claim> {
        let nick = Nickname::parse(raw).ok()?;
        self.online(nick.key()).await.ok().flatten()
    }

    /// The registration of the name `raw` (ignoring case and look-alikes), if any.
    pub async fn registration_of(&self, raw: &str) -> Option<Registration> {
        let nick = Nickname::parse(raw).ok()?;
        self.registration(nick.key()).await.ok().flatten()
    }

    /// For a generic login with `key`: the first name registered to it that nobody is
    /// using, or else every name registered to it (all in use; empty if none).
    pub async fn free_registered_name(&self, key: &str) -> Result<String, Vec<String>> {
        let registered = self.store.registrations_of(key).await.unwrap_or_default();
        for r in &registered {
            if matches!(self.online(&r.name_key).await, Ok(None)) {
                return Ok(r.name.clone());
            }
        }
        Err(registered.into_iter().map(|r| r.name).collect())
    }

    /// `/register`: registers `nick` to `key`. Returns the reply.
    pub async fn register(&self, nick: &Nickname, key: Option<&str>) -> String {
        let Some(key) = key else {
            return "/register needs an SSH key (connect with one, e.g. after ssh-keygen -t ed25519).".into();
        };
        self.try_register(nick, key)
            .await
            .unwrap_or_else(|Unavailable| {
                "The registration could not be saved. Please try again later.".into()
            })
    }

    async fn try_register(&self, nick: &Nickname, key: &str) -> Result<String, Unavailable> {
        let taken = |r: &Registration| {
            if r.key == key {
                format!("The nickname \"{nick}\" is already registered to your key.")
            } else {
                NicknameError::RegisteredToOther(nick.to_string()).to_string()
            }
        };
        if let Some(r) = self.registration(nick.key()).await? {
            return Ok(taken(&r));
        }
        let mine = self.store.registrations_of(key).await?;
        if self.max_per_key > 0 && mine.len() >= self.max_per_key {
            let names: Vec<&str> = mine.iter().map(|r| r.name.as_str()).collect();
            return Ok(format!(
                "Your key already has {} registered nicknames ({}). /unregister one first.",
                names.len(),
                names.join(", ")
            ));
        }
        let registration = Registration {
            name: nick.to_string(),
            name_key: nick.key().to_string(),
            key: key.to_string(),
        };
        let added = self.store.register(registration).await?;
        if !added {
            let r = self.registration(nick.key()).await?;
            return Ok(r.map_or_else(
                || NicknameError::Taken(nick.to_string()).to_string(),
                |r| taken(&r),
            ));
        }
        Ok(format!(
            "The nickname \"{nick}\" is now registered to your key ({key})."
        ))
    }

    /// `/unregister`: frees `raw`, if registered to `key` or asked by a server admin.
    pub async fn unregister(&self, raw: &str, key: Option<&str>, server_admin: bool) -> String {
        let Ok(nick) = Nickname::parse(raw) else {
            return format!("The nickname \"{}\" is not registered.", shown(raw));
        };
        let registration = match self.registration(nick.key()).await {
            Ok(r) => r,
            Err(Unavailable) => return NicknameError::Unavailable.to_string(),
        };
        let Some(r) = registration else {
            return format!("The nickname \"{nick}\" is not registered.");
        };
        if Some(r.key.as_str()) != key && !server_admin {
            return NicknameError::RegisteredToOther(r.name).to_string();
        }
        let removed = self.store.unregister(nick.key()).await;
        match removed {
            Ok(()) => format!("The nickname \"{}\" is no longer registered.", r.name),
            Err(Unavailable) => "The change could not be saved. Please try again later.".into(),
        }
    }

    /// `/whois`: where `raw` is, their key and whether the name is registered.
    ///
    /// # Errors
    /// Nobody online or registered has that name.
    pub async fn whois(&self, raw: &str) -> Result<String, String> {
        let unknown = || format!("No user named \"{}\" is online.", shown(raw));
        let nick = Nickname::parse(raw).map_err(|_| unknown())?;
        let online = self.online(nick.key()).await;
        let registered = self.registration(nick.key()).await;
        let (Ok(online), Ok(registered)) = (online, registered) else {
            return Err(NicknameError::Unavailable.to_string());
        };
        match (online, registered) {
            (Some(o), r) => {
                let key = o
                    .key
                    .as_deref()
                    .map_or("no key".into(), |k| format!("key {k}"));
                let state = if r.is_some() {
                    "registered"
                } else {
                    "not registered"
                };
                Ok(format!("{} is in {}; {key}; {state}.", o.nick, o.room))
            }
            (None, Some(r)) => Ok(format!(
                "{} is not online; registered to key {}.",
                r.name, r.key
            )),
            (None, None) => Err(unknown()),
        }
    }
}

/// A name as typed, made safe to show: no control characters, at most 32 characters.
fn shown(raw: &str) -> String {
    crate::chat::text::sanitize(raw).chars().take(32).collect()
}

#[cfg(test)]
mod tests;
