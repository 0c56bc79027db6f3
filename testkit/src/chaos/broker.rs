//! The soak's NATS: one `nats-server`, or three as one NATS cluster; any one of them
//! SIGKILLed and started again on the same port and folder.

use std::path::Path;

use crate::{NatsCluster, NatsServer};

/// One NATS server or three.
pub struct Broker {
    servers: Vec<NatsServer>,
}

impl Broker {
    /// One server (`three` false) or a cluster of three, their files under `dir`.
    ///
    /// # Errors
    /// The servers do not start (no `nats-server`, no JetStream leader within 20 s).
    pub async fn start(dir: &Path, three: bool) -> anyhow::Result<Broker> {
        let servers = match three {
            true => NatsCluster::start(dir).await.servers,
            false => vec![NatsServer::start(&dir.join("nats")).await],
        };
        Ok(Broker { servers })
    }

    /// Every server's `nats://127.0.0.1:PORT`.
    pub fn urls(&self) -> Vec<String> {
        self.servers.iter().map(NatsServer::url).collect()
    }

    /// How many servers there are.
    pub fn len(&self) -> usize {
        self.servers.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.servers.is_empty()
    }

    /// SIGKILLs server `i`.
    ///
    /// # Errors
    /// There is no server `i`.
    pub async fn kill(&mut self, i: usize) -> anyhow::Result<()> {
        self.server(i)?.kill();
        Ok(())
    }

    /// Starts server `i` again on its port and folder; returns once it listens.
    ///
    /// # Errors
    /// As [`Broker::kill`].
    ///
    /// # Panics
    /// The server does not listen again within 10 s.
    pub async fn restart(&mut self, i: usize) -> anyhow::Result<()> {
        self.server(i)?.restart().await;
        Ok(())
    }

    fn server(&mut self, i: usize) -> anyhow::Result<&mut NatsServer> {
        self.servers
            .get_mut(i)
            .ok_or_else(|| anyhow::anyhow!("there is no NATS server {i}"))
    }
}
