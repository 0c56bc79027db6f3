//! The lone server's side of [`PreferenceStore`]: every key's settings in one JSON file
//! in the data directory (`preferences.json`), read at start and written atomically on
//! each change. A damaged file stops the start with a line naming it, like
//! `names.json`: it is never silently emptied.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};

use futures_util::future::{ready, BoxFuture};

use super::{PreferenceStore, Settings, Unavailable};
use crate::persist::{read_json, write_atomically};

/// Settings by key fingerprint, kept in `path` (`None`: in memory only).
pub struct FilePreferences {
    path: Option<PathBuf>,
    kept: Mutex<BTreeMap<String, Settings>>,
}

impl FilePreferences {
    /// Reads `path` (a missing file is an empty one).
    ///
    /// # Errors
    /// The file cannot be read or is damaged.
    pub fn load(path: Option<PathBuf>) -> anyhow::Result<FilePreferences> {
        let kept = match &path {
            Some(path) => read_json(path)?,
            None => BTreeMap::new(),
        };
        Ok(FilePreferences {
            path,
            kept: Mutex::new(kept),
        })
    }

    fn kept(&self) -> MutexGuard<'_, BTreeMap<String, Settings>> {
        self.kept.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Applies `change` and writes the file; on a failed write the change is undone.
    fn change(
        &self,
        change: impl FnOnce(&mut BTreeMap<String, Settings>),
    ) -> Result<(), Unavailable> {
        let mut kept = self.kept();
        let before = kept.clone();
        change(&mut kept);
        let Some(path) = &self.path else {
            return Ok(());
        };
        let written = serde_json::to_vec_pretty(&*kept)
            .map_err(std::io::Error::other)
            .and_then(|bytes| write_atomically(path, &bytes));
        written.map_err(|error| {
            tracing::warn!(%error, path = %path.display(), "saving preferences failed");
            *kept = before;
            Unavailable
        })
    }
}

impl PreferenceStore for FilePreferences {
    fn load<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Settings>, Unavailable>> {
        Box::pin(ready(Ok(self.kept().get(key).cloned())))
    }

    fn save<'a>(
        &'a self,
        key: &'a str,
        settings: Settings,
    ) -> BoxFuture<'a, Result<(), Unavailable>> {
        let done = self.change(|kept| {
            kept.insert(key.to_string(), settings);
        });
        Box::pin(ready(done))
    }

    fn forget<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), Unavailable>> {
        let done = self.change(|kept| {
            kept.remove(key);
        });
        Box::pin(ready(done))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn settings_are_kept_across_restarts() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("preferences.json");
        let store = FilePreferences::load(Some(path.clone())).unwrap();
        assert_eq!(store.load("SHA256:k").await, Ok(None));
        let settings = Settings {
            timestamps: true,
            ..Settings::default()
        };
        store.save("SHA256:k", settings.clone()).await.unwrap();
        let again = FilePreferences::load(Some(path.clone())).unwrap();
        assert_eq!(again.load("SHA256:k").await, Ok(Some(settings)));
    }

    #[test]
    fn a_damaged_file_is_reported_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("preferences.json");
        std::fs::write(&path, b"{\"SHA256:k\": {").unwrap();
        let Err(error) = FilePreferences::load(Some(path.clone())) else {
            panic!("a damaged file was taken")
        };
        assert!(
            error.to_string().contains("preferences.json is damaged"),
            "{error}"
        );
        assert_eq!(std::fs::read(&path).unwrap(), b"{\"SHA256:k\": {");
    }
}
