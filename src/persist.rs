//! Small state files in the data directory, written so that a crash leaves either the
//! old file or the new one, never a torn mix.

use std::io::{self, Write};
use std::path::Path;

/// Writes `bytes` to `path` through a synced temporary file renamed over the old one.
///
/// # Errors
/// The folder or file cannot be written.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("tmp");
    let mut file = std::fs::File::create(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)
}

/// Reads and parses the JSON file at `path`; a missing file is `T::default()`.
///
/// # Errors
/// The file exists but cannot be read or is not valid (named in the message, so the
/// operator can fix or remove it; it is never silently emptied).
pub fn read_json<T: serde::de::DeserializeOwned + Default>(path: &Path) -> anyhow::Result<T> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map_err(|e| anyhow::anyhow!("{} is damaged ({e}); fix or remove it", path.display())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(T::default()),
        Err(e) => Err(anyhow::anyhow!("{}: {e}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_written_file_reads_back_and_a_damaged_one_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data/x.json");
        assert_eq!(read_json::<Vec<u32>>(&path).unwrap(), Vec::<u32>::new());
        write_atomically(&path, b"[1,2]").unwrap();
        assert_eq!(read_json::<Vec<u32>>(&path).unwrap(), [1, 2]);
        std::fs::write(&path, b"[1,").unwrap();
        let err = read_json::<Vec<u32>>(&path).unwrap_err().to_string();
        assert!(
            err.contains("x.json is damaged") && err.contains("fix or remove it"),
            "{err}"
        );
    }
}
