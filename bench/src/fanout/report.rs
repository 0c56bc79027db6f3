//! The fanout report: totals over all receivers, the human summary and the JSON line.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::time::Duration;

use serde_json::{json, Value};

use super::FanoutArgs;
use crate::participant::{Received, Shared};
use crate::serve::{spread_json, spread_line};
use crate::stats::{nanos, round3, Distribution};

/// CPU time used while the lines were sent and delivered, by the server and by this
/// load generator (which shares the machine).
#[derive(Default)]
pub struct CpuUse {
    pub server: Option<Duration>,
    pub bench: Option<Duration>,
    /// The server's RSS (KiB) before and after the sending phase.
    pub rss: Option<(u64, u64)>,
    /// CPU time the VM's host took away meanwhile (see `connect::steal_time`).
    pub steal: Option<Duration>,
}

/// How long the phases took and what they cost.
pub struct Times {
    pub join: Duration,
    pub send: Duration,
    pub cpu: CpuUse,
    /// Stalled participants the server dropped while the lines were sent.
    pub stalled_dropped: usize,
    /// Users that connected to each address, with several (empty with one).
    pub spread: Vec<(SocketAddr, usize)>,
}

/// What all receivers saw together.
struct Totals {
    expected: usize,
    delivered: usize,
    duplicates: usize,
    unmatched: usize,
    closed: usize,
    /// From the first line sent to the last delivery.
    span: Duration,
    latency: Option<Distribution>,
}

impl Totals {
    fn new(args: &FanoutArgs, shared: &Shared, results: Vec<Received>) -> Totals {
        let last = results.iter().filter_map(|r| r.last).max();
        let first_sent = shared
            .sent
            .iter()
            .map(|s| s.load(Ordering::Acquire))
            .filter(|&s| s > 0)
            .min();
        let span = match (first_sent, last) {
            (Some(first), Some(last)) => {
                let last = nanos(last.duration_since(shared.base)) + 1;
                Duration::from_nanos(last.saturating_sub(first))
            }
            _ => Duration::ZERO,
        };
        Totals {
            expected: args.messages * args.room_size(),
            delivered: results.iter().map(|r| r.count).sum(),
            duplicates: results.iter().map(|r| r.duplicates).sum(),
            unmatched: results.iter().map(|r| r.unmatched).sum(),
            closed: results.iter().filter(|r| r.closed).count(),
            span,
            latency: Distribution::from_nanos(
                results.into_iter().flat_map(|r| r.latencies).collect(),
            ),
        }
    }

    fn missing(&self) -> usize {
        self.expected.saturating_sub(self.delivered)
    }

    fn per_s(&self) -> f64 {
        match self.span.as_secs_f64() {
            s if s > 0.0 => self.delivered as f64 / s,
            _ => 0.0,
        }
    }

    /// CPU microseconds per delivery.
    fn cpu_us(&self, cpu: Option<Duration>) -> Option<f64> {
        cpu.filter(|_| self.delivered > 0)
            .map(|c| round3(c.as_secs_f64() * 1e6 / self.delivered as f64))
    }
}

/// Prints the human summary, then the JSON line.
pub fn report(
    args: &FanoutArgs,
    shared: &Shared,
    results: Vec<Received>,
    times: &Times,
    limits: &str,
    nofile: u64,
) {
    let totals = Totals::new(args, shared, results);
    print_summary(args, &totals, times, limits);
    println!("{}", json_line(args, &totals, times, limits, nofile));
}

fn print_summary(args: &FanoutArgs, t: &Totals, times: &Times, limits: &str) {
    let mode = if args.rate > 0.0 {
        format!("{} lines/s", args.rate)
    } else {
        format!("closed loop, window {}", args.window)
    };
    println!(
        "fanout: {} users in {} room(s), {} senders, {} lines ({mode}); joined in {:.2} s; sent in {:.2} s",
        args.users,
        args.rooms,
        args.senders,
        args.messages,
        times.join.as_secs_f64(),
        times.send.as_secs_f64()
    );
    println!("  limits: {limits}");
    if !times.spread.is_empty() {
        println!(
            "  users per address: {}",
            spread_line(&times.spread, "users")
        );
    }
    println!(
        "  deliveries: {} of {} (missing {}, duplicates {}, unmatched {}, sessions closed {})",
        t.delivered,
        t.expected,
        t.missing(),
        t.duplicates,
        t.unmatched,
        t.closed
    );
    println!(
        "  throughput: {:.0} deliveries/s over {:.2} s",
        t.per_s(),
        t.span.as_secs_f64()
    );
    for (who, cpu) in [("server", times.cpu.server), ("bench", times.cpu.bench)] {
        if let Some(cpu) = cpu {
            let us = t.cpu_us(Some(cpu)).unwrap_or(0.0);
            println!(
                "  {who} CPU: {:.2} s = {us:.2} us per delivery",
                cpu.as_secs_f64()
            );
        }
    }
    if let Some((before, after)) = times.cpu.rss {
        println!("  server RSS: {before} KiB before sending, {after} KiB after");
    }
    if let Some(steal) = times.cpu.steal {
        println!("  VM steal time meanwhile: {} ms", steal.as_millis());
    }
    if args.stalled > 0 {
        println!(
            "  stalled participants: {}, dropped by the server: {}",
            args.stalled, times.stalled_dropped
        );
    }
    match &t.latency {
        Some(d) => println!("  latency: {}", d.human()),
        None => println!("  latency: no deliveries"),
    }
}

fn json_line(args: &FanoutArgs, t: &Totals, times: &Times, limits: &str, nofile: u64) -> Value {
    let mut line = json!({
        "bench": "fanout",
        "users": args.users,
        "rooms": args.rooms,
        "senders": args.senders,
        "messages": args.messages,
        "rate": args.rate,
        "window": if args.rate > 0.0 { 0 } else { args.window },
        "expected": t.expected,
        "delivered": t.delivered,
        "missing": t.missing(),
        "duplicates": t.duplicates,
        "unmatched": t.unmatched,
        "sessions_closed": t.closed,
        "deliveries_per_s": t.per_s().round(),
        "duration_s": round3(t.span.as_secs_f64()),
        "join_s": round3(times.join.as_secs_f64()),
        "server_cpu_s": times.cpu.server.map(|c| round3(c.as_secs_f64())),
        "steal_ms": times.cpu.steal.map(|s| s.as_millis() as u64),
        "server_cpu_us_per_delivery": t.cpu_us(times.cpu.server),
        "bench_cpu_s": times.cpu.bench.map(|c| round3(c.as_secs_f64())),
        "bench_cpu_us_per_delivery": t.cpu_us(times.cpu.bench),
        "server_rss_before_kib": times.cpu.rss.map(|r| r.0),
        "server_rss_after_kib": times.cpu.rss.map(|r| r.1),
        "stalled": args.stalled,
        "stalled_dropped": times.stalled_dropped,
        "limits": limits,
        "nofile": nofile,
    });
    if let (Some(map), Some(d)) = (line.as_object_mut(), &t.latency) {
        if let Ok(Value::Object(fields)) = serde_json::to_value(d) {
            map.extend(fields);
        }
    }
    if let (Some(map), false) = (line.as_object_mut(), times.spread.is_empty()) {
        let (addrs, counts) = spread_json(&times.spread);
        map.insert("addrs".into(), addrs);
        map.insert("users_per_addr".into(), counts);
    }
    line
}
