//! `bench takeover`: how long a room of a cluster goes silent when a node dies. N users
//! enter one room through the surviving nodes (`--addr`, round-robin; user 0, the
//! sender, through the first); the sender types a numbered line every `--interval-ms`;
//! after `--before` seconds the node `--kill-pid` gets SIGKILL. The report gives the
//! time from the kill until the first line typed after it had reached every user, and
//! how many lines typed after it were refused (a `[Server]:` reply instead of the echo)
//! or lost (neither).
//!
//! The sender types on until that line has reached everyone and [`AFTER_RECOVERY`] more,
//! or for `--timeout` s after the kill; then the run waits at most `--timeout` s more
//! for the last lines to be echoed or refused.

mod report;
mod watch;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use tokio::sync::Semaphore;
use tokio::time::MissedTickBehavior;

use crate::client::{ssh_config, Kex};
use crate::serve::Server;
use report::{refusals, report, Kill, Outcome};
use watch::User;

/// How long the sender goes on typing once a line typed after the kill has reached
/// every user: the lines of that second show whether the room stays up.
const AFTER_RECOVERY: Duration = Duration::from_secs(1);

/// Arguments of `bench takeover`.
#[derive(Debug, Args)]
pub struct TakeoverArgs {
    /// The nodes the users connect to, comma-separated: the survivors, not the node to
    /// be killed. User i goes to the (i mod n)-th; user 0, the sender, to the first.
    #[arg(long, value_delimiter = ',', required = true)]
    pub addr: Vec<SocketAddr>,
    /// The room everyone enters, with an exec request naming it (as `ssh -t HOST
    /// '#bench'` does).
    #[arg(long, default_value = "#bench")]
    pub room: String,
    /// Users in the room, all counted as receivers (user 0 also sends).
    #[arg(long, default_value_t = 10)]
    pub users: usize,
    /// The process to SIGKILL: the node to lose.
    #[arg(long)]
    pub kill_pid: u32,
    /// The sender types a numbered line every this many milliseconds.
    #[arg(long, default_value_t = 50)]
    pub interval_ms: u64,
    /// Seconds of normal traffic before the kill.
    #[arg(long, default_value_t = 3.0)]
    pub before: f64,
    /// Seconds after the kill within which a line must reach everyone, and that the
    /// last lines get to be echoed or refused.
    #[arg(long, default_value_t = 15.0)]
    pub timeout: f64,
    /// The node to be killed: before the others, one extra user enters the room there,
    /// so that the room is first opened on that node (uncounted; it dies with it).
    #[arg(long)]
    pub victim_addr: Option<SocketAddr>,
    /// Key exchange the clients ask for first (see `fanout --help`).
    #[arg(long, value_enum, default_value_t = Kex::Mlkem768x25519)]
    pub kex: Kex,
}

/// Runs the benchmark and prints the report.
///
/// # Errors
/// Bad arguments, a user cannot join, the sync line does not reach everyone, or the
/// kill fails.
pub async fn run(args: TakeoverArgs) -> anyhow::Result<()> {
    check(&args)?;
    let server = Server::at(args.addr.clone());
    let run_id = format!("{:04x}", rand::random::<u16>());
    let tag = format!("#{run_id}:");
    let config = ssh_config(args.kex);
    let _victim = match args.victim_addr {
        Some(addr) => {
            let nickname = format!("t{run_id}_v");
            Some(User::join(config.clone(), addr, &nickname, &args.room, &tag).await?)
        }
        None => None,
    };
    let users = join_all(&args, &server, &run_id, &tag).await?;
    sync(&users, &tag).await?;

    let interval = Duration::from_millis(args.interval_ms);
    let mut typist = Typist::new(&users[0], &tag, interval);
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs_f64(args.before) {
        typist.type_next().await?;
    }
    let killed_at = Instant::now();
    kill(args.kill_pid).await?;
    let kill = Kill {
        after: killed_at - started,
        took: killed_at.elapsed(),
    };
    let first_after = typist.typed.len();
    let timeout = Duration::from_secs_f64(args.timeout);
    let mut recovered_at = None;
    while killed_at.elapsed() < timeout {
        if recovered_at.is_some_and(|at: Instant| at.elapsed() >= AFTER_RECOVERY) {
            break;
        }
        typist.type_next().await?;
        if recovered_at.is_none()
            && (first_after..typist.typed.len()).any(|g| users.iter().all(|u| u.has(g)))
        {
            recovered_at = Some(Instant::now());
        }
    }
    let typed = typist.typed;
    drain(&users, &typed, first_after, killed_at, timeout).await;

    let seen: Vec<_> = users.iter().map(User::seen).collect();
    let outcome = Outcome::new(&typed, first_after, killed_at, &seen);
    report(&args, &server.spread(0..args.users), &kill, &outcome);
    Ok(())
}

/// Refuses arguments that would measure nothing or kill the wrong process.
fn check(args: &TakeoverArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.users > 0, "--users must be at least 1");
    anyhow::ensure!(args.interval_ms > 0, "--interval-ms must be at least 1");
    for (name, secs) in [("--before", args.before), ("--timeout", args.timeout)] {
        anyhow::ensure!(
            secs.is_finite() && secs >= 0.0,
            "{name} must be >= 0 seconds"
        );
    }
    // `kill -9 0` would hit this process group, `kill -9 -1` every process.
    anyhow::ensure!(
        args.kill_pid > 1 && args.kill_pid != std::process::id(),
        "--kill-pid must be another process's id"
    );
    anyhow::ensure!(
        std::path::Path::new(&format!("/proc/{}", args.kill_pid)).exists(),
        "no process {} to kill",
        args.kill_pid
    );
    Ok(())
}

/// Joins every user into the room, 20 at a time.
async fn join_all(
    args: &TakeoverArgs,
    server: &Server,
    run_id: &str,
    tag: &str,
) -> anyhow::Result<Vec<User>> {
    let config = ssh_config(args.kex);
    let gate = Arc::new(Semaphore::new(20));
    let mut joining = Vec::with_capacity(args.users);
    for index in 0..args.users {
        let (config, gate) = (config.clone(), gate.clone());
        let (addr, room, tag) = (server.addr(index), args.room.clone(), tag.to_string());
        let nickname = format!("t{run_id}_{index}");
        joining.push(tokio::spawn(async move {
            let _permit = gate.acquire_owned().await?;
            User::join(config, addr, &nickname, &room, &tag).await
        }));
    }
    let mut users = Vec::with_capacity(args.users);
    for (index, task) in joining.into_iter().enumerate() {
        users.push(
            task.await?
                .with_context(|| format!("user {index} joining"))?,
        );
    }
    Ok(users)
}

/// The sender says the sync line; waits until everyone has seen it, so every user is
/// in the room and every earlier line (join notices, history) is behind.
async fn sync(users: &[User], tag: &str) -> anyhow::Result<()> {
    users[0].say(&format!("{tag}sync")).await?;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let synced = users.iter().filter(|u| u.synced()).count();
        if synced == users.len() {
            return Ok(());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "only {synced} of {} users saw the sync line within 60 s (are all --addr \
             nodes of one cluster?)",
            users.len()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The sender's keyboard: a numbered line at each tick, each one's typing time kept.
struct Typist<'a> {
    user: &'a User,
    tag: &'a str,
    tick: tokio::time::Interval,
    /// When line `g` was typed.
    typed: Vec<Instant>,
}

impl<'a> Typist<'a> {
    fn new(user: &'a User, tag: &'a str, interval: Duration) -> Typist<'a> {
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        Typist {
            user,
            tag,
            tick,
            typed: Vec::new(),
        }
    }

    /// Waits for the next tick and types the next line.
    async fn type_next(&mut self) -> anyhow::Result<()> {
        self.tick.tick().await;
        let g = self.typed.len();
        self.typed.push(Instant::now());
        self.user
            .say(&format!("{}{g}", self.tag))
            .await
            .context("the sender's session failed")
    }
}

/// SIGKILLs `pid` with the `kill` command (the workspace forbids `unsafe`, which
/// `libc::kill` needs).
async fn kill(pid: u32) -> anyhow::Result<()> {
    let status = tokio::process::Command::new("kill")
        .arg("-9")
        .arg(pid.to_string())
        .status()
        .await
        .context("running kill")?;
    anyhow::ensure!(status.success(), "kill -9 {pid} failed: {status}");
    Ok(())
}

/// Waits until every line typed after the kill is echoed to the sender or refused, and
/// every echoed line has reached everyone; at most `timeout` after the last line.
async fn drain(
    users: &[User],
    typed: &[Instant],
    first_after: usize,
    killed_at: Instant,
    timeout: Duration,
) {
    let deadline = typed.last().map_or(killed_at, |&t| t) + timeout;
    // Whether each line typed after the kill, once echoed, has reached everyone: checked
    // until it has, not after.
    let mut complete = vec![false; typed.len() - first_after];
    while Instant::now() < deadline {
        let mut echoed = 0;
        let mut everyone = true;
        for (g, done) in (first_after..).zip(complete.iter_mut()) {
            if *done || users[0].has(g) {
                echoed += 1;
                *done = *done || users.iter().all(|u| u.has(g));
                everyone &= *done;
            }
        }
        let notices: Vec<_> = users.iter().map(User::notices).collect();
        let refused = refusals(&notices, killed_at).len();
        if everyone && echoed + refused >= typed.len() - first_after {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
