//! Keys on disk: the host key (generated on first start) and the admins file.

use std::collections::HashSet;
use std::path::Path;

use anyhow::Context;

use crate::config::Config;
use russh::keys::ssh_key::LineEnding;
use russh::keys::{Algorithm, HashAlg, PrivateKey, PublicKey};

/// Loads the host key at `path`, generating an Ed25519 key (mode 0600) if it is missing.
///
/// # Errors
/// The file exists but is not an OpenSSH private key, or the folder is not writable.
pub fn load_or_generate_host_key(path: &Path) -> anyhow::Result<PrivateKey> {
    if path.exists() {
        return PrivateKey::read_openssh_file(path)
            .with_context(|| format!("reading host key {}", path.display()));
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let key = PrivateKey::random(&mut rand::rng(), Algorithm::Ed25519)
        .context("generating a host key")?;
    key.write_openssh_file(path, LineEnding::LF)
        .with_context(|| format!("writing host key {}", path.display()))?;
    tracing::info!(path = %path.display(), "generated a new host key");
    Ok(key)
}

/// The SHA256 fingerprint of a public key, as `ssh-keygen -l` prints it.
pub fn fingerprint(key: &PublicKey) -> String {
    key.fingerprint(HashAlg::Sha256).to_string()
}

/// Reads the key fingerprints of an authorized_keys-format file (the admins file, the
/// allowlist); a missing file is an empty list. Lines that do not parse are skipped
/// with a warning.
///
/// # Errors
/// The file exists but cannot be read.
pub fn read_authorized_fingerprints(path: &Path) -> anyhow::Result<HashSet<String>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(HashSet::new()),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let mut admins = HashSet::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match parse_authorized_key(line) {
            Some(key) => {
                admins.insert(fingerprint(&key));
            }
            None => tracing::warn!(file = %path.display(), line = n + 1, "not a public key"),
        }
    }
    Ok(admins)
}

/// Every admin fingerprint: the admins file plus `--admin-key` values.
///
/// # Errors
/// The admins file exists but cannot be read.
pub fn admin_keys(config: &Config) -> anyhow::Result<HashSet<String>> {
    let mut keys = read_authorized_fingerprints(&config.admins_file)?;
    keys.extend(config.admin_keys.iter().cloned());
    Ok(keys)
}

/// Parses `[options] type base64 [comment]`, trying from each word so leading options
/// are skipped.
fn parse_authorized_key(line: &str) -> Option<PublicKey> {
    let words: Vec<&str> = line.split_whitespace().collect();
    (0..words.len()).find_map(|i| PublicKey::from_openssh(&words[i..].join(" ")).ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn host_key_is_generated_once_with_mode_0600() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/ssh_host_ed25519_key");
        let first = load_or_generate_host_key(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let again = load_or_generate_host_key(&path).unwrap();
        assert_eq!(
            fingerprint(first.public_key()),
            fingerprint(again.public_key())
        );
    }

    #[test]
    fn admins_file_yields_fingerprints() {
        let dir = tempfile::tempdir().unwrap();
        let key = PrivateKey::random(&mut rand::rng(), Algorithm::Ed25519).unwrap();
        let public = key.public_key().to_openssh().unwrap();
        let file = dir.path().join("admins");
        std::fs::write(
            &file,
            format!("# admins\n\nno-pty {public}\ngarbage line\n"),
        )
        .unwrap();
        let admins = read_authorized_fingerprints(&file).unwrap();
        assert_eq!(admins.len(), 1);
        assert!(admins.contains(&fingerprint(key.public_key())));
        assert!(read_authorized_fingerprints(&dir.path().join("missing"))
            .unwrap()
            .is_empty());
    }
}
