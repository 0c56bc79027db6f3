//! The process's own open-file limit: thousands of sessions need thousands of sockets.

/// Raises the soft `RLIMIT_NOFILE` to the hard limit; returns the soft limit now in
/// force (0 if it could not be read, with a warning on stderr).
pub fn raise_nofile_limit() -> u64 {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => limit,
        Err(error) => {
            eprintln!("warning: could not raise the open-file limit: {error}");
            rlimit::getrlimit(rlimit::Resource::NOFILE).map_or(0, |(soft, _)| soft)
        }
    }
}
