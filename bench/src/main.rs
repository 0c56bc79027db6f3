//! `bench`: a load generator for ssh-chatroom. It opens real SSH sessions (pty + shell)
//! with the russh client against a running server, or one it starts in-process with
//! `--self-serve`, and prints a human summary followed by one JSON line.
//!
//! - [`fanout`]: message latency and throughput in a room of N users.
//! - [`connect`]: session setup time and, given the server's pid, RSS per idle session.
//! - [`schedule`]: how late a scheduled message arrives after its minute starts.
//! - [`takeover`]: in a cluster, how long a room is silent after a node is SIGKILLed,
//!   and what happens meanwhile to the lines typed.
//! - [`floor`]: the floor of this stack, a bare russh line relay to measure against.
//! - [`chaos`]: a cluster of its own under faults for minutes (nodes killed, stopped and
//!   restarted, NATS killed), with the soak's four checks (`testkit::chaos`).
//!
//! `--addr` may list several servers (the nodes of a cluster): the users are spread over
//! them round-robin.
//!
//! See BENCHMARKS.md for the commands and the figures measured with them.

mod chaos;
mod client;
mod connect;
mod fanout;
mod floor;
mod limits;
mod participant;
mod procfs;
mod schedule;
mod serve;
mod stats;
mod takeover;

use std::net::SocketAddr;

use clap::{Args, Parser, Subcommand};

/// Load generator for ssh-chatroom (see BENCHMARKS.md).
#[derive(Debug, Parser)]
#[command(about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Worker threads of the load generator's runtime (default: one per core). A small
    /// room measures best with 1: every client on one thread, the other core left to
    /// the server.
    #[arg(long, global = true)]
    threads: Option<usize>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// N users join; K of them send M lines at R lines/s; per-delivery latency.
    Fanout(fanout::FanoutArgs),
    /// Opens N sessions with C in flight; setup time and RSS per idle session.
    Connect(connect::ConnectArgs),
    /// Schedules messages for the coming minutes and measures how late they arrive.
    Schedule(schedule::ScheduleArgs),
    /// Cluster: SIGKILLs a node while a line is typed every interval; time until the
    /// room delivers again, and the lines refused or lost meanwhile.
    Takeover(takeover::TakeoverArgs),
    /// Serves the floor: a bare russh server relaying each line to every session.
    Floor(floor::FloorArgs),
    /// Cluster: a soak under faults (nodes SIGKILLed, SIGTERMed, NATS killed) with its
    /// own NATS and nodes; lines lost, duplicated or out of order, ghosts, recovery.
    Chaos(chaos::ChaosArgs),
}

/// Where the server is: an address, or one started in this process.
#[derive(Debug, Clone, Args)]
pub struct Target {
    /// Address of a running server, or several comma-separated (the nodes of a cluster):
    /// user i connects to the (i mod n)-th. `schedule` uses the first.
    #[arg(long, value_delimiter = ',', required_unless_present = "self_serve")]
    pub addr: Vec<SocketAddr>,

    /// Start the server in this process on 127.0.0.1:0 (temp dirs, capacity sized to
    /// the run, message rate / per-IP / handshake limits off) instead of using --addr.
    #[arg(long, conflicts_with = "addr")]
    pub self_serve: bool,

    /// Key exchange the clients ask for first: russh's default (mlkem768x25519-sha256,
    /// as OpenSSH 10 clients do) or curve25519-sha256 (as OpenSSH 9.x clients do).
    #[arg(long, value_enum, default_value_t = client::Kex::Mlkem768x25519)]
    pub kex: client::Kex,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let nofile = limits::raise_nofile_limit();
    // One thread: tokio's single-threaded scheduler, which skips work stealing.
    let mut runtime = match cli.threads {
        Some(0 | 1) => tokio::runtime::Builder::new_current_thread(),
        Some(threads) => {
            let mut builder = tokio::runtime::Builder::new_multi_thread();
            builder.worker_threads(threads);
            builder
        }
        None => tokio::runtime::Builder::new_multi_thread(),
    };
    let runtime = runtime.enable_all().build()?;
    // Spawned rather than run by `block_on` itself: `block_on` polls on the main thread,
    // and the pacing timer would then wake a worker thread for every line sent.
    runtime.block_on(async move {
        tokio::spawn(async move {
            match cli.command {
                Command::Fanout(args) => fanout::run(args, nofile).await,
                Command::Connect(args) => connect::run(args, nofile).await,
                Command::Schedule(args) => schedule::run(args).await,
                Command::Takeover(args) => takeover::run(args).await,
                Command::Floor(args) => floor::run(args).await,
                Command::Chaos(args) => chaos::run(args).await,
            }
        })
        .await?
    })
}
