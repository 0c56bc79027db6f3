//! The takeover report: from what every user saw, the time until the room delivered
//! again after the kill, the lines refused and lost meanwhile; then the human summary
//! and the JSON line.

use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde_json::json;

use super::watch::Seen;
use super::TakeoverArgs;
use crate::serve::{spread_json, spread_line};
use crate::stats::round3;

/// The `[Server]:` lines the sender got after `since` in reply to its own lines, not
/// lines for the whole room: a join or leave notice, or any line another user got too,
/// is not a refusal. `seen[0]` is the sender.
pub fn refusals(seen: &[Seen], since: Instant) -> Vec<&str> {
    let Some((sender, others)) = seen.split_first() else {
        return Vec::new();
    };
    let for_everyone: HashSet<&str> = others
        .iter()
        .flat_map(|s| s.notices.iter().map(|(_, line)| line.as_str()))
        .collect();
    sender
        .notices
        .iter()
        .filter(|(at, _)| *at >= since)
        .map(|(_, line)| line.as_str())
        .filter(|line| !for_everyone.contains(line) && !is_room_notice(line))
        .collect()
}

/// A line the room shows everyone when someone comes or goes.
fn is_room_notice(line: &str) -> bool {
    [
        "joined the chat.",
        "left the chat.",
        "been kicked from the chat.",
    ]
    .iter()
    .any(|end| line.ends_with(end))
}

/// The first line typed after the kill that every user received.
#[derive(Debug, PartialEq)]
pub struct Recovery {
    /// Its number.
    pub line: usize,
    /// When it was typed, after the kill.
    pub typed: Duration,
    /// When the last user received it, after the kill: the takeover time.
    pub complete: Duration,
}

/// What the run amounts to.
#[derive(Debug)]
pub struct Outcome {
    pub typed_before: usize,
    /// Lines typed before the kill that some user never received.
    pub incomplete_before: usize,
    pub typed_after: usize,
    /// Lines typed after the kill that the sender saw echoed.
    pub echoed_after: usize,
    /// Each refusal's text and how often it came.
    pub refusals: BTreeMap<String, usize>,
    /// Typed after the kill, neither echoed nor refused.
    pub lost: usize,
    /// Typed after the kill, received by some users but not by all.
    pub partial_after: usize,
    pub recovery: Option<Recovery>,
    pub duplicates: usize,
    pub sessions_closed: usize,
}

impl Outcome {
    /// Line `g` was typed at `typed[g]`; lines from `first_after` on were typed after
    /// the kill at `killed_at`; `seen[0]` is the sender.
    pub fn new(typed: &[Instant], first_after: usize, killed_at: Instant, seen: &[Seen]) -> Self {
        let everyone = |g: usize| seen.iter().all(|s| s.received.contains_key(&g));
        let someone = |g: usize| seen.iter().any(|s| s.received.contains_key(&g));
        let after = first_after..typed.len();
        let recovery = after.clone().find(|&g| everyone(g)).map(|g| Recovery {
            line: g,
            typed: typed[g].saturating_duration_since(killed_at),
            complete: seen
                .iter()
                .map(|s| s.received[&g].saturating_duration_since(killed_at))
                .max()
                .unwrap_or_default(),
        });
        let echoed_after = seen.first().map_or(0, |sender| {
            after
                .clone()
                .filter(|g| sender.received.contains_key(g))
                .count()
        });
        let mut refused = BTreeMap::new();
        for line in refusals(seen, killed_at) {
            *refused.entry(line.to_string()).or_insert(0) += 1;
        }
        let typed_after = after.len();
        Outcome {
            typed_before: first_after,
            incomplete_before: (0..first_after).filter(|&g| !everyone(g)).count(),
            typed_after,
            echoed_after,
            lost: typed_after.saturating_sub(echoed_after + refused.values().sum::<usize>()),
            refusals: refused,
            partial_after: after.filter(|&g| someone(g) && !everyone(g)).count(),
            recovery,
            duplicates: seen.iter().map(|s| s.duplicates).sum(),
            sessions_closed: seen.iter().filter(|s| s.closed).count(),
        }
    }

    fn refused(&self) -> usize {
        self.refusals.values().sum()
    }
}

/// How the kill went.
pub struct Kill {
    /// Seconds of traffic before it.
    pub after: Duration,
    /// How long the `kill` command took (the signal went out within it; the takeover
    /// time counts from its start).
    pub took: Duration,
}

/// Prints the human summary, then the JSON line.
pub fn report(args: &TakeoverArgs, spread: &[(SocketAddr, usize)], kill: &Kill, o: &Outcome) {
    let ms = |d: Duration| round3(d.as_secs_f64() * 1000.0);
    let placement = if spread.is_empty() {
        args.addr[0].to_string()
    } else {
        spread_line(spread, "users")
    };
    println!(
        "takeover: {} users in {} ({placement}), a line every {} ms; pid {} killed after {:.1} s (kill took {:.1} ms)",
        args.users,
        args.room,
        args.interval_ms,
        args.kill_pid,
        kill.after.as_secs_f64(),
        ms(kill.took)
    );
    println!(
        "  before the kill: {} lines typed, {} not received by every user",
        o.typed_before, o.incomplete_before
    );
    match &o.recovery {
        Some(r) => println!(
            "  recovery: line {} (typed {:.1} ms after the kill) reached all {} users {:.1} ms after the kill",
            r.line,
            ms(r.typed),
            args.users,
            ms(r.complete)
        ),
        None => println!(
            "  recovery: no line typed after the kill reached every user within {} s",
            args.timeout
        ),
    }
    println!(
        "  after the kill: {} lines typed: {} echoed, {} refused, {} lost; {} received by some users only",
        o.typed_after,
        o.echoed_after,
        o.refused(),
        o.lost,
        o.partial_after
    );
    println!(
        "  duplicates: {}, sessions closed: {}",
        o.duplicates, o.sessions_closed
    );
    for (text, count) in &o.refusals {
        println!("  refused {count}x: {text}");
    }
    if o.refusals.keys().any(|text| text.contains("too fast")) {
        // The limiter answers only some of the lines it drops: the others count as lost.
        println!("  (the message rate limit refused lines: start the nodes with --message-rate 0)");
    }
    let mut line = json!({
        "bench": "takeover",
        "users": args.users,
        "room": args.room,
        "interval_ms": args.interval_ms,
        "kill_pid": args.kill_pid,
        "before_s": round3(kill.after.as_secs_f64()),
        "kill_cmd_ms": ms(kill.took),
        "timeout_s": args.timeout,
        "recovered": o.recovery.is_some(),
        "recovery_ms": o.recovery.as_ref().map(|r| ms(r.complete)),
        "recovery_line": o.recovery.as_ref().map(|r| r.line),
        "recovery_line_typed_ms": o.recovery.as_ref().map(|r| ms(r.typed)),
        "typed_before": o.typed_before,
        "incomplete_before": o.incomplete_before,
        "typed_after": o.typed_after,
        "echoed_after": o.echoed_after,
        "refused": o.refused(),
        "lost": o.lost,
        "partial_after": o.partial_after,
        "duplicates": o.duplicates,
        "sessions_closed": o.sessions_closed,
        "refusals": o.refusals,
    });
    let (addrs, counts) = match spread {
        [] => (json!([args.addr[0].to_string()]), json!([args.users])),
        _ => spread_json(spread),
    };
    if let Some(map) = line.as_object_mut() {
        map.insert("addrs".into(), addrs);
        map.insert("users_per_addr".into(), counts);
    }
    println!("{line}");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(lines: &[(usize, Instant)], notices: &[(Instant, &str)]) -> Seen {
        Seen {
            synced: true,
            received: lines.iter().copied().collect(),
            notices: notices.iter().map(|&(t, l)| (t, l.to_string())).collect(),
            ..Seen::default()
        }
    }

    #[test]
    fn recovery_refusals_and_losses() {
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        // Lines 0..2 before the kill at 100 ms, 2..6 after; line 2 is lost, line 3
        // refused, line 4 reaches the sender only, line 5 everyone at 900 and 950 ms.
        let typed: Vec<_> = [0, 50, 100, 150, 200, 250].map(at).into();
        let refusal = "[Server]: The room is moving. Please try again.";
        let gone = "[Server]: t_v has left the chat.";
        let sender = seen(
            &[(0, at(1)), (1, at(51)), (4, at(800)), (5, at(900))],
            &[
                (at(40), "[Server]: earlier"),
                (at(300), refusal),
                (at(400), gone),
            ],
        );
        let other = seen(&[(0, at(2)), (1, at(52)), (5, at(950))], &[(at(400), gone)]);
        let o = Outcome::new(&typed, 2, at(100), &[sender, other]);
        assert_eq!((o.typed_before, o.incomplete_before), (2, 0));
        assert_eq!((o.typed_after, o.echoed_after, o.lost), (4, 2, 1));
        assert_eq!(
            o.refusals.into_iter().collect::<Vec<_>>(),
            [(refusal.to_string(), 1)]
        );
        assert_eq!(o.partial_after, 1);
        let expected = Recovery {
            line: 5,
            typed: Duration::from_millis(150),
            complete: Duration::from_millis(850),
        };
        assert_eq!(o.recovery, Some(expected));
    }

    #[test]
    fn a_lone_sender_does_not_count_leave_notices() {
        let t0 = Instant::now();
        let sender = seen(&[], &[(t0, "[Server]: a and b have left the chat.")]);
        assert!(refusals(&[sender], t0).is_empty());
    }
}
