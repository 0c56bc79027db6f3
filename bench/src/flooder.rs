//! Flooders: participants that type as fast as their connection lets them, keystrokes
//! that each cost the server an echo but never make a line (`abcdefgh` then Ctrl-U),
//! while reading (and discarding) everything the server writes. The server should read
//! them at a bounded rate, so they cost it a small share of a core and nobody else
//! notices.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tokio::task::JoinHandle;

use crate::client::{open_shell, ssh_config, user_key, Kex, Output};

/// Keystrokes written per SSH data packet.
const CHUNK: usize = 8 * 1024;

/// Discards the flooder's output.
struct Discard;

impl Output for Discard {
    fn data(&mut self, _data: &[u8]) {}
    fn closed(&mut self) {}
}

/// Flooders at work; dropping this stops them.
pub struct Flooders {
    tasks: Vec<JoinHandle<()>>,
    /// Bytes the server has accepted from all flooders (their writes that completed).
    pub sent: Arc<AtomicU64>,
}

impl Drop for Flooders {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// Joins `count` flooders (pty + shell, nicknames `<prefix><i>`) and sets them typing.
///
/// # Errors
/// A session cannot be set up.
pub async fn start_flooders(
    addr: SocketAddr,
    kex: Kex,
    prefix: &str,
    count: usize,
) -> anyhow::Result<Flooders> {
    let sent = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::with_capacity(count);
    for i in 0..count {
        let session = open_shell(
            ssh_config(kex),
            addr,
            &format!("{prefix}{i}"),
            user_key()?,
            Discard,
        )
        .await?;
        let sent = sent.clone();
        tasks.push(tokio::spawn(async move {
            let keystrokes = b"abcdefgh\x15".repeat(CHUNK / 9);
            // Kept alive for as long as the flooder types.
            let _handle = session.handle;
            while session.writer.data(&keystrokes[..]).await.is_ok() {
                sent.fetch_add(keystrokes.len() as u64, Ordering::Relaxed);
            }
        }));
    }
    Ok(Flooders { tasks, sent })
}
