//! A session's SSH channel, written only by its session task.

use std::time::Duration;

use russh::server::Handle;
use russh::ChannelId;
use tokio_util::sync::CancellationToken;

use crate::ssh::{EventReceiver, WriteWatch};

/// How long a closed session waits for the client to hang up before cutting it.
const CLOSE_WAIT: Duration = Duration::from_secs(5);

/// The channel and what it takes to write to it safely.
pub(super) struct Channel {
    pub handle: Handle,
    pub id: ChannelId,
    pub kill: CancellationToken,
    /// Tells the input queue when a write is waiting on the client.
    pub watch: WriteWatch,
}

impl Channel {
    /// Writes `text`; false once the connection is gone or being cut.
    pub async fn write(&self, text: String) -> bool {
        if text.is_empty() {
            return true;
        }
        let _writing = self.watch.writing();
        // The write nearly always completes at once: try it first, so the kill token is
        // only waited on when russh's queue is full.
        tokio::select! {
            biased;
            result = self.handle.data(self.id, text.into_bytes()) => result.is_ok(),
            () = self.kill.cancelled() => false,
        }
    }

    /// Writes `text` to the client's stderr (SSH extended data 1); false once the
    /// connection is gone or being cut.
    pub async fn write_stderr(&self, text: String) -> bool {
        let _writing = self.watch.writing();
        tokio::select! {
            biased;
            result = self.handle.extended_data(self.id, 1, text.into_bytes()) => result.is_ok(),
            () = self.kill.cancelled() => false,
        }
    }

    /// Ends the channel the way OpenSSH expects (exit status, EOF, close), then waits a
    /// little for the client to hang up before cutting the connection.
    pub async fn finish(&self, status: u32, events: &mut EventReceiver) {
        let close = async {
            let _ = self.handle.exit_status_request(self.id, status).await;
            let _ = self.handle.eof(self.id).await;
            let _ = self.handle.close(self.id).await;
            while events.recv().await.is_some() {}
        };
        tokio::select! {
            _ = tokio::time::timeout(CLOSE_WAIT, close) => {}
            () = self.kill.cancelled() => {}
        }
        self.kill.cancel();
    }
}
