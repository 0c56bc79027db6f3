//! A test server's settings, written once for every test, the bench and the real binary:
//! port 0 on loopback, every file in one temp folder, UTC, and none of the limits a fast
//! local client would hit. They are flags, so a test passes them to the real binary as
//! they are, and turns them into the server's settings in-process with
//! `Config::from_flags`; a flag given again later wins.

use std::path::{Path, PathBuf};

/// The flags of a server with its files under `dir`.
pub fn server_flags(dir: &Path) -> Vec<String> {
    let d = dir.display();
    vec![
        "--listen=127.0.0.1:0".into(),
        format!("--log-dir={d}/logs"),
        format!("--data-dir={d}/data"),
        format!("--host-key={}", host_key(dir).display()),
        format!("--admins-file={d}/keys/admins"),
        "--timezone=UTC".into(),
        // Tests type faster than people; the rate-limit tests turn it back on.
        "--message-rate=0".into(),
        // Every test client comes from 127.0.0.1; the limit tests turn it back on.
        "--max-conns-per-ip=0".into(),
    ]
}

/// Where a server with its files under `dir` keeps its host key.
pub fn host_key(dir: &Path) -> PathBuf {
    dir.join("keys/ssh_host_ed25519_key")
}
