//! The queue from a connection's handler to its session task: never awaited by the
//! handler (russh must keep running), and bounded in bytes, because russh keeps reading
//! the socket and re-opening the client's window while the session is stuck writing to
//! a client that does not read. A connection that overflows it is cut.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

use super::SessionEvent;

/// Most bytes of input queued for a session that has been stuck writing to its client
/// for [`STUCK_WRITE`]: a client that sends without reading.
pub const MAX_INPUT_WHILE_NOT_READING: usize = 256 * 1024;
/// Most bytes of input queued for any session: a client that reads but sends faster
/// than its session can take it (a huge paste) still has a ceiling.
pub const MAX_INPUT_QUEUED: usize = 4 * 1024 * 1024;
/// How long a write to the client must have waited to count as the client not reading.
pub const STUCK_WRITE: Duration = Duration::from_secs(1);

/// What an event costs against the bound besides its bytes, so a flood of empty events
/// (resizes) is bounded too.
const EVENT_COST: usize = 64;

fn cost(event: &SessionEvent) -> usize {
    match event {
        SessionEvent::Data(bytes) => EVENT_COST + bytes.len(),
        _ => EVENT_COST,
    }
}

/// What both ends see.
struct Shared {
    /// Bytes queued and not yet taken by the session.
    queued: AtomicUsize,
    /// Milliseconds after `epoch` at which the session's current write to the client
    /// began, plus one; 0 while it is not writing.
    writing_since: AtomicU64,
    epoch: Instant,
}

impl Shared {
    fn stuck_writing(&self) -> bool {
        let since = self.writing_since.load(Ordering::Acquire);
        since != 0 && self.epoch.elapsed() >= Duration::from_millis(since - 1) + STUCK_WRITE
    }
}

/// A queue whose sender refuses past the limits above.
pub fn event_queue() -> (EventSender, EventReceiver) {
    let (tx, rx) = mpsc::unbounded_channel();
    let shared = Arc::new(Shared {
        queued: AtomicUsize::new(0),
        writing_since: AtomicU64::new(0),
        epoch: Instant::now(),
    });
    let sender = EventSender {
        tx,
        shared: shared.clone(),
    };
    (sender, EventReceiver { rx, shared })
}

/// Why a connection's input was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overflow {
    /// Bytes that were queued.
    pub queued: usize,
    /// The session was stuck writing to a client that does not read.
    pub not_reading: bool,
}

/// The handler's end.
pub struct EventSender {
    tx: mpsc::UnboundedSender<SessionEvent>,
    shared: Arc<Shared>,
}

impl EventSender {
    /// Queues `event` without waiting.
    ///
    /// # Errors
    /// The event would take the queue past its limit (and is not queued).
    pub fn send(&self, event: SessionEvent) -> Result<(), Overflow> {
        let cost = cost(&event);
        let before = self.shared.queued.fetch_add(cost, Ordering::AcqRel);
        let after = before + cost;
        if after > MAX_INPUT_WHILE_NOT_READING {
            let not_reading = self.shared.stuck_writing();
            if not_reading || after > MAX_INPUT_QUEUED {
                self.shared.queued.fetch_sub(cost, Ordering::AcqRel);
                return Err(Overflow {
                    queued: before,
                    not_reading,
                });
            }
        }
        if self.tx.send(event).is_err() {
            // The session has ended: nothing waits for this event.
            self.shared.queued.fetch_sub(cost, Ordering::AcqRel);
        }
        Ok(())
    }
}

/// The session task's end.
pub struct EventReceiver {
    rx: mpsc::UnboundedReceiver<SessionEvent>,
    shared: Arc<Shared>,
}

impl EventReceiver {
    /// The next event; `None` once the handler is gone and the queue is empty.
    pub async fn recv(&mut self) -> Option<SessionEvent> {
        let event = self.rx.recv().await?;
        self.shared.queued.fetch_sub(cost(&event), Ordering::AcqRel);
        Some(event)
    }

    /// Something to hold for as long as a write to the client lasts.
    pub fn write_watch(&self) -> WriteWatch {
        WriteWatch(self.shared.clone())
    }
}

/// Tells the queue when the session is writing to its client.
pub struct WriteWatch(Arc<Shared>);

impl WriteWatch {
    /// Marks a write as under way until the returned guard is dropped.
    pub fn writing(&self) -> impl Drop + '_ {
        let since = self.0.epoch.elapsed().as_millis() as u64 + 1;
        self.0.writing_since.store(since, Ordering::Release);
        WriteGuard(&self.0)
    }
}

struct WriteGuard<'a>(&'a Shared);

impl Drop for WriteGuard<'_> {
    fn drop(&mut self) {
        self.0.writing_since.store(0, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(len: usize) -> SessionEvent {
        SessionEvent::Data(vec![b'a'; len])
    }

    #[tokio::test(start_paused = true)]
    async fn a_session_stuck_writing_refuses_past_the_small_bound() {
        let (tx, rx) = event_queue();
        let watch = rx.write_watch();
        let _writing = watch.writing();
        for _ in 0..8 {
            assert_eq!(tx.send(data(32 * 1024 - 64)), Ok(()));
        }
        // Past 256 KiB, but the write has only just begun: the client may yet read.
        assert_eq!(tx.send(data(1000)), Ok(()));
        tokio::time::advance(STUCK_WRITE).await;
        let refused = tx.send(data(1000)).unwrap_err();
        assert_eq!(
            (refused.queued, refused.not_reading),
            (256 * 1024 + 1064, true)
        );
    }

    #[tokio::test]
    async fn a_reading_client_may_queue_up_to_the_ceiling_and_taking_frees_room() {
        let (tx, mut rx) = event_queue();
        let chunk = 64 * 1024 - 64;
        for _ in 0..64 {
            assert_eq!(tx.send(data(chunk)), Ok(()));
        }
        let refused = tx.send(data(chunk)).unwrap_err();
        assert_eq!(
            (refused.queued, refused.not_reading),
            (MAX_INPUT_QUEUED, false)
        );
        assert!(tx.send(SessionEvent::Eof).is_err(), "full is full");
        assert!(matches!(rx.recv().await, Some(SessionEvent::Data(_))));
        assert_eq!(tx.send(data(chunk)), Ok(()));
    }
}
