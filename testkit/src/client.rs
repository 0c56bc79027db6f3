//! A russh client handler that trusts any host key and hands everything the server
//! writes to an [`Output`], from inside the russh client task as each packet is read (no
//! extra task hop): the bench's sessions and the chaos soak's users are built on it.

use std::sync::{Arc, Mutex};

use russh::client;
use russh::keys::PublicKeyOrCertificate;
use russh::ChannelId;

/// Where a session's output goes.
pub trait Output: Send + 'static {
    /// Bytes the server wrote to the session channel.
    fn data(&mut self, data: &[u8]);
    /// The server sent EOF or closed the channel.
    fn closed(&mut self);
    /// The connection ended without a close (a killed server); nothing by default.
    fn disconnected(&mut self) {}
}

/// Shared so that a driver can read what the session task collected.
impl<T: Output> Output for Arc<Mutex<T>> {
    fn data(&mut self, data: &[u8]) {
        self.lock().expect("no panics while locked").data(data);
    }
    fn closed(&mut self) {
        self.lock().expect("no panics while locked").closed();
    }
    fn disconnected(&mut self) {
        self.lock().expect("no panics while locked").disconnected();
    }
}

/// The client handler of a session: trusts any host key and passes output on.
pub struct Client<O>(pub O);

impl<O: Output> client::Handler for Client<O> {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        _key: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        Ok(true)
    }

    async fn data(
        &mut self,
        _channel: ChannelId,
        data: &[u8],
        _session: &mut client::Session,
    ) -> Result<(), Self::Error> {
        self.0.data(data);
        Ok(())
    }

    async fn channel_eof(
        &mut self,
        _channel: ChannelId,
        _session: &mut client::Session,
    ) -> Result<(), Self::Error> {
        self.0.closed();
        Ok(())
    }

    async fn channel_close(
        &mut self,
        _channel: ChannelId,
        _session: &mut client::Session,
    ) -> Result<(), Self::Error> {
        self.0.closed();
        Ok(())
    }

    async fn disconnected(
        &mut self,
        reason: client::DisconnectReason<Self::Error>,
    ) -> Result<(), Self::Error> {
        self.0.disconnected();
        match reason {
            client::DisconnectReason::ReceivedDisconnect(_) => Ok(()),
            client::DisconnectReason::Error(e) => Err(e),
        }
    }
}
