//! What a soak amounts to: the checks run over the records, the counts of each, the recovery after each fault,
//! whether each of the four checks passed, the human summary and the JSON line.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::json;

use super::deliveries::{self, Deliveries};
use super::evidence::Evidence;
use super::faults::{Fault, FaultKind};
use super::ledger::{self, Answer, Ledger};
use super::quiet::QuietPoint;
use super::recovery::{self, RoomRecovery};
use super::roster::Snapshot;
use super::ChaosConfig;

/// One fault and how each room came back from it.
pub struct FaultOutcome {
    pub fault: Fault,
    pub rooms: Vec<RoomRecovery>,
}

/// Everything a soak found.
pub struct Report {
    /// One line: nodes, users, rooms, NATS, interval, seed.
    pub setup: String,
    pub seed: u64,
    pub nodes: usize,
    pub nats_cluster: bool,
    pub duration: Duration,
    pub snap: Snapshot,
    pub ledger: Ledger,
    pub deliveries: Deliveries,
    pub faults: Vec<FaultOutcome>,
    pub quiet: Vec<QuietPoint>,
    pub evidence: Evidence,
    /// Where the nodes' folders are.
    pub dir: std::path::PathBuf,
}

/// What the report needs of the run beside what was recorded.
pub struct Run {
    pub setup: String,
    /// When the soak started, on both clocks.
    pub t0: Instant,
    pub wall0: DateTime<Utc>,
    /// When the records were frozen.
    pub end: Instant,
    /// The nodes' folders.
    pub dirs: Vec<PathBuf>,
}

/// How many lines had each answer.
#[derive(Default, Debug, Clone, Copy)]
pub struct Answers {
    pub sent: usize,
    pub echoed: usize,
    pub refused: usize,
    pub cut: usize,
    pub late: usize,
    pub lost: usize,
}

impl Report {
    /// Runs the checks over what was recorded: the ledger (check 1), the deliveries
    /// (check 2), each fault's recovery (check 4, each looking at the lines typed until
    /// the next fault); check 3 was done at the quiet points.
    pub fn new(
        config: &ChaosConfig,
        run: Run,
        snap: Snapshot,
        faults: &[Fault],
        quiet: Vec<QuietPoint>,
    ) -> Report {
        let ledger = ledger::build(&snap);
        let deliveries = deliveries::check(&snap, &ledger);
        let faults = faults
            .iter()
            .enumerate()
            .map(|(k, fault)| {
                let until = faults.get(k + 1).map_or(run.end, |next| next.at);
                FaultOutcome {
                    fault: fault.clone(),
                    rooms: recovery::recoveries(&snap, &ledger, fault.from, until),
                }
            })
            .collect();
        Report {
            setup: run.setup,
            seed: config.seed,
            nodes: config.nodes,
            nats_cluster: config.nats_cluster,
            duration: run.end - run.t0,
            snap,
            ledger,
            deliveries,
            faults,
            quiet,
            evidence: Evidence::new(run.t0, run.wall0, &run.dirs),
            dir: config.dir.clone(),
        }
    }

    /// The lines counted by their answer.
    pub fn answers(&self) -> Answers {
        let mut a = Answers::default();
        for line in self.ledger.lines.values() {
            a.sent += 1;
            match line.answer {
                Answer::Echoed(_) => a.echoed += 1,
                Answer::Refused(_) => a.refused += 1,
                Answer::Cut => a.cut += 1,
                Answer::Late(_) => a.late += 1,
                Answer::Lost => a.lost += 1,
            }
        }
        a
    }

    /// Check 1: every line echoed or refused within 5 s (or its session cut).
    pub fn answered_ok(&self) -> bool {
        let a = self.answers();
        a.late + a.lost == 0
    }

    /// Check 2: exactly once to everyone present throughout, in the room's order; a
    /// refused line reaches nobody.
    pub fn delivered_ok(&self) -> bool {
        let d = &self.deliveries;
        d.missing.is_empty()
            && d.duplicates.is_empty()
            && d.out_of_order.is_empty()
            && d.disagreements.is_empty()
            && d.refused_delivered.is_empty()
    }

    /// Check 3: every `/user` list exact at every quiet point, everyone back in time.
    pub fn no_ghosts_ok(&self) -> bool {
        self.quiet
            .iter()
            .all(|q| q.findings.is_empty() && q.not_back.is_empty())
    }

    /// Check 4: each room's next line delivered within 5 s of each fault.
    pub fn recovered_ok(&self) -> bool {
        self.faults
            .iter()
            .all(|f| f.rooms.iter().all(RoomRecovery::in_time))
    }

    /// All four checks.
    pub fn passed(&self) -> bool {
        self.answered_ok() && self.delivered_ok() && self.no_ghosts_ok() && self.recovered_ok()
    }

    /// Ghost findings over all quiet points.
    pub fn ghost_lists(&self) -> usize {
        self.quiet.iter().map(|q| q.findings.len()).sum()
    }

    /// Each fault kind's recoveries in ms (per fault, the slowest room; `None` = never).
    pub fn recovery_by_kind(&self) -> BTreeMap<&'static str, Vec<Option<u64>>> {
        let mut by_kind: BTreeMap<&'static str, Vec<Option<u64>>> = BTreeMap::new();
        for kind in FaultKind::CYCLE {
            by_kind.insert(kind.key(), Vec::new());
        }
        for f in &self.faults {
            let worst = worst_ms(&f.rooms);
            by_kind.entry(f.fault.kind.key()).or_default().push(worst);
        }
        by_kind
    }

    /// The JSON line.
    pub fn json(&self) -> serde_json::Value {
        let a = self.answers();
        let d = &self.deliveries;
        let faults: Vec<_> = self
            .faults
            .iter()
            .map(|f| {
                let rooms: BTreeMap<&str, Option<u64>> = f
                    .rooms
                    .iter()
                    .map(|r| (self.snap.rooms[r.room].as_str(), ms(r.after)))
                    .collect();
                json!({
                    "kind": f.fault.kind.key(),
                    "target": f.fault.target,
                    "at_s": round3(self.evidence.secs(f.fault.at)),
                    "recovery_ms": worst_ms(&f.rooms),
                    "rooms_ms": rooms,
                    "slow_stop": f.fault.slow_stop,
                    "note": f.fault.note,
                })
            })
            .collect();
        let worst = self.faults.iter().map(|f| worst_ms(&f.rooms));
        let recovery_max = worst.clone().flatten().max();
        json!({
            "bench": "chaos",
            "seed": self.seed,
            "nodes": self.nodes,
            "users": self.snap.users.len(),
            "rooms": self.snap.rooms.len(),
            "nats": if self.nats_cluster { "cluster" } else { "single" },
            "duration_s": round3(self.duration.as_secs_f64()),
            "lines_sent": a.sent,
            "echoed": a.echoed,
            "refused": a.refused,
            "cut": a.cut,
            "lost": a.lost + a.late,
            "late": a.late,
            "unmatched_refusals": self.ledger.unmatched_refusals.len(),
            "arrivals": d.arrivals,
            "owed": d.expected,
            "missing": d.missing.len(),
            "missing_lines": d.missing_lines(),
            "duplicates": d.duplicates.len(),
            "refused_delivered": d.refused_delivered.len(),
            "out_of_order": d.out_of_order.len(),
            "order_disagreements": d.disagreements.len(),
            "ghosts": self.ghost_lists(),
            "not_back": self.quiet.iter().map(|q| q.not_back.len()).sum::<usize>(),
            "user_lists": self.quiet.iter().map(|q| q.lists).sum::<usize>(),
            "recovery_max_ms": recovery_max,
            "never_recovered": worst.filter(Option::is_none).count(),
            "recovery_ms_by_kind": self.recovery_by_kind(),
            "faults": faults,
            "refusals": self.ledger.refusals,
            "checks": {
                "answered": self.answered_ok(),
                "delivered": self.delivered_ok(),
                "no_ghosts": self.no_ghosts_ok(),
                "recovered": self.recovered_ok(),
            },
            "passed": self.passed(),
        })
    }
}

/// A fault's slowest room in ms; `None` if some room never came back.
fn worst_ms(rooms: &[RoomRecovery]) -> Option<u64> {
    rooms
        .iter()
        .map(|r| ms(r.after))
        .try_fold(0, |worst, r| Some(worst.max(r?)))
}

fn ms(d: Option<Duration>) -> Option<u64> {
    d.map(|d| d.as_millis() as u64)
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}
