//! The `--metrics` endpoint: a minimal HTTP/1.x server on its own task that answers
//! `GET /metrics` (the Prometheus text format) and `GET /healthz` (200 while the server
//! accepts and, in a cluster, NATS is connected; 503 otherwise), one request per
//! connection. Bounded everywhere: at most [`MAX_SCRAPES`] connections at once (more are
//! closed at once), [`MAX_REQUEST_BYTES`] of request head, [`REQUEST_TIMEOUT`] for the
//! whole exchange, so a flood of scrapes never slows the chat.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use super::Metrics;

/// Scrape connections served at once; more are closed unanswered.
pub const MAX_SCRAPES: usize = 16;
/// Longest request head (request line and headers) read.
pub const MAX_REQUEST_BYTES: usize = 8 * 1024;
/// Longest time a scrape connection may take, from accept to the last byte written.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// Whether the server is fit to be sent connections.
#[derive(Clone)]
pub struct Health {
    /// Cancelled when the server starts shutting down.
    stopping: CancellationToken,
    /// Set on a cluster node: whether it is in contact with NATS (it is healthy only
    /// while it is).
    in_contact: Option<InContact>,
}

/// Tells whether a cluster node is in contact with the others now.
pub type InContact = Arc<dyn Fn() -> bool + Send + Sync>;

impl Health {
    /// Healthy until `stopping` is cancelled, and while `in_contact` (if any) says so.
    pub fn new(stopping: CancellationToken, in_contact: Option<InContact>) -> Health {
        Health {
            stopping,
            in_contact,
        }
    }

    /// Whether the server accepts connections and can serve them.
    pub fn ok(&self) -> bool {
        !self.stopping.is_cancelled()
            && self
                .in_contact
                .as_ref()
                .is_none_or(|in_contact| in_contact())
    }
}

/// Serves `listener` until `stop` is cancelled.
pub async fn serve(
    listener: TcpListener,
    metrics: Arc<Metrics>,
    health: Health,
    stop: CancellationToken,
) {
    let slots = Arc::new(Semaphore::new(MAX_SCRAPES));
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = stop.cancelled() => return,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(error) => {
                tracing::warn!(%error, "metrics: accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        // Over the cap: closed at once, before reading a byte.
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            continue;
        };
        let (metrics, health) = (metrics.clone(), health.clone());
        tokio::spawn(async move {
            let _slot = slot;
            let _ = tokio::time::timeout(REQUEST_TIMEOUT, answer(stream, &metrics, &health)).await;
        });
    }
}

/// Reads one request head and writes one response.
async fn answer(mut stream: TcpStream, metrics: &Metrics, health: &Health) {
    let Some(head) = read_head(&mut stream).await else {
        let _ = stream
            .write_all(&response(400, "text/plain", "bad request\n"))
            .await;
        return;
    };
    let (status, kind, body) = route(&head, metrics, health);
    let _ = stream.write_all(&response(status, kind, &body)).await;
    let _ = stream.shutdown().await;
}

/// What to answer to the request whose head is `head`.
fn route(head: &str, metrics: &Metrics, health: &Health) -> (u16, &'static str, String) {
    let mut words = head.split_ascii_whitespace();
    let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let path = target.split('?').next().unwrap_or("");
    let text = "text/plain; charset=utf-8";
    match (method, path) {
        ("GET", "/metrics") => (200, METRICS_TYPE, metrics.encode()),
        ("GET", "/healthz") if health.ok() => (200, text, "ok\n".into()),
        ("GET", "/healthz") => (503, text, "unavailable\n".into()),
        ("GET", _) => (404, text, "not found\n".into()),
        _ => (405, text, "method not allowed\n".into()),
    }
}

const METRICS_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// The request head up to its blank line (read whole, so that closing after the answer
/// does not reset the connection under the client), or `None` if it is too long, cut
/// short or not text.
async fn read_head(stream: &mut TcpStream) -> Option<String> {
    let mut head = Vec::with_capacity(512);
    let mut chunk = [0u8; 1024];
    loop {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        head.extend_from_slice(&chunk[..n]);
        if head.windows(4).any(|w| w == b"\r\n\r\n") || head.windows(2).any(|w| w == b"\n\n") {
            return String::from_utf8(head).ok();
        }
        if head.len() > MAX_REQUEST_BYTES {
            return None;
        }
    }
}

fn response(status: u16, kind: &str, body: &str) -> Vec<u8> {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        _ => "Service Unavailable",
    };
    let mut out = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body.as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_answer_by_path_and_health() {
        let metrics = Metrics::new(false);
        let stopping = CancellationToken::new();
        let health = Health::new(stopping.clone(), None);
        let status = |head: &str| route(head, &metrics, &health).0;
        assert_eq!(status("GET /metrics HTTP/1.1\r\n\r\n"), 200);
        assert_eq!(status("GET /metrics?x=1 HTTP/1.0\r\n\r\n"), 200);
        assert_eq!(status("GET /healthz HTTP/1.1\r\n\r\n"), 200);
        assert_eq!(status("GET / HTTP/1.1\r\n\r\n"), 404);
        assert_eq!(status("POST /metrics HTTP/1.1\r\n\r\n"), 405);
        stopping.cancel();
        assert_eq!(status("GET /healthz HTTP/1.1\r\n\r\n"), 503);
    }
}
