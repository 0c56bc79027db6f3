//! `bench floor`: the floor of this stack (issue 21). A minimal russh server that relays
//! each line a session types to every session of its group, the typist's own included,
//! as `NAME >> LINE`, and does nothing else: no room, no line editor, no log, no limits.
//! A shell joins the one big group; an exec request (`ssh host NAME`, what `bench
//! fanout --rooms` sends) joins the group of that name, so many rooms have a floor too.
//! ssh-chatroom's figures are reported as ratios to what `bench fanout` measures
//! against it on the same machine in the same run. Not a server for people: a client
//! that stops reading stalls everyone (the relay awaits each write).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use clap::Args;
use russh::keys::{Algorithm, PrivateKey};
use russh::server::{
    Auth, ChannelOpenHandle, Handle, Msg, Server as _, Session, VerifiedPublicKey,
};
use russh::{Channel, ChannelId};

/// Where the floor listens.
#[derive(Debug, Args)]
pub struct FloorArgs {
    /// Address to listen on (port 0: any free port, printed at start).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
}

/// Everyone connected, by group: where to write to them.
type Everyone = Arc<Mutex<HashMap<String, HashMap<usize, (Handle, ChannelId)>>>>;

/// Serves until killed; prints `floor listening on ADDR` once it listens.
///
/// # Errors
/// The address cannot be bound.
pub async fn run(args: FloorArgs) -> anyhow::Result<()> {
    let key = PrivateKey::random(&mut rand::rng(), Algorithm::Ed25519)?;
    let config = Arc::new(russh::server::Config {
        keys: vec![key],
        auth_rejection_time: std::time::Duration::ZERO,
        auth_rejection_time_initial: Some(std::time::Duration::ZERO),
        inactivity_timeout: None,
        // As ssh-chatroom does: with Nagle on, a handshake waits out delayed ACKs.
        nodelay: true,
        preferred: russh::Preferred {
            compression: std::borrow::Cow::Borrowed(&[russh::compression::NONE]),
            ..Default::default()
        },
        ..Default::default()
    });
    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    println!("floor listening on {}", listener.local_addr()?);
    let mut floor = Floor::default();
    floor.run_on_socket(config, &listener).await?;
    Ok(())
}

#[derive(Default)]
struct Floor {
    everyone: Everyone,
    next: usize,
}

impl russh::server::Server for Floor {
    type Handler = Relay;

    fn new_client(&mut self, _: Option<SocketAddr>) -> Relay {
        self.next += 1;
        Relay {
            id: self.next,
            name: String::new(),
            group: None,
            channel: None,
            everyone: self.everyone.clone(),
            pending: Vec::new(),
        }
    }
}

/// One session: its name, its group once it has one, where to write to it, and the
/// part of a line typed so far.
struct Relay {
    id: usize,
    name: String,
    group: Option<String>,
    channel: Option<(Handle, ChannelId)>,
    everyone: Everyone,
    pending: Vec<u8>,
}

impl Relay {
    /// Joins `group` and says welcome.
    fn join(&mut self, group: String, channel: ChannelId, session: &mut Session) {
        session.channel_success(channel).ok();
        if let Some(writer) = self.channel.clone() {
            let mut everyone = self.everyone.lock().unwrap_or_else(|e| e.into_inner());
            everyone
                .entry(group.clone())
                .or_default()
                .insert(self.id, writer);
        }
        self.group = Some(group);
        let welcome = format!("Welcome to the floor, {}!\r\n", self.name);
        session.data(channel, welcome.into_bytes()).ok();
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        let Some(group) = &self.group else { return };
        let mut everyone = self.everyone.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(members) = everyone.get_mut(group) {
            members.remove(&self.id);
            if members.is_empty() {
                everyone.remove(group);
            }
        }
    }
}

impl russh::server::Handler for Relay {
    type Error = russh::Error;

    async fn auth_publickey(
        &mut self,
        user: &str,
        _: VerifiedPublicKey<'_>,
    ) -> Result<Auth, Self::Error> {
        self.name = user.to_string();
        Ok(Auth::Accept)
    }

    async fn channel_open_session(
        &mut self,
        channel: Channel<Msg>,
        reply: ChannelOpenHandle,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.channel = Some((session.handle(), channel.id()));
        reply.accept().await;
        // Its data also reaches `data()`; unread, it would stall the connection.
        drop(channel);
        Ok(())
    }

    async fn shell_request(
        &mut self,
        channel: ChannelId,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.join(String::new(), channel, session);
        Ok(())
    }

    async fn exec_request(
        &mut self,
        channel: ChannelId,
        data: &[u8],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.join(String::from_utf8_lossy(data).into_owned(), channel, session);
        Ok(())
    }

    async fn pty_request(
        &mut self,
        channel: ChannelId,
        _: &str,
        _: u32,
        _: u32,
        _: u32,
        _: u32,
        _: &[(russh::Pty, u32)],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_success(channel)?;
        Ok(())
    }

    async fn data(
        &mut self,
        _: ChannelId,
        data: &[u8],
        _: &mut Session,
    ) -> Result<(), Self::Error> {
        self.pending.extend_from_slice(data);
        while let Some(end) = self.pending.iter().position(|b| *b == b'\r' || *b == b'\n') {
            let line: Vec<u8> = self.pending.drain(..=end).collect();
            let text = String::from_utf8_lossy(&line[..end]);
            if text.is_empty() {
                continue;
            }
            let out = format!("{} >> {text}\r\n", self.name).into_bytes();
            let everyone: Vec<(Handle, ChannelId)> = {
                let everyone = self.everyone.lock().unwrap_or_else(|e| e.into_inner());
                let group = self.group.as_ref().and_then(|g| everyone.get(g));
                group.map_or_else(Vec::new, |m| m.values().cloned().collect())
            };
            for (handle, channel) in everyone {
                let _ = handle.data(channel, out.clone()).await;
            }
        }
        Ok(())
    }
}
