//! `ssh-chatroom check --cluster URL`: what the cluster looks like from its buckets —
//! the live nodes, the rooms and where each runs, and who is online where. It only
//! reads: no bucket is made or changed, and a cluster no node has run yet is empty.

use std::fmt::Write;
use std::time::Duration;

use anyhow::Context as _;
use async_nats::jetstream;
use futures_util::StreamExt;

use super::wire::{Lease, Presence};
use super::{name_of, LEASES, NODES, ONLINE};
use crate::config::Config;
use crate::names::Claim;

/// How long the check waits for NATS.
const CONNECT_WITHIN: Duration = Duration::from_secs(10);

/// The report, for the cluster in `config.cluster`.
///
/// # Errors
/// NATS cannot be reached, or a bucket cannot be read.
pub async fn report(config: &Config) -> anyhow::Result<String> {
    let urls = config.cluster.join(",");
    let mut options = async_nats::ConnectOptions::new()
        .name("ssh-chatroom check")
        .connection_timeout(CONNECT_WITHIN);
    if let Some(path) = &config.cluster_creds {
        options = options
            .credentials_file(path)
            .await
            .with_context(|| format!("reading NATS credentials {}", path.display()))?;
    }
    let client = options
        .connect(super::setup::addresses(&config.cluster)?.as_slice())
        .await
        .with_context(|| format!("connecting to NATS at {urls}"))?;
    let js = jetstream::new(client);
    let mut streams = Vec::new();
    let mut names = js.stream_names();
    while let Some(name) = names.next().await {
        streams.push(name.context("listing the JetStream streams")?);
    }
    let made = |bucket: &str| streams.iter().any(|s| *s == format!("KV_{bucket}"));
    let nodes: Vec<(String, Presence)> = values(&js, NODES, made(NODES)).await?;
    let rooms: Vec<(String, Lease)> = values(&js, LEASES, made(LEASES)).await?;
    let online: Vec<(String, Claim)> = values(&js, ONLINE, made(ONLINE)).await?;
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

/// Every entry of bucket `bucket`, decoded, sorted by key; none if it was not `made`.
async fn values<T: serde::de::DeserializeOwned>(
    js: &jetstream::Context,
    bucket: &str,
    made: bool,
) -> anyhow::Result<Vec<(String, T)>> {
    if !made {
        return Ok(Vec::new());
    }
    let store = js
        .get_key_value(bucket)
        .await
        .with_context(|| format!("opening the bucket {bucket}"))?;
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
