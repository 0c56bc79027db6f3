//! The in-process side of [`BanStore`]: every ban in `data/bans.json`, rewritten
//! atomically on each change, so a crash leaves the old list or the new one. A damaged
//! file stops the start and is kept, as `names.json` is.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;

use futures_util::future::BoxFuture;

use super::{Ban, BanStore, NotKept};

/// The bans of a lone server, mirrored to a file.
pub struct FileBans {
    path: Option<PathBuf>,
    bans: Mutex<BTreeMap<String, Ban>>,
}

impl FileBans {
    /// The bans kept in `path` (none if it is missing), and the store over it.
    ///
    /// # Errors
    /// The file exists but is unreadable or damaged.
    pub fn load(path: PathBuf) -> anyhow::Result<(FileBans, Vec<Ban>)> {
        let bans: Vec<Ban> = crate::persist::read_json(&path)?;
        let kept = bans.iter().map(|b| (b.id(), b.clone())).collect();
        let store = FileBans {
            path: Some(path),
            bans: Mutex::new(kept),
        };
        Ok((store, bans))
    }

    /// Bans kept in memory only.
    pub fn in_memory() -> FileBans {
        FileBans {
            path: None,
            bans: Mutex::new(BTreeMap::new()),
        }
    }

    /// Applies `change` and writes the file; on a failed write the change is undone.
    fn change(&self, change: impl FnOnce(&mut BTreeMap<String, Ban>)) -> Result<(), NotKept> {
        let mut bans = self.bans.lock().unwrap_or_else(|e| e.into_inner());
        let before = bans.clone();
        change(&mut bans);
        let Some(path) = &self.path else {
            return Ok(());
        };
        let list: Vec<&Ban> = bans.values().collect();
        let written = serde_json::to_vec_pretty(&list)
            .map_err(std::io::Error::other)
            .and_then(|bytes| crate::persist::write_atomically(path, &bytes));
        written.map_err(|error| {
            tracing::warn!(%error, path = %path.display(), "cannot save the bans");
            *bans = before;
            NotKept
        })
    }
}

impl BanStore for FileBans {
    fn put<'a>(&'a self, id: &'a str, ban: &'a Ban) -> BoxFuture<'a, Result<(), NotKept>> {
        Box::pin(async move {
            self.change(|bans| {
                bans.insert(id.to_string(), ban.clone());
            })
        })
    }

    fn delete<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<(), NotKept>> {
        Box::pin(async move {
            self.change(|bans| {
                bans.remove(id);
            })
        })
    }
}
