//! Stalled participants: sessions that join and then never read again, like an `ssh`
//! that was suspended. The server must drop them without slowing anyone else.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::{AcceptAll, Freezable};
use anyhow::Context;
use russh::client;
use russh::keys::PrivateKeyWithHashAlg;
use russh::ChannelMsg;
use tokio::net::TcpStream;

use crate::lines::LineBuf;

/// A joined participant that has stopped reading; dropping it closes the connection.
pub struct Stalled {
    _handle: client::Handle<AcceptAll>,
    _channel: russh::Channel<client::Msg>,
}

/// Joins as `nickname` (pty + shell), waits for the welcome, then stops reading. The
/// SSH window is small (4 KiB), so the server's writes block soon, as they do once a
/// suspended client's TCP buffers are full.
///
/// # Errors
/// The session cannot be set up or gets no welcome within 30 s.
pub async fn join_stalled(addr: SocketAddr, nickname: &str) -> anyhow::Result<Stalled> {
    let config = Arc::new(client::Config {
        nodelay: true,
        window_size: 4096,
        ..Default::default()
    });
    let frozen = Arc::new(AtomicBool::new(false));
    let tcp = TcpStream::connect(addr).await?;
    tcp.set_nodelay(true)?;
    let stream = Freezable {
        inner: tcp,
        frozen: frozen.clone(),
    };
    let mut handle = client::connect_stream(config, stream, AcceptAll).await?;
    let key = PrivateKeyWithHashAlg::new(Arc::new(crate::user_key()), None);
    anyhow::ensure!(
        handle
            .authenticate_publickey(nickname, key)
            .await?
            .success(),
        "public key authentication refused"
    );
    let mut channel = handle.channel_open_session().await?;
    channel
        .request_pty(true, "xterm", 80, 24, 0, 0, &[])
        .await?;
    channel.request_shell(true).await?;
    let welcome = async {
        let mut lines = LineBuf::default();
        let mut welcomed = false;
        while !welcomed {
            match channel.wait().await {
                Some(ChannelMsg::Data { data }) => {
                    lines.push(&data, |l| welcomed |= l.contains("Welcome to "));
                }
                Some(_) => {}
                None => anyhow::bail!("closed before the welcome"),
            }
        }
        anyhow::Ok(())
    };
    tokio::time::timeout(Duration::from_secs(30), welcome)
        .await
        .context("no welcome within 30 s")??;
    frozen.store(true, Ordering::Release);
    Ok(Stalled {
        _handle: handle,
        _channel: channel,
    })
}
