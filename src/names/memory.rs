//! The in-process name store: who is online under which name and which names are
//! registered, for a server that runs alone. Each change is one step under one lock.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use super::{Claim, Registration, Registrations, Unavailable};
use crate::room::ParticipantId;

/// The names of a lone server; clones share them.
#[derive(Clone)]
pub struct MemoryNames {
    inner: Arc<Mutex<Inner>>,
}

struct Inner {
    /// By look-alike key.
    online: HashMap<String, Claim>,
    registered: Registrations,
}

impl MemoryNames {
    pub fn new(registered: Registrations) -> MemoryNames {
        let inner = Inner {
            online: HashMap::new(),
            registered,
        };
        MemoryNames {
            inner: Arc::new(Mutex::new(inner)),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Who is online as `name_key`.
    pub fn online(&self, name_key: &str) -> Option<Claim> {
        self.lock().online.get(name_key).cloned()
    }

    /// Takes `name_key` for `claim`, unless someone else holds it; `Ok(false)` when it
    /// was already theirs.
    pub fn take(&self, name_key: &str, claim: Claim) -> Result<bool, Claim> {
        let mut inner = self.lock();
        match inner.online.get(name_key) {
            Some(holder) if holder.id != claim.id => Err(holder.clone()),
            held => {
                let fresh = held.is_none();
                inner.online.insert(name_key.to_string(), claim);
                Ok(fresh)
            }
        }
    }

    /// Frees `name_key` if participant `id` holds it.
    pub fn free(&self, name_key: &str, id: ParticipantId) {
        let mut inner = self.lock();
        if inner.online.get(name_key).is_some_and(|c| c.id == id) {
            inner.online.remove(name_key);
        }
    }

    pub fn registration(&self, name_key: &str) -> Option<Registration> {
        self.lock().registered.get(name_key).cloned()
    }

    pub fn registrations_of(&self, key: &str) -> Vec<Registration> {
        let inner = self.lock();
        inner
            .registered
            .names_of(key)
            .into_iter()
            .cloned()
            .collect()
    }

    /// Registers, unless the name was taken meanwhile; `Ok(false)` if it was.
    pub fn register(&self, registration: Registration) -> Result<bool, Unavailable> {
        let mut inner = self.lock();
        if inner.registered.get(&registration.name_key).is_some() {
            return Ok(false);
        }
        inner.registered.add(registration).map_err(|error| {
            tracing::warn!(%error, "saving the registrations failed");
            Unavailable
        })?;
        Ok(true)
    }

    pub fn unregister(&self, name_key: &str) -> Result<(), Unavailable> {
        self.lock().registered.remove(name_key).map_err(|error| {
            tracing::warn!(%error, "saving the registrations failed");
            Unavailable
        })
    }
}
