//! The accept loop and the server's lifetime: builds the rooms, the names and the SSH
//! settings, runs each connection with `russh::server::run_stream`, and shuts down
//! gracefully.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

use crate::admission::Admission;
use crate::allowlist::Allowlist;
use crate::bans::{BanList, FileBans};
use crate::cluster::{Cluster, ClusterBans, ClusterNames, ClusterPreferences, ClusterRooms};
use crate::config::Config;
use crate::connection;
use crate::delivery::Connections;
use crate::keys::{admin_keys, fingerprint, load_or_generate_host_key};
use crate::log::{LogConfig, LogSink};
use crate::metrics::http::{Health, InContact};
use crate::metrics::Metrics;
use crate::names::NameRegistry;
use crate::preferences::{FilePreferences, Preferences};
use crate::room::schedule::ScheduleStore;
use crate::room::{Clock, RoomConfig, RoomDirectory, RoomMaker};
use crate::ssh::SessionDeps;

/// A server that is accepting connections.
pub struct RunningServer {
    /// The address actually bound (useful with port 0).
    pub local_addr: SocketAddr,
    /// SHA256 fingerprint of the host key.
    pub host_key_fingerprint: String,
    /// Where `/metrics` and `/healthz` are served (with `--metrics`; the port actually
    /// bound).
    pub metrics_addr: Option<SocketAddr>,
    /// This server's name in the cluster (with `--cluster`).
    pub node: Option<String>,
    shutdown: CancellationToken,
    done: tokio::task::JoinHandle<()>,
    reloader: Reloader,
}

/// What SIGHUP does: re-read the admins and the allowlist, reopen the log files (after
/// `logrotate`).
#[derive(Clone)]
pub struct Reloader {
    config: Config,
    rooms: Arc<RoomDirectory>,
    log: LogSink,
    allowlist: Allowlist,
}

impl Reloader {
    /// Re-reads the admins file and the allowlist and reopens the logs; returns the
    /// number of admin keys.
    ///
    /// # Errors
    /// The admins file or the allowlist cannot be read (the old list stays).
    pub async fn reload(&self) -> anyhow::Result<usize> {
        self.log.reopen();
        let keys = admin_keys(&self.config)?;
        let count = keys.len();
        self.rooms.set_admin_keys(keys).await;
        if let Some(allowed) = self.allowlist.reload(self.config.allowlist.as_deref())? {
            self.log
                .event("RELOAD", format!("allowlist: {allowed} key(s)"));
        }
        Ok(count)
    }
}

impl RunningServer {
    /// Stops accepting, tells participants, saves schedules, flushes logs and waits (at
    /// most a few seconds) for connections to end.
    pub async fn shutdown(self) {
        self.shutdown.cancel();
        let _ = self.done.await;
    }

    /// A token that stops the server when cancelled (e.g. from a signal handler).
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// The handle that applies SIGHUP.
    pub fn reloader(&self) -> Reloader {
        self.reloader.clone()
    }

    /// Waits until the server has stopped.
    pub async fn wait(self) {
        let _ = self.done.await;
    }
}

/// Builds the rooms from `config` (keys, admins, schedules, names, logs) and starts
/// serving.
///
/// # Errors
/// The host key, admins file, schedule or names file, default room name or log folder
/// cannot be used, or the address cannot be bound.
pub async fn start(config: Config, clock: Clock) -> anyhow::Result<RunningServer> {
    let default_room = config.default_room()?;
    let allowlist = Allowlist::load(config.allowlist.as_deref())?;
    // A cluster node is let in (or refused) before anything is written, its host key
    // included: the cluster decides whether a missing key may be made.
    let (host_key, cluster) = match config.cluster.is_empty() {
        true => (load_or_generate_host_key(&config.host_key)?, None),
        false => {
            let admitted = Box::pin(crate::cluster::setup::admit(&config)).await?;
            (admitted.host_key, Some((admitted.cluster, admitted.claim)))
        }
    };
    let host_key_fingerprint = fingerprint(host_key.public_key());
    let tz = config.time_zone();
    let log = LogSink::start(LogConfig {
        server_log: config.server_log(),
        transcripts_dir: config.transcripts_dir(),
        tz,
        queue_records: crate::log::LOG_QUEUE_RECORDS,
    })
    .with_context(|| format!("opening logs in {}", config.log_dir.display()))?;
    let metrics = Arc::new(Metrics::new(!config.cluster.is_empty()));
    let cluster = match cluster {
        None => None,
        Some((cluster, claim)) => {
            let names = Box::pin(ClusterNames::open(&cluster)).await?;
            tokio::spawn(count_nats_connection(&cluster, metrics.clone()));
            Some((cluster, claim, names))
        }
    };
    let in_contact = cluster.as_ref().map(|(cluster, _, _)| {
        let cluster = cluster.clone();
        Arc::new(move || cluster.is_connected()) as InContact
    });
    let node = cluster
        .as_ref()
        .map(|(cluster, _, _)| cluster.node.to_string());
    let (schedules, names) = match &cluster {
        // A cluster keeps both in its buckets.
        Some((_, _, names)) => (
            ScheduleStore::default(),
            NameRegistry::new(names.clone(), config.max_names_per_key),
        ),
        None => (
            ScheduleStore::load(Some(config.schedules_file()), &default_room.to_string())?,
            NameRegistry::load(Some(config.names_file()), config.max_names_per_key)?,
        ),
    };
    let bans = match &cluster {
        Some((cluster, _, _)) => {
            let list = BanList::new(ClusterBans::open(cluster), Vec::new(), config.max_bans, tz);
            Box::pin(ClusterBans::open(cluster).follow(list.clone())).await?;
            list
        }
        None => {
            let (store, kept) = FileBans::load(config.bans_file())?;
            BanList::new(store, kept, config.max_bans, tz)
        }
    };
    let preferences: Preferences = match &cluster {
        Some((cluster, _, _)) => {
            Arc::new(Box::pin(ClusterPreferences::open(cluster, config.cluster_replicas)).await?)
        }
        None => Arc::new(FilePreferences::load(Some(config.preferences_file()))?),
    };
    let template = room_template(&config)?;
    let connections = Connections::default();
    let maker = RoomMaker {
        server_admins: Arc::new(std::sync::RwLock::new(template.admin_keys.clone())),
        template,
        log: log.clone(),
        clock: clock.clone(),
        names: names.clone(),
        schedules,
        connections: connections.clone(),
        metrics: metrics.clone(),
        bans: bans.clone(),
    };
    log.event("START", format!("listening on {}", config.listen));
    let max_rooms = config.max_rooms.max(1);
    let rooms = match cluster {
        Some((cluster, claim, names)) => {
            log.event("CLUSTER", format!("joined as {}", cluster.node));
            let (made_by, room) = (maker.clone(), default_room.clone());
            let placed = Box::pin(ClusterRooms::start(
                cluster, claim, names, made_by, room, max_rooms,
            ))
            .await?;
            RoomDirectory::new(maker, default_room, placed)
        }
        None => RoomDirectory::start(maker, max_rooms, default_room),
    };
    tokio::spawn(enforce_bans(bans.clone(), Arc::downgrade(&rooms)));
    let ssh = Arc::new(ssh_config(host_key));
    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    let local_addr = listener.local_addr()?;
    let reloader = Reloader {
        config: config.clone(),
        rooms: rooms.clone(),
        log: log.clone(),
        allowlist: allowlist.clone(),
    };
    let shutdown = CancellationToken::new();
    let metrics_stop = CancellationToken::new();
    let metrics_addr = match config.metrics {
        Some(addr) => {
            let listener = TcpListener::bind(addr)
                .await
                .with_context(|| format!("binding --metrics {addr}"))?;
            let bound = listener.local_addr()?;
            let health = Health::new(shutdown.clone(), in_contact);
            let serving = metrics.clone();
            let stop = metrics_stop.clone();
            tokio::spawn(crate::metrics::http::serve(listener, serving, health, stop));
            tracing::info!("metrics at http://{bound}/metrics, health at /healthz");
            Some(bound)
        }
        None => None,
    };
    let deps = Arc::new(SessionDeps {
        config,
        rooms,
        names,
        connections,
        log,
        metrics,
        clock,
        allowlist,
        bans,
        preferences,
    });
    // The health check says 503 from the start of the shutdown until the server is done.
    let serving = accept_loop(listener, deps, ssh, shutdown.clone());
    let done = tokio::spawn(async move {
        serving.await;
        metrics_stop.cancel();
    });
    Ok(RunningServer {
        local_addr,
        host_key_fingerprint,
        metrics_addr,
        node,
        shutdown,
        done,
        reloader,
    })
}

/// The cluster's part of `ssh-chatroom check --cluster`: its nodes, rooms and
/// participants, read without changing anything.
///
/// # Errors
/// NATS cannot be reached, or the cluster's streams cannot be read.
pub async fn cluster_report(config: &Config) -> anyhow::Result<String> {
    crate::cluster::report::report(config).await
}

/// Keeps `ssh_chatroom_nats_connected` at 1 while `cluster` is connected, 0 otherwise.
fn count_nats_connection(
    cluster: &Cluster,
    metrics: Arc<Metrics>,
) -> impl std::future::Future<Output = ()> + 'static {
    let mut changes = cluster.connection_changes();
    async move {
        loop {
            let connected = *changes.borrow_and_update();
            metrics.nats_connected.set(i64::from(connected));
            if changes.changed().await.is_err() {
                return;
            }
        }
    }
}

/// Puts whoever a new server ban is on out of every room run here, for as long as the
/// server runs.
async fn enforce_bans(bans: BanList, rooms: std::sync::Weak<RoomDirectory>) {
    let mut added = bans.added();
    loop {
        let ban = match added.recv().await {
            Ok(ban) => ban,
            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
            Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
        };
        let Some(rooms) = rooms.upgrade() else { return };
        rooms.enforce(ban).await;
    }
}

/// The settings every room of a server made from `config` starts from (a room's name
/// and `creator_is_admin` are set per room).
///
/// # Errors
/// The admins file or the message of the day cannot be read.
pub fn room_template(config: &Config) -> anyhow::Result<RoomConfig> {
    Ok(RoomConfig {
        name: String::new(),
        capacity: config.capacity,
        admin_keys: admin_keys(config)?,
        max_message_bytes: config.max_message_bytes,
        history: config.history,
        max_schedules_per_user: config.max_schedules_per_user,
        tz: config.time_zone(),
        message_rate: config.message_rate,
        message_burst: config.message_burst,
        motd: config.motd_lines()?,
        batch_notices_above: config.batch_notices_above,
        creator_is_admin: false,
        kick_ban: Duration::from_secs(config.kick_ban),
        max_co_admins: config.max_co_admins,
        default_room: config.default_room()?.to_string(),
    })
}

fn ssh_config(host_key: russh::keys::PrivateKey) -> russh::server::Config {
    // No compression: it buys nothing for chat and has a history of advisories.
    let preferred = russh::Preferred {
        compression: std::borrow::Cow::Borrowed(&[russh::compression::NONE]),
        ..Default::default()
    };
    russh::server::Config {
        keys: vec![host_key],
        auth_rejection_time: Duration::from_millis(300),
        auth_rejection_time_initial: Some(Duration::ZERO),
        // Chatters idle for hours; dead peers are found by keepalives instead.
        inactivity_timeout: None,
        keepalive_interval: Some(Duration::from_secs(60)),
        keepalive_max: 3,
        // Input is read at a pace; the client need not have more than that in flight.
        window_size: crate::ssh::pace::INPUT_WINDOW_BYTES,
        preferred,
        ..Default::default()
    }
}

async fn accept_loop(
    listener: TcpListener,
    deps: Arc<SessionDeps>,
    ssh: Arc<russh::server::Config>,
    shutdown: CancellationToken,
) {
    let tracker = TaskTracker::new();
    let admission = Admission::new(
        deps.config.max_conns_per_ip,
        deps.config.max_handshakes,
        deps.metrics.clone(),
    );
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = shutdown.cancelled() => break,
        };
        let (stream, peer) = match accepted {
            Ok(pair) => pair,
            Err(error) => {
                // Out of file descriptors and the like: back off instead of spinning.
                tracing::warn!(%error, "accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let span = tracing::info_span!("conn", %peer, client = tracing::field::Empty);
        let kill = CancellationToken::new();
        // Counted against its address once that is known (after a PROXY header).
        let ticket = admission.arrive(kill.clone());
        let task = connection::run(deps.clone(), ssh.clone(), stream, peer, ticket, kill);
        tracker.spawn(task.instrument(span));
    }
    drop(listener);
    deps.rooms.shutdown().await;
    tracker.close();
    let _ = tokio::time::timeout(Duration::from_secs(3), tracker.wait()).await;
}
