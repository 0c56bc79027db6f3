//! What a person sets for themselves and keeps (SPEC §12): the bell, timestamps and
//! whom they ignore, remembered for a key with a registered nickname. The seam is
//! [`PreferenceStore`]: a file in the data directory for a lone server ([`FilePreferences`],
//! in this process), a key-value bucket for a cluster (`cluster/preferences.rs`). The
//! session reads a key's settings once at join and writes them on each change.

mod file;

use std::sync::Arc;

use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};

pub use file::FilePreferences;

use crate::chat::comfort::Bell;

/// Most people one person can ignore.
pub const MAX_IGNORED: usize = 100;

/// Someone ignored: the person (key fingerprint, or address without a key) and the
/// nickname they were last seen under.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ignored {
    pub person: String,
    pub nick: String,
    /// The participant last seen as them (to find their nickname after a rename).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<u128>,
}

/// One person's remembered settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    #[serde(default)]
    pub bell: Bell,
    #[serde(default)]
    pub timestamps: bool,
    #[serde(default)]
    pub ignored: Vec<Ignored>,
}

/// The store could not be reached (a cluster's NATS outage) or written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unavailable;

/// Where settings are kept, by key fingerprint.
pub trait PreferenceStore: Send + Sync + 'static {
    /// The settings kept for `key`, if any.
    fn load<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Settings>, Unavailable>>;
    /// Keeps `settings` for `key`, replacing what was kept.
    fn save<'a>(
        &'a self,
        key: &'a str,
        settings: Settings,
    ) -> BoxFuture<'a, Result<(), Unavailable>>;
    /// Forgets what was kept for `key` (its last registered name was freed).
    fn forget<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), Unavailable>>;
}

/// The store the server picked; clones share it.
pub type Preferences = Arc<dyn PreferenceStore>;
