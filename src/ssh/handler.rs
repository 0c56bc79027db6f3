//! The russh [`Handler`] for one connection: authentication, one session channel, and
//! forwarding of channel events to the session task without ever waiting on it.

use std::net::SocketAddr;
use std::sync::Arc;

use russh::keys::PublicKey;
use russh::server::{Auth, ChannelOpenHandle, Handler, Msg, Response, Session, VerifiedPublicKey};
use russh::{Channel, ChannelId, MethodKind, MethodSet, Pty};
use tokio_util::sync::CancellationToken;

use super::pace::InputPace;
use super::session::{run_exec, run_shell, SessionSetup};
use super::{event_queue, EventSender, PtyInfo, SessionDeps, SessionEvent};
use crate::chat::text::sanitize;
use crate::keys::fingerprint;
use crate::metrics::Cut;

/// Per-connection state held by russh.
pub struct ConnectionHandler {
    deps: Arc<SessionDeps>,
    peer: Option<SocketAddr>,
    user: String,
    key: Option<String>,
    channel: Option<ChannelId>,
    pty: Option<PtyInfo>,
    events: Option<EventSender>,
    /// Cancelled to cut the connection (its socket is shut down).
    kill: CancellationToken,
    /// Cancelled once the user is in the room (ends the login grace period).
    joined: CancellationToken,
    /// Why this connection may not join (told once its session starts).
    refusal: Option<String>,
    /// Not on the allowlist of a private server: refused whatever it asks.
    denied: bool,
    /// How fast the client's input is read.
    pace: InputPace,
}

impl ConnectionHandler {
    /// A handler for a connection from `peer`.
    pub fn new(
        deps: Arc<SessionDeps>,
        peer: Option<SocketAddr>,
        kill: CancellationToken,
        joined: CancellationToken,
    ) -> Self {
        ConnectionHandler {
            deps,
            peer,
            user: String::new(),
            key: None,
            channel: None,
            pty: None,
            events: None,
            kill,
            joined,
            refusal: None,
            denied: false,
            pace: InputPace::for_connection(tokio::time::Instant::now()),
        }
    }

    /// Lets the connection log in only to be told `refusal` and closed.
    pub fn refusing(mut self, refusal: Option<String>) -> Self {
        self.refusal = refusal;
        self
    }

    /// Hands `event` to the session task; a client that has piled up more input than
    /// the session could take (it sends without reading) is cut off.
    fn forward(&self, event: SessionEvent) {
        let Some(tx) = &self.events else { return };
        if let Err(overflow) = tx.send(event) {
            if !self.kill.is_cancelled() {
                let why = if overflow.not_reading {
                    "sends without reading"
                } else {
                    "sends faster than it can be taken"
                };
                tracing::info!(queued = overflow.queued, "dropped: {why}");
                let who = self.peer.map(|a| a.to_string()).unwrap_or_default();
                let text = format!(
                    "{who} user={} ({why}: {} KiB of input piled up)",
                    sanitize(&self.user),
                    overflow.queued / 1024
                );
                self.deps.log.event("DROPPED", text);
                self.deps.metrics.cut(Cut::InputFlood);
            }
            self.kill.cancel();
        }
    }

    /// Counts a message of `bytes` from the client against its pace, and waits (holding
    /// up russh, which then stops reading this socket) while the pace is exceeded.
    async fn pace(&mut self, bytes: usize) {
        let wait = self.pace.take(bytes, tokio::time::Instant::now());
        if !wait.is_zero() {
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = self.kill.cancelled() => {}
            }
        }
    }

    /// Signed in as `key` (`None`: without one): someone banned, or on a private server
    /// anyone not on its allowlist, is refused whatever they ask (never a server admin),
    /// and logged once.
    fn signed_in(&mut self, user: &str, key: Option<String>) {
        self.user = user.to_string();
        self.key = key;
        let key = self.key.as_deref();
        if self.deps.rooms.is_server_admin(key) {
            return;
        }
        let ip = self.peer.map(|a| a.ip());
        if let Some(ban) = self.deps.bans.check(None, key, ip, self.deps.clock.now()) {
            self.denied = true;
            self.refusal = Some(self.deps.bans.refusal(&ban));
            let who = self.peer.map(|a| a.to_string()).unwrap_or_default();
            let text = format!(
                "{who} key={} banned ({})",
                key.unwrap_or("none"),
                ban.label()
            );
            self.deps.log.event("REFUSED", text);
            self.deps.metrics.refused(crate::metrics::Refusal::Banned);
            return;
        }
        if self.deps.allowlist.admits(key) {
            return;
        }
        self.denied = true;
        self.refusal = Some(crate::allowlist::NOT_ALLOWED.to_string());
        let who = self.peer.map(|a| a.to_string()).unwrap_or_default();
        let key = key.unwrap_or("none");
        self.deps
            .log
            .event("REFUSED", format!("{who} key={key} not on the allowlist"));
        self.deps
            .metrics
            .refused(crate::metrics::Refusal::NotAllowed);
    }

    /// Starts the session task for our channel; false if one is already running.
    fn start_session(&mut self, channel: ChannelId, session: &Session) -> Option<SessionSetup> {
        if self.channel != Some(channel) || self.events.is_some() {
            return None;
        }
        let (tx, rx) = event_queue();
        self.events = Some(tx);
        Some(SessionSetup {
            deps: self.deps.clone(),
            handle: session.handle(),
            channel,
            user: self.user.clone(),
            key: self.key.clone(),
            addr: self.peer,
            pty: self.pty.clone(),
            events: rx,
            kill: self.kill.clone(),
            joined: self.joined.clone(),
            refusal: self.refusal.clone(),
            denied: self.denied,
            code: None,
        })
    }
}

fn proceed_methods() -> Auth {
    Auth::Reject {
        proceed_with_methods: Some(MethodSet::from(
            &[MethodKind::PublicKey, MethodKind::KeyboardInteractive][..],
        )),
        partial_success: false,
    }
}

impl Handler for ConnectionHandler {
    type Error = anyhow::Error;

    async fn auth_none(&mut self, _user: &str) -> Result<Auth, Self::Error> {
        Ok(proceed_methods())
    }

    async fn auth_publickey(
        &mut self,
        user: &str,
        key: VerifiedPublicKey<'_>,
    ) -> Result<Auth, Self::Error> {
        // The signature has been checked: the key is this user's identity.
        let public: &PublicKey = key.public_key;
        self.signed_in(user, Some(fingerprint(public)));
        Ok(Auth::Accept)
    }

    async fn auth_keyboard_interactive<'a>(
        &'a mut self,
        user: &str,
        _submethods: &str,
        _response: Option<Response<'a>>,
    ) -> Result<Auth, Self::Error> {
        // Anonymous entry for clients without a key: no prompts at all.
        self.signed_in(user, None);
        Ok(Auth::Accept)
    }

    async fn channel_open_session(
        &mut self,
        channel: Channel<Msg>,
        reply: ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        if self.channel.is_some() {
            // One session per connection; dropping `reply` refuses the channel.
            return Ok(());
        }
        self.channel = Some(channel.id());
        reply.accept().await;
        // `channel` is dropped here: its data also reaches `data()`, and an unread
        // channel would stall the whole connection after 100 messages.
        Ok(())
    }

    async fn pty_request(
        &mut self,
        channel: ChannelId,
        term: &str,
        col_width: u32,
        row_height: u32,
        _pix_width: u32,
        _pix_height: u32,
        _modes: &[(Pty, u32)],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        if self.channel != Some(channel) || self.events.is_some() {
            session.channel_failure(channel)?;
            return Ok(());
        }
        self.pty = Some(PtyInfo {
            term: term.chars().take(64).collect(),
            cols: col_width,
            rows: row_height,
        });
        session.channel_success(channel)?;
        Ok(())
    }

    async fn shell_request(
        &mut self,
        channel: ChannelId,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        match self.start_session(channel, session) {
            Some(setup) => {
                session.channel_success(channel)?;
                tokio::spawn(run_shell(setup, None));
            }
            None => session.channel_failure(channel)?,
        }
        Ok(())
    }

    async fn exec_request(
        &mut self,
        channel: ChannelId,
        data: &[u8],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        let command = String::from_utf8_lossy(data).trim().to_string();
        match self.start_session(channel, session) {
            Some(setup) => {
                session.channel_success(channel)?;
                tokio::spawn(run_exec(setup, command));
            }
            None => session.channel_failure(channel)?,
        }
        Ok(())
    }

    async fn subsystem_request(
        &mut self,
        channel: ChannelId,
        _name: &str,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_failure(channel)?;
        Ok(())
    }

    async fn x11_request(
        &mut self,
        channel: ChannelId,
        _single_connection: bool,
        _x11_auth_protocol: &str,
        _x11_auth_cookie: &str,
        _x11_screen_number: u32,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_failure(channel)?;
        Ok(())
    }

    async fn env_request(
        &mut self,
        channel: ChannelId,
        _variable_name: &str,
        _variable_value: &str,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_failure(channel)?;
        Ok(())
    }

    async fn window_change_request(
        &mut self,
        channel: ChannelId,
        col_width: u32,
        row_height: u32,
        _pix_width: u32,
        _pix_height: u32,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        if self.channel == Some(channel) {
            // Before the shell starts, the size is simply the pty's new size.
            if let (None, Some(pty)) = (&self.events, &mut self.pty) {
                pty.cols = col_width;
                pty.rows = row_height;
            }
            self.forward(SessionEvent::Resize {
                cols: col_width,
                rows: row_height,
            });
            session.channel_success(channel)?;
            self.pace(0).await;
        }
        Ok(())
    }

    async fn data(
        &mut self,
        channel: ChannelId,
        data: &[u8],
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        if self.channel == Some(channel) {
            self.forward(SessionEvent::Data(data.to_vec()));
            self.pace(data.len()).await;
        }
        Ok(())
    }

    async fn channel_eof(
        &mut self,
        channel: ChannelId,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        if self.channel == Some(channel) {
            self.forward(SessionEvent::Eof);
        }
        Ok(())
    }

    async fn channel_close(
        &mut self,
        channel: ChannelId,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        if self.channel == Some(channel) {
            self.forward(SessionEvent::Close);
        }
        Ok(())
    }
}
