//! The faults of a soak, applied in turn: a node SIGKILLed and started again 3–5 s
//! later under its name; a node SIGTERMed and started again at once (`systemctl
//! restart`); NATS SIGKILLed for 2–4 s and started again on its port (with three NATS
//! servers, one of them).

use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::RngExt;

use super::broker::Broker;
use super::nodes::Nodes;

/// What kind of fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultKind {
    NodeKill,
    NodeTerm,
    NatsKill,
}

impl FaultKind {
    /// The kinds, in the order they are applied.
    pub const CYCLE: [FaultKind; 3] = [
        FaultKind::NodeKill,
        FaultKind::NodeTerm,
        FaultKind::NatsKill,
    ];

    /// Its name in the JSON line.
    pub fn key(self) -> &'static str {
        match self {
            FaultKind::NodeKill => "node_kill",
            FaultKind::NodeTerm => "node_term",
            FaultKind::NatsKill => "nats_kill",
        }
    }

    /// What it is, for people.
    pub fn describe(self) -> &'static str {
        match self {
            FaultKind::NodeKill => "node SIGKILL, restart 3-5 s later",
            FaultKind::NodeTerm => "node SIGTERM, restart at once",
            FaultKind::NatsKill => "NATS SIGKILL for 2-4 s",
        }
    }
}

/// One fault as it happened.
#[derive(Clone, Debug)]
pub struct Fault {
    pub kind: FaultKind,
    /// `n2`, `nats`, `nats-3`.
    pub target: String,
    /// When the signal went out.
    pub at: Instant,
    /// When recovery is counted from: the signal, except for a lone NATS server, whose
    /// restart (nothing can be delivered while it is down).
    pub from: Instant,
    /// When the target was back (listening again).
    pub back: Instant,
    /// How it went, in words (how long down, how long the stop took).
    pub note: String,
    /// A SIGTERMed node that took over SPEC §7's 5 s to exit, or did not exit cleanly.
    pub slow_stop: bool,
}

/// The `k`-th fault's kind (taken from `kinds` in turn), and its target among `nodes`
/// nodes and `nats` NATS servers: node faults and NATS faults each take their victims
/// in turn.
pub fn plan(k: usize, kinds: &[FaultKind], nodes: usize, nats: usize) -> (FaultKind, usize) {
    let kind_of = |j: usize| kinds[j % kinds.len()];
    let kind = kind_of(k);
    let is_nats = |j: &usize| kind_of(*j) == FaultKind::NatsKill;
    let target = match kind {
        FaultKind::NatsKill => (0..k).filter(is_nats).count() % nats,
        _ => (0..k).filter(|j| !is_nats(j)).count() % nodes,
    };
    (kind, target)
}

/// Reads a list of kinds by their keys (`node_kill,nats_kill`).
///
/// # Errors
/// An unknown key.
pub fn parse_kinds(text: &str) -> Result<Vec<FaultKind>, String> {
    text.split(',')
        .map(|key| {
            FaultKind::CYCLE
                .into_iter()
                .find(|k| k.key() == key.trim())
                .ok_or_else(|| format!("unknown fault {key:?} (node_kill, node_term, nats_kill)"))
        })
        .collect()
}

/// Applies fault `kind` to `target`; returns once the target is back.
///
/// # Errors
/// A node or NATS server does not come back.
pub async fn apply(
    kind: FaultKind,
    target: usize,
    nodes: &mut Nodes,
    broker: &mut Broker,
    rng: &mut StdRng,
) -> anyhow::Result<Fault> {
    let at = Instant::now();
    let mut fault = Fault {
        kind,
        target: Nodes::name(target),
        at,
        from: at,
        back: at,
        note: String::new(),
        slow_stop: false,
    };
    match kind {
        FaultKind::NodeKill => {
            nodes.kill(target).await;
            let down = Duration::from_millis(rng.random_range(3000..5000));
            tokio::time::sleep_until((at + down).into()).await;
            let took = nodes.restart(target).await?;
            fault.note = format!(
                "restarted after {:.1} s, listening {:.1} s later",
                down.as_secs_f64(),
                took.as_secs_f64()
            );
        }
        FaultKind::NodeTerm => {
            let (stopped, clean) = nodes.terminate(target).await?;
            let took = nodes.restart(target).await?;
            fault.slow_stop = stopped > Duration::from_secs(5) || !clean;
            let how = if clean {
                "exited"
            } else {
                "did NOT exit cleanly"
            };
            fault.note = format!(
                "{how} {:.2} s after SIGTERM, listening again {:.1} s later",
                stopped.as_secs_f64(),
                took.as_secs_f64()
            );
        }
        FaultKind::NatsKill => {
            fault.target = match broker.len() {
                1 => "nats".to_string(),
                _ => format!("nats-{}", target + 1),
            };
            broker.kill(target).await?;
            let down = Duration::from_millis(rng.random_range(2000..4000));
            tokio::time::sleep_until((at + down).into()).await;
            broker.restart(target).await?;
            if broker.len() == 1 {
                fault.from = Instant::now();
            }
            fault.note = format!("down {:.1} s", at.elapsed().as_secs_f64());
        }
    }
    fault.back = Instant::now();
    Ok(fault)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_cycle_and_victims_take_turns() {
        use FaultKind::*;
        let planned: Vec<_> = (0..7).map(|k| plan(k, &FaultKind::CYCLE, 3, 1)).collect();
        assert_eq!(
            planned,
            [
                (NodeKill, 0),
                (NodeTerm, 1),
                (NatsKill, 0),
                (NodeKill, 2),
                (NodeTerm, 0),
                (NatsKill, 0),
                (NodeKill, 1)
            ]
        );
        assert_eq!(plan(5, &FaultKind::CYCLE, 3, 3), (NatsKill, 1));
        let nats_only: Vec<_> = (0..4).map(|k| plan(k, &[NatsKill], 3, 3)).collect();
        assert_eq!(
            nats_only,
            [(NatsKill, 0), (NatsKill, 1), (NatsKill, 2), (NatsKill, 0)]
        );
        assert_eq!(
            parse_kinds("nats_kill, node_term"),
            Ok(vec![NatsKill, NodeTerm])
        );
        assert!(parse_kinds("nats").is_err());
    }
}
