//! Every setting with its default, in one struct. Each is a flag, an `SSH_CHATROOM_*`
//! environment variable and a key of the `--config` TOML file (see [`load`]).

mod file;

use std::net::SocketAddr;
use std::path::PathBuf;

use chrono_tz::Tz;
use clap::{Args, Parser, Subcommand};
use serde::Serialize;

pub use file::load;

/// ssh-chatroom: a chat room that people join with the ssh they already have.
///
/// Every flag can also be set by an SSH_CHATROOM_* environment variable or a key of the
/// --config TOML file; precedence: flag > environment > file > default.
#[derive(Debug, Clone, Parser)]
#[command(version, about, args_override_self = true)]
pub struct Cli {
    #[command(flatten)]
    pub config: Config,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// What to do instead of serving.
#[derive(Debug, Clone, Copy, Subcommand)]
pub enum Command {
    /// Validate the configuration, print the effective settings and the host key
    /// fingerprint, and exit without starting.
    Check,
}

/// Every setting of the server.
#[derive(Debug, Clone, Args, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Config {
    /// TOML file with settings (keys are the flag names without "--").
    #[arg(long, env = "SSH_CHATROOM_CONFIG")]
    #[serde(skip)]
    pub config: Option<PathBuf>,

    /// Address and port to listen on.
    #[arg(long, default_value = "0.0.0.0:9999", env = "SSH_CHATROOM_LISTEN")]
    pub listen: SocketAddr,

    /// Most participants in a room.
    #[arg(long, default_value_t = 10, env = "SSH_CHATROOM_CAPACITY")]
    pub capacity: usize,

    /// The room everyone lands in (it always exists).
    #[arg(long, default_value = "lobby", env = "SSH_CHATROOM_DEFAULT_ROOM")]
    pub default_room: String,

    /// Most rooms at once, the default room included.
    #[arg(long, default_value_t = 1000, env = "SSH_CHATROOM_MAX_ROOMS")]
    pub max_rooms: usize,

    /// Seconds a kicked participant may not come back into the room (0 = no ban).
    #[arg(long, default_value_t = 600, env = "SSH_CHATROOM_KICK_BAN")]
    pub kick_ban: u64,

    /// Most co-admins a room's admin may name with /op.
    #[arg(long, default_value_t = 5, env = "SSH_CHATROOM_MAX_CO_ADMINS")]
    pub max_co_admins: usize,

    /// Most bans kept at once (server bans and lasting kick-bans); past it /ban says the
    /// list is full.
    #[arg(long, default_value_t = 10_000, env = "SSH_CHATROOM_MAX_BANS")]
    pub max_bans: usize,

    /// Most nicknames one key may register (0 = no limit).
    #[arg(long, default_value_t = 3, env = "SSH_CHATROOM_MAX_NAMES_PER_KEY")]
    pub max_names_per_key: usize,

    /// IANA time zone for /schedule (e.g. Asia/Seoul); default: the system's ($TZ first).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[arg(long, env = "SSH_CHATROOM_TIMEZONE")]
    pub timezone: Option<Tz>,

    /// Folder of server.txt and users/<nickname>_chat_log.txt.
    #[arg(long, default_value = "logs", env = "SSH_CHATROOM_LOG_DIR")]
    pub log_dir: PathBuf,

    /// Folder of persistent state (pending scheduled messages, registered nicknames).
    #[arg(long, default_value = "data", env = "SSH_CHATROOM_DATA_DIR")]
    pub data_dir: PathBuf,

    /// Host key (OpenSSH format); generated on first start if missing.
    #[arg(
        long,
        default_value = "keys/ssh_host_ed25519_key",
        env = "SSH_CHATROOM_HOST_KEY"
    )]
    pub host_key: PathBuf,

    /// Fingerprint (SHA256:...) of an admin's key; repeatable.
    #[arg(
        long = "admin-key",
        value_name = "FINGERPRINT",
        env = "SSH_CHATROOM_ADMIN_KEY",
        value_delimiter = ','
    )]
    #[serde(rename = "admin-key")]
    pub admin_keys: Vec<String>,

    /// authorized_keys-format file listing admin keys (ignored if missing).
    #[arg(long, default_value = "keys/admins", env = "SSH_CHATROOM_ADMINS_FILE")]
    pub admins_file: PathBuf,

    /// A private server: only the keys in this authorized_keys-format file (and the
    /// admins) get in; SIGHUP re-reads it. Off when not given.
    #[arg(long, value_name = "FILE", env = "SSH_CHATROOM_ALLOWLIST")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowlist: Option<PathBuf>,

    /// Usernames that mean "ask me for a nickname"; repeatable.
    #[arg(long = "generic-user", value_name = "NAME", default_values_t = vec!["chat".to_string()], env = "SSH_CHATROOM_GENERIC_USER", value_delimiter = ',')]
    #[serde(rename = "generic-user")]
    pub generic_users: Vec<String>,

    /// Text file shown at the top of the welcome (one `[Server]: ` line per line).
    #[arg(long, env = "SSH_CHATROOM_MOTD")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub motd: Option<PathBuf>,

    /// Longest message in bytes (0 = no limit).
    #[arg(long, default_value_t = 1024, env = "SSH_CHATROOM_MAX_MESSAGE_BYTES")]
    pub max_message_bytes: usize,

    /// Most characters in the line editor.
    #[arg(long, default_value_t = 4096, env = "SSH_CHATROOM_MAX_INPUT_CHARS")]
    pub max_input_chars: usize,

    /// Lines a participant may have queued before it counts as stalled and is dropped.
    #[arg(long, default_value_t = 256, env = "SSH_CHATROOM_OUTBOX_SIZE")]
    pub outbox_size: usize,

    /// Public messages shown to a newcomer.
    #[arg(long, default_value_t = 20, env = "SSH_CHATROOM_HISTORY")]
    pub history: usize,

    /// In a room of more than this many, join and leave notices are gathered and sent
    /// as one line a second (0 = always one line each, at once).
    #[arg(long, default_value_t = 50, env = "SSH_CHATROOM_BATCH_NOTICES_ABOVE")]
    pub batch_notices_above: usize,

    /// Most pending scheduled messages per user (0 = no limit).
    #[arg(long, default_value_t = 5, env = "SSH_CHATROOM_MAX_SCHEDULES_PER_USER")]
    pub max_schedules_per_user: usize,

    /// Messages per second a participant may send, on average (0 = no limit). Whispers,
    /// schedules and renames count too.
    #[arg(long, default_value_t = 1.0, env = "SSH_CHATROOM_MESSAGE_RATE")]
    pub message_rate: f64,

    /// Messages a participant may send in a burst before the rate applies.
    #[arg(long, default_value_t = 5, env = "SSH_CHATROOM_MESSAGE_BURST")]
    pub message_burst: u32,

    /// Simultaneous connections from one IP address (0 = no limit).
    #[arg(long, default_value_t = 3, env = "SSH_CHATROOM_MAX_CONNS_PER_IP")]
    pub max_conns_per_ip: usize,

    /// Connections still in the SSH handshake or login, across all clients (0 = no limit).
    #[arg(long, default_value_t = 30, env = "SSH_CHATROOM_MAX_HANDSHAKES")]
    pub max_handshakes: usize,

    /// Seconds from TCP accept to a joined session.
    #[arg(long, default_value_t = 30, env = "SSH_CHATROOM_LOGIN_GRACE")]
    pub login_grace: u64,

    /// Load balancers whose connections start with a PROXY protocol header (v1 or v2),
    /// comma-separated IP addresses or CIDR ranges: their header's client address is
    /// used. Empty: no PROXY protocol.
    #[arg(
        long,
        value_name = "ADDR",
        value_delimiter = ',',
        env = "SSH_CHATROOM_TRUSTED_PROXY"
    )]
    pub trusted_proxy: Vec<crate::proxy::ProxyNet>,

    /// Do not write logs/server.txt.
    #[arg(long, env = "SSH_CHATROOM_NO_SERVER_LOG")]
    pub no_server_log: bool,

    /// Do not write the per-user transcripts.
    #[arg(long, env = "SSH_CHATROOM_NO_USER_LOGS")]
    pub no_user_logs: bool,

    /// Join a cluster (SPEC §10): the NATS servers with JetStream, comma-separated
    /// (`nats://HOST:4222,...`; `tls://` for TLS). Empty: run alone.
    #[arg(
        long,
        value_name = "URLS",
        value_delimiter = ',',
        env = "SSH_CHATROOM_CLUSTER"
    )]
    pub cluster: Vec<String>,

    /// NATS credentials file (`.creds`, NKEY and JWT) for the cluster.
    #[arg(long, value_name = "FILE", env = "SSH_CHATROOM_CLUSTER_CREDS")]
    pub cluster_creds: Option<PathBuf>,

    /// This server's name in the cluster [default: the host name and a random suffix].
    #[arg(long, env = "SSH_CHATROOM_NODE_NAME")]
    pub node_name: Option<String>,

    /// Copies JetStream keeps of the cluster's state (3 on a three-server NATS cluster).
    #[arg(long, default_value_t = 1, env = "SSH_CHATROOM_CLUSTER_REPLICAS")]
    pub cluster_replicas: usize,

    /// Serve Prometheus metrics at http://ADDR/metrics and a health check at /healthz
    /// (e.g. 127.0.0.1:9100). Off when not given.
    #[arg(long, value_name = "ADDR", env = "SSH_CHATROOM_METRICS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics: Option<SocketAddr>,
}

impl Cli {
    /// The command line parser: every setting is a global flag, so it may come before or
    /// after a subcommand (`ssh-chatroom check --config FILE`).
    pub fn parser() -> clap::Command {
        <Cli as clap::CommandFactory>::command().mut_args(|arg| arg.global(true))
    }
}

impl Default for Config {
    /// The embedded defaults alone: no flags, and no `SSH_CHATROOM_*` variable read.
    fn default() -> Self {
        Config::from_flags(std::iter::empty::<String>()).expect("the defaults parse")
    }
}

impl Config {
    /// `flags` (`--capacity=3`, ...; the last of a repeated flag wins) over the embedded
    /// defaults, with no `SSH_CHATROOM_*` variable read and no `--config` file merged:
    /// the same settings a test gives the real binary as its arguments.
    ///
    /// # Errors
    /// A flag is unknown or its value does not parse.
    pub fn from_flags<I, T>(flags: I) -> Result<Config, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        let parser = Cli::parser().mut_args(|arg| arg.env(clap::builder::Resettable::Reset));
        let args = std::iter::once(std::ffi::OsString::from("ssh-chatroom"))
            .chain(flags.into_iter().map(Into::into));
        let matches = parser.try_get_matches_from(args)?;
        let cli = <Cli as clap::FromArgMatches>::from_arg_matches(&matches)?;
        Ok(cli.config)
    }

    /// This server's name in the cluster: `--node-name`, else the host name and a random
    /// suffix (so a restarted node is a new node).
    pub fn node(&self) -> String {
        if let Some(name) = &self.node_name {
            return name.clone();
        }
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_string())
            .unwrap_or_else(|_| "node".into());
        format!("{host}-{:04x}", rand::random::<u16>())
    }

    /// The time zone for schedules: the flag, else `$TZ`, else the system's, else UTC.
    pub fn time_zone(&self) -> Tz {
        if let Some(tz) = self.timezone {
            return tz;
        }
        let from_env = std::env::var("TZ")
            .ok()
            .map(|v| v.trim_start_matches(':').to_string());
        from_env
            .into_iter()
            .chain(iana_time_zone::get_timezone().ok())
            .find_map(|name| name.parse().ok())
            .unwrap_or(Tz::UTC)
    }

    /// The message of the day, cleaned of control characters; empty without `--motd`.
    ///
    /// # Errors
    /// The file cannot be read.
    pub fn motd_lines(&self) -> anyhow::Result<Vec<String>> {
        let Some(path) = &self.motd else {
            return Ok(Vec::new());
        };
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("reading --motd {}: {e}", path.display()))?;
        Ok(text.lines().map(crate::chat::text::sanitize).collect())
    }

    /// Where a participant's transcript lives.
    pub fn transcripts_dir(&self) -> Option<PathBuf> {
        (!self.no_user_logs).then(|| self.log_dir.join("users"))
    }

    /// Where the server log lives.
    pub fn server_log(&self) -> Option<PathBuf> {
        (!self.no_server_log).then(|| self.log_dir.join("server.txt"))
    }

    /// The default room's name.
    ///
    /// # Errors
    /// `--default-room` breaks the room name rules.
    pub fn default_room(&self) -> anyhow::Result<crate::chat::room_name::RoomName> {
        crate::chat::room_name::RoomName::parse(&self.default_room)
            .map_err(|e| anyhow::anyhow!("--default-room \"{}\": {e}", self.default_room))
    }

    /// Where pending scheduled messages are kept.
    pub fn schedules_file(&self) -> PathBuf {
        self.data_dir.join("schedules.json")
    }

    /// Where registered nicknames are kept.
    pub fn names_file(&self) -> PathBuf {
        self.data_dir.join("names.json")
    }

    /// Where server bans and lasting kick-bans are kept.
    pub fn bans_file(&self) -> PathBuf {
        self.data_dir.join("bans.json")
    }

    /// Where a lone server keeps remembered personal settings (SPEC §12).
    pub fn preferences_file(&self) -> PathBuf {
        self.data_dir.join("preferences.json")
    }

    /// Whether `user` is a generic login that gets the nickname prompt.
    pub fn is_generic_user(&self, user: &str) -> bool {
        self.generic_users
            .iter()
            .any(|g| g.eq_ignore_ascii_case(user))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_spec() {
        let c = Config::default();
        assert_eq!(c.listen.to_string(), "0.0.0.0:9999");
        assert_eq!(c.capacity, 10);
        assert_eq!(c.max_message_bytes, 1024);
        assert_eq!(c.max_schedules_per_user, 5);
        assert!(c.is_generic_user("chat") && c.is_generic_user("CHAT"));
        assert_eq!(c.host_key, PathBuf::from("keys/ssh_host_ed25519_key"));
    }

    #[test]
    fn flags_override() {
        let c = Cli::parse_from([
            "x",
            "--capacity",
            "3",
            "--timezone",
            "Asia/Seoul",
            "--admin-key",
            "SHA256:abc",
            "--generic-user",
            "guest",
        ])
        .config;
        assert_eq!(c.capacity, 3);
        assert_eq!(c.time_zone(), chrono_tz::Asia::Seoul);
        assert_eq!(c.admin_keys, vec!["SHA256:abc".to_string()]);
        assert!(c.is_generic_user("guest") && !c.is_generic_user("chat"));
    }

    #[test]
    fn trusted_proxies_are_addresses_or_ranges() {
        assert!(Config::default().trusted_proxy.is_empty());
        let c = Cli::parse_from(["x", "--trusted-proxy", "127.0.0.1,10.0.0.0/8"]).config;
        let shown: Vec<String> = c.trusted_proxy.iter().map(|n| n.to_string()).collect();
        assert_eq!(shown, ["127.0.0.1", "10.0.0.0/8"]);
        let err = Cli::try_parse_from(["x", "--trusted-proxy", "lb.example"]).unwrap_err();
        assert!(err.to_string().contains("CIDR"), "{err}");
    }
}
