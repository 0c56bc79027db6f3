//! One SSH session of a soak user: the [`Output`] that splits the pty stream into lines
//! and records each into the roster as its packet is read (the welcome, the numbered
//! lines, `[Server]:` lines, the end), and the opening of such a session into the
//! user's room.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use russh::client;
use russh::keys::{PrivateKey, PrivateKeyWithHashAlg};
use russh::ChannelWriteHalf;
use tokio::sync::oneshot;

use super::roster::{parse_line, Roster};
use crate::{strip_escapes, Client, LineBuf, Output};

/// How long the connection, and then the welcome, may take.
const OPEN_WITHIN: Duration = Duration::from_secs(10);

/// Where a session is in its life.
enum Phase {
    /// Before the welcome: lines of history, refusals.
    Joining,
    /// The welcome has arrived; its own `Users (...)` line comes next.
    WelcomeUsers,
    Joined,
}

/// The output of one session: records what it shows into `roster`.
pub struct Recorder {
    roster: Arc<Roster>,
    user: usize,
    session: usize,
    lines: LineBuf,
    phase: Phase,
    /// Told once whether the session got into the room (or why not).
    verdict: Option<oneshot::Sender<Result<(), String>>>,
}

impl Recorder {
    fn line(&mut self, line: &str, now: Instant) {
        let (roster, user, s) = (&self.roster, self.user, self.session);
        match self.phase {
            Phase::Joining => {
                if line.contains("Welcome to ") {
                    roster.welcomed(user, s, now);
                    self.phase = Phase::WelcomeUsers;
                    self.tell(Ok(()));
                } else if line.starts_with("[Server]:") {
                    roster.update(user, s, |log| log.refusal = Some(line.to_string()));
                    // A taken name: the server asks for another one, which we never give.
                    if line.contains("Please choose another nickname") {
                        self.tell(Err(line.to_string()));
                    }
                }
                return;
            }
            Phase::WelcomeUsers => {
                self.phase = Phase::Joined;
                if line.starts_with("[Server]: Users (") {
                    return;
                }
            }
            Phase::Joined => {}
        }
        let line = line.to_string();
        if line.starts_with("[Server]: Users (") {
            roster.update(user, s, |log| log.users.push((now, line)));
        } else if line.starts_with("[Server]:") {
            roster.update(user, s, |log| log.notices.push((now, line)));
        } else if let Some(sender) = parse_line(&line).and_then(|(name, n)| {
            let sender = roster.index_of(name)?;
            Some((sender, n))
        }) {
            roster.update(user, s, |log| log.received.push((sender, now)));
        }
    }

    fn end(&mut self) {
        self.roster.closed(self.user, self.session, Instant::now());
        let why = self
            .roster
            .update(self.user, self.session, |log| log.refusal.clone());
        self.tell(Err(
            why.unwrap_or_else(|| "closed before the welcome".into())
        ));
    }

    fn tell(&mut self, verdict: Result<(), String>) {
        if let Some(tx) = self.verdict.take() {
            let _ = tx.send(verdict);
        }
    }
}

impl Output for Recorder {
    fn data(&mut self, data: &[u8]) {
        let now = Instant::now();
        let mut lines = std::mem::take(&mut self.lines);
        lines.push(data, |line| self.line(&strip_escapes(line), now));
        self.lines = lines;
    }

    fn closed(&mut self) {
        self.end();
    }

    /// A killed node: the connection breaks without a close.
    fn disconnected(&mut self) {
        self.end();
    }
}

/// An open session in the room: keep `handle` for as long as it should last.
pub struct Live {
    pub handle: client::Handle<Client<Recorder>>,
    pub writer: Arc<ChannelWriteHalf<client::Msg>>,
    /// Its index among the user's sessions.
    pub session: usize,
}

/// Connects `user` to node `node` at `addr` with `key`, enters its room (a pty and an
/// exec request naming the room, as `ssh -t HOST '#room'` does) and waits for the
/// welcome.
///
/// # Errors
/// The connection, the login or the requests fail, the server refuses (the text of its
/// refusal), or no welcome within 10 s.
pub async fn open(
    roster: &Arc<Roster>,
    user: usize,
    node: usize,
    addr: SocketAddr,
    key: &PrivateKey,
) -> Result<Live, String> {
    let session = roster.open_session(user, node);
    let (verdict, told) = oneshot::channel();
    let recorder = Recorder {
        roster: roster.clone(),
        user,
        session,
        lines: LineBuf::default(),
        phase: Phase::Joining,
        verdict: Some(verdict),
    };
    let opened = tokio::time::timeout(OPEN_WITHIN, async {
        let config = Arc::new(client::Config {
            nodelay: true,
            ..Default::default()
        });
        let mut handle = client::connect(config, addr, Client(recorder))
            .await
            .map_err(|e| format!("connecting to {addr}: {e}"))?;
        let name = &roster.users[user].name;
        let key = PrivateKeyWithHashAlg::new(Arc::new(key.clone()), None);
        let auth = handle.authenticate_publickey(name, key).await;
        if !auth.is_ok_and(|a| a.success()) {
            return Err("public key authentication failed".to_string());
        }
        let channel = handle
            .channel_open_session()
            .await
            .map_err(|e| e.to_string())?;
        let room = &roster.rooms[roster.users[user].room];
        let asked = async {
            channel
                .request_pty(true, "xterm", 80, 24, 0, 0, &[])
                .await?;
            channel.exec(true, room.as_str()).await
        };
        asked.await.map_err(|e| e.to_string())?;
        // Without its read half the channel's copy of the output is dropped unread
        // (russh hands it to the handler as well).
        let (_reader, writer) = channel.split();
        Ok((handle, writer))
    })
    .await;
    let failed = |why: String| {
        roster.closed(user, session, Instant::now());
        Err(why)
    };
    let (handle, writer) = match opened {
        Ok(Ok(open)) => open,
        Ok(Err(why)) => return failed(why),
        Err(_) => return failed("no SSH session within 10 s".into()),
    };
    match tokio::time::timeout(OPEN_WITHIN, told).await {
        Ok(Ok(Ok(()))) => Ok(Live {
            handle,
            writer: Arc::new(writer),
            session,
        }),
        Ok(Ok(Err(why))) => failed(why),
        Ok(Err(_)) => failed("the session ended before the welcome".into()),
        Err(_) => failed("no welcome within 10 s".into()),
    }
}
