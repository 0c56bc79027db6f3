//! The queue from a connection's handler to its session task: never awaited by the
//! handler (russh must keep running), and bounded in bytes, because russh keeps reading
//! the socket and re-opening the client's window while the session is stuck writing to
//! a client that does not read. A connection that overflows it is cut.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::sync::mpsc;

use super::SessionEvent;

/// Most bytes of input a connection may have sent that its session has not taken yet.
/// A person typing or pasting never comes near it: the session takes input as fast as
/// it arrives unless the client stopped reading what it is sent.
pub const MAX_UNPROCESSED_INPUT: usize = 256 * 1024;

/// What an event costs against the bound besides its bytes, so a flood of empty events
/// (resizes) is bounded too.
const EVENT_COST: usize = 64;

fn cost(event: &SessionEvent) -> usize {
    match event {
        SessionEvent::Data(bytes) => EVENT_COST + bytes.len(),
        _ => EVENT_COST,
    }
}

/// A queue of at most `limit` bytes' worth of events.
pub fn event_queue(limit: usize) -> (EventSender, EventReceiver) {
    let (tx, rx) = mpsc::unbounded_channel();
    let queued = Arc::new(AtomicUsize::new(0));
    let sender = EventSender {
        tx,
        queued: queued.clone(),
        limit,
    };
    (sender, EventReceiver { rx, queued })
}

/// The handler's end.
pub struct EventSender {
    tx: mpsc::UnboundedSender<SessionEvent>,
    queued: Arc<AtomicUsize>,
    limit: usize,
}

impl EventSender {
    /// Queues `event` without waiting.
    ///
    /// # Errors
    /// The bytes already queued, when `event` would take the queue past its limit (the
    /// event is not queued).
    pub fn send(&self, event: SessionEvent) -> Result<(), usize> {
        let cost = cost(&event);
        let before = self.queued.fetch_add(cost, Ordering::AcqRel);
        if before + cost > self.limit {
            self.queued.fetch_sub(cost, Ordering::AcqRel);
            return Err(before);
        }
        if self.tx.send(event).is_err() {
            // The session has ended: nothing waits for this event.
            self.queued.fetch_sub(cost, Ordering::AcqRel);
        }
        Ok(())
    }
}

/// The session task's end.
pub struct EventReceiver {
    rx: mpsc::UnboundedReceiver<SessionEvent>,
    queued: Arc<AtomicUsize>,
}

impl EventReceiver {
    /// The next event; `None` once the handler is gone and the queue is empty.
    pub async fn recv(&mut self) -> Option<SessionEvent> {
        let event = self.rx.recv().await?;
        self.queued.fetch_sub(cost(&event), Ordering::AcqRel);
        Some(event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_queue_refuses_past_its_bytes_and_frees_what_is_taken() {
        let (tx, mut rx) = event_queue(1000);
        for _ in 0..3 {
            assert_eq!(tx.send(SessionEvent::Data(vec![b'a'; 200])), Ok(()));
        }
        // 3 × 264 queued; another 264 would make 1056.
        assert_eq!(tx.send(SessionEvent::Data(vec![b'a'; 200])), Err(792));
        assert!(tx.send(SessionEvent::Eof).is_ok(), "a small event still fits");
        assert!(matches!(rx.recv().await, Some(SessionEvent::Data(_))));
        assert_eq!(tx.send(SessionEvent::Data(vec![b'a'; 200])), Ok(()));
        assert_eq!(tx.queued.load(Ordering::Acquire), 3 * 264 + 64);
    }
}
