//! `--self-serve`: the server started in this process, in a temporary folder, with the
//! limits that would throttle a load generator switched off.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use ssh_chatroom::config::Config;
use ssh_chatroom::room::Clock;
use ssh_chatroom::server::{start, RunningServer};

use crate::Target;

/// The server a benchmark talks to; stops the in-process one (if any) when finished.
pub struct Server {
    pub addr: SocketAddr,
    running: Option<(RunningServer, PathBuf)>,
}

/// What the in-process server is configured with, for the report.
pub const SELF_SERVE_LIMITS: &str =
    "self-serve: message_rate=0 max_conns_per_ip=0 max_handshakes=0 no_user_logs";

impl Server {
    /// Uses `target.addr`, or starts a server with room for `capacity` participants.
    ///
    /// # Errors
    /// The temp folder cannot be made or the server does not start.
    pub async fn from_target(target: &Target, capacity: usize) -> anyhow::Result<Server> {
        if let Some(addr) = target.addr {
            return Ok(Server {
                addr,
                running: None,
            });
        }
        let dir = std::env::temp_dir().join(format!(
            "ssh-chatroom-bench-{}-{:x}",
            std::process::id(),
            rand::random::<u32>()
        ));
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let config = Config {
            listen: "127.0.0.1:0".parse().expect("valid literal address"),
            capacity,
            log_dir: dir.join("logs"),
            data_dir: dir.join("data"),
            host_key: dir.join("keys/ssh_host_ed25519_key"),
            admins_file: dir.join("keys/admins"),
            timezone: Some(chrono_tz::UTC),
            message_rate: 0.0,
            max_conns_per_ip: 0,
            max_handshakes: 0,
            no_user_logs: true,
            max_rooms: 100_000,
            ..Config::default()
        };
        let running = start(config, Clock::System).await?;
        Ok(Server {
            addr: running.local_addr,
            running: Some((running, dir)),
        })
    }

    /// Which limits the report should say were in force.
    pub fn limits(&self) -> &'static str {
        match self.running {
            Some(_) => SELF_SERVE_LIMITS,
            None => "external server: as started (see BENCHMARKS.md for the flags)",
        }
    }

    /// Whether the server runs in this process (its RSS would include the client's).
    pub fn in_process(&self) -> bool {
        self.running.is_some()
    }

    /// Shuts the in-process server down and removes its folder.
    pub async fn stop(self) {
        if let Some((running, dir)) = self.running {
            running.shutdown().await;
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}
