//! The PROXY protocol (v1 text and v2 binary, as HAProxy's `send-proxy` and
//! `send-proxy-v2` write it) for nodes behind a TCP load balancer. A connection from a
//! `--trusted-proxy` address must start with a header, read here under a timeout and a
//! size bound before SSH starts; its client address then stands for the connection
//! everywhere (the per-address cap, kick-bans, `server.txt`). A connection from any
//! other address that starts with a header is refused; other direct connections are
//! ordinary SSH, as without the setting.

mod header;
mod stream;
mod trusted;

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

use crate::stream::CuttableStream;

pub use header::{parse, HeaderError, Parsed, Source, MAX_HEADER_BYTES};
pub use stream::OpeningStream;
pub use trusted::{is_trusted, ProxyNet};

/// How long a trusted proxy may take to send its header. A load balancer sends it with
/// the connection itself; this only bounds a broken or hostile one.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(5);

/// A header read from a trusted proxy.
#[derive(Debug, PartialEq, Eq)]
pub struct Arrival {
    /// The client's address: the header's source, or the proxy's own for `LOCAL`.
    pub client: SocketAddr,
    /// Bytes read past the header (the start of the client's SSH stream).
    pub rest: Vec<u8>,
}

/// Reads the PROXY header that must open a connection from the trusted proxy at `peer`:
/// never more than [`MAX_HEADER_BYTES`], never longer than [`HEADER_TIMEOUT`], and not
/// past `cut` (the handshake cap may evict a connection still waiting for its header).
///
/// # Errors
/// No header, a bad or oversized one, a timeout, or the connection ended first.
pub async fn read_header<S: AsyncRead + Unpin>(
    stream: &mut S,
    peer: SocketAddr,
    cut: &CancellationToken,
) -> Result<Arrival, HeaderError> {
    let read = tokio::time::timeout(HEADER_TIMEOUT, read_bounded(stream, peer));
    tokio::select! {
        read = read => read.unwrap_or(Err(HeaderError::TimedOut(HEADER_TIMEOUT.as_secs()))),
        () = cut.cancelled() => Err(HeaderError::Closed),
    }
}

async fn read_bounded<S: AsyncRead + Unpin>(
    stream: &mut S,
    peer: SocketAddr,
) -> Result<Arrival, HeaderError> {
    let mut buf = [0u8; MAX_HEADER_BYTES];
    let mut filled = 0;
    loop {
        let n = stream.read(&mut buf[filled..]).await.unwrap_or(0);
        if n == 0 {
            return Err(match filled {
                0 => HeaderError::Closed,
                _ => HeaderError::Truncated,
            });
        }
        filled += n;
        match parse(&buf[..filled]) {
            Parsed::Header { source, len } => {
                let client = match source {
                    Source::Client(addr) => addr,
                    Source::Proxy => peer,
                };
                let rest = buf[len..filled].to_vec();
                return Ok(Arrival { client, rest });
            }
            // The bounds in `parse` end every header before the buffer is full.
            Parsed::Incomplete if filled == buf.len() => {
                return Err(HeaderError::TooLong(MAX_HEADER_BYTES))
            }
            Parsed::Incomplete => {}
            Parsed::Invalid(why) => return Err(why),
        }
    }
}

/// A connection ready for SSH.
pub struct Opened {
    /// What russh reads and writes.
    pub stream: OpeningStream<CuttableStream>,
    /// Who the connection stands for: the header's client, else the TCP peer.
    pub client: SocketAddr,
    /// Cancelled if a peer that is not a trusted proxy starts with a PROXY header (its
    /// stream then fails, and the caller logs [`HeaderError::Untrusted`]).
    pub refused: CancellationToken,
}

/// Opens a connection from `peer`: from a trusted proxy, reads its header first (see
/// [`read_header`]); from anyone else, guards against a header and changes nothing.
/// Cancelling `cut` cuts the stream, as [`CuttableStream`] does.
///
/// # Errors
/// A trusted proxy's header is missing, bad, too long or too slow.
pub async fn open(
    mut tcp: TcpStream,
    peer: SocketAddr,
    trusted: &[ProxyNet],
    cut: &CancellationToken,
) -> Result<Opened, HeaderError> {
    let refused = CancellationToken::new();
    if !is_trusted(trusted, peer.ip()) {
        let stream = CuttableStream::new(tcp, cut.clone());
        return Ok(Opened {
            stream: OpeningStream::guarded(stream, refused.clone()),
            client: peer,
            refused,
        });
    }
    let arrival = read_header(&mut tcp, peer, cut).await?;
    let stream = CuttableStream::new(tcp, cut.clone());
    Ok(Opened {
        stream: OpeningStream::after_header(stream, arrival.rest),
        client: arrival.client,
        refused,
    })
}

/// The `server.txt` text for a connection refused before SSH started, if it is worth a
/// line (`peer` is the TCP peer: the proxy, or the untrusted sender).
pub fn refusal_text(peer: SocketAddr, why: &HeaderError) -> Option<String> {
    why.is_logged().then(|| format!("{peer} {why}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    fn proxy() -> SocketAddr {
        "127.0.0.1:40000".parse().unwrap()
    }

    #[tokio::test]
    async fn a_header_split_over_packets_is_read_and_the_rest_kept() {
        let (mut lb, mut node) = tokio::io::duplex(1024);
        let cut = CancellationToken::new();
        let reader = tokio::spawn(async move { read_header(&mut node, proxy(), &cut).await });
        lb.write_all(b"PROXY TCP4 192.0.2.7 10.0").await.unwrap();
        lb.write_all(b".0.1 51234 9999\r\nSSH-2.0").await.unwrap();
        let arrival = reader.await.unwrap().unwrap();
        assert_eq!(arrival.client, "192.0.2.7:51234".parse().unwrap());
        assert_eq!(arrival.rest, b"SSH-2.0");
    }

    #[tokio::test]
    async fn local_uses_the_proxy_address() {
        let (mut lb, mut node) = tokio::io::duplex(1024);
        lb.write_all(b"\r\n\r\n\0\r\nQUIT\n\x20\x00\x00\x00")
            .await
            .unwrap();
        let arrival = read_header(&mut node, proxy(), &CancellationToken::new())
            .await
            .unwrap();
        assert_eq!(arrival.client, proxy());
        assert!(arrival.rest.is_empty());
    }

    /// A sender that never stops is read no further than the bound.
    #[tokio::test]
    async fn an_endless_header_is_read_no_further_than_the_bound() {
        let (mut lb, mut node) = tokio::io::duplex(64 * 1024);
        let mut endless = b"PROXY TCP4 ".to_vec();
        endless.resize(32 * 1024, b'7');
        lb.write_all(&endless).await.unwrap();
        let why = read_header(&mut node, proxy(), &CancellationToken::new())
            .await
            .unwrap_err();
        assert_eq!(why, HeaderError::TooLong(header::V1_MAX_BYTES));
        let mut left = Vec::new();
        drop(lb);
        node.read_to_end(&mut left).await.unwrap();
        assert!(
            left.len() >= endless.len() - MAX_HEADER_BYTES,
            "{}",
            left.len()
        );
    }

    #[tokio::test]
    async fn closed_early_truncated_and_garbage() {
        let cut = CancellationToken::new();
        for (bytes, why) in [
            (&b""[..], HeaderError::Closed),
            (b"PROXY TCP4 1.2", HeaderError::Truncated),
            (b"SSH-2.0-OpenSSH\r\n", HeaderError::Missing),
        ] {
            let (mut lb, mut node) = tokio::io::duplex(1024);
            lb.write_all(bytes).await.unwrap();
            drop(lb);
            assert_eq!(read_header(&mut node, proxy(), &cut).await, Err(why));
        }
    }

    #[tokio::test(start_paused = true)]
    async fn silence_times_out_and_a_cut_ends_the_wait() {
        let (_lb, mut node) = tokio::io::duplex(1024);
        let why = read_header(&mut node, proxy(), &CancellationToken::new()).await;
        assert_eq!(why, Err(HeaderError::TimedOut(HEADER_TIMEOUT.as_secs())));
        let cut = CancellationToken::new();
        cut.cancel();
        let why = read_header(&mut node, proxy(), &cut).await;
        assert_eq!(why, Err(HeaderError::Closed));
        assert_eq!(refusal_text(proxy(), &HeaderError::Closed), None);
        let text = refusal_text(proxy(), &HeaderError::TimedOut(5)).unwrap();
        assert_eq!(text, "127.0.0.1:40000 no complete PROXY header within 5 s");
    }
}
