//! What a session needs from the rest of the server, and nothing more: the settings,
//! the rooms, the names, the connections, the logs, the metrics, the clock and the
//! allowlist. The server builds it; the SSH edge depends on it instead of on the server.

use std::sync::Arc;

use crate::allowlist::Allowlist;
use crate::bans::BanList;
use crate::config::Config;
use crate::delivery::Connections;
use crate::log::LogSink;
use crate::metrics::Metrics;
use crate::names::NameRegistry;
use crate::preferences::Preferences;
use crate::room::{Clock, RoomDirectory};

/// Shared by every connection.
pub struct SessionDeps {
    pub config: Config,
    pub rooms: Arc<RoomDirectory>,
    pub names: NameRegistry,
    /// Everyone connected to this server.
    pub connections: Connections,
    pub log: LogSink,
    pub metrics: Arc<Metrics>,
    /// What the login grace is measured on (a test's clock moves by hand).
    pub clock: Clock,
    /// Who may come in, when the server is private.
    pub allowlist: Allowlist,
    /// Who may not come in at all.
    pub bans: BanList,
    /// What people with a registered name set for themselves (SPEC §12).
    pub preferences: Preferences,
}
