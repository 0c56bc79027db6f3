//! The stream russh reads: first the bytes read past a PROXY header, then the socket.
//! For a peer that is not a trusted proxy it holds back the first bytes (at most 12)
//! until they cannot start a PROXY header; if they do, it fails and says so. An SSH
//! client's `SSH-` is told apart at its first byte, so nothing waits or changes.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_util::sync::CancellationToken;

use super::header::{signature, Signature, SIGNATURE_MAX_BYTES};

/// `inner`, with bytes already read handed out first.
pub struct OpeningStream<S> {
    inner: S,
    /// Bytes to hand out before reading `inner` again (at most a header's worth).
    replay: Vec<u8>,
    at: usize,
    /// While set, the first bytes are held until they cannot be a PROXY header's
    /// signature; cancelled (and reads fail) if they are one.
    guard: Option<CancellationToken>,
}

impl<S> OpeningStream<S> {
    /// A stream from a trusted proxy: `rest` is what came after its header.
    pub fn after_header(inner: S, rest: Vec<u8>) -> Self {
        OpeningStream {
            inner,
            replay: rest,
            at: 0,
            guard: None,
        }
    }

    /// A stream from anyone else: `refused` is cancelled if it starts with a PROXY
    /// header.
    pub fn guarded(inner: S, refused: CancellationToken) -> Self {
        OpeningStream {
            inner,
            replay: Vec::new(),
            at: 0,
            guard: Some(refused),
        }
    }
}

impl<S: AsyncRead + Unpin> OpeningStream<S> {
    /// Reads until the held bytes tell whether a PROXY header is coming.
    fn poll_guard(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while let Some(refused) = &self.guard {
            match signature(&self.replay) {
                Signature::NotHeader => self.guard = None,
                Signature::Header => {
                    refused.cancel();
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "a PROXY header from an untrusted address",
                    )));
                }
                Signature::Undecided => {
                    let mut held = [0u8; SIGNATURE_MAX_BYTES];
                    let room = SIGNATURE_MAX_BYTES - self.replay.len();
                    let mut read = ReadBuf::new(&mut held[..room]);
                    ready!(Pin::new(&mut self.inner).poll_read(cx, &mut read))?;
                    if read.filled().is_empty() {
                        // End of stream: hand over what came, then the end.
                        self.guard = None;
                    }
                    self.replay.extend_from_slice(read.filled());
                }
            }
        }
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for OpeningStream<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_guard(cx))?;
        if this.at < this.replay.len() {
            let n = buf.remaining().min(this.replay.len() - this.at);
            buf.put_slice(&this.replay[this.at..this.at + n]);
            this.at += n;
            if this.at == this.replay.len() {
                this.replay = Vec::new();
                this.at = 0;
            }
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for OpeningStream<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn read_all<S: AsyncRead + Unpin>(stream: &mut S) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        stream.read_to_end(&mut out).await?;
        Ok(out)
    }

    #[tokio::test]
    async fn the_rest_after_a_header_comes_first() {
        let (mut client, server) = tokio::io::duplex(64);
        client.write_all(b"-2.0-x\r\n").await.unwrap();
        drop(client);
        let mut stream = OpeningStream::after_header(server, b"SSH".to_vec());
        assert_eq!(read_all(&mut stream).await.unwrap(), b"SSH-2.0-x\r\n");
    }

    #[tokio::test]
    async fn ssh_passes_the_guard_untouched_even_a_byte_at_a_time() {
        let (mut client, server) = tokio::io::duplex(64);
        let refused = CancellationToken::new();
        let mut stream = OpeningStream::guarded(server, refused.clone());
        let reader = tokio::spawn(async move { read_all(&mut stream).await });
        for byte in b"SSH-2.0-OpenSSH_9.2\r\n" {
            client.write_all(&[*byte]).await.unwrap();
        }
        drop(client);
        assert_eq!(reader.await.unwrap().unwrap(), b"SSH-2.0-OpenSSH_9.2\r\n");
        assert!(!refused.is_cancelled());
    }

    #[tokio::test]
    async fn a_header_through_the_guard_is_refused() {
        for header in [
            &b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\nSSH-2.0-x\r\n"[..],
            b"\r\n\r\n\0\r\nQUIT\n\x21\x11\0\x0c",
        ] {
            let (mut client, server) = tokio::io::duplex(64);
            let refused = CancellationToken::new();
            let mut stream = OpeningStream::guarded(server, refused.clone());
            client.write_all(header).await.unwrap();
            let error = read_all(&mut stream).await.unwrap_err();
            assert_eq!(error.kind(), io::ErrorKind::InvalidData);
            assert!(refused.is_cancelled());
        }
    }

    #[tokio::test]
    async fn a_short_prefix_then_the_end_is_handed_over() {
        let (mut client, server) = tokio::io::duplex(64);
        client.write_all(b"PROX").await.unwrap();
        drop(client);
        let refused = CancellationToken::new();
        let mut stream = OpeningStream::guarded(server, refused.clone());
        assert_eq!(read_all(&mut stream).await.unwrap(), b"PROX");
        assert!(!refused.is_cancelled());
    }
}
