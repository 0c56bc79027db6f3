//! The load client's SSH side: one russh session per participant (fresh Ed25519 key,
//! pty + shell) whose output is handed straight to an [`Output`]; [`LineBuf`] (from
//! testkit) turns the pty byte stream into visible lines.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use russh::client;
use russh::keys::{PrivateKey, PrivateKeyWithHashAlg};
use russh::ChannelWriteHalf;
pub use testkit::{Client, LineBuf, Output};

/// The key exchange a client asks for first.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Kex {
    /// Post-quantum hybrid, russh's and OpenSSH 10's first choice.
    Mlkem768x25519,
    /// Curve25519 alone, what OpenSSH 9.x negotiates with a russh server.
    Curve25519,
}

/// Client settings shared by every session: Nagle off, as an interactive `ssh` has it.
pub fn ssh_config(kex: Kex) -> Arc<client::Config> {
    let mut preferred = russh::Preferred::default();
    if let Kex::Curve25519 = kex {
        // Strict key exchange (the Terrapin fix) and extension negotiation stay on.
        preferred.kex = std::borrow::Cow::Borrowed(&[
            russh::kex::CURVE25519,
            russh::kex::EXTENSION_SUPPORT_AS_CLIENT,
            russh::kex::EXTENSION_OPENSSH_STRICT_KEX_AS_CLIENT,
        ]);
    }
    Arc::new(client::Config {
        nodelay: true,
        preferred,
        ..Default::default()
    })
}

/// One participant's connection: keep `handle` alive as long as the session should be.
pub struct Session<O: Output> {
    pub handle: client::Handle<Client<O>>,
    pub writer: ChannelWriteHalf<client::Msg>,
}

/// Connects as `user` with `key` and asks for a pty (xterm, 80x24) and a shell;
/// everything the server writes goes to `output`.
///
/// # Errors
/// TCP connect, key exchange, authentication or the channel requests fail.
pub async fn open_shell<O: Output>(
    config: Arc<client::Config>,
    addr: SocketAddr,
    user: &str,
    key: PrivateKey,
    output: O,
) -> anyhow::Result<Session<O>> {
    open_in_room(config, addr, user, key, output, None).await
}

/// Like [`open_shell`], but into `room` when given: a pty and an exec request naming the
/// room, as `ssh -t HOST room` does.
pub async fn open_in_room<O: Output>(
    config: Arc<client::Config>,
    addr: SocketAddr,
    user: &str,
    key: PrivateKey,
    output: O,
    room: Option<&str>,
) -> anyhow::Result<Session<O>> {
    let mut handle = client::connect(config, addr, Client(output))
        .await
        .with_context(|| format!("connecting to {addr}"))?;
    let key = PrivateKeyWithHashAlg::new(Arc::new(key), None);
    let auth = handle.authenticate_publickey(user, key).await?;
    anyhow::ensure!(auth.success(), "public key authentication refused");
    let channel = handle.channel_open_session().await?;
    channel
        .request_pty(true, "xterm", 80, 24, 0, 0, &[])
        .await?;
    match room {
        Some(room) => channel.exec(true, room).await?,
        None => channel.request_shell(true).await?,
    }
    // Without its read half the channel's copy of the output is dropped unread (russh
    // hands it to the handler as well), so nothing queues up behind it.
    let (_reader, writer) = channel.split();
    Ok(Session { handle, writer })
}
