//! One accepted TCP connection: its PROXY header (from a trusted load balancer), its
//! count against its client's address, its SSH session, and its login grace.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use russh::server::run_stream;
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

use crate::admission::Ticket;
use crate::log::LogSink;
use crate::metrics::Cut;
use crate::proxy;
use crate::ssh::handler::ConnectionHandler;
use crate::ssh::SessionDeps;

/// Runs one connection until it ends, is cut by the room, or overstays its login grace.
pub async fn run(
    deps: Arc<SessionDeps>,
    ssh: Arc<russh::server::Config>,
    stream: TcpStream,
    peer: SocketAddr,
    mut ticket: Ticket,
    kill: CancellationToken,
) {
    if let Err(error) = tune_socket(&stream) {
        tracing::warn!(%error, "could not set up the connection");
        return;
    }
    let grace_ends = deps.clock.instant() + Duration::from_secs(deps.config.login_grace);
    // Boxed, as is the handshake below: each is a large future needed only at the start,
    // and unboxed it would make every connection's task bigger for as long as it lasts.
    let Some(opened) = Box::pin(open(&deps, stream, peer, &mut ticket, &kill)).await else {
        return;
    };
    let (stream, client, spoofed) = (opened.stream, opened.client, opened.refused);
    let joined = CancellationToken::new();
    let clock = deps.clock.clone();
    let log = deps.log.clone();
    let metrics = deps.metrics.clone();
    let handler = ConnectionHandler::new(deps, Some(client), kill.clone(), joined.clone())
        .refusing(ticket.refusal.clone());
    let session = async {
        match Box::pin(run_stream(ssh, stream, handler)).await {
            Ok(running) => {
                if let Err(error) = running.await {
                    tracing::debug!(%error, "connection ended");
                }
            }
            Err(error) => tracing::debug!(%error, "handshake failed"),
        }
    };
    let grace_expired = async {
        clock.sleep_until(grace_ends).await;
        if joined.is_cancelled() {
            std::future::pending::<()>().await;
        }
    };
    let mark_joined = async {
        joined.cancelled().await;
        ticket.joined();
        std::future::pending::<()>().await;
    };
    tokio::select! {
        () = session => {}
        () = mark_joined => {}
        () = kill.cancelled() => {}
        () = grace_expired => {
            tracing::info!("login grace expired");
            metrics.cut(Cut::LoginGrace);
        }
    }
    kill.cancel();
    if spoofed.is_cancelled() {
        refused_before_ssh(&log, peer, &proxy::HeaderError::Untrusted);
    }
}

/// Opens the connection for SSH (after a trusted proxy's PROXY header) and counts it
/// against its client's address; `None` when it is refused before SSH. Cancelling
/// `kill` cuts the stream, even while a write to it is blocked.
async fn open(
    deps: &SessionDeps,
    stream: TcpStream,
    peer: SocketAddr,
    ticket: &mut Ticket,
    kill: &CancellationToken,
) -> Option<proxy::Opened> {
    let opened = match proxy::open(stream, peer, &deps.config.trusted_proxy, kill).await {
        Ok(opened) => opened,
        Err(why) => {
            refused_before_ssh(&deps.log, peer, &why);
            return None;
        }
    };
    let client = opened.client;
    if client != peer {
        tracing::Span::current().record("client", tracing::field::display(client));
    }
    ticket.count_address(client.ip());
    if ticket.refusal.is_some() {
        let max = deps.config.max_conns_per_ip;
        let text = format!("{client} too many connections from one address (max {max})");
        deps.log.event("REFUSED", text);
    }
    Some(opened)
}

/// A connection closed before SSH began because of its PROXY header (or its lack).
fn refused_before_ssh(log: &LogSink, peer: SocketAddr, why: &proxy::HeaderError) {
    tracing::info!(%why, "refused before SSH");
    if let Some(text) = proxy::refusal_text(peer, why) {
        log.event("REFUSED", text);
    }
}

/// Kernel send buffer per connection. Chat needs little, and a small buffer bounds the
/// memory a stalled client pins and makes its stall show (and be cut) sooner.
const SEND_BUFFER_BYTES: usize = 128 * 1024;

fn tune_socket(stream: &TcpStream) -> std::io::Result<()> {
    // russh applies `Config::nodelay` only in its own accept loop, not in `run_stream`:
    // without this, Nagle and delayed ACKs add ~40 ms stalls to handshakes and lines.
    stream.set_nodelay(true)?;
    socket2::SockRef::from(stream).set_send_buffer_size(SEND_BUFFER_BYTES)
}
