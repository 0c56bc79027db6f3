//! The server admins of a cluster: one list for every room on every node. The last
//! list read by any node (its admins file, at its start or on SIGHUP) is kept in the
//! bucket `chat_cluster`, and every node applies each new one to the rooms it runs and
//! to those it makes or takes over from then on.

use std::collections::HashSet;
use std::sync::Arc;

use async_nats::jetstream::kv;
use futures_util::StreamExt;

use super::placement::Placement;
use super::Cluster;

/// The key of the list in `chat_cluster`.
const KEY: &str = "admin_keys";

/// Makes `keys` the cluster's admins.
///
/// # Errors
/// NATS did not take it.
pub(super) async fn publish(cluster: &Cluster, keys: &HashSet<String>) -> anyhow::Result<()> {
    let mut sorted: Vec<&String> = keys.iter().collect();
    sorted.sort();
    let value = serde_json::to_vec(&sorted)?;
    cluster.settings.put(KEY, value.into()).await?;
    Ok(())
}

/// Applies every list the cluster's nodes publish in `settings` (`chat_cluster`), from
/// the current one on, to the rooms `placement` runs and makes here.
pub(super) async fn follow(settings: kv::Store, placement: Arc<Placement>) {
    let mut watch = match settings.watch_with_history(KEY).await {
        Ok(watch) => watch,
        Err(error) => {
            tracing::warn!(%error, "cannot follow the cluster's admin list");
            return;
        }
    };
    while let Some(entry) = watch.next().await {
        let Ok(entry) = entry else { continue };
        let Ok(keys) = serde_json::from_slice::<HashSet<String>>(&entry.value) else {
            continue;
        };
        placement.set_admin_keys(keys).await;
    }
}
