//! What each user of `bench takeover` sees, recorded as its session's packets arrive:
//! the first arrival of every numbered line of this run, duplicates, and every
//! `[Server]:` line after the sync (among which, for the sender, the refusals).

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use russh::{client, ChannelWriteHalf};
use testkit::strip_escapes;
use tokio::sync::oneshot;

use crate::client::{open_in_room, Client, LineBuf, Output};
use testkit::user_key;

/// What one user has seen so far.
#[derive(Debug, Clone, Default)]
pub struct Seen {
    /// The sync line has arrived: the user is in the room and counted.
    pub synced: bool,
    /// When each numbered line first arrived.
    pub received: HashMap<usize, Instant>,
    /// Numbered lines that arrived again.
    pub duplicates: usize,
    /// `[Server]:` lines after the sync, without colours, with their arrival.
    pub notices: Vec<(Instant, String)>,
    /// The server closed the session.
    pub closed: bool,
}

/// A session's [`Output`]: splits its lines and fills a [`Seen`].
pub struct Watch {
    /// `#<run>:`, the prefix of this run's lines.
    tag: String,
    welcomed: Option<oneshot::Sender<()>>,
    /// The last `[Server]:` line before the welcome: why a join was refused.
    refusal: Option<String>,
    lines: LineBuf,
    pub seen: Seen,
}

impl Output for Watch {
    fn data(&mut self, data: &[u8]) {
        let now = Instant::now();
        let mut lines = std::mem::take(&mut self.lines);
        lines.push(data, |line| self.line(&strip_escapes(line), now));
        self.lines = lines;
    }

    fn closed(&mut self) {
        self.seen.closed = true;
        // A session closed before its welcome was refused: say so now, not after 30 s.
        self.welcomed = None;
    }
}

impl Watch {
    fn line(&mut self, line: &str, now: Instant) {
        if self.welcomed.is_some() {
            if line.contains("Welcome to ") {
                let _ = self.welcomed.take().map(|w| w.send(()));
            } else if line.starts_with("[Server]:") {
                self.refusal = Some(line.to_string());
            }
            return;
        }
        let Some(at) = line.find(&self.tag) else {
            if self.seen.synced && line.starts_with("[Server]:") {
                self.seen.notices.push((now, line.to_string()));
            }
            return;
        };
        if !line[..at].ends_with(" >> ") {
            return;
        }
        let rest = &line[at + self.tag.len()..];
        if rest.starts_with("sync") {
            self.seen.synced = true;
        } else if let Ok(g) = rest.parse::<usize>() {
            match self.seen.received.entry(g) {
                Entry::Vacant(first) => {
                    first.insert(now);
                }
                Entry::Occupied(_) => self.seen.duplicates += 1,
            }
        }
    }
}

/// A user in the room: its connection, its writer and what it has seen.
pub struct User {
    _handle: client::Handle<Client<Arc<Mutex<Watch>>>>,
    pub writer: ChannelWriteHalf<client::Msg>,
    watch: Arc<Mutex<Watch>>,
}

impl User {
    /// Connects to `addr` as `nickname`, enters `room` with an exec request naming it
    /// (as `ssh -t HOST '#bench'` does) and waits for the welcome.
    ///
    /// # Errors
    /// The session cannot be set up, or no welcome within 30 s (with the server's
    /// refusal, if it gave one).
    pub async fn join(
        config: Arc<client::Config>,
        addr: SocketAddr,
        nickname: &str,
        room: &str,
        tag: &str,
    ) -> anyhow::Result<User> {
        let (welcomed, welcome) = oneshot::channel();
        let watch = Arc::new(Mutex::new(Watch {
            tag: tag.to_string(),
            welcomed: Some(welcomed),
            refusal: None,
            lines: LineBuf::default(),
            seen: Seen::default(),
        }));
        let session = open_in_room(
            config,
            addr,
            nickname,
            user_key(),
            watch.clone(),
            Some(room),
        )
        .await?;
        let user = User {
            _handle: session.handle,
            writer: session.writer,
            watch,
        };
        let waited = tokio::time::timeout(Duration::from_secs(30), welcome).await;
        if !matches!(waited, Ok(Ok(()))) {
            let why = user.lock().refusal.clone();
            return Err(anyhow::anyhow!(
                why.unwrap_or_else(|| "no reason given".into())
            ))
            .with_context(|| format!("{nickname} got no welcome from {addr} within 30 s"));
        }
        Ok(user)
    }

    /// Types `text` and Enter.
    ///
    /// # Errors
    /// The session is closed.
    pub async fn say(&self, text: &str) -> anyhow::Result<()> {
        Ok(self
            .writer
            .data_bytes(format!("{text}\r").into_bytes())
            .await?)
    }

    /// What the user has seen so far.
    pub fn seen(&self) -> Seen {
        self.lock().seen.clone()
    }

    /// The `[Server]:` lines alone of what the user has seen so far.
    pub fn notices(&self) -> Seen {
        Seen {
            notices: self.lock().seen.notices.clone(),
            ..Seen::default()
        }
    }

    /// Whether the user has seen numbered line `g`.
    pub fn has(&self, g: usize) -> bool {
        self.lock().seen.received.contains_key(&g)
    }

    /// Whether the user has seen the sync line.
    pub fn synced(&self) -> bool {
        self.lock().seen.synced
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Watch> {
        self.watch.lock().expect("no panics while locked")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbered_lines_and_notices_are_recorded_after_the_sync() {
        let (welcomed, _welcome) = oneshot::channel();
        let mut watch = Watch {
            tag: "#ab12:".into(),
            welcomed: Some(welcomed),
            refusal: None,
            lines: LineBuf::default(),
            seen: Seen::default(),
        };
        watch.data(b"[Server]: Welcome to #bench\r\n[Server]: x has joined the chat.\r\n");
        watch.data(b"old >> #ffff:3\r\n\x1b[1mt_0\x1b[0m >> #ab12:sync\r\n");
        watch.data(b"t_0 >> #ab12:0\r\nt_0 >> #ab12:1\r\nt_0 >> #ab12:1\r\n");
        watch.data(b"[Server]: try again\r\nsomeone >> not #ab12:5\r\n");
        let seen = &watch.seen;
        assert!(seen.synced);
        let mut got: Vec<_> = seen.received.keys().copied().collect();
        got.sort_unstable();
        assert_eq!(got, [0, 1]);
        assert_eq!(seen.duplicates, 1);
        let notices: Vec<_> = seen.notices.iter().map(|(_, l)| l.as_str()).collect();
        assert_eq!(notices, ["[Server]: try again"]);
    }
}
