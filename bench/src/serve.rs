//! Where the benchmark's users connect: the `--addr` list (one server, or the nodes of a
//! cluster, over which users are spread round-robin), or with `--self-serve` the server
//! started in this process, in a temporary folder, with the limits that would throttle a
//! load generator switched off.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use ssh_chatroom::config::Config;
use ssh_chatroom::room::Clock;
use ssh_chatroom::server::{start, RunningServer};

use crate::Target;

/// The server a benchmark talks to; stops the in-process one (if any) when finished.
pub struct Server {
    /// Never empty: `--addr` is required without `--self-serve`.
    addrs: Vec<SocketAddr>,
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
        if !target.addr.is_empty() {
            return Ok(Server::at(target.addr.clone()));
        }
        let dir = std::env::temp_dir().join(format!(
            "ssh-chatroom-bench-{}-{:x}",
            std::process::id(),
            rand::random::<u32>()
        ));
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let config = Config {
            capacity,
            max_handshakes: 0,
            no_user_logs: true,
            max_rooms: 100_000,
            ..Config::from_flags(testkit::server_flags(&dir))?
        };
        let running = start(config, Clock::System).await?;
        Ok(Server {
            addrs: vec![running.local_addr],
            running: Some((running, dir)),
        })
    }

    /// Running servers at `addrs` (not empty).
    pub fn at(addrs: Vec<SocketAddr>) -> Server {
        assert!(!addrs.is_empty(), "clap requires at least one --addr");
        Server {
            addrs,
            running: None,
        }
    }

    /// Where user (or session) `index` connects: the addresses taken round-robin.
    pub fn addr(&self, index: usize) -> SocketAddr {
        self.addrs[index % self.addrs.len()]
    }

    /// With several addresses, each with how many of the users (or sessions) numbered
    /// `indices` went to it, as [`Server::addr`] spreads them; empty with one address, so
    /// that a single server's report stays as it was.
    pub fn spread(&self, indices: impl IntoIterator<Item = usize>) -> Vec<(SocketAddr, usize)> {
        if self.addrs.len() < 2 {
            return Vec::new();
        }
        let mut spread: Vec<_> = self.addrs.iter().map(|&addr| (addr, 0)).collect();
        for index in indices {
            spread[index % self.addrs.len()].1 += 1;
        }
        spread
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

/// `127.0.0.1:7001: 4 users, 127.0.0.1:7002: 3 users` (`what` = "users").
pub fn spread_line(spread: &[(SocketAddr, usize)], what: &str) -> String {
    let parts: Vec<String> = spread
        .iter()
        .map(|(addr, n)| format!("{addr}: {n} {what}"))
        .collect();
    parts.join(", ")
}

/// The addresses and the counts of a spread, as two JSON arrays in the same order.
pub fn spread_json(spread: &[(SocketAddr, usize)]) -> (serde_json::Value, serde_json::Value) {
    let addrs: Vec<String> = spread.iter().map(|(addr, _)| addr.to_string()).collect();
    let counts: Vec<usize> = spread.iter().map(|&(_, n)| n).collect();
    (addrs.into(), counts.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_are_spread_round_robin() {
        let a: SocketAddr = "127.0.0.1:7001".parse().unwrap();
        let b: SocketAddr = "127.0.0.1:7002".parse().unwrap();
        let two = Server::at(vec![a, b]);
        assert_eq!((two.addr(0), two.addr(1), two.addr(4)), (a, b, a));
        assert_eq!(two.spread(0..5), [(a, 3), (b, 2)]);
        assert_eq!(
            spread_line(&two.spread([1]), "users"),
            "127.0.0.1:7001: 0 users, 127.0.0.1:7002: 1 users"
        );
        let one = Server::at(vec![a]);
        assert_eq!(one.addr(3), a);
        assert!(
            one.spread(0..5).is_empty(),
            "one address: the report stays as it was"
        );
    }
}
