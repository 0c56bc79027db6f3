//! A private server (SPEC §11): with `--allowlist FILE` (authorized_keys format) only the
//! keys listed there, and the server admins, are let in; anyone else is told so in one
//! line and disconnected. SIGHUP re-reads the file.

use std::collections::HashSet;
use std::path::Path;
use std::sync::{Arc, RwLock};

use anyhow::Context as _;

use crate::keys::read_authorized_fingerprints;

/// What someone not on the allowlist is told (after `[Server]: `).
pub const NOT_ALLOWED: &str = "This server is private; your key is not on its allowlist.";

/// The keys let in, when the server is private.
#[derive(Clone, Default)]
pub struct Allowlist {
    /// `None`: the server is public.
    keys: Arc<RwLock<Option<HashSet<String>>>>,
}

impl Allowlist {
    /// The allowlist of `file` (none: a public server).
    ///
    /// # Errors
    /// The file is missing or cannot be read: a private server never opens by mistake.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Allowlist> {
        let list = Allowlist::default();
        list.reload(file)?;
        Ok(list)
    }

    /// Reads `file` again; returns how many keys it lets in (`None`: public). On an
    /// error the previous list stays.
    ///
    /// # Errors
    /// As [`Allowlist::load`].
    pub fn reload(&self, file: Option<&Path>) -> anyhow::Result<Option<usize>> {
        let keys = match file {
            Some(path) => {
                if !path.exists() {
                    anyhow::bail!("--allowlist {}: no such file", path.display());
                }
                let keys = read_authorized_fingerprints(path)
                    .with_context(|| format!("--allowlist {}", path.display()))?;
                Some(keys)
            }
            None => None,
        };
        let count = keys.as_ref().map(HashSet::len);
        *self.keys.write().unwrap_or_else(|e| e.into_inner()) = keys;
        Ok(count)
    }

    /// Whether someone signed in with `key` (`None`: without one) may come in; server
    /// admins are judged by the caller.
    pub fn admits(&self, key: Option<&str>) -> bool {
        let keys = self.keys.read().unwrap_or_else(|e| e.into_inner());
        match keys.as_ref() {
            None => true,
            Some(keys) => key.is_some_and(|k| keys.contains(k)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl alice";

    #[test]
    fn without_a_file_everyone_is_let_in_and_with_one_only_its_keys() {
        assert!(Allowlist::load(None).unwrap().admits(None));
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("allowlist");
        assert!(Allowlist::load(Some(&file)).is_err(), "a missing file");
        std::fs::write(&file, format!("# friends\n{KEY}\n")).unwrap();
        let list = Allowlist::load(Some(&file)).unwrap();
        let key = russh::keys::PublicKey::from_openssh(KEY).unwrap();
        let alice = crate::keys::fingerprint(&key);
        assert!(list.admits(Some(&alice)));
        assert!(!list.admits(Some("SHA256:someone-else")));
        assert!(!list.admits(None), "no key, no entry");
        std::fs::write(&file, "").unwrap();
        assert_eq!(list.reload(Some(&file)).unwrap(), Some(0));
        assert!(!list.admits(Some(&alice)));
        std::fs::remove_file(&file).unwrap();
        assert!(list.reload(Some(&file)).is_err());
        assert!(!list.admits(Some(&alice)), "the previous list stays");
    }
}
