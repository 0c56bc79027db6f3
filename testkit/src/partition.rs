//! A network fault between one node and NATS: a TCP relay the node connects through,
//! which can cut every connection (and refuse new ones) or silently swallow all bytes
//! both ways while the connections stay open, as a lost route or a dead switch does.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// What the relay does with the traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Pass,
    /// Connections closed, new ones closed at once.
    Cut,
    /// Connections open, every byte either way dropped.
    Swallow,
}

/// A relay to one upstream address, on a free local port.
pub struct Partition {
    addr: SocketAddr,
    mode: Arc<watch::Sender<Mode>>,
}

impl Partition {
    /// A relay to `upstream`, passing traffic. Runs on the caller's tokio runtime.
    ///
    /// # Panics
    /// No local port can be had.
    pub async fn start(upstream: SocketAddr) -> Partition {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mode = Arc::new(watch::Sender::new(Mode::Pass));
        tokio::spawn(accept(listener, upstream, mode.clone()));
        Partition { addr, mode }
    }

    /// A `nats://` URL through the relay.
    pub fn url(&self) -> String {
        format!("nats://{}", self.addr)
    }

    /// Closes every connection and refuses new ones until [`Partition::heal`].
    pub fn cut(&self) {
        self.mode.send_replace(Mode::Cut);
    }

    /// Keeps the connections open but drops every byte either way: neither side can
    /// tell until its pings go unanswered.
    pub fn swallow(&self) {
        self.mode.send_replace(Mode::Swallow);
    }

    /// Passes traffic again (connections cut meanwhile stay closed).
    pub fn heal(&self) {
        self.mode.send_replace(Mode::Pass);
    }
}

async fn accept(listener: TcpListener, upstream: SocketAddr, mode: Arc<watch::Sender<Mode>>) {
    while let Ok((client, _)) = listener.accept().await {
        if *mode.borrow() == Mode::Cut {
            continue;
        }
        let Ok(server) = TcpStream::connect(upstream).await else {
            continue;
        };
        tokio::spawn(relay(client, server, mode.subscribe()));
    }
}

/// Copies both ways until either side closes or the relay is cut; drops what is read
/// while it swallows.
async fn relay(mut a: TcpStream, mut b: TcpStream, mut mode: watch::Receiver<Mode>) {
    let (mut a_buf, mut b_buf) = (vec![0u8; 16 * 1024], vec![0u8; 16 * 1024]);
    loop {
        let now = *mode.borrow_and_update();
        if now == Mode::Cut {
            return;
        }
        tokio::select! {
            read = a.read(&mut a_buf) => match read {
                Ok(0) | Err(_) => return,
                Ok(n) if now == Mode::Pass => if b.write_all(&a_buf[..n]).await.is_err() { return },
                Ok(_) => {}
            },
            read = b.read(&mut b_buf) => match read {
                Ok(0) | Err(_) => return,
                Ok(n) if now == Mode::Pass => if a.write_all(&b_buf[..n]).await.is_err() { return },
                Ok(_) => {}
            },
            changed = mode.changed() => if changed.is_err() { return },
        }
    }
}
