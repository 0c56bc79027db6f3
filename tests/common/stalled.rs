//! A participant that joins and then never reads again, like a client that was
//! SIGSTOPped.

use std::sync::Arc;

use russh::client;
use russh::keys::PrivateKeyWithHashAlg;
use testkit::Freezable;

use super::{user_key, AcceptAll};

/// A participant that joins and then never reads another byte from its socket.
pub struct StalledClient {
    _session: client::Handle<AcceptAll>,
    _channel: russh::Channel<client::Msg>,
}

impl StalledClient {
    pub async fn join(port: u16, user: &str) -> StalledClient {
        let config = Arc::new(client::Config {
            window_size: 4096,
            ..Default::default()
        });
        let frozen = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .unwrap();
        let stream = Freezable {
            inner: tcp,
            frozen: frozen.clone(),
        };
        let mut session = client::connect_stream(config, stream, AcceptAll)
            .await
            .expect("connects");
        let key = PrivateKeyWithHashAlg::new(Arc::new(user_key()), None);
        assert!(session
            .authenticate_publickey(user, key)
            .await
            .unwrap()
            .success());
        let channel = session.channel_open_session().await.unwrap();
        channel
            .request_pty(true, "xterm", 80, 24, 0, 0, &[])
            .await
            .unwrap();
        channel.request_shell(true).await.unwrap();
        frozen.store(true, std::sync::atomic::Ordering::SeqCst);
        StalledClient {
            _session: session,
            _channel: channel,
        }
    }
}
