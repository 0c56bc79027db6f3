//! The evidence for a finding, in words a person can check against the nodes' own logs:
//! instants both as seconds into the soak and as wall-clock UTC (as `server.txt` writes
//! them), where a line was logged by the room that carried it, and what each node's
//! service log said about its contact with NATS around then.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use super::roster::LineId;

/// The soak's clock and the nodes' logs, read once at the end.
pub struct Evidence {
    t0: Instant,
    wall0: DateTime<Utc>,
    /// Each node's name, its `server.txt` and its service log (stderr).
    logs: Vec<(String, String, String)>,
}

impl Evidence {
    /// Reads the logs of the nodes in `dirs` (named by the folder's name).
    pub fn new(t0: Instant, wall0: DateTime<Utc>, dirs: &[PathBuf]) -> Evidence {
        let read = |p: PathBuf| std::fs::read_to_string(p).unwrap_or_default();
        let logs = dirs
            .iter()
            .map(|d| {
                let name = d
                    .file_name()
                    .map_or(String::new(), |n| n.to_string_lossy().into());
                (
                    name,
                    read(d.join("logs/server.txt")),
                    read(d.join("stderr.txt")),
                )
            })
            .collect();
        Evidence { t0, wall0, logs }
    }

    /// `+12.345 s (17:01:02.345Z)`.
    pub fn when(&self, at: Instant) -> String {
        let since = at.saturating_duration_since(self.t0);
        let wall = self.wall(at);
        format!(
            "+{:.3} s ({})",
            since.as_secs_f64(),
            wall.format("%H:%M:%S%.3fZ")
        )
    }

    /// Seconds from the soak's start.
    pub fn secs(&self, at: Instant) -> f64 {
        at.saturating_duration_since(self.t0).as_secs_f64()
    }

    fn wall(&self, at: Instant) -> DateTime<Utc> {
        let since = at.saturating_duration_since(self.t0);
        self.wall0 + chrono::Duration::from_std(since).unwrap_or_default()
    }

    /// Where line `text` (`chaos u07 15`) was logged as a MESSAGE: `n2: <log line>`.
    pub fn logged(&self, text: &str) -> Vec<String> {
        let end = format!(" >> {text}");
        let mut found = Vec::new();
        for (node, server, _) in &self.logs {
            for l in server.lines() {
                if l.ends_with(&end) && l.contains(" MESSAGE ") {
                    found.push(format!("{node}: {l}"));
                }
            }
        }
        found
    }

    /// What node `node`'s service log said about NATS, rooms taken over and nodes lost
    /// or stopped within `around` of `at`.
    pub fn cluster_lines(&self, node: &str, at: Instant, around: Duration) -> Vec<String> {
        let wall = self.wall(at);
        let around = chrono::Duration::from_std(around).unwrap_or_default();
        let Some((_, server, service)) = self.logs.iter().find(|(n, _, _)| n == node) else {
            return Vec::new();
        };
        let wanted = [
            "contact with NATS",
            "taken over",
            "node n",
            "lease",
            "reconnect",
        ];
        service
            .lines()
            .chain(server.lines())
            .filter(|l| wanted.iter().any(|w| l.contains(w)))
            .filter(|l| {
                let stamp = l.split_whitespace().next().unwrap_or_default();
                DateTime::parse_from_rfc3339(stamp)
                    .is_ok_and(|t| (t.with_timezone(&Utc) - wall).abs() <= around)
            })
            .map(|l| format!("{node}: {}", l.trim()))
            .collect()
    }
}

/// `chaos u07 15` for line `(7, 15)` of users named `names`.
pub fn text_of(names: &[String], id: LineId) -> String {
    super::roster::line_text(&names[id.0], id.1)
}
