//! The in-process name store: who is online under which name and which names are
//! registered, for a server that runs alone: the in-process side of [`NameStore`]. Each
//! change is one step under one lock.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use futures_util::future::{ready, BoxFuture};

use super::{Claim, NameStore, Registration, Registrations, Unavailable};
use crate::participant::ParticipantId;

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

    fn claim_of(&self, name_key: &str) -> Option<Claim> {
        self.lock().online.get(name_key).cloned()
    }

    fn take_now(&self, name_key: &str, claim: Claim) -> Result<bool, ()> {
        let mut inner = self.lock();
        match inner.online.get(name_key) {
            Some(holder) if holder.id != claim.id => Err(()),
            held => {
                let fresh = held.is_none();
                inner.online.insert(name_key.to_string(), claim);
                Ok(fresh)
            }
        }
    }

    fn free_now(&self, name_key: &str, id: ParticipantId) {
        let mut inner = self.lock();
        if inner.online.get(name_key).is_some_and(|c| c.id == id) {
            inner.online.remove(name_key);
        }
    }

    fn registration_now(&self, name_key: &str) -> Option<Registration> {
        self.lock().registered.get(name_key).cloned()
    }

    fn registrations_now(&self, key: &str) -> Vec<Registration> {
        let inner = self.lock();
        inner
            .registered
            .names_of(key)
            .into_iter()
            .cloned()
            .collect()
    }

    fn register_now(&self, registration: Registration) -> Result<bool, Unavailable> {
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

    fn unregister_now(&self, name_key: &str) -> Result<(), Unavailable> {
        self.lock().registered.remove(name_key).map_err(|error| {
            tracing::warn!(%error, "saving the registrations failed");
            Unavailable
        })
    }
}

impl NameStore for MemoryNames {
    fn online_with_ids<'a>(
        &'a self,
        ids: &'a [ParticipantId],
    ) -> BoxFuture<'a, Result<Vec<Claim>, Unavailable>> {
        let online = self.lock();
        let found = online.online.values().filter(|c| ids.contains(&c.id));
        Box::pin(ready(Ok(found.cloned().collect())))
    }

    fn online<'a>(
        &'a self,
        name_key: &'a str,
    ) -> BoxFuture<'a, Result<Option<Claim>, Unavailable>> {
        Box::pin(ready(Ok(self.claim_of(name_key))))
    }

    fn take<'a>(
        &'a self,
        name_key: &'a str,
        claim: Claim,
    ) -> BoxFuture<'a, Result<Result<bool, ()>, Unavailable>> {
        Box::pin(ready(Ok(self.take_now(name_key, claim))))
    }

    fn free<'a>(&'a self, name_key: &'a str, id: ParticipantId) -> BoxFuture<'a, ()> {
        self.free_now(name_key, id);
        Box::pin(ready(()))
    }

    fn registration<'a>(
        &'a self,
        name_key: &'a str,
    ) -> BoxFuture<'a, Result<Option<Registration>, Unavailable>> {
        Box::pin(ready(Ok(self.registration_now(name_key))))
    }

    fn registrations_of<'a>(
        &'a self,
        key: &'a str,
    ) -> BoxFuture<'a, Result<Vec<Registration>, Unavailable>> {
        Box::pin(ready(Ok(self.registrations_now(key))))
    }

    fn register(&self, registration: Registration) -> BoxFuture<'_, Result<bool, Unavailable>> {
        Box::pin(ready(self.register_now(registration)))
    }

    fn unregister<'a>(&'a self, name_key: &'a str) -> BoxFuture<'a, Result<(), Unavailable>> {
        Box::pin(ready(self.unregister_now(name_key)))
    }
}
