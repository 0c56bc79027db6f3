//! What a node checks before it joins a cluster (issue 16), each refusal one line that
//! says what to do: the `--cluster` addresses are NATS addresses (read before anything
//! is written, the host key included); NATS answers within [`START_WITHIN`], however
//! often it comes and goes meanwhile; JetStream is on; the host key is the cluster's
//! (the first node records its fingerprint); and no live process runs under this
//! `--node-name` (a previous run that was killed is waited out, at most a lease).

use std::path::Path;
use std::time::Duration;

use anyhow::{anyhow, bail, Context as _};
use async_nats::jetstream::context::AccountErrorKind;
use async_nats::jetstream::kv::{CreateErrorKind, Operation};
use async_nats::ServerAddr;
use bytes::Bytes;
use tokio::time::Instant;

use super::nodes::GRACE;
use super::retry::{self, within, Again};
use super::wire::{Presence, WIRE_VERSION};
use super::{key_of, Cluster, LEASE, RENEW_EVERY};
use crate::config::Config;
use crate::keys::{fingerprint, load_or_generate_host_key};

/// How long a starting node tries to reach NATS (and have its buckets answered) before
/// it gives up with an error.
pub const START_WITHIN: Duration = Duration::from_secs(10);
/// The key of the cluster's host key fingerprint in the `chat_cluster` bucket.
const HOST_KEY: &str = "host_key";

/// The NATS addresses of `--cluster`.
///
/// # Errors
/// One of them is not a NATS address; the line names it.
pub fn addresses(urls: &[String]) -> anyhow::Result<Vec<ServerAddr>> {
    urls.iter().map(|url| address(url)).collect()
}

fn address(url: &str) -> anyhow::Result<ServerAddr> {
    let bad = |why: String| {
        anyhow!("--cluster {url:?} is not a NATS address ({why}); give nats://HOST:PORT, e.g. nats://127.0.0.1:4222")
    };
    let addr: ServerAddr = url
        .parse()
        .map_err(|e: std::io::Error| bad(e.to_string()))?;
    let parsed = addr.clone().into_inner();
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(bad("no host".into()));
    }
    if !matches!(parsed.path(), "" | "/") || parsed.query().is_some() {
        return Err(bad(format!("unexpected path {:?}", parsed.path())));
    }
    Ok(addr)
}

/// Refuses a NATS server without JetStream.
///
/// # Errors
/// JetStream is off ("start it with -js"), or NATS did not answer by `deadline`.
pub(super) async fn require_jetstream(
    client: &async_nats::Client,
    js: &async_nats::jetstream::Context,
    urls: &str,
    deadline: Instant,
) -> anyhow::Result<()> {
    let no_jetstream = || {
        anyhow!("NATS at {urls} has no JetStream, which the cluster needs: start nats-server with -js (or a jetstream block in its config)")
    };
    within(deadline, urls, "asking for JetStream", || async {
        match js.query_account().await {
            Ok(_) => Ok(Ok(())),
            Err(e) => match e.kind() {
                AccountErrorKind::JetStream(error)
                    if error.code() == 10039 || error.code() == 10076 =>
                {
                    Ok(Err(no_jetstream()))
                }
                // Nobody answers JetStream requests: off, unless this server says it
                // has JetStream (then NATS is coming back, and we ask again).
                AccountErrorKind::JetStreamUnavailable if !client.server_info().jetstream => {
                    Ok(Err(no_jetstream()))
                }
                _ => Err(e),
            },
        }
    })
    .await?
}

/// The host key at `path`, checked against the cluster's: the first node records its
/// fingerprint (a `create`: first writer wins), and a node with another key is refused
/// before it serves anyone (its users' `ssh` would warn of a changed host key). A
/// missing key file is generated only when the cluster has none recorded yet.
///
/// # Errors
/// The key is not the cluster's (the line names `--host-key` and both fingerprints),
/// the key cannot be read or made, or NATS did not answer.
async fn host_key(
    cluster: &Cluster,
    path: &Path,
    urls: &str,
    deadline: Instant,
) -> anyhow::Result<russh::keys::PrivateKey> {
    let store = &cluster.settings;
    let recorded = within(deadline, urls, "reading the cluster's host key", || {
        store.get(HOST_KEY)
    })
    .await?;
    let recorded = recorded.map(|v| String::from_utf8_lossy(&v).into_owned());
    if let (false, Some(theirs)) = (path.exists(), &recorded) {
        bail!(
            "--host-key {}: no such file, and the cluster's nodes share the key {theirs}: copy the first node's key file here, or point --host-key at it",
            path.display()
        );
    }
    let key = load_or_generate_host_key(path)?;
    let mine = fingerprint(key.public_key());
    let theirs = match recorded {
        Some(theirs) => theirs,
        None => {
            let made = within(deadline, urls, "recording the host key", || async {
                match store.create(HOST_KEY, Bytes::from(mine.clone())).await {
                    Ok(_) => Ok(None),
                    Err(e) if e.kind() == CreateErrorKind::AlreadyExists => {
                        // Another node recorded its key first: compare with that one.
                        let value = store.get(HOST_KEY).await.map_err(|e| e.to_string())?;
                        Ok(value.map(|v| String::from_utf8_lossy(&v).into_owned()))
                    }
                    Err(e) => Err(e.to_string()),
                }
            })
            .await?;
            made.unwrap_or_else(|| mine.clone())
        }
    };
    if theirs != mine {
        bail!(
            "--host-key {} is {mine}, but the cluster's nodes use {theirs}: every node needs the same host key (copy the first node's key file, or point --host-key at it)",
            path.display()
        );
    }
    Ok(key)
}

/// A node let into the cluster: connected, its host key the cluster's, its name its
/// own.
pub struct Admitted {
    pub cluster: Cluster,
    pub host_key: russh::keys::PrivateKey,
    pub claim: NodeClaim,
}

/// Every check of a node joining the cluster of `config`, in the order that writes
/// nothing before a refusal: the addresses, NATS and JetStream, the host key, the name.
///
/// # Errors
/// The first check that fails, as one line saying what to do.
pub async fn admit(config: &Config) -> anyhow::Result<Admitted> {
    let cluster = Cluster::connect(config).await?;
    let urls = config.cluster.join(",");
    let deadline = Instant::now() + START_WITHIN;
    let host_key = host_key(&cluster, &config.host_key, &urls, deadline).await?;
    same_wire(&cluster, &urls, deadline).await?;
    let claim = claim_node(&cluster, &urls).await?;
    Ok(Admitted {
        cluster,
        host_key,
        claim,
    })
}

/// Refuses to join a cluster where a node of another [`WIRE_VERSION`] is live: the two
/// would misread each other.
///
/// # Errors
/// Such a node is live (the line names it and both versions), or NATS did not answer.
async fn same_wire(cluster: &Cluster, urls: &str, deadline: Instant) -> anyhow::Result<()> {
    let store = &cluster.nodes;
    let keys: Vec<String> = within(deadline, urls, "reading the nodes", || async {
        let mut keys = store.keys().await?;
        let mut out = Vec::new();
        while let Some(key) = futures_util::StreamExt::next(&mut keys).await {
            out.push(key?);
        }
        Ok::<_, anyhow::Error>(out)
    })
    .await?;
    for key in keys {
        let value = within(deadline, urls, "reading a node's presence", || {
            store.get(&key)
        })
        .await?;
        let Some(presence) = value.and_then(|v| serde_json::from_slice::<Presence>(&v).ok()) else {
            continue;
        };
        if presence.wire != WIRE_VERSION && !presence.stopping {
            let node = super::name_of(&key).unwrap_or(key);
            bail!(
                "node {node} of this cluster runs another version (wire version {}, this node {WIRE_VERSION}): a cluster runs one version at a time; stop every node of the other version first",
                presence.wire
            );
        }
    }
    Ok(())
}

/// This node's presence key in `chat_nodes`, made now.
pub struct NodeClaim {
    pub(super) revision: u64,
    pub(super) value: Bytes,
}

/// Makes this node's presence key. Held by another process: a live one renews it
/// (every second), and is refused; one that was killed leaves it to lapse (at most a
/// lease), and is waited out, then the others get [`GRACE`] and a little to drop its
/// people. A cleanly stopped node deleted it: no wait at all.
///
/// # Errors
/// The node name is live in the cluster, or NATS did not answer.
async fn claim_node(cluster: &Cluster, urls: &str) -> anyhow::Result<NodeClaim> {
    let node = &cluster.node;
    let value: Bytes = serde_json::to_vec(&Presence::now())
        .context("encoding the presence")?
        .into();
    // A lapsing key is gone a lease after its last renewal; a live one renews within a
    // second.
    let give_up = Instant::now() + LEASE + RENEW_EVERY;
    let deadline = give_up + START_WITHIN;
    let claim = Claim {
        cluster,
        urls,
        value,
        times: (give_up, deadline),
        seen: std::sync::Mutex::new(None),
    };
    let once = || async {
        match claim.once().await {
            Ok(Some(claimed)) => Ok(Ok(claimed)),
            Ok(None) => Err(Again),
            Err(refused) => Ok(Err(refused)),
        }
    };
    match retry::until(deadline, retry::every(CLAIM_AGAIN_AFTER), once).await {
        Ok(claimed) => claimed,
        Err(Again) => bail!("node {node} is already running in the cluster (its presence did not go): stop it, or give this node another --node-name"),
    }
}

/// Pause before the node's presence is looked at again.
const CLAIM_AGAIN_AFTER: Duration = Duration::from_millis(200);

/// One node's claim of its name, tried until it is made or refused.
struct Claim<'a> {
    cluster: &'a Cluster,
    urls: &'a str,
    value: Bytes,
    /// When a presence nobody renews is taken for stale, and when to give up.
    times: (Instant, Instant),
    /// The revision of the presence seen last (held by someone else).
    seen: std::sync::Mutex<Option<u64>>,
}

impl Claim<'_> {
    /// One try: the claim made, or `None` while the presence is another's (to look
    /// again).
    ///
    /// # Errors
    /// Another live process keeps the presence, or NATS did not answer.
    async fn once(&self) -> anyhow::Result<Option<NodeClaim>> {
        let (cluster, urls) = (self.cluster, self.urls);
        let (give_up, deadline) = self.times;
        let node = &cluster.node;
        let key = key_of(node);
        let store = &cluster.nodes;
        let value = &self.value;
        let created = within(deadline, urls, "joining as a node", || async {
            match cluster.create_with_ttl(store, &key, value.clone()).await {
                Ok(revision) => Ok(Some(revision)),
                Err(e) if e.kind() == CreateErrorKind::AlreadyExists => Ok(None),
                Err(e) => Err(e),
            }
        })
        .await?;
        let seen = *super::lock(&self.seen);
        if let Some(revision) = created {
            if seen.is_some() {
                // The others drop the previous run's people a grace after its lapse:
                // this run's must not be among them.
                tracing::info!(node = %node, "letting the others drop node {node}'s previous run");
                tokio::time::sleep(GRACE + Duration::from_millis(500)).await;
            }
            let value = value.clone();
            return Ok(Some(NodeClaim { revision, value }));
        }
        let entry = within(deadline, urls, "reading the node's presence", || {
            store.entry(&key)
        })
        .await?;
        let Some(entry) = entry.filter(|e| e.operation == Operation::Put) else {
            return Ok(None);
        };
        let stopping = serde_json::from_slice::<Presence>(&entry.value).is_ok_and(|p| p.stopping);
        match seen {
            None => tracing::info!(
                node = %node,
                "node {node} has a presence: waiting to see whether it is renewed (another process) or lapses (a previous run)"
            ),
            Some(before) if before != entry.revision && !stopping => bail!(
                "node {node} is already running in the cluster (another process keeps its presence alive): stop it, or give this node another --node-name"
            ),
            Some(_) => {}
        }
        *super::lock(&self.seen) = Some(entry.revision);
        if Instant::now() >= give_up {
            // Nobody renewed it for longer than a lease, yet it is there: a key made
            // without an expiry (by a run killed before its first renewal, with a
            // version that lost the TTL). Removed as a lapse would have: the others drop
            // that run's people, and this run waits for it.
            tracing::warn!(node = %node, "node {node}'s previous run left a presence that does not lapse; removing it");
            let removed = store.delete_expect_revision(&key, Some(entry.revision));
            if let Err(error) = removed.await {
                tracing::debug!(%error, "removing a stale presence");
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nats_addresses_are_read_and_bad_ones_named() {
        let ok = [
            "nats://127.0.0.1:4222",
            "tls://nats.example.org:4222",
            "localhost",
        ];
        for url in ok {
            assert!(address(url).is_ok(), "{url}");
        }
        for url in [
            "http://x:4222",
            "nats://",
            "nats://h:port",
            "nats://h:4222/x",
            "",
        ] {
            let error = address(url).expect_err(url).to_string();
            assert!(error.contains("--cluster") && error.contains("nats://HOST:PORT"));
            assert!(error.contains(&format!("{url:?}")), "{error}");
        }
    }
}
