//! `bench connect`: opens N sessions (pty + shell, each counted once its welcome has
//! arrived) with C in flight, reports the setup time distribution and sessions/s, and,
//! given the server's pid (or the pids of a cluster's nodes, summed), its RSS per idle
//! session while all N are held. With several `--addr`, session i goes to the
//! (i mod n)-th and the report says how many opened on each.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;
use russh::{client, ChannelWriteHalf};
use serde_json::json;
use tokio::sync::{oneshot, Semaphore};

use crate::client::{open_shell, ssh_config, Client, LineBuf, Output, Session};
use crate::procfs::{cpu_time, elapsed_cpu, rss_kib, steal_time, Pids};
use crate::serve::{spread_json, spread_line, Server};
use crate::stats::{nanos, round3, Distribution};
use crate::Target;
use testkit::user_key;

/// Arguments of `bench connect`.
#[derive(Debug, Args)]
pub struct ConnectArgs {
    #[command(flatten)]
    pub target: Target,
    /// Sessions to open and hold.
    #[arg(long, default_value_t = 100)]
    pub sessions: usize,
    /// Sessions being set up at once.
    #[arg(long, default_value_t = 20)]
    pub concurrency: usize,
    /// The server's process id: its VmRSS is read before and while the sessions are
    /// held. Several comma-separated (a cluster's nodes): their figures are summed.
    #[arg(long, value_delimiter = ',')]
    pub server_pid: Vec<u32>,
    /// Seconds to hold all sessions before reading the RSS (lets join notices settle).
    #[arg(long, default_value_t = 3)]
    pub settle: u64,
    /// Seconds one session may take to get its welcome.
    #[arg(long, default_value_t = 60)]
    pub welcome_timeout: u64,
}

/// Runs the benchmark and prints the report.
///
/// # Errors
/// The server cannot be reached or started.
pub async fn run(args: ConnectArgs, nofile: u64) -> anyhow::Result<()> {
    let server = Server::from_target(&args.target, args.sessions + 16).await?;
    let pids = Pids::new(if server.in_process() {
        Vec::new()
    } else {
        args.server_pid.clone()
    });
    let rss_before = pids.rss_kib();
    let client_before = rss_kib(std::process::id());
    let cpu_before = (pids.cpu_time(), cpu_time(std::process::id()));
    let closed = Arc::new(AtomicUsize::new(0));
    // A person's key exists before they connect: made before the clock starts.
    let keys: Vec<_> = (0..args.sessions).map(|_| user_key()).collect();
    let steal_before = steal_time();
    let started = Instant::now();
    let opened = open_all(&args, &server, &closed, keys).await?;
    let total = started.elapsed();
    let steal = steal_time()
        .zip(steal_before)
        .map(|(now, before)| now.saturating_sub(before));
    let cpu = (
        elapsed_cpu(cpu_before.0, pids.cpu_time()),
        elapsed_cpu(cpu_before.1, cpu_time(std::process::id())),
    );
    tokio::time::sleep(Duration::from_secs(args.settle)).await;
    let rss_held = pids.rss_kib();
    let client_held = rss_kib(std::process::id());
    let dropped = closed.load(Ordering::Acquire);
    let report = Report {
        args: &args,
        opened: opened.held.len(),
        spread: server.spread(opened.indices),
        errors: opened.errors,
        setup: Distribution::from_nanos(opened.setup),
        total,
        cpu,
        steal,
        dropped,
        rss: rss_before.zip(rss_held),
        client_rss: client_before.zip(client_held),
        limits: server.limits(),
        nofile,
    };
    report.print();
    drop(opened.held);
    server.stop().await;
    Ok(())
}

/// The sessions that opened (kept open while held), their numbers, their setup times in
/// nanoseconds, and why the others failed.
struct Opened {
    held: Vec<(
        client::Handle<Client<Watcher>>,
        ChannelWriteHalf<client::Msg>,
    )>,
    indices: Vec<usize>,
    setup: Vec<u64>,
    errors: Vec<String>,
}

/// Opens `--sessions` sessions, `--concurrency` at a time, each done once its welcome
/// has arrived; a failed session is recorded, not fatal.
async fn open_all(
    args: &ConnectArgs,
    server: &Server,
    closed: &Arc<AtomicUsize>,
    keys: Vec<russh::keys::PrivateKey>,
) -> anyhow::Result<Opened> {
    let gate = Arc::new(Semaphore::new(args.concurrency.max(1)));
    let config = ssh_config(args.target.kex);
    let run_id = format!("{:04x}", rand::random::<u16>());
    let timeout = Duration::from_secs(args.welcome_timeout);
    let mut tasks = Vec::with_capacity(args.sessions);
    for (index, key) in keys.into_iter().enumerate() {
        let (gate, config, closed) = (gate.clone(), config.clone(), closed.clone());
        let nickname = format!("c{run_id}_{index}");
        let addr = server.addr(index);
        tasks.push(tokio::spawn(async move {
            let _permit = gate.acquire_owned().await?;
            let t0 = Instant::now();
            let (welcomed, welcome) = oneshot::channel();
            let watcher = Watcher {
                welcomed: Some(welcomed),
                lines: LineBuf::default(),
                closed: Some(closed),
            };
            let Session { handle, writer } =
                open_shell(config, addr, &nickname, key, watcher).await?;
            tokio::time::timeout(timeout, welcome)
                .await
                .map_err(|_| anyhow::anyhow!("no welcome within {timeout:?}"))?
                .map_err(|_| anyhow::anyhow!("closed before the welcome"))?;
            anyhow::Ok((t0.elapsed(), (handle, writer)))
        }));
    }
    let mut opened = Opened {
        held: Vec::with_capacity(args.sessions),
        indices: Vec::with_capacity(args.sessions),
        setup: Vec::with_capacity(args.sessions),
        errors: Vec::new(),
    };
    for (index, task) in tasks.into_iter().enumerate() {
        match task.await? {
            Ok((took, session)) => {
                opened.indices.push(index);
                opened.setup.push(nanos(took));
                opened.held.push(session);
            }
            Err(error) => opened.errors.push(format!("{error:#}")),
        }
    }
    Ok(opened)
}

/// A held session's output: signals the welcome, then throws data away, and counts
/// the session once if the server closes it.
struct Watcher {
    welcomed: Option<oneshot::Sender<()>>,
    lines: LineBuf,
    closed: Option<Arc<AtomicUsize>>,
}

impl Output for Watcher {
    fn data(&mut self, data: &[u8]) {
        if self.welcomed.is_some() {
            let welcomed = &mut self.welcomed;
            self.lines.push(data, |line| {
                if line.contains("Welcome to ") {
                    let _ = welcomed.take().map(|w| w.send(()));
                }
            });
        }
    }

    fn closed(&mut self) {
        if let Some(closed) = self.closed.take() {
            closed.fetch_add(1, Ordering::AcqRel);
        }
    }
}

struct Report<'a> {
    args: &'a ConnectArgs,
    opened: usize,
    /// Sessions opened on each address, with several (empty with one).
    spread: Vec<(SocketAddr, usize)>,
    errors: Vec<String>,
    setup: Option<Distribution>,
    total: Duration,
    /// CPU time the server and the bench used while the sessions were being opened.
    cpu: (Option<Duration>, Option<Duration>),
    /// CPU time the VM's host took away while the sessions were being opened.
    steal: Option<Duration>,
    dropped: usize,
    rss: Option<(u64, u64)>,
    client_rss: Option<(u64, u64)>,
    limits: &'static str,
    nofile: u64,
}

impl Report<'_> {
    fn per_s(&self) -> f64 {
        self.opened as f64 / self.total.as_secs_f64()
    }

    /// Microseconds of CPU per opened session.
    fn cpu_per_session(&self, cpu: Option<Duration>) -> Option<f64> {
        cpu.map(|c| round3(c.as_secs_f64() * 1e6 / self.opened.max(1) as f64))
    }

    /// KiB per open session between two RSS readings.
    fn per_session(&self, (before, held): (u64, u64)) -> f64 {
        round3(held.saturating_sub(before) as f64 / self.opened.max(1) as f64)
    }

    /// Prints the human summary, then the JSON line.
    fn print(&self) {
        println!(
            "connect: {} of {} sessions open ({} failed) with {} in flight in {:.2} s = {:.0} sessions/s",
            self.opened,
            self.args.sessions,
            self.errors.len(),
            self.args.concurrency,
            self.total.as_secs_f64(),
            self.per_s()
        );
        println!("  limits: {}", self.limits);
        if !self.spread.is_empty() {
            println!(
                "  opened per address: {}",
                spread_line(&self.spread, "sessions")
            );
        }
        if let Some(first) = self.errors.first() {
            println!("  first error: {first}");
        }
        if let Some(d) = &self.setup {
            println!("  setup: {}", d.human());
        }
        for (who, cpu) in [("server", self.cpu.0), ("bench", self.cpu.1)] {
            if let Some(per) = self.cpu_per_session(cpu) {
                println!("  {who} CPU while opening: {per:.0} us per session");
            }
        }
        if let Some(steal) = self.steal {
            println!("  VM steal time while opening: {} ms", steal.as_millis());
        }
        println!("  closed by the server while held: {}", self.dropped);
        if let Some(rss) = self.rss {
            println!(
                "  server RSS: {} KiB before, {} KiB held = {:.1} KiB per session",
                rss.0,
                rss.1,
                self.per_session(rss)
            );
        }
        if let Some(rss) = self.client_rss {
            println!("  bench RSS: {:.1} KiB per session", self.per_session(rss));
        }
        println!("{}", self.json_line());
    }

    fn json_line(&self) -> serde_json::Value {
        let mut line = json!({
            "bench": "connect",
            "sessions": self.args.sessions,
            "opened": self.opened,
            "failed": self.errors.len(),
            "first_error": self.errors.first(),
            "concurrency": self.args.concurrency,
            "total_s": round3(self.total.as_secs_f64()),
            "sessions_per_s": self.per_s().round(),
            "setup_p50_ms": self.setup.as_ref().map(|d| d.p50_ms),
            "setup_p90_ms": self.setup.as_ref().map(|d| d.p90_ms),
            "setup_p99_ms": self.setup.as_ref().map(|d| d.p99_ms),
            "setup_max_ms": self.setup.as_ref().map(|d| d.max_ms),
            "server_cpu_us_per_session": self.cpu_per_session(self.cpu.0),
            "bench_cpu_us_per_session": self.cpu_per_session(self.cpu.1),
            "steal_ms": self.steal.map(|s| s.as_millis() as u64),
            "closed_while_held": self.dropped,
            "server_rss_before_kib": self.rss.map(|r| r.0),
            "server_rss_held_kib": self.rss.map(|r| r.1),
            "server_rss_per_session_kib": self.rss.map(|r| self.per_session(r)),
            "client_rss_per_session_kib": self.client_rss.map(|r| self.per_session(r)),
            "limits": self.limits,
            "nofile": self.nofile,
        });
        if let (Some(map), false) = (line.as_object_mut(), self.spread.is_empty()) {
            let (addrs, counts) = spread_json(&self.spread);
            map.insert("addrs".into(), addrs);
            map.insert("sessions_per_addr".into(), counts);
        }
        line
    }
}
