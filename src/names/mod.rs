//! Nicknames across the whole server, the in-process side of the name registry seam:
//! who is online under which name (unique ignoring case and look-alikes across every
//! room at once, SPEC §2) and which names are registered to which key (SPEC §9).

mod registrations;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio_util::sync::CancellationToken;

pub use registrations::{Registration, Registrations};

use crate::chat::nickname::{Nickname, NicknameError};
use crate::room::{Outbox, ParticipantId};

/// Someone online: where to reach them from any room.
#[derive(Debug, Clone)]
pub struct Online {
    pub id: ParticipantId,
    pub nick: String,
    /// The room they are in, as shown (`#rust`).
    pub room: String,
    pub key: Option<String>,
    pub outbox: Outbox,
    pub kill: CancellationToken,
    pub transcript: Arc<str>,
}

/// The names of one server; clones share them.
#[derive(Clone)]
pub struct NameRegistry {
    inner: Arc<Mutex<Inner>>,
    max_per_key: usize,
}

struct Inner {
    /// By look-alike key.
    online: HashMap<String, Online>,
    registered: Registrations,
}

impl NameRegistry {
    /// A registry whose registrations live in `path` (`None`: memory only), at most
    /// `max_per_key` names per key (0 = no limit).
    ///
    /// # Errors
    /// The registrations file is unreadable or damaged.
    pub fn load(path: Option<PathBuf>, max_per_key: usize) -> anyhow::Result<NameRegistry> {
        let registered = Registrations::load(path)?;
        let inner = Inner {
            online: HashMap::new(),
            registered,
        };
        Ok(NameRegistry {
            inner: Arc::new(Mutex::new(inner)),
            max_per_key,
        })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes `raw` as `who`'s nickname, if the rules allow it, nobody else online has it
    /// and it is not registered to another key.
    ///
    /// # Errors
    /// The rule it breaks, [`NicknameError::Taken`] or
    /// [`NicknameError::RegisteredToOther`].
    pub fn claim(&self, raw: &str, mut who: Online) -> Result<Nickname, NicknameError> {
        let nick = Nickname::parse(raw)?;
        let mut inner = self.lock();
        inner.check_free(&nick, who.id, who.key.as_deref())?;
        who.nick = nick.to_string();
        inner.online.insert(nick.key().to_string(), who);
        Ok(nick)
    }

    /// Renames participant `id` from `old` to `raw` under the same rules as a claim.
    ///
    /// # Errors
    /// As [`NameRegistry::claim`].
    pub fn rename(&self, old: &Nickname, raw: &str) -> Result<Nickname, NicknameError> {
        let nick = Nickname::parse(raw)?;
        let mut inner = self.lock();
        let Some(me) = inner.online.get(old.key()) else {
            return Err(NicknameError::Taken(nick.to_string()));
        };
        let (id, key) = (me.id, me.key.clone());
        inner.check_free(&nick, id, key.as_deref())?;
        if let Some(mut me) = inner.online.remove(old.key()) {
            me.nick = nick.to_string();
            inner.online.insert(nick.key().to_string(), me);
        }
        Ok(nick)
    }

    /// Participant `id` no longer uses `name` (they left).
    pub fn release(&self, name: &str, id: ParticipantId) {
        let Ok(nick) = Nickname::parse(name) else {
            return;
        };
        let mut inner = self.lock();
        if inner.online.get(nick.key()).is_some_and(|o| o.id == id) {
            inner.online.remove(nick.key());
        }
    }

    /// Participant `id`, online as `nick`, is now in `room`.
    pub fn moved(&self, nick: &Nickname, id: ParticipantId, room: &str) {
        let mut inner = self.lock();
        if let Some(me) = inner.online.get_mut(nick.key()).filter(|o| o.id == id) {
            me.room = room.to_string();
        }
    }

    /// Whoever is online as `raw` (ignoring case and look-alikes).
    pub fn find(&self, raw: &str) -> Option<Online> {
        let nick = Nickname::parse(raw).ok()?;
        self.lock().online.get(nick.key()).cloned()
    }

    /// The first name registered to `key` that nobody is using, for a generic login.
    pub fn free_registered_name(&self, key: &str) -> Option<String> {
        let inner = self.lock();
        let names = inner.registered.names_of(key);
        names
            .into_iter()
            .find(|r| !inner.online.contains_key(&r.name_key))
            .map(|r| r.name.clone())
    }

    /// `/register`: registers `nick` to `key`. Returns the reply.
    pub fn register(&self, nick: &Nickname, key: Option<&str>) -> String {
        let Some(key) = key else {
            return "/register needs an SSH key (connect with one, e.g. after ssh-keygen -t ed25519).".into();
        };
        let mut inner = self.lock();
        if let Some(r) = inner.registered.get(nick.key()) {
            return if r.key == key {
                format!("The nickname \"{nick}\" is already registered to your key.")
            } else {
                NicknameError::RegisteredToOther(nick.to_string()).to_string()
            };
        }
        let mine = inner.registered.names_of(key);
        if self.max_per_key > 0 && mine.len() >= self.max_per_key {
            let names: Vec<&str> = mine.iter().map(|r| r.name.as_str()).collect();
            return format!(
                "Your key already has {} registered nicknames ({}). /unregister one first.",
                names.len(),
                names.join(", ")
            );
        }
        let registration = Registration {
            name: nick.to_string(),
            name_key: nick.key().to_string(),
            key: key.to_string(),
        };
        match inner.registered.add(registration) {
            Ok(()) => format!("The nickname \"{nick}\" is now registered to your key ({key})."),
            Err(error) => {
                tracing::warn!(%error, "saving the registrations failed");
                "The registration could not be saved. Please try again later.".into()
            }
        }
    }

    /// `/unregister`: frees `raw`, if registered to `key` or asked by a server admin.
    pub fn unregister(&self, raw: &str, key: Option<&str>, server_admin: bool) -> String {
        let Ok(nick) = Nickname::parse(raw) else {
            return format!("The nickname \"{}\" is not registered.", shown(raw));
        };
        let mut inner = self.lock();
        let Some(r) = inner.registered.get(nick.key()) else {
            return format!("The nickname \"{nick}\" is not registered.");
        };
        if Some(r.key.as_str()) != key && !server_admin {
            return NicknameError::RegisteredToOther(r.name.clone()).to_string();
        }
        let name = r.name.clone();
        match inner.registered.remove(nick.key()) {
            Ok(()) => format!("The nickname \"{name}\" is no longer registered."),
            Err(error) => {
                tracing::warn!(%error, "saving the registrations failed");
                "The change could not be saved. Please try again later.".into()
            }
        }
    }

    /// `/whois`: where `raw` is, their key and whether the name is registered.
    ///
    /// # Errors
    /// Nobody online or registered has that name.
    pub fn whois(&self, raw: &str) -> Result<String, String> {
        let unknown = || format!("No user named \"{}\" is online.", shown(raw));
        let nick = Nickname::parse(raw).map_err(|_| unknown())?;
        let inner = self.lock();
        let registered = inner.registered.get(nick.key());
        match (inner.online.get(nick.key()), registered) {
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

impl crate::room::NameService for NameRegistry {
    fn rename(&self, old: &Nickname, raw: &str) -> Result<Nickname, NicknameError> {
        NameRegistry::rename(self, old, raw)
    }

    fn find(&self, raw: &str) -> Option<(ParticipantId, String)> {
        NameRegistry::find(self, raw).map(|o| (o.id, o.nick))
    }
}

/// A name as typed, made safe to show: no control characters, at most 32 characters.
fn shown(raw: &str) -> String {
    crate::chat::text::sanitize(raw).chars().take(32).collect()
}

impl Inner {
    fn check_free(
        &self,
        nick: &Nickname,
        id: ParticipantId,
        key: Option<&str>,
    ) -> Result<(), NicknameError> {
        if let Some(r) = self.registered.get(nick.key()) {
            if Some(r.key.as_str()) != key {
                return Err(NicknameError::RegisteredToOther(nick.to_string()));
            }
        }
        if self.online.get(nick.key()).is_some_and(|o| o.id != id) {
            return Err(NicknameError::Taken(nick.to_string()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
