//! The cluster (SPEC §10): several servers serving one chat over NATS with JetStream.
//! This module holds the NATS sides of the seams the core defines: the name store
//! ([`ClusterNames`], a `NameStore`), room placement by lease ([`ClusterRooms`], a
//! `RoomPlacement`), a room's link to its members on every node (a `RoomLink`) and the
//! bus from sessions to a room's actor ([`RemoteRoom`], a `RoomBus`), and node presence.
//! Only `server.rs` imports it; a lone server never touches it.

mod admins;
mod bans;
mod bucket;
mod follow;
mod history;
mod link;
mod membership;
mod mirror;
mod names;
mod nodes;
mod placement;
mod preferences;
mod remote;
pub mod report;
mod retry;
mod rooms;
mod sequence;
pub mod setup;
mod snapshots;
mod stop;
mod whisper;
mod wire;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use async_nats::jetstream::{self, kv};
use async_nats::ConnectErrorKind::{Dns, Io, TimedOut};
use tokio::sync::watch;

pub use bans::ClusterBans;
pub use bucket::Mirror;
pub use names::ClusterNames;
pub use preferences::ClusterPreferences;
pub use remote::RemoteRoom;
pub use rooms::ClusterRooms;
pub use setup::{NodeClaim, START_WITHIN};

use crate::config::Config;

/// How long a room's lease and a node's presence last without renewal: a dead node's
/// rooms and people are taken over and seen to leave this long after its last renewal.
pub const LEASE: Duration = Duration::from_secs(3);
/// How often leases and presence are renewed.
pub const RENEW_EVERY: Duration = Duration::from_secs(1);
/// The bucket of room leases.
const LEASES: &str = "chat_leases";
/// The bucket of node presence.
const NODES: &str = "chat_nodes";
/// The bucket of who is online under which name.
const ONLINE: &str = "chat_online";

/// How long after (re)connecting before a node decides that another node is dead.
pub const SETTLE: Duration = Duration::from_secs(2);
/// How long a request to a room may take before the asker is told it failed.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(2);

/// A node's connection to the cluster and its buckets.
#[derive(Clone)]
pub struct Cluster {
    pub client: async_nats::Client,
    pub js: jetstream::Context,
    pub node: Arc<str>,
    /// Who is online under which name: look-alike key → [`crate::names::Claim`].
    pub online: kv::Store,
    /// Registered names: look-alike key → [`crate::names::Registration`].
    pub registered: kv::Store,
    /// Room leases: room key → which node runs the room (with a TTL).
    pub leases: kv::Store,
    /// What a room's next owner needs: room key → its snapshot.
    pub snapshots: kv::Store,
    /// Scheduled messages already sent: schedule id → room (so each goes once).
    pub fired: kv::Store,
    /// Live nodes: node name → since when (with a TTL).
    pub nodes: kv::Store,
    /// What the whole cluster shares: the host key's fingerprint.
    pub settings: kv::Store,
    /// Server bans and lasting kick-bans: ban id → [`crate::bans::Ban`].
    pub bans: kv::Store,
    /// The rooms' public lines (see [`history`]).
    pub history: jetstream::stream::Stream,
    connected: watch::Receiver<bool>,
    /// Counts the times this node may have missed messages (it reconnected to NATS, or
    /// a subscription overflowed): each is a reason to look for gaps.
    resync: Arc<watch::Sender<u64>>,
    /// When the connection to NATS last came up.
    up_since: Arc<std::sync::Mutex<tokio::time::Instant>>,
}

impl Cluster {
    /// Connects to the NATS servers in `config.cluster` and opens (or makes) the
    /// buckets, trying for at most [`START_WITHIN`] while NATS does not answer, then
    /// for at most [`retry::BUCKETS_WITHIN`] while the buckets are not made.
    ///
    /// # Errors
    /// An address is not a NATS address, no NATS server answers in time, the
    /// credentials are refused, or JetStream is off.
    pub async fn connect(config: &Config) -> anyhow::Result<Cluster> {
        let addrs = setup::addresses(&config.cluster)?;
        let urls = config.cluster.join(",");
        let deadline = tokio::time::Instant::now() + START_WITHIN;
        let creds = match &config.cluster_creds {
            Some(path) => Some(
                std::fs::read_to_string(path)
                    .with_context(|| format!("reading NATS credentials {}", path.display()))?,
            ),
            None => None,
        };
        let node: Arc<str> = config.node().into();
        let (tx, connected) = watch::channel(true);
        let up_since = Arc::new(std::sync::Mutex::new(tokio::time::Instant::now()));
        let tx = Arc::new(tx);
        let resync = Arc::new(watch::Sender::new(0));
        let options = || connect_options(&node, (&tx, &resync), &up_since, creds.as_deref());
        let connecting = || async {
            let options = match options() {
                Ok(options) => options,
                Err(error) => return Ok(Err(error)),
            };
            match options.connect(addrs.as_slice()).await {
                Ok(client) => Ok(Ok(client)),
                // Only an unreachable server is worth another try.
                Err(e) if matches!(e.kind(), Io | TimedOut | Dns) => Err(e),
                Err(e) => Ok(Err(
                    anyhow::Error::from(e).context(format!("connecting to NATS at {urls}"))
                )),
            }
        };
        let client = retry::within(deadline, &urls, "connecting", connecting).await??;
        let js = jetstream::ContextBuilder::new()
            .timeout(REQUEST_TIMEOUT)
            .build(client.clone());
        setup::require_jetstream(&client, &js, &urls, deadline).await?;
        let replicas = config.cluster_replicas.max(1);
        // Made or opened all at once, each tried again until the buckets' deadline.
        let buckets_by = tokio::time::Instant::now() + retry::BUCKETS_WITHIN;
        let setup_js = retry::setup_context(&client);
        let bucket = |name: &'static str, ttl: Option<Duration>, max_age: Duration| {
            let config = kv::Config {
                bucket: name.to_string(),
                history: 1,
                max_age,
                limit_markers: ttl,
                num_replicas: replicas,
                ..Default::default()
            };
            let (js, urls) = (setup_js.clone(), urls.clone());
            // Each a task of its own, run from the runtime's shallow stack rather than
            // deep inside the start (a test's thread has little stack to spare).
            let task =
                tokio::spawn(
                    async move { retry::open_bucket(&js, config, &urls, buckets_by).await },
                );
            async move { task.await.context("opening a JetStream bucket")? }
        };
        let forever = Duration::ZERO;
        let day = Duration::from_secs(24 * 3600);
        let (online, registered, leases, snapshots, fired, nodes, settings, bans) = tokio::try_join!(
            bucket(ONLINE, None, forever),
            bucket("chat_registered", None, forever),
            bucket(LEASES, Some(LEASE), forever),
            bucket("chat_rooms", None, forever),
            bucket("chat_fired", None, 2 * day),
            bucket(NODES, Some(LEASE), forever),
            bucket("chat_cluster", None, forever),
            bucket("chat_bans", None, forever),
        )?;
        let lines = (config.history, replicas);
        let history = history::open(&setup_js, lines, &urls, buckets_by).await?;
        Ok(Cluster {
            online,
            registered,
            leases,
            snapshots,
            fired,
            nodes,
            settings,
            bans,
            history,
            client,
            js,
            node,
            connected,
            resync,
            up_since,
        })
    }

    /// Whether NATS is reachable now (lines typed while it is not are refused).
    pub fn is_connected(&self) -> bool {
        *self.connected.borrow()
            && self.client.connection_state() == async_nats::connection::State::Connected
    }

    /// How long until this node's view of the others can be trusted: right after NATS
    /// comes back, the others have not renewed their presence and leases yet, and a live
    /// node would be taken for dead. Zero when connected for [`SETTLE`] already.
    pub fn unsettled_for(&self) -> Duration {
        if !self.is_connected() {
            return SETTLE;
        }
        let since = *lock(&self.up_since);
        SETTLE.saturating_sub(since.elapsed())
    }

    /// Renews `key` of the TTL bucket `bucket` (leases, presence) with `value`, if it
    /// is still at `revision`: a publish with a TTL and the expected last sequence
    /// (`update` would drop the TTL). Returns the new revision.
    ///
    /// # Errors
    /// NATS did not acknowledge it; `WrongLastSequence` when the key changed.
    pub async fn renew(
        &self,
        bucket: &str,
        key: &str,
        value: bytes::Bytes,
        revision: u64,
    ) -> Result<u64, async_nats::jetstream::context::PublishError> {
        let renewal = async_nats::jetstream::message::PublishMessage::build()
            .payload(value)
            .ttl(LEASE)
            .expected_last_subject_sequence(revision);
        let subject = format!("$KV.{bucket}.{key}");
        let ack = self.js.send_publish(subject, renewal).await?.await?;
        Ok(ack.sequence)
    }

    /// Makes `key` in the TTL bucket `store` (leases, presence) with `value`, lasting
    /// [`LEASE`] unless renewed; refused with `AlreadyExists` while the key is there.
    /// Unlike `kv::Store::create_with_ttl`, which drops the TTL when the key was deleted
    /// or purged before (a clean stop's presence, a handed-on lease, any lapsed key: its
    /// marker), the key made here always lapses, even if its maker dies before its first
    /// renewal.
    ///
    /// # Errors
    /// `AlreadyExists` when the key is there; another kind when NATS did not answer.
    pub async fn create_with_ttl(
        &self,
        store: &kv::Store,
        key: &str,
        value: bytes::Bytes,
    ) -> Result<u64, kv::CreateError> {
        use async_nats::jetstream::context::PublishErrorKind;
        use kv::{CreateError, CreateErrorKind, Operation};
        let subject = format!(
            "{}{key}",
            store.put_prefix.as_ref().unwrap_or(&store.prefix)
        );
        // At revision 0: only if the key never was (or its history is gone).
        let publish = |revision: u64| {
            let message = async_nats::jetstream::message::PublishMessage::build()
                .payload(value.clone())
                .ttl(LEASE)
                .expected_last_subject_sequence(revision);
            let subject = subject.clone();
            async move {
                let ack = self.js.send_publish(subject, message).await?.await?;
                Ok::<u64, async_nats::jetstream::context::PublishError>(ack.sequence)
            }
        };
        let taken = |e| CreateError::with_source(CreateErrorKind::AlreadyExists, e);
        let revision = match publish(0).await {
            Ok(revision) => return Ok(revision),
            Err(e) if e.kind() == PublishErrorKind::WrongLastSequence => {
                match store.entry(key).await? {
                    // Deleted, purged or lapsed: made again over its marker.
                    Some(entry) if entry.operation != Operation::Put => entry.revision,
                    _ => return Err(taken(e)),
                }
            }
            Err(e) => return Err(CreateError::with_source(CreateErrorKind::Publish, e)),
        };
        match publish(revision).await {
            Ok(revision) => Ok(revision),
            Err(e) if e.kind() == PublishErrorKind::WrongLastSequence => Err(taken(e)),
            Err(e) => Err(CreateError::with_source(CreateErrorKind::Publish, e)),
        }
    }

    /// Wakes at every change of [`Cluster::is_connected`].
    pub fn connection_changes(&self) -> watch::Receiver<bool> {
        self.connected.clone()
    }

    /// Wakes whenever this node may have missed messages: it is back in contact with
    /// NATS, or a subscription overflowed.
    pub fn resyncs(&self) -> watch::Receiver<u64> {
        self.resync.subscribe()
    }
}

/// The client's settings: a fixed short reconnect delay, pings often enough to notice a
/// hung server, the connection state kept in `connected` and `up_since`, and each
/// chance of missed messages counted in `resync`.
fn connect_options(
    node: &str,
    (connected, resync): (&Arc<watch::Sender<bool>>, &Arc<watch::Sender<u64>>),
    up_since: &Arc<std::sync::Mutex<tokio::time::Instant>>,
    creds: Option<&str>,
) -> anyhow::Result<async_nats::ConnectOptions> {
    let (tx, since, resync) = (connected.clone(), up_since.clone(), resync.clone());
    let options = async_nats::ConnectOptions::new()
        .name(format!("ssh-chatroom {node}"))
        // A node is not sent what it publishes itself: it carries out its rooms'
        // batches as it makes them, and answers its own requests without NATS. One
        // message fewer per line, for NATS and for the room's node.
        .no_echo()
        // Back within a fraction of a second of NATS returning (the default backoff
        // grows to 4 s), so every node is back well inside a lease.
        .reconnect_delay_callback(|_| Duration::from_millis(100))
        .ping_interval(Duration::from_secs(2))
        .connection_timeout(Duration::from_secs(3))
        .request_timeout(Some(REQUEST_TIMEOUT))
        .event_callback(move |event| {
            let tx = tx.clone();
            let since = since.clone();
            let resync = resync.clone();
            async move {
                let was = match event {
                    async_nats::Event::Connected => {
                        *lock(&since) = tokio::time::Instant::now();
                        let was = tx.send_replace(true);
                        resync.send_modify(|n| *n += 1);
                        was
                    }
                    async_nats::Event::Disconnected => tx.send_replace(false),
                    async_nats::Event::SlowConsumer(_) => {
                        tracing::warn!("a NATS subscription overflowed; looking for gaps");
                        resync.send_modify(|n| *n += 1);
                        return;
                    }
                    // Every failed reconnection says so (ten a second in an outage):
                    // the change of state above is what the log tells.
                    other => {
                        tracing::debug!(event = %other, "NATS");
                        return;
                    }
                };
                log_contact(was, *tx.borrow());
            }
        });
    match creds {
        Some(text) => options
            .credentials(text)
            .context("reading the NATS credentials (--cluster-creds)"),
        None => Ok(options),
    }
}

/// Logs a change of contact with NATS, once: not a repeated state.
fn log_contact(was: bool, now: bool) {
    match (was, now) {
        (true, false) => tracing::warn!("lost contact with NATS; reconnecting"),
        (false, true) => tracing::info!("back in contact with NATS"),
        _ => {}
    }
}

/// A lock's guard, also after a panic elsewhere while it was held (what it guards is
/// never left half-changed).
fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A bucket key for any name: its UTF-8 in hex (NATS keys allow only a few characters).
pub fn key_of(name: &str) -> String {
    use std::fmt::Write;
    name.bytes().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// The name a [`key_of`] key stands for.
pub fn name_of(key: &str) -> Option<String> {
    let bytes: Option<Vec<u8>> = (0..key.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(key.get(i..i + 2)?, 16).ok())
        .collect();
    String::from_utf8(bytes?).ok()
}
