//! `bench schedule`: schedules messages for the coming minutes and measures, on the wall
//! clock, how late each `[Scheduled by ...]` line arrives after its minute starts.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use chrono_tz::Tz;
use clap::Args;
use russh::{client, ChannelWriteHalf};
use serde_json::json;
use testkit::strip_escapes;
use tokio::sync::mpsc;

use crate::client::{open_shell, ssh_config, Client, Kex, LineBuf, Output};
use crate::serve::Server;
use crate::stats::round3;
use crate::Target;
use testkit::user_key;

/// Arguments of `bench schedule`.
#[derive(Debug, Args)]
pub struct ScheduleArgs {
    #[command(flatten)]
    pub target: Target,
    /// Messages to schedule, one per coming minute (at most 5, the server's default
    /// per-user limit); the run takes about this many minutes.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=5))]
    pub rounds: u32,
}

/// A visible line of output and when it arrived (wall clock).
type Seen = (String, DateTime<Utc>);

/// Reads the session's lines into a queue until it closes.
struct Lines(mpsc::UnboundedReceiver<Seen>);

/// The session's output: each visible line, without colours, with its arrival time.
struct LineFeed {
    lines: LineBuf,
    to: mpsc::UnboundedSender<Seen>,
}

impl Output for LineFeed {
    fn data(&mut self, data: &[u8]) {
        let at = Utc::now();
        let to = &self.to;
        self.lines.push(data, |l| {
            let _ = to.send((strip_escapes(l), at));
        });
    }

    fn closed(&mut self) {}
}

impl Lines {
    /// The first line after those already read that contains `needle`.
    async fn expect(&mut self, needle: &str, within: Duration) -> anyhow::Result<Seen> {
        let wait = async {
            while let Some((line, at)) = self.0.recv().await {
                if line.contains(needle) {
                    return Some((line, at));
                }
            }
            None
        };
        tokio::time::timeout(within, wait)
            .await
            .with_context(|| format!("no {needle:?} within {within:?}"))?
            .with_context(|| format!("session closed before {needle:?}"))
    }
}

/// One participant that schedules messages and watches for them.
struct Scheduler {
    _handle: client::Handle<Client<LineFeed>>,
    writer: ChannelWriteHalf<client::Msg>,
    lines: Lines,
    nick: String,
    run_id: String,
}

/// How long a reply to a command may take.
const REPLY: Duration = Duration::from_secs(10);

impl Scheduler {
    /// Joins with a nickname unique to this run and waits for the welcome.
    async fn join(addr: SocketAddr, kex: Kex) -> anyhow::Result<Scheduler> {
        let run_id = format!("{:04x}", rand::random::<u16>());
        let nick = format!("s{run_id}");
        let (to, rx) = mpsc::unbounded_channel();
        let feed = LineFeed {
            lines: LineBuf::default(),
            to,
        };
        let session = open_shell(ssh_config(kex), addr, &nick, user_key(), feed).await?;
        let mut lines = Lines(rx);
        lines.expect("Welcome to ", REPLY).await?;
        Ok(Scheduler {
            _handle: session.handle,
            writer: session.writer,
            lines,
            nick,
            run_id,
        })
    }

    async fn send(&self, line: String) -> anyhow::Result<()> {
        Ok(self.writer.data_bytes(line.into_bytes()).await?)
    }

    /// The server's zone, from the reply to a probe that is cancelled at once.
    async fn server_zone(&mut self) -> anyhow::Result<Tz> {
        self.send("/schedule 00:00 probe\r".to_string()).await?;
        let (reply, _) = self.lines.expect("Message scheduled for", REPLY).await?;
        let tz = zone_of(&reply).with_context(|| format!("no time zone in {reply:?}"))?;
        self.send("/unschedule 1\r".to_string()).await?;
        self.lines.expect("[Server]: ", REPLY).await?;
        Ok(tz)
    }

    /// Schedules message `i` for `targets[i]` and checks each confirmation.
    async fn schedule(&mut self, targets: &[DateTime<Utc>], tz: Tz) -> anyhow::Result<()> {
        for (i, at) in targets.iter().enumerate() {
            let local = at.with_timezone(&tz);
            let hhmm = local.format("%H:%M").to_string();
            self.send(format!("/schedule {hhmm} sched-{}-{i}\r", self.run_id))
                .await?;
            let (reply, _) = self.lines.expect("[Server]: ", REPLY).await?;
            let wanted = format!("Message scheduled for {hhmm} ({}", local.format("%Y-%m-%d"));
            anyhow::ensure!(reply.contains(&wanted), "unexpected reply {reply:?}");
        }
        Ok(())
    }

    /// Waits for each message; returns how many ms after its minute each arrived.
    async fn lateness(&mut self, targets: &[DateTime<Utc>], tz: Tz) -> anyhow::Result<Vec<f64>> {
        let mut lateness = Vec::with_capacity(targets.len());
        for (i, at) in targets.iter().enumerate() {
            let until = (*at - Utc::now()).to_std().unwrap_or_default();
            let needle = format!("[Scheduled by {}] sched-{}-{i}", self.nick, self.run_id);
            let within = until + Duration::from_secs(30);
            let (_, arrived) = self.lines.expect(&needle, within).await?;
            let late_ms = (arrived - *at).num_microseconds().unwrap_or(i64::MAX) as f64 / 1000.0;
            let at = at.with_timezone(&tz);
            println!("  {at}: arrived {late_ms:.3} ms after the minute started");
            lateness.push(round3(late_ms));
        }
        Ok(lateness)
    }
}

/// The starts of the next `rounds` minutes, skipping one that begins within 3 s (the
/// current minute counts as past for the server).
fn coming_minutes(rounds: u32) -> anyhow::Result<Vec<DateTime<Utc>>> {
    let minute = TimeDelta::minutes(1);
    let now = Utc::now();
    let mut first = now.duration_trunc(minute)? + minute;
    if first - now < TimeDelta::seconds(3) {
        first += minute;
    }
    Ok((0..rounds).map(|i| first + minute * i as i32).collect())
}

/// Runs the benchmark and prints the report.
///
/// # Errors
/// The server cannot be reached, refuses the schedules, or a message does not arrive.
pub async fn run(args: ScheduleArgs) -> anyhow::Result<()> {
    let server = Server::from_target(&args.target, 16).await?;
    let mut scheduler = Scheduler::join(server.addr(0), args.target.kex).await?;
    let tz = scheduler.server_zone().await?;
    let targets = coming_minutes(args.rounds)?;
    scheduler.schedule(&targets, tz).await?;
    let (first, last) = (targets[0], targets[targets.len() - 1]);
    println!(
        "schedule: {} message(s) for {} .. {} ({tz}); waiting",
        args.rounds,
        first.with_timezone(&tz).format("%H:%M"),
        last.with_timezone(&tz).format("%H:%M"),
    );
    let lateness = scheduler.lateness(&targets, tz).await?;
    let max = lateness.iter().copied().fold(f64::MIN, f64::max);
    let mean = lateness.iter().sum::<f64>() / lateness.len() as f64;
    println!("  limits: {}", server.limits());
    let line = json!({
        "bench": "schedule",
        "rounds": args.rounds,
        "zone": tz.name(),
        "lateness_ms": lateness,
        "max_ms": max,
        "mean_ms": round3(mean),
        "limits": server.limits(),
    });
    println!("{line}");
    drop(scheduler);
    server.stop().await;
    Ok(())
}

/// The zone in `[Server]: Message scheduled for HH:MM (YYYY-MM-DD, ZONE).`
fn zone_of(reply: &str) -> Option<Tz> {
    let inside = reply.rsplit_once('(')?.1;
    let zone = inside.split_once(", ")?.1.strip_suffix(").")?;
    zone.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zone_is_read_from_the_reply() {
        let reply = "[Server]: Message scheduled for 15:30 (2026-11-24, Asia/Seoul).";
        assert_eq!(zone_of(reply), Some(chrono_tz::Asia::Seoul));
        assert_eq!(zone_of("[Server]: nope"), None);
    }
}
