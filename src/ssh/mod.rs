//! The SSH edge: the russh handler that turns callbacks into session events, and the
//! per-participant session task that owns the terminal and talks to the room.

mod deps;
pub mod handler;
mod input;
pub mod pace;
pub mod session;

pub use deps::SessionDeps;
pub use input::{event_queue, EventReceiver, EventSender, Overflow, WriteWatch};

/// What the handler tells its session task, in arrival order.
#[derive(Debug)]
pub enum SessionEvent {
    /// Bytes typed by the user.
    Data(Vec<u8>),
    /// The terminal was resized.
    Resize { cols: u32, rows: u32 },
    /// The client sent EOF (end of piped input).
    Eof,
    /// The client closed the channel.
    Close,
}

/// The pty the client asked for.
#[derive(Debug, Clone)]
pub struct PtyInfo {
    pub term: String,
    pub cols: u32,
    pub rows: u32,
}
