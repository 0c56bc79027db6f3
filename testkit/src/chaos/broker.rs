//! The soak's NATS: one `nats-server`, or three as one NATS cluster; any one of them
//! SIGKILLed and started again on the same port and folder. Starting and stopping them
//! blocks, so it runs on tokio's blocking threads.

use std::path::Path;

use crate::{NatsCluster, NatsServer};

/// One NATS server or three, each taken out while it is being killed or restarted.
pub struct Broker {
    servers: Vec<Option<NatsServer>>,
}

impl Broker {
    /// One server (`three` false) or a cluster of three, their files under `dir`.
    ///
    /// # Errors
    /// The servers do not start (no `nats-server`, no JetStream leader within 20 s).
    pub async fn start(dir: &Path, three: bool) -> anyhow::Result<Broker> {
        let dir = dir.to_path_buf();
        let servers = tokio::task::spawn_blocking(move || match three {
            true => NatsCluster::start(&dir).servers,
            false => vec![NatsServer::start(&dir.join("nats"))],
        })
        .await?;
        Ok(Broker {
            servers: servers.into_iter().map(Some).collect(),
        })
    }

    /// Every server's `nats://127.0.0.1:PORT`.
    pub fn urls(&self) -> Vec<String> {
        self.servers.iter().flatten().map(NatsServer::url).collect()
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
    /// Server `i` is being handled elsewhere, or the blocking task failed.
    pub async fn kill(&mut self, i: usize) -> anyhow::Result<()> {
        self.blocking(i, NatsServer::kill).await
    }

    /// Starts server `i` again on its port and folder; returns once it listens.
    ///
    /// # Errors
    /// As [`Broker::kill`]; a server that does not come back panics in its task.
    pub async fn restart(&mut self, i: usize) -> anyhow::Result<()> {
        self.blocking(i, NatsServer::restart).await
    }

    async fn blocking(&mut self, i: usize, f: fn(&mut NatsServer)) -> anyhow::Result<()> {
        let mut server = self.servers[i]
            .take()
            .ok_or_else(|| anyhow::anyhow!("NATS server {i} is elsewhere"))?;
        let server = tokio::task::spawn_blocking(move || {
            f(&mut server);
            server
        })
        .await?;
        self.servers[i] = Some(server);
        Ok(())
    }
}
