//! Nicknames registered to keys (SPEC §9), kept in `data/names.json`, written atomically.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// One registered nickname.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registration {
    /// As registered (shown in lists).
    pub name: String,
    /// The look-alike key of the name.
    pub name_key: String,
    /// SHA256 fingerprint of the owning key.
    pub key: String,
}

/// Every registration, in the order made, mirrored to a file.
#[derive(Debug, Default)]
pub struct Registrations {
    items: Vec<Registration>,
    path: Option<PathBuf>,
}

impl Registrations {
    /// Loads from `path` (missing = none); `None` keeps them in memory only.
    ///
    /// # Errors
    /// The file exists but is unreadable or damaged.
    pub fn load(path: Option<PathBuf>) -> anyhow::Result<Registrations> {
        let items = match &path {
            Some(p) => crate::persist::read_json(p)?,
            None => Vec::new(),
        };
        Ok(Registrations { items, path })
    }

    /// The registration of the name with look-alike key `name_key`.
    pub fn get(&self, name_key: &str) -> Option<&Registration> {
        self.items.iter().find(|r| r.name_key == name_key)
    }

    /// The names registered to `key`, oldest first.
    pub fn names_of(&self, key: &str) -> Vec<&Registration> {
        self.items.iter().filter(|r| r.key == key).collect()
    }

    /// How many names there are in all.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Adds `registration` and saves; on a failed save nothing changes.
    ///
    /// # Errors
    /// The file could not be written.
    pub fn add(&mut self, registration: Registration) -> std::io::Result<()> {
        self.items.push(registration);
        self.save().inspect_err(|_| {
            self.items.pop();
        })
    }

    /// Removes the name with key `name_key` and saves; on a failed save nothing changes.
    ///
    /// # Errors
    /// The file could not be written.
    pub fn remove(&mut self, name_key: &str) -> std::io::Result<()> {
        let Some(at) = self.items.iter().position(|r| r.name_key == name_key) else {
            return Ok(());
        };
        let gone = self.items.remove(at);
        self.save().inspect_err(|_| self.items.insert(at, gone))
    }

    fn save(&self) -> std::io::Result<()> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        crate::persist::write_atomically(path, &serde_json::to_vec_pretty(&self.items)?)
    }
}
