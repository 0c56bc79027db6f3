//! The cluster's side of [`PreferenceStore`]: each key's settings (SPEC §12) as one
//! value of the `chat_preferences` bucket, under the key's fingerprint in hex, so a
//! person's settings follow them to whichever node they connect to.

use std::time::Duration;

use async_nats::jetstream::kv;
use futures_util::future::BoxFuture;

use super::key_of;
use crate::preferences::{PreferenceStore, Settings, Unavailable};

/// The bucket of remembered settings.
const PREFERENCES: &str = "chat_preferences";

/// Settings in the cluster's bucket; clones share it.
#[derive(Clone)]
pub struct ClusterPreferences {
    kept: kv::Store,
}

fn unavailable(error: impl std::fmt::Display) -> Unavailable {
    tracing::warn!(%error, "the cluster's preference store did not answer");
    Unavailable
}

impl ClusterPreferences {
    /// Opens (or makes) the bucket of `cluster`, with `replicas` copies.
    ///
    /// # Errors
    /// NATS did not make or open it in time.
    pub async fn open(cluster: &super::Cluster, replicas: usize) -> anyhow::Result<Self> {
        let config = kv::Config {
            bucket: PREFERENCES.to_string(),
            history: 1,
            max_age: Duration::ZERO,
            num_replicas: replicas.max(1),
            ..Default::default()
        };
        let js = super::retry::setup_context(&cluster.client);
        let deadline = tokio::time::Instant::now() + super::retry::BUCKETS_WITHIN;
        let kept = super::retry::open_bucket(&js, config, &cluster.node, deadline).await?;
        Ok(ClusterPreferences { kept })
    }

    async fn load_now(&self, key: &str) -> Result<Option<Settings>, Unavailable> {
        let value = self.kept.get(key_of(key)).await.map_err(unavailable)?;
        Ok(value.and_then(|v| serde_json::from_slice(&v).ok()))
    }

    async fn save_now(&self, key: &str, settings: Settings) -> Result<(), Unavailable> {
        let value = serde_json::to_vec(&settings).map_err(unavailable)?;
        self.kept
            .put(key_of(key), value.into())
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn forget_now(&self, key: &str) -> Result<(), Unavailable> {
        self.kept.purge(key_of(key)).await.map_err(unavailable)
    }
}

impl PreferenceStore for ClusterPreferences {
    fn load<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Settings>, Unavailable>> {
        Box::pin(self.load_now(key))
    }

    fn save<'a>(
        &'a self,
        key: &'a str,
        settings: Settings,
    ) -> BoxFuture<'a, Result<(), Unavailable>> {
        Box::pin(self.save_now(key, settings))
    }

    fn forget<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), Unavailable>> {
        Box::pin(self.forget_now(key))
    }
}
