//! The cluster's side of the ban store ([`BanStore`]): every ban a key of the bucket
//! `chat_bans`. Every node watches the bucket and keeps its [`BanList`] current from it,
//! so a ban made on one node refuses its people on every node within moments, and the
//! rooms each node runs put them out.

use async_nats::jetstream::kv::{self, Operation};
use futures_util::future::BoxFuture;
use futures_util::StreamExt;

use crate::bans::{Ban, BanList, BanStore, NotKept};

/// The bans in the cluster's bucket.
pub struct ClusterBans {
    store: kv::Store,
}

fn not_kept(error: impl std::fmt::Display) -> NotKept {
    tracing::warn!(%error, "the cluster's ban store did not answer");
    NotKept
}

impl ClusterBans {
    /// The bans of `cluster`.
    pub fn open(cluster: &super::Cluster) -> ClusterBans {
        ClusterBans {
            store: cluster.bans.clone(),
        }
    }

    /// Keeps `list` current from the bucket: every ban kept now, then every change.
    ///
    /// # Errors
    /// The bucket cannot be watched.
    pub async fn follow(&self, list: BanList) -> anyhow::Result<()> {
        let deadline = tokio::time::Instant::now() + super::retry::BUCKETS_WITHIN;
        let what = "watching the JetStream bucket chat_bans";
        let store = &self.store;
        let mut watch =
            super::retry::set_up(deadline, "", what, || store.watch_with_history(">")).await?;
        tokio::spawn(async move {
            while let Some(entry) = watch.next().await {
                let Ok(entry) = entry else { continue };
                match entry.operation {
                    Operation::Put => match serde_json::from_slice::<Ban>(&entry.value) {
                        Ok(ban) => list.applied(ban),
                        Err(error) => tracing::warn!(%error, key = entry.key, "a damaged ban"),
                    },
                    Operation::Delete | Operation::Purge => {
                        list.removed(&entry.key);
                    }
                }
            }
        });
        Ok(())
    }
}

impl BanStore for ClusterBans {
    fn put<'a>(&'a self, id: &'a str, ban: &'a Ban) -> BoxFuture<'a, Result<(), NotKept>> {
        Box::pin(async move {
            let value = serde_json::to_vec(ban).map_err(not_kept)?;
            self.store.put(id, value.into()).await.map_err(not_kept)?;
            Ok(())
        })
    }

    fn delete<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<(), NotKept>> {
        Box::pin(async move { self.store.delete(id).await.map_err(not_kept) })
    }
}
