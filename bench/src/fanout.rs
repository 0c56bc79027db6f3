//! `bench fanout`: N users join, K of them send M lines (paced at R lines/s overall, or
//! closed-loop with a window of lines in flight per sender), and every receiver
//! timestamps every line against the send time on one monotonic clock. With several
//! `--addr` (a cluster's nodes), user i connects to the (i mod n)-th.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use russh::{client, ChannelWriteHalf};
use tokio::sync::{mpsc, oneshot, Semaphore};

use crate::client::{open_in_room, ssh_config, Client};
use crate::participant::{Receiver, Shared};
use crate::procfs::{cpu_time, elapsed_cpu, steal_time, Pids};
use crate::serve::Server;
use crate::Target;
use testkit::join_stalled;
use testkit::user_key;

mod comforts;
mod report;

use report::{report, CpuUse, Times};

/// Arguments of `bench fanout`.
#[derive(Debug, Args)]
pub struct FanoutArgs {
    #[command(flatten)]
    pub target: Target,
    /// Users in all (in one room, all of them receive every line).
    #[arg(long, default_value_t = 10)]
    pub users: usize,
    /// Rooms the users are spread over: user i enters room `r<i % rooms>` from the
    /// command line, as `ssh -t HOST r7` does. Each line reaches its sender's room only,
    /// so --senders may be at most --rooms (sender k speaks in room k). 1 = everyone in
    /// the default room.
    #[arg(long, default_value_t = 1)]
    pub rooms: usize,
    /// How many of the users send.
    #[arg(long, default_value_t = 1)]
    pub senders: usize,
    /// Lines sent in total.
    #[arg(long, default_value_t = 100)]
    pub messages: usize,
    /// Lines per second over all senders; 0 = closed loop (see --window).
    #[arg(long, default_value_t = 5.0)]
    pub rate: f64,
    /// Closed loop (--rate 0): lines each sender may have in flight before it has seen
    /// its own echo.
    #[arg(long, default_value_t = 1)]
    pub window: usize,
    /// Sessions being set up at once while the room fills.
    #[arg(long, default_value_t = 20)]
    pub connect_concurrency: usize,
    /// Seconds to wait for stragglers after the last line is sent.
    #[arg(long, default_value_t = 10)]
    pub drain_timeout: u64,
    /// The server's process id: its CPU time and RSS during the sending phase are
    /// reported. Several comma-separated (a cluster's nodes): their figures are summed.
    #[arg(long, value_delimiter = ',')]
    pub server_pid: Vec<u32>,
    /// Extra participants that join and then never read again (they receive but are
    /// not counted as receivers); the server should drop them and nobody should notice.
    #[arg(long, default_value_t = 0)]
    pub stalled: usize,
    /// Receivers that `/ignore` others before the lines are sent (SPEC §12): the users
    /// after the senders, each ignoring --ignore-each users who never send (so every
    /// line is still delivered to everyone, through a non-empty ignore list).
    #[arg(long, default_value_t = 0)]
    pub ignorers: usize,
    /// How many users each of --ignorers ignores.
    #[arg(long, default_value_t = 10)]
    pub ignore_each: usize,
    /// The share of lines that name a user (`#<run>:<id> b<run>_<k>`), spread evenly.
    #[arg(long, default_value_t = 0.0)]
    pub mention_share: f64,
}

impl FanoutArgs {
    /// How many receive each line: everyone in the sender's room.
    pub fn room_size(&self) -> usize {
        self.users / self.rooms.max(1)
    }
}

/// The receiving side of a user, shared with its session's client task.
type SharedReceiver = Arc<Mutex<Receiver>>;

/// A joined user: its connection, its writer and what it has received.
struct User {
    _handle: client::Handle<Client<SharedReceiver>>,
    /// Taken by the sender task for senders.
    writer: Option<ChannelWriteHalf<client::Msg>>,
    receiver: SharedReceiver,
}

/// Runs the benchmark and prints the report.
///
/// # Errors
/// The server cannot be reached or started, or a user cannot join.
pub async fn run(args: FanoutArgs, nofile: u64) -> anyhow::Result<()> {
    anyhow::ensure!(args.users > 0, "--users must be at least 1");
    anyhow::ensure!(
        (1..=args.users).contains(&args.senders),
        "--senders must be between 1 and --users"
    );
    anyhow::ensure!(
        args.rate > 0.0 || args.window > 0,
        "--rate 0 needs --window > 0"
    );
    anyhow::ensure!(
        args.rooms >= 1
            && args.users.is_multiple_of(args.rooms)
            && (args.rooms == 1 || args.senders <= args.rooms),
        "--users must be a multiple of --rooms, and --senders at most --rooms"
    );
    let server = Server::from_target(&args.target, args.users + args.stalled + 16).await?;
    let run_id = format!("{:04x}", rand::random::<u16>());
    let window = if args.rate > 0.0 { 0 } else { args.window };
    let mut shared = Shared::new(&run_id, args.messages, args.senders, window);
    shared.suffixes = comforts::suffixes(&args, &run_id);
    let shared = Arc::new(shared);

    let join_started = Instant::now();
    let mut users = join_all(&args, &server, &run_id, &shared).await?;
    let mut stalled = Vec::with_capacity(args.stalled);
    for i in 0..args.stalled {
        let nickname = format!("{}{i}", shared.stalled_prefix);
        stalled.push(join_stalled(server.addr(i), &nickname).await?);
    }
    let join_time = join_started.elapsed();
    sync_room(&users, &shared, args.rooms).await?;
    comforts::ignore_some(&args, &users, &run_id, &shared).await?;

    let pids = Pids::new(if server.in_process() {
        Vec::new()
    } else {
        args.server_pid.clone()
    });
    let (send_time, cpu) = send_and_drain(&args, &mut users, &shared, &pids).await?;
    let stalled_dropped = shared.stalled_left.load(Ordering::Acquire);
    drop(stalled);
    let results: Vec<_> = users
        .iter()
        .map(|user| user.receiver.lock().expect("no panics while locked").take())
        .collect();
    drop(users);
    let limits = server.limits();
    let spread = server.spread(0..args.users);
    server.stop().await;
    let times = Times {
        join: join_time,
        send: send_time,
        cpu,
        stalled_dropped,
        spread,
    };
    report(&args, &shared, results, &times, limits, nofile);
    Ok(())
}

/// Sends every line, waits (at most `--drain-timeout`) until every delivery is in, and
/// returns how long sending took and what the phase cost.
async fn send_and_drain(
    args: &FanoutArgs,
    users: &mut [User],
    shared: &Arc<Shared>,
    pids: &Pids,
) -> anyhow::Result<(Duration, CpuUse)> {
    let cpu_before = (pids.cpu_time(), cpu_time(std::process::id()));
    let rss_before = pids.rss_kib();
    let steal_before = steal_time();
    let send_started = Instant::now();
    send_all(args, users, shared).await?;
    let send_time = send_started.elapsed();
    let expected = (args.messages * args.room_size()) as u64;
    let deadline = Instant::now() + Duration::from_secs(args.drain_timeout);
    while shared.delivered.load(Ordering::Acquire) < expected && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let cpu = CpuUse {
        server: elapsed_cpu(cpu_before.0, pids.cpu_time()),
        bench: elapsed_cpu(cpu_before.1, cpu_time(std::process::id())),
        rss: rss_before.zip(pids.rss_kib()),
        steal: steal_time()
            .zip(steal_before)
            .map(|(now, before)| now.saturating_sub(before)),
    };
    Ok((send_time, cpu))
}

/// Joins every user, `connect_concurrency` at a time, each counted as joined once its
/// welcome has arrived.
async fn join_all(
    args: &FanoutArgs,
    server: &Server,
    run_id: &str,
    shared: &Arc<Shared>,
) -> anyhow::Result<Vec<User>> {
    let config = ssh_config(args.target.kex);
    let gate = Arc::new(Semaphore::new(args.connect_concurrency.max(1)));
    let mut joining = Vec::with_capacity(args.users);
    for index in 0..args.users {
        let (config, gate, shared) = (config.clone(), gate.clone(), shared.clone());
        let nickname = format!("b{run_id}_{index}");
        let room = (args.rooms > 1).then(|| format!("r{}", index % args.rooms));
        let addr = server.addr(index);
        joining.push(tokio::spawn(async move {
            let _permit = gate.acquire_owned().await?;
            let (welcomed, welcome) = oneshot::channel();
            let receiver = Arc::new(Mutex::new(Receiver::new(index, shared, welcomed)));
            let output = receiver.clone();
            let session =
                open_in_room(config, addr, &nickname, user_key(), output, room.as_deref()).await?;
            tokio::time::timeout(Duration::from_secs(30), welcome)
                .await
                .with_context(|| format!("{nickname} got no welcome within 30 s"))?
                .with_context(|| format!("{nickname} was refused or disconnected"))?;
            anyhow::Ok(User {
                _handle: session.handle,
                writer: Some(session.writer),
                receiver,
            })
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

/// Has the first user of each room say a sync line and waits until everyone has seen
/// theirs: rooms and outboxes are FIFO, so after that every join notice has been
/// delivered too.
async fn sync_room(users: &[User], shared: &Shared, rooms: usize) -> anyhow::Result<()> {
    for user in users.iter().take(rooms) {
        let line = format!("{}sync\r", shared.tag);
        let writer = user.writer.as_ref().expect("not taken before sending");
        writer.data_bytes(line.into_bytes()).await?;
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while shared.synced.load(Ordering::Acquire) < users.len() {
        anyhow::ensure!(
            Instant::now() < deadline,
            "only {} of {} users saw the sync line within 60 s",
            shared.synced.load(Ordering::Acquire),
            users.len()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Ok(())
}

/// Sends every line: paced by one ticker over all senders, or closed-loop.
async fn send_all(
    args: &FanoutArgs,
    users: &mut [User],
    shared: &Arc<Shared>,
) -> anyhow::Result<()> {
    let mut queues = Vec::with_capacity(args.senders);
    let mut senders = tokio::task::JoinSet::new();
    for (k, user) in users.iter_mut().take(args.senders).enumerate() {
        let (tx, rx) = mpsc::unbounded_channel();
        queues.push(tx);
        let writer = user.writer.take().expect("each sender is taken once");
        senders.spawn(send_loop(k, writer, rx, shared.clone()));
    }
    if args.rate > 0.0 {
        pace(args.messages, args.rate, &queues).await;
    } else {
        for g in 0..args.messages {
            let _ = queues[g % args.senders].send(g);
        }
    }
    drop(queues);
    while let Some(done) = senders.join_next().await {
        done??;
    }
    Ok(())
}

/// Hands message ids to the senders' queues at `rate` per second in total.
async fn pace(messages: usize, rate: f64, queues: &[mpsc::UnboundedSender<usize>]) {
    let period = Duration::from_secs_f64(1.0 / rate).max(Duration::from_millis(1));
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let start = Instant::now();
    let mut next = 0;
    while next < messages {
        tick.tick().await;
        let due = ((start.elapsed().as_secs_f64() * rate) as usize + 1).min(messages);
        while next < due {
            let _ = queues[next % queues.len()].send(next);
            next += 1;
        }
    }
}

/// One sender: writes each id it is handed as a typed line (`#<run>:<id>` + Enter).
async fn send_loop(
    k: usize,
    writer: ChannelWriteHalf<client::Msg>,
    mut ids: mpsc::UnboundedReceiver<usize>,
    shared: Arc<Shared>,
) -> anyhow::Result<()> {
    while let Some(g) = ids.recv().await {
        if let Some(window) = shared.window.get(k) {
            window.acquire().await?.forget();
        }
        let named = shared.suffixes.get(g).map_or("", String::as_str);
        let line = format!("{}{g}{named}\r", shared.tag);
        shared.mark_sent(g);
        writer.data_bytes(line.into_bytes()).await?;
    }
    Ok(())
}
