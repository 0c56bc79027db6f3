//! `ssh-chatroom check --cluster URL`: what the cluster looks like from its buckets —
//! the live nodes, the rooms and where each runs, and who is online where.

use std::fmt::Write;

use async_nats::jetstream::kv;
use futures_util::StreamExt;

use super::wire::{Lease, Presence};
use super::{name_of, Cluster};
use crate::config::Config;
use crate::names::Claim;

/// The report, for the cluster in `config.cluster`.
///
/// # Errors
/// NATS cannot be reached, or a bucket cannot be read.
pub async fn report(config: &Config) -> anyhow::Result<String> {
    let mut config = config.clone();
    config.node_name = Some(format!("check-{:04x}", rand::random::<u16>()));
    let cluster = Cluster::connect(&config).await?;
    let nodes: Vec<(String, Presence)> = values(&cluster.nodes).await?;
    let rooms: Vec<(String, Lease)> = values(&cluster.leases).await?;
    let online: Vec<(String, Claim)> = values(&cluster.online).await?;
    let mut out = String::new();
    writeln!(
        out,
        "# cluster {}: {} node(s), {} room(s), {} participant(s)",
        config.cluster.join(","),
        nodes.len(),
        rooms.len(),
        online.len()
    )?;
    for (key, presence) in &nodes {
        let name = name_of(key).unwrap_or_else(|| key.clone());
        writeln!(out, "node {name} (up since {})", presence.since)?;
    }
    for (_, lease) in &rooms {
        let (room, node, n, capacity) = (&lease.room, &lease.node, lease.members, lease.capacity);
        writeln!(out, "room {room} on {node}: {n}/{capacity}")?;
    }
    for (_, claim) in &online {
        writeln!(
            out,
            "participant {} in {} via {}",
            claim.nick, claim.room, claim.node
        )?;
    }
    Ok(out)
}

/// Every entry of `store`, decoded, sorted by key.
async fn values<T: serde::de::DeserializeOwned>(
    store: &kv::Store,
) -> anyhow::Result<Vec<(String, T)>> {
    let mut keys: Vec<String> = Vec::new();
    let mut listed = store.keys().await?;
    while let Some(key) = listed.next().await {
        keys.push(key?);
    }
    keys.sort();
    let mut out = Vec::new();
    for key in keys {
        if let Some(value) = store.get(&key).await? {
            if let Ok(v) = serde_json::from_slice(&value) {
                out.push((key, v));
            }
        }
    }
    Ok(out)
}
