//! A russh client handler that trusts any host key: the harness talks to a server it
//! just started or was pointed at.

use russh::client;
use russh::keys::PublicKeyOrCertificate;

/// Accepts every server key and otherwise keeps russh's default behaviour.
pub struct AcceptAll;

impl client::Handler for AcceptAll {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        _key: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        Ok(true)
    }
}
