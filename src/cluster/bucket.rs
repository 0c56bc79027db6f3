//! A live copy of a KV bucket in this process, kept by watching it: who is in which
//! room, which nodes live, which rooms are leased, read without a round trip. Removals
//! (deletes, and expiries, which NATS reports as purges) are also handed to a listener.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use async_nats::jetstream::kv::{self, Operation};
use bytes::Bytes;
use futures_util::StreamExt;
use tokio::sync::mpsc;

/// The bucket's current entries, by key.
#[derive(Clone, Default)]
pub struct Mirror {
    entries: Arc<RwLock<HashMap<String, Bytes>>>,
}

/// A key that went away, and its last value.
pub type Removed = (String, Option<Bytes>);

impl Mirror {
    /// Starts watching `store`; removed keys go to `removals` when given (a full
    /// listener misses some: it is only a hint to look again). A watch NATS does not
    /// start at once (a bucket just made, its replicas still electing a leader) is
    /// asked for again, for at most [`super::retry::BUCKETS_WITHIN`].
    ///
    /// # Errors
    /// The watch could not be started.
    pub async fn watch(
        store: &kv::Store,
        removals: Option<mpsc::Sender<Removed>>,
    ) -> anyhow::Result<Mirror> {
        let mirror = Mirror::default();
        let deadline = tokio::time::Instant::now() + super::retry::BUCKETS_WITHIN;
        let what = format!("watching the JetStream bucket {}", store.name);
        let mut watch =
            super::retry::set_up(deadline, "", &what, || store.watch_with_history(">")).await?;
        let entries = mirror.entries.clone();
        tokio::spawn(async move {
            while let Some(entry) = watch.next().await {
                let Ok(entry) = entry else { continue };
                let mut map = entries.write().unwrap_or_else(|e| e.into_inner());
                match entry.operation {
                    Operation::Put => {
                        map.insert(entry.key, entry.value);
                    }
                    Operation::Delete | Operation::Purge => {
                        let last = map.remove(&entry.key);
                        drop(map);
                        if let Some(tx) = &removals {
                            let _ = tx.try_send((entry.key, last));
                        }
                    }
                }
            }
        });
        Ok(mirror)
    }

    /// What this node itself just stored under `key`, before the watch brings it back
    /// (so it reads its own writes).
    pub fn put(&self, key: &str, value: Bytes) {
        let mut map = self.entries.write().unwrap_or_else(|e| e.into_inner());
        map.insert(key.to_string(), value);
    }

    /// What this node itself just removed, before the watch says so.
    pub fn remove(&self, key: &str) {
        let mut map = self.entries.write().unwrap_or_else(|e| e.into_inner());
        map.remove(key);
    }

    /// The value of `key`, if present.
    pub fn get(&self, key: &str) -> Option<Bytes> {
        let map = self.entries.read().unwrap_or_else(|e| e.into_inner());
        map.get(key).cloned()
    }

    /// Every entry, decoded as `T` (undecodable ones skipped).
    pub fn values<T: serde::de::DeserializeOwned>(&self) -> Vec<(String, T)> {
        let map = self.entries.read().unwrap_or_else(|e| e.into_inner());
        map.iter()
            .filter_map(|(k, v)| Some((k.clone(), serde_json::from_slice(v).ok()?)))
            .collect()
    }

    /// Whether `key` is present.
    pub fn contains(&self, key: &str) -> bool {
        let map = self.entries.read().unwrap_or_else(|e| e.into_inner());
        map.contains_key(key)
    }

    /// How many entries there are.
    pub fn len(&self) -> usize {
        self.entries.read().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
