//! A client's TCP stream that the server can cut. Once its token is cancelled every read
//! and write fails, so the SSH session that owns the stream ends and closes the socket,
//! even while it is blocked writing to a client that stopped reading. This needs no
//! second file descriptor per connection.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

/// A [`TcpStream`] that fails with `ConnectionAborted` once `cut` is cancelled.
pub struct CuttableStream {
    inner: TcpStream,
    /// Polled before each read and write: that also registers the owning task to be
    /// woken when the stream is cut, wherever it is waiting.
    cut: Pin<Box<WaitForCancellationFutureOwned>>,
}

impl CuttableStream {
    pub fn new(inner: TcpStream, cut: CancellationToken) -> CuttableStream {
        CuttableStream {
            inner,
            cut: Box::pin(cut.cancelled_owned()),
        }
    }

    fn check(&mut self, cx: &mut Context<'_>) -> io::Result<()> {
        match self.cut.as_mut().poll(cx) {
            Poll::Ready(()) => Err(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "connection cut by the server",
            )),
            Poll::Pending => Ok(()),
        }
    }
}

impl AsyncRead for CuttableStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.check(cx)?;
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for CuttableStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.check(cx)?;
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.check(cx)?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    /// A writer blocked on a peer that never reads fails as soon as it is cut.
    #[tokio::test]
    async fn cutting_ends_a_write_blocked_on_a_peer_that_never_reads() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (client, accepted) = tokio::join!(TcpStream::connect(addr), listener.accept());
        let _client = client.unwrap();
        let cut = CancellationToken::new();
        let mut stream = CuttableStream::new(accepted.unwrap().0, cut.clone());
        let (blocked_tx, blocked) = tokio::sync::oneshot::channel();
        let writer = tokio::spawn(async move {
            let chunk = vec![0u8; 64 * 1024];
            // Fill both socket buffers until a write stops making progress.
            loop {
                let wait = std::time::Duration::from_millis(100);
                match tokio::time::timeout(wait, stream.write_all(&chunk)).await {
                    Ok(Ok(())) => continue,
                    Ok(Err(error)) => return error.kind(),
                    Err(_) => break,
                }
            }
            let _ = blocked_tx.send(());
            stream.write_all(&chunk).await.unwrap_err().kind()
        });
        let wait = std::time::Duration::from_secs(10);
        tokio::time::timeout(wait, blocked)
            .await
            .expect("the writer blocks on the full buffers")
            .unwrap();
        cut.cancel();
        let kind = tokio::time::timeout(std::time::Duration::from_secs(10), writer)
            .await
            .expect("the cut ends the blocked write")
            .unwrap();
        assert_eq!(kind, io::ErrorKind::ConnectionAborted);
    }

    #[tokio::test]
    async fn reads_pass_through_until_cut() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (client, accepted) = tokio::join!(TcpStream::connect(addr), listener.accept());
        let mut client = client.unwrap();
        let cut = CancellationToken::new();
        let mut stream = CuttableStream::new(accepted.unwrap().0, cut.clone());
        client.write_all(b"hi").await.unwrap();
        let mut buf = [0u8; 2];
        stream.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"hi");
        cut.cancel();
        let error = stream.read(&mut buf).await.unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::ConnectionAborted);
    }
}
